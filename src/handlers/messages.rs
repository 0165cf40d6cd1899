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
use crate::providers::{ChatTarget, Provider};
use crate::reply::Reply;
use crate::request::RequestHead;
use crate::settings::SettingSource;
use crate::translate::anthropic_openai::request::messages_to_chat;
use crate::translate::bedrock_openai::request::chat_to_converse;
use crate::translate::{drop_name, ResponseMapping};
use crate::upstream::chat::{self, keep_all, keep_for_translation, Target};
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
    let direct_gateway = gateway.filter(|_| provider.spec.is_some_and(|s| s.gateway));
    let stream = value.get("stream").and_then(Value::as_bool) == Some(true);
    let target = provider.chat_target(&upstream_model, stream, direct_gateway.is_some());

    // Providers that speak Messages natively get the client's body (through
    // the gateway's provider URL when it is on).
    if let Some(ChatTarget::Messages {
        path,
        model: in_body,
        anthropic_version,
    }) = &target
    {
        let native_count = in_body.is_some() && anthropic_version.is_none();
        if count_tokens && !native_count {
            return Ok(Planned::Reply(estimate(&value)));
        }
        let (path, new_body) = match (in_body, anthropic_version) {
            // Anthropic's own API: every byte as the client sent it but the model.
            (Some(m), None) => {
                let path = if count_tokens {
                    format!("{path}/count_tokens")
                } else {
                    path.clone()
                };
                (path, splice_model(body, m)?)
            }
            // Vertex: the model is in the path, the API version in the body.
            _ => {
                let mut v = value.clone();
                let obj = v.as_object_mut().expect("checked above");
                obj.remove("model");
                if let Some(version) = anthropic_version {
                    obj.insert("anthropic_version".into(), Value::String((*version).into()));
                }
                let body = serde_json::to_vec(&v)
                    .map_err(|_| bad("could not encode the request body", "invalid_body"))?;
                (path.clone(), body)
            }
        };
        let target = Target::Provider {
            path,
            gateway: direct_gateway,
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
    let target = target.ok_or_else(|| {
        let message = match provider.no_chat_reason() {
            Some(why) => format!("provider '{}': {why}", provider.name),
            None => format!(
                "provider '{}' has no chat endpoint the Messages API can be translated to",
                provider.name
            ),
        };
        bad(message, "unsupported_provider")
    })?;
    translated(
        head, &value, src, selection, host, gateway, &provider, &model, target,
    )
    .map(Planned::Forward)
}

/// A Messages request for a provider that speaks OpenAI chat completions
/// (or Converse, one translation further).
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
    target: ChatTarget,
) -> Result<Forward, ErrorReply> {
    let prefer_completion_tokens = matches!(provider.name.as_str(), "openai" | "azure-openai");
    let t =
        messages_to_chat(value, prefer_completion_tokens).map_err(|m| bad(m, "invalid_request"))?;
    let mut body = t.body;
    let mut dropped = t.dropped;
    let compat = chat::compat(provider, gateway);
    let direct_gateway = gateway.filter(|_| provider.spec.is_some_and(|s| s.gateway));
    let (path, mapping, body) = match (compat, target) {
        (
            Some(gw),
            ChatTarget::OpenAi {
                model: upstream, ..
            },
        ) => {
            body.insert(
                "model".into(),
                Value::String(format!("{}/{upstream}", provider.name)),
            );
            (
                Target::Compat(gw, "/chat/completions"),
                chat_mapping(model),
                body,
            )
        }
        (
            _,
            ChatTarget::OpenAi {
                path,
                model: upstream,
            },
        ) => {
            body.insert("model".into(), Value::String(upstream));
            (
                Target::Provider {
                    path,
                    gateway: direct_gateway,
                },
                chat_mapping(model),
                body,
            )
        }
        (_, ChatTarget::Converse { path }) => {
            let c =
                chat_to_converse(&Value::Object(body)).map_err(|m| bad(m, "invalid_request"))?;
            for name in c.dropped {
                drop_name(&mut dropped, name);
            }
            let mapping = ResponseMapping::Chain(
                Box::new(ResponseMapping::ConverseToChat {
                    model: model.to_string(),
                    include_usage: true,
                }),
                Box::new(chat_mapping(model)),
            );
            (
                Target::Provider {
                    path,
                    gateway: direct_gateway,
                },
                mapping,
                c.body,
            )
        }
        (_, ChatTarget::Messages { .. }) => unreachable!("native Messages is not translated"),
    };
    let mut body = body;
    if !matches!(mapping, ResponseMapping::Chain(..)) {
        for name in body.keys().filter(|k| !chat::accepts(provider, k)) {
            drop_name(&mut dropped, name.clone());
        }
        body.retain(|k, _| chat::accepts(provider, k));
    }
    let new_body = serde_json::to_vec(&body)
        .map_err(|_| bad("could not encode the request body", "invalid_body"))?;
    let mut fwd = chat::post_json(
        head,
        src,
        host,
        selection,
        provider,
        path,
        new_body,
        keep_for_translation,
    )?;
    fwd.dialect = Dialect::Anthropic;
    Ok(fwd.translated(mapping, &dropped))
}

fn chat_mapping(model: &str) -> ResponseMapping {
    ResponseMapping::ChatToMessages {
        model: model.to_string(),
    }
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
