//! Proxy authentication, fail-closed, DEV, /ping, CORS and malformed input,
//! under `wasmtime serve`.

mod common;

use common::*;

fn proxy_with(extra: &[(&str, &str)], mock: &Mock) -> Proxy {
    let mut e = env(&[
        ("OPENAI_API_KEY", "sk-upstream"),
        ("OPENAI_BASE_URL", &mock.url("/v1")),
    ]);
    e.extend(env(extra));
    Proxy::start(&e)
}

#[test]
fn every_accepted_form_of_the_proxy_key() {
    let mock = Mock::echo();
    let proxy = proxy_with(
        &[("PROXY_API_KEY", &format!("other-key, {PROXY_KEY}"))],
        &mock,
    );
    let bearer = format!("Bearer {PROXY_KEY}");
    let forms: Vec<(Vec<(&str, &str)>, String)> = vec![
        (
            vec![("authorization", bearer.as_str())],
            "/openai/models".into(),
        ),
        (vec![("authorization", PROXY_KEY)], "/openai/models".into()),
        (vec![("x-api-key", PROXY_KEY)], "/openai/models".into()),
        (vec![("x-goog-api-key", PROXY_KEY)], "/openai/models".into()),
        (vec![], format!("/openai/models?key={PROXY_KEY}")),
        (
            vec![("authorization", "Bearer other-key")],
            "/openai/models".into(),
        ),
    ];
    for (headers, path) in &forms {
        let resp = proxy.request("GET", path, headers, b"");
        assert_eq!(resp.status, 200, "{headers:?} {path}: {}", resp.text());
        let got = mock.received().pop().unwrap();
        assert_eq!(got.target, "/v1/models");
        assert_eq!(got.header("authorization"), Some("Bearer sk-upstream"));
        assert!(!got.any_header_contains(PROXY_KEY));
        assert!(!got.any_header_contains("other-key"));
    }
}

#[test]
fn wrong_or_missing_key_is_401_json() {
    let mock = Mock::echo();
    let proxy = proxy_with(&[("PROXY_API_KEY", PROXY_KEY)], &mock);
    let partial = &PROXY_KEY[..PROXY_KEY.len() - 1];
    for headers in [
        vec![("authorization", "Bearer wrong")],
        vec![("authorization", partial)],
        vec![("x-api-key", "sk-upstream")],
        vec![],
    ] {
        let resp = proxy.request("GET", "/openai/models", &headers, b"");
        assert_eq!(resp.status, 401, "{headers:?}");
        let err = resp.json();
        assert_eq!(err["error"]["type"], "authentication_error");
        assert!(err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("proxy key"));
        assert!(!resp.text().contains(PROXY_KEY));
        assert_eq!(resp.header("access-control-allow-origin"), Some("*"));
    }
    let resp = proxy.request("GET", "/openai/models?key=nope", &[], b"");
    assert_eq!(resp.status, 401);
    assert!(mock.received().is_empty());
}

#[test]
fn fails_closed_without_a_proxy_key() {
    let mock = Mock::echo();
    for extra in [
        vec![],
        vec![("PROXY_API_KEY", "")],
        vec![("PROXY_API_KEY", "[1,2]")],
        vec![("DEV", "false")],
    ] {
        let proxy = proxy_with(&extra, &mock);
        let resp = proxy.request(
            "GET",
            "/openai/models",
            &[("authorization", "Bearer anything")],
            b"",
        );
        assert_eq!(resp.status, 401, "{extra:?}");
        let msg = resp.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            msg.contains("not configured") && msg.contains("PROXY_API_KEY"),
            "{msg}"
        );
        // /ping never needs a key.
        let ping = proxy.request("GET", "/ping", &[], b"");
        assert_eq!((ping.status, ping.text().as_str()), (200, "Pong"));
    }
    assert!(mock.received().is_empty());
}

#[test]
fn dev_mode_needs_no_key_and_still_strips_client_auth() {
    let mock = Mock::echo();
    let proxy = proxy_with(&[("DEV", "true")], &mock);
    let resp = proxy.request("GET", "/openai/models", &[], b"");
    assert_eq!(resp.status, 200, "{}", resp.text());
    let resp = proxy.request(
        "GET",
        "/openai/models",
        &[("authorization", "Bearer client-secret")],
        b"",
    );
    assert_eq!(resp.status, 200);
    let got = mock.received().pop().unwrap();
    assert_eq!(got.header("authorization"), Some("Bearer sk-upstream"));
    assert!(!got.any_header_contains("client-secret"));
}

#[test]
fn ping_and_cors_preflight() {
    let mock = Mock::echo();
    let proxy = proxy_with(&[("PROXY_API_KEY", PROXY_KEY)], &mock);
    for method in ["GET", "POST", "HEAD"] {
        let resp = proxy.request(method, "/ping", &[], b"");
        assert_eq!(resp.status, 200, "{method}");
        assert_eq!(resp.header("content-length"), Some("4"), "{method}");
    }
    let resp = proxy.request(
        "OPTIONS",
        "/openai/v1/chat/completions",
        &[
            ("origin", "https://app.example"),
            ("access-control-request-method", "POST"),
            (
                "access-control-request-headers",
                "authorization, content-type",
            ),
        ],
        b"",
    );
    assert!(resp.status == 204 || resp.status == 200, "{}", resp.status);
    assert_eq!(resp.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        resp.header("access-control-allow-methods"),
        Some("GET,HEAD,POST,OPTIONS")
    );
    assert_eq!(
        resp.header("access-control-allow-headers"),
        Some("authorization, content-type")
    );
    assert_eq!(resp.header("access-control-max-age"), Some("86400"));
    let plain = proxy.request("OPTIONS", "/anything", &[], b"");
    assert!(plain.status == 204 || plain.status == 200);
    assert_eq!(plain.header("allow"), Some("GET, HEAD, POST, OPTIONS"));
    assert!(mock.received().is_empty());
}

#[test]
fn malformed_input_gets_a_4xx_and_the_proxy_keeps_serving() {
    let mock = Mock::echo();
    let proxy = proxy_with(&[("PROXY_API_KEY", PROXY_KEY)], &mock);
    let port = proxy.port;
    let auth = format!("authorization: Bearer {PROXY_KEY}\r\n");
    let cases: Vec<Vec<u8>> = vec![
        // Absurd Content-Length.
        format!("POST /openai/v1/chat/completions HTTP/1.1\r\nhost: x\r\n{auth}content-length: 99999999999999999999999\r\n\r\n{{}}").into_bytes(),
        format!("POST /openai/v1/chat/completions HTTP/1.1\r\nhost: x\r\n{auth}content-length: -5\r\n\r\n").into_bytes(),
        // Non-UTF-8 path.
        [b"GET /openai/v1/\xff\xfe HTTP/1.1\r\nhost: x\r\n".as_slice(), auth.as_bytes(), b"\r\n"].concat(),
        // A header line without a colon.
        format!("GET /openai/models HTTP/1.1\r\nhost: x\r\n{auth}this is not a header\r\n\r\n").into_bytes(),
    ];
    for raw in cases {
        let resp = send_raw(port, &raw).expect("a response, not a dropped connection");
        assert!(
            (400..500).contains(&resp.status),
            "{}: {}",
            String::from_utf8_lossy(&raw),
            resp.status
        );
    }
    // A non-UTF-8 header value is relayed or dropped, never a crash.
    let raw = [
        b"GET /openai/models HTTP/1.1\r\nhost: x\r\nconnection: close\r\nx-odd: \xff\xfe\r\n"
            .as_slice(),
        auth.as_bytes(),
        b"\r\n",
    ]
    .concat();
    let resp = send_raw(port, &raw).unwrap();
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(proxy.request("GET", "/ping", &[], b"").status, 200);
}

#[test]
fn malformed_settings_are_logged_by_name_never_by_value() {
    let mock = Mock::echo();
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", r#"["proxy-secret-1", 2]"#),
        ("OPENAI_API_KEY", "sk-upstream"),
        ("OPENAI_BASE_URL", &mock.url("/v1")),
    ]));
    let resp = proxy.request(
        "GET",
        "/openai/models",
        &[("authorization", "Bearer proxy-secret-1")],
        b"",
    );
    assert_eq!(resp.status, 401);
    let msg = resp.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(msg.contains("PROXY_API_KEY is malformed"), "{msg}");
    let line = proxy.wait_log("llm-proxy warning:");
    assert!(line.contains("PROXY_API_KEY"), "{line}");
    drop(proxy);

    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", r#"["sk-upstream-secret""#),
        ("OPENAI_BASE_URL", &mock.url("/v1")),
    ]));
    let resp = proxy.authed("GET", "/openai/models", &[], b"");
    assert_eq!(resp.status, 500);
    assert_eq!(resp.json()["error"]["code"], "proxy_misconfigured");
    let line = proxy.wait_log("llm-proxy warning:");
    assert!(line.contains("OPENAI_API_KEY"), "{line}");
    for l in proxy.log() {
        assert!(
            !l.contains("sk-upstream-secret") && !l.contains("proxy-secret-1"),
            "{l}"
        );
    }
    assert!(!resp.text().contains("sk-upstream-secret"));
    assert!(mock.received().is_empty());
}

/// Issue 26 point 12: serde's words for a value of the wrong type echo the
/// value (`invalid type: integer `31337000424242``); any caller gets this
/// error, so it names the setting and the place, never the value.
#[test]
fn a_malformed_proxy_key_setting_is_never_echoed() {
    let mock = Mock::echo();
    let proxy = proxy_with(&[("PROXY_API_KEY", "[31337000424242]")], &mock);
    for headers in [vec![], vec![("authorization", "Bearer 31337000424242")]] {
        let resp = proxy.request("GET", "/openai/models", &headers, b"");
        assert_eq!(resp.status, 401, "{headers:?}: {}", resp.text());
        assert_eq!(resp.json()["error"]["code"], "proxy_key_not_configured");
        let body = resp.text();
        assert!(body.contains("PROXY_API_KEY"), "{body}");
        assert!(!body.contains("31337000424242"), "{body}");
    }
    let line = proxy.wait_log("llm-proxy warning:");
    assert!(line.contains("PROXY_API_KEY"), "{line}");
    for l in proxy.log() {
        assert!(!l.contains("31337000424242"), "{l}");
    }
    assert!(mock.received().is_empty());
}
