//! Pass-through `/{provider}/{rest}` (SPEC §3): the provider's own API with
//! its key, through the gateway when it supports the provider.

use crate::client_keys::Caller;
use crate::errors::ErrorReply;
use crate::gateway::{self, GatewayTarget};
use crate::grant::{self, Endpoint};
use crate::host::Host;
use crate::keys::KeySelection;
use crate::providers::{self, azure_openai, Provider, ProviderKind, ResolveError};
use crate::request::RequestHead;
use crate::settings::SettingSource;
use crate::translate::{raw, ResponseMapping};
use crate::upstream::headers::{upstream_headers, via_gateway};
use crate::upstream::pick::pick_keys;
use crate::upstream::{Forward, UpstreamRequest};
use crate::url;
use std::sync::Arc;

/// Why a pass-through could not be planned, and for which provider (for the log).
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub provider: Option<String>,
    pub error: ErrorReply,
}

/// Plans `/{provider}/{rest}` (`path` without the `/key/` and `/g/`
/// prefixes) as far as `caller`'s grant reaches; with the endpoint it is.
pub fn plan(
    head: &RequestHead,
    path: &str,
    src: &dyn SettingSource,
    host: &dyn Host,
    selection: Option<KeySelection>,
    gateway: Option<&GatewayTarget>,
    caller: &Caller,
) -> Result<(Forward, Endpoint), Refused> {
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let (name, rest) = trimmed.split_at(trimmed.find('/').unwrap_or(trimmed.len()));
    let gateway = gateway.filter(|_| providers::spec(name).is_some_and(|s| s.gateway));
    let resolved = providers::resolve(name, src).and_then(|mut p| {
        // Through the gateway, paths are de-duplicated against the provider's
        // own base path, not a base-URL override's.
        if let (Some(_), Some(spec)) = (gateway, p.spec) {
            p.base = providers::default_base(spec, src).map_err(ResolveError::Misconfigured)?;
        }
        Ok(p)
    });
    let provider = match resolved {
        Ok(p) => p,
        Err(ResolveError::Unknown) => {
            return Err(Refused {
                provider: None,
                error: ErrorReply::not_found(format!(
                    "no route for {} {}: not a provider or endpoint of this proxy",
                    head.method,
                    printable(path)
                )),
            })
        }
        Err(ResolveError::Misconfigured(error)) => {
            return Err(Refused {
                provider: Some(name.to_string()),
                error,
            })
        }
    };
    let refused = |error| Refused {
        provider: Some(provider.name.clone()),
        error,
    };
    let endpoint =
        grant::pass_through(caller, &provider, &head.method, rest, src).map_err(refused)?;
    let picked = pick_keys(&provider, selection, src, host).map_err(refused)?;
    let token = gateway.and_then(|_| gateway::token_header(src));
    let mut attempts = Vec::with_capacity(picked.keys.len());
    for key in &picked.keys {
        let mut up =
            build(head, &provider, rest, key.as_ref().map(|k| k.key.as_str())).map_err(refused)?;
        if let Some(gw) = gateway {
            via_gateway(&mut up, &provider, gw, token.clone());
        }
        up.key_fingerprint = key.as_ref().and_then(|k| k.fingerprint.clone());
        attempts.push(up);
    }
    Ok((
        Forward::relayed(attempts, provider.keys.len(), picked),
        endpoint,
    ))
}

/// A token-limited key's pass-through `fwd` with its body read: sent as
/// `body`, and a chat or completions stream (`stream`) asks for its usage
/// (`stream_options.include_usage`), taken out of the client's stream again
/// when it did not ask. `None` when such a stream's usage cannot be had and
/// `max_output` does not bound it.
pub fn with_body(
    mut fwd: Forward,
    endpoint: Endpoint,
    body: &[u8],
    stream: bool,
    max_output: Option<u64>,
) -> Option<Forward> {
    let mut sent: crate::outgoing::SharedBody = Arc::new(body.to_vec());
    if stream && matches!(endpoint, Endpoint::Chat | Endpoint::Completions) {
        let provider = fwd.first().provider.clone();
        let takes_options = providers::accepts(&provider, "stream_options");
        match raw::ask_usage(body) {
            _ if !takes_options => {
                max_output?;
            }
            raw::AskUsage::Asked(new) => {
                sent = new.into();
                fwd.response = ResponseMapping::StripUsage;
            }
            raw::AskUsage::AlreadyAsked => {}
            raw::AskUsage::Unreadable if max_output.is_none() => return None,
            raw::AskUsage::Unreadable => {}
        }
    }
    for up in &mut fwd.attempts {
        up.headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case("content-length"));
        up.headers
            .push(("content-length".into(), sent.len().to_string().into_bytes()));
        up.body = Some(sent.clone());
    }
    Some(fwd)
}

/// A path cut short and stripped of anything odd, fit for an error message.
pub fn printable(path: &str) -> String {
    path.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Builds the pass-through request for `rest` (the path after `/{provider}`).
pub fn build(
    head: &RequestHead,
    provider: &Provider,
    rest: &str,
    key: Option<&str>,
) -> Result<UpstreamRequest, ErrorReply> {
    url::check_rest(rest).map_err(|m| ErrorReply::bad_request(m, "invalid_path"))?;
    let path = provider.base.join_path(rest);
    let mut query = url::strip_key_param(&head.query);
    if provider
        .spec
        .is_some_and(|s| s.kind == ProviderKind::AzureOpenAi)
    {
        let relative = path.strip_prefix(&provider.base.path).unwrap_or(&path);
        query = azure_openai::with_api_version(provider, relative, &query);
    }
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
        key_fingerprint: None,
        cloud_auth: key.and_then(|k| provider.cloud_auth(k)),
    })
}
