//! The Gemini ⇄ chat pair against requests shaped like Gemini CLI's, and
//! chat answers and streams shaped like the providers'.

use super::request::{gemini_to_chat, schema_to_json_schema, ChatOptions};
use super::response::{chat_to_gemini_response, error_to_gemini};
use super::stream::ChatToGeminiStream;
use crate::errors::Dialect;
use crate::translate::BodyTransform;
use serde_json::{json, Value};

/// A Gemini CLI turn: system instruction, a tool call and its answer (no
/// ids, as Gemini gives none), a thought, tools with OpenAPI-subset schemas.
fn cli_turn() -> Value {
    json!({
        "contents": [
            {"role": "user", "parts": [{"text": "This is the Gemini CLI."}, {"text": "List the files"}]},
            {"role": "model", "parts": [
                {"text": "Let me think", "thought": true},
                {"text": "Listing."},
                {"functionCall": {"name": "list_directory", "args": {"path": "/w"}}, "thoughtSignature": "c2ln"},
                {"functionCall": {"name": "read_file", "args": {"absolute_path": "/w/a"}}},
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "list_directory", "response": {"output": "a\nb"}}},
                {"functionResponse": {"name": "read_file", "response": {"error": "denied"}}},
            ]},
            {"role": "model", "parts": [{"functionCall": {"id": "g-7", "name": "read_file", "args": {"absolute_path": "/w/b"}}}]},
            {"role": "user", "parts": [{"functionResponse": {"id": "g-7", "name": "read_file", "response": {"output": "B"}}}]},
            {"role": "user", "parts": [
                {"text": "And this picture?"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBO"}},
                {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://x/y.jpg"}},
            ]},
        ],
        "systemInstruction": {"role": "user", "parts": [{"text": "You are an agent."}, {"text": "Be brief."}]},
        "tools": [
            {"functionDeclarations": [
                {"name": "list_directory", "description": "Lists a directory",
                 "parameters": {"type": "OBJECT", "properties": {
                     "path": {"type": "STRING", "description": "Where"},
                     "ignore": {"type": "ARRAY", "items": {"type": "STRING"}, "nullable": true},
                 }, "required": ["path"]}},
                {"name": "read_file",
                 "parametersJsonSchema": {"type": "object", "properties": {"absolute_path": {"type": "string"}}}},
            ]},
            {"googleSearch": {}},
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["read_file"]}},
        "generationConfig": {
            "temperature": 0, "topP": 1, "topK": 64, "maxOutputTokens": 8192,
            "stopSequences": ["END"], "candidateCount": 1,
            "thinkingConfig": {"includeThoughts": true, "thinkingBudget": 8192},
        },
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        "cachedContent": "cachedContents/1",
    })
}

/// A provider that takes `reasoning_effort` and `max_tokens`.
const REASONING: ChatOptions = ChatOptions {
    max_completion_tokens: false,
    reasoning_effort: true,
    system_first: false,
    thinking_blocks: false,
};

#[test]
fn openai_gets_max_completion_tokens_and_thinking_only_where_it_is_taken() {
    let opts = ChatOptions {
        max_completion_tokens: true,
        reasoning_effort: false,
        ..REASONING
    };
    let t = gemini_to_chat(
        cli_turn().to_string().as_bytes(),
        "openai/gpt-4o",
        false,
        opts,
    )
    .unwrap();
    let out = t.body.to_value();
    assert_eq!(out["max_completion_tokens"], 8192);
    assert_eq!(out.get("max_tokens"), None);
    assert_eq!(out.get("reasoning_effort"), None);
    assert!(t
        .dropped
        .contains(&"generationConfig.thinkingConfig".to_string()));
}

fn translate(v: &Value, stream: bool) -> (Value, Vec<String>) {
    let t = gemini_to_chat(v.to_string().as_bytes(), "groq/llama", stream, REASONING).unwrap();
    assert_eq!((t.stream, t.include_usage), (stream, stream));
    (t.body.to_value(), t.dropped)
}

#[test]
fn a_gemini_cli_turn_becomes_a_chat_request() {
    let (out, dropped) = translate(&cli_turn(), false);
    assert_eq!(
        out,
        json!({
            "model": "groq/llama",
            "messages": [
                {"role": "system", "content": "You are an agent.\nBe brief."},
                {"role": "user", "content": "This is the Gemini CLI.\nList the files"},
                {"role": "assistant", "content": "Listing.", "tool_calls": [
                    {"id": "call_0", "type": "function", "function": {"name": "list_directory", "arguments": "{\"path\":\"/w\"}"}},
                    {"id": "call_1", "type": "function", "function": {"name": "read_file", "arguments": "{\"absolute_path\":\"/w/a\"}"}},
                ]},
                {"role": "tool", "tool_call_id": "call_0", "content": "a\nb"},
                {"role": "tool", "tool_call_id": "call_1", "content": "{\"error\":\"denied\"}"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "g-7", "type": "function", "function": {"name": "read_file", "arguments": "{\"absolute_path\":\"/w/b\"}"}},
                ]},
                {"role": "tool", "tool_call_id": "g-7", "content": "B"},
                {"role": "user", "content": [
                    {"type": "text", "text": "And this picture?"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
                    {"type": "image_url", "image_url": {"url": "https://x/y.jpg"}},
                ]},
            ],
            "tools": [
                {"type": "function", "function": {"name": "list_directory", "description": "Lists a directory",
                 "parameters": {"type": "object", "properties": {
                     "path": {"type": "string", "description": "Where"},
                     "ignore": {"type": ["array", "null"], "items": {"type": "string"}},
                 }, "required": ["path"]}}},
                {"type": "function", "function": {"name": "read_file",
                 "parameters": {"type": "object", "properties": {"absolute_path": {"type": "string"}}}}},
            ],
            "tool_choice": {"type": "function", "function": {"name": "read_file"}},
            "temperature": 0, "top_p": 1, "max_tokens": 8192, "stop": ["END"],
            "reasoning_effort": "medium",
        })
    );
    assert_eq!(
        dropped,
        [
            "contents.parts.thought",
            "contents.parts.thoughtSignature",
            "tools.googleSearch",
            "cachedContent",
            "generationConfig.topK",
            "safetySettings",
        ]
    );
}

#[test]
fn streaming_asks_for_usage() {
    let (out, _) = translate(&json!({"contents": [{"parts": [{"text": "hi"}]}]}), true);
    assert_eq!(out["stream"], true);
    assert_eq!(out["stream_options"], json!({"include_usage": true}));
    assert_eq!(out["messages"], json!([{"role": "user", "content": "hi"}]));
}

#[test]
fn tool_choice_thinking_and_formats() {
    let tools = json!([{"functionDeclarations": [{"name": "f"}, {"name": "g"}]}]);
    let with = |config: Value, generation: Value| {
        let req = json!({"contents": [], "tools": tools, "toolConfig": {"functionCallingConfig": config},
                         "generationConfig": generation});
        translate(&req, false).0
    };
    let out = with(
        json!({"mode": "ANY", "allowedFunctionNames": ["f", "g"]}),
        json!({}),
    );
    assert_eq!(out["tool_choice"], "required");
    assert_eq!(
        out["tools"][0]["function"]["parameters"],
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(
        with(json!({"mode": "NONE"}), json!({}))["tool_choice"],
        "none"
    );
    assert_eq!(
        with(json!({"mode": "AUTO"}), json!({}))["tool_choice"],
        "auto"
    );

    for (thinking, effort) in [
        (json!({"thinkingBudget": 0}), Value::Null),
        (json!({"thinkingBudget": -1}), Value::Null),
        (json!({"thinkingBudget": 1024}), json!("low")),
        (json!({"thinkingBudget": 24576}), json!("high")),
        (json!({"thinkingLevel": "HIGH"}), json!("high")),
        (json!({"thinkingLevel": "low"}), json!("low")),
    ] {
        let out = with(json!({}), json!({"thinkingConfig": thinking}));
        assert_eq!(out["reasoning_effort"], effort, "{thinking}");
    }

    let out = with(
        json!({}),
        json!({"responseMimeType": "application/json",
               "responseSchema": {"type": "OBJECT", "properties": {"n": {"type": "INTEGER"}}}}),
    );
    assert_eq!(
        out["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "response",
               "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}})
    );
    let out = with(
        json!({}),
        json!({"responseMimeType": "application/json", "responseJsonSchema": {"type": "array"}}),
    );
    assert_eq!(
        out["response_format"]["json_schema"]["schema"],
        json!({"type": "array"})
    );
    let out = with(json!({}), json!({"responseMimeType": "application/json"}));
    assert_eq!(out["response_format"], json!({"type": "json_object"}));
}

#[test]
fn schemas_lose_their_openapi_accent() {
    let s = json!({"type": "OBJECT", "properties": {
        "u": {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}], "nullable": true},
        "m": {"type": "OBJECT", "additionalProperties": {"type": "BOOLEAN"}},
        "type": {"type": "STRING", "enum": ["A"]},
    }});
    assert_eq!(
        schema_to_json_schema(&s),
        json!({"type": "object", "properties": {
            "u": {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}]},
            "m": {"type": "object", "additionalProperties": {"type": "boolean"}},
            "type": {"type": "string", "enum": ["A"]},
        }})
    );
}

#[test]
fn bad_requests() {
    for (body, needle) in [
        (b"{".to_vec(), "invalid JSON"),
        (b"[]".to_vec(), "JSON object"),
        (br#"{"contents": {}}"#.to_vec(), "contents"),
        (
            br#"{"contents": [], "generationConfig": {"candidateCount": 2}}"#.to_vec(),
            "candidateCount",
        ),
    ] {
        let e = gemini_to_chat(&body, "m", false, REASONING).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains(needle), "{}", e.message);
    }
    let e = gemini_to_chat(b"{", "m", false, REASONING).unwrap_err();
    let v: Value = serde_json::from_slice(&e.into_reply_for(Dialect::Gemini).body).unwrap();
    assert_eq!(v["error"]["code"], 400);
    assert_eq!(v["error"]["status"], "INVALID_ARGUMENT");
}

#[test]
fn an_answer_with_text_and_tool_calls() {
    let answer = json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "llama",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "Reading.",
            "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "read_file", "arguments": "{\"absolute_path\":\"/a\"}"}},
                {"id": "call_b", "type": "function", "function": {"name": "ls", "arguments": "{not json"}},
            ]}}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 7, "total_tokens": 17,
                  "prompt_tokens_details": {"cached_tokens": 4},
                  "completion_tokens_details": {"reasoning_tokens": 3}},
    });
    let out: Value = serde_json::from_slice(
        &chat_to_gemini_response(answer.to_string().as_bytes(), "gemini-2.5-pro").unwrap(),
    )
    .unwrap();
    assert_eq!(
        out,
        json!({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": "Reading."},
                {"functionCall": {"id": "call_a", "name": "read_file", "args": {"absolute_path": "/a"}}},
                {"functionCall": {"id": "call_b", "name": "ls", "args": {}}},
            ]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 4, "totalTokenCount": 17,
                              "cachedContentTokenCount": 4, "thoughtsTokenCount": 3},
            "modelVersion": "gemini-2.5-pro",
            "responseId": "chatcmpl-1",
        })
    );
    let cut = json!({"choices": [{"finish_reason": "length", "message": {"content": "abc"}}],
                     "usage": {"prompt_tokens": 1, "completion_tokens": 2}});
    let out: Value =
        serde_json::from_slice(&chat_to_gemini_response(cut.to_string().as_bytes(), "m").unwrap())
            .unwrap();
    assert_eq!(out["candidates"][0]["finishReason"], "MAX_TOKENS");
    assert_eq!(
        out["usageMetadata"],
        json!({"promptTokenCount": 1, "candidatesTokenCount": 2, "totalTokenCount": 3})
    );
    assert!(chat_to_gemini_response(b"{}", "m").is_err());
}

#[test]
fn errors_in_googles_shape() {
    for (status, name) in [
        (400, "INVALID_ARGUMENT"),
        (401, "UNAUTHENTICATED"),
        (403, "PERMISSION_DENIED"),
        (404, "NOT_FOUND"),
        (429, "RESOURCE_EXHAUSTED"),
        (500, "INTERNAL"),
        (503, "UNAVAILABLE"),
    ] {
        let body = json!({"error": {"message": "nope", "type": "x"}}).to_string();
        let v: Value = serde_json::from_slice(&error_to_gemini(status, body.as_bytes())).unwrap();
        assert_eq!(
            v,
            json!({"error": {"code": status, "message": "nope", "status": name}})
        );
    }
    let v: Value = serde_json::from_slice(&error_to_gemini(502, b"bad gateway")).unwrap();
    assert_eq!(v["error"]["message"], "bad gateway");
    assert_eq!(v["error"]["status"], "INTERNAL");
}

const STREAM: &str = concat!(
    "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
    "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n",
    "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo \\u00e9\"}}]}\n\n",
    "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"read_file\",\"arguments\":\"\"}}]}}]}\n\n",
    "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"absolute_\"}}]}}]}\n\n",
    "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"path\\\":\\\"/a\\\"}\"}}]}}]}\n\n",
    "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_2\",\"function\":{\"name\":\"ls\",\"arguments\":\"{}\"}}]}}]}\n\n",
    "data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
    "data: {\"id\":\"chatcmpl-9\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6,\"total_tokens\":11}}\n\n",
    "data: [DONE]\n\n",
);

fn run(chunks: &[&[u8]], complete: bool) -> Vec<u8> {
    let mut t = ChatToGeminiStream::new("gemini-2.5-flash");
    let mut out = Vec::new();
    for c in chunks {
        t.push(c, &mut out);
    }
    t.finish(complete, &mut out);
    out
}

/// The events' JSON, checking each is framed as `alt=sse` frames them.
fn events(bytes: &[u8]) -> Vec<Value> {
    let text = std::str::from_utf8(bytes).unwrap();
    assert!(text.ends_with("\r\n\r\n"), "{text}");
    text.split_terminator("\r\n\r\n")
        .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap())
        .collect()
}

#[test]
fn a_stream_becomes_gemini_events_wherever_it_is_split() {
    let whole = run(&[STREAM.as_bytes()], true);
    let ev = events(&whole);
    let part = |text: &str| {
        json!({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}],
               "modelVersion": "gemini-2.5-flash", "responseId": "chatcmpl-9"})
    };
    assert_eq!(
        ev,
        [
            part("Hel"),
            part("lo é"),
            json!({"candidates": [{"content": {"role": "model", "parts": [
                       {"functionCall": {"id": "call_1", "name": "read_file", "args": {"absolute_path": "/a"}}},
                       {"functionCall": {"id": "call_2", "name": "ls", "args": {}}},
                   ]}, "finishReason": "STOP", "index": 0}],
                   "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 6, "totalTokenCount": 11},
                   "modelVersion": "gemini-2.5-flash", "responseId": "chatcmpl-9"}),
        ]
    );
    // Every split of the bytes gives the same events.
    let bytes = STREAM.as_bytes();
    for at in 1..bytes.len() {
        assert_eq!(
            run(&[&bytes[..at], &bytes[at..]], true),
            whole,
            "split at {at}"
        );
    }
    // And byte by byte.
    let singles: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(run(&singles, true), whole);
}

#[test]
fn every_stream_ends_with_a_finish_reason() {
    let last = |bytes: Vec<u8>| events(&bytes).pop().unwrap();
    // Cut off mid-answer: OTHER, why, no half tool call.
    let cut = &STREAM[..STREAM.find("path\\\"").unwrap()];
    let ev = events(&run(&[cut.as_bytes()], false));
    assert_eq!(ev.len(), 3);
    let end = &ev[2];
    assert_eq!(end["candidates"][0]["finishReason"], "OTHER");
    assert_eq!(
        end["candidates"][0]["content"]["parts"],
        json!([{"text": ""}])
    );
    assert!(end["candidates"][0]["finishMessage"]
        .as_str()
        .unwrap()
        .contains("cut off"));
    assert_eq!(end["usageMetadata"]["totalTokenCount"], 0);

    // Ended without [DONE] or usage, after the finish: a whole answer.
    let no_done = &STREAM[..STREAM
        .find("data: {\"id\":\"chatcmpl-9\",\"choices\":[],")
        .unwrap()];
    let end = last(run(&[no_done.as_bytes()], true));
    assert_eq!(end["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        end["candidates"][0]["content"]["parts"][0]["functionCall"]["name"],
        "read_file"
    );
    assert!(end.get("usageMetadata").is_some());

    // Closed after some text, no finish_reason: ends as a whole answer.
    let text_only = &STREAM[..STREAM
        .find("data: {\"id\":\"chatcmpl-9\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\"")
        .unwrap()];
    let end = last(run(&[text_only.as_bytes()], true));
    assert_eq!(end["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        end["candidates"][0]["content"]["parts"],
        json!([{"text": ""}])
    );

    // Nothing at all, and an error mid-stream.
    let end = last(run(&[], true));
    assert_eq!(end["candidates"][0]["finishReason"], "OTHER");
    assert!(end.get("usageMetadata").is_some());
    let failed = format!(
        "{}data: {{\"error\":{{\"message\":\"overloaded\"}}}}\n\n",
        &STREAM[..STREAM
            .find("data: {\"id\":\"chatcmpl-9\",\"choices\":[],")
            .unwrap()]
    );
    let end = last(run(&[failed.as_bytes()], true));
    assert_eq!(end["candidates"][0]["finishReason"], "OTHER");
    assert_eq!(end["candidates"][0]["finishMessage"], "overloaded");

    // Length → MAX_TOKENS, no tool calls.
    let length = concat!(
        "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"ab\"},\"finish_reason\":\"length\"}],",
        "\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n\n",
    );
    let ev = events(&run(&[length.as_bytes()], true));
    assert_eq!(ev.len(), 2);
    assert_eq!(ev[1]["candidates"][0]["finishReason"], "MAX_TOKENS");
}

#[test]
fn the_providers_reasoning_becomes_thought_parts() {
    let chunk = |delta: Value, finish: Value| {
        let c =
            json!({"id": "c", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        format!("data: {c}\n\n")
    };
    let stream = [
        chunk(
            json!({"role": "assistant", "reasoning_content": "Let me think."}),
            Value::Null,
        ),
        chunk(json!({"content": "42"}), json!("stop")),
        "data: [DONE]\n\n".to_string(),
    ]
    .concat();
    let evs = events(&run(&[stream.as_bytes()], true));
    assert_eq!(
        evs[0]["candidates"][0]["content"]["parts"],
        json!([{"text": "Let me think.", "thought": true}])
    );
    assert_eq!(evs[1]["candidates"][0]["content"]["parts"][0]["text"], "42");
    assert_eq!(evs.last().unwrap()["candidates"][0]["finishReason"], "STOP");
    let answer = json!({"id": "c", "choices": [{"index": 0, "finish_reason": "stop",
        "message": {"role": "assistant", "content": "42", "reasoning": "Hmm."}}]});
    let out: Value = serde_json::from_slice(
        &chat_to_gemini_response(answer.to_string().as_bytes(), "m").unwrap(),
    )
    .unwrap();
    assert_eq!(
        out["candidates"][0]["content"]["parts"],
        json!([{"text": "Hmm.", "thought": true}, {"text": "42"}])
    );
}

#[test]
fn snake_case_fields_as_googles_python_sdk_writes_them() {
    let req = json!({
        "contents": [{"role": "user", "parts": [{"text": "look"},
            {"inline_data": {"data": "iVBORw==", "mime_type": "image/png"}},
            {"file_data": {"file_uri": "gs://b/f.png", "mime_type": "image/png"}}]}],
        "tools": [{"function_declarations": [{"name": "f",
            "parameters_json_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}}}]}],
        "generationConfig": {"thinkingConfig": {"thinking_budget": 1024, "include_thoughts": true}}
    });
    let t = gemini_to_chat(
        req.to_string().as_bytes(),
        "openai/o4-mini",
        false,
        REASONING,
    )
    .unwrap();
    let out = t.body.to_value();
    assert_eq!(
        out["messages"][0]["content"],
        json!([{"type": "text", "text": "look"},
               {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw=="}},
               {"type": "image_url", "image_url": {"url": "gs://b/f.png"}}])
    );
    assert_eq!(
        out["tools"][0]["function"]["parameters"]["properties"],
        json!({"file_path": {"type": "string"}})
    );
    assert_eq!(out["reasoning_effort"], "low");
}

// ------------------------------------------- the borrowed mapper vs. values

/// The Gemini CLI fixtures' bodies (tests/fixtures/clients).
fn fixture_bodies() -> Vec<Value> {
    [
        include_str!("../../../tests/fixtures/clients/gemini-translated/first.json"),
        include_str!("../../../tests/fixtures/clients/gemini-translated/tool_result.json"),
        include_str!("../../../tests/fixtures/clients/gemini-native/first.json"),
        include_str!("../../../tests/fixtures/clients/gemini-native/tool_result.json"),
        include_str!("../../../tests/fixtures/clients/gemini-auto/first.json"),
        include_str!("../../../tests/fixtures/clients/gemini-auto/tool_result.json"),
    ]
    .iter()
    .map(|f| serde_json::from_str::<Value>(f).unwrap()["body"].take())
    .collect()
}

/// `mimeType` → `mime_type`.
fn snake(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Every field name of the API snake-cased, at every level (as Google's
/// Python SDK could send them), the caller's data (`args`, `response`, JSON
/// schemas, property names) left alone.
fn snake_case_fields(v: &mut Value, schema: bool) {
    match v {
        Value::Array(a) => a.iter_mut().for_each(|i| snake_case_fields(i, schema)),
        Value::Object(m) => {
            let old = std::mem::take(m);
            for (k, mut v) in old {
                match k.as_str() {
                    "args"
                    | "response"
                    | "parametersJsonSchema"
                    | "responseJsonSchema"
                    | "labels" => {}
                    "properties" if schema => {
                        if let Value::Object(props) = &mut v {
                            props.values_mut().for_each(|s| snake_case_fields(s, true));
                        }
                    }
                    "parameters" | "responseSchema" | "items" | "anyOf" => {
                        snake_case_fields(&mut v, true)
                    }
                    _ if schema => {}
                    _ => snake_case_fields(&mut v, false),
                }
                m.insert(snake(&k), v);
            }
        }
        _ => {}
    }
}

/// The JSON texts a chat request carries in strings (tool call arguments, a
/// tool message's JSON content) in one form: the borrowed mapper copies the
/// client's text, the Value one wrote it again (keys sorted, numbers and
/// spacing its own).
fn canonical_json_texts(mut body: Value) -> Value {
    let canon = |s: &mut Value| {
        if let Some(v) = s
            .as_str()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
        {
            *s = Value::String(v.to_string());
        }
    };
    for m in body["messages"].as_array_mut().into_iter().flatten() {
        if m["role"] == "tool" {
            canon(&mut m["content"]);
        }
        for c in m["tool_calls"].as_array_mut().into_iter().flatten() {
            canon(&mut c["function"]["arguments"]);
        }
    }
    body
}

/// The borrowed mapper and the Value one it replaced agree on `body`: the
/// same refusal, or the same chat request (as JSON, the JSON texts in its
/// strings compared as JSON) and dropped names (in the same order).
fn agree(body: &[u8], what: &str) {
    use super::reference;
    for (opts, stream) in [(REASONING, false), (ChatOptions::default(), true)] {
        {
            let new = gemini_to_chat(body, "openai/gpt-4o-mini", stream, opts);
            let old = reference::gemini_to_chat(body, "openai/gpt-4o-mini", stream, opts);
            match (new, old) {
                (Ok(new), Ok(old)) => {
                    let out = new.body.to_vec();
                    let parsed: Value = serde_json::from_slice(&out).unwrap_or_else(|e| {
                        panic!("{what}: {e}: {}", String::from_utf8_lossy(&out))
                    });
                    assert_eq!(
                        canonical_json_texts(parsed),
                        canonical_json_texts(old.body.to_value()),
                        "{what}"
                    );
                    assert_eq!(new.dropped, old.dropped, "{what}");
                    assert_eq!(
                        (new.stream, new.include_usage),
                        (old.stream, old.include_usage)
                    );
                }
                (Err(new), Err(old)) => {
                    assert_eq!(
                        (new.status, &new.message),
                        (old.status, &old.message),
                        "{what}"
                    );
                }
                (new, old) => panic!(
                    "{what}: borrowed {:?} vs values {:?}",
                    new.map(|t| t.dropped).map_err(|e| e.message),
                    old.map(|t| t.dropped).map_err(|e| e.message)
                ),
            }
        }
    }
}

#[test]
fn the_borrowed_mapper_agrees_with_the_value_one_on_real_and_mutated_requests() {
    fn paths(v: &Value, at: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        match v {
            Value::Object(m) => m.iter().for_each(|(k, c)| {
                let mut p = at.clone();
                p.push(k.clone());
                paths(c, p, out)
            }),
            Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| {
                let mut p = at.clone();
                p.push(i.to_string());
                paths(c, p, out)
            }),
            _ => {}
        }
    }
    fn node<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
        path.iter().fold(v, |v, k| match v {
            Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
            other => &mut other[k.as_str()],
        })
    }
    let replacements = [
        Value::Null,
        json!(7),
        json!("x\"\\y\u{e9}"),
        json!([1, "a", {"text": "t"}]),
        json!({}),
        json!({"text": "t", "thought": true}),
        json!(true),
    ];
    // Long texts (system prompts, tool descriptions) shortened: the shape is
    // what is mutated here.
    fn shrink(v: &mut Value) {
        match v {
            Value::String(s) if s.len() > 48 => *s = s.chars().take(48).collect(),
            Value::Object(m) => m.values_mut().for_each(shrink),
            Value::Array(a) => a.iter_mut().for_each(shrink),
            _ => {}
        }
    }
    let mut bodies = fixture_bodies();
    for b in &bodies {
        agree(&serde_json::to_vec(b).unwrap(), "a fixture, whole");
    }
    bodies.iter_mut().for_each(shrink);
    bodies.push(cli_turn());
    let snaked: Vec<Value> = bodies
        .iter()
        .map(|b| {
            let mut b = b.clone();
            snake_case_fields(&mut b, false);
            b
        })
        .collect();
    bodies.extend(snaked);
    let mut runs = 0;
    for body in &bodies {
        agree(&serde_json::to_vec(body).unwrap(), "as sent");
        let mut all = Vec::new();
        paths(body, Vec::new(), &mut all);
        let step = (all.len() / 25).max(1);
        for (i, path) in all.iter().enumerate() {
            if path.len() > 2 && i % step != 0 {
                continue;
            }
            for r in &replacements {
                let mut b = body.clone();
                *node(&mut b, path) = r.clone();
                agree(&serde_json::to_vec(&b).unwrap(), &format!("{path:?} = {r}"));
                runs += 1;
            }
        }
    }
    eprintln!("{runs} mutated bodies");
    assert!(runs > 1_000, "{runs}");
}

#[test]
fn both_spellings_escapes_and_odd_shapes_as_before() {
    for body in [
        // Both spellings: camelCase wins, wherever it comes.
        r#"{"contents": [{"role": "user", "parts": [
            {"inline_data": {"mime_type": "a/b", "mimeType": "c/d", "data": "AA=="},
             "inlineData": {"mime_type": "e/f", "data": "BB=="}}]}],
            "system_instruction": {"parts": [{"text": "snake"}]},
            "systemInstruction": {"parts": [{"text": "camel"}]}}"#,
        // Of two snake spellings, the first in name order; of a repeated name, the last.
        r#"{"contents": [{"role": "user", "role": "model", "parts": [{"text": "a"}, {"text": "b", "text": "c"}]},
            {"parts": [{"file__data": {"file_uri": "u1"}, "file_data": {"file_uri": "u2"}}]}]}"#,
        // Escapes in every text, kept through: quotes, backslashes, \u escapes, surrogate pairs.
        r#"{"contents": [{"parts": [{"text": "a\"b\\c\u00e9\ud83d\ude00\n"}, {"text": "\/x"}]},
            {"role": "model", "parts": [{"text": "\t"}, {"text": "\u0000"},
                {"functionCall": {"name": "f\"n", "id": "i\\d", "args": {"k\"ey": "v\u00e9", "n": [1.5e3, -0]}}}]},
            {"parts": [{"functionResponse": {"id": "i\\d", "response": {"output": "o\"ut\u2028"}}},
                       {"functionResponse": {"name": "g", "response": {"content": 1}}},
                       {"functionResponse": {"name": "g", "response": "s\"s"}},
                       {"functionResponse": {"name": "g", "response": null}},
                       {"functionResponse": {"name": "g", "response": {"output": "x", "output": "y"}}},
                       {"functionResponse": {"name": "g", "response": [1, {"a": "b"}]}},
                       {"inlineData": {"mimeType": "image/png\u0021", "data": "iV\/BO"}}]}],
            "systemInstruction": "plain \"system\""}"#,
        // Odd shapes: parts that are no objects, empty systems, unknown roles and parts.
        r#"{"contents": [1, null, {"parts": 5}, {"role": 7, "parts": ["x", 1, {}]},
            {"role": "system", "parts": [{"text": "s"}]},
            {"role": "model", "parts": [{"thought_signature": "c2ln", "executable_code": {}}, {"text": 1, "video_metadata": {}}]}],
            "systemInstruction": {"parts": [{"text": ""}]}, "tools": [{"functionDeclarations": [1,
                {"name": "f", "parameters": {"type": "OBJECT", "nullable": true, "any_of": []}, "response": null}]},
                {"code_execution": {}}, 3], "tool_config": {"function_calling_config": {"mode": "any"}}}"#,
        r#"{"contents": [], "systemInstruction": {"parts": [{"text": ""}, {"text": ""}]}}"#,
        r#"{"contents": [], "systemInstruction": {"parts": [{"text": "x", "thought": true}, 2]}}"#,
        r#"{"contents": [], "system_instruction": null, "systemInstruction": {"parts": [{"text": "y"}]}}"#,
        r#"{"contents": [], "tools": {}, "toolConfig": {"functionCallingConfig": {"mode": "NONE"}}, "x_y": null, "a_b": 1}"#,
        // Refusals.
        r#"{"contents": [], "generation_config": {"candidate_count": 2}}"#,
        r#"{"contents": 1}"#,
        r#"{"content": []}"#,
        r#"[]"#,
        r#"{"#,
    ] {
        agree(body.as_bytes(), body);
    }
}

#[test]
fn huge_arguments_and_outputs_are_copied_whole() {
    let big = "é\"\\".repeat(200_000);
    let args = json!({"text": big, "nested": {"list": (0..10_000).collect::<Vec<_>>()}});
    let req = json!({"contents": [
        {"role": "model", "parts": [{"function_call": {"name": "write", "args": args}}]},
        {"role": "user", "parts": [{"function_response": {"name": "write", "response": {"output": big}}}]},
    ]});
    let body = serde_json::to_vec(&req).unwrap();
    agree(&body, "huge");
    let out = gemini_to_chat(&body, "m", false, REASONING)
        .unwrap()
        .body
        .to_value();
    let arguments = out["messages"][0]["tool_calls"][0]["function"]["arguments"]
        .as_str()
        .unwrap();
    assert_eq!(serde_json::from_str::<Value>(arguments).unwrap(), args);
    assert_eq!(out["messages"][1]["content"], big.as_str());
    assert_eq!(out["messages"][1]["tool_call_id"], "call_0");
}
