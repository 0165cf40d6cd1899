//! Proxy authentication (SPEC §2.3): where the proxy key may come from and a
//! constant-time comparison against every configured proxy key.

use crate::request::RequestHead;
use crate::url;

/// Every proxy-key candidate the client sent: `Authorization` (`Bearer X` or
/// bare `X`), `x-api-key`, `x-goog-api-key`, and the `key` query parameter.
pub fn candidates(head: &RequestHead) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (name, value) in &head.headers {
        match name.as_str() {
            "authorization" => {
                let v = trim_bytes(value);
                let v = if v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer ") {
                    trim_bytes(&v[7..])
                } else {
                    v
                };
                out.push(v.to_vec());
            }
            "x-api-key" | "x-goog-api-key" => out.push(trim_bytes(value).to_vec()),
            _ => {}
        }
    }
    if let Some(k) = url::key_param(&head.query) {
        out.push(k.into_bytes());
    }
    out.retain(|c| !c.is_empty());
    out
}

fn trim_bytes(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    // safe: start <= end <= len (a last non-space exists iff a first one does,
    // at or after it; with none, both are len).
    &v[start..end]
}

/// True when any candidate equals any configured key. Every pair is compared
/// in full, so the time taken does not depend on where a mismatch is.
pub fn authorized(candidates: &[Vec<u8>], keys: &[String]) -> bool {
    let mut ok = 0u8;
    for c in candidates {
        for k in keys {
            ok |= constant_time_eq(c, k.as_bytes()) as u8;
        }
    }
    ok == 1
}

/// Compares two byte strings without an early exit on the first difference.
/// (Only the lengths can be learned from timing.)
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u64;
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0xff);
        diff |= u64::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(headers: &[(&str, &str)], query: &str) -> RequestHead {
        RequestHead::new(
            "GET",
            &format!("/openai/v1/models?{query}"),
            headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                .collect(),
        )
    }

    #[test]
    fn accepts_every_documented_form() {
        let keys = vec!["k1".to_string(), "k2".to_string()];
        for h in [
            head(&[("Authorization", "Bearer k1")], ""),
            head(&[("authorization", "bearer   k2 ")], ""),
            head(&[("Authorization", "k1")], ""),
            head(&[("x-api-key", "k2")], ""),
            head(&[("x-goog-api-key", "k1")], ""),
            head(&[], "alt=sse&key=k2"),
        ] {
            assert!(authorized(&candidates(&h), &keys), "{h:?}");
        }
    }

    #[test]
    fn refuses_wrong_missing_and_prefix_keys() {
        let keys = vec!["k1".to_string()];
        for h in [
            head(&[("Authorization", "Bearer k")], ""),
            head(&[("Authorization", "Bearer k1x")], ""),
            head(&[("Authorization", "Bearer ")], ""),
            head(&[], ""),
            head(&[], "key="),
        ] {
            assert!(!authorized(&candidates(&h), &keys), "{h:?}");
        }
        assert!(!authorized(
            &candidates(&head(&[("x-api-key", "k1")], "")),
            &[]
        ));
    }

    #[test]
    fn constant_time_eq_is_plain_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"", b"\xff"));
        assert!(constant_time_eq(b"", b""));
    }
}
