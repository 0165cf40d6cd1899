//! Gemini `embedContent` / `batchEmbedContents` ⇄ OpenAI embeddings, and
//! the token estimate a `countTokens` gets from a provider that cannot count.

use super::names::get;
use crate::errors::ErrorReply;
use crate::translate::measure::{measure, Count, Names};
use crate::translate::raw::{parse_object, Fields, ObjectBuf};
use crate::translate::{drop_name, Translated};
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

/// The text of one `EmbedContentRequest`'s `content`: its text parts, one
/// per line (what else it holds is dropped and named).
fn content_text(request: &Value, dropped: &mut Vec<String>) -> Result<String, ErrorReply> {
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
        inputs.push(content_text(r, &mut dropped)?);
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
