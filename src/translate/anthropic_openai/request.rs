//! Request mappers of the Anthropic Messages ⇄ OpenAI chat completions pair.
//!
//! - [`messages_to_chat`]: an Anthropic Messages request (a client such as
//!   Claude Code) → an OpenAI chat completions request (any provider).
//! - [`chat_to_messages`]: an OpenAI chat completions request → Anthropic's
//!   native Messages API.
//!
//! What has no equivalent is dropped and named (by field path) in
//! [`Translated::dropped`], which the proxy reports in a response header.

use crate::translate::openai::{self, push_turn};
use crate::translate::{data_url, drop_name, Translated};
use serde_json::{json, Map, Value};

fn object(v: &Value) -> Result<&Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| "the request body must be a JSON object".to_string())
}

/// The `max_tokens` sent to Anthropic when the client gave none (its API
/// requires one).
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

// ------------------------------------------------------- Anthropic → OpenAI

/// An Anthropic Messages request → an OpenAI chat completions request.
/// `max_completion_tokens` is used instead of `max_tokens` where the
/// provider prefers it (OpenAI itself, whose reasoning models refuse `max_tokens`).
pub fn messages_to_chat(
    req: &Value,
    prefer_max_completion_tokens: bool,
) -> Result<Translated, String> {
    let req = object(req)?;
    let mut dropped = Vec::new();
    let mut out = Map::new();
    let mut messages = Vec::new();

    if let Some(system) = req.get("system") {
        let text = match system {
            Value::String(s) => s.clone(),
            Value::Array(blocks) => {
                let mut parts = Vec::new();
                for b in blocks {
                    if b.get("cache_control").is_some() {
                        drop_name(&mut dropped, "cache_control");
                    }
                    match b.get("type").and_then(Value::as_str) {
                        Some("text") => parts.push(str_of(b, "text").to_string()),
                        other => {
                            drop_name(&mut dropped, format!("system.{}", other.unwrap_or("?")))
                        }
                    }
                }
                parts.join("\n")
            }
            Value::Null => String::new(),
            _ => return Err("'system' must be a string or an array of text blocks".into()),
        };
        if !text.is_empty() {
            messages.push(json!({"role": "system", "content": text}));
        }
    }

    let input = req
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("missing required parameter: 'messages' (an array)")?;
    for (i, m) in input.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        let content = m.get("content").unwrap_or(&Value::Null);
        match role {
            "user" => user_to_chat(content, &mut messages, &mut dropped),
            "assistant" => assistant_to_chat(content, &mut messages, &mut dropped),
            _ => return Err(format!("messages[{i}].role must be 'user' or 'assistant'")),
        }
    }
    out.insert("messages".into(), Value::Array(messages));

    for (key, value) in req {
        match key.as_str() {
            "model" | "system" | "messages" => {}
            "max_tokens" => {
                let name = if prefer_max_completion_tokens {
                    "max_completion_tokens"
                } else {
                    "max_tokens"
                };
                out.insert(name.into(), value.clone());
            }
            "temperature" | "top_p" => {
                out.insert(key.clone(), value.clone());
            }
            "stop_sequences" => {
                if value.as_array().is_some_and(|a| !a.is_empty()) {
                    out.insert("stop".into(), value.clone());
                }
            }
            "stream" => {
                if value.as_bool() == Some(true) {
                    out.insert("stream".into(), Value::Bool(true));
                    out.insert("stream_options".into(), json!({"include_usage": true}));
                }
            }
            "metadata" => {
                if let Some(user) = value.get("user_id").filter(|u| u.is_string()) {
                    out.insert("user".into(), user.clone());
                }
                if let Some(m) = value.as_object() {
                    for k in m.keys().filter(|k| *k != "user_id") {
                        drop_name(&mut dropped, format!("metadata.{k}"));
                    }
                }
            }
            "tools" => {
                let tools = tools_to_chat(value, &mut dropped);
                if !tools.is_empty() {
                    out.insert("tools".into(), Value::Array(tools));
                }
            }
            "tool_choice" => {}
            other => drop_name(&mut dropped, other),
        }
    }
    if out.contains_key("tools") {
        if let Some(choice) = req.get("tool_choice") {
            let (choice, parallel) = tool_choice_to_chat(choice);
            if let Some(c) = choice {
                out.insert("tool_choice".into(), c);
            }
            if parallel == Some(false) {
                out.insert("parallel_tool_calls".into(), Value::Bool(false));
            }
        }
    } else if let Some(choice) = req.get("tool_choice") {
        // `none` with no tools needs nothing; anything else names a tool we dropped.
        if choice.get("type").and_then(Value::as_str) != Some("none") {
            drop_name(&mut dropped, "tool_choice");
        }
    }
    let stream = out.contains_key("stream");
    Ok(Translated {
        body: out,
        dropped,
        stream,
        include_usage: stream,
    })
}

fn str_of<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or("")
}

/// An image block's source as an OpenAI `image_url` part.
fn image_part(block: &Value) -> Option<Value> {
    let source = block.get("source")?;
    let url = match source.get("type").and_then(Value::as_str)? {
        "base64" => format!(
            "data:{};base64,{}",
            str_of(source, "media_type"),
            str_of(source, "data")
        ),
        "url" => str_of(source, "url").to_string(),
        _ => return None,
    };
    Some(json!({"type": "image_url", "image_url": {"url": url}}))
}

/// A document block (a PDF) as an OpenAI `file` part, when it is inline data.
fn document_part(block: &Value) -> Option<Value> {
    let source = block.get("source")?;
    match source.get("type").and_then(Value::as_str)? {
        "base64" => Some(json!({"type": "file", "file": {
            "filename": block.get("title").and_then(Value::as_str).unwrap_or("document.pdf"),
            "file_data": format!("data:{};base64,{}", str_of(source, "media_type"), str_of(source, "data")),
        }})),
        "text" => Some(json!({"type": "text", "text": str_of(source, "data")})),
        _ => None,
    }
}

/// Text-only parts become one string (what every provider accepts);
/// anything else stays an array of parts.
fn parts_to_content(parts: Vec<Value>) -> Value {
    if parts.iter().all(|p| p["type"] == "text") {
        let texts: Vec<&str> = parts.iter().map(|p| str_of(p, "text")).collect();
        Value::String(texts.join("\n"))
    } else {
        Value::Array(parts)
    }
}

fn note_block_extras(block: &Value, dropped: &mut Vec<String>) {
    if block.get("cache_control").is_some() {
        drop_name(dropped, "cache_control");
    }
    if block.get("citations").is_some_and(|c| !c.is_null()) {
        drop_name(dropped, "citations");
    }
}

/// A user turn: `tool_result` blocks become `tool` messages (first, in
/// order, as OpenAI wants them right after the assistant's tool calls), the
/// rest one user message.
fn user_to_chat(content: &Value, messages: &mut Vec<Value>, dropped: &mut Vec<String>) {
    let blocks = match content {
        Value::String(s) => {
            messages.push(json!({"role": "user", "content": s}));
            return;
        }
        Value::Array(blocks) => blocks,
        _ => return,
    };
    let mut parts = Vec::new();
    for b in blocks {
        note_block_extras(b, dropped);
        match b.get("type").and_then(Value::as_str).unwrap_or("") {
            "text" => parts.push(json!({"type": "text", "text": str_of(b, "text")})),
            "image" => match image_part(b) {
                Some(p) => parts.push(p),
                None => drop_name(dropped, "image.source"),
            },
            "document" => match document_part(b) {
                Some(p) => parts.push(p),
                None => drop_name(dropped, "document.source"),
            },
            "tool_result" => {
                let mut text = tool_result_text(b.get("content"), dropped);
                if b.get("is_error").and_then(Value::as_bool) == Some(true) {
                    text = format!("Error: {text}");
                }
                messages.push(json!({
                    "role": "tool",
                    "tool_call_id": str_of(b, "tool_use_id"),
                    "content": text,
                }));
            }
            other => drop_name(dropped, other),
        }
    }
    if !parts.is_empty() {
        messages.push(json!({"role": "user", "content": parts_to_content(parts)}));
    }
}

/// A tool result's content as text (OpenAI tool messages carry text only).
fn tool_result_text(content: Option<&Value>, dropped: &mut Vec<String>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(blocks)) => {
            let mut texts = Vec::new();
            for b in blocks {
                match b.get("type").and_then(Value::as_str) {
                    Some("text") => texts.push(str_of(b, "text").to_string()),
                    other => drop_name(dropped, format!("tool_result.{}", other.unwrap_or("?"))),
                }
            }
            texts.join("\n")
        }
        _ => String::new(),
    }
}

/// An assistant turn: text blocks → content, `tool_use` → `tool_calls`.
fn assistant_to_chat(content: &Value, messages: &mut Vec<Value>, dropped: &mut Vec<String>) {
    let blocks = match content {
        Value::String(s) => {
            messages.push(json!({"role": "assistant", "content": s}));
            return;
        }
        Value::Array(blocks) => blocks,
        _ => return,
    };
    let mut texts = Vec::new();
    let mut calls = Vec::new();
    for b in blocks {
        note_block_extras(b, dropped);
        match b.get("type").and_then(Value::as_str).unwrap_or("") {
            "text" => texts.push(str_of(b, "text").to_string()),
            "tool_use" => calls.push(json!({
                "id": str_of(b, "id"),
                "type": "function",
                "function": {
                    "name": str_of(b, "name"),
                    "arguments": serde_json::to_string(b.get("input").unwrap_or(&json!({}))).unwrap_or_default(),
                },
            })),
            other => drop_name(dropped, other),
        }
    }
    let mut msg = json!({"role": "assistant"});
    msg["content"] = if texts.is_empty() {
        Value::Null
    } else {
        Value::String(texts.join("\n"))
    };
    if !calls.is_empty() {
        msg["tool_calls"] = Value::Array(calls);
    }
    if texts.is_empty() && msg.get("tool_calls").is_none() {
        return;
    }
    messages.push(msg);
}

/// Client tools → functions; server tools (web search, code execution, …)
/// have no equivalent and are dropped by their type.
fn tools_to_chat(tools: &Value, dropped: &mut Vec<String>) -> Vec<Value> {
    let mut out = Vec::new();
    for t in tools.as_array().map(Vec::as_slice).unwrap_or_default() {
        let kind = t.get("type").and_then(Value::as_str);
        if kind.is_some_and(|k| k != "custom") || t.get("input_schema").is_none() {
            drop_name(
                dropped,
                format!("tools.{}", kind.unwrap_or(str_of(t, "name"))),
            );
            continue;
        }
        if t.get("cache_control").is_some() {
            drop_name(dropped, "cache_control");
        }
        let mut function = json!({"name": str_of(t, "name"), "parameters": t["input_schema"]});
        if let Some(d) = t.get("description") {
            function["description"] = d.clone();
        }
        out.push(json!({"type": "function", "function": function}));
    }
    out
}

/// Anthropic's `tool_choice` → OpenAI's, and `parallel_tool_calls` when
/// parallel use is disabled.
fn tool_choice_to_chat(choice: &Value) -> (Option<Value>, Option<bool>) {
    let parallel = choice
        .get("disable_parallel_tool_use")
        .and_then(Value::as_bool)
        .map(|d| !d);
    let mapped = match choice.get("type").and_then(Value::as_str) {
        Some("auto") => Some(json!("auto")),
        Some("any") => Some(json!("required")),
        Some("none") => Some(json!("none")),
        Some("tool") => {
            Some(json!({"type": "function", "function": {"name": str_of(choice, "name")}}))
        }
        _ => None,
    };
    (mapped, parallel)
}

// ------------------------------------------------------- OpenAI → Anthropic

/// `reasoning_effort` → a thinking budget.
fn thinking_budget(effort: &str) -> Option<u64> {
    match effort {
        "minimal" | "low" => Some(1024),
        "medium" => Some(4096),
        "high" => Some(16384),
        _ => None,
    }
}

/// An OpenAI chat completions request → an Anthropic Messages request.
pub fn chat_to_messages(req: &Value) -> Result<Translated, String> {
    let req = object(req)?;
    let mut dropped = Vec::new();
    let mut out = Map::new();
    if let Some(n) = req.get("n").and_then(Value::as_u64) {
        if n > 1 {
            return Err("n > 1 is not supported by Anthropic's Messages API".into());
        }
    }
    let input = req
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("missing required parameter: 'messages' (an array)")?;

    let mut system: Vec<Value> = Vec::new();
    let mut turns: Vec<Value> = Vec::new();
    for (i, m) in input.iter().enumerate() {
        let role = m.get("role").and_then(Value::as_str).unwrap_or("");
        let content = m.get("content").unwrap_or(&Value::Null);
        match role {
            "system" | "developer" => {
                for b in content_to_blocks(content, &mut dropped) {
                    if b["type"] == "text" {
                        system.push(b);
                    }
                }
            }
            "user" => push_turn(&mut turns, "user", content_to_blocks(content, &mut dropped)),
            "assistant" => {
                let mut blocks = content_to_blocks(content, &mut dropped);
                for (id, name, input) in openai::tool_calls(m) {
                    blocks
                        .push(json!({"type": "tool_use", "id": id, "name": name, "input": input}));
                }
                push_turn(&mut turns, "assistant", blocks);
            }
            "tool" | "function" => {
                let (id, text) = openai::tool_result(m);
                push_turn(
                    &mut turns,
                    "user",
                    vec![json!({"type": "tool_result", "tool_use_id": id, "content": text})],
                );
            }
            _ => return Err(format!("messages[{i}].role '{role}' is not supported")),
        }
    }
    if !system.is_empty() {
        let all_plain = system
            .iter()
            .all(|b| b.as_object().is_some_and(|o| o.len() == 2));
        out.insert(
            "system".into(),
            if all_plain {
                Value::String(
                    system
                        .iter()
                        .map(|b| str_of(b, "text"))
                        .collect::<Vec<_>>()
                        .join("\n\n"),
                )
            } else {
                Value::Array(system)
            },
        );
    }
    out.insert("messages".into(), Value::Array(turns));

    let max_tokens = req
        .get("max_completion_tokens")
        .or_else(|| req.get("max_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(DEFAULT_MAX_TOKENS);
    let mut max_tokens = max_tokens;
    let mut stream = false;
    let mut include_usage = false;
    let mut tools_present = false;
    for (key, value) in req {
        match key.as_str() {
            "model" | "messages" | "n" | "max_tokens" | "max_completion_tokens" => {}
            "temperature" => {
                if let Some(t) = value.as_f64() {
                    out.insert("temperature".into(), json!(t.clamp(0.0, 1.0)));
                }
            }
            "top_p" => {
                out.insert("top_p".into(), value.clone());
            }
            "stop" => {
                if let Some(list) = openai::stop_list(value) {
                    out.insert("stop_sequences".into(), list);
                }
            }
            "stream" => stream = value.as_bool() == Some(true),
            "stream_options" => {
                include_usage = value.get("include_usage").and_then(Value::as_bool) == Some(true)
            }
            "user" => {
                if value.is_string() {
                    out.insert("metadata".into(), json!({"user_id": value}));
                }
            }
            "tools" => {
                let mut tools = Vec::new();
                for t in value.as_array().map(Vec::as_slice).unwrap_or_default() {
                    if t.get("type").and_then(Value::as_str) != Some("function") {
                        drop_name(&mut dropped, format!("tools.{}", str_of(t, "type")));
                        continue;
                    }
                    let f = &t["function"];
                    let mut tool = json!({
                        "name": str_of(f, "name"),
                        "input_schema": f.get("parameters").cloned()
                            .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
                    });
                    if let Some(d) = f.get("description") {
                        tool["description"] = d.clone();
                    }
                    tools.push(tool);
                }
                tools_present = !tools.is_empty();
                if tools_present {
                    out.insert("tools".into(), Value::Array(tools));
                }
            }
            "tool_choice" | "parallel_tool_calls" => {}
            "reasoning_effort" => match value.as_str().and_then(thinking_budget) {
                Some(budget) => {
                    out.insert(
                        "thinking".into(),
                        json!({"type": "enabled", "budget_tokens": budget}),
                    );
                    // The answer needs room beyond the thinking budget.
                    if max_tokens <= budget {
                        max_tokens += budget;
                    }
                }
                None => {
                    if value.as_str() != Some("none") {
                        drop_name(&mut dropped, "reasoning_effort");
                    }
                }
            },
            other => drop_name(&mut dropped, other),
        }
    }
    if out.contains_key("thinking") {
        // Anthropic refuses a temperature other than 1 while thinking.
        if out.remove("temperature").is_some() {
            drop_name(&mut dropped, "temperature");
        }
    }
    out.insert("max_tokens".into(), json!(max_tokens));
    if tools_present {
        let parallel = req.get("parallel_tool_calls").and_then(Value::as_bool);
        let mut choice = match req.get("tool_choice") {
            Some(Value::String(s)) if s == "required" => Some(json!({"type": "any"})),
            Some(Value::String(s)) if s == "none" => Some(json!({"type": "none"})),
            Some(Value::String(s)) if s == "auto" => Some(json!({"type": "auto"})),
            Some(Value::Object(o)) => o
                .get("function")
                .and_then(|f| f.get("name"))
                .map(|n| json!({"type": "tool", "name": n})),
            _ => None,
        };
        if parallel == Some(false) {
            let c = choice.get_or_insert_with(|| json!({"type": "auto"}));
            if c["type"] != "none" {
                c["disable_parallel_tool_use"] = Value::Bool(true);
            }
        }
        if let Some(c) = choice {
            out.insert("tool_choice".into(), c);
        }
    } else if req
        .get("tool_choice")
        .is_some_and(|c| c != "none" && c != "auto")
    {
        drop_name(&mut dropped, "tool_choice");
    }
    if stream {
        out.insert("stream".into(), Value::Bool(true));
    }
    Ok(Translated {
        body: out,
        dropped,
        stream,
        include_usage,
    })
}

/// OpenAI message content (a string or parts) → Anthropic content blocks.
fn content_to_blocks(content: &Value, dropped: &mut Vec<String>) -> Vec<Value> {
    match content {
        Value::String(s) if s.is_empty() => Vec::new(),
        Value::String(s) => vec![json!({"type": "text", "text": s})],
        Value::Array(parts) => parts
            .iter()
            .filter_map(
                |p| match p.get("type").and_then(Value::as_str).unwrap_or("") {
                    "text" => Some(json!({"type": "text", "text": str_of(p, "text")})),
                    "image_url" => {
                        let url = p["image_url"]["url"].as_str().unwrap_or("");
                        let source = match data_url(url) {
                            Some((media_type, data)) => {
                                json!({"type": "base64", "media_type": media_type, "data": data})
                            }
                            None => json!({"type": "url", "url": url}),
                        };
                        Some(json!({"type": "image", "source": source}))
                    }
                    "file" => {
                        let data = p["file"]["file_data"].as_str().and_then(data_url);
                        match data {
                            Some((media_type, data)) => Some(json!({"type": "document",
                            "source": {"type": "base64", "media_type": media_type, "data": data}})),
                            None => {
                                drop_name(dropped, "file");
                                None
                            }
                        }
                    }
                    "refusal" => None,
                    other => {
                        drop_name(dropped, other);
                        None
                    }
                },
            )
            .collect(),
        _ => Vec::new(),
    }
}
