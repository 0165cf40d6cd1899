//! `/compat/...` with the gateway on: forwarded to `{gateway}/compat/...`
//! with the client's headers minus its auth (for gateways that hold provider
//! keys themselves; the proxy sends none).

use crate::errors::ErrorReply;
use crate::gateway::{self, GatewayTarget};
use crate::request::RequestHead;
use crate::settings::SettingSource;
use crate::upstream::headers::client_headers;
use crate::upstream::UpstreamRequest;

/// The upstream request for `/compat{rest}`.
pub fn plan(
    head: &RequestHead,
    rest: &str,
    src: &dyn SettingSource,
    gateway: &GatewayTarget,
) -> Result<UpstreamRequest, ErrorReply> {
    crate::url::check_rest(rest).map_err(|m| ErrorReply::bad_request(m, "invalid_path"))?;
    let base = gateway.compat_base();
    let query = crate::url::strip_key_param(&head.query);
    let mut path_with_query = format!("{}{}", base.path, rest);
    if !query.is_empty() {
        path_with_query = format!("{path_with_query}?{query}");
    }
    let mut headers = client_headers(head);
    headers.extend(gateway::token_header(src));
    Ok(UpstreamRequest {
        method: head.method.clone(),
        base,
        path_with_query,
        headers,
        provider: "compat".into(),
        body: None,
        key_fingerprint: None,
        cloud_auth: None,
    })
}
