//! Pass-through `/{provider}/{rest}` (SPEC §3): the upstream URL and headers.

use crate::errors::ErrorReply;
use crate::gateway::GatewayTarget;
use crate::providers::{google_ai_studio, AuthStyle, Provider};
use crate::reply::{connection_tokens, is_hop_by_hop};
use crate::request::RequestHead;
use crate::url::{self, BaseUrl};
use std::sync::Arc;

/// Everything the edge needs to send one upstream request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamRequest {
    pub method: String,
    /// Scheme and authority come from here; its path is already in `path_with_query`.
    pub base: BaseUrl,
    pub path_with_query: String,
    pub headers: Vec<(String, Vec<u8>)>,
    /// Route name, for the log.
    pub provider: String,
    /// The body to send; `None` streams the client's body through unchanged.
    pub body: Option<Arc<[u8]>>,
    /// The store key of this request's provider key's cooldown, if it has one.
    pub cooldown_key: Option<String>,
}

/// One upstream request and its fallbacks: the same request with the next
/// keys (SPEC §7), tried in order while attempts fail before any byte
/// reached the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// At least one.
    pub attempts: Vec<UpstreamRequest>,
    /// How many keys the provider has (401/403 are retried only with several).
    pub key_count: usize,
    /// Something the log should say about key choice (no secrets).
    pub note: Option<&'static str>,
}

impl Forward {
    pub fn single(up: UpstreamRequest) -> Forward {
        Forward {
            attempts: vec![up],
            key_count: 1,
            note: None,
        }
    }

    pub fn first(&self) -> &UpstreamRequest {
        &self.attempts[0]
    }
}

impl UpstreamRequest {
    pub fn url(&self) -> String {
        self.base.url(&self.path_with_query)
    }

    /// The first value of header `name` (lowercase), if it is UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

/// Client headers that never reach an upstream: its auth (the proxy key) and
/// `host`; hop-by-hop headers go too.
const CLIENT_AUTH: &[&str] = &[
    "authorization",
    "x-api-key",
    "x-goog-api-key",
    "host",
    "expect",
];

/// Builds the pass-through request for `rest` (the path after `/{provider}`).
pub fn build(
    head: &RequestHead,
    provider: &Provider,
    rest: &str,
    key: Option<&str>,
) -> Result<UpstreamRequest, ErrorReply> {
    url::check_rest(rest).map_err(|m| ErrorReply::bad_request(m, "invalid_path"))?;
    let path = provider.base.join_path(rest);
    let query = url::strip_key_param(&head.query);
    let path_with_query = if query.is_empty() {
        path.clone()
    } else {
        format!("{path}?{query}")
    };
    let relative = path.strip_prefix(&provider.base.path).unwrap_or(&path);
    Ok(UpstreamRequest {
        method: head.method.clone(),
        base: provider.base.clone(),
        path_with_query,
        headers: upstream_headers(head, provider, relative, key),
        provider: provider.name.clone(),
        body: None,
        cooldown_key: None,
    })
}

/// The client's headers minus hop-by-hop, `host` and client auth; then the
/// provider's default headers unless the client sent them; then provider auth.
pub fn upstream_headers(
    head: &RequestHead,
    provider: &Provider,
    relative_path: &str,
    key: Option<&str>,
) -> Vec<(String, Vec<u8>)> {
    let mut headers = client_headers(head);
    for (name, value) in &provider.default_headers {
        if !headers.iter().any(|(n, _)| n == name) {
            headers.push((name.clone(), value.as_bytes().to_vec()));
        }
    }
    if let Some(key) = key {
        let (name, value) = auth_header(provider.auth, relative_path, key);
        headers.push((name, value.into_bytes()));
    }
    headers
}

/// The client's headers minus hop-by-hop, `host` and the client's auth.
pub fn client_headers(head: &RequestHead) -> Vec<(String, Vec<u8>)> {
    let listed = connection_tokens(head.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())));
    head.headers
        .iter()
        .filter(|(n, _)| !is_hop_by_hop(n, &listed) && !CLIENT_AUTH.contains(&n.as_str()))
        .cloned()
        .collect()
}

/// The header that carries `key` for a request to `relative_path`.
pub fn auth_header(auth: AuthStyle, relative_path: &str, key: &str) -> (String, String) {
    match auth {
        AuthStyle::Bearer => ("authorization".into(), format!("Bearer {key}")),
        AuthStyle::Header(name) => (name.to_string(), key.to_string()),
        AuthStyle::GoogleAiStudio => google_ai_studio::auth_header(relative_path, key),
    }
}

/// Sends `up` (built for `provider`'s own base URL) through `gateway`:
/// `{gateway}/{provider}` stands in for the provider's base URL.
pub fn via_gateway(
    up: &mut UpstreamRequest,
    provider: &Provider,
    gateway: &GatewayTarget,
    token: Option<(String, Vec<u8>)>,
) {
    let relative = up
        .path_with_query
        .strip_prefix(&provider.base.path)
        .unwrap_or(&up.path_with_query)
        .to_string();
    let base = gateway.provider_base(&provider.name);
    up.path_with_query = format!("{}{}", base.path, relative);
    up.base = base;
    up.headers.extend(token);
}
