//! `authorize` (and its two phases, `prepare` and `Mint::finish`) with fake
//! hosts and a fake token endpoint: what gets signed or minted, when which
//! cache is used, and what never leaks.

use super::*;
use crate::host::fake::FakeHost;
use crate::host::KeyValue;
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

const TOKEN_URI: &str = "http://127.0.0.1:9/token";

fn google() -> UpstreamRequest {
    request(CloudAuth::Google {
        account: account(),
        token_uri: TOKEN_URI.into(),
    })
}

fn token_answer(token: &str) -> Result<(u16, Vec<u8>), String> {
    Ok((
        200,
        format!(r#"{{"access_token":"{token}","expires_in":3599,"token_type":"Bearer"}}"#)
            .into_bytes(),
    ))
}

/// The raw cache entries for the test account: (memory, shared store).
fn cached_entries(host: &FakeHost) -> (Option<String>, Option<String>) {
    let key = account().cache_key();
    let text = |v: Vec<u8>| String::from_utf8(v).unwrap();
    (
        host.memory.as_ref().and_then(|m| m.get(&key)).map(text),
        host.store
            .as_ref()
            .and_then(|s| s.data.borrow().get(&key).cloned())
            .map(text),
    )
}

fn mint(prepared: Prepared) -> Mint {
    match prepared {
        Prepared::Mint(mint) => mint,
        Prepared::Done(a) => panic!("expected a token exchange, got Done({a:?})"),
    }
}

/// A Bedrock request signed with SigV4 (example credentials).
fn bedrock_request() -> UpstreamRequest {
    request(CloudAuth::SigV4 {
        creds: sigv4::Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: None,
        },
        region: "us-east-1".into(),
        service: "bedrock".into(),
        signed_for: None,
    })
}

fn done(prepared: Prepared) -> Authorized {
    match prepared {
        Prepared::Done(a) => a,
        Prepared::Mint(m) => panic!("expected no exchange, got {m:?}"),
    }
}

#[test]
fn prepare_needs_no_exchange_for_a_static_key_or_a_signature() {
    let host = FakeHost::new().with_memory();
    let mut up = bedrock_request();
    up.cloud_auth = None;
    let before = up.headers.clone();
    assert_eq!(
        done(prepare(&mut up, b"", &host, false).unwrap()),
        Authorized::Static
    );
    assert_eq!(up.headers, before, "a static key is left alone");
    assert_eq!(
        host.calls(),
        Default::default(),
        "and asks nothing of the host"
    );

    let mut up = bedrock_request();
    assert_eq!(
        done(prepare(&mut up, b"{}", &host, true).unwrap()),
        Authorized::Signed
    );
    let auth = bearer(&up);
    assert_eq!(auth.len(), 1, "the stale header is replaced");
    assert!(auth[0].starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
    assert!(up.header("x-amz-date").is_some());
    assert_eq!(cached_entries(&host), (None, None));
}

#[test]
fn a_token_in_memory_is_used_without_touching_the_shared_store() {
    let host = FakeHost::new().with_memory();
    let now = host.now.get();
    google::remember(
        host.memory.as_ref().unwrap(),
        &account(),
        "ya29.in-memory",
        3599,
        now,
    );
    // A different token in the store: the memory's must win.
    google::remember(
        host.store.as_ref().unwrap(),
        &account(),
        "ya29.in-store",
        3599,
        now,
    );
    host.reset_calls();
    let mut up = google();
    assert_eq!(
        done(prepare(&mut up, b"", &host, false).unwrap()),
        Authorized::CachedToken
    );
    assert_eq!(bearer(&up), ["Bearer ya29.in-memory"]);
    let calls = host.calls();
    assert_eq!(
        (calls.store_open, calls.store_get, calls.store_set),
        (0, 0, 0),
        "{calls:?}"
    );
}

#[test]
fn a_token_in_the_store_is_copied_into_memory_until_the_same_expiry() {
    let host = FakeHost::new().with_memory();
    let now = host.now.get();
    google::remember(
        host.store.as_ref().unwrap(),
        &account(),
        "ya29.in-store",
        3599,
        now - 60_000,
    );
    host.reset_calls();
    let mut up = google();
    assert_eq!(
        done(prepare(&mut up, b"", &host, false).unwrap()),
        Authorized::CachedToken
    );
    assert_eq!(bearer(&up), ["Bearer ya29.in-store"]);
    assert_eq!(host.calls().store_get, 1);
    let expected = format!("{}\nya29.in-store", now - 60_000 + 3_599_000);
    assert_eq!(
        cached_entries(&host),
        (Some(expected.clone()), Some(expected))
    );
    // The next request on this instance stays in memory.
    host.reset_calls();
    let mut up = google();
    assert_eq!(
        done(prepare(&mut up, b"", &host, false).unwrap()),
        Authorized::CachedToken
    );
    assert_eq!(bearer(&up), ["Bearer ya29.in-store"]);
    assert_eq!(host.calls().store_open, 0);
    // A token about to expire in memory is not used: the store is asked.
    host.now.set(now + 3_599_000 - google::REFRESH_MARGIN_MS);
    host.reset_calls();
    let mut up = google();
    mint(prepare(&mut up, b"", &host, false).unwrap());
    assert_eq!(host.calls().store_get, 1);
}

#[test]
fn a_needed_token_is_an_exchange_whose_answer_is_cached_in_both_stores() {
    let host = FakeHost::new().with_memory();
    let now = host.now.get();
    let mut up = google();
    let m = mint(prepare(&mut up, b"", &host, false).unwrap());
    assert!(bearer(&up).is_empty(), "the stale header is gone");
    let exchange = m.request();
    assert_eq!(exchange.method, "POST");
    assert_eq!(exchange.url(), TOKEN_URI);
    assert_eq!(
        exchange.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = String::from_utf8(exchange.body.as_deref().unwrap().to_vec()).unwrap();
    assert!(form.starts_with(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="
    ));
    assert!(
        !format!("{m:?}").contains("assertion"),
        "Debug shows no credential: {m:?}"
    );
    assert_eq!(cached_entries(&host), (None, None), "nothing cached yet");

    assert_eq!(
        m.finish(&mut up, &host, token_answer("ya29.fresh"))
            .unwrap(),
        Authorized::FreshToken
    );
    assert_eq!(bearer(&up), ["Bearer ya29.fresh"]);
    let expected = format!("{}\nya29.fresh", now + 3_599_000);
    assert_eq!(
        cached_entries(&host),
        (Some(expected.clone()), Some(expected))
    );
    // Without a memory (a p2 instance), the store alone.
    let host = FakeHost::new();
    let mut up = google();
    let m = mint(prepare(&mut up, b"", &host, false).unwrap());
    m.finish(&mut up, &host, token_answer("ya29.other"))
        .unwrap();
    assert_eq!(bearer(&up), ["Bearer ya29.other"]);
    assert!(cached_entries(&host).1.unwrap().ends_with("\nya29.other"));
}

#[test]
fn a_refused_or_failed_exchange_is_an_error_and_caches_nothing() {
    for (answer, status) in [
        (Ok((400, br#"{"error":"invalid_grant"}"#.to_vec())), 401),
        (Ok((401, br#"{"error":"invalid_client"}"#.to_vec())), 401),
        (Ok((403, b"forbidden".to_vec())), 401),
        (Ok((500, b"oops".to_vec())), 502),
        (Ok((200, b"{}".to_vec())), 502),
        (Err("connection refused".to_string()), 502),
    ] {
        let host = FakeHost::new().with_memory();
        let mut up = google();
        let m = mint(prepare(&mut up, b"", &host, false).unwrap());
        let e = m.finish(&mut up, &host, answer.clone()).unwrap_err();
        assert_eq!(e.status, status, "{answer:?}: {e:?}");
        if status == 401 {
            assert_eq!(
                (e.kind, e.code),
                ("authentication_error", "provider_auth_failed")
            );
        } else {
            assert_ne!(e.code, "provider_auth_failed");
        }
        assert!(
            e.message
                .contains("could not get a Google access token for"),
            "{}",
            e.message
        );
        assert!(bearer(&up).is_empty(), "{answer:?}");
        assert_eq!(cached_entries(&host), (None, None), "{answer:?}");
    }
    let host = FakeHost::new().with_memory();
    let mut up = google();
    let m = mint(prepare(&mut up, b"", &host, false).unwrap());
    let e = m
        .finish(&mut up, &host, Err("connection refused".into()))
        .unwrap_err();
    assert!(e.message.contains("connection refused"), "{}", e.message);
}

#[test]
fn a_refresh_skips_both_caches_and_replaces_both() {
    let host = FakeHost::new().with_memory();
    let now = host.now.get();
    for kv in [
        host.memory.as_ref().unwrap() as &dyn KeyValue,
        host.store.as_ref().unwrap(),
    ] {
        google::remember(kv, &account(), "ya29.old", 3599, now);
    }
    host.reset_calls();
    let mut up = google();
    let m = mint(prepare(&mut up, b"", &host, true).unwrap());
    assert_eq!(host.calls().store_get, 0, "the store is not read");
    assert_eq!(m.request().url(), TOKEN_URI);
    assert_eq!(
        m.finish(&mut up, &host, token_answer("ya29.new")).unwrap(),
        Authorized::FreshToken
    );
    assert_eq!(bearer(&up), ["Bearer ya29.new"]);
    let expected = format!("{}\nya29.new", now + 3_599_000);
    assert_eq!(
        cached_entries(&host),
        (Some(expected.clone()), Some(expected))
    );
}

#[test]
fn authorize_is_prepare_then_one_fetch_then_finish() {
    // With a memory, a second request on the instance reads neither the
    // store nor the endpoint.
    let host = FakeHost::new().with_memory();
    let endpoint = TokenEndpoint {
        calls: RefCell::new(Vec::new()),
        status: 200,
    };
    let mut up = google();
    assert_eq!(
        authorize(&mut up, b"", &host, &endpoint, false).unwrap(),
        Authorized::FreshToken
    );
    assert_eq!(endpoint.calls.borrow().len(), 1);
    assert_eq!(endpoint.calls.borrow()[0].url(), TOKEN_URI);
    host.reset_calls();
    let mut up = google();
    assert_eq!(
        authorize(&mut up, b"", &host, &endpoint, false).unwrap(),
        Authorized::CachedToken
    );
    assert_eq!(bearer(&up), ["Bearer ya29.token-1"]);
    assert_eq!(host.calls().store_open, 0);
    assert_eq!(endpoint.calls.borrow().len(), 1);
}

#[test]
fn the_memory_store_counts_and_overwrites() {
    let m = crate::host::MemoryStore::new();
    assert!(m.is_empty());
    assert_eq!(m.increment("n", 2), Some(2));
    assert_eq!(m.increment("n", -5), Some(-3));
    assert_eq!(m.get("n").as_deref(), Some(&b"-3"[..]));
    assert!(m.set("n", b"x"));
    assert_eq!(m.increment("n", 1), None, "not a number");
    assert_eq!(m.get("missing"), None);
    assert_eq!(m.len(), 1);
}
