//! What every handler shares: the upstream request and its forward plan
//! ([`UpstreamRequest`], [`Forward`]), the header rules ([`headers`]) and key
//! picking ([`pick`]). Handlers (`crate::handlers::*`) build on these and
//! never on each other.

pub mod chat;
pub mod headers;
pub mod pick;

use crate::errors::Dialect;
use crate::gateway::{self, GatewayTarget};
use crate::host::Host;
use crate::keys::{CooldownRecord, KeySelection};
pub use crate::outgoing::UpstreamRequest;
use crate::providers::Provider;
use crate::reply::Reply;
use crate::request::RequestHead;
use crate::settings::SettingSource;
use crate::translate::ResponseMapping;

/// What a handler knows of a client's request besides its body: the head,
/// where settings come from, the host, the `/key/` selection and the
/// request's gateway (all read before the body).
#[derive(Clone, Copy)]
pub struct Inbound<'a> {
    pub head: &'a RequestHead,
    pub src: &'a dyn SettingSource,
    pub host: &'a dyn Host,
    pub selection: Option<KeySelection>,
    pub gateway: Option<&'a GatewayTarget>,
}

impl<'a> Inbound<'a> {
    /// A request without `/key/` selection or gateway.
    pub fn new(head: &'a RequestHead, src: &'a dyn SettingSource, host: &'a dyn Host) -> Self {
        Inbound {
            head,
            src,
            host,
            selection: None,
            gateway: None,
        }
    }
}

/// What a body route comes to: a forward plan or a direct answer (errors
/// already rendered in the client's dialect, or an answer the proxy gives
/// itself, such as a token-count estimate).
#[derive(Debug)]
pub enum Planned {
    Forward(Forward),
    Reply(Reply),
}

/// The response header that marks a token count as the proxy's estimate.
pub const ESTIMATE_HEADER: &str = "x-llm-proxy-token-count";

/// A token count the proxy estimated (`body` in the client's dialect's
/// shape), marked by [`ESTIMATE_HEADER`].
pub fn estimate_reply(body: &serde_json::Value) -> Reply {
    let mut reply = Reply::json(200, body.to_string().into_bytes());
    reply
        .headers
        .push((ESTIMATE_HEADER.into(), "estimate".into()));
    reply
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
    /// Where a failed attempt records its key's cooldown (several keys and
    /// a shared store).
    pub cooldowns: Option<CooldownRecord>,
    /// How the upstream's answer becomes the client's.
    pub response: ResponseMapping,
    /// Headers added to the client's response (e.g. what a translation dropped).
    pub response_headers: Vec<(String, String)>,
    /// The client's dialect: the proxy's own errors are rendered in it.
    pub dialect: Dialect,
    /// `provider/model` as sent (for the log, prices and client keys).
    pub model: Option<String>,
    /// The model route this plan is a target of.
    pub route: Option<String>,
    /// The route's next target: sent when every attempt of this one failed
    /// before any byte reached the client (429, 5xx, timeout, unreachable).
    pub fallback: Option<Box<Forward>>,
    /// Who the plan is for, as the caller's grant says ([`crate::grant`]):
    /// which failures cool a key down, which answer headers the client sees.
    pub trust: crate::grant::Trust,
}

impl Forward {
    pub fn single(up: UpstreamRequest) -> Forward {
        Forward {
            attempts: vec![up],
            key_count: 1,
            note: None,
            cooldowns: None,
            response: ResponseMapping::Relay,
            response_headers: Vec::new(),
            dialect: Dialect::OpenAi,
            model: None,
            route: None,
            fallback: None,
            trust: crate::grant::Trust::Operator,
        }
    }

    /// The attempts of one request, one per picked key, relayed as they come.
    pub fn relayed(
        attempts: Vec<UpstreamRequest>,
        key_count: usize,
        picked: pick::Picked,
    ) -> Forward {
        Forward {
            attempts,
            key_count,
            note: picked.note,
            cooldowns: picked.cooldowns,
            response: ResponseMapping::Relay,
            response_headers: Vec::new(),
            dialect: Dialect::OpenAi,
            model: None,
            route: None,
            fallback: None,
            trust: crate::grant::Trust::Operator,
        }
    }

    /// Marks this plan and every fallback target of it with `trust`, and
    /// names `dropped` (request headers the grant removed) in the answer's
    /// `x-llm-proxy-dropped`.
    pub fn granted(&mut self, trust: crate::grant::Trust, dropped: &[String]) {
        let mut next = Some(self);
        while let Some(fwd) = next {
            fwd.trust = trust;
            if !dropped.is_empty() {
                let mut names: Vec<String> = Vec::new();
                fwd.response_headers.retain(|(n, v)| {
                    if n != "x-llm-proxy-dropped" {
                        return true;
                    }
                    names.extend(v.split(", ").map(str::to_string));
                    false
                });
                for d in dropped {
                    if !names.contains(d) {
                        names.push(d.clone());
                    }
                }
                fwd.response_headers
                    .push(("x-llm-proxy-dropped".into(), names.join(", ")));
            }
            next = fwd.fallback.as_deref_mut();
        }
    }

    pub fn first(&self) -> &UpstreamRequest {
        // safe: every Forward has an attempt — `single` one, `relayed` one per
        // picked key, and pick_keys picks 1 + RETRY (it errs with no key).
        &self.attempts[0]
    }
}

/// A GET of `path` (relative to the provider's base) with the provider's auth.
pub fn get_request(provider: &Provider, path: &str, key: Option<&str>) -> UpstreamRequest {
    let mut headers: Vec<(String, Vec<u8>)> = provider
        .default_headers
        .iter()
        .map(|(k, v)| (k.clone(), v.as_bytes().to_vec()))
        .collect();
    headers.push(("accept".into(), b"application/json".to_vec()));
    let relative = path.split('?').next().unwrap_or_default();
    if let Some((n, v)) = key.and_then(|k| headers::auth_header(provider.auth, relative, k)) {
        headers.push((n, v.into_bytes()));
    }
    UpstreamRequest {
        method: "GET".into(),
        base: provider.base.clone(),
        path_with_query: format!("{}{}", provider.base.path, path),
        headers,
        provider: provider.name.clone(),
        body: Some(crate::outgoing::SharedBody::default()),
        key_fingerprint: None,
        cloud_auth: key.and_then(|k| provider.cloud_auth(k)),
    }
}

/// Sends `req` through the gateway when there is one and it supports `provider`.
pub fn through_gateway(
    mut req: UpstreamRequest,
    provider: &Provider,
    gateway: Option<&GatewayTarget>,
    src: &dyn SettingSource,
) -> UpstreamRequest {
    if let Some(gw) = gateway.filter(|_| provider.spec.is_some_and(|s| s.gateway)) {
        headers::via_gateway(&mut req, provider, gw, gateway::token_header(src));
    }
    req
}
