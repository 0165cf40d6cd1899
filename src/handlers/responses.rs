//! The OpenAI Responses API for every provider: `POST /v1/responses`
//! (Codex, the OpenAI SDK's `responses`).
//!
//! Model naming as for chat completions. A provider that speaks Responses
//! natively (OpenAI, Azure OpenAI's v1 API) gets the body untouched but for
//! `model`, and its answer as it is; every other provider gets the request
//! translated to chat completions, which then goes on exactly as a chat
//! request would (to an OpenAI-compatible endpoint, or one translation
//! further: Anthropic's Messages, Bedrock's Converse), and the answer comes
//! back through the same chain plus chat → Responses.

use crate::errors::ErrorReply;
use crate::handlers::chat_completions;
use crate::providers::ChatTarget;
use crate::translate::anthropic_openai::request::ChatOptions;
use crate::translate::raw::{parse_object, splice, Fields};
use crate::translate::responses_openai::request::{responses_fields_to_chat, NO_STATE};
use crate::translate::ResponseMapping;
use crate::upstream::chat::{self, keep_all, keep_for_translation, Target};
use crate::upstream::{Forward, Inbound};

fn bad(message: impl Into<String>, code: &'static str) -> ErrorReply {
    ErrorReply::bad_request(message, code)
}

/// Plans `POST /v1/responses`.
pub fn plan(req: &Inbound, body: &[u8]) -> Result<Forward, ErrorReply> {
    let (src, gateway) = (req.src, req.gateway);
    // Read once: the native path splices the model into these bytes, the
    // translated one maps these fields.
    let top: Fields = parse_object(body).map_err(chat::body_error)?;
    let model_raw = chat::model_field(&top)?;
    let model = chat::model_text(model_raw)?;
    let (provider_name, upstream_model) = chat::split_model(&model, src, None)?;
    let provider = chat::resolve(&provider_name, &model, src)?;

    // Native: the provider's own Responses API (through the gateway's
    // provider URL when it is on).
    if let Some(path) = provider.spec.and_then(|s| s.responses_path) {
        let direct_gateway = gateway.filter(|_| provider.spec.is_some_and(|s| s.gateway));
        let target = Target::Provider {
            path: path.to_string(),
            gateway: direct_gateway,
        };
        let new_body = splice(body, model_raw, &upstream_model);
        let mut fwd = chat::post_json(req, &provider, target, new_body, keep_all)?;
        fwd.model = Some(format!("{provider_name}/{upstream_model}"));
        return Ok(fwd);
    }

    // Translated: Responses → chat, then the chat route's own plan.
    let ends_at_messages = matches!(
        provider.chat_target(&upstream_model, false, false),
        Some(ChatTarget::Messages { .. })
    );
    let opts = ChatOptions {
        max_completion_tokens: false,
        reasoning_effort: provider.accepts_reasoning_effort(&upstream_model),
        system_first: provider.system_first(),
        thinking_blocks: ends_at_messages,
    };
    let translated = responses_fields_to_chat(&top, opts).map_err(|m| {
        let code = if m == NO_STATE {
            "unsupported_conversation_state"
        } else {
            "invalid_request"
        };
        bad(m, code)
    })?;
    let mut chat_body = translated.chat.body;
    chat_body.insert("model", &model);
    let chat_body = chat_body.into_vec();
    drop(top);
    let fwd = chat_completions::plan_keeping(req, &chat_body, keep_for_translation)?;
    let to_responses = ResponseMapping::ChatToResponses {
        model,
        tools: translated.tools,
    };
    Ok(fwd.then_translated(to_responses, &translated.chat.dropped))
}

#[cfg(test)]
#[path = "responses_tests.rs"]
mod tests;
