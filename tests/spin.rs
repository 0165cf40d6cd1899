//! The default (`spin`) flavour under a real `spin up`: the project's own
//! spin.toml (component path and a loopback outbound host adapted) and its
//! runtime-config.toml, settings as `SPIN_VARIABLE_*`.
//!
//! Needs a `spin` binary (`$SPIN` or on PATH; CI gets one from
//! ../shared/tools/spin). Without one each test says so and passes;
//! scripts/test.sh says it once more, clearly.

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;

fn skip() -> bool {
    if spin_binary().is_none() {
        eprintln!("SKIPPED: no spin binary (set SPIN= or put spin on PATH) — Spin tests not run");
        return true;
    }
    false
}

fn key_of(r: &Recorded) -> String {
    r.header("authorization")
        .unwrap_or("")
        .trim_start_matches("Bearer ")
        .to_string()
}

#[test]
fn settings_come_from_variables_with_the_environment_as_fallback_and_spin_headers_stay_home() {
    if skip() {
        return;
    }
    let mock = Mock::start(|r| {
        if r.path().ends_with("/chat/completions") {
            MockResponse::json(200, r#"{"id":"c","object":"chat.completion","choices":[]}"#)
        } else {
            MockResponse::json(200, r#"{"data":[]}"#)
        }
    });
    let proxy = Proxy::start_spin(
        &env(&[
            ("OPENAI_API_KEY", "sk-from-a-spin-variable"),
            ("OPENAI_BASE_URL", &mock.url("/v1")),
        ]),
        // Not a Spin variable: found in the component's environment.
        &env(&[("PROXY_API_KEY", PROXY_KEY)]),
        &[mock.port],
    )
    .unwrap();
    for (method, path, body) in [
        ("GET", "/openai/v1/models", &b""[..]),
        (
            "POST",
            "/v1/chat/completions",
            &br#"{"model":"openai/gpt-4o-mini","messages":[]}"#[..],
        ),
    ] {
        let resp = proxy.request(
            method,
            &format!("{path}?key={PROXY_KEY}"),
            &[("content-type", "application/json")],
            body,
        );
        assert_eq!(resp.status, 200, "{path}: {}", resp.text());
        let got = mock.received().pop().unwrap();
        assert_eq!(
            got.header("authorization"),
            Some("Bearer sk-from-a-spin-variable")
        );
        let spin: Vec<_> = got
            .headers
            .iter()
            .filter(|(n, _)| n.starts_with("spin-"))
            .collect();
        assert!(
            spin.is_empty(),
            "{path}: Spin's headers reached the provider: {spin:?}"
        );
        let chars: Vec<char> = PROXY_KEY.chars().collect();
        let seen = format!(
            "{} {:?} {}",
            got.target,
            got.headers,
            String::from_utf8_lossy(&got.body)
        );
        for w in chars.windows(8) {
            let w: String = w.iter().collect();
            assert!(
                !seen.contains(&w),
                "{path}: '{w}' of the proxy key reached the provider"
            );
        }
        assert!(resp.headers.iter().all(|(n, _)| !n.starts_with("spin-")));
    }
    // Without the key: refused, in the usual shape.
    assert_eq!(
        proxy.request("GET", "/openai/v1/models", &[], b"").status,
        401
    );
}

#[test]
fn round_robin_cycles_in_order_and_a_rate_limited_key_is_skipped_next_time() {
    if skip() {
        return;
    }
    let mock = Mock::start(|r| {
        if r.header("authorization") == Some("Bearer sk-b") {
            MockResponse::json(429, r#"{"error":{"message":"slow down"}}"#)
                .header("retry-after", "30")
        } else {
            MockResponse::json(200, r#"{"data":[]}"#)
        }
    });
    let proxy = Proxy::start_spin(
        &env(&[
            ("PROXY_API_KEY", PROXY_KEY),
            ("OPENAI_API_KEY", "sk-a,sk-b,sk-c"),
            ("OPENAI_BASE_URL", &mock.url("/v1")),
            ("ENABLE_GLOBAL_ROUND_ROBIN", "true"),
        ]),
        &[],
        &[mock.port],
    )
    .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(proxy.authed("GET", "/openai/v1/models", &[], b"").status);
    }
    let keys: Vec<String> = mock.received().iter().map(key_of).collect();
    // In order, across requests (instances): the counter is really shared.
    assert_eq!(
        keys,
        ["sk-a", "sk-b", "sk-c", "sk-a", "sk-c", "sk-c"],
        "{statuses:?}"
    );
    // sk-b got a 429 (relayed: RETRY is 0) and, cooling down, is skipped:
    // its next turn (request 5) goes to the next key.
    assert_eq!(statuses, [200, 429, 200, 200, 200, 200]);
    let status: Value = proxy.authed("GET", "/status", &[], b"").json();
    let cooldowns: Vec<u64> = status["providers"]["openai"]["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["cooldown"].as_u64().unwrap())
        .collect();
    assert_eq!(cooldowns[0], 0);
    assert!((25..=30).contains(&cooldowns[1]), "{cooldowns:?}");
    assert_eq!(status["config"]["sharedStore"], true);
}

#[test]
fn streams_reach_the_client_event_by_event() {
    if skip() {
        return;
    }
    let mock = Mock::start(|_| MockResponse::sse(6, Duration::from_millis(150)));
    let proxy = Proxy::start_spin(
        &env(&[
            ("PROXY_API_KEY", PROXY_KEY),
            ("OPENAI_API_KEY", "sk-o"),
            ("OPENAI_BASE_URL", &mock.url("/v1")),
        ]),
        &[],
        &[mock.port],
    )
    .unwrap();
    let resp = proxy.authed(
        "POST",
        "/v1/chat/completions",
        &[],
        br#"{"model":"openai/gpt","stream":true,"messages":[]}"#,
    );
    assert_eq!(resp.status, 200);
    let first = resp.arrival_of("event-0").unwrap();
    let last = resp.arrival_of("event-5").unwrap();
    assert!(
        last - first >= Duration::from_millis(600),
        "first {first:?} last {last:?}"
    );
}

#[test]
fn a_host_missing_from_allowed_outbound_hosts_is_a_502_that_says_so() {
    if skip() {
        return;
    }
    let allowed = Mock::echo();
    let forbidden = Mock::echo();
    let proxy = Proxy::start_spin(
        &env(&[
            ("PROXY_API_KEY", PROXY_KEY),
            ("OPENAI_API_KEY", "sk-o"),
            ("OPENAI_BASE_URL", &forbidden.url("/v1")),
        ]),
        &[],
        &[allowed.port],
    )
    .unwrap();
    let resp = proxy.authed("GET", "/openai/v1/models", &[], b"");
    assert_eq!(resp.status, 502, "{}", resp.text());
    let message = resp.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("allowed_outbound_hosts"), "{message}");
    assert!(forbidden.received().is_empty());
}

#[test]
fn a_vertex_token_is_minted_once_and_shared_through_the_store() {
    if skip() {
        return;
    }
    let mock = Mock::start(|r| {
        if r.path() == "/token" {
            MockResponse::json(200, r#"{"access_token":"ya29.shared","expires_in":3599}"#)
        } else if r.header("authorization") == Some("Bearer ya29.shared") {
            MockResponse::json(
                200,
                r#"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#,
            )
        } else {
            MockResponse::json(401, r#"{"error":{"code":401}}"#)
        }
    });
    let proxy = Proxy::start_spin(
        &env(&[
            ("PROXY_API_KEY", PROXY_KEY),
            (
                "VERTEX_SERVICE_ACCOUNT_JSON",
                include_str!("fixtures/test-service-account.json"),
            ),
            ("VERTEX_TOKEN_URI", &mock.url("/token")),
            ("GOOGLE_VERTEX_AI_BASE_URL", &mock.url("")),
        ]),
        &[],
        &[mock.port],
    )
    .unwrap();
    for _ in 0..3 {
        let resp = proxy.authed(
            "POST",
            "/v1/chat/completions",
            &[],
            br#"{"model":"google-vertex-ai/gemini-2.0-flash","messages":[{"role":"user","content":"hi"}]}"#,
        );
        assert_eq!(resp.status, 200, "{}", resp.text());
    }
    let got = mock.received();
    let tokens = got.iter().filter(|r| r.path() == "/token").count();
    assert_eq!(tokens, 1, "one exchange for three requests: {got:#?}");
    assert_eq!(got.iter().filter(|r| r.path() != "/token").count(), 3);
}

#[test]
fn a_body_the_proxy_writes_asks_for_100_continue_and_a_handed_on_one_does_not() {
    if skip() {
        return;
    }
    let mock = Mock::start(|_| {
        MockResponse::json(200, r#"{"id":"c","object":"chat.completion","choices":[]}"#)
    });
    let proxy = Proxy::start_spin(
        &env(&[
            ("PROXY_API_KEY", PROXY_KEY),
            ("OPENAI_API_KEY", "sk-o"),
            ("OPENAI_BASE_URL", &mock.url("/v1")),
        ]),
        &[],
        &[mock.port],
    )
    .unwrap();
    let body = br#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let resp = proxy.authed("POST", "/v1/chat/completions", &[], body);
    assert_eq!(resp.status, 200, "{}", resp.text());
    let passed = br#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let resp = proxy.authed("POST", "/openai/v1/chat/completions", &[], passed);
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = mock.received();
    assert_eq!(got.len(), 2);
    // The rewritten body (model without its provider) was written by the
    // proxy: under WASIp3 it asks for 100 Continue (see src/edge_p3/outbound.rs);
    // the pass-through body is the client's own stream and does not.
    assert!(String::from_utf8_lossy(&got[0].body).contains(r#""model":"gpt-4o-mini""#));
    let expect = if edge() == "p3" {
        Some("100-continue")
    } else {
        None
    };
    assert_eq!(got[0].header("expect"), expect);
    assert_eq!(got[1].header("expect"), None);
    assert_eq!(got[1].body, passed.to_vec());
}

#[test]
fn a_gemini_client_is_answered_under_spin_translated_and_native() {
    if skip() {
        return;
    }
    let openai = common::llm::openai_mock();
    let google = Mock::start(|_| {
        MockResponse::json(
            200,
            r#"{"candidates":[{"content":{"role":"model","parts":[{"text":"native"}]},"finishReason":"STOP"}]}"#,
        )
    });
    let proxy = Proxy::start_spin(
        &env(&[
            ("PROXY_API_KEY", PROXY_KEY),
            ("OPENAI_API_KEY", "sk-o"),
            ("OPENAI_BASE_URL", &openai.url("/v1")),
            ("GEMINI_API_KEY", "AIza-up"),
            ("GOOGLE_AI_STUDIO_BASE_URL", &google.url("")),
        ]),
        &[],
        &[openai.port, google.port],
    )
    .unwrap();
    let body = br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#;
    let key = [("x-goog-api-key", PROXY_KEY)];
    let resp = proxy.request(
        "POST",
        "/v1beta/models/openai/gpt-4o-mini:streamGenerateContent?alt=sse",
        &key,
        body,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let text = resp.text();
    assert!(text.contains(r#""text":"Hello""#), "{text}");
    assert!(text.contains(r#""finishReason":"STOP""#), "{text}");
    let first = resp.arrival_of("Hello").unwrap();
    let last = resp.arrival_of("finishReason").unwrap();
    assert!(
        last - first >= Duration::from_millis(400),
        "{first:?} {last:?}"
    );
    assert_eq!(openai.only().path(), "/v1/chat/completions");

    let resp = proxy.request(
        "POST",
        "/v1beta/models/gemini-2.5-flash:generateContent",
        &key,
        body,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let v: Value = resp.json();
    assert_eq!(v["candidates"][0]["content"]["parts"][0]["text"], "native");
    let got = google.only();
    assert_eq!(
        got.target,
        "/v1beta/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(got.header("x-goog-api-key"), Some("AIza-up"));
    assert_eq!(got.body, body.to_vec());
}
