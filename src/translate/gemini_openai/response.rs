//! Response side of the Gemini ⇄ chat pair: a whole chat completion → a
//! `GenerateContentResponse`, upstream errors → Google's error shape, and
//! the pieces the stream translator shares with them.

use crate::translate::anthropic_openai::response::error_message;
use serde_json::{json, Map, Value};

/// A chat `finish_reason` → Gemini's `finishReason`.
pub fn finish_reason(finish: &str) -> &'static str {
    match finish {
        "stop" | "tool_calls" | "function_call" => "STOP",
        "length" => "MAX_TOKENS",
        "content_filter" => "SAFETY",
        _ => "OTHER",
    }
}

/// Chat usage → `usageMetadata`. Gemini counts thoughts apart from the
/// candidates (`totalTokenCount` = prompt + candidates + thoughts), OpenAI
/// counts reasoning within `completion_tokens`: the candidates are what
/// remains of it.
pub fn usage_metadata(u: Option<&Value>) -> Value {
    let n = |v: Option<&Value>| v.and_then(Value::as_u64);
    let u = u.unwrap_or(&Value::Null);
    let prompt = n(u.get("prompt_tokens")).unwrap_or(0);
    let completion = n(u.get("completion_tokens")).unwrap_or(0);
    let cached = n(u
        .get("prompt_tokens_details")
        .and_then(|d| d.get("cached_tokens")));
    let reasoning = n(u
        .get("completion_tokens_details")
        .and_then(|d| d.get("reasoning_tokens")));
    let mut m = Map::new();
    m.insert("promptTokenCount".into(), json!(prompt));
    m.insert(
        "candidatesTokenCount".into(),
        json!(completion.saturating_sub(reasoning.unwrap_or(0))),
    );
    m.insert(
        "totalTokenCount".into(),
        json!(prompt.saturating_add(completion)),
    );
    if let Some(c) = cached {
        m.insert("cachedContentTokenCount".into(), json!(c));
    }
    if let Some(r) = reasoning {
        m.insert("thoughtsTokenCount".into(), json!(r));
    }
    Value::Object(m)
}

/// The provider's reasoning text in a chat message or delta
/// (`reasoning_content`, as DeepSeek, Groq and the Messages translation
/// write it; `reasoning`, as OpenRouter and vLLM do): a Gemini thought part.
pub fn thought_text(message: &Value) -> Option<&str> {
    ["reasoning_content", "reasoning"]
        .iter()
        .find_map(|k| message.get(*k).and_then(Value::as_str))
        .filter(|t| !t.is_empty())
}

/// A tool call as a `functionCall` part (arguments that are no JSON object
/// become `{}`).
pub fn function_call_part(id: &str, name: &str, arguments: &str) -> Value {
    let args = match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({}),
    };
    let mut call = json!({"name": name, "args": args});
    if !id.is_empty() {
        call["id"] = json!(id);
    }
    json!({"functionCall": call})
}

/// One candidate with `parts` (and, when it ended, its `finishReason`).
pub fn candidate(parts: Vec<Value>, finish: Option<&str>) -> Value {
    let mut c = json!({"content": {"role": "model", "parts": parts}, "index": 0});
    if let Some(f) = finish {
        c["finishReason"] = json!(f);
    }
    c
}

/// A `GenerateContentResponse` with one candidate.
pub fn response_object(
    candidate: Value,
    usage: Option<Value>,
    model: &str,
    response_id: &str,
) -> Value {
    let mut r = json!({"candidates": [candidate]});
    if let Some(u) = usage {
        r["usageMetadata"] = u;
    }
    r["modelVersion"] = json!(model);
    if !response_id.is_empty() {
        r["responseId"] = json!(response_id);
    }
    r
}

/// A whole chat completion → a Gemini `GenerateContentResponse`
/// (`modelVersion` the model as the client named it).
pub fn chat_to_gemini_response(body: &[u8], model: &str) -> Result<Vec<u8>, String> {
    let v = crate::translate::openai::parse_answer(body)?;
    let choice = &v["choices"][0];
    let message = &choice["message"];
    let mut parts = Vec::new();
    if let Some(t) = thought_text(message) {
        parts.push(json!({"text": t, "thought": true}));
    }
    let text: String = ["content", "refusal"]
        .iter()
        .filter_map(|k| message.get(*k).and_then(Value::as_str))
        .collect();
    if !text.is_empty() {
        parts.push(json!({"text": text}));
    }
    for call in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        parts.push(function_call_part(
            call.get("id").and_then(Value::as_str).unwrap_or(""),
            call["function"]["name"].as_str().unwrap_or(""),
            call["function"]["arguments"].as_str().unwrap_or(""),
        ));
    }
    if parts.is_empty() {
        parts.push(json!({"text": ""}));
    }
    let finish = finish_reason(choice["finish_reason"].as_str().unwrap_or("stop"));
    let out = response_object(
        candidate(parts, Some(finish)),
        Some(usage_metadata(v.get("usage"))),
        model,
        v.get("id").and_then(Value::as_str).unwrap_or(""),
    );
    serde_json::to_vec(&out).map_err(|e| e.to_string())
}

pub use crate::errors::{google_error, google_status};

/// An upstream error body (any shape) with its status → Google's shape.
pub fn error_to_gemini(status: u16, body: &[u8]) -> Vec<u8> {
    google_error(status, &error_message(status, body))
}
