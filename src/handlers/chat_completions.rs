//! OpenAI-compatible chat completions (SPEC §4): the model's provider, its
//! parameter rules and quirks, and the upstream request — the provider's
//! OpenAI-compatible endpoint, the gateway's `/compat`, or (for providers that
//! speak Anthropic Messages natively, outside the gateway) a translation to it.
//!
//! Only the top level of the body is parsed on the OpenAI-compatible path:
//! every value (messages, tools, …) stays as raw JSON text, copied untouched.

use crate::errors::ErrorReply;
use crate::providers::{anthropic, ChatTarget, Provider};
use crate::translate::anthropic_openai::request::chat_request_to_messages;
use crate::translate::bedrock_openai::request::chat_fields_to_converse;
use crate::translate::raw::{as_bool, parse_object, Fields, ObjectBuf, Request};
use crate::translate::ResponseMapping;
use crate::upstream::chat::{
    self, dropped_header, keep_all, keep_for_translation, rewrite_top, Target,
};
use crate::upstream::{Forward, Inbound};

fn bad(message: impl Into<String>, code: &'static str) -> ErrorReply {
    ErrorReply::bad_request(message, code)
}

/// Turns a chat request into the provider's upstream request.
///
/// With a gateway that supports the provider, the request goes to the
/// gateway's OpenAI-compatible endpoint with model `{provider}/{model}` and the
/// provider key as a Bearer token.
pub fn plan(req: &Inbound, body: &[u8]) -> Result<Forward, ErrorReply> {
    plan_keeping(req, body, keep_all)
}

/// [`plan`], with the client headers that may pass filtered by `keep` (a
/// chat body translated from another dialect keeps fewer).
pub fn plan_keeping(
    req: &Inbound,
    body: &[u8],
    keep: fn(&str) -> bool,
) -> Result<Forward, ErrorReply> {
    let top: Fields = parse_object(body).map_err(chat::body_error)?;
    let model = chat::last_model(&top)?;
    let (provider_name, upstream_model) = chat::split_model(&model, req.src, None)?;
    let label = format!("{provider_name}/{upstream_model}");
    let mut fwd = plan_model(req, top, keep, model, provider_name, upstream_model)?;
    fwd.model = Some(label);
    Ok(fwd)
}

fn plan_model(
    req: &Inbound,
    top: Fields,
    keep: fn(&str) -> bool,
    model: String,
    provider_name: String,
    upstream_model: String,
) -> Result<Forward, ErrorReply> {
    let (src, gateway) = (req.src, req.gateway);
    let provider = chat::resolve(&provider_name, &model, src)?;
    if let Some(gw) = chat::compat(&provider, gateway) {
        // The gateway's OpenAI-compatible endpoint, model `{provider}/{model}`.
        if provider.chat_path.is_none() {
            return Err(unsupported(&provider));
        }
        let upstream_model = format!("{}/{upstream_model}", provider.name);
        let (body, dropped) = rewrite(&top, &provider, &upstream_model, None);
        let target = Target::Compat(gw, "/chat/completions");
        let mut fwd = chat::post_json(req, &provider, target, body, keep)?;
        fwd.response_headers.extend(dropped_header(&dropped));
        return Ok(fwd);
    }
    // The provider's own URL, through the gateway when it supports the provider.
    let gateway = gateway.filter(|_| provider.spec.is_some_and(|s| s.gateway));
    let stream = top.get("stream").is_some_and(|v| v.get() == "true");
    let target = provider
        .chat_target(&upstream_model, stream, gateway.is_some())
        .ok_or_else(|| unsupported(&provider))?;
    match target {
        ChatTarget::OpenAi {
            path,
            model: upstream,
        } => {
            let options = stream.then(|| ask_usage(&top, &provider)).flatten();
            let strip = options.is_some();
            let (body, dropped) = rewrite(&top, &provider, &upstream, options);
            let target = Target::Provider { path, gateway };
            let mut fwd = chat::post_json(req, &provider, target, body, keep)?;
            fwd.response_headers.extend(dropped_header(&dropped));
            if strip {
                fwd.response = ResponseMapping::StripUsage;
            }
            Ok(fwd)
        }
        ChatTarget::Messages {
            path,
            model: upstream,
            anthropic_version,
        } => {
            let translated = chat_request_to_messages(&Request { fields: top })
                .map_err(|m| bad(m, "invalid_request"))?;
            let mut out = translated.body;
            if let Some(m) = upstream {
                out.insert("model", &m);
            }
            if let Some(v) = anthropic_version {
                out.insert("anthropic_version", &v);
            }
            let target = Target::Provider { path, gateway };
            let mapping = ResponseMapping::MessagesToChat {
                model,
                include_usage: translated.include_usage,
            };
            Ok(post_translated(req, &provider, target, out)?
                .translated(mapping, &translated.dropped))
        }
        ChatTarget::Converse { path } => {
            let translated =
                chat_fields_to_converse(&top).map_err(|m| bad(m, "invalid_request"))?;
            drop(top);
            let target = Target::Provider { path, gateway };
            let mapping = ResponseMapping::ConverseToChat {
                model,
                include_usage: translated.include_usage,
            };
            Ok(post_translated(req, &provider, target, translated.body)?
                .translated(mapping, &translated.dropped))
        }
    }
}

/// The `stream_options` that ask a streamed answer for its usage
/// (`include_usage`), where the provider takes the option and the client
/// did not ask: `Some` when it did not, and the usage-only chunk must leave
/// the client's stream again.
fn ask_usage(top: &Fields, provider: &Provider) -> Option<Vec<u8>> {
    if !chat::accepts(provider, "stream_options") {
        return None;
    }
    let given = match top.get("stream_options") {
        None => Fields::default(),
        // Not an object: the provider says what it thinks of it.
        Some(raw) => Fields::of(raw)?,
    };
    if given.get("include_usage").and_then(as_bool) == Some(true) {
        return None;
    }
    let mut options = ObjectBuf::new();
    for (name, value) in given.unique() {
        options.insert_raw(name, value.get().as_bytes().to_vec());
    }
    options.insert_raw("include_usage", b"true".to_vec());
    Some(options.into_vec())
}

fn unsupported(provider: &Provider) -> ErrorReply {
    let message = match provider.no_chat_reason() {
        Some(why) => format!("provider '{}': {why}", provider.name),
        None => format!(
            "provider '{}' has no OpenAI-compatible chat endpoint; use /{}/... pass-through",
            provider.name, provider.name
        ),
    };
    bad(message, "unsupported_provider")
}

/// A body translated into the provider's dialect.
fn post_translated(
    req: &Inbound,
    provider: &Provider,
    target: Target,
    body: ObjectBuf,
) -> Result<Forward, ErrorReply> {
    chat::post_json(req, provider, target, body.into_vec(), keep_for_translation)
}

/// The client's body with the upstream model set, what the provider does
/// not accept dropped (and named), quirks applied, `stream_options` set
/// when given.
fn rewrite(
    top: &Fields,
    provider: &Provider,
    model: &str,
    stream_options: Option<Vec<u8>>,
) -> (Vec<u8>, Vec<String>) {
    let accepts = |name: &str| chat::accepts(provider, name);
    let mut extra = Vec::new();
    if provider.spec.is_some_and(|s| s.route == "anthropic")
        && !["max_tokens", "max_completion_tokens"]
            .iter()
            .any(|n| accepts(n) && top.get(n).is_some())
    {
        extra.push((
            "max_tokens",
            anthropic::DEFAULT_MAX_TOKENS.to_string().into_bytes(),
        ));
    }
    if let Some(options) = stream_options {
        extra.push(("stream_options", options));
    }
    rewrite_top(top, model, accepts, &extra)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::RequestHead;
    use crate::settings;
    use crate::upstream::UpstreamRequest;
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
            &Inbound::new(
                &head(),
                &src(extra),
                &crate::host::Fixed {
                    random: 0,
                    now_ms: 0,
                },
            ),
            body.as_bytes(),
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
        // A stream asks for its usage (the proxy counts it).
        assert_eq!(
            keys,
            vec![
                "messages",
                "model",
                "stream",
                "stream_options",
                "temperature"
            ]
        );
        assert_eq!(v["stream_options"]["include_usage"], true);
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
    fn anthropic_is_reached_natively_with_the_messages_api() {
        let (up, v) = run(
            r#"{"model":"anthropic/claude-3-5-haiku","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],"stop":"END","frequency_penalty":1}"#,
            &[],
        )
        .unwrap();
        assert_eq!(up.url(), "https://api.anthropic.com/v1/messages");
        assert_eq!(up.header("x-api-key"), Some("sk-a"));
        assert_eq!(up.header("anthropic-version"), Some("2023-06-01"));
        assert_eq!(v["model"], "claude-3-5-haiku");
        assert_eq!(v["max_tokens"], anthropic::DEFAULT_MAX_TOKENS);
        assert_eq!(v["system"], "be brief");
        assert_eq!(v["stop_sequences"], serde_json::json!(["END"]));
        assert_eq!(
            v["messages"],
            serde_json::json!([{"role": "user", "content": [{"type": "text", "text": "hi"}]}])
        );
        let fwd = plan(
            &Inbound::new(
                &head(),
                &src(&[]),
                &crate::host::Fixed {
                    random: 0,
                    now_ms: 0,
                },
            ),
            br#"{"model":"anthropic/c","messages":[],"max_tokens":7,"frequency_penalty":1}"#,
        )
        .unwrap();
        assert_eq!(
            fwd.response,
            ResponseMapping::MessagesToChat {
                model: "anthropic/c".into(),
                include_usage: false
            }
        );
        assert_eq!(
            fwd.response_headers,
            vec![(
                "x-llm-proxy-dropped".to_string(),
                "frequency_penalty".to_string()
            )]
        );
        let body: serde_json::Value =
            serde_json::from_slice(fwd.attempts[0].body.as_ref().unwrap()).unwrap();
        assert_eq!(body["max_tokens"], 7);
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
        assert_eq!(
            settings::max_body_bytes(&src(&[])),
            settings::DEFAULT_MAX_BODY_BYTES
        );
        assert_eq!(
            settings::max_body_bytes(&src(&[("MAX_BODY_BYTES", "100")])),
            100
        );
    }
}

#[cfg(test)]
mod gateway_tests {
    use super::*;
    use crate::gateway;
    use crate::request::RequestHead;
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
                &Inbound {
                    head: &head,
                    src: &s,
                    host: &crate::host::Fixed {
                        random: 0,
                        now_ms: 0,
                    },
                    selection: None,
                    gateway: Some(&gw),
                },
                body,
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

/// The plan as it was before it read bodies borrowed (a map of the top
/// level, copied; Converse from a `serde_json::Value`). Kept for the tests
/// only, as the oracle the borrowed plan is held to.
#[cfg(test)]
mod reference {
    use super::*;
    use crate::translate::anthropic_openai::request::chat_to_messages;
    use crate::translate::bedrock_openai::request::chat_to_converse;
    use crate::translate::Translated;
    use crate::upstream::chat::{parse_top_level, TopLevel};
    use serde_json::Value;

    pub fn plan(req: &Inbound, body: &[u8]) -> Result<Forward, ErrorReply> {
        plan_keeping(req, body, keep_all)
    }

    /// [`plan`], with the client headers that may pass filtered by `keep` (a
    /// chat body translated from another dialect keeps fewer).
    pub fn plan_keeping(
        req: &Inbound,
        body: &[u8],
        keep: fn(&str) -> bool,
    ) -> Result<Forward, ErrorReply> {
        let mut top = parse_top_level(body)?;
        let model = chat::model_of(&top)?;
        let (provider_name, upstream_model) = chat::split_model(&model, req.src, None)?;
        let label = format!("{provider_name}/{upstream_model}");
        let mut fwd = plan_model(
            req,
            body,
            keep,
            &mut top,
            model,
            provider_name,
            upstream_model,
        )?;
        fwd.model = Some(label);
        Ok(fwd)
    }

    fn plan_model(
        req: &Inbound,
        body: &[u8],
        keep: fn(&str) -> bool,
        top: &mut TopLevel,
        model: String,
        provider_name: String,
        upstream_model: String,
    ) -> Result<Forward, ErrorReply> {
        let (src, gateway) = (req.src, req.gateway);
        let provider = chat::resolve(&provider_name, &model, src)?;
        if let Some(gw) = chat::compat(&provider, gateway) {
            // The gateway's OpenAI-compatible endpoint, model `{provider}/{model}`.
            if provider.chat_path.is_none() {
                return Err(unsupported(&provider));
            }
            let upstream_model = format!("{}/{upstream_model}", provider.name);
            let dropped = rewrite(top, &provider, &upstream_model);
            let target = Target::Compat(gw, "/chat/completions");
            let mut fwd = post(req, &provider, target, top, keep)?;
            fwd.response_headers.extend(dropped_header(&dropped));
            return Ok(fwd);
        }
        // The provider's own URL, through the gateway when it supports the provider.
        let gateway = gateway.filter(|_| provider.spec.is_some_and(|s| s.gateway));
        let stream = top.get("stream").is_some_and(|v| v.get() == "true");
        let target = provider
            .chat_target(&upstream_model, stream, gateway.is_some())
            .ok_or_else(|| unsupported(&provider))?;
        match target {
            ChatTarget::OpenAi {
                path,
                model: upstream,
            } => {
                let dropped = rewrite(top, &provider, &upstream);
                let strip = stream && ask_usage(top, &provider);
                let target = Target::Provider { path, gateway };
                let mut fwd = post(req, &provider, target, top, keep)?;
                fwd.response_headers.extend(dropped_header(&dropped));
                if strip {
                    fwd.response = ResponseMapping::StripUsage;
                }
                Ok(fwd)
            }
            ChatTarget::Messages {
                path,
                model: upstream,
                anthropic_version,
            } => {
                let translated = chat_to_messages(body).map_err(|m| bad(m, "invalid_request"))?;
                let mut out = translated.body;
                if let Some(m) = upstream {
                    out.insert("model", &m);
                }
                if let Some(v) = anthropic_version {
                    out.insert("anthropic_version", &v);
                }
                let target = Target::Provider { path, gateway };
                let mapping = ResponseMapping::MessagesToChat {
                    model,
                    include_usage: translated.include_usage,
                };
                Ok(post_translated(req, &provider, target, &out)?
                    .translated(mapping, &translated.dropped))
            }
            ChatTarget::Converse { path } => {
                let translated = translate(body, chat_to_converse)?;
                let target = Target::Provider { path, gateway };
                let mapping = ResponseMapping::ConverseToChat {
                    model,
                    include_usage: translated.include_usage,
                };
                let body = &translated.body;
                Ok(post_translated(req, &provider, target, body)?
                    .translated(mapping, &translated.dropped))
            }
        }
    }

    /// Asks a streamed answer for its usage (`stream_options.include_usage`)
    /// where the provider takes the option and the client did not ask: `true`
    /// when it did, and the usage-only chunk must leave the client's stream again.
    fn ask_usage(top: &mut TopLevel, provider: &Provider) -> bool {
        if !chat::accepts(provider, "stream_options") {
            return false;
        }
        let mut options: serde_json::Map<String, Value> = match top.get("stream_options") {
            None => serde_json::Map::new(),
            Some(raw) => match serde_json::from_str(raw.get()) {
                Ok(Value::Object(o)) => o,
                // Not an object: the provider says what it thinks of it.
                _ => return false,
            },
        };
        if options.get("include_usage").and_then(Value::as_bool) == Some(true) {
            return false;
        }
        options.insert("include_usage".into(), Value::Bool(true));
        chat::set_raw(top, "stream_options", &Value::Object(options));
        true
    }

    fn unsupported(provider: &Provider) -> ErrorReply {
        let message = match provider.no_chat_reason() {
            Some(why) => format!("provider '{}': {why}", provider.name),
            None => format!(
                "provider '{}' has no OpenAI-compatible chat endpoint; use /{}/... pass-through",
                provider.name, provider.name
            ),
        };
        bad(message, "unsupported_provider")
    }

    /// Parses the whole body and translates it with `mapper`.
    fn translate(
        body: &[u8],
        mapper: fn(&Value) -> Result<Translated, String>,
    ) -> Result<Translated, ErrorReply> {
        let value: Value = serde_json::from_slice(body)
            .map_err(|e| bad(format!("invalid JSON body: {e}"), "invalid_json"))?;
        mapper(&value).map_err(|m| bad(m, "invalid_request"))
    }

    fn encode(body: &impl serde::Serialize) -> Result<Vec<u8>, ErrorReply> {
        serde_json::to_vec(body)
            .map_err(|_| bad("could not encode the request body", "invalid_body"))
    }

    /// The client's body, rewritten, in its own dialect.
    fn post(
        req: &Inbound,
        provider: &Provider,
        target: Target,
        top: &TopLevel,
        keep: fn(&str) -> bool,
    ) -> Result<Forward, ErrorReply> {
        let body = encode(top)?;
        chat::post_json(req, provider, target, body, keep)
    }

    /// A body translated into the provider's dialect.
    fn post_translated(
        req: &Inbound,
        provider: &Provider,
        target: Target,
        body: &ObjectBuf,
    ) -> Result<Forward, ErrorReply> {
        chat::post_json(req, provider, target, body.to_vec(), keep_for_translation)
    }

    /// Sets the upstream model, drops what the provider does not accept (and
    /// returns those names), applies quirks.
    fn rewrite(top: &mut TopLevel, provider: &Provider, model: &str) -> Vec<String> {
        chat::set_model(top, model);
        let dropped: Vec<String> = top
            .keys()
            .filter(|k| !chat::accepts(provider, k))
            .cloned()
            .collect();
        top.retain(|k, _| chat::accepts(provider, k));
        if provider.spec.is_some_and(|s| s.route == "anthropic") {
            anthropic::default_max_tokens(top);
        }
        dropped
    }

    #[test]
    fn the_borrowed_plan_agrees_with_the_value_one() {
        use crate::translate::variants::{fixtures, shrink, variants};
        let s = crate::settings::from_pairs(&[
            ("OPENAI_API_KEY", "sk-o"),
            ("ANTHROPIC_API_KEY", "sk-a"),
            ("GEMINI_API_KEY", "g"),
            ("COHERE_API_KEY", "c"),
            ("CEREBRAS_API_KEY", "cb"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_REGION", "us-east-1"),
            ("CLOUDFLARE_ACCOUNT_ID", "acc"),
        ]);
        let gw = crate::gateway::explicit("gw", &s).unwrap();
        let head = crate::request::RequestHead::new("POST", "/v1/chat/completions", vec![]);
        let host = crate::host::Fixed {
            random: 0,
            now_ms: 0,
        };
        let mut bodies = fixtures(&["aider-chat", "opencode-chat"]);
        bodies.push(serde_json::json!({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}],
            "stream": true, "stream_options": {"x": 1, "include_usage": false}, "max_tokens": 3,
            "frequency_penalty": 1, "logit_bias": {}, "seed": 2, "n": 2, "tool_choice": "auto", "user": "u"}));
        for mut body in bodies {
            shrink(&mut body);
            for model in [
                "openai/gpt-4o",
                "google-ai-studio/gemini-2.0-flash",
                "cohere/command-r",
                "cerebras/llama",
                "anthropic/claude-3-5-haiku",
                "aws-bedrock/anthropic.claude-3-haiku-20240307-v1:0",
            ] {
                body["model"] = model.into();
                for gateway in [None, Some(&gw)] {
                    let req = Inbound {
                        head: &head,
                        src: &s,
                        host: &host,
                        selection: None,
                        gateway,
                    };
                    for v in variants(&body, 150) {
                        let what = String::from_utf8_lossy(&v);
                        match (super::plan(&req, &v), plan(&req, &v)) {
                            (Ok(new), Ok(old)) => {
                                let sent = |f: &Forward| -> Vec<(String, Value)> {
                                    f.attempts
                                        .iter()
                                        .map(|a| {
                                            let body = a
                                                .body
                                                .as_deref()
                                                .map(|b| &b[..])
                                                .unwrap_or_default();
                                            (a.url(), serde_json::from_slice(body).unwrap())
                                        })
                                        .collect()
                                };
                                assert_eq!(sent(&new), sent(&old), "{what}");
                                assert_eq!(new.response, old.response, "{what}");
                                assert_eq!(new.response_headers, old.response_headers, "{what}");
                                assert_eq!(new.model, old.model, "{what}");
                            }
                            (Err(new), Err(old)) => assert_eq!(
                                (new.status, new.code, new.message),
                                (old.status, old.code, old.message),
                                "{what}"
                            ),
                            (new, old) => panic!(
                                "{what}: {:?} vs {:?}",
                                new.map(|_| ()).map_err(|e| e.message),
                                old.map(|_| ()).map_err(|e| e.message)
                            ),
                        }
                    }
                }
            }
        }
    }
}
