//! Where settings come from on each host.
//!
//! - `spin` flavour: the Spin component variable (lowercase name), then the
//!   environment (UPPERCASE name).
//! - `wasi` flavour: the environment only (`wasmtime serve --env NAME=value`).

#[cfg(feature = "spin")]
use crate::keys::KeyValue;
#[cfg(not(feature = "spin"))]
use crate::keys::NoStore;
use crate::settings::SettingSource;
use std::collections::BTreeMap;

/// The environment, read once per request (one instance serves one request).
/// (A `BTreeMap`, not a `HashMap`: its random seed would add an import.)
pub struct EnvSource(BTreeMap<String, String>);

impl EnvSource {
    pub fn new() -> EnvSource {
        EnvSource(std::env::vars().collect())
    }
}

impl SettingSource for EnvSource {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

#[cfg(feature = "spin")]
pub struct SpinSource {
    env: EnvSource,
    cache: std::cell::RefCell<BTreeMap<String, Option<String>>>,
}

#[cfg(feature = "spin")]
impl SettingSource for SpinSource {
    fn get(&self, name: &str) -> Option<String> {
        if let Some(v) = self.cache.borrow().get(name) {
            return v.clone();
        }
        let value = spin_sdk::variables::get(&name.to_ascii_lowercase())
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| self.env.get(name));
        self.cache
            .borrow_mut()
            .insert(name.to_string(), value.clone());
        value
    }
}

#[cfg(feature = "spin")]
pub fn current() -> SpinSource {
    SpinSource {
        env: EnvSource::new(),
        cache: Default::default(),
    }
}

#[cfg(not(feature = "spin"))]
pub fn current() -> EnvSource {
    EnvSource::new()
}

/// Spin's key-value store `default`, opened on first use, through
/// `wasi:keyvalue` (store + atomics).
#[cfg(feature = "spin")]
pub struct SpinStore {
    bucket: std::cell::OnceCell<Option<super::bindings::wasi::keyvalue::store::Bucket>>,
}

#[cfg(feature = "spin")]
impl SpinStore {
    fn bucket(&self) -> Option<&super::bindings::wasi::keyvalue::store::Bucket> {
        self.bucket
            .get_or_init(|| super::bindings::wasi::keyvalue::store::open("default").ok())
            .as_ref()
    }
}

#[cfg(feature = "spin")]
impl KeyValue for SpinStore {
    fn available(&self) -> bool {
        self.bucket().is_some()
    }
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.bucket()?.get(key).ok().flatten()
    }
    fn set(&self, key: &str, value: &[u8]) -> bool {
        self.bucket().is_some_and(|b| b.set(key, value).is_ok())
    }
    fn increment(&self, key: &str, delta: i64) -> Option<i64> {
        super::bindings::wasi::keyvalue::atomics::increment(self.bucket()?, key, delta).ok()
    }
}

#[cfg(feature = "spin")]
pub fn store() -> SpinStore {
    SpinStore {
        bucket: std::cell::OnceCell::new(),
    }
}

/// The portable flavour has no shared store: random choice, no cooldowns.
#[cfg(not(feature = "spin"))]
pub fn store() -> NoStore {
    NoStore
}
