//! The host behind the core's traits, and what an instance keeps between
//! the requests it serves.
//!
//! - Settings: `wasi` — the environment (`wasi:cli/environment@0.3.0`),
//!   read once per instance (it cannot change within one); `spin` — each
//!   Spin variable (lowercase name) read on first use and kept for
//!   [`VARIABLE_TTL_MS`] (a variable from a Vault or Azure Key Vault
//!   provider can change while an instance lives; from `spin.toml`, the
//!   environment or the cloud's store it cannot), then the environment
//!   (UPPERCASE name).
//! - [`EdgeHost`]: the wall clock, randomness, (spin) the key-value store
//!   `default`, opened once per instance, and the instance's memory (minted
//!   tokens).
//!
//! A wasm instance has one thread; requests interleave only at an `await`,
//! and nothing here is borrowed across one (every access is a plain call).

use crate::host::{Host, KeyValue, MemoryStore};
use crate::settings::SettingSource;
#[cfg(feature = "spin")]
use std::cell::RefCell;
use std::cell::{Cell, OnceCell};
use std::collections::BTreeMap;

/// How long a Spin variable read is reused within an instance.
#[cfg(feature = "spin")]
pub const VARIABLE_TTL_MS: u64 = 10_000;

/// What an instance keeps between requests.
#[derive(Default)]
struct Instance {
    /// The environment, read on first use. (A `BTreeMap`, not a `HashMap`:
    /// its random seed would add an import.)
    env: OnceCell<BTreeMap<String, String>>,
    /// Spin variables read: name → (value, when read, monotonic ns).
    #[cfg(feature = "spin")]
    variables: RefCell<BTreeMap<String, (Option<String>, u64)>>,
    #[cfg(feature = "spin")]
    bucket: OnceCell<Option<Bucket>>,
    memory: MemoryStore,
    /// A random name for the log, and how many requests began here.
    id: OnceCell<u32>,
    begun: Cell<u32>,
}

/// Counts a request begun in this instance: (instance name, its number).
pub fn begin_request() -> (u32, u32) {
    let i = instance();
    let id = *i
        .id
        .get_or_init(|| wasip3::random::insecure::get_insecure_random_u64() as u32);
    let n = i.begun.get().saturating_add(1);
    i.begun.set(n);
    (id, n)
}

thread_local! {
    /// Made once per instance and never freed (the instance's life is its
    /// life), so requests can borrow it for `'static`.
    static INSTANCE: &'static Instance = Box::leak(Box::default());
}

fn instance() -> &'static Instance {
    INSTANCE.with(|i| *i)
}

/// The environment of this instance.
pub struct EnvSource;

impl SettingSource for EnvSource {
    fn get(&self, name: &str) -> Option<String> {
        instance()
            .env
            .get_or_init(|| {
                wasip3::cli::environment::get_environment()
                    .into_iter()
                    .collect()
            })
            .get(name)
            .cloned()
    }
}

/// Spin variables (kept for [`VARIABLE_TTL_MS`]) with the environment as
/// fallback.
#[cfg(feature = "spin")]
pub struct SpinVariables;

#[cfg(feature = "spin")]
impl SettingSource for SpinVariables {
    fn get(&self, name: &str) -> Option<String> {
        let now = wasip3::clocks::monotonic_clock::now();
        let fresh = |read: u64| now.saturating_sub(read) < VARIABLE_TTL_MS * 1_000_000;
        let known = match instance().variables.borrow().get(name) {
            Some((value, read)) if fresh(*read) => Some(value.clone()),
            _ => None,
        };
        let value = match known {
            Some(value) => value,
            None => {
                let value =
                    super::spin_bindings::fermyon::spin::variables::get(&name.to_ascii_lowercase())
                        .ok()
                        .filter(|v| !v.is_empty());
                instance()
                    .variables
                    .borrow_mut()
                    .insert(name.to_string(), (value.clone(), now));
                value
            }
        };
        value.or_else(|| EnvSource.get(name))
    }
}

/// This instance's settings.
#[cfg(feature = "spin")]
pub fn settings() -> &'static SpinVariables {
    &SpinVariables
}

/// This instance's settings.
#[cfg(not(feature = "spin"))]
pub fn settings() -> &'static EnvSource {
    &EnvSource
}

#[cfg(feature = "spin")]
type Bucket = super::spin_bindings::wasi::keyvalue::store::Bucket;

/// Clock, randomness, the shared store and the instance's memory.
pub struct EdgeHost;

impl Host for EdgeHost {
    fn now_ms(&self) -> u64 {
        let now = wasip3::clocks::system_clock::now();
        u64::try_from(now.seconds).unwrap_or(0) * 1000 + u64::from(now.nanoseconds / 1_000_000)
    }

    fn random_u64(&self) -> u64 {
        wasip3::random::random::get_random_u64()
    }

    #[cfg(feature = "spin")]
    fn store(&self) -> Option<&dyn KeyValue> {
        instance()
            .bucket
            .get_or_init(|| super::spin_bindings::wasi::keyvalue::store::open("default").ok())
            .as_ref()
            .map(|b| b as &dyn KeyValue)
    }

    /// The portable flavour has no shared store: random choice, no cooldowns.
    #[cfg(not(feature = "spin"))]
    fn store(&self) -> Option<&dyn KeyValue> {
        None
    }

    fn memory(&self) -> Option<&dyn KeyValue> {
        Some(&instance().memory)
    }
}

#[cfg(feature = "spin")]
keyvalue_glue!(
    Bucket,
    super::spin_bindings::wasi::keyvalue::atomics::increment
);
