//! Request mapper of the Gemini ⇄ chat pair: a Gemini `generateContent`
//! request → an OpenAI chat completions request.
//!
//! What has no equivalent is dropped and named; the only refusals (400) are
//! a body that is no request, no `contents` array, and more than one
//! candidate asked for.
//!
//! The body is read borrowed, one level at a time (see
//! [`crate::translate::raw`]): the conversation's text, function call
//! arguments, function responses and JSON schemas are copied as the
//! client's raw JSON bytes. Only what is small and rewritten field by field
//! (`generationConfig`, `toolConfig`, an OpenAPI-subset `parameters`
//! schema) is parsed into values. Every field name is read in either
//! spelling Google accepts ([`names::get`]).

use super::names::{self, camel_fields, first_name, get};
use crate::errors::ErrorReply;
pub use crate::translate::anthropic_openai::request::ChatOptions;
use crate::translate::raw::{
    self, as_bool, as_str, image_url_part, inner, is_str, join_literals, maybe_objects, objects,
    text_message, user_message, write_json, write_str, FieldName, Fields, ItemsOf, ObjectBuf,
    ObjectsOf, Out, Part, With,
};
use crate::translate::{drop_name, Translated};
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};
use std::borrow::Cow;

/// A request's `contents`, read in the same pass as its top level.
struct ContentsField;
impl FieldName for ContentsField {
    const NAME: &'static str = "contents";
}

/// A `Content`'s `parts`, read in the same pass as the `Content`.
struct PartsField;
impl FieldName for PartsField {
    const NAME: &'static str = "parts";
}

/// A `Content`: its fields, its `parts` (every item; `None` for one that is
/// no object).
type Content<'a> = With<'a, PartsField, ItemsOf<Fields<'a>>>;

/// A request: its top-level fields, its `contents` (the objects).
type Request<'a> = With<'a, ContentsField, ObjectsOf<Content<'a>>>;

/// A `Content`'s parts (as given in camelCase, the spelling that wins, or
/// else in snake_case); empty when not an array.
fn parts_of<'a>(content: &mut Content<'a>) -> Vec<Option<Fields<'a>>> {
    match content.field.take() {
        Some(ItemsOf(parts)) => parts.unwrap_or_default(),
        None => get(&content.fields, "parts")
            .and_then(maybe_objects)
            .unwrap_or_default(),
    }
}

/// A tool call of an earlier model turn, so a later `functionResponse`
/// answers it by id (or by name, in order, when Gemini gave no id).
struct Call<'a> {
    id: Cow<'a, str>,
    name: Cow<'a, str>,
    answered: bool,
}

fn invalid_json(e: serde_json::Error) -> ErrorReply {
    ErrorReply::bad_request(format!("invalid JSON body: {e}"), "invalid_json")
}

/// A small part of the body as a value, its field names camel-cased.
fn message_value(raw: &RawValue) -> Result<Value, ErrorReply> {
    let mut v: Value = serde_json::from_str(raw.get()).map_err(invalid_json)?;
    names::camel_case_fields(&mut v);
    Ok(v)
}

/// A part's `thought: true`.
fn is_thought(p: &Fields) -> bool {
    get(p, "thought").and_then(as_bool) == Some(true)
}

/// A part's `text`, as its raw string literal.
fn text_literal<'a>(p: &Fields<'a>) -> Option<&'a str> {
    get(p, "text").filter(|t| is_str(t)).map(RawValue::get)
}

/// A field of an object that may be absent or no object at all, as a string.
fn str_of<'a>(fields: Option<&Fields<'a>>, name: &str) -> Option<Cow<'a, str>> {
    fields.and_then(|f| get(f, name)).and_then(as_str)
}

/// The name of a part's kind (its first field that is not metadata).
fn part_kind(p: Option<&Fields>) -> String {
    p.and_then(|p| first_name(p, &["thought", "thoughtSignature"]))
        .unwrap_or_else(|| "empty".into())
}

/// The raw string literals of a `systemInstruction` (a `Content`, or a
/// plain string), to be joined by newlines.
fn system_texts<'a>(v: &'a RawValue, dropped: &mut Vec<String>) -> Vec<&'a str> {
    if is_str(v) {
        return vec![v.get()];
    }
    let parts = Fields::of(v)
        .and_then(|s| get(&s, "parts"))
        .and_then(maybe_objects)
        .unwrap_or_default();
    let mut texts = Vec::new();
    for p in &parts {
        match p.as_ref().filter(|p| !is_thought(p)).and_then(text_literal) {
            Some(t) => texts.push(t),
            None => drop_name(dropped, "systemInstruction.part"),
        }
    }
    texts
}

/// A `functionResponse`'s `response` as the tool message's content (a JSON
/// string): the one string of `{"output": …}` or `{"content": …}`, else
/// the JSON as text.
fn write_response_text(out: &mut Vec<u8>, response: Option<&RawValue>) {
    let Some(response) = response else {
        out.extend_from_slice(b"\"\"");
        return;
    };
    if let Some(o) = Fields::of(response) {
        // One field (a name given twice is one field, its last value).
        if let Some((first, _)) = o.0.first() {
            if o.0.iter().all(|(k, _)| k == first) && (first == "output" || first == "content") {
                if let Some(s) = o.get(first).filter(|s| is_str(s)) {
                    out.extend_from_slice(s.get().as_bytes());
                    return;
                }
            }
        }
    }
    match response.get() {
        s if s.starts_with('"') => out.extend_from_slice(s.as_bytes()),
        "null" => out.extend_from_slice(b"\"\""),
        v => write_str(out, v),
    }
}

/// Gemini's OpenAPI-subset schema → JSON Schema: `type` values lowercased,
/// `nullable: true` → a type array with `"null"`, nested schemas likewise.
pub fn schema_to_json_schema(schema: &Value) -> Value {
    let Some(o) = schema.as_object() else {
        return schema.clone();
    };
    let nullable = o.get("nullable") == Some(&json!(true));
    let mut out = Map::new();
    for (k, v) in o {
        let v = match k.as_str() {
            "nullable" => continue,
            "type" => match v.as_str() {
                Some(t) if t.eq_ignore_ascii_case("TYPE_UNSPECIFIED") => continue,
                Some(t) if nullable => json!([t.to_ascii_lowercase(), "null"]),
                Some(t) => json!(t.to_ascii_lowercase()),
                None => v.clone(),
            },
            "properties" | "$defs" | "definitions" => match v.as_object() {
                Some(props) => Value::Object(
                    props
                        .iter()
                        .map(|(name, s)| (name.clone(), schema_to_json_schema(s)))
                        .collect(),
                ),
                None => v.clone(),
            },
            "items" | "additionalProperties" | "not" => schema_to_json_schema(v),
            "anyOf" | "oneOf" | "allOf" | "prefixItems" => match v.as_array() {
                Some(a) => Value::Array(a.iter().map(schema_to_json_schema).collect()),
                None => v.clone(),
            },
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    if nullable && !out.contains_key("type") {
        // `nullable` without a type (e.g. with `anyOf`): null is one more choice.
        if let Some(Value::Array(a)) = out.get_mut("anyOf") {
            a.push(json!({"type": "null"}));
        }
    }
    Value::Object(out)
}

/// `tools` → chat functions (hosted tools dropped and named), as a JSON
/// array and how many functions it holds.
fn tools_to_chat(
    tools: &RawValue,
    dropped: &mut Vec<String>,
) -> Result<(Vec<u8>, usize), ErrorReply> {
    let mut out = Vec::with_capacity(tools.get().len() + 64);
    out.push(b'[');
    let mut n = 0;
    for tool in objects(tools).unwrap_or_default() {
        for (kind, value) in camel_fields(&tool) {
            if kind != "functionDeclarations" {
                drop_name(dropped, format!("tools.{kind}"));
                continue;
            }
            for f in maybe_objects(value).unwrap_or_default() {
                let f = f.as_ref();
                let field = |name| f.and_then(|f| get(f, name));
                if n > 0 {
                    out.push(b',');
                }
                n += 1;
                out.extend_from_slice(br#"{"type":"function","function":{"name":"#);
                write_str(&mut out, &str_of(f, "name").unwrap_or_default());
                if let Some(d) = str_of(f, "description") {
                    out.extend_from_slice(br#","description":"#);
                    write_str(&mut out, &d);
                }
                out.extend_from_slice(br#","parameters":"#);
                let is_object = |p: &&RawValue| p.get().starts_with('{');
                match (
                    field("parametersJsonSchema").filter(is_object),
                    field("parameters").filter(is_object),
                ) {
                    (Some(p), _) => out.extend_from_slice(p.get().as_bytes()),
                    (None, Some(p)) => {
                        let mut schema: Value =
                            serde_json::from_str(p.get()).map_err(invalid_json)?;
                        names::camel_case_schema(&mut schema);
                        write_json(&mut out, &schema_to_json_schema(&schema));
                    }
                    (None, None) => out.extend_from_slice(br#"{"type":"object","properties":{}}"#),
                }
                out.extend_from_slice(b"}}");
                if field("response").is_some() || field("responseJsonSchema").is_some() {
                    drop_name(dropped, "tools.functionDeclarations.response");
                }
            }
        }
    }
    out.push(b']');
    Ok((out, n))
}

/// `toolConfig.functionCallingConfig` → `tool_choice`.
pub(super) fn tool_choice(config: &Value, dropped: &mut Vec<String>) -> Option<Value> {
    let c = config.get("functionCallingConfig")?;
    let names: Vec<&str> = c["allowedFunctionNames"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mode = c["mode"].as_str().unwrap_or("AUTO").to_ascii_uppercase();
    if mode != "ANY" && !names.is_empty() {
        drop_name(
            dropped,
            "toolConfig.functionCallingConfig.allowedFunctionNames",
        );
    }
    match mode.as_str() {
        "ANY" => Some(match names.as_slice() {
            [one] => json!({"type": "function", "function": {"name": one}}),
            _ => json!("required"),
        }),
        "NONE" => Some(json!("none")),
        "AUTO" | "MODE_UNSPECIFIED" | "VALIDATED" => Some(json!("auto")),
        other => {
            drop_name(
                dropped,
                format!("toolConfig.functionCallingConfig.mode.{other}"),
            );
            None
        }
    }
}

/// `thinkingConfig` → `reasoning_effort` (a budget of 0 turns thinking off:
/// no effort sent; -1, dynamic, leaves the provider's default).
fn reasoning_effort(thinking: &Value, dropped: &mut Vec<String>) -> Option<&'static str> {
    if let Some(level) = thinking.get("thinkingLevel").and_then(Value::as_str) {
        return match level.to_ascii_lowercase().as_str() {
            "minimal" | "low" => Some("low"),
            "medium" => Some("medium"),
            "high" => Some("high"),
            _ => {
                drop_name(dropped, "generationConfig.thinkingConfig.thinkingLevel");
                None
            }
        };
    }
    match thinking.get("thinkingBudget").and_then(Value::as_i64) {
        Some(b) if b <= 0 => None,
        Some(b) if b <= 2048 => Some("low"),
        Some(b) if b <= 8192 => Some("medium"),
        Some(_) => Some("high"),
        None => None,
    }
}

/// `generationConfig` → the chat body's sampling and format fields.
pub(super) fn generation_config(
    config: &Value,
    opts: ChatOptions,
    out: &mut ObjectBuf,
    dropped: &mut Vec<String>,
) -> Result<(), ErrorReply> {
    let Some(config) = config.as_object() else {
        return Ok(());
    };
    let mime = config.get("responseMimeType").and_then(Value::as_str);
    for (k, v) in config {
        if v.is_null() {
            continue;
        }
        match k.as_str() {
            "temperature" => out.insert("temperature", v),
            "topP" => out.insert("top_p", v),
            "maxOutputTokens" if opts.max_completion_tokens => {
                out.insert("max_completion_tokens", v)
            }
            "maxOutputTokens" => out.insert("max_tokens", v),
            "presencePenalty" => out.insert("presence_penalty", v),
            "frequencyPenalty" => out.insert("frequency_penalty", v),
            "seed" => out.insert("seed", v),
            "stopSequences" => {
                if v.as_array().is_some_and(|a| !a.is_empty()) {
                    out.insert("stop", v)
                }
            }
            "candidateCount" => {
                if v.as_u64().is_some_and(|n| n > 1) {
                    return Err(ErrorReply::bad_request(
                        "candidateCount greater than 1 is not supported through this translation",
                        "unsupported_parameter",
                    ));
                }
            }
            "responseMimeType" => match v.as_str() {
                Some("application/json") => {
                    let schema = config
                        .get("responseJsonSchema")
                        .filter(|s| s.is_object())
                        .cloned()
                        .or_else(|| {
                            config
                                .get("responseSchema")
                                .filter(|s| s.is_object())
                                .map(schema_to_json_schema)
                        });
                    let format = match schema {
                        Some(schema) => json!({"type": "json_schema",
                            "json_schema": {"name": "response", "schema": schema}}),
                        None => json!({"type": "json_object"}),
                    };
                    out.insert("response_format", &format);
                }
                Some("text/plain") => {}
                _ => drop_name(dropped, "generationConfig.responseMimeType"),
            },
            "responseSchema" | "responseJsonSchema" => {
                if mime != Some("application/json") {
                    drop_name(dropped, format!("generationConfig.{k}"));
                }
            }
            "thinkingConfig" => {
                if let Some(effort) = reasoning_effort(v, dropped) {
                    if opts.reasoning_effort {
                        out.insert("reasoning_effort", &effort);
                    } else {
                        drop_name(dropped, "generationConfig.thinkingConfig");
                    }
                }
            }
            other => drop_name(dropped, format!("generationConfig.{other}")),
        }
    }
    Ok(())
}

/// `data:{mimeType};base64,{data}` of an `inlineData`, as a JSON string
/// literal (the client's escapes kept).
fn inline_data_url(d: Option<&Fields>) -> Vec<u8> {
    let literal = |name| {
        d.and_then(|d| get(d, name))
            .filter(|v| is_str(v))
            .map(|v| inner(v.get()))
    };
    let mime = literal("mimeType").unwrap_or("application/octet-stream");
    let data = literal("data").unwrap_or("");
    let mut url = Vec::with_capacity(mime.len() + data.len() + 16);
    url.extend_from_slice(b"\"data:");
    url.extend_from_slice(mime.as_bytes());
    url.extend_from_slice(b";base64,");
    url.extend_from_slice(data.as_bytes());
    url.push(b'"');
    url
}

/// The messages of `contents` (after the system message, if any).
fn contents_to_messages<'a>(
    contents: Vec<Content<'a>>,
    messages: &mut Out,
    dropped: &mut Vec<String>,
) {
    let mut calls: Vec<Call<'a>> = Vec::new();
    // Every call before this one is answered (where the search for the one a
    // response answers starts: a long conversation stays linear).
    let mut open = 0;
    for mut content in contents {
        let role = get(&content.fields, "role").and_then(as_str);
        let parts = parts_of(&mut content);
        match role.as_deref().unwrap_or("user") {
            "model" | "assistant" => {
                let mut texts: Vec<&str> = Vec::new();
                let mut tool_calls = Vec::new();
                let mut n_calls = 0;
                for p in &parts {
                    let p = p.as_ref();
                    if p.is_some_and(is_thought) {
                        drop_name(dropped, "contents.parts.thought");
                        continue;
                    }
                    if p.and_then(|p| get(p, "thoughtSignature")).is_some() {
                        drop_name(dropped, "contents.parts.thoughtSignature");
                    }
                    if let Some(t) = p.and_then(text_literal) {
                        texts.push(t);
                    } else if let Some(fc) = p.and_then(|p| get(p, "functionCall")) {
                        let fc = Fields::of(fc);
                        let fc = fc.as_ref();
                        let name = str_of(fc, "name").unwrap_or_default();
                        let id = str_of(fc, "id")
                            .filter(|s| !s.is_empty())
                            .unwrap_or_else(|| Cow::Owned(format!("call_{}", calls.len())));
                        if n_calls > 0 {
                            tool_calls.push(b',');
                        }
                        n_calls += 1;
                        tool_calls.extend_from_slice(br#"{"id":"#);
                        write_str(&mut tool_calls, &id);
                        tool_calls.extend_from_slice(br#","type":"function","function":{"name":"#);
                        write_str(&mut tool_calls, &name);
                        tool_calls.extend_from_slice(br#","arguments":"#);
                        match fc.and_then(|f| get(f, "args")) {
                            Some(a) if a.get().starts_with('{') => {
                                write_str(&mut tool_calls, a.get())
                            }
                            _ => tool_calls.extend_from_slice(br#""{}""#),
                        }
                        tool_calls.extend_from_slice(b"}}");
                        calls.push(Call {
                            id,
                            name,
                            answered: false,
                        });
                    } else {
                        drop_name(dropped, format!("contents.parts.{}", part_kind(p)));
                    }
                }
                if texts.is_empty() && n_calls == 0 {
                    continue;
                }
                let buf = messages.item();
                buf.extend_from_slice(br#"{"role":"assistant","content":"#);
                if texts.is_empty() {
                    buf.extend_from_slice(b"null");
                } else {
                    join_literals(buf, &texts, "");
                }
                if n_calls > 0 {
                    buf.extend_from_slice(br#","tool_calls":["#);
                    buf.extend_from_slice(&tool_calls);
                    buf.push(b']');
                }
                buf.push(b'}');
            }
            "user" | "function" | "tool" => {
                let mut user_parts = Vec::new();
                for p in &parts {
                    let p = p.as_ref();
                    if p.is_some_and(is_thought) {
                        drop_name(dropped, "contents.parts.thought");
                        continue;
                    }
                    let field = |name| p.and_then(|p| get(p, name));
                    if let Some(t) = p.and_then(text_literal) {
                        user_parts.push(Part::Text(t));
                    } else if let Some(d) = field("inlineData") {
                        user_parts.push(Part::Json(image_url_part(&inline_data_url(
                            Fields::of(d).as_ref(),
                        ))));
                    } else if let Some(f) = field("fileData") {
                        let f = Fields::of(f);
                        let url = str_of(f.as_ref(), "fileUri").unwrap_or_default();
                        let mut literal = Vec::with_capacity(url.len() + 2);
                        write_str(&mut literal, &url);
                        user_parts.push(Part::Json(image_url_part(&literal)));
                    } else if let Some(fr) = field("functionResponse") {
                        let fr = Fields::of(fr);
                        let fr = fr.as_ref();
                        let name = str_of(fr, "name").unwrap_or_default();
                        let given = str_of(fr, "id").filter(|s| !s.is_empty());
                        while calls.get(open).is_some_and(|c| c.answered) {
                            open += 1;
                        }
                        let matched = calls[open..].iter_mut().find(|c| {
                            !c.answered
                                && match &given {
                                    Some(id) => c.id == *id,
                                    None => c.name == name,
                                }
                        });
                        let buf = messages.item();
                        buf.extend_from_slice(br#"{"role":"tool","tool_call_id":"#);
                        match (matched, given) {
                            (Some(c), _) => {
                                c.answered = true;
                                write_str(buf, &c.id);
                            }
                            (None, Some(id)) => write_str(buf, &id),
                            (None, None) => write_str(buf, &format!("call_{name}")),
                        }
                        buf.extend_from_slice(br#","content":"#);
                        write_response_text(buf, fr.and_then(|f| get(f, "response")));
                        buf.push(b'}');
                    } else {
                        drop_name(dropped, format!("contents.parts.{}", part_kind(p)));
                    }
                }
                if user_parts.is_empty() {
                    continue;
                }
                user_message(messages, &user_parts);
            }
            other => drop_name(dropped, format!("contents.role.{other}")),
        }
    }
}

/// About how many bytes the conversation takes.
fn size_hint(body: &[u8]) -> usize {
    body.len() + 256
}

/// A Gemini `generateContent` request body → an OpenAI chat completions
/// request for `model` (streamed when `stream`, with the usage chunk), in
/// the form the provider takes (`opts`: `max_completion_tokens`, whether
/// thinking settings become `reasoning_effort`).
pub fn gemini_to_chat(
    body: &[u8],
    model: &str,
    stream: bool,
    opts: ChatOptions,
) -> Result<Translated, ErrorReply> {
    let request: Request = raw::parse_object(body).map_err(|e| {
        let code = if e.starts_with("invalid JSON") {
            "invalid_json"
        } else {
            "invalid_request"
        };
        ErrorReply::bad_request(e, code)
    })?;
    let req = &request.fields;
    let contents = match request.field {
        Some(ObjectsOf(contents)) => contents,
        // Only spelled in snake_case (`contents_`, say).
        None => get(req, "contents")
            .and_then(|c| serde_json::from_str::<ObjectsOf<Content>>(c.get()).ok()?.0),
    };
    let Some(contents) = contents else {
        return Err(ErrorReply::bad_request(
            "missing required field: 'contents' (an array of Content)",
            "invalid_request",
        ));
    };

    let mut dropped = Vec::new();
    let mut messages = Out::with_capacity(size_hint(body));
    if let Some(s) = get(req, "systemInstruction").filter(|s| s.get() != "null") {
        let texts = system_texts(s, &mut dropped);
        // Empty only when there is no text, or one empty one.
        if !(texts.is_empty() || texts == ["\"\""]) {
            text_message(&mut messages, "system", &texts);
        }
    }
    contents_to_messages(contents, &mut messages, &mut dropped);

    let mut out = ObjectBuf::new();
    out.insert("model", &model);
    out.insert_raw("messages", messages.finish());
    let n_tools = match get(req, "tools") {
        Some(t) => {
            let (tools, n) = tools_to_chat(t, &mut dropped)?;
            if n > 0 {
                out.insert_raw("tools", tools);
            }
            n
        }
        None => 0,
    };
    for (key, value) in camel_fields(req) {
        match key.as_str() {
            "contents" | "systemInstruction" | "tools" | "model" => {}
            "toolConfig" => {
                if n_tools == 0 {
                    continue;
                }
                if let Some(c) = tool_choice(&message_value(value)?, &mut dropped) {
                    out.insert("tool_choice", &c);
                }
            }
            "generationConfig" => {
                generation_config(&message_value(value)?, opts, &mut out, &mut dropped)?
            }
            _ if value.get() == "null" => {}
            other => drop_name(&mut dropped, other),
        }
    }
    if stream {
        out.insert("stream", &true);
        out.insert("stream_options", &json!({"include_usage": true}));
    }
    Ok(Translated {
        body: out,
        dropped,
        stream,
        include_usage: stream,
    })
}
