//! Failover across keys (SPEC §7): which failed attempts are retried, how
//! long to wait, and how long a key cools down. Plain functions of their
//! inputs; the edge performs the attempts.

use crate::settings::{self, SettingSource};

/// Request bodies up to this size are kept for replay; larger ones are sent once.
pub const REPLAY_LIMIT: usize = 10 * 1024 * 1024;
/// Longest wait between attempts, whatever `Retry-After` says.
pub const MAX_WAIT_MS: u64 = 10_000;
/// First backoff step when the provider gives no `Retry-After`.
pub const BASE_BACKOFF_MS: u64 = 200;
/// Cooldown of a key that got 429/401/403 without a `Retry-After`.
pub const DEFAULT_COOLDOWN_MS: u64 = 60_000;
/// Most extra attempts `RETRY` may ask for.
pub const MAX_RETRIES: u32 = 10;

/// `RETRY`: extra attempts after the first (default 0).
pub fn retries(src: &dyn SettingSource) -> u32 {
    settings::value(src, "RETRY")
        .and_then(|r| r.trim().parse::<u32>().ok())
        .unwrap_or(0)
        .min(MAX_RETRIES)
}

/// How an attempt ended before anything reached the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The upstream answered with this status.
    Status(u16),
    /// Connection refused, DNS failure, reset, ...
    Unreachable,
    /// No first byte within `UPSTREAM_TIMEOUT_SECONDS`.
    Timeout,
}

/// Whether another attempt (with the next key) is worth it.
pub fn retryable(outcome: Outcome, key_count: usize) -> bool {
    match outcome {
        Outcome::Unreachable | Outcome::Timeout => true,
        Outcome::Status(429) => true,
        Outcome::Status(s) if s >= 500 => true,
        Outcome::Status(401) | Outcome::Status(403) => key_count > 1,
        Outcome::Status(_) => false,
    }
}

/// `Retry-After` as milliseconds from `now_ms`: delta-seconds or an HTTP-date.
pub fn parse_retry_after(value: &str, now_ms: u64) -> Option<u64> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(secs.saturating_mul(1000));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    let when_ms = when.duration_since(std::time::UNIX_EPOCH).ok()?.as_millis() as u64;
    Some(when_ms.saturating_sub(now_ms))
}

/// How long to wait before attempt number `failures + 1`: `Retry-After`
/// (capped at 10 s), else exponential backoff from 200 ms with jitter
/// (between half and all of the step).
pub fn wait_ms(failures: u32, retry_after: Option<&str>, now_ms: u64, random: u64) -> u64 {
    if let Some(ms) = retry_after.and_then(|v| parse_retry_after(v, now_ms)) {
        return ms.min(MAX_WAIT_MS);
    }
    let step = BASE_BACKOFF_MS
        .saturating_mul(1u64 << failures.saturating_sub(1).min(16))
        .min(MAX_WAIT_MS);
    let half = step / 2;
    half + random % (step - half + 1)
}

/// Until when (unix ms) a key cools down after `outcome`, if it should.
pub fn cooldown_until(outcome: Outcome, retry_after: Option<&str>, now_ms: u64) -> Option<u64> {
    match outcome {
        Outcome::Status(429) | Outcome::Status(401) | Outcome::Status(403) => {
            let ms = retry_after
                .and_then(|v| parse_retry_after(v, now_ms))
                .unwrap_or(DEFAULT_COOLDOWN_MS);
            // `ms` is the upstream's Retry-After: any size.
            Some(now_ms.saturating_add(ms.max(1)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_retried() {
        assert!(retryable(Outcome::Unreachable, 1));
        assert!(retryable(Outcome::Timeout, 1));
        assert!(retryable(Outcome::Status(429), 1));
        assert!(retryable(Outcome::Status(500), 1));
        assert!(retryable(Outcome::Status(503), 1));
        assert!(!retryable(Outcome::Status(401), 1));
        assert!(retryable(Outcome::Status(401), 2));
        assert!(retryable(Outcome::Status(403), 3));
        assert!(!retryable(Outcome::Status(400), 3));
        assert!(!retryable(Outcome::Status(404), 3));
        assert!(!retryable(Outcome::Status(200), 3));
    }

    #[test]
    fn retry_after_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("3", 0), Some(3000));
        // Sun, 06 Nov 1994 08:49:37 GMT = 784111777 s.
        let now = 784_111_777_000 - 5_000;
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
            Some(5000)
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now + 9_000),
            Some(0)
        );
        assert_eq!(parse_retry_after("soon", 0), None);
    }

    #[test]
    fn backoff_schedule() {
        assert_eq!(wait_ms(1, Some("2"), 0, 0), 2000);
        assert_eq!(wait_ms(1, Some("60"), 0, 0), MAX_WAIT_MS);
        for (failures, step) in [(1, 200), (2, 400), (3, 800), (4, 1600)] {
            for r in [0, 1, 77, u64::MAX] {
                let w = wait_ms(failures, None, 0, r);
                assert!(w >= step / 2 && w <= step, "{failures}: {w}");
            }
        }
        assert!(wait_ms(30, None, 0, 5) <= MAX_WAIT_MS);
        assert_ne!(wait_ms(3, None, 0, 1), wait_ms(3, None, 0, 300), "jitter");
    }

    #[test]
    fn cooldowns() {
        assert_eq!(
            cooldown_until(Outcome::Status(429), Some("5"), 1000),
            Some(6000)
        );
        assert_eq!(
            cooldown_until(Outcome::Status(429), None, 1000),
            Some(61_000)
        );
        assert_eq!(cooldown_until(Outcome::Status(401), None, 0), Some(60_000));
        assert_eq!(cooldown_until(Outcome::Status(500), Some("5"), 0), None);
        assert_eq!(cooldown_until(Outcome::Timeout, None, 0), None);
    }

    #[test]
    fn a_retry_after_of_any_size_saturates() {
        // The upstream's number, whatever it is: no overflow.
        let huge = Some("18446744073709551615");
        assert_eq!(
            cooldown_until(Outcome::Status(429), huge, 1000),
            Some(u64::MAX)
        );
        assert_eq!(wait_ms(1, huge, 1000, 0), MAX_WAIT_MS);
    }

    #[test]
    fn retry_setting() {
        let s: std::collections::HashMap<String, String> =
            [("RETRY".to_string(), "99".to_string())].into();
        assert_eq!(retries(&s), MAX_RETRIES);
        assert_eq!(retries(&std::collections::HashMap::new()), 0);
    }
}
