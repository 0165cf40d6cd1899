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

/// A 64-hex-digit SHA-256, valid for `PROXY_KEYS`.
const HASH: &str = "abababababababababababababababababababababababababababababababab";

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

/// `(value, place)` for `PROXY_KEYS`. Positions, not names: the error
/// reaches callers before they are authenticated, and a key's name is its
/// holder's.
fn malformed_proxy_keys() -> Vec<(String, &'static str)> {
    let ok = format!(r#"{{"name": "ok", "sha256": "{HASH}"}}"#);
    vec![
        (format!("[{NUM}]"), "entry 0"),
        (format!(r#"["{KEY}"]"#), "entry 0"),
        (format!(r#"[{ok}, [{NUM}]]"#), "entry 1"),
        (
            format!(r#"{{"name": "{KEY}", "sha256": "{HASH}"}}"#),
            "JSON list",
        ),
        (format!(r#""{KEY}""#), "JSON list"),
        (NUM.to_string(), "JSON list"),
        (
            format!(r#"[{ok}, {{"name": {NUM}, "sha256": "{HASH}"}}]"#),
            "entry 1",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "sha256": "{KEY}"}}]"#),
            "entry 0",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "sha256": {NUM}}}]"#),
            "entry 0",
        ),
        (
            format!(r#"[{{"name": "a", "sha256": "{HASH}", "{KEY}": 1}}]"#),
            "entry 0",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "sha256": "{HASH}", "rpm": "{KEY}"}}]"#),
            "'rpm'",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "sha256": "{HASH}", "tpm": -{NUM}}}]"#),
            "'tpm'",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "sha256": "{HASH}", "daily_tokens": 3.{NUM}}}]"#),
            "'daily_tokens'",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "sha256": "{HASH}", "models": "{KEY}"}}]"#),
            "'models'",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "sha256": "{HASH}", "models": [{NUM}]}}]"#),
            "'models'",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "sha256": "{HASH}", "expires": "{KEY}"}}]"#),
            "'expires'",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "sha256": "{HASH}", "expires": 3.{NUM}}}]"#),
            "'expires'",
        ),
        (
            format!(
                r#"[{ok}, {{"name": "{KEY}", "sha256": "{HASH}"}}, {{"name": "{KEY}", "sha256": "{HASH}"}}]"#
            ),
            "entries 1 and 2",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "sha256": "{HASH}"}}"#),
            "line 1",
        ),
        (format!(r#"[{{"name": {KEY}}}]"#), "line 1"),
        (
            format!("[\n{ok},\n{{\"name\": \"{KEY}\" \"sha256\": 1}}]"),
            "line 3",
        ),
    ]
}

#[test]
fn proxy_keys() {
    let mut bad = Vec::new();
    for (raw, place) in malformed_proxy_keys() {
        let src = from_pairs(&[("PROXY_KEYS", &raw)]);
        match crate::team::client_keys(&src) {
            Ok(_) => bad.push(format!("PROXY_KEYS={raw}: accepted")),
            Err(e) => check(&mut bad, "PROXY_KEYS", &raw, &e.message, place),
        }
        // A caller presenting any key gets the same error.
        let head = RequestHead::new(
            "GET",
            "/openai/models",
            vec![("authorization".to_string(), b"Bearer x".to_vec())],
        );
        let host = Fixed {
            random: 0,
            now_ms: 0,
        };
        match crate::team::authenticate(&head, &src, &host) {
            Ok(_) => bad.push(format!("PROXY_KEYS={raw}: authenticated")),
            Err(e) => check(&mut bad, "PROXY_KEYS", &raw, &e.message, place),
        }
        let status = one_status_error(&mut bad, &src, "PROXY_KEYS");
        check(&mut bad, "PROXY_KEYS", &raw, &status, place);
    }
    report(bad);
}

/// `(value, place)` for `MODEL_ROUTES`. A route's name is said (it is a
/// model name clients send), so the markers stay out of valid names.
fn malformed_model_routes() -> Vec<(String, &'static str)> {
    vec![
        (format!("[{NUM}]"), "JSON object"),
        (format!(r#""{KEY}""#), "JSON object"),
        (format!(r#"{{"smart": {NUM}}}"#), "'smart'"),
        (format!(r#"{{"smart": "{KEY}"}}"#), "'smart'"),
        (format!(r#"{{"smart": [{NUM}]}}"#), "target 0"),
        (format!(r#"{{"smart": ["p/m", "{KEY}"]}}"#), "target 1"),
        (format!(r#"{{"smart": ["p/m", "{NUM}"]}}"#), "target 1"),
        (
            format!(r#"{{"smart": {{"targets": "{KEY}"}}}}"#),
            "'targets'",
        ),
        (
            format!(r#"{{"smart": {{"targets": ["p/m"], "strategy": "{KEY}"}}}}"#),
            "'strategy'",
        ),
        (
            format!(r#"{{"smart": {{"targets": ["p/m"], "strategy": {NUM}}}}}"#),
            "'strategy'",
        ),
        (
            format!(r#"{{"smart": {{"targets": ["p/m"], "{KEY}": 1}}}}"#),
            "unknown field",
        ),
        (
            format!(
                r#"{{"smart": {{"targets": ["p/m"], "strategy": "weighted", "weights": ["{KEY}"]}}}}"#
            ),
            "'weights'",
        ),
        (
            format!(
                r#"{{"smart": {{"targets": ["p/m"], "strategy": "weighted", "weights": [-{NUM}]}}}}"#
            ),
            "'weights'",
        ),
        (format!(r#"{{"{KEY} x": ["p/m"]}}"#), "route name"),
        (format!(r#"{{"smart": ["{KEY}"#), "line 1"),
        (format!(r#"{{"smart": [{KEY}]}}"#), "line 1"),
        (
            format!("{{\n\"smart\": [\"p/m\"],\n\"fast\": [\"{KEY}\" \"x\"]}}"),
            "line 3",
        ),
    ]
}

#[test]
fn model_routes() {
    let mut bad = Vec::new();
    for (raw, place) in malformed_model_routes() {
        let src = from_pairs(&[("MODEL_ROUTES", &raw)]);
        match crate::team::model_routes(&src) {
            Ok(_) => bad.push(format!("MODEL_ROUTES={raw}: accepted")),
            Err(e) => check(&mut bad, "MODEL_ROUTES", &raw, &e.message, place),
        }
        let status = one_status_error(&mut bad, &src, "MODEL_ROUTES");
        check(&mut bad, "MODEL_ROUTES", &raw, &status, place);
    }
    report(bad);
}

/// `(value, place)` for `MODEL_PRICES`. A model's name is said, as a
/// route's is.
fn malformed_model_prices() -> Vec<(String, &'static str)> {
    vec![
        (format!("[{NUM}]"), "JSON object"),
        (format!(r#""{KEY}""#), "JSON object"),
        (format!(r#"{{"openai/gpt-4o": {NUM}}}"#), "'openai/gpt-4o'"),
        (
            format!(r#"{{"openai/gpt-4o": "{KEY}"}}"#),
            "'openai/gpt-4o'",
        ),
        (
            format!(r#"{{"openai/gpt-4o": {{"input": "{KEY}", "output": 1}}}}"#),
            "'input'",
        ),
        (
            format!(r#"{{"openai/gpt-4o": {{"input": 1, "output": -{NUM}}}}}"#),
            "'output'",
        ),
        (
            format!(r#"{{"openai/gpt-4o": {{"input": 1, "output": 1, "cached_input": "{NUM}"}}}}"#),
            "'cached_input'",
        ),
        (
            format!(r#"{{"openai/gpt-4o": {{"input": 1, "output": 1, "{KEY}": 1}}}}"#),
            "unknown field",
        ),
        (
            format!(r#"{{"{KEY} x": {{"input": 1, "output": 1}}}}"#),
            "model name",
        ),
        (format!(r#"{{"openai/gpt-4o": {{"input": {KEY}"#), "line 1"),
        (
            format!(
                "{{\n\"a/b\": {{\"input\": 1, \"output\": 1}},\n\"c/d\": {{\"input\": {KEY}}}}}"
            ),
            "line 3",
        ),
    ]
}

#[test]
fn model_prices() {
    let mut bad = Vec::new();
    for (raw, place) in malformed_model_prices() {
        let src = from_pairs(&[("MODEL_PRICES", &raw)]);
        match crate::team::model_prices(&src) {
            Ok(_) => bad.push(format!("MODEL_PRICES={raw}: accepted")),
            Err(e) => check(&mut bad, "MODEL_PRICES", &raw, &e.message, place),
        }
        let status = one_status_error(&mut bad, &src, "MODEL_PRICES");
        check(&mut bad, "MODEL_PRICES", &raw, &status, place);
    }
    report(bad);
}

/// `(value, place)` for `CUSTOM_OPENAI_ENDPOINTS`. An endpoint's name is a
/// valid key too (`sk-…` fits `[A-Za-z0-9._-]`): entries by position.
fn malformed_custom_endpoints() -> Vec<(String, &'static str)> {
    let ok = r#"{"name": "ok", "baseUrl": "http://127.0.0.1:9"}"#;
    vec![
        (format!(r#"{{"name": "{KEY}"}}"#), "JSON array"),
        (NUM.to_string(), "JSON array"),
        (format!("[{ok}, {NUM}]"), "entry 1"),
        (format!(r#"[{ok}, "{KEY}"]"#), "entry 1"),
        (
            format!(r#"[{{"name": {NUM}, "baseUrl": "http://127.0.0.1:9"}}]"#),
            "entry 0",
        ),
        (
            format!(r#"[{{"name": "{KEY} x", "baseUrl": "http://127.0.0.1:9"}}]"#),
            "entry 0",
        ),
        (format!(r#"[{{"name": "{KEY}"}}]"#), "entry 0"),
        (
            format!(r#"[{{"name": "{KEY}", "baseUrl": {NUM}}}]"#),
            "entry 0",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "baseUrl": "https://{KEY}@x/"}}]"#),
            "entry 0",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "baseUrl": "{KEY}"}}]"#),
            "entry 0",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "baseUrl": "http://x", "apiKeys": "[{NUM}]"}}]"#),
            "entry 0",
        ),
        (
            format!(
                r#"[{{"name": "{KEY}", "baseUrl": "http://x", "apiKeys": "[\"{KEY}\", {NUM}]"}}]"#
            ),
            "entry 1",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "baseUrl": "http://x", "apiKeys": [{NUM}]}}]"#),
            "entry 0",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "baseUrl": "http://x", "apiKeys": {NUM}}}]"#),
            "entry 0",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "baseUrl": "http://x", "models": [{NUM}]}}]"#),
            "entry 0",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "baseUrl": "http://x", "models": "{KEY}"}}]"#),
            "entry 0",
        ),
        (
            format!(
                r#"[{{"name": "{KEY}", "baseUrl": "http://x", "chatCompletionPath": "{KEY}"}}]"#
            ),
            "entry 0",
        ),
        (
            format!(r#"[{{"name": "{KEY}", "baseUrl": "http://x", "modelsPath": {NUM}}}]"#),
            "entry 0",
        ),
        (
            format!(
                r#"[{{"name": "{KEY}", "baseUrl": "http://x", "embeddingsPath": "/../{KEY}"}}]"#
            ),
            "entry 0",
        ),
        (
            format!(
                r#"[{{"name": "{KEY}", "baseUrl": "http://x"}}, {{"name": "{KEY}", "baseUrl": "http://y"}}]"#
            ),
            "entry 1",
        ),
        (
            format!(r#"[{{"name": "openai", "baseUrl": "http://x", "apiKeys": ["{KEY}"]}}]"#),
            "entry 0",
        ),
        (format!(r#"[{{"name": "{KEY}", "baseUrl": "#), "line 1"),
        (format!(r#"[{{"name": {KEY}}}]"#), "line 1"),
    ]
}

#[test]
fn custom_endpoints() {
    let mut bad = Vec::new();
    let setting = crate::providers::custom::SETTING;
    for (raw, place) in malformed_custom_endpoints() {
        let src = from_pairs(&[(setting, &raw)]);
        let (_, errors) = crate::providers::custom::endpoints(&src);
        if errors.is_empty() {
            bad.push(format!("{setting}={raw}: accepted"));
        }
        for e in errors {
            let text = format!("{}: {}", e.setting, e.message);
            check(&mut bad, setting, &raw, &text, place);
        }
        let status = one_status_error(&mut bad, &src, setting);
        check(&mut bad, setting, &raw, &status, place);
    }
    report(bad);
}

/// A service-account key file with `client_email` and `private_key` replaced.
fn key_file(email: &str, private_key: &str) -> String {
    format!(
        r#"{{"type": "service_account", "project_id": "p", "private_key_id": "k1",
            "client_email": {email}, "private_key": {private_key}}}"#
    )
}

#[test]
fn vertex_service_account() {
    let mut bad = Vec::new();
    let good = key_file(r#""a@p.iam.gserviceaccount.com""#, r#""pem""#);
    let cases: Vec<(String, &str)> = vec![
        (NUM.to_string(), "'client_email'"),
        (format!(r#""{KEY}""#), "line 1"),
        (format!("[{NUM}]"), "entry 0"),
        (format!(r#"[{good}, "{KEY}"]"#), "entry 1"),
        (format!(r#"[{good}, {NUM}]"#), "entry 1"),
        (format!(r#"[{good}, [{NUM}]]"#), "entry 1"),
        (key_file(NUM, r#""pem""#), "'client_email'"),
        (key_file(&format!(r#""{KEY}""#), NUM), "'private_key'"),
        (
            key_file(&format!(r#"["{KEY}"]"#), r#""pem""#),
            "'client_email'",
        ),
        (
            format!(r#"[{good}, {}]"#, key_file(r#""b@p""#, NUM)),
            "entry 1",
        ),
        (
            // A key file in a string, with a number for its private key.
            format!(
                "[{good}, {}]",
                serde_json::Value::String(key_file(r#""b@p""#, NUM))
            ),
            "entry 1",
        ),
        (
            format!(r#"{{"client_email": "{KEY}", "private_key": "#),
            "line 1",
        ),
        (format!(r#"{{"client_email": {KEY}}}"#), "line 1"),
        (
            format!("{{\n\"client_email\": \"a@p\",\n\"private_key\": {KEY}}}"),
            "line 3",
        ),
    ];
    for (raw, place) in cases {
        let setting = "VERTEX_SERVICE_ACCOUNT_JSON";
        let src = from_pairs(&[(setting, &raw)]);
        match providers::resolve("google-vertex-ai", &src) {
            Err(ResolveError::Misconfigured(e)) => {
                check(&mut bad, setting, &raw, &e.message, place)
            }
            Err(ResolveError::Unknown) => bad.push("google-vertex-ai: unknown".into()),
            Ok(_) => bad.push(format!("{setting}={raw}: accepted")),
        }
        let status = one_status_error(&mut bad, &src, setting);
        check(&mut bad, setting, &raw, &status, place);
    }
    // A private key that is no PEM is found when a token is minted.
    let account = crate::credentials::ServiceAccount::parse(
        &serde_json::from_str(&key_file(r#""a@p""#, &format!(r#""{KEY}""#))).unwrap(),
    )
    .unwrap();
    let host = Fixed {
        random: 0,
        now_ms: 0,
    };
    match crate::cloud_auth::token_request(&account, "http://127.0.0.1:9/token", 0, &host) {
        Ok(_) => bad.push("a private key that is no PEM: accepted".into()),
        Err(e) => check(
            &mut bad,
            "VERTEX_SERVICE_ACCOUNT_JSON",
            KEY,
            &e.message,
            "private_key",
        ),
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
