//! The Anthropic Messages API (`/v1/messages`) for every provider, and
//! native Anthropic behind `/v1/chat/completions`, under `wasmtime serve`
//! against loopback mocks: what the mock received, what the client got, and
//! when (streams must arrive event by event as the upstream sends them).

mod common;

use common::llm::*;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

/// A request shaped like Claude Code's: system text blocks with
/// cache_control, a dozen tools, thinking, metadata, streaming.
fn claude_code_request(model: &str) -> String {
    let tools: Vec<Value> = (0..12)
        .map(|i| json!({"name": format!("tool_{i}"), "description": format!("Tool {i}"),
            "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}))
        .collect();
    json!({
        "model": model, "max_tokens": 32000, "stream": true,
        "system": [{"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
                   {"type": "text", "text": "Working directory: /repo", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "<system-reminder>todo list empty</system-reminder>"},
            {"type": "text", "text": "What's the weather in Paris?", "cache_control": {"type": "ephemeral"}}]}],
        "tools": tools,
        "metadata": {"user_id": "user_0123_account__session_abc"},
        "thinking": {"type": "enabled", "budget_tokens": 4000},
        "temperature": 1,
    })
    .to_string()
}

#[test]
fn claude_code_request_streams_from_an_openai_provider_event_by_event() {
    let (openai, anthropic) = (openai_mock(), anthropic_mock());
    let proxy = proxy(&openai, &anthropic, &[]);
    let resp = proxy.request(
        "POST",
        "/v1/messages?beta=true",
        &[
            ("x-api-key", PROXY_KEY),
            ("anthropic-version", "2023-06-01"),
            (
                "anthropic-beta",
                "claude-code-20250219,interleaved-thinking-2025-05-14",
            ),
            ("content-type", "application/json"),
        ],
        claude_code_request("groq/llama-3.3-70b-versatile").as_bytes(),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    let dropped = resp.header("x-llm-proxy-dropped").unwrap();
    for name in ["cache_control", "thinking"] {
        assert!(dropped.contains(name), "{dropped}");
    }
    // What the provider got: OpenAI chat, its own key, no Anthropic headers.
    let got = openai.only();
    assert_eq!(got.path(), "/groq/openai/v1/chat/completions");
    assert_eq!(got.header("authorization"), Some("Bearer gsk-upstream"));
    assert_eq!(got.header("anthropic-beta"), None);
    assert_eq!(got.header("x-api-key"), None);
    assert!(!got.any_header_contains(PROXY_KEY));
    let sent: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(sent["model"], "llama-3.3-70b-versatile");
    assert_eq!(sent["tools"].as_array().unwrap().len(), 12);
    assert_eq!(sent["tools"][3]["function"]["name"], "tool_3");
    assert_eq!(sent["messages"][0]["role"], "system");
    assert_eq!(sent["user"], "user_0123_account__session_abc");
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
    // What the client got: Anthropic events, in order, the tool call whole.
    let events = sse_events(&resp);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    assert_eq!(
        events[0].1["message"]["model"],
        "groq/llama-3.3-70b-versatile"
    );
    assert_eq!(events[5].1["content_block"]["name"], "get_weather");
    assert_eq!(events[9].1["delta"]["stop_reason"], "tool_use");
    assert_eq!(events[9].1["usage"]["output_tokens"], 7);
    // Incremental: the events arrive spread out as the upstream sent them.
    let hello = resp.arrival_of("\"Hello\"").unwrap();
    let world = resp.arrival_of("\" world\"").unwrap();
    let stop = resp.arrival_of("message_stop").unwrap();
    assert!(
        world - hello >= Duration::from_millis(100),
        "{hello:?} {world:?}"
    );
    assert!(
        stop - hello >= Duration::from_millis(600),
        "{hello:?} {stop:?}"
    );
}

#[test]
fn claude_code_request_reaches_anthropic_byte_identical_but_for_the_model() {
    let (openai, anthropic) = (openai_mock(), anthropic_mock());
    let proxy = proxy(&openai, &anthropic, &[]);
    let original = claude_code_request("anthropic/claude-sonnet-4-20250514");
    let resp = proxy.request(
        "POST",
        "/v1/messages?beta=true",
        &[
            ("authorization", &format!("Bearer {PROXY_KEY}")),
            ("anthropic-version", "2023-06-01"),
            ("anthropic-beta", "claude-code-20250219"),
        ],
        original.as_bytes(),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = anthropic.only();
    assert_eq!(got.path(), "/v1/messages");
    assert_eq!(
        got.body,
        original
            .replace("anthropic/claude-sonnet", "claude-sonnet")
            .into_bytes()
    );
    assert_eq!(got.header("x-api-key"), Some("sk-ant-upstream"));
    assert_eq!(got.header("anthropic-beta"), Some("claude-code-20250219"));
    assert_eq!(got.header("authorization"), None);
    // The answer is relayed as is.
    assert!(resp.text().contains("event: message_start"));
    assert_eq!(resp.header("x-llm-proxy-dropped"), None);
    // count_tokens: native for anthropic, an estimate elsewhere.
    let resp = proxy.authed(
        "POST",
        "/v1/messages/count_tokens",
        &[],
        br#"{"model":"claude-x","messages":[{"role":"user","content":"hi"}]}"#,
    );
    assert_eq!(resp.json(), json!({"input_tokens": 42}));
    assert_eq!(
        anthropic.received().last().unwrap().path(),
        "/v1/messages/count_tokens"
    );
    let resp = proxy.authed(
        "POST",
        "/v1/messages/count_tokens",
        &[],
        br#"{"model":"openai/gpt-4.1","messages":[{"role":"user","content":"hello there"}]}"#,
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("x-llm-proxy-token-count"), Some("estimate"));
    assert!(resp.json()["input_tokens"].as_u64().unwrap() > 0);
}

#[test]
fn errors_come_back_in_anthropic_shape() {
    let (openai, anthropic) = (openai_mock(), anthropic_mock());
    let proxy = proxy(&openai, &anthropic, &[("RETRY", "1")]);
    let check = |resp: &Response, status: u16, kind: &str| {
        assert_eq!(resp.status, status, "{}", resp.text());
        let v = resp.json();
        assert_eq!(v["type"], "error", "{v}");
        assert_eq!(v["error"]["type"], kind, "{v}");
        v["error"]["message"].as_str().unwrap().to_string()
    };
    // The upstream's 429 (after failover's retry), mapped.
    let resp = proxy.authed(
        "POST",
        "/v1/messages",
        &[],
        br#"{"model":"openai/rate-limited","max_tokens":10,"messages":[{"role":"user","content":"x"}]}"#,
    );
    let msg = check(&resp, 429, "rate_limit_error");
    assert!(msg.contains("Rate limit reached"), "{msg}");
    assert_eq!(resp.header("x-llm-proxy-attempts"), Some("2"));
    // The proxy's own.
    let resp = proxy.request("POST", "/v1/messages", &[("x-api-key", "wrong")], b"{}");
    check(&resp, 401, "authentication_error");
    let resp = proxy.authed("POST", "/v1/messages", &[], b"{nope");
    check(&resp, 400, "invalid_request_error");
    let resp = proxy.authed(
        "POST",
        "/v1/messages",
        &[],
        br#"{"model":"nosuch/m","messages":[]}"#,
    );
    assert!(check(&resp, 400, "invalid_request_error").contains("nosuch"));
    // Unreachable provider: 502 as api_error.
    let dead = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", "k"),
        (
            "OPENAI_BASE_URL",
            &format!("http://127.0.0.1:{}/v1", free_port()),
        ),
    ]));
    let resp = dead.authed(
        "POST",
        "/v1/messages",
        &[],
        br#"{"model":"openai/x","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
    );
    check(&resp, 502, "api_error");
}

#[test]
fn json_answers_are_translated_and_prefixes_work() {
    let (openai, anthropic) = (openai_mock(), anthropic_mock());
    let proxy = proxy(&openai, &anthropic, &[("OPENAI_API_KEY", "sk-zero,sk-one")]);
    let resp = proxy.authed(
        "POST",
        "/key/1/v1/messages",
        &[],
        br#"{"model":"openai/gpt-4.1","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}"#,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let v = resp.json();
    assert_eq!(v["type"], "message");
    assert!(v["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(v["model"], "openai/gpt-4.1");
    assert_eq!(
        v["content"],
        json!([{"type": "text", "text": "Hi from OpenAI"}])
    );
    assert_eq!(v["stop_reason"], "end_turn");
    assert_eq!(v["usage"]["input_tokens"], 9);
    assert_eq!(openai.only().header("authorization"), Some("Bearer sk-one"));
}

#[test]
fn chat_completions_with_anthropic_use_the_native_messages_api() {
    let (openai, anthropic) = (openai_mock(), anthropic_mock());
    let proxy = proxy(&openai, &anthropic, &[]);
    let resp = proxy.authed(
        "POST",
        "/v1/chat/completions",
        &[],
        br#"{"model":"anthropic/claude-sonnet-4","stream":true,"stream_options":{"include_usage":true},
             "messages":[{"role":"system","content":"Be French."},{"role":"user","content":"Hello"}]}"#,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = anthropic.only();
    assert_eq!(got.path(), "/v1/messages");
    assert_eq!(got.header("anthropic-version"), Some("2023-06-01"));
    let sent: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(sent["system"], "Be French.");
    assert_eq!(sent["max_tokens"], 4096);
    let chunks: Vec<Value> = sse_events(&resp).into_iter().map(|(_, v)| v).collect();
    let text: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Bonjour");
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(chunks[0]["model"], "anthropic/claude-sonnet-4");
    let usage = chunks.iter().find(|c| c.get("usage").is_some()).unwrap();
    assert_eq!(usage["usage"]["total_tokens"], 16);
    assert_eq!(chunks.last().unwrap(), &Value::String("[DONE]".into()));
    let first = resp.arrival_of("\"Bon\"").unwrap();
    let second = resp.arrival_of("\"jour\"").unwrap();
    assert!(
        second - first >= Duration::from_millis(100),
        "{first:?} {second:?}"
    );
}
