//! Request mapper of the Bedrock Converse ⇄ OpenAI chat completions pair:
//! an OpenAI chat request → a Converse request (`/model/{id}/converse` or
//! `/converse-stream`; the model id travels in the path).
//!
//! What has no equivalent is dropped and named in [`Translated::dropped`].

use crate::translate::raw::{
    as_bool, as_str, as_u64, block, for_each_maybe_object, for_each_object, is_nonempty_array,
    is_str, join_literals, parse_object, write_str, Fields, ObjectBuf, Turns,
};
use crate::translate::{data_url, drop_name, Translated};
use serde_json::value::RawValue;
use serde_json::Value;

/// Converse's image formats by media type.
fn image_format(media_type: &str) -> Option<&'static str> {
    match media_type {
        "image/png" => Some("png"),
        "image/jpeg" | "image/jpg" => Some("jpeg"),
        "image/gif" => Some("gif"),
        "image/webp" => Some("webp"),
        _ => None,
    }
}

/// A field of an object that may be absent, or no object at all, as a raw
/// string literal (`""` for anything else).
fn literal<'a>(fields: Option<&Fields<'a>>, name: &str) -> &'a str {
    fields.and_then(|f| f.raw_str(name)).unwrap_or("\"\"")
}

/// A `{"text":…}` block for a raw string literal.
fn text_block(blocks: &mut Vec<u8>, literal: &str) {
    let b = block(blocks);
    b.extend_from_slice(br#"{"text":"#);
    b.extend_from_slice(literal.as_bytes());
    b.push(b'}');
}

/// An `image_url` part as a Converse image block (Converse takes image
/// bytes or S3, not URLs: `None` for anything but a data URL of an image).
fn image_block(part: &Fields) -> Option<Vec<u8>> {
    let image = part.get("image_url").and_then(Fields::of);
    let url = image
        .as_ref()
        .and_then(|i| i.str("url"))
        .unwrap_or_default();
    let (media_type, data) = data_url(&url)?;
    let format = image_format(media_type)?;
    let mut b = Vec::with_capacity(data.len() + 64);
    b.extend_from_slice(br#"{"image":{"format":""#);
    b.extend_from_slice(format.as_bytes());
    b.extend_from_slice(br#"","source":{"bytes":"#);
    write_str(&mut b, data);
    b.extend_from_slice(b"}}}");
    Some(b)
}

/// OpenAI message content → Converse content blocks, appended
/// comma-separated to `blocks` (`only_text`: images left out, as a system
/// prompt takes none).
fn content_blocks(
    content: Option<&RawValue>,
    blocks: &mut Vec<u8>,
    only_text: bool,
    dropped: &mut Vec<String>,
) {
    let Some(content) = content else { return };
    if is_str(content) {
        if content.get() != "\"\"" {
            text_block(blocks, content.get());
        }
        return;
    }
    for_each_maybe_object(content, |p| {
        let kind = p.as_ref().and_then(|p| p.str("type")).unwrap_or_default();
        match kind.as_ref() {
            "text" => text_block(blocks, literal(p.as_ref(), "text")),
            "image_url" => match p.as_ref().and_then(image_block) {
                Some(_) if only_text => {}
                Some(image) => block(blocks).extend_from_slice(&image),
                None => drop_name(dropped, "image_url"),
            },
            "refusal" => {}
            other => drop_name(dropped, other),
        }
    });
}

/// Tool-call arguments (a JSON string holding JSON) → the JSON text of a
/// `toolUse` input: the object as given; anything that is not a JSON object
/// is kept, recoverable, as `{"_raw_arguments": "<text>"}`.
fn input_of(arguments: Option<&RawValue>, out: &mut Vec<u8>) {
    let text = arguments.and_then(as_str).unwrap_or_default();
    match serde_json::from_str::<&RawValue>(&text) {
        Ok(object) if object.get().starts_with('{') => {
            out.extend_from_slice(object.get().as_bytes())
        }
        _ if text.trim().is_empty() => out.extend_from_slice(b"{}"),
        _ => {
            out.extend_from_slice(br#"{"_raw_arguments":"#);
            write_str(out, &text);
            out.push(b'}');
        }
    }
}

/// An assistant message's tool calls as `toolUse` blocks (every item one,
/// as OpenAI's SDKs read them).
fn tool_uses(message: &Fields, blocks: &mut Vec<u8>) {
    let Some(calls) = message.get("tool_calls") else {
        return;
    };
    for_each_maybe_object(calls, |call| {
        let function = call
            .as_ref()
            .and_then(|c| c.get("function"))
            .and_then(Fields::of);
        let b = block(blocks);
        b.extend_from_slice(br#"{"toolUse":{"toolUseId":"#);
        b.extend_from_slice(literal(call.as_ref(), "id").as_bytes());
        b.extend_from_slice(br#","name":"#);
        b.extend_from_slice(literal(function.as_ref(), "name").as_bytes());
        b.extend_from_slice(br#","input":"#);
        input_of(function.as_ref().and_then(|f| f.get("arguments")), b);
        b.extend_from_slice(b"}}");
    });
}

/// A `tool` message as a `toolResult` block: the call it answers, its text
/// (a string, or the texts of its parts joined by newlines).
fn tool_result(message: &Fields) -> Vec<u8> {
    let id = match message.get("tool_call_id") {
        Some(id) => Some(id).filter(|i| is_str(i)).map_or("\"\"", |i| i.get()),
        None => literal(Some(message), "name"),
    };
    let mut texts: Vec<&str> = Vec::new();
    match message.get("content") {
        Some(c) if is_str(c) => texts.push(c.get()),
        Some(c) => {
            for_each_object(c, |p| texts.extend(p.raw_str("text")));
        }
        None => {}
    }
    let mut b = Vec::with_capacity(64 + texts.iter().map(|t| t.len()).sum::<usize>());
    b.extend_from_slice(br#"{"toolResult":{"toolUseId":"#);
    b.extend_from_slice(id.as_bytes());
    b.extend_from_slice(br#","content":[{"text":"#);
    join_literals(&mut b, &texts, "\\n");
    b.extend_from_slice(b"}]}}");
    b
}

/// A `toolSpec` for an OpenAI function tool.
fn tool_spec(t: &Fields, out: &mut Vec<u8>) {
    let f = t.get("function").and_then(Fields::of);
    let b = block(out);
    b.extend_from_slice(br#"{"toolSpec":{"name":"#);
    b.extend_from_slice(literal(f.as_ref(), "name").as_bytes());
    if let Some(d) = f.as_ref().and_then(|f| f.get("description")) {
        b.extend_from_slice(br#","description":"#);
        b.extend_from_slice(d.get().as_bytes());
    }
    b.extend_from_slice(br#","inputSchema":{"json":"#);
    match f.as_ref().and_then(|f| f.get("parameters")) {
        Some(p) => b.extend_from_slice(p.get().as_bytes()),
        None => b.extend_from_slice(br#"{"type":"object","properties":{}}"#),
    }
    b.extend_from_slice(b"}}}");
}

/// A body's top-level fields in name order, each name once (its last
/// value): the order a translation reads them in, and names what it drops.
fn by_name<'r, 'a>(top: &'r Fields<'a>) -> Vec<(&'r str, &'a RawValue)> {
    let mut fields: Vec<(&str, &RawValue)> = top.0.iter().map(|(k, v)| (k.as_ref(), *v)).collect();
    // Stable: of a repeated name, the last stays last.
    fields.sort_by(|a, b| a.0.cmp(b.0));
    let mut out: Vec<(&str, &RawValue)> = Vec::with_capacity(fields.len());
    for f in fields {
        match out.last_mut() {
            Some(last) if last.0 == f.0 => *last = f,
            _ => out.push(f),
        }
    }
    out
}

/// An OpenAI chat completions request → a Converse request body.
pub fn chat_to_converse(req: &Value) -> Result<Translated, String> {
    if !req.is_object() {
        return Err("the request body must be a JSON object".into());
    }
    chat_body_to_converse(&serde_json::to_vec(req).map_err(|e| e.to_string())?)
}

/// An OpenAI chat completions request body → a Converse request body,
/// read one level at a time: texts, tool inputs and schemas are copied as
/// the client's raw JSON.
pub fn chat_body_to_converse(body: &[u8]) -> Result<Translated, String> {
    chat_fields_to_converse(&parse_object(body)?)
}

/// The parsed top level of an OpenAI chat completions request → a Converse
/// request body.
pub fn chat_fields_to_converse(req: &Fields) -> Result<Translated, String> {
    let input = req
        .get("messages")
        .filter(|m| m.get().starts_with('['))
        .ok_or("missing required parameter: 'messages' (an array)")?;
    let mut dropped = Vec::new();
    let mut system = Vec::new();
    let mut turns = Turns::with_capacity(input.get().len() + 256);
    let mut i = 0usize;
    let mut refused = None;
    for_each_maybe_object(input, |m| {
        if refused.is_some() {
            return;
        }
        // safe: one per item, far below usize::MAX.
        i += 1;
        let m = m.unwrap_or_default();
        let content = m.get("content");
        let mut blocks = Vec::new();
        match m.str("role").unwrap_or_default().as_ref() {
            "system" | "developer" => content_blocks(content, &mut system, true, &mut dropped),
            "user" => {
                content_blocks(content, &mut blocks, false, &mut dropped);
                turns.push("user", blocks);
            }
            "assistant" => {
                content_blocks(content, &mut blocks, false, &mut dropped);
                tool_uses(&m, &mut blocks);
                turns.push("assistant", blocks);
            }
            "tool" | "function" => turns.push("user", tool_result(&m)),
            other => {
                refused = Some(format!(
                    "messages[{}].role '{other}' is not supported",
                    i - 1
                ))
            }
        }
    });
    if let Some(why) = refused {
        return Err(why);
    }
    let mut out = ObjectBuf::new();
    out.insert_raw("messages", turns.finish());
    if !system.is_empty() {
        let mut buf = Vec::with_capacity(system.len() + 2);
        buf.push(b'[');
        buf.extend_from_slice(&system);
        buf.push(b']');
        out.insert_raw("system", buf);
    }

    let mut inference = ObjectBuf::new();
    let mut stream = false;
    let mut include_usage = false;
    let mut tools = Vec::new();
    for (key, value) in by_name(req) {
        let raw = || value.get().as_bytes().to_vec();
        match key {
            "model" | "messages" | "tool_choice" => {}
            "n" => {
                if as_u64(value).is_some_and(|n| n > 1) {
                    drop_name(&mut dropped, "n");
                }
            }
            // In name order `max_completion_tokens` comes first, and wins.
            "max_tokens" | "max_completion_tokens" => {
                if !inference.contains_key("maxTokens") || key == "max_completion_tokens" {
                    inference.insert_raw("maxTokens", raw());
                }
            }
            "temperature" => inference.insert_raw("temperature", raw()),
            "top_p" => inference.insert_raw("topP", raw()),
            "stop" => {
                if is_str(value) {
                    let mut list = vec![b'['];
                    list.extend_from_slice(value.get().as_bytes());
                    list.push(b']');
                    inference.insert_raw("stopSequences", list);
                } else if is_nonempty_array(value) {
                    inference.insert_raw("stopSequences", raw());
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
                    let mut meta = br#"{"user":"#.to_vec();
                    meta.extend_from_slice(value.get().as_bytes());
                    meta.push(b'}');
                    out.insert_raw("requestMetadata", meta);
                }
            }
            "tools" => {
                for_each_maybe_object(value, |t| {
                    let t = t.unwrap_or_default();
                    let kind = t.str("type").unwrap_or_default();
                    if kind != "function" {
                        drop_name(&mut dropped, format!("tools.{kind}"));
                        return;
                    }
                    tool_spec(&t, &mut tools);
                });
            }
            other => drop_name(&mut dropped, other),
        }
    }
    if !inference.is_empty() {
        out.insert_raw("inferenceConfig", inference.into_vec());
    }
    let choice = req.get("tool_choice");
    if !tools.is_empty() {
        let mut config = br#"{"tools":["#.to_vec();
        config.extend_from_slice(&tools);
        config.push(b']');
        let named = choice
            .and_then(Fields::of)
            .and_then(|o| o.get("function"))
            .and_then(Fields::of)
            .and_then(|f| f.get("name"));
        match (choice.and_then(as_str).as_deref(), named) {
            (Some("required"), _) => config.extend_from_slice(br#","toolChoice":{"any":{}}"#),
            (Some("auto"), _) => config.extend_from_slice(br#","toolChoice":{"auto":{}}"#),
            (_, Some(name)) => {
                config.extend_from_slice(br#","toolChoice":{"tool":{"name":"#);
                config.extend_from_slice(name.get().as_bytes());
                config.extend_from_slice(b"}}");
            }
            // Converse has no "none": the tools stay (earlier turns may use them).
            (Some("none"), _) => drop_name(&mut dropped, "tool_choice"),
            _ => {}
        }
        config.push(b'}');
        out.insert_raw("toolConfig", config);
    } else if choice.is_some_and(|c| !matches!(as_str(c).as_deref(), Some("none" | "auto"))) {
        drop_name(&mut dropped, "tool_choice");
    }
    Ok(Translated {
        body: out,
        dropped,
        stream,
        include_usage,
    })
}

/// The Converse path for a model id (ids and inference-profile ARNs keep
/// their `:` and `.`, percent-encoded as AWS's SDKs send them).
pub fn converse_path(model: &str, stream: bool) -> String {
    let encoded = crate::cloud_auth::sigv4::uri_encode(model.as_bytes(), false);
    format!(
        "/model/{encoded}/{}",
        if stream {
            "converse-stream"
        } else {
            "converse"
        }
    )
}
