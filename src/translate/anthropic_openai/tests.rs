//! Request and response mappings of the Anthropic ⇄ OpenAI pair, against
//! examples shaped like what the SDKs and Claude Code send.

use super::request::{self, ChatOptions, Translated};
use super::response::*;
use serde_json::{json, Value};

fn messages_to_chat(v: &Value, max_completion_tokens: bool) -> Result<Translated, String> {
    let opts = ChatOptions {
        max_completion_tokens,
        ..ChatOptions::default()
    };
    request::messages_to_chat(v.to_string().as_bytes(), opts)
}

fn chat_to_messages(v: &Value) -> Result<Translated, String> {
    request::chat_to_messages(v.to_string().as_bytes())
}

fn to_chat(v: Value) -> (Value, Vec<String>) {
    let t = messages_to_chat(&v, false).unwrap();
    (t.body.to_value(), t.dropped)
}

#[test]
fn system_blocks_text_and_sampling_parameters() {
    let (out, dropped) = to_chat(json!({
        "model": "openai/gpt-4.1",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "You are Claude Code."},
                   {"type": "text", "text": "Be terse.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.2, "top_p": 0.9, "top_k": 40,
        "stop_sequences": ["</done>"],
        "metadata": {"user_id": "user-42"},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "stream": true,
    }));
    assert_eq!(
        out,
        json!({
            "messages": [{"role": "system", "content": "You are Claude Code.\nBe terse."},
                         {"role": "user", "content": "hi"}],
            "max_tokens": 1024, "temperature": 0.2, "top_p": 0.9, "stop": ["</done>"],
            "user": "user-42", "stream": true, "stream_options": {"include_usage": true},
        })
    );
    assert_eq!(dropped, ["cache_control", "thinking", "top_k"]);
    let t = messages_to_chat(&json!({"messages": [], "max_tokens": 5}), true).unwrap();
    assert_eq!(t.body.to_value()["max_completion_tokens"], 5);
    assert!(!t.stream);
}

#[test]
fn multi_turn_tool_use_with_images_and_errors() {
    let (out, dropped) = to_chat(json!({
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this picture, and the weather?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0"}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Let me look.", "signature": "sig"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "sunny"}]},
                {"type": "tool_result", "tool_use_id": "toolu_2", "content": "no clock", "is_error": true},
                {"type": "text", "text": "Thanks!"}]},
        ],
        "tools": [
            {"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
            {"name": "get_time", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
        ],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
    }));
    assert_eq!(
        out["messages"],
        json!([
            {"role": "user", "content": [
                {"type": "text", "text": "What is in this picture, and the weather?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}}]},
            {"role": "assistant", "content": "Checking.", "tool_calls": [
                {"id": "toolu_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "toolu_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "toolu_1", "content": "sunny"},
            {"role": "tool", "tool_call_id": "toolu_2", "content": "Error: no clock"},
            {"role": "user", "content": "Thanks!"},
        ])
    );
    assert_eq!(
        out["tools"],
        json!([
            {"type": "function", "function": {"name": "get_weather", "description": "Weather",
             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}},
            {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object"}}},
        ])
    );
    assert_eq!(out["tool_choice"], "required");
    assert_eq!(out["parallel_tool_calls"], false);
    assert_eq!(
        dropped,
        ["thinking", "cache_control", "tools.web_search_20250305"]
    );
}

#[test]
fn tool_choice_forms() {
    let tools = json!([{"name": "f", "input_schema": {"type": "object"}}]);
    for (choice, want) in [
        (json!({"type": "auto"}), json!("auto")),
        (json!({"type": "any"}), json!("required")),
        (json!({"type": "none"}), json!("none")),
        (
            json!({"type": "tool", "name": "f"}),
            json!({"type": "function", "function": {"name": "f"}}),
        ),
    ] {
        let (out, _) = to_chat(json!({"messages": [], "tools": tools, "tool_choice": choice}));
        assert_eq!(out["tool_choice"], want);
        assert!(out.get("parallel_tool_calls").is_none());
    }
}

#[test]
fn only_a_body_that_is_no_request_is_refused() {
    assert!(messages_to_chat(&json!([]), false).is_err());
    assert!(messages_to_chat(&json!({"model": "x"}), false)
        .unwrap_err()
        .contains("messages"));
    assert!(messages_to_chat(&json!({"messages": "hi"}), false)
        .unwrap_err()
        .contains("messages"));
    let err = request::messages_to_chat(b"{\"messages\": [", ChatOptions::default());
    assert!(err.unwrap_err().starts_with("invalid JSON body"));
    // What the real APIs accept is never refused: dropped and named instead.
    let t = chat_to_messages(&json!({"messages": [], "n": 2})).unwrap();
    assert_eq!(t.dropped, ["n"]);
    let (out, dropped) = to_chat(json!({
        "system": 42,
        "messages": [{"role": "critic", "content": "x"}, {"content": "y"},
                     {"role": "user", "content": [{"type": "future_block", "x": 1}, {"type": "text", "text": "ok"}]}],
        "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
        "output_config": {"effort": "high", "task_budget": 5},
        "thinking": {"type": "someday"},
        "service_tier": "auto",
    }));
    assert_eq!(out["messages"], json!([{"role": "user", "content": "ok"}]));
    assert_eq!(
        dropped,
        [
            "system",
            "messages.role.critic",
            "messages.role",
            "future_block",
            "context_management",
            "output_config.effort",
            "output_config.task_budget",
            "service_tier",
            "thinking"
        ]
    );
}

/// Claude Code (2.1.3xx, for a model it does not know) sends its
/// environment as a `system` turn inside `messages`, with adaptive thinking,
/// an effort and context management.
fn claude_code_turn() -> Value {
    json!({
        "model": "openai/gpt-5",
        "max_tokens": 32000,
        "system": [{"type": "text", "text": "You are Claude Code."}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Read the file."}]},
            {"role": "system", "content": "<env>cwd: /work</env>"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "/work/a"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "MAGIC"}]},
        ],
        "thinking": {"type": "adaptive", "display": "omitted"},
        "output_config": {"effort": "high"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "stream": true,
    })
}

#[test]
fn system_turns_stay_in_place_or_merge_first() {
    let req = claude_code_turn();
    let t = request::messages_to_chat(req.to_string().as_bytes(), ChatOptions::default()).unwrap();
    let out = t.body.to_value();
    let roles: Vec<&str> = out["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "system", "assistant", "tool"]);
    assert_eq!(out["messages"][2]["content"], "<env>cwd: /work</env>");
    assert_eq!(out["messages"][4]["content"], "MAGIC");
    // No reasoning_effort where the model takes none: named instead.
    assert!(out.get("reasoning_effort").is_none());
    assert_eq!(
        t.dropped,
        ["context_management", "output_config.effort", "thinking"]
    );

    let opts = ChatOptions {
        system_first: true,
        reasoning_effort: true,
        max_completion_tokens: true,
        thinking_blocks: false,
    };
    let t = request::messages_to_chat(req.to_string().as_bytes(), opts).unwrap();
    let out = t.body.to_value();
    assert_eq!(
        out["messages"][0],
        json!({"role": "system", "content": "You are Claude Code.\n<env>cwd: /work</env>"})
    );
    assert_eq!(out["messages"][1]["role"], "user");
    assert_eq!(out["messages"].as_array().unwrap().len(), 4);
    assert_eq!(out["reasoning_effort"], "high");
    assert_eq!(out["max_completion_tokens"], 32000);
    assert_eq!(t.dropped, ["context_management"]);
}

#[test]
fn thinking_of_every_type_becomes_an_effort() {
    let opts = ChatOptions {
        reasoning_effort: true,
        ..ChatOptions::default()
    };
    for (thinking, config, want) in [
        (
            json!({"type": "enabled", "budget_tokens": 1024}),
            None,
            Some("low"),
        ),
        (
            json!({"type": "enabled", "budget_tokens": 8000}),
            None,
            Some("medium"),
        ),
        (
            json!({"type": "enabled", "budget_tokens": 32000}),
            None,
            Some("high"),
        ),
        (
            json!({"type": "enabled", "budget_tokens": 32000}),
            Some("low"),
            Some("low"),
        ),
        (json!({"type": "adaptive"}), Some("max"), Some("high")),
        (json!({"type": "adaptive"}), None, None),
        (json!({"type": "disabled"}), None, None),
        (Value::Null, Some("medium"), Some("medium")),
    ] {
        let mut req = json!({"messages": [{"role": "user", "content": "hi"}]});
        if !thinking.is_null() {
            req["thinking"] = thinking.clone();
        }
        if let Some(effort) = config {
            req["output_config"] = json!({"effort": effort});
        }
        let t = request::messages_to_chat(req.to_string().as_bytes(), opts).unwrap();
        let out = t.body.to_value();
        assert_eq!(
            out.get("reasoning_effort").and_then(Value::as_str),
            want,
            "{thinking} {config:?}"
        );
        assert!(
            t.dropped.is_empty(),
            "{thinking} {config:?}: {:?}",
            t.dropped
        );
    }
}

#[test]
fn structured_output_becomes_a_response_format() {
    let (out, dropped) = to_chat(json!({
        "messages": [{"role": "user", "content": "hi"}],
        "output_config": {"format": {"type": "json_schema", "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}},
    }));
    assert_eq!(
        out["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "response",
            "schema": {"type": "object", "properties": {"a": {"type": "string"}}}}})
    );
    assert!(dropped.is_empty());
}

#[test]
fn escaped_text_and_inputs_cross_as_raw_bytes() {
    // Escapes, unicode escapes and key order survive byte for byte.
    let body = r#"{"messages":[{"role":"user","content":[{"type":"text","text":"a\"b\\c\u00e9\n"},{"type":"text","text":"two"}]},
        {"role":"assistant","content":[{"type":"text","text":"x"},{"type":"tool_use","id":"t1","name":"f","input":{"z":1,"a":"\u2713"}}]},
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":[{"type":"text","text":"l1"},{"type":"text","text":"l2\t"}]}]}]}"#;
    let t = request::messages_to_chat(body.as_bytes(), ChatOptions::default()).unwrap();
    let bytes = t.body.to_vec();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.contains(r#""content":"a\"b\\c\u00e9\n\ntwo""#),
        "{text}"
    );
    assert!(
        text.contains(r#""arguments":"{\"z\":1,\"a\":\"\\u2713\"}""#),
        "{text}"
    );
    let out: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(out["messages"][0]["content"], "a\"b\\cé\n\ntwo");
    assert_eq!(out["messages"][2]["content"], "Error: l1\nl2\t");
    let call = &out["messages"][1]["tool_calls"][0]["function"];
    let args: Value = serde_json::from_str(call["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(args, json!({"z": 1, "a": "✓"}));
}

#[test]
fn chat_to_messages_inverse_translation() {
    let t = chat_to_messages(&json!({
        "model": "anthropic/claude-sonnet-4",
        "messages": [
            {"role": "system", "content": "Be kind."},
            {"role": "developer", "content": [{"type": "text", "text": "Use tools."}]},
            {"role": "user", "content": [
                {"type": "text", "text": "Look:"},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "a", "arguments": "{\"x\":1}"}},
                {"id": "call_2", "type": "function", "function": {"name": "b", "arguments": "not json"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "one"},
            {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "two"}]},
            {"role": "user", "content": "and?"},
        ],
        "tools": [{"type": "function", "function": {"name": "a", "description": "A", "parameters": {"type": "object"}}},
                  {"type": "function", "function": {"name": "b"}}],
        "tool_choice": {"type": "function", "function": {"name": "a"}},
        "parallel_tool_calls": false,
        "stop": ["x", "y"],
        "max_completion_tokens": 300,
        "temperature": 1.7,
        "user": "u1",
        "stream": true,
        "stream_options": {"include_usage": true},
        "logit_bias": {"1": 2},
    }))
    .unwrap();
    let v = t.body.to_value();
    assert_eq!(v["system"], "Be kind.\n\nUse tools.");
    assert_eq!(
        v["messages"],
        json!([
            {"role": "user", "content": [
                {"type": "text", "text": "Look:"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQ"}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "call_1", "name": "a", "input": {"x": 1}},
                {"type": "tool_use", "id": "call_2", "name": "b", "input": {"_raw_arguments": "not json"}}]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "one"},
                {"type": "tool_result", "tool_use_id": "call_2", "content": "two"},
                {"type": "text", "text": "and?"}]},
        ])
    );
    assert_eq!(
        v["tools"],
        json!([{"name": "a", "description": "A", "input_schema": {"type": "object"}},
               {"name": "b", "input_schema": {"type": "object", "properties": {}}}])
    );
    assert_eq!(
        v["tool_choice"],
        json!({"type": "tool", "name": "a", "disable_parallel_tool_use": true})
    );
    assert_eq!(v["stop_sequences"], json!(["x", "y"]));
    assert_eq!(v["max_tokens"], 300);
    assert_eq!(v["temperature"], 1.0);
    assert_eq!(v["metadata"], json!({"user_id": "u1"}));
    assert_eq!(v["stream"], true);
    assert!(t.include_usage);
    assert_eq!(t.dropped, ["logit_bias"]);
}

#[test]
fn reasoning_effort_becomes_a_thinking_budget() {
    let t =
        chat_to_messages(&json!({"messages": [], "reasoning_effort": "high", "temperature": 0.5}))
            .unwrap();
    assert_eq!(
        t.body.to_value()["thinking"],
        json!({"type": "enabled", "budget_tokens": 16384})
    );
    assert_eq!(t.body.to_value()["max_tokens"], 16384 + 4096);
    assert!(!t.body.contains_key("temperature"));
    assert_eq!(t.dropped, ["temperature"]);
    let t =
        chat_to_messages(&json!({"messages": [], "max_tokens": 50000, "reasoning_effort": "low"}))
            .unwrap();
    assert_eq!(t.body.to_value()["max_tokens"], 50000);
    assert_eq!(t.body.to_value()["thinking"]["budget_tokens"], 1024);
}

#[test]
fn chat_answer_to_message() {
    let body = json!({
        "id": "chatcmpl-abc123", "object": "chat.completion", "created": 1, "model": "gpt-4.1",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "Let me check.",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "broken", "arguments": "{\"city\": \"Par"}}]}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120,
                  "prompt_tokens_details": {"cached_tokens": 60}},
    });
    let out: Value = serde_json::from_slice(
        &chat_to_messages_response(body.to_string().as_bytes(), "openai/gpt-4.1").unwrap(),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({
            "id": "msg_chatcmpl-abc123", "type": "message", "role": "assistant", "model": "openai/gpt-4.1",
            "content": [
                {"type": "text", "text": "Let me check."},
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "call_2", "name": "broken", "input": {"_raw_arguments": "{\"city\": \"Par"}}],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 40, "output_tokens": 20, "cache_read_input_tokens": 60, "cache_creation_input_tokens": 0},
        })
    );
    for (finish, stop) in [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("content_filter", "refusal"),
    ] {
        let b = json!({"choices": [{"finish_reason": finish, "message": {"content": "x"}}]});
        let out: Value = serde_json::from_slice(
            &chat_to_messages_response(b.to_string().as_bytes(), "m").unwrap(),
        )
        .unwrap();
        assert_eq!(out["stop_reason"], stop);
    }
    // A provider that says which stop sequence matched (vLLM).
    let b = json!({"choices": [{"finish_reason": "stop", "stop_reason": "END", "message": {"content": "x"}}]});
    let out: Value =
        serde_json::from_slice(&chat_to_messages_response(b.to_string().as_bytes(), "m").unwrap())
            .unwrap();
    assert_eq!(
        (out["stop_reason"].as_str(), out["stop_sequence"].as_str()),
        (Some("stop_sequence"), Some("END"))
    );
    assert!(chat_to_messages_response(b"{\"choices\":[]}", "m").is_err());
    assert!(chat_to_messages_response(b"<html>", "m").is_err());
}

#[test]
fn message_answer_to_chat() {
    let body = json!({
        "id": "msg_01XYZ", "type": "message", "role": "assistant", "model": "claude-sonnet-4",
        "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "s"},
            {"type": "text", "text": "Sure."},
            {"type": "tool_use", "id": "toolu_9", "name": "f", "input": {"a": [1, 2]}}],
        "stop_reason": "tool_use", "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 90, "cache_creation_input_tokens": 3},
    });
    let out: Value = serde_json::from_slice(
        &messages_to_chat_response(
            body.to_string().as_bytes(),
            "anthropic/claude-sonnet-4",
            1700000000,
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({
            "id": "chatcmpl-msg_01XYZ", "object": "chat.completion", "created": 1700000000,
            "model": "anthropic/claude-sonnet-4",
            "choices": [{"index": 0, "logprobs": null, "finish_reason": "tool_calls", "message": {
                "role": "assistant", "content": "Sure.", "reasoning_content": "hmm",
                "thinking_blocks": [{"type": "thinking", "thinking": "hmm", "signature": "s"}],
                "tool_calls": [{"id": "toolu_9", "type": "function", "function": {"name": "f", "arguments": "{\"a\":[1,2]}"}}]}}],
            "usage": {"prompt_tokens": 103, "completion_tokens": 5, "total_tokens": 108,
                      "prompt_tokens_details": {"cached_tokens": 90}},
        })
    );
}

#[test]
fn errors_in_either_shape() {
    let openai = br#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#;
    let a: Value = serde_json::from_slice(&error_to_anthropic(429, openai)).unwrap();
    assert_eq!(
        a,
        json!({"type": "error", "error": {"type": "rate_limit_error", "message": "Rate limit reached"}})
    );
    for (status, kind) in [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "request_too_large"),
        (500, "api_error"),
        (503, "api_error"),
        (529, "overloaded_error"),
    ] {
        let a: Value =
            serde_json::from_slice(&error_to_anthropic(status, b"upstream said no")).unwrap();
        assert_eq!(a["error"]["type"], kind, "{status}");
        assert_eq!(a["error"]["message"], "upstream said no");
    }
    let anthropic =
        br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
    let o: Value = serde_json::from_slice(&error_to_openai(529, anthropic)).unwrap();
    assert_eq!(o["error"]["message"], "Overloaded");
    assert_eq!(o["error"]["type"], "api_error");
    assert_eq!(o["error"]["code"], "overloaded_error");
    assert_eq!(
        error_message(502, b""),
        "the provider answered with status 502"
    );
}
