//! Base URLs and the path/query rules of pass-through (SPEC §3).
//!
//! Upstream requests are built from separate scheme, authority and
//! path-with-query (as wasi:http takes them), so nothing in a client's path or
//! query can change the upstream host.

/// `http` or `https`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// A provider's base URL split the way an outbound request needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    pub scheme: Scheme,
    /// `host[:port]`.
    pub authority: String,
    /// The base path without a trailing `/` (`""` or `/v1`).
    pub path: String,
}

impl BaseUrl {
    /// Parses `scheme://host[:port][/path]`. The error never repeats the value
    /// (a misconfigured URL may hold a credential).
    pub fn parse(raw: &str) -> Result<BaseUrl, String> {
        let raw = raw.trim();
        let (scheme, rest) = raw
            .split_once("://")
            .ok_or_else(|| "must start with http:// or https://".to_string())?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            _ => return Err("must start with http:// or https://".into()),
        };
        if rest.contains(['?', '#']) {
            return Err("must not have a query or fragment".into());
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let authority_ok = !authority.is_empty()
            && authority
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b));
        if !authority_ok {
            return Err("has an invalid host".into());
        }
        if path.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'\\') {
            return Err("has an invalid path".into());
        }
        Ok(BaseUrl {
            scheme,
            authority: authority.to_string(),
            path: path.trim_end_matches('/').to_string(),
        })
    }

    /// `scheme://authority`.
    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme.as_str(), self.authority)
    }

    /// The full URL for logs and tests.
    pub fn url(&self, path_with_query: &str) -> String {
        format!("{}{}", self.origin(), path_with_query)
    }

    /// Joins a client's `rest` (starting with `/`, or empty) to this base: the
    /// base path is not doubled when `rest` already starts with it.
    pub fn join_path(&self, rest: &str) -> String {
        let rest = if rest.is_empty() { "/" } else { rest };
        if self.path.is_empty() || has_path_prefix(rest, &self.path) {
            rest.to_string()
        } else if rest == "/" {
            self.path.clone()
        } else {
            format!("{}{}", self.path, rest)
        }
    }
}

/// `path` equals `prefix` or continues it at a segment boundary.
fn has_path_prefix(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|tail| tail.is_empty() || tail.starts_with('/'))
}

/// Refuses `.`/`..` segments, raw or percent-encoded, backslashes, and
/// characters that are not allowed in a request target.
pub fn check_rest(rest: &str) -> Result<(), &'static str> {
    if rest
        .bytes()
        .any(|b| b <= b' ' || b == 0x7f || b == b'\\' || b == b'#')
    {
        return Err("path contains a character that is not allowed");
    }
    for segment in rest.split('/') {
        let decoded = percent_decode(segment);
        // `%2f` hides a segment boundary: check what it decodes to, too.
        for part in decoded.split(|b| *b == b'/' || *b == b'\\') {
            if part == b"." || part == b".." {
                return Err("path must not contain '.' or '..' segments");
            }
        }
    }
    Ok(())
}

/// Decodes `%XX` escapes; malformed escapes stay as they are.
pub fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    // safe: every index is below bytes.len() (`i < len`, `i + 2 < len`).
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

/// Removes every `key` parameter (the proxy key) from a raw query string,
/// keeping the others byte for byte.
pub fn strip_key_param(query: &str) -> String {
    query
        .split('&')
        .filter(|p| !p.is_empty() && query_param_name(p) != b"key")
        .collect::<Vec<_>>()
        .join("&")
}

/// `query` without the parameters whose decoded names `drop` says; the
/// decoded names removed, in order, once each.
pub fn strip_params(query: &str, drop: impl Fn(&[u8]) -> bool) -> (String, Vec<String>) {
    let mut removed: Vec<String> = Vec::new();
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| {
            if p.is_empty() {
                return false;
            }
            let name = query_param_name(p);
            if !drop(&name) {
                return true;
            }
            let name = String::from_utf8_lossy(&name).into_owned();
            if !removed.contains(&name) {
                removed.push(name);
            }
            false
        })
        .collect();
    (kept.join("&"), removed)
}

/// The decoded name of a `name=value` query pair.
fn query_param_name(pair: &str) -> Vec<u8> {
    let name = pair.split('=').next().unwrap_or_default();
    percent_decode(&name.replace('+', " "))
}

/// The decoded value of the first `key` query parameter.
pub fn key_param(query: &str) -> Option<String> {
    query
        .split('&')
        .find(|p| query_param_name(p) == b"key")
        .map(|p| {
            let value = p.split_once('=').map(|(_, v)| v).unwrap_or_default();
            String::from_utf8_lossy(&percent_decode(&value.replace('+', " "))).into_owned()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> BaseUrl {
        BaseUrl::parse(s).unwrap()
    }

    #[test]
    fn parses_base_urls() {
        let b = base("https://api.openai.com/v1/");
        assert_eq!(b.scheme, Scheme::Https);
        assert_eq!(b.authority, "api.openai.com");
        assert_eq!(b.path, "/v1");
        assert_eq!(base("http://127.0.0.1:8080").path, "");
        assert_eq!(base("http://[::1]:80/x").authority, "[::1]:80");
        for bad in [
            "api.openai.com",
            "ftp://x",
            "https://",
            "https://user:pw@host/",
            "https://h/p?q=1",
            "https://h o/",
        ] {
            let err = BaseUrl::parse(bad).unwrap_err();
            assert!(!err.contains("pw"), "{err}");
        }
    }

    #[test]
    fn joins_without_doubling_the_base_path() {
        let b = base("https://api.openai.com/v1");
        assert_eq!(b.join_path("/v1/chat/completions"), "/v1/chat/completions");
        assert_eq!(b.join_path("/chat/completions"), "/v1/chat/completions");
        assert_eq!(b.join_path("/v1"), "/v1");
        assert_eq!(b.join_path(""), "/v1");
        assert_eq!(b.join_path("/v10/x"), "/v1/v10/x");
        let g = base("https://api.groq.com/openai/v1");
        assert_eq!(g.join_path("/openai/v1/models"), "/openai/v1/models");
        assert_eq!(g.join_path("/models"), "/openai/v1/models");
        let a = base("https://api.anthropic.com");
        assert_eq!(a.join_path("/v1/messages"), "/v1/messages");
        assert_eq!(a.join_path(""), "/");
    }

    #[test]
    fn refuses_dot_segments_raw_and_encoded() {
        for bad in [
            "/../x",
            "/a/./b",
            "/a/..",
            "/%2e%2e/x",
            "/%2E./x",
            "/.%2e",
            "/a/%2e",
            "/a%2f..%2fb",
            "/a\\..\\b",
            "/a b",
            "/a#frag",
        ] {
            assert!(check_rest(bad).is_err(), "{bad}");
        }
        for good in ["/v1/models", "/a..b/c", "/.well-known", "/a%2eb", "", "/"] {
            assert!(check_rest(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn strips_only_the_key_parameter() {
        assert_eq!(strip_key_param("key=secret&alt=sse"), "alt=sse");
        assert_eq!(strip_key_param("a=1&k%65y=s&b=2&key"), "a=1&b=2");
        assert_eq!(strip_key_param("keys=1&monkey=2"), "keys=1&monkey=2");
        assert_eq!(strip_key_param(""), "");
        assert_eq!(key_param("a=1&key=s%2Bx").as_deref(), Some("s+x"));
        assert_eq!(key_param("a=1"), None);
    }

    #[test]
    fn percent_decoding_tolerates_malformed_escapes() {
        assert_eq!(percent_decode("%41%4"), b"A%4");
        assert_eq!(percent_decode("%zz%"), b"%zz%");
        assert_eq!(percent_decode("%e2%82%ac"), "€".as_bytes());
    }
}
