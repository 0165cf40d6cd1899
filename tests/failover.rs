//! Failover across keys (RETRY) under `wasmtime serve`: what the mock saw,
//! in which order, and what the client got.

mod common;

use common::*;
use std::time::{Duration, Instant};

fn key_of(r: &Recorded) -> String {
    r.header("authorization")
        .unwrap_or("")
        .trim_start_matches("Bearer ")
        .to_string()
}

fn proxy(mock: &Mock, keys: &str, retry: &str) -> Proxy {
    Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", keys),
        ("OPENAI_BASE_URL", &mock.url("/v1")),
        ("RETRY", retry),
    ]))
}

#[test]
fn a_rate_limited_key_is_answered_by_the_next_key() {
    let mock = Mock::start(|r| match key_of(r).as_str() {
        "k-limited" => {
            MockResponse::json(429, r#"{"error":"rate limited"}"#).header("retry-after", "1")
        }
        _ => MockResponse::json(200, r#"{"ok":true}"#),
    });
    let proxy = proxy(&mock, "k-limited,k-good", "1");
    // The first key is chosen at random: repeat until a request starts with
    // the limited key (1 in 2 each time).
    let mut saw_failover = false;
    for _ in 0..30 {
        let before = mock.received().len();
        let started = Instant::now();
        let resp = proxy.authed(
            "POST",
            "/openai/v1/chat/completions",
            &[],
            br#"{"model":"x"}"#,
        );
        assert_eq!(resp.status, 200, "{}", resp.text());
        assert_eq!(resp.text(), r#"{"ok":true}"#);
        let seen: Vec<String> = mock.received()[before..].iter().map(key_of).collect();
        if seen[0] == "k-limited" {
            assert_eq!(seen, ["k-limited", "k-good"]);
            assert_eq!(resp.header("x-llm-proxy-attempts"), Some("2"));
            // Retry-After: 1 was honoured.
            assert!(
                started.elapsed() >= Duration::from_millis(900),
                "{:?}",
                started.elapsed()
            );
            let bodies: Vec<Vec<u8>> = mock.received()[before..]
                .iter()
                .map(|r| r.body.clone())
                .collect();
            assert_eq!(
                bodies,
                [br#"{"model":"x"}"#.to_vec(), br#"{"model":"x"}"#.to_vec()],
                "the body is replayed"
            );
            saw_failover = true;
            break;
        }
        assert_eq!(seen, ["k-good"]);
        assert_eq!(resp.header("x-llm-proxy-attempts"), Some("1"));
    }
    assert!(saw_failover, "no request started with the limited key");
    let line = proxy.wait_log("llm-proxy retry provider=openai attempt=1");
    assert!(
        line.contains("429") && !line.contains("k-limited"),
        "{line}"
    );
}

#[test]
fn chat_completions_fail_over_too() {
    let mock = Mock::start(|r| match key_of(r).as_str() {
        "k-down" => MockResponse::json(503, r#"{"error":"overloaded"}"#),
        _ => MockResponse::json(200, r#"{"choices":[]}"#),
    });
    let proxy = proxy(&mock, "k-down, k-up", "1");
    for _ in 0..12 {
        let resp = proxy.authed(
            "POST",
            "/v1/chat/completions",
            &[],
            br#"{"model":"openai/gpt","messages":[]}"#,
        );
        assert_eq!(resp.status, 200, "{}", resp.text());
    }
    let keys: Vec<String> = mock.received().iter().map(key_of).collect();
    // Every request ends at k-up; each k-down attempt is followed by k-up.
    assert_eq!(keys.iter().filter(|k| *k == "k-up").count(), 12);
    for (i, k) in keys.iter().enumerate() {
        if k == "k-down" {
            assert_eq!(keys[i + 1], "k-up");
        }
    }
    assert!(
        keys.contains(&"k-down".to_string()),
        "random start never chose k-down: {keys:?}"
    );
}

#[test]
fn when_every_attempt_fails_the_last_failure_is_relayed() {
    let mock = Mock::start(|r| {
        MockResponse::json(503, &format!(r#"{{"error":"down for {}"}}"#, key_of(r)))
            .header("x-upstream", "mock")
    });
    let proxy = proxy(&mock, "k0,k1", "2");
    let resp = proxy.authed("GET", "/openai/v1/models", &[], b"");
    assert_eq!(resp.status, 503);
    assert_eq!(resp.header("x-llm-proxy-attempts"), Some("3"));
    assert_eq!(resp.header("x-upstream"), Some("mock"));
    let keys: Vec<String> = mock.received().iter().map(key_of).collect();
    assert_eq!(keys.len(), 3);
    assert_ne!(keys[0], keys[1], "the second attempt uses the next key");
    assert_eq!(keys[0], keys[2]);
    assert_eq!(
        resp.text(),
        format!(r#"{{"error":"down for {}"}}"#, keys[2])
    );
}

#[test]
fn unreachable_upstream_is_retried_then_502_with_the_count() {
    let closed = closed_port();
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", "k0"),
        ("OPENAI_BASE_URL", &format!("http://127.0.0.1:{closed}/v1")),
        ("RETRY", "1"),
    ]));
    let resp = proxy.authed("GET", "/openai/models", &[], b"");
    assert_eq!(resp.status, 502);
    assert_eq!(resp.header("x-llm-proxy-attempts"), Some("2"));
    assert_eq!(resp.json()["error"]["code"], "upstream_unreachable");
}

#[test]
fn unauthorized_is_retried_only_with_several_keys() {
    let mock = Mock::start(|r| match key_of(r).as_str() {
        "k-revoked" => MockResponse::json(401, r#"{"error":"bad key"}"#),
        _ => MockResponse::json(200, "{}"),
    });
    let single = proxy(&mock, "k-revoked", "3");
    let resp = single.authed("GET", "/openai/models", &[], b"");
    assert_eq!(resp.status, 401);
    assert_eq!(resp.header("x-llm-proxy-attempts"), Some("1"));
    assert_eq!(mock.received().len(), 1);
    drop(single);
    let several = proxy(&mock, "k-revoked,k-fine", "1");
    for _ in 0..8 {
        assert_eq!(
            several.authed("GET", "/openai/models", &[], b"").status,
            200
        );
    }
}

#[test]
fn a_stream_that_already_sent_bytes_is_never_retried() {
    let mock = Mock::start(|_| MockResponse {
        status: 200,
        headers: vec![("content-type".into(), "text/event-stream".into())],
        delay: Duration::ZERO,
        body: MockBody::Truncated(vec![
            (Duration::ZERO, b"data: one\n\n".to_vec()),
            (Duration::from_millis(50), b"data: two\n\n".to_vec()),
        ]),
    });
    let proxy = proxy(&mock, "k0,k1", "3");
    let resp = try_request(
        proxy.port,
        "POST",
        "/openai/v1/chat/completions",
        &[("authorization", &format!("Bearer {PROXY_KEY}"))],
        br#"{"stream":true}"#,
    );
    if let Ok(resp) = resp {
        assert_eq!(resp.status, 200);
    }
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        mock.received().len(),
        1,
        "a started stream must not be retried"
    );
}

#[test]
fn bodies_over_ten_megabytes_are_sent_once() {
    let mock = Mock::start(|_| MockResponse::json(500, r#"{"error":"nope"}"#));
    let proxy = proxy(&mock, "k0,k1", "2");
    let body: Vec<u8> = (0..20 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let resp = proxy.authed(
        "POST",
        "/openai/v1/files",
        &[("content-type", "application/octet-stream")],
        &body,
    );
    assert_eq!(resp.status, 500);
    assert_eq!(resp.header("x-llm-proxy-attempts"), Some("1"));
    let got = mock.only();
    assert_eq!(got.body.len(), body.len());
    assert!(got.body == body);
    // A small body is replayed on every attempt.
    let resp = proxy.authed("POST", "/openai/v1/files", &[], b"small");
    assert_eq!(resp.header("x-llm-proxy-attempts"), Some("3"));
    assert!(mock.received()[1..].iter().all(|r| r.body == b"small"));
}

#[test]
fn a_pinned_key_stays_pinned_during_failover() {
    let mock = Mock::start(|_| MockResponse::json(500, "{}"));
    let proxy = proxy(&mock, "k0,k1,k2", "2");
    let resp = proxy.authed("GET", "/key/1/openai/models", &[], b"");
    assert_eq!(resp.header("x-llm-proxy-attempts"), Some("3"));
    let keys: Vec<String> = mock.received().iter().map(key_of).collect();
    assert_eq!(keys, ["k1", "k1", "k1"]);
    // A range keeps failover inside the range.
    let before = mock.received().len();
    proxy.authed("GET", "/key/1-2/openai/models", &[], b"");
    let keys: Vec<String> = mock.received()[before..].iter().map(key_of).collect();
    assert_eq!(keys.len(), 3);
    assert!(keys.iter().all(|k| k == "k1" || k == "k2"), "{keys:?}");
}

#[test]
fn without_retry_nothing_is_retried() {
    let mock = Mock::start(|_| MockResponse::json(503, "{}"));
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", "k0,k1"),
        ("OPENAI_BASE_URL", &mock.url("/v1")),
    ]));
    let resp = proxy.authed("GET", "/openai/models", &[], b"");
    assert_eq!(resp.status, 503);
    assert_eq!(resp.header("x-llm-proxy-attempts"), Some("1"));
    assert_eq!(mock.received().len(), 1);
}
