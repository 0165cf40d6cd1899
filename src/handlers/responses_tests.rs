//! The Responses API handler: native where the provider speaks it,
//! translated (and chained) everywhere else.

use super::*;
use crate::host::Fixed;
use crate::settings::from_pairs;
use serde_json::{json, Value};
use std::collections::HashMap;

fn src() -> HashMap<String, String> {
    from_pairs(&[
        ("PROXY_API_KEY", "pk"),
        ("OPENAI_API_KEY", "sk-o"),
        ("ANTHROPIC_API_KEY", "sk-a"),
        ("GROQ_API_KEY", "gq"),
        ("AZURE_OPENAI_API_KEY", "az"),
        ("AZURE_OPENAI_RESOURCE", "res"),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_REGION", "us-east-1"),
    ])
}

fn head() -> RequestHead {
    RequestHead::new(
        "POST",
        "/v1/responses",
        vec![
            ("authorization".into(), b"Bearer pk".to_vec()),
            ("content-type".into(), b"application/json".to_vec()),
            ("openai-beta".into(), b"responses=experimental".to_vec()),
            ("x-stainless-lang".into(), b"python".to_vec()),
            ("originator".into(), b"codex_cli_rs".to_vec()),
        ],
    )
}

fn forward(body: &Value) -> Result<Forward, ErrorReply> {
    let host = Fixed {
        random: 0,
        now_ms: 0,
    };
    plan(
        &head(),
        body.to_string().as_bytes(),
        &src(),
        None,
        &host,
        None,
    )
}

fn sent(f: &Forward) -> Value {
    serde_json::from_slice(f.first().body.as_deref().unwrap()).unwrap()
}

fn request(model: &str) -> Value {
    json!({"model": model, "instructions": "Be brief.", "stream": true, "store": false,
           "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
           "tools": [{"type": "function", "name": "shell", "parameters": {"type": "object"}}],
           "include": ["reasoning.encrypted_content"]})
}

#[test]
fn openai_and_azure_get_the_body_natively() {
    let mut body = request("openai/gpt-5-codex");
    body["previous_response_id"] = json!("resp_1");
    let f = forward(&body).unwrap();
    let up = f.first();
    assert_eq!(up.url(), "https://api.openai.com/v1/responses");
    assert_eq!(up.header("authorization"), Some("Bearer sk-o"));
    assert_eq!(up.header("openai-beta"), Some("responses=experimental"));
    let mut want = body.clone();
    want["model"] = json!("gpt-5-codex");
    assert_eq!(sent(&f), want);
    assert_eq!(f.response, ResponseMapping::Relay);
    let f = forward(&request("azure-openai/my-deployment")).unwrap();
    assert_eq!(
        f.first().url(),
        "https://res.openai.azure.com/openai/v1/responses"
    );
    assert_eq!(sent(&f)["model"], "my-deployment");
}

#[test]
fn other_providers_get_chat_completions() {
    let f = forward(&request("groq/llama-3.3-70b-versatile")).unwrap();
    let up = f.first();
    assert_eq!(up.url(), "https://api.groq.com/openai/v1/chat/completions");
    assert_eq!(up.header("authorization"), Some("Bearer gq"));
    for gone in ["openai-beta", "x-stainless-lang"] {
        assert_eq!(up.header(gone), None, "{gone}");
    }
    let body = sent(&f);
    assert_eq!(body["model"], "llama-3.3-70b-versatile");
    assert_eq!(
        body["messages"],
        json!([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}])
    );
    assert_eq!(body["tools"][0]["function"]["name"], "shell");
    assert!(matches!(
        &f.response,
        ResponseMapping::ChatToResponses { model, .. } if model == "groq/llama-3.3-70b-versatile"
    ));
    assert_eq!(
        f.response_headers,
        vec![("x-llm-proxy-dropped".into(), "include".into())]
    );
}

#[test]
fn anthropic_and_bedrock_are_one_translation_further() {
    let f = forward(&request("anthropic/claude-sonnet-4-5")).unwrap();
    assert_eq!(f.first().url(), "https://api.anthropic.com/v1/messages");
    let body = sent(&f);
    assert_eq!(body["system"], "Be brief.");
    assert_eq!(body["tools"][0]["name"], "shell");
    match &f.response {
        ResponseMapping::Chain(first, second) => {
            assert!(matches!(
                **first,
                ResponseMapping::MessagesToChat {
                    include_usage: true,
                    ..
                }
            ));
            assert!(matches!(**second, ResponseMapping::ChatToResponses { .. }));
        }
        other => panic!("{other:?}"),
    }
    let f = forward(&request("aws-bedrock/anthropic.claude-sonnet-4-5-v1:0")).unwrap();
    assert!(
        f.first().url().ends_with("/converse-stream"),
        "{}",
        f.first().url()
    );
    assert!(matches!(&f.response, ResponseMapping::Chain(first, _)
        if matches!(**first, ResponseMapping::ConverseToChat { .. })));
}

#[test]
fn bad_requests_and_conversation_state() {
    let mut body = request("groq/llama");
    body["previous_response_id"] = json!("resp_1");
    let e = forward(&body).unwrap_err();
    assert_eq!((e.status, e.code), (400, "unsupported_conversation_state"));
    assert!(e.message.contains("keeps no conversation state"));
    for (body, needle) in [
        (json!({"input": "x"}), "model"),
        (json!({"model": "nosuch/x", "input": "x"}), "nosuch"),
        (json!({"model": "gpt-4.1", "input": "x"}), "provider/model"),
        (json!({"model": "groq/x"}), "input"),
        (json!([1]), "JSON object"),
    ] {
        let e = forward(&body).unwrap_err();
        assert_eq!(e.status, 400, "{body}");
        assert!(e.message.contains(needle), "{body}: {}", e.message);
    }
}
