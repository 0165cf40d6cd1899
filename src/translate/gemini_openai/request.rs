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

use super::names::{camel_fields, first_name, get};
use crate::errors::ErrorReply;
pub use crate::translate::anthropic_openai::request::ChatOptions;
use crate::translate::measure::Names;
use crate::translate::raw::{
    as_bool, as_str, as_u64, for_each_item, for_each_maybe_object, for_each_object, image_url_part,
    inner, is_nonempty_array, is_str, join_literals, parse_object, text_message, write_str, Fields,
    ObjectBuf, Out, Part, UserParts,
};
use crate::translate::{drop_name, Translated};
use serde_json::value::RawValue;
#[cfg(test)]
use serde_json::{json, Map, Value};
use std::borrow::Cow;

/// A tool call of an earlier model turn, so a later `functionResponse`
/// answers it by id (or by name, in order, when Gemini gave no id).
struct Call<'a> {
    id: Cow<'a, str>,
    name: Cow<'a, str>,
    answered: bool,
}

/// Writes a part of the body as JSON with its field names camel-cased as
/// `names` says (each object as a map of it: a name once), the rest of it
/// copied as the client wrote it — what a value of it after
/// [`super::names::camel_case_fields`] would be written as.
fn write_renamed(out: &mut Vec<u8>, raw: &RawValue, names: Names) {
    let text = raw.get();
    match (text.as_bytes().first(), names) {
        (Some(b'{'), Names::Message | Names::Schema) => {
            let fields = Fields::of(raw).unwrap_or_default();
            out.push(b'{');
            for (i, (k, v)) in camel_fields(&fields).into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, &k);
                out.push(b':');
                write_renamed(out, v, names.field(&k));
            }
            out.push(b'}');
        }
        (Some(b'{'), Names::Properties) => {
            let fields = Fields::of(raw).unwrap_or_default();
            out.push(b'{');
            for (i, (k, v)) in fields.unique().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(out, k);
                out.push(b':');
                write_renamed(out, v, names.field(k));
            }
            out.push(b'}');
        }
        (Some(b'['), Names::Message | Names::Schema) => {
            out.push(b'[');
            let mut first = true;
            for_each_item(raw, |item| {
                if !std::mem::take(&mut first) {
                    out.push(b',');
                }
                write_renamed(out, item, names.item());
            });
            out.push(b']');
        }
        _ => out.extend_from_slice(text.as_bytes()),
    }
}

/// [`write_renamed`] into a buffer of its own.
fn renamed(raw: &RawValue, names: Names) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.get().len());
    write_renamed(&mut out, raw, names);
    out
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
    let mut texts = Vec::new();
    if let Some(parts) = Fields::of(v).and_then(|s| get(&s, "parts")) {
        for_each_maybe_object(parts, |p| {
            match p.as_ref().filter(|p| !is_thought(p)).and_then(text_literal) {
                Some(t) => texts.push(t),
                None => drop_name(dropped, "systemInstruction.part"),
            }
        });
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

/// Writes Gemini's OpenAPI-subset schema as JSON Schema: `type` values
/// lowercased, `nullable: true` → a type array with `"null"`, nested
/// schemas likewise; `names` says how the schema's own names are read
/// (camel-cased keywords at its root, as [`super::names::camel_case_schema`]
/// leaves them, and where that walk goes on).
fn write_json_schema(out: &mut Vec<u8>, raw: &RawValue, names: Names) {
    let Some(object) = Fields::of(raw) else {
        return write_renamed(out, raw, names);
    };
    let fields: Vec<(Cow<str>, &RawValue)> = match names {
        Names::Message | Names::Schema => camel_fields(&object)
            .into_iter()
            .map(|(k, v)| (Cow::Owned(k), v))
            .collect(),
        _ => object
            .unique()
            .map(|(k, v)| (Cow::Borrowed(k), v))
            .collect(),
    };
    let unspecified =
        |v: &RawValue| as_str(v).is_some_and(|t| t.eq_ignore_ascii_case("TYPE_UNSPECIFIED"));
    let nullable = fields
        .iter()
        .any(|(k, v)| k == "nullable" && v.get() == "true");
    let typed = fields.iter().any(|(k, v)| k == "type" && !unspecified(v));
    out.push(b'{');
    let mut first = true;
    for (k, v) in &fields {
        let child = names.field(k);
        if k == "nullable" || (k == "type" && unspecified(v)) {
            continue;
        }
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        match k.as_ref() {
            "type" => match as_str(v) {
                Some(t) if nullable => {
                    out.push(b'[');
                    write_str(out, &t.to_ascii_lowercase());
                    out.extend_from_slice(br#","null"]"#);
                }
                Some(t) => write_str(out, &t.to_ascii_lowercase()),
                None => write_renamed(out, v, child),
            },
            "properties" | "$defs" | "definitions" => match Fields::of(v) {
                Some(props) => {
                    out.push(b'{');
                    for (i, (name, s)) in props.unique().enumerate() {
                        if i > 0 {
                            out.push(b',');
                        }
                        write_str(out, name);
                        out.push(b':');
                        write_json_schema(out, s, child.field(name));
                    }
                    out.push(b'}');
                }
                None => write_renamed(out, v, child),
            },
            "items" | "additionalProperties" | "not" => write_json_schema(out, v, child),
            "anyOf" | "oneOf" | "allOf" | "prefixItems" if v.get().starts_with('[') => {
                out.push(b'[');
                let mut n = 0;
                for_each_item(v, |item| {
                    if n > 0 {
                        out.push(b',');
                    }
                    n += 1;
                    write_json_schema(out, item, child.item());
                });
                // `nullable` without a type (e.g. with `anyOf`): null is one more choice.
                if k == "anyOf" && nullable && !typed {
                    if n > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(br#"{"type":"null"}"#);
                }
                out.push(b']');
            }
            _ => write_renamed(out, v, child),
        }
    }
    out.push(b'}');
}

/// Gemini's OpenAPI-subset schema → JSON Schema, as values (what
/// [`write_json_schema`] writes; for the tests' reference mapper).
#[cfg(test)]
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
    for_each_object(tools, |tool| {
        for (kind, value) in camel_fields(&tool) {
            if kind != "functionDeclarations" {
                drop_name(dropped, format!("tools.{kind}"));
                continue;
            }
            for_each_maybe_object(value, |f| {
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
                    (None, Some(p)) => write_json_schema(&mut out, p, Names::Schema),
                    (None, None) => out.extend_from_slice(br#"{"type":"object","properties":{}}"#),
                }
                out.extend_from_slice(b"}}");
                if field("response").is_some() || field("responseJsonSchema").is_some() {
                    drop_name(dropped, "tools.functionDeclarations.response");
                }
            });
        }
    });
    out.push(b']');
    Ok((out, n))
}

/// `toolConfig.functionCallingConfig` → `tool_choice` (JSON).
fn tool_choice_of(config: &RawValue, dropped: &mut Vec<String>) -> Option<Vec<u8>> {
    let config = Fields::of(config)?;
    let c = get(&config, "functionCallingConfig")?;
    let c = Fields::of(c).unwrap_or_default();
    // The allowed names that are strings: how many, and the first.
    let mut n = 0usize;
    let mut one = None;
    if let Some(names) = get(&c, "allowedFunctionNames") {
        for_each_item(names, |name| {
            if let Some(name) = as_str(name) {
                // safe: one per item, far below usize::MAX.
                n += 1;
                one.get_or_insert(name);
            }
        });
    }
    let mode = get(&c, "mode").and_then(as_str);
    let mode = mode.as_deref().unwrap_or("AUTO").to_ascii_uppercase();
    if mode != "ANY" && n > 0 {
        drop_name(
            dropped,
            "toolConfig.functionCallingConfig.allowedFunctionNames",
        );
    }
    match mode.as_str() {
        "ANY" => Some(match (n, one) {
            (1, Some(one)) => {
                let mut c = br#"{"type":"function","function":{"name":"#.to_vec();
                write_str(&mut c, &one);
                c.extend_from_slice(b"}}");
                c
            }
            _ => br#""required""#.to_vec(),
        }),
        "NONE" => Some(br#""none""#.to_vec()),
        "AUTO" | "MODE_UNSPECIFIED" | "VALIDATED" => Some(br#""auto""#.to_vec()),
        other => {
            drop_name(
                dropped,
                format!("toolConfig.functionCallingConfig.mode.{other}"),
            );
            None
        }
    }
}

/// `toolConfig.functionCallingConfig` → `tool_choice`, as values (for the
/// tests' reference mapper).
#[cfg(test)]
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
fn effort_of(thinking: &RawValue, dropped: &mut Vec<String>) -> Option<&'static str> {
    let thinking = Fields::of(thinking)?;
    if let Some(level) = get(&thinking, "thinkingLevel").and_then(as_str) {
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
    match get(&thinking, "thinkingBudget").and_then(|b| b.get().parse::<i64>().ok()) {
        Some(b) if b <= 0 => None,
        Some(b) if b <= 2048 => Some("low"),
        Some(b) if b <= 8192 => Some("medium"),
        Some(_) => Some("high"),
        None => None,
    }
}

#[cfg(test)]
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
fn generation_config_of(
    config: &RawValue,
    opts: ChatOptions,
    out: &mut ObjectBuf,
    dropped: &mut Vec<String>,
) -> Result<(), ErrorReply> {
    let Some(config) = Fields::of(config) else {
        return Ok(());
    };
    let config = camel_fields(&config);
    let field = |name: &str| config.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    let mime = field("responseMimeType").and_then(as_str);
    for (k, v) in &config {
        if v.get() == "null" {
            continue;
        }
        let value = || renamed(v, Names::Message.field(k));
        match k.as_str() {
            "temperature" => out.insert_raw("temperature", value()),
            "topP" => out.insert_raw("top_p", value()),
            "maxOutputTokens" if opts.max_completion_tokens => {
                out.insert_raw("max_completion_tokens", value())
            }
            "maxOutputTokens" => out.insert_raw("max_tokens", value()),
            "presencePenalty" => out.insert_raw("presence_penalty", value()),
            "frequencyPenalty" => out.insert_raw("frequency_penalty", value()),
            "seed" => out.insert_raw("seed", value()),
            "stopSequences" => {
                if is_nonempty_array(v) {
                    out.insert_raw("stop", value())
                }
            }
            "candidateCount" => {
                if as_u64(v).is_some_and(|n| n > 1) {
                    return Err(ErrorReply::bad_request(
                        "candidateCount greater than 1 is not supported through this translation",
                        "unsupported_parameter",
                    ));
                }
            }
            "responseMimeType" => match as_str(v).as_deref() {
                Some("application/json") => {
                    let object = |name| field(name).filter(|s| s.get().starts_with('{'));
                    let mut format = Vec::new();
                    match (object("responseJsonSchema"), object("responseSchema")) {
                        (None, None) => format.extend_from_slice(br#"{"type":"json_object"}"#),
                        (given, schema) => {
                            format.extend_from_slice(
                                br#"{"type":"json_schema","json_schema":{"name":"response","schema":"#,
                            );
                            match (given, schema) {
                                (Some(s), _) => format.extend_from_slice(s.get().as_bytes()),
                                (None, Some(s)) => write_json_schema(&mut format, s, Names::Schema),
                                (None, None) => {}
                            }
                            format.extend_from_slice(b"}}");
                        }
                    }
                    out.insert_raw("response_format", format);
                }
                Some("text/plain") => {}
                _ => drop_name(dropped, "generationConfig.responseMimeType"),
            },
            "responseSchema" | "responseJsonSchema" => {
                if mime.as_deref() != Some("application/json") {
                    drop_name(dropped, format!("generationConfig.{k}"));
                }
            }
            "thinkingConfig" => {
                if let Some(effort) = effort_of(v, dropped) {
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

/// `generationConfig` → the chat body's sampling and format fields, as
/// values (for the tests' reference mapper).
#[cfg(test)]
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
fn contents_to_messages<'a>(contents: &'a RawValue, messages: &mut Out, dropped: &mut Vec<String>) {
    let mut calls: Vec<Call<'a>> = Vec::new();
    // Every call before this one is answered (where the search for the one a
    // response answers starts: a long conversation stays linear).
    let mut open = 0;
    for_each_object(contents, |content| {
        let role = get(&content, "role").and_then(as_str);
        // A `Content`'s parts (as given in camelCase, the spelling that
        // wins, or else in snake_case); none when not an array.
        let parts = get(&content, "parts").unwrap_or(RawValue::NULL);
        match role.as_deref().unwrap_or("user") {
            "model" | "assistant" => {
                let mut texts: Vec<&str> = Vec::new();
                let mut tool_calls = Vec::new();
                let mut n_calls = 0;
                for_each_maybe_object(parts, |p| {
                    let p = p.as_ref();
                    if p.is_some_and(is_thought) {
                        drop_name(dropped, "contents.parts.thought");
                        return;
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
                });
                if texts.is_empty() && n_calls == 0 {
                    return;
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
                let mut user_parts = UserParts::default();
                for_each_maybe_object(parts, |p| {
                    let p = p.as_ref();
                    if p.is_some_and(is_thought) {
                        drop_name(dropped, "contents.parts.thought");
                        return;
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
                });
                if user_parts.is_empty() {
                    return;
                }
                user_parts.write(messages);
            }
            other => drop_name(dropped, format!("contents.role.{other}")),
        }
    });
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
    let request: Fields = parse_object(body).map_err(|e| {
        let code = if e.starts_with("invalid JSON") {
            "invalid_json"
        } else {
            "invalid_request"
        };
        ErrorReply::bad_request(e, code)
    })?;
    let req = &request;
    let contents = get(req, "contents").filter(|c| c.get().starts_with('['));
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
                if let Some(c) = tool_choice_of(value, &mut dropped) {
                    out.insert_raw("tool_choice", c);
                }
            }
            "generationConfig" => generation_config_of(value, opts, &mut out, &mut dropped)?,
            _ if value.get() == "null" => {}
            other => drop_name(&mut dropped, other),
        }
    }
    if stream {
        out.insert("stream", &true);
        out.insert_raw("stream_options", br#"{"include_usage":true}"#.to_vec());
    }
    Ok(Translated {
        body: out,
        dropped,
        stream,
        include_usage: stream,
    })
}
