//! Cloudflare AI Gateway integration under `wasmtime serve`, with a mock
//! gateway on loopback (`AI_GATEWAY_BASE_URL`): the exact URLs, headers and
//! bodies the gateway received.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

const ACCOUNT: &str = "acct_123";
const TOKEN: &str = "cf-aig-token-secret";

fn gateway_settings(
    gw: &Mock,
    direct: &Mock,
    extra: &[(&str, &str)],
) -> Vec<(&'static str, String)> {
    let custom = json!([{"name": "mine", "baseUrl": direct.url("/custom/v1"), "apiKeys": ["ck"]}])
        .to_string();
    let mut e = env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("CLOUDFLARE_ACCOUNT_ID", ACCOUNT),
        ("AI_GATEWAY_NAME", "main-gw"),
        ("AI_GATEWAY_BASE_URL", &gw.url("/v1")),
        ("CF_AIG_TOKEN", TOKEN),
        ("OPENAI_API_KEY", "sk-openai"),
        ("ANTHROPIC_API_KEY", "sk-anthropic"),
        ("GEMINI_API_KEY", "gem-key"),
        ("CLOUDFLARE_API_KEY", "cf-api-key"),
        ("OLLAMA_API_KEY", "ollama-key"),
        ("OLLAMA_BASE_URL", &direct.url("/v1")),
        ("OPENAI_BASE_URL", &direct.url("/must-not-be-used/v1")),
        ("CUSTOM_OPENAI_ENDPOINTS", &custom),
    ]);
    e.extend(env(extra));
    e
}

fn echo_json() -> Mock {
    Mock::start(|r| {
        if String::from_utf8_lossy(&r.body).contains("\"stream\":true") {
            return MockResponse::sse(5, Duration::from_millis(100));
        }
        MockResponse::json(
            200,
            &json!({"data": [{"id": "m1"}], "echo": r.target}).to_string(),
        )
    })
}

#[test]
fn pass_through_goes_through_the_gateway_with_provider_auth_and_token() {
    let (gw, direct) = (echo_json(), echo_json());
    let proxy = Proxy::start(&gateway_settings(&gw, &direct, &[]));
    for (path, want, auth, value) in [
        (
            "/openai/v1/chat/completions",
            "/v1/acct_123/main-gw/openai/chat/completions",
            "authorization",
            "Bearer sk-openai",
        ),
        (
            "/anthropic/v1/messages",
            "/v1/acct_123/main-gw/anthropic/v1/messages",
            "x-api-key",
            "sk-anthropic",
        ),
        (
            "/google-ai-studio/v1beta/models/gemini:generateContent",
            "/v1/acct_123/main-gw/google-ai-studio/v1beta/models/gemini:generateContent",
            "x-goog-api-key",
            "gem-key",
        ),
        (
            "/workers-ai/run/@cf/meta/llama",
            "/v1/acct_123/main-gw/workers-ai/run/@cf/meta/llama",
            "authorization",
            "Bearer cf-api-key",
        ),
    ] {
        let resp = proxy.authed(
            "POST",
            path,
            &[
                ("cf-aig-cache-ttl", "3600"),
                ("cf-aig-metadata", "{\"u\":1}"),
            ],
            b"{\"q\":1}",
        );
        assert_eq!(resp.status, 200, "{path}: {}", resp.text());
        let got = gw.received().pop().unwrap();
        assert_eq!(got.target, want, "{path}");
        assert_eq!(got.header(auth), Some(value), "{path}");
        assert_eq!(
            got.header("cf-aig-authorization"),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        assert_eq!(got.header("cf-aig-cache-ttl"), Some("3600"));
        assert_eq!(got.header("cf-aig-metadata"), Some("{\"u\":1}"));
        assert_eq!(got.body, b"{\"q\":1}");
        assert!(!got.any_header_contains(PROXY_KEY));
    }
    assert!(direct.received().is_empty(), "{:?}", direct.received());

    // A per-request gateway.
    let resp = proxy.authed("GET", "/g/other_gw/anthropic/v1/models", &[], b"");
    assert_eq!(resp.status, 200);
    assert_eq!(
        gw.received().pop().unwrap().target,
        "/v1/acct_123/other_gw/anthropic/v1/models"
    );

    // Streaming is unchanged through the gateway.
    let resp = proxy.authed("POST", "/anthropic/v1/messages", &[], br#"{"stream":true}"#);
    let (first, last) = (
        resp.arrival_of("event-0").unwrap(),
        resp.arrival_of("event-4").unwrap(),
    );
    assert!(
        last - first >= Duration::from_millis(300),
        "{first:?} {last:?}"
    );
}

#[test]
fn ollama_and_custom_endpoints_bypass_the_gateway() {
    let (gw, direct) = (echo_json(), echo_json());
    let proxy = Proxy::start(&gateway_settings(&gw, &direct, &[]));
    assert_eq!(
        proxy.authed("GET", "/ollama/v1/models", &[], b"").status,
        200
    );
    let got = direct.received().pop().unwrap();
    assert_eq!(got.target, "/v1/models");
    assert_eq!(got.header("authorization"), Some("Bearer ollama-key"));
    assert_eq!(got.header("cf-aig-authorization"), None);
    assert_eq!(
        proxy
            .authed(
                "POST",
                "/v1/chat/completions",
                &[],
                br#"{"model":"mine/x","messages":[]}"#
            )
            .status,
        200
    );
    let got = direct.received().pop().unwrap();
    assert_eq!(got.target, "/custom/v1/chat/completions");
    assert_eq!(got.header("authorization"), Some("Bearer ck"));
    assert!(gw.received().is_empty());
}

#[test]
fn chat_uses_the_compat_endpoint_with_retry_attempts() {
    let (gw, direct) = (echo_json(), echo_json());
    let proxy = Proxy::start(&gateway_settings(&gw, &direct, &[("RETRY", "2")]));
    let resp = proxy.authed(
        "POST",
        "/v1/chat/completions",
        &[("cf-aig-cache-key", "k1")],
        br#"{"model":"google-ai-studio/gemini-2.0-flash","messages":[{"role":"user","content":"hi"}],"user":"u1","temperature":0}"#,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = gw.received().pop().unwrap();
    assert_eq!(got.target, "/v1/acct_123/main-gw/compat/chat/completions");
    assert_eq!(got.header("authorization"), Some("Bearer gem-key"));
    assert_eq!(got.header("x-goog-api-key"), None);
    assert_eq!(
        got.header("cf-aig-authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(got.header("cf-aig-max-attempts"), Some("3"));
    assert_eq!(got.header("cf-aig-cache-key"), Some("k1"));
    let body: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(
        body,
        json!({"model": "google-ai-studio/gemini-2.0-flash", "messages": [{"role": "user", "content": "hi"}], "temperature": 0})
    );

    let resp = proxy.authed(
        "POST",
        "/v1/chat/completions",
        &[],
        br#"{"model":"anthropic/claude","messages":[],"stream":true}"#,
    );
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    let got = gw.received().pop().unwrap();
    let body: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(body["model"], "anthropic/claude");
    assert_eq!(body["max_tokens"], 4096);
    assert_eq!(got.header("authorization"), Some("Bearer sk-anthropic"));
    assert!(
        resp.arrival_of("event-4").unwrap() - resp.arrival_of("event-0").unwrap()
            >= Duration::from_millis(300)
    );
}

#[test]
fn retry_attempts_are_capped_at_five() {
    let (gw, direct) = (echo_json(), echo_json());
    let proxy = Proxy::start(&gateway_settings(&gw, &direct, &[("RETRY", "9")]));
    proxy.authed(
        "POST",
        "/v1/chat/completions",
        &[],
        br#"{"model":"openai/gpt","messages":[]}"#,
    );
    assert_eq!(
        gw.received().pop().unwrap().header("cf-aig-max-attempts"),
        Some("5")
    );
}

#[test]
fn models_and_status_checks_go_through_the_gateway() {
    let (gw, direct) = (echo_json(), echo_json());
    let proxy = Proxy::start(&gateway_settings(&gw, &direct, &[]));
    let resp = proxy.authed("GET", "/v1/models", &[], b"");
    assert_eq!(resp.status, 200);
    let mut paths: Vec<String> = gw.received().iter().map(|r| r.target.clone()).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/v1/acct_123/main-gw/anthropic/v1/models",
            "/v1/acct_123/main-gw/google-ai-studio/v1beta/models",
            "/v1/acct_123/main-gw/openai/models",
            "/v1/acct_123/main-gw/workers-ai/models/search?task=Text%20Generation",
        ]
    );
    assert!(gw
        .received()
        .iter()
        .all(|r| r.header("cf-aig-authorization") == Some("Bearer cf-aig-token-secret")));
    let mut direct_paths: Vec<String> =
        direct.received().iter().map(|r| r.target.clone()).collect();
    direct_paths.sort();
    assert_eq!(direct_paths, ["/custom/v1/models", "/v1/models"]);

    let before = gw.received().len();
    let resp = proxy.authed("GET", "/status", &[], b"");
    assert_eq!(
        resp.json()["providers"]["openai"]["keys"][0]["status"],
        "valid"
    );
    assert!(!resp.text().contains(TOKEN));
    assert_eq!(gw.received().len(), before + 4);
}

#[test]
fn universal_endpoint_posts_an_array_with_auth_filled_in() {
    let (gw, direct) = (echo_json(), echo_json());
    let proxy = Proxy::start(&gateway_settings(&gw, &direct, &[]));
    let step = json!({"provider": "anthropic", "query": {"model": "claude", "messages": []}});
    let resp = proxy.authed(
        "POST",
        "/g/uni/",
        &[("cf-aig-skip-cache", "true")],
        step.to_string().as_bytes(),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = gw.received().pop().unwrap();
    assert_eq!(got.target, "/v1/acct_123/uni");
    assert_eq!(
        got.header("cf-aig-authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(got.header("cf-aig-skip-cache"), Some("true"));
    assert_eq!(got.header("authorization"), None);
    let body: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(
        body,
        json!([{"provider": "anthropic", "endpoint": "v1/chat/completions",
                "headers": {"anthropic-version": "2023-06-01", "x-api-key": "sk-anthropic"},
                "query": {"model": "claude", "messages": []}}])
    );

    // Default gateway at `/`, several steps, a step's own headers win.
    let steps = json!([
        {"provider": "openai", "endpoint": "chat/completions", "headers": {"authorization": "Bearer byo"}, "query": {}},
        {"provider": "workers-ai", "endpoint": "@cf/meta/llama", "query": {"prompt": "hi"}}
    ]);
    let resp = proxy.authed("POST", "/", &[], steps.to_string().as_bytes());
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = gw.received().pop().unwrap();
    assert_eq!(got.target, "/v1/acct_123/main-gw");
    let body: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(body[0]["headers"], json!({"authorization": "Bearer byo"}));
    assert_eq!(
        body[1]["headers"],
        json!({"authorization": "Bearer cf-api-key"})
    );
    assert_eq!(body[1]["endpoint"], "@cf/meta/llama");

    let before = gw.received().len();
    let resp = proxy.authed("POST", "/", &[], br#"[{"provider":"nosuch","query":{}}]"#);
    assert_eq!(resp.status, 400);
    assert!(resp.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nosuch"));
    assert_eq!(gw.received().len(), before);
}

#[test]
fn compat_paths_are_forwarded_without_client_auth() {
    let (gw, direct) = (echo_json(), echo_json());
    let proxy = Proxy::start(&gateway_settings(&gw, &direct, &[]));
    let resp = proxy.authed(
        "POST",
        "/compat/chat/completions",
        &[("x-custom", "1")],
        br#"{"model":"openai/gpt-4o"}"#,
    );
    assert_eq!(resp.status, 200);
    let got = gw.received().pop().unwrap();
    assert_eq!(got.target, "/v1/acct_123/main-gw/compat/chat/completions");
    assert_eq!(got.header("authorization"), None);
    assert_eq!(got.header("x-custom"), Some("1"));
    assert_eq!(
        got.header("cf-aig-authorization"),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(got.body, br#"{"model":"openai/gpt-4o"}"#);
}

#[test]
fn invalid_gateway_names_are_refused_and_nothing_is_sent() {
    let (gw, direct) = (echo_json(), echo_json());
    let proxy = Proxy::start(&gateway_settings(&gw, &direct, &[]));
    let long = "a".repeat(65);
    for name in ["a.b", "%2e%2e", "x@y", long.as_str()] {
        let resp = proxy.authed("GET", &format!("/g/{name}/openai/models"), &[], b"");
        assert_eq!(resp.status, 400, "{name}: {}", resp.text());
        assert_eq!(resp.json()["error"]["code"], "invalid_gateway_name");
    }
    assert_eq!(
        proxy
            .authed(
                "GET",
                &format!("/g/{}/openai/models", "a".repeat(64)),
                &[],
                b""
            )
            .status,
        200
    );
    assert_eq!(gw.received().len(), 1);
    assert!(direct.received().is_empty());
}
