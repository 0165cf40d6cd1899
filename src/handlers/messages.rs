//! The Anthropic Messages API for every provider (SPEC §9): `POST
//! /v1/messages` and `POST /v1/messages/count_tokens`.
//!
//! Model naming as for chat completions, and a bare name goes to
//! `anthropic`. A provider that speaks Messages natively gets the body
//! untouched but for `model` (spliced into the client's bytes); any other
//! provider with an OpenAI-compatible chat endpoint gets it translated, and
//! its answer (JSON or SSE) translated back.

use crate::errors::{Dialect, ErrorReply};
use crate::gateway::GatewayTarget;
use crate::host::Host;
use crate::keys::KeySelection;
use crate::providers::Provider;
use crate::reply::Reply;
use crate::request::RequestHead;
use crate::settings::SettingSource;
use crate::translate::anthropic_openai::request::messages_to_chat;
use crate::translate::ResponseMapping;
use crate::upstream::chat::{self, dropped_header, keep_all, keep_for_translation, Target};
use crate::upstream::Forward;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// What answering a Messages request takes.
#[derive(Debug)]
pub enum Planned {
    Forward(Forward),
    /// Answered by the proxy itself (a token-count estimate).
    Reply(Reply),
}

fn bad(message: impl Into<String>, code: &'static str) -> ErrorReply {
    ErrorReply::bad_request(message, code)
}

/// The response header that marks a token count as the proxy's estimate.
pub const ESTIMATE_HEADER: &str = "x-llm-proxy-token-count";

/// Plans `POST /v1/messages` (`count_tokens`: `POST /v1/messages/count_tokens`).
pub fn plan(
    head: &RequestHead,
    body: &[u8],
    src: &dyn SettingSource,
    selection: Option<KeySelection>,
    host: &dyn Host,
    gateway: Option<&GatewayTarget>,
    count_tokens: bool,
) -> Result<Planned, ErrorReply> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| bad(format!("invalid JSON body: {e}"), "invalid_json"))?;
    if !value.is_object() {
        return Err(bad(
            "the request body must be a JSON object",
            "invalid_body",
        ));
    }
    let model = match value.get("model") {
        Some(Value::String(m)) => m.clone(),
        Some(_) => return Err(bad("'model' must be a string", "invalid_model")),
        None => return Err(bad("missing required parameter: 'model'", "missing_model")),
    };
    let (provider_name, upstream_model) = chat::split_model(&model, src, Some("anthropic"))?;
    let provider = chat::resolve(&provider_name, &model, src)?;

    if let Some(path) = provider.messages_path.as_deref() {
        let path = if count_tokens {
            format!("{path}/count_tokens")
        } else {
            path.to_string()
        };
        let new_body = splice_model(body, &upstream_model)?;
        let gateway = gateway.filter(|_| provider.spec.is_some_and(|s| s.gateway));
        let target = Target::Provider {
            path: &path,
            gateway,
        };
        let mut fwd = chat::post_json(
            head, src, host, selection, &provider, target, new_body, keep_all,
        )?;
        fwd.dialect = Dialect::Anthropic;
        return Ok(Planned::Forward(fwd));
    }
    if count_tokens {
        return Ok(Planned::Reply(estimate(&value)));
    }
    translated(
        head,
        &value,
        src,
        selection,
        host,
        gateway,
        &provider,
        &model,
        &upstream_model,
    )
    .map(Planned::Forward)
}

/// A Messages request for a provider that speaks OpenAI chat completions.
#[allow(clippy::too_many_arguments)]
fn translated(
    head: &RequestHead,
    value: &Value,
    src: &dyn SettingSource,
    selection: Option<KeySelection>,
    host: &dyn Host,
    gateway: Option<&GatewayTarget>,
    provider: &Provider,
    model: &str,
    upstream_model: &str,
) -> Result<Forward, ErrorReply> {
    let Some(chat_path) = provider.chat_path.as_deref() else {
        return Err(bad(
            format!(
                "provider '{}' has no chat endpoint the Messages API can be translated to",
                provider.name
            ),
            "unsupported_provider",
        ));
    };
    let prefer_completion_tokens = provider.name == "openai";
    let t =
        messages_to_chat(value, prefer_completion_tokens).map_err(|m| bad(m, "invalid_request"))?;
    let compat = chat::compat(provider, gateway);
    let upstream_model = match compat {
        Some(_) => format!("{}/{upstream_model}", provider.name),
        None => upstream_model.to_string(),
    };
    let mut body = t.body;
    let mut dropped = t.dropped;
    for name in body.keys().filter(|k| !chat::accepts(provider, k)) {
        dropped.push(name.clone());
    }
    body.retain(|k, _| chat::accepts(provider, k));
    body.insert("model".into(), Value::String(upstream_model));
    let new_body = serde_json::to_vec(&body)
        .map_err(|_| bad("could not encode the request body", "invalid_body"))?;
    let target = match compat {
        Some(gw) => Target::Compat(gw, "/chat/completions"),
        None => Target::Provider {
            path: chat_path,
            gateway: None,
        },
    };
    let mut fwd = chat::post_json(
        head,
        src,
        host,
        selection,
        provider,
        target,
        new_body,
        keep_for_translation,
    )?;
    fwd.response = ResponseMapping::ChatToMessages {
        model: model.to_string(),
    };
    fwd.response_headers.extend(dropped_header(&dropped));
    fwd.dialect = Dialect::Anthropic;
    Ok(fwd)
}

/// The client's body with its top-level `model` value replaced, every other
/// byte as the client sent it.
pub fn splice_model(body: &[u8], model: &str) -> Result<Vec<u8>, ErrorReply> {
    #[derive(Deserialize)]
    struct ModelOnly<'a> {
        #[serde(borrow)]
        model: &'a RawValue,
    }
    let found: ModelOnly = serde_json::from_slice(body)
        .map_err(|e| bad(format!("invalid JSON body: {e}"), "invalid_json"))?;
    let raw = found.model.get();
    let start = raw.as_ptr() as usize - body.as_ptr() as usize;
    let end = start + raw.len();
    let mut out = Vec::with_capacity(body.len() + model.len());
    out.extend_from_slice(&body[..start]);
    out.extend_from_slice(
        serde_json::to_string(model)
            .unwrap_or_else(|_| "\"\"".into())
            .as_bytes(),
    );
    out.extend_from_slice(&body[end..]);
    Ok(out)
}

/// A rough token count (about four bytes of text per token, plus a few per
/// message) for providers without a counting endpoint, marked as an estimate.
pub fn estimate(request: &Value) -> Reply {
    fn text_len(v: &Value) -> usize {
        match v {
            Value::String(s) => s.len(),
            Value::Array(a) => a.iter().map(text_len).sum(),
            Value::Object(o) => o
                .iter()
                .filter(|(k, _)| {
                    !matches!(k.as_str(), "type" | "cache_control" | "id" | "tool_use_id")
                })
                .map(|(k, v)| match (k.as_str(), v) {
                    // Image and document data are not text.
                    ("data", _) | ("source", _) => 0,
                    (_, Value::String(s)) => s.len(),
                    (_, other) => text_len(other),
                })
                .sum(),
            _ => 0,
        }
    }
    let mut bytes = 0;
    for field in ["system", "messages", "tools"] {
        if let Some(v) = request.get(field) {
            bytes += if field == "tools" {
                serde_json::to_string(v).map_or(0, |s| s.len())
            } else {
                text_len(v)
            };
        }
    }
    let messages = request
        .get("messages")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let tokens = bytes.div_ceil(4) + 4 * messages + 3;
    let mut reply = Reply::json(
        200,
        serde_json::json!({ "input_tokens": tokens })
            .to_string()
            .into_bytes(),
    );
    reply
        .headers
        .push((ESTIMATE_HEADER.into(), "estimate".into()));
    reply
}

#[cfg(test)]
#[path = "messages_tests.rs"]
mod tests;
