//! Criterion benchmarks of what the team gateway (docs/team.md) does per
//! request in the core, native: the whole core of one chat completion
//! (decide, plan, the ledger's log line and end-of-request counters) with
//! the plain settings and with the team's (PROXY_KEYS, MODEL_ROUTES,
//! MODEL_PRICES), and its parts — each setting parsed, the request id, the
//! log line, the usage tap over the bench mock's answer. Also prints the
//! host calls each case makes (store increments and gets, random, clock).
//!
//!   cargo bench --bench team

use criterion::{criterion_group, criterion_main, Criterion};
use llm_proxy::host::fake::FakeHost;
use llm_proxy::host::Host;
use llm_proxy::ledger::{self, Ledger};
use llm_proxy::pipeline::{decide, plan_body, Decision, Planned};
use llm_proxy::request::RequestHead;
use llm_proxy::settings::{self, Cached, SettingSource};
use llm_proxy::usage::UsageTap;
use std::collections::HashMap;
use std::hint::black_box;

const CLIENT_KEY: &str = "bench-client-key";
const ROUTES: &str = r#"{"smart":["openai/gpt-4o-mini","anthropic/claude-sonnet-4-5"]}"#;
const PRICES: &str = r#"{"openai/gpt-4o-mini":{"input":0.15,"output":0.6},"anthropic/claude-sonnet-4-5":{"input":3,"output":15}}"#;
/// bench/mock_upstream.rs's non-streaming answer.
const ANSWER: &[u8] = br#"{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}}"#;

fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn plain() -> HashMap<String, String> {
    settings::from_pairs(&[
        ("PROXY_API_KEY", "bench-proxy-key"),
        ("OPENAI_API_KEY", "sk-bench-upstream"),
        ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1"),
        ("ANTHROPIC_API_KEY", "sk-ant-bench-upstream"),
        ("ANTHROPIC_BASE_URL", "http://127.0.0.1:9"),
    ])
}

fn proxy_keys() -> String {
    let sha = sha256_hex(CLIENT_KEY);
    format!(
        r#"[{{"name":"bench-client","sha256":"{sha}","models":["openai/*","smart"],"rpm":100000000,"tpm":1000000000}}]"#
    )
}

fn team() -> HashMap<String, String> {
    let mut m = plain();
    m.insert("PROXY_KEYS".into(), proxy_keys());
    m.insert("MODEL_ROUTES".into(), ROUTES.into());
    m.insert("MODEL_PRICES".into(), PRICES.into());
    m
}

fn head(key: &str) -> RequestHead {
    RequestHead::new(
        "POST",
        "/v1/chat/completions",
        vec![
            ("authorization".into(), format!("Bearer {key}").into_bytes()),
            ("content-type".into(), b"application/json".to_vec()),
        ],
    )
}

fn body(model: &str) -> Vec<u8> {
    format!(r#"{{"model":"{model}","messages":[{{"role":"system","content":"You are terse."}},{{"role":"user","content":"Say hello."}}],"temperature":0.2}}"#).into_bytes()
}

/// One chat completion through the core as the p3 edge drives it, the
/// upstream's answer tapped; the ledger finished (counters with a store,
/// the log line). Returns the log line.
fn request(head: &RequestHead, body: &[u8], src: &dyn SettingSource, host: &dyn Host) -> String {
    let mut ledger = Ledger::new(head, ledger::request_id(head, host), 0);
    let decided = decide(head, src, host);
    ledger.decided(&decided);
    let Decision::WithBody {
        route,
        selection,
        gateway,
        ..
    } = decided.decision
    else {
        panic!("not a body route: {}", decided.route)
    };
    let Planned::Forward(fwd) = plan_body(
        route,
        head,
        body,
        src,
        host,
        selection,
        gateway.as_ref(),
        decided.caller.as_ref(),
    ) else {
        panic!("not forwarded")
    };
    ledger.forwarding(&fwd, src);
    ledger.status = 200;
    ledger.upstream_status = Some(200);
    ledger.attempts = 1;
    ledger.whole = true;
    let mut tap = UsageTap::new();
    tap.push(ANSWER);
    ledger.finish(tap.usage(), 1_000_000, host)
}

fn bench_team(c: &mut Criterion) {
    let plain = Cached::new(plain());
    let team = Cached::new(team());
    let all_access = head("bench-proxy-key");
    let client = head(CLIENT_KEY);
    let chat = body("openai/gpt-4o-mini");
    let smart = body("smart");
    let cases: [(&str, &dyn SettingSource, &RequestHead, &[u8]); 4] = [
        ("plain settings, all-access key", &plain, &all_access, &chat),
        (
            "team settings, (a) all-access key",
            &team,
            &all_access,
            &chat,
        ),
        ("team settings, (b) client key", &team, &client, &chat),
        ("team settings, (c) route smart", &team, &all_access, &smart),
    ];
    println!("| case | host | store increments | store gets | store open | random | clock |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: |");
    for (name, src, h, b) in cases {
        for (hn, host) in [
            (
                "no store (wasmtime serve)",
                FakeHost::storeless().with_memory(),
            ),
            ("store (spin up)", FakeHost::new().with_memory()),
        ] {
            if name.contains("(b)") && hn.starts_with("no store") {
                continue; // refused with 503 there
            }
            request(h, b, src, &host);
            host.reset_calls();
            let line = request(h, b, src, &host);
            assert!(line.contains("\"input_tokens\":9"), "{line}");
            let c = host.calls();
            println!(
                "| {name} | {hn} | {} | {} | {} | {} | {} |",
                c.store_increment, c.store_get, c.store_open, c.random, c.clock
            );
        }
    }
    let mut g = c.benchmark_group("team");
    for (name, src, h, b) in cases {
        let host = if name.contains("(b)") {
            FakeHost::new().with_memory()
        } else {
            FakeHost::storeless().with_memory()
        };
        g.bench_function(format!("request/{name}"), |bn| {
            bn.iter(|| request(black_box(h), black_box(b), src, &host))
        });
    }
    let raw_keys = proxy_keys();
    g.bench_function("parse/PROXY_KEYS (one key)", |b| {
        b.iter(|| llm_proxy::client_keys::parse(black_box(&raw_keys)).unwrap())
    });
    g.bench_function("parse/MODEL_ROUTES (one route)", |b| {
        b.iter(|| llm_proxy::model_routes::parse(black_box(ROUTES)).unwrap())
    });
    g.bench_function("parse/MODEL_PRICES (two)", |b| {
        b.iter(|| llm_proxy::prices::parse(black_box(PRICES)).unwrap())
    });
    let host = FakeHost::storeless();
    g.bench_function("request_id (generated)", |b| {
        b.iter(|| ledger::request_id(black_box(&all_access), &host))
    });
    g.bench_function("usage tap (the mock's 284 B answer)", |b| {
        b.iter(|| {
            let mut t = UsageTap::new();
            t.push(black_box(ANSWER));
            t.usage()
        })
    });
    let mut led = Ledger::new(&all_access, "0123456789abcdef0123456789abcdef".into(), 0);
    led.status = 200;
    let usage = {
        let mut t = UsageTap::new();
        t.push(ANSWER);
        t.usage()
    };
    g.bench_function("log line (serde_json Value)", |b| {
        b.iter(|| led.line(black_box(usage), Some(7), 1_000_000))
    });
    g.finish();
}

criterion_group!(benches, bench_team);
criterion_main!(benches);
