//! The team gateway (docs/team.md, issue 20) against loopback mocks: client
//! keys from `PROXY_KEYS`, model routes with fallback across dialects, the
//! JSON request log line with its usage, `x-request-id`, and — under a real
//! `spin up`, whose key-value store the limits and `/usage` need — limits
//! and usage accounting. What the mock upstream received and what the
//! client got, in each client dialect.

mod common;

use common::llm::*;
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

// ---------------------------------------------------------------- keys and settings

/// `openai/*` and the route `smart`.
const ALICE: &str = "sk-team-alice-4f1c2a9e7b";
/// `anthropic/claude-sonnet-4-5` only; expires in 2999 (RFC 3339).
const BOB: &str = "sk-team-bob-8d3e6f0a21";
/// Every model, no limits.
const CAROL: &str = "sk-team-carol-5a7b9c1d3e";
const EXPIRED_RFC: &str = "sk-team-old-rfc-000000001";
const EXPIRED_UNIX: &str = "sk-team-old-unix-00000002";
/// `rpm: 2`.
const LIMITED: &str = "sk-team-limited-777777777";
const UNKNOWN: &str = "sk-team-nobody-999999999";

fn proxy_keys() -> String {
    json!([
        {"name": "alice", "sha256": sha256_hex(ALICE), "models": ["openai/*", "smart"]},
        {"name": "bob", "sha256": sha256_hex(BOB), "models": ["anthropic/claude-sonnet-4-5"],
         "expires": "2999-01-01T00:00:00Z"},
        {"name": "carol", "sha256": sha256_hex(CAROL)},
        {"name": "old-rfc", "sha256": sha256_hex(EXPIRED_RFC), "expires": "2020-01-01T00:00:00Z"},
        {"name": "old-unix", "sha256": sha256_hex(EXPIRED_UNIX), "expires": 1577836800},
        {"name": "limited", "sha256": sha256_hex(LIMITED), "rpm": 2},
    ])
    .to_string()
}

const SMART: &str = r#"{"smart":["openai/gpt-4.1","anthropic/claude-sonnet-4-5"]}"#;

/// The proxy with OpenAI at `openai`, Anthropic at `anthropic`, Google AI
/// Studio at `google`, the keys above, and `extra` settings.
fn team_proxy(openai: &Mock, anthropic: &Mock, google: &Mock, extra: &[(&str, &str)]) -> Proxy {
    let keys = proxy_keys();
    let google_base = google.url("");
    let mut settings = vec![
        ("PROXY_KEYS", keys.as_str()),
        ("GEMINI_API_KEY", "AIza-upstream"),
        ("GOOGLE_AI_STUDIO_BASE_URL", google_base.as_str()),
    ];
    settings.extend_from_slice(extra);
    common::llm::proxy(openai, anthropic, &settings)
}

// ---------------------------------------------------------------- client requests

fn chat_body(model: &str, stream: bool) -> Vec<u8> {
    json!({"model": model, "stream": stream,
           "messages": [{"role": "user", "content": "hi"}]})
    .to_string()
    .into_bytes()
}

fn messages_body(model: &str, stream: bool) -> Vec<u8> {
    json!({"model": model, "max_tokens": 64, "stream": stream,
           "messages": [{"role": "user", "content": "hi"}]})
    .to_string()
    .into_bytes()
}

fn responses_body(model: &str, stream: bool) -> Vec<u8> {
    json!({"model": model, "stream": stream, "input": "hi"})
        .to_string()
        .into_bytes()
}

const GEMINI_BODY: &[u8] = br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#;

/// `POST /v1/chat/completions` with `key` as a Bearer token.
fn chat(proxy: &Proxy, key: &str, body: &[u8], extra: &[(&str, &str)]) -> Response {
    let auth = format!("Bearer {key}");
    let mut h = vec![
        ("authorization", auth.as_str()),
        ("content-type", "application/json"),
    ];
    h.extend_from_slice(extra);
    proxy.request("POST", "/v1/chat/completions", &h, body)
}

/// `POST /v1/messages` with `key` as `x-api-key`, as Claude Code sends it.
fn messages(proxy: &Proxy, key: &str, body: &[u8]) -> Response {
    proxy.request(
        "POST",
        "/v1/messages",
        &[
            ("x-api-key", key),
            ("anthropic-version", "2023-06-01"),
            ("content-type", "application/json"),
        ],
        body,
    )
}

/// `POST /v1/responses` with `key` as a Bearer token.
fn responses(proxy: &Proxy, key: &str, body: &[u8]) -> Response {
    let auth = format!("Bearer {key}");
    proxy.request(
        "POST",
        "/v1/responses",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        body,
    )
}

/// A Gemini API call (`path` from `/v1beta/...`) with `key` as `x-goog-api-key`.
fn gemini(proxy: &Proxy, key: &str, path: &str, body: &[u8]) -> Response {
    proxy.request(
        "POST",
        path,
        &[
            ("x-goog-api-key", key),
            ("content-type", "application/json"),
        ],
        body,
    )
}

// ---------------------------------------------------------------- error shapes

/// An OpenAI-shaped error with this status and code; its message.
fn openai_error(resp: &Response, status: u16, code: &str) -> String {
    assert_eq!(resp.status, status, "{}", resp.text());
    let v = resp.json();
    assert_eq!(v["error"]["code"], code, "{v}");
    v["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error.message: {v}"))
        .to_string()
}

/// An Anthropic-shaped error (`{"type":"error","error":{"type","message"}}`)
/// with this status; its message.
fn anthropic_error(resp: &Response, status: u16) -> String {
    assert_eq!(resp.status, status, "{}", resp.text());
    let v = resp.json();
    assert_eq!(v["type"], "error", "{v}");
    let want = match status {
        401 => "authentication_error",
        403 => "permission_error",
        429 => "rate_limit_error",
        503 => "api_error",
        _ => unreachable!(),
    };
    // 503 may reasonably be Anthropic's overloaded_error too.
    if status == 503 {
        assert!(
            v["error"]["type"] == "api_error" || v["error"]["type"] == "overloaded_error",
            "{v}"
        );
    } else {
        assert_eq!(v["error"]["type"], want, "{v}");
    }
    v["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error.message: {v}"))
        .to_string()
}

/// A Google-shaped error (`{"error":{"code","message","status"}}`) with this
/// status; its message.
fn google_error(resp: &Response, status: u16) -> String {
    assert_eq!(resp.status, status, "{}", resp.text());
    let v = resp.json();
    assert_eq!(v["error"]["code"], status, "{v}");
    let want = match status {
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        _ => unreachable!(),
    };
    assert_eq!(v["error"]["status"], want, "{v}");
    v["error"]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no error.message: {v}"))
        .to_string()
}

/// How many requests the mock got on `path`.
fn answered(mock: &Mock, path: &str) -> usize {
    mock.received().iter().filter(|r| r.path() == path).count()
}

fn is_hex32(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn sent(r: &Recorded) -> Value {
    serde_json::from_slice(&r.body)
        .unwrap_or_else(|e| panic!("upstream body not JSON ({e}): {r:?}"))
}

/// The log line's model is the target's: `model` (or, equally clear,
/// `provider/model`).
fn assert_logged_model(line: &Value, provider: &str, model: &str) {
    assert_eq!(line["provider"], provider, "{line}");
    let full = format!("{provider}/{model}");
    assert!(
        line["model"] == model || line["model"] == full.as_str(),
        "model {model} expected: {line}"
    );
}

/// The token fields of a request log line.
fn assert_tokens(line: &Value, input: u64, output: u64, cached: u64, reasoning: u64) {
    assert_eq!(
        [
            &line["input_tokens"],
            &line["output_tokens"],
            &line["cached_tokens"],
            &line["reasoning_tokens"]
        ],
        [
            &json!(input),
            &json!(output),
            &json!(cached),
            &json!(reasoning)
        ],
        "input, output, cached, reasoning tokens: {line}"
    );
}

/// `ms` and `first_byte_ms`: numbers, the first byte no later than the end.
fn assert_timings(line: &Value) {
    let ms = line["ms"].as_f64().unwrap_or_else(|| panic!("ms: {line}"));
    let first = line["first_byte_ms"]
        .as_f64()
        .unwrap_or_else(|| panic!("first_byte_ms: {line}"));
    assert!(first >= 0.0 && first <= ms + 1.0, "{line}");
}

// ---------------------------------------------------------------- 1. client keys

#[test]
fn a_client_key_reaches_the_provider_with_the_providers_own_key_in_each_dialect() {
    let (openai, anthropic, google) = (openai_mock(), anthropic_mock(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[]);

    let resp = chat(&proxy, ALICE, &chat_body("openai/gpt-4o-mini", false), &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(
        resp.json()["choices"][0]["message"]["content"],
        "Hi from OpenAI"
    );
    let got = openai.only();
    assert_eq!(got.path(), "/v1/chat/completions");
    assert_eq!(
        got.header("authorization"),
        Some("Bearer sk-openai-upstream")
    );
    assert_eq!(sent(&got)["model"], "gpt-4o-mini");
    assert!(!got.any_header_contains(ALICE));

    // Bob's key as x-api-key, on the Messages API, to Anthropic natively;
    // his `expires` is in the future.
    let resp = messages(
        &proxy,
        BOB,
        &messages_body("anthropic/claude-sonnet-4-5", false),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json()["content"][0]["text"], "Bonjour");
    let got = anthropic.only();
    assert_eq!(got.header("x-api-key"), Some("sk-ant-upstream"));
    assert_eq!(sent(&got)["model"], "claude-sonnet-4-5");
    assert!(!got.any_header_contains(BOB));

    // Alice's key as x-goog-api-key and as ?key= on the Gemini API.
    let resp = gemini(
        &proxy,
        ALICE,
        "/v1beta/models/openai/gpt-4o-mini:generateContent",
        GEMINI_BODY,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let resp = proxy.request(
        "POST",
        &format!("/v1beta/models/openai/gpt-4o-mini:generateContent?key={ALICE}"),
        &[("content-type", "application/json")],
        GEMINI_BODY,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = openai.received();
    assert_eq!(got.len(), 3);
    assert!(!got[2].target.contains(ALICE), "{}", got[2].target);
    assert!(google.received().is_empty());
    // The log names the key, never shows it (nor its hash).
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["key"], "alice", "{line}");
    assert_eq!(line["api"], "gemini", "{line}");
    for l in proxy.log() {
        for secret in [ALICE.to_string(), BOB.to_string(), sha256_hex(ALICE)] {
            assert!(!l.contains(&secret), "a key reached the log: {l}");
        }
    }
}

#[test]
fn an_unknown_key_is_a_401_in_the_clients_dialect_and_reaches_nobody() {
    let (openai, anthropic, google) = (openai_mock(), anthropic_mock(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[]);
    let resp = chat(
        &proxy,
        UNKNOWN,
        &chat_body("openai/gpt-4o-mini", false),
        &[],
    );
    openai_error(&resp, 401, "invalid_api_key");
    let resp = messages(&proxy, UNKNOWN, &messages_body("openai/gpt-4o-mini", false));
    anthropic_error(&resp, 401);
    let resp = gemini(
        &proxy,
        UNKNOWN,
        "/v1beta/models/openai/gpt-4o-mini:generateContent",
        GEMINI_BODY,
    );
    google_error(&resp, 401);
    // A key's hash is not a key.
    let resp = chat(
        &proxy,
        &sha256_hex(ALICE),
        &chat_body("openai/gpt-4o-mini", false),
        &[],
    );
    openai_error(&resp, 401, "invalid_api_key");
    assert!(openai.received().is_empty());
    assert!(anthropic.received().is_empty());
}

#[test]
fn an_expired_key_is_a_401_key_expired_whether_its_expiry_is_rfc3339_or_unix_seconds() {
    let (openai, anthropic, google) = (openai_mock(), anthropic_mock(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[]);
    for key in [EXPIRED_RFC, EXPIRED_UNIX] {
        let resp = chat(&proxy, key, &chat_body("openai/gpt-4o-mini", false), &[]);
        openai_error(&resp, 401, "key_expired");
        let resp = messages(&proxy, key, &messages_body("openai/gpt-4o-mini", false));
        anthropic_error(&resp, 401);
        let resp = gemini(
            &proxy,
            key,
            "/v1beta/models/openai/gpt-4o-mini:generateContent",
            GEMINI_BODY,
        );
        google_error(&resp, 401);
    }
    assert!(openai.received().is_empty());
}

#[test]
fn a_model_outside_the_keys_list_is_a_403_naming_it_in_each_dialect() {
    let (openai, anthropic, google) = (openai_mock(), anthropic_mock(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[("MODEL_ROUTES", SMART)]);
    let model = "anthropic/claude-sonnet-4-5";

    let resp = chat(&proxy, ALICE, &chat_body(model, false), &[]);
    let message = openai_error(&resp, 403, "model_not_allowed");
    assert!(message.contains(model), "{message}");

    let resp = responses(&proxy, ALICE, &responses_body(model, false));
    let message = openai_error(&resp, 403, "model_not_allowed");
    assert!(message.contains(model), "{message}");

    let resp = messages(&proxy, ALICE, &messages_body(model, false));
    let message = anthropic_error(&resp, 403);
    assert!(message.contains(model), "{message}");

    // A bare model on /v1/messages is checked as what it resolves to.
    let resp = messages(&proxy, ALICE, &messages_body("claude-sonnet-4-5", false));
    let message = anthropic_error(&resp, 403);
    assert!(message.contains("claude-sonnet-4-5"), "{message}");

    let resp = gemini(
        &proxy,
        ALICE,
        &format!("/v1beta/models/{model}:generateContent"),
        GEMINI_BODY,
    );
    let message = google_error(&resp, 403);
    assert!(message.contains(model), "{message}");

    // Bob may use only Anthropic's model: not OpenAI's, not the route.
    let resp = chat(&proxy, BOB, &chat_body("openai/gpt-4o-mini", false), &[]);
    let message = openai_error(&resp, 403, "model_not_allowed");
    assert!(message.contains("openai/gpt-4o-mini"), "{message}");
    let resp = chat(&proxy, BOB, &chat_body("smart", false), &[]);
    let message = openai_error(&resp, 403, "model_not_allowed");
    assert!(message.contains("smart"), "{message}");

    assert!(anthropic.received().is_empty(), "refused, yet sent");
    assert!(openai.received().is_empty(), "refused, yet sent");

    // `openai/*` opens OpenAI's models.
    let resp = chat(&proxy, ALICE, &chat_body("openai/gpt-4o-mini", false), &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(sent(&openai.only())["model"], "gpt-4o-mini");
}

#[test]
fn pass_through_needs_the_providers_wildcard() {
    let (openai, anthropic, google) = (Mock::echo(), Mock::echo(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[]);
    let resp = proxy.request(
        "POST",
        "/anthropic/v1/messages",
        &[
            ("x-api-key", ALICE),
            ("anthropic-version", "2023-06-01"),
            ("content-type", "application/json"),
        ],
        &messages_body("claude-sonnet-4-5", false),
    );
    assert_eq!(resp.status, 403, "{}", resp.text());
    assert!(resp.text().contains("claude") || resp.text().contains("anthropic"));
    let v = resp.json();
    assert!(
        v["error"]["code"] == "model_not_allowed" || v["error"]["type"] == "permission_error",
        "{v}"
    );
    assert!(anthropic.received().is_empty());
    // Alice's `openai/*` opens OpenAI's pass-through.
    let auth = format!("Bearer {ALICE}");
    let resp = proxy.request("GET", "/openai/v1/models", &[("authorization", &auth)], b"");
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(openai.only().path(), "/v1/models");
    // Bob's `anthropic/claude-sonnet-4-5` is one model, not the provider.
    let auth = format!("Bearer {BOB}");
    let resp = proxy.request(
        "GET",
        "/anthropic/v1/models",
        &[("authorization", &auth)],
        b"",
    );
    assert_eq!(resp.status, 403, "{}", resp.text());
    // Carol (no list) passes.
    let auth = format!("Bearer {CAROL}");
    let resp = proxy.request(
        "GET",
        "/anthropic/v1/models",
        &[("authorization", &auth)],
        b"",
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(anthropic.only().path(), "/v1/models");
}

#[test]
fn status_is_for_the_all_access_key_only_which_still_opens_everything() {
    let (openai, anthropic, google) = (openai_mock(), anthropic_mock(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[("MODEL_ROUTES", SMART)]);
    for key in [ALICE, CAROL] {
        let auth = format!("Bearer {key}");
        let resp = proxy.request("GET", "/status", &[("authorization", &auth)], b"");
        openai_error(&resp, 403, "admin_only");
    }
    let resp = proxy.authed("GET", "/status", &[], b"");
    assert_eq!(resp.status, 200, "{}", resp.text());
    // The all-access key: any model, any provider's pass-through.
    let resp = chat(
        &proxy,
        PROXY_KEY,
        &chat_body("anthropic/claude-sonnet-4-5", false),
        &[],
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let resp = messages(
        &proxy,
        PROXY_KEY,
        &messages_body("openai/gpt-4o-mini", false),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let resp = proxy.request(
        "POST",
        "/anthropic/v1/messages",
        &[
            ("x-api-key", PROXY_KEY),
            ("anthropic-version", "2023-06-01"),
        ],
        &messages_body("claude-sonnet-4-5", false),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    // (/status probed the providers' model lists too.)
    assert_eq!(answered(&anthropic, "/v1/messages"), 2);
    assert_eq!(answered(&openai, "/v1/chat/completions"), 1);
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["key"], "all-access", "{line}");
}

// ---------------------------------------------------------------- 2. model lists

fn models_mocks() -> (Mock, Mock) {
    // OPENAI_BASE_URL and GROQ_BASE_URL both point here: Groq lists none.
    let openai = Mock::start(|r| {
        if r.path() != "/v1/models" {
            return MockResponse::json(200, r#"{"object":"list","data":[]}"#);
        }
        MockResponse::json(
            200,
            r#"{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1,"owned_by":"openai"},{"id":"gpt-4.1","object":"model","created":2,"owned_by":"openai"}]}"#,
        )
    });
    let anthropic = Mock::start(|_| {
        MockResponse::json(
            200,
            r#"{"data":[{"type":"model","id":"claude-sonnet-4-5","display_name":"Claude Sonnet 4.5","created_at":"2025-09-29T00:00:00Z"}],"has_more":false}"#,
        )
    });
    (openai, anthropic)
}

fn model_ids(resp: &Response) -> Vec<String> {
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.json()["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data: {}", resp.text()))
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_model_list_names_the_routes_and_a_client_key_sees_only_what_it_may_use() {
    let (openai, anthropic) = models_mocks();
    let google = Mock::start(|_| MockResponse::json(200, r#"{"models":[]}"#));
    let routes = r#"{"smart":["openai/gpt-4.1","anthropic/claude-sonnet-4-5"],"fast":["openai/gpt-4o-mini"]}"#;
    let proxy = team_proxy(&openai, &anthropic, &google, &[("MODEL_ROUTES", routes)]);

    let resp = proxy.authed("GET", "/v1/models", &[], b"");
    let ids = model_ids(&resp);
    for id in [
        "smart",
        "fast",
        "openai/gpt-4o-mini",
        "openai/gpt-4.1",
        "anthropic/claude-sonnet-4-5",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} missing from {ids:?}");
    }
    let smart = resp.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "smart")
        .cloned()
        .unwrap();
    assert_eq!(smart["owned_by"], "llm-proxy");
    assert_eq!(smart["object"], "model");

    // Alice: `openai/*` and `smart` — not Anthropic's models, not `fast`.
    let auth = format!("Bearer {ALICE}");
    let ids = model_ids(&proxy.request("GET", "/v1/models", &[("authorization", &auth)], b""));
    let mut want = vec!["openai/gpt-4.1", "openai/gpt-4o-mini", "smart"];
    want.sort();
    let mut got: Vec<&str> = ids.iter().map(String::as_str).collect();
    got.sort();
    assert_eq!(got, want);

    // Bob: one Anthropic model.
    let auth = format!("Bearer {BOB}");
    let ids = model_ids(&proxy.request("GET", "/v1/models", &[("authorization", &auth)], b""));
    assert_eq!(ids, ["anthropic/claude-sonnet-4-5"]);
}

// ---------------------------------------------------------------- 3. no shared store

/// The first key named `name` anywhere in `v`.
fn find_key<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match v {
        Value::Object(o) => o
            .get(name)
            .or_else(|| o.values().find_map(|x| find_key(x, name))),
        Value::Array(a) => a.iter().find_map(|x| find_key(x, name)),
        _ => None,
    }
}

#[test]
fn without_a_shared_store_limits_and_usage_are_a_503_that_says_why() {
    let (openai, anthropic, google) = (openai_mock(), anthropic_mock(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[]);
    let resp = chat(
        &proxy,
        LIMITED,
        &chat_body("openai/gpt-4o-mini", false),
        &[],
    );
    openai_error(&resp, 503, "limits_need_shared_store");
    let resp = messages(&proxy, LIMITED, &messages_body("openai/gpt-4o-mini", false));
    anthropic_error(&resp, 503);
    let resp = gemini(
        &proxy,
        LIMITED,
        "/v1beta/models/openai/gpt-4o-mini:generateContent",
        GEMINI_BODY,
    );
    google_error(&resp, 503);
    assert!(openai.received().is_empty(), "a limited key was sent");

    let resp = proxy.authed("GET", "/usage", &[], b"");
    openai_error(&resp, 503, "usage_needs_shared_store");
    let auth = format!("Bearer {ALICE}");
    let resp = proxy.request("GET", "/usage", &[("authorization", &auth)], b"");
    openai_error(&resp, 503, "usage_needs_shared_store");

    let status = proxy.authed("GET", "/status", &[], b"").json();
    let store = find_key(&status, "store").unwrap_or_else(|| panic!("no 'store' in {status}"));
    // Its shape is free; it must say why, in words.
    fn words(v: &Value) -> bool {
        match v {
            Value::String(s) => s.split_whitespace().count() >= 3,
            Value::Object(o) => o.values().any(words),
            Value::Array(a) => a.iter().any(words),
            _ => false,
        }
    }
    assert!(
        words(store),
        "/status should say why there is no store: {store}"
    );
    assert_ne!(store["shared"], true, "{store}");

    // A key without limits works.
    let resp = chat(&proxy, ALICE, &chat_body("openai/gpt-4o-mini", false), &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    // (/status probed the providers' model lists too.)
    assert_eq!(answered(&openai, "/v1/chat/completions"), 1);
}

// ---------------------------------------------------------------- 4. routes

/// OpenAI answering `failure` (with `Retry-After: 1` on a 429) for
/// `gpt-4.1` on any path, a chat answer otherwise.
fn failing_openai(failure: u16) -> Mock {
    Mock::start(move |r| {
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        if body["model"] == "gpt-4.1" {
            let resp = MockResponse::json(
                failure,
                r#"{"error":{"message":"upstream says no","type":"invalid_request_error","code":"nope"}}"#,
            );
            return if failure == 429 {
                resp.header("retry-after", "1")
            } else {
                resp
            };
        }
        MockResponse::json(
            200,
            &json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hi from OpenAI"}}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}})
            .to_string(),
        )
    })
}

fn route_proxy(openai: &Mock, anthropic: &Mock, routes: &str) -> (Proxy, Mock) {
    let google = Mock::echo();
    let proxy = team_proxy(openai, anthropic, &google, &[("MODEL_ROUTES", routes)]);
    (proxy, google)
}

/// The route's headers: the target that answered, and every attempt.
fn assert_route_headers(resp: &Response, target: &str, attempts: u32) {
    assert_eq!(
        resp.header("x-llm-proxy-route"),
        Some(target),
        "{:?}",
        resp.headers
    );
    assert_eq!(
        resp.header("x-llm-proxy-attempts"),
        Some(attempts.to_string().as_str()),
        "{:?}",
        resp.headers
    );
}

/// The OpenAI target got `gpt-4.1` (once) on `path`; Anthropic got a
/// Messages body for `claude-sonnet-4-5` (once). Returns both bodies.
fn assert_both_targets_tried(openai: &Mock, anthropic: &Mock, openai_path: &str) -> (Value, Value) {
    let first = openai.only();
    assert_eq!(first.path(), openai_path);
    assert_eq!(
        first.header("authorization"),
        Some("Bearer sk-openai-upstream")
    );
    let first_body = sent(&first);
    assert_eq!(first_body["model"], "gpt-4.1", "{first_body}");
    let second = anthropic.only();
    assert_eq!(second.path(), "/v1/messages");
    assert_eq!(second.header("x-api-key"), Some("sk-ant-upstream"));
    assert!(second.header("anthropic-version").is_some());
    let second_body = sent(&second);
    assert_eq!(second_body["model"], "claude-sonnet-4-5", "{second_body}");
    assert!(
        second_body["max_tokens"].as_u64().is_some(),
        "{second_body}"
    );
    assert_eq!(second_body["messages"][0]["role"], "user", "{second_body}");
    (first_body, second_body)
}

#[test]
fn a_chat_client_on_a_route_falls_back_from_a_429_to_anthropic_translated() {
    let (openai, anthropic) = (failing_openai(429), anthropic_mock());
    let (proxy, _google) = route_proxy(&openai, &anthropic, SMART);
    let resp = chat(&proxy, ALICE, &chat_body("smart", false), &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_route_headers(&resp, "anthropic/claude-sonnet-4-5", 2);
    let v = resp.json();
    assert_eq!(v["object"], "chat.completion", "{v}");
    assert_eq!(v["choices"][0]["message"]["content"], "Bonjour", "{v}");
    assert_eq!(v["model"], "anthropic/claude-sonnet-4-5", "{v}");
    assert_eq!(v["usage"]["prompt_tokens"], 5, "{v}");
    let (first, second) = assert_both_targets_tried(&openai, &anthropic, "/v1/chat/completions");
    assert_eq!(
        first["messages"],
        json!([{"role": "user", "content": "hi"}])
    );
    assert_ne!(second["stream"], true, "{second}");
    // The user turn, as a string or one text block.
    let turn = &second["messages"][0];
    assert_eq!(turn["role"], "user", "{second}");
    assert!(
        turn["content"] == "hi" || turn["content"] == json!([{"type": "text", "text": "hi"}]),
        "{second}"
    );
    // The log line: the route, the target that answered, both attempts.
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["route"], "smart", "{line}");
    assert_eq!(line["api"], "chat", "{line}");
    assert_eq!(line["key"], "alice", "{line}");
    assert_logged_model(&line, "anthropic", "claude-sonnet-4-5");
    assert_eq!(line["attempts"], 2, "{line}");
    assert_eq!(line["status"], 200, "{line}");
    assert_tokens(&line, 5, 2, 0, 0);
}

#[test]
fn a_messages_client_on_a_route_is_translated_for_openai_and_native_for_anthropic() {
    let (openai, anthropic) = (failing_openai(429), anthropic_mock());
    let (proxy, _google) = route_proxy(&openai, &anthropic, SMART);
    let original = json!({"model": "smart", "max_tokens": 64,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "hi"}]});
    let resp = messages(&proxy, ALICE, original.to_string().as_bytes());
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_route_headers(&resp, "anthropic/claude-sonnet-4-5", 2);
    let v = resp.json();
    assert_eq!(v["type"], "message", "{v}");
    assert_eq!(v["content"][0]["text"], "Bonjour", "{v}");
    assert!(
        v["model"]
            .as_str()
            .unwrap_or("")
            .ends_with("claude-sonnet-4-5"),
        "{v}"
    );
    let (first, second) = assert_both_targets_tried(&openai, &anthropic, "/v1/chat/completions");
    // The OpenAI target got chat: the system as a message.
    assert_eq!(first["messages"][0]["role"], "system", "{first}");
    assert_eq!(
        first["messages"][1],
        json!({"role": "user", "content": "hi"})
    );
    // Anthropic got the client's own Messages body but for the model.
    let mut want = original.clone();
    want["model"] = json!("claude-sonnet-4-5");
    assert_eq!(second, want);
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["api"], "messages", "{line}");
    assert_eq!(line["route"], "smart", "{line}");
    assert_eq!(line["attempts"], 2, "{line}");
}

#[test]
fn a_gemini_client_on_a_route_falls_back_to_anthropic() {
    let (openai, anthropic) = (failing_openai(429), anthropic_mock());
    let (proxy, google) = route_proxy(&openai, &anthropic, SMART);
    let resp = gemini(
        &proxy,
        ALICE,
        "/v1beta/models/smart:generateContent",
        GEMINI_BODY,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_route_headers(&resp, "anthropic/claude-sonnet-4-5", 2);
    let v = resp.json();
    assert_eq!(
        v["candidates"][0]["content"]["parts"][0]["text"], "Bonjour",
        "{v}"
    );
    assert_eq!(v["candidates"][0]["finishReason"], "STOP", "{v}");
    assert_eq!(v["modelVersion"], "anthropic/claude-sonnet-4-5", "{v}");
    let (first, _) = assert_both_targets_tried(&openai, &anthropic, "/v1/chat/completions");
    assert_eq!(first["messages"][0]["content"], "hi", "{first}");
    assert!(
        google.received().is_empty(),
        "the route is not a Gemini model"
    );
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["api"], "gemini", "{line}");
    assert_eq!(line["route"], "smart", "{line}");
}

#[test]
fn a_responses_client_on_a_route_falls_back_to_anthropic() {
    let (openai, anthropic) = (failing_openai(429), anthropic_mock());
    let (proxy, _google) = route_proxy(&openai, &anthropic, SMART);
    let resp = responses(&proxy, ALICE, &responses_body("smart", false));
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_route_headers(&resp, "anthropic/claude-sonnet-4-5", 2);
    let v = resp.json();
    assert_eq!(v["object"], "response", "{v}");
    let text = v["output"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .flat_map(|o| o["content"].as_array().cloned().unwrap_or_default())
        .filter_map(|c| c["text"].as_str().map(String::from))
        .collect::<String>();
    assert_eq!(text, "Bonjour", "{v}");
    // OpenAI speaks Responses natively: its target got /v1/responses.
    let (first, _) = assert_both_targets_tried(&openai, &anthropic, "/v1/responses");
    assert_eq!(first["input"], "hi", "{first}");
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["api"], "responses", "{line}");
    assert_eq!(line["attempts"], 2, "{line}");
}

/// The `data:` payloads of a chat stream.
fn chat_stream_data(resp: &Response) -> Vec<String> {
    resp.text()
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|e| {
            e.lines()
                .find_map(|l| l.strip_prefix("data: ").or_else(|| l.strip_prefix("data:")))
                .map(|d| d.trim().to_string())
        })
        .collect()
}

#[test]
fn a_streamed_chat_on_a_route_is_anthropics_stream_translated() {
    let (openai, anthropic) = (failing_openai(503), anthropic_mock());
    let (proxy, _google) = route_proxy(&openai, &anthropic, SMART);
    let resp = chat(&proxy, ALICE, &chat_body("smart", true), &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    assert_route_headers(&resp, "anthropic/claude-sonnet-4-5", 2);
    let (first, second) = assert_both_targets_tried(&openai, &anthropic, "/v1/chat/completions");
    assert_eq!(first["stream"], true);
    assert_eq!(second["stream"], true);
    let data = chat_stream_data(&resp);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"), "{data:?}");
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("{e}: {d}")))
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Bonjour");
    assert!(chunks
        .iter()
        .all(|c| c["object"] == "chat.completion.chunk"));
    assert!(chunks
        .iter()
        .any(|c| c["choices"][0]["finish_reason"] == "stop"));
    // As the upstream sent it, event by event (150 ms apart).
    let bon = resp.arrival_of("Bon").unwrap();
    let done = resp.arrival_of("[DONE]").unwrap();
    assert!(done - bon >= Duration::from_millis(300), "{bon:?} {done:?}");
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["attempts"], 2, "{line}");
    assert_tokens(&line, 12, 4, 0, 0);
}

#[test]
fn a_streamed_messages_turn_on_a_route_is_anthropics_native_stream() {
    let (openai, anthropic) = (failing_openai(429), anthropic_mock());
    let (proxy, _google) = route_proxy(&openai, &anthropic, SMART);
    let resp = messages(&proxy, ALICE, &messages_body("smart", true));
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    assert_route_headers(&resp, "anthropic/claude-sonnet-4-5", 2);
    let (first, second) = assert_both_targets_tried(&openai, &anthropic, "/v1/chat/completions");
    assert_eq!(first["stream"], true, "{first}");
    assert_eq!(second["stream"], true, "{second}");
    let events = sse_events(&resp);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"), "{names:?}");
    assert_eq!(names.last(), Some(&"message_stop"), "{names:?}");
    let text: String = events
        .iter()
        .filter_map(|(_, d)| d["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "Bonjour");
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["api"], "messages", "{line}");
    assert_eq!(line["attempts"], 2, "{line}");
    assert_tokens(&line, 12, 4, 0, 0);
}

#[test]
fn attempts_count_every_key_of_every_target() {
    let (openai, anthropic) = (failing_openai(500), anthropic_mock());
    let google = Mock::echo();
    let proxy = team_proxy(
        &openai,
        &anthropic,
        &google,
        &[
            ("MODEL_ROUTES", SMART),
            ("OPENAI_API_KEY", "sk-openai-a,sk-openai-b"),
            ("RETRY", "1"),
        ],
    );
    let resp = chat(&proxy, ALICE, &chat_body("smart", false), &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    // Both OpenAI keys (RETRY=1), then Anthropic.
    assert_route_headers(&resp, "anthropic/claude-sonnet-4-5", 3);
    let mut keys: Vec<String> = openai
        .received()
        .iter()
        .map(|r| r.header("authorization").unwrap_or("").to_string())
        .collect();
    keys.sort();
    assert_eq!(keys, ["Bearer sk-openai-a", "Bearer sk-openai-b"]);
    assert_eq!(anthropic.received().len(), 1);
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["attempts"], 3, "{line}");
}

#[test]
fn a_400_from_the_first_target_is_the_clients_answer_and_a_5xx_falls_back() {
    let (openai, anthropic) = (failing_openai(400), anthropic_mock());
    let (proxy, _google) = route_proxy(&openai, &anthropic, SMART);
    let resp = chat(&proxy, ALICE, &chat_body("smart", false), &[]);
    assert_eq!(resp.status, 400, "{}", resp.text());
    assert!(resp.text().contains("upstream says no"), "{}", resp.text());
    assert_eq!(sent(&openai.only())["model"], "gpt-4.1");
    assert!(anthropic.received().is_empty(), "a 400 was fallen back");

    let (openai, anthropic) = (failing_openai(500), anthropic_mock());
    let (proxy, _google) = route_proxy(&openai, &anthropic, SMART);
    let resp = chat(&proxy, ALICE, &chat_body("smart", false), &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_route_headers(&resp, "anthropic/claude-sonnet-4-5", 2);
    assert_both_targets_tried(&openai, &anthropic, "/v1/chat/completions");
}

#[test]
fn a_one_target_route_is_an_alias() {
    let (openai, anthropic) = (openai_mock(), anthropic_mock());
    let (proxy, _google) = route_proxy(
        &openai,
        &anthropic,
        r#"{"claude-sonnet-4-5":["openai/gpt-4o-mini"]}"#,
    );
    let resp = messages(
        &proxy,
        PROXY_KEY,
        &messages_body("claude-sonnet-4-5", false),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_route_headers(&resp, "openai/gpt-4o-mini", 1);
    let v = resp.json();
    assert_eq!(v["type"], "message", "{v}");
    assert_eq!(v["content"][0]["text"], "Hi from OpenAI", "{v}");
    let got = openai.only();
    assert_eq!(got.path(), "/v1/chat/completions");
    assert_eq!(sent(&got)["model"], "gpt-4o-mini");
    assert!(anthropic.received().is_empty());
}

#[test]
fn round_robin_uses_both_targets() {
    let (openai, anthropic) = (openai_mock(), anthropic_mock());
    let routes = r#"{"rr":{"targets":["openai/gpt-4o-mini","anthropic/claude-sonnet-4-5"],"strategy":"round-robin"}}"#;
    let (proxy, _google) = route_proxy(&openai, &anthropic, routes);
    let mut targets = Vec::new();
    for _ in 0..10 {
        let resp = chat(&proxy, PROXY_KEY, &chat_body("rr", false), &[]);
        assert_eq!(resp.status, 200, "{}", resp.text());
        targets.push(resp.header("x-llm-proxy-route").unwrap_or("-").to_string());
        assert_eq!(resp.header("x-llm-proxy-attempts"), Some("1"));
    }
    let (o, a) = (openai.received().len(), anthropic.received().len());
    assert_eq!(o + a, 10, "{targets:?}");
    // The counter is the instance's own: a WASIp3 instance serves many
    // requests, a WASIp2 one only one (its counter starts afresh each time).
    if edge() == "p3" {
        assert!(o > 0 && a > 0, "one target only: {targets:?}");
    }
}

// ---------------------------------------------------------------- 5. usage in the log line

#[test]
fn a_chat_answers_usage_is_logged_with_cached_and_reasoning_tokens_and_its_cost() {
    let openai = Mock::start(|r| {
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        MockResponse::json(
            200,
            &json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12,
                          "prompt_tokens_details": {"cached_tokens": 4},
                          "completion_tokens_details": {"reasoning_tokens": 2}}})
            .to_string(),
        )
    });
    let (anthropic, google) = (anthropic_mock(), Mock::echo());
    let prices = r#"{"openai/gpt-4o-mini":{"input":2.0,"output":8.0,"cached_input":0.5}}"#;
    let proxy = team_proxy(&openai, &anthropic, &google, &[("MODEL_PRICES", prices)]);
    let resp = chat(&proxy, ALICE, &chat_body("openai/gpt-4o-mini", false), &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["key"], "alice", "{line}");
    assert_eq!(line["method"], "POST", "{line}");
    assert_eq!(line["path"], "/v1/chat/completions", "{line}");
    assert_eq!(line["api"], "chat", "{line}");
    assert!(line["route"].is_null(), "{line}");
    assert_logged_model(&line, "openai", "gpt-4o-mini");
    assert_eq!(line["status"], 200, "{line}");
    assert_eq!(line["upstream_status"], 200, "{line}");
    assert_eq!(line["attempts"], 1, "{line}");
    assert_timings(&line);
    assert_tokens(&line, 9, 3, 4, 2);
    // 5 fresh input tokens at $2, 4 cached at $0.5, 3 output at $8 per million.
    let cost = line["cost_usd"]
        .as_f64()
        .unwrap_or_else(|| panic!("cost_usd: {line}"));
    assert!((cost - 0.000036).abs() < 1e-9, "{line}");
    // Exactly one line for the one request.
    let id = resp.header("x-request-id").unwrap();
    let lines = proxy
        .request_logs()
        .into_iter()
        .filter(|l| l["request_id"] == id)
        .count();
    assert_eq!(lines, 1);
}

#[test]
fn a_chat_stream_asks_for_usage_logs_it_and_hides_it_from_a_client_that_did_not_ask() {
    let (openai, anthropic, google) = (openai_mock(), anthropic_mock(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[]);
    let resp = chat(&proxy, CAROL, &chat_body("openai/gpt-4o-mini", true), &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = openai.only();
    assert_eq!(
        sent(&got)["stream_options"],
        json!({"include_usage": true}),
        "the proxy asks for usage"
    );
    let data = chat_stream_data(&resp);
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    for d in &data[..data.len() - 1] {
        let c: Value = serde_json::from_str(d).unwrap();
        assert_ne!(
            c["choices"],
            json!([]),
            "a usage-only chunk reached the client: {d}"
        );
        assert!(
            c["usage"].is_null(),
            "usage reached a client that did not ask: {d}"
        );
    }
    let text: String = data[..data.len() - 1]
        .iter()
        .filter_map(|d| {
            serde_json::from_str::<Value>(d).unwrap()["choices"][0]["delta"]["content"]
                .as_str()
                .map(String::from)
        })
        .collect();
    assert_eq!(text, "Hello world");
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["key"], "carol", "{line}");
    assert_eq!(line["api"], "chat", "{line}");
    assert_timings(&line);
    assert_tokens(&line, 11, 7, 0, 0);

    // A client that asked gets the usage chunk, as sent.
    let body = json!({"model": "openai/gpt-4o-mini", "stream": true,
        "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "hi"}]});
    let resp = chat(&proxy, CAROL, body.to_string().as_bytes(), &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    let usage: Vec<Value> = chat_stream_data(&resp)
        .iter()
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter(|c| c["choices"] == json!([]))
        .collect();
    assert_eq!(usage.len(), 1, "{}", resp.text());
    assert_eq!(usage[0]["usage"]["prompt_tokens"], 11);
    let line = proxy.request_log_of(&resp);
    assert_tokens(&line, 11, 7, 0, 0);
}

#[test]
fn a_messages_stream_from_anthropic_is_logged_with_its_usage() {
    let (openai, anthropic, google) = (openai_mock(), anthropic_mock(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[]);
    let resp = messages(
        &proxy,
        BOB,
        &messages_body("anthropic/claude-sonnet-4-5", true),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let names: Vec<String> = sse_events(&resp).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.last().map(String::as_str), Some("message_stop"));
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["key"], "bob", "{line}");
    assert_eq!(line["api"], "messages", "{line}");
    assert_logged_model(&line, "anthropic", "claude-sonnet-4-5");
    assert_timings(&line);
    // message_start's input, message_delta's (cumulative) output.
    assert_tokens(&line, 12, 4, 0, 0);

    // Translated to OpenAI: the chat stream's usage.
    let resp = messages(&proxy, CAROL, &messages_body("openai/gpt-4o-mini", true));
    assert_eq!(resp.status, 200, "{}", resp.text());
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["api"], "messages", "{line}");
    assert_logged_model(&line, "openai", "gpt-4o-mini");
    assert_tokens(&line, 11, 7, 0, 0);
}

#[test]
fn anthropic_cache_reads_count_as_cached_input_tokens() {
    let anthropic = Mock::start(|_| {
        MockResponse::json(
            200,
            r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":5,"cache_read_input_tokens":10,"cache_creation_input_tokens":2,"output_tokens":3}}"#,
        )
    });
    let (openai, google) = (openai_mock(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[]);
    let resp = messages(
        &proxy,
        BOB,
        &messages_body("anthropic/claude-sonnet-4-5", false),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let line = proxy.request_log_of(&resp);
    // Input tokens include cached ones (read and written).
    assert_tokens(&line, 17, 3, 10, 0);
}

#[test]
fn a_responses_stream_is_logged_with_its_usage() {
    let openai = Mock::start(|r| {
        assert_eq!(r.path(), "/v1/responses");
        let ev = |data: Value| {
            format!(
                "event: {}\ndata: {data}\n\n",
                data["type"].as_str().unwrap()
            )
            .into_bytes()
        };
        let resp = json!({"id": "resp_1", "object": "response", "status": "in_progress",
                          "model": "gpt-5", "output": []});
        let mut done = resp.clone();
        done["status"] = json!("completed");
        done["usage"] = json!({"input_tokens": 20, "input_tokens_details": {"cached_tokens": 5},
                               "output_tokens": 8, "output_tokens_details": {"reasoning_tokens": 3},
                               "total_tokens": 28});
        MockResponse::events(vec![
            (
                Duration::ZERO,
                ev(json!({"type": "response.created", "sequence_number": 0, "response": resp})),
            ),
            (
                Duration::from_millis(50),
                ev(
                    json!({"type": "response.output_text.delta", "sequence_number": 1,
                          "item_id": "msg_1", "output_index": 0, "content_index": 0, "delta": "ok"}),
                ),
            ),
            (
                Duration::from_millis(50),
                ev(json!({"type": "response.completed", "sequence_number": 2, "response": done})),
            ),
        ])
    });
    let (anthropic, google) = (anthropic_mock(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[]);
    let resp = responses(&proxy, ALICE, &responses_body("openai/gpt-5", true));
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(resp.text().contains("response.completed"));
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["api"], "responses", "{line}");
    assert_eq!(line["key"], "alice", "{line}");
    assert_logged_model(&line, "openai", "gpt-5");
    assert_timings(&line);
    assert_tokens(&line, 20, 8, 5, 3);

    // Translated (a Responses client to Anthropic): the Messages stream's usage.
    let resp = responses(
        &proxy,
        CAROL,
        &responses_body("anthropic/claude-sonnet-4-5", true),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["api"], "responses", "{line}");
    assert_tokens(&line, 12, 4, 0, 0);
}

#[test]
fn a_gemini_stream_is_logged_with_its_usage() {
    let google = Mock::start(|_| {
        MockResponse::events(vec![
            (
                Duration::ZERO,
                b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}],\"role\":\"model\"}}],\"modelVersion\":\"gemini-2.5-flash\"}\r\n\r\n".to_vec(),
            ),
            (
                Duration::from_millis(50),
                b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"!\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":7,\"cachedContentTokenCount\":2,\"candidatesTokenCount\":5,\"thoughtsTokenCount\":4,\"totalTokenCount\":16},\"modelVersion\":\"gemini-2.5-flash\"}\r\n\r\n".to_vec(),
            ),
        ])
    });
    let (openai, anthropic) = (openai_mock(), anthropic_mock());
    let proxy = team_proxy(&openai, &anthropic, &google, &[]);
    let resp = gemini(
        &proxy,
        CAROL,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        GEMINI_BODY,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert!(google.only().path().ends_with(":streamGenerateContent"));
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["api"], "gemini", "{line}");
    assert_eq!(line["key"], "carol", "{line}");
    assert_timings(&line);
    // Output includes the thoughts; input includes the cached content.
    assert_tokens(&line, 7, 9, 2, 4);

    // Translated (a Gemini client to OpenAI, streamed): the chat usage.
    let resp = gemini(
        &proxy,
        CAROL,
        "/v1beta/models/openai/gpt-4o-mini:streamGenerateContent?alt=sse",
        GEMINI_BODY,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let line = proxy.request_log_of(&resp);
    assert_eq!(line["api"], "gemini", "{line}");
    assert_logged_model(&line, "openai", "gpt-4o-mini");
    assert_tokens(&line, 11, 7, 0, 0);
}

#[test]
fn the_log_line_has_every_field_of_the_contract() {
    let (openai, anthropic, google) = (openai_mock(), anthropic_mock(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[]);
    let resp = chat(&proxy, CAROL, &chat_body("openai/gpt-4o-mini", false), &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    let line = proxy.request_log_of(&resp);
    let fields = line.as_object().unwrap();
    for f in [
        "event",
        "request_id",
        "key",
        "method",
        "path",
        "api",
        "route",
        "provider",
        "model",
        "status",
        "upstream_status",
        "attempts",
        "ms",
        "first_byte_ms",
        "input_tokens",
        "output_tokens",
        "cached_tokens",
        "reasoning_tokens",
        "cost_usd",
    ] {
        assert!(fields.contains_key(f), "no '{f}' (null is fine): {line}");
    }
}

#[test]
fn an_answer_without_usage_logs_null_tokens() {
    let openai = Mock::start(|_| {
        MockResponse::json(
            200,
            r#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"ok"}}]}"#,
        )
    });
    let (anthropic, google) = (anthropic_mock(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[]);
    let resp = chat(&proxy, CAROL, &chat_body("openai/gpt-4o-mini", false), &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    let line = proxy.request_log_of(&resp);
    for f in [
        "input_tokens",
        "output_tokens",
        "cached_tokens",
        "reasoning_tokens",
    ] {
        assert!(line[f].is_null(), "{f}: {line}");
    }
}

// ---------------------------------------------------------------- 6. x-request-id

#[test]
fn a_valid_request_id_is_echoed_and_logged() {
    let (openai, anthropic, google) = (openai_mock(), anthropic_mock(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[]);
    let id = "req.ABC_123:x-y/z+w=";
    let resp = chat(
        &proxy,
        CAROL,
        &chat_body("openai/gpt-4o-mini", false),
        &[("x-request-id", id)],
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("x-request-id"), Some(id));
    let line = proxy.wait_request_log(|l| l["request_id"] == id);
    assert_eq!(line["key"], "carol");
    // 128 characters is still valid.
    let long = "a".repeat(128);
    let resp = chat(
        &proxy,
        CAROL,
        &chat_body("openai/gpt-4o-mini", false),
        &[("x-request-id", &long)],
    );
    assert_eq!(resp.header("x-request-id"), Some(long.as_str()));
}

#[test]
fn an_invalid_request_id_is_replaced_by_a_generated_one() {
    let (openai, anthropic, google) = (openai_mock(), anthropic_mock(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[]);
    for bad in [
        "x".repeat(200),
        "has spaces in it".to_string(),
        "semi;colon".to_string(),
    ] {
        let resp = chat(
            &proxy,
            CAROL,
            &chat_body("openai/gpt-4o-mini", false),
            &[("x-request-id", &bad)],
        );
        assert_eq!(resp.status, 200, "{}", resp.text());
        let got = resp.header("x-request-id").unwrap_or("").to_string();
        assert!(is_hex32(&got), "{bad:?} → {got:?}");
        let line = proxy.request_log_of(&resp);
        assert_eq!(line["request_id"], got.as_str());
        assert!(
            proxy
                .request_logs()
                .iter()
                .all(|l| l["request_id"] != bad.as_str()),
            "the invalid id was logged"
        );
    }
}

#[test]
fn every_response_carries_a_request_id_even_ping_and_a_401() {
    let (openai, anthropic, google) = (openai_mock(), anthropic_mock(), Mock::echo());
    let proxy = team_proxy(&openai, &anthropic, &google, &[]);
    let ping1 = proxy.request("GET", "/ping", &[], b"");
    let ping2 = proxy.request("GET", "/ping", &[], b"");
    let refused = chat(
        &proxy,
        UNKNOWN,
        &chat_body("openai/gpt-4o-mini", false),
        &[],
    );
    assert_eq!(refused.status, 401);
    let answered = chat(&proxy, CAROL, &chat_body("openai/gpt-4o-mini", false), &[]);
    let mut ids = Vec::new();
    for r in [&ping1, &ping2, &refused, &answered] {
        let id = r
            .header("x-request-id")
            .unwrap_or_else(|| panic!("no x-request-id: {} {:?}", r.status, r.headers));
        assert!(is_hex32(id), "{id}");
        ids.push(id.to_string());
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "ids repeat: {ids:?}");
    // A client's id comes back on a refusal too.
    let refused = chat(
        &proxy,
        UNKNOWN,
        &chat_body("openai/gpt-4o-mini", false),
        &[("x-request-id", "mine-1")],
    );
    assert_eq!(refused.header("x-request-id"), Some("mine-1"));
}

// ---------------------------------------------------------------- 7. under `spin up`: limits and usage

fn spin_skip() -> bool {
    if spin_binary().is_none() {
        eprintln!(
            "SKIPPED: no spin binary (set SPIN= or put spin on PATH) — Spin team tests not run"
        );
        return true;
    }
    false
}

/// `carol`, `alice`, a key with `rpm: 2`, one with `daily_tokens: 20`, one
/// with `tpm: 15`.
const DAILY: &str = "sk-team-daily-1234567890";
const TPM: &str = "sk-team-tpm-0987654321";

fn spin_keys() -> String {
    json!([
        {"name": "alice", "sha256": sha256_hex(ALICE), "models": ["openai/*", "smart"]},
        {"name": "carol", "sha256": sha256_hex(CAROL)},
        {"name": "limited", "sha256": sha256_hex(LIMITED), "rpm": 2},
        {"name": "daily", "sha256": sha256_hex(DAILY), "daily_tokens": 20},
        {"name": "tpm", "sha256": sha256_hex(TPM), "tpm": 15},
    ])
    .to_string()
}

const PRICES: &str = r#"{"openai/gpt-4o-mini":{"input":2.0,"output":8.0,"cached_input":0.5},"claude-sonnet-4-5":{"input":3.0,"output":15.0}}"#;

/// OpenAI answering every chat with 9 input (4 cached) and 3 output (2
/// reasoning) tokens: 12 a request.
fn usage_openai() -> Mock {
    Mock::start(|r| {
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        MockResponse::json(
            200,
            &json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": body["model"],
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12,
                          "prompt_tokens_details": {"cached_tokens": 4},
                          "completion_tokens_details": {"reasoning_tokens": 2}}})
            .to_string(),
        )
    })
}

fn spin_proxy(openai: &Mock, anthropic: &Mock, routes: Option<&str>) -> Option<Proxy> {
    let mut component_env = env(&[("PROXY_KEYS", &spin_keys()), ("MODEL_PRICES", PRICES)]);
    if let Some(r) = routes {
        component_env.extend(env(&[("MODEL_ROUTES", r)]));
    }
    Proxy::start_spin(
        &env(&[
            ("PROXY_API_KEY", PROXY_KEY),
            ("OPENAI_API_KEY", "sk-openai-upstream"),
            ("OPENAI_BASE_URL", &openai.url("/v1")),
            ("ANTHROPIC_API_KEY", "sk-ant-upstream"),
            ("ANTHROPIC_BASE_URL", &anthropic.url("")),
        ]),
        &component_env,
        &[openai.port, anthropic.port],
    )
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Today's UTC date, `YYYY-MM-DD` (civil from days, proleptic Gregorian).
fn utc_date() -> String {
    let z = (unix_now() / 86400) as i64 + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Waits, when fewer than `margin` seconds remain in this minute, for the
/// next one (the limits count per unix minute).
fn not_at_the_end_of_a_minute(margin: u64) {
    let into = unix_now() % 60;
    if 60 - into < margin {
        std::thread::sleep(Duration::from_secs(60 - into) + Duration::from_millis(200));
    }
}

/// `/usage` as `key` sees it, polled until `ready` (up to 2 s: usage is
/// written after the client's body closed).
fn usage_until(proxy: &Proxy, key: &str, ready: impl Fn(&Value) -> bool) -> Value {
    let auth = format!("Bearer {key}");
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let resp = proxy.request("GET", "/usage", &[("authorization", &auth)], b"");
        assert_eq!(resp.status, 200, "{}", resp.text());
        let v = resp.json();
        if ready(&v) || Instant::now() > deadline {
            return v;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn usage_of<'a>(usage: &'a Value, name: &str) -> Option<&'a Value> {
    usage["keys"].as_array()?.iter().find(|k| k["name"] == name)
}

fn requests_today(usage: &Value, name: &str) -> u64 {
    usage_of(usage, name)
        .and_then(|k| k["today"]["requests"].as_u64())
        .unwrap_or(0)
}

#[test]
fn spin_a_keys_rpm_is_enforced_in_the_clients_dialect_and_lifts_after_retry_after() {
    if spin_skip() {
        return;
    }
    let (openai, anthropic) = (usage_openai(), anthropic_mock());
    let proxy = spin_proxy(&openai, &anthropic, None).unwrap();
    not_at_the_end_of_a_minute(8);
    let resp = chat(
        &proxy,
        LIMITED,
        &chat_body("openai/gpt-4o-mini", false),
        &[],
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let resp = messages(&proxy, LIMITED, &messages_body("openai/gpt-4o-mini", false));
    assert_eq!(resp.status, 200, "{}", resp.text());

    let resp = chat(
        &proxy,
        LIMITED,
        &chat_body("openai/gpt-4o-mini", false),
        &[],
    );
    let message = openai_error(&resp, 429, "rate_limit_exceeded");
    assert!(message.contains("rpm"), "the limit is named: {message}");
    let retry: u64 = resp
        .header("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After: {:?}", resp.headers))
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let resp = messages(&proxy, LIMITED, &messages_body("openai/gpt-4o-mini", false));
    let message = anthropic_error(&resp, 429);
    assert!(message.contains("rpm"), "{message}");
    assert!(resp.header("retry-after").is_some());
    let resp = gemini(
        &proxy,
        LIMITED,
        "/v1beta/models/openai/gpt-4o-mini:generateContent",
        GEMINI_BODY,
    );
    google_error(&resp, 429);
    assert!(resp.header("retry-after").is_some());
    assert_eq!(openai.received().len(), 2, "a refused request was sent");
    // Another key is not limited by this one's count.
    let resp = chat(&proxy, CAROL, &chat_body("openai/gpt-4o-mini", false), &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());

    // After Retry-After, the next minute: admitted again.
    std::thread::sleep(Duration::from_secs(retry) + Duration::from_millis(300));
    let resp = chat(
        &proxy,
        LIMITED,
        &chat_body("openai/gpt-4o-mini", false),
        &[],
    );
    assert_eq!(
        resp.status,
        200,
        "after Retry-After {retry}: {}",
        resp.text()
    );
}

#[test]
fn spin_usage_shows_each_keys_requests_tokens_and_cost_and_a_client_only_itself() {
    if spin_skip() {
        return;
    }
    let (openai, anthropic) = (usage_openai(), anthropic_mock());
    let proxy = spin_proxy(&openai, &anthropic, None).unwrap();
    for _ in 0..2 {
        let resp = chat(&proxy, ALICE, &chat_body("openai/gpt-4o-mini", false), &[]);
        assert_eq!(resp.status, 200, "{}", resp.text());
    }
    // Carol: one Anthropic answer (5 in, 2 out) priced by its bare model name.
    let resp = messages(
        &proxy,
        CAROL,
        &messages_body("anthropic/claude-sonnet-4-5", false),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    // The all-access key's own use: in the log only, not counted.
    let resp = chat(
        &proxy,
        PROXY_KEY,
        &chat_body("openai/gpt-4o-mini", false),
        &[],
    );
    assert_eq!(resp.status, 200, "{}", resp.text());

    let usage = usage_until(&proxy, PROXY_KEY, |u| {
        requests_today(u, "alice") >= 2 && requests_today(u, "carol") >= 1
    });
    assert_eq!(usage["object"], "usage", "{usage}");
    let date = utc_date();
    assert_eq!(usage["date"], date.as_str(), "{usage}");
    assert_eq!(usage["month"], &date[..7], "{usage}");
    let alice = usage_of(&usage, "alice").unwrap_or_else(|| panic!("{usage}"));
    let today = &alice["today"];
    assert_eq!(today["requests"], 2, "{usage}");
    assert_eq!(today["input_tokens"], 18, "{usage}");
    assert_eq!(today["output_tokens"], 6, "{usage}");
    assert_eq!(today["cached_tokens"], 8, "{usage}");
    assert_eq!(today["reasoning_tokens"], 4, "{usage}");
    // Twice (5 × $2 + 4 × $0.5 + 3 × $8) per million.
    let cost = today["cost_usd"]
        .as_f64()
        .unwrap_or_else(|| panic!("{usage}"));
    assert!((cost - 0.000072).abs() < 1e-9, "{usage}");
    assert_eq!(alice["month"]["requests"], 2, "{usage}");
    assert_eq!(alice["month"]["input_tokens"], 18, "{usage}");
    let carol = usage_of(&usage, "carol").unwrap_or_else(|| panic!("{usage}"));
    assert_eq!(carol["today"]["requests"], 1, "{usage}");
    assert_eq!(carol["today"]["input_tokens"], 5, "{usage}");
    assert_eq!(carol["today"]["output_tokens"], 2, "{usage}");
    // 5 × $3 + 2 × $15 per million.
    let cost = carol["today"]["cost_usd"].as_f64().unwrap_or(-1.0);
    assert!((cost - 0.000045).abs() < 1e-9, "{usage}");
    assert!(usage_of(&usage, "all-access").is_none(), "{usage}");
    // Every key in PROXY_KEYS is listed, with its limits.
    let limited = usage_of(&usage, "limited").unwrap_or_else(|| panic!("{usage}"));
    assert_eq!(limited["limits"]["rpm"], 2, "{usage}");
    assert!(limited["limits"]["tpm"].is_null(), "{usage}");
    assert_eq!(limited["today"]["requests"], 0, "{usage}");

    // Alice sees herself only.
    let mine = usage_until(&proxy, ALICE, |_| true);
    let names: Vec<&str> = mine["keys"]
        .as_array()
        .unwrap_or_else(|| panic!("{mine}"))
        .iter()
        .filter_map(|k| k["name"].as_str())
        .collect();
    assert_eq!(names, ["alice"], "{mine}");
    assert_eq!(mine["keys"][0]["today"]["requests"], 2, "{mine}");
}

#[test]
fn spin_a_daily_tokens_key_is_refused_once_its_tokens_are_used() {
    if spin_skip() {
        return;
    }
    let (openai, anthropic) = (usage_openai(), anthropic_mock());
    let proxy = spin_proxy(&openai, &anthropic, None).unwrap();
    // 12 tokens a request: 12 < 20 admits the second, 24 refuses the third.
    for n in 1..=2 {
        let resp = chat(&proxy, DAILY, &chat_body("openai/gpt-4o-mini", false), &[]);
        assert_eq!(resp.status, 200, "request {n}: {}", resp.text());
        usage_until(&proxy, PROXY_KEY, |u| requests_today(u, "daily") >= n);
    }
    let resp = chat(&proxy, DAILY, &chat_body("openai/gpt-4o-mini", false), &[]);
    let message = openai_error(&resp, 429, "rate_limit_exceeded");
    assert!(message.contains("daily_tokens"), "{message}");
    assert!(resp.header("retry-after").is_some(), "{:?}", resp.headers);
    let resp = messages(&proxy, DAILY, &messages_body("openai/gpt-4o-mini", false));
    let message = anthropic_error(&resp, 429);
    assert!(message.contains("daily_tokens"), "{message}");
    assert_eq!(openai.received().len(), 2);
}

#[test]
fn spin_a_tpm_key_answers_the_request_that_crossed_it_then_refuses() {
    if spin_skip() {
        return;
    }
    let (openai, anthropic) = (usage_openai(), anthropic_mock());
    let proxy = spin_proxy(&openai, &anthropic, None).unwrap();
    not_at_the_end_of_a_minute(10);
    for n in 1..=2 {
        let resp = chat(&proxy, TPM, &chat_body("openai/gpt-4o-mini", false), &[]);
        assert_eq!(resp.status, 200, "request {n}: {}", resp.text());
        usage_until(&proxy, PROXY_KEY, |u| requests_today(u, "tpm") >= n);
    }
    // The tokens are added at the end of the request; give them a moment.
    std::thread::sleep(Duration::from_millis(300));
    let resp = chat(&proxy, TPM, &chat_body("openai/gpt-4o-mini", false), &[]);
    let message = openai_error(&resp, 429, "rate_limit_exceeded");
    assert!(message.contains("tpm"), "{message}");
    let retry: u64 = resp.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(openai.received().len(), 2);
}

#[test]
fn spin_round_robin_alternates_through_the_stores_counter() {
    if spin_skip() {
        return;
    }
    let (openai, anthropic) = (usage_openai(), anthropic_mock());
    let routes = r#"{"rr":{"targets":["openai/gpt-4o-mini","anthropic/claude-sonnet-4-5"],"strategy":"round-robin"}}"#;
    let proxy = spin_proxy(&openai, &anthropic, Some(routes)).unwrap();
    let mut targets = Vec::new();
    for _ in 0..6 {
        let resp = chat(&proxy, CAROL, &chat_body("rr", false), &[]);
        assert_eq!(resp.status, 200, "{}", resp.text());
        targets.push(resp.header("x-llm-proxy-route").unwrap_or("-").to_string());
    }
    for pair in targets.windows(2) {
        assert_ne!(pair[0], pair[1], "not alternating: {targets:?}");
    }
    assert_eq!(openai.received().len(), 3);
    assert_eq!(anthropic.received().len(), 3);
}

#[test]
fn spin_a_route_falls_back_and_the_cooldown_puts_the_failed_target_last() {
    if spin_skip() {
        return;
    }
    let (openai, anthropic) = (failing_openai(429), anthropic_mock());
    let proxy = spin_proxy(&openai, &anthropic, Some(SMART)).unwrap();
    let resp = chat(&proxy, ALICE, &chat_body("smart", false), &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_route_headers(&resp, "anthropic/claude-sonnet-4-5", 2);
    // Cooling down (Retry-After: 1), the OpenAI target goes last: the next
    // request (another instance, the same store) goes to Anthropic first.
    let resp = chat(&proxy, ALICE, &chat_body("smart", false), &[]);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_route_headers(&resp, "anthropic/claude-sonnet-4-5", 1);
    assert_eq!(openai.received().len(), 1);
    // After the cooldown, the order given again.
    std::thread::sleep(Duration::from_millis(1500));
    let resp = chat(&proxy, ALICE, &chat_body("smart", false), &[]);
    assert_route_headers(&resp, "anthropic/claude-sonnet-4-5", 2);
    assert_eq!(openai.received().len(), 2);
}
