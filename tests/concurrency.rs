//! One instance, many requests (issue 18): a WASIp3 instance serves up to 16
//! requests at once, interleaved at each `await`. Requests for different
//! providers, with different keys, streamed and not, translated and not, are
//! sent all at once; each upstream must get only its own request (its key,
//! its body) and each client only its own answer. Under `wasmtime serve`
//! and, when there is a `spin`, under `spin up`.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

const OPENAI_KEY: &str = "sk-openai-AAAAAAAAAAAA";
const GROQ_KEY: &str = "gsk-groq-BBBBBBBBBBBB";
const ANTHROPIC_KEY: &str = "sk-ant-CCCCCCCCCCCC";

/// The marker a request carries in its one message.
fn marker_of(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let start = text.find("req-").expect("a marker in the body");
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// An OpenAI-compatible provider that answers (after a pause, so that every
/// request is in flight at once) with the marker and the key it received.
fn chat_mock() -> Mock {
    Mock::start(|r| {
        let body: Value = serde_json::from_slice(&r.body).unwrap_or_default();
        let said = format!(
            "{} {}",
            marker_of(&r.body),
            r.header("authorization").unwrap_or("")
        );
        if body["stream"] == json!(true) {
            let chunk = |content: &str| {
                format!(
                    "data: {}\n\n",
                    json!({"id":"c","object":"chat.completion.chunk","model":"m",
                        "choices":[{"index":0,"delta":{"content":content},"finish_reason":null}]})
                )
                .into_bytes()
            };
            let pause = Duration::from_millis(150);
            MockResponse::events(vec![
                (pause, chunk(&said)),
                (pause, chunk("")),
                (Duration::ZERO, b"data: [DONE]\n\n".to_vec()),
            ])
        } else {
            let mut resp = MockResponse::json(
                200,
                &json!({"id":"c","object":"chat.completion","model":"m","choices":[
                    {"index":0,"message":{"role":"assistant","content":said},"finish_reason":"stop"}]})
                .to_string(),
            );
            resp.delay = Duration::from_millis(300);
            resp
        }
    })
}

/// Anthropic's Messages API, the same way (the proxy translates to it).
fn messages_mock() -> Mock {
    Mock::start(|r| {
        let said = format!(
            "{} {}",
            marker_of(&r.body),
            r.header("x-api-key").unwrap_or("")
        );
        let mut resp = MockResponse::json(
            200,
            &json!({"id":"msg","type":"message","role":"assistant","model":"claude",
                "content":[{"type":"text","text":said}],"stop_reason":"end_turn",
                "usage":{"input_tokens":1,"output_tokens":1}})
            .to_string(),
        );
        resp.delay = Duration::from_millis(300);
        resp
    })
}

/// What a client got back as the assistant's text (whole or streamed).
fn answer_text(resp: &Response, stream: bool) -> String {
    if !stream {
        return resp.json()["choices"][0]["message"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string();
    }
    let text = resp.text();
    assert!(
        text.contains("data: [DONE]"),
        "stream without its end: {text}"
    );
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(String::from)
        })
        .collect()
}

fn interleaved_requests_stay_apart(proxy: &Proxy, openai: &Mock, groq: &Mock, anthropic: &Mock) {
    const N: usize = 24;
    let port = proxy.port;
    let threads: Vec<_> = (0..N)
        .map(|i| {
            std::thread::spawn(move || {
                let (model, key) = match i % 3 {
                    0 => ("openai/gpt-4o-mini", format!("Bearer {OPENAI_KEY}")),
                    1 => ("groq/llama-3.3-70b-versatile", format!("Bearer {GROQ_KEY}")),
                    _ => ("anthropic/claude-sonnet-4-6", ANTHROPIC_KEY.to_string()),
                };
                let stream = i % 2 == 1 && i % 3 != 2;
                let marker = format!("req-{i}-{}", model.split('/').next().unwrap_or(""));
                let body = json!({"model": model, "stream": stream,
                    "messages":[{"role":"user","content": marker}]});
                let resp = request(
                    port,
                    "POST",
                    "/v1/chat/completions",
                    &[
                        ("authorization", &format!("Bearer {PROXY_KEY}")),
                        ("content-type", "application/json"),
                    ],
                    body.to_string().as_bytes(),
                );
                assert_eq!(resp.status, 200, "request {i}: {}", resp.text());
                (i, marker, key, answer_text(&resp, stream))
            })
        })
        .collect();
    for t in threads {
        let (i, marker, key, said) = t.join().expect("a client thread");
        // Each client got its own answer: its marker, and the key of its
        // provider was the one that reached that provider.
        assert_eq!(said, format!("{marker} {key}"), "request {i}");
    }
    // Each upstream got only its own requests, each with its provider's key.
    for (mock, header, key, n) in [
        (
            openai,
            "authorization",
            format!("Bearer {OPENAI_KEY}"),
            N / 3,
        ),
        (groq, "authorization", format!("Bearer {GROQ_KEY}"), N / 3),
        (anthropic, "x-api-key", ANTHROPIC_KEY.to_string(), N / 3),
    ] {
        let got = mock.received();
        assert_eq!(got.len(), n, "{key}: {got:#?}");
        let mut markers: Vec<String> = Vec::new();
        for r in &got {
            assert_eq!(r.header(header), Some(key.as_str()));
            assert_eq!(String::from_utf8_lossy(&r.body).matches("req-").count(), 1);
            markers.push(marker_of(&r.body));
        }
        markers.sort();
        markers.dedup();
        assert_eq!(markers.len(), n, "a request reached its provider twice");
    }
}

fn settings(openai: &Mock, groq: &Mock, anthropic: &Mock) -> Vec<(&'static str, String)> {
    env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", OPENAI_KEY),
        ("GROQ_API_KEY", GROQ_KEY),
        ("ANTHROPIC_API_KEY", ANTHROPIC_KEY),
        ("OPENAI_BASE_URL", &openai.url("/v1")),
        ("GROQ_BASE_URL", &groq.url("/openai/v1")),
        ("ANTHROPIC_BASE_URL", &anthropic.url("")),
    ])
}

/// How many requests each instance began, from the log lines' `instance` tags
/// (waiting a little for the host's log to catch up with `n` lines).
fn requests_per_instance(proxy: &Proxy, n: usize) -> BTreeMap<String, usize> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut per = BTreeMap::new();
        for line in proxy.log() {
            if let Some(tag) = line.split("\"instance\":\"").nth(1) {
                let id = tag.split('#').next().unwrap_or_default().to_string();
                *per.entry(id).or_insert(0) += 1;
            }
        }
        if per.values().sum::<usize>() >= n || std::time::Instant::now() > deadline {
            return per;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn interleaved_requests_through_one_instance_under_wasmtime() {
    let (openai, groq, anthropic) = (chat_mock(), chat_mock(), messages_mock());
    let proxy = Proxy::start(&settings(&openai, &groq, &anthropic));
    interleaved_requests_stay_apart(&proxy, &openai, &groq, &anthropic);
    if edge() == "p3" {
        let per = requests_per_instance(&proxy, 24);
        // Reuse happened: some instance served several of the requests,
        // which were all in flight at once (each upstream waits 300 ms).
        assert!(
            per.values().any(|&n| n >= 2),
            "no instance served two requests: {per:?}\n{:?}",
            proxy.log()
        );
    }
}

#[test]
fn interleaved_requests_through_one_instance_under_spin() {
    if spin_binary().is_none() {
        eprintln!("SKIPPED: no spin binary (set SPIN= or put spin on PATH)");
        return;
    }
    let (openai, groq, anthropic) = (chat_mock(), chat_mock(), messages_mock());
    let proxy = Proxy::start_spin(
        &settings(&openai, &groq, &anthropic),
        &[],
        &[openai.port, groq.port, anthropic.port],
    )
    .unwrap();
    interleaved_requests_stay_apart(&proxy, &openai, &groq, &anthropic);
    if edge() == "p3" {
        let per = requests_per_instance(&proxy, 24);
        assert!(
            per.values().any(|&n| n >= 2),
            "no instance served two requests: {per:?}"
        );
    }
}
