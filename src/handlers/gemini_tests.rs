//! The Gemini API handler: routes read off the path, native where the
//! provider speaks the Gemini API, translated (and chained) everywhere else.

use super::*;
use crate::host::Fixed;
use crate::pipeline::{decide, plan_body, BodyRoute, Decision};
use crate::request::RequestHead;
use crate::settings::from_pairs;
use crate::upstream::{Forward, ESTIMATE_HEADER};
use serde_json::{json, Value};
use std::collections::HashMap;

const HOST: Fixed = Fixed {
    random: 0,
    now_ms: 0,
};

fn src() -> HashMap<String, String> {
    from_pairs(&[
        ("PROXY_API_KEY", "pk"),
        ("OPENAI_API_KEY", "sk-o"),
        ("ANTHROPIC_API_KEY", "sk-a"),
        ("GEMINI_API_KEY", "AIza-up"),
        ("VERTEX_ACCESS_TOKEN", "ya29.tok"),
        ("VERTEX_PROJECT", "proj"),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_REGION", "us-east-1"),
    ])
}

/// A Gemini SDK's request head: the proxy key as `x-goog-api-key`.
fn head(path: &str) -> RequestHead {
    RequestHead::new(
        "POST",
        path,
        vec![
            ("x-goog-api-key".into(), b"pk".to_vec()),
            ("content-type".into(), b"application/json".to_vec()),
            (
                "x-goog-api-client".into(),
                b"google-genai-sdk/1.30.0".to_vec(),
            ),
            ("user-agent".into(), b"GeminiCLI/0.61.0".to_vec()),
        ],
    )
}

fn request() -> Value {
    json!({
        "contents": [{"role": "user", "parts": [{"text": "hi"}]}],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "tools": [{"functionDeclarations": [{"name": "run_shell_command",
            "parameters": {"type": "OBJECT", "properties": {"command": {"type": "STRING"}}}}]}],
        "generationConfig": {"temperature": 0.5, "maxOutputTokens": 100},
        "safetySettings": [{"category": "HARM_CATEGORY_HATE_SPEECH", "threshold": "BLOCK_NONE"}]
    })
}

/// The whole way in: decide on the head, then plan the body.
fn planned(path: &str, body: &[u8]) -> Planned {
    let s = src();
    let decided = decide(&head(path), &s, &HOST);
    assert_eq!(decided.dialect, Dialect::Gemini, "{path}");
    match decided.decision {
        Decision::WithBody {
            route, selection, ..
        } => plan_body(route, &head(path), body, &s, &HOST, selection, None, None),
        other => panic!("{path}: {other:?}"),
    }
}

fn forward(path: &str, body: &Value) -> Forward {
    match planned(path, body.to_string().as_bytes()) {
        Planned::Forward(f) => f,
        Planned::Reply(r) => panic!("{path}: {}", String::from_utf8_lossy(&r.body)),
    }
}

fn sent(f: &Forward) -> Value {
    serde_json::from_slice(f.first().body.as_deref().unwrap()).unwrap()
}

fn dropped(f: &Forward) -> Option<&str> {
    f.response_headers
        .iter()
        .find(|(n, _)| n == "x-llm-proxy-dropped")
        .map(|(_, v)| v.as_str())
}

#[test]
fn calls_are_read_off_the_path() {
    let call = |p: &str| call_of(p).map(|c| c.map_err(|e| e.status));
    assert_eq!(
        call("/v1beta/models/anthropic/claude-sonnet-4-5:streamGenerateContent"),
        Some(Ok(GeminiCall {
            version: "v1beta",
            model: "anthropic/claude-sonnet-4-5".into(),
            method: Method::Stream,
        }))
    );
    assert_eq!(
        call("/v1/models/models/gemini-2.5-flash:countTokens"),
        Some(Ok(GeminiCall {
            version: "v1",
            model: "gemini-2.5-flash".into(),
            method: Method::CountTokens,
        }))
    );
    // An SDK that encodes the slash; a model id holding a colon (the last one splits).
    assert_eq!(
        call("/v1beta/models/openai%2Fgpt-4o:embedContent").map(|c| c.map(|c| c.model)),
        Some(Ok("openai/gpt-4o".into()))
    );
    assert_eq!(
        call("/v1beta/models/groq/llama:3b:batchEmbedContents").map(|c| c.map(|c| c.model)),
        Some(Ok("groq/llama:3b".into()))
    );
    assert_eq!(call("/v1beta/models/x:predict"), Some(Err(404)));
    assert_eq!(call("/v1beta/models/:generateContent"), Some(Err(400)));
    assert_eq!(call("/v1beta/models/%FF:generateContent"), Some(Err(400)));
    // Not Gemini calls: the model list, a model's page, another API.
    assert_eq!(call("/v1/models"), None);
    assert_eq!(call("/v1/models/gpt-4o"), None);
    assert_eq!(call("/v1/chat/completions"), None);
    assert!(!is_gemini_path("/v1/models/gpt-4o"));
}

#[test]
fn a_bare_model_goes_to_google_ai_studio_untouched() {
    let body = br#"{"contents":[{"parts":[{"text":"hi"}]}] ,"cachedContent":"c/1"}"#;
    let path = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=pk";
    let Planned::Forward(f) = planned(path, body) else {
        panic!()
    };
    let up = f.first();
    assert_eq!(
        up.url(),
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert_eq!(up.header("x-goog-api-key"), Some("AIza-up"));
    assert_eq!(up.header("authorization"), None);
    // The client's own headers pass on its own dialect's route.
    assert_eq!(
        up.header("x-goog-api-client"),
        Some("google-genai-sdk/1.30.0")
    );
    assert_eq!(up.body.as_deref().map(|b| &b[..]), Some(&body[..]));
    assert_eq!(f.response, ResponseMapping::Relay);
    assert_eq!(f.dialect, Dialect::Gemini);
    // Named explicitly, under /v1/, with a `models/` prefix: the same provider.
    let f = forward(
        "/v1/models/models/google-ai-studio/gemini-2.5-pro:countTokens",
        &request(),
    );
    assert_eq!(
        f.first().url(),
        "https://generativelanguage.googleapis.com/v1/models/gemini-2.5-pro:countTokens"
    );
}

#[test]
fn vertex_speaks_gemini_for_googles_models_only() {
    let f = forward(
        "/v1beta/models/google-vertex-ai/gemini-2.5-pro:generateContent",
        &request(),
    );
    assert_eq!(
        f.first().url(),
        "https://us-central1-aiplatform.googleapis.com/v1/projects/proj/locations/us-central1/publishers/google/models/gemini-2.5-pro:generateContent"
    );
    assert_eq!(f.first().header("authorization"), Some("Bearer ya29.tok"));
    assert_eq!(sent(&f), request());
    assert_eq!(f.response, ResponseMapping::Relay);
    // Claude on Vertex: Gemini → chat → Messages (rawPredict).
    let f = forward(
        "/v1beta/models/google-vertex-ai/claude-sonnet-4-5:generateContent",
        &request(),
    );
    assert!(f
        .first()
        .url()
        .ends_with("/publishers/anthropic/models/claude-sonnet-4-5:rawPredict"));
    assert!(matches!(f.response, ResponseMapping::Chain(..)));
}

#[test]
fn an_openai_compatible_provider_gets_chat_completions() {
    let f = forward(
        "/v1beta/models/openai/gpt-4o-mini:streamGenerateContent?alt=sse",
        &request(),
    );
    let up = f.first();
    assert_eq!(up.url(), "https://api.openai.com/v1/chat/completions");
    assert_eq!(up.header("authorization"), Some("Bearer sk-o"));
    // What only meant something to Google's SDK stays behind.
    assert_eq!(up.header("x-goog-api-client"), None);
    assert_eq!(up.header("x-goog-api-key"), None);
    let body = sent(&f);
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    assert_eq!(
        body["messages"],
        json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}])
    );
    assert_eq!(body["tools"][0]["function"]["name"], "run_shell_command");
    assert_eq!(
        body["tools"][0]["function"]["parameters"]["properties"]["command"]["type"],
        "string"
    );
    assert_eq!(body["temperature"], 0.5);
    assert_eq!(body["max_completion_tokens"], 100);
    assert_eq!(
        f.response,
        ResponseMapping::ChatToGemini {
            model: "openai/gpt-4o-mini".into(),
            array: false
        }
    );
    assert_eq!(dropped(&f), Some("safetySettings"));
    assert_eq!(f.dialect, Dialect::Gemini);

    // `streamGenerateContent` without `alt=sse`: one JSON array of a whole answer.
    let f = forward(
        "/v1beta/models/openai/gpt-4o-mini:streamGenerateContent",
        &request(),
    );
    assert_eq!(sent(&f).get("stream"), None);
    assert_eq!(
        f.response,
        ResponseMapping::ChatToGemini {
            model: "openai/gpt-4o-mini".into(),
            array: true
        }
    );
}

#[test]
fn anthropic_and_bedrock_are_one_translation_further() {
    let f = forward(
        "/v1beta/models/anthropic/claude-sonnet-4-5:generateContent",
        &request(),
    );
    assert_eq!(f.first().url(), "https://api.anthropic.com/v1/messages");
    assert_eq!(f.first().header("x-api-key"), Some("sk-a"));
    let body = sent(&f);
    assert_eq!(body["model"], "claude-sonnet-4-5");
    assert_eq!(body["system"], "Be brief.");
    assert_eq!(body["max_tokens"], 100);
    assert_eq!(body["tools"][0]["name"], "run_shell_command");
    assert_eq!(
        f.response,
        ResponseMapping::Chain(
            Box::new(ResponseMapping::MessagesToChat {
                model: "anthropic/claude-sonnet-4-5".into(),
                include_usage: false
            }),
            Box::new(ResponseMapping::ChatToGemini {
                model: "anthropic/claude-sonnet-4-5".into(),
                array: false
            })
        )
    );
    let f = forward(
        "/v1beta/models/aws-bedrock/anthropic.claude-3-haiku:streamGenerateContent?alt=sse",
        &request(),
    );
    assert!(f
        .first()
        .url()
        .ends_with("/model/anthropic.claude-3-haiku/converse-stream"));
    assert!(matches!(f.response, ResponseMapping::Chain(..)));
}

#[test]
fn count_tokens_is_an_estimate_where_the_provider_cannot_count() {
    let body = json!({"contents": [{"role": "user", "parts": [{"text": "x".repeat(40)}]}]});
    match planned(
        "/v1beta/models/openai/gpt-4o:countTokens",
        body.to_string().as_bytes(),
    ) {
        Planned::Reply(r) => {
            assert_eq!(r.status, 200);
            assert_eq!(
                serde_json::from_slice::<Value>(&r.body).unwrap(),
                json!({"totalTokens": 10 + 4 + 3})
            );
            assert!(r
                .headers
                .contains(&(ESTIMATE_HEADER.into(), "estimate".into())));
        }
        Planned::Forward(_) => panic!("forwarded"),
    }
}

#[test]
fn embed_content_maps_to_embeddings() {
    let body = json!({"content": {"parts": [{"text": "hello"}]}, "taskType": "RETRIEVAL_DOCUMENT",
                      "outputDimensionality": 256});
    let f = forward(
        "/v1beta/models/openai/text-embedding-3-small:embedContent",
        &body,
    );
    assert_eq!(f.first().url(), "https://api.openai.com/v1/embeddings");
    assert_eq!(f.first().header("x-goog-api-client"), None);
    assert_eq!(
        sent(&f),
        json!({"model": "text-embedding-3-small", "input": "hello", "encoding_format": "float",
               "dimensions": 256})
    );
    assert_eq!(
        f.response,
        ResponseMapping::EmbeddingsToGemini { batch: false }
    );
    assert_eq!(dropped(&f), Some("taskType"));
    let batch = json!({"requests": [{"model": "models/openai/text-embedding-3-small",
                                     "content": {"parts": [{"text": "a"}]}},
                                    {"content": {"parts": [{"text": "b"}]}}]});
    let f = forward(
        "/v1beta/models/openai/text-embedding-3-small:batchEmbedContents",
        &batch,
    );
    assert_eq!(sent(&f)["input"], json!(["a", "b"]));
    assert_eq!(
        f.response,
        ResponseMapping::EmbeddingsToGemini { batch: true }
    );
    // Natively on AI Studio.
    let f = forward("/v1beta/models/gemini-embedding-001:embedContent", &body);
    assert_eq!(
        f.first().url(),
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:embedContent"
    );
    assert_eq!(sent(&f), body);
}

fn google_error(r: &crate::reply::Reply) -> Value {
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["error"]["code"], r.status, "{v}");
    v["error"].clone()
}

#[test]
fn refusals_are_in_googles_shape() {
    let s = src();
    // No key, a wrong key: 401 UNAUTHENTICATED.
    let mut h = head("/v1beta/models/openai/gpt-4o:generateContent");
    h.headers.retain(|(n, _)| n != "x-goog-api-key");
    let r = decide(&h, &s, &HOST).reply_now().unwrap();
    assert_eq!(r.status, 401);
    assert_eq!(google_error(&r)["status"], "UNAUTHENTICATED");
    // The key as ?key= (Google's own way) is accepted.
    let h = RequestHead::new(
        "POST",
        "/v1beta/models/openai/gpt-4o:generateContent?key=pk",
        vec![],
    );
    assert!(matches!(
        decide(&h, &s, &HOST).decision,
        Decision::WithBody {
            route: BodyRoute::Gemini(_),
            ..
        }
    ));
    // An unknown method: 404; a GET: 405.
    let r = decide(&head("/v1beta/models/gemini-2.5-flash:predict"), &s, &HOST)
        .reply_now()
        .unwrap();
    assert_eq!(google_error(&r)["status"], "NOT_FOUND");
    let mut h = head("/v1beta/models/gemini-2.5-flash:generateContent");
    h.method = "GET".into();
    assert_eq!(decide(&h, &s, &HOST).reply_now().unwrap().status, 405);
    // Bodies and models the proxy cannot take: 400 INVALID_ARGUMENT.
    for (path, body, needle) in [
        (
            "/v1beta/models/openai/gpt-4o:generateContent",
            "{",
            "invalid JSON",
        ),
        (
            "/v1beta/models/gemini-2.5-flash:generateContent",
            "[1]",
            "object",
        ),
        ("/v1beta/models/nosuch/x:generateContent", "{}", "nosuch"),
        (
            "/v1beta/models/openai/gpt-4o:generateContent",
            "{}",
            "contents",
        ),
        (
            "/v1beta/models/openai/gpt-4o:generateContent",
            r#"{"contents":[],"generationConfig":{"candidateCount":2}}"#,
            "candidateCount",
        ),
        ("/v1beta/models/openai/gpt-4o:embedContent", "{}", "content"),
    ] {
        match planned(path, body.as_bytes()) {
            Planned::Reply(r) => {
                assert_eq!(r.status, 400, "{body}");
                let e = google_error(&r);
                assert_eq!(e["status"], "INVALID_ARGUMENT");
                assert!(e["message"].as_str().unwrap().contains(needle), "{e}");
            }
            Planned::Forward(_) => panic!("{body} was forwarded"),
        }
    }
}

#[test]
fn prefixes_pick_keys_and_gateways_as_elsewhere() {
    let s = from_pairs(&[
        ("PROXY_API_KEY", "pk"),
        ("OPENAI_API_KEY", "k0,k1,k2"),
        ("GEMINI_API_KEY", "AIza-up"),
        ("CLOUDFLARE_ACCOUNT_ID", "acct"),
    ]);
    let path = "/key/2/v1beta/models/openai/gpt-4o:generateContent";
    let decided = decide(&head(path), &s, &HOST);
    assert_eq!(decided.dialect, Dialect::Gemini);
    let Decision::WithBody {
        route,
        selection,
        gateway,
        ..
    } = decided.decision
    else {
        panic!()
    };
    let body = request().to_string();
    let Planned::Forward(f) = plan_body(
        route,
        &head(path),
        body.as_bytes(),
        &s,
        &HOST,
        selection,
        gateway.as_ref(),
        None,
    ) else {
        panic!()
    };
    assert_eq!(f.first().header("authorization"), Some("Bearer k2"));
    let path = "/g/gw/v1beta/models/gemini-2.5-flash:generateContent";
    let decided = decide(&head(path), &s, &HOST);
    let Decision::WithBody { route, gateway, .. } = decided.decision else {
        panic!()
    };
    let Planned::Forward(f) = plan_body(
        route,
        &head(path),
        body.as_bytes(),
        &s,
        &HOST,
        None,
        gateway.as_ref(),
        None,
    ) else {
        panic!()
    };
    assert_eq!(
        f.first().url(),
        "https://gateway.ai.cloudflare.com/v1/acct/gw/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent"
    );
}

#[test]
fn answers_come_back_in_geminis_shape() {
    let mapping = ResponseMapping::ChatToGemini {
        model: "openai/gpt-4o".into(),
        array: true,
    };
    let answer = json!({"id": "c1", "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": "hello"}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}});
    let mut r = mapping.respond(
        200,
        vec![("content-type".into(), b"application/json".to_vec())],
    );
    let mut out = Vec::new();
    let t = r.transform.as_mut().unwrap();
    t.push(answer.to_string().as_bytes(), &mut out);
    t.finish(true, &mut out);
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        v[0]["candidates"][0]["content"]["parts"][0]["text"],
        "hello"
    );
    assert_eq!(v[0]["candidates"][0]["finishReason"], "STOP");
    assert_eq!(v[0]["usageMetadata"]["totalTokenCount"], 4);
    assert_eq!(v[0]["modelVersion"], "openai/gpt-4o");
    // An upstream error: Google's shape, the upstream's status.
    let mut r = mapping.respond(
        429,
        vec![("content-type".into(), b"application/json".to_vec())],
    );
    let mut out = Vec::new();
    let t = r.transform.as_mut().unwrap();
    t.push(
        br#"{"error":{"message":"slow down","type":"rate_limit"}}"#,
        &mut out,
    );
    t.finish(true, &mut out);
    let v: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["error"]["code"], 429);
    assert_eq!(v["error"]["status"], "RESOURCE_EXHAUSTED");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("slow down"));
}
