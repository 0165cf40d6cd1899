//! Criterion benchmarks of the sans-IO core's hot path: the route + auth
//! decision, settings parsing, and the chat body rewrite (2 KB and 200 KB),
//! each with a baseline measured in the same run where one makes sense.
//!
//!   cargo bench --bench core

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use llm_proxy::handlers::chat_completions;
use llm_proxy::host::Fixed;
use llm_proxy::pipeline::decide;
use llm_proxy::request::RequestHead;
use llm_proxy::settings;
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
    while serde_json::to_vec(&messages).unwrap().len() < size {
        messages.push(serde_json::json!({"role": if i % 2 == 0 { "user" } else { "assistant" },
            "content": format!("Message {i}: the quick brown fox jumps over the lazy dog, \"quoted\" and unicode é ✓.")}));
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
                        chat_completions::plan(&h, black_box(body), &src, None, &ctx, None).unwrap()
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

criterion_group!(benches, bench_decide, bench_settings, bench_chat_rewrite);
criterion_main!(benches);
