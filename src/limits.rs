//! A client key's limits (`rpm`, `tpm`, `daily_tokens`), counted in the
//! shared key-value store so every instance on one store agrees
//! (docs/team.md, "Limits").
//!
//! A request is admitted with an estimate of its tokens **reserved** and
//! **settled** to its real usage when it ends, so requests in flight see
//! each other and a token limit holds before the fact:
//! - one counter per key and minute, `llm-proxy/limit/{name}/{unix minute}`,
//!   holds `requests << 32 | tokens` (with `rpm` or `tpm`): admission is one
//!   atomic increment of one request plus the estimate (tokens only with
//!   `tpm`), undone when refused;
//! - one counter per key and UTC day, `llm-proxy/limit/{name}/day/{date}`
//!   (with `daily_tokens`): one increment of the estimate;
//! - settlement adds what was used minus what was reserved to each (one
//!   increment each, none when they are equal or the minute or day passed).
//!
//! The first request of a minute deletes the minute counter of the minute
//! before last; the first of a day the day counter of the day before
//! yesterday (the store has no expiry).

use crate::accounting::day_of;
use crate::client_keys::{ClientKey, MAX_TPM};
use crate::host::KeyValue;

pub const MINUTE_MS: u64 = 60_000;
pub const DAY_MS: u64 = 86_400_000;
/// One request in a minute counter.
const REQUEST: i64 = 1 << 32;
const TOKENS: i64 = (1 << 32) - 1;
/// The most tokens one request reserves in the day counter.
const MAX_TOKENS_DELTA: u64 = 1 << 31;
/// The most tokens one request's settlement puts in a minute counter (more
/// than any model's context).
const MAX_MINUTE_USE: u64 = 1 << 24;

/// Output tokens reserved for a request that names no maximum.
pub const DEFAULT_OUTPUT_TOKENS: u64 = 4096;
/// Bytes of request body per input token reserved: fewer than most text
/// takes per token, so the estimate is rarely below the real count.
pub const BYTES_PER_TOKEN: u64 = 3;

/// What a request reserves: its body's bytes as input tokens, plus its
/// output (`max_output`, else [`DEFAULT_OUTPUT_TOKENS`]) when it has any.
pub fn estimate(body_len: u64, max_output: Option<u64>, has_output: bool) -> u64 {
    let output = if has_output {
        max_output.unwrap_or(DEFAULT_OUTPUT_TOKENS)
    } else {
        0
    };
    body_len
        .div_ceil(BYTES_PER_TOKEN)
        .saturating_add(output)
        .min(MAX_TOKENS_DELTA)
}

/// Why a request was refused, and when to come back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// Over `limit` (`rpm`, `tpm` or `daily_tokens`): retry in `retry_after` s.
    Over {
        limit: &'static str,
        value: u64,
        retry_after: u64,
    },
    /// The store could not be asked: refused rather than unlimited.
    Store,
}

/// What an admitted request reserved, and where, to be settled when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reservation {
    pub tokens: u64,
    /// The unix minute whose counter holds the tokens (a key with `tpm`).
    pub minute: Option<u64>,
    /// What the minute counter holds of them: at most the key's `tpm` (a
    /// reservation of the whole minute already keeps every other request
    /// out until it settles).
    pub minute_tokens: u64,
    /// The UTC day (unix day number) whose counter holds them (a key with
    /// `daily_tokens`).
    pub day: Option<u64>,
}

/// The store key of `name`'s counter for the minute of `now_ms`.
pub fn minute_key(name: &str, now_ms: u64) -> String {
    format!("llm-proxy/limit/{name}/{}", now_ms / MINUTE_MS)
}

/// The store key of `name`'s token counter for the UTC day of `now_ms`.
pub fn day_key(name: &str, now_ms: u64) -> String {
    format!("llm-proxy/limit/{name}/day/{}", day_of(now_ms))
}

/// Seconds from `now_ms` to the next minute and the next UTC day.
fn to_next(now_ms: u64) -> (u64, u64) {
    (
        (MINUTE_MS - now_ms % MINUTE_MS).div_ceil(1000),
        (DAY_MS - now_ms % DAY_MS).div_ceil(1000),
    )
}

fn signed(n: u64) -> i64 {
    i64::try_from(n.min(MAX_TOKENS_DELTA)).unwrap_or(i64::MAX)
}

/// Admits one request of `key` at `now_ms` that reserves `tokens` (a key
/// without limits asks the store nothing; tokens are counted only against
/// the token limits the key has).
pub fn admit(
    store: &dyn KeyValue,
    key: &ClientKey,
    now_ms: u64,
    tokens: u64,
) -> Result<Reservation, Refused> {
    let (to_minute, to_day) = to_next(now_ms);
    let tokens = tokens.min(MAX_TOKENS_DELTA);
    let mut reserved = Reservation {
        tokens,
        minute: None,
        minute_tokens: 0,
        day: None,
    };
    let mut undo_minute: Option<(String, i64)> = None;
    if key.rpm.is_some() || key.tpm.is_some() {
        let counter = minute_key(&key.name, now_ms);
        let own = key
            .tpm
            .map_or(0, |tpm| signed(tokens.min(tpm.min(MAX_TPM))));
        let delta = REQUEST + own;
        let packed = store.increment(&counter, delta).ok_or(Refused::Store)?;
        let requests = (packed >> 32).max(0) as u64;
        let before = ((packed & TOKENS) - own).max(0) as u64;
        let over = match (key.rpm, key.tpm) {
            (Some(rpm), _) if requests > rpm => Some(("rpm", rpm)),
            (_, Some(tpm)) if before >= tpm => Some(("tpm", tpm)),
            _ => None,
        };
        if let Some((limit, value)) = over {
            store.increment(&counter, -delta);
            return Err(Refused::Over {
                limit,
                value,
                retry_after: to_minute,
            });
        }
        if requests == 1 {
            // The minute's first request: the one before last is done with.
            let old = now_ms.saturating_sub(2 * MINUTE_MS);
            store.delete(&minute_key(&key.name, old));
        }
        if key.tpm.is_some() {
            reserved.minute = Some(now_ms / MINUTE_MS);
            reserved.minute_tokens = own.max(0) as u64;
        }
        undo_minute = Some((counter, delta));
    }
    if let Some(limit) = key.daily_tokens {
        let counter = day_key(&key.name, now_ms);
        let after = store.increment(&counter, signed(tokens));
        let refusal = match after {
            None => Some(Refused::Store),
            Some(after) => {
                let before = (after - signed(tokens)).max(0) as u64;
                if before >= limit {
                    store.increment(&counter, -signed(tokens));
                    Some(Refused::Over {
                        limit: "daily_tokens",
                        value: limit,
                        retry_after: to_day,
                    })
                } else {
                    if before == 0 && tokens > 0 {
                        // The day's first tokens: the day before yesterday is done with.
                        store.delete(&day_key(&key.name, now_ms.saturating_sub(2 * DAY_MS)));
                    }
                    None
                }
            }
        };
        if let Some(refused) = refusal {
            if let Some((counter, delta)) = undo_minute {
                store.increment(&counter, -delta);
            }
            return Err(refused);
        }
        reserved.day = Some(now_ms / DAY_MS);
    }
    Ok(reserved)
}

/// Settles `reserved` to `used` tokens at `now_ms`: the difference goes to
/// the counters that hold the reservation, while their minute or day lasts.
pub fn settle(
    store: &dyn KeyValue,
    key: &ClientKey,
    reserved: &Reservation,
    used: u64,
    now_ms: u64,
) {
    let minute_used = used.min(MAX_MINUTE_USE);
    if reserved.minute == Some(now_ms / MINUTE_MS) && minute_used != reserved.minute_tokens {
        let delta = signed(minute_used) - signed(reserved.minute_tokens);
        store.increment(&minute_key(&key.name, now_ms), delta);
    }
    if reserved.day == Some(now_ms / DAY_MS) && used != reserved.tokens {
        let delta = signed(used) - signed(reserved.tokens);
        store.increment(&day_key(&key.name, now_ms), delta);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::FakeStore;

    fn key(rpm: Option<u64>, tpm: Option<u64>, daily: Option<u64>) -> ClientKey {
        ClientKey {
            name: "k".into(),
            sha256: [0; 32],
            models: vec![],
            gateways: vec![],
            pass_through: vec![],
            rpm,
            tpm,
            daily_tokens: daily,
            expires: None,
        }
    }

    /// 2026-12-01T12:00:30Z.
    const NOW: u64 = 1_796_126_430_000;

    fn over<T: std::fmt::Debug>(r: Result<T, Refused>) -> (&'static str, u64) {
        match r {
            Err(Refused::Over {
                limit, retry_after, ..
            }) => (limit, retry_after),
            other => panic!("{other:?}"),
        }
    }

    fn tokens_of(store: &FakeStore, counter: &str) -> i64 {
        store.increment(counter, 0).unwrap_or(0) & TOKENS
    }

    #[test]
    fn the_request_over_the_limit_waits_for_the_next_minute() {
        let store = FakeStore::default();
        let k = key(Some(2), None, None);
        assert!(admit(&store, &k, NOW, 0).is_ok());
        assert!(admit(&store, &k, NOW + 1, 0).is_ok());
        assert_eq!(over(admit(&store, &k, NOW + 2, 0)), ("rpm", 30));
        // Refused requests are not counted: still refused, still 2.
        assert_eq!(over(admit(&store, &k, NOW + 3, 0)).0, "rpm");
        let counter = minute_key("k", NOW);
        assert_eq!(store.increment(&counter, 0), Some(2 << 32));
        // The next minute starts empty, and the minute before last goes.
        store.set(&minute_key("k", NOW - MINUTE_MS), b"1");
        assert!(admit(&store, &k, NOW + MINUTE_MS, 0).is_ok());
        assert!(store.get(&minute_key("k", NOW - MINUTE_MS)).is_none());
        assert!(store.data.borrow().len() == 2, "{:?}", store.data);
    }

    #[test]
    fn requests_in_flight_count_with_their_reservations() {
        // tpm 1000; each request reserves 150 and the first ones have not
        // ended yet: the seventh is admitted at 900, the eighth refused.
        let store = FakeStore::default();
        let k = key(None, Some(1000), None);
        let mut admitted = Vec::new();
        for i in 0..20 {
            if let Ok(r) = admit(&store, &k, NOW + i, 150) {
                admitted.push(r);
            }
        }
        assert_eq!(admitted.len(), 7);
        let counter = minute_key("k", NOW);
        assert_eq!(tokens_of(&store, &counter), 7 * 150);
        // Each settles to what it used (100): the minute holds 700 and
        // admits again.
        for r in &admitted {
            settle(&store, &k, r, 100, NOW + 30);
        }
        assert_eq!(tokens_of(&store, &counter), 700);
        assert!(admit(&store, &k, NOW + 31, 150).is_ok());
        assert_eq!(store.increment(&counter, 0).unwrap() >> 32, 8);
    }

    #[test]
    fn a_day_counter_holds_the_days_tokens_and_goes_after_two_days() {
        let store = FakeStore::default();
        let k = key(None, None, Some(3000));
        let day = day_key("k", NOW);
        assert_eq!(day, "llm-proxy/limit/k/day/2026-12-01");
        let old = day_key("k", NOW - 2 * DAY_MS);
        store.set(&old, b"x");
        let r = admit(&store, &k, NOW, 1000).unwrap();
        assert_eq!(r.day, Some(NOW / DAY_MS));
        assert_eq!(r.minute, None);
        // The day's first tokens deleted the day before yesterday's counter.
        assert!(store.get(&old).is_none());
        settle(&store, &k, &r, 2500, NOW + 10);
        assert_eq!(store.increment(&day, 0), Some(2500));
        let r = admit(&store, &k, NOW + 20, 100).unwrap();
        settle(&store, &k, &r, 600, NOW + 30);
        // 3100 used: refused until the next UTC day (11h59m00s away).
        let (limit, retry) = over(admit(&store, &k, NOW + 60_000, 10));
        assert_eq!(limit, "daily_tokens");
        assert_eq!(retry, 11 * 3600 + 58 * 60 + 30);
        assert_eq!(store.increment(&day, 0), Some(3100));
        assert!(admit(&store, &k, NOW + DAY_MS, 10).is_ok());
    }

    #[test]
    fn settling_after_the_minute_or_day_touches_nothing() {
        let store = FakeStore::default();
        let k = key(None, Some(1000), Some(10_000));
        let r = admit(&store, &k, NOW, 300).unwrap();
        let before = store.data.borrow().clone();
        settle(&store, &k, &r, 50, NOW + DAY_MS);
        assert_eq!(*store.data.borrow(), before);
        // Used as reserved: no store call at all.
        let r = admit(&store, &k, NOW, 300).unwrap();
        let before = store.data.borrow().clone();
        settle(&store, &k, &r, 300, NOW + 1);
        assert_eq!(*store.data.borrow(), before);
    }

    #[test]
    fn a_refused_day_undoes_the_minute() {
        let store = FakeStore::default();
        let k = key(Some(100), Some(10_000), Some(500));
        let r = admit(&store, &k, NOW, 600).unwrap();
        settle(&store, &k, &r, 600, NOW);
        assert_eq!(over(admit(&store, &k, NOW + 1, 10)).0, "daily_tokens");
        let counter = minute_key("k", NOW);
        // One request and its 600 tokens: the refused one left nothing.
        assert_eq!(store.increment(&counter, 0), Some((1 << 32) | 600));
        assert_eq!(store.increment(&day_key("k", NOW), 0), Some(600));
    }

    #[test]
    fn a_store_that_cannot_tell_is_a_refusal_not_a_free_pass() {
        let broken = FakeStore::broken();
        for k in [
            key(Some(1), None, None),
            key(None, Some(1), None),
            key(None, None, Some(1)),
        ] {
            assert_eq!(admit(&broken, &k, NOW, 1), Err(Refused::Store));
        }
    }

    #[test]
    fn a_key_without_limits_asks_nothing_and_rpm_counts_no_tokens() {
        let store = FakeStore::default();
        let r = admit(&store, &key(None, None, None), NOW, 500).unwrap();
        settle(&store, &key(None, None, None), &r, 50, NOW);
        assert!(store.data.borrow().is_empty());
        let k = key(Some(3), None, None);
        let r = admit(&store, &k, NOW, 500).unwrap();
        assert_eq!((r.minute, r.day), (None, None));
        settle(&store, &k, &r, 50, NOW);
        assert_eq!(store.increment(&minute_key("k", NOW), 0), Some(1 << 32));
    }

    #[test]
    fn huge_reservations_never_carry_into_the_request_count() {
        // Each request asks for 2^31 tokens against tpm 1000: the minute
        // holds at most the tpm of each, so the first fills the minute and
        // the others wait, however many come.
        let store = FakeStore::default();
        let k = key(None, Some(1000), None);
        let admitted = (0..6)
            .filter(|i| admit(&store, &k, NOW + i, 1 << 31).is_ok())
            .count();
        assert_eq!(admitted, 1);
        let packed = store.increment(&minute_key("k", NOW), 0).unwrap();
        assert_eq!((packed >> 32, packed & TOKENS), (1, 1000));
        assert!(crate::client_keys::parse(&format!(
            r#"[{{"name":"a","sha256":"{}","tpm":{}}}]"#,
            "0".repeat(64),
            MAX_TPM + 1
        ))
        .unwrap_err()
        .contains("'tpm' must be at most"));
    }

    #[test]
    fn estimates() {
        assert_eq!(estimate(300, Some(100), true), 200);
        assert_eq!(estimate(301, None, true), 101 + DEFAULT_OUTPUT_TOKENS);
        assert_eq!(estimate(300, Some(100), false), 100);
        assert_eq!(estimate(u64::MAX, Some(u64::MAX), true), MAX_TOKENS_DELTA);
    }
}
