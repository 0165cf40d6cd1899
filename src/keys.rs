//! Choosing one provider key per request (SPEC §7): the `/key/{sel}/` prefix
//! or a uniformly random key. Randomness is passed in.

/// A `/key/{sel}/` selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySelection {
    /// `i`: key `i` modulo the number of keys.
    Index(usize),
    /// `i-j`, `i-`, `-j`: a uniformly random key in the inclusive range,
    /// clamped to the key count.
    Range(Option<usize>, Option<usize>),
}

impl KeySelection {
    /// Parses `sel`; `None` when it is not one of the four forms.
    pub fn parse(sel: &str) -> Option<KeySelection> {
        let num = |s: &str| -> Option<Option<usize>> {
            if s.is_empty() {
                Some(None)
            } else if s.bytes().all(|b| b.is_ascii_digit()) && s.len() <= 9 {
                s.parse().ok().map(Some)
            } else {
                None
            }
        };
        match sel.split_once('-') {
            None => num(sel)?.map(KeySelection::Index),
            Some((a, b)) => {
                let (lo, hi) = (num(a)?, num(b)?);
                if lo.is_none() && hi.is_none() {
                    return None;
                }
                if let (Some(l), Some(h)) = (lo, hi) {
                    if l > h {
                        return None;
                    }
                }
                Some(KeySelection::Range(lo, hi))
            }
        }
    }

    /// The inclusive index range this selection allows among `n > 0` keys.
    pub fn bounds(self, n: usize) -> (usize, usize) {
        let last = n.saturating_sub(1);
        match self {
            KeySelection::Index(i) => (i % n.max(1), i % n.max(1)),
            KeySelection::Range(lo, hi) => {
                let lo = lo.unwrap_or(0).min(last);
                let hi = hi.unwrap_or(last).min(last);
                (lo, hi.max(lo))
            }
        }
    }
}

/// Picks a key index among `n > 0` keys from `random`, within `selection`.
pub fn choose(selection: Option<KeySelection>, n: usize, random: u64) -> usize {
    let (lo, hi) = match selection {
        Some(s) => s.bounds(n),
        None => (0, n.saturating_sub(1)),
    };
    let span = (hi - lo + 1) as u64;
    lo + (random % span) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use KeySelection::*;

    #[test]
    fn parses_the_four_forms() {
        assert_eq!(KeySelection::parse("2"), Some(Index(2)));
        assert_eq!(KeySelection::parse("1-3"), Some(Range(Some(1), Some(3))));
        assert_eq!(KeySelection::parse("1-"), Some(Range(Some(1), None)));
        assert_eq!(KeySelection::parse("-3"), Some(Range(None, Some(3))));
        for bad in [
            "",
            "-",
            "a",
            "1-2-3",
            "3-1",
            "+1",
            " 1",
            "1e3",
            "99999999999",
        ] {
            assert_eq!(KeySelection::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn index_wraps_and_ranges_clamp() {
        assert_eq!(Index(5).bounds(3), (2, 2));
        assert_eq!(Range(Some(1), Some(9)).bounds(3), (1, 2));
        assert_eq!(Range(Some(7), None).bounds(3), (2, 2));
        assert_eq!(Range(None, Some(0)).bounds(3), (0, 0));
    }

    #[test]
    fn choice_stays_in_range_and_covers_it() {
        let mut seen = [0usize; 4];
        for r in 0..400u64 {
            let i = choose(
                Some(Range(Some(1), Some(2))),
                4,
                r.wrapping_mul(0x9e3779b97f4a7c15),
            );
            assert!((1..=2).contains(&i));
            seen[i] += 1;
        }
        assert!(seen[1] > 100 && seen[2] > 100, "{seen:?}");
        let all: std::collections::HashSet<_> = (0..64).map(|r| choose(None, 3, r)).collect();
        assert_eq!(all.len(), 3);
    }
}

/// The host's shared key-value store (Spin's `default` store), behind one
/// small trait so selection and cooldowns are tested with a fake.
pub trait KeyValue {
    /// Whether a store exists at all.
    fn available(&self) -> bool;
    fn get(&self, key: &str) -> Option<Vec<u8>>;
    fn set(&self, key: &str, value: &[u8]) -> bool;
    /// Atomically adds `delta`, returning the new value.
    fn increment(&self, key: &str, delta: i64) -> Option<i64>;
}

/// No shared store (the `wasi` flavour): random choice, no cooldowns.
pub struct NoStore;

impl KeyValue for NoStore {
    fn available(&self) -> bool {
        false
    }
    fn get(&self, _: &str) -> Option<Vec<u8>> {
        None
    }
    fn set(&self, _: &str, _: &[u8]) -> bool {
        false
    }
    fn increment(&self, _: &str, _: i64) -> Option<i64> {
        None
    }
}

/// What key choice needs from outside: randomness, the wall clock and the store.
#[derive(Clone, Copy)]
pub struct KeyContext<'a> {
    pub random: u64,
    pub now_ms: u64,
    pub store: &'a dyn KeyValue,
    /// `ENABLE_GLOBAL_ROUND_ROBIN`.
    pub round_robin: bool,
    /// `RETRY`: extra attempts after the first.
    pub retries: u32,
}

impl KeyContext<'static> {
    /// Random choice only: no store, no retries.
    pub fn random_only(random: u64) -> KeyContext<'static> {
        KeyContext {
            random,
            now_ms: 0,
            store: &NoStore,
            round_robin: false,
            retries: 0,
        }
    }
}

/// A short, stable, non-reversible id for a key (FNV-1a 64), for store keys.
pub fn fingerprint(key: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// The store key holding the end of a key's cooldown (unix ms).
pub fn cooldown_key(setting: &str, key: &str) -> String {
    format!("llm-proxy/cooldown/{setting}/{}", fingerprint(key))
}

/// The store key of a key setting's round-robin counter.
pub fn round_robin_key(setting: &str) -> String {
    format!("llm-proxy/rr/{setting}")
}

/// When a key's cooldown ends (unix ms), if it is cooling down at `now_ms`.
pub fn cooling_until(store: &dyn KeyValue, cooldown_key: &str, now_ms: u64) -> Option<u64> {
    let raw = store.get(cooldown_key)?;
    let until: u64 = std::str::from_utf8(&raw).ok()?.trim().parse().ok()?;
    (until > now_ms).then_some(until)
}

/// The keys to try, in order, one per attempt (`1 + retries` entries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOrder {
    pub indexes: Vec<usize>,
    /// Set when round robin was asked for but the store could not serve it.
    pub fallback_note: Option<&'static str>,
}

/// Orders the keys of one setting for a request: the first choice (the
/// `/key/` selection, the round-robin counter, or random), then the following
/// keys of the allowed range in rotation; keys cooling down go last (the one
/// whose cooldown ends first before the others), unless the selection pins one.
pub fn order(
    keys: &[String],
    setting: &str,
    selection: Option<KeySelection>,
    ctx: &KeyContext,
) -> KeyOrder {
    let n = keys.len();
    let attempts = 1 + ctx.retries as usize;
    if n == 0 {
        return KeyOrder {
            indexes: Vec::new(),
            fallback_note: None,
        };
    }
    let (lo, hi) = match selection {
        Some(s) => s.bounds(n),
        None => (0, n - 1),
    };
    let span = hi - lo + 1;
    let mut fallback_note = None;
    let start = match selection {
        Some(KeySelection::Index(_)) => lo,
        _ if ctx.round_robin => match ctx.store.increment(&round_robin_key(setting), 1) {
            Some(v) => lo + ((v - 1).rem_euclid(span as i64)) as usize,
            None => {
                fallback_note = Some(if ctx.store.available() {
                    "round robin: the key-value store failed; chose at random"
                } else {
                    "round robin: no key-value store on this host; chose at random"
                });
                lo + (ctx.random % span as u64) as usize
            }
        },
        _ => lo + (ctx.random % span as u64) as usize,
    };
    let rotation: Vec<usize> = (0..span).map(|i| lo + (start - lo + i) % span).collect();
    if !ctx.store.available() {
        // No store, no cooldowns: the rotation as it is.
        return KeyOrder {
            indexes: rotation.iter().copied().cycle().take(attempts).collect(),
            fallback_note,
        };
    }
    let (mut ready, mut cooling): (Vec<usize>, Vec<(u64, usize)>) = (Vec::new(), Vec::new());
    for i in rotation {
        match cooling_until(ctx.store, &cooldown_key(setting, &keys[i]), ctx.now_ms) {
            Some(until) if span > 1 => cooling.push((until, i)),
            _ => ready.push(i),
        }
    }
    cooling.sort();
    let ordered: Vec<usize> = ready
        .into_iter()
        .chain(cooling.into_iter().map(|(_, i)| i))
        .collect();
    KeyOrder {
        indexes: ordered.iter().copied().cycle().take(attempts).collect(),
        fallback_note,
    }
}

#[cfg(test)]
mod order_tests {
    use super::test_store::FakeStore;
    use super::*;

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("key-{i}")).collect()
    }

    fn ctx(store: &dyn KeyValue, rr: bool, retries: u32) -> KeyContext<'_> {
        KeyContext {
            random: 7,
            now_ms: 1_000_000,
            store,
            round_robin: rr,
            retries,
        }
    }

    #[test]
    fn round_robin_rotates_through_every_key_in_turn() {
        let store = FakeStore::default();
        let k = keys(3);
        let firsts: Vec<usize> = (0..7)
            .map(|_| order(&k, "OPENAI_API_KEY", None, &ctx(&store, true, 0)).indexes[0])
            .collect();
        assert_eq!(firsts, vec![0, 1, 2, 0, 1, 2, 0]);
        // Counters are per setting.
        assert_eq!(
            order(&k, "GROQ_API_KEY", None, &ctx(&store, true, 0)).indexes,
            vec![0]
        );
    }

    #[test]
    fn round_robin_respects_a_range_selection() {
        let store = FakeStore::default();
        let k = keys(5);
        let sel = Some(KeySelection::Range(Some(2), Some(3)));
        let firsts: Vec<usize> = (0..4)
            .map(|_| order(&k, "S", sel, &ctx(&store, true, 0)).indexes[0])
            .collect();
        assert_eq!(firsts, vec![2, 3, 2, 3]);
    }

    #[test]
    fn without_a_working_store_round_robin_falls_back_to_random_with_a_note() {
        let k = keys(3);
        let o = order(&k, "S", None, &ctx(&NoStore, true, 0));
        assert_eq!(o.indexes, vec![7 % 3]);
        assert!(o.fallback_note.unwrap().contains("no key-value store"));
        let broken = FakeStore {
            broken: true,
            ..Default::default()
        };
        assert!(order(&k, "S", None, &ctx(&broken, true, 0))
            .fallback_note
            .unwrap()
            .contains("failed"));
        assert_eq!(
            order(&k, "S", None, &ctx(&NoStore, false, 0)).fallback_note,
            None
        );
    }

    #[test]
    fn attempts_follow_the_rotation_and_stay_in_the_selection() {
        let k = keys(4);
        let o = order(
            &k,
            "S",
            None,
            &KeyContext {
                random: 2,
                ..ctx(&NoStore, false, 5)
            },
        );
        assert_eq!(o.indexes, vec![2, 3, 0, 1, 2, 3]);
        let pinned = order(
            &k,
            "S",
            Some(KeySelection::Index(1)),
            &ctx(&NoStore, false, 2),
        );
        assert_eq!(pinned.indexes, vec![1, 1, 1]);
        let ranged = order(
            &k,
            "S",
            Some(KeySelection::Range(Some(1), Some(2))),
            &KeyContext {
                random: 0,
                ..ctx(&NoStore, false, 3)
            },
        );
        assert_eq!(ranged.indexes, vec![1, 2, 1, 2]);
        assert_eq!(
            order(&[], "S", None, &ctx(&NoStore, false, 3)).indexes,
            Vec::<usize>::new()
        );
    }

    #[test]
    fn cooling_keys_are_skipped_until_all_are_cooling() {
        let store = FakeStore::default();
        let k = keys(3);
        let c = ctx(&store, false, 2);
        store.set(&cooldown_key("S", &k[1]), b"1005000");
        let o = order(&k, "S", None, &KeyContext { random: 1, ..c });
        assert_eq!(o.indexes, vec![2, 0, 1]);
        // An expired cooldown no longer counts.
        store.set(&cooldown_key("S", &k[1]), b"999999");
        assert_eq!(
            order(
                &k,
                "S",
                None,
                &KeyContext {
                    random: 1,
                    ..ctx(&store, false, 0)
                }
            )
            .indexes,
            vec![1]
        );
        // All cooling: the one whose cooldown ends first leads.
        store.set(&cooldown_key("S", &k[0]), b"1003000");
        store.set(&cooldown_key("S", &k[1]), b"1002000");
        store.set(&cooldown_key("S", &k[2]), b"1009000");
        assert_eq!(
            order(&k, "S", None, &ctx(&store, false, 2)).indexes,
            vec![1, 0, 2]
        );
        // A pinned key is used even while cooling.
        assert_eq!(
            order(
                &k,
                "S",
                Some(KeySelection::Index(2)),
                &ctx(&store, false, 0)
            )
            .indexes,
            vec![2]
        );
    }

    #[test]
    fn fingerprints_are_stable_and_do_not_contain_the_key() {
        assert_eq!(fingerprint("sk-abc"), fingerprint("sk-abc"));
        assert_ne!(fingerprint("sk-abc"), fingerprint("sk-abd"));
        assert!(!cooldown_key("S", "sk-secret").contains("sk-secret"));
    }
}

/// An in-memory [`KeyValue`] for tests.
#[cfg(test)]
pub(crate) mod test_store {
    use super::KeyValue;
    use std::cell::RefCell;
    use std::collections::HashMap;

    /// An in-memory store.
    #[derive(Default)]
    pub struct FakeStore {
        pub data: RefCell<HashMap<String, Vec<u8>>>,
        pub broken: bool,
    }

    impl KeyValue for FakeStore {
        fn available(&self) -> bool {
            true
        }
        fn get(&self, key: &str) -> Option<Vec<u8>> {
            self.data.borrow().get(key).cloned()
        }
        fn set(&self, key: &str, value: &[u8]) -> bool {
            self.data.borrow_mut().insert(key.into(), value.to_vec());
            true
        }
        fn increment(&self, key: &str, delta: i64) -> Option<i64> {
            if self.broken {
                return None;
            }
            let mut d = self.data.borrow_mut();
            let v = d
                .get(key)
                .and_then(|v| std::str::from_utf8(v).ok()?.parse::<i64>().ok())
                .unwrap_or(0)
                + delta;
            d.insert(key.into(), v.to_string().into_bytes());
            Some(v)
        }
    }
}
