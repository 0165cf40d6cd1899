//! Choosing one provider key per request (SPEC §7): the `/key/{sel}/` prefix,
//! the global round-robin counter or a uniformly random key, and the
//! cooldowns of keys that failed. The host (store, clock, randomness) is
//! asked only for what a choice needs.

use crate::host::{Host, KeyValue};
use crate::settings::{self, SettingSource};

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
}

/// A short, stable, non-reversible id for a key (FNV-1a 64), for store records.
pub fn fingerprint(key: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// The store key of a key setting's round-robin counter.
pub fn round_robin_key(setting: &str) -> String {
    format!("llm-proxy/rr/{setting}")
}

/// The store key of a key setting's cooldown record.
pub fn cooldown_record_key(setting: &str) -> String {
    format!("llm-proxy/cooldown/{setting}")
}

/// The cooldowns of every key of one key setting: one store record
/// (`fingerprint=until_ms` pairs, `;`-separated), read at most once per
/// request and written only when an attempt fails.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CooldownBook {
    /// `(fingerprint, until unix ms)`.
    pub entries: Vec<(String, u64)>,
}

impl CooldownBook {
    /// Reads the record of `setting` (one store read). A missing or
    /// unreadable record is an empty book.
    pub fn load(store: &dyn KeyValue, setting: &str) -> CooldownBook {
        store
            .get(&cooldown_record_key(setting))
            .map(|raw| CooldownBook::decode(&raw))
            .unwrap_or_default()
    }

    pub fn decode(raw: &[u8]) -> CooldownBook {
        let text = String::from_utf8_lossy(raw);
        let entries = text
            .split(';')
            .filter_map(|e| {
                let (fp, until) = e.split_once('=')?;
                Some((fp.trim().to_string(), until.trim().parse().ok()?))
            })
            .collect();
        CooldownBook { entries }
    }

    /// The record without the entries that ended by `now_ms`.
    pub fn encode(&self, now_ms: u64) -> Vec<u8> {
        self.entries
            .iter()
            .filter(|(_, until)| *until > now_ms)
            .map(|(fp, until)| format!("{fp}={until}"))
            .collect::<Vec<_>>()
            .join(";")
            .into_bytes()
    }

    /// When the key with fingerprint `fp` stops cooling down, if it is
    /// cooling down at `now_ms`.
    pub fn cooling_until(&self, fp: &str, now_ms: u64) -> Option<u64> {
        self.entries
            .iter()
            .find(|(f, _)| f == fp)
            .map(|(_, until)| *until)
            .filter(|until| *until > now_ms)
    }

    /// Puts key `fp` to cool down until `until`.
    pub fn mark(&mut self, fp: &str, until: u64) {
        match self.entries.iter_mut().find(|(f, _)| f == fp) {
            Some(e) => e.1 = e.1.max(until),
            None => self.entries.push((fp.to_string(), until)),
        }
    }
}

/// Where the failing attempts of one request record their keys' cooldowns:
/// the key setting's record, already read if key choice read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CooldownRecord {
    pub setting: String,
    /// The record as key choice read it; `None` when it was not read (a
    /// pinned key): it is read on the first failure.
    pub loaded: Option<CooldownBook>,
}

impl CooldownRecord {
    /// Records that the key with fingerprint `fp` cools down until `until`:
    /// one store write (plus one read when the record was not read yet).
    pub fn mark(&mut self, store: &dyn KeyValue, fp: &str, until: u64, now_ms: u64) -> bool {
        let book = self
            .loaded
            .get_or_insert_with(|| CooldownBook::load(store, &self.setting));
        book.mark(fp, until);
        store.set(&cooldown_record_key(&self.setting), &book.encode(now_ms))
    }
}

/// The keys to try, in order, one per attempt (`1 + retries` entries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyOrder {
    pub indexes: Vec<usize>,
    /// Set when round robin was asked for but the store could not serve it.
    pub fallback_note: Option<&'static str>,
    /// Where failed attempts record cooldowns; `None` with one key or no store.
    pub cooldowns: Option<CooldownRecord>,
}

/// Orders the keys of one setting for a request: the first choice (the
/// `/key/` selection, the round-robin counter, or random), then the following
/// keys of the allowed range in rotation; keys cooling down go last (the one
/// whose cooldown ends first before the others), unless the selection pins one.
///
/// Asks the host only for what the choice needs: nothing with one key; with
/// several, `ENABLE_GLOBAL_ROUND_ROBIN`, then one increment (round robin) or
/// one random number, and one read of the cooldown record (plus the clock
/// when the record holds any entry).
pub fn order(
    keys: &[String],
    setting: &str,
    selection: Option<KeySelection>,
    attempts: usize,
    src: &dyn SettingSource,
    host: &dyn Host,
) -> KeyOrder {
    let n = keys.len();
    let mut out = KeyOrder {
        indexes: Vec::new(),
        fallback_note: None,
        cooldowns: None,
    };
    if n == 0 {
        return out;
    }
    if n == 1 {
        out.indexes = vec![0; attempts];
        return out;
    }
    // safe: n >= 2 here, and bounds gives lo <= hi <= n - 1, so every index
    // below (lo + a remainder of span, rotation, keys[i]) is below n.
    let (lo, hi) = match selection {
        Some(s) => s.bounds(n),
        None => (0, n - 1),
    };
    let span = hi - lo + 1;
    let start = if span == 1 {
        lo
    } else if settings::flag(src, "ENABLE_GLOBAL_ROUND_ROBIN") {
        match host
            .store()
            .and_then(|s| s.increment(&round_robin_key(setting), 1))
        {
            // safe: `v` is the store's (any i64: wrapping); the remainder is in `0..span`.
            Some(v) => lo + (v.wrapping_sub(1).rem_euclid(span as i64)) as usize,
            None => {
                out.fallback_note = Some(if host.store().is_some() {
                    "round robin: the key-value store failed; chose at random"
                } else {
                    "round robin: no key-value store on this host; chose at random"
                });
                lo + (host.random_u64() % span as u64) as usize
            }
        }
    } else {
        lo + (host.random_u64() % span as u64) as usize
    };
    let rotation: Vec<usize> = (0..span).map(|i| lo + (start - lo + i) % span).collect();
    let Some(store) = host.store() else {
        // No store, no cooldowns: the rotation as it is.
        out.indexes = rotation.iter().copied().cycle().take(attempts).collect();
        return out;
    };
    if span == 1 {
        // A pinned key is used even while cooling; its failures are still recorded.
        out.indexes = vec![lo; attempts];
        out.cooldowns = Some(CooldownRecord {
            setting: setting.to_string(),
            loaded: None,
        });
        return out;
    }
    let book = CooldownBook::load(store, setting);
    let ordered: Vec<usize> = if book.entries.is_empty() {
        rotation
    } else {
        let now = host.now_ms();
        let (mut ready, mut cooling): (Vec<usize>, Vec<(u64, usize)>) = (Vec::new(), Vec::new());
        for i in rotation {
            match book.cooling_until(&fingerprint(&keys[i]), now) {
                Some(until) => cooling.push((until, i)),
                None => ready.push(i),
            }
        }
        cooling.sort();
        ready
            .into_iter()
            .chain(cooling.into_iter().map(|(_, i)| i))
            .collect()
    };
    out.indexes = ordered.iter().copied().cycle().take(attempts).collect();
    out.cooldowns = Some(CooldownRecord {
        setting: setting.to_string(),
        loaded: Some(book),
    });
    out
}

#[cfg(test)]
mod order_tests {
    use super::*;
    use crate::host::fake::{Calls, FakeHost, FakeStore};
    use crate::host::Host;
    use std::collections::HashMap;

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("key-{i}")).collect()
    }

    fn rr(on: bool) -> HashMap<String, String> {
        crate::settings::from_pairs(&[("ENABLE_GLOBAL_ROUND_ROBIN", if on { "true" } else { "" })])
    }

    fn set_cooldown(host: &FakeHost, setting: &str, entries: &[(&str, u64)]) {
        let book = CooldownBook {
            entries: entries.iter().map(|(k, u)| (fingerprint(k), *u)).collect(),
        };
        host.store()
            .unwrap()
            .set(&cooldown_record_key(setting), &book.encode(0));
    }

    #[test]
    fn round_robin_rotates_through_every_key_in_turn() {
        let host = FakeHost::new();
        let k = keys(3);
        let firsts: Vec<usize> = (0..7)
            .map(|_| order(&k, "OPENAI_API_KEY", None, 1, &rr(true), &host).indexes[0])
            .collect();
        assert_eq!(firsts, vec![0, 1, 2, 0, 1, 2, 0]);
        // Counters are per setting.
        assert_eq!(
            order(&k, "GROQ_API_KEY", None, 1, &rr(true), &host).indexes,
            vec![0]
        );
    }

    #[test]
    fn round_robin_respects_a_range_selection() {
        let host = FakeHost::new();
        let k = keys(5);
        let sel = Some(KeySelection::Range(Some(2), Some(3)));
        let firsts: Vec<usize> = (0..4)
            .map(|_| order(&k, "S", sel, 1, &rr(true), &host).indexes[0])
            .collect();
        assert_eq!(firsts, vec![2, 3, 2, 3]);
    }

    #[test]
    fn without_a_working_store_round_robin_falls_back_to_random_with_a_note() {
        let k = keys(3);
        let o = order(&k, "S", None, 1, &rr(true), &FakeHost::storeless());
        assert_eq!(o.indexes, vec![7 % 3]);
        assert!(o.fallback_note.unwrap().contains("no key-value store"));
        let broken = FakeHost::with_store(Some(FakeStore::broken()));
        let o = order(&k, "S", None, 1, &rr(true), &broken);
        assert!(o.fallback_note.unwrap().contains("failed"));
        assert_eq!(o.indexes.len(), 1);
        assert_eq!(
            order(&k, "S", None, 1, &rr(false), &FakeHost::storeless()).fallback_note,
            None
        );
    }

    #[test]
    fn attempts_follow_the_rotation_and_stay_in_the_selection() {
        let k = keys(4);
        let host = FakeHost::storeless().random(2);
        let o = order(&k, "S", None, 6, &rr(false), &host);
        assert_eq!(o.indexes, vec![2, 3, 0, 1, 2, 3]);
        let pinned = order(&k, "S", Some(KeySelection::Index(1)), 3, &rr(false), &host);
        assert_eq!(pinned.indexes, vec![1, 1, 1]);
        let host = FakeHost::storeless().random(0);
        let ranged = order(
            &k,
            "S",
            Some(KeySelection::Range(Some(1), Some(2))),
            4,
            &rr(false),
            &host,
        );
        assert_eq!(ranged.indexes, vec![1, 2, 1, 2]);
        assert_eq!(
            order(&[], "S", None, 3, &rr(false), &host).indexes,
            Vec::<usize>::new()
        );
    }

    #[test]
    fn cooling_keys_are_skipped_until_all_are_cooling() {
        let k = keys(3);
        let host = FakeHost::new().random(1);
        set_cooldown(&host, "S", &[("key-1", 1_005_000)]);
        assert_eq!(
            order(&k, "S", None, 3, &rr(false), &host).indexes,
            vec![2, 0, 1]
        );
        // An expired cooldown no longer counts.
        set_cooldown(&host, "S", &[("key-1", 999_999)]);
        assert_eq!(order(&k, "S", None, 1, &rr(false), &host).indexes, vec![1]);
        // All cooling: the one whose cooldown ends first leads.
        set_cooldown(
            &host,
            "S",
            &[
                ("key-0", 1_003_000),
                ("key-1", 1_002_000),
                ("key-2", 1_009_000),
            ],
        );
        assert_eq!(
            order(&k, "S", None, 3, &rr(false), &host).indexes,
            vec![1, 0, 2]
        );
        // A pinned key is used even while cooling.
        let o = order(&k, "S", Some(KeySelection::Index(2)), 1, &rr(false), &host);
        assert_eq!(o.indexes, vec![2]);
        assert_eq!(o.cooldowns.unwrap().loaded, None);
    }

    #[test]
    fn a_round_robin_counter_of_any_value_picks_a_key_in_range() {
        // The counter is the store's: at i64::MAX it wraps to i64::MIN.
        let host = FakeHost::new();
        host.store()
            .unwrap()
            .set(&round_robin_key("S"), i64::MAX.to_string().as_bytes());
        let o = order(&keys(3), "S", None, 2, &rr(true), &host);
        assert!(o.indexes.iter().all(|&i| i < 3), "{:?}", o.indexes);
    }

    #[test]
    fn host_calls_one_key_several_keys_round_robin_and_after_a_429() {
        let host = FakeHost::new();
        // One key: the host is not asked anything.
        let o = order(&keys(1), "S", None, 3, &rr(true), &host);
        assert_eq!(o.indexes, vec![0, 0, 0]);
        assert_eq!(o.cooldowns, None);
        assert_eq!(host.calls(), Calls::default());

        // Several keys, random: one random number, one store read, no clock
        // (the record is empty), no write.
        host.reset_calls();
        let mut o = order(&keys(3), "S", None, 1, &rr(false), &host);
        let c = host.calls();
        assert_eq!(
            (
                c.random,
                c.store_open,
                c.store_get,
                c.store_set,
                c.store_increment,
                c.clock
            ),
            (1, 1, 1, 0, 0, 0)
        );

        // A 429 on that key: one write, no further read.
        host.reset_calls();
        let store = host.store().unwrap();
        let first = o.indexes[0];
        assert!(o.cooldowns.as_mut().unwrap().mark(
            store,
            &fingerprint(&keys(3)[first]),
            1_060_000,
            1_000_000
        ));
        let c = host.calls();
        assert_eq!((c.store_get, c.store_set), (0, 1));

        // Round robin: one increment, one read, and now the clock (the
        // record holds an entry); no random number; the cooling key is skipped.
        host.reset_calls();
        let o = order(&keys(3), "S", None, 1, &rr(true), &host);
        let c = host.calls();
        assert_eq!(
            (
                c.random,
                c.store_open,
                c.store_get,
                c.store_set,
                c.store_increment,
                c.clock
            ),
            (0, 1, 1, 0, 1, 1)
        );
        assert_ne!(o.indexes[0], first);

        // Without a store: random only.
        let bare = FakeHost::storeless();
        order(&keys(3), "S", None, 2, &rr(false), &bare);
        let c = bare.calls();
        assert_eq!((c.random, c.store_get, c.clock), (1, 0, 0));
    }

    #[test]
    fn records_round_trip_prune_and_never_hold_a_key() {
        let mut b = CooldownBook::decode(b"aa=10;bb=20;junk;cc=x");
        assert_eq!(b.entries, vec![("aa".into(), 10), ("bb".into(), 20)]);
        b.mark("aa", 5);
        b.mark("dd", 30);
        assert_eq!(b.cooling_until("aa", 0), Some(10));
        assert_eq!(String::from_utf8(b.encode(15)).unwrap(), "bb=20;dd=30");
        assert_eq!(fingerprint("sk-abc"), fingerprint("sk-abc"));
        assert_ne!(fingerprint("sk-abc"), fingerprint("sk-abd"));
        assert!(!fingerprint("sk-secret").contains("sk-secret"));
    }
}
