//! The request mapper as it was before it read bodies borrowed: the whole
//! body parsed into a `serde_json::Value`, its names camel-cased, the chat
//! request built from values. Kept for the tests only, as the oracle the
//! borrowed mapper ([`super::request`]) is checked against.

use super::request::{generation_config, schema_to_json_schema, tool_choice};
use crate::errors::ErrorReply;
use crate::translate::anthropic_openai::request::ChatOptions;
use crate::translate::raw::ObjectBuf;
use crate::translate::{drop_name, Translated};
use serde_json::{json, Value};

/// A tool call of an earlier model turn, so a later `functionResponse`
/// answers it by id (or by name, in order, when Gemini gave no id).
struct Call {
    id: String,
    name: String,
    answered: bool,
}

/// The text of a `systemInstruction` (a `Content`, or a plain string).
fn system_text(v: &Value, dropped: &mut Vec<String>) -> String {
    if let Some(s) = v.as_str() {
        return s.to_string();
    }
    let mut texts = Vec::new();
    for p in v["parts"].as_array().map(Vec::as_slice).unwrap_or_default() {
        match p.get("text").and_then(Value::as_str) {
            Some(t) if p.get("thought") != Some(&json!(true)) => texts.push(t),
            _ => drop_name(dropped, "systemInstruction.part"),
        }
    }
    texts.join("\n")
}

/// A `functionResponse`'s `response` as the tool message's text: the one
/// string of `{"output": …}` or `{"content": …}`, else the JSON.
fn response_text(response: &Value) -> String {
    if let Some(o) = response.as_object() {
        if o.len() == 1 {
            if let Some(s) = o
                .get("output")
                .or_else(|| o.get("content"))
                .and_then(Value::as_str)
            {
                return s.to_string();
            }
        }
    }
    match response {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    }
}

/// `tools` → chat functions (hosted tools dropped and named).
fn tools_to_chat(tools: &Value, dropped: &mut Vec<String>) -> Vec<Value> {
    let mut out = Vec::new();
    for tool in tools.as_array().map(Vec::as_slice).unwrap_or_default() {
        let Some(tool) = tool.as_object() else {
            continue;
        };
        for (kind, value) in tool {
            if kind != "functionDeclarations" {
                drop_name(dropped, format!("tools.{kind}"));
                continue;
            }
            for f in value.as_array().map(Vec::as_slice).unwrap_or_default() {
                let parameters = match (f.get("parametersJsonSchema"), f.get("parameters")) {
                    (Some(p), _) if p.is_object() => p.clone(),
                    (_, Some(p)) if p.is_object() => schema_to_json_schema(p),
                    _ => json!({"type": "object", "properties": {}}),
                };
                let mut function = json!({"name": f["name"].as_str().unwrap_or("")});
                if let Some(d) = f.get("description").and_then(Value::as_str) {
                    function["description"] = json!(d);
                }
                function["parameters"] = parameters;
                if f.get("response").is_some() || f.get("responseJsonSchema").is_some() {
                    drop_name(dropped, "tools.functionDeclarations.response");
                }
                out.push(json!({"type": "function", "function": function}));
            }
        }
    }
    out
}

/// The messages of `contents` (after the system message, if any).
fn contents_to_messages(contents: &[Value], messages: &mut Vec<Value>, dropped: &mut Vec<String>) {
    let mut calls: Vec<Call> = Vec::new();
    for content in contents {
        let role = content["role"].as_str().unwrap_or("user");
        let parts = content["parts"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        match role {
            "model" | "assistant" => {
                let mut texts = Vec::new();
                let mut tool_calls = Vec::new();
                for p in parts {
                    if p.get("thought") == Some(&json!(true)) {
                        drop_name(dropped, "contents.parts.thought");
                        continue;
                    }
                    if p.get("thoughtSignature").is_some() {
                        drop_name(dropped, "contents.parts.thoughtSignature");
                    }
                    if let Some(t) = p.get("text").and_then(Value::as_str) {
                        texts.push(t);
                    } else if let Some(fc) = p.get("functionCall") {
                        let name = fc["name"].as_str().unwrap_or("").to_string();
                        let id = fc["id"]
                            .as_str()
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .unwrap_or_else(|| format!("call_{}", calls.len()));
                        let args = match fc.get("args") {
                            Some(a) if a.is_object() => a.to_string(),
                            _ => "{}".to_string(),
                        };
                        tool_calls.push(json!({"id": id, "type": "function",
                            "function": {"name": name, "arguments": args}}));
                        calls.push(Call {
                            id,
                            name,
                            answered: false,
                        });
                    } else {
                        drop_name(dropped, format!("contents.parts.{}", part_kind(p)));
                    }
                }
                if texts.is_empty() && tool_calls.is_empty() {
                    continue;
                }
                let mut m = json!({"role": "assistant",
                    "content": if texts.is_empty() { Value::Null } else { json!(texts.concat()) }});
                if !tool_calls.is_empty() {
                    m["tool_calls"] = Value::Array(tool_calls);
                }
                messages.push(m);
            }
            "user" | "function" | "tool" => {
                let mut user_parts = Vec::new();
                let mut has_media = false;
                for p in parts {
                    if p.get("thought") == Some(&json!(true)) {
                        drop_name(dropped, "contents.parts.thought");
                        continue;
                    }
                    if let Some(t) = p.get("text").and_then(Value::as_str) {
                        user_parts.push(json!({"type": "text", "text": t}));
                    } else if let Some(d) = p.get("inlineData") {
                        let mime = d["mimeType"].as_str().unwrap_or("application/octet-stream");
                        let data = d["data"].as_str().unwrap_or("");
                        let url = format!("data:{mime};base64,{data}");
                        user_parts.push(json!({"type": "image_url", "image_url": {"url": url}}));
                        has_media = true;
                    } else if let Some(f) = p.get("fileData") {
                        let url = f["fileUri"].as_str().unwrap_or("");
                        user_parts.push(json!({"type": "image_url", "image_url": {"url": url}}));
                        has_media = true;
                    } else if let Some(fr) = p.get("functionResponse") {
                        let name = fr["name"].as_str().unwrap_or("");
                        let given = fr["id"].as_str().filter(|s| !s.is_empty());
                        let matched = calls.iter_mut().find(|c| {
                            !c.answered
                                && match given {
                                    Some(id) => c.id == id,
                                    None => c.name == name,
                                }
                        });
                        let id = match matched {
                            Some(c) => {
                                c.answered = true;
                                c.id.clone()
                            }
                            None => given.map_or_else(|| format!("call_{name}"), str::to_string),
                        };
                        messages.push(json!({"role": "tool", "tool_call_id": id,
                            "content": response_text(&fr["response"])}));
                    } else {
                        drop_name(dropped, format!("contents.parts.{}", part_kind(p)));
                    }
                }
                if user_parts.is_empty() {
                    continue;
                }
                let content = if has_media {
                    Value::Array(user_parts)
                } else {
                    let texts: Vec<&str> = user_parts
                        .iter()
                        .filter_map(|p| p["text"].as_str())
                        .collect();
                    json!(texts.join("\n"))
                };
                messages.push(json!({"role": "user", "content": content}));
            }
            other => drop_name(dropped, format!("contents.role.{other}")),
        }
    }
}

/// The name of a part's kind (its first field that is not metadata).
fn part_kind(p: &Value) -> String {
    p.as_object()
        .and_then(|o| {
            o.keys()
                .find(|k| !matches!(k.as_str(), "thought" | "thoughtSignature"))
                .cloned()
        })
        .unwrap_or_else(|| "empty".into())
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
    let mut req: Value = serde_json::from_slice(body)
        .map_err(|e| ErrorReply::bad_request(format!("invalid JSON body: {e}"), "invalid_json"))?;
    super::names::camel_case_fields(&mut req);
    let Some(req) = req.as_object() else {
        return Err(ErrorReply::bad_request(
            "the request body must be a JSON object",
            "invalid_request",
        ));
    };
    let Some(contents) = req.get("contents").and_then(Value::as_array) else {
        return Err(ErrorReply::bad_request(
            "missing required field: 'contents' (an array of Content)",
            "invalid_request",
        ));
    };

    let mut dropped = Vec::new();
    let mut messages = Vec::new();
    if let Some(s) = req.get("systemInstruction").filter(|s| !s.is_null()) {
        let text = system_text(s, &mut dropped);
        if !text.is_empty() {
            messages.push(json!({"role": "system", "content": text}));
        }
    }
    contents_to_messages(contents, &mut messages, &mut dropped);

    let mut out = ObjectBuf::new();
    out.insert("model", &model);
    out.insert("messages", &messages);
    let tools = req
        .get("tools")
        .map(|t| tools_to_chat(t, &mut dropped))
        .unwrap_or_default();
    if !tools.is_empty() {
        out.insert("tools", &tools);
    }
    for (key, value) in req {
        match key.as_str() {
            "contents" | "systemInstruction" | "tools" | "model" => {}
            "toolConfig" => {
                if tools.is_empty() {
                    continue;
                }
                if let Some(c) = tool_choice(value, &mut dropped) {
                    out.insert("tool_choice", &c);
                }
            }
            "generationConfig" => generation_config(value, opts, &mut out, &mut dropped)?,
            _ if value.is_null() => {}
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

fn bad(message: impl Into<String>) -> ErrorReply {
    ErrorReply::bad_request(message, "invalid_request")
}

// ------------------------------------------------- embedContent, as it was

/// The text of one `EmbedContentRequest`'s `content`: its text parts, one
/// per line (what else it holds is dropped and named).
fn embed_content_text(request: &Value, dropped: &mut Vec<String>) -> Result<String, ErrorReply> {
    let content = request
        .get("content")
        .filter(|c| c.is_object())
        .ok_or_else(|| bad("missing required field: 'content' (a Content)"))?;
    let mut texts = Vec::new();
    for part in content["parts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        match part.get("text").and_then(Value::as_str) {
            Some(t) => texts.push(t),
            None => drop_name(dropped, "content.part"),
        }
    }
    for (key, value) in request.as_object().into_iter().flatten() {
        match key.as_str() {
            "content" | "model" | "outputDimensionality" => {}
            _ if value.is_null() => {}
            other => drop_name(dropped, other),
        }
    }
    Ok(texts.join("\n"))
}

/// An `embedContent` body (`batch`: a `batchEmbedContents` body) → an
/// OpenAI embeddings request for `model`: one input per request, float
/// vectors, `outputDimensionality` → `dimensions` (the batch's first).
pub fn embed_to_openai(body: &[u8], model: &str, batch: bool) -> Result<Translated, ErrorReply> {
    let mut req: Value = serde_json::from_slice(body)
        .map_err(|e| ErrorReply::bad_request(format!("invalid JSON body: {e}"), "invalid_json"))?;
    super::names::camel_case_fields(&mut req);
    if !req.is_object() {
        return Err(bad("the request body must be a JSON object"));
    }
    let mut dropped = Vec::new();
    let requests: Vec<&Value> = if batch {
        let items = req["requests"]
            .as_array()
            .filter(|r| !r.is_empty())
            .ok_or_else(|| bad("missing required field: 'requests' (a non-empty array)"))?;
        items.iter().collect()
    } else {
        vec![&req]
    };
    let mut inputs = Vec::with_capacity(requests.len());
    for r in &requests {
        inputs.push(embed_content_text(r, &mut dropped)?);
    }
    let mut out = ObjectBuf::new();
    out.insert("model", &model);
    if batch {
        out.insert("input", &inputs);
    } else {
        out.insert("input", &inputs[0]);
    }
    out.insert("encoding_format", &"float");
    if let Some(d) = requests[0]
        .get("outputDimensionality")
        .and_then(Value::as_u64)
    {
        out.insert("dimensions", &d);
    }
    Ok(Translated {
        body: out,
        dropped,
        stream: false,
        include_usage: false,
    })
}

#[cfg(test)]
mod embed_tests {
    use crate::translate::variants::{shrink, snake_all, variants};
    use serde_json::{json, Value};

    /// `embed_to_openai` read borrowed and the one over values agree: the
    /// same refusal, or the same embeddings request and dropped names.
    fn agree(body: &[u8], batch: bool) {
        let what = String::from_utf8_lossy(body);
        let new = super::super::embed::embed_to_openai(body, "openai/e", batch);
        let old = super::embed_to_openai(body, "openai/e", batch);
        match (new, old) {
            (Ok(new), Ok(old)) => {
                let out = new.body.to_vec();
                let parsed: Value =
                    serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(parsed, old.body.to_value(), "{what}");
                assert_eq!(new.dropped, old.dropped, "{what}");
            }
            (Err(new), Err(old)) => {
                assert_eq!((new.status, new.code), (old.status, old.code), "{what}");
            }
            (new, old) => panic!(
                "{what}: borrowed {:?} vs values {:?}",
                new.map(|t| t.dropped).map_err(|e| e.message),
                old.map(|t| t.dropped).map_err(|e| e.message)
            ),
        }
    }

    #[test]
    fn embed_content_read_borrowed_agrees_with_the_value_mapper() {
        let one = json!({"model": "models/e", "content": {"role": "user", "parts": [{"text": "a\nb"},
            {"text": "é\"q"}, {"inlineData": {"mimeType": "x", "data": "AA"}}, 3]},
            "taskType": "RETRIEVAL_QUERY", "title": null, "outputDimensionality": 8});
        let batch = json!({"requests": [one, {"content": {"parts": [{"text": "two"}]}, "outputDimensionality": 4}]});
        for (body, is_batch) in [(one, false), (batch, true)] {
            let mut snake = body.clone();
            snake_all(&mut snake);
            for mut b in [body, snake] {
                shrink(&mut b);
                for v in variants(&b, 400) {
                    agree(&v, is_batch);
                    agree(&v, !is_batch);
                }
            }
        }
    }
}
