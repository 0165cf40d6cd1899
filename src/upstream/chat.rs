//! What the chat-like handlers share (chat completions, messages): naming
//! the model, resolving its provider, the provider's parameter rules, and the
//! JSON POST per key — to the provider, or through the gateway.

use crate::errors::ErrorReply;
use crate::gateway::{self, GatewayTarget};
use crate::providers::{self, Provider, ResolveError};
use crate::request::RequestHead;
use crate::settings::{self, SettingSource};
use crate::translate::raw::{as_str, parse_object, Fields};
use crate::translate::ResponseMapping;
use crate::upstream::headers::{client_headers, via_gateway, with_provider_headers};
use crate::upstream::pick::{pick_keys, PickedKey};
use crate::upstream::{Forward, Inbound, UpstreamRequest};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

fn bad(message: impl Into<String>, code: &'static str) -> ErrorReply {
    ErrorReply::bad_request(message, code)
}

/// A JSON body's top level: names to raw JSON values.
pub type TopLevel = BTreeMap<String, Box<RawValue>>;

/// Parses a JSON object body's top level (one pass; nested values stay raw
/// text): not JSON, or not an object, is a 400 that says which.
pub fn parse_top_level(body: &[u8]) -> Result<TopLevel, ErrorReply> {
    parse_object(body).map_err(body_error)
}

/// A body that is not a request ([`parse_object`]'s reason) as a 400.
pub fn body_error(why: String) -> ErrorReply {
    let code = if why.starts_with("invalid JSON") {
        "invalid_json"
    } else {
        "invalid_body"
    };
    bad(why, code)
}

/// The body's `model`: missing, or not a string, is a 400.
pub fn model_of(top: &TopLevel) -> Result<String, ErrorReply> {
    match top.get("model") {
        None => Err(missing_model()),
        Some(raw) => model_text(raw),
    }
}

fn missing_model() -> ErrorReply {
    bad("missing required parameter: 'model'", "missing_model")
}

/// The body's `model` (its last value, if it repeats): missing, or not a
/// string, is a 400.
pub fn last_model(top: &Fields) -> Result<String, ErrorReply> {
    match top.get("model") {
        None => Err(missing_model()),
        Some(raw) => model_text(raw),
    }
}

/// A body's top level written again: each name once (its last value), in
/// the client's order, values as the client wrote them; `model` set to
/// `model` first, the names `keep` refuses left out (and returned, in name
/// order), and `extra` fields set at the end (in place of the client's;
/// those must be names `keep` takes).
pub fn rewrite_top(
    top: &Fields,
    model: &str,
    keep: impl Fn(&str) -> bool,
    extra: &[(&str, Vec<u8>)],
) -> (Vec<u8>, Vec<String>) {
    let len = top.0.iter().map(|(k, v)| k.len() + v.get().len() + 4);
    let len = len.sum::<usize>() + extra.iter().map(|(_, v)| v.len() + 32).sum::<usize>();
    let mut out = Vec::with_capacity(len + model.len() + 16);
    out.push(b'{');
    let mut refused = Vec::new();
    let field = |out: &mut Vec<u8>, name: &str, value: &[u8]| {
        if out.len() > 1 {
            out.push(b',');
        }
        crate::translate::raw::write_str(out, name);
        out.push(b':');
        out.extend_from_slice(value);
    };
    if keep("model") {
        let mut literal = Vec::with_capacity(model.len() + 2);
        crate::translate::raw::write_str(&mut literal, model);
        field(&mut out, "model", &literal);
    } else if top.get("model").is_none() {
        // (Refused with the client's own `model` below otherwise.)
        refused.push("model".to_string());
    }
    for (name, value) in top.unique() {
        if !keep(name) {
            refused.push(name.to_string());
        } else if name != "model" && !extra.iter().any(|(n, _)| *n == name) {
            field(&mut out, name, value.get().as_bytes());
        }
    }
    for (name, value) in extra {
        field(&mut out, name, value);
    }
    out.push(b'}');
    refused.sort_unstable();
    let mut dropped = Vec::new();
    for name in refused {
        crate::translate::drop_name(&mut dropped, name);
    }
    (out, dropped)
}

/// The one top-level `model` of a borrowed body (a body naming two is
/// refused: which one a provider would read is anyone's guess).
pub fn model_field<'a>(top: &Fields<'a>) -> Result<&'a RawValue, ErrorReply> {
    let mut models = top.0.iter().filter(|(k, _)| k == "model");
    match (models.next(), models.next()) {
        (Some((_, raw)), None) => Ok(raw),
        (None, _) => Err(missing_model()),
        (Some(_), Some(_)) => Err(bad("'model' is given twice", "invalid_model")),
    }
}

/// A `model` value as text; anything but a string is a 400.
pub fn model_text(raw: &RawValue) -> Result<String, ErrorReply> {
    as_str(raw).map(|m| m.into_owned()).ok_or_else(|| {
        bad(
            "'model' must be a string like 'openai/gpt-4o-mini'",
            "invalid_model",
        )
    })
}

/// Sets `model` in a top level to `model`.
pub fn set_model(top: &mut TopLevel, model: &str) {
    let model_json = serde_json::to_string(model).unwrap_or_else(|_| "\"\"".into());
    if let Ok(raw) = RawValue::from_string(model_json) {
        top.insert("model".into(), raw);
    }
}

/// Sets a top-level field to `value`.
pub fn set_raw(top: &mut TopLevel, name: &str, value: &serde_json::Value) {
    if let Ok(raw) = RawValue::from_string(value.to_string()) {
        top.insert(name.into(), raw);
    }
}

pub use crate::errors::printable;

/// Splits `provider/model` at the first `/`, resolving `default` first. A
/// name without `/` goes to `bare` when given (the Messages API sends bare
/// names to `anthropic`), else it is an error.
pub fn split_model(
    model: &str,
    src: &dyn SettingSource,
    bare: Option<&str>,
) -> Result<(String, String), ErrorReply> {
    let model = model.trim();
    let resolved = if model == "default" {
        settings::value(src, "DEFAULT_MODEL")
            .map(|m| m.trim().to_string())
            .ok_or_else(|| {
                bad(
                    "model 'default' needs the DEFAULT_MODEL setting, which is not set",
                    "model_not_found",
                )
            })?
    } else {
        model.to_string()
    };
    match resolved.split_once('/') {
        Some((p, m)) if !p.is_empty() && !m.is_empty() => Ok((p.to_string(), m.to_string())),
        None if !resolved.is_empty() && bare.is_some() => {
            Ok((bare.unwrap_or_default().to_string(), resolved))
        }
        _ => Err(bad(
            format!(
                "model '{}' must be 'provider/model', e.g. 'openai/gpt-4o-mini'",
                printable(&resolved)
            ),
            "invalid_model",
        )),
    }
}

/// The provider named in `model`; an unknown one is a 400 naming it.
pub fn resolve(
    provider: &str,
    model: &str,
    src: &dyn SettingSource,
) -> Result<Provider, ErrorReply> {
    match providers::resolve(provider, src) {
        Ok(p) => Ok(p),
        Err(ResolveError::Unknown) => Err(bad(
            format!(
                "unknown provider '{}' in model '{}'",
                printable(provider),
                printable(model)
            ),
            "unknown_provider",
        )),
        Err(ResolveError::Misconfigured(e)) => Err(e),
    }
}

/// The gateway's OpenAI-compatible endpoint, when the request goes through
/// a gateway and it supports the provider there.
pub fn compat<'a>(
    provider: &Provider,
    gateway: Option<&'a GatewayTarget>,
) -> Option<&'a GatewayTarget> {
    gateway.filter(|_| provider.spec.is_some_and(|s| s.gateway_compat))
}

/// Whether `provider` accepts the top-level chat parameter `name`.
pub fn accepts(provider: &Provider, name: &str) -> bool {
    provider.spec.is_none_or(|s| s.params.accepts(name))
}

/// Where a chat-like POST goes.
pub enum Target<'a> {
    /// The gateway's OpenAI-compatible endpoint (`{gateway}/compat{path}`),
    /// with the provider key as a Bearer token.
    Compat(&'a GatewayTarget, &'a str),
    /// `path` (relative to the provider's base) with the provider's auth,
    /// through `gateway` when given.
    Provider {
        path: String,
        gateway: Option<&'a GatewayTarget>,
    },
}

/// The forward plan of a JSON POST of `body` to `target`, one attempt per
/// key. Client headers pass by the shared rules; `keep` filters them further
/// (a translated request drops what only meant something to the client's
/// dialect). Response mapping and dialect are the caller's to set.
pub fn post_json(
    req: &Inbound,
    provider: &Provider,
    target: Target,
    body: Vec<u8>,
    keep: fn(&str) -> bool,
) -> Result<Forward, ErrorReply> {
    let Inbound {
        head,
        src,
        host,
        selection,
        ..
    } = *req;
    let picked = pick_keys(provider, selection, src, host)?;
    let body: crate::outgoing::SharedBody = body.into();
    let token = match &target {
        Target::Compat(..)
        | Target::Provider {
            gateway: Some(_), ..
        } => gateway::token_header(src),
        Target::Provider { gateway: None, .. } => None,
    };
    let attempts = picked
        .keys
        .iter()
        .map(|key| {
            json_request(
                head,
                src,
                provider,
                &target,
                key.as_ref(),
                &body,
                keep,
                &token,
            )
        })
        .collect();
    Ok(Forward::relayed(attempts, provider.keys.len(), picked))
}

/// The upstream request for one key.
#[allow(clippy::too_many_arguments)]
fn json_request(
    head: &RequestHead,
    src: &dyn SettingSource,
    provider: &Provider,
    target: &Target,
    key: Option<&PickedKey>,
    body: &crate::outgoing::SharedBody,
    keep: fn(&str) -> bool,
    token: &Option<(String, Vec<u8>)>,
) -> UpstreamRequest {
    let secret = key.map(|k| k.key.as_str());
    let mut client = client_headers(head);
    client.retain(|(n, _)| n != "content-length" && n != "content-type" && keep(n));
    let mut up = match target {
        Target::Compat(gw, path) => {
            let base = gw.compat_base();
            let mut headers = client;
            if let Some(key) = secret {
                headers.push(("authorization".into(), format!("Bearer {key}").into_bytes()));
            }
            headers.extend(gateway::max_attempts_header(src));
            UpstreamRequest {
                method: "POST".into(),
                path_with_query: format!("{}{path}", base.path),
                base,
                headers,
                provider: provider.name.clone(),
                body: None,
                key_fingerprint: None,
                cloud_auth: None,
            }
        }
        Target::Provider { path, gateway } => {
            let relative = path.split('?').next().unwrap_or_default();
            let path = path.as_str();
            let mut up = UpstreamRequest {
                method: "POST".into(),
                base: provider.base.clone(),
                path_with_query: format!("{}{path}", provider.base.path),
                headers: with_provider_headers(client, provider, relative, secret),
                provider: provider.name.clone(),
                body: None,
                key_fingerprint: None,
                cloud_auth: secret.and_then(|k| provider.cloud_auth(k)),
            };
            if let Some(gw) = gateway {
                via_gateway(&mut up, provider, gw, None);
            }
            up
        }
    };
    up.headers.extend(token.clone());
    up.headers
        .push(("content-type".into(), b"application/json".to_vec()));
    up.headers
        .push(("content-length".into(), body.len().to_string().into_bytes()));
    up.body = Some(body.clone());
    up.key_fingerprint = key.and_then(|k| k.fingerprint.clone());
    up
}

/// Keeps every header (a request in the client's own dialect).
pub fn keep_all(_: &str) -> bool {
    true
}

/// A request translated into another dialect: the client's
/// `accept-encoding` goes (the proxy reads the answer), and so do headers
/// of the client's dialect that mean nothing to the provider's — its API's
/// (`anthropic-*`, `openai-*`), its SDK's self-description (`x-stainless-*`,
/// which would name the other dialect's SDK) and its agent's (Claude
/// Code's `x-app`, `x-claude-code-*` session ids; Codex's `originator`,
/// session and thread ids and `x-codex-*` turn metadata, which names the
/// installation); Google's SDKs' `x-goog-api-client` and any other
/// `x-goog-*` or `x-gemini-*` header.
pub fn keep_for_translation(name: &str) -> bool {
    !matches!(
        name,
        "accept-encoding"
            | "x-app"
            | "originator"
            | "session-id"
            | "session_id"
            | "thread-id"
            | "conversation_id"
            | "x-client-request-id"
    ) && !name.starts_with("anthropic-")
        && !name.starts_with("openai-")
        && !name.starts_with("x-stainless-")
        && !name.starts_with("x-claude-code-")
        && !name.starts_with("x-codex-")
        && !name.starts_with("x-goog-")
        && !name.starts_with("x-gemini-")
}

/// The `x-llm-proxy-dropped` response header naming what a request lost.
pub fn dropped_header(dropped: &[String]) -> Option<(String, String)> {
    (!dropped.is_empty()).then(|| ("x-llm-proxy-dropped".to_string(), dropped.join(", ")))
}

impl Forward {
    /// A translated request's plan: its answer is mapped back by `response`,
    /// and what the translation dropped is named to the client.
    pub fn translated(mut self, response: ResponseMapping, dropped: &[String]) -> Forward {
        self.response = response;
        self.response_headers.extend(dropped_header(dropped));
        self
    }

    /// This plan with its client one more translation away: the answer
    /// goes on through `next`, and `dropped` (that translation's losses) is
    /// named ahead of what the plan already named, in one header.
    pub fn then_translated(mut self, next: ResponseMapping, dropped: &[String]) -> Forward {
        self.response = std::mem::take(&mut self.response).then(next);
        let mut names = dropped.to_vec();
        self.response_headers.retain(|(n, v)| {
            if n != "x-llm-proxy-dropped" {
                return true;
            }
            for name in v.split(", ") {
                crate::translate::drop_name(&mut names, name);
            }
            false
        });
        self.response_headers.extend(dropped_header(&names));
        self
    }
}
