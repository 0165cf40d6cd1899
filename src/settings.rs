//! Settings: where they come from (a [`SettingSource`] the edge provides) and
//! how they are read (SPEC §1: empty counts as unset, key lists, flags).
//!
//! Names are the canonical UPPERCASE names (`OPENAI_API_KEY`); the Spin edge
//! maps them to lowercase Spin variables itself.

use std::collections::HashMap;

/// Where settings come from. The edge implements it over Spin variables or the
/// environment; tests use a `HashMap`.
pub trait SettingSource {
    /// The raw value of setting `name` (UPPERCASE), if any.
    fn get(&self, name: &str) -> Option<String>;
}

impl SettingSource for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

impl SettingSource for [(&str, &str)] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

/// Remembers every setting read from `raw`, so each is asked of the host at
/// most once per request (under Spin each read is a host call). The edge
/// wraps its source in one; so do the tests that count host calls.
pub struct Cached<S> {
    raw: S,
    cache: std::cell::RefCell<Vec<(String, Option<String>)>>,
}

impl<S: SettingSource> Cached<S> {
    pub fn new(raw: S) -> Cached<S> {
        Cached {
            raw,
            cache: Default::default(),
        }
    }

    pub fn raw(&self) -> &S {
        &self.raw
    }
}

impl<S: SettingSource> SettingSource for Cached<S> {
    fn get(&self, name: &str) -> Option<String> {
        if let Some((_, v)) = self.cache.borrow().iter().find(|(n, _)| n == name) {
            return v.clone();
        }
        let v = self.raw.get(name);
        self.cache.borrow_mut().push((name.to_string(), v.clone()));
        v
    }
}

/// A source that counts how often each setting was asked for — the native
/// stand-in for the host in tests of what a request reads.
pub struct Counting {
    pub values: HashMap<String, String>,
    pub reads: std::cell::RefCell<std::collections::BTreeMap<String, u32>>,
}

impl Counting {
    pub fn new(pairs: &[(&str, &str)]) -> Counting {
        Counting {
            values: from_pairs(pairs),
            reads: Default::default(),
        }
    }

    /// The names read, in order of name.
    pub fn names(&self) -> Vec<String> {
        self.reads.borrow().keys().cloned().collect()
    }

    /// The most reads of any one name.
    pub fn max_reads(&self) -> u32 {
        self.reads.borrow().values().copied().max().unwrap_or(0)
    }
}

impl SettingSource for Counting {
    fn get(&self, name: &str) -> Option<String> {
        *self.reads.borrow_mut().entry(name.to_string()).or_default() += 1;
        self.values.get(name).cloned()
    }
}

/// Settings from `(name, value)` pairs — for tests, benchmarks and examples.
pub fn from_pairs(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A setting that is present but malformed. Reported by `/status` and in the
/// log; the setting then counts as unset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingError {
    pub setting: String,
    pub message: String,
}

/// A setting's value, `None` when unset or empty (whitespace only counts as empty).
pub fn value(src: &dyn SettingSource, name: &str) -> Option<String> {
    src.get(name).filter(|v| !v.trim().is_empty())
}

/// A boolean flag: `true`, `1`, `yes` or `on` (any case) is true; anything else is false.
pub fn flag(src: &dyn SettingSource, name: &str) -> bool {
    value(src, name).is_some_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "true" | "1" | "yes" | "on"
        )
    })
}

/// A positive number of seconds, `default` when unset or malformed.
pub fn seconds(src: &dyn SettingSource, name: &str, default: u64) -> u64 {
    value(src, name)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// What is wrong with a setting's JSON, in words that hold no part of the
/// value: its kind of mistake and its line and column. serde_json's own
/// words (`Display`) quote the value for a value of the wrong type
/// ("invalid type: integer `31337`, expected a string"), and a setting may
/// be a secret, so every setting parser says its JSON errors with this.
pub fn json_problem(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let (line, column) = (e.line(), e.column());
    match e.classify() {
        Category::Eof => format!("the JSON ends early, at line {line}, column {column}"),
        Category::Syntax | Category::Io => {
            format!("not valid JSON at line {line}, column {column}")
        }
        Category::Data => format!("a value of the wrong type at line {line}, column {column}"),
    }
}

/// What kind of JSON value `v` is ("a number"), to say what an entry is
/// instead of what it holds.
pub fn json_kind(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Parses a key list (SPEC §1): a JSON array of strings when the trimmed value
/// starts with `[`, otherwise comma-separated. Entries are trimmed, empty ones
/// dropped. The error says where (a JSON position or an entry's index),
/// never what is there.
pub fn parse_key_list(raw: &str) -> Result<Vec<String>, String> {
    let trimmed = raw.trim();
    if trimmed.starts_with('[') {
        let expected = |why: String| format!("expected a JSON array of strings ({why})");
        let items = match serde_json::from_str(trimmed) {
            Ok(serde_json::Value::Array(items)) => items,
            Ok(other) => return Err(expected(format!("it is {}", json_kind(&other)))),
            Err(e) => return Err(expected(json_problem(&e))),
        };
        let mut keys = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            match item {
                serde_json::Value::String(k) => keys.push(k.trim().to_string()),
                other => {
                    return Err(expected(format!(
                        "entry {i} is {}, not a string",
                        json_kind(&other)
                    )))
                }
            }
        }
        keys.retain(|k| !k.is_empty());
        Ok(keys)
    } else {
        Ok(trimmed
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect())
    }
}

/// A key-list setting: the keys, or an empty list plus the error when malformed.
pub fn key_list(src: &dyn SettingSource, name: &str) -> (Vec<String>, Option<SettingError>) {
    match value(src, name) {
        None => (Vec::new(), None),
        Some(raw) => match parse_key_list(&raw) {
            Ok(keys) => (keys, None),
            Err(message) => (
                Vec::new(),
                Some(SettingError {
                    setting: name.to_string(),
                    message,
                }),
            ),
        },
    }
}

/// Default for `MAX_BODY_BYTES`: the largest chat body the proxy parses.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;

/// The body-size limit in force.
pub fn max_body_bytes(src: &dyn SettingSource) -> u64 {
    value(src, "MAX_BODY_BYTES")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_BODY_BYTES)
}

/// Default for `MAX_BODY_VALUES`: the most JSON values (objects, arrays,
/// strings, numbers, literals) a body the proxy parses may hold. The
/// largest recorded coding-agent turns have tens of values a kilobyte; a
/// body of this many tiny ones plans in about 50 ms (docs/performance.md).
pub const DEFAULT_MAX_BODY_VALUES: u64 = 200_000;

/// The JSON-value limit in force.
pub fn max_body_values(src: &dyn SettingSource) -> u64 {
    value(src, "MAX_BODY_VALUES")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_BODY_VALUES)
}

/// Default for `UPSTREAM_TIMEOUT_SECONDS` — also wasi:http hosts' own default.
pub const DEFAULT_UPSTREAM_TIMEOUT_SECS: u64 = 600;

/// `UPSTREAM_TIMEOUT_SECONDS`: no first byte from the upstream in this time → 504.
pub fn upstream_timeout_secs(src: &dyn SettingSource) -> u64 {
    seconds(
        src,
        "UPSTREAM_TIMEOUT_SECONDS",
        DEFAULT_UPSTREAM_TIMEOUT_SECS,
    )
}

/// Every setting name the proxy reads, apart from the per-provider ones the
/// route table lists. The Spin manifest declares each (lowercase).
pub const GENERAL_SETTINGS: &[&str] = &[
    "PROXY_API_KEY",
    "DEV",
    "DEFAULT_MODEL",
    "CLOUDFLARE_ACCOUNT_ID",
    "AI_GATEWAY_NAME",
    "CF_AIG_TOKEN",
    "RETRY",
    "ENABLE_GLOBAL_ROUND_ROBIN",
    "CUSTOM_OPENAI_ENDPOINTS",
    "AI_GATEWAY_BASE_URL",
    "UPSTREAM_TIMEOUT_SECONDS",
    "MAX_BODY_BYTES",
    "MAX_BODY_VALUES",
    "PROXY_KEYS",
    "MODEL_ROUTES",
    "MODEL_PRICES",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn src(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        crate::settings::from_pairs(pairs)
    }

    #[test]
    fn comma_lists_are_trimmed_and_empty_entries_dropped() {
        assert_eq!(parse_key_list(" a , b,,c ,").unwrap(), vec!["a", "b", "c"]);
        assert_eq!(parse_key_list("42").unwrap(), vec!["42"]);
        assert!(parse_key_list(" , ").unwrap().is_empty());
    }

    #[test]
    fn json_lists_are_parsed_and_trimmed() {
        assert_eq!(
            parse_key_list(r#" [" a ", "b,c", ""] "#).unwrap(),
            vec!["a", "b,c"]
        );
    }

    #[test]
    fn malformed_json_list_is_an_error_that_does_not_echo_the_value() {
        let err = parse_key_list(r#"["sk-secret", 3]"#).unwrap_err();
        assert!(!err.contains("sk-secret"), "{err}");
        assert!(parse_key_list("[not json").is_err());
        let (keys, err) = key_list(&src(&[("OPENAI_API_KEY", "[1,2]")]), "OPENAI_API_KEY");
        assert!(keys.is_empty());
        assert_eq!(err.unwrap().setting, "OPENAI_API_KEY");
    }

    #[test]
    fn empty_counts_as_unset() {
        let s = src(&[("A", ""), ("B", "  "), ("C", "x")]);
        assert_eq!(value(&s, "A"), None);
        assert_eq!(value(&s, "B"), None);
        assert_eq!(value(&s, "C").as_deref(), Some("x"));
        assert_eq!(key_list(&s, "A"), (vec![], None));
    }

    #[test]
    fn flags_and_seconds() {
        let s = src(&[("DEV", "TRUE"), ("X", "false"), ("T", "7"), ("Z", "0")]);
        assert!(flag(&s, "DEV"));
        assert!(!flag(&s, "X"));
        assert!(!flag(&s, "MISSING"));
        assert_eq!(seconds(&s, "T", 600), 7);
        assert_eq!(seconds(&s, "Z", 600), 600);
        assert_eq!(seconds(&s, "MISSING", 600), 600);
    }
}

#[cfg(test)]
#[path = "setting_errors_tests.rs"]
mod setting_errors_tests;
