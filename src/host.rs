//! What the core asks of its host besides settings: the wall clock,
//! randomness, the shared key-value store and, optionally, an in-memory one
//! that lives as long as the instance. The edge implements [`Host`] over
//! WASI/Spin; tests use [`fake::FakeHost`], which also counts every call.
//!
//! The core asks only when a decision needs the answer (a request whose
//! provider has one key never touches the store, reads no clock and draws no
//! random number), because under Spin each of these is a host call.

use std::cell::RefCell;
use std::collections::BTreeMap;

/// The host's shared key-value store (Spin's `default` store).
pub trait KeyValue {
    fn get(&self, key: &str) -> Option<Vec<u8>>;
    fn set(&self, key: &str, value: &[u8]) -> bool;
    /// Atomically adds `delta`, returning the new value.
    fn increment(&self, key: &str, delta: i64) -> Option<i64>;
    /// Removes `key` (a missing key is fine).
    fn delete(&self, key: &str) -> bool;
}

/// Clock, randomness and the stores, each asked for only when needed.
pub trait Host {
    /// Wall-clock time in unix milliseconds.
    fn now_ms(&self) -> u64;
    /// A monotonic clock in nanoseconds (durations only).
    fn monotonic_ns(&self) -> u64 {
        self.now_ms().saturating_mul(1_000_000)
    }
    /// A uniformly random number.
    fn random_u64(&self) -> u64;
    /// Cryptographically secure random bytes (RSA blinding).
    fn random_bytes(&self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            let r = self.random_u64().to_le_bytes();
            // safe: chunks_mut(8) gives at most 8 bytes.
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
    }
    /// The shared store, opened on first use; `None` when the host has none
    /// (the `wasi` flavour) or it cannot be opened.
    fn store(&self) -> Option<&dyn KeyValue>;
    /// An instance-lifetime in-memory store (a WASIp3 instance serves many
    /// requests): checked before the shared store for minted tokens, written
    /// with it. `None` (the default) when each instance serves one request.
    fn memory(&self) -> Option<&dyn KeyValue> {
        None
    }
}

/// A [`KeyValue`] in the instance's memory, for [`Host::memory`]. A
/// `BTreeMap`, not a `HashMap`: the latter's random seed costs a wasm import.
#[derive(Debug, Default)]
pub struct MemoryStore {
    data: RefCell<BTreeMap<String, Vec<u8>>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// How many keys it holds.
    pub fn len(&self) -> usize {
        self.data.borrow().len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.borrow().is_empty()
    }
}

impl KeyValue for MemoryStore {
    fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.data.borrow().get(key).cloned()
    }
    fn set(&self, key: &str, value: &[u8]) -> bool {
        self.data.borrow_mut().insert(key.into(), value.to_vec());
        true
    }
    fn increment(&self, key: &str, delta: i64) -> Option<i64> {
        let mut data = self.data.borrow_mut();
        let value = match data.get(key) {
            Some(v) => std::str::from_utf8(v).ok()?.parse::<i64>().ok()?,
            None => 0,
        }
        .checked_add(delta)?;
        data.insert(key.into(), value.to_string().into_bytes());
        Some(value)
    }
    fn delete(&self, key: &str) -> bool {
        self.data.borrow_mut().remove(key);
        true
    }
}

/// A host with a fixed random number and clock and no store — for code
/// paths that need neither, examples and benchmarks.
pub struct Fixed {
    pub random: u64,
    pub now_ms: u64,
}

impl Host for Fixed {
    fn now_ms(&self) -> u64 {
        self.now_ms
    }
    fn random_u64(&self) -> u64 {
        self.random
    }
    fn store(&self) -> Option<&dyn KeyValue> {
        None
    }
}

/// An in-memory host that counts every call, for native tests of what a
/// request asks of its host.
pub mod fake {
    use super::{Host, KeyValue, MemoryStore};
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;

    /// Calls made, by kind.
    #[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
    pub struct Calls {
        pub clock: u32,
        pub random: u32,
        /// Opening the store (at most once per request, as the edge does).
        pub store_open: u32,
        pub store_get: u32,
        pub store_set: u32,
        pub store_increment: u32,
        pub store_delete: u32,
    }

    /// An in-memory store; `broken` makes every call fail.
    #[derive(Default)]
    pub struct FakeStore {
        pub data: RefCell<HashMap<String, Vec<u8>>>,
        pub broken: bool,
        calls: Cell<Calls>,
    }

    impl FakeStore {
        /// A store whose every call fails.
        pub fn broken() -> FakeStore {
            FakeStore {
                broken: true,
                ..Default::default()
            }
        }

        fn count(&self, f: impl FnOnce(&mut Calls)) {
            let mut c = self.calls.get();
            f(&mut c);
            self.calls.set(c);
        }
    }

    impl KeyValue for FakeStore {
        fn get(&self, key: &str) -> Option<Vec<u8>> {
            self.count(|c| c.store_get += 1);
            if self.broken {
                return None;
            }
            self.data.borrow().get(key).cloned()
        }
        fn set(&self, key: &str, value: &[u8]) -> bool {
            self.count(|c| c.store_set += 1);
            if self.broken {
                return false;
            }
            self.data.borrow_mut().insert(key.into(), value.to_vec());
            true
        }
        fn increment(&self, key: &str, delta: i64) -> Option<i64> {
            self.count(|c| c.store_increment += 1);
            if self.broken {
                return None;
            }
            let mut d = self.data.borrow_mut();
            let v = d
                .get(key)
                .and_then(|v| std::str::from_utf8(v).ok()?.parse::<i64>().ok())
                .unwrap_or(0)
                .wrapping_add(delta);
            d.insert(key.into(), v.to_string().into_bytes());
            Some(v)
        }
        fn delete(&self, key: &str) -> bool {
            self.count(|c| c.store_delete += 1);
            if self.broken {
                return false;
            }
            self.data.borrow_mut().remove(key);
            true
        }
    }

    /// A host with a settable clock, a fixed random number and, optionally,
    /// a store and an in-memory store.
    pub struct FakeHost {
        pub now: Cell<u64>,
        pub random: Cell<u64>,
        pub store: Option<FakeStore>,
        /// The instance-lifetime store ([`Host::memory`]), if any.
        pub memory: Option<MemoryStore>,
        calls: Cell<Calls>,
        opened: Cell<bool>,
    }

    impl FakeHost {
        /// With a working store.
        pub fn new() -> FakeHost {
            FakeHost::with_store(Some(FakeStore::default()))
        }

        /// Without a store (the `wasi` flavour).
        pub fn storeless() -> FakeHost {
            FakeHost::with_store(None)
        }

        pub fn with_store(store: Option<FakeStore>) -> FakeHost {
            FakeHost {
                now: Cell::new(1_000_000),
                random: Cell::new(7),
                store,
                memory: None,
                calls: Cell::new(Calls::default()),
                opened: Cell::new(false),
            }
        }

        /// With an (empty) in-memory store, as a WASIp3 instance has.
        pub fn with_memory(mut self) -> FakeHost {
            self.memory = Some(MemoryStore::new());
            self
        }

        pub fn random(self, r: u64) -> FakeHost {
            self.random.set(r);
            self
        }

        /// Every call so far (the store's included).
        pub fn calls(&self) -> Calls {
            let mut c = self.calls.get();
            if let Some(s) = &self.store {
                let s = s.calls.get();
                c.store_get = s.store_get;
                c.store_set = s.store_set;
                c.store_increment = s.store_increment;
                c.store_delete = s.store_delete;
            }
            c
        }

        /// Forgets the counts (and that the store was opened): a new request.
        pub fn reset_calls(&self) {
            self.calls.set(Calls::default());
            self.opened.set(false);
            if let Some(s) = &self.store {
                s.calls.set(Calls::default());
            }
        }

        fn count(&self, f: impl FnOnce(&mut Calls)) {
            let mut c = self.calls.get();
            f(&mut c);
            self.calls.set(c);
        }
    }

    impl Default for FakeHost {
        fn default() -> Self {
            FakeHost::new()
        }
    }

    impl Host for FakeHost {
        fn now_ms(&self) -> u64 {
            self.count(|c| c.clock += 1);
            self.now.get()
        }
        fn random_u64(&self) -> u64 {
            self.count(|c| c.random += 1);
            self.random.get()
        }
        fn store(&self) -> Option<&dyn KeyValue> {
            if !self.opened.replace(true) {
                self.count(|c| c.store_open += 1);
            }
            self.store.as_ref().map(|s| s as &dyn KeyValue)
        }
        fn memory(&self) -> Option<&dyn KeyValue> {
            self.memory.as_ref().map(|m| m as &dyn KeyValue)
        }
    }
}
