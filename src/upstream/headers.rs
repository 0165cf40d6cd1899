//! Header rules every route shares: which client headers never reach an
//! upstream, and how a provider's own auth is attached.

use crate::gateway::GatewayTarget;
use crate::providers::{google_ai_studio, AuthStyle, Provider};
use crate::reply::{connection_tokens, is_hop_by_hop};
use crate::request::RequestHead;
use crate::upstream::UpstreamRequest;

/// Request headers that never reach an upstream, whoever added them (the
/// client, the host or a proxy in front), on every route that forwards client
/// headers. Each would leak something the provider must not see:
/// - the client's auth headers (they carry the proxy key) and the other
///   providers' auth header names (Azure's `api-key` and
///   `ocp-apim-subscription-key`: sent beside the provider key the proxy
///   sets, one would be read instead of it), `host` and `expect` (the
///   outbound request sets its own);
/// - `cookie`: scoped to the proxy's own origin, meaningless to a provider;
/// - the client's address and the URL it called, as proxies and load
///   balancers add them: `forwarded`, `x-forwarded-*`, `x-real-ip`,
///   `x-client-ip`, `true-client-ip`, `cf-connecting-ip`,
///   `fastly-client-ip`, `x-original-url`, `x-rewrite-url`;
/// - every `spin-*` header: Spin adds `spin-full-url` (the whole URL, a
///   `?key=` proxy key included), `spin-client-addr`, `spin-path-info`,
///   `spin-matched-route`, `spin-base-path`, `spin-raw-component-route`,
///   `spin-component-route` and `spin-path-match-*` to every request;
/// - every `x-llm-proxy-*` header: the proxy's own (it says them to its
///   client, never to a provider);
/// - `accept-encoding`: the proxy reads every answer for its token usage
///   (docs/team.md), which a compressed body would hide.
///
/// Hop-by-hop headers go too (see [`crate::reply::HOP_BY_HOP`]).
pub const NEVER_FORWARDED: &[&str] = &[
    "authorization",
    "x-api-key",
    "x-goog-api-key",
    "api-key",
    "ocp-apim-subscription-key",
    "host",
    "expect",
    "cookie",
    "forwarded",
    "x-real-ip",
    "x-client-ip",
    "true-client-ip",
    "cf-connecting-ip",
    "fastly-client-ip",
    "x-original-url",
    "x-rewrite-url",
    "accept-encoding",
];

/// Name prefixes of request headers that never reach an upstream (see
/// [`NEVER_FORWARDED`]).
pub const NEVER_FORWARDED_PREFIXES: &[&str] = &["spin-", "x-forwarded-", "x-llm-proxy-"];

/// True when a client request header named `name` (any case) must not be
/// forwarded upstream, hop-by-hop headers aside.
pub fn never_forwarded(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    NEVER_FORWARDED.contains(&lower.as_str())
        || NEVER_FORWARDED_PREFIXES
            .iter()
            .any(|p| lower.starts_with(p))
}

/// The client's headers minus hop-by-hop, `host` and client auth; then the
/// provider's default headers unless the client sent them; then provider auth.
pub fn upstream_headers(
    head: &RequestHead,
    provider: &Provider,
    relative_path: &str,
    key: Option<&str>,
) -> Vec<(String, Vec<u8>)> {
    with_provider_headers(client_headers(head), provider, relative_path, key)
}

/// `headers` (the client's, already filtered) plus the provider's default
/// headers the client did not send, plus the provider's auth.
pub fn with_provider_headers(
    mut headers: Vec<(String, Vec<u8>)>,
    provider: &Provider,
    relative_path: &str,
    key: Option<&str>,
) -> Vec<(String, Vec<u8>)> {
    for (name, value) in &provider.default_headers {
        if !headers.iter().any(|(n, _)| n == name) {
            headers.push((name.clone(), value.as_bytes().to_vec()));
        }
    }
    if let Some((name, value)) = key.and_then(|k| auth_header(provider.auth, relative_path, k)) {
        headers.push((name, value.into_bytes()));
    }
    headers
}

/// The client's headers minus hop-by-hop and [`never_forwarded`] ones: the
/// one rule every route that forwards client headers goes through.
pub fn client_headers(head: &RequestHead) -> Vec<(String, Vec<u8>)> {
    let listed = connection_tokens(head.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())));
    head.headers
        .iter()
        .filter(|(n, _)| !is_hop_by_hop(n, &listed) && !never_forwarded(n))
        .cloned()
        .collect()
}

/// The header that carries `key` for a request to `relative_path`; `None`
/// for cloud credentials, whose auth is added at send time
/// ([`crate::cloud_auth::authorize`]).
pub fn auth_header(auth: AuthStyle, relative_path: &str, key: &str) -> Option<(String, String)> {
    match auth {
        AuthStyle::Bearer => Some(("authorization".into(), format!("Bearer {key}"))),
        AuthStyle::Header(name) => Some((name.to_string(), key.to_string())),
        AuthStyle::GoogleAiStudio => Some(google_ai_studio::auth_header(relative_path, key)),
        AuthStyle::Cloud => None,
    }
}

/// Sends `up` (built for `provider`'s own base URL) through `gateway`, in
/// the shape the gateway wants for the provider, with the gateway's token.
pub fn via_gateway(
    up: &mut UpstreamRequest,
    provider: &Provider,
    gateway: &GatewayTarget,
    token: Option<(String, Vec<u8>)>,
) {
    provider.via_gateway(up, gateway);
    up.headers.extend(token);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spin_and_host_added_headers_are_never_forwarded() {
        // Exactly what Spin 4.1 adds to a request, in mixed case, plus the
        // client's auth and headers that name its address or the URL.
        let head = RequestHead::new(
            "GET",
            "/openai/v1/models?key=proxy-secret",
            [
                (
                    "Spin-Full-Url",
                    "http://127.0.0.1:49535/openai/v1/models?key=proxy-secret",
                ),
                ("spin-path-info", "/openai/v1/models"),
                ("SPIN-MATCHED-ROUTE", "/..."),
                ("spin-base-path", "/"),
                ("Spin-Raw-Component-Route", "/..."),
                ("spin-component-route", ""),
                ("spin-client-addr", "127.0.0.1:35742"),
                ("spin-path-match-rest", "v1/models"),
                ("X-Forwarded-For", "10.0.0.7"),
                ("x-forwarded-host", "proxy.example"),
                ("Forwarded", "for=10.0.0.7"),
                ("x-real-ip", "10.0.0.7"),
                ("CF-Connecting-IP", "10.0.0.7"),
                ("x-original-url", "/openai/v1/models?key=proxy-secret"),
                ("Cookie", "session=abc"),
                ("x-llm-proxy-attempts", "3"),
                ("Authorization", "Bearer proxy-secret"),
                ("x-api-key", "proxy-secret"),
                ("x-goog-api-key", "proxy-secret"),
                ("Connection", "keep-alive, x-hop"),
                ("x-hop", "1"),
                ("Host", "127.0.0.1:49535"),
                ("anthropic-beta", "tools-2024"),
                ("Content-Type", "application/json"),
                ("x-spin-like", "kept: only the prefix spin- is Spin's"),
            ]
            .iter()
            .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
            .collect(),
        );
        let kept: Vec<(String, String)> = client_headers(&head)
            .into_iter()
            .map(|(n, v)| (n, String::from_utf8(v).unwrap()))
            .collect();
        assert_eq!(
            kept,
            vec![
                ("anthropic-beta".to_string(), "tools-2024".to_string()),
                ("content-type".into(), "application/json".into()),
                (
                    "x-spin-like".into(),
                    "kept: only the prefix spin- is Spin's".into()
                ),
            ]
        );
        for name in [
            "Spin-Full-Url",
            "SPIN-CLIENT-ADDR",
            "spin-path-match-x",
            "X-Forwarded-Proto",
        ] {
            assert!(never_forwarded(name), "{name}");
        }
        assert!(!never_forwarded("anthropic-version"));
    }
}
