//! Response side of the Responses ⇄ chat pair: a whole chat completion →
//! a Responses `response` object, and the pieces the stream translator
//! shares with it (items, usage, status).

use super::ToolNames;
use crate::translate::anthropic_openai::response::clean_id;
use crate::translate::openai;
use serde_json::{json, Value};

/// `prefix_` + the upstream id made safe (or `prefix_proxy`).
pub fn item_id(prefix: &str, upstream: &str) -> String {
    let id = clean_id(upstream);
    let id = id
        .strip_prefix("chatcmpl-")
        .or_else(|| id.strip_prefix("chatcmpl_"))
        .unwrap_or(&id);
    if id.is_empty() {
        format!("{prefix}_proxy")
    } else {
        format!("{prefix}_{id}")
    }
}

/// Chat usage → Responses usage.
pub fn usage(u: Option<&Value>) -> Value {
    let n = |v: Option<&Value>| v.and_then(Value::as_u64).unwrap_or(0);
    let u = u.unwrap_or(&Value::Null);
    let input = n(u.get("prompt_tokens"));
    let output = n(u.get("completion_tokens"));
    let cached = n(u
        .get("prompt_tokens_details")
        .and_then(|d| d.get("cached_tokens")))
    .max(n(u.get("prompt_cache_hit_tokens")));
    let reasoning = n(u
        .get("completion_tokens_details")
        .and_then(|d| d.get("reasoning_tokens")));
    json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        // The upstream's counts: saturating, never overflowing.
        "total_tokens": input.saturating_add(output),
    })
}

/// A chat `finish_reason` → the response's `status` and, when it stopped
/// short, why.
pub fn status(finish: &str) -> (&'static str, Option<&'static str>) {
    match finish {
        "length" => ("incomplete", Some("max_output_tokens")),
        "content_filter" => ("incomplete", Some("content_filter")),
        _ => ("completed", None),
    }
}

/// A tool call as the client's item: `function_call`, or `custom_tool_call`
/// for a custom tool (its input the text of the one string argument);
/// names mapped back to the client's (namespace included).
pub fn call_item(
    tools: &ToolNames,
    call_id: &str,
    flat: &str,
    arguments: &str,
    done: bool,
) -> Value {
    let status = if done { "completed" } else { "in_progress" };
    let id = item_id("fc", call_id);
    match tools.back(flat) {
        Some(t) if t.custom => {
            let input = match openai::arguments_object(arguments) {
                Value::Object(o) => o
                    .get("input")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| arguments.to_string()),
                _ => arguments.to_string(),
            };
            json!({"type": "custom_tool_call", "id": id, "call_id": call_id, "name": t.name,
                   "input": if done { input } else { String::new() }, "status": status})
        }
        Some(t) => {
            let mut item = json!({"type": "function_call", "id": id, "call_id": call_id,
                "name": t.name, "arguments": arguments, "status": status});
            if let Some(ns) = &t.namespace {
                item["namespace"] = json!(ns);
            }
            item
        }
        None => json!({"type": "function_call", "id": id, "call_id": call_id, "name": flat,
                       "arguments": arguments, "status": status}),
    }
}

/// An assistant message item with one `output_text` part.
pub fn message_item(id: &str, text: &str, done: bool) -> Value {
    let content = if done {
        json!([{"type": "output_text", "text": text, "annotations": [], "logprobs": []}])
    } else {
        json!([])
    };
    json!({"type": "message", "id": id, "status": if done { "completed" } else { "in_progress" },
           "role": "assistant", "content": content})
}

/// A reasoning item: its summary the provider's reasoning text; its
/// `encrypted_content` Anthropic's thinking blocks (signatures included),
/// which the client sends back and the proxy restores.
pub fn reasoning_item(id: &str, text: &str, blocks: &[Value]) -> Value {
    let summary = if text.is_empty() {
        json!([])
    } else {
        json!([{"type": "summary_text", "text": text}])
    };
    let mut item = json!({"type": "reasoning", "id": id, "summary": summary});
    if !blocks.is_empty() {
        item["encrypted_content"] = json!(Value::Array(blocks.to_vec()).to_string());
    }
    item
}

/// The `response` object.
pub fn response_object(
    id: &str,
    created: i64,
    model: &str,
    status: &str,
    incomplete: Option<&str>,
    output: Vec<Value>,
    usage: Value,
) -> Value {
    json!({
        "id": id, "object": "response", "created_at": created, "status": status,
        "error": null,
        "incomplete_details": incomplete.map(|r| json!({"reason": r})),
        "instructions": null, "max_output_tokens": null, "model": model,
        "output": output, "parallel_tool_calls": true, "previous_response_id": null,
        "reasoning": {"effort": null, "summary": null}, "store": false,
        "temperature": null, "text": {"format": {"type": "text"}}, "tool_choice": "auto",
        "tools": [], "top_p": null, "truncation": "disabled", "usage": usage, "metadata": {},
    })
}

/// A whole chat completion → a Responses `response` (`model` as the client
/// named it; `created` from the upstream's `Date`).
pub fn chat_to_responses_response(
    body: &[u8],
    model: &str,
    tools: &ToolNames,
    created: i64,
) -> Result<Vec<u8>, String> {
    let v = crate::translate::openai::parse_answer(body)?;
    let choice = &v["choices"][0];
    let upstream = v.get("id").and_then(Value::as_str).unwrap_or("");
    let message = &choice["message"];
    let mut output = Vec::new();
    let reasoning = message
        .get("reasoning_content")
        .or_else(|| message.get("reasoning"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let blocks = message
        .get("thinking_blocks")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if !reasoning.is_empty() || !blocks.is_empty() {
        output.push(reasoning_item(&item_id("rs", upstream), reasoning, blocks));
    }
    let text: String = ["content", "refusal"]
        .iter()
        .filter_map(|k| message.get(*k).and_then(Value::as_str))
        .collect();
    if !text.is_empty() {
        output.push(message_item(&item_id("msg", upstream), &text, true));
    }
    for call in message
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        output.push(call_item(
            tools,
            call.get("id").and_then(Value::as_str).unwrap_or(""),
            call["function"]["name"].as_str().unwrap_or(""),
            call["function"]["arguments"].as_str().unwrap_or(""),
            true,
        ));
    }
    let (status, incomplete) = status(choice["finish_reason"].as_str().unwrap_or("stop"));
    let out = response_object(
        &item_id("resp", upstream),
        created,
        model,
        status,
        incomplete,
        output,
        usage(v.get("usage")),
    );
    serde_json::to_vec(&out).map_err(|e| e.to_string())
}
