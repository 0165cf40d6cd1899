//! A client key's limits over time (issue 20, not yet routed): one small
//! record per key — this minute's requests and tokens, today's tokens —
//! read, checked and written back once per request by the edge through the
//! key-value store (shared by every instance on one store). Pure: the
//! record's bytes, rolling it to the current minute and day, admitting a
//! request, and adding the tokens an answer used.

use crate::client_keys::ClientKey;
use serde::{Deserialize, Serialize};

const MINUTE_MS: u64 = 60_000;
const DAY_MS: u64 = 86_400_000;

/// The counters of one key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Unix minute (ms / 60 000) the minute counters are for.
    pub minute: u64,
    pub requests: u64,
    pub tokens: u64,
    /// Unix day (UTC) `day_tokens` is for.
    pub day: u64,
    pub day_tokens: u64,
}

/// Why a request was refused, and when to come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused {
    /// `rpm`, `tpm` or `daily_tokens`.
    pub limit: &'static str,
    /// Seconds until the window that is full has passed (`Retry-After`).
    pub retry_after: u64,
}

impl Window {
    /// A stored record; anything unreadable counts as an empty one (a
    /// record never blocks a key because it was garbled).
    pub fn parse(bytes: Option<&[u8]>) -> Window {
        bytes
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or_default()
    }

    pub fn to_bytes(self) -> Vec<u8> {
        serde_json::to_vec(&self).unwrap_or_default()
    }

    /// The counters as they stand at `now_ms`: a past minute or day counts
    /// nothing any more.
    pub fn at(self, now_ms: u64) -> Window {
        let (minute, day) = (now_ms / MINUTE_MS, now_ms / DAY_MS);
        let mut w = self;
        if w.minute != minute {
            (w.minute, w.requests, w.tokens) = (minute, 0, 0);
        }
        if w.day != day {
            (w.day, w.day_tokens) = (day, 0);
        }
        w
    }

    /// Admits one request of `key` at `now_ms`: the record with it counted,
    /// or why not (a full token window refuses the next request, not the
    /// one that filled it).
    pub fn admit(self, key: &ClientKey, now_ms: u64) -> Result<Window, Refused> {
        let w = self.at(now_ms);
        let to_minute = (MINUTE_MS - now_ms % MINUTE_MS).div_ceil(1000);
        let to_day = (DAY_MS - now_ms % DAY_MS).div_ceil(1000);
        let full = |limit: Option<u64>, used: u64| limit.is_some_and(|l| used >= l);
        if full(key.rpm, w.requests) {
            return Err(Refused {
                limit: "rpm",
                retry_after: to_minute,
            });
        }
        if full(key.tpm, w.tokens) {
            return Err(Refused {
                limit: "tpm",
                retry_after: to_minute,
            });
        }
        if full(key.daily_tokens, w.day_tokens) {
            return Err(Refused {
                limit: "daily_tokens",
                retry_after: to_day,
            });
        }
        Ok(Window {
            requests: w.requests.saturating_add(1),
            ..w
        })
    }

    /// The record with an answer's `tokens` (input + output) added.
    pub fn add_tokens(self, tokens: u64, now_ms: u64) -> Window {
        let w = self.at(now_ms);
        Window {
            tokens: w.tokens.saturating_add(tokens),
            day_tokens: w.day_tokens.saturating_add(tokens),
            ..w
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn the_request_over_the_limit_waits_for_the_next_minute() {
        let k = key(Some(2), None, None);
        let w = Window::default().admit(&k, NOW).unwrap();
        let w = w.admit(&k, NOW + 1).unwrap();
        assert_eq!(w.requests, 2);
        let e = w.admit(&k, NOW + 2).unwrap_err();
        assert_eq!(e.limit, "rpm");
        assert_eq!(e.retry_after, 30);
        // The next minute starts empty.
        let w = w.admit(&k, NOW + 30_000).unwrap();
        assert_eq!(w.requests, 1);
    }

    #[test]
    fn tokens_count_per_minute_and_per_day() {
        let k = key(None, Some(100), Some(150));
        let w = Window::default().admit(&k, NOW).unwrap();
        let w = w.add_tokens(120, NOW + 10);
        // The minute is full: the next request waits for the next minute.
        assert_eq!(w.admit(&k, NOW + 20).unwrap_err().limit, "tpm");
        let w = w
            .admit(&k, NOW + 60_000)
            .unwrap()
            .add_tokens(40, NOW + 60_001);
        assert_eq!((w.tokens, w.day_tokens), (40, 160));
        let e = w.admit(&k, NOW + 120_000).unwrap_err();
        assert_eq!(e.limit, "daily_tokens");
        // 2026-12-02T00:00:00Z is 11h57m30s after NOW + 120 s.
        assert_eq!(e.retry_after, 11 * 3600 + 57 * 60 + 30);
        assert!(w.admit(&k, NOW + 12 * 3_600_000).is_ok());
    }

    #[test]
    fn records_survive_the_store_and_garbage_counts_nothing() {
        let w = Window::default()
            .admit(&key(Some(5), None, None), NOW)
            .unwrap()
            .add_tokens(7, NOW);
        assert_eq!(Window::parse(Some(&w.to_bytes())), w);
        assert_eq!(Window::parse(Some(b"{not json")), Window::default());
        assert_eq!(Window::parse(None), Window::default());
        // No limits: always admitted, counters saturate.
        let mut w = Window {
            minute: NOW / MINUTE_MS,
            requests: u64::MAX,
            tokens: u64::MAX,
            day: NOW / DAY_MS,
            day_tokens: u64::MAX,
        };
        w = w
            .admit(&key(None, None, None), NOW)
            .unwrap()
            .add_tokens(9, NOW);
        assert_eq!((w.requests, w.tokens), (u64::MAX, u64::MAX));
    }
}
