//! The Responses API handler: native where the provider speaks it,
//! translated (and chained) everywhere else.

use super::*;
use crate::host::Fixed;
use crate::request::RequestHead;
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
        &Inbound::new(&head(), &src(), &host),
        body.to_string().as_bytes(),
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

/// What the client gets for an upstream answer through `f`'s mapping.
fn answer(f: &Forward, content_type: &str, body: &str) -> Vec<u8> {
    let r = f.response.respond(
        200,
        vec![("content-type".into(), content_type.as_bytes().to_vec())],
    );
    let mut out = Vec::new();
    let mut t = r.transform.expect("a translated answer");
    t.push(body.as_bytes(), &mut out);
    t.finish(true, &mut out);
    out
}

#[test]
fn claude_thinking_goes_out_in_encrypted_content_and_comes_back() {
    let tools = json!([{"type": "function", "name": "shell", "parameters": {"type": "object"}}]);
    let first = json!({"model": "anthropic/claude-sonnet-4-5", "input": "List files", "tools": tools,
                       "reasoning": {"effort": "high"}, "include": ["reasoning.encrypted_content"]});
    let f = forward(&first).unwrap();
    assert_eq!(
        sent(&f)["thinking"],
        json!({"type": "enabled", "budget_tokens": 16384})
    );
    // Claude thinks, then calls the tool.
    let claude = json!({"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
        "content": [{"type": "thinking", "thinking": "I should run ls.", "signature": "sig-ABC"},
                    {"type": "tool_use", "id": "toolu_1", "name": "shell", "input": {"cmd": "ls"}}],
        "stop_reason": "tool_use", "usage": {"input_tokens": 5, "output_tokens": 9}});
    let out: Value =
        serde_json::from_slice(&answer(&f, "application/json", &claude.to_string())).unwrap();
    let output = out["output"].as_array().unwrap();
    assert_eq!(output[0]["type"], "reasoning");
    assert_eq!(output[0]["summary"][0]["text"], "I should run ls.");
    let encrypted = output[0]["encrypted_content"].as_str().unwrap();
    assert!(encrypted.contains("sig-ABC"));
    assert_eq!(output[1]["type"], "function_call");
    // The next turn sends the items back, as Codex does: the thinking block
    // (signature and all) leads the assistant turn again.
    let mut input = vec![json!({"role": "user", "content": "List files"})];
    input.extend(output.iter().cloned());
    input.push(json!({"type": "function_call_output", "call_id": "toolu_1", "output": "a.txt"}));
    let second = json!({"model": "anthropic/claude-sonnet-4-5", "input": input, "tools": tools,
                        "reasoning": {"effort": "high"}});
    let f = forward(&second).unwrap();
    let body = sent(&f);
    assert_eq!(body["thinking"]["type"], "enabled");
    assert_eq!(
        body["messages"][1]["content"][0],
        json!({"type": "thinking", "thinking": "I should run ls.", "signature": "sig-ABC"})
    );
    assert_eq!(body["messages"][1]["content"][1]["type"], "tool_use");
    assert_eq!(body["messages"][2]["content"][0]["type"], "tool_result");
    // Without the reasoning item Anthropic would refuse thinking: it stays
    // off for that request, and the header says so.
    let mut without = second.clone();
    without["input"] = json!(input
        .iter()
        .filter(|i| i["type"] != "reasoning")
        .cloned()
        .collect::<Vec<_>>());
    let f = forward(&without).unwrap();
    assert!(sent(&f).get("thinking").is_none());
    assert!(f.response_headers[0].1.contains("reasoning_effort"));
}

#[test]
fn a_streamed_claude_thinking_block_reaches_the_reasoning_item() {
    let f = forward(
        &json!({"model": "anthropic/claude-sonnet-4-5", "input": "hi", "stream": true,
                            "reasoning": {"effort": "low"}}),
    )
    .unwrap();
    let ev = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
    let stream = [
        ev("message_start", json!({"type": "message_start", "message": {"id": "msg_2", "type": "message",
            "role": "assistant", "model": "c", "content": [], "usage": {"input_tokens": 3, "output_tokens": 0}}})),
        ev("content_block_start", json!({"type": "content_block_start", "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""}})),
        ev("content_block_delta", json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "thinking_delta", "thinking": "Hm."}})),
        ev("content_block_delta", json!({"type": "content_block_delta", "index": 0,
            "delta": {"type": "signature_delta", "signature": "sig-XYZ"}})),
        ev("content_block_stop", json!({"type": "content_block_stop", "index": 0})),
        ev("content_block_start", json!({"type": "content_block_start", "index": 1,
            "content_block": {"type": "text", "text": ""}})),
        ev("content_block_delta", json!({"type": "content_block_delta", "index": 1,
            "delta": {"type": "text_delta", "text": "Hello"}})),
        ev("content_block_stop", json!({"type": "content_block_stop", "index": 1})),
        ev("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 4}})),
        ev("message_stop", json!({"type": "message_stop"})),
    ]
    .concat();
    let out = String::from_utf8(answer(&f, "text/event-stream", &stream)).unwrap();
    let done = out
        .split("\n\n")
        .find(|e| e.starts_with("event: response.completed"))
        .expect("response.completed");
    let data: Value = serde_json::from_str(done.split_once("data: ").unwrap().1).unwrap();
    let output = &data["response"]["output"];
    assert_eq!(output[0]["type"], "reasoning");
    let blocks: Value =
        serde_json::from_str(output[0]["encrypted_content"].as_str().unwrap()).unwrap();
    assert_eq!(
        blocks,
        json!([{"type": "thinking", "thinking": "Hm.", "signature": "sig-XYZ"}])
    );
    assert_eq!(output[1]["content"][0]["text"], "Hello");
}
