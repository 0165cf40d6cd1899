//! AWS Signature Version 4, as a pure function of (request, credentials,
//! time): the canonical request, the string to sign, the signing key and the
//! signature (AWS IAM User Guide, "Create a signed AWS API request").
//!
//! The signed headers are kept minimal and stable — `host`, `x-amz-date`
//! and, with temporary credentials, `x-amz-security-token` — so nothing a
//! proxy or gateway on the way rewrites can break the signature; the body is
//! covered by its SHA-256 in the canonical request.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

pub use crate::credentials::Credentials;

/// What one signature covers.
pub struct SigningInput<'a> {
    pub method: &'a str,
    /// The host the signature is for (the real service host, even when the
    /// request travels through a gateway).
    pub host: &'a str,
    /// The path as sent (percent-encoded where it needs to be).
    pub path: &'a str,
    /// The query as sent, without `?`.
    pub query: &'a str,
    /// Extra headers to sign besides `host` and the `x-amz-*` the signer adds:
    /// `(name, value)`.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
    pub region: &'a str,
    pub service: &'a str,
    /// Unix seconds.
    pub now: i64,
}

/// The headers to add to the request: `x-amz-date`, `x-amz-security-token`
/// (with temporary credentials) and `authorization`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub headers: Vec<(String, String)>,
    pub signature: String,
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    // safe: a nibble indexes 16 digits.
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

pub fn sha256_hex(data: &[u8]) -> String {
    hex(&Sha256::digest(data))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// `YYYYMMDDTHHMMSSZ` for unix seconds.
pub fn amz_date(now: i64) -> String {
    let t =
        time::OffsetDateTime::from_unix_timestamp(now).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// URI-encodes `s` as SigV4 wants it: every byte but `A-Z a-z 0-9 - _ . ~`
/// as `%XX` (upper-case hex); `/` kept when `keep_slash`.
pub fn uri_encode(s: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The canonical URI of a path as sent: encoded once more, as every AWS
/// service but S3 expects (`%3A` in a Bedrock model id becomes `%253A`).
pub fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".into();
    }
    uri_encode(path.as_bytes(), true)
}

/// The canonical query: each name and value decoded then strictly encoded,
/// sorted by name, then value.
pub fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&crate::url::percent_decode(k), false),
                uri_encode(&crate::url::percent_decode(v), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A header value in canonical form: trimmed, inner runs of spaces collapsed.
fn canonical_value(v: &str) -> String {
    v.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical request and the signed-headers list for `headers`
/// (lower-cased names, repeated names joined with commas in order).
pub fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    payload_hash: &str,
) -> (String, String) {
    let mut sorted: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), canonical_value(v)))
        .collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let mut merged: Vec<(String, String)> = Vec::new();
    for (n, v) in sorted {
        match merged.last_mut() {
            Some((last, values)) if *last == n => {
                values.push(',');
                values.push_str(&v);
            }
            _ => merged.push((n, v)),
        }
    }
    let signed = merged
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers: String = merged.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    (
        format!(
            "{method}\n{}\n{}\n{canonical_headers}\n{signed}\n{payload_hash}",
            canonical_uri(path),
            canonical_query(query)
        ),
        signed,
    )
}

/// Signs one request.
pub fn sign(input: &SigningInput, creds: &Credentials) -> Signed {
    let date_time = amz_date(input.now);
    // safe: amz_date writes 16 ASCII characters (years are clamped to 4 digits
    // by `time`; an out-of-range clock falls back to the epoch).
    let date = &date_time[..8];
    let mut headers: Vec<(String, String)> = vec![
        ("host".into(), input.host.to_string()),
        ("x-amz-date".into(), date_time.clone()),
    ];
    if let Some(token) = &creds.session_token {
        headers.push(("x-amz-security-token".into(), token.clone()));
    }
    headers.extend(input.headers.iter().cloned());
    let payload_hash = sha256_hex(input.body);
    let (canonical, signed_headers) = canonical_request(
        input.method,
        input.path,
        input.query,
        &headers,
        &payload_hash,
    );
    let scope = format!("{date}/{}/{}/aws4_request", input.region, input.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{date_time}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let k_date = hmac(
        format!("AWS4{}", creds.secret_access_key).as_bytes(),
        date.as_bytes(),
    );
    let k_region = hmac(&k_date, input.region.as_bytes());
    let k_service = hmac(&k_region, input.service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    let signature = hex(&hmac(&k_signing, string_to_sign.as_bytes()));
    let mut out = vec![("x-amz-date".to_string(), date_time)];
    if let Some(token) = &creds.session_token {
        out.push(("x-amz-security-token".into(), token.clone()));
    }
    out.push((
        "authorization".into(),
        format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            creds.access_key_id
        ),
    ));
    Signed {
        headers: out,
        signature,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's SigV4 test suite (awslabs/aws-c-auth,
    /// tests/aws-signing-test-suite/v4): credentials, region, service and
    /// time of every case.
    fn example() -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        }
    }

    /// 2015-08-30T12:36:00Z.
    const NOW: i64 = 1_440_938_160;

    fn signature(
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        creds: &Credentials,
    ) -> Signed {
        let headers: Vec<(String, String)> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        sign(
            &SigningInput {
                method,
                host: "example.amazonaws.com",
                path,
                query,
                headers: &headers,
                body: b"",
                region: "us-east-1",
                service: "service",
                now: NOW,
            },
            creds,
        )
    }

    fn authorization(s: &Signed) -> &str {
        &s.headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .unwrap()
            .1
    }

    #[test]
    fn aws_test_suite_vectors() {
        let c = example();
        for (case, method, path, query, headers, signed, want) in [
            (
                "get-vanilla",
                "GET",
                "/",
                "",
                &[][..],
                "host;x-amz-date",
                "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
            ),
            (
                "post-vanilla",
                "POST",
                "/",
                "",
                &[][..],
                "host;x-amz-date",
                "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            ),
            (
                "get-vanilla-query-order-key-case",
                "GET",
                "/",
                "Param2=value2&Param1=value1",
                &[][..],
                "host;x-amz-date",
                "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
            ),
            (
                "get-utf8",
                "GET",
                "/ሴ",
                "",
                &[][..],
                "host;x-amz-date",
                "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
            ),
            (
                "get-header-key-duplicate",
                "GET",
                "/",
                "",
                &[
                    ("My-Header1", "value2"),
                    ("My-Header1", "value2"),
                    ("My-Header1", "value1"),
                ][..],
                "host;my-header1;x-amz-date",
                "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
            ),
            (
                "get-header-value-trim",
                "GET",
                "/",
                "",
                &[("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")][..],
                "host;my-header1;my-header2;x-amz-date",
                "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
            ),
            (
                "post-header-key-sort",
                "POST",
                "/",
                "",
                &[("My-Header1", "value1")][..],
                "host;my-header1;x-amz-date",
                "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
            ),
        ] {
            let s = signature(method, path, query, headers, &c);
            assert_eq!(s.signature, want, "{case}");
            assert_eq!(
                authorization(&s),
                format!("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders={signed}, Signature={want}"),
                "{case}"
            );
            assert!(s
                .headers
                .contains(&("x-amz-date".into(), "20150830T123600Z".into())));
        }
    }

    #[test]
    fn aws_test_suite_session_token() {
        let c = Credentials {
            session_token: Some(
                "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267".into(),
            ),
            ..example()
        };
        let s = signature("GET", "/", "", &[], &c);
        assert_eq!(
            s.signature,
            "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"
        );
        assert!(authorization(&s).contains("SignedHeaders=host;x-amz-date;x-amz-security-token,"));
        assert!(s.headers.iter().any(|(n, _)| n == "x-amz-security-token"));
    }

    #[test]
    fn bedrock_paths_are_encoded_twice_and_queries_sorted() {
        assert_eq!(
            canonical_uri("/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"),
            "/model/anthropic.claude-3-5-sonnet-20240620-v1%253A0/converse"
        );
        assert_eq!(canonical_query("b=2&a=x%20y&a=1"), "a=1&a=x%20y&b=2");
        assert_eq!(amz_date(0), "19700101T000000Z");
        // The body is covered: a different body, a different signature.
        let c = example();
        let input = |body: &'static [u8]| SigningInput {
            method: "POST",
            host: "bedrock-runtime.us-east-1.amazonaws.com",
            path: "/model/m/converse",
            query: "",
            headers: &[],
            body,
            region: "us-east-1",
            service: "bedrock",
            now: NOW,
        };
        assert_ne!(
            sign(&input(b"{}"), &c).signature,
            sign(&input(b"{ }"), &c).signature
        );
        assert!(!format!("{c:?}").contains("EXAMPLEKEY"));
    }
}
