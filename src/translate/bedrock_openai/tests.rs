//! The Converse pair against recorded-shape requests, answers and streams.

use super::request::{chat_to_converse, converse_path};
use super::response::converse_to_chat_response;
use super::stream::ConverseToChatStream;
use crate::translate::eventstream::encode;
use crate::translate::sse::SseParser;
use crate::translate::BodyTransform;
use serde_json::{json, Value};

#[test]
fn chat_request_to_converse_with_tool_use_and_images() {
    let t = chat_to_converse(&json!({
        "model": "aws-bedrock/anthropic.claude-3-5-sonnet-20240620-v1:0",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this, and the weather?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/x.png"}}]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "tooluse_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "tooluse_2", "type": "function", "function": {"name": "time", "arguments": ""}}]},
            {"role": "tool", "tool_call_id": "tooluse_1", "content": "sunny"},
            {"role": "tool", "tool_call_id": "tooluse_2", "content": "noon"},
            {"role": "user", "content": "Thanks"},
        ],
        "tools": [{"type": "function", "function": {"name": "weather", "description": "W",
                   "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
                  {"type": "function", "function": {"name": "time"}}],
        "tool_choice": "required",
        "max_completion_tokens": 500, "temperature": 0.3, "top_p": 0.9, "stop": "END",
        "user": "u-1", "stream": true, "stream_options": {"include_usage": true},
        "frequency_penalty": 1, "parallel_tool_calls": false,
    }))
    .unwrap();
    let v = t.body.to_value();
    assert_eq!(v["system"], json!([{"text": "Be brief."}]));
    assert_eq!(
        v["messages"],
        json!([
            {"role": "user", "content": [
                {"text": "What is this, and the weather?"},
                {"image": {"format": "png", "source": {"bytes": "iVBORw0"}}}]},
            {"role": "assistant", "content": [
                {"toolUse": {"toolUseId": "tooluse_1", "name": "weather", "input": {"city": "Paris"}}},
                {"toolUse": {"toolUseId": "tooluse_2", "name": "time", "input": {}}}]},
            {"role": "user", "content": [
                {"toolResult": {"toolUseId": "tooluse_1", "content": [{"text": "sunny"}]}},
                {"toolResult": {"toolUseId": "tooluse_2", "content": [{"text": "noon"}]}},
                {"text": "Thanks"}]},
        ])
    );
    assert_eq!(
        v["inferenceConfig"],
        json!({"maxTokens": 500, "temperature": 0.3, "topP": 0.9, "stopSequences": ["END"]})
    );
    assert_eq!(
        v["toolConfig"],
        json!({"tools": [
            {"toolSpec": {"name": "weather", "description": "W", "inputSchema": {"json": {"type": "object", "properties": {"city": {"type": "string"}}}}}},
            {"toolSpec": {"name": "time", "inputSchema": {"json": {"type": "object", "properties": {}}}}}],
            "toolChoice": {"any": {}}})
    );
    assert_eq!(v["requestMetadata"], json!({"user": "u-1"}));
    assert!(t.stream && t.include_usage);
    assert_eq!(
        t.dropped,
        ["image_url", "frequency_penalty", "parallel_tool_calls"]
    );
    assert_eq!(
        converse_path("anthropic.claude-3-5-sonnet-20240620-v1:0", true),
        "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse-stream"
    );
    assert_eq!(
        converse_path("arn:aws:bedrock:us-east-1:123:inference-profile/us.meta.llama3", false),
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123%3Ainference-profile%2Fus.meta.llama3/converse"
    );
    // OpenAI takes n > 1; Converse answers once, and says so.
    let t = chat_to_converse(&json!({"messages": [], "n": 3})).unwrap();
    assert_eq!(t.dropped, ["n"]);
}

#[test]
fn converse_answer_to_chat() {
    let body = json!({
        "output": {"message": {"role": "assistant", "content": [
            {"text": "Checking."},
            {"toolUse": {"toolUseId": "tooluse_9", "name": "weather", "input": {"city": "Paris"}}}]}},
        "stopReason": "tool_use",
        "usage": {"inputTokens": 30, "outputTokens": 12, "totalTokens": 42, "cacheReadInputTokens": 8},
        "metrics": {"latencyMs": 321}
    });
    let out: Value = serde_json::from_slice(
        &converse_to_chat_response(
            body.to_string().as_bytes(),
            "aws-bedrock/m",
            "req-1",
            1700000000,
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({"id": "chatcmpl-req-1", "object": "chat.completion", "created": 1700000000, "model": "aws-bedrock/m",
               "choices": [{"index": 0, "logprobs": null, "finish_reason": "tool_calls", "message": {
                   "role": "assistant", "content": "Checking.",
                   "tool_calls": [{"id": "tooluse_9", "type": "function",
                                   "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}]}}],
               "usage": {"prompt_tokens": 38, "completion_tokens": 12, "total_tokens": 50,
                         "prompt_tokens_details": {"cached_tokens": 8}}})
    );
    for (stop, finish) in [
        ("end_turn", "stop"),
        ("max_tokens", "length"),
        ("stop_sequence", "stop"),
        ("guardrail_intervened", "content_filter"),
    ] {
        let b = json!({"output": {"message": {"content": [{"text": "x"}]}}, "stopReason": stop});
        let out: Value = serde_json::from_slice(
            &converse_to_chat_response(b.to_string().as_bytes(), "m", "i", 0).unwrap(),
        )
        .unwrap();
        assert_eq!(out["choices"][0]["finish_reason"], finish);
    }
    assert!(converse_to_chat_response(b"{}", "m", "i", 0).is_err());
}

fn event(kind: &str, payload: Value) -> Vec<u8> {
    encode(
        &[
            (":event-type", kind),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.to_string().as_bytes(),
    )
}

/// A converse-stream answer: text, then a tool call in two fragments.
fn converse_stream() -> Vec<u8> {
    let mut s = event("messageStart", json!({"role": "assistant"}));
    s.extend(event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": "Let me "}}),
    ));
    s.extend(event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 0, "delta": {"text": "check."}}),
    ));
    s.extend(event("contentBlockStop", json!({"contentBlockIndex": 0})));
    s.extend(event("contentBlockStart", json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "tooluse_a", "name": "weather"}}})));
    s.extend(event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"city\":"}}}),
    ));
    s.extend(event(
        "contentBlockDelta",
        json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": "\"Paris\"}"}}}),
    ));
    s.extend(event("contentBlockStop", json!({"contentBlockIndex": 1})));
    s.extend(event("messageStop", json!({"stopReason": "tool_use"})));
    s.extend(event("metadata", json!({"usage": {"inputTokens": 20, "outputTokens": 9, "totalTokens": 29}, "metrics": {"latencyMs": 100}})));
    s
}

fn run(input: &[u8], cuts: &[usize], complete: bool) -> Vec<u8> {
    let mut t = ConverseToChatStream::new("aws-bedrock/m", "req-1", 7, true);
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        t.push(&input[start..cut], &mut out);
        start = cut;
    }
    t.finish(complete, &mut out);
    out
}

fn chunks(out: &[u8]) -> Vec<Value> {
    let mut p = SseParser::new();
    let mut v = Vec::new();
    p.push(out, |e| {
        v.push(serde_json::from_str(&e.data).unwrap_or(Value::String(e.data)))
    });
    v
}

#[test]
fn converse_stream_becomes_openai_chunks_wherever_it_is_split() {
    let s = converse_stream();
    let whole = run(&s, &[], true);
    let got = chunks(&whole);
    let deltas: Vec<Value> = got
        .iter()
        .map(|c| c["choices"][0]["delta"].clone())
        .collect();
    assert_eq!(deltas[0], json!({"role": "assistant", "content": ""}));
    assert_eq!(deltas[1], json!({"content": "Let me "}));
    assert_eq!(deltas[2], json!({"content": "check."}));
    assert_eq!(
        deltas[3],
        json!({"tool_calls": [{"index": 0, "id": "tooluse_a", "type": "function", "function": {"name": "weather", "arguments": ""}}]})
    );
    assert_eq!(
        deltas[4]["tool_calls"][0]["function"]["arguments"],
        "{\"city\":"
    );
    assert_eq!(
        deltas[5]["tool_calls"][0]["function"]["arguments"],
        "\"Paris\"}"
    );
    assert_eq!(got[6]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(got[7]["usage"]["total_tokens"], 29);
    assert_eq!(got[8], Value::String("[DONE]".into()));
    assert_eq!(got[0]["id"], "chatcmpl-req-1");
    for cut in 0..=s.len() {
        assert_eq!(run(&s, &[cut], true), whole, "cut at {cut}");
    }
    let every: Vec<usize> = (1..s.len()).collect();
    assert_eq!(run(&s, &every, true), whole);
}

#[test]
fn a_bad_crc_or_an_exception_ends_the_stream_with_an_error() {
    let mut s = converse_stream();
    let first = event("messageStart", json!({"role": "assistant"})).len();
    s[first + 30] ^= 0x01;
    let got = chunks(&run(&s, &[], true));
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[1]["error"]["message"].as_str().unwrap().contains("CRC"));
    // Nothing after the bad frame, not even [DONE].
    assert!(got.iter().all(|c| c != "[DONE]"));
    let mut s = event("messageStart", json!({"role": "assistant"}));
    s.extend(encode(
        &[
            (":message-type", "exception"),
            (":exception-type", "throttlingException"),
            (":content-type", "application/json"),
        ],
        br#"{"message":"Too many requests"}"#,
    ));
    let got = chunks(&run(&s, &[], true));
    assert_eq!(
        got[1]["error"],
        json!({"message": "Too many requests", "type": "rate_limit_error", "code": null})
    );
    // Cut before messageStop.
    let s = converse_stream();
    let got = chunks(&run(&s[..s.len() / 2], &[], false));
    assert!(got.last().unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cut off"));
}
