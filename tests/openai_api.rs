//! The OpenAI-compatible API under `wasmtime serve`: /v1/chat/completions,
//! /v1/models and /status against loopback mock providers.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// (route, chat path the provider must receive, key setting, auth header, value prefix).
/// Each provider's base URL is the mock plus `/{route}`.
const CHAT_ROWS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "openai",
        "/openai/chat/completions",
        "OPENAI_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "google-ai-studio",
        "/google-ai-studio/v1beta/openai/chat/completions",
        "GEMINI_API_KEY",
        "authorization",
        "Bearer ",
    ),
    // Anthropic natively: the Messages API, translated both ways.
    (
        "anthropic",
        "/anthropic/v1/messages",
        "ANTHROPIC_API_KEY",
        "x-api-key",
        "",
    ),
    (
        "cerebras",
        "/cerebras/chat/completions",
        "CEREBRAS_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "cohere",
        "/cohere/compatibility/v1/chat/completions",
        "COHERE_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "deepseek",
        "/deepseek/chat/completions",
        "DEEPSEEK_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "grok",
        "/grok/v1/chat/completions",
        "GROK_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "groq",
        "/groq/chat/completions",
        "GROQ_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "mistral",
        "/mistral/v1/chat/completions",
        "MISTRAL_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "perplexity-ai",
        "/perplexity-ai/chat/completions",
        "PERPLEXITY_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "openrouter",
        "/openrouter/v1/chat/completions",
        "OPENROUTER_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "workers-ai",
        "/workers-ai/v1/chat/completions",
        "CLOUDFLARE_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "huggingface",
        "/huggingface/v1/chat/completions",
        "HUGGINGFACE_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "ollama",
        "/ollama/chat/completions",
        "OLLAMA_API_KEY",
        "authorization",
        "Bearer ",
    ),
];

fn key_of(route: &str) -> String {
    format!("sk-{route}-0123456789-key")
}

fn settings(mock: &Mock, extra: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    let mut e = env(&[("PROXY_API_KEY", PROXY_KEY), ("REPLICATE_API_KEY", "r8")]);
    for (route, _, key_setting, _, _) in CHAT_ROWS {
        let base: &'static str = Box::leak(
            format!("{}_BASE_URL", route.to_uppercase().replace('-', "_")).into_boxed_str(),
        );
        e.push((base, mock.url(&format!("/{route}"))));
        e.push((key_setting, key_of(route)));
    }
    e.extend(env(extra));
    e
}

fn completion(model: &str) -> String {
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    })
    .to_string()
}

/// An Anthropic Messages answer.
fn message(model: &str) -> String {
    json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": model,
        "content": [{"type": "text", "text": "hello"}], "stop_reason": "end_turn", "stop_sequence": null,
        "usage": {"input_tokens": 1, "output_tokens": 1}
    })
    .to_string()
}

fn chat_mock() -> Mock {
    Mock::start(|r| {
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        let model = body["model"].as_str().unwrap_or("?");
        if r.path().ends_with("/v1/messages") {
            MockResponse::json(200, &message(model))
        } else {
            MockResponse::json(200, &completion(model))
        }
    })
}

#[test]
fn chat_reaches_every_provider_with_model_rewritten_and_its_auth() {
    let mock = chat_mock();
    let proxy = Proxy::start(&settings(&mock, &[]));
    for (route, path, _, auth_header, prefix) in CHAT_ROWS {
        let body = json!({"model": format!("{route}/some-model"), "messages": [{"role": "user", "content": "hi"}], "temperature": 0.5});
        let resp = proxy.authed(
            "POST",
            "/v1/chat/completions",
            &[("content-type", "application/json")],
            body.to_string().as_bytes(),
        );
        assert_eq!(resp.status, 200, "{route}: {}", resp.text());
        assert_eq!(resp.json()["choices"][0]["message"]["content"], "hello");
        let got = mock.received().pop().unwrap();
        assert_eq!(
            (got.method.as_str(), got.target.as_str()),
            ("POST", *path),
            "{route}"
        );
        assert_eq!(
            got.header(auth_header),
            Some(format!("{prefix}{}", key_of(route)).as_str()),
            "{route}"
        );
        assert!(!got.any_header_contains(PROXY_KEY), "{route}");
        assert_eq!(got.header("content-type"), Some("application/json"));
        let sent: Value = serde_json::from_slice(&got.body).unwrap();
        assert_eq!(sent["model"], "some-model", "{route}");
        if *route == "anthropic" {
            assert_eq!(sent["messages"][0]["content"][0]["text"], "hi");
            assert_eq!(sent["max_tokens"], 4096);
            assert_eq!(got.header("anthropic-version"), Some("2023-06-01"));
            assert_eq!(resp.json()["model"], "anthropic/some-model");
        } else {
            assert_eq!(sent["messages"][0]["content"], "hi", "{route}");
        }
        assert_eq!(sent["temperature"], 0.5, "{route}");
        assert_eq!(
            got.header("content-length"),
            Some(got.body.len().to_string().as_str())
        );
    }
    // The unprefixed path and a custom endpoint work the same way.
    let resp = proxy.authed(
        "POST",
        "/chat/completions",
        &[],
        br#"{"model":"groq/llama","messages":[]}"#,
    );
    assert_eq!(resp.status, 200);
    assert_eq!(
        mock.received().pop().unwrap().target,
        "/groq/chat/completions"
    );
}

#[test]
fn parameters_are_filtered_per_provider_and_anthropic_gets_max_tokens() {
    let mock = chat_mock();
    let proxy = Proxy::start(&settings(&mock, &[]));
    let all = json!({"messages": [], "temperature": 1, "top_p": 1, "frequency_penalty": 0.1, "presence_penalty": 0.1,
        "logit_bias": {"1": 1}, "logprobs": true, "seed": 3, "n": 1, "user": "u", "parallel_tool_calls": true,
        "service_tier": "auto", "stop": ["x"], "tool_choice": "auto"});
    let send = |model: &str| -> Value {
        let mut b = all.clone();
        b["model"] = json!(model);
        let resp = proxy.authed(
            "POST",
            "/v1/chat/completions",
            &[],
            b.to_string().as_bytes(),
        );
        assert_eq!(resp.status, 200, "{model}: {}", resp.text());
        serde_json::from_slice(&mock.received().pop().unwrap().body).unwrap()
    };
    let keys = |v: &Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(
        keys(&send("google-ai-studio/g")),
        [
            "messages",
            "model",
            "n",
            "stop",
            "temperature",
            "tool_choice",
            "top_p"
        ]
    );
    assert_eq!(
        keys(&send("cohere/c")),
        [
            "frequency_penalty",
            "messages",
            "model",
            "presence_penalty",
            "seed",
            "stop",
            "temperature",
            "top_p"
        ]
    );
    assert_eq!(
        keys(&send("cerebras/c")),
        [
            "messages",
            "model",
            "n",
            "seed",
            "stop",
            "temperature",
            "tool_choice",
            "top_p",
            "user"
        ]
    );
    let openai = send("openai/o");
    assert_eq!(keys(&openai).len(), all.as_object().unwrap().len() + 1);
    // Anthropic's Messages API: what has no equivalent is dropped and named.
    let mut b = all.clone();
    b["model"] = json!("anthropic/claude");
    let resp = proxy.authed(
        "POST",
        "/v1/chat/completions",
        &[],
        b.to_string().as_bytes(),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let dropped = resp.header("x-llm-proxy-dropped").unwrap().to_string();
    for name in [
        "frequency_penalty",
        "presence_penalty",
        "logit_bias",
        "logprobs",
        "seed",
        "service_tier",
    ] {
        assert!(dropped.contains(name), "{name} not in {dropped}");
    }
    let got = mock.received().pop().unwrap();
    let anthropic: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(anthropic["max_tokens"], 4096);
    assert_eq!(anthropic["stop_sequences"], json!(["x"]));
    assert_eq!(anthropic["metadata"], json!({"user_id": "u"}));
    assert_eq!(got.header("anthropic-version"), Some("2023-06-01"));
    let resp = proxy.authed(
        "POST",
        "/v1/chat/completions",
        &[],
        br#"{"model":"anthropic/c","messages":[],"max_tokens":12}"#,
    );
    assert_eq!(resp.status, 200);
    let got = mock.received().pop().unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&got.body).unwrap()["max_tokens"],
        12
    );
    // The allow-lists' drops are named too.
    assert!(proxy
        .authed(
            "POST",
            "/v1/chat/completions",
            &[],
            br#"{"model":"cohere/c","messages":[],"logprobs":true}"#
        )
        .header("x-llm-proxy-dropped")
        .is_some_and(|d| d == "logprobs"));
}

#[test]
fn default_model_and_custom_endpoints() {
    let mock = chat_mock();
    let custom = json!([{"name": "local", "baseUrl": mock.url("/local/v1"), "apiKeys": ["local-key-1"], "chatCompletionPath": "/chat"}]).to_string();
    let proxy = Proxy::start(&settings(
        &mock,
        &[
            ("DEFAULT_MODEL", "mistral/mistral-small"),
            ("CUSTOM_OPENAI_ENDPOINTS", &custom),
        ],
    ));
    let resp = proxy.authed(
        "POST",
        "/v1/chat/completions",
        &[],
        br#"{"model":"default","messages":[]}"#,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = mock.received().pop().unwrap();
    assert_eq!(got.target, "/mistral/v1/chat/completions");
    assert_eq!(
        serde_json::from_slice::<Value>(&got.body).unwrap()["model"],
        "mistral-small"
    );
    let resp = proxy.authed(
        "POST",
        "/v1/chat/completions",
        &[],
        br#"{"model":"local/qwen2.5:7b","messages":[]}"#,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = mock.received().pop().unwrap();
    assert_eq!(got.target, "/local/v1/chat");
    assert_eq!(got.header("authorization"), Some("Bearer local-key-1"));
    assert_eq!(
        serde_json::from_slice::<Value>(&got.body).unwrap()["model"],
        "qwen2.5:7b"
    );
}

#[test]
fn streaming_chat_is_relayed_unbuffered() {
    let mock = Mock::start(|_| MockResponse::sse(10, Duration::from_millis(100)));
    let proxy = Proxy::start(&settings(&mock, &[]));
    let resp = proxy.authed(
        "POST",
        "/v1/chat/completions",
        &[],
        br#"{"model":"openai/gpt","stream":true,"messages":[]}"#,
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    let first = resp.arrival_of("event-0").unwrap();
    let last = resp.arrival_of("event-9").unwrap();
    assert!(
        last - first >= Duration::from_millis(700),
        "first {first:?} last {last:?}"
    );
    let sent: Value = serde_json::from_slice(&mock.only().body).unwrap();
    assert_eq!(sent["stream"], true);
}

#[test]
fn bad_chat_input_is_a_400_naming_the_problem() {
    let mock = chat_mock();
    let proxy = Proxy::start(&settings(&mock, &[("MAX_BODY_BYTES", "2000")]));
    for (body, code, needle) in [
        ("{not json", "invalid_json", "invalid JSON"),
        ("[]", "invalid_body", "JSON object"),
        (r#"{"messages":[]}"#, "missing_model", "model"),
        (r#"{"model":42}"#, "invalid_model", "string"),
        (r#"{"model":"gpt-4o"}"#, "invalid_model", "provider/model"),
        (r#"{"model":"nosuch/m"}"#, "unknown_provider", "nosuch"),
        (
            r#"{"model":"replicate/m"}"#,
            "unsupported_provider",
            "replicate",
        ),
        (r#"{"model":"default"}"#, "model_not_found", "DEFAULT_MODEL"),
    ] {
        let resp = proxy.authed("POST", "/v1/chat/completions", &[], body.as_bytes());
        assert_eq!(resp.status, 400, "{body}: {}", resp.text());
        let err = resp.json();
        assert_eq!(err["error"]["code"], code, "{body}");
        assert_eq!(err["error"]["type"], "invalid_request_error");
        assert!(
            err["error"]["message"].as_str().unwrap().contains(needle),
            "{body}: {err}"
        );
    }
    // Over MAX_BODY_BYTES: by Content-Length, and by counting a chunked body.
    let big = format!(
        r#"{{"model":"openai/x","messages":[{{"content":"{}"}}]}}"#,
        "a".repeat(3000)
    );
    let resp = proxy.authed("POST", "/v1/chat/completions", &[], big.as_bytes());
    assert_eq!(resp.status, 413, "{}", resp.text());
    assert_eq!(resp.json()["error"]["code"], "body_too_large");
    let raw = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: Bearer {PROXY_KEY}\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    );
    let resp = send_raw(proxy.port, raw.as_bytes()).unwrap();
    assert_eq!(resp.status, 413, "{}", resp.text());
    assert!(
        mock.received().is_empty(),
        "nothing may reach a provider: {:?}",
        mock.received()
    );
    let resp = proxy.authed("GET", "/v1/chat/completions", &[], b"");
    assert_eq!(resp.status, 405);
}

#[test]
fn a_body_of_too_many_json_values_is_a_413_before_anything_is_sent() {
    let mock = chat_mock();
    let proxy = Proxy::start(&settings(&mock, &[("MAX_BODY_VALUES", "100")]));
    let blocks = vec![r#"{"type":"text","text":"a"}"#; 30].join(",");
    let body =
        format!(r#"{{"model":"openai/x","messages":[{{"role":"user","content":[{blocks}]}}]}}"#);
    let resp = proxy.authed("POST", "/v1/chat/completions", &[], body.as_bytes());
    assert_eq!(resp.status, 413, "{}", resp.text());
    assert_eq!(resp.json()["error"]["code"], "body_too_many_values");
    // Anthropic's shape on the Messages API.
    let resp = proxy.authed("POST", "/v1/messages", &[], body.as_bytes());
    assert_eq!(resp.status, 413, "{}", resp.text());
    assert_eq!(resp.json()["error"]["type"], "request_too_large");
    assert!(
        mock.received().is_empty(),
        "nothing may reach a provider: {:?}",
        mock.received()
    );
    // Within the limit: planned and sent.
    let small = format!(
        r#"{{"model":"openai/x","messages":[{{"role":"user","content":[{}]}}]}}"#,
        [r#"{"type":"text","text":"a"}"#; 10].join(",")
    );
    let resp = proxy.authed("POST", "/v1/chat/completions", &[], small.as_bytes());
    assert_eq!(resp.status, 200, "{}", resp.text());
}

/// Native model-list answers, one per shape, keyed by path.
fn models_mock(delay_for: &'static [&'static str], delay: Duration) -> Mock {
    Mock::start(move |r| {
        let path = r.path().to_string();
        let body = match path.as_str() {
            "/openai/models" => {
                json!({"object": "list", "data": [{"id": "gpt-4o", "object": "model", "created": 1700000000, "owned_by": "openai"}]})
            }
            "/anthropic/v1/models" => {
                json!({"data": [{"type": "model", "id": "claude-3-5-haiku", "created_at": "2024-10-22T00:00:00Z"}], "has_more": false})
            }
            "/google-ai-studio/v1beta/models" => {
                json!({"models": [{"name": "models/gemini-2.0-flash"}]})
            }
            "/cohere/v1/models" => json!({"models": [{"name": "command-r"}]}),
            "/workers-ai/models/search" => {
                json!({"result": [{"name": "@cf/meta/llama-3.1-8b"}], "success": true})
            }
            "/mistral/v1/models" => return MockResponse::json(500, r#"{"error":"boom"}"#),
            "/dyn/v1/models" => json!({"data": [{"id": "dyn-model"}]}),
            _ => json!({"data": [{"id": format!("m{}", path.replace('/', "-"))}]}),
        };
        let mut resp = MockResponse::json(200, &body.to_string());
        if delay_for.iter().any(|p| path.starts_with(p)) {
            resp.delay = delay;
        }
        resp
    })
}

fn ids(resp: &Response) -> Vec<String> {
    let v = resp.json();
    assert_eq!(v["object"], "list");
    let mut ids: Vec<String> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert_eq!(m["object"], "model");
            assert!(m["created"].is_i64() && m["owned_by"].is_string(), "{m}");
            m["id"].as_str().unwrap().to_string()
        })
        .collect();
    ids.sort();
    ids
}

#[test]
fn models_are_aggregated_normalised_and_failures_left_out() {
    let mock = models_mock(&["/groq"], Duration::from_secs(8));
    let custom =
        json!([{"name": "static", "baseUrl": "http://127.0.0.1:9", "models": ["s1", "s2"]},
                        {"name": "dyn", "baseUrl": mock.url("/dyn/v1"), "apiKeys": "dk"}])
        .to_string();
    let e = env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", "ok"),
        ("OPENAI_BASE_URL", &mock.url("/openai")),
        ("ANTHROPIC_API_KEY", "ak"),
        ("ANTHROPIC_BASE_URL", &mock.url("/anthropic")),
        ("GEMINI_API_KEY", "gk"),
        ("GOOGLE_AI_STUDIO_BASE_URL", &mock.url("/google-ai-studio")),
        ("COHERE_API_KEY", "ck"),
        ("COHERE_BASE_URL", &mock.url("/cohere")),
        ("CLOUDFLARE_API_KEY", "wk"),
        ("WORKERS_AI_BASE_URL", &mock.url("/workers-ai")),
        ("MISTRAL_API_KEY", "mk"),
        ("MISTRAL_BASE_URL", &mock.url("/mistral")),
        ("GROQ_API_KEY", "qk"),
        ("GROQ_BASE_URL", &mock.url("/groq")),
        ("PERPLEXITY_API_KEY", "pk"),
        ("PERPLEXITY_AI_BASE_URL", &mock.url("/pplx")),
        ("CUSTOM_OPENAI_ENDPOINTS", &custom),
    ]);
    let proxy = Proxy::start(&e);
    let started = Instant::now();
    let resp = proxy.authed("GET", "/v1/models", &[], b"");
    let took = started.elapsed();
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(
        ids(&resp),
        [
            "anthropic/claude-3-5-haiku",
            "cohere/command-r",
            "dyn/dyn-model",
            "google-ai-studio/gemini-2.0-flash",
            "openai/gpt-4o",
            "static/s1",
            "static/s2",
            "workers-ai/@cf/meta/llama-3.1-8b",
        ]
    );
    // The hanging provider is cut off at 5 s, not waited for.
    assert!(took < Duration::from_millis(7500), "took {took:?}");
    let data = resp.json()["data"].clone();
    let claude = data
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "anthropic/claude-3-5-haiku")
        .unwrap();
    assert_eq!(claude["created"], 1729555200);
    // What the providers received: their models path with their own auth.
    let got = mock.received();
    let find = |p: &str| {
        got.iter()
            .find(|r| r.path() == p)
            .unwrap_or_else(|| panic!("{p} not called: {got:#?}"))
            .clone()
    };
    assert_eq!(
        find("/openai/models").header("authorization"),
        Some("Bearer ok")
    );
    assert_eq!(find("/anthropic/v1/models").header("x-api-key"), Some("ak"));
    assert_eq!(
        find("/google-ai-studio/v1beta/models").header("x-goog-api-key"),
        Some("gk")
    );
    assert_eq!(
        find("/cohere/v1/models").query(),
        "page_size=100&endpoint=chat"
    );
    assert_eq!(
        find("/workers-ai/models/search").query(),
        "task=Text%20Generation"
    );
    assert_eq!(
        find("/dyn/v1/models").header("authorization"),
        Some("Bearer dk")
    );
    assert!(got.iter().all(|r| !r.any_header_contains(PROXY_KEY)));
    // No models endpoint (perplexity) or static list: not called.
    assert!(got.iter().all(|r| !r.path().starts_with("/pplx")));
    assert_eq!(resp.header("access-control-allow-origin"), Some("*"));
    let line = proxy.wait_log("provider=mistral skipped");
    assert!(line.contains("500"), "{line}");
    // Same list on the unprefixed path.
    assert_eq!(ids(&proxy.authed("GET", "/models", &[], b"")).len(), 8);
}

#[test]
fn model_lists_are_fetched_concurrently() {
    let routes = [
        "openai",
        "groq",
        "mistral",
        "deepseek",
        "grok",
        "openrouter",
    ];
    let mock = Mock::start(|r| {
        let mut resp = MockResponse::json(200, &json!({"data": [{"id": r.path()}]}).to_string());
        resp.delay = Duration::from_secs(1);
        resp
    });
    let mut e = env(&[("PROXY_API_KEY", PROXY_KEY)]);
    for route in routes {
        let up = route.to_uppercase();
        e.push((
            Box::leak(format!("{up}_API_KEY").into_boxed_str()),
            "k".into(),
        ));
        e.push((
            Box::leak(format!("{up}_BASE_URL").into_boxed_str()),
            mock.url(&format!("/{route}")),
        ));
    }
    let proxy = Proxy::start(&e);
    let started = Instant::now();
    let resp = proxy.authed("GET", "/v1/models", &[], b"");
    let took = started.elapsed();
    assert_eq!(ids(&resp).len(), routes.len(), "{}", resp.text());
    // Six providers each answering after 1 s: sequential would take 6 s.
    assert!(
        took < Duration::from_millis(2500),
        "took {took:?} for {} providers",
        routes.len()
    );
}

#[test]
fn status_masks_keys_and_reports_each_keys_verdict() {
    let mock = Mock::start(|r| {
        let status = match r.header("authorization").unwrap_or("") {
            "Bearer sk-good-key-000000AAA" => 200,
            "Bearer sk-revoked-key-0000BBB" => 401,
            _ => 503,
        };
        MockResponse::json(status, r#"{"data":[]}"#)
    });
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        (
            "OPENAI_API_KEY",
            "sk-good-key-000000AAA, sk-revoked-key-0000BBB ,sk-flaky-key-000000CCC",
        ),
        ("OPENAI_BASE_URL", &mock.url("/v1")),
        ("PERPLEXITY_API_KEY", "pplx-secret-key-00DDD"),
        ("ANTHROPIC_API_KEY", "[\"broken-json"),
        ("CF_AIG_TOKEN", "cf-token-secret"),
    ]));
    let resp = proxy.authed("GET", "/status", &[], b"");
    assert_eq!(resp.status, 200, "{}", resp.text());
    let v = resp.json();
    assert_eq!(
        v["providers"]["openai"],
        json!({"available": true, "routes": ["chat", "messages", "responses", "gemini", "embeddings"], "keys": [
            {"key": "*******AAA", "status": "valid", "cooldown": 0},
            {"key": "*******BBB", "status": "invalid", "cooldown": 0},
            {"key": "*******CCC", "status": "unknown", "cooldown": 0}]})
    );
    assert_eq!(
        v["providers"]["perplexity-ai"]["keys"],
        json!([{"key": "*******DDD", "status": "unknown", "cooldown": 0}])
    );
    assert_eq!(
        v["providers"]["groq"],
        json!({"available": false, "routes": ["chat", "messages", "responses", "gemini"], "keys": []})
    );
    assert_eq!(v["config"]["errors"][0]["setting"], "ANTHROPIC_API_KEY");
    assert_eq!(v["config"]["proxyKeys"], 1);
    let text = resp.text();
    for secret in [
        "sk-good",
        "sk-revoked",
        "sk-flaky",
        "pplx-secret",
        "broken-json",
        "cf-token",
        PROXY_KEY,
    ] {
        assert!(!text.contains(secret), "{secret} leaked into /status");
    }
    assert_eq!(mock.received().len(), 3);
    assert!(mock.received().iter().all(|r| r.path() == "/v1/models"));
    // /status needs the proxy key.
    assert_eq!(proxy.request("GET", "/status", &[], b"").status, 401);
}
