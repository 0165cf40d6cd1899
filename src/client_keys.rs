//! Per-client keys: `PROXY_KEYS`, a JSON list of `{"name", "sha256",
//! "models", "gateways", "pass_through", "rpm", "tpm", "daily_tokens",
//! "expires"}`.
//! Settings hold only each key's SHA-256 (hex); a presented key is hashed
//! and compared with every entry in constant time. Pure: parsing, finding
//! the key, its model list and its expiry; the limits are counted elsewhere.

use crate::auth::constant_time_eq;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The usage name of the all-access key (`PROXY_API_KEY`).
pub const ALL_ACCESS: &str = "all-access";

/// The largest `tpm` a key may have: a minute counter's token half is 32
/// bits ([`crate::limits`]), and admission keeps it below `tpm` plus one
/// reservation (itself at most `tpm`), so it never carries into the request
/// half.
pub const MAX_TPM: u64 = 1_000_000_000;

/// One client's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKey {
    pub name: String,
    pub sha256: [u8; 32],
    /// Patterns: `provider/model`, `provider/*`, `*`, or a route name.
    /// Empty: every model (the entry left `models` out; `[]` is refused).
    pub models: Vec<String>,
    /// Gateway names the key may name with `/g/{name}/`.
    pub gateways: Vec<String>,
    /// Pass-through path prefixes (`/openai/v1/files`, `/openai`) the key may
    /// reach beyond a provider's inference and model-list endpoints.
    pub pass_through: Vec<String>,
    /// Requests per minute.
    pub rpm: Option<u64>,
    /// Tokens (input + output) per minute.
    pub tpm: Option<u64>,
    pub daily_tokens: Option<u64>,
    /// Unix seconds after which the key is refused.
    pub expires: Option<i64>,
}

impl ClientKey {
    /// Whether any limit is set (such a key needs a shared store).
    pub fn has_limits(&self) -> bool {
        self.rpm.is_some() || self.tpm.is_some() || self.daily_tokens.is_some()
    }

    /// Whether the key has expired at `now_ms`.
    pub fn expired(&self, now_ms: u64) -> bool {
        self.expires
            .is_some_and(|e| (now_ms / 1000) as i128 >= i128::from(e))
    }

    /// Whether any token limit is set (each request's tokens are reserved
    /// and settled, and its usage must be readable).
    pub fn limits_tokens(&self) -> bool {
        self.tpm.is_some() || self.daily_tokens.is_some()
    }

    /// Whether the key may use the model route `name`: listed by its exact
    /// name, or `*` (`openai/*` never opens a route, whatever its name).
    pub fn allows_route(&self, name: &str) -> bool {
        self.models.is_empty() || self.models.iter().any(|p| p == "*" || p == name)
    }

    /// Whether the key may use `model` (a `provider/model`) as the client
    /// named it. Routes are checked with [`ClientKey::allows_route`].
    pub fn allows(&self, model: &str) -> bool {
        if self.models.is_empty() {
            return true;
        }
        self.models.iter().any(|p| {
            p == "*"
                || p == model
                || p.strip_suffix("/*")
                    .is_some_and(|prefix| model.split_once('/').is_some_and(|(pr, _)| pr == prefix))
        })
    }
}

/// Who sent a request: the all-access key (`PROXY_API_KEY`), `DEV` mode
/// without a key, or a client key from `PROXY_KEYS`. `name` is the name its
/// usage is counted under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    /// The client key; `None` for all access.
    pub key: Option<ClientKey>,
}

impl Caller {
    pub fn all_access() -> Caller {
        Caller {
            name: ALL_ACCESS.into(),
            key: None,
        }
    }

    /// `DEV=true` and no key presented.
    pub fn dev() -> Caller {
        Caller {
            name: "dev".into(),
            key: None,
        }
    }

    pub fn client(key: ClientKey) -> Caller {
        Caller {
            name: key.name.clone(),
            key: Some(key),
        }
    }

    /// Whether the caller may use `model` (all access may use any).
    pub fn allows(&self, model: &str) -> bool {
        self.key.as_ref().is_none_or(|k| k.allows(model))
    }

    /// Whether the caller may use the model route `name`.
    pub fn allows_route(&self, name: &str) -> bool {
        self.key.as_ref().is_none_or(|k| k.allows_route(name))
    }

    /// Whether the caller's model list is restricted at all.
    pub fn restricted(&self) -> bool {
        self.key.as_ref().is_some_and(|k| !k.models.is_empty())
    }
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// `expires`: unix seconds, or an RFC 3339 date-time.
fn expiry(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => {
            time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
                .ok()
                .map(|t| t.unix_timestamp())
        }
        _ => None,
    }
}

fn key(i: usize, v: &Value) -> Result<ClientKey, String> {
    let o = v
        .as_object()
        .ok_or_else(|| format!("entry {i} must be an object"))?;
    let name = o
        .get("name")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| format!("entry {i} needs a 'name'"))?
        .to_string();
    // Errors say the entry's index, never its name nor anything else in
    // it: they reach callers not yet authenticated, a name is its holder's,
    // and any field may be a pasted key.
    if o.keys().any(|k| {
        !matches!(
            k.as_str(),
            "name"
                | "sha256"
                | "models"
                | "gateways"
                | "pass_through"
                | "rpm"
                | "tpm"
                | "daily_tokens"
                | "expires"
        )
    }) {
        return Err(format!("entry {i} has an unknown field"));
    }
    // The error never echoes the hash (it may be a pasted plaintext key).
    let sha256 = o
        .get("sha256")
        .and_then(Value::as_str)
        .and_then(hex32)
        .ok_or_else(|| format!("entry {i}: 'sha256' must be the key's SHA-256 as 64 hex digits"))?;
    let strings = |field: &str| -> Result<Option<Vec<String>>, String> {
        match o.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|m| m.as_str().map(|s| s.trim().to_string()))
                .collect::<Option<Vec<_>>>()
                .map(Some)
                .ok_or_else(|| format!("entry {i}: '{field}' must be a list of strings")),
            Some(_) => Err(format!("entry {i}: '{field}' must be a list of strings")),
        }
    };
    let models = match strings("models")? {
        None => Vec::new(),
        Some(m) if m.is_empty() => {
            return Err(format!(
                "entry {i}: 'models' is empty; list the models and routes it may use, \
                 or leave 'models' out for every one"
            ))
        }
        Some(m) => m,
    };
    let gateways = strings("gateways")?.unwrap_or_default();
    if let Some(j) = gateways.iter().position(|g| !crate::gateway::valid_name(g)) {
        return Err(format!(
            "entry {i}: 'gateways' item {j} must match [A-Za-z0-9_-]{{1,64}}"
        ));
    }
    let pass_through = strings("pass_through")?.unwrap_or_default();
    if let Some(j) = pass_through.iter().position(|p| !valid_prefix(p)) {
        return Err(format!(
            "entry {i}: 'pass_through' item {j} must be a path like '/openai/v1/files' \
             (a leading '/', then the provider, no '.', '..', '%', '?' or '*')"
        ));
    }
    let limit = |field: &str| -> Result<Option<u64>, String> {
        match o.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .filter(|&n| n > 0)
                .map(Some)
                .ok_or_else(|| format!("entry {i}: '{field}' must be a positive integer")),
        }
    };
    let expires = match o.get("expires") {
        None | Some(Value::Null) => None,
        Some(v) => Some(expiry(v).ok_or_else(|| {
            format!("entry {i}: 'expires' must be unix seconds or an RFC 3339 date-time")
        })?),
    };
    Ok(ClientKey {
        name,
        sha256,
        models,
        gateways,
        pass_through: pass_through
            .into_iter()
            .map(|p| p.trim_end_matches('/').to_string())
            .collect(),
        rpm: limit("rpm")?,
        tpm: match limit("tpm")? {
            Some(t) if t > MAX_TPM => {
                return Err(format!(
                    "entry {i}: 'tpm' must be at most {} (tokens per minute)",
                    MAX_TPM
                ))
            }
            t => t,
        },
        daily_tokens: limit("daily_tokens")?,
        expires,
    })
}

/// A `pass_through` grant: `/{provider}` or a path below it, plain
/// segments only.
fn valid_prefix(p: &str) -> bool {
    let Some(rest) = p.strip_prefix('/') else {
        return false;
    };
    let rest = rest.trim_end_matches('/');
    !rest.is_empty()
        && rest.split('/').all(|s| {
            !s.is_empty()
                && s != "."
                && s != ".."
                && s.bytes().all(|b| {
                    b.is_ascii_graphic() && !matches!(b, b'%' | b'?' | b'#' | b'*' | b'\\')
                })
        })
}

/// Parses `PROXY_KEYS`; names must be unique.
pub fn parse(raw: &str) -> Result<Vec<ClientKey>, String> {
    let v: Value = serde_json::from_str(raw.trim()).map_err(|e| {
        format!(
            "must be a JSON list of keys ({})",
            crate::settings::json_problem(&e)
        )
    })?;
    let Value::Array(items) = v else {
        return Err("must be a JSON list of keys".into());
    };
    let keys = items
        .iter()
        .enumerate()
        .map(|(i, v)| key(i, v))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, k) in keys.iter().enumerate() {
        if let Some(j) = keys[..i].iter().position(|o| o.name == k.name) {
            return Err(format!("entries {j} and {i} have the same name"));
        }
    }
    Ok(keys)
}

/// The key among `keys` whose hash is one of the presented candidates'.
/// Every candidate is compared with every entry, whatever matches.
pub fn find<'a>(keys: &'a [ClientKey], candidates: &[Vec<u8>]) -> Option<&'a ClientKey> {
    let hashes: Vec<[u8; 32]> = candidates
        .iter()
        .map(|c| Sha256::digest(c).into())
        .collect();
    let mut found = None;
    for k in keys {
        let mut hit = false;
        for h in &hashes {
            hit |= constant_time_eq(h, &k.sha256);
        }
        if hit && found.is_none() {
            found = Some(k);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha(key: &str) -> String {
        Sha256::digest(key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn keys() -> Vec<ClientKey> {
        let raw = serde_json::json!([
            {"name": "alice", "sha256": sha("sk-alice"), "models": ["openai/*", "smart"], "rpm": 60,
             "expires": "2027-01-01T00:00:00Z"},
            {"name": "ci", "sha256": sha("sk-ci").to_uppercase(), "tpm": 10000, "daily_tokens": 1000000,
             "expires": 1790000000},
            {"name": "all", "sha256": sha("sk-all")}
        ]);
        parse(&raw.to_string()).unwrap()
    }

    #[test]
    fn a_presented_key_is_found_by_its_hash() {
        let keys = keys();
        let found = |c: &[&str]| {
            let c: Vec<Vec<u8>> = c.iter().map(|s| s.as_bytes().to_vec()).collect();
            find(&keys, &c).map(|k| k.name.as_str())
        };
        assert_eq!(found(&["sk-alice"]), Some("alice"));
        assert_eq!(found(&["wrong", "sk-ci"]), Some("ci"));
        assert_eq!(found(&["sk-alic"]), None);
        assert_eq!(found(&[]), None);
        assert!(keys[0].has_limits() && keys[1].has_limits() && !keys[2].has_limits());
    }

    #[test]
    fn models_and_expiry() {
        let keys = keys();
        let alice = &keys[0];
        assert!(alice.allows("openai/gpt-4o"));
        assert!(alice.allows("smart"));
        assert!(!alice.allows("anthropic/claude-sonnet-4-5"));
        assert!(!alice.allows("openai-compat/x"));
        assert!(!alice.allows("fast"));
        assert!(keys[2].allows("anything/at-all"));
        // 2027-01-01T00:00:00Z is 1798761600.
        assert!(!alice.expired(1_798_761_599_000));
        assert!(alice.expired(1_798_761_600_000));
        assert!(!keys[2].expired(u64::MAX));
        assert!(keys[1].expired(1_790_000_000_000));
    }

    #[test]
    fn mistakes_are_named_and_never_echo_the_hash() {
        let pasted = "sk-live-this-is-a-plaintext-key";
        for (raw, needle) in [
            (r#"{"name":"a"}"#.to_string(), "JSON list"),
            (r#"[{"sha256":"00"}]"#.to_string(), "needs a 'name'"),
            (
                format!(r#"[{{"name":"a","sha256":"{pasted}"}}]"#),
                "64 hex digits",
            ),
            (
                format!(r#"[{{"name":"a","sha256":"{}","rpm":0}}]"#, sha("k")),
                "'rpm' must be a positive",
            ),
            (
                format!(
                    r#"[{{"name":"a","sha256":"{}","models":"openai/*"}}]"#,
                    sha("k")
                ),
                "list of strings",
            ),
            (
                format!(
                    r#"[{{"name":"a","sha256":"{}","expires":"tomorrow"}}]"#,
                    sha("k")
                ),
                "RFC 3339",
            ),
            (
                format!(r#"[{{"name":"a","sha256":"{}","key":"x"}}]"#, sha("k")),
                "unknown field",
            ),
            (
                format!(
                    r#"[{{"name":"a","sha256":"{0}"}},{{"name":"a","sha256":"{0}"}}]"#,
                    sha("k")
                ),
                "the same name",
            ),
        ] {
            let e = parse(&raw).unwrap_err();
            assert!(e.contains(needle), "{raw}: {e}");
            assert!(!e.contains(pasted), "{e}");
        }
    }
}
