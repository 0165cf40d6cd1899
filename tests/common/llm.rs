//! LLM-shaped mock upstreams the dialect tests share: an OpenAI-compatible
//! one and a native Anthropic one (JSON, or SSE with 150 ms between
//! events), and an SSE reader for what the client got.

use super::*;
use serde_json::{json, Value};
use std::time::Duration;

pub fn openai_chunk(delta: Value, finish: Option<&str>) -> Vec<u8> {
    let c = json!({"id": "chatcmpl-9", "object": "chat.completion.chunk", "created": 1, "model": "m",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    format!("data: {c}\n\n").into_bytes()
}

/// An OpenAI-shaped upstream: a streamed answer with text then a tool call,
/// 150 ms between events; or a JSON answer.
pub fn openai_mock() -> Mock {
    Mock::start(|r| {
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        if body["model"] == "rate-limited" {
            return MockResponse::json(
                429,
                r#"{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}"#,
            )
            .header("retry-after", "0");
        }
        if body["stream"] == true {
            let gap = Duration::from_millis(150);
            let events = vec![
                openai_chunk(json!({"role": "assistant", "content": ""}), None),
                openai_chunk(json!({"content": "Hello"}), None),
                openai_chunk(json!({"content": " world"}), None),
                openai_chunk(
                    json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":"}}]}),
                    None,
                ),
                openai_chunk(
                    json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}),
                    None,
                ),
                openai_chunk(json!({}), Some("tool_calls")),
                format!(
                    "data: {}\n\n",
                    json!({"id": "chatcmpl-9", "choices": [],
                    "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}})
                )
                .into_bytes(),
                b"data: [DONE]\n\n".to_vec(),
            ];
            let chunks = events
                .into_iter()
                .enumerate()
                .map(|(i, e)| (if i == 0 { Duration::ZERO } else { gap }, e))
                .collect();
            return MockResponse::events(chunks);
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

/// A native Anthropic upstream: JSON or SSE (150 ms between events).
pub fn anthropic_mock() -> Mock {
    Mock::start(|r| {
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        if r.path().ends_with("/count_tokens") {
            return MockResponse::json(200, r#"{"input_tokens":42}"#);
        }
        if body["stream"] == true {
            let ev =
                |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n").into_bytes();
            let events = vec![
                ev(
                    "message_start",
                    json!({"type": "message_start", "message": {"id": "msg_7", "type": "message",
                    "role": "assistant", "model": body["model"], "content": [], "stop_reason": null,
                    "stop_sequence": null, "usage": {"input_tokens": 12, "output_tokens": 1}}}),
                ),
                ev(
                    "content_block_start",
                    json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                ),
                ev(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Bon"}}),
                ),
                ev(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "jour"}}),
                ),
                ev(
                    "content_block_stop",
                    json!({"type": "content_block_stop", "index": 0}),
                ),
                ev(
                    "message_delta",
                    json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 4}}),
                ),
                ev("message_stop", json!({"type": "message_stop"})),
            ];
            let chunks = events
                .into_iter()
                .enumerate()
                .map(|(i, e)| {
                    (
                        if i == 0 {
                            Duration::ZERO
                        } else {
                            Duration::from_millis(150)
                        },
                        e,
                    )
                })
                .collect();
            return MockResponse::events(chunks);
        }
        MockResponse::json(
            200,
            &json!({"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
                "content": [{"type": "text", "text": "Bonjour"}], "stop_reason": "end_turn", "stop_sequence": null,
                "usage": {"input_tokens": 5, "output_tokens": 2}})
            .to_string(),
        )
    })
}

pub fn sse_events(resp: &Response) -> Vec<(String, Value)> {
    resp.text()
        .split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let mut name = String::new();
            let mut data = String::new();
            for line in e.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = d.to_string();
                }
            }
            (
                name,
                serde_json::from_str(&data).unwrap_or(Value::String(data)),
            )
        })
        .collect()
}

/// The proxy with OpenAI and Groq pointed at `openai` and Anthropic at
/// `anthropic`, plus `extra` settings.
pub fn proxy(openai: &Mock, anthropic: &Mock, extra: &[(&str, &str)]) -> Proxy {
    let mut e = env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", "sk-openai-upstream"),
        ("OPENAI_BASE_URL", &openai.url("/v1")),
        ("GROQ_API_KEY", "gsk-upstream"),
        ("GROQ_BASE_URL", &openai.url("/groq/openai/v1")),
        ("ANTHROPIC_API_KEY", "sk-ant-upstream"),
        ("ANTHROPIC_BASE_URL", &anthropic.url("")),
    ]);
    e.extend(env(extra));
    Proxy::start(&e)
}
