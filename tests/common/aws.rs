//! AWS SigV4 for the Bedrock tests: the one place that checks a received
//! request's signature, recomputed over the bytes that arrived.

use super::Recorded;
use llm_proxy::cloud_auth::sigv4::{self, Credentials};

/// Checks `r`'s SigV4 signature (Bedrock, us-east-1) for `path` on `host`,
/// made with `id`/`secret`.
pub fn check_signature(r: &Recorded, host: &str, path: &str, id: &str, secret: &str) {
    let auth = r.header("authorization").expect("signed");
    assert!(
        auth.starts_with(&format!("AWS4-HMAC-SHA256 Credential={id}/")),
        "{auth}"
    );
    assert!(
        auth.contains("/us-east-1/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature="),
        "{auth}"
    );
    let date = r.header("x-amz-date").unwrap();
    let n = |a: usize, b: usize| date[a..b].parse::<u32>().unwrap();
    let t = time::Date::from_calendar_date(
        n(0, 4) as i32,
        time::Month::try_from(n(4, 6) as u8).unwrap(),
        n(6, 8) as u8,
    )
    .unwrap()
    .with_hms(n(9, 11) as u8, n(11, 13) as u8, n(13, 15) as u8)
    .unwrap()
    .assume_utc();
    let signed = sigv4::sign(
        &sigv4::SigningInput {
            method: &r.method,
            host,
            path,
            query: "",
            headers: &[],
            body: &r.body,
            region: "us-east-1",
            service: "bedrock",
            now: t.unix_timestamp(),
        },
        &Credentials {
            access_key_id: id.into(),
            secret_access_key: secret.into(),
            session_token: None,
        },
    );
    assert!(
        auth.ends_with(&signed.signature),
        "what was signed is not what was sent"
    );
}
