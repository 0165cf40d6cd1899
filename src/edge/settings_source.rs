//! Where settings come from on each host.
//!
//! - `spin` flavour: the Spin component variable (lowercase name), then the
//!   environment (UPPERCASE name).
//! - `wasi` flavour: the environment only (`wasmtime serve --env NAME=value`).

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
