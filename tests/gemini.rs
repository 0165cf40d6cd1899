//! The Gemini API (`/v1beta/models/{model}:{method}`) under `wasmtime serve`
//! against loopback mocks: native to Google AI Studio, translated to an
//! OpenAI-compatible provider and chained to Anthropic — what the mock
//! received, what the client got, and when.

mod common;

use common::llm::*;
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

const GEMINI_UPSTREAM_KEY: &str = "AIza-upstream-gemini";

/// The proxy with OpenAI/Groq at `openai`, Anthropic at `anthropic` and
/// Google AI Studio at `google`.
fn proxy(openai: &Mock, anthropic: &Mock, google: &Mock) -> Proxy {
    let google_base = google.url("/google");
    common::llm::proxy(
        openai,
        anthropic,
        &[
            ("GEMINI_API_KEY", GEMINI_UPSTREAM_KEY),
            ("GOOGLE_AI_STUDIO_BASE_URL", &google_base),
        ],
    )
}

/// A Gemini CLI-shaped turn: system instruction, a user turn, its tools,
/// thinking and safety settings.
fn cli_request() -> Value {
    json!({
        "contents": [{"role": "user", "parts": [{"text": "Weather in Paris?"}]}],
        "systemInstruction": {"role": "user", "parts": [{"text": "You are Gemini CLI."}]},
        "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Weather",
            "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}},
                                     "required": ["city"]}}]}],
        "generationConfig": {"temperature": 0, "topP": 1, "maxOutputTokens": 512,
                             "thinkingConfig": {"includeThoughts": true, "thinkingBudget": -1}},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}]
    })
}

/// A POST with the proxy key as Gemini CLI sends it, `x-goog-api-key`.
fn post(proxy: &Proxy, path: &str, body: &[u8]) -> Response {
    proxy.request(
        "POST",
        path,
        &[
            ("x-goog-api-key", PROXY_KEY),
            ("content-type", "application/json"),
            ("x-goog-api-client", "google-genai-sdk/1.30.0 gl-node/v20"),
            ("user-agent", "GeminiCLI/0.61.0 (linux; x64)"),
        ],
        body,
    )
}

/// The `data:` payloads of an `alt=sse` answer (events end in a blank line,
/// CRLF or LF).
fn gemini_events(resp: &Response) -> Vec<Value> {
    resp.text()
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let data = e
                .lines()
                .find_map(|l| l.strip_prefix("data: "))
                .unwrap_or_else(|| panic!("no data line in {e:?}"));
            serde_json::from_str(data).unwrap()
        })
        .collect()
}

/// The parts of all events, in order.
fn parts(events: &[Value]) -> Vec<Value> {
    events
        .iter()
        .flat_map(|e| {
            e["candidates"][0]["content"]["parts"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn a_gemini_cli_turn_streams_from_an_openai_compatible_provider_event_by_event() {
    let (openai, anthropic, google) = (openai_mock(), anthropic_mock(), Mock::echo());
    let proxy = proxy(&openai, &anthropic, &google);
    let resp = post(
        &proxy,
        "/v1beta/models/groq/llama-3.3-70b-versatile:streamGenerateContent?alt=sse",
        cli_request().to_string().as_bytes(),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.header("content-type"), Some("text/event-stream"));
    assert_eq!(resp.header("x-llm-proxy-dropped"), Some("safetySettings"));

    let got = openai.only();
    assert_eq!(got.path(), "/groq/openai/v1/chat/completions");
    assert_eq!(got.header("authorization"), Some("Bearer gsk-upstream"));
    assert_eq!(got.header("x-goog-api-client"), None);
    assert!(!got.any_header_contains(PROXY_KEY));
    let sent: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(sent["model"], "llama-3.3-70b-versatile");
    assert_eq!(
        sent["messages"],
        json!([{"role": "system", "content": "You are Gemini CLI."},
               {"role": "user", "content": "Weather in Paris?"}])
    );
    assert_eq!(sent["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(
        sent["tools"][0]["function"]["parameters"]["required"],
        json!(["city"])
    );
    assert_eq!(sent["max_tokens"], 512);
    assert_eq!(sent["stream"], true);
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));

    let events = gemini_events(&resp);
    let all = parts(&events);
    let text: String = all.iter().filter_map(|p| p["text"].as_str()).collect();
    assert_eq!(text, "Hello world");
    let call = all
        .iter()
        .find_map(|p| p.get("functionCall"))
        .expect("a functionCall part");
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["args"], json!({"city": "Paris"}));
    let last = events.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["usageMetadata"]["promptTokenCount"], 11);
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 7);
    assert_eq!(last["usageMetadata"]["totalTokenCount"], 18);
    assert_eq!(last["modelVersion"], "groq/llama-3.3-70b-versatile");
    // Event by event, as the upstream sends them (150 ms apart).
    let hello = resp.arrival_of("\"Hello\"").unwrap();
    let done = resp.arrival_of("finishReason").unwrap();
    assert!(
        done.saturating_sub(hello).as_millis() >= 400,
        "{hello:?} {done:?}"
    );
    let line = proxy.wait_log(r#""api":"gemini""#);
    assert!(line.contains(r#""provider":"groq""#), "{line}");
}

#[test]
fn anthropic_answers_a_gemini_client_through_two_translations() {
    let (openai, anthropic, google) = (openai_mock(), anthropic_mock(), Mock::echo());
    let proxy = proxy(&openai, &anthropic, &google);
    // The key as `?key=`, Google's other way.
    let resp = proxy.request(
        "POST",
        &format!("/v1/models/anthropic/claude-sonnet-4-5:generateContent?key={PROXY_KEY}"),
        &[("content-type", "application/json")],
        cli_request().to_string().as_bytes(),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = anthropic.only();
    assert_eq!(got.path(), "/v1/messages");
    assert_eq!(got.header("x-api-key"), Some("sk-ant-upstream"));
    assert!(!got.target.contains(PROXY_KEY));
    let sent: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(sent["model"], "claude-sonnet-4-5");
    assert_eq!(sent["system"], "You are Gemini CLI.");
    assert_eq!(sent["max_tokens"], 512);
    assert_eq!(sent["tools"][0]["name"], "get_weather");
    let v = resp.json();
    assert_eq!(
        v["candidates"][0]["content"],
        json!({"role": "model", "parts": [{"text": "Bonjour"}]})
    );
    assert_eq!(v["candidates"][0]["finishReason"], "STOP");
    assert_eq!(v["usageMetadata"]["promptTokenCount"], 5);
    assert_eq!(v["usageMetadata"]["candidatesTokenCount"], 2);
    assert_eq!(v["modelVersion"], "anthropic/claude-sonnet-4-5");

    // Streamed: Messages SSE → chat → Gemini SSE, ending with finishReason.
    let resp = post(
        &proxy,
        "/v1beta/models/anthropic/claude-sonnet-4-5:streamGenerateContent?alt=sse",
        cli_request().to_string().as_bytes(),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let events = gemini_events(&resp);
    let text: String = parts(&events)
        .iter()
        .filter_map(|p| p["text"].as_str())
        .collect();
    assert_eq!(text, "Bonjour");
    let last = events.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["usageMetadata"]["candidatesTokenCount"], 4);
}

#[test]
fn a_bare_model_reaches_google_ai_studio_byte_for_byte() {
    let google = Mock::start(|r| {
        if r.path().ends_with(":countTokens") {
            return MockResponse::json(200, r#"{"totalTokens":31}"#);
        }
        MockResponse::events(vec![
            (
                Duration::ZERO,
                b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}],\"role\":\"model\"}}],\"modelVersion\":\"gemini-2.5-flash\"}\r\n\r\n".to_vec(),
            ),
            (
                Duration::from_millis(50),
                b"data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"!\"}],\"role\":\"model\"},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":2,\"totalTokenCount\":5},\"modelVersion\":\"gemini-2.5-flash\"}\r\n\r\n".to_vec(),
            ),
        ])
    });
    let (openai, anthropic) = (openai_mock(), anthropic_mock());
    let proxy = proxy(&openai, &anthropic, &google);
    let body = br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}],  "cachedContent":"cachedContents/x"}"#;
    let resp = post(
        &proxy,
        "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
        body,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let got = google.only();
    assert_eq!(
        got.path(),
        "/google/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    );
    assert_eq!(got.query(), "alt=sse");
    assert_eq!(got.header("x-goog-api-key"), Some(GEMINI_UPSTREAM_KEY));
    assert_eq!(
        got.header("x-goog-api-client"),
        Some("google-genai-sdk/1.30.0 gl-node/v20")
    );
    assert!(!got.any_header_contains(PROXY_KEY));
    assert_eq!(got.body, body.to_vec());
    // Relayed as it is, CRLFs and all.
    assert!(resp.text().starts_with("data: {\"candidates\""));
    assert!(resp.text().contains("\r\n\r\n"));
    assert_eq!(resp.header("x-llm-proxy-dropped"), None);
    let events = gemini_events(&resp);
    assert_eq!(events.len(), 2);

    // countTokens natively too; the key in the query is the proxy's and stays behind.
    let resp = proxy.request(
        "POST",
        &format!("/v1beta/models/models/gemini-2.5-flash:countTokens?key={PROXY_KEY}"),
        &[("content-type", "application/json")],
        body,
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json(), json!({"totalTokens": 31}));
    assert_eq!(resp.header("x-llm-proxy-token-count"), None);
    let got = google.received().pop().unwrap();
    assert_eq!(
        got.target,
        "/google/v1beta/models/gemini-2.5-flash:countTokens"
    );
}

#[test]
fn count_tokens_elsewhere_is_an_estimate_and_embed_content_is_embeddings() {
    let openai = Mock::start(|r| {
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        let n = body["input"].as_array().map_or(1, Vec::len);
        let data: Vec<Value> = (0..n)
            .rev()
            .map(|i| json!({"object": "embedding", "index": i, "embedding": [i as f64, 0.5]}))
            .collect();
        MockResponse::json(
            200,
            &json!({"object": "list", "data": data, "model": body["model"],
                    "usage": {"prompt_tokens": 2, "total_tokens": 2}})
            .to_string(),
        )
    });
    let (anthropic, google) = (anthropic_mock(), Mock::echo());
    let proxy = proxy(&openai, &anthropic, &google);
    let resp = post(
        &proxy,
        "/v1beta/models/openai/gpt-4o:countTokens",
        json!({"contents": [{"role": "user", "parts": [{"text": "x".repeat(40)}]}]})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json(), json!({"totalTokens": 17}));
    assert_eq!(resp.header("x-llm-proxy-token-count"), Some("estimate"));
    assert!(openai.received().is_empty());

    let resp = post(
        &proxy,
        "/v1beta/models/openai/text-embedding-3-small:batchEmbedContents",
        json!({"requests": [
            {"model": "models/openai/text-embedding-3-small", "content": {"parts": [{"text": "a"}]},
             "outputDimensionality": 2},
            {"model": "models/openai/text-embedding-3-small", "content": {"parts": [{"text": "b"}]}}]})
        .to_string()
        .as_bytes(),
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(
        resp.json(),
        json!({"embeddings": [{"values": [0.0, 0.5]}, {"values": [1.0, 0.5]}]})
    );
    let got = openai.only();
    assert_eq!(got.path(), "/v1/embeddings");
    let sent: Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(
        sent,
        json!({"model": "text-embedding-3-small", "input": ["a", "b"],
               "encoding_format": "float", "dimensions": 2})
    );
}

#[test]
fn errors_reach_a_gemini_client_in_googles_shape() {
    let (openai, anthropic, google) = (openai_mock(), anthropic_mock(), Mock::echo());
    let proxy = proxy(&openai, &anthropic, &google);
    let body = cli_request().to_string();
    // The provider's 429, streamed or not.
    for path in [
        "/v1beta/models/openai/rate-limited:generateContent",
        "/v1beta/models/openai/rate-limited:streamGenerateContent?alt=sse",
    ] {
        let resp = post(&proxy, path, body.as_bytes());
        assert_eq!(resp.status, 429, "{}", resp.text());
        let e = &resp.json()["error"];
        assert_eq!(e["code"], 429);
        assert_eq!(e["status"], "RESOURCE_EXHAUSTED");
        assert!(e["message"].as_str().unwrap().contains("Rate limit"), "{e}");
    }
    // The proxy's own: a wrong key, an unknown provider, an unknown method.
    let resp = proxy.request(
        "POST",
        "/v1beta/models/openai/gpt-4o:generateContent",
        &[("x-goog-api-key", "wrong")],
        body.as_bytes(),
    );
    assert_eq!(resp.status, 401);
    assert_eq!(resp.json()["error"]["status"], "UNAUTHENTICATED");
    let resp = post(
        &proxy,
        "/v1beta/models/nosuch/x:generateContent",
        body.as_bytes(),
    );
    assert_eq!(resp.status, 400);
    assert_eq!(resp.json()["error"]["status"], "INVALID_ARGUMENT");
    let resp = post(
        &proxy,
        "/v1beta/models/openai/gpt-4o:predictLongRunning",
        body.as_bytes(),
    );
    assert_eq!(resp.status, 404);
    assert_eq!(resp.json()["error"]["status"], "NOT_FOUND");
    assert!(google.received().is_empty());
}

#[test]
fn a_stream_cut_off_still_ends_with_a_finish_reason() {
    let openai = Mock::start(|_| MockResponse {
        status: 200,
        headers: vec![("content-type".into(), "text/event-stream".into())],
        delay: Duration::ZERO,
        body: MockBody::Truncated(vec![
            (
                Duration::ZERO,
                openai_chunk(json!({"role": "assistant", "content": "Half"}), None),
            ),
            (
                Duration::from_millis(20),
                openai_chunk(json!({"content": " an answer"}), None),
            ),
        ]),
    });
    let (anthropic, google) = (anthropic_mock(), Mock::echo());
    let proxy = proxy(&openai, &anthropic, &google);
    let resp = post(
        &proxy,
        "/v1beta/models/openai/gpt-4o:streamGenerateContent?alt=sse",
        cli_request().to_string().as_bytes(),
    );
    assert_eq!(resp.status, 200);
    let events = gemini_events(&resp);
    let text: String = parts(&events)
        .iter()
        .filter_map(|p| p["text"].as_str())
        .collect();
    assert_eq!(text, "Half an answer");
    let last = events.last().unwrap();
    assert_eq!(last["candidates"][0]["finishReason"], "OTHER", "{last}");
    assert!(last.get("usageMetadata").is_some(), "{last}");
}

#[test]
fn a_gemini_client_lists_every_providers_models_in_googles_shape() {
    let openai = Mock::start(|r| {
        assert_eq!(r.method, "GET");
        MockResponse::json(
            200,
            r#"{"object":"list","data":[{"id":"gpt-4o","created":1}]}"#,
        )
    });
    let (anthropic, google) = (anthropic_mock(), Mock::echo());
    let proxy = common::llm::proxy(&openai, &anthropic, &[]);
    let resp = proxy.request(
        "GET",
        "/v1beta/models",
        &[("x-goog-api-key", PROXY_KEY)],
        b"",
    );
    assert_eq!(resp.status, 200, "{}", resp.text());
    let names: Vec<String> = resp.json()["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_string())
        .collect();
    assert!(
        names.contains(&"models/openai/gpt-4o".to_string()),
        "{names:?}"
    );
    assert!(
        names.contains(&"models/groq/gpt-4o".to_string()),
        "{names:?}"
    );
    // Google's SDKs on /v1 (they name themselves) get the same; everyone else OpenAI's list.
    let resp = proxy.request(
        "GET",
        "/v1/models",
        &[
            ("x-goog-api-key", PROXY_KEY),
            ("x-goog-api-client", "google-genai-sdk/1.30.0"),
        ],
        b"",
    );
    assert!(resp.json()["models"].is_array(), "{}", resp.text());
    let resp = proxy.authed("GET", "/v1/models", &[], b"");
    assert_eq!(resp.json()["object"], "list");
    assert!(resp.json()["data"].is_array());
    // A wrong key on the Gemini list is refused in Google's shape.
    let resp = proxy.request("GET", "/v1beta/models", &[("x-goog-api-key", "wrong")], b"");
    assert_eq!(resp.status, 401);
    assert_eq!(resp.json()["error"]["status"], "UNAUTHENTICATED");
    assert!(google.received().is_empty());
}
