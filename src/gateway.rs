//! Cloudflare AI Gateway (SPEC §2.4, §3, §4, §6): which gateway a request
//! uses and the URLs it becomes.

use crate::errors::ErrorReply;
use crate::settings::{self, SettingSource};
use crate::url::BaseUrl;

pub const DEFAULT_BASE_URL: &str = "https://gateway.ai.cloudflare.com/v1";

/// Most attempts the gateway allows per request (`cf-aig-max-attempts`).
pub const MAX_ATTEMPTS: u32 = 5;

/// Gateway names and account ids: `[A-Za-z0-9_-]{1,64}`.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// One gateway of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayTarget {
    /// `AI_GATEWAY_BASE_URL` (scheme, authority and path prefix).
    pub base: BaseUrl,
    pub account: String,
    pub name: String,
}

impl GatewayTarget {
    /// `{base}/{account}/{gateway}`: where Universal Endpoint arrays go.
    pub fn root(&self) -> String {
        format!("{}/{}/{}", self.base.path, self.account, self.name)
    }

    /// The base URL that stands in for `provider`'s own.
    pub fn provider_base(&self, provider: &str) -> BaseUrl {
        BaseUrl {
            path: format!("{}/{provider}", self.root()),
            ..self.base.clone()
        }
    }

    /// `{gateway}/compat`: the OpenAI-compatible endpoint.
    pub fn compat_base(&self) -> BaseUrl {
        self.provider_base("compat")
    }
}

fn gateway_base(src: &dyn SettingSource) -> Result<BaseUrl, ErrorReply> {
    let raw =
        settings::value(src, "AI_GATEWAY_BASE_URL").unwrap_or_else(|| DEFAULT_BASE_URL.into());
    BaseUrl::parse(&raw).map_err(|m| ErrorReply::misconfigured("AI_GATEWAY_BASE_URL", &m))
}

fn account(src: &dyn SettingSource) -> Result<Option<String>, ErrorReply> {
    match settings::value(src, "CLOUDFLARE_ACCOUNT_ID") {
        None => Ok(None),
        Some(a) if valid_name(a.trim()) => Ok(Some(a.trim().to_string())),
        Some(_) => Err(ErrorReply::bad_request(
            "CLOUDFLARE_ACCOUNT_ID must match [A-Za-z0-9_-]{1,64}",
            "invalid_account_id",
        )),
    }
}

/// The gateway named by a `/g/{name}/` prefix.
pub fn explicit(name: &str, src: &dyn SettingSource) -> Result<GatewayTarget, ErrorReply> {
    if !valid_name(name) {
        return Err(ErrorReply::bad_request(
            "gateway name must match [A-Za-z0-9_-]{1,64}",
            "invalid_gateway_name",
        ));
    }
    let account = account(src)?.ok_or_else(|| {
        ErrorReply::bad_request(
            "/g/{gateway}/ needs the CLOUDFLARE_ACCOUNT_ID setting, which is not set",
            "gateway_not_configured",
        )
    })?;
    Ok(GatewayTarget {
        base: gateway_base(src)?,
        account,
        name: name.to_string(),
    })
}

/// The default gateway: on when both `CLOUDFLARE_ACCOUNT_ID` and `AI_GATEWAY_NAME` are set.
pub fn default_gateway(src: &dyn SettingSource) -> Result<Option<GatewayTarget>, ErrorReply> {
    let Some(name) = settings::value(src, "AI_GATEWAY_NAME") else {
        return Ok(None);
    };
    let Some(account) = account(src)? else {
        return Ok(None);
    };
    let name = name.trim().to_string();
    if !valid_name(&name) {
        return Err(ErrorReply::misconfigured(
            "AI_GATEWAY_NAME",
            "must match [A-Za-z0-9_-]{1,64}",
        ));
    }
    Ok(Some(GatewayTarget {
        base: gateway_base(src)?,
        account,
        name,
    }))
}

/// `cf-aig-authorization: Bearer <CF_AIG_TOKEN>` when the token is set.
pub fn token_header(src: &dyn SettingSource) -> Option<(String, Vec<u8>)> {
    settings::value(src, "CF_AIG_TOKEN").map(|t| {
        (
            "cf-aig-authorization".to_string(),
            format!("Bearer {}", t.trim()).into_bytes(),
        )
    })
}

/// `cf-aig-max-attempts: min(RETRY+1, 5)` when `RETRY` is set.
pub fn max_attempts_header(src: &dyn SettingSource) -> Option<(String, Vec<u8>)> {
    settings::value(src, "RETRY")
        .and_then(|r| r.trim().parse::<u32>().ok())
        .map(|r| {
            let attempts = r.saturating_add(1).min(MAX_ATTEMPTS);
            (
                "cf-aig-max-attempts".to_string(),
                attempts.to_string().into_bytes(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn src(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        crate::settings::from_pairs(pairs)
    }

    #[test]
    fn names() {
        assert!(valid_name("my-gw_1"));
        for bad in ["", "a.b", "%2e%2e", "x@y", &"a".repeat(65)] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert!(valid_name(&"a".repeat(64)));
    }

    #[test]
    fn default_gateway_needs_both_settings() {
        assert_eq!(
            default_gateway(&src(&[("AI_GATEWAY_NAME", "gw")])).unwrap(),
            None
        );
        assert_eq!(
            default_gateway(&src(&[("CLOUDFLARE_ACCOUNT_ID", "acc")])).unwrap(),
            None
        );
        let g = default_gateway(&src(&[
            ("AI_GATEWAY_NAME", "gw"),
            ("CLOUDFLARE_ACCOUNT_ID", "acc"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            g.base.url(&g.root()),
            "https://gateway.ai.cloudflare.com/v1/acc/gw"
        );
        assert_eq!(g.provider_base("openai").path, "/v1/acc/gw/openai");
        assert_eq!(g.compat_base().path, "/v1/acc/gw/compat");
        assert!(default_gateway(&src(&[
            ("AI_GATEWAY_NAME", "a.b"),
            ("CLOUDFLARE_ACCOUNT_ID", "acc")
        ]))
        .is_err());
    }

    #[test]
    fn explicit_gateway_is_validated_and_needs_an_account() {
        let s = src(&[
            ("CLOUDFLARE_ACCOUNT_ID", "acc"),
            ("AI_GATEWAY_BASE_URL", "http://127.0.0.1:9/gw"),
        ]);
        let g = explicit("other", &s).unwrap();
        assert_eq!(g.base.url(&g.root()), "http://127.0.0.1:9/gw/acc/other");
        assert_eq!(explicit("a.b", &s).unwrap_err().status, 400);
        assert_eq!(explicit("gw", &src(&[])).unwrap_err().status, 400);
        assert_eq!(
            explicit("gw", &src(&[("CLOUDFLARE_ACCOUNT_ID", "../x")]))
                .unwrap_err()
                .status,
            400
        );
    }

    #[test]
    fn retry_becomes_max_attempts_capped_at_five() {
        let h = |r: &str| {
            max_attempts_header(&src(&[("RETRY", r)])).map(|(_, v)| String::from_utf8(v).unwrap())
        };
        assert_eq!(h("0").as_deref(), Some("1"));
        assert_eq!(h("2").as_deref(), Some("3"));
        assert_eq!(h("4").as_deref(), Some("5"));
        assert_eq!(h("9").as_deref(), Some("5"));
        assert_eq!(h("x"), None);
        assert_eq!(max_attempts_header(&src(&[])), None);
    }
}
