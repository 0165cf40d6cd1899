//! Pass-through `/{provider}/...` under `wasmtime serve`, every provider
//! pointed at a loopback mock: what the upstream received and what the client got.

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;

/// (route, the real base URL's path, key setting, auth header, auth value prefix)
/// — written out here independently of the route table, so a wrong row fails.
const ROWS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "openai",
        "/v1",
        "OPENAI_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "google-ai-studio",
        "",
        "GEMINI_API_KEY",
        "x-goog-api-key",
        "",
    ),
    ("anthropic", "", "ANTHROPIC_API_KEY", "x-api-key", ""),
    (
        "cerebras",
        "/v1",
        "CEREBRAS_API_KEY",
        "authorization",
        "Bearer ",
    ),
    ("cohere", "", "COHERE_API_KEY", "authorization", "Bearer "),
    (
        "deepseek",
        "",
        "DEEPSEEK_API_KEY",
        "authorization",
        "Bearer ",
    ),
    ("grok", "", "GROK_API_KEY", "authorization", "Bearer "),
    (
        "groq",
        "/openai/v1",
        "GROQ_API_KEY",
        "authorization",
        "Bearer ",
    ),
    ("mistral", "", "MISTRAL_API_KEY", "authorization", "Bearer "),
    (
        "perplexity-ai",
        "",
        "PERPLEXITY_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "openrouter",
        "/api",
        "OPENROUTER_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "workers-ai",
        "/client/v4/accounts/acct123/ai",
        "CLOUDFLARE_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "huggingface",
        "",
        "HUGGINGFACE_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "replicate",
        "/v1",
        "REPLICATE_API_KEY",
        "authorization",
        "Bearer ",
    ),
    (
        "ollama",
        "/v1",
        "OLLAMA_API_KEY",
        "authorization",
        "Bearer ",
    ),
];

fn key_of(route: &str) -> String {
    format!("sk-{route}-provider-key")
}

/// Settings pointing every provider (and one custom endpoint) at `mock`.
fn all_providers(mock: &Mock) -> Vec<(&'static str, String)> {
    let mut env = env(&[("PROXY_API_KEY", PROXY_KEY)]);
    for (route, base_path, key_setting, _, _) in ROWS {
        let base_setting = format!("{}_BASE_URL", route.to_uppercase().replace('-', "_"));
        let base_setting: &'static str = Box::leak(base_setting.into_boxed_str());
        env.push((base_setting, mock.url(base_path)));
        env.push((key_setting, key_of(route)));
    }
    env.push((
        "CUSTOM_OPENAI_ENDPOINTS",
        serde_json::json!([{"name": "mycustom", "baseUrl": mock.url("/custom/v1"), "apiKeys": ["sk-custom-key"]},
                           {"name": "keyless", "baseUrl": mock.url("/open")}])
        .to_string(),
    ));
    env
}

#[test]
fn every_provider_row_forwards_url_body_auth_and_client_headers() {
    let mock = Mock::echo();
    let proxy = Proxy::start(&all_providers(&mock));
    let body = br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#;
    for (route, base_path, _, auth_header, auth_prefix) in ROWS {
        let resp = proxy.request(
            "POST",
            &format!("/{route}/some/op?alt=sse&key={PROXY_KEY}&x=1"),
            &[
                ("x-api-key", PROXY_KEY),
                ("anthropic-beta", "tools-2024"),
                ("content-type", "application/json"),
            ],
            body,
        );
        assert_eq!(resp.status, 200, "{route}: {}", resp.text());
        let got = mock.received().pop().unwrap();
        assert_eq!(got.method, "POST", "{route}");
        assert_eq!(got.path(), format!("{base_path}/some/op"), "{route}");
        assert_eq!(
            got.query(),
            "alt=sse&x=1",
            "{route}: the key parameter must be removed"
        );
        assert_eq!(got.body, body, "{route}");
        assert_eq!(
            got.header(auth_header),
            Some(format!("{auth_prefix}{}", key_of(route)).as_str()),
            "{route}: {:?}",
            got.headers
        );
        assert_eq!(got.header("anthropic-beta"), Some("tools-2024"), "{route}");
        assert!(
            !got.any_header_contains(PROXY_KEY),
            "{route}: proxy key leaked: {:?}",
            got.headers
        );
        assert!(!got.target.contains(PROXY_KEY), "{route}");
        // The upstream's answer reaches the client unchanged, plus CORS.
        assert_eq!(
            resp.json()["echo"],
            format!("{base_path}/some/op?alt=sse&x=1"),
            "{route}"
        );
        assert_eq!(resp.header("access-control-allow-origin"), Some("*"));
        assert_eq!(resp.header("content-type"), Some("application/json"));
    }

    // Custom endpoints: Bearer when they have keys, no auth header when not.
    let resp = proxy.authed("GET", "/mycustom/models", &[], b"");
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = mock.received().pop().unwrap();
    assert_eq!(got.target, "/custom/v1/models");
    assert_eq!(got.header("authorization"), Some("Bearer sk-custom-key"));
    let resp = proxy.authed("GET", "/keyless/v1/models", &[], b"");
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = mock.received().pop().unwrap();
    assert_eq!(got.target, "/open/v1/models");
    assert_eq!(got.header("authorization"), None, "{:?}", got.headers);
}

#[test]
fn base_path_is_not_doubled_and_aliases_work() {
    let mock = Mock::echo();
    let proxy = Proxy::start(&all_providers(&mock));
    for (path, want) in [
        ("/openai/v1/chat/completions", "/v1/chat/completions"),
        ("/openai/chat/completions", "/v1/chat/completions"),
        ("/groq/openai/v1/models", "/openai/v1/models"),
        ("/groq/models", "/openai/v1/models"),
        ("/openrouter/api/v1/models", "/api/v1/models"),
        ("/perplexity/chat/completions", "/chat/completions"),
        ("/openai/v10/x", "/v1/v10/x"),
    ] {
        let resp = proxy.authed("GET", path, &[], b"");
        assert_eq!(resp.status, 200, "{path}: {}", resp.text());
        assert_eq!(mock.received().pop().unwrap().target, want, "{path}");
    }
    assert_eq!(
        mock.received().last().unwrap().header("authorization"),
        Some("Bearer sk-openai-provider-key")
    );
}

#[test]
fn provider_quirks_google_bearer_path_and_anthropic_version() {
    let mock = Mock::echo();
    let proxy = Proxy::start(&all_providers(&mock));
    proxy.authed(
        "POST",
        "/google-ai-studio/v1beta/openai/chat/completions",
        &[],
        b"{}",
    );
    let got = mock.received().pop().unwrap();
    assert_eq!(
        got.header("authorization"),
        Some("Bearer sk-google-ai-studio-provider-key")
    );
    assert_eq!(got.header("x-goog-api-key"), None);

    proxy.authed("POST", "/anthropic/v1/messages", &[], b"{}");
    assert_eq!(
        mock.received().pop().unwrap().header("anthropic-version"),
        Some("2023-06-01")
    );
    proxy.authed(
        "POST",
        "/anthropic/v1/messages",
        &[("anthropic-version", "2024-01-01")],
        b"{}",
    );
    let got = mock.received().pop().unwrap();
    assert_eq!(got.header("anthropic-version"), Some("2024-01-01"));
    assert_eq!(
        got.headers
            .iter()
            .filter(|(n, _)| n == "anthropic-version")
            .count(),
        1
    );
}

#[test]
fn upstream_errors_are_relayed_unchanged() {
    let mock = Mock::start(|_| {
        MockResponse::json(
            429,
            r#"{"error":{"message":"slow down","type":"rate_limit"}}"#,
        )
        .header("retry-after", "7")
        .header("x-ratelimit-remaining", "0")
    });
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", "sk-o"),
        ("OPENAI_BASE_URL", &mock.url("/v1")),
    ]));
    let resp = proxy.authed("POST", "/openai/v1/chat/completions", &[], b"{}");
    assert_eq!(resp.status, 429);
    assert_eq!(
        resp.text(),
        r#"{"error":{"message":"slow down","type":"rate_limit"}}"#
    );
    assert_eq!(resp.header("retry-after"), Some("7"));
    assert_eq!(resp.header("x-ratelimit-remaining"), Some("0"));
    assert_eq!(resp.header("access-control-allow-origin"), Some("*"));
}

#[test]
fn upstream_cors_header_wins() {
    let mock = Mock::start(|_| {
        MockResponse::json(200, "{}").header("access-control-allow-origin", "https://app.example")
    });
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", "sk-o"),
        ("OPENAI_BASE_URL", &mock.url("/v1")),
    ]));
    let resp = proxy.authed("GET", "/openai/models", &[], b"");
    let acao: Vec<_> = resp
        .headers
        .iter()
        .filter(|(n, _)| n == "access-control-allow-origin")
        .collect();
    assert_eq!(acao.len(), 1, "{:?}", resp.headers);
    assert_eq!(acao[0].1, "https://app.example");
}

#[test]
fn two_megabyte_bodies_pass_intact_both_ways() {
    let mock = Mock::start(|r| MockResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/octet-stream".into())],
        delay: Duration::ZERO,
        body: MockBody::Full(r.body.iter().rev().copied().collect()),
    });
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", "sk-o"),
        ("OPENAI_BASE_URL", &mock.url("/v1")),
    ]));
    let body: Vec<u8> = (0..2 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let resp = proxy.authed(
        "POST",
        "/openai/v1/files",
        &[("content-type", "application/octet-stream")],
        &body,
    );
    assert_eq!(resp.status, 200);
    let got = mock.only();
    assert_eq!(got.body.len(), body.len());
    assert!(got.body == body, "upstream body differs");
    let reversed: Vec<u8> = body.iter().rev().copied().collect();
    assert!(
        resp.body == reversed,
        "client body differs ({} bytes)",
        resp.body.len()
    );
}

#[test]
fn sse_reaches_the_client_event_by_event() {
    let mock = Mock::start(|_| MockResponse::sse(10, Duration::from_millis(100)));
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("ANTHROPIC_API_KEY", "sk-a"),
        ("ANTHROPIC_BASE_URL", &mock.url("")),
    ]));
    let resp = proxy.authed(
        "POST",
        "/anthropic/v1/messages",
        &[("accept", "text/event-stream")],
        b"{\"stream\":true}",
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    let first = resp.arrival_of("event-0").expect("first event");
    let last = resp.arrival_of("event-9").expect("last event");
    // The mock spends 900 ms between the first and last event; a buffering
    // proxy would deliver both at once.
    assert!(
        last - first >= Duration::from_millis(700),
        "first {first:?}, last {last:?}"
    );
    for i in 1..10 {
        let t = resp.arrival_of(&format!("event-{i}")).unwrap();
        let prev = resp.arrival_of(&format!("event-{}", i - 1)).unwrap();
        assert!(t >= prev);
    }
    let expected: String = (0..10).map(|i| format!("data: event-{i}\n\n")).collect();
    assert_eq!(resp.text(), expected);
}

#[test]
fn key_selection_prefix_pins_the_key_and_random_choice_spreads() {
    let mock = Mock::echo();
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", r#"["k0", "k1", "k2"]"#),
        ("GROQ_API_KEY", "g0, g1 ,g2,"),
        ("OPENAI_BASE_URL", &mock.url("/v1")),
        ("GROQ_BASE_URL", &mock.url("/openai/v1")),
    ]));
    let auth_of = |path: &str| {
        let resp = proxy.authed("GET", path, &[], b"");
        assert_eq!(resp.status, 200, "{path}: {}", resp.text());
        mock.received()
            .pop()
            .unwrap()
            .header("authorization")
            .unwrap()
            .to_string()
    };
    assert_eq!(auth_of("/key/1/openai/models"), "Bearer k1");
    assert_eq!(auth_of("/key/4/openai/models"), "Bearer k1"); // modulo
    assert_eq!(auth_of("/key/2/groq/models"), "Bearer g2");
    for _ in 0..5 {
        assert_eq!(auth_of("/key/2-9/openai/models"), "Bearer k2"); // clamped
        assert_eq!(auth_of("/key/-0/openai/models"), "Bearer k0");
    }
    let ranged: std::collections::HashSet<_> =
        (0..24).map(|_| auth_of("/key/1-/openai/models")).collect();
    assert_eq!(
        ranged,
        ["Bearer k1", "Bearer k2"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    );
    let random: std::collections::HashSet<_> = (0..30).map(|_| auth_of("/openai/models")).collect();
    assert_eq!(
        random.len(),
        3,
        "random choice should reach every key: {random:?}"
    );
    assert_eq!(mock.received().pop().unwrap().target, "/v1/models");

    let resp = proxy.authed("GET", "/key/x/openai/models", &[], b"");
    assert_eq!(resp.status, 400);
    assert_eq!(resp.json()["error"]["code"], "invalid_key_selection");
}

#[test]
fn dot_segments_and_unknown_routes_are_refused_before_anything_is_sent() {
    let mock = Mock::echo();
    let proxy = Proxy::start(&all_providers(&mock));
    for path in [
        "/openai/../admin",
        "/openai/v1/%2e%2e/x",
        "/openai/v1/%2E./x",
        "/openai/./v1/models",
        "/openai/v1/a%2f..%2fb",
    ] {
        let resp = proxy.authed("GET", path, &[], b"");
        assert_eq!(resp.status, 400, "{path}: {}", resp.text());
        assert_eq!(
            resp.json()["error"]["type"],
            "invalid_request_error",
            "{path}"
        );
    }
    let resp = proxy.authed("GET", "/nosuchprovider/v1/models", &[], b"");
    assert_eq!(resp.status, 404);
    assert!(resp.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("/nosuchprovider/v1/models"));
    let resp = proxy.authed("GET", "/", &[], b"");
    assert_eq!(resp.status, 404);
    assert!(mock.received().is_empty(), "{:?}", mock.received());
}

#[test]
fn provider_without_key_is_a_clear_error() {
    let mock = Mock::echo();
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("MISTRAL_BASE_URL", &mock.url("")),
        ("WORKERS_AI_BASE_URL", ""),
        ("CLOUDFLARE_API_KEY", "cf"),
    ]));
    let resp = proxy.authed("GET", "/mistral/v1/models", &[], b"");
    assert_eq!(resp.status, 400);
    assert!(resp.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("MISTRAL_API_KEY"));
    // Workers AI needs the account id to build its URL.
    let resp = proxy.authed("GET", "/workers-ai/models/search", &[], b"");
    assert_eq!(resp.status, 500);
    let msg = resp.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("CLOUDFLARE_ACCOUNT_ID"), "{msg}");
    assert!(!msg.contains("cf"), "{msg}");
    assert!(mock.received().is_empty());
}

#[test]
fn workers_ai_account_id_is_validated() {
    // Without WORKERS_AI_BASE_URL the account id becomes part of the real
    // URL (unit-tested in the core); a malformed one is refused here.
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("CLOUDFLARE_API_KEY", "cf"),
        ("CLOUDFLARE_ACCOUNT_ID", "bad.account"),
    ]));
    let resp = proxy.authed("GET", "/workers-ai/models/search", &[], b"");
    assert_eq!(resp.status, 400, "{}", resp.text());
}

#[test]
fn unreachable_upstream_is_502_and_slow_upstream_is_504() {
    let closed = closed_port();
    let slow = Mock::start(|_| MockResponse {
        delay: Duration::from_secs(4),
        ..MockResponse::json(200, "{}")
    });
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", "sk-openai-secret"),
        ("OPENAI_BASE_URL", &format!("http://127.0.0.1:{closed}/v1")),
        ("GROQ_API_KEY", "sk-groq-secret"),
        ("GROQ_BASE_URL", &slow.url("/openai/v1")),
        ("UPSTREAM_TIMEOUT_SECONDS", "1"),
    ]));
    let resp = proxy.authed("GET", "/openai/models", &[], b"");
    assert_eq!(resp.status, 502, "{}", resp.text());
    let err = resp.json();
    assert_eq!(err["error"]["code"], "upstream_unreachable");
    assert!(err["error"]["message"].as_str().unwrap().contains("openai"));
    assert!(!resp.text().contains("sk-openai-secret"));

    let started = std::time::Instant::now();
    let resp = proxy.authed("GET", "/groq/models", &[], b"");
    assert_eq!(resp.status, 504, "{}", resp.text());
    assert_eq!(resp.json()["error"]["code"], "upstream_timeout");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the timeout did not cut the wait short"
    );
    assert_eq!(slow.received().len(), 1);
}

#[test]
fn one_log_line_per_request_without_secrets_or_query_values() {
    let mock = Mock::echo();
    let proxy = Proxy::start(&all_providers(&mock));
    let resp = proxy.request(
        "GET",
        &format!("/openai/v1/models?key={PROXY_KEY}&q=hidden-value"),
        &[],
        b"",
    );
    assert_eq!(resp.status, 200);
    let line = proxy.wait_log(r#""api":"pass-through""#);
    let json = &line[line.find('{').unwrap()..];
    let v: Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(v["method"], "GET", "{line}");
    assert_eq!(v["provider"], "openai", "{line}");
    assert_eq!(v["status"], 200, "{line}");
    assert_eq!(v["upstream_status"], 200, "{line}");
    assert!(v["ms"].as_f64().is_some(), "{line}");
    assert_eq!(v["key"], "all-access", "{line}");
    proxy.request(
        "GET",
        "/openai/v1/models",
        &[("authorization", "Bearer wrong-key-123")],
        b"",
    );
    proxy.wait_log(r#""status":401"#);
    for l in proxy.log() {
        assert!(!l.contains(PROXY_KEY), "{l}");
        assert!(!l.contains("hidden-value"), "{l}");
        assert!(!l.contains("wrong-key-123"), "{l}");
        assert!(!l.contains("sk-openai-provider-key"), "{l}");
    }
}

#[test]
fn head_requests_relay_the_upstream_head() {
    let mock = Mock::start(|_| MockResponse::json(200, r#"{"data":[1,2,3]}"#));
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", "sk-o"),
        ("OPENAI_BASE_URL", &mock.url("/v1")),
    ]));
    let resp = proxy.authed("HEAD", "/openai/v1/models", &[], b"");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-length"), Some("16"));
    assert!(resp.body.is_empty());
    assert_eq!(mock.only().method, "HEAD");
    // The proxy is fine afterwards.
    assert_eq!(
        proxy.authed("GET", "/openai/v1/models", &[], b"").text(),
        r#"{"data":[1,2,3]}"#
    );
}

/// Every 8-character window of `secret` that appears in what `got` carried
/// (target, header names and values, body).
fn leaked_windows(got: &Recorded, secret: &str) -> Vec<String> {
    let mut all = got.target.clone();
    for (n, v) in &got.headers {
        all.push_str(&format!("\n{n}: {v}"));
    }
    all.push('\n');
    all.push_str(&String::from_utf8_lossy(&got.body));
    let chars: Vec<char> = secret.chars().collect();
    chars
        .windows(8)
        .map(|w| w.iter().collect::<String>())
        .filter(|w| all.contains(w.as_str()))
        .collect()
}

#[test]
fn spin_and_host_headers_never_reach_the_provider() {
    let mock = Mock::start(|r| {
        let body = if r.path().ends_with("/chat/completions") {
            r#"{"id":"c","object":"chat.completion","choices":[]}"#
        } else {
            r#"{"data":[]}"#
        };
        MockResponse::json(200, body)
    });
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", "sk-openai-provider-key"),
        ("OPENAI_BASE_URL", &mock.url("/v1")),
    ]));
    for (method, path, body) in [
        ("GET", "/openai/v1/models", &b""[..]),
        (
            "POST",
            "/v1/chat/completions",
            &br#"{"model":"openai/gpt-4o-mini","messages":[]}"#[..],
        ),
    ] {
        let full_url = format!("http://127.0.0.1:{}{path}?key={PROXY_KEY}", proxy.port);
        let resp = proxy.request(
            method,
            &format!("{path}?key={PROXY_KEY}"),
            &[
                ("Spin-Full-Url", &full_url),
                ("spin-path-info", path),
                ("SPIN-MATCHED-ROUTE", "/..."),
                ("spin-base-path", "/"),
                ("Spin-Raw-Component-Route", "/..."),
                ("spin-component-route", ""),
                ("spin-client-addr", "127.0.0.1:35742"),
                ("x-forwarded-for", "10.1.2.3"),
                ("content-type", "application/json"),
            ],
            body,
        );
        assert_eq!(resp.status, 200, "{path}: {}", resp.text());
        let got = mock.received().pop().unwrap();
        let spin: Vec<_> = got
            .headers
            .iter()
            .filter(|(n, _)| n.starts_with("spin-") || n.starts_with("x-forwarded"))
            .collect();
        assert!(spin.is_empty(), "{path}: forwarded {spin:?}");
        assert!(!got.any_header_contains("35742"), "{path}: client address");
        let leaked = leaked_windows(&got, PROXY_KEY);
        assert!(
            leaked.is_empty(),
            "{path}: proxy key pieces {leaked:?} in {got:?}"
        );
        // The provider still got its own key.
        assert_eq!(
            got.header("authorization"),
            Some("Bearer sk-openai-provider-key")
        );
        // And the client sees nothing of the host's headers either.
        assert!(resp.headers.iter().all(|(n, _)| !n.starts_with("spin-")));
    }
}

#[test]
fn a_chunked_request_body_reaches_the_provider_whole() {
    // The host hides Transfer-Encoding from the component: the body must be
    // forwarded all the same (it once went out empty).
    let mock = Mock::echo();
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", "sk-o"),
        ("OPENAI_BASE_URL", &mock.url("/v1")),
    ]));
    let raw = format!(
        "POST /openai/v1/files HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: Bearer {PROXY_KEY}\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    );
    let resp = send_raw(proxy.port, raw.as_bytes()).unwrap();
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(mock.only().body, b"hello world");
    assert_eq!(resp.json()["bytes"], 11);
}
