//! `authorize` with fake hosts and a fake token endpoint: what gets signed
//! or minted, when the cache is used, and what never leaks.

use super::*;
use crate::host::fake::FakeHost;
use sigv4::Credentials;
use std::cell::RefCell;

const KEY_FILE: &str = include_str!("../../tests/fixtures/test-service-account.json");

fn account() -> ServiceAccount {
    ServiceAccount::parse(&serde_json::from_str(KEY_FILE).unwrap()).unwrap()
}

/// A token endpoint that counts its calls and answers `status`.
struct TokenEndpoint {
    calls: RefCell<Vec<UpstreamRequest>>,
    status: u16,
}

impl Fetch for TokenEndpoint {
    fn fetch(&self, request: &UpstreamRequest) -> Result<(u16, Vec<u8>), String> {
        self.calls.borrow_mut().push(request.clone());
        let n = self.calls.borrow().len();
        let body = if self.status == 200 {
            format!(
                r#"{{"access_token":"ya29.token-{n}","expires_in":3599,"token_type":"Bearer"}}"#
            )
        } else {
            r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#.into()
        };
        Ok((self.status, body.into_bytes()))
    }
}

fn request(auth: CloudAuth) -> UpstreamRequest {
    UpstreamRequest {
        method: "POST".into(),
        base: BaseUrl::parse("https://us-central1-aiplatform.googleapis.com").unwrap(),
        path_with_query: "/v1/projects/p/locations/us-central1/endpoints/openapi/chat/completions"
            .into(),
        headers: vec![("authorization".into(), b"Bearer stale".to_vec())],
        provider: "google-vertex-ai".into(),
        body: None,
        key_fingerprint: None,
        cloud_auth: Some(auth),
    }
}

fn bearer(up: &UpstreamRequest) -> Vec<&str> {
    up.headers
        .iter()
        .filter(|(n, _)| n == "authorization")
        .map(|(_, v)| std::str::from_utf8(v).unwrap())
        .collect()
}

#[test]
fn google_tokens_are_minted_once_cached_and_refreshed_on_demand() {
    let host = FakeHost::new();
    let endpoint = TokenEndpoint {
        calls: RefCell::new(Vec::new()),
        status: 200,
    };
    let auth = CloudAuth::Google {
        account: account(),
        token_uri: "http://127.0.0.1:9/token".into(),
    };
    let mut up = request(auth.clone());
    assert_eq!(
        authorize(&mut up, b"{}", &host, &endpoint, false).unwrap(),
        Authorized::FreshToken
    );
    assert_eq!(
        bearer(&up),
        ["Bearer ya29.token-1"],
        "the stale header is replaced"
    );
    // The exchange: a form POST with the JWT bearer grant to the token URI.
    let call = endpoint.calls.borrow()[0].clone();
    assert_eq!(call.url(), "http://127.0.0.1:9/token");
    let form = String::from_utf8(call.body.as_deref().unwrap().to_vec()).unwrap();
    assert!(form.starts_with(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
    ));
    assert_eq!(
        call.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    // The next request (another instance, same store) uses the cache.
    let mut up = request(auth.clone());
    assert_eq!(
        authorize(&mut up, b"{}", &host, &endpoint, false).unwrap(),
        Authorized::CachedToken
    );
    assert_eq!(bearer(&up), ["Bearer ya29.token-1"]);
    assert_eq!(endpoint.calls.borrow().len(), 1);
    // A refresh mints anew and replaces the cached token.
    let mut up = request(auth.clone());
    assert_eq!(
        authorize(&mut up, b"{}", &host, &endpoint, true).unwrap(),
        Authorized::FreshToken
    );
    assert_eq!(bearer(&up), ["Bearer ya29.token-2"]);
    let mut up = request(auth);
    authorize(&mut up, b"{}", &host, &endpoint, false).unwrap();
    assert_eq!(bearer(&up), ["Bearer ya29.token-2"]);
    // Without a store (wasmtime): a token per request.
    let bare = FakeHost::storeless();
    let mut up = request(CloudAuth::Google {
        account: account(),
        token_uri: "http://127.0.0.1:9/token".into(),
    });
    assert_eq!(
        authorize(&mut up, b"", &bare, &endpoint, false).unwrap(),
        Authorized::FreshToken
    );
}

#[test]
fn a_refused_exchange_is_an_auth_error_without_secrets() {
    let endpoint = TokenEndpoint {
        calls: RefCell::new(Vec::new()),
        status: 400,
    };
    let mut up = request(CloudAuth::Google {
        account: account(),
        token_uri: "http://127.0.0.1:9/token".into(),
    });
    let e = authorize(&mut up, b"", &FakeHost::new(), &endpoint, false).unwrap_err();
    assert_eq!(e.status, 401);
    assert!(e.message.contains("invalid_grant"), "{}", e.message);
    assert!(
        !e.message.contains("PRIVATE") && !e.message.contains("eyJ"),
        "{}",
        e.message
    );
    let mut up = request(CloudAuth::Google {
        account: account(),
        token_uri: "not a url".into(),
    });
    assert_eq!(
        authorize(&mut up, b"", &FakeHost::new(), &endpoint, false)
            .unwrap_err()
            .status,
        500
    );
}

#[test]
fn sigv4_signs_the_host_called_or_the_one_named_for_the_gateway() {
    let host = FakeHost::new();
    host.now.set(1_440_938_160_000);
    let creds = Credentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
        session_token: Some("session-token".into()),
    };
    let mut up = request(CloudAuth::SigV4 {
        creds: creds.clone(),
        region: "us-east-1".into(),
        service: "bedrock".into(),
        signed_for: None,
    });
    up.base = BaseUrl::parse("http://127.0.0.1:4566").unwrap();
    up.path_with_query = "/model/m%3A0/converse".into();
    let none = TokenEndpoint {
        calls: RefCell::new(Vec::new()),
        status: 200,
    };
    assert_eq!(
        authorize(&mut up, b"{\"a\":1}", &host, &none, false).unwrap(),
        Authorized::Signed
    );
    let expected = sigv4::sign(
        &sigv4::SigningInput {
            method: "POST",
            host: "127.0.0.1:4566",
            path: "/model/m%3A0/converse",
            query: "",
            headers: &[],
            body: b"{\"a\":1}",
            region: "us-east-1",
            service: "bedrock",
            now: 1_440_938_160,
        },
        &creds,
    );
    for (n, v) in &expected.headers {
        assert_eq!(up.header(n), Some(v.as_str()), "{n}");
    }
    assert_eq!(bearer(&up).len(), 1);
    // Signed for the real host when the request goes through the gateway.
    let mut via = request(CloudAuth::SigV4 {
        creds,
        region: "us-east-1".into(),
        service: "bedrock".into(),
        signed_for: Some((
            "bedrock-runtime.us-east-1.amazonaws.com".into(),
            "/model/m%3A0/converse".into(),
        )),
    });
    via.path_with_query =
        "/v1/acc/gw/aws-bedrock/bedrock-runtime/us-east-1/model/m%3A0/converse".into();
    authorize(&mut via, b"{\"a\":1}", &host, &none, false).unwrap();
    assert_ne!(via.header("authorization"), up.header("authorization"));
    assert!(none.calls.borrow().is_empty());
}
