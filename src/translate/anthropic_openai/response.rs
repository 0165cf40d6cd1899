//! Response mappers of the Anthropic Messages ⇄ OpenAI chat completions
//! pair: whole JSON answers and error bodies.

use crate::errors::anthropic_error_type;
use crate::translate::openai;
use serde_json::{json, Value};

/// An id safe to embed (letters, digits, `_`, `-`), at most 64 characters.
pub fn clean_id(id: &str) -> String {
    id.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(64)
        .collect()
}

/// `msg_…` from an upstream id (or `msg_proxy` when it has none).
pub fn message_id(upstream: &str) -> String {
    let id = clean_id(upstream);
    let id = id.strip_prefix("msg_").unwrap_or(&id);
    if id.is_empty() {
        "msg_proxy".into()
    } else {
        format!("msg_{id}")
    }
}

/// OpenAI `finish_reason` → Anthropic `stop_reason`.
pub fn stop_reason(finish: &str, stop_sequence: Option<&str>) -> &'static str {
    match finish {
        "length" => "max_tokens",
        "tool_calls" | "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ if stop_sequence.is_some() => "stop_sequence",
        _ => "end_turn",
    }
}

/// Anthropic `stop_reason` → OpenAI `finish_reason`.
pub fn finish_reason(stop: &str) -> &'static str {
    match stop {
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    }
}

/// OpenAI usage → Anthropic usage (`input_tokens` excludes cached tokens,
/// as Anthropic counts them).
pub fn usage_to_anthropic(usage: Option<&Value>) -> Value {
    let n = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
    let usage = usage.unwrap_or(&Value::Null);
    let prompt = n(usage.get("prompt_tokens"));
    let cached = n(usage
        .get("prompt_tokens_details")
        .and_then(|d| d.get("cached_tokens")))
    .max(n(usage.get("prompt_cache_hit_tokens")));
    json!({
        "input_tokens": prompt.saturating_sub(cached),
        "output_tokens": n(usage.get("completion_tokens")),
        "cache_read_input_tokens": cached,
        "cache_creation_input_tokens": 0,
    })
}

/// Anthropic usage → OpenAI usage (`prompt_tokens` includes cached tokens).
pub fn usage_to_openai(usage: &Value) -> Value {
    let n = |k: &str| usage.get(k).and_then(Value::as_u64).unwrap_or(0);
    let cached = n("cache_read_input_tokens");
    // The counts are the upstream's: added saturating, never overflowing.
    let prompt = n("input_tokens")
        .saturating_add(cached)
        .saturating_add(n("cache_creation_input_tokens"));
    let completion = n("output_tokens");
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt.saturating_add(completion),
        "prompt_tokens_details": {"cached_tokens": cached},
    })
}

/// An OpenAI chat completion → an Anthropic message (`model` as the client
/// named it).
pub fn chat_to_messages_response(body: &[u8], model: &str) -> Result<Vec<u8>, String> {
    let v = crate::translate::openai::parse_answer(body)?;
    let choice = &v["choices"][0];
    let message = &choice["message"];
    let mut content = Vec::new();
    for key in ["content", "refusal"] {
        if let Some(text) = message.get(key).and_then(Value::as_str) {
            if !text.is_empty() {
                content.push(json!({"type": "text", "text": text}));
            }
        }
    }
    for call in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        content.push(json!({
            "type": "tool_use",
            "id": call.get("id").and_then(Value::as_str).unwrap_or(""),
            "name": call["function"]["name"].as_str().unwrap_or(""),
            "input": openai::arguments_object(call["function"]["arguments"].as_str().unwrap_or("")),
        }));
    }
    let matched = choice
        .get("stop_reason")
        .or_else(|| choice.get("matched_stop"))
        .and_then(Value::as_str);
    let finish = choice["finish_reason"].as_str().unwrap_or("stop");
    let stop = stop_reason(finish, matched);
    let out = json!({
        "id": message_id(v.get("id").and_then(Value::as_str).unwrap_or("")),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": if stop == "stop_sequence" { json!(matched) } else { Value::Null },
        "usage": usage_to_anthropic(v.get("usage")),
    });
    serde_json::to_vec(&out).map_err(|e| e.to_string())
}

/// An Anthropic message → an OpenAI chat completion (`model` as the client
/// named it; `created` from the upstream's `Date`, as the proxy reads no clock).
pub fn messages_to_chat_response(
    body: &[u8],
    model: &str,
    created: i64,
) -> Result<Vec<u8>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON ({e})"))?;
    let blocks = v
        .get("content")
        .and_then(Value::as_array)
        .ok_or("no content in the provider's answer")?;
    let mut m = openai::Message::default();
    for b in blocks {
        match b.get("type").and_then(Value::as_str).unwrap_or("") {
            "text" => m
                .text
                .push_str(b.get("text").and_then(Value::as_str).unwrap_or("")),
            "thinking" => {
                m.reasoning
                    .push_str(b.get("thinking").and_then(Value::as_str).unwrap_or(""));
                m.thinking_blocks.push(b.clone());
            }
            "redacted_thinking" => m.thinking_blocks.push(b.clone()),
            "tool_use" => m
                .calls
                .push(openai::tool_call(&b["id"], &b["name"], b.get("input"))),
            _ => {}
        }
    }
    let id = clean_id(v.get("id").and_then(Value::as_str).unwrap_or(""));
    let stop = v
        .get("stop_reason")
        .and_then(Value::as_str)
        .unwrap_or("end_turn");
    openai::AnswerHead::new(&id, created, model).completion_bytes(
        m,
        finish_reason(stop),
        usage_to_openai(v.get("usage").unwrap_or(&Value::Null)),
    )
}

/// The human-readable message of an upstream error body of any shape
/// (OpenAI's, Anthropic's, Google's, plain text), cut short.
pub fn error_message(status: u16, body: &[u8]) -> String {
    let from_json = serde_json::from_slice::<Value>(body).ok().and_then(|v| {
        let e = v.get("error").unwrap_or(&v);
        e.get("message")
            .and_then(Value::as_str)
            .or_else(|| e.as_str())
            .or_else(|| v.get("message").and_then(Value::as_str))
            .or_else(|| v.get("detail").and_then(Value::as_str))
            .map(str::to_string)
    });
    let text = from_json.unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
    let text: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(2000)
        .collect();
    if text.is_empty() {
        format!("the provider answered with status {status}")
    } else {
        text
    }
}

/// An upstream error body → Anthropic's error shape.
pub fn error_to_anthropic(status: u16, body: &[u8]) -> Vec<u8> {
    json!({
        "type": "error",
        "error": {"type": anthropic_error_type(status), "message": error_message(status, body)},
    })
    .to_string()
    .into_bytes()
}

/// OpenAI's error `type` for an HTTP status.
pub fn openai_error_type(status: u16) -> &'static str {
    match status {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        s if s >= 500 => "api_error",
        _ => "invalid_request_error",
    }
}

/// An upstream error body → OpenAI's error shape.
pub fn error_to_openai(status: u16, body: &[u8]) -> Vec<u8> {
    let code = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["type"].as_str().map(str::to_string));
    json!({
        "error": {"message": error_message(status, body), "type": openai_error_type(status), "code": code},
    })
    .to_string()
    .into_bytes()
}
