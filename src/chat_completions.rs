//! OpenAI-compatible chat completions (SPEC §4): `provider/model` parsing, the
//! per-provider parameter allow-lists and quirks, and the upstream request.
//!
//! Only the top level of the body is parsed: every value (messages, tools, …)
//! stays as raw JSON text and is copied through untouched.

use crate::errors::ErrorReply;
use crate::gateway::{self, GatewayTarget};
use crate::keys::{self, KeyContext, KeySelection};
use crate::pass_through::{client_headers, upstream_headers, Forward, UpstreamRequest};
use crate::providers::{self, anthropic, ParamPolicy, Provider, ResolveError};
use crate::request::RequestHead;
use crate::settings::{self, SettingSource};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Default for `MAX_BODY_BYTES`: the largest chat body the proxy parses.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;

/// The body-size limit in force.
pub fn max_body_bytes(src: &dyn SettingSource) -> u64 {
    settings::value(src, "MAX_BODY_BYTES")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_BODY_BYTES)
}

/// A chat body's top level: names to raw JSON values.
type TopLevel = BTreeMap<String, Box<RawValue>>;

fn bad(message: impl Into<String>, code: &'static str) -> ErrorReply {
    ErrorReply::bad_request(message, code)
}

/// Splits `provider/model` at the first `/`, resolving `default` first.
pub fn split_model(model: &str, src: &dyn SettingSource) -> Result<(String, String), ErrorReply> {
    let model = model.trim();
    let resolved = if model == "default" {
        settings::value(src, "DEFAULT_MODEL")
            .map(|m| m.trim().to_string())
            .ok_or_else(|| {
                bad(
                    "model 'default' needs the DEFAULT_MODEL setting, which is not set",
                    "model_not_found",
                )
            })?
    } else {
        model.to_string()
    };
    match resolved.split_once('/') {
        Some((p, m)) if !p.is_empty() && !m.is_empty() => Ok((p.to_string(), m.to_string())),
        _ => Err(bad(
            format!(
                "model '{}' must be 'provider/model', e.g. 'openai/gpt-4o-mini'",
                printable(&resolved)
            ),
            "invalid_model",
        )),
    }
}

fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Parses the body's top level (one pass; nested values stay raw text).
fn parse_top_level(body: &[u8]) -> Result<TopLevel, ErrorReply> {
    let invalid = |e: serde_json::Error| bad(format!("invalid JSON body: {e}"), "invalid_json");
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => Err(bad(
                "the request body must be a JSON object",
                "invalid_body",
            )),
            Err(e) => Err(invalid(e)),
        };
    }
    serde_json::from_slice(body).map_err(invalid)
}

/// Turns a chat request into the provider's upstream request.
///
/// With a gateway that supports the provider, the request goes to the
/// gateway's OpenAI-compatible endpoint with model `{provider}/{model}` and the
/// provider key as a Bearer token.
pub fn plan(
    head: &RequestHead,
    body: &[u8],
    src: &dyn SettingSource,
    selection: Option<KeySelection>,
    ctx: &KeyContext,
    gateway: Option<&GatewayTarget>,
) -> Result<Forward, ErrorReply> {
    let mut top = parse_top_level(body)?;
    let model: String = match top.get("model") {
        None => return Err(bad("missing required parameter: 'model'", "missing_model")),
        Some(raw) => serde_json::from_str(raw.get()).map_err(|_| {
            bad(
                "'model' must be a string like 'openai/gpt-4o-mini'",
                "invalid_model",
            )
        })?,
    };
    let (provider_name, upstream_model) = split_model(&model, src)?;
    let provider = match providers::resolve(&provider_name, src) {
        Ok(p) => p,
        Err(ResolveError::Unknown) => {
            return Err(bad(
                format!(
                    "unknown provider '{}' in model '{}'",
                    printable(&provider_name),
                    printable(&model)
                ),
                "unknown_provider",
            ))
        }
        Err(ResolveError::Misconfigured(e)) => return Err(e),
    };
    let Some(chat_path) = provider.chat_path.clone() else {
        return Err(bad(
            format!(
                "provider '{}' has no OpenAI-compatible chat endpoint; use /{}/... pass-through",
                provider.name, provider.name
            ),
            "unsupported_provider",
        ));
    };
    let (picked, note) = pick_keys(&provider, selection, ctx)?;

    let compat = gateway.filter(|_| provider.spec.is_some_and(|s| s.gateway_compat));
    let upstream_model = match compat {
        Some(_) => format!("{}/{upstream_model}", provider.name),
        None => upstream_model,
    };
    rewrite(&mut top, &provider, &upstream_model);
    let new_body: Arc<[u8]> = serde_json::to_vec(&top)
        .map_err(|_| bad("could not encode the request body", "invalid_body"))?
        .into();
    let attempts = picked
        .iter()
        .map(|key| {
            chat_request(
                head,
                src,
                &provider,
                &chat_path,
                compat,
                key.as_ref(),
                &new_body,
            )
        })
        .collect();
    Ok(Forward {
        attempts,
        key_count: provider.keys.len(),
        note,
    })
}

/// The upstream chat request for one key.
fn chat_request(
    head: &RequestHead,
    src: &dyn SettingSource,
    provider: &Provider,
    chat_path: &str,
    compat: Option<&GatewayTarget>,
    key: Option<&PickedKey>,
    body: &Arc<[u8]>,
) -> UpstreamRequest {
    let secret = key.map(|k| k.key.as_str());
    let (base, path, mut headers) = match compat {
        Some(gw) => {
            let base = gw.compat_base();
            let path = format!("{}/chat/completions", base.path);
            let mut headers = client_headers(head);
            if let Some(key) = secret {
                headers.push(("authorization".into(), format!("Bearer {key}").into_bytes()));
            }
            headers.extend(gateway::token_header(src));
            headers.extend(gateway::max_attempts_header(src));
            (base, path, headers)
        }
        None => {
            let relative = chat_path.split('?').next().unwrap_or_default();
            let headers = upstream_headers(head, provider, relative, secret);
            let path = format!("{}{}", provider.base.path, chat_path);
            (provider.base.clone(), path, headers)
        }
    };
    headers.retain(|(n, _)| n != "content-length" && n != "content-type");
    headers.push(("content-type".into(), b"application/json".to_vec()));
    headers.push(("content-length".into(), body.len().to_string().into_bytes()));
    UpstreamRequest {
        method: "POST".into(),
        base,
        path_with_query: path,
        headers,
        provider: provider.name.clone(),
        body: Some(body.clone()),
        cooldown_key: key.and_then(|k| k.cooldown_key.clone()),
    }
}

/// One provider key chosen for one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickedKey {
    pub key: String,
    /// Where its cooldown is kept; `None` without a shared store.
    pub cooldown_key: Option<String>,
}

/// The key for each attempt (`None` for a custom endpoint without keys), or
/// a 400 naming the setting when the provider needs a key and has none.
pub fn pick_keys(
    provider: &Provider,
    selection: Option<KeySelection>,
    ctx: &KeyContext,
) -> Result<(Vec<Option<PickedKey>>, Option<&'static str>), ErrorReply> {
    if provider.keys.is_empty() {
        if provider.keys_required {
            return Err(bad(
                format!(
                    "provider {} has no key configured: set {}",
                    provider.name, provider.key_setting
                ),
                "provider_not_configured",
            ));
        }
        return Ok((vec![None; 1 + ctx.retries as usize], None));
    }
    let order = keys::order(&provider.keys, &provider.key_setting, selection, ctx);
    let with_store = ctx.store.available();
    let picked = order
        .indexes
        .iter()
        .map(|&i| {
            Some(PickedKey {
                key: provider.keys[i].clone(),
                cooldown_key: with_store
                    .then(|| keys::cooldown_key(&provider.key_setting, &provider.keys[i])),
            })
        })
        .collect();
    Ok((picked, order.fallback_note))
}

/// The first choice of key, for requests that are not retried.
pub fn pick_key(
    provider: &Provider,
    selection: Option<KeySelection>,
    ctx: &KeyContext,
) -> Result<Option<String>, ErrorReply> {
    let first = KeyContext { retries: 0, ..*ctx };
    Ok(pick_keys(provider, selection, &first)?
        .0
        .into_iter()
        .next()
        .flatten()
        .map(|k| k.key))
}

/// Sets the upstream model, drops what the provider does not accept, applies quirks.
fn rewrite(top: &mut TopLevel, provider: &Provider, model: &str) {
    let model_json = serde_json::to_string(model).unwrap_or_else(|_| "\"\"".into());
    if let Ok(raw) = RawValue::from_string(model_json) {
        top.insert("model".into(), raw);
    }
    if let Some(spec) = provider.spec {
        match spec.params {
            ParamPolicy::OpenAi => {}
            ParamPolicy::Only(allowed) => top.retain(|k, _| allowed.contains(&k.as_str())),
            ParamPolicy::OpenAiExcept(dropped) => top.retain(|k, _| !dropped.contains(&k.as_str())),
        }
        if spec.route == "anthropic" {
            anthropic::default_max_tokens(top);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn src(extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut m: HashMap<String, String> = [
            ("OPENAI_API_KEY", "sk-o"),
            ("ANTHROPIC_API_KEY", "sk-a"),
            ("GEMINI_API_KEY", "g"),
            ("COHERE_API_KEY", "c"),
            ("CEREBRAS_API_KEY", "cb"),
            ("OPENROUTER_API_KEY", "or"),
            ("REPLICATE_API_KEY", "r"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for (k, v) in extra {
            m.insert(k.to_string(), v.to_string());
        }
        m
    }

    fn head() -> RequestHead {
        RequestHead::new(
            "POST",
            "/v1/chat/completions",
            vec![
                ("authorization".into(), b"Bearer proxy".to_vec()),
                ("content-type".into(), b"application/json".to_vec()),
                ("content-length".into(), b"123".to_vec()),
            ],
        )
    }

    fn run(
        body: &str,
        extra: &[(&str, &str)],
    ) -> Result<(UpstreamRequest, serde_json::Value), ErrorReply> {
        let up = plan(
            &head(),
            body.as_bytes(),
            &src(extra),
            None,
            &KeyContext::random_only(0),
            None,
        )?
        .attempts
        .remove(0);
        let v = serde_json::from_slice(up.body.as_ref().unwrap()).unwrap();
        Ok((up, v))
    }

    #[test]
    fn model_is_split_at_the_first_slash() {
        let (up, v) = run(
            r#"{"model":"openrouter/meta-llama/llama-3","messages":[]}"#,
            &[],
        )
        .unwrap();
        assert_eq!(v["model"], "meta-llama/llama-3");
        assert_eq!(up.url(), "https://openrouter.ai/api/v1/chat/completions");
        assert_eq!(up.header("authorization"), Some("Bearer or"));
        assert_eq!(
            up.header("content-length").unwrap(),
            up.body.as_ref().unwrap().len().to_string()
        );
    }

    #[test]
    fn default_model_comes_from_settings() {
        let (up, v) = run(
            r#"{"model":"default","messages":[]}"#,
            &[("DEFAULT_MODEL", "openai/gpt-4o-mini")],
        )
        .unwrap();
        assert_eq!(v["model"], "gpt-4o-mini");
        assert_eq!(up.provider, "openai");
        let e = run(r#"{"model":"default"}"#, &[]).unwrap_err();
        assert!(e.message.contains("DEFAULT_MODEL"));
    }

    #[test]
    fn messages_and_unknown_fields_pass_through_for_openai() {
        let body = r#"{"model":"openai/gpt-4o","messages":[{"role":"user","content":"h\u00e9 \"q\""}],"temperature":0.2,"custom_thing":{"a":[1,2]}}"#;
        let (_, v) = run(body, &[]).unwrap();
        assert_eq!(v["messages"][0]["content"], "hé \"q\"");
        assert_eq!(v["temperature"], 0.2);
        assert_eq!(v["custom_thing"]["a"][1], 2);
    }

    #[test]
    fn allow_lists_drop_what_providers_refuse() {
        let body = r#"{"model":"google-ai-studio/gemini-2.0-flash","messages":[],"temperature":1,"frequency_penalty":1,"logit_bias":{},"user":"u","stream":true}"#;
        let (up, v) = run(body, &[]).unwrap();
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, vec!["messages", "model", "stream", "temperature"]);
        assert_eq!(up.path_with_query, "/v1beta/openai/chat/completions");
        assert_eq!(up.header("authorization"), Some("Bearer g"));

        let (_, v) = run(
            r#"{"model":"cohere/command-r","messages":[],"seed":1,"n":2,"tool_choice":"auto"}"#,
            &[],
        )
        .unwrap();
        assert_eq!(
            v.as_object().unwrap().keys().collect::<Vec<_>>(),
            vec!["messages", "model", "seed"]
        );

        let (_, v) = run(r#"{"model":"cerebras/llama","messages":[],"presence_penalty":1,"parallel_tool_calls":true,"top_p":0.5}"#, &[]).unwrap();
        assert_eq!(
            v.as_object().unwrap().keys().collect::<Vec<_>>(),
            vec!["messages", "model", "top_p"]
        );
    }

    #[test]
    fn anthropic_gets_a_default_max_tokens() {
        let (up, v) = run(
            r#"{"model":"anthropic/claude-3-5-haiku","messages":[]}"#,
            &[],
        )
        .unwrap();
        assert_eq!(v["max_tokens"], anthropic::DEFAULT_MAX_TOKENS);
        assert_eq!(up.url(), "https://api.anthropic.com/v1/chat/completions");
        assert_eq!(up.header("x-api-key"), Some("sk-a"));
        assert_eq!(up.header("anthropic-version"), Some("2023-06-01"));
        let (_, v) = run(
            r#"{"model":"anthropic/c","messages":[],"max_tokens":7}"#,
            &[],
        )
        .unwrap();
        assert_eq!(v["max_tokens"], 7);
        let (_, v) = run(
            r#"{"model":"anthropic/c","messages":[],"max_completion_tokens":9}"#,
            &[],
        )
        .unwrap();
        assert!(v.get("max_tokens").is_none());
    }

    #[test]
    fn bad_input_names_the_problem() {
        for (body, code, needle) in [
            ("{", "invalid_json", "invalid JSON"),
            ("[1]", "invalid_body", "JSON object"),
            (r#"{"messages":[]}"#, "missing_model", "'model'"),
            (r#"{"model":3}"#, "invalid_model", "string"),
            (r#"{"model":"gpt-4o"}"#, "invalid_model", "provider/model"),
            (r#"{"model":"nope/x"}"#, "unknown_provider", "'nope'"),
            (
                r#"{"model":"replicate/x"}"#,
                "unsupported_provider",
                "replicate",
            ),
            (
                r#"{"model":"mistral/x"}"#,
                "provider_not_configured",
                "MISTRAL_API_KEY",
            ),
        ] {
            let e = run(body, &[]).unwrap_err();
            assert_eq!(e.status, 400, "{body}");
            assert_eq!(e.code, code, "{body}");
            assert!(e.message.contains(needle), "{body}: {}", e.message);
        }
    }

    #[test]
    fn custom_endpoints_are_providers() {
        let custom = r#"[{"name":"local","baseUrl":"http://127.0.0.1:8000/v1","apiKeys":["lk"],"chatCompletionPath":"/chat"}]"#;
        let (up, v) = run(
            r#"{"model":"local/qwen","messages":[]}"#,
            &[("CUSTOM_OPENAI_ENDPOINTS", custom)],
        )
        .unwrap();
        assert_eq!(up.url(), "http://127.0.0.1:8000/v1/chat");
        assert_eq!(v["model"], "qwen");
        assert_eq!(up.header("authorization"), Some("Bearer lk"));
    }

    #[test]
    fn max_body_setting() {
        assert_eq!(max_body_bytes(&src(&[])), DEFAULT_MAX_BODY_BYTES);
        assert_eq!(max_body_bytes(&src(&[("MAX_BODY_BYTES", "100")])), 100);
    }
}

#[cfg(test)]
mod gateway_tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn compat_endpoint_gets_prefixed_model_and_bearer_key() {
        let s: HashMap<String, String> = [
            ("ANTHROPIC_API_KEY", "sk-a"),
            ("OLLAMA_API_KEY", "ol"),
            ("CLOUDFLARE_ACCOUNT_ID", "acc"),
            ("CF_AIG_TOKEN", "cft"),
            ("RETRY", "7"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let gw = gateway::explicit("gw", &s).unwrap();
        let head = RequestHead::new(
            "POST",
            "/v1/chat/completions",
            vec![("cf-aig-cache-ttl".into(), b"60".to_vec())],
        );
        let first = |body: &[u8]| {
            plan(
                &head,
                body,
                &s,
                None,
                &KeyContext::random_only(0),
                Some(&gw),
            )
            .unwrap()
            .attempts
            .remove(0)
        };
        let up = first(br#"{"model":"anthropic/claude","messages":[]}"#);
        assert_eq!(
            up.url(),
            "https://gateway.ai.cloudflare.com/v1/acc/gw/compat/chat/completions"
        );
        let v: serde_json::Value = serde_json::from_slice(up.body.as_ref().unwrap()).unwrap();
        assert_eq!(v["model"], "anthropic/claude");
        assert_eq!(v["max_tokens"], 4096);
        let h = |n: &str| up.header(n).map(str::to_string);
        assert_eq!(h("authorization").as_deref(), Some("Bearer sk-a"));
        assert_eq!(h("x-api-key"), None);
        assert_eq!(h("cf-aig-authorization").as_deref(), Some("Bearer cft"));
        assert_eq!(h("cf-aig-max-attempts").as_deref(), Some("5"));
        assert_eq!(h("cf-aig-cache-ttl").as_deref(), Some("60"));
        // Ollama is not behind the gateway: direct.
        let up = first(br#"{"model":"ollama/llama3","messages":[]}"#);
        assert_eq!(up.url(), "https://ollama.com/v1/chat/completions");
        assert!(!up
            .headers
            .iter()
            .any(|(k, _)| k.starts_with("cf-aig-authorization")));
    }
}
