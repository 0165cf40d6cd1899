//! OpenAI embeddings ⇄ Bedrock `InvokeModel` for the two embedding families
//! Bedrock hosts: Amazon Titan Text Embeddings (one text per call:
//! `{"inputText", "dimensions", "normalize"}` → `{"embedding",
//! "inputTextTokenCount"}`) and Cohere Embed (`{"texts", "input_type"}` →
//! `{"embeddings": [[…]]}`, or `{"embeddings": {"float": [[…]]}}` by type).
//!
//! The answer becomes OpenAI's `{"object":"list","data":[{"object":"embedding",
//! "index","embedding"}],"model","usage"}`; with `encoding_format: "base64"`
//! each vector is its little-endian `f32` bytes in base64, as OpenAI sends it.

use crate::translate::drop_name;
use crate::translate::raw::{as_u64, for_each_item, is_str, Fields, ObjectBuf};
use base64::Engine as _;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

/// A Bedrock embedding model family, by model id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Amazon Titan Text Embeddings; `v2` takes `dimensions` and `normalize`.
    Titan { v2: bool },
    /// Cohere Embed; `v4` takes `output_dimension`.
    Cohere { v4: bool },
}

/// The family of Bedrock model `id` (a plain id, an inference profile such
/// as `us.cohere.embed-v4:0`, or an ARN ending in one).
pub fn family(id: &str) -> Option<Family> {
    let id = id.to_ascii_lowercase();
    if id.contains("amazon.titan-embed") {
        Some(Family::Titan {
            v2: id.contains("titan-embed-text-v2"),
        })
    } else if id.contains("cohere.embed") {
        Some(Family::Cohere {
            v4: id.contains("embed-v4"),
        })
    } else {
        None
    }
}

/// OpenAI's `input` as texts: a string or an array of strings (their raw
/// JSON literals, comma-separated), how many, and the first. Token arrays
/// (integers) are OpenAI-tokenizer specific: Bedrock's models take text.
fn texts(input: Option<&RawValue>) -> Result<(Vec<u8>, usize, &str), String> {
    let not_texts = || "'input' must be a string or an array of strings".to_string();
    let Some(input) = input else {
        return Err(not_texts());
    };
    if is_str(input) {
        return Ok((input.get().as_bytes().to_vec(), 1, input.get()));
    }
    if !input.get().starts_with('[') {
        return Err(not_texts());
    }
    let mut list = Vec::with_capacity(input.get().len());
    let mut n = 0usize;
    let mut first = "";
    let mut refused = None;
    for_each_item(input, |item| {
        if refused.is_some() {
            return;
        }
        let text = item.get();
        match text.as_bytes().first() {
            Some(b'"') => {
                if n == 0 {
                    first = text;
                } else {
                    list.push(b',');
                }
                list.extend_from_slice(text.as_bytes());
                // safe: one per item, far below usize::MAX.
                n += 1;
            }
            Some(b'-' | b'0'..=b'9' | b'[') => refused = Some(
                "Bedrock embedding models take text: 'input' must be a string or an array of strings, not token arrays"
                    .to_string(),
            ),
            _ => refused = Some(not_texts()),
        }
    });
    match refused {
        Some(why) => Err(why),
        None if n == 0 => Err("'input' must not be empty".into()),
        None => Ok((list, n, first)),
    }
}

/// An OpenAI embeddings request (already parsed) → the `InvokeModel` body
/// for `family`, plus the names of what had no equivalent.
pub fn request(
    family: Family,
    body: &Map<String, Value>,
) -> Result<(Vec<u8>, Vec<String>), String> {
    let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
    let top: Fields = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    request_fields(family, &top)
}

/// An OpenAI embeddings request's top level → the `InvokeModel` body for
/// `family`, plus the names of what had no equivalent. The texts are
/// copied as the client's raw JSON.
pub fn request_fields(family: Family, body: &Fields) -> Result<(Vec<u8>, Vec<String>), String> {
    let (texts, n, first) = texts(body.get("input"))?;
    let mut dropped = Vec::new();
    let dimensions = body.get("dimensions").filter(|d| d.get() != "null");
    if let Some(d) = dimensions {
        if as_u64(d).is_none() {
            return Err("'dimensions' must be a positive integer".into());
        }
    }
    if body.get("user").is_some() {
        drop_name(&mut dropped, "user");
    }
    let mut out = ObjectBuf::new();
    let raw = |v: &RawValue| v.get().as_bytes().to_vec();
    match family {
        Family::Titan { v2 } => {
            if n != 1 {
                return Err(format!(
                    "Amazon Titan embeddings take one text per request; this one has {n} (send one per request, or use a Cohere Embed model, which takes up to 96)",
                ));
            }
            out.insert_raw("inputText", first.as_bytes().to_vec());
            if v2 {
                if let Some(d) = dimensions {
                    out.insert_raw("dimensions", raw(d));
                }
                let normalize = body.get("normalize").map_or(b"true".to_vec(), raw);
                out.insert_raw("normalize", normalize);
            } else if dimensions.is_some() {
                drop_name(&mut dropped, "dimensions");
            }
        }
        Family::Cohere { v4 } => {
            let mut list = Vec::with_capacity(texts.len() + 2);
            list.push(b'[');
            list.extend_from_slice(&texts);
            list.push(b']');
            drop(texts);
            out.insert_raw("texts", list);
            let input_type = body
                .get("input_type")
                .map_or(br#""search_document""#.to_vec(), raw);
            out.insert_raw("input_type", input_type);
            if let Some(t) = body.get("truncate") {
                out.insert_raw("truncate", raw(t));
            }
            match dimensions {
                Some(d) if v4 => out.insert_raw("output_dimension", raw(d)),
                Some(_) => drop_name(&mut dropped, "dimensions"),
                None => {}
            }
            if v4 {
                out.insert_raw("embedding_types", br#"["float"]"#.to_vec());
            }
        }
    }
    Ok((out.into_vec(), dropped))
}

/// A vector as OpenAI's base64: little-endian `f32`s.
pub fn base64_of(vector: &[Value]) -> String {
    let mut bytes = Vec::with_capacity(vector.len() * 4);
    for v in vector {
        bytes.extend_from_slice(&(v.as_f64().unwrap_or(0.0) as f32).to_le_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A Bedrock embeddings answer (either family) → OpenAI's list. `model` as
/// the client named it; `header_tokens` from `X-Amzn-Bedrock-Input-Token-Count`
/// (Cohere's body carries no count).
pub fn to_openai(
    body: &[u8],
    model: &str,
    base64: bool,
    header_tokens: Option<u64>,
) -> Result<Vec<u8>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON ({e})"))?;
    let vectors: Vec<&Vec<Value>> = if let Some(one) = v.get("embedding").and_then(Value::as_array)
    {
        vec![one]
    } else {
        let all = match v.get("embeddings") {
            Some(Value::Array(all)) => all,
            Some(Value::Object(by_type)) => by_type
                .get("float")
                .and_then(Value::as_array)
                .ok_or("no float embeddings in the provider's answer")?,
            _ => return Err("no embeddings in the provider's answer".into()),
        };
        all.iter()
            .map(|e| e.as_array().ok_or("an embedding is not an array"))
            .collect::<Result<_, _>>()?
    };
    let data: Vec<Value> = vectors
        .iter()
        .enumerate()
        .map(|(index, vector)| {
            let embedding = if base64 {
                Value::String(base64_of(vector))
            } else {
                Value::Array(vector.to_vec())
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    let tokens = v
        .get("inputTextTokenCount")
        .and_then(Value::as_u64)
        .or(header_tokens)
        .unwrap_or(0);
    serde_json::to_vec(&json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }))
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn sent(family: Family, v: Value) -> (Value, Vec<String>) {
        let (bytes, dropped) = request(family, &req(v)).unwrap();
        (serde_json::from_slice(&bytes).unwrap(), dropped)
    }

    #[test]
    fn families_by_model_id() {
        assert_eq!(
            family("amazon.titan-embed-text-v2:0"),
            Some(Family::Titan { v2: true })
        );
        assert_eq!(
            family("amazon.titan-embed-text-v1"),
            Some(Family::Titan { v2: false })
        );
        assert_eq!(
            family("cohere.embed-english-v3"),
            Some(Family::Cohere { v4: false })
        );
        assert_eq!(
            family("us.cohere.embed-v4:0"),
            Some(Family::Cohere { v4: true })
        );
        assert_eq!(family("anthropic.claude-3-haiku"), None);
    }

    #[test]
    fn titan_v2_body_and_one_text_per_request() {
        let (v, dropped) = sent(
            Family::Titan { v2: true },
            json!({"model": "m", "input": ["héllo"], "dimensions": 256, "user": "u", "encoding_format": "base64"}),
        );
        assert_eq!(
            v,
            json!({"inputText": "héllo", "dimensions": 256, "normalize": true})
        );
        assert_eq!(dropped, vec!["user"]);
        let (v, _) = sent(Family::Titan { v2: true }, json!({"input": "x"}));
        assert_eq!(v, json!({"inputText": "x", "normalize": true}));
        let (v, dropped) = sent(
            Family::Titan { v2: false },
            json!({"input": "x", "dimensions": 256}),
        );
        assert_eq!(v, json!({"inputText": "x"}));
        assert_eq!(dropped, vec!["dimensions"]);
        let e = request(
            Family::Titan { v2: true },
            &req(json!({"input": ["a", "b"]})),
        )
        .unwrap_err();
        assert!(
            e.contains("one text per request") && e.contains("has 2"),
            "{e}"
        );
    }

    #[test]
    fn cohere_body() {
        let (v, dropped) = sent(
            Family::Cohere { v4: false },
            json!({"input": ["a", "b"], "dimensions": 512}),
        );
        assert_eq!(
            v,
            json!({"texts": ["a", "b"], "input_type": "search_document"})
        );
        assert_eq!(dropped, vec!["dimensions"]);
        let (v, dropped) = sent(
            Family::Cohere { v4: false },
            json!({"input": "q", "input_type": "search_query", "truncate": "END"}),
        );
        assert_eq!(
            v,
            json!({"texts": ["q"], "input_type": "search_query", "truncate": "END"})
        );
        assert!(dropped.is_empty());
        let (v, _) = sent(
            Family::Cohere { v4: true },
            json!({"input": "q", "dimensions": 256}),
        );
        assert_eq!(
            v,
            json!({"texts": ["q"], "input_type": "search_document", "output_dimension": 256, "embedding_types": ["float"]})
        );
    }

    #[test]
    fn bad_inputs_are_named() {
        for (input, needle) in [
            (json!([1, 2, 3]), "token arrays"),
            (json!([[1, 2]]), "token arrays"),
            (json!([]), "empty"),
            (json!(null), "string or an array"),
            (json!({"a": 1}), "string or an array"),
            (json!(["a", 3.5]), "token arrays"),
            (json!(["a", null]), "string or an array"),
        ] {
            let e =
                request(Family::Cohere { v4: false }, &req(json!({"input": input}))).unwrap_err();
            assert!(e.contains(needle), "{input}: {e}");
        }
        let e = request(
            Family::Titan { v2: true },
            &req(json!({"input": "x", "dimensions": "big"})),
        )
        .unwrap_err();
        assert!(e.contains("dimensions"), "{e}");
    }

    #[test]
    fn titan_answer_to_openai_floats_and_base64() {
        let body = br#"{"embedding":[0.5,-1.25,3.0],"inputTextTokenCount":7}"#;
        let v: Value =
            serde_json::from_slice(&to_openai(body, "aws-bedrock/t", false, None).unwrap())
                .unwrap();
        assert_eq!(
            v,
            json!({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -1.25, 3.0]}],
                   "model": "aws-bedrock/t", "usage": {"prompt_tokens": 7, "total_tokens": 7}})
        );
        let v: Value =
            serde_json::from_slice(&to_openai(body, "aws-bedrock/t", true, Some(9)).unwrap())
                .unwrap();
        let b64 = v["data"][0]["embedding"].as_str().unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let floats: Vec<f32> = bytes
            .chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(floats, vec![0.5, -1.25, 3.0]);
        // The body's own count wins over the header's.
        assert_eq!(v["usage"]["prompt_tokens"], 7);
        // OpenAI's own base64 of [0.5, -1.25, 3.0] as little-endian f32.
        assert_eq!(b64, "AAAAPwAAoL8AAEBA");
    }

    #[test]
    fn cohere_answers_both_shapes_with_header_tokens() {
        for body in [
            &br#"{"id":"x","embeddings":[[0.1,0.2],[0.3,0.4]],"response_type":"embeddings_floats","texts":["a","b"]}"#[..],
            br#"{"id":"x","embeddings":{"float":[[0.1,0.2],[0.3,0.4]]},"response_type":"embeddings_by_type"}"#,
        ] {
            let v: Value =
                serde_json::from_slice(&to_openai(body, "aws-bedrock/c", false, Some(4)).unwrap())
                    .unwrap();
            assert_eq!(v["data"][1]["index"], 1);
            assert_eq!(v["data"][1]["embedding"], json!([0.3, 0.4]));
            assert_eq!(v["usage"], json!({"prompt_tokens": 4, "total_tokens": 4}));
        }
        let v: Value = serde_json::from_slice(
            &to_openai(br#"{"embeddings":[[1.0]]}"#, "m", false, None).unwrap(),
        )
        .unwrap();
        assert_eq!(v["usage"]["total_tokens"], 0);
    }

    fn respond(status: u16, headers: &[(&str, &str)], body: &[u8], base64: bool) -> (u16, Value) {
        use crate::translate::ResponseMapping;
        let mapping = ResponseMapping::BedrockEmbeddings {
            model: "aws-bedrock/cohere.embed-english-v3".into(),
            base64,
        };
        let headers = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
            .collect();
        let mut r = mapping.respond(status, headers);
        assert!(r.hold_whole);
        let mut out = Vec::new();
        let t = r.transform.as_mut().unwrap();
        // Split anywhere: the whole answer is translated at its end.
        for piece in body.chunks(3) {
            t.push(piece, &mut out);
        }
        t.finish(true, &mut out);
        let status = t.status().unwrap_or(r.status);
        (status, serde_json::from_slice(&out).unwrap())
    }

    #[test]
    fn the_response_mapping_translates_answers_and_errors() {
        let (status, v) = respond(
            200,
            &[
                ("content-type", "application/json"),
                ("x-amzn-bedrock-input-token-count", "5"),
            ],
            br#"{"embeddings":[[0.5],[1.0]],"response_type":"embeddings_floats"}"#,
            true,
        );
        assert_eq!(status, 200);
        assert_eq!(v["data"][1]["embedding"], "AACAPw==");
        assert_eq!(v["usage"]["prompt_tokens"], 5);
        assert_eq!(v["model"], "aws-bedrock/cohere.embed-english-v3");
        // Bedrock's own error → OpenAI's error shape, status kept.
        let (status, v) = respond(
            400,
            &[("content-type", "application/json")],
            br#"{"message":"Malformed input request: expected maxLength: 2048"}"#,
            false,
        );
        assert_eq!(status, 400);
        assert!(v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Malformed input request"));
        // An answer that is not embeddings: a 502 that says so.
        let (status, v) = respond(200, &[], br#"{"nope":1}"#, false);
        assert_eq!(status, 502);
        assert!(v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no embeddings"));
    }

    #[test]
    fn broken_answers_are_errors() {
        for body in [
            &b"{"[..],
            b"{}",
            br#"{"embeddings":{"int8":[[1]]}}"#,
            br#"{"embeddings":[1,2]}"#,
        ] {
            assert!(to_openai(body, "m", false, None).is_err(), "{body:?}");
        }
    }
}

/// The request mapper as it was, over a `serde_json::Map` of the body: the
/// oracle the borrowed one is held to.
#[cfg(test)]
mod reference {
    use super::*;

    /// OpenAI's `input` as texts: a string or an array of strings. Token arrays
    /// (integers) are OpenAI-tokenizer specific: Bedrock's models take text.
    pub fn texts(input: &Value) -> Result<Vec<String>, String> {
        match input {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(items) if !items.is_empty() => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s.clone()),
                    Value::Number(_) | Value::Array(_) => Err(
                        "Bedrock embedding models take text: 'input' must be a string or an array of strings, not token arrays"
                            .to_string(),
                    ),
                    _ => Err("'input' must be a string or an array of strings".to_string()),
                })
                .collect(),
            Value::Array(_) => Err("'input' must not be empty".into()),
            _ => Err("'input' must be a string or an array of strings".into()),
        }
    }

    /// An OpenAI embeddings request (already parsed) → the `InvokeModel` body
    /// for `family`, plus the names of what had no equivalent.
    pub fn request(
        family: Family,
        body: &Map<String, Value>,
    ) -> Result<(Vec<u8>, Vec<String>), String> {
        let texts = texts(body.get("input").unwrap_or(&Value::Null))?;
        let mut dropped = Vec::new();
        let dimensions = body.get("dimensions").filter(|d| !d.is_null());
        if let Some(d) = dimensions {
            if !d.is_u64() {
                return Err("'dimensions' must be a positive integer".into());
            }
        }
        if body.get("user").is_some() {
            drop_name(&mut dropped, "user");
        }
        let out = match family {
            Family::Titan { v2 } => {
                if texts.len() != 1 {
                    return Err(format!(
                        "Amazon Titan embeddings take one text per request; this one has {} (send one per request, or use a Cohere Embed model, which takes up to 96)",
                        texts.len()
                    ));
                }
                let mut out = json!({ "inputText": texts[0] });
                if v2 {
                    if let Some(d) = dimensions {
                        out["dimensions"] = d.clone();
                    }
                    out["normalize"] = body.get("normalize").cloned().unwrap_or(json!(true));
                } else if dimensions.is_some() {
                    drop_name(&mut dropped, "dimensions");
                }
                out
            }
            Family::Cohere { v4 } => {
                let input_type = body
                    .get("input_type")
                    .cloned()
                    .unwrap_or_else(|| json!("search_document"));
                let mut out = json!({ "texts": texts, "input_type": input_type });
                if let Some(t) = body.get("truncate") {
                    out["truncate"] = t.clone();
                }
                match dimensions {
                    Some(d) if v4 => out["output_dimension"] = d.clone(),
                    Some(_) => drop_name(&mut dropped, "dimensions"),
                    None => {}
                }
                if v4 {
                    out["embedding_types"] = json!(["float"]);
                }
                out
            }
        };
        let bytes = serde_json::to_vec(&out).map_err(|e| e.to_string())?;
        Ok((bytes, dropped))
    }

    #[test]
    fn the_borrowed_request_agrees_with_the_value_one() {
        use crate::translate::variants::variants;
        let bodies = [
            json!({"model": "m", "input": ["a", "é\"b"], "dimensions": 256, "user": "u",
                   "normalize": false, "input_type": "search_query", "truncate": "END"}),
            json!({"input": "one", "dimensions": null, "encoding_format": "float"}),
        ];
        for body in bodies {
            for v in variants(&body, 400) {
                let what = String::from_utf8_lossy(&v);
                let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&v) else {
                    continue;
                };
                let top: Fields = serde_json::from_slice(&v).unwrap();
                for family in [
                    Family::Titan { v2: true },
                    Family::Titan { v2: false },
                    Family::Cohere { v4: true },
                    Family::Cohere { v4: false },
                ] {
                    let new = request_fields(family, &top);
                    let old = request(family, &map);
                    match (new, old) {
                        (Ok(new), Ok(old)) => {
                            let new_v: Value = serde_json::from_slice(&new.0).unwrap();
                            let old_v: Value = serde_json::from_slice(&old.0).unwrap();
                            assert_eq!((new_v, new.1), (old_v, old.1), "{what}");
                        }
                        (Err(new), Err(old)) => assert_eq!(new, old, "{what}"),
                        (new, old) => panic!("{what}: {new:?} vs {old:?}"),
                    }
                }
            }
        }
    }
}
