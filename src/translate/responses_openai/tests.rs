//! The Responses ⇄ chat pair against requests shaped like Codex's and the
//! OpenAI SDK's, and chat answers and streams shaped like the providers'.

use super::request::{responses_to_chat, NO_STATE};
use super::response::chat_to_responses_response;
use super::stream::ChatToResponsesStream;
use super::ToolNames;
use crate::translate::anthropic_openai::request::ChatOptions;
use crate::translate::BodyTransform;
use serde_json::{json, Value};

fn codex_turn() -> Value {
    json!({
        "model": "groq/openai/gpt-oss-120b",
        "instructions": "You are Codex.",
        "input": [
            {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "<permissions>none</permissions>"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Print secret.txt"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAA"},
            {"type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
             "content": [{"type": "output_text", "text": "Reading it.", "annotations": []}]},
            {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "shell",
             "arguments": "{\"command\":[\"cat\",\"secret.txt\"]}", "status": "completed"},
            {"type": "function_call_output", "call_id": "call_1", "output": "MAGIC-1"},
            {"type": "custom_tool_call", "call_id": "call_2", "name": "apply_patch", "input": "*** Begin Patch"},
            {"type": "custom_tool_call_output", "call_id": "call_2", "output": [{"type": "input_text", "text": "Done"}]},
            {"role": "user", "content": "Thanks"},
        ],
        "tools": [
            {"type": "function", "name": "shell", "description": "Runs a command",
             "parameters": {"type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}}},
             "strict": false},
            {"type": "custom", "name": "apply_patch", "description": "Patch files", "format": {"type": "grammar", "syntax": "lark", "definition": "start: x"}},
            {"type": "namespace", "name": "mcp.fs", "tools": [{"type": "function", "name": "read", "parameters": {"type": "object"}}]},
            {"type": "web_search"},
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": false,
        "reasoning": {"effort": "high", "summary": "auto"},
        "store": false,
        "stream": true,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": "abc",
        "text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": true}, "verbosity": "low"},
        "max_output_tokens": 1000,
    })
}

fn opts(reasoning: bool) -> ChatOptions {
    ChatOptions {
        reasoning_effort: reasoning,
        ..ChatOptions::default()
    }
}

#[test]
fn a_codex_turn_becomes_a_chat_request() {
    let r = responses_to_chat(codex_turn().to_string().as_bytes(), opts(true)).unwrap();
    let out = r.chat.body.to_value();
    assert_eq!(
        out["messages"],
        json!([
            {"role": "system", "content": "You are Codex."},
            {"role": "system", "content": "<permissions>none</permissions>"},
            {"role": "user", "content": "Print secret.txt"},
            {"role": "assistant", "content": "Reading it.", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "shell", "arguments": "{\"command\":[\"cat\",\"secret.txt\"]}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "MAGIC-1"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_2", "type": "function", "function": {"name": "apply_patch", "arguments": "{\"input\":\"*** Begin Patch\"}"}}]},
            {"role": "tool", "tool_call_id": "call_2", "content": "Done"},
            {"role": "user", "content": "Thanks"},
        ])
    );
    let names: Vec<&str> = out["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["function"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["shell", "apply_patch", "mcp_fs__read"]);
    assert_eq!(
        out["tools"][1]["function"]["parameters"]["properties"]["input"]["type"],
        "string"
    );
    assert_eq!(out["tool_choice"], "auto");
    assert_eq!(out["parallel_tool_calls"], false);
    assert_eq!(out["reasoning_effort"], "high");
    assert_eq!(out["max_tokens"], 1000);
    assert_eq!(out["stream"], true);
    assert_eq!(out["stream_options"], json!({"include_usage": true}));
    assert_eq!(
        out["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "out", "schema": {"type": "object"}, "strict": true}})
    );
    assert_eq!(
        r.chat.dropped,
        [
            "tools.custom.format",
            "tools.web_search",
            "input.reasoning",
            "include",
            "prompt_cache_key",
            "reasoning.summary",
            "text.verbosity"
        ]
    );
    // Calls map back to the client's names and kinds.
    assert!(r.tools.back("apply_patch").unwrap().custom);
    let ns = r.tools.back("mcp_fs__read").unwrap();
    assert_eq!(
        (ns.name.as_str(), ns.namespace.as_deref()),
        ("read", Some("mcp.fs"))
    );
    // Without reasoning on the model, the effort is named instead.
    let r = responses_to_chat(codex_turn().to_string().as_bytes(), opts(false)).unwrap();
    assert!(r.chat.body.value("reasoning_effort").is_none());
    assert!(r.chat.dropped.contains(&"reasoning.effort".to_string()));
}

#[test]
fn a_string_input_and_conversation_state() {
    let r = responses_to_chat(br#"{"model":"m","input":"Hi \"there\""}"#, opts(false)).unwrap();
    assert_eq!(
        r.chat.body.to_value()["messages"],
        json!([{"role": "user", "content": "Hi \"there\""}])
    );
    for body in [
        r#"{"model":"m","input":"x","previous_response_id":"resp_1"}"#,
        r#"{"model":"m","input":"x","store":true}"#,
        r#"{"model":"m","input":"x","conversation":"conv_1"}"#,
    ] {
        assert_eq!(
            responses_to_chat(body.as_bytes(), opts(false)).unwrap_err(),
            NO_STATE
        );
    }
    assert!(responses_to_chat(br#"{"model":"m"}"#, opts(false))
        .unwrap_err()
        .contains("input"));
    assert!(responses_to_chat(b"[1]", opts(false)).is_err());
    assert!(responses_to_chat(b"{", opts(false))
        .unwrap_err()
        .starts_with("invalid JSON"));
    // An image part stays a part.
    let r = responses_to_chat(
        br#"{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"What?"},{"type":"input_image","image_url":"data:image/png;base64,AAA","detail":"low"}]}]}"#,
        opts(false),
    )
    .unwrap();
    assert_eq!(
        r.chat.body.to_value()["messages"][0]["content"],
        json!([{"type": "text", "text": "What?"},
               {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAA", "detail": "low"}}])
    );
}

fn tools() -> ToolNames {
    let mut t = ToolNames::default();
    t.function("shell", None);
    t.custom("apply_patch");
    t.function("read", Some("mcp.fs"));
    t
}

#[test]
fn a_whole_answer_becomes_a_response() {
    let body = json!({"id": "chatcmpl-9", "object": "chat.completion", "created": 1, "model": "x",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant",
            "content": "Let me look.", "reasoning_content": "Thinking.",
            "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "shell", "arguments": "{\"command\":[\"ls\"]}"}},
                {"id": "call_b", "type": "function", "function": {"name": "apply_patch", "arguments": "{\"input\":\"*** Begin\"}"}},
                {"id": "call_c", "type": "function", "function": {"name": "mcp_fs__read", "arguments": "{}"}}]}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15,
                  "prompt_tokens_details": {"cached_tokens": 4}, "completion_tokens_details": {"reasoning_tokens": 2}}});
    let out: Value = serde_json::from_slice(
        &chat_to_responses_response(body.to_string().as_bytes(), "groq/m", &tools(), 7).unwrap(),
    )
    .unwrap();
    assert_eq!(out["object"], "response");
    assert_eq!(out["id"], "resp_9");
    assert_eq!(out["status"], "completed");
    assert_eq!(out["model"], "groq/m");
    assert_eq!(out["created_at"], 7);
    let kinds: Vec<&str> = out["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "reasoning",
            "message",
            "function_call",
            "custom_tool_call",
            "function_call"
        ]
    );
    assert_eq!(out["output"][1]["content"][0]["text"], "Let me look.");
    assert_eq!(out["output"][2]["call_id"], "call_a");
    assert_eq!(out["output"][2]["arguments"], "{\"command\":[\"ls\"]}");
    assert_eq!(out["output"][3]["input"], "*** Begin");
    assert_eq!(out["output"][4]["name"], "read");
    assert_eq!(out["output"][4]["namespace"], "mcp.fs");
    assert_eq!(
        out["usage"],
        json!({"input_tokens": 10, "input_tokens_details": {"cached_tokens": 4},
               "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 2}, "total_tokens": 15})
    );
    let cut = json!({"id": "c", "choices": [{"index": 0, "finish_reason": "length",
        "message": {"role": "assistant", "content": "par"}}]});
    let out: Value = serde_json::from_slice(
        &chat_to_responses_response(cut.to_string().as_bytes(), "m", &tools(), 0).unwrap(),
    )
    .unwrap();
    assert_eq!(out["status"], "incomplete");
    assert_eq!(out["incomplete_details"]["reason"], "max_output_tokens");
    assert!(chat_to_responses_response(b"{}", "m", &tools(), 0).is_err());
}

const STREAM: &str = concat!(
    "data: {\"id\":\"chatcmpl-s\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
    "data: {\"id\":\"chatcmpl-s\",\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Hm.\"}}]}\n\n",
    "data: {\"id\":\"chatcmpl-s\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n",
    "data: {\"id\":\"chatcmpl-s\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo \\u00e9\"}}]}\n\n",
    "data: {\"id\":\"chatcmpl-s\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"shell\",\"arguments\":\"\"}}]}}]}\n\n",
    "data: {\"id\":\"chatcmpl-s\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"command\\\":\"}}]}}]}\n\n",
    "data: {\"id\":\"chatcmpl-s\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"[\\\"ls\\\"]}\"}}]}}]}\n\n",
    "data: {\"id\":\"chatcmpl-s\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":\"apply_patch\",\"arguments\":\"{\\\"input\\\":\\\"*** Begin\\\"}\"}}]}}]}\n\n",
    "data: {\"id\":\"chatcmpl-s\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
    "data: {\"id\":\"chatcmpl-s\",\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":3,\"total_tokens\":12}}\n\n",
    "data: [DONE]\n\n",
);

fn events(out: &[u8]) -> Vec<(String, Value)> {
    let mut parser = crate::translate::sse::SseParser::new();
    let mut events = Vec::new();
    parser.push(out, |e| {
        events.push((e.event.clone(), serde_json::from_str(&e.data).unwrap()))
    });
    events
}

fn run(chunks: &[&[u8]], complete: bool) -> Vec<u8> {
    let mut t = ChatToResponsesStream::new("groq/m", tools(), 5);
    let mut out = Vec::new();
    for c in chunks {
        t.push(c, &mut out);
    }
    t.finish(complete, &mut out);
    out
}

#[test]
fn a_stream_becomes_responses_events_wherever_it_is_split() {
    let whole = run(&[STREAM.as_bytes()], true);
    let ev = events(&whole);
    let names: Vec<&str> = ev.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.reasoning_summary_part.added",
            "response.reasoning_summary_text.delta",
            "response.reasoning_summary_text.done",
            "response.reasoning_summary_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.custom_tool_call_input.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    for (i, (name, data)) in ev.iter().enumerate() {
        assert_eq!(data["type"], name.as_str());
        assert_eq!(data["sequence_number"], i);
    }
    let done = &ev.last().unwrap().1["response"];
    assert_eq!(done["status"], "completed");
    assert_eq!(done["output"][1]["content"][0]["text"], "Hello é");
    assert_eq!(done["output"][2]["arguments"], "{\"command\":[\"ls\"]}");
    assert_eq!(done["output"][3]["type"], "custom_tool_call");
    assert_eq!(done["output"][3]["input"], "*** Begin");
    assert_eq!(done["usage"]["input_tokens"], 9);
    assert_eq!(ev[12].1["text"], "Hello é");
    // Every split of the bytes gives the same events.
    let bytes = STREAM.as_bytes();
    for at in 1..bytes.len() {
        assert_eq!(
            run(&[&bytes[..at], &bytes[at..]], true),
            whole,
            "split at {at}"
        );
    }
}

#[test]
fn every_stream_ends_with_its_terminal_event() {
    // Cut off mid-answer: failed, with what came so far.
    let cut = &STREAM[..STREAM.find("lo \\u00e9").unwrap()];
    let ev = events(&run(&[cut.as_bytes()], false));
    let (name, last) = ev.last().unwrap();
    assert_eq!(name, "response.failed");
    assert_eq!(last["response"]["status"], "failed");
    assert!(last["response"]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("cut off"));
    // Closed without [DONE] or usage: completed all the same.
    let no_done = &STREAM[..STREAM
        .find("data: {\"id\":\"chatcmpl-s\",\"choices\":[],")
        .unwrap()];
    let ev = events(&run(&[no_done.as_bytes()], true));
    assert_eq!(ev.last().unwrap().0, "response.completed");
    // Nothing at all: failed.
    let ev = events(&run(&[b""], true));
    assert_eq!(ev.last().unwrap().0, "response.failed");
    // A length stop: incomplete.
    let length = STREAM.replace("\"tool_calls\"}", "\"length\"}");
    let ev = events(&run(&[length.as_bytes()], true));
    assert_eq!(ev.last().unwrap().0, "response.incomplete");
    // A mid-stream error: failed, with the provider's message.
    let err = "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"error\":{\"message\":\"overloaded\"}}\n\n";
    let ev = events(&run(&[err.as_bytes()], true));
    assert_eq!(ev.last().unwrap().0, "response.failed");
    assert_eq!(
        ev.last().unwrap().1["response"]["error"]["message"],
        "overloaded"
    );
}

#[test]
fn system_first_providers_get_one_leading_system_message() {
    let body = json!({"model": "m", "instructions": "A.", "input": [
        {"role": "developer", "content": "B."},
        {"role": "user", "content": "hi"},
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "C."}]},
        {"role": "user", "content": "again"}]});
    let opts = ChatOptions {
        system_first: true,
        ..ChatOptions::default()
    };
    let r = responses_to_chat(body.to_string().as_bytes(), opts).unwrap();
    assert_eq!(
        r.chat.body.to_value()["messages"],
        json!([{"role": "system", "content": "A.\nB.\nC."},
               {"role": "user", "content": "hi"}, {"role": "user", "content": "again"}])
    );
    // Elsewhere each stays at its place.
    let r = responses_to_chat(body.to_string().as_bytes(), ChatOptions::default()).unwrap();
    let roles: Vec<Value> = r.chat.body.to_value()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].clone())
        .collect();
    assert_eq!(roles, ["system", "system", "user", "system", "user"]);
}
