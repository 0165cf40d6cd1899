//! The request mapper as it was before it read bodies borrowed: the whole
//! body a `serde_json::Value`, the Converse request built from values. Kept
//! for the tests only, as the oracle the borrowed mapper
//! ([`super::request`]) is checked against.

use crate::translate::openai::{self, push_turn};
use crate::translate::raw::ObjectBuf;
use crate::translate::{data_url, drop_name, Translated};
use serde_json::{json, Map, Value};

fn str_of<'a>(v: &'a Value, field: &str) -> &'a str {
    v.get(field).and_then(Value::as_str).unwrap_or("")
}

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

/// OpenAI message content → Converse content blocks.
fn content_blocks(content: &Value, dropped: &mut Vec<String>) -> Vec<Value> {
    match content {
        Value::String(s) if s.is_empty() => Vec::new(),
        Value::String(s) => vec![json!({"text": s})],
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| match str_of(p, "type") {
                "text" => Some(json!({"text": str_of(p, "text")})),
                "image_url" => {
                    let url = p["image_url"]["url"].as_str().unwrap_or("");
                    match data_url(url).and_then(|(mt, data)| Some((image_format(mt)?, data))) {
                        Some((format, data)) => {
                            Some(json!({"image": {"format": format, "source": {"bytes": data}}}))
                        }
                        None => {
                            // Converse takes image bytes (or S3), not URLs.
                            drop_name(dropped, "image_url");
                            None
                        }
                    }
                }
                "refusal" => None,
                other => {
                    drop_name(dropped, other);
                    None
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// An OpenAI chat completions request → a Converse request body.
pub fn chat_to_converse(req: &Value) -> Result<Translated, String> {
    let req = req
        .as_object()
        .ok_or("the request body must be a JSON object")?;
    let input = req
        .get("messages")
        .and_then(Value::as_array)
        .ok_or("missing required parameter: 'messages' (an array)")?;
    let mut dropped = Vec::new();
    let mut system = Vec::new();
    let mut turns = Vec::new();
    for (i, m) in input.iter().enumerate() {
        let content = m.get("content").unwrap_or(&Value::Null);
        match str_of(m, "role") {
            "system" | "developer" => {
                for b in content_blocks(content, &mut dropped) {
                    if b.get("text").is_some() {
                        system.push(b);
                    }
                }
            }
            "user" => push_turn(&mut turns, "user", content_blocks(content, &mut dropped)),
            "assistant" => {
                let mut blocks = content_blocks(content, &mut dropped);
                for (id, name, input) in openai::tool_calls(m) {
                    blocks
                        .push(json!({"toolUse": {"toolUseId": id, "name": name, "input": input}}));
                }
                push_turn(&mut turns, "assistant", blocks);
            }
            "tool" | "function" => {
                let (id, text) = openai::tool_result(m);
                push_turn(
                    &mut turns,
                    "user",
                    vec![json!({"toolResult": {"toolUseId": id, "content": [{"text": text}]}})],
                );
            }
            other => return Err(format!("messages[{i}].role '{other}' is not supported")),
        }
    }
    let mut out = Map::new();
    out.insert("messages".into(), Value::Array(turns));
    if !system.is_empty() {
        out.insert("system".into(), Value::Array(system));
    }

    let mut inference = Map::new();
    let mut stream = false;
    let mut include_usage = false;
    let mut tools = Vec::new();
    for (key, value) in req {
        match key.as_str() {
            "model" | "messages" | "tool_choice" => {}
            "n" => {
                if value.as_u64().is_some_and(|n| n > 1) {
                    drop_name(&mut dropped, "n");
                }
            }
            "max_tokens" | "max_completion_tokens" => {
                if !inference.contains_key("maxTokens") || key == "max_completion_tokens" {
                    inference.insert("maxTokens".into(), value.clone());
                }
            }
            "temperature" => {
                inference.insert("temperature".into(), value.clone());
            }
            "top_p" => {
                inference.insert("topP".into(), value.clone());
            }
            "stop" => {
                if let Some(list) = openai::stop_list(value) {
                    inference.insert("stopSequences".into(), list);
                }
            }
            "stream" => stream = value.as_bool() == Some(true),
            "stream_options" => {
                include_usage = value.get("include_usage").and_then(Value::as_bool) == Some(true)
            }
            "user" => {
                if let Some(u) = value.as_str() {
                    out.insert("requestMetadata".into(), json!({"user": u}));
                }
            }
            "tools" => {
                for t in value.as_array().map(Vec::as_slice).unwrap_or_default() {
                    if str_of(t, "type") != "function" {
                        drop_name(&mut dropped, format!("tools.{}", str_of(t, "type")));
                        continue;
                    }
                    let f = &t["function"];
                    let mut spec = json!({
                        "name": str_of(f, "name"),
                        "inputSchema": {"json": f.get("parameters").cloned()
                            .unwrap_or_else(|| json!({"type": "object", "properties": {}}))},
                    });
                    if let Some(d) = f.get("description") {
                        spec["description"] = d.clone();
                    }
                    tools.push(json!({"toolSpec": spec}));
                }
            }
            other => drop_name(&mut dropped, other),
        }
    }
    if !inference.is_empty() {
        out.insert("inferenceConfig".into(), Value::Object(inference));
    }
    if !tools.is_empty() {
        let mut config = json!({ "tools": tools });
        match req.get("tool_choice") {
            Some(Value::String(s)) if s == "required" => config["toolChoice"] = json!({"any": {}}),
            Some(Value::String(s)) if s == "auto" => config["toolChoice"] = json!({"auto": {}}),
            Some(Value::Object(o)) => {
                if let Some(name) = o.get("function").and_then(|f| f.get("name")) {
                    config["toolChoice"] = json!({"tool": {"name": name}});
                }
            }
            // Converse has no "none": the tools stay (earlier turns may use them).
            Some(Value::String(s)) if s == "none" => drop_name(&mut dropped, "tool_choice"),
            _ => {}
        }
        out.insert("toolConfig".into(), config);
    } else if req
        .get("tool_choice")
        .is_some_and(|c| c != "none" && c != "auto")
    {
        drop_name(&mut dropped, "tool_choice");
    }
    Ok(Translated {
        body: ObjectBuf::from_map(&out),
        dropped,
        stream,
        include_usage,
    })
}

#[cfg(test)]
mod tests {
    use super::super::request::chat_body_to_converse;
    use crate::translate::variants::{fixtures, shrink, variants};
    use serde_json::{json, Value};

    /// The borrowed mapper and this one agree on `body`: the same refusal,
    /// or the same Converse request (as JSON) and dropped names.
    fn agree(body: &[u8]) {
        let what = String::from_utf8_lossy(body);
        let new = chat_body_to_converse(body);
        let old = serde_json::from_slice::<Value>(body)
            .map_err(|e| e.to_string())
            .and_then(|v| super::chat_to_converse(&v));
        match (new, old) {
            (Ok(new), Ok(old)) => {
                let out = new.body.to_vec();
                let parsed: Value = serde_json::from_slice(&out)
                    .unwrap_or_else(|e| panic!("{what}: {e}: {}", String::from_utf8_lossy(&out)));
                assert_eq!(parsed, old.body.to_value(), "{what}");
                assert_eq!(new.dropped, old.dropped, "{what}");
                assert_eq!(
                    (new.stream, new.include_usage),
                    (old.stream, old.include_usage),
                    "{what}"
                );
            }
            (Err(new), Err(old)) => assert_eq!(new, old, "{what}"),
            (new, old) => panic!(
                "{what}: borrowed {:?} vs values {:?}",
                new.map(|t| t.dropped),
                old.map(|t| t.dropped)
            ),
        }
    }

    #[test]
    fn the_borrowed_mapper_agrees_with_the_value_one() {
        let mut bodies = fixtures(&["aider-chat", "opencode-chat"]);
        bodies.push(json!({
            "model": "m",
            "messages": [
                {"role": "system", "content": [{"type": "text", "text": "s"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}},
                    {"type": "image_url", "image_url": {"url": "https://x/y.png"}}, {"type": "x"}]},
                {"role": "developer", "content": "d"},
                {"role": "user", "content": [{"type": "text", "text": "q"},
                    {"type": "image_url", "image_url": {"url": "data:image/webp;base64,BB"}},
                    {"type": "refusal"}, 3, {"text": "no type"}]},
                {"role": "assistant", "content": "", "tool_calls": [
                    {"id": "a", "function": {"name": "f", "arguments": " {\"x\": [1, 2]} "}},
                    {"id": "b", "function": {"name": "g", "arguments": "not json"}},
                    {"id": "c", "function": {"name": "h", "arguments": "  "}}, 7]},
                {"role": "tool", "tool_call_id": "a", "content": [{"text": "r1"}, {"text": 2}, "s"]},
                {"role": "function", "name": "b", "content": "r2"},
                {"role": "tool", "tool_call_id": 5, "content": null},
                {"role": "user", "content": "after"}],
            "tools": [{"type": "function", "function": {"name": "f", "description": null, "parameters": null}},
                      {"type": "web_search"}, {"function": {"name": "x"}}, 1],
            "tool_choice": {"type": "function", "function": {"name": "f"}},
            "max_tokens": 5, "max_completion_tokens": 6, "n": 2, "stop": ["a"], "top_p": 1,
            "temperature": 0.5, "stream": true, "stream_options": {"include_usage": true},
            "user": "u", "seed": 1
        }));
        for mut body in bodies {
            shrink(&mut body);
            for v in variants(&body, 800) {
                agree(&v);
            }
        }
        for body in [
            &b"[]"[..],
            b"{}",
            br#"{"messages": {}}"#,
            br#"{"messages": [], "tool_choice": "none"}"#,
        ] {
            agree(body);
        }
    }
}
