//! Criterion benchmarks of the sans-IO core's hot path: the route + auth
//! decision, settings parsing, and the chat body rewrite (2 KB and 200 KB);
//! the client dialects' translators (Messages, Responses, Gemini: requests
//! at 2 KB, 200 KB and 1 MB, the Gemini route's whole plan, one stream event,
//! a whole answer); usage (the tap over a chat stream and a 64 KB answer,
//! the usage chunk stripped from a stream); each with a baseline measured
//! in the same run where one makes sense.
//!
//!   cargo bench --bench core

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use llm_proxy::handlers::chat_completions;
use llm_proxy::host::Fixed;
use llm_proxy::pipeline::{decide, plan_body, Decision, Planned};
use llm_proxy::request::RequestHead;
use llm_proxy::settings;
use llm_proxy::upstream::Inbound;
use std::collections::HashMap;
use std::hint::black_box;

fn settings_map() -> HashMap<String, String> {
    [
        ("PROXY_API_KEY", "proxy-key-0123456789abcdef"),
        ("OPENAI_API_KEY", r#"["sk-proj-aaaaaaaaaaaaaaaaaaaa","sk-proj-bbbbbbbbbbbbbbbbbbbb","sk-proj-cccccccccccccccccccc"]"#),
        ("ANTHROPIC_API_KEY", "sk-ant-1111111111, sk-ant-2222222222"),
        ("GEMINI_API_KEY", "AIzaSyA-0000000000000000"),
        ("GROQ_API_KEY", "gsk_000000000000"),
        ("DEFAULT_MODEL", "openai/gpt-4o-mini"),
        ("CUSTOM_OPENAI_ENDPOINTS", r#"[{"name":"local","baseUrl":"http://127.0.0.1:11434/v1","models":["llama3"]}]"#),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn head(method: &str, path: &str) -> RequestHead {
    RequestHead::new(
        method,
        path,
        vec![
            (
                "authorization".into(),
                b"Bearer proxy-key-0123456789abcdef".to_vec(),
            ),
            ("content-type".into(), b"application/json".to_vec()),
            ("user-agent".into(), b"OpenAI/Python 1.99.0".to_vec()),
            ("accept".into(), b"application/json".to_vec()),
            ("x-stainless-lang".into(), b"python".to_vec()),
        ],
    )
}

/// A chat body of about `size` bytes: a conversation of many messages.
fn chat_body(model: &str, size: usize) -> Vec<u8> {
    let mut messages =
        vec![serde_json::json!({"role": "system", "content": "You are a helpful assistant."})];
    let mut i = 0;
    let mut len = 0;
    while len < size {
        let m = serde_json::json!({"role": if i % 2 == 0 { "user" } else { "assistant" },
            "content": format!("Message {i}: the quick brown fox jumps over the lazy dog, \"quoted\" and unicode é ✓.")});
        len += m.to_string().len() + 1;
        messages.push(m);
        i += 1;
    }
    serde_json::to_vec(
        &serde_json::json!({"model": model, "messages": messages, "temperature": 0.7,
        "stream": true, "user": "u-1", "frequency_penalty": 0.1}),
    )
    .unwrap()
}

fn bench_decide(c: &mut Criterion) {
    let src = settings_map();
    let ctx = Fixed {
        random: 42,
        now_ms: 0,
    };
    let mut g = c.benchmark_group("decide");
    let pass = head("POST", "/openai/v1/chat/completions?alt=sse");
    g.bench_function("pass_through", |b| {
        b.iter(|| decide(black_box(&pass), &src, &ctx))
    });
    let chat = head("POST", "/v1/chat/completions");
    g.bench_function("chat_route", |b| {
        b.iter(|| decide(black_box(&chat), &src, &ctx))
    });
    // The Gemini API route, the proxy key as Gemini CLI sends it.
    let gemini = RequestHead::new(
        "POST",
        "/v1beta/models/openai/gpt-4o-mini:streamGenerateContent?alt=sse",
        vec![
            (
                "x-goog-api-key".into(),
                b"proxy-key-0123456789abcdef".to_vec(),
            ),
            ("content-type".into(), b"application/json".to_vec()),
            (
                "user-agent".into(),
                b"GeminiCLI/0.61.0 (linux; x64)".to_vec(),
            ),
            (
                "x-goog-api-client".into(),
                b"google-genai-sdk/1.30.0 gl-node/v20".to_vec(),
            ),
        ],
    );
    g.bench_function("gemini_route", |b| {
        b.iter(|| decide(black_box(&gemini), &src, &ctx))
    });
    let bad = RequestHead::new(
        "GET",
        "/openai/v1/models",
        vec![("authorization".into(), b"Bearer wrong".to_vec())],
    );
    g.bench_function("auth_refused", |b| {
        b.iter(|| decide(black_box(&bad), &src, &ctx))
    });
    g.finish();
}

fn bench_settings(c: &mut Criterion) {
    let src = settings_map();
    let mut g = c.benchmark_group("settings");
    g.bench_function("key_list_json_3", |b| {
        b.iter(|| settings::key_list(&src, black_box("OPENAI_API_KEY")))
    });
    g.bench_function("key_list_comma_2", |b| {
        b.iter(|| settings::key_list(&src, black_box("ANTHROPIC_API_KEY")))
    });
    g.bench_function("custom_endpoints", |b| {
        b.iter(|| llm_proxy::providers::custom::endpoints(black_box(&src)))
    });
    g.finish();
}

fn bench_chat_rewrite(c: &mut Criterion) {
    let src = settings_map();
    let ctx = Fixed {
        random: 1,
        now_ms: 0,
    };
    let h = head("POST", "/v1/chat/completions");
    let mut g = c.benchmark_group("chat_rewrite");
    for (label, size) in [("2KB", 2 * 1024), ("200KB", 200 * 1024)] {
        for model in ["openai/gpt-4o-mini", "google-ai-studio/gemini-2.0-flash"] {
            let body = chat_body(model, size);
            g.throughput(Throughput::Bytes(body.len() as u64));
            let provider = model.split('/').next().unwrap();
            g.bench_with_input(
                BenchmarkId::new(format!("plan/{provider}"), label),
                &body,
                |b, body| {
                    b.iter(|| {
                        chat_completions::plan(&Inbound::new(&h, &src, &ctx), black_box(body))
                            .unwrap()
                    })
                },
            );
            // Baseline: the naive rewrite — parse the whole body into a
            // `serde_json::Value`, edit it, serialise it again.
            g.bench_with_input(
                BenchmarkId::new(format!("baseline_value_roundtrip/{provider}"), label),
                &body,
                |b, body| {
                    b.iter(|| {
                        let mut v: serde_json::Value =
                            serde_json::from_slice(black_box(body)).unwrap();
                        let obj = v.as_object_mut().unwrap();
                        obj.insert(
                            "model".into(),
                            serde_json::Value::String("gpt-4o-mini".into()),
                        );
                        obj.retain(|k, _| k != "frequency_penalty");
                        serde_json::to_vec(&v).unwrap()
                    })
                },
            );
        }
    }
    g.finish();
}

/// An Anthropic Messages request of about `size` bytes, shaped like Claude
/// Code's (system blocks, tools, a long conversation with tool use).
fn messages_body(model: &str, size: usize) -> Vec<u8> {
    use serde_json::json;
    let tools: Vec<_> = (0..8)
        .map(|i| json!({"name": format!("tool_{i}"), "description": "Reads a file from the workspace.",
            "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}))
        .collect();
    let mut messages = Vec::new();
    let mut i = 0;
    let mut len = 0;
    while len < size {
        let turn = [
            json!({"role": "user", "content": [{"type": "text", "text": format!("Step {i}: the quick brown fox jumps over the lazy dog, \"quoted\" é ✓.")}]}),
            json!({"role": "assistant", "content": [
                {"type": "text", "text": "Reading it."},
                {"type": "tool_use", "id": format!("toolu_{i}"), "name": "tool_1", "input": {"path": format!("src/file_{i}.rs")}}]}),
            json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": format!("toolu_{i}"), "content": "fn main() { println!(\"hello\"); }"}]}),
        ];
        len += turn.iter().map(|m| m.to_string().len() + 1).sum::<usize>();
        messages.extend(turn);
        i += 1;
    }
    messages.push(json!({"role": "user", "content": "Go on."}));
    serde_json::to_vec(&json!({"model": model, "max_tokens": 4096, "stream": true,
        "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
        "tools": tools, "messages": messages, "metadata": {"user_id": "u"}}))
    .unwrap()
}

/// A Responses API request of about `size` bytes, shaped like Codex's
/// (instructions, function tools, a long run of messages, calls and outputs).
fn responses_body(model: &str, size: usize) -> Vec<u8> {
    use serde_json::json;
    let tools: Vec<_> = (0..8)
        .map(|i| json!({"type": "function", "name": format!("tool_{i}"), "description": "Runs a command.",
            "parameters": {"type": "object", "properties": {"command": {"type": "array", "items": {"type": "string"}}}}}))
        .collect();
    let mut input = Vec::new();
    let mut i = 0;
    let mut len = 0;
    while len < size {
        let turn = [
            json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": format!("Step {i}: the quick brown fox jumps over the lazy dog, \"quoted\" é ✓.")}]}),
            json!({"type": "function_call", "call_id": format!("call_{i}"), "name": "tool_1", "arguments": format!("{{\"command\":[\"cat\",\"src/file_{i}.rs\"]}}")}),
            json!({"type": "function_call_output", "call_id": format!("call_{i}"), "output": "fn main() { println!(\"hello\"); }"}),
        ];
        len += turn.iter().map(|m| m.to_string().len() + 1).sum::<usize>();
        input.extend(turn);
        i += 1;
    }
    serde_json::to_vec(
        &json!({"model": model, "instructions": "You are Codex.", "stream": true,
        "store": false, "tools": tools, "input": input, "tool_choice": "auto",
        "reasoning": {"effort": "medium"}, "include": ["reasoning.encrypted_content"]}),
    )
    .unwrap()
}

/// A Gemini `generateContent` request of about `size` bytes, shaped like
/// Gemini CLI's (a system instruction, function declarations with JSON
/// schemas, a long run of user and model turns with function calls and
/// their responses, generation and safety settings).
fn gemini_body(size: usize) -> Vec<u8> {
    use serde_json::json;
    let declarations: Vec<_> = (0..8)
        .map(|i| json!({"name": format!("tool_{i}"), "description": "Reads a file from the workspace.",
            "parametersJsonSchema": {"type": "object", "properties": {"absolute_path": {"type": "string"}},
                                     "required": ["absolute_path"]}}))
        .collect();
    let mut contents = Vec::new();
    let mut i = 0;
    let mut len = 0;
    while len < size {
        let turn = [
            json!({"role": "user", "parts": [{"text": format!("Step {i}: the quick brown fox jumps over the lazy dog, \"quoted\" é ✓.")}]}),
            json!({"role": "model", "parts": [
                {"text": "Reading it."},
                {"functionCall": {"id": format!("call_{i}"), "name": "tool_1", "args": {"absolute_path": format!("/src/file_{i}.rs")}}}]}),
            json!({"role": "user", "parts": [
                {"functionResponse": {"id": format!("call_{i}"), "name": "tool_1", "response": {"output": "fn main() { println!(\"hello\"); }"}}}]}),
        ];
        len += turn.iter().map(|m| m.to_string().len() + 1).sum::<usize>();
        contents.extend(turn);
        i += 1;
    }
    contents.push(json!({"role": "user", "parts": [{"text": "Go on."}]}));
    serde_json::to_vec(&json!({"contents": contents,
        "systemInstruction": {"role": "user", "parts": [{"text": "You are Gemini CLI."}]},
        "tools": [{"functionDeclarations": declarations}],
        "generationConfig": {"temperature": 0, "topP": 1,
                             "thinkingConfig": {"includeThoughts": true, "thinkingBudget": -1}},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]}))
    .unwrap()
}

fn bench_translate(c: &mut Criterion) {
    use llm_proxy::translate::anthropic_openai::request::{
        chat_to_messages, messages_to_chat, ChatOptions,
    };
    use llm_proxy::translate::anthropic_openai::stream::{
        ChatToMessagesStream, MessagesToChatStream,
    };
    use llm_proxy::translate::gemini_openai::request::gemini_to_chat;
    use llm_proxy::translate::gemini_openai::response::chat_to_gemini_response;
    use llm_proxy::translate::gemini_openai::stream::ChatToGeminiStream;
    use llm_proxy::translate::responses_openai::request::responses_to_chat;
    use llm_proxy::translate::BodyTransform;
    let mut g = c.benchmark_group("translate");
    for (label, size) in [
        ("2KB", 2 * 1024),
        ("200KB", 200 * 1024),
        ("1MB", 1024 * 1024),
    ] {
        let body = messages_body("openai/gpt-4.1", size);
        g.throughput(Throughput::Bytes(body.len() as u64));
        // Bytes in, bytes out: the top level parsed, the mapping, the new body written.
        g.bench_with_input(
            BenchmarkId::new("messages_to_chat", label),
            &body,
            |b, body| {
                b.iter(|| {
                    let t = messages_to_chat(black_box(body), ChatOptions::default()).unwrap();
                    t.body.to_vec()
                })
            },
        );
        let anthropic_chat = chat_body("anthropic/claude", size);
        g.bench_with_input(
            BenchmarkId::new("chat_to_messages", label),
            &anthropic_chat,
            |b, body| {
                b.iter(|| {
                    let t = chat_to_messages(black_box(body)).unwrap();
                    t.body.to_vec()
                })
            },
        );
        let responses = responses_body("groq/llama-3.3-70b", size);
        g.bench_with_input(
            BenchmarkId::new("responses_to_chat", label),
            &responses,
            |b, body| {
                b.iter(|| {
                    let r = responses_to_chat(black_box(body), ChatOptions::default()).unwrap();
                    r.chat.body.to_vec()
                })
            },
        );
        let gemini = gemini_body(size);
        g.bench_with_input(
            BenchmarkId::new("gemini_to_chat", label),
            &gemini,
            |b, body| {
                b.iter(|| {
                    let t = gemini_to_chat(
                        black_box(body),
                        "openai/gpt-4o-mini",
                        true,
                        ChatOptions::default(),
                    )
                    .unwrap();
                    t.body.to_vec()
                })
            },
        );
        let src = settings_map();
        let ctx = Fixed {
            random: 1,
            now_ms: 0,
        };
        // The Gemini route's whole plan: the body checked, translated, and
        // planned as a chat request to OpenAI (what `gemini_plan` adds over
        // `gemini_to_chat` is the chat plan of the translated body).
        let gemini_head = RequestHead::new(
            "POST",
            "/v1beta/models/openai/gpt-4o-mini:streamGenerateContent?alt=sse",
            vec![
                (
                    "x-goog-api-key".into(),
                    b"proxy-key-0123456789abcdef".to_vec(),
                ),
                ("content-type".into(), b"application/json".to_vec()),
            ],
        );
        let Decision::WithBody { route, .. } = decide(&gemini_head, &src, &ctx).decision else {
            panic!("the Gemini route wants its body");
        };
        g.bench_with_input(
            BenchmarkId::new("gemini_plan", label),
            &gemini,
            |b, body| {
                b.iter(|| {
                    match plan_body(
                        route.clone(),
                        &gemini_head,
                        black_box(body),
                        &src,
                        &ctx,
                        None,
                        None,
                        None,
                    ) {
                        Planned::Forward(f) => f,
                        _ => panic!("the Gemini route forwards"),
                    }
                })
            },
        );
        // Baseline: what the untranslated chat route does with a body this size.
        let h = head("POST", "/v1/chat/completions");
        let openai_body = chat_body("openai/gpt-4o-mini", size);
        g.bench_with_input(
            BenchmarkId::new("baseline_chat_plan", label),
            &openai_body,
            |b, body| {
                b.iter(|| {
                    chat_completions::plan(&Inbound::new(&h, &src, &ctx), black_box(body)).unwrap()
                })
            },
        );
        // Baseline: a whole-body `serde_json::Value` round trip (what the
        // translators did before they borrowed).
        g.bench_with_input(
            BenchmarkId::new("baseline_value_roundtrip", label),
            &body,
            |b, body| {
                b.iter(|| {
                    let v: serde_json::Value = serde_json::from_slice(black_box(body)).unwrap();
                    serde_json::to_vec(&v).unwrap()
                })
            },
        );
    }
    // Per stream event: one OpenAI chunk in, Anthropic events out; and back.
    let chunk = br#"data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4.1","choices":[{"index":0,"delta":{"content":"Hello there, "},"finish_reason":null}]}

"#;
    g.throughput(Throughput::Elements(1));
    g.bench_function("stream_event/openai_to_anthropic", |b| {
        let mut t = ChatToMessagesStream::new("openai/gpt-4.1");
        let mut out = Vec::with_capacity(1024);
        t.push(chunk, &mut out);
        b.iter(|| {
            out.clear();
            t.push(black_box(chunk), &mut out);
        })
    });
    let event = br#"event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello there, "}}

"#;
    g.bench_function("stream_event/openai_to_responses", |b| {
        let mut t = llm_proxy::translate::responses_openai::stream::ChatToResponsesStream::new(
            "groq/m",
            Default::default(),
            0,
        );
        let mut out = Vec::with_capacity(1024);
        t.push(chunk, &mut out);
        b.iter(|| {
            out.clear();
            t.push(black_box(chunk), &mut out);
        })
    });
    g.bench_function("stream_event/openai_to_gemini", |b| {
        let mut t = ChatToGeminiStream::new("openai/gpt-4.1");
        let mut out = Vec::with_capacity(1024);
        t.push(chunk, &mut out);
        b.iter(|| {
            out.clear();
            t.push(black_box(chunk), &mut out);
        })
    });
    g.bench_function("stream_event/anthropic_to_openai", |b| {
        let mut t = MessagesToChatStream::new("anthropic/claude", 0, true);
        let mut out = Vec::with_capacity(1024);
        b.iter(|| {
            out.clear();
            t.push(black_box(event), &mut out);
        })
    });
    // Baseline: parsing the event alone (SSE framing + JSON), no translation.
    g.bench_function("stream_event/baseline_parse_only", |b| {
        let mut p = llm_proxy::translate::sse::SseParser::new();
        b.iter(|| {
            let mut n = 0;
            p.push(black_box(chunk), |e| {
                n += serde_json::from_str::<serde_json::Value>(&e.data).map_or(0, |_| 1)
            });
            n
        })
    });
    // A whole (non-streamed) answer: one chat completion with text and a
    // tool call, mapped to each client dialect; beside it the same body's
    // `serde_json::Value` round trip, no mapping.
    let answer = br#"{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"I will read the file first.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"read_file","arguments":"{\"absolute_path\":\"/src/main.rs\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1200,"completion_tokens":24,"total_tokens":1224}}"#;
    g.bench_function("answer/chat_to_gemini", |b| {
        b.iter(|| chat_to_gemini_response(black_box(answer), "openai/gpt-4o-mini").unwrap())
    });
    g.bench_function("answer/chat_to_messages", |b| {
        b.iter(|| {
            llm_proxy::translate::anthropic_openai::response::chat_to_messages_response(
                black_box(answer),
                "openai/gpt-4o-mini",
            )
            .unwrap()
        })
    });
    g.bench_function("answer/baseline_value_roundtrip", |b| {
        b.iter(|| {
            let v: serde_json::Value = serde_json::from_slice(black_box(answer)).unwrap();
            serde_json::to_vec(&v).unwrap()
        })
    });
    g.finish();
}

/// A 200-event OpenAI chat stream as `stream_options.include_usage` makes
/// it (`"usage":null` in each chunk, the usage-only chunk last), one
/// `Vec` per event.
fn chat_stream_events(n: usize) -> Vec<Vec<u8>> {
    let mut events = Vec::new();
    for i in 0..n {
        events.push(format!(
            "data: {{\"id\":\"chatcmpl-AbC123\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_0aa8d3e20b\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\" token{i} and\"}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n"
        ).into_bytes());
    }
    events.push(b"data: {\"id\":\"chatcmpl-AbC123\",\"object\":\"chat.completion.chunk\",\"created\":1741570283,\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_0aa8d3e20b\",\"choices\":[],\"usage\":{\"prompt_tokens\":1200,\"completion_tokens\":200,\"total_tokens\":1400,\"prompt_tokens_details\":{\"cached_tokens\":1024,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}\n\n".to_vec());
    events.push(b"data: [DONE]\n\n".to_vec());
    events
}

/// A chat completion of about `size` bytes (one long answer), its usage at
/// the end.
fn chat_answer(size: usize) -> Vec<u8> {
    let text = "The quick brown fox jumps over the lazy dog, \"quoted\" and unicode é ✓. "
        .repeat(size / 80);
    serde_json::to_vec(&serde_json::json!({
        "id": "chatcmpl-AbC123", "object": "chat.completion", "created": 1741570283,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null},
                     "logprobs": null, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1200, "completion_tokens": 16000, "total_tokens": 17200,
                  "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                  "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}},
        "service_tier": "default", "system_fingerprint": "fp_0aa8d3e20b"}))
    .unwrap()
}

fn bench_usage(c: &mut Criterion) {
    use llm_proxy::translate::BodyTransform;
    use llm_proxy::usage::{StripUsage, UsageTap};
    let events = chat_stream_events(200);
    let stream: Vec<u8> = events.concat();
    let answer = chat_answer(64 * 1024);
    let mut g = c.benchmark_group("usage");

    g.throughput(Throughput::Bytes(stream.len() as u64));
    g.bench_function("tap/chat_stream_200_events", |b| {
        b.iter(|| {
            let mut t = UsageTap::new();
            for e in &events {
                t.push(black_box(e));
            }
            t.usage().unwrap()
        })
    });
    g.bench_function("tap/chat_stream_one_chunk", |b| {
        b.iter(|| {
            let mut t = UsageTap::new();
            t.push(black_box(&stream));
            t.usage().unwrap()
        })
    });
    g.bench_function("strip/chat_stream_200_events", |b| {
        let mut out = Vec::with_capacity(stream.len());
        b.iter(|| {
            out.clear();
            let mut s = StripUsage::new();
            for e in &events {
                s.push(black_box(e), &mut out);
            }
            s.finish(true, &mut out);
            out.len()
        })
    });
    // Baseline: the same events through the SSE parser alone.
    g.bench_function("baseline_sse_parse_200_events", |b| {
        b.iter(|| {
            let mut p = llm_proxy::translate::sse::SseParser::new();
            let mut n = 0;
            for e in &events {
                p.push(black_box(e), |ev| n += ev.data.len());
            }
            n
        })
    });

    g.throughput(Throughput::Bytes(answer.len() as u64));
    g.bench_function("tap/answer_64k", |b| {
        b.iter(|| {
            let mut t = UsageTap::new();
            t.push(black_box(&answer));
            t.usage().unwrap()
        })
    });
    g.bench_function("tap/answer_64k_in_16k_chunks", |b| {
        b.iter(|| {
            let mut t = UsageTap::new();
            for c in answer.chunks(16 * 1024) {
                t.push(black_box(c));
            }
            t.usage().unwrap()
        })
    });
    // Baseline: parsing the whole answer to read its usage.
    g.bench_function("baseline_value_parse_64k", |b| {
        b.iter(|| {
            let v: serde_json::Value = serde_json::from_slice(black_box(&answer)).unwrap();
            v["usage"]["prompt_tokens"].as_u64()
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    bench_decide,
    bench_settings,
    bench_chat_rewrite,
    bench_translate,
    bench_usage
);
criterion_main!(benches);
