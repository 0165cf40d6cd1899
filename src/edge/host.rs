//! The host behind the core's traits, per flavour.
//!
//! - Settings: `spin` — the Spin component variable (lowercase name), then
//!   the environment (UPPERCASE name), each read at most once per request
//!   ([`settings::Cached`]); `wasi` — the environment only
//!   (`wasmtime serve --env NAME=value`), read once, on first use.
//! - [`EdgeHost`]: the wall clock, randomness and (spin) the key-value store
//!   `default`, opened on first use — each a host call made only when the
//!   core asks.

use super::bindings::wasi::clocks::wall_clock;
use super::bindings::wasi::random::random;
use crate::host::{Host, KeyValue};
use crate::settings::SettingSource;
use std::cell::OnceCell;
use std::collections::BTreeMap;

/// The environment, read on first use (one host call), once per request.
/// (A `BTreeMap`, not a `HashMap`: its random seed would add an import.)
#[derive(Default)]
pub struct EnvSource(OnceCell<BTreeMap<String, String>>);

impl SettingSource for EnvSource {
    fn get(&self, name: &str) -> Option<String> {
        self.0
            .get_or_init(|| std::env::vars().collect())
            .get(name)
            .cloned()
    }
}

/// Spin variables with the environment as fallback.
#[cfg(feature = "spin")]
#[derive(Default)]
pub struct SpinVariables {
    env: EnvSource,
}

#[cfg(feature = "spin")]
impl SettingSource for SpinVariables {
    fn get(&self, name: &str) -> Option<String> {
        super::bindings::fermyon::spin::variables::get(&name.to_ascii_lowercase())
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| self.env.get(name))
    }
}

/// This request's settings.
#[cfg(feature = "spin")]
pub fn settings() -> crate::settings::Cached<SpinVariables> {
    crate::settings::Cached::new(SpinVariables::default())
}

/// This request's settings.
#[cfg(not(feature = "spin"))]
pub fn settings() -> EnvSource {
    EnvSource::default()
}

#[cfg(feature = "spin")]
type Bucket = super::bindings::wasi::keyvalue::store::Bucket;

/// Clock, randomness and the shared store of this host.
#[derive(Default)]
pub struct EdgeHost {
    #[cfg(feature = "spin")]
    bucket: OnceCell<Option<Bucket>>,
}

impl Host for EdgeHost {
    fn now_ms(&self) -> u64 {
        let now = wall_clock::now();
        now.seconds * 1000 + u64::from(now.nanoseconds / 1_000_000)
    }

    fn random_u64(&self) -> u64 {
        random::get_random_u64()
    }

    #[cfg(feature = "spin")]
    fn store(&self) -> Option<&dyn KeyValue> {
        self.bucket
            .get_or_init(|| super::bindings::wasi::keyvalue::store::open("default").ok())
            .as_ref()
            .map(|b| b as &dyn KeyValue)
    }

    /// The portable flavour has no shared store: random choice, no cooldowns.
    #[cfg(not(feature = "spin"))]
    fn store(&self) -> Option<&dyn KeyValue> {
        None
    }
}

#[cfg(feature = "spin")]
keyvalue_glue!(Bucket, super::bindings::wasi::keyvalue::atomics::increment);
