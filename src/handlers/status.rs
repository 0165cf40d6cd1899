//! `GET /status`: a settings summary without secrets, and per provider each
//! key masked to its last 3 characters with a connectivity verdict from its
//! models endpoint.

use crate::gateway::GatewayTarget;
use crate::host::Host;
use crate::keys::{self, CooldownBook};
use crate::providers::{self, custom, ProviderKind, ResolveError, PROVIDERS};
use crate::settings::{self, SettingError, SettingSource};
use crate::upstream::{get_request, through_gateway, UpstreamRequest};
use serde_json::{json, Map, Value};

/// One key to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyCheck {
    pub provider: String,
    pub masked: String,
    /// Seconds left of the key's cooldown (0 when it is not cooling down).
    pub cooldown_secs: u64,
    /// `None` when the provider has no models endpoint: the verdict is `unknown`.
    pub request: Option<UpstreamRequest>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusPlan {
    pub config: Value,
    /// Every provider, in table order, with whether it has keys and which
    /// of the proxy's routes it serves (`chat`, `messages`, `embeddings`).
    pub providers: Vec<(String, bool, Vec<&'static str>)>,
    pub checks: Vec<KeyCheck>,
}

/// What the shared store is, and what goes without one: client keys with
/// limits are refused and usage is not counted.
fn store_status(src: &dyn SettingSource, shared: bool) -> Value {
    let keys = crate::team::client_keys(src).unwrap_or_default();
    let limited: Vec<&str> = keys
        .iter()
        .filter(|k| k.has_limits())
        .map(|k| k.name.as_str())
        .collect();
    let why = (!shared).then_some(
        "this host offers no shared key-value store (wasmtime serve): client keys with limits \
         are refused (503), /usage is unavailable, and route round robin and cooldowns are \
         each instance's own; run the spin flavour (with a Redis-backed store for several instances)",
    );
    json!({
        "shared": shared,
        "why": why,
        "clientKeys": keys.len(),
        "limitedKeys": limited,
    })
}

/// A key masked to its last 3 characters; short keys are masked whole.
pub fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() < 12 {
        "*******".into()
    } else {
        format!(
            "*******{}",
            chars[chars.len() - 3..].iter().collect::<String>()
        )
    }
}

/// `valid` (2xx), `invalid` (401/403) or `unknown` (anything else, or no answer).
pub fn verdict(status: Option<u16>) -> &'static str {
    match status {
        Some(200..=299) => "valid",
        Some(401) | Some(403) => "invalid",
        _ => "unknown",
    }
}

/// Every malformed setting, by name and problem (never the value).
pub fn setting_errors(src: &dyn SettingSource) -> Vec<SettingError> {
    let mut errors = Vec::new();
    if let (_, Some(e)) = settings::key_list(src, "PROXY_API_KEY") {
        errors.push(e);
    }
    let team = [
        ("PROXY_KEYS", crate::team::client_keys(src).err()),
        ("MODEL_ROUTES", crate::team::model_routes(src).err()),
        (
            "MODEL_PRICES",
            settings::value(src, "MODEL_PRICES").and_then(|raw| {
                crate::prices::parse(&raw)
                    .err()
                    .map(|e| crate::errors::ErrorReply::misconfigured("MODEL_PRICES", &e))
            }),
        ),
    ];
    for (setting, e) in team {
        if let Some(e) = e {
            errors.push(SettingError {
                setting: setting.to_string(),
                message: e.message,
            });
        }
    }
    for spec in PROVIDERS {
        if spec.kind != ProviderKind::Standard {
            // The clouds: whatever their resolver refuses, once a way to
            // authenticate is set.
            let configured = spec
                .key_settings
                .iter()
                .any(|k| settings::value(src, k).is_some());
            if let (true, Err(ResolveError::Misconfigured(e))) =
                (configured, providers::resolve(spec.route, src))
            {
                errors.push(SettingError {
                    setting: e
                        .message
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or(spec.route)
                        .to_string(),
                    message: e.message,
                });
            }
            continue;
        }
        if let (_, _, Some(e)) = providers::spec_keys(spec, src) {
            errors.push(e);
        }
        if settings::value(src, &providers::base_url_setting(spec.route)).is_some() {
            if let Err(e) = providers::provider_base(spec, src) {
                errors.push(SettingError {
                    setting: providers::base_url_setting(spec.route),
                    message: e.message,
                });
            }
        }
    }
    errors.extend(custom::endpoints(src).1);
    errors
}

pub fn plan(
    src: &dyn SettingSource,
    gateway: Option<&GatewayTarget>,
    host: &dyn Host,
) -> StatusPlan {
    let (proxy_keys, _) = settings::key_list(src, "PROXY_API_KEY");
    let (customs, _) = custom::endpoints(src);
    let errors: Vec<Value> = setting_errors(src)
        .into_iter()
        .map(|e| json!({"setting": e.setting, "message": e.message}))
        .collect();
    let overrides: Vec<String> = PROVIDERS
        .iter()
        .map(|p| providers::base_url_setting(p.route))
        .filter(|s| settings::value(src, s).is_some())
        .collect();
    let config = json!({
        "dev": settings::flag(src, "DEV"),
        "proxyKeys": proxy_keys.len(),
        "defaultModel": settings::value(src, "DEFAULT_MODEL"),
        "gateway": {
            "accountIdSet": settings::value(src, "CLOUDFLARE_ACCOUNT_ID").is_some(),
            "name": settings::value(src, "AI_GATEWAY_NAME"),
            "tokenSet": settings::value(src, "CF_AIG_TOKEN").is_some(),
        },
        "retry": settings::value(src, "RETRY").and_then(|v| v.trim().parse::<u32>().ok()).unwrap_or(0),
        "globalRoundRobin": settings::flag(src, "ENABLE_GLOBAL_ROUND_ROBIN"),
        "sharedStore": host.store().is_some(),
        "store": store_status(src, host.store().is_some()),
        "upstreamTimeoutSeconds": settings::seconds(src, "UPSTREAM_TIMEOUT_SECONDS", 600),
        "maxBodyBytes": settings::max_body_bytes(src),
        "customEndpoints": customs.iter().map(|c| c.name.clone()).collect::<Vec<_>>(),
        "baseUrlOverrides": overrides,
        "errors": errors,
    });

    let mut names: Vec<String> = PROVIDERS.iter().map(|p| p.route.to_string()).collect();
    names.extend(customs.iter().map(|c| c.name.clone()));
    let mut out = StatusPlan {
        config,
        providers: Vec::new(),
        checks: Vec::new(),
    };
    for name in names {
        let provider = match providers::resolve(&name, src) {
            Ok(p) => p,
            Err(ResolveError::Unknown) => continue,
            Err(ResolveError::Misconfigured(_)) => {
                out.providers.push((name, false, Vec::new()));
                continue;
            }
        };
        out.providers.push((
            name.clone(),
            !provider.keys.is_empty() || !provider.keys_required,
            provider.routes(),
        ));
        // One read of the provider's cooldown record (only with several keys,
        // as key choice keeps none for one).
        let book = (provider.keys.len() > 1)
            .then(|| {
                host.store()
                    .map(|s| CooldownBook::load(s, &provider.key_setting))
            })
            .flatten()
            .filter(|b| !b.entries.is_empty());
        let now = book.as_ref().map_or(0, |_| host.now_ms());
        for key in &provider.keys {
            out.checks.push(KeyCheck {
                provider: name.clone(),
                masked: mask(key),
                cooldown_secs: book
                    .as_ref()
                    .and_then(|b| b.cooling_until(&keys::fingerprint(key), now))
                    // safe: cooling_until answers only an `until` after `now`.
                    .map_or(0, |until| (until - now).div_ceil(1000)),
                request: provider
                    .models_path
                    .as_deref()
                    .or(provider.check_path.as_deref())
                    .map(|path| {
                        through_gateway(
                            get_request(&provider, path, Some(key)),
                            &provider,
                            gateway,
                            src,
                        )
                    }),
            });
        }
    }
    out
}

/// The `/status` body; `statuses[i]` is the upstream status for `plan.checks[i]`.
pub fn render(plan: &StatusPlan, statuses: &[Option<u16>]) -> Vec<u8> {
    let mut providers = Map::new();
    for (name, available, routes) in &plan.providers {
        let keys: Vec<Value> = plan
            .checks
            .iter()
            .zip(statuses.iter().copied().chain(std::iter::repeat(None)))
            .filter(|(c, _)| &c.provider == name)
            .map(|(c, s)| json!({"key": c.masked, "status": verdict(s), "cooldown": c.cooldown_secs}))
            .collect();
        providers.insert(
            name.clone(),
            json!({"available": available, "routes": routes, "keys": keys}),
        );
    }
    serde_json::to_vec(&json!({"config": plan.config, "providers": providers})).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn masks_and_verdicts() {
        assert_eq!(mask("sk-proj-abcdefghijklmnopXYZ"), "*******XYZ");
        assert_eq!(mask("short"), "*******");
        assert_eq!(verdict(Some(200)), "valid");
        assert_eq!(verdict(Some(401)), "invalid");
        assert_eq!(verdict(Some(403)), "invalid");
        assert_eq!(verdict(Some(500)), "unknown");
        assert_eq!(verdict(None), "unknown");
    }

    #[test]
    fn status_never_contains_a_secret() {
        let s: HashMap<String, String> = [
            ("PROXY_API_KEY", "proxy-secret-value-123"),
            (
                "OPENAI_API_KEY",
                "sk-openai-secret-AAA,sk-openai-secret-BBB",
            ),
            ("PERPLEXITY_API_KEY", "pplx-secret-value-CCC"),
            ("ANTHROPIC_API_KEY", "[\"unterminated"),
            ("CF_AIG_TOKEN", "cf-token-secret-value"),
            (
                "CUSTOM_OPENAI_ENDPOINTS",
                r#"[{"name":"c","baseUrl":"http://h","apiKeys":["custom-secret-key-DDD"]}]"#,
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let p = plan(
            &s,
            None,
            &crate::host::Fixed {
                random: 0,
                now_ms: 0,
            },
        );
        let statuses: Vec<Option<u16>> = p.checks.iter().map(|_| Some(200)).collect();
        let body = String::from_utf8(render(&p, &statuses)).unwrap();
        for secret in [
            "proxy-secret",
            "sk-openai-secret",
            "pplx-secret",
            "cf-token-secret",
            "custom-secret",
            "unterminated",
        ] {
            assert!(!body.contains(secret), "{secret} in {body}");
        }
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["providers"]["openai"]["keys"][0]["key"], "*******AAA");
        assert_eq!(v["providers"]["openai"]["keys"][0]["cooldown"], 0);
        assert_eq!(v["providers"]["openai"]["keys"][1]["key"], "*******BBB");
        assert_eq!(v["providers"]["openai"]["available"], true);
        assert_eq!(v["providers"]["mistral"]["available"], false);
        assert_eq!(
            v["providers"]["openai"]["routes"],
            json!(["chat", "messages", "responses", "gemini", "embeddings"])
        );
        assert_eq!(
            v["providers"]["groq"]["routes"],
            json!(["chat", "messages", "responses", "gemini"])
        );
        // A provider whose settings are malformed serves nothing.
        assert_eq!(v["providers"]["anthropic"]["routes"], json!([]));
        assert_eq!(v["providers"]["replicate"]["routes"], json!([]));
        assert_eq!(
            v["providers"]["aws-bedrock"]["routes"],
            json!(["chat", "messages", "responses", "gemini", "embeddings"])
        );
        assert_eq!(
            v["providers"]["c"]["routes"],
            json!(["chat", "messages", "responses", "gemini", "embeddings"])
        );
        // Perplexity has no models endpoint: nothing to call, verdict unknown.
        let pplx = p
            .checks
            .iter()
            .find(|c| c.provider == "perplexity-ai")
            .unwrap();
        assert!(pplx.request.is_none());
        assert_eq!(v["providers"]["c"]["keys"][0]["key"], "*******DDD");
        assert_eq!(v["config"]["errors"][0]["setting"], "ANTHROPIC_API_KEY");
        assert_eq!(v["config"]["proxyKeys"], 1);
        assert_eq!(v["config"]["gateway"]["tokenSet"], true);
    }
}
