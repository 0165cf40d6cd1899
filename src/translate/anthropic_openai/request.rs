//! Request mappers of the Anthropic Messages ⇄ OpenAI chat completions pair.
//!
//! - [`messages_to_chat`]: an Anthropic Messages request (a client such as
//!   Claude Code) → an OpenAI chat completions request (any provider).
//! - [`chat_to_messages`]: an OpenAI chat completions request → Anthropic's
//!   native Messages API.
//!
//! Both read the client's body one level at a time and write the new body
//! straight into a buffer: text, tool schemas, tool inputs and tool results
//! are copied as the client's raw JSON bytes, never decoded into values
//! (see [`crate::translate::raw`]).
//!
//! A mapper never rejects what the real API on the client's side accepts:
//! what has no equivalent is dropped and named (by field path) in
//! [`Translated::dropped`], which the proxy reports in a response header.
//! An error is only for a body that is not a request at all.

use crate::translate::raw::{
    self, as_bool, as_str, as_u64, for_each_item, for_each_object, inner, is_nonempty_array,
    is_str, join_literals, write_json, write_str, Fields, ObjectBuf, Out, Request,
};
use crate::translate::raw::{block, text_message, Part, Turns, UserParts};
pub use crate::translate::Translated;
use crate::translate::{data_url, drop_name};
use serde_json::json;
use serde_json::value::RawValue;

/// The `max_tokens` sent to Anthropic when the client gave none (its API
/// requires one).
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// The top level of a request body, its `messages` read in the same pass;
/// a clear reason when it is not an object.
pub fn top_level(body: &[u8]) -> Result<Request<'_>, String> {
    raw::parse_object(body)
}

/// What the target provider takes, for [`messages_to_chat`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChatOptions {
    /// `max_completion_tokens` instead of `max_tokens` (OpenAI itself, whose
    /// reasoning models refuse `max_tokens`).
    pub max_completion_tokens: bool,
    /// The provider accepts `reasoning_effort` for this model.
    pub reasoning_effort: bool,
    /// The provider takes system text only at the start of the
    /// conversation: a system turn later in `messages` is merged into it.
    pub system_first: bool,
    /// The request ends at Anthropic's Messages API, which wants its
    /// thinking blocks back: a Responses `reasoning` item's
    /// `encrypted_content` becomes the turn's `thinking_blocks`.
    pub thinking_blocks: bool,
}

// ------------------------------------------------------- Anthropic → OpenAI

/// An Anthropic Messages request body → an OpenAI chat completions request.
pub fn messages_to_chat(body: &[u8], opts: ChatOptions) -> Result<Translated, String> {
    messages_fields_to_chat(&top_level(body)?, opts)
}

/// The text literals of a system prompt or system turn (a string, or text
/// blocks); other blocks are named as dropped under `what`.
fn system_texts<'a>(
    value: &'a RawValue,
    what: &str,
    texts: &mut Vec<&'a str>,
    dropped: &mut Vec<String>,
) {
    if is_str(value) {
        texts.push(value.get());
        return;
    }
    let array = for_each_object(value, |b| {
        note_block_extras(&b, dropped);
        match b.str("type").as_deref() {
            Some("text") => texts.push(b.raw_str("text").unwrap_or("\"\"")),
            other => drop_name(dropped, format!("{what}.{}", other.unwrap_or("?"))),
        }
    });
    if !array && value.get() != "null" {
        drop_name(dropped, what);
    }
}

/// The reasoning effort a request asks for, from Anthropic's `thinking`
/// and `output_config.effort`, and the names to drop when the provider
/// takes no `reasoning_effort`.
struct Reasoning {
    effort: Option<&'static str>,
    /// `thinking` asked for thinking (enabled or adaptive).
    thinks: bool,
    /// `thinking` had a type this proxy does not know.
    unknown_thinking: bool,
    /// `output_config.effort` was given.
    config_effort: bool,
}

/// Anthropic's effort levels → OpenAI's.
fn effort_level(effort: &str) -> Option<&'static str> {
    match effort {
        "minimal" | "low" => Some("low"),
        "medium" => Some("medium"),
        "high" | "max" | "xhigh" => Some("high"),
        _ => None,
    }
}

/// A thinking budget → an effort level (the inverse of [`thinking_budget`]).
fn budget_level(budget: u64) -> &'static str {
    if budget < 4096 {
        "low"
    } else if budget < 16384 {
        "medium"
    } else {
        "high"
    }
}

/// A request's `messages`, which must be an array.
fn messages_of<'a>(request: &Request<'a>) -> Result<&'a RawValue, String> {
    request
        .messages()
        .ok_or_else(|| "missing required parameter: 'messages' (an array)".into())
}

/// About how many bytes the messages take.
fn size_hint(messages: &RawValue) -> usize {
    messages.get().len() + 256
}

fn reasoning(req: &Fields) -> Reasoning {
    let thinking = req.get("thinking").and_then(Fields::of);
    let config = req.get("output_config").and_then(Fields::of);
    let config_effort = config.as_ref().and_then(|c| c.str("effort"));
    let from_config = config_effort.as_deref().and_then(effort_level);
    let kind = thinking.as_ref().and_then(|t| t.str("type"));
    let (effort, thinks, unknown) = match kind.as_deref() {
        Some("enabled") => {
            let budget = thinking
                .as_ref()
                .and_then(|t| t.get("budget_tokens"))
                .and_then(as_u64);
            let effort = from_config.or_else(|| budget.map(budget_level));
            (effort.or(Some("medium")), true, false)
        }
        Some("adaptive") => (from_config, true, false),
        Some("disabled") => (None, false, false),
        None => (from_config, false, req.get("thinking").is_some()),
        Some(_) => (from_config, false, true),
    };
    Reasoning {
        effort,
        thinks,
        unknown_thinking: unknown,
        config_effort: config_effort.is_some(),
    }
}

/// The parsed top level of an Anthropic Messages request → an OpenAI chat
/// completions request.
pub fn messages_fields_to_chat(request: &Request, opts: ChatOptions) -> Result<Translated, String> {
    let mut dropped = Vec::new();
    let mut out = ObjectBuf::new();
    let req = &request.fields;
    let input = messages_of(request)?;

    // System text: the `system` field, then (for providers that take it only
    // first) every system turn of the conversation.
    let mut system: Vec<&str> = Vec::new();
    if let Some(s) = req.get("system") {
        system_texts(s, "system", &mut system, &mut dropped);
    }
    if opts.system_first {
        request.for_each_message(|m| {
            if m.str("role").as_deref() == Some("system") {
                if let Some(c) = m.get("content") {
                    system_texts(c, "system", &mut system, &mut dropped);
                }
            }
        });
    }
    let mut messages = Out::with_capacity(size_hint(input));
    if system.iter().any(|t| *t != "\"\"") {
        text_message(&mut messages, "system", &system);
    }
    drop(system);
    request.for_each_message(|m| {
        let content = m.get("content");
        match m.str("role").as_deref() {
            Some("user") => user_to_chat(content, &mut messages, &mut dropped),
            Some("assistant") => assistant_to_chat(content, &mut messages, &mut dropped),
            Some("system") if opts.system_first => {}
            Some("system") => {
                let mut texts = Vec::new();
                if let Some(c) = content {
                    system_texts(c, "system", &mut texts, &mut dropped);
                }
                if texts.iter().any(|t| *t != "\"\"") {
                    text_message(&mut messages, "system", &texts);
                }
            }
            Some(other) => drop_name(&mut dropped, format!("messages.role.{other}")),
            None => drop_name(&mut dropped, "messages.role"),
        }
    });
    out.insert_raw("messages", messages.finish());

    let reasoning = reasoning(req);
    let mut stream = false;
    for (key, value) in &req.0 {
        match key.as_ref() {
            "model" | "system" | "messages" | "tool_choice" => {}
            "max_tokens" => {
                let name = if opts.max_completion_tokens {
                    "max_completion_tokens"
                } else {
                    "max_tokens"
                };
                out.insert_raw(name, value.get().as_bytes().to_vec());
            }
            "temperature" | "top_p" => out.insert_raw(key, value.get().as_bytes().to_vec()),
            "stop_sequences" => {
                if is_nonempty_array(value) {
                    out.insert_raw("stop", value.get().as_bytes().to_vec());
                }
            }
            "stream" => {
                if as_bool(value) == Some(true) {
                    stream = true;
                    out.insert_raw("stream", b"true".to_vec());
                    out.insert_raw("stream_options", br#"{"include_usage":true}"#.to_vec());
                }
            }
            "metadata" => {
                if let Some(m) = Fields::of(value) {
                    for (k, v) in &m.0 {
                        if k == "user_id" && is_str(v) {
                            out.insert_raw("user", v.get().as_bytes().to_vec());
                        } else if k != "user_id" {
                            drop_name(&mut dropped, format!("metadata.{k}"));
                        }
                    }
                }
            }
            "tools" => {
                let tools = tools_to_chat(value, &mut dropped);
                if tools.len() > 2 {
                    out.insert_raw("tools", tools);
                }
            }
            "thinking" => {
                // Adaptive thinking without an effort leaves it to the
                // model, as a reasoning model's default does.
                if reasoning.unknown_thinking || (reasoning.thinks && !opts.reasoning_effort) {
                    drop_name(&mut dropped, "thinking");
                }
            }
            "output_config" => match Fields::of(value) {
                Some(config) => {
                    for (k, v) in &config.0 {
                        match k.as_ref() {
                            "effort" => {
                                if !opts.reasoning_effort
                                    || reasoning.effort.is_none()
                                    || !reasoning.config_effort
                                {
                                    drop_name(&mut dropped, "output_config.effort");
                                }
                            }
                            "format" => {
                                response_format(v, &mut out, &mut dropped, "output_config.format")
                            }
                            other => drop_name(&mut dropped, format!("output_config.{other}")),
                        }
                    }
                }
                None => drop_name(&mut dropped, "output_config"),
            },
            "output_format" => response_format(value, &mut out, &mut dropped, "output_format"),
            other => drop_name(&mut dropped, other),
        }
    }
    if opts.reasoning_effort {
        if let Some(effort) = reasoning.effort {
            out.insert("reasoning_effort", &effort);
        }
    }
    let choice = req.get("tool_choice");
    if out.contains_key("tools") {
        if let Some(choice) = choice.and_then(Fields::of) {
            let (mapped, parallel) = tool_choice_to_chat(&choice);
            if let Some(c) = mapped {
                out.insert_raw("tool_choice", c);
            }
            if parallel == Some(false) {
                out.insert_raw("parallel_tool_calls", b"false".to_vec());
            }
        }
    } else if let Some(choice) = choice {
        // `none` with no tools needs nothing; anything else names a tool we dropped.
        let none = Fields::of(choice).is_some_and(|c| c.str("type").as_deref() == Some("none"));
        if !none {
            drop_name(&mut dropped, "tool_choice");
        }
    }
    Ok(Translated {
        body: out,
        dropped,
        stream,
        include_usage: stream,
    })
}

/// Anthropic's structured output format → OpenAI's `response_format`.
fn response_format(value: &RawValue, out: &mut ObjectBuf, dropped: &mut Vec<String>, what: &str) {
    let format = Fields::of(value);
    let schema = format
        .as_ref()
        .filter(|f| f.str("type").as_deref() == Some("json_schema"))
        .and_then(|f| f.get("schema"));
    match schema {
        Some(schema) => {
            let mut buf = Vec::with_capacity(schema.get().len() + 64);
            buf.extend_from_slice(
                br#"{"type":"json_schema","json_schema":{"name":"response","schema":"#,
            );
            buf.extend_from_slice(schema.get().as_bytes());
            buf.extend_from_slice(b"}}");
            out.insert_raw("response_format", buf);
        }
        None => drop_name(dropped, what),
    }
}

/// An image block's source as an OpenAI `image_url` part.
fn image_part(block: &Fields) -> Option<Vec<u8>> {
    let source = Fields::of(block.get("source")?)?;
    let url = match source.str("type")?.as_ref() {
        "base64" => format!(
            "data:{};base64,{}",
            source.str("media_type").unwrap_or_default(),
            source.str("data").unwrap_or_default()
        ),
        "url" => source.str("url")?.into_owned(),
        _ => return None,
    };
    let mut buf = Vec::with_capacity(url.len() + 48);
    write_json(
        &mut buf,
        &json!({"type": "image_url", "image_url": {"url": url}}),
    );
    Some(buf)
}

/// A document block: inline PDF data as an OpenAI `file` part, plain text
/// as a text part.
fn document_part<'a>(block: &Fields<'a>) -> Option<Part<'a>> {
    let source = Fields::of(block.get("source")?)?;
    match source.str("type")?.as_ref() {
        "base64" => {
            let part = json!({"type": "file", "file": {
                "filename": block.str("title").as_deref().unwrap_or("document.pdf"),
                "file_data": format!("data:{};base64,{}",
                    source.str("media_type").unwrap_or_default(),
                    source.str("data").unwrap_or_default()),
            }});
            let mut buf = Vec::new();
            write_json(&mut buf, &part);
            Some(Part::Json(buf))
        }
        "text" => Some(Part::Text(source.raw_str("data").unwrap_or("\"\""))),
        _ => None,
    }
}

fn note_block_extras(block: &Fields, dropped: &mut Vec<String>) {
    for (k, v) in &block.0 {
        match k.as_ref() {
            "cache_control" => drop_name(dropped, "cache_control"),
            "citations" if v.get() != "null" => drop_name(dropped, "citations"),
            _ => {}
        }
    }
}

/// A turn's content blocks (an array); a string content is written at once
/// as a message of `role` (`None` then, as for content of any other type).
fn blocks_or_text<'a>(
    content: Option<&'a RawValue>,
    role: &str,
    messages: &mut Out,
) -> Option<&'a RawValue> {
    let content = content?;
    if is_str(content) {
        text_message(messages, role, &[content.get()]);
        return None;
    }
    content.get().starts_with('[').then_some(content)
}

/// A user turn: `tool_result` blocks become `tool` messages (first, in
/// order, as OpenAI wants them right after the assistant's tool calls), the
/// rest one user message. Text-only parts become one string (what every
/// provider accepts); anything else stays an array of parts.
fn user_to_chat(content: Option<&RawValue>, messages: &mut Out, dropped: &mut Vec<String>) {
    let Some(blocks) = blocks_or_text(content, "user", messages) else {
        return;
    };
    let mut parts = UserParts::default();
    for_each_object(blocks, |b| {
        note_block_extras(&b, dropped);
        match b.str("type").as_deref().unwrap_or("") {
            "text" => parts.push(Part::Text(b.raw_str("text").unwrap_or("\"\""))),
            "image" => match image_part(&b) {
                Some(p) => parts.push(Part::Json(p)),
                None => drop_name(dropped, "image.source"),
            },
            "document" => match document_part(&b) {
                Some(p) => parts.push(p),
                None => drop_name(dropped, "document.source"),
            },
            "tool_result" => tool_message(&b, messages, dropped),
            other => drop_name(dropped, other),
        }
    });
    if parts.is_empty() {
        return;
    }
    parts.write(messages);
}

/// A `tool_result` block → a `tool` message (OpenAI tool messages carry
/// text only; an error result says so in its text).
fn tool_message(block: &Fields, messages: &mut Out, dropped: &mut Vec<String>) {
    let mut texts: Vec<&str> = Vec::new();
    match block.get("content") {
        Some(c) if is_str(c) => texts.push(c.get()),
        Some(c) => {
            for_each_object(c, |b| match b.str("type").as_deref() {
                Some("text") => texts.push(b.raw_str("text").unwrap_or("\"\"")),
                other => drop_name(dropped, format!("tool_result.{}", other.unwrap_or("?"))),
            });
        }
        None => {}
    }
    let error = block.get("is_error").and_then(as_bool) == Some(true);
    let buf = messages.item();
    buf.extend_from_slice(br#"{"role":"tool","tool_call_id":"#);
    buf.extend_from_slice(block.raw_str("tool_use_id").unwrap_or("\"\"").as_bytes());
    buf.extend_from_slice(br#","content":""#);
    if error {
        buf.extend_from_slice(b"Error: ");
    }
    for (i, t) in texts.iter().enumerate() {
        if i > 0 {
            buf.extend_from_slice(b"\\n");
        }
        buf.extend_from_slice(inner(t).as_bytes());
    }
    buf.extend_from_slice(b"\"}");
}

/// An assistant turn: text blocks → content, `tool_use` → `tool_calls`.
fn assistant_to_chat(content: Option<&RawValue>, messages: &mut Out, dropped: &mut Vec<String>) {
    let Some(blocks) = blocks_or_text(content, "assistant", messages) else {
        return;
    };
    let mut texts = Vec::new();
    // The tool calls, written as they come (comma-separated).
    let mut calls = Vec::new();
    for_each_object(blocks, |b| {
        note_block_extras(&b, dropped);
        match b.str("type").as_deref().unwrap_or("") {
            "text" => texts.push(b.raw_str("text").unwrap_or("\"\"")),
            "tool_use" => {
                if !calls.is_empty() {
                    calls.push(b',');
                }
                calls.extend_from_slice(br#"{"id":"#);
                calls.extend_from_slice(b.raw_str("id").unwrap_or("\"\"").as_bytes());
                calls.extend_from_slice(br#","type":"function","function":{"name":"#);
                calls.extend_from_slice(b.raw_str("name").unwrap_or("\"\"").as_bytes());
                calls.extend_from_slice(br#","arguments":"#);
                match b.get("input").filter(|i| i.get().starts_with('{')) {
                    Some(input) => write_str(&mut calls, input.get()),
                    None => calls.extend_from_slice(br#""{}""#),
                }
                calls.extend_from_slice(b"}}");
            }
            other => drop_name(dropped, other),
        }
    });
    if texts.is_empty() && calls.is_empty() {
        return;
    }
    let buf = messages.item();
    buf.extend_from_slice(br#"{"role":"assistant","content":"#);
    if texts.is_empty() {
        buf.extend_from_slice(b"null");
    } else {
        join_literals(buf, &texts, "\\n");
    }
    if !calls.is_empty() {
        buf.extend_from_slice(br#","tool_calls":["#);
        buf.extend_from_slice(&calls);
        buf.push(b']');
    }
    buf.push(b'}');
}

/// Client tools → functions; server tools (web search, code execution, …)
/// have no equivalent and are dropped by their type. Returns the JSON array.
fn tools_to_chat(tools: &RawValue, dropped: &mut Vec<String>) -> Vec<u8> {
    let mut buf = Vec::with_capacity(tools.get().len() + 64);
    buf.push(b'[');
    let mut n = 0;
    for_each_object(tools, |t| {
        let kind = t.str("type");
        let schema = t.get("input_schema");
        if kind.as_deref().is_some_and(|k| k != "custom") || schema.is_none() {
            let name = kind.or_else(|| t.str("name")).unwrap_or_default();
            drop_name(dropped, format!("tools.{name}"));
            return;
        }
        for (k, _) in &t.0 {
            match k.as_ref() {
                "name" | "description" | "input_schema" | "type" => {}
                "cache_control" => drop_name(dropped, "cache_control"),
                other => drop_name(dropped, format!("tools.{other}")),
            }
        }
        if n > 0 {
            buf.push(b',');
        }
        n += 1;
        buf.extend_from_slice(br#"{"type":"function","function":{"name":"#);
        buf.extend_from_slice(t.raw_str("name").unwrap_or("\"\"").as_bytes());
        if let Some(d) = t.raw_str("description") {
            buf.extend_from_slice(br#","description":"#);
            buf.extend_from_slice(d.as_bytes());
        }
        buf.extend_from_slice(br#","parameters":"#);
        buf.extend_from_slice(schema.map_or("{}", RawValue::get).as_bytes());
        buf.extend_from_slice(b"}}");
    });
    buf.push(b']');
    buf
}

/// Anthropic's `tool_choice` → OpenAI's, and `parallel_tool_calls` when
/// parallel use is disabled.
fn tool_choice_to_chat(choice: &Fields) -> (Option<Vec<u8>>, Option<bool>) {
    let parallel = choice
        .get("disable_parallel_tool_use")
        .and_then(as_bool)
        .map(|d| !d);
    let mapped = match choice.str("type").as_deref() {
        Some("auto") => Some(br#""auto""#.to_vec()),
        Some("any") => Some(br#""required""#.to_vec()),
        Some("none") => Some(br#""none""#.to_vec()),
        Some("tool") => {
            let mut buf = br#"{"type":"function","function":{"name":"#.to_vec();
            buf.extend_from_slice(choice.raw_str("name").unwrap_or("\"\"").as_bytes());
            buf.extend_from_slice(b"}}");
            Some(buf)
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
        "high" | "xhigh" => Some(16384),
        _ => None,
    }
}

/// Tool-call arguments (a JSON string literal holding JSON) → the JSON text
/// of an Anthropic `input` object. Anything that is not a JSON object is
/// kept, recoverable, as `{"_raw_arguments": "<text>"}`.
fn input_of(arguments: Option<&RawValue>, out: &mut Vec<u8>) {
    let text = arguments.and_then(as_str).unwrap_or_default();
    let trimmed = text.trim();
    if trimmed.starts_with('{') && serde_json::from_str::<serde::de::IgnoredAny>(trimmed).is_ok() {
        out.extend_from_slice(trimmed.as_bytes());
    } else if trimmed.is_empty() {
        out.extend_from_slice(b"{}");
    } else {
        write_json(out, &json!({ "_raw_arguments": text }));
    }
}

/// An OpenAI chat completions request body → an Anthropic Messages request.
pub fn chat_to_messages(body: &[u8]) -> Result<Translated, String> {
    chat_request_to_messages(&top_level(body)?)
}

/// The parsed top level of an OpenAI chat completions request → an
/// Anthropic Messages request.
pub fn chat_request_to_messages(request: &Request) -> Result<Translated, String> {
    let req = &request.fields;
    let mut dropped = Vec::new();
    let mut out = ObjectBuf::new();
    let input = messages_of(request)?;

    // Thinking is asked for with `reasoning_effort`; Anthropic then wants
    // every assistant turn that calls a tool to start with its thinking
    // block, as it gave it out (`thinking_blocks`, signature included).
    // Where one lacks them, thinking stays off for this request.
    let wants_thinking = req
        .get("reasoning_effort")
        .and_then(as_str)
        .is_some_and(|e| thinking_budget(&e).is_some());
    let mut blocks_everywhere = true;
    if wants_thinking {
        request.for_each_message(|m| {
            blocks_everywhere &= m.str("role").as_deref() != Some("assistant")
                || !m.get("tool_calls").is_some_and(is_nonempty_array)
                || m.get("thinking_blocks").is_some_and(is_nonempty_array)
        });
    }
    let thinking_on = wants_thinking && blocks_everywhere;
    let mut system: Vec<&str> = Vec::new();
    let mut turns = Turns::with_capacity(size_hint(input));
    let mut i = 0usize;
    let mut refused = None;
    request.for_each_message(|m| {
        if refused.is_some() {
            return;
        }
        // safe: one per message, far below usize::MAX.
        i += 1;
        let content = m.get("content");
        match m.str("role").as_deref().unwrap_or("") {
            "system" | "developer" => {
                if let Some(c) = content {
                    if is_str(c) {
                        if c.get() != "\"\"" {
                            system.push(c.get());
                        }
                    } else {
                        for_each_object(c, |p| match p.str("type").as_deref() {
                            Some("text") => system.extend(p.raw_str("text")),
                            other => drop_name(&mut dropped, other.unwrap_or("?")),
                        });
                    }
                }
            }
            "user" => {
                let mut blocks = Vec::new();
                content_to_blocks(content, &mut blocks, &mut dropped);
                turns.push("user", blocks);
            }
            "assistant" => {
                let mut blocks = Vec::new();
                if thinking_on {
                    if let Some(given) = m.get("thinking_blocks") {
                        for_each_item(given, |b| {
                            if b.get().starts_with('{') {
                                block(&mut blocks).extend_from_slice(b.get().as_bytes());
                            }
                        });
                    }
                }
                content_to_blocks(content, &mut blocks, &mut dropped);
                let calls = m.get("tool_calls");
                for_each_object(calls.unwrap_or(RawValue::NULL), |call| {
                    let function = call
                        .get("function")
                        .and_then(Fields::of)
                        .unwrap_or_default();
                    let b = block(&mut blocks);
                    b.extend_from_slice(br#"{"type":"tool_use","id":"#);
                    b.extend_from_slice(call.raw_str("id").unwrap_or("\"\"").as_bytes());
                    b.extend_from_slice(br#","name":"#);
                    b.extend_from_slice(function.raw_str("name").unwrap_or("\"\"").as_bytes());
                    b.extend_from_slice(br#","input":"#);
                    input_of(function.get("arguments"), b);
                    b.push(b'}');
                });
                turns.push("assistant", blocks);
            }
            "tool" | "function" => {
                let id = m
                    .raw_str("tool_call_id")
                    .or_else(|| m.raw_str("name"))
                    .unwrap_or("\"\"");
                let mut texts: Vec<&str> = Vec::new();
                match content {
                    Some(c) if is_str(c) => texts.push(c.get()),
                    Some(c) => {
                        for_each_object(c, |p| texts.extend(p.raw_str("text")));
                    }
                    None => {}
                }
                let mut b = Vec::with_capacity(64 + texts.iter().map(|t| t.len()).sum::<usize>());
                b.extend_from_slice(br#"{"type":"tool_result","tool_use_id":"#);
                b.extend_from_slice(id.as_bytes());
                b.extend_from_slice(br#","content":"#);
                join_literals(&mut b, &texts, "\\n");
                b.push(b'}');
                turns.push("user", b);
            }
            role => {
                refused = Some(format!(
                    "messages[{}].role '{}' is not supported",
                    i - 1,
                    crate::errors::printable(role)
                ))
            }
        }
    });
    if let Some(why) = refused {
        return Err(why);
    }
    if !system.is_empty() {
        let mut buf = Vec::new();
        join_literals(&mut buf, &system, "\\n\\n");
        out.insert_raw("system", buf);
    }
    out.insert_raw("messages", turns.finish());

    let max_tokens = req
        .get("max_completion_tokens")
        .or_else(|| req.get("max_tokens"))
        .and_then(as_u64);
    let mut max_tokens = max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
    let mut stream = false;
    let mut include_usage = false;
    let mut tools_present = false;
    let mut thinking = false;
    for (key, value) in &req.0 {
        match key.as_ref() {
            "model" | "messages" | "max_tokens" | "max_completion_tokens" => {}
            "n" => {
                if as_u64(value).is_some_and(|n| n > 1) {
                    drop_name(&mut dropped, "n");
                }
            }
            "temperature" => {
                if let Ok(t) = value.get().parse::<f64>() {
                    out.insert("temperature", &t.clamp(0.0, 1.0));
                }
            }
            "top_p" => out.insert_raw("top_p", value.get().as_bytes().to_vec()),
            "stop" => {
                if is_str(value) {
                    let mut buf = vec![b'['];
                    buf.extend_from_slice(value.get().as_bytes());
                    buf.push(b']');
                    out.insert_raw("stop_sequences", buf);
                } else if is_nonempty_array(value) {
                    out.insert_raw("stop_sequences", value.get().as_bytes().to_vec());
                }
            }
            "stream" => stream = as_bool(value) == Some(true),
            "stream_options" => {
                include_usage = Fields::of(value)
                    .and_then(|o| o.get("include_usage"))
                    .and_then(as_bool)
                    == Some(true)
            }
            "user" => {
                if is_str(value) {
                    let mut buf = br#"{"user_id":"#.to_vec();
                    buf.extend_from_slice(value.get().as_bytes());
                    buf.push(b'}');
                    out.insert_raw("metadata", buf);
                }
            }
            "tools" => {
                let mut buf = vec![b'['];
                let mut n = 0;
                for_each_object(value, |t| {
                    if t.str("type").as_deref() != Some("function") {
                        let kind = t.str("type").unwrap_or_default();
                        drop_name(&mut dropped, format!("tools.{kind}"));
                        return;
                    }
                    let f = t.get("function").and_then(Fields::of).unwrap_or_default();
                    if n > 0 {
                        buf.push(b',');
                    }
                    n += 1;
                    buf.extend_from_slice(br#"{"name":"#);
                    buf.extend_from_slice(f.raw_str("name").unwrap_or("\"\"").as_bytes());
                    if let Some(d) = f.raw_str("description") {
                        buf.extend_from_slice(br#","description":"#);
                        buf.extend_from_slice(d.as_bytes());
                    }
                    buf.extend_from_slice(br#","input_schema":"#);
                    match f.get("parameters").filter(|p| p.get().starts_with('{')) {
                        Some(p) => buf.extend_from_slice(p.get().as_bytes()),
                        None => buf.extend_from_slice(br#"{"type":"object","properties":{}}"#),
                    }
                    buf.push(b'}');
                });
                buf.push(b']');
                tools_present = n > 0;
                if tools_present {
                    out.insert_raw("tools", buf);
                }
            }
            "tool_choice" | "parallel_tool_calls" => {}
            "reasoning_effort" => {
                let effort = as_str(value);
                match effort.as_deref().and_then(thinking_budget) {
                    Some(_) if !thinking_on => drop_name(&mut dropped, "reasoning_effort"),
                    Some(budget) => {
                        thinking = true;
                        out.insert(
                            "thinking",
                            &json!({"type": "enabled", "budget_tokens": budget}),
                        );
                        // The answer needs room beyond the thinking budget.
                        // safe: at most twice a constant budget.
                        if max_tokens <= budget {
                            max_tokens += budget;
                        }
                    }
                    None => {
                        if effort.as_deref() != Some("none") && value.get() != "null" {
                            drop_name(&mut dropped, "reasoning_effort");
                        }
                    }
                }
            }
            other => drop_name(&mut dropped, other),
        }
    }
    if thinking {
        // Anthropic refuses a temperature other than 1 while thinking.
        if out.remove("temperature").is_some() {
            drop_name(&mut dropped, "temperature");
        }
    }
    out.insert("max_tokens", &max_tokens);
    let choice = req.get("tool_choice");
    if tools_present {
        let parallel = req.get("parallel_tool_calls").and_then(as_bool);
        let named = choice
            .and_then(Fields::of)
            .and_then(|o| o.get("function").and_then(Fields::of))
            .and_then(|f| f.raw_str("name").map(str::to_string));
        let mut choice = match choice.and_then(as_str).as_deref() {
            Some("required") => Some(json!({"type": "any"})),
            Some("none") => Some(json!({"type": "none"})),
            Some("auto") => Some(json!({"type": "auto"})),
            _ => named.map(|n| {
                json!({"type": "tool", "name": serde_json::from_str::<String>(&n).unwrap_or_default()})
            }),
        };
        if parallel == Some(false) {
            let c = choice.get_or_insert_with(|| json!({"type": "auto"}));
            if c["type"] != "none" {
                c["disable_parallel_tool_use"] = serde_json::Value::Bool(true);
            }
        }
        if let Some(c) = choice {
            out.insert("tool_choice", &c);
        }
    } else if let Some(c) = choice {
        let s = as_str(c);
        if !matches!(s.as_deref(), Some("none" | "auto")) && c.get() != "null" {
            drop_name(&mut dropped, "tool_choice");
        }
    }
    if stream {
        out.insert_raw("stream", b"true".to_vec());
    }
    Ok(Translated {
        body: out,
        dropped,
        stream,
        include_usage,
    })
}

/// OpenAI message content (a string or parts) → Anthropic content blocks,
/// appended comma-separated to `blocks`. Empty text is left out (Anthropic
/// refuses empty text blocks).
fn content_to_blocks(content: Option<&RawValue>, blocks: &mut Vec<u8>, dropped: &mut Vec<String>) {
    let Some(content) = content else { return };
    let text_block = |blocks: &mut Vec<u8>, literal: &str| {
        if literal == "\"\"" {
            return;
        }
        let b = block(blocks);
        b.extend_from_slice(br#"{"type":"text","text":"#);
        b.extend_from_slice(literal.as_bytes());
        b.push(b'}');
    };
    if is_str(content) {
        text_block(blocks, content.get());
        return;
    }
    for_each_object(content, |p| match p.str("type").as_deref().unwrap_or("") {
        "text" => text_block(blocks, p.raw_str("text").unwrap_or("\"\"")),
        "image_url" => {
            let image = p.get("image_url").and_then(Fields::of).unwrap_or_default();
            let url = image.str("url").unwrap_or_default();
            let source = match data_url(&url) {
                Some((media_type, data)) => {
                    json!({"type": "base64", "media_type": media_type, "data": data})
                }
                None => json!({"type": "url", "url": url}),
            };
            write_json(block(blocks), &json!({"type": "image", "source": source}));
        }
        "file" => {
            let file = p.get("file").and_then(Fields::of).unwrap_or_default();
            let data = file.str("file_data");
            match data.as_deref().and_then(data_url) {
                Some((media_type, data)) => write_json(
                    block(blocks),
                    &json!({"type": "document",
                            "source": {"type": "base64", "media_type": media_type, "data": data}}),
                ),
                None => drop_name(dropped, "file"),
            }
        }
        "refusal" => {}
        other => drop_name(dropped, other),
    });
}
