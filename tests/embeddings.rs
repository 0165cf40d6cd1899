//! `POST /v1/embeddings` under `wasmtime serve` against loopback mocks: what
//! each provider received (URL, auth, body, SigV4 over the bytes sent) and
//! what the client got (the provider's answer, or Bedrock's translated;
//! errors in OpenAI's shape).

mod common;

use base64::Engine as _;
use common::*;
use serde_json::{json, Value};

const AWS_ID: &str = "AKIAEMBEDDINGS0001";
const AWS_SECRET: &str = "embeddings/secret/00000000000000000000000";

/// (route, the embeddings path the provider must receive, key setting).
/// Each provider's base URL is the mock plus `/{route}`; auth is Bearer.
const ROWS: &[(&str, &str, &str)] = &[
    ("openai", "/openai/embeddings", "OPENAI_API_KEY"),
    (
        "google-ai-studio",
        "/google-ai-studio/v1beta/openai/embeddings",
        "GEMINI_API_KEY",
    ),
    (
        "cohere",
        "/cohere/compatibility/v1/embeddings",
        "COHERE_API_KEY",
    ),
    ("grok", "/grok/v1/embeddings", "GROK_API_KEY"),
    ("mistral", "/mistral/v1/embeddings", "MISTRAL_API_KEY"),
    (
        "openrouter",
        "/openrouter/v1/embeddings",
        "OPENROUTER_API_KEY",
    ),
    (
        "workers-ai",
        "/workers-ai/v1/embeddings",
        "CLOUDFLARE_API_KEY",
    ),
    ("ollama", "/ollama/embeddings", "OLLAMA_API_KEY"),
];

fn key_of(route: &str) -> String {
    format!("sk-{route}-0123456789-key")
}

/// An OpenAI embeddings answer for `body` (one vector per input).
fn answer(body: &Value) -> String {
    let n = body["input"].as_array().map_or(1, Vec::len);
    let data: Vec<Value> = (0..n)
        .map(|i| json!({"object": "embedding", "index": i, "embedding": [0.25, i as f64]}))
        .collect();
    json!({"object": "list", "data": data, "model": body["model"],
           "usage": {"prompt_tokens": 3, "total_tokens": 3}})
    .to_string()
}

fn openai_mock() -> Mock {
    Mock::start(|r| {
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        if body["model"] == "rate-limited" {
            return MockResponse::json(429, r#"{"error":{"message":"slow down"}}"#);
        }
        MockResponse::json(200, &answer(&body))
    })
}

fn settings(mock: &Mock, extra: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    let mut e = env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("ANTHROPIC_API_KEY", "sk-ant"),
        ("ANTHROPIC_BASE_URL", &mock.url("/anthropic")),
    ]);
    for (route, _, key_setting) in ROWS {
        let base: &'static str = Box::leak(
            format!("{}_BASE_URL", route.to_uppercase().replace('-', "_")).into_boxed_str(),
        );
        e.push((base, mock.url(&format!("/{route}"))));
        e.push((key_setting, key_of(route)));
    }
    let custom = json!([{"name": "local", "baseUrl": mock.url("/local/v1"), "apiKeys": ["local-key"],
                         "embeddingsPath": "/embed"}]);
    e.extend(env(&[("CUSTOM_OPENAI_ENDPOINTS", &custom.to_string())]));
    e.extend(env(extra));
    e
}

fn post(proxy: &Proxy, path: &str, body: &Value) -> Response {
    proxy.authed(
        "POST",
        path,
        &[("content-type", "application/json")],
        body.to_string().as_bytes(),
    )
}

#[test]
fn embeddings_reach_every_provider_with_model_rewritten_and_its_auth() {
    let mock = openai_mock();
    let proxy = Proxy::start(&settings(&mock, &[]));
    for (route, path, _) in ROWS {
        let body = json!({"model": format!("{route}/embed-model"), "input": ["one", "two"],
                          "dimensions": 8, "encoding_format": "float", "user": "u-1"});
        let resp = post(&proxy, "/v1/embeddings", &body);
        assert_eq!(resp.status, 200, "{route}: {}", resp.text());
        let got = mock.received().pop().unwrap();
        assert_eq!(
            (got.method.as_str(), got.target.as_str()),
            ("POST", *path),
            "{route}"
        );
        assert_eq!(
            got.header("authorization"),
            Some(format!("Bearer {}", key_of(route)).as_str()),
            "{route}"
        );
        assert!(!got.any_header_contains(PROXY_KEY), "{route}");
        assert_eq!(got.header("content-type"), Some("application/json"));
        let sent: Value = serde_json::from_slice(&got.body).unwrap();
        assert_eq!(
            sent,
            json!({"model": "embed-model", "input": ["one", "two"], "dimensions": 8,
                   "encoding_format": "float", "user": "u-1"}),
            "{route}"
        );
        // The provider's answer reaches the client as it was.
        let v = resp.json();
        assert_eq!(v["data"][1]["embedding"], json!([0.25, 1.0]), "{route}");
        assert_eq!(v["model"], "embed-model", "{route}");
    }
    // Without /v1, a custom endpoint's embeddingsPath, token arrays untouched.
    let resp = post(
        &proxy,
        "/embeddings",
        &json!({"model": "local/nomic", "input": [[1, 2, 3]]}),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = mock.received().pop().unwrap();
    assert_eq!(got.target, "/local/v1/embed");
    assert_eq!(got.header("authorization"), Some("Bearer local-key"));
    assert_eq!(
        serde_json::from_slice::<Value>(&got.body).unwrap()["input"],
        json!([[1, 2, 3]])
    );
    let line = proxy.wait_log(r#""provider":"local""#);
    assert!(line.contains(r#""api":"embeddings""#), "{line}");
    assert!(line.contains(r#""status":200"#), "{line}");
}

#[test]
fn errors_are_clear_400s_in_openais_shape_and_nothing_is_sent() {
    let mock = openai_mock();
    let proxy = Proxy::start(&settings(&mock, &[]));
    for (body, needle) in [
        (
            r#"{"model":"anthropic/claude","input":"x"}"#.to_string(),
            "provider 'anthropic' has no embeddings endpoint",
        ),
        ("{not json".into(), "invalid JSON"),
        (r#"{"input":"x"}"#.into(), "'model'"),
        (r#"{"model":"openai/e"}"#.into(), "'input'"),
        (r#"{"model":"nope/e","input":"x"}"#.into(), "'nope'"),
    ] {
        let resp = proxy.authed("POST", "/v1/embeddings", &[], body.as_bytes());
        assert_eq!(resp.status, 400, "{body}: {}", resp.text());
        let v = resp.json();
        assert_eq!(v["error"]["type"], "invalid_request_error", "{body}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(needle),
            "{body}: {v}"
        );
    }
    let resp = proxy.authed("GET", "/v1/embeddings", &[], b"");
    assert_eq!(resp.status, 405);
    let resp = proxy.request(
        "POST",
        "/v1/embeddings",
        &[],
        br#"{"model":"openai/e","input":"x"}"#,
    );
    assert_eq!(resp.status, 401);
    assert!(mock.received().is_empty(), "{:?}", mock.received());
}

#[test]
fn a_failing_key_falls_back_to_the_next_and_a_key_selection_pins_one() {
    let mock = Mock::start(|r| {
        if r.header("authorization") == Some("Bearer first-key-000") {
            MockResponse::json(429, r#"{"error":{"message":"slow down"}}"#)
        } else {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            MockResponse::json(200, &answer(&body))
        }
    });
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", "first-key-000,second-key-111"),
        ("OPENAI_BASE_URL", &mock.url("/v1")),
        ("RETRY", "1"),
    ]));
    let body = json!({"model": "openai/text-embedding-3-small", "input": "x"});
    for _ in 0..4 {
        let resp = post(&proxy, "/v1/embeddings", &body);
        assert_eq!(resp.status, 200, "{}", resp.text());
        assert_eq!(
            mock.received().last().unwrap().header("authorization"),
            Some("Bearer second-key-111")
        );
    }
    // Whichever key came first, the 429'd one was followed by the other.
    let keys: Vec<_> = mock
        .received()
        .iter()
        .map(|r| r.header("authorization").unwrap().to_string())
        .collect();
    for (i, k) in keys.iter().enumerate() {
        if k == "Bearer first-key-000" {
            assert_eq!(keys[i + 1], "Bearer second-key-111", "{keys:?}");
        }
    }
    // /key/{i}/ pins the key: the 429 reaches the client.
    let resp = post(&proxy, "/key/0/v1/embeddings", &body);
    assert_eq!(resp.status, 429, "{}", resp.text());
    assert_eq!(
        mock.received().last().unwrap().header("authorization"),
        Some("Bearer first-key-000")
    );
    let resp = post(&proxy, "/key/1/v1/embeddings", &body);
    assert_eq!(resp.status, 200);
}

#[test]
fn azure_and_vertex_take_their_openai_compatible_endpoints_and_the_gateway_its_provider_url() {
    let mock = openai_mock();
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("AZURE_OPENAI_API_KEY", "azure-key-1"),
        ("AZURE_OPENAI_BASE_URL", &mock.url("/azure")),
        ("VERTEX_ACCESS_TOKEN", "ya29.vertex-token"),
        ("VERTEX_PROJECT", "proj-1"),
        ("GOOGLE_VERTEX_AI_BASE_URL", &mock.url("/vertex")),
        ("OPENAI_API_KEY", "sk-openai-gw"),
        ("CLOUDFLARE_ACCOUNT_ID", "acc"),
        ("AI_GATEWAY_BASE_URL", &mock.url("/gateway")),
        ("CF_AIG_TOKEN", "cf-token"),
    ]));
    let resp = post(
        &proxy,
        "/v1/embeddings",
        &json!({"model": "azure-openai/my-embedding-deployment", "input": "x"}),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = mock.received().pop().unwrap();
    assert_eq!(got.target, "/azure/openai/v1/embeddings");
    assert_eq!(got.header("api-key"), Some("azure-key-1"));
    assert_eq!(
        serde_json::from_slice::<Value>(&got.body).unwrap()["model"],
        "my-embedding-deployment"
    );
    let resp = post(
        &proxy,
        "/v1/embeddings",
        &json!({"model": "google-vertex-ai/text-embedding-005", "input": ["a"]}),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = mock.received().pop().unwrap();
    assert_eq!(
        got.target,
        "/vertex/v1/projects/proj-1/locations/us-central1/endpoints/openapi/embeddings"
    );
    assert_eq!(
        got.header("authorization"),
        Some("Bearer ya29.vertex-token")
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&got.body).unwrap()["model"],
        "google/text-embedding-005"
    );
    // /g/{gateway}/: the gateway's URL for the provider, with its token.
    let resp = post(
        &proxy,
        "/g/my-gw/v1/embeddings",
        &json!({"model": "openai/text-embedding-3-small", "input": "x"}),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = mock.received().pop().unwrap();
    assert_eq!(got.target, "/gateway/acc/my-gw/openai/embeddings");
    assert_eq!(got.header("authorization"), Some("Bearer sk-openai-gw"));
    assert_eq!(got.header("cf-aig-authorization"), Some("Bearer cf-token"));
}

/// Checks a received SigV4 request: recomputed over the bytes that arrived.
fn check_signature(r: &Recorded, host: &str) {
    common::aws::check_signature(r, host, r.path(), AWS_ID, AWS_SECRET);
}

fn bedrock_mock() -> Mock {
    Mock::start(|r| {
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        if r.path().contains("titan-embed") {
            MockResponse::json(
                200,
                &json!({"embedding": [0.5, -1.25, 3.0], "inputTextTokenCount": 4}).to_string(),
            )
        } else {
            let n = body["texts"].as_array().map_or(0, Vec::len);
            let vectors: Vec<Value> = (0..n).map(|i| json!([i as f64, 0.125])).collect();
            MockResponse::json(
                200,
                &json!({"id": "e1", "embeddings": vectors, "response_type": "embeddings_floats",
                        "texts": body["texts"]})
                .to_string(),
            )
            .header("x-amzn-bedrock-input-token-count", "6")
        }
    })
}

fn floats(b64: &str) -> Vec<f32> {
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
        .chunks(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn bedrock_titan_and_cohere_are_signed_invoked_and_translated_back() {
    let mock = bedrock_mock();
    let proxy = Proxy::start(&env(&[
        ("PROXY_API_KEY", PROXY_KEY),
        ("AWS_ACCESS_KEY_ID", AWS_ID),
        ("AWS_SECRET_ACCESS_KEY", AWS_SECRET),
        ("AWS_BEDROCK_BASE_URL", &mock.url("/bedrock")),
    ]));
    let host = format!("127.0.0.1:{}", mock.port);
    // Titan, floats.
    let resp = post(
        &proxy,
        "/v1/embeddings",
        &json!({"model": "aws-bedrock/amazon.titan-embed-text-v2:0", "input": "héllo", "dimensions": 256}),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = mock.received().pop().unwrap();
    assert_eq!(
        got.path(),
        "/bedrock/model/amazon.titan-embed-text-v2%3A0/invoke"
    );
    check_signature(&got, &host);
    assert!(!got.any_header_contains(PROXY_KEY));
    assert_eq!(
        serde_json::from_slice::<Value>(&got.body).unwrap(),
        json!({"inputText": "héllo", "dimensions": 256, "normalize": true})
    );
    assert_eq!(resp.header("content-type"), Some("application/json"));
    assert_eq!(
        resp.json(),
        json!({"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -1.25, 3.0]}],
               "model": "aws-bedrock/amazon.titan-embed-text-v2:0",
               "usage": {"prompt_tokens": 4, "total_tokens": 4}})
    );
    // Cohere, several texts, base64 as the OpenAI SDK asks by default.
    let resp = post(
        &proxy,
        "/v1/embeddings",
        &json!({"model": "aws-bedrock/cohere.embed-english-v3", "input": ["a", "b", "c"],
                "encoding_format": "base64", "user": "u"}),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = mock.received().pop().unwrap();
    assert_eq!(got.path(), "/bedrock/model/cohere.embed-english-v3/invoke");
    check_signature(&got, &host);
    assert_eq!(
        serde_json::from_slice::<Value>(&got.body).unwrap(),
        json!({"texts": ["a", "b", "c"], "input_type": "search_document"})
    );
    assert_eq!(resp.header("x-llm-proxy-dropped"), Some("user"));
    let v = resp.json();
    assert_eq!(v["data"].as_array().unwrap().len(), 3);
    assert_eq!(
        floats(v["data"][2]["embedding"].as_str().unwrap()),
        [2.0, 0.125]
    );
    assert_eq!(v["usage"]["total_tokens"], 6);
    // Titan with several texts: a 400 that says why, and nothing sent.
    let before = mock.received().len();
    let resp = post(
        &proxy,
        "/v1/embeddings",
        &json!({"model": "aws-bedrock/amazon.titan-embed-text-v2:0", "input": ["a", "b"]}),
    );
    assert_eq!(resp.status, 400);
    assert!(
        resp.text().contains("one text per request"),
        "{}",
        resp.text()
    );
    assert_eq!(mock.received().len(), before);
}

#[test]
fn status_lists_the_routes_each_provider_serves() {
    let mock = openai_mock();
    let proxy = Proxy::start(&settings(&mock, &[]));
    let resp = proxy.authed("GET", "/status", &[], b"");
    assert_eq!(resp.status, 200, "{}", resp.text());
    let v = resp.json();
    assert_eq!(
        v["providers"]["openai"]["routes"],
        json!(["chat", "messages", "responses", "gemini", "embeddings"])
    );
    assert_eq!(
        v["providers"]["anthropic"]["routes"],
        json!(["chat", "messages", "responses", "gemini"])
    );
    assert_eq!(
        v["providers"]["local"]["routes"],
        json!(["chat", "messages", "responses", "gemini", "embeddings"])
    );
    assert_eq!(v["providers"]["replicate"]["routes"], json!([]));
}
