//! The stream translators: recorded-shape streams, split at every byte
//! boundary, parallel tool calls, streams cut short.

use super::*;
use crate::translate::sse::SseParser;

fn chunk(delta: Value, finish: Option<&str>) -> String {
    let c = json!({"id": "chatcmpl-7x", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4.1",
                   "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    format!("data: {c}\n\n")
}

/// An OpenAI stream: text, then two tool calls whose arguments arrive in
/// fragments, then the finish reason, the usage chunk and `[DONE]`.
fn openai_stream() -> String {
    let mut s = String::new();
    s += &chunk(json!({"role": "assistant", "content": ""}), None);
    s += &chunk(json!({"content": "Let me "}), None);
    s += &chunk(json!({"content": "check."}), None);
    s += &chunk(
        json!({"tool_calls": [{"index": 0, "id": "call_a", "type": "function", "function": {"name": "weather", "arguments": ""}}]}),
        None,
    );
    s += &chunk(
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}),
        None,
    );
    s += &chunk(
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}),
        None,
    );
    s += &chunk(
        json!({"tool_calls": [{"index": 1, "id": "call_b", "type": "function", "function": {"name": "time", "arguments": "{}"}}]}),
        None,
    );
    s += &chunk(json!({}), Some("tool_calls"));
    s += &format!(
        "data: {}\n\n",
        json!({"id": "chatcmpl-7x", "object": "chat.completion.chunk", "choices": [],
               "usage": {"prompt_tokens": 50, "completion_tokens": 12, "total_tokens": 62,
                         "prompt_tokens_details": {"cached_tokens": 20}}})
    );
    s += "data: [DONE]\n\n";
    s
}

/// Runs `t` over `input` split into pieces at `cuts`, returning the output
/// and the output after each piece.
fn run(
    t: &mut dyn BodyTransform,
    input: &[u8],
    cuts: &[usize],
    complete: bool,
) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::new();
    let mut sizes = Vec::new();
    let mut start = 0;
    for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
        t.push(&input[start..cut], &mut out);
        sizes.push(out.len());
        start = cut;
    }
    t.finish(complete, &mut out);
    (out, sizes)
}

fn events(bytes: &[u8]) -> Vec<(String, Value)> {
    let mut p = SseParser::new();
    let mut out = Vec::new();
    p.push(bytes, |e| out.push(e));
    p.finish(|e| out.push(e));
    out.into_iter()
        .map(|e| {
            let v = serde_json::from_str(&e.data).unwrap_or(Value::String(e.data));
            (e.event, v)
        })
        .collect()
}

#[test]
fn openai_stream_becomes_anthropic_events() {
    let input = openai_stream();
    let (out, _) = run(
        &mut ChatToMessagesStream::new("openai/gpt-4.1"),
        input.as_bytes(),
        &[],
        true,
    );
    let got = events(&out);
    let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    for (name, v) in &got {
        assert_eq!(v["type"], name.as_str(), "data.type names the event");
    }
    assert_eq!(got[0].1["message"]["id"], "msg_chatcmpl-7x");
    assert_eq!(got[0].1["message"]["model"], "openai/gpt-4.1");
    assert_eq!(
        got[1].1["content_block"],
        json!({"type": "text", "text": ""})
    );
    assert_eq!(
        got[2].1["delta"],
        json!({"type": "text_delta", "text": "Let me "})
    );
    assert_eq!(
        got[5].1,
        json!({"type": "content_block_start", "index": 1,
               "content_block": {"type": "tool_use", "id": "call_a", "name": "weather", "input": {}}})
    );
    assert_eq!(
        got[6].1["delta"],
        json!({"type": "input_json_delta", "partial_json": "{\"city\":"})
    );
    assert_eq!(got[7].1["delta"]["partial_json"], "\"Paris\"}");
    assert_eq!(got[9].1["content_block"]["id"], "call_b");
    assert_eq!(got[9].1["index"], 2);
    assert_eq!(got[10].1["delta"]["partial_json"], "{}");
    assert_eq!(
        got[12].1,
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
               "usage": {"input_tokens": 30, "output_tokens": 12, "cache_read_input_tokens": 20, "cache_creation_input_tokens": 0}})
    );
}

#[test]
fn the_translation_does_not_depend_on_chunk_boundaries() {
    let input = openai_stream();
    let bytes = input.as_bytes();
    let (whole, _) = run(&mut ChatToMessagesStream::new("m"), bytes, &[], true);
    for cut in 0..=bytes.len() {
        let (split, _) = run(&mut ChatToMessagesStream::new("m"), bytes, &[cut], true);
        assert_eq!(split, whole, "cut at {cut}");
    }
    let every: Vec<usize> = (1..bytes.len()).collect();
    let (bytewise, _) = run(&mut ChatToMessagesStream::new("m"), bytes, &every, true);
    assert_eq!(bytewise, whole);
    // And the other direction.
    let (out, _) = run(
        &mut MessagesToChatStream::new("m", 7, true),
        anthropic_stream().as_bytes(),
        &[],
        true,
    );
    let a = anthropic_stream();
    for cut in 0..=a.len() {
        let (split, _) = run(
            &mut MessagesToChatStream::new("m", 7, true),
            a.as_bytes(),
            &[cut],
            true,
        );
        assert_eq!(split, out, "cut at {cut}");
    }
}

#[test]
fn each_event_leaves_as_soon_as_it_is_whole() {
    // Feed the stream event by event: every event but the finish chunk
    // (whose message_delta waits for the usage chunk) produces output at once.
    let input = openai_stream();
    let bounds: Vec<usize> = input
        .match_indices("\n\n")
        .map(|(i, _)| i + 2)
        .filter(|&i| i < input.len())
        .collect();
    let (_, sizes) = run(
        &mut ChatToMessagesStream::new("m"),
        input.as_bytes(),
        &bounds,
        true,
    );
    let grew: Vec<bool> = sizes
        .iter()
        .scan(0, |prev, &n| {
            let g = n > *prev;
            *prev = n;
            Some(g)
        })
        .collect();
    // role chunk (message_start), 2 text, 3 tool chunks, tool 2, finish (closes
    // the block), usage (message_delta + stop), [DONE] (nothing left).
    assert_eq!(
        grew,
        [true, true, true, true, true, true, true, true, true, false]
    );
}

#[test]
fn usage_in_the_finish_chunk_ends_the_message_at_once() {
    let mut input = chunk(json!({"content": "hi"}), None);
    input += &format!(
        "data: {}\n\n",
        json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 3, "completion_tokens": 1}})
    );
    let mut t = ChatToMessagesStream::new("m");
    let mut out = Vec::new();
    t.push(input.as_bytes(), &mut out);
    let names: Vec<String> = events(&out).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.last().map(String::as_str), Some("message_stop"));
}

#[test]
fn a_stream_cut_in_the_middle_ends_with_an_error_event() {
    let input = openai_stream();
    let half = input.len() / 2;
    let (out, _) = run(
        &mut ChatToMessagesStream::new("m"),
        &input.as_bytes()[..half],
        &[],
        false,
    );
    let got = events(&out);
    let (name, last) = got.last().unwrap();
    assert_eq!(name, "error");
    assert_eq!(last["error"]["type"], "api_error");
    assert!(got.iter().all(|(n, _)| n != "message_stop"));
    // A stream that ends cleanly without [DONE] still closes the message.
    let without_done = input.replace("data: [DONE]\n\n", "");
    let cut = without_done
        .rfind("data: {\"choices\":[]")
        .unwrap_or(without_done.len());
    let (out, _) = run(
        &mut ChatToMessagesStream::new("m"),
        &without_done.as_bytes()[..cut],
        &[],
        true,
    );
    assert_eq!(events(&out).last().unwrap().0, "message_stop");
    // Nothing at all: an error, not an empty message.
    let (out, _) = run(&mut ChatToMessagesStream::new("m"), b"", &[], true);
    assert_eq!(events(&out)[0].0, "error");
}

#[test]
fn a_mid_stream_error_is_passed_on() {
    let mut input = chunk(json!({"content": "par"}), None);
    input += "data: {\"error\":{\"message\":\"overloaded\",\"code\":529}}\n\n";
    let (out, _) = run(
        &mut ChatToMessagesStream::new("m"),
        input.as_bytes(),
        &[],
        true,
    );
    let got = events(&out);
    assert_eq!(
        got.last().unwrap().1,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "overloaded"}})
    );
    // A code past u16 is no status: not truncated into one (65965 → 429).
    let input = "data: {\"error\":{\"message\":\"odd\",\"code\":65965}}\n\n";
    let (out, _) = run(
        &mut ChatToMessagesStream::new("m"),
        input.as_bytes(),
        &[],
        true,
    );
    assert_eq!(events(&out).last().unwrap().1["error"]["type"], "api_error");
}

fn anthropic_stream() -> String {
    let ev = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
    let mut s = String::new();
    s += &ev(
        "message_start",
        json!({"type": "message_start", "message": {"id": "msg_01A", "type": "message", "role": "assistant",
        "model": "claude-sonnet-4", "content": [], "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 100}}}),
    );
    s += &ev(
        "content_block_start",
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    );
    s += &ev("ping", json!({"type": "ping"}));
    s += &ev(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
    );
    s += &ev(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}),
    );
    s += &ev(
        "content_block_start",
        json!({"type": "content_block_start", "index": 1,
        "content_block": {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {}}}),
    );
    s += &ev(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\"a\":"}}),
    );
    s += &ev(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "1}"}}),
    );
    s += &ev(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 1}),
    );
    s += &ev(
        "content_block_start",
        json!({"type": "content_block_start", "index": 2,
        "content_block": {"type": "tool_use", "id": "toolu_2", "name": "g", "input": {}}}),
    );
    s += &ev(
        "content_block_delta",
        json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{}"}}),
    );
    s += &ev(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 2}),
    );
    s += &ev(
        "message_delta",
        json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 30}}),
    );
    s += &ev("message_stop", json!({"type": "message_stop"}));
    s
}

#[test]
fn anthropic_stream_becomes_openai_chunks() {
    let (out, _) = run(
        &mut MessagesToChatStream::new("anthropic/claude-sonnet-4", 1700000000, true),
        anthropic_stream().as_bytes(),
        &[],
        true,
    );
    let got: Vec<Value> = events(&out).into_iter().map(|(_, v)| v).collect();
    let deltas: Vec<Value> = got
        .iter()
        .map(|c| c["choices"][0]["delta"].clone())
        .collect();
    assert_eq!(got[0]["id"], "chatcmpl-msg_01A");
    assert_eq!(got[0]["object"], "chat.completion.chunk");
    assert_eq!(got[0]["created"], 1700000000);
    assert_eq!(got[0]["model"], "anthropic/claude-sonnet-4");
    assert_eq!(deltas[0], json!({"role": "assistant", "content": ""}));
    assert_eq!(deltas[1], json!({"content": "Hi"}));
    assert_eq!(
        deltas[2],
        json!({"tool_calls": [{"index": 0, "id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": ""}}]})
    );
    assert_eq!(
        deltas[3],
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"a\":"}}]})
    );
    assert_eq!(
        deltas[4],
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]})
    );
    assert_eq!(deltas[5]["tool_calls"][0]["index"], 1);
    assert_eq!(deltas[5]["tool_calls"][0]["id"], "toolu_2");
    assert_eq!(deltas[6]["tool_calls"][0]["function"]["arguments"], "{}");
    assert_eq!(got[7]["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(got[8]["choices"], json!([]));
    assert_eq!(
        got[8]["usage"],
        json!({"prompt_tokens": 125, "completion_tokens": 30, "total_tokens": 155, "prompt_tokens_details": {"cached_tokens": 100}})
    );
    assert_eq!(got[9], Value::String("[DONE]".into()));
    assert_eq!(got.len(), 10);
    // Without include_usage: no usage chunk.
    let (out, _) = run(
        &mut MessagesToChatStream::new("m", 0, false),
        anthropic_stream().as_bytes(),
        &[],
        true,
    );
    assert!(events(&out).iter().all(|(_, v)| v.get("usage").is_none()));
}

#[test]
fn anthropic_errors_and_cuts_become_openai_error_chunks() {
    let a = anthropic_stream();
    let (out, _) = run(
        &mut MessagesToChatStream::new("m", 0, true),
        &a.as_bytes()[..a.len() / 2],
        &[],
        false,
    );
    let last = events(&out).pop().unwrap().1;
    assert_eq!(last["error"]["type"], "api_error");
    let err = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
    let (out, _) = run(
        &mut MessagesToChatStream::new("m", 0, true),
        err.as_bytes(),
        &[],
        true,
    );
    assert_eq!(
        events(&out),
        vec![(
            "".to_string(),
            json!({"error": {"message": "Overloaded", "type": "api_error", "code": null}})
        )]
    );
}
