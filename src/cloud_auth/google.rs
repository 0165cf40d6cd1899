//! OAuth2 access tokens minted from a Google service account (RFC 7523 JWT
//! bearer grant): the RS256-signed assertion, the token request, the answer,
//! and where a token is cached (the shared key-value store, so instances do
//! not each mint one per request).
//!
//! Signing uses RustCrypto's `rsa` with blinding; see docs/clouds.md for why its
//! advisory (RUSTSEC-2023-0071, a timing side channel) does not reach what
//! the proxy signs.

pub use crate::credentials::{ServiceAccount, TOKEN_URI};
use crate::host::{Host, KeyValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{RandomizedSigner, SignatureEncoding};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};
use sha2::Sha256;

/// The scope every token asks for.
pub const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Lifetime asked for in the assertion (the most Google allows).
pub const ASSERTION_SECS: i64 = 3600;
/// A cached token is used until this long before it expires.
pub const REFRESH_MARGIN_MS: u64 = 5 * 60 * 1000;

/// Random bytes from the host, for RSA blinding.
pub struct HostRng<'a>(pub &'a dyn Host);

impl rand_core::RngCore for HostRng<'_> {
    fn next_u32(&mut self) -> u32 {
        self.0.random_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0.random_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.random_bytes(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for HostRng<'_> {}

fn b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// The signed JWT assertion for `sa` at `now` (unix seconds), for `audience`
/// (the token endpoint).
pub fn assertion(
    sa: &ServiceAccount,
    audience: &str,
    now: i64,
    host: &dyn Host,
) -> Result<String, String> {
    let key = RsaPrivateKey::from_pkcs8_pem(&sa.private_key_pem)
        .map_err(|_| "the service account's private_key is not a PKCS#8 PEM RSA key".to_string())?;
    let mut header = json!({"alg": "RS256", "typ": "JWT"});
    if !sa.private_key_id.is_empty() {
        header["kid"] = json!(sa.private_key_id);
    }
    let claims = json!({
        "iss": sa.client_email,
        "scope": SCOPE,
        "aud": audience,
        "iat": now,
        "exp": now + ASSERTION_SECS,
    });
    let signing_input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = SigningKey::<Sha256>::new(key)
        .sign_with_rng(&mut HostRng(host), signing_input.as_bytes())
        .to_bytes();
    Ok(format!("{signing_input}.{}", b64(&signature)))
}

/// The form body of the token request.
pub fn token_request_body(assertion: &str) -> Vec<u8> {
    format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={}",
        crate::cloud_auth::sigv4::uri_encode(assertion.as_bytes(), false)
    )
    .into_bytes()
}

/// A token endpoint's answer: the token and its lifetime in seconds.
pub fn parse_token(body: &[u8]) -> Result<(String, u64), String> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| "the token endpoint's answer is not JSON".to_string())?;
    let token = v
        .get("access_token")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .ok_or("the token endpoint's answer has no access_token")?;
    let expires_in = v.get("expires_in").and_then(Value::as_u64).unwrap_or(3600);
    Ok((token.to_string(), expires_in))
}

/// A cached token for `sa`, if one is there and good for a while yet.
pub fn cached(store: &dyn KeyValue, sa: &ServiceAccount, now_ms: u64) -> Option<String> {
    cached_until(store, sa, now_ms).map(|(token, _)| token)
}

/// [`cached`] with the token's expiry (unix ms), so it can be copied into
/// another store for exactly as long.
pub fn cached_until(
    store: &dyn KeyValue,
    sa: &ServiceAccount,
    now_ms: u64,
) -> Option<(String, u64)> {
    let raw = store.get(&sa.cache_key())?;
    let text = String::from_utf8(raw).ok()?;
    let (expiry, token) = text.split_once('\n')?;
    let expiry: u64 = expiry.parse().ok()?;
    (expiry > now_ms + REFRESH_MARGIN_MS && !token.is_empty()).then(|| (token.to_string(), expiry))
}

/// Caches `token` for `sa`, valid `expires_in` seconds from `now_ms`.
pub fn remember(
    store: &dyn KeyValue,
    sa: &ServiceAccount,
    token: &str,
    expires_in: u64,
    now_ms: u64,
) {
    // `expires_in` is the token endpoint's number: any size.
    let expiry = now_ms.saturating_add(expires_in.saturating_mul(1000));
    remember_until(store, sa, token, expiry);
}

/// Caches `token` for `sa` until `expiry_ms` (unix ms).
pub fn remember_until(store: &dyn KeyValue, sa: &ServiceAccount, token: &str, expiry_ms: u64) {
    store.set(&sa.cache_key(), format!("{expiry_ms}\n{token}").as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::FakeHost;
    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;

    const KEY_FILE: &str = include_str!("../../tests/fixtures/test-service-account.json");

    fn sa() -> ServiceAccount {
        ServiceAccount::parse(&serde_json::from_str(KEY_FILE).unwrap()).unwrap()
    }

    fn decode(part: &str) -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn the_assertion_has_googles_claims_and_a_valid_rs256_signature() {
        let sa = sa();
        let host = FakeHost::new();
        let jwt = assertion(
            &sa,
            "https://oauth2.googleapis.com/token",
            1_700_000_000,
            &host,
        )
        .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(
            decode(parts[0]),
            json!({"alg": "RS256", "typ": "JWT", "kid": "0123456789abcdef0123456789abcdef01234567"})
        );
        assert_eq!(
            decode(parts[1]),
            json!({"iss": "llm-proxy-test@test-project-123.iam.gserviceaccount.com", "scope": SCOPE,
                   "aud": "https://oauth2.googleapis.com/token", "iat": 1_700_000_000i64, "exp": 1_700_003_600i64})
        );
        // Verified with the matching public key.
        let public = RsaPrivateKey::from_pkcs8_pem(&sa.private_key_pem)
            .unwrap()
            .to_public_key();
        let signature =
            Signature::try_from(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().as_slice()).unwrap();
        let signed = format!("{}.{}", parts[0], parts[1]);
        VerifyingKey::<Sha256>::new(public.clone())
            .verify(signed.as_bytes(), &signature)
            .unwrap();
        let mut tampered = signed.clone().into_bytes();
        let i = parts[0].len() + 5;
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_ne!(tampered, signed);
        assert!(VerifyingKey::<Sha256>::new(public)
            .verify(tampered.as_bytes(), &signature)
            .is_err());
    }

    #[test]
    fn key_files_and_token_answers() {
        let sa = sa();
        assert_eq!(sa.project_id.as_deref(), Some("test-project-123"));
        assert_eq!(sa.token_uri, "https://oauth2.googleapis.com/token");
        assert!(!format!("{sa:?}").contains("PRIVATE KEY"));
        let e = ServiceAccount::parse(&json!({"private_key": "-----BEGIN"})).unwrap_err();
        assert!(e.contains("client_email") && !e.contains("BEGIN"), "{e}");
        let bad = ServiceAccount {
            private_key_pem: "not a key".into(),
            ..sa.clone()
        };
        assert!(assertion(&bad, "aud", 0, &FakeHost::new()).is_err());
        assert_eq!(
            parse_token(br#"{"access_token":"ya29.abc","expires_in":3599,"token_type":"Bearer"}"#)
                .unwrap(),
            ("ya29.abc".to_string(), 3599)
        );
        assert!(parse_token(br#"{"error":"invalid_grant"}"#).is_err());
        let body = String::from_utf8(token_request_body("a.b-c_d")).unwrap();
        assert_eq!(
            body,
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b-c_d"
        );
    }

    #[test]
    fn tokens_are_cached_until_shortly_before_they_expire() {
        let sa = sa();
        let host = FakeHost::new();
        let store = host.store().unwrap();
        assert_eq!(cached(store, &sa, 0), None);
        remember(store, &sa, "tok-1", 3600, 1_000_000);
        assert_eq!(cached(store, &sa, 1_000_000).as_deref(), Some("tok-1"));
        // Within the refresh margin of the expiry: not used any more.
        let expiry = 1_000_000 + 3_600_000;
        assert_eq!(
            cached(store, &sa, expiry - REFRESH_MARGIN_MS - 1).as_deref(),
            Some("tok-1")
        );
        assert_eq!(cached(store, &sa, expiry - REFRESH_MARGIN_MS), None);
        assert!(!sa.cache_key().contains(&sa.client_email));
    }

    #[test]
    fn an_expires_in_of_any_size_saturates() {
        let sa = sa();
        let host = FakeHost::new();
        let store = host.store().unwrap();
        remember(store, &sa, "tok", u64::MAX, 1_000_000);
        assert_eq!(cached(store, &sa, 1_000_000).as_deref(), Some("tok"));
    }
}
