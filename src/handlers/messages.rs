//! The Anthropic Messages API for every provider (SPEC §9): `POST
//! /v1/messages` and `POST /v1/messages/count_tokens`.
//!
//! Model naming as for chat completions, and a bare name goes to
//! `anthropic`. A provider that speaks Messages natively gets the body
//! untouched but for `model` (spliced into the client's bytes); any other
//! provider with an OpenAI-compatible chat endpoint gets it translated, and
//! its answer (JSON or SSE) translated back.

use crate::errors::{Dialect, ErrorReply};
use crate::providers::{ChatTarget, Provider};
use crate::reply::Reply;
use crate::translate::anthropic_openai::request::{
    messages_fields_to_chat, top_level, ChatOptions,
};
use crate::translate::bedrock_openai::request::chat_body_to_converse;
use crate::translate::measure::{measure, Count, Names};
use crate::translate::raw::{as_bool, parse_object, splice, Fields, ObjectBuf, Request};
use crate::translate::{drop_name, ResponseMapping};
use crate::upstream::chat::{self, keep_all, keep_for_translation, Target};
use crate::upstream::{estimate_reply, Forward, Inbound, Planned};
#[cfg(test)]
use serde_json::Value;

fn bad(message: impl Into<String>, code: &'static str) -> ErrorReply {
    ErrorReply::bad_request(message, code)
}

pub use crate::upstream::ESTIMATE_HEADER;

/// Plans `POST /v1/messages` (`count_tokens`: `POST /v1/messages/count_tokens`).
///
/// Only the body's top level is parsed here; a translation reads the rest
/// one level at a time and copies what it does not change as raw bytes.
pub fn plan(req: &Inbound, body: &[u8], count_tokens: bool) -> Result<Planned, ErrorReply> {
    let (src, gateway) = (req.src, req.gateway);
    let top = top_level(body).map_err(chat::body_error)?;
    let model_raw = chat::model_field(&top.fields)?;
    let model = chat::model_text(model_raw)?;
    let (provider_name, upstream_model) = chat::split_model(&model, src, Some("anthropic"))?;
    let provider = chat::resolve(&provider_name, &model, src)?;
    let direct_gateway = gateway.filter(|_| provider.spec.is_some_and(|s| s.gateway));
    let stream = top.fields.get("stream").and_then(as_bool) == Some(true);
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
            return Ok(Planned::Reply(estimate(&top.fields)));
        }
        let (path, new_body) = match (in_body, anthropic_version) {
            // Anthropic's own API: every byte as the client sent it but the model.
            (Some(m), None) => {
                let path = if count_tokens {
                    format!("{path}/count_tokens")
                } else {
                    path.clone()
                };
                (path, splice(body, model_raw, m))
            }
            // Vertex: the model is in the path, the API version in the body.
            _ => {
                let mut out = ObjectBuf::new();
                for (k, v) in top.fields.0.iter().filter(|(k, _)| k != "model") {
                    out.insert_raw(k, v.get().as_bytes().to_vec());
                }
                if let Some(version) = anthropic_version {
                    out.insert("anthropic_version", version);
                }
                (path.clone(), out.into_vec())
            }
        };
        let target = Target::Provider {
            path,
            gateway: direct_gateway,
        };
        let mut fwd = chat::post_json(req, &provider, target, new_body, keep_all)?;
        fwd.dialect = Dialect::Anthropic;
        fwd.model = Some(format!("{provider_name}/{upstream_model}"));
        return Ok(Planned::Forward(fwd));
    }
    if count_tokens {
        return Ok(Planned::Reply(estimate(&top.fields)));
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
    let mut fwd = translated(req, &top, &provider, &model, target)?;
    fwd.model = Some(format!("{provider_name}/{upstream_model}"));
    Ok(Planned::Forward(fwd))
}

/// What a provider takes, for the Messages → chat mapping.
fn chat_options(provider: &Provider, target: &ChatTarget) -> ChatOptions {
    match target {
        ChatTarget::OpenAi { model, .. } => ChatOptions {
            max_completion_tokens: matches!(provider.name.as_str(), "openai" | "azure-openai"),
            reasoning_effort: provider.accepts_reasoning_effort(model),
            system_first: provider.system_first(),
            thinking_blocks: false,
        },
        // Converse keeps its system prompt in a field of its own.
        _ => ChatOptions {
            system_first: true,
            ..ChatOptions::default()
        },
    }
}

/// A Messages request for a provider that speaks OpenAI chat completions
/// (or Converse, one translation further).
fn translated(
    req: &Inbound,
    top: &Request,
    provider: &Provider,
    model: &str,
    target: ChatTarget,
) -> Result<Forward, ErrorReply> {
    let gateway = req.gateway;
    let t = messages_fields_to_chat(top, chat_options(provider, &target))
        .map_err(|m| bad(m, "invalid_request"))?;
    let mut body = t.body;
    let mut dropped = t.dropped;
    let compat = chat::compat(provider, gateway);
    let direct_gateway = gateway.filter(|_| provider.spec.is_some_and(|s| s.gateway));
    let (path, mapping, mut body) = match (compat, target) {
        (
            Some(gw),
            ChatTarget::OpenAi {
                model: upstream, ..
            },
        ) => {
            body.insert("model", &format!("{}/{upstream}", provider.name));
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
            body.insert("model", &upstream);
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
            let chat_body = body.into_vec();
            let c = chat_body_to_converse(&chat_body).map_err(|m| bad(m, "invalid_request"))?;
            drop(chat_body);
            for name in c.dropped {
                drop_name(&mut dropped, name);
            }
            let mapping = ResponseMapping::ConverseToChat {
                model: model.to_string(),
                include_usage: true,
            }
            .then(chat_mapping(model));
            (
                Target::Provider {
                    path,
                    gateway: direct_gateway,
                },
                mapping,
                c.body,
            )
        }
        // Answered natively before this function is reached; a plan, not a trap.
        (_, ChatTarget::Messages { .. }) => {
            return Err(bad(
                "this provider speaks the Messages API natively",
                "unsupported_provider",
            ))
        }
    };
    if !matches!(mapping, ResponseMapping::Chain(..)) {
        for name in body.keys().filter(|k| !chat::accepts(provider, k)) {
            drop_name(&mut dropped, name);
        }
        body.retain(|k| chat::accepts(provider, k));
    }
    let mut fwd = chat::post_json(req, provider, path, body.into_vec(), keep_for_translation)?;
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
    let top: Fields = parse_object(body).map_err(chat::body_error)?;
    Ok(splice(body, chat::model_field(&top)?, model))
}

/// What the estimate leaves out of its text: names, ids, markup, and image
/// and document data (not text).
const NOT_TEXT: &[&str] = &[
    "type",
    "cache_control",
    "id",
    "tool_use_id",
    "data",
    "source",
];

/// A rough token count (about four bytes of text per token, plus a few per
/// message) for providers without a counting endpoint, marked as an estimate:
/// the text of `system` and `messages`, and `tools` as JSON, each read once
/// without building it.
pub fn estimate(request: &Fields) -> Reply {
    let mut bytes = 0u64;
    let mut messages = 0u64;
    for field in ["system", "messages", "tools"] {
        let Some(v) = request.get(field) else {
            continue;
        };
        let count = match field {
            "tools" => Count::Json,
            _ => Count::Text(NOT_TEXT),
        };
        let size = measure(v, count, Names::Kept);
        bytes = bytes.saturating_add(size.bytes);
        if field == "messages" {
            messages = size.items.unwrap_or(0);
        }
    }
    let tokens = bytes
        .div_ceil(4)
        .saturating_add(messages.saturating_mul(4))
        .saturating_add(3);
    estimate_reply(&serde_json::json!({ "input_tokens": tokens }))
}

#[cfg(test)]
#[path = "messages_tests.rs"]
mod tests;
