//! Request mapper of the OpenAI Responses ⇄ chat completions pair: a
//! Responses API request (Codex, the OpenAI SDK's `responses.create`) → an
//! OpenAI chat completions request, which then goes on as any chat request
//! (to an OpenAI-compatible provider, or one translation further).
//!
//! Read one level at a time and written straight into a buffer, text and
//! schemas copied as raw bytes (see [`crate::translate::raw`]). What has no
//! equivalent is dropped and named; the only refusals are a body that is no
//! request and conversation state the proxy does not keep.

use super::ToolNames;
use crate::translate::anthropic_openai::request::ChatOptions;
use crate::translate::raw::{
    as_bool, as_str, for_each_item, for_each_object, inner, is_str, join_literals, parse_object,
    text_message, write_json, write_str, Fields, ObjectBuf, Out,
};
use crate::translate::{drop_name, Translated};
use serde_json::json;
use serde_json::value::RawValue;

/// A translated Responses request: the chat body, and what the answer's
/// mapping needs to give the client back its own tool names and kinds.
#[derive(Debug)]
pub struct ResponsesRequest {
    pub chat: Translated,
    pub tools: ToolNames,
}

/// Why a Responses request cannot be translated (a 400).
pub const NO_STATE: &str = "this provider is reached through a translation, and the proxy keeps no conversation state: send the whole conversation in 'input' instead of 'previous_response_id' or 'conversation', and 'store': false";

/// An assistant turn being gathered from consecutive output items: its text
/// and tool calls become one OpenAI assistant message.
#[derive(Default)]
struct Assistant<'a> {
    texts: Vec<&'a str>,
    /// Tool calls, each written as JSON.
    calls: Vec<Vec<u8>>,
    /// Anthropic thinking blocks given back (JSON objects, comma-separated).
    blocks: Vec<u8>,
}

impl Assistant<'_> {
    fn flush(&mut self, out: &mut Out) {
        if self.texts.is_empty() && self.calls.is_empty() {
            return;
        }
        let buf = out.item();
        buf.extend_from_slice(br#"{"role":"assistant","content":"#);
        if self.texts.is_empty() {
            buf.extend_from_slice(b"null");
        } else {
            join_literals(buf, &self.texts, "\\n");
        }
        if !self.blocks.is_empty() {
            buf.extend_from_slice(br#","thinking_blocks":["#);
            buf.extend_from_slice(&self.blocks);
            buf.push(b']');
        }
        if !self.calls.is_empty() {
            buf.extend_from_slice(br#","tool_calls":["#);
            for (i, c) in self.calls.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                buf.extend_from_slice(c);
            }
            buf.push(b']');
        }
        buf.push(b'}');
        self.texts.clear();
        self.calls.clear();
        self.blocks.clear();
    }
}

/// One OpenAI tool call: `id`, `name` (raw literals) and `arguments` (a
/// JSON string's text, written escaped).
fn tool_call(id: &str, name: &str, arguments: &str) -> Vec<u8> {
    let mut c = Vec::with_capacity(64 + arguments.len());
    c.extend_from_slice(br#"{"id":"#);
    c.extend_from_slice(id.as_bytes());
    c.extend_from_slice(br#","type":"function","function":{"name":"#);
    c.extend_from_slice(name.as_bytes());
    c.extend_from_slice(br#","arguments":"#);
    c.extend_from_slice(arguments.as_bytes());
    c.extend_from_slice(b"}}");
    c
}

/// The text literals of a message's content (a string, or parts); images
/// and files become parts of their own when `parts` is given.
fn content_texts<'a>(
    content: &'a RawValue,
    texts: &mut Vec<&'a str>,
    mut parts: Option<&mut Vec<Vec<u8>>>,
    dropped: &mut Vec<String>,
) {
    if is_str(content) {
        texts.push(content.get());
        return;
    }
    for_each_object(content, |p| match p.str("type").as_deref().unwrap_or("") {
        "input_text" | "output_text" | "text" | "summary_text" => {
            texts.push(p.raw_str("text").unwrap_or("\"\""))
        }
        "refusal" => texts.push(p.raw_str("refusal").unwrap_or("\"\"")),
        "input_image" => match (p.str("image_url"), parts.as_deref_mut()) {
            (Some(url), Some(parts)) => {
                let mut image = json!({"url": url});
                if let Some(detail) = p.str("detail") {
                    image["detail"] = json!(detail);
                }
                let mut buf = Vec::new();
                write_json(&mut buf, &json!({"type": "image_url", "image_url": image}));
                parts.push(buf);
            }
            _ => drop_name(dropped, "input_image"),
        },
        "input_file" => match (p.str("file_data"), parts.as_deref_mut()) {
            (Some(data), Some(parts)) => {
                let name = p.str("filename").unwrap_or_else(|| "file.pdf".into());
                let mut buf = Vec::new();
                write_json(
                    &mut buf,
                    &json!({"type": "file", "file": {"filename": name, "file_data": data}}),
                );
                parts.push(buf);
            }
            _ => drop_name(dropped, "input_file"),
        },
        other => drop_name(dropped, format!("content.{other}")),
    });
}

/// A user or system message.
fn plain_message(role: &str, content: Option<&RawValue>, out: &mut Out, dropped: &mut Vec<String>) {
    let Some(content) = content else { return };
    let mut texts = Vec::new();
    let mut parts = Vec::new();
    let with_parts = (role == "user").then_some(&mut parts);
    content_texts(content, &mut texts, with_parts, dropped);
    if parts.is_empty() {
        if !texts.is_empty() {
            text_message(out, role, &texts);
        }
        return;
    }
    let buf = out.item();
    buf.extend_from_slice(br#"{"role":"user","content":["#);
    let mut first = true;
    for t in &texts {
        if !first {
            buf.push(b',');
        }
        first = false;
        buf.extend_from_slice(br#"{"type":"text","text":"#);
        buf.extend_from_slice(t.as_bytes());
        buf.push(b'}');
    }
    for p in &parts {
        if !first {
            buf.push(b',');
        }
        first = false;
        buf.extend_from_slice(p);
    }
    buf.extend_from_slice(b"]}");
}

/// A tool's output (a string, or parts whose text is joined) as a `tool`
/// message.
fn tool_message(
    call_id: &str,
    output: Option<&RawValue>,
    out: &mut Out,
    dropped: &mut Vec<String>,
) {
    let mut texts = Vec::new();
    if let Some(o) = output {
        content_texts(o, &mut texts, None, dropped);
    }
    let buf = out.item();
    buf.extend_from_slice(br#"{"role":"tool","tool_call_id":"#);
    buf.extend_from_slice(call_id.as_bytes());
    buf.extend_from_slice(br#","content":"#);
    join_literals(buf, &texts, "\\n");
    buf.push(b'}');
}

/// The parameters of a custom (free-form) tool: one string.
const CUSTOM_PARAMETERS: &str =
    r#"{"type":"object","properties":{"input":{"type":"string"}},"required":["input"]}"#;

/// Responses tools → chat functions, recording each one's kind and the
/// name the client knows it by.
fn tools_to_chat(tools: &RawValue, names: &mut ToolNames, dropped: &mut Vec<String>) -> Vec<u8> {
    let mut buf = Vec::with_capacity(tools.get().len() + 64);
    buf.push(b'[');
    let mut n = 0;
    let mut function = |buf: &mut Vec<u8>, name: &str, t: &Fields, parameters: &str| {
        if n > 0 {
            buf.push(b',');
        }
        n += 1;
        buf.extend_from_slice(br#"{"type":"function","function":{"name":"#);
        write_str(buf, name);
        if let Some(d) = t.raw_str("description") {
            buf.extend_from_slice(br#","description":"#);
            buf.extend_from_slice(d.as_bytes());
        }
        buf.extend_from_slice(br#","parameters":"#);
        buf.extend_from_slice(parameters.as_bytes());
        if let Some(strict) = t.get("strict").filter(|s| as_bool(s).is_some()) {
            buf.extend_from_slice(br#","strict":"#);
            buf.extend_from_slice(strict.get().as_bytes());
        }
        buf.extend_from_slice(b"}}");
    };
    let schema = |t: &Fields| {
        t.get("parameters")
            .filter(|p| p.get().starts_with('{'))
            .map_or(r#"{"type":"object","properties":{}}"#.to_string(), |p| {
                p.get().to_string()
            })
    };
    for_each_object(tools, |t| {
        let kind = t.str("type").unwrap_or_default();
        let name = t.str("name").unwrap_or_default();
        match kind.as_ref() {
            "function" => {
                function(&mut buf, &name, &t, &schema(&t));
                names.function(&name, None);
            }
            "custom" => {
                function(&mut buf, &name, &t, CUSTOM_PARAMETERS);
                names.custom(&name);
                if t.get("format")
                    .is_some_and(|f| !f.get().contains("\"text\""))
                {
                    drop_name(dropped, "tools.custom.format");
                }
            }
            "namespace" => {
                for_each_object(t.get("tools").unwrap_or(RawValue::NULL), |inner_tool| {
                    let inner_name = inner_tool.str("name").unwrap_or_default();
                    let flat = names.function(&inner_name, Some(&name));
                    function(&mut buf, &flat, &inner_tool, &schema(&inner_tool));
                });
            }
            other => drop_name(dropped, format!("tools.{other}")),
        }
    });
    buf.push(b']');
    if n == 0 {
        buf.clear();
    }
    buf
}

/// `tool_choice` → chat's (named tools by the name the provider sees).
fn tool_choice(choice: &RawValue, names: &ToolNames, dropped: &mut Vec<String>) -> Option<Vec<u8>> {
    if let Some(s) = as_str(choice) {
        return match s.as_ref() {
            "auto" | "none" | "required" => Some(choice.get().as_bytes().to_vec()),
            _ => {
                drop_name(dropped, "tool_choice");
                None
            }
        };
    }
    let c = Fields::of(choice)?;
    match c.str("type").as_deref() {
        Some("function") | Some("custom") => {
            let name = c.str("name").unwrap_or_default();
            let flat = names.flat_name(&name, c.str("namespace").as_deref());
            let mut buf = br#"{"type":"function","function":{"name":"#.to_vec();
            write_str(&mut buf, &flat);
            buf.extend_from_slice(b"}}");
            Some(buf)
        }
        Some("allowed_tools") => Some(
            match c.str("mode").as_deref() {
                Some("required") => "\"required\"",
                _ => "\"auto\"",
            }
            .as_bytes()
            .to_vec(),
        ),
        _ => {
            drop_name(dropped, "tool_choice");
            None
        }
    }
}

/// A Responses API request body → an OpenAI chat completions request.
pub fn responses_to_chat(body: &[u8], opts: ChatOptions) -> Result<ResponsesRequest, String> {
    responses_fields_to_chat(&parse_object(body)?, opts)
}

/// The parsed top level of a Responses API request → an OpenAI chat
/// completions request.
pub fn responses_fields_to_chat(
    req: &Fields,
    opts: ChatOptions,
) -> Result<ResponsesRequest, String> {
    if req
        .get("previous_response_id")
        .is_some_and(|v| v.get() != "null")
        || req.get("conversation").is_some_and(|v| v.get() != "null")
        || req.get("store").and_then(as_bool) == Some(true)
    {
        return Err(NO_STATE.into());
    }
    let input = req
        .get("input")
        .ok_or("missing required parameter: 'input' (a string or an array of items)")?;

    let mut dropped = Vec::new();
    let mut names = ToolNames::default();
    let mut out = ObjectBuf::new();
    let tools = req
        .get("tools")
        .map(|t| tools_to_chat(t, &mut names, &mut dropped))
        .unwrap_or_default();

    let mut messages = Out::with_capacity(input.get().len() + 256);
    if !is_str(input) && !input.get().starts_with('[') {
        return Err("'input' must be a string or an array of items".into());
    }
    let is_system = |item: &Fields| {
        matches!(item.str("type").as_deref(), Some("message") | None)
            && matches!(item.str("role").as_deref(), Some("system" | "developer"))
    };
    // The instructions, and for providers that take system text only first
    // every system/developer message too, as one leading system message.
    let mut system: Vec<&str> = Vec::new();
    if let Some(instructions) = req.get("instructions").filter(|i| is_str(i)) {
        system.push(instructions.get());
    }
    if opts.system_first && !is_str(input) {
        for_each_object(input, |item| {
            if let Some(c) = item.get("content").filter(|_| is_system(&item)) {
                content_texts(c, &mut system, None, &mut dropped);
            }
        });
    }
    system.retain(|t| *t != "\"\"");
    if !system.is_empty() {
        text_message(&mut messages, "system", &system);
    }
    if is_str(input) {
        text_message(&mut messages, "user", &[input.get()]);
    } else {
        let mut assistant = Assistant::default();
        for_each_object(input, |item| {
            if opts.system_first && is_system(&item) {
                return;
            }
            let kind = item.str("type");
            let role = item.str("role");
            match (kind.as_deref(), role.as_deref()) {
                (Some("message") | None, Some("assistant")) => {
                    if let Some(c) = item.get("content") {
                        content_texts(c, &mut assistant.texts, None, &mut dropped);
                    }
                }
                (Some("message") | None, Some(role)) => {
                    assistant.flush(&mut messages);
                    let role = match role {
                        "user" => "user",
                        "system" | "developer" => "system",
                        other => {
                            drop_name(&mut dropped, format!("input.role.{other}"));
                            return;
                        }
                    };
                    plain_message(role, item.get("content"), &mut messages, &mut dropped);
                }
                (Some("function_call"), _) => {
                    let name = item.str("name").unwrap_or_default();
                    let flat = names.flat_name(&name, item.str("namespace").as_deref());
                    let mut name_lit = Vec::new();
                    write_str(&mut name_lit, &flat);
                    let args = item.raw_str("arguments").unwrap_or("\"{}\"");
                    let id = item.raw_str("call_id").unwrap_or("\"\"");
                    let name_lit = String::from_utf8(name_lit).unwrap_or_default();
                    assistant.calls.push(tool_call(id, &name_lit, args));
                }
                (Some("custom_tool_call"), _) => {
                    let name = item.raw_str("name").unwrap_or("\"\"");
                    let id = item.raw_str("call_id").unwrap_or("\"\"");
                    // `{"input": <the text>}`, as a JSON string.
                    let mut args = br#"{"input":"#.to_vec();
                    args.extend_from_slice(item.raw_str("input").unwrap_or("\"\"").as_bytes());
                    args.push(b'}');
                    let mut args_lit = Vec::new();
                    write_str(&mut args_lit, std::str::from_utf8(&args).unwrap_or("{}"));
                    let args_lit = String::from_utf8(args_lit).unwrap_or_default();
                    assistant.calls.push(tool_call(id, name, &args_lit));
                }
                (Some("function_call_output" | "custom_tool_call_output"), _) => {
                    assistant.flush(&mut messages);
                    let id = item.raw_str("call_id").unwrap_or("\"\"");
                    tool_message(id, item.get("output"), &mut messages, &mut dropped);
                }
                (Some("reasoning"), _) => {
                    // What the proxy gave out: Anthropic's thinking blocks.
                    // (A JSON array in a string: its objects are copied as
                    // they are, one at a time.)
                    let given = item
                        .str("encrypted_content")
                        .filter(|_| opts.thinking_blocks);
                    let array = given
                        .as_deref()
                        .and_then(|e| serde_json::from_str::<&RawValue>(e).ok())
                        .filter(|a| a.get().starts_with('['));
                    match array {
                        Some(array) => {
                            for_each_item(array, |b| {
                                if b.get().starts_with('{') {
                                    if !assistant.blocks.is_empty() {
                                        assistant.blocks.push(b',');
                                    }
                                    assistant.blocks.extend_from_slice(b.get().as_bytes());
                                }
                            });
                        }
                        None => drop_name(&mut dropped, "input.reasoning"),
                    }
                }
                (Some(other), _) => drop_name(&mut dropped, format!("input.{other}")),
                (None, None) => drop_name(&mut dropped, "input.item"),
            }
        });
        assistant.flush(&mut messages);
    }
    out.insert_raw("messages", messages.finish());
    if !tools.is_empty() {
        out.insert_raw("tools", tools);
    }

    let mut stream = false;
    for (key, value) in &req.0 {
        match key.as_ref() {
            "model"
            | "input"
            | "instructions"
            | "tools"
            | "previous_response_id"
            | "conversation" => {}
            "tool_choice" => {
                if out.contains_key("tools") {
                    if let Some(c) = tool_choice(value, &names, &mut dropped) {
                        out.insert_raw("tool_choice", c);
                    }
                } else if !matches!(as_str(value).as_deref(), Some("none" | "auto")) {
                    drop_name(&mut dropped, "tool_choice");
                }
            }
            "parallel_tool_calls" => {
                if out.contains_key("tools") && as_bool(value).is_some() {
                    out.insert_raw("parallel_tool_calls", value.get().as_bytes().to_vec());
                }
            }
            "max_output_tokens" => {
                if value.get() != "null" {
                    let name = if opts.max_completion_tokens {
                        "max_completion_tokens"
                    } else {
                        "max_tokens"
                    };
                    out.insert_raw(name, value.get().as_bytes().to_vec());
                }
            }
            "temperature" | "top_p" | "user" => {
                if value.get() != "null" {
                    out.insert_raw(key, value.get().as_bytes().to_vec());
                }
            }
            "stream" => {
                if as_bool(value) == Some(true) {
                    stream = true;
                    out.insert_raw("stream", b"true".to_vec());
                    out.insert_raw("stream_options", br#"{"include_usage":true}"#.to_vec());
                }
            }
            "reasoning" => {
                let r = Fields::of(value).unwrap_or_default();
                for (k, v) in &r.0 {
                    match (k.as_ref(), as_str(v)) {
                        ("effort", Some(effort)) if opts.reasoning_effort => {
                            out.insert("reasoning_effort", &effort.as_ref());
                        }
                        (_, _) if v.get() == "null" => {}
                        (k, _) => drop_name(&mut dropped, format!("reasoning.{k}")),
                    }
                }
            }
            "text" => {
                let t = Fields::of(value).unwrap_or_default();
                for (k, v) in &t.0 {
                    match k.as_ref() {
                        "format" => text_format(v, &mut out, &mut dropped),
                        _ if v.get() == "null" => {}
                        other => drop_name(&mut dropped, format!("text.{other}")),
                    }
                }
            }
            "store" => {}
            _ if value.get() == "null" => {}
            other => drop_name(&mut dropped, other),
        }
    }
    Ok(ResponsesRequest {
        chat: Translated {
            body: out,
            dropped,
            stream,
            include_usage: stream,
        },
        tools: names,
    })
}

/// `text.format` → `response_format`.
fn text_format(format: &RawValue, out: &mut ObjectBuf, dropped: &mut Vec<String>) {
    let Some(f) = Fields::of(format) else { return };
    match f.str("type").as_deref() {
        Some("json_schema") => {
            let mut buf = br#"{"type":"json_schema","json_schema":{"name":"#.to_vec();
            buf.extend_from_slice(f.raw_str("name").unwrap_or("\"response\"").as_bytes());
            if let Some(schema) = f.get("schema") {
                buf.extend_from_slice(br#","schema":"#);
                buf.extend_from_slice(schema.get().as_bytes());
            }
            if let Some(strict) = f.get("strict").filter(|s| as_bool(s).is_some()) {
                buf.extend_from_slice(br#","strict":"#);
                buf.extend_from_slice(strict.get().as_bytes());
            }
            if let Some(d) = f.raw_str("description") {
                buf.extend_from_slice(br#","description":"#);
                buf.extend_from_slice(d.as_bytes());
            }
            buf.extend_from_slice(b"}}");
            out.insert_raw("response_format", buf);
        }
        Some("json_object") => {
            out.insert_raw("response_format", br#"{"type":"json_object"}"#.to_vec());
        }
        Some("text") | None => {}
        Some(other) => drop_name(dropped, format!("text.format.{}", inner(other))),
    }
}
