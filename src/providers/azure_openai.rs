//! Azure OpenAI: a resource (`AZURE_OPENAI_RESOURCE` →
//! `https://{resource}.openai.azure.com`, or `AZURE_OPENAI_BASE_URL` = that
//! root), an `api-key` header, and deployments for models.
//!
//! - Pass-through `/azure-openai/{path}` → `{root}/openai/{path}` (never a
//!   doubled `/openai`); a dated path (`/openai/deployments/…`) without an
//!   `api-version` gets `AZURE_OPENAI_API_VERSION`.
//! - Chat completions `azure-openai/{deployment}` → the v1 API
//!   (`/openai/v1/chat/completions`, `model` = the deployment); models from
//!   `/openai/v1/models`.
//! - Embeddings `azure-openai/{deployment}` → `/openai/v1/embeddings` the same way.
//! - Through the AI Gateway, as Cloudflare documents it:
//!   `{gateway}/azure-openai/{resource}/{deployment}/chat/completions?api-version=…`
//!   (`/embeddings` likewise).

use super::{
    base_url_setting, from_spec, spec_keys, ChatTarget, Cloud, EmbeddingsTarget, Provider,
    ProviderSpec,
};
use crate::errors::ErrorReply;
use crate::gateway::GatewayTarget;
use crate::outgoing::UpstreamRequest;
use crate::settings::{self, SettingSource};
use crate::url::BaseUrl;

/// `api-version` when `AZURE_OPENAI_API_VERSION` is not set (the latest GA).
pub const DEFAULT_API_VERSION: &str = "2024-10-21";

/// Azure resource names: letters, digits and hyphens.
fn valid_resource(name: &str) -> bool {
    (2..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// The resource name from the settings, validated.
fn resource(src: &dyn SettingSource) -> Result<Option<String>, ErrorReply> {
    match settings::value(src, "AZURE_OPENAI_RESOURCE") {
        None => Ok(None),
        Some(r) if valid_resource(r.trim()) => Ok(Some(r.trim().to_string())),
        Some(_) => Err(ErrorReply::misconfigured(
            "AZURE_OPENAI_RESOURCE",
            "must be a resource name ([A-Za-z0-9-], as in https://{name}.openai.azure.com)",
        )),
    }
}

/// `https://{resource}.openai.azure.com/openai`.
pub fn default_base(src: &dyn SettingSource) -> Result<BaseUrl, ErrorReply> {
    let resource = resource(src)?.ok_or_else(|| {
        ErrorReply::misconfigured(
            "AZURE_OPENAI_RESOURCE",
            "is required by azure-openai (or set AZURE_OPENAI_BASE_URL)",
        )
    })?;
    BaseUrl::parse(&format!("https://{resource}.openai.azure.com/openai"))
        .map_err(|m| ErrorReply::misconfigured("AZURE_OPENAI_RESOURCE", &m))
}

/// The base: `AZURE_OPENAI_BASE_URL` (the resource's root) + `/openai`, else
/// from the resource name.
pub fn base(src: &dyn SettingSource) -> Result<BaseUrl, ErrorReply> {
    let setting = base_url_setting("azure-openai");
    match settings::value(src, &setting) {
        Some(raw) => {
            let root =
                BaseUrl::parse(raw.trim()).map_err(|m| ErrorReply::misconfigured(&setting, &m))?;
            let path = if root.path.ends_with("/openai") {
                root.path.clone()
            } else {
                format!("{}/openai", root.path)
            };
            Ok(BaseUrl { path, ..root })
        }
        None => default_base(src),
    }
}

pub fn resolve(
    spec: &'static ProviderSpec,
    src: &dyn SettingSource,
) -> Result<Provider, ErrorReply> {
    let (keys, key_setting, error) = spec_keys(spec, src);
    if let Some(e) = error {
        return Err(ErrorReply::misconfigured(&e.setting, &e.message));
    }
    let base = base(src)?;
    let resource = resource(src)?.or_else(|| {
        // From the root's host when only the base URL is set.
        base.authority
            .strip_suffix(".openai.azure.com")
            .filter(|r| valid_resource(r))
            .map(str::to_string)
    });
    let api_version = settings::value(src, "AZURE_OPENAI_API_VERSION")
        .map(|v| v.trim().to_string())
        .filter(|v| v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .unwrap_or_else(|| DEFAULT_API_VERSION.into());
    let mut p = from_spec(spec, base, keys, &key_setting);
    p.cloud = Some(Cloud::Azure {
        resource,
        api_version,
    });
    Ok(p)
}

fn api_version(p: &Provider) -> &str {
    match &p.cloud {
        Some(Cloud::Azure { api_version, .. }) => api_version,
        _ => DEFAULT_API_VERSION,
    }
}

/// Chat for deployment `model`: the v1 API directly; through the gateway,
/// the dated deployments API Cloudflare maps.
pub fn chat_target(p: &Provider, model: &str, via_gateway: bool) -> Option<ChatTarget> {
    Some(ChatTarget::OpenAi {
        path: if via_gateway {
            format!(
                "{}/chat/completions?api-version={}",
                deployment_path(model),
                api_version(p)
            )
        } else {
            p.chat_path.clone()?
        },
        model: model.to_string(),
    })
}

/// Embeddings for deployment `model`: the v1 API directly; through the
/// gateway, the dated deployments API.
pub fn embeddings_target(p: &Provider, model: &str, via_gateway: bool) -> Option<EmbeddingsTarget> {
    Some(EmbeddingsTarget::OpenAi {
        path: if via_gateway {
            format!(
                "{}/embeddings?api-version={}",
                deployment_path(model),
                api_version(p)
            )
        } else {
            p.embeddings_path.clone()?
        },
        model: model.to_string(),
    })
}

/// `/deployments/{deployment}`, the name percent-encoded.
fn deployment_path(model: &str) -> String {
    format!(
        "/deployments/{}",
        crate::cloud_auth::sigv4::uri_encode(model.as_bytes(), false)
    )
}

/// A dated pass-through path without `api-version` gets the configured one.
pub fn with_api_version(p: &Provider, relative_path: &str, query: &str) -> String {
    let dated = relative_path.starts_with("/deployments/") || relative_path == "/deployments";
    if dated && !query.split('&').any(|kv| kv.starts_with("api-version=")) {
        let v = format!("api-version={}", api_version(p));
        if query.is_empty() {
            v
        } else {
            format!("{query}&{v}")
        }
    } else {
        query.to_string()
    }
}

/// `/openai/deployments/{d}/{rest}` → `{gateway}/azure-openai/{resource}/{d}/{rest}`;
/// what the gateway does not map (the v1 API) goes direct.
pub fn via_gateway(p: &Provider, up: &mut UpstreamRequest, gateway: &GatewayTarget) {
    let Some(Cloud::Azure {
        resource: Some(resource),
        ..
    }) = &p.cloud
    else {
        return;
    };
    let relative = up
        .path_with_query
        .strip_prefix(&p.base.path)
        .unwrap_or(&up.path_with_query);
    let Some(after) = relative.strip_prefix("/deployments/") else {
        return;
    };
    let base = gateway.provider_base(&format!("azure-openai/{resource}"));
    up.path_with_query = format!("{}/{after}", base.path);
    up.base = base;
}
