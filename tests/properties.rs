//! Property tests: generated inputs, thousands per property, through the
//! core — the pipeline, settings parsing, routing and every translator,
//! request and stream side. With instance reuse a trap ends every request
//! in the instance, so none of this may panic; and whatever a translator
//! writes must be JSON (they splice raw bytes).

use llm_proxy::host::Fixed;
use llm_proxy::pipeline::{decide, plan_body, Decision};
use llm_proxy::request::RequestHead;
use llm_proxy::translate::anthropic_openai::request::{
    chat_to_messages, messages_to_chat, ChatOptions,
};
use llm_proxy::translate::anthropic_openai::response::{
    chat_to_messages_response, messages_to_chat_response,
};
use llm_proxy::translate::anthropic_openai::stream::{ChatToMessagesStream, MessagesToChatStream};
use llm_proxy::translate::bedrock_openai::request::chat_to_converse;
use llm_proxy::translate::bedrock_openai::response::converse_to_chat_response;
use llm_proxy::translate::bedrock_openai::stream::ConverseToChatStream;
use llm_proxy::translate::responses_openai::request::responses_to_chat;
use llm_proxy::translate::responses_openai::response::chat_to_responses_response;
use llm_proxy::translate::responses_openai::stream::ChatToResponsesStream;
use llm_proxy::translate::responses_openai::ToolNames;
use llm_proxy::translate::{eventstream, BodyTransform};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

const CASES: u32 = 2000;

/// Field names the dialects use, so generated bodies hit real code paths.
const KEYS: &[&str] = &[
    "model",
    "messages",
    "role",
    "content",
    "type",
    "text",
    "tools",
    "tool_choice",
    "input",
    "name",
    "id",
    "call_id",
    "arguments",
    "output",
    "system",
    "stream",
    "max_tokens",
    "thinking",
    "output_config",
    "effort",
    "budget_tokens",
    "tool_calls",
    "function",
    "parameters",
    "input_schema",
    "tool_use_id",
    "is_error",
    "source",
    "data",
    "media_type",
    "url",
    "image_url",
    "instructions",
    "reasoning",
    "encrypted_content",
    "thinking_blocks",
    "namespace",
    "format",
    "schema",
    "n",
    "stop",
    "stop_sequences",
    "metadata",
    "user_id",
    "temperature",
    "top_p",
    "stream_options",
    "include_usage",
    "previous_response_id",
    "store",
    "cache_control",
    "index",
    "delta",
    "choices",
    "finish_reason",
    "usage",
    "error",
    "x",
];

/// Values the dialects switch on.
const WORDS: &[&str] = &[
    "user",
    "assistant",
    "system",
    "developer",
    "tool",
    "text",
    "tool_use",
    "tool_result",
    "image",
    "document",
    "function",
    "function_call",
    "function_call_output",
    "custom",
    "custom_tool_call",
    "message",
    "reasoning",
    "namespace",
    "input_text",
    "output_text",
    "input_image",
    "thinking",
    "redacted_thinking",
    "enabled",
    "adaptive",
    "disabled",
    "auto",
    "any",
    "none",
    "required",
    "stop",
    "length",
    "tool_calls",
    "base64",
    "json_schema",
    "high",
    "openai/gpt-4o",
    "anthropic/claude-sonnet-4-5",
    "groq/x",
    "data:image/png;base64,AA",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        "[a-z \\\\\"{}é\\n]{0,12}".prop_map(Value::String),
        prop::sample::select(WORDS).prop_map(|w| json!(w)),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 80, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// A request-like object: usually with a model and messages or input.
fn request() -> impl Strategy<Value = Value> {
    (value(), value(), value(), prop::sample::select(WORDS)).prop_map(|(a, b, extra, model)| {
        let mut o = match extra {
            Value::Object(o) => o,
            _ => Map::new(),
        };
        o.insert("model".into(), json!(model));
        o.insert("messages".into(), json!([a.clone(), b.clone()]));
        o.insert("input".into(), json!([a, b]));
        Value::Object(o)
    })
}

fn options() -> impl Strategy<Value = ChatOptions> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(|(a, b, c, d)| {
        ChatOptions {
            max_completion_tokens: a,
            reasoning_effort: b,
            system_first: c,
            thinking_blocks: d,
        }
    })
}

fn is_json(bytes: &[u8]) -> bool {
    serde_json::from_slice::<Value>(bytes).is_ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn request_translators_never_panic_and_write_json(req in request(), opts in options()) {
        let bytes = serde_json::to_vec(&req).unwrap();
        if let Ok(t) = messages_to_chat(&bytes, opts) {
            prop_assert!(is_json(&t.body.to_vec()));
        }
        if let Ok(t) = chat_to_messages(&bytes) {
            prop_assert!(is_json(&t.body.to_vec()));
        }
        if let Ok(r) = responses_to_chat(&bytes, opts) {
            prop_assert!(is_json(&r.chat.body.to_vec()));
        }
        if let Ok(t) = chat_to_converse(&req) {
            prop_assert!(is_json(&t.body.to_vec()));
        }
    }

    #[test]
    fn request_translators_take_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = messages_to_chat(&bytes, ChatOptions::default());
        let _ = chat_to_messages(&bytes);
        let _ = responses_to_chat(&bytes, ChatOptions::default());
    }

    #[test]
    fn answer_mappers_never_panic(answer in value()) {
        let bytes = serde_json::to_vec(&answer).unwrap();
        let mut tools = ToolNames::default();
        tools.function("read", Some("fs"));
        tools.custom("apply_patch");
        for out in [
            chat_to_messages_response(&bytes, "m"),
            messages_to_chat_response(&bytes, "m", 0),
            chat_to_responses_response(&bytes, "m", &tools, 0),
            converse_to_chat_response(&bytes, "m", "id", 0),
        ].into_iter().flatten() {
            prop_assert!(is_json(&out));
        }
    }

    #[test]
    fn stream_translators_never_panic_and_always_end(
        events in prop::collection::vec((prop::sample::select(WORDS), value()), 0..12),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        done in any::<bool>(),
        complete in any::<bool>(),
    ) {
        let mut stream = String::new();
        for (name, data) in &events {
            let data = match data {
                Value::Object(_) => data.clone(),
                other => json!({"type": name, "choices": [{"index": 0, "delta": {"content": other}}]}),
            };
            stream.push_str(&format!("event: {name}\ndata: {data}\n\n"));
        }
        if done {
            stream.push_str("data: [DONE]\n\n");
        }
        let bytes = stream.as_bytes();
        let mut at: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
        at.sort_unstable();
        let run = |t: &mut dyn BodyTransform| {
            let mut out = Vec::new();
            let mut from = 0;
            for &cut in &at {
                t.push(&bytes[from..cut], &mut out);
                from = cut;
            }
            t.push(&bytes[from..], &mut out);
            t.finish(complete, &mut out);
            String::from_utf8(out).unwrap()
        };
        let messages = run(&mut ChatToMessagesStream::new("m"));
        let last = messages.trim_end().rsplit("\n\n").next().unwrap_or("");
        prop_assert!(
            last.starts_with("event: message_stop") || last.starts_with("event: error"),
            "no terminal event: {last}"
        );
        let responses = run(&mut ChatToResponsesStream::new("m", ToolNames::default(), 0));
        let last = responses.trim_end().rsplit("\n\n").next().unwrap_or("");
        prop_assert!(
            ["event: response.completed", "event: response.incomplete", "event: response.failed"]
                .iter()
                .any(|t| last.starts_with(t)),
            "no terminal event: {last}"
        );
        let _ = run(&mut MessagesToChatStream::new("m", 0, true));
        let _ = run(&mut ConverseToChatStream::new("m", "id", 0, true));
    }

    #[test]
    fn the_event_stream_decoder_takes_any_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut d = eventstream::Decoder::new();
        let _ = d.push(&bytes);
        let mut t = ConverseToChatStream::new("m", "id", 0, true);
        let mut out = Vec::new();
        t.push(&bytes, &mut out);
        t.finish(true, &mut out);
    }

    #[test]
    fn settings_parse_any_text(raw in "\\PC{0,64}", json_like in value()) {
        let _ = llm_proxy::settings::parse_key_list(&raw);
        for text in [raw.clone(), json_like.to_string(), format!("[{json_like}]")] {
            let src: HashMap<String, String> = [
                ("CUSTOM_OPENAI_ENDPOINTS".to_string(), text.clone()),
                ("OPENAI_API_KEY".to_string(), text.clone()),
                ("RETRY".to_string(), text.clone()),
                ("MAX_BODY_BYTES".to_string(), text),
            ]
            .into_iter()
            .collect();
            let _ = llm_proxy::providers::custom::endpoints(&src);
            let _ = llm_proxy::settings::key_list(&src, "OPENAI_API_KEY");
            let _ = llm_proxy::settings::max_body_bytes(&src);
        }
    }

    #[test]
    fn the_pipeline_routes_and_plans_anything(
        method in prop::sample::select(&["GET", "POST", "HEAD", "OPTIONS", "PUT", "DELETE"][..]),
        path in "(/(key|g|v1|openai|anthropic|groq|google-ai-studio|aws-bedrock|responses|messages|chat|completions|embeddings|models|status|ping|compat|%2e%2e|\\.\\.|[a-z0-9%?=&-]{0,6})){0,6}",
        headers in prop::collection::vec(
            (prop::sample::select(&["authorization", "x-api-key", "content-length", "content-type", "origin", "x-goog-api-key", "anthropic-version", "spin-full-url"][..]),
             "[ -~]{0,24}"),
            0..5),
        body in request(),
    ) {
        let src: HashMap<String, String> = [
            ("PROXY_API_KEY", "pk"),
            ("OPENAI_API_KEY", "sk-a,sk-b"),
            ("ANTHROPIC_API_KEY", "sk-ant"),
            ("GROQ_API_KEY", "gq"),
            ("CLOUDFLARE_ACCOUNT_ID", "acc"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("DEFAULT_MODEL", "openai/gpt-4o"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut h: Vec<(String, Vec<u8>)> = headers
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.into_bytes()))
            .collect();
        h.push(("authorization".into(), b"Bearer pk".to_vec()));
        let head = RequestHead::new(method, &path, h);
        let host = Fixed { random: 7, now_ms: 1 };
        let decided = decide(&head, &src, &host);
        if let Decision::WithBody { route, selection, gateway, .. } = decided.decision {
            let bytes = serde_json::to_vec(&body).unwrap();
            let _ = plan_body(route, &head, &bytes, &src, &host, selection, gateway.as_ref(), None);
        }
    }
}

/// One OpenAI chat chunk of the kinds providers send.
fn chat_chunk() -> impl Strategy<Value = Value> {
    let text = "[a-zé \"\\\\{}]{0,8}";
    let delta = prop_oneof![
        text.prop_map(|t| json!({"content": t})),
        text.prop_map(|t| json!({"reasoning_content": t})),
        (0u64..3, prop::option::of("call_[a-z]{1,3}"), prop::option::of(prop::sample::select(&["read", "apply_patch", "fs__read", "x"][..])), text)
            .prop_map(|(i, id, name, args)| json!({"tool_calls": [{"index": i, "id": id, "type": "function",
                "function": {"name": name, "arguments": args}}]})),
        Just(json!({"thinking_blocks": [{"type": "thinking", "thinking": "t", "signature": "s"}]})),
        Just(json!({"role": "assistant", "content": ""})),
    ];
    (delta, prop::option::of(prop::sample::select(&["stop", "tool_calls", "length", "content_filter"][..])), any::<u8>())
        .prop_map(|(delta, finish, kind)| match kind % 10 {
            0 => json!({"id": "c", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2}}),
            1 => json!({"error": {"message": "overloaded", "code": 529}}),
            _ => json!({"id": "c", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}),
        })
}

/// One Anthropic Messages stream event.
fn messages_event() -> impl Strategy<Value = (String, Value)> {
    (0u64..3, prop::sample::select(&[
        "message_start", "content_block_start", "content_block_delta", "content_block_stop",
        "message_delta", "message_stop", "ping", "error",
    ][..]), prop::sample::select(&["text", "tool_use", "thinking", "redacted_thinking"][..]),
     prop::sample::select(&["text_delta", "input_json_delta", "thinking_delta", "signature_delta"][..]),
     "[a-z\"{}]{0,6}")
        .prop_map(|(index, name, block, delta, t)| {
            let data = match name {
                "message_start" => json!({"type": name, "message": {"id": "msg_1", "usage": {"input_tokens": 2}}}),
                "content_block_start" => json!({"type": name, "index": index,
                    "content_block": {"type": block, "id": "toolu_1", "name": "f", "text": "", "thinking": ""}}),
                "content_block_delta" => json!({"type": name, "index": index, "delta": {"type": delta,
                    "text": t, "partial_json": t, "thinking": t, "signature": t}}),
                "message_delta" => json!({"type": name, "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 1}}),
                "error" => json!({"type": name, "error": {"type": "overloaded_error", "message": "busy"}}),
                _ => json!({"type": name, "index": index}),
            };
            (name.to_string(), data)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn provider_shaped_streams_translate_to_well_formed_events(
        chunks in prop::collection::vec(chat_chunk(), 0..14),
        anthropic in prop::collection::vec(messages_event(), 0..14),
        done in any::<bool>(),
        complete in any::<bool>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut chat = String::new();
        for c in &chunks {
            chat.push_str(&format!("data: {c}\n\n"));
        }
        if done {
            chat.push_str("data: [DONE]\n\n");
        }
        let run = |t: &mut dyn BodyTransform, bytes: &[u8]| {
            let at = cut.index(bytes.len() + 1);
            let mut out = Vec::new();
            t.push(&bytes[..at], &mut out);
            t.push(&bytes[at..], &mut out);
            t.finish(complete, &mut out);
            String::from_utf8(out).unwrap()
        };
        let mut tools = ToolNames::default();
        tools.function("read", Some("fs"));
        tools.custom("apply_patch");
        let out = run(&mut ChatToResponsesStream::new("m", tools, 0), chat.as_bytes());
        let mut seq = -1i64;
        let mut last = String::new();
        for e in out.split("\n\n").filter(|e| !e.is_empty()) {
            let (name, data) = e.split_once("\ndata: ").expect("event and data");
            let v: Value = serde_json::from_str(data).expect("JSON data");
            prop_assert_eq!(v["type"].as_str(), name.strip_prefix("event: "));
            let n = v["sequence_number"].as_i64().unwrap();
            prop_assert_eq!(n, seq + 1);
            seq = n;
            last = name.to_string();
        }
        prop_assert!(last.ends_with("response.completed") || last.ends_with("response.incomplete") || last.ends_with("response.failed"), "{}", last);
        let out = run(&mut ChatToMessagesStream::new("m"), chat.as_bytes());
        let last = out.trim_end().rsplit("\n\n").next().unwrap_or("");
        prop_assert!(last.starts_with("event: message_stop") || last.starts_with("event: error"), "{}", last);

        let mut messages = String::new();
        for (name, data) in &anthropic {
            messages.push_str(&format!("event: {name}\ndata: {data}\n\n"));
        }
        let out = run(&mut MessagesToChatStream::new("m", 0, true), messages.as_bytes());
        for e in out.split("\n\n").filter(|e| !e.is_empty()) {
            let data = e.strip_prefix("data: ").expect("data lines only");
            prop_assert!(data == "[DONE]" || serde_json::from_str::<Value>(data).is_ok(), "{}", data);
        }
    }
}

/// A usage object with every dialect's token fields, each anywhere in `u64`.
fn huge_usage() -> impl Strategy<Value = Value> {
    const FIELDS: &[&str] = &[
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "cache_creation_input_tokens",
        "inputTokens",
        "outputTokens",
        "cacheReadInputTokens",
        "cacheWriteInputTokens",
        "prompt_tokens",
        "completion_tokens",
    ];
    prop::collection::vec(
        prop_oneof![Just(u64::MAX), Just(u64::MAX / 2 + 1), any::<u64>()],
        FIELDS.len(),
    )
    .prop_map(|ns| {
        Value::Object(
            FIELDS
                .iter()
                .zip(ns)
                .map(|(k, n)| (k.to_string(), json!(n)))
                .collect(),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Token counts come from the upstream: adding them up must not overflow
    /// (a panic would end every request of the wasm instance).
    #[test]
    fn usage_counts_of_any_size_never_overflow(usage in huge_usage()) {
        let answer = serde_json::to_vec(&json!({
            "id": "x", "type": "message", "role": "assistant", "content": [],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}, "finish_reason": "stop"}],
            "output": {"message": {"role": "assistant", "content": [{"text": "hi"}]}},
            "stopReason": "end_turn",
            "usage": usage,
        }))
        .unwrap();
        let tools = ToolNames::default();
        for out in [
            chat_to_messages_response(&answer, "m"),
            messages_to_chat_response(&answer, "m", 0),
            chat_to_responses_response(&answer, "m", &tools, 0),
            converse_to_chat_response(&answer, "m", "id", 0),
        ] {
            prop_assert!(is_json(&out.unwrap()));
        }

        let run = |t: &mut dyn BodyTransform, bytes: &[u8]| {
            let mut out = Vec::new();
            t.push(bytes, &mut out);
            t.finish(true, &mut out);
            String::from_utf8(out).unwrap()
        };
        let chat = format!(
            "data: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
            json!({"id": "c", "choices": [{"index": 0, "delta": {"content": "hi"}, "finish_reason": "stop"}]}),
            json!({"id": "c", "choices": [], "usage": usage}),
        );
        run(&mut ChatToResponsesStream::new("m", ToolNames::default(), 0), chat.as_bytes());
        run(&mut ChatToMessagesStream::new("m"), chat.as_bytes());
        let messages = format!(
            "event: message_start\ndata: {}\n\nevent: message_delta\ndata: {}\n\nevent: message_stop\ndata: {}\n\n",
            json!({"type": "message_start", "message": {"id": "msg_1", "usage": usage}}),
            json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": usage}),
            json!({"type": "message_stop"}),
        );
        let out = run(&mut MessagesToChatStream::new("m", 0, true), messages.as_bytes());
        prop_assert!(out.contains("total_tokens"), "{}", out);
        let mut converse = eventstream::encode(
            &[(":message-type", "event"), (":event-type", "messageStop")],
            br#"{"stopReason":"end_turn"}"#,
        );
        converse.extend(eventstream::encode(
            &[(":message-type", "event"), (":event-type", "metadata")],
            json!({"usage": usage}).to_string().as_bytes(),
        ));
        let out = run(&mut ConverseToChatStream::new("m", "id", 0, true), &converse);
        prop_assert!(out.contains("total_tokens"), "{}", out);
    }
}

// ---------------------------------------------------------------- the grant

mod grant_property {
    //! Whatever the entry and the request, what would reach an upstream is
    //! within the entry's grant. The rules are restated here on their own
    //! (not through `llm_proxy::grant`), over a small vocabulary of
    //! providers, models, routes, paths and headers.

    use super::*;
    use llm_proxy::host::fake::FakeHost;
    use llm_proxy::pipeline::{plan_granted, Planned};
    use llm_proxy::upstream::Forward;
    use sha2::{Digest, Sha256};

    const MODELS: &[&str] = &[
        "openai/*",
        "openai/gpt-4o",
        "anthropic/*",
        "anthropic/claude-sonnet-4-5",
        "openrouter/anthropic/claude-sonnet-4.5",
        "google-ai-studio/*",
        "smart",
        "openai/gpt-4o-mini",
        "*",
    ];
    const ROUTES: &str = r#"{"smart": ["openai/gpt-4.1", "anthropic/claude-sonnet-4-5"],
        "openai/gpt-4o-mini": ["anthropic/claude-sonnet-4-5"]}"#;
    const BODY_MODELS: &[&str] = &[
        "openai/gpt-4o",
        "openai/gpt-4.1",
        "openai/gpt-4o-mini",
        "anthropic/claude-sonnet-4-5",
        "claude-sonnet-4-5",
        "smart",
        "openrouter/anthropic/claude-sonnet-4.5",
        "openrouter/x-ai/grok-4",
        "gemini-2.5-flash",
        "google-ai-studio/gemini-2.5-flash",
    ];
    const PATHS: &[&str] = &[
        "/v1/chat/completions",
        "/v1/messages",
        "/v1/messages/count_tokens",
        "/v1/responses",
        "/v1/embeddings",
        "/v1/models",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        "/v1beta/models/smart:streamGenerateContent",
        "/openai/v1/chat/completions",
        "/openai/v1/models",
        "/openai/v1/files",
        "/openai/v1/files/file-1",
        "/openai/v1/batches",
        "/openai/v1/chat/completions/chatcmpl-1",
        "/openai/v1/responses/resp_1",
        "/anthropic/v1/messages",
        "/anthropic/v1/messages/batches",
        "/openrouter/v1/chat/completions",
        "/google-ai-studio/v1beta/models/g:generateContent",
        "/google-ai-studio/v1beta/files",
        "/compat/chat/completions",
        "/",
    ];
    /// Pass-through (method, path) a provider wildcard opens.
    const INFERENCE: &[(&str, &str)] = &[
        ("POST", "/openai/v1/chat/completions"),
        ("GET", "/openai/v1/models"),
        ("HEAD", "/openai/v1/models"),
        ("POST", "/anthropic/v1/messages"),
        ("POST", "/openrouter/v1/chat/completions"),
        ("POST", "/google-ai-studio/v1beta/models/g:generateContent"),
    ];
    const HEADERS: &[(&str, &str)] = &[
        ("openai-organization", "org-other"),
        ("openai-project", "proj-other"),
        ("x-goog-user-project", "other"),
        ("cf-aig-collect-log", "false"),
        ("cf-aig-custom-cost", "{\"total_cost\":0}"),
        ("cf-aig-cache-key", "theirs"),
        ("cf-aig-cache-ttl", "60"),
        ("cf-aig-authorization", "Bearer stolen"),
    ];

    #[derive(Debug, Clone)]
    struct Entry {
        models: Option<Vec<&'static str>>,
        gateways: Vec<&'static str>,
        pass_through: Vec<&'static str>,
        tpm: bool,
    }

    fn entry() -> impl Strategy<Value = Entry> {
        (
            prop::option::of(prop::sample::subsequence(MODELS, 1..4)),
            prop::sample::subsequence(&["gw-a", "gw-b"][..], 0..2),
            prop::sample::subsequence(&["/openai/v1/files", "/anthropic"][..], 0..2),
            any::<bool>(),
        )
            .prop_map(|(models, gateways, pass_through, tpm)| Entry {
                models,
                gateways,
                pass_through,
                tpm,
            })
    }

    fn has_prefix(path: &str, prefix: &str) -> bool {
        path.strip_prefix(prefix)
            .is_some_and(|t| t.is_empty() || t.starts_with('/'))
    }

    impl Entry {
        fn allows(&self, model: &str) -> bool {
            let Some(list) = &self.models else {
                return true;
            };
            list.iter().any(|p| {
                *p == "*"
                    || *p == model
                    || p.strip_suffix("/*")
                        .is_some_and(|pre| model.split_once('/').is_some_and(|(m, _)| m == pre))
            })
        }

        fn allows_route(&self, name: &str) -> bool {
            self.models
                .as_ref()
                .is_none_or(|l| l.iter().any(|p| *p == "*" || *p == name))
        }
    }

    /// Every upstream request a plan could send, with its route and model.
    fn sends(
        fwd: &Forward,
    ) -> Vec<(
        &llm_proxy::outgoing::UpstreamRequest,
        Option<&str>,
        Option<&str>,
    )> {
        let mut out = Vec::new();
        let mut next = Some(fwd);
        while let Some(f) = next {
            for up in &f.attempts {
                out.push((up, f.route.as_deref(), f.model.as_deref()));
            }
            next = f.fallback.as_deref();
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(CASES))]

        #[test]
        fn what_reaches_an_upstream_is_within_the_grant(
            e in entry(),
            method in prop::sample::select(&["GET", "POST", "DELETE", "PUT", "TRACE", "HEAD"][..]),
            prefix in prop::sample::select(&["", "/g/gw-a", "/g/gw-b", "/key/0", "/g/gw-a/key/1"][..]),
            path in prop::sample::select(PATHS),
            headers in prop::sample::subsequence(HEADERS, 0..4),
            model in prop::sample::select(BODY_MODELS),
            body_models in prop::option::of(prop::sample::subsequence(&["anthropic/claude-sonnet-4.5", "openai/gpt-4o", "x-ai/grok-4"][..], 1..3)),
            stream in any::<bool>(),
            default_gateway in any::<bool>(),
        ) {
            let key = "sk-client-under-test";
            let mut entry = json!({
                "name": "t",
                "sha256": Sha256::digest(key.as_bytes()).iter().map(|b| format!("{b:02x}")).collect::<String>(),
                "gateways": e.gateways,
                "pass_through": e.pass_through,
            });
            if let Some(m) = &e.models {
                entry["models"] = json!(m);
            }
            if e.tpm {
                entry["tpm"] = json!(1_000_000);
            }
            let mut src: HashMap<String, String> = [
                ("PROXY_API_KEY", "pk"),
                ("OPENAI_API_KEY", "sk-o1,sk-o2"),
                ("ANTHROPIC_API_KEY", "sk-ant"),
                ("OPENROUTER_API_KEY", "sk-or"),
                ("GEMINI_API_KEY", "g"),
                ("CLOUDFLARE_ACCOUNT_ID", "acc"),
                ("AI_GATEWAY_BASE_URL", "http://127.0.0.1:9/gw"),
                ("MODEL_ROUTES", ROUTES),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            src.insert("PROXY_KEYS".into(), json!([entry]).to_string());
            if default_gateway {
                src.insert("AI_GATEWAY_NAME".into(), "gw-default".into());
            }
            let mut h: Vec<(String, Vec<u8>)> = headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect();
            h.push(("authorization".into(), format!("Bearer {key}").into_bytes()));
            h.push(("content-type".into(), b"application/json".to_vec()));
            let full_path = format!("{prefix}{path}");
            let head = RequestHead::new(method, &full_path, h);
            let host = FakeHost::new();
            let decided = decide(&head, &src, &host);
            let granted_head = decided.head.clone().unwrap_or_else(|| head.clone());
            let mut body = json!({"model": model, "max_tokens": 10, "stream": stream,
                                  "messages": [{"role": "user", "content": "hi"}],
                                  "contents": [{"parts": [{"text": "hi"}]}], "input": "hi"});
            if let Some(m) = &body_models {
                body["models"] = json!(m);
            }
            let bytes = serde_json::to_vec(&body).unwrap();
            let (fwd, own_api) = match decided.decision.clone() {
                Decision::PassThrough(f) => (f, false),
                Decision::WithBody { route, selection, gateway, dropped, .. } => {
                    let own = !matches!(route, llm_proxy::pipeline::BodyRoute::PassThrough(..));
                    let caller = decided.caller.clone().unwrap();
                    match plan_granted(route, &granted_head, &bytes, &src, &host, selection,
                                       gateway.as_ref(), &caller, &dropped, &mut None) {
                        Planned::Forward(f) => (f, own),
                        Planned::Reply(_) => return Ok(()),
                    }
                }
                _ => return Ok(()),
            };
            let gateways_ok = |url_path: &str| {
                // `{base}/acc/{gateway}/...`: the default gateway or a granted one.
                match url_path.strip_prefix("/gw/acc/") {
                    None => true,
                    Some(rest) => {
                        let name = rest.split('/').next().unwrap_or_default();
                        (default_gateway && name == "gw-default") || e.gateways.contains(&name)
                    }
                }
            };
            let pass_through_path = path; // without the prefixes
            for (up, route, target) in sends(&fwd) {
                let case = format!("{method} {full_path} entry {e:?} -> {} {}", up.method, up.path_with_query);
                prop_assert!(llm_proxy::grant::METHODS.contains(&up.method.as_str()), "method: {case}");
                prop_assert!(gateways_ok(&up.path_with_query), "gateway: {case}");
                for (n, _) in &up.headers {
                    prop_assert!(!llm_proxy::grant::ACCOUNT_HEADERS.contains(&n.as_str()), "header {n}: {case}");
                    prop_assert!(!n.starts_with("cf-aig-") || llm_proxy::grant::GATEWAY_HEADERS_FOR_CLIENTS.contains(&n.as_str()),
                        "header {n}: {case}");
                }
                if own_api {
                    // The Universal Endpoint is the all-access key's.
                    prop_assert!(pass_through_path != "/", "universal: {case}");
                    match route {
                        Some(r) => prop_assert!(e.allows_route(r), "route {r}: {case}"),
                        None => {
                            let m = target.unwrap_or_default();
                            prop_assert!(e.allows(m), "model {m}: {case}");
                        }
                    }
                    if let Some(sent) = up.body.as_deref().and_then(|b| serde_json::from_slice::<Value>(b).ok()) {
                        if let (Some(list), Some(m)) = (sent.get("models").and_then(Value::as_array), target) {
                            let provider = m.split_once('/').map_or("", |(p, _)| p);
                            for item in list {
                                let full = format!("{provider}/{}", item.as_str().unwrap_or_default());
                                let ok = if route.is_some() { e.allows("*") } else { e.allows(&full) };
                                prop_assert!(ok, "body model {full}: {case}");
                            }
                        }
                    }
                } else {
                    let provider = pass_through_path.trim_start_matches('/').split('/').next().unwrap_or_default();
                    let inference = INFERENCE.contains(&(method, pass_through_path))
                        && e.allows(&format!("{provider}/*"));
                    let granted = e.pass_through.iter().any(|p| has_prefix(pass_through_path, p));
                    // `/compat` is the all-access key's: never a client key's.
                    prop_assert!(!pass_through_path.starts_with("/compat/"), "compat: {case}");
                    prop_assert!(inference || granted, "pass-through: {case}");
                }
            }
        }
    }
}
