//! Azure OpenAI, Vertex AI and Bedrock under `wasmtime serve` against
//! loopback mocks: what the upstream received (paths, auth, signatures over
//! the exact bytes sent) and what the client got. (The official SDK tests in
//! tests/sdk/test_clouds.py verify the JWT and SigV4 with independent code.)

mod common;

use common::*;
use llm_proxy::translate::eventstream::encode;
use serde_json::{json, Value};
use std::time::Duration;

const KEY_FILE: &str = include_str!("fixtures/test-service-account.json");
const AWS_ID: &str = "AKIAINTEGRATION01";
const AWS_SECRET: &str = "integration/secret/0000000000000000000000";

fn check_signature(r: &Recorded, host: &str, path: &str) {
    common::aws::check_signature(r, host, path, AWS_ID, AWS_SECRET);
}

fn converse_answer() -> MockResponse {
    MockResponse::json(
        200,
        &json!({"output": {"message": {"role": "assistant", "content": [{"text": "Bonjour from Bedrock"}]}},
                "stopReason": "end_turn", "usage": {"inputTokens": 4, "outputTokens": 3, "totalTokens": 7}})
        .to_string(),
    )
}

fn converse_stream() -> MockResponse {
    let frame = |kind: &str, payload: Value| {
        encode(
            &[
                (":event-type", kind),
                (":content-type", "application/json"),
                (":message-type", "event"),
            ],
            payload.to_string().as_bytes(),
        )
    };
    let gap = Duration::from_millis(120);
    MockResponse {
        status: 200,
        headers: vec![(
            "content-type".into(),
            "application/vnd.amazon.eventstream".into(),
        )],
        delay: Duration::ZERO,
        body: MockBody::Chunks(vec![
            (
                Duration::ZERO,
                frame("messageStart", json!({"role": "assistant"})),
            ),
            (
                gap,
                frame(
                    "contentBlockDelta",
                    json!({"contentBlockIndex": 0, "delta": {"text": "Bon"}}),
                ),
            ),
            (
                gap,
                frame(
                    "contentBlockDelta",
                    json!({"contentBlockIndex": 0, "delta": {"text": "jour"}}),
                ),
            ),
            (
                gap,
                [
                    frame("contentBlockStop", json!({"contentBlockIndex": 0})),
                    frame("messageStop", json!({"stopReason": "end_turn"})),
                    frame(
                        "metadata",
                        json!({"usage": {"inputTokens": 4, "outputTokens": 2, "totalTokens": 6}}),
                    ),
                ]
                .concat(),
            ),
        ]),
    }
}

fn bedrock_mock() -> Mock {
    Mock::start(|r| {
        if r.path().ends_with("/converse-stream") {
            converse_stream()
        } else if r.path().ends_with("/converse") {
            converse_answer()
        } else {
            MockResponse::json(200, r#"{"ok":true}"#)
        }
    })
}

fn bedrock_env(mock: &Mock, extra: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    let mut e = env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("AWS_ACCESS_KEY_ID", AWS_ID),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        ("AWS_BEDROCK_BASE_URL", &mock.url("/bedrock")),
    ]);
    e.extend(env(extra));
    e
}

#[test]
fn bedrock_pass_through_signs_the_body_it_sends_even_a_streamed_one() {
    let mock = bedrock_mock();
    let proxy = Proxy::start(&bedrock_env(&mock, &[("MAX_BODY_BYTES", "4096")]));
    let body = br#"{"messages":[{"role":"user","content":[{"text":"hi"}]}]}"#;
    let resp = proxy.authed(
        "POST",
        "/aws-bedrock/model/amazon.nova-lite-v1%3A0/converse",
        &[("content-type", "application/json")],
        body,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = mock.only();
    assert_eq!(
        got.path(),
        "/bedrock/model/amazon.nova-lite-v1%3A0/converse"
    );
    assert_eq!(got.body, body);
    check_signature(&got, &format!("127.0.0.1:{}", mock.port), got.path());
    assert!(!got.any_header_contains(PROXY_KEY));
    // A chunked client body is read whole (to hash it), then signed.
    let raw = format!(
        "POST /aws-bedrock/model/m/converse HTTP/1.1\r\nhost: x\r\nconnection: close\r\nauthorization: Bearer {PROXY_KEY}\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    );
    let resp = send_raw(proxy.port, raw.as_bytes()).unwrap();
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = mock.received().pop().unwrap();
    assert_eq!(got.body, b"hello world", "{:?}", got.headers);
    check_signature(
        &got,
        &format!("127.0.0.1:{}", mock.port),
        "/bedrock/model/m/converse",
    );
    // Above MAX_BODY_BYTES: a 413, and nothing is sent.
    let before = mock.received().len();
    let big = vec![b'x'; 5000];
    let resp = proxy.authed("POST", "/aws-bedrock/model/m/converse", &[], &big);
    assert_eq!(resp.status, 413, "{}", resp.text());
    assert_eq!(mock.received().len(), before);
}

#[test]
fn messages_clients_reach_bedrock_json_and_event_stream() {
    let mock = bedrock_mock();
    let proxy = Proxy::start(&bedrock_env(&mock, &[]));
    let resp = proxy.authed(
        "POST",
        "/v1/messages",
        &[("anthropic-version", "2023-06-01")],
        br#"{"model":"aws-bedrock/anthropic.claude-3-haiku-20240307-v1:0","max_tokens":50,"system":"Be French.","messages":[{"role":"user","content":"Hello"}]}"#,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let v = resp.json();
    assert_eq!(v["type"], "message");
    assert_eq!(
        v["content"],
        json!([{"type": "text", "text": "Bonjour from Bedrock"}])
    );
    assert_eq!(v["stop_reason"], "end_turn");
    assert_eq!(v["usage"]["output_tokens"], 3);
    let got = mock.only();
    assert_eq!(
        got.path(),
        "/bedrock/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
    );
    let sent: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(sent["system"], json!([{"text": "Be French."}]));
    assert_eq!(sent["inferenceConfig"]["maxTokens"], 50);
    check_signature(&got, &format!("127.0.0.1:{}", mock.port), got.path());
    // Streaming: event-stream frames → OpenAI chunks → Anthropic events, as they come.
    let resp = proxy.authed(
        "POST",
        "/v1/messages",
        &[],
        br#"{"model":"aws-bedrock/m","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"Hello"}]}"#,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let text = resp.text();
    for event in [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "message_delta",
        "message_stop",
    ] {
        assert!(
            text.contains(&format!("event: {event}")),
            "{event} missing in {text}"
        );
    }
    assert!(
        text.contains("\"text\":\"Bon\"") && text.contains("\"text\":\"jour\""),
        "{text}"
    );
    let bon = resp.arrival_of("\"Bon\"").unwrap();
    let jour = resp.arrival_of("\"jour\"").unwrap();
    assert!(jour - bon >= Duration::from_millis(80), "{bon:?} {jour:?}");
    assert!(mock
        .received()
        .pop()
        .unwrap()
        .path()
        .ends_with("/converse-stream"));
}

#[test]
fn the_gateway_gets_each_clouds_own_url_shape() {
    let gateway = Mock::start(|r| {
        if r.path().ends_with("/converse") {
            converse_answer()
        } else if r.path().ends_with("/token") {
            MockResponse::json(200, r#"{"access_token":"ya29.gw","expires_in":3599}"#)
        } else {
            MockResponse::json(
                200,
                &json!({"id": "c", "object": "chat.completion", "created": 1, "model": "m",
                        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}]})
                .to_string(),
            )
        }
    });
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("CLOUDFLARE_ACCOUNT_ID", "acc"),
        ("AI_GATEWAY_NAME", "gw"),
        ("AI_GATEWAY_BASE_URL", &gateway.url("/v1")),
        ("CF_AIG_TOKEN", "cf-token-1"),
        ("AZURE_OPENAI_API_KEY", "az-key"),
        ("AZURE_OPENAI_RESOURCE", "my-res"),
        ("AWS_ACCESS_KEY_ID", AWS_ID),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        ("VERTEX_SERVICE_ACCOUNT_JSON", KEY_FILE),
        ("VERTEX_TOKEN_URI", &gateway.url("/token")),
    ]));
    let chat = |model: &str| {
        let body =
            json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}).to_string();
        let resp = proxy.authed("POST", "/v1/chat/completions", &[], body.as_bytes());
        assert_eq!(resp.status, 200, "{model}: {}", resp.text());
        gateway.received().pop().unwrap()
    };
    let got = chat("azure-openai/prod-deploy");
    assert_eq!(
        got.target,
        "/v1/acc/gw/azure-openai/my-res/prod-deploy/chat/completions?api-version=2024-10-21"
    );
    assert_eq!(got.header("api-key"), Some("az-key"));
    assert_eq!(
        got.header("cf-aig-authorization"),
        Some("Bearer cf-token-1")
    );
    let got = chat("aws-bedrock/m:1");
    assert_eq!(
        got.path(),
        "/v1/acc/gw/aws-bedrock/bedrock-runtime/us-east-1/model/m%3A1/converse"
    );
    // Signed for Bedrock's own host and path, as Cloudflare requires.
    check_signature(
        &got,
        "bedrock-runtime.us-east-1.amazonaws.com",
        "/model/m%3A1/converse",
    );
    let got = chat("google-vertex-ai/gemini-2.0-flash");
    assert_eq!(
        got.path(),
        "/v1/acc/gw/google-vertex-ai/v1/projects/test-project-123/locations/us-central1/endpoints/openapi/chat/completions"
    );
    assert_eq!(got.header("authorization"), Some("Bearer ya29.gw"));
}

#[test]
fn status_checks_the_clouds_and_no_secret_reaches_a_response_or_the_log() {
    let mock = Mock::start(|r| match r.path() {
        "/token" => MockResponse::json(
            200,
            r#"{"access_token":"ya29.status-token","expires_in":3599}"#,
        ),
        p if p.ends_with("/endpoints") => {
            if r.header("authorization") == Some("Bearer ya29.status-token") {
                MockResponse::json(200, r#"{"endpoints":[]}"#)
            } else {
                MockResponse::json(401, r#"{"error":{"code":401}}"#)
            }
        }
        "/azure/openai/v1/models" => MockResponse::json(
            200,
            r#"{"object":"list","data":[{"id":"my-deploy","object":"model","created":1,"owned_by":"azure"}]}"#,
        ),
        _ => MockResponse::json(404, "{}"),
    });
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("VERTEX_SERVICE_ACCOUNT_JSON", KEY_FILE),
        ("VERTEX_TOKEN_URI", &mock.url("/token")),
        ("GOOGLE_VERTEX_AI_BASE_URL", &mock.url("")),
        ("AZURE_OPENAI_API_KEY", "azure-secret-key-XYZ"),
        ("AZURE_OPENAI_BASE_URL", &mock.url("/azure")),
        ("AWS_ACCESS_KEY_ID", AWS_ID),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
    ]));
    let resp = proxy.authed("GET", "/status", &[], b"");
    assert_eq!(resp.status, 200, "{}", resp.text());
    let v = resp.json();
    assert_eq!(
        v["providers"]["google-vertex-ai"]["keys"][0]["status"], "valid",
        "{v}"
    );
    assert_eq!(
        v["providers"]["azure-openai"]["keys"][0]["status"], "valid",
        "{v}"
    );
    assert_eq!(
        v["providers"]["azure-openai"]["keys"][0]["key"],
        "*******XYZ"
    );
    assert_eq!(
        v["providers"]["aws-bedrock"]["keys"][0]["status"],
        "unknown"
    );
    assert_eq!(
        v["providers"]["aws-bedrock"]["keys"][0]["key"],
        "*******N01"
    );
    let models = proxy.authed("GET", "/v1/models", &[], b"").json();
    assert!(
        models["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == "azure-openai/my-deploy"),
        "{models}"
    );
    // A failing exchange is an "invalid" verdict, not a crash.
    let bad = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("VERTEX_SERVICE_ACCOUNT_JSON", KEY_FILE),
        ("VERTEX_TOKEN_URI", &mock.url("/nope")),
        ("GOOGLE_VERTEX_AI_BASE_URL", &mock.url("")),
    ]));
    let v = bad.authed("GET", "/status", &[], b"").json();
    assert_eq!(
        v["providers"]["google-vertex-ai"]["keys"][0]["status"], "unknown",
        "{v}"
    );
    // Nothing secret in any answer or log line.
    let key_file: Value = serde_json::from_str(KEY_FILE).unwrap();
    let private_key = key_file["private_key"].as_str().unwrap();
    let key_piece = &private_key[40..80];
    let mut seen = resp.text();
    seen.push_str(&models.to_string());
    for line in proxy.log().iter().chain(bad.log().iter()) {
        seen.push_str(line);
    }
    for secret in [
        AWS_SECRET,
        "azure-secret-key",
        "ya29.status-token",
        key_piece,
        PROXY_KEY,
    ] {
        assert!(!seen.contains(secret), "{secret} leaked");
    }
}
