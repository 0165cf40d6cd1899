//! Gemini `embedContent` / `batchEmbedContents` ⇄ OpenAI embeddings, and
//! the token estimate a `countTokens` gets from a provider that cannot count.

use super::names::{camel_fields, get};
use crate::errors::ErrorReply;
use crate::translate::measure::{measure, Count, Names};
use crate::translate::raw::{
    as_u64, for_each_item, for_each_maybe_object, join_literals, parse_object, Fields, ObjectBuf,
};
use crate::translate::{drop_name, Translated};
use serde_json::value::RawValue;
use serde_json::{json, Value};

fn bad(message: impl Into<String>) -> ErrorReply {
    ErrorReply::bad_request(message, "invalid_request")
}

/// A body's top level; not JSON, or no object, is a 400 that says which.
fn top_level(body: &[u8]) -> Result<Fields<'_>, ErrorReply> {
    parse_object(body).map_err(|e| match e.starts_with("invalid JSON") {
        true => ErrorReply::bad_request(e, "invalid_json"),
        false => bad(e),
    })
}

/// The text of one `EmbedContentRequest`'s `content` (its text parts, one
/// per line) written as a JSON string; what else it holds is dropped and
/// named.
fn content_text(
    request: Option<&Fields>,
    out: &mut Vec<u8>,
    dropped: &mut Vec<String>,
) -> Result<(), ErrorReply> {
    let content = request
        .and_then(|r| get(r, "content"))
        .and_then(Fields::of)
        .ok_or_else(|| bad("missing required field: 'content' (a Content)"))?;
    let mut texts: Vec<&str> = Vec::new();
    if let Some(parts) = get(&content, "parts") {
        for_each_maybe_object(parts, |part| {
            match part
                .as_ref()
                .and_then(|p| get(p, "text"))
                .filter(|t| t.get().starts_with('"'))
            {
                Some(t) => texts.push(t.get()),
                None => drop_name(dropped, "content.part"),
            }
        });
    }
    for (key, value) in camel_fields(request.unwrap_or(&Fields::default())) {
        match key.as_str() {
            "content" | "model" | "outputDimensionality" => {}
            _ if value.get() == "null" => {}
            other => drop_name(dropped, other),
        }
    }
    join_literals(out, &texts, "\\n");
    Ok(())
}

/// An `embedContent` body (`batch`: a `batchEmbedContents` body) → an
/// OpenAI embeddings request for `model`: one input per request, float
/// vectors, `outputDimensionality` → `dimensions` (the batch's first). The
/// texts are copied as the client's raw JSON.
pub fn embed_to_openai(body: &[u8], model: &str, batch: bool) -> Result<Translated, ErrorReply> {
    let req = top_level(body)?;
    let mut dropped = Vec::new();
    let mut input = Vec::new();
    let dimensions;
    if batch {
        let requests = get(&req, "requests")
            .filter(|r| raw_nonempty(r))
            .ok_or_else(|| bad("missing required field: 'requests' (a non-empty array)"))?;
        input.push(b'[');
        let mut first = None;
        let mut refused = None;
        for_each_item(requests, |r| {
            if refused.is_some() {
                return;
            }
            let r = Fields::of(r);
            if first.is_none() {
                first = Some(
                    r.as_ref()
                        .and_then(|r| get(r, "outputDimensionality"))
                        .and_then(as_u64),
                );
            } else {
                input.push(b',');
            }
            if let Err(e) = content_text(r.as_ref(), &mut input, &mut dropped) {
                refused = Some(e);
            }
        });
        if let Some(e) = refused {
            return Err(e);
        }
        input.push(b']');
        dimensions = first.flatten();
    } else {
        content_text(Some(&req), &mut input, &mut dropped)?;
        dimensions = get(&req, "outputDimensionality").and_then(as_u64);
    }
    let mut out = ObjectBuf::new();
    out.insert("model", &model);
    out.insert_raw("input", input);
    out.insert("encoding_format", &"float");
    if let Some(d) = dimensions {
        out.insert("dimensions", &d);
    }
    Ok(Translated {
        body: out,
        dropped,
        stream: false,
        include_usage: false,
    })
}

/// Whether `raw` is an array with an item.
fn raw_nonempty(raw: &RawValue) -> bool {
    crate::translate::raw::is_nonempty_array(raw)
}

/// An OpenAI embeddings answer → `{"embedding": {"values"}}` (`batch`:
/// `{"embeddings": [{"values"}, …]}` in input order).
pub fn openai_to_embed(body: &[u8], batch: bool) -> Result<Vec<u8>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let mut data: Vec<&Value> = v["data"]
        .as_array()
        .ok_or("no 'data' array in the embeddings answer")?
        .iter()
        .collect();
    data.sort_by_key(|d| d["index"].as_u64().unwrap_or(0));
    let mut vectors = Vec::with_capacity(data.len());
    for d in data {
        let values = d["embedding"]
            .as_array()
            .ok_or("an embedding is not an array of numbers")?;
        vectors.push(json!({ "values": values }));
    }
    let out = if batch {
        json!({ "embeddings": vectors })
    } else {
        let first = vectors
            .into_iter()
            .next()
            .ok_or("no embedding in the answer")?;
        json!({ "embedding": first })
    };
    serde_json::to_vec(&out).map_err(|e| e.to_string())
}

/// What the estimate leaves out of its text: inline data (images, audio)
/// and roles.
const NOT_TEXT: &[&str] = &["inlineData", "fileData", "role"];

/// A rough token count of a `countTokens` body (its `contents`, or its
/// `generateContentRequest`'s contents, system instruction and tools):
/// about four bytes of text per token, plus a few per turn. Inline data
/// (images, audio) is not text and counts nothing. Each part is read once,
/// without building it.
pub fn estimate_tokens(body: &[u8]) -> Result<u64, ErrorReply> {
    let req = top_level(body)?;
    let wrapped = get(&req, "generateContentRequest").map(Fields::of);
    let inner = match wrapped {
        None => req,
        Some(Some(inner)) => inner,
        Some(None) => return Err(bad("the request body must be a JSON object")),
    };
    let mut bytes = 0u64;
    let mut turns = 0u64;
    for field in ["contents", "systemInstruction", "tools"] {
        let Some(v) = get(&inner, field) else {
            continue;
        };
        let count = match field {
            "tools" => Count::Json,
            _ => Count::Text(NOT_TEXT),
        };
        let size = measure(v, count, Names::Message.field(field));
        bytes = bytes.saturating_add(size.bytes);
        if field == "contents" {
            turns = size.items.unwrap_or(0);
        }
    }
    Ok(bytes
        .div_ceil(4)
        .saturating_add(turns.saturating_mul(4))
        .saturating_add(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_content_becomes_one_input_with_its_dimensions() {
        let body = br#"{"model":"models/e","content":{"parts":[{"text":"a"},{"text":"b"},{"inlineData":{"data":"x"}}]},"taskType":"RETRIEVAL_QUERY","outputDimensionality":8}"#;
        let t = embed_to_openai(body, "openai/text-embedding-3-small", false).unwrap();
        let v = t.body.to_value();
        assert_eq!(v["model"], "openai/text-embedding-3-small");
        assert_eq!(v["input"], "a\nb");
        assert_eq!(v["dimensions"], 8);
        assert_eq!(v["encoding_format"], "float");
        assert_eq!(t.dropped, ["content.part", "taskType"]);
    }

    #[test]
    fn a_batch_keeps_its_order_both_ways() {
        let body = br#"{"requests":[{"model":"models/e","content":{"parts":[{"text":"one"}]}},{"content":{"parts":[{"text":"two"}]}}]}"#;
        let t = embed_to_openai(body, "m", true).unwrap();
        assert_eq!(t.body.to_value()["input"], json!(["one", "two"]));
        let answer = br#"{"object":"list","data":[{"index":1,"embedding":[0.2]},{"index":0,"embedding":[0.1,0.5]}],"usage":{"prompt_tokens":2}}"#;
        let out: Value = serde_json::from_slice(&openai_to_embed(answer, true).unwrap()).unwrap();
        assert_eq!(
            out,
            json!({"embeddings": [{"values": [0.1, 0.5]}, {"values": [0.2]}]})
        );
        let one: Value = serde_json::from_slice(&openai_to_embed(answer, false).unwrap()).unwrap();
        assert_eq!(one, json!({"embedding": {"values": [0.1, 0.5]}}));
    }

    #[test]
    fn refusals_are_400s_and_broken_answers_errors() {
        assert_eq!(embed_to_openai(b"{}", "m", false).unwrap_err().status, 400);
        assert_eq!(embed_to_openai(b"[]", "m", false).unwrap_err().status, 400);
        assert_eq!(
            embed_to_openai(br#"{"requests":[]}"#, "m", true)
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            embed_to_openai(b"{", "m", true).unwrap_err().code,
            "invalid_json"
        );
        assert!(openai_to_embed(br#"{"data":[{"embedding":"AAAA"}]}"#, false).is_err());
        assert!(openai_to_embed(br#"{"data":[]}"#, false).is_err());
    }

    #[test]
    fn the_estimate_counts_text_not_inline_data() {
        let text = "x".repeat(400);
        let plain = json!({"contents": [{"role": "user", "parts": [{"text": text}]}]});
        let n = estimate_tokens(plain.to_string().as_bytes()).unwrap();
        assert_eq!(n, 100 + 4 + 3);
        let with_image = json!({"contents": [{"role": "user", "parts": [{"text": text}, {"inlineData": {"mimeType": "image/png", "data": "A".repeat(10_000)}}]}]});
        assert_eq!(
            estimate_tokens(with_image.to_string().as_bytes()).unwrap(),
            n
        );
        let wrapped = json!({"generateContentRequest": {"model": "models/x", "contents": plain["contents"], "systemInstruction": {"parts": [{"text": "abcd"}]}}});
        // The system instruction counts too.
        assert_eq!(
            estimate_tokens(wrapped.to_string().as_bytes()).unwrap(),
            n + 1
        );
        assert_eq!(estimate_tokens(b"[1]").unwrap_err().status, 400);
    }
}
