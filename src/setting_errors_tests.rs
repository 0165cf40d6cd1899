//! Issue 26 point 12: a malformed setting's error names the setting and
//! where in its value the problem is (entry, field, JSON line and column),
//! and never carries any part of the value. Every structured setting is fed
//! two markers (a long number, a key-like string) in every wrong place, and
//! each error is checked for the setting's name, the place, and no piece of
//! six or more characters of either marker.
//!
//! The errors are read where a client or a log line sees them: the request
//! path's `ErrorReply` (whose message is also the log's warning) and
//! `/status`'s list of setting errors.

use crate::handlers::status::setting_errors;
use crate::host::Fixed;
use crate::providers::{self, ProviderKind, ResolveError, PROVIDERS};
use crate::request::RequestHead;
use crate::settings::from_pairs;
use std::collections::HashMap;

/// A number where a string goes (the issue's example).
const NUM: &str = "31337000424242";
/// A string shaped like a provider key.
const KEY: &str = "sk-MARKER-7f3Qz9LwX2";

/// The first piece of six or more characters of a marker found in `text`.
fn leaked(text: &str) -> Option<String> {
    [NUM, KEY].iter().find_map(|m| {
        let chars: Vec<char> = m.chars().collect();
        chars
            .windows(6)
            .map(|w| w.iter().collect::<String>())
            .find(|w| text.contains(w.as_str()))
    })
}

/// Checks one error text; the failures go to `bad` so that a test reports
/// every case at once.
fn check(bad: &mut Vec<String>, setting: &str, raw: &str, text: &str, place: &str) {
    if let Some(piece) = leaked(text) {
        bad.push(format!("{setting}={raw}\n    leaks {piece:?}: {text}"));
    }
    if !text.contains(setting) {
        bad.push(format!(
            "{setting}={raw}\n    does not name the setting: {text}"
        ));
    }
    if !text.contains(place) {
        bad.push(format!(
            "{setting}={raw}\n    does not say {place:?}: {text}"
        ));
    }
}

fn report(bad: Vec<String>) {
    assert!(
        bad.is_empty(),
        "{} problems:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// `/status`'s errors for `setting`, each as `SETTING: message`.
fn status_errors(src: &HashMap<String, String>, setting: &str) -> Vec<String> {
    setting_errors(src)
        .into_iter()
        .filter(|e| e.setting.starts_with(setting))
        .map(|e| format!("{}: {}", e.setting, e.message))
        .collect()
}

/// One status error for `setting`, or a note that there was none.
fn one_status_error(bad: &mut Vec<String>, src: &HashMap<String, String>, setting: &str) -> String {
    let errors = status_errors(src, setting);
    if errors.is_empty() {
        bad.push(format!("{setting}: /status reports no error"));
    }
    errors.join("\n")
}

/// `(value, place)`: a malformed key list and what its error must point at.
/// The position of a syntax error is a JSON line (and column); a value of
/// the wrong type is an entry of the array.
fn malformed_key_lists() -> Vec<(String, &'static str)> {
    vec![
        // The issue's example: a number where a string goes.
        (format!("[{NUM}]"), "entry 0"),
        (format!("[-{NUM}]"), "entry 0"),
        (format!("[3.{NUM}]"), "entry 0"),
        (format!(r#"["{KEY}", {NUM}]"#), "entry 1"),
        (format!(r#"["ok", "{KEY}", {NUM}, "x"]"#), "entry 2"),
        (format!(r#"[{{"{KEY}": {NUM}}}]"#), "entry 0"),
        (format!(r#"[["{KEY}"]]"#), "entry 0"),
        (format!(r#"["a", {{"key": "{KEY}"}}]"#), "entry 1"),
        (format!("[true, {NUM}]"), "entry 0"),
        ("[null]".to_string(), "entry 0"),
        // Not JSON: truncated, unquoted, a missing comma, a bad escape,
        // trailing characters.
        (format!(r#"["{KEY}"#), "line 1"),
        (format!("[{NUM}"), "line 1"),
        (format!("[{KEY}]"), "line 1"),
        (format!(r#"["{KEY}" "{KEY}"]"#), "line 1"),
        (format!(r#"["{KEY}\q"]"#), "line 1"),
        (format!(r#"["{KEY}"] {NUM}"#), "line 1"),
        (format!("[\n  \"a\",\n  {KEY}\n]"), "line 3"),
        (format!("[1e{NUM}]"), "line 1"),
    ]
}

#[test]
fn proxy_api_key() {
    let mut bad = Vec::new();
    for (raw, place) in malformed_key_lists() {
        let src = from_pairs(&[("PROXY_API_KEY", &raw)]);
        // What any caller gets, with or without a key.
        for headers in [
            vec![],
            vec![("authorization".to_string(), b"Bearer x".to_vec())],
        ] {
            let head = RequestHead::new("GET", "/openai/models", headers);
            let host = Fixed {
                random: 0,
                now_ms: 0,
            };
            match crate::team::authenticate(&head, &src, &host) {
                Ok(_) => bad.push(format!("PROXY_API_KEY={raw}: accepted")),
                Err(e) => check(&mut bad, "PROXY_API_KEY", &raw, &e.message, place),
            }
        }
        let status = one_status_error(&mut bad, &src, "PROXY_API_KEY");
        check(&mut bad, "PROXY_API_KEY", &raw, &status, place);
    }
    report(bad);
}

#[test]
fn every_provider_key_list() {
    let mut bad = Vec::new();
    let mut settings: Vec<(&str, &str)> = Vec::new();
    for spec in PROVIDERS {
        for name in spec.key_settings {
            // Not a key list: see vertex_service_account.
            if *name != "VERTEX_SERVICE_ACCOUNT_JSON" {
                settings.push((spec.route, name));
            }
        }
    }
    // Bedrock's other key lists.
    settings.extend([
        ("aws-bedrock", "AWS_SECRET_ACCESS_KEY"),
        ("aws-bedrock", "AWS_SESSION_TOKEN"),
    ]);
    for (route, name) in settings {
        for (raw, place) in malformed_key_lists() {
            let mut pairs = vec![(name, raw.as_str())];
            // What the cloud needs besides the list under test.
            match name {
                "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN" => {
                    pairs.push(("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"))
                }
                "AZURE_OPENAI_API_KEY" => pairs.push(("AZURE_OPENAI_RESOURCE", "res")),
                "CLOUDFLARE_API_KEY" => pairs.push(("CLOUDFLARE_ACCOUNT_ID", "acct")),
                _ => {}
            }
            let src = from_pairs(&pairs);
            match providers::resolve(route, &src) {
                Err(ResolveError::Misconfigured(e)) => {
                    check(&mut bad, name, &raw, &e.message, place)
                }
                Err(ResolveError::Unknown) => bad.push(format!("{route}: unknown")),
                Ok(_) => bad.push(format!("{name}={raw}: accepted")),
            }
            let status = one_status_error(&mut bad, &src, name);
            check(&mut bad, name, &raw, &status, place);
        }
    }
    report(bad);
}

/// The settings that hold one plain value (a URL, a name, a region): a
/// malformed one is refused with fixed words.
#[test]
fn plain_settings() {
    let mut bad = Vec::new();
    let url_with_key = format!("https://user:{KEY}@{NUM}.example/v1");
    // (setting, a way to authenticate, the route that reads it)
    let cases = [
        ("OPENAI_BASE_URL", "OPENAI_API_KEY", "openai"),
        ("GROQ_BASE_URL", "GROQ_API_KEY", "groq"),
        (
            "AZURE_OPENAI_BASE_URL",
            "AZURE_OPENAI_API_KEY",
            "azure-openai",
        ),
        (
            "AZURE_OPENAI_RESOURCE",
            "AZURE_OPENAI_API_KEY",
            "azure-openai",
        ),
        ("VERTEX_REGION", "VERTEX_ACCESS_TOKEN", "google-vertex-ai"),
        ("VERTEX_PROJECT", "VERTEX_ACCESS_TOKEN", "google-vertex-ai"),
        (
            "GOOGLE_VERTEX_AI_BASE_URL",
            "VERTEX_ACCESS_TOKEN",
            "google-vertex-ai",
        ),
        ("AWS_REGION", "AWS_BEARER_TOKEN_BEDROCK", "aws-bedrock"),
        (
            "AWS_BEDROCK_BASE_URL",
            "AWS_BEARER_TOKEN_BEDROCK",
            "aws-bedrock",
        ),
    ];
    for (setting, auth, route) in cases {
        for raw in [
            url_with_key.clone(),
            format!("{KEY} {NUM}"),
            format!("[{NUM}]"),
        ] {
            let src = from_pairs(&[(auth, "k"), (setting, &raw)]);
            match providers::resolve(route, &src) {
                Err(ResolveError::Misconfigured(e)) => {
                    check(&mut bad, setting, &raw, &e.message, setting)
                }
                Err(ResolveError::Unknown) => bad.push(format!("{route}: unknown")),
                Ok(_) => bad.push(format!("{setting}={raw}: accepted")),
            }
        }
    }
    for (setting, raw) in [
        ("AI_GATEWAY_NAME", format!("{KEY} {NUM}")),
        ("AI_GATEWAY_BASE_URL", url_with_key.clone()),
    ] {
        let src = from_pairs(&[
            ("CLOUDFLARE_ACCOUNT_ID", "acct"),
            ("AI_GATEWAY_NAME", "gw"),
            (setting, &raw),
        ]);
        match crate::gateway::default_gateway(&src) {
            Ok(_) => bad.push(format!("{setting}={raw}: accepted")),
            Err(e) => check(&mut bad, setting, &raw, &e.message, setting),
        }
    }
    let src = from_pairs(&[
        ("CLOUDFLARE_ACCOUNT_ID", &url_with_key),
        ("AI_GATEWAY_NAME", "gw"),
    ]);
    match crate::gateway::default_gateway(&src) {
        Ok(_) => bad.push("CLOUDFLARE_ACCOUNT_ID: accepted".into()),
        Err(e) => check(
            &mut bad,
            "CLOUDFLARE_ACCOUNT_ID",
            &url_with_key,
            &e.message,
            "CLOUDFLARE_ACCOUNT_ID",
        ),
    }
    // The clouds' errors in /status, whatever their resolver refused.
    for spec in PROVIDERS
        .iter()
        .filter(|s| s.kind != ProviderKind::Standard)
    {
        let mut pairs: Vec<(&str, &str)> = spec.key_settings.iter().map(|k| (*k, "k")).collect();
        let raw = format!("{KEY} {NUM}");
        pairs.extend(spec.extra_settings.iter().map(|s| (*s, raw.as_str())));
        for e in setting_errors(&from_pairs(&pairs)) {
            if let Some(piece) = leaked(&e.message) {
                bad.push(format!("{}: leaks {piece:?}: {}", e.setting, e.message));
            }
        }
    }
    report(bad);
}
