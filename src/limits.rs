//! A client key's limits (`rpm`, `tpm`, `daily_tokens`), counted in the
//! shared key-value store so every instance on one store agrees.
//!
//! One counter per key and minute, `llm-proxy/limit/{name}/{unix minute}`,
//! holds `requests << 32 | tokens`. A request is admitted with one atomic
//! increment of its request half (undone when it is refused), which also
//! tells this minute's tokens; `daily_tokens` reads today's usage counters
//! ([`crate::accounting`]). An answer's tokens are added at the end, and only
//! for a key with `tpm`. The first request of a minute deletes the counter of
//! the minute before last, so the store holds at most two per key.

use crate::client_keys::ClientKey;
use crate::host::KeyValue;

pub const MINUTE_MS: u64 = 60_000;
pub const DAY_MS: u64 = 86_400_000;
/// One request in a minute counter.
const REQUEST: i64 = 1 << 32;
const TOKENS: i64 = (1 << 32) - 1;

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

/// The store key of `name`'s counter for the minute of `now_ms`.
pub fn minute_key(name: &str, now_ms: u64) -> String {
    format!("llm-proxy/limit/{name}/{}", now_ms / MINUTE_MS)
}

/// Seconds from `now_ms` to the next minute and the next UTC day.
fn to_next(now_ms: u64) -> (u64, u64) {
    (
        (MINUTE_MS - now_ms % MINUTE_MS).div_ceil(1000),
        (DAY_MS - now_ms % DAY_MS).div_ceil(1000),
    )
}

/// Admits one request of `key` at `now_ms` (a key without limits asks the
/// store nothing). `day_tokens`: today's tokens so far, asked only for a
/// key with `daily_tokens`.
pub fn admit(
    store: &dyn KeyValue,
    key: &ClientKey,
    now_ms: u64,
    day_tokens: impl FnOnce() -> Option<u64>,
) -> Result<(), Refused> {
    let (to_minute, to_day) = to_next(now_ms);
    if let Some(limit) = key.daily_tokens {
        let used = day_tokens().ok_or(Refused::Store)?;
        if used >= limit {
            return Err(Refused::Over {
                limit: "daily_tokens",
                value: limit,
                retry_after: to_day,
            });
        }
    }
    if key.rpm.is_none() && key.tpm.is_none() {
        return Ok(());
    }
    let counter = minute_key(&key.name, now_ms);
    let packed = store.increment(&counter, REQUEST).ok_or(Refused::Store)?;
    let (requests, tokens) = ((packed >> 32).max(0) as u64, (packed & TOKENS) as u64);
    let over = match (key.rpm, key.tpm) {
        (Some(rpm), _) if requests > rpm => Some(("rpm", rpm)),
        (_, Some(tpm)) if tokens >= tpm => Some(("tpm", tpm)),
        _ => None,
    };
    if let Some((limit, value)) = over {
        store.increment(&counter, -REQUEST);
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
    Ok(())
}

/// Adds an answer's tokens to this minute's counter of a key with `tpm`
/// (the request's minute: a long answer counts where it began).
pub fn add_tokens(store: &dyn KeyValue, key: &ClientKey, began_ms: u64, tokens: u64) {
    if key.tpm.is_none() || tokens == 0 {
        return;
    }
    let tokens = i64::try_from(tokens.min(TOKENS as u64)).unwrap_or(TOKENS);
    store.increment(&minute_key(&key.name, began_ms), tokens);
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
            rpm,
            tpm,
            daily_tokens: daily,
            expires: None,
        }
    }

    /// 2026-12-01T12:00:30Z.
    const NOW: u64 = 1_796_126_430_000;

    fn over(r: Result<(), Refused>) -> (&'static str, u64) {
        match r {
            Err(Refused::Over {
                limit, retry_after, ..
            }) => (limit, retry_after),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_request_over_the_limit_waits_for_the_next_minute() {
        let store = FakeStore::default();
        let k = key(Some(2), None, None);
        let none = || None;
        assert_eq!(admit(&store, &k, NOW, none), Ok(()));
        assert_eq!(admit(&store, &k, NOW + 1, none), Ok(()));
        assert_eq!(over(admit(&store, &k, NOW + 2, none)), ("rpm", 30));
        // Refused requests are not counted: still refused, still 2.
        assert_eq!(over(admit(&store, &k, NOW + 3, none)).0, "rpm");
        let counter = minute_key("k", NOW);
        assert_eq!(store.increment(&counter, 0), Some(2 << 32));
        // The next minute starts empty, and the minute before last goes.
        store.set(&minute_key("k", NOW - MINUTE_MS), b"1");
        assert_eq!(admit(&store, &k, NOW + MINUTE_MS, none), Ok(()));
        assert!(store.get(&minute_key("k", NOW - MINUTE_MS)).is_none());
        assert!(store.data.borrow().len() == 2, "{:?}", store.data);
    }

    #[test]
    fn tokens_count_per_minute_and_days_from_usage() {
        let store = FakeStore::default();
        let k = key(None, Some(100), Some(150));
        assert_eq!(admit(&store, &k, NOW, || Some(0)), Ok(()));
        add_tokens(&store, &k, NOW, 120);
        // The minute is full: the next request waits for the next minute.
        assert_eq!(over(admit(&store, &k, NOW + 20, || Some(120))).0, "tpm");
        assert_eq!(admit(&store, &k, NOW + 60_000, || Some(120)), Ok(()));
        let (limit, retry) = over(admit(&store, &k, NOW + 120_000, || Some(160)));
        assert_eq!(limit, "daily_tokens");
        // 2026-12-02T00:00:00Z is 11h57m30s after NOW + 120 s.
        assert_eq!(retry, 11 * 3600 + 57 * 60 + 30);
        // A store that cannot tell is a refusal, not a free pass.
        assert_eq!(admit(&store, &k, NOW, || None), Err(Refused::Store));
        let broken = FakeStore::broken();
        let k = key(Some(1), None, None);
        assert_eq!(admit(&broken, &k, NOW, || None), Err(Refused::Store));
    }

    #[test]
    fn a_key_without_limits_asks_nothing() {
        let store = FakeStore::default();
        assert_eq!(admit(&store, &key(None, None, None), NOW, || None), Ok(()));
        add_tokens(&store, &key(Some(3), None, None), NOW, 50);
        assert!(store.data.borrow().is_empty());
    }
}
