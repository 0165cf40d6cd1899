//! Google Vertex AI: `https://{region}-aiplatform.googleapis.com` (region
//! `global` → `aiplatform.googleapis.com`; `GOOGLE_VERTEX_AI_BASE_URL`
//! overrides), a project, and a bearer token — minted by the proxy from a
//! service account (`VERTEX_SERVICE_ACCOUNT_JSON`, one key file or a JSON
//! array of them), or given (`VERTEX_ACCESS_TOKEN`), or an API key in
//! express mode (`VERTEX_API_KEY`, sent as `x-goog-api-key`).
//!
//! - Chat completions `google-vertex-ai/{model}` → the OpenAI-compatible
//!   endpoint, model `google/{model}` unless already qualified; Claude models
//!   → Anthropic's Messages API on Vertex (`rawPredict`/`streamRawPredict`).
//! - Embeddings `google-vertex-ai/{model}` → the OpenAI-compatible
//!   `/endpoints/openapi/embeddings`, the model named as for chat.
//! - `/status` checks each key with a cheap authenticated list call.

use super::{
    from_spec, provider_base, AuthStyle, ChatTarget, Cloud, Credential, EmbeddingsTarget, Provider,
    ProviderSpec,
};
use crate::credentials::ServiceAccount;
use crate::errors::ErrorReply;
use crate::settings::{self, SettingSource};
use crate::url::BaseUrl;
use serde_json::Value;

pub const DEFAULT_REGION: &str = "us-central1";
/// The `anthropic_version` Vertex wants in a Messages body.
pub const ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

fn valid_label(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Only an express-mode API key: no service account, no access token.
fn express_only(src: &dyn SettingSource) -> bool {
    settings::value(src, "VERTEX_SERVICE_ACCOUNT_JSON").is_none()
        && settings::value(src, "VERTEX_ACCESS_TOKEN").is_none()
        && settings::value(src, "VERTEX_API_KEY").is_some()
}

/// `VERTEX_REGION`; unset, `us-central1` — or `global` for an express-mode
/// API key, whose endpoints live on the global host only.
fn region(src: &dyn SettingSource) -> Result<String, ErrorReply> {
    let r = settings::value(src, "VERTEX_REGION")
        .map(|r| r.trim().to_string())
        .unwrap_or_else(|| {
            if express_only(src) {
                "global".into()
            } else {
                DEFAULT_REGION.into()
            }
        });
    if valid_label(&r) {
        Ok(r)
    } else {
        Err(ErrorReply::misconfigured(
            "VERTEX_REGION",
            "must be a region such as us-central1 or global",
        ))
    }
}

/// `https://{region}-aiplatform.googleapis.com` (or the global host).
pub fn default_base(src: &dyn SettingSource) -> Result<BaseUrl, ErrorReply> {
    let region = region(src)?;
    let host = if region == "global" {
        "aiplatform.googleapis.com".to_string()
    } else {
        format!("{region}-aiplatform.googleapis.com")
    };
    BaseUrl::parse(&format!("https://{host}"))
        .map_err(|m| ErrorReply::misconfigured("VERTEX_REGION", &m))
}

/// The service accounts of `VERTEX_SERVICE_ACCOUNT_JSON`: one key file, or
/// a JSON array of key files (objects, or strings holding them). An error
/// says the entry and the field, never what is in them.
pub fn service_accounts(raw: &str) -> Result<Vec<ServiceAccount>, String> {
    let v: Value = serde_json::from_str(raw.trim()).map_err(|e| {
        format!(
            "must be a service-account key file's JSON, or an array of them ({})",
            settings::json_problem(&e)
        )
    })?;
    let one = |item: &Value| match item {
        Value::String(s) => serde_json::from_str::<Value>(s)
            .map_err(|e| {
                format!(
                    "is a string that is not a key file's JSON ({} of the string)",
                    settings::json_problem(&e)
                )
            })
            .and_then(|v| ServiceAccount::parse(&v)),
        other => ServiceAccount::parse(other),
    };
    match v {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| one(item).map_err(|m| format!("entry {i}: {m}")))
            .collect(),
        one_file => Ok(vec![one(&one_file)?]),
    }
}

pub fn resolve(
    spec: &'static ProviderSpec,
    src: &dyn SettingSource,
) -> Result<Provider, ErrorReply> {
    let region = region(src)?;
    let base = provider_base(spec, src)?;
    let mut accounts = Vec::new();
    let (keys, key_setting, auth) =
        if let Some(raw) = settings::value(src, "VERTEX_SERVICE_ACCOUNT_JSON") {
            accounts = service_accounts(&raw)
                .map_err(|m| ErrorReply::misconfigured("VERTEX_SERVICE_ACCOUNT_JSON", &m))?;
            let labels = accounts
                .iter()
                .map(|a| format!("{}#{}", a.client_email, a.private_key_id))
                .collect();
            (labels, "VERTEX_SERVICE_ACCOUNT_JSON", AuthStyle::Cloud)
        } else if settings::value(src, "VERTEX_ACCESS_TOKEN").is_some() {
            let (keys, err) = settings::key_list(src, "VERTEX_ACCESS_TOKEN");
            if let Some(e) = err {
                return Err(ErrorReply::misconfigured(&e.setting, &e.message));
            }
            (keys, "VERTEX_ACCESS_TOKEN", AuthStyle::Bearer)
        } else {
            let (keys, err) = settings::key_list(src, "VERTEX_API_KEY");
            if let Some(e) = err {
                return Err(ErrorReply::misconfigured(&e.setting, &e.message));
            }
            let setting = if keys.is_empty() {
                "VERTEX_SERVICE_ACCOUNT_JSON"
            } else {
                "VERTEX_API_KEY"
            };
            (keys, setting, AuthStyle::Header("x-goog-api-key"))
        };
    let project = settings::value(src, "VERTEX_PROJECT")
        .map(|p| p.trim().to_string())
        .or_else(|| accounts.iter().find_map(|a| a.project_id.clone()));
    if let Some(p) = &project {
        if !p
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b':' || b == b'.')
            || p.len() > 100
        {
            return Err(ErrorReply::misconfigured(
                "VERTEX_PROJECT",
                "is not a project id",
            ));
        }
    }
    let token_uri = settings::value(src, "VERTEX_TOKEN_URI").map(|u| u.trim().to_string());
    let mut p = from_spec(spec, base, keys.clone(), key_setting);
    p.auth = auth;
    p.credentials = keys
        .iter()
        .cloned()
        .zip(accounts.into_iter().map(Credential::Google))
        .collect();
    if let Some(project) = &project {
        let root = format!("/v1/projects/{project}/locations/{region}");
        p.chat_path = Some(format!("{root}/endpoints/openapi/chat/completions"));
        p.embeddings_path = Some(format!("{root}/endpoints/openapi/embeddings"));
        p.check_path = Some(format!("{root}/endpoints?pageSize=1"));
    }
    p.cloud = Some(Cloud::Vertex {
        project,
        region,
        token_uri,
    });
    Ok(p)
}

fn express(p: &Provider) -> bool {
    p.auth == AuthStyle::Header("x-goog-api-key")
}

/// Why chat completions cannot reach this Vertex set-up.
pub fn no_chat_reason(p: &Provider) -> &'static str {
    if express(p) {
        "an express-mode VERTEX_API_KEY reaches only generateContent/streamGenerateContent \
         (use /google-vertex-ai/v1/publishers/google/models/{model}:generateContent pass-through), \
         chat completions need VERTEX_SERVICE_ACCOUNT_JSON or VERTEX_ACCESS_TOKEN"
    } else {
        "chat completions need VERTEX_PROJECT (or a service account's project_id)"
    }
}

/// `model` as the OpenAI-compatible endpoint names it: `google/` unless qualified.
fn qualified(model: &str) -> String {
    if model.contains('/') {
        model.to_string()
    } else {
        format!("google/{model}")
    }
}

/// Embeddings go to the OpenAI-compatible endpoint (not in express mode).
pub fn embeddings_target(p: &Provider, model: &str) -> Option<EmbeddingsTarget> {
    if express(p) {
        return None;
    }
    Some(EmbeddingsTarget::OpenAi {
        path: p.embeddings_path.clone()?,
        model: qualified(model),
    })
}

/// Vertex's native Gemini API path of `method` (`generateContent`,
/// `streamGenerateContent`, `countTokens`) for a Google model: under the
/// project and region, or (express mode) the global publisher path. `None`
/// for Claude and other publishers' models, for other methods, and without
/// a project outside express mode.
pub fn gemini_path(p: &Provider, model: &str, method: &str) -> Option<String> {
    if !matches!(
        method,
        "generateContent" | "streamGenerateContent" | "countTokens"
    ) {
        return None;
    }
    let bare = model.strip_prefix("google/").unwrap_or(model);
    if bare.contains('/') || bare.starts_with("claude") {
        return None;
    }
    let model = crate::cloud_auth::sigv4::uri_encode(bare.as_bytes(), false);
    if express(p) {
        return Some(format!("/v1/publishers/google/models/{model}:{method}"));
    }
    Some(format!(
        "{}/publishers/google/models/{model}:{method}",
        project_root(p)?
    ))
}

/// `/v1/projects/{project}/locations/{region}`, when there is a project.
fn project_root(p: &Provider) -> Option<String> {
    match &p.cloud {
        Some(Cloud::Vertex {
            project: Some(project),
            region,
            ..
        }) => Some(format!("/v1/projects/{project}/locations/{region}")),
        _ => None,
    }
}

/// Claude models speak Anthropic's Messages API on Vertex; the rest take
/// the OpenAI-compatible endpoint, with `google/` unless qualified.
pub fn chat_target(p: &Provider, model: &str, stream: bool) -> Option<ChatTarget> {
    if express(p) {
        return None;
    }
    let root = project_root(p)?;
    let bare = model.strip_prefix("anthropic/").unwrap_or(model);
    if bare.starts_with("claude") {
        let model =
            crate::cloud_auth::sigv4::uri_encode(bare.as_bytes(), false).replace("%40", "@");
        let method = if stream {
            "streamRawPredict"
        } else {
            "rawPredict"
        };
        return Some(ChatTarget::Messages {
            path: format!("{root}/publishers/anthropic/models/{model}:{method}"),
            model: None,
            anthropic_version: Some(ANTHROPIC_VERSION),
        });
    }
    Some(ChatTarget::OpenAi {
        path: p.chat_path.clone()?,
        model: qualified(model),
    })
}
