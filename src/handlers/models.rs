//! The aggregated model list (SPEC §5): which providers to ask, and how each
//! native answer becomes OpenAI's `{"object":"list","data":[…]}` with ids
//! prefixed `provider/`.

use crate::gateway::GatewayTarget;
use crate::host::Host;
use crate::providers::{self, custom, ModelsShape, Provider, PROVIDERS};
use crate::settings::SettingSource;
use crate::upstream::pick::pick_key;
use crate::upstream::{get_request, through_gateway, UpstreamRequest};
use serde::Serialize;
use serde_json::Value;

/// Per-provider timeout for model lists and status checks.
pub const FETCH_TIMEOUT_SECS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelEntry {
    pub id: String,
    pub object: &'static str,
    pub created: i64,
    pub owned_by: String,
}

impl ModelEntry {
    fn new(provider: &str, id: &str, created: i64, owned_by: Option<&str>) -> ModelEntry {
        ModelEntry {
            id: format!("{provider}/{id}"),
            object: "model",
            created,
            owned_by: owned_by.unwrap_or(provider).to_string(),
        }
    }
}

/// One provider's model list to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelsFetch {
    pub provider: String,
    pub shape: ModelsShape,
    pub request: UpstreamRequest,
}

/// What answering `/v1/models` takes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModelsPlan {
    pub fetches: Vec<ModelsFetch>,
    /// Custom endpoints with a static `models` list.
    pub static_models: Vec<ModelEntry>,
    /// Providers left out, and why (for the log; no secrets).
    pub skipped: Vec<String>,
    /// The list goes to a Gemini API client (Google's `ListModelsResponse`
    /// shape, [`render_gemini`]).
    pub gemini: bool,
    /// A client key's model list: only what it allows is listed.
    pub allowed: Option<crate::client_keys::ClientKey>,
    /// The model routes the caller may use, listed as models of their own.
    pub routes: Vec<ModelEntry>,
}

/// Adds the model routes (`MODEL_ROUTES`) to the list as models of their
/// own, and limits the list to what a client key allows.
pub fn add_routes(
    plan: &mut ModelsPlan,
    src: &dyn SettingSource,
    caller: &crate::client_keys::Caller,
) -> Result<(), crate::errors::ErrorReply> {
    for r in crate::team::model_routes(src)?.iter() {
        if caller.allows_route(&r.name) {
            plan.routes.push(ModelEntry {
                id: r.name.clone(),
                object: "model",
                created: 0,
                owned_by: "llm-proxy".into(),
            });
        }
    }
    plan.allowed = caller.key.clone().filter(|k| !k.models.is_empty());
    Ok(())
}

impl ModelsPlan {
    /// Whether `entry` is listed for this request's caller.
    pub fn lists(&self, entry: &ModelEntry) -> bool {
        self.allowed.as_ref().is_none_or(|k| k.allows(&entry.id))
    }
}

/// Every provider that has keys (and every custom endpoint).
pub fn plan(
    src: &dyn SettingSource,
    host: &dyn Host,
    gateway: Option<&GatewayTarget>,
) -> ModelsPlan {
    let mut out = ModelsPlan::default();
    let mut providers: Vec<Provider> = Vec::new();
    for spec in PROVIDERS {
        let (keys, _, _) = providers::spec_keys(spec, src);
        if keys.is_empty() || spec.models_path.is_none() {
            continue;
        }
        match providers::resolve(spec.route, src) {
            Ok(p) => providers.push(p),
            Err(_) => out.skipped.push(format!("{}: misconfigured", spec.route)),
        }
    }
    let (customs, _) = custom::endpoints(src);
    for c in customs {
        let p = c.into_provider();
        match &p.static_models {
            Some(models) => out
                .static_models
                .extend(models.iter().map(|m| ModelEntry::new(&p.name, m, 0, None))),
            None => providers.push(p),
        }
    }
    for p in providers {
        let Some(path) = p.models_path.clone() else {
            continue;
        };
        let key = match pick_key(&p, None, src, host) {
            Ok(k) => k,
            Err(_) => continue,
        };
        let shape = p.spec.map_or(ModelsShape::OpenAi, |s| s.models_shape);
        out.fetches.push(ModelsFetch {
            provider: p.name.clone(),
            shape,
            request: through_gateway(get_request(&p, &path, key.as_deref()), &p, gateway, src),
        });
    }
    out
}

/// Normalises one provider's native answer.
pub fn normalize(
    provider: &str,
    shape: ModelsShape,
    body: &[u8],
) -> Result<Vec<ModelEntry>, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON ({e})"))?;
    let list = |field: &str| -> Result<&Vec<Value>, String> {
        v.get(field)
            .and_then(Value::as_array)
            .ok_or_else(|| format!("no '{field}' array in the answer"))
    };
    let str_of = |m: &Value, f: &str| m.get(f).and_then(Value::as_str).map(str::to_string);
    let mut out = Vec::new();
    match shape {
        ModelsShape::OpenAi => {
            for m in list("data")? {
                let Some(id) = str_of(m, "id") else { continue };
                let created = m.get("created").and_then(Value::as_i64).unwrap_or(0);
                out.push(ModelEntry::new(
                    provider,
                    &id,
                    created,
                    m.get("owned_by").and_then(Value::as_str),
                ));
            }
        }
        ModelsShape::Anthropic => {
            for m in list("data")? {
                let Some(id) = str_of(m, "id") else { continue };
                let created = m
                    .get("created_at")
                    .and_then(Value::as_str)
                    .and_then(rfc3339_to_unix)
                    .unwrap_or(0);
                out.push(ModelEntry::new(provider, &id, created, None));
            }
        }
        ModelsShape::Google => {
            for m in list("models")? {
                let Some(name) = str_of(m, "name") else {
                    continue;
                };
                let id = name.strip_prefix("models/").unwrap_or(&name);
                out.push(ModelEntry::new(provider, id, 0, None));
            }
        }
        ModelsShape::Cohere => {
            for m in list("models")? {
                let Some(name) = str_of(m, "name") else {
                    continue;
                };
                out.push(ModelEntry::new(provider, &name, 0, None));
            }
        }
        ModelsShape::WorkersAi => {
            for m in list("result")? {
                let Some(name) = str_of(m, "name") else {
                    continue;
                };
                out.push(ModelEntry::new(provider, &name, 0, None));
            }
        }
    }
    Ok(out)
}

/// RFC 3339 → unix seconds.
pub fn rfc3339_to_unix(s: &str) -> Option<i64> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// The `/v1/models` body.
pub fn render(entries: &[ModelEntry]) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"object": "list", "data": entries})).unwrap_or_default()
}

/// The merged list as the Gemini API's `ListModelsResponse`: each model
/// named `models/{provider}/{model}`, as a Gemini client then calls it
/// through the proxy.
pub fn render_gemini(entries: &[ModelEntry]) -> Vec<u8> {
    let models: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "name": format!("models/{}", e.id),
                "baseModelId": e.id,
                "displayName": e.id,
                "supportedGenerationMethods": ["generateContent", "countTokens"],
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "models": models })).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn a_gemini_client_gets_googles_list_shape() {
        let entries = normalize(
            "openai",
            ModelsShape::OpenAi,
            br#"{"data":[{"id":"gpt-4o","created":1}]}"#,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&render_gemini(&entries)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"models": [{"name": "models/openai/gpt-4o", "baseModelId": "openai/gpt-4o",
                "displayName": "openai/gpt-4o", "supportedGenerationMethods": ["generateContent", "countTokens"]}]})
        );
    }

    #[test]
    fn normalises_every_native_shape() {
        let openai = normalize("openai", ModelsShape::OpenAi, br#"{"object":"list","data":[{"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system"},{"nope":1}]}"#).unwrap();
        assert_eq!(
            openai,
            vec![ModelEntry {
                id: "openai/gpt-4o".into(),
                object: "model",
                created: 1715367049,
                owned_by: "system".into()
            }]
        );
        let anthropic = normalize("anthropic", ModelsShape::Anthropic, br#"{"data":[{"type":"model","id":"claude-3-5-sonnet-20241022","display_name":"Claude","created_at":"2024-10-22T00:00:00Z"}],"has_more":false}"#).unwrap();
        assert_eq!(anthropic[0].id, "anthropic/claude-3-5-sonnet-20241022");
        assert_eq!(anthropic[0].created, 1729555200);
        assert_eq!(anthropic[0].owned_by, "anthropic");
        let google = normalize(
            "google-ai-studio",
            ModelsShape::Google,
            br#"{"models":[{"name":"models/gemini-2.0-flash"}]}"#,
        )
        .unwrap();
        assert_eq!(google[0].id, "google-ai-studio/gemini-2.0-flash");
        let cohere = normalize(
            "cohere",
            ModelsShape::Cohere,
            br#"{"models":[{"name":"command-r"}]}"#,
        )
        .unwrap();
        assert_eq!(cohere[0].id, "cohere/command-r");
        let workers = normalize(
            "workers-ai",
            ModelsShape::WorkersAi,
            br#"{"result":[{"name":"@cf/meta/llama-3.1-8b-instruct"}],"success":true}"#,
        )
        .unwrap();
        assert_eq!(workers[0].id, "workers-ai/@cf/meta/llama-3.1-8b-instruct");
        assert!(normalize("x", ModelsShape::OpenAi, b"<html>").is_err());
        assert!(normalize("x", ModelsShape::Google, b"{}").is_err());
    }

    #[test]
    fn rfc3339_with_offsets() {
        assert_eq!(rfc3339_to_unix("1970-01-01T00:00:10Z"), Some(10));
        assert_eq!(rfc3339_to_unix("1970-01-01T01:00:10+01:00"), Some(10));
        assert_eq!(rfc3339_to_unix("yesterday"), None);
    }

    #[test]
    fn plans_one_fetch_per_provider_with_keys_and_static_customs() {
        let s: HashMap<String, String> = [
            ("OPENAI_API_KEY", "a,b"),
            ("GEMINI_API_KEY", "g"),
            ("PERPLEXITY_API_KEY", "p"),
            ("CUSTOM_OPENAI_ENDPOINTS", r#"[{"name":"st","baseUrl":"http://h","models":["m1","m2"]},{"name":"dyn","baseUrl":"http://h2/v1","modelsPath":"/list"}]"#),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let p = plan(
            &s,
            &crate::host::Fixed {
                random: 1,
                now_ms: 0,
            },
            None,
        );
        let urls: Vec<_> = p.fetches.iter().map(|f| f.request.url()).collect();
        assert_eq!(
            urls,
            vec![
                "https://api.openai.com/v1/models",
                "https://generativelanguage.googleapis.com/v1beta/models",
                "http://h2/v1/list"
            ]
        );
        let g = &p.fetches[1].request;
        assert!(g
            .headers
            .contains(&("x-goog-api-key".into(), b"g".to_vec())));
        assert_eq!(
            p.static_models
                .iter()
                .map(|m| m.id.as_str())
                .collect::<Vec<_>>(),
            vec!["st/m1", "st/m2"]
        );
    }
}
