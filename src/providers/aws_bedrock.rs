//! Amazon Bedrock: `https://bedrock-runtime.{region}.amazonaws.com`
//! (`AWS_REGION`, default `us-east-1`; `AWS_BEDROCK_BASE_URL` overrides, and
//! the signature covers the host actually called), signed with AWS SigV4
//! (`AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` [+ `AWS_SESSION_TOKEN`],
//! each a list of the same length for several keys) or a Bedrock API key
//! (`AWS_BEARER_TOKEN_BEDROCK`, sent as Bearer).
//!
//! Chat completions go to the Converse API; embeddings to `InvokeModel`
//! (`/model/{id}/invoke`, see `crate::translate::bedrock_embeddings`); through the AI Gateway,
//! `{gateway}/aws-bedrock/bedrock-runtime/{region}/{path}`, signed for the
//! real Bedrock host as Cloudflare requires.

use super::{from_spec, provider_base, AuthStyle, Cloud, Credential, Provider, ProviderSpec};
use crate::credentials::Credentials;
use crate::errors::ErrorReply;
use crate::gateway::GatewayTarget;
use crate::outgoing::CloudAuth;
use crate::outgoing::UpstreamRequest;
use crate::settings::{self, SettingSource};
use crate::url::BaseUrl;

pub const DEFAULT_REGION: &str = "us-east-1";

fn region(src: &dyn SettingSource) -> Result<String, ErrorReply> {
    let r = settings::value(src, "AWS_REGION")
        .map(|r| r.trim().to_string())
        .unwrap_or_else(|| DEFAULT_REGION.into());
    if (1..=40).contains(&r.len())
        && r.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Ok(r)
    } else {
        Err(ErrorReply::misconfigured(
            "AWS_REGION",
            "must be a region such as us-east-1",
        ))
    }
}

fn real_host(region: &str) -> String {
    format!("bedrock-runtime.{region}.amazonaws.com")
}

/// `https://bedrock-runtime.{region}.amazonaws.com`.
pub fn default_base(src: &dyn SettingSource) -> Result<BaseUrl, ErrorReply> {
    BaseUrl::parse(&format!("https://{}", real_host(&region(src)?)))
        .map_err(|m| ErrorReply::misconfigured("AWS_REGION", &m))
}

fn list(src: &dyn SettingSource, name: &str) -> Result<Vec<String>, ErrorReply> {
    let (keys, err) = settings::key_list(src, name);
    match err {
        Some(e) => Err(ErrorReply::misconfigured(&e.setting, &e.message)),
        None => Ok(keys),
    }
}

pub fn resolve(
    spec: &'static ProviderSpec,
    src: &dyn SettingSource,
) -> Result<Provider, ErrorReply> {
    let region = region(src)?;
    let base = provider_base(spec, src)?;
    let tokens = list(src, "AWS_BEARER_TOKEN_BEDROCK")?;
    let mut p = if !tokens.is_empty() {
        let mut p = from_spec(spec, base, tokens, "AWS_BEARER_TOKEN_BEDROCK");
        p.auth = AuthStyle::Bearer;
        p
    } else {
        let ids = list(src, "AWS_ACCESS_KEY_ID")?;
        let secrets = list(src, "AWS_SECRET_ACCESS_KEY")?;
        let tokens = list(src, "AWS_SESSION_TOKEN")?;
        if ids.len() != secrets.len() {
            return Err(ErrorReply::misconfigured(
                "AWS_SECRET_ACCESS_KEY",
                "must hold one secret per AWS_ACCESS_KEY_ID",
            ));
        }
        if !tokens.is_empty() && tokens.len() != ids.len() {
            return Err(ErrorReply::misconfigured(
                "AWS_SESSION_TOKEN",
                "must hold one token per AWS_ACCESS_KEY_ID (or be unset)",
            ));
        }
        let mut p = from_spec(spec, base, ids.clone(), "AWS_ACCESS_KEY_ID");
        p.credentials = ids
            .iter()
            .zip(secrets)
            .enumerate()
            .map(|(i, (id, secret))| {
                (
                    id.clone(),
                    Credential::Aws(Credentials {
                        access_key_id: id.clone(),
                        secret_access_key: secret,
                        session_token: tokens.get(i).cloned(),
                    }),
                )
            })
            .collect();
        p
    };
    p.cloud = Some(Cloud::Bedrock { region });
    Ok(p)
}

/// `InvokeModel`'s path for model `id` (percent-encoded, as signed).
pub fn invoke_path(id: &str) -> String {
    format!(
        "/model/{}/invoke",
        crate::cloud_auth::sigv4::uri_encode(id.as_bytes(), false)
    )
}

/// `{gateway}/aws-bedrock/bedrock-runtime/{region}{path}`, the signature
/// still for the real host and path.
pub fn via_gateway(p: &Provider, up: &mut UpstreamRequest, gateway: &GatewayTarget) {
    let Some(Cloud::Bedrock { region }) = &p.cloud else {
        return;
    };
    let relative = up
        .path_with_query
        .strip_prefix(&p.base.path)
        .unwrap_or(&up.path_with_query)
        .to_string();
    if let Some(CloudAuth::SigV4 { signed_for, .. }) = &mut up.cloud_auth {
        signed_for.get_or_insert_with(|| (real_host(region), relative.clone()));
    }
    let base = gateway.provider_base(&format!("aws-bedrock/bedrock-runtime/{region}"));
    up.path_with_query = format!("{}{relative}", base.path);
    up.base = base;
}
