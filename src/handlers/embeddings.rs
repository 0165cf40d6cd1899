//! `POST /v1/embeddings` (and `/embeddings`): OpenAI's embeddings shape
//! (`model`, `input`, `dimensions`, `encoding_format`, `user`) for every
//! provider that has embeddings. `model` names the provider as in chat
//! completions; the body goes to the provider's OpenAI-compatible embeddings
//! endpoint with only `model` rewritten (its top level parsed, every value
//! copied as raw text, so what the provider accepts beyond OpenAI's fields —
//! other input shapes, encodings — reaches it), or — for Bedrock — is
//! translated to `InvokeModel` and the answer translated back
//! ([`crate::translate::bedrock_embeddings`]), the one place the proxy
//! checks `input` and `encoding_format` itself.
//!
//! The AI Gateway documents its OpenAI-compatible `/compat` endpoint for chat
//! completions only, so through a gateway an embeddings request takes the
//! provider's own URL shape there (`{gateway}/{provider}/…`).

use crate::errors::ErrorReply;
use crate::providers::{EmbeddingsTarget, Provider, ProviderKind};
use crate::translate::raw::{as_str, parse_object, Fields};
use crate::translate::{bedrock_embeddings, ResponseMapping};
use crate::upstream::chat::{self, keep_all, keep_for_translation, rewrite_top, Target};
use crate::upstream::{Forward, Inbound};
#[cfg(test)]
use serde_json::Value;

fn bad(message: impl Into<String>, code: &'static str) -> ErrorReply {
    ErrorReply::bad_request(message, code)
}

/// Turns an embeddings request into the provider's upstream request, one
/// attempt per key.
pub fn plan(req: &Inbound, body: &[u8]) -> Result<Forward, ErrorReply> {
    plan_keeping(req, body, keep_all)
}

/// [`plan`], with the client headers that may pass filtered by `keep` (an
/// embeddings body translated from another dialect keeps fewer).
pub fn plan_keeping(
    req: &Inbound,
    body: &[u8],
    keep: fn(&str) -> bool,
) -> Result<Forward, ErrorReply> {
    let mut model = None;
    let mut fwd = plan_model(req, body, keep, &mut model)?;
    fwd.model = model;
    Ok(fwd)
}

fn plan_model(
    req: &Inbound,
    body: &[u8],
    keep: fn(&str) -> bool,
    label: &mut Option<String>,
) -> Result<Forward, ErrorReply> {
    let src = req.src;
    let top: Fields = parse_object(body).map_err(chat::body_error)?;
    let model = chat::last_model(&top)?;
    if top.get("input").is_none_or(|raw| raw.get() == "null") {
        return Err(bad("missing required parameter: 'input'", "missing_input"));
    }
    let (provider_name, upstream_model) = chat::split_model(&model, src, None)?;
    *label = Some(format!("{provider_name}/{upstream_model}"));
    let provider = chat::resolve(&provider_name, &model, src)?;
    let gateway = req
        .gateway
        .filter(|_| provider.spec.is_some_and(|s| s.gateway));
    let target = provider
        .embeddings_target(&upstream_model, gateway.is_some())
        .ok_or_else(|| no_embeddings(&provider))?;
    match target {
        EmbeddingsTarget::OpenAi {
            path,
            model: upstream,
        } => {
            let (body, _) = rewrite_top(&top, &upstream, |_| true, &[]);
            let target = Target::Provider { path, gateway };
            chat::post_json(req, &provider, target, body, keep)
        }
        EmbeddingsTarget::Bedrock { path, model: id } => {
            let family = bedrock_embeddings::family(&id).ok_or_else(|| {
                bad(
                    format!(
                        "Bedrock embeddings take Amazon Titan Text Embeddings (amazon.titan-embed-text-v2:0) \
                         or Cohere Embed (cohere.embed-english-v3, cohere.embed-multilingual-v3) models; \
                         '{}' is neither",
                        chat::printable(&id)
                    ),
                    "unsupported_model",
                )
            })?;
            // The proxy writes this answer itself: in OpenAI's two formats.
            let format = top.get("encoding_format");
            let base64 = match format.map(|f| (f.get(), as_str(f))) {
                None | Some(("null", _)) => false,
                Some((_, Some(f))) if f == "float" => false,
                Some((_, Some(f))) if f == "base64" => true,
                Some(_) => {
                    return Err(bad(
                        "'encoding_format' must be \"float\" or \"base64\"",
                        "invalid_encoding_format",
                    ))
                }
            };
            let (out, dropped) = bedrock_embeddings::request_fields(family, &top)
                .map_err(|m| bad(m, "invalid_request"))?;
            let target = Target::Provider { path, gateway };
            let mapping = ResponseMapping::BedrockEmbeddings { model, base64 };
            Ok(
                chat::post_json(req, &provider, target, out, keep_for_translation)?
                    .translated(mapping, &dropped),
            )
        }
    }
}

/// The 400 for a provider without embeddings.
fn no_embeddings(provider: &Provider) -> ErrorReply {
    let mut message = format!("provider '{}' has no embeddings endpoint", provider.name);
    if provider.spec.map(|s| s.kind) == Some(ProviderKind::GoogleVertexAi) {
        message = format!(
            "{message} in this set-up: {}",
            provider.no_chat_reason().unwrap_or_default()
        );
    }
    bad(message, "unsupported_provider")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud_auth::CloudAuth;
    use crate::gateway;
    use crate::gateway::GatewayTarget;
    use crate::request::RequestHead;
    use crate::upstream::UpstreamRequest;
    use serde_json::json;
    use std::collections::HashMap;

    const KEY_FILE: &str = include_str!("../../tests/fixtures/test-service-account.json");

    fn src(extra: &[(&str, &str)]) -> HashMap<String, String> {
        let mut m = crate::settings::from_pairs(&[
            ("OPENAI_API_KEY", "sk-o"),
            ("GEMINI_API_KEY", "g"),
            ("MISTRAL_API_KEY", "mi"),
            ("COHERE_API_KEY", "co"),
            ("OPENROUTER_API_KEY", "or"),
            ("GROK_API_KEY", "xa"),
            ("OLLAMA_API_KEY", "ol"),
            ("CLOUDFLARE_API_KEY", "cf"),
            ("CLOUDFLARE_ACCOUNT_ID", "acc"),
            ("ANTHROPIC_API_KEY", "sk-a"),
            ("GROQ_API_KEY", "gq"),
            ("DEEPSEEK_API_KEY", "ds"),
            ("PERPLEXITY_API_KEY", "px"),
            ("CEREBRAS_API_KEY", "cb"),
            ("HUGGINGFACE_API_KEY", "hf"),
            ("REPLICATE_API_KEY", "r8"),
        ]);
        m.extend(crate::settings::from_pairs(extra));
        m
    }

    fn head() -> RequestHead {
        RequestHead::new(
            "POST",
            "/v1/embeddings",
            vec![
                ("authorization".into(), b"Bearer proxy".to_vec()),
                ("x-stainless-lang".into(), b"python".to_vec()),
                ("content-length".into(), b"99".to_vec()),
            ],
        )
    }

    fn host() -> crate::host::Fixed {
        crate::host::Fixed {
            random: 0,
            now_ms: 0,
        }
    }

    fn forward(
        body: Value,
        s: &HashMap<String, String>,
        gw: Option<&GatewayTarget>,
    ) -> Result<Forward, ErrorReply> {
        plan(
            &Inbound {
                head: &head(),
                src: s,
                host: &host(),
                selection: None,
                gateway: gw,
            },
            body.to_string().as_bytes(),
        )
    }

    fn run(body: Value, extra: &[(&str, &str)]) -> Result<(UpstreamRequest, Value), ErrorReply> {
        let up = forward(body, &src(extra), None)?.attempts.remove(0);
        let v = serde_json::from_slice(up.body.as_ref().unwrap()).unwrap();
        Ok((up, v))
    }

    #[test]
    fn openai_compatible_providers_get_their_path_auth_and_model() {
        for (route, url, auth) in [
            (
                "openai",
                "https://api.openai.com/v1/embeddings",
                ("authorization", "Bearer sk-o"),
            ),
            (
                "google-ai-studio",
                "https://generativelanguage.googleapis.com/v1beta/openai/embeddings",
                ("authorization", "Bearer g"),
            ),
            (
                "mistral",
                "https://api.mistral.ai/v1/embeddings",
                ("authorization", "Bearer mi"),
            ),
            (
                "cohere",
                "https://api.cohere.com/compatibility/v1/embeddings",
                ("authorization", "Bearer co"),
            ),
            (
                "openrouter",
                "https://openrouter.ai/api/v1/embeddings",
                ("authorization", "Bearer or"),
            ),
            (
                "grok",
                "https://api.x.ai/v1/embeddings",
                ("authorization", "Bearer xa"),
            ),
            (
                "ollama",
                "https://ollama.com/v1/embeddings",
                ("authorization", "Bearer ol"),
            ),
            (
                "workers-ai",
                "https://api.cloudflare.com/client/v4/accounts/acc/ai/v1/embeddings",
                ("authorization", "Bearer cf"),
            ),
        ] {
            let body = json!({"model": format!("{route}/emb/v1"), "input": ["a", "b"], "dimensions": 64,
                              "encoding_format": "base64", "user": "u"});
            let (up, v) = run(body, &[]).unwrap();
            assert_eq!(up.url(), url, "{route}");
            assert_eq!(up.method, "POST");
            assert_eq!(up.header(auth.0), Some(auth.1), "{route}");
            assert_eq!(up.header("x-stainless-lang"), Some("python"), "{route}");
            assert_eq!(
                up.header("content-length").unwrap(),
                up.body.as_ref().unwrap().len().to_string()
            );
            // Only the model changes; the rest reaches the provider as sent.
            assert_eq!(
                v,
                json!({"model": "emb/v1", "input": ["a", "b"], "dimensions": 64,
                       "encoding_format": "base64", "user": "u"}),
                "{route}"
            );
        }
    }

    #[test]
    fn default_model_and_custom_endpoints() {
        let (up, v) = run(
            json!({"model": "default", "input": "x"}),
            &[("DEFAULT_MODEL", "openai/text-embedding-3-small")],
        )
        .unwrap();
        assert_eq!(up.provider, "openai");
        assert_eq!(v["model"], "text-embedding-3-small");
        let custom = r#"[{"name":"local","baseUrl":"http://127.0.0.1:8000/v1","apiKeys":["lk"]},
                         {"name":"tei","baseUrl":"http://127.0.0.1:9000","embeddingsPath":"/embed/v1"}]"#;
        let (up, v) = run(
            json!({"model": "local/nomic", "input": [[1, 2], [3]]}),
            &[("CUSTOM_OPENAI_ENDPOINTS", custom)],
        )
        .unwrap();
        assert_eq!(up.url(), "http://127.0.0.1:8000/v1/embeddings");
        assert_eq!(up.header("authorization"), Some("Bearer lk"));
        assert_eq!(v["input"], json!([[1, 2], [3]]));
        let (up, _) = run(
            json!({"model": "tei/bge", "input": "x"}),
            &[("CUSTOM_OPENAI_ENDPOINTS", custom)],
        )
        .unwrap();
        assert_eq!(up.url(), "http://127.0.0.1:9000/embed/v1");
        assert_eq!(up.header("authorization"), None);
    }

    #[test]
    fn every_key_is_an_attempt() {
        let s = src(&[("OPENAI_API_KEY", "k1,k2,k3"), ("RETRY", "2")]);
        let fwd = forward(json!({"model": "openai/e", "input": "x"}), &s, None).unwrap();
        assert_eq!(fwd.attempts.len(), 3);
        assert_eq!(fwd.key_count, 3);
        let mut keys: Vec<_> = fwd
            .attempts
            .iter()
            .map(|a| a.header("authorization").unwrap().to_string())
            .collect();
        keys.sort();
        assert_eq!(keys, ["Bearer k1", "Bearer k2", "Bearer k3"]);
        assert_eq!(fwd.response, ResponseMapping::Relay);
    }

    #[test]
    fn azure_takes_the_v1_api_direct_and_the_deployments_api_through_the_gateway() {
        let extra = [
            ("AZURE_OPENAI_API_KEY", "az"),
            ("AZURE_OPENAI_RESOURCE", "res"),
        ];
        let (up, v) = run(
            json!({"model": "azure-openai/my-emb", "input": "x"}),
            &extra,
        )
        .unwrap();
        assert_eq!(
            up.url(),
            "https://res.openai.azure.com/openai/v1/embeddings"
        );
        assert_eq!(up.header("api-key"), Some("az"));
        assert_eq!(v["model"], "my-emb");
        let s = src(&extra);
        let gw = gateway::explicit("gw", &s).unwrap();
        let up = forward(
            json!({"model": "azure-openai/my emb", "input": "x"}),
            &s,
            Some(&gw),
        )
        .unwrap()
        .attempts
        .remove(0);
        assert_eq!(
            up.url(),
            "https://gateway.ai.cloudflare.com/v1/acc/gw/azure-openai/res/my%20emb/embeddings?api-version=2024-10-21"
        );
    }

    #[test]
    fn the_gateway_stands_in_for_the_providers_own_url() {
        let s = src(&[("CF_AIG_TOKEN", "cft")]);
        let gw = gateway::explicit("gw", &s).unwrap();
        let up = forward(
            json!({"model": "openai/text-embedding-3-small", "input": "x"}),
            &s,
            Some(&gw),
        )
        .unwrap()
        .attempts
        .remove(0);
        assert_eq!(
            up.url(),
            "https://gateway.ai.cloudflare.com/v1/acc/gw/openai/embeddings"
        );
        assert_eq!(up.header("authorization"), Some("Bearer sk-o"));
        assert_eq!(up.header("cf-aig-authorization"), Some("Bearer cft"));
        // Ollama is not behind the gateway: direct.
        let up = forward(json!({"model": "ollama/e", "input": "x"}), &s, Some(&gw))
            .unwrap()
            .attempts
            .remove(0);
        assert_eq!(up.url(), "https://ollama.com/v1/embeddings");
        assert_eq!(up.header("cf-aig-authorization"), None);
    }

    #[test]
    fn vertex_takes_its_openai_compatible_endpoint() {
        let (up, v) = run(
            json!({"model": "google-vertex-ai/text-embedding-005", "input": "x"}),
            &[("VERTEX_SERVICE_ACCOUNT_JSON", KEY_FILE)],
        )
        .unwrap();
        let project = serde_json::from_str::<Value>(KEY_FILE).unwrap()["project_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            up.url(),
            format!("https://us-central1-aiplatform.googleapis.com/v1/projects/{project}/locations/us-central1/endpoints/openapi/embeddings")
        );
        assert_eq!(v["model"], "google/text-embedding-005");
        assert!(matches!(up.cloud_auth, Some(CloudAuth::Google { .. })));
        // Express mode has no OpenAI-compatible endpoint.
        let e = run(
            json!({"model": "google-vertex-ai/e", "input": "x"}),
            &[("VERTEX_API_KEY", "vk")],
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("provider 'google-vertex-ai' has no embeddings endpoint")
                && e.message.contains("express"),
            "{}",
            e.message
        );
    }

    fn bedrock() -> HashMap<String, String> {
        src(&[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_REGION", "eu-west-1"),
        ])
    }

    #[test]
    fn bedrock_titan_is_invoked_signed_and_translated_back() {
        let fwd = forward(
            json!({"model": "aws-bedrock/amazon.titan-embed-text-v2:0", "input": "hi",
                   "dimensions": 256, "user": "u", "encoding_format": "base64"}),
            &bedrock(),
            None,
        )
        .unwrap();
        let up = &fwd.attempts[0];
        assert_eq!(
            up.url(),
            "https://bedrock-runtime.eu-west-1.amazonaws.com/model/amazon.titan-embed-text-v2%3A0/invoke"
        );
        assert!(matches!(
            &up.cloud_auth,
            Some(CloudAuth::SigV4 { region, service, .. }) if region == "eu-west-1" && service == "bedrock"
        ));
        assert_eq!(up.header("authorization"), None);
        assert_eq!(up.header("x-stainless-lang"), None);
        let sent: Value = serde_json::from_slice(up.body.as_ref().unwrap()).unwrap();
        assert_eq!(
            sent,
            json!({"inputText": "hi", "dimensions": 256, "normalize": true})
        );
        assert_eq!(
            fwd.response,
            ResponseMapping::BedrockEmbeddings {
                model: "aws-bedrock/amazon.titan-embed-text-v2:0".into(),
                base64: true
            }
        );
        assert_eq!(
            fwd.response_headers,
            vec![("x-llm-proxy-dropped".to_string(), "user".to_string())]
        );
        // Several texts: Titan takes one per request.
        let e = forward(
            json!({"model": "aws-bedrock/amazon.titan-embed-text-v2:0", "input": ["a", "b"]}),
            &bedrock(),
            None,
        )
        .unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains("one text per request"), "{}", e.message);
    }

    #[test]
    fn bedrock_cohere_takes_the_texts_and_the_answer_honours_float() {
        let fwd = forward(
            json!({"model": "aws-bedrock/cohere.embed-multilingual-v3", "input": ["a", "b"]}),
            &bedrock(),
            None,
        )
        .unwrap();
        let up = &fwd.attempts[0];
        assert_eq!(
            up.path_with_query,
            "/model/cohere.embed-multilingual-v3/invoke"
        );
        let sent: Value = serde_json::from_slice(up.body.as_ref().unwrap()).unwrap();
        assert_eq!(
            sent,
            json!({"texts": ["a", "b"], "input_type": "search_document"})
        );
        assert!(matches!(
            fwd.response,
            ResponseMapping::BedrockEmbeddings { base64: false, .. }
        ));
        // A Bedrock API key is a Bearer token.
        let s = src(&[("AWS_BEARER_TOKEN_BEDROCK", "abk")]);
        let up = forward(
            json!({"model": "aws-bedrock/cohere.embed-english-v3", "input": "a"}),
            &s,
            None,
        )
        .unwrap()
        .attempts
        .remove(0);
        assert_eq!(up.header("authorization"), Some("Bearer abk"));
        assert!(up.cloud_auth.is_none());
        // Through the gateway: its Bedrock URL shape, signed for the real host.
        let mut s = bedrock();
        s.extend(crate::settings::from_pairs(&[(
            "CLOUDFLARE_ACCOUNT_ID",
            "acc",
        )]));
        let gw = gateway::explicit("gw", &s).unwrap();
        let up = forward(
            json!({"model": "aws-bedrock/cohere.embed-english-v3", "input": "a"}),
            &s,
            Some(&gw),
        )
        .unwrap()
        .attempts
        .remove(0);
        assert_eq!(
            up.url(),
            "https://gateway.ai.cloudflare.com/v1/acc/gw/aws-bedrock/bedrock-runtime/eu-west-1/model/cohere.embed-english-v3/invoke"
        );
        assert!(matches!(
            &up.cloud_auth,
            Some(CloudAuth::SigV4 { signed_for: Some((host, path)), .. })
                if host == "bedrock-runtime.eu-west-1.amazonaws.com" && path == "/model/cohere.embed-english-v3/invoke"
        ));
    }

    #[test]
    fn bedrock_refuses_what_it_cannot_embed() {
        for (body, needle) in [
            (
                json!({"model": "aws-bedrock/anthropic.claude-3-haiku", "input": "a"}),
                "is neither",
            ),
            (
                json!({"model": "aws-bedrock/cohere.embed-english-v3", "input": [[1, 2]]}),
                "token arrays",
            ),
            (
                json!({"model": "aws-bedrock/cohere.embed-english-v3", "input": []}),
                "empty",
            ),
            (
                json!({"model": "aws-bedrock/cohere.embed-english-v3", "input": "a",
                       "encoding_format": "base64_int8"}),
                "'encoding_format'",
            ),
        ] {
            let e = forward(body.clone(), &bedrock(), None).unwrap_err();
            assert_eq!(e.status, 400, "{body}");
            assert!(e.message.contains(needle), "{body}: {}", e.message);
        }
    }

    #[test]
    fn providers_without_embeddings_are_named() {
        for route in [
            "anthropic",
            "groq",
            "deepseek",
            "perplexity-ai",
            "cerebras",
            "huggingface",
            "replicate",
        ] {
            let e = run(json!({"model": format!("{route}/m"), "input": "x"}), &[]).unwrap_err();
            assert_eq!(e.status, 400);
            assert_eq!(e.code, "unsupported_provider");
            assert_eq!(
                e.message,
                format!("provider '{route}' has no embeddings endpoint")
            );
        }
    }

    #[test]
    fn bad_input_names_the_problem() {
        for (body, code, needle) in [
            ("{", "invalid_json", "invalid JSON"),
            ("[1]", "invalid_body", "JSON object"),
            (r#"{"input":"x"}"#, "missing_model", "'model'"),
            (r#"{"model":3,"input":"x"}"#, "invalid_model", "string"),
            (r#"{"model":"openai/e"}"#, "missing_input", "'input'"),
            (
                r#"{"model":"openai/e","input":null}"#,
                "missing_input",
                "'input'",
            ),
            (
                r#"{"model":"text-embedding-3-small","input":"x"}"#,
                "invalid_model",
                "provider/model",
            ),
            (
                r#"{"model":"nope/e","input":"x"}"#,
                "unknown_provider",
                "'nope'",
            ),
        ] {
            let e = plan(&Inbound::new(&head(), &src(&[]), &host()), body.as_bytes()).unwrap_err();
            assert_eq!(e.status, 400, "{body}");
            assert_eq!(e.code, code, "{body}");
            assert!(e.message.contains(needle), "{body}: {}", e.message);
        }
    }
}
