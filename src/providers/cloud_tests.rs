//! Azure OpenAI, Vertex AI and Bedrock: how each resolves, where chat and
//! pass-through requests go (direct and through the AI Gateway), with which
//! auth.

use crate::cloud_auth::CloudAuth;
use crate::host::Fixed;
use crate::pipeline::{decide, plan_body, BodyRoute, Decision, Planned};
use crate::request::RequestHead;
use crate::settings::from_pairs;
use crate::translate::ResponseMapping;
use crate::upstream::{Forward, UpstreamRequest};
use serde_json::{json, Value};
use std::collections::HashMap;

const KEY_FILE: &str = include_str!("../../tests/fixtures/test-service-account.json");

fn src(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    let mut m = from_pairs(&[("PROXY_API_KEY", "pk")]);
    m.extend(from_pairs(pairs));
    m
}

fn head(path: &str) -> RequestHead {
    RequestHead::new(
        "POST",
        path,
        vec![("authorization".into(), b"Bearer pk".to_vec())],
    )
}

fn host() -> Fixed {
    Fixed {
        random: 0,
        now_ms: 0,
    }
}

/// The forward plan of a body route.
fn plan(route: BodyRoute, path: &str, body: Value, s: &HashMap<String, String>) -> Forward {
    let h = head(path);
    let d = decide(&h, s, &host());
    let Decision::WithBody { gateway, .. } = d.decision else {
        panic!("{path}: {:?}", d.decision)
    };
    match plan_body(
        route,
        &h,
        body.to_string().as_bytes(),
        s,
        &host(),
        None,
        gateway.as_ref(),
        None,
    ) {
        Planned::Forward(f) => f,
        Planned::Reply(r) => panic!("{path}: {}", String::from_utf8_lossy(&r.body)),
    }
}

fn chat(body: Value, s: &HashMap<String, String>) -> Forward {
    plan(BodyRoute::ChatCompletions, "/v1/chat/completions", body, s)
}

fn pass(method: &str, path: &str, s: &HashMap<String, String>) -> UpstreamRequest {
    let h = RequestHead::new(
        method,
        path,
        vec![("authorization".into(), b"Bearer pk".to_vec())],
    );
    match decide(&h, s, &host()).decision {
        Decision::PassThrough(mut f) => f.attempts.remove(0),
        other => panic!("{path}: {other:?}"),
    }
}

fn sent(up: &UpstreamRequest) -> Value {
    serde_json::from_slice(up.body.as_deref().unwrap()).unwrap()
}

fn error_of(d: crate::pipeline::Decided) -> String {
    String::from_utf8(d.reply_now().unwrap().body).unwrap()
}

const GATEWAY: &[(&str, &str)] = &[("CLOUDFLARE_ACCOUNT_ID", "acc"), ("AI_GATEWAY_NAME", "gw")];

#[test]
fn azure_openai_direct_and_through_the_gateway() {
    let s = src(&[
        ("AZURE_OPENAI_API_KEY", "az-key"),
        ("AZURE_OPENAI_RESOURCE", "my-res"),
    ]);
    let f = chat(
        json!({"model": "azure-openai/gpt4o-prod", "messages": []}),
        &s,
    );
    let up = f.first();
    assert_eq!(
        up.url(),
        "https://my-res.openai.azure.com/openai/v1/chat/completions"
    );
    assert_eq!(up.header("api-key"), Some("az-key"));
    assert_eq!(up.header("authorization"), None);
    assert_eq!(sent(up)["model"], "gpt4o-prod");
    // Pass-through: never a doubled /openai; dated paths get the API version.
    for (path, want) in [
        ("/azure-openai/v1/models", "https://my-res.openai.azure.com/openai/v1/models"),
        ("/azure-openai/openai/v1/models", "https://my-res.openai.azure.com/openai/v1/models"),
        (
            "/azure-openai/openai/deployments/d1/chat/completions",
            "https://my-res.openai.azure.com/openai/deployments/d1/chat/completions?api-version=2024-10-21",
        ),
        (
            "/azure-openai/deployments/d1/embeddings?api-version=2024-02-01",
            "https://my-res.openai.azure.com/openai/deployments/d1/embeddings?api-version=2024-02-01",
        ),
    ] {
        assert_eq!(pass("POST", path, &s).url(), want, "{path}");
    }
    // Through the gateway, as Cloudflare documents it.
    let mut g = s.clone();
    g.extend(from_pairs(GATEWAY));
    g.insert(
        "AZURE_OPENAI_API_VERSION".into(),
        "2025-01-01-preview".into(),
    );
    let up = chat(
        json!({"model": "azure-openai/gpt4o-prod", "messages": []}),
        &g,
    )
    .attempts
    .remove(0);
    assert_eq!(
        up.url(),
        "https://gateway.ai.cloudflare.com/v1/acc/gw/azure-openai/my-res/gpt4o-prod/chat/completions?api-version=2025-01-01-preview"
    );
    assert_eq!(up.header("api-key"), Some("az-key"));
    // AZURE_OPENAI_BASE_URL is the resource's root; the resource is read off it.
    let o = src(&[
        ("AZURE_OPENAI_API_KEY", "k"),
        ("AZURE_OPENAI_BASE_URL", "http://127.0.0.1:9/azure"),
    ]);
    assert_eq!(
        chat(json!({"model": "azure-openai/d", "messages": []}), &o)
            .first()
            .url(),
        "http://127.0.0.1:9/azure/openai/v1/chat/completions"
    );
    // Neither: a clear error naming the setting.
    let d = decide(
        &head("/azure-openai/v1/models"),
        &src(&[("AZURE_OPENAI_API_KEY", "k")]),
        &host(),
    );
    assert!(error_of(d).contains("AZURE_OPENAI_RESOURCE"));
}

#[test]
fn vertex_with_a_service_account_chat_and_claude() {
    let s = src(&[("VERTEX_SERVICE_ACCOUNT_JSON", KEY_FILE)]);
    let f = chat(
        json!({"model": "google-vertex-ai/gemini-2.0-flash", "messages": [], "stream": true}),
        &s,
    );
    let up = f.first();
    assert_eq!(
        up.url(),
        "https://us-central1-aiplatform.googleapis.com/v1/projects/test-project-123/locations/us-central1/endpoints/openapi/chat/completions"
    );
    assert_eq!(sent(up)["model"], "google/gemini-2.0-flash");
    assert_eq!(up.header("authorization"), None, "minted at send time");
    match &up.cloud_auth {
        Some(CloudAuth::Google { account, token_uri }) => {
            assert_eq!(
                account.client_email,
                "llm-proxy-test@test-project-123.iam.gserviceaccount.com"
            );
            assert_eq!(token_uri, "https://oauth2.googleapis.com/token");
        }
        other => panic!("{other:?}"),
    }
    // Qualified models stay as they are.
    let f = chat(
        json!({"model": "google-vertex-ai/meta/llama-3.1-405b", "messages": []}),
        &s,
    );
    assert_eq!(sent(f.first())["model"], "meta/llama-3.1-405b");
    // Claude on Vertex: Anthropic's Messages API at rawPredict / streamRawPredict.
    let f = chat(
        json!({"model": "google-vertex-ai/claude-sonnet-4@20250514", "messages": [{"role": "user", "content": "hi"}], "stream": true}),
        &s,
    );
    let up = f.first();
    assert_eq!(
        up.url(),
        "https://us-central1-aiplatform.googleapis.com/v1/projects/test-project-123/locations/us-central1/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict"
    );
    let body = sent(up);
    assert_eq!(body["anthropic_version"], "vertex-2023-10-16");
    assert!(body.get("model").is_none());
    assert!(matches!(f.response, ResponseMapping::MessagesToChat { .. }));
    // Region, project, token URI from settings; global has no region prefix.
    let g = src(&[
        ("VERTEX_SERVICE_ACCOUNT_JSON", KEY_FILE),
        ("VERTEX_PROJECT", "other-proj"),
        ("VERTEX_REGION", "global"),
        ("VERTEX_TOKEN_URI", "http://127.0.0.1:9/token"),
    ]);
    let up = chat(
        json!({"model": "google-vertex-ai/gemini", "messages": []}),
        &g,
    )
    .attempts
    .remove(0);
    assert_eq!(
        up.url(),
        "https://aiplatform.googleapis.com/v1/projects/other-proj/locations/global/endpoints/openapi/chat/completions"
    );
    assert!(
        matches!(&up.cloud_auth, Some(CloudAuth::Google { token_uri, .. }) if token_uri == "http://127.0.0.1:9/token")
    );
    // Through the gateway.
    let mut gw = s.clone();
    gw.extend(from_pairs(GATEWAY));
    let up = chat(
        json!({"model": "google-vertex-ai/gemini", "messages": []}),
        &gw,
    )
    .attempts
    .remove(0);
    assert_eq!(
        up.url(),
        "https://gateway.ai.cloudflare.com/v1/acc/gw/google-vertex-ai/v1/projects/test-project-123/locations/us-central1/endpoints/openapi/chat/completions"
    );
    assert!(up.cloud_auth.is_some());
    // Pass-through keeps the path, with the token.
    let up = pass("POST", "/google-vertex-ai/v1/projects/p/locations/us-central1/publishers/google/models/gemini:generateContent", &s);
    assert_eq!(up.url(), "https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/gemini:generateContent");
    assert!(up.cloud_auth.is_some());
}

#[test]
fn vertex_tokens_and_api_keys_and_bad_key_files() {
    let s = src(&[
        ("VERTEX_ACCESS_TOKEN", "ya29.given"),
        ("VERTEX_PROJECT", "p"),
    ]);
    let up = chat(
        json!({"model": "google-vertex-ai/gemini", "messages": []}),
        &s,
    )
    .attempts
    .remove(0);
    assert_eq!(up.header("authorization"), Some("Bearer ya29.given"));
    assert!(up.cloud_auth.is_none());
    let s = src(&[("VERTEX_API_KEY", "AQ.express-key")]);
    let up = pass(
        "POST",
        "/google-vertex-ai/v1/publishers/google/models/gemini:generateContent",
        &s,
    );
    assert_eq!(up.header("x-goog-api-key"), Some("AQ.express-key"));
    // Express mode lives on the global host (unless VERTEX_REGION says else).
    assert_eq!(
        up.url(),
        "https://aiplatform.googleapis.com/v1/publishers/google/models/gemini:generateContent"
    );
    let regional = src(&[
        ("VERTEX_API_KEY", "AQ.express-key"),
        ("VERTEX_REGION", "europe-west4"),
    ]);
    assert!(pass("POST", "/google-vertex-ai/v1/x", &regional)
        .url()
        .starts_with("https://europe-west4-aiplatform.googleapis.com/"));
    // Chat completions: not in express mode (Vertex's OpenAI-compatible
    // endpoint wants OAuth), even with a project; the error says why.
    let with_project = src(&[
        ("VERTEX_API_KEY", "AQ.express-key"),
        ("VERTEX_PROJECT", "my-project"),
    ]);
    for s in [&s, &with_project] {
        let h = head("/v1/chat/completions");
        match plan_body(
            BodyRoute::ChatCompletions,
            &h,
            br#"{"model":"google-vertex-ai/gemini","messages":[]}"#,
            s,
            &host(),
            None,
            None,
            None,
        ) {
            Planned::Reply(r) => {
                assert_eq!(r.status, 400);
                let body = String::from_utf8_lossy(&r.body);
                assert!(body.contains("express-mode VERTEX_API_KEY"), "{body}");
                assert!(!body.contains("AQ.express-key"), "{body}");
            }
            Planned::Forward(_) => panic!("chat in express mode"),
        }
    }
    // With a given token but no project, the error names VERTEX_PROJECT.
    let no_project = src(&[("VERTEX_ACCESS_TOKEN", "ya29.given")]);
    match plan_body(
        BodyRoute::ChatCompletions,
        &head("/v1/chat/completions"),
        br#"{"model":"google-vertex-ai/gemini","messages":[]}"#,
        &no_project,
        &host(),
        None,
        None,
        None,
    ) {
        Planned::Reply(r) => {
            assert_eq!(r.status, 400);
            assert!(String::from_utf8_lossy(&r.body).contains("VERTEX_PROJECT"));
        }
        Planned::Forward(_) => panic!("chat without a project"),
    }
    let s = src(&[(
        "VERTEX_SERVICE_ACCOUNT_JSON",
        r#"{"private_key": "-----BEGIN PRIVATE KEY-----secret"}"#,
    )]);
    let e = error_of(decide(&head("/google-vertex-ai/v1/x"), &s, &host()));
    assert!(
        e.contains("VERTEX_SERVICE_ACCOUNT_JSON") && e.contains("client_email"),
        "{e}"
    );
    assert!(!e.contains("secret"), "{e}");
    // Several service accounts: several keys.
    let two = format!(
        "[{KEY_FILE}, {}]",
        KEY_FILE.replace("0123456789abcdef0123456789abcdef01234567", "fedcba")
    );
    let p = super::resolve(
        "google-vertex-ai",
        &src(&[("VERTEX_SERVICE_ACCOUNT_JSON", &two)]),
    )
    .unwrap();
    assert_eq!(p.keys.len(), 2);
    assert_ne!(p.keys[0], p.keys[1]);
}

#[test]
fn bedrock_converse_signed_direct_and_for_the_real_host_through_the_gateway() {
    let s = src(&[
        ("AWS_ACCESS_KEY_ID", "AKIA1,AKIA2"),
        ("AWS_SECRET_ACCESS_KEY", "secret1,secret2"),
        ("AWS_REGION", "eu-west-1"),
    ]);
    let f = chat(
        json!({"model": "aws-bedrock/anthropic.claude-3-haiku-20240307-v1:0", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 10}),
        &s,
    );
    let up = f.first();
    assert_eq!(
        up.url(),
        "https://bedrock-runtime.eu-west-1.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
    );
    assert_eq!(
        sent(up)["messages"],
        json!([{"role": "user", "content": [{"text": "hi"}]}])
    );
    assert_eq!(sent(up)["inferenceConfig"], json!({"maxTokens": 10}));
    match &up.cloud_auth {
        Some(CloudAuth::SigV4 {
            creds,
            region,
            service,
            signed_for,
        }) => {
            assert!(creds.access_key_id == "AKIA1" || creds.access_key_id == "AKIA2");
            assert_eq!(
                (region.as_str(), service.as_str(), signed_for),
                ("eu-west-1", "bedrock", &None)
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(f.key_count, 2);
    assert!(matches!(f.response, ResponseMapping::ConverseToChat { .. }));
    let f = chat(
        json!({"model": "aws-bedrock/m", "messages": [], "stream": true}),
        &s,
    );
    assert!(f
        .first()
        .path_with_query
        .ends_with("/model/m/converse-stream"));
    // Through the gateway: its URL, signed for Bedrock's own host and path.
    let mut g = s.clone();
    g.extend(from_pairs(GATEWAY));
    let up = chat(json!({"model": "aws-bedrock/m:1", "messages": []}), &g)
        .attempts
        .remove(0);
    assert_eq!(
        up.url(),
        "https://gateway.ai.cloudflare.com/v1/acc/gw/aws-bedrock/bedrock-runtime/eu-west-1/model/m%3A1/converse"
    );
    assert!(
        matches!(&up.cloud_auth, Some(CloudAuth::SigV4 { signed_for: Some((h, p)), .. })
        if h == "bedrock-runtime.eu-west-1.amazonaws.com" && p == "/model/m%3A1/converse")
    );
    // A Bedrock API key instead: Bearer, nothing to sign.
    let b = src(&[("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key")]);
    let up = pass("POST", "/aws-bedrock/model/m/converse", &b);
    assert_eq!(
        up.url(),
        "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse"
    );
    assert_eq!(up.header("authorization"), Some("Bearer bedrock-api-key"));
    assert!(up.cloud_auth.is_none());
    // Lists that do not pair up are named.
    let bad = src(&[
        ("AWS_ACCESS_KEY_ID", "AKIA1,AKIA2"),
        ("AWS_SECRET_ACCESS_KEY", "only-one"),
    ]);
    let e = error_of(decide(
        &head("/aws-bedrock/model/m/converse"),
        &bad,
        &host(),
    ));
    assert!(
        e.contains("AWS_SECRET_ACCESS_KEY") && !e.contains("only-one"),
        "{e}"
    );
}

#[test]
fn messages_clients_reach_the_clouds() {
    // Bedrock: Messages → OpenAI chat → Converse, and back through both.
    let s = src(&[
        ("AWS_ACCESS_KEY_ID", "AKIA1"),
        ("AWS_SECRET_ACCESS_KEY", "s"),
        ("VERTEX_SERVICE_ACCOUNT_JSON", KEY_FILE),
    ]);
    let f = plan(
        BodyRoute::Messages,
        "/v1/messages",
        json!({"model": "aws-bedrock/m", "max_tokens": 5, "system": "be kind", "messages": [{"role": "user", "content": "hi"}]}),
        &s,
    );
    assert_eq!(sent(f.first())["system"], json!([{"text": "be kind"}]));
    assert!(matches!(f.response, ResponseMapping::Chain(..)));
    // Claude on Vertex: the Messages body, model out, anthropic_version in.
    let f = plan(
        BodyRoute::Messages,
        "/v1/messages",
        json!({"model": "google-vertex-ai/claude-haiku-4-5", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], "top_k": 3}),
        &s,
    );
    let body = sent(f.first());
    assert!(body.get("model").is_none());
    assert_eq!(body["anthropic_version"], "vertex-2023-10-16");
    assert_eq!(body["top_k"], 3, "native: nothing is dropped");
    assert!(f
        .first()
        .path_with_query
        .ends_with("/publishers/anthropic/models/claude-haiku-4-5:rawPredict"));
    assert_eq!(f.response, ResponseMapping::Relay);
}
