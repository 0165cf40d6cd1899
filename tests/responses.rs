//! The OpenAI Responses API (`/v1/responses`) under `wasmtime serve`
//! against loopback mocks: native to OpenAI, translated to an
//! OpenAI-compatible provider and chained to Anthropic — what the mock
//! received, what the client got, and when.

mod common;

use common::llm::*;
use common::*;
use serde_json::{json, Value};

fn proxy(openai: &Mock, anthropic: &Mock) -> Proxy {
    common::llm::proxy(openai, anthropic, &[])
}

/// A Codex-shaped turn for `model`, through `proxy`.
fn codex_turn(proxy: &Proxy, model: &str) -> Response {
    let resp = post(proxy, &codex_request(model));
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp
}

/// `POST /v1/responses` with Codex's headers.
fn post(proxy: &Proxy, body: &Value) -> Response {
    proxy.authed(
        "POST",
        "/v1/responses",
        &headers(),
        body.to_string().as_bytes(),
    )
}

/// A turn shaped like Codex's.
fn codex_request(model: &str) -> Value {
    json!({
        "model": model, "instructions": "You are Codex.", "stream": true, "store": false,
        "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]}],
        "tools": [{"type": "function", "name": "get_weather", "description": "Weather",
                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
                  {"type": "web_search"}],
        "tool_choice": "auto", "parallel_tool_calls": false,
        "reasoning": {"effort": "medium", "summary": "auto"},
        "include": ["reasoning.encrypted_content"], "prompt_cache_key": "k",
    })
}

fn headers() -> Vec<(&'static str, &'static str)> {
    vec![
        ("content-type", "application/json"),
        ("openai-beta", "responses=experimental"),
        ("originator", "codex_cli_rs"),
    ]
}

#[test]
fn a_codex_turn_streams_from_an_openai_compatible_provider_event_by_event() {
    let (openai, anthropic) = (openai_mock(), anthropic_mock());
    let proxy = proxy(&openai, &anthropic);
    let resp = codex_turn(&proxy, "groq/llama-3.3-70b-versatile");
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    let dropped = resp.header("x-llm-proxy-dropped").unwrap();
    for name in [
        "tools.web_search",
        "include",
        "prompt_cache_key",
        "reasoning",
    ] {
        assert!(dropped.contains(name), "{dropped}");
    }
    let got = openai.only();
    assert_eq!(got.path(), "/groq/openai/v1/chat/completions");
    assert_eq!(got.header("authorization"), Some("Bearer gsk-upstream"));
    assert_eq!(got.header("openai-beta"), None);
    assert!(!got.any_header_contains(PROXY_KEY));
    let sent: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(sent["model"], "llama-3.3-70b-versatile");
    assert_eq!(
        sent["messages"],
        json!([{"role": "system", "content": "You are Codex."},
               {"role": "user", "content": "Weather in Paris?"}])
    );
    assert_eq!(sent["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(sent["parallel_tool_calls"], false);
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));

    let events = sse_events(&resp);
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"response.created"));
    assert_eq!(names.last(), Some(&"response.completed"));
    for (i, (name, data)) in events.iter().enumerate() {
        assert_eq!(data["type"], name.as_str());
        assert_eq!(data["sequence_number"], i);
    }
    let done = &events.last().unwrap().1["response"];
    assert_eq!(done["model"], "groq/llama-3.3-70b-versatile");
    assert_eq!(done["output"][0]["content"][0]["text"], "Hello world");
    assert_eq!(done["output"][1]["type"], "function_call");
    assert_eq!(done["output"][1]["call_id"], "call_1");
    assert_eq!(done["output"][1]["arguments"], "{\"city\":\"Paris\"}");
    assert_eq!(done["usage"]["input_tokens"], 11);
    assert_eq!(done["usage"]["output_tokens"], 7);
    // Event by event, as the upstream sends them (150 ms apart).
    let hello = resp.arrival_of("\"delta\":\"Hello\"").unwrap();
    let completed = resp.arrival_of("response.completed").unwrap();
    assert!(
        completed.saturating_sub(hello).as_millis() >= 400,
        "{hello:?} {completed:?}"
    );
}

#[test]
fn openai_gets_the_responses_body_natively_and_its_answer_as_it_is() {
    let upstream = Mock::start(|_| {
        MockResponse::json(
            200,
            r#"{"id":"resp_native","object":"response","status":"completed","output":[],"usage":{"input_tokens":1,"output_tokens":1,"total_tokens":2}}"#,
        )
    });
    let anthropic = anthropic_mock();
    let proxy = proxy(&upstream, &anthropic);
    let mut body = codex_request("openai/gpt-5-codex");
    body["stream"] = json!(false);
    body["previous_response_id"] = json!("resp_0");
    let resp = post(&proxy, &body);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json()["id"], "resp_native");
    assert_eq!(resp.header("x-llm-proxy-dropped"), None);
    let got = upstream.only();
    assert_eq!(got.path(), "/v1/responses");
    assert_eq!(
        got.header("authorization"),
        Some("Bearer sk-openai-upstream")
    );
    assert_eq!(got.header("openai-beta"), Some("responses=experimental"));
    let mut want = body.clone();
    want["model"] = json!("gpt-5-codex");
    assert_eq!(serde_json::from_slice::<Value>(&got.body).unwrap(), want);
}

#[test]
fn anthropic_is_reached_through_messages_and_answers_in_responses_events() {
    let (openai, anthropic) = (openai_mock(), anthropic_mock());
    let proxy = proxy(&openai, &anthropic);
    let resp = codex_turn(&proxy, "anthropic/claude-sonnet-4-5");
    let got = anthropic.only();
    assert_eq!(got.path(), "/v1/messages");
    assert_eq!(got.header("x-api-key"), Some("sk-ant-upstream"));
    let sent: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(sent["system"], "You are Codex.");
    assert_eq!(sent["tools"][0]["name"], "get_weather");
    let events = sse_events(&resp);
    let (last, done) = events.last().unwrap();
    assert_eq!(last, "response.completed");
    assert_eq!(
        done["response"]["output"][0]["content"][0]["text"],
        "Bonjour"
    );
}

#[test]
fn conversation_state_on_a_translated_provider_is_a_clear_400() {
    let (openai, anthropic) = (openai_mock(), anthropic_mock());
    let proxy = proxy(&openai, &anthropic);
    let mut body = codex_request("groq/llama-3.3-70b-versatile");
    body["previous_response_id"] = json!("resp_0");
    let resp = post(&proxy, &body);
    assert_eq!(resp.status, 400);
    let e = resp.json();
    assert_eq!(e["error"]["code"], "unsupported_conversation_state");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("keeps no conversation state"));
    assert!(openai.received().is_empty());
}
