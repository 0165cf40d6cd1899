//! The Gemini API for every provider (Gemini CLI, Google's GenAI SDKs):
//! `POST /v1beta/models/{model}:{method}` (and under `/v1/`), `method` one
//! of `generateContent`, `streamGenerateContent` (SSE with `alt=sse`),
//! `countTokens`, `embedContent`, `batchEmbedContents`.
//!
//! `{model}` is `provider/model` (split at the first `/`, a `models/` prefix
//! optional) or a bare name, which goes to `google-ai-studio`. A provider
//! that speaks the Gemini API natively (Google AI Studio; Vertex for
//! Google's models) gets the client's body untouched and its answer relayed;
//! every other provider gets `generateContent` translated to chat
//! completions — which then goes on as a chat request would, to an
//! OpenAI-compatible endpoint or one translation further (Anthropic's
//! Messages, Bedrock's Converse) — and `embedContent` to embeddings, with
//! the answers translated back. `countTokens` for a translated provider is
//! the proxy's estimate, marked by `x-llm-proxy-token-count: estimate`.

use crate::errors::{Dialect, ErrorReply};
use crate::handlers::{chat_completions, embeddings};
use crate::providers::{ChatTarget, Provider};
use crate::request::RequestHead;
use crate::translate::gemini_openai::embed::{embed_to_openai, estimate_tokens};
use crate::translate::gemini_openai::request::{gemini_to_chat, ChatOptions};
use crate::translate::raw::parse_object;
use crate::translate::raw::Fields;
use crate::translate::ResponseMapping;
use crate::upstream::chat::{self, keep_all, keep_for_translation, Target};
use crate::upstream::{estimate_reply, Inbound, Planned};
use crate::url;

/// A Gemini API method the proxy serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Generate,
    Stream,
    CountTokens,
    Embed,
    BatchEmbed,
}

impl Method {
    fn parse(name: &str) -> Option<Method> {
        Some(match name {
            "generateContent" => Method::Generate,
            "streamGenerateContent" => Method::Stream,
            "countTokens" => Method::CountTokens,
            "embedContent" => Method::Embed,
            "batchEmbedContents" => Method::BatchEmbed,
            _ => return None,
        })
    }

    /// The method's name in the path.
    pub fn name(self) -> &'static str {
        match self {
            Method::Generate => "generateContent",
            Method::Stream => "streamGenerateContent",
            Method::CountTokens => "countTokens",
            Method::Embed => "embedContent",
            Method::BatchEmbed => "batchEmbedContents",
        }
    }
}

/// One Gemini API call, read off its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeminiCall {
    /// The API version the client called: `v1beta` or `v1`.
    pub version: &'static str,
    /// The model as the client named it, without a `models/` prefix.
    pub model: String,
    pub method: Method,
}

/// `/v1beta/models/{rest}` or `/v1/models/{rest}` → (version, rest).
fn models_rest(path: &str) -> Option<(&'static str, &str)> {
    if let Some(rest) = path.strip_prefix("/v1beta/models/") {
        Some(("v1beta", rest))
    } else {
        path.strip_prefix("/v1/models/").map(|rest| ("v1", rest))
    }
}

/// True when `path` (prefixes removed) is a Gemini API call: a model and a
/// `:method` under `/v1beta/models/` or `/v1/models/`.
pub fn is_gemini_path(path: &str) -> bool {
    models_rest(path).is_some_and(|(_, rest)| rest.contains(':'))
}

/// A model list asked for by a Gemini API client: on `/v1beta/models`, or
/// on `/v1/models` from one of Google's SDKs (they name themselves in
/// `x-goog-api-client`) or with the key as `x-goog-api-key` — elsewhere
/// `/v1/models` is OpenAI's list.
pub fn lists_models(path: &str, head: &RequestHead) -> bool {
    path == "/v1beta/models"
        || (path == "/v1/models"
            && (head.header("x-goog-api-client").is_some()
                || head.header("x-goog-api-key").is_some()))
}

/// The Gemini API call `path` names (prefixes removed); `None` when it is
/// none; an error for an unknown method or an unreadable model.
pub fn call_of(path: &str) -> Option<Result<GeminiCall, ErrorReply>> {
    let (version, rest) = models_rest(path)?;
    let (model, method) = rest.rsplit_once(':')?;
    let Some(method) = Method::parse(method) else {
        return Some(Err(ErrorReply::not_found(format!(
            "unknown Gemini API method '{}': the proxy serves generateContent, \
             streamGenerateContent, countTokens, embedContent and batchEmbedContents",
            chat::printable(method)
        ))));
    };
    let decoded = url::percent_decode(model);
    let Ok(model) = String::from_utf8(decoded) else {
        return Some(Err(ErrorReply::bad_request(
            "the model in the path is not UTF-8",
            "invalid_model",
        )));
    };
    let model = model.strip_prefix("models/").unwrap_or(&model).to_string();
    if model.is_empty() {
        return Some(Err(ErrorReply::bad_request(
            "missing model: use /v1beta/models/{provider/model}:{method}",
            "invalid_model",
        )));
    }
    Some(Ok(GeminiCall {
        version,
        model,
        method,
    }))
}

/// `alt=sse` in a query: a stream as server-sent events (without it,
/// Google streams one JSON array).
fn wants_sse(query: &str) -> bool {
    query.split('&').any(|p| p == "alt=sse")
}

/// Plans a Gemini API call.
pub fn plan(req: &Inbound, body: &[u8], call: &GeminiCall) -> Result<Planned, ErrorReply> {
    let (head, src) = (req.head, req.src);
    let (provider_name, upstream_model) =
        chat::split_model(&call.model, src, Some("google-ai-studio"))?;
    let provider = chat::resolve(&provider_name, &call.model, src)?;

    // Native: the client's body, the provider's own Gemini API (through the
    // gateway's provider URL when it is on).
    if let Some(path) = provider.gemini_path(&upstream_model, call.version, call.method.name()) {
        // Forwarded as it is, but not if it is no JSON object (a translation
        // below reads the body itself and refuses such a one the same way).
        parse_object::<Fields>(body).map_err(chat::body_error)?;
        let query = url::strip_key_param(&head.query);
        let path = if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        };
        let gateway = req
            .gateway
            .filter(|_| provider.spec.is_some_and(|s| s.gateway));
        let target = Target::Provider { path, gateway };
        let mut fwd = chat::post_json(req, &provider, target, body.to_vec(), keep_all)?;
        fwd.dialect = Dialect::Gemini;
        fwd.model = Some(format!("{provider_name}/{upstream_model}"));
        return Ok(Planned::Forward(fwd));
    }

    let (fwd, mapping, dropped) = match call.method {
        Method::CountTokens => {
            let tokens = estimate_tokens(body)?;
            let reply = estimate_reply(&serde_json::json!({ "totalTokens": tokens }));
            return Ok(Planned::Reply(reply));
        }
        Method::Embed | Method::BatchEmbed => {
            let batch = call.method == Method::BatchEmbed;
            let t = embed_to_openai(body, &call.model, batch)?;
            let fwd = embeddings::plan_keeping(req, &t.body.into_vec(), keep_for_translation)?;
            (
                fwd,
                ResponseMapping::EmbeddingsToGemini { batch },
                t.dropped,
            )
        }
        Method::Generate | Method::Stream => {
            let sse = call.method == Method::Stream && wants_sse(&head.query);
            let opts = chat_options(&provider, &upstream_model);
            let t = gemini_to_chat(body, &call.model, sse, opts)?;
            let fwd =
                chat_completions::plan_keeping(req, &t.body.into_vec(), keep_for_translation)?;
            let mapping = ResponseMapping::ChatToGemini {
                model: call.model.clone(),
                array: call.method == Method::Stream && !sse,
            };
            (fwd, mapping, t.dropped)
        }
    };
    let mut fwd = fwd.then_translated(mapping, &dropped);
    fwd.dialect = Dialect::Gemini;
    Ok(Planned::Forward(fwd))
}

/// What the provider takes, for the Gemini → chat mapping (the chat
/// request may go one translation further, which reads either form).
fn chat_options(provider: &Provider, model: &str) -> ChatOptions {
    let openai_itself = matches!(
        provider.chat_target(model, false, false),
        Some(ChatTarget::OpenAi { .. })
    ) && matches!(provider.name.as_str(), "openai" | "azure-openai");
    ChatOptions {
        max_completion_tokens: openai_itself,
        reasoning_effort: provider.accepts_reasoning_effort(model),
        system_first: provider.system_first(),
        thinking_blocks: false,
    }
}

#[cfg(test)]
#[path = "gemini_tests.rs"]
mod tests;
