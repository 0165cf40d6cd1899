//! Response mapper of the Bedrock Converse ⇄ OpenAI chat completions pair:
//! a whole Converse answer → an OpenAI chat completion.

use crate::translate::openai;
use serde_json::{json, Value};

/// Converse `stopReason` → OpenAI `finish_reason`.
pub fn finish_reason(stop: &str) -> &'static str {
    match stop {
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        _ => "stop",
    }
}

/// Converse usage → OpenAI usage.
pub fn usage_to_openai(usage: &Value) -> Value {
    let n = |k: &str| usage.get(k).and_then(Value::as_u64).unwrap_or(0);
    let cached = n("cacheReadInputTokens");
    // The counts are the upstream's: added saturating, never overflowing.
    let prompt = n("inputTokens")
        .saturating_add(cached)
        .saturating_add(n("cacheWriteInputTokens"));
    let completion = n("outputTokens");
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt.saturating_add(completion),
        "prompt_tokens_details": {"cached_tokens": cached},
    })
}

/// A Converse answer → an OpenAI chat completion (`model` as the client
/// named it; `id` from the upstream's request id; `created` from its `Date`).
pub fn converse_to_chat_response(
    body: &[u8],
    model: &str,
    id: &str,
    created: i64,
) -> Result<Vec<u8>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON ({e})"))?;
    let blocks = v["output"]["message"]["content"]
        .as_array()
        .ok_or("no output message in the provider's answer")?;
    let mut m = openai::Message::default();
    for b in blocks {
        if let Some(t) = b.get("text").and_then(Value::as_str) {
            m.text.push_str(t);
        } else if let Some(u) = b.get("toolUse") {
            m.calls.push(openai::tool_call(
                &u["toolUseId"],
                &u["name"],
                u.get("input"),
            ));
        } else if let Some(r) = b["reasoningContent"]["reasoningText"]["text"].as_str() {
            m.reasoning.push_str(r);
        }
    }
    let stop = v
        .get("stopReason")
        .and_then(Value::as_str)
        .unwrap_or("end_turn");
    openai::AnswerHead::new(id, created, model).completion_bytes(
        m,
        finish_reason(stop),
        usage_to_openai(v.get("usage").unwrap_or(&Value::Null)),
    )
}
