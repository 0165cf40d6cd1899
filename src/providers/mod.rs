//! The route table: every built-in provider as one declarative row
//! ([`ProviderSpec`]), plus custom OpenAI-compatible endpoints from settings.
//! Quirks the table cannot express live in one small module per provider.

pub mod anthropic;
pub mod custom;
pub mod google_ai_studio;

use crate::errors::ErrorReply;
use crate::settings::{self, SettingError, SettingSource};
use crate::url::BaseUrl;

/// How a provider key is attached to an upstream request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStyle {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// `<header>: <key>` (e.g. Anthropic's `x-api-key`).
    Header(&'static str),
    /// Google AI Studio: `x-goog-api-key`, but Bearer on its OpenAI-compatible paths.
    GoogleAiStudio,
}

/// Which OpenAI chat parameters a provider accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamPolicy {
    /// OpenAI's full set.
    OpenAi,
    /// Only these.
    Only(&'static [&'static str]),
    /// OpenAI's set minus these.
    OpenAiExcept(&'static [&'static str]),
}

/// The native shape of a provider's model list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelsShape {
    OpenAi,
    Anthropic,
    Google,
    Cohere,
    WorkersAi,
}

/// One row of the route table.
#[derive(Debug, PartialEq, Eq)]
pub struct ProviderSpec {
    /// The path segment clients use: `/openai/...`.
    pub route: &'static str,
    /// Other accepted route names.
    pub aliases: &'static [&'static str],
    /// Default base URL (`{account}` is replaced by `CLOUDFLARE_ACCOUNT_ID`).
    pub base_url: &'static str,
    pub auth: AuthStyle,
    /// Headers set unless the client sent its own (e.g. `anthropic-version`).
    pub default_headers: &'static [(&'static str, &'static str)],
    /// OpenAI-compatible chat path relative to the base URL, if any.
    pub chat_path: Option<&'static str>,
    /// Anthropic Messages API path, for providers that speak it natively:
    /// `/v1/messages` is forwarded there untranslated, and chat completions
    /// are translated to it (outside the gateway's `/compat`).
    pub messages_path: Option<&'static str>,
    /// Models-list path relative to the base URL, if any.
    pub models_path: Option<&'static str>,
    /// Key settings; the first is canonical, the rest are accepted aliases.
    pub key_settings: &'static [&'static str],
    /// Cloudflare AI Gateway supports this provider.
    pub gateway: bool,
    /// The gateway's OpenAI-compatible `/compat` endpoint supports it.
    pub gateway_compat: bool,
    pub params: ParamPolicy,
    pub models_shape: ModelsShape,
}

const GOOGLE_PARAMS: &[&str] = &[
    "messages",
    "model",
    "max_tokens",
    "max_completion_tokens",
    "n",
    "response_format",
    "stop",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "tools",
    "tool_choice",
];
const COHERE_PARAMS: &[&str] = &[
    "messages",
    "model",
    "frequency_penalty",
    "max_tokens",
    "presence_penalty",
    "response_format",
    "seed",
    "stop",
    "stream",
    "temperature",
    "top_p",
    "tools",
];
const CEREBRAS_DROPPED: &[&str] = &[
    "frequency_penalty",
    "presence_penalty",
    "logit_bias",
    "logprobs",
    "service_tier",
    "parallel_tool_calls",
];

/// Shorthand for the common OpenAI-compatible, Bearer-auth row.
const fn openai_like(
    route: &'static str,
    base_url: &'static str,
    chat_path: &'static str,
    models_path: Option<&'static str>,
    key_setting: &'static [&'static str],
) -> ProviderSpec {
    ProviderSpec {
        route,
        aliases: &[],
        base_url,
        auth: AuthStyle::Bearer,
        default_headers: &[],
        chat_path: Some(chat_path),
        messages_path: None,
        models_path,
        key_settings: key_setting,
        gateway: true,
        gateway_compat: true,
        params: ParamPolicy::OpenAi,
        models_shape: ModelsShape::OpenAi,
    }
}

/// The route table (SPEC §8).
pub static PROVIDERS: &[ProviderSpec] = &[
    openai_like(
        "openai",
        "https://api.openai.com/v1",
        "/chat/completions",
        Some("/models"),
        &["OPENAI_API_KEY"],
    ),
    ProviderSpec {
        route: "google-ai-studio",
        aliases: &[],
        base_url: "https://generativelanguage.googleapis.com",
        auth: AuthStyle::GoogleAiStudio,
        default_headers: &[],
        chat_path: Some("/v1beta/openai/chat/completions"),
        messages_path: None,
        models_path: Some("/v1beta/models"),
        key_settings: &["GEMINI_API_KEY"],
        gateway: true,
        gateway_compat: true,
        params: ParamPolicy::Only(GOOGLE_PARAMS),
        models_shape: ModelsShape::Google,
    },
    ProviderSpec {
        route: "anthropic",
        aliases: &[],
        base_url: "https://api.anthropic.com",
        auth: AuthStyle::Header("x-api-key"),
        default_headers: &[("anthropic-version", "2023-06-01")],
        chat_path: Some("/v1/chat/completions"),
        messages_path: Some("/v1/messages"),
        models_path: Some("/v1/models"),
        key_settings: &["ANTHROPIC_API_KEY"],
        gateway: true,
        gateway_compat: true,
        params: ParamPolicy::OpenAi,
        models_shape: ModelsShape::Anthropic,
    },
    ProviderSpec {
        params: ParamPolicy::OpenAiExcept(CEREBRAS_DROPPED),
        ..openai_like(
            "cerebras",
            "https://api.cerebras.ai/v1",
            "/chat/completions",
            Some("/models"),
            &["CEREBRAS_API_KEY"],
        )
    },
    ProviderSpec {
        params: ParamPolicy::Only(COHERE_PARAMS),
        models_shape: ModelsShape::Cohere,
        ..openai_like(
            "cohere",
            "https://api.cohere.com",
            "/compatibility/v1/chat/completions",
            Some("/v1/models?page_size=100&endpoint=chat"),
            &["COHERE_API_KEY"],
        )
    },
    openai_like(
        "deepseek",
        "https://api.deepseek.com",
        "/chat/completions",
        Some("/models"),
        &["DEEPSEEK_API_KEY"],
    ),
    openai_like(
        "grok",
        "https://api.x.ai",
        "/v1/chat/completions",
        Some("/v1/models"),
        &["GROK_API_KEY"],
    ),
    openai_like(
        "groq",
        "https://api.groq.com/openai/v1",
        "/chat/completions",
        Some("/models"),
        &["GROQ_API_KEY"],
    ),
    openai_like(
        "mistral",
        "https://api.mistral.ai",
        "/v1/chat/completions",
        Some("/v1/models"),
        &["MISTRAL_API_KEY"],
    ),
    ProviderSpec {
        aliases: &["perplexity"],
        ..openai_like(
            "perplexity-ai",
            "https://api.perplexity.ai",
            "/chat/completions",
            None,
            &["PERPLEXITY_API_KEY", "PERPLEXITYAI_API_KEY"],
        )
    },
    openai_like(
        "openrouter",
        "https://openrouter.ai/api",
        "/v1/chat/completions",
        Some("/v1/models"),
        &["OPENROUTER_API_KEY"],
    ),
    ProviderSpec {
        models_shape: ModelsShape::WorkersAi,
        ..openai_like(
            "workers-ai",
            "https://api.cloudflare.com/client/v4/accounts/{account}/ai",
            "/v1/chat/completions",
            Some("/models/search?task=Text%20Generation"),
            &["CLOUDFLARE_API_KEY"],
        )
    },
    ProviderSpec {
        gateway_compat: false,
        ..openai_like(
            "huggingface",
            "https://router.huggingface.co",
            "/v1/chat/completions",
            Some("/v1/models"),
            &["HUGGINGFACE_API_KEY"],
        )
    },
    ProviderSpec {
        chat_path: None,
        gateway_compat: false,
        ..openai_like(
            "replicate",
            "https://api.replicate.com/v1",
            "",
            None,
            &["REPLICATE_API_KEY"],
        )
    },
    ProviderSpec {
        gateway: false,
        gateway_compat: false,
        ..openai_like(
            "ollama",
            "https://ollama.com/v1",
            "/chat/completions",
            Some("/models"),
            &["OLLAMA_API_KEY"],
        )
    },
];

/// The built-in row for a route name or alias.
pub fn spec(name: &str) -> Option<&'static ProviderSpec> {
    PROVIDERS
        .iter()
        .find(|p| p.route == name || p.aliases.contains(&name))
}

/// The base-URL override setting of a route: `OPENAI_BASE_URL`, `PERPLEXITY_AI_BASE_URL`.
pub fn base_url_setting(route: &str) -> String {
    format!("{}_BASE_URL", route.to_ascii_uppercase().replace('-', "_"))
}

/// A provider ready to use for one request: a built-in row or a custom
/// endpoint, with its settings applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Provider {
    /// The canonical route name (`perplexity-ai` for the alias `perplexity`).
    pub name: String,
    pub spec: Option<&'static ProviderSpec>,
    pub base: BaseUrl,
    pub auth: AuthStyle,
    pub default_headers: Vec<(String, String)>,
    pub chat_path: Option<String>,
    pub messages_path: Option<String>,
    pub models_path: Option<String>,
    pub keys: Vec<String>,
    /// The setting the keys come from (named in errors; never its value).
    pub key_setting: String,
    /// Custom endpoints may have no keys at all: then no auth header is sent.
    pub keys_required: bool,
    pub static_models: Option<Vec<String>>,
}

/// Why a provider cannot be used.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolveError {
    Unknown,
    Misconfigured(ErrorReply),
}

/// Resolves a route name against the table, then the custom endpoints.
pub fn resolve(name: &str, src: &dyn SettingSource) -> Result<Provider, ResolveError> {
    if let Some(spec) = spec(name) {
        return resolve_builtin(spec, src).map_err(ResolveError::Misconfigured);
    }
    let (customs, _errors) = custom::endpoints(src);
    customs
        .into_iter()
        .find(|c| c.name == name)
        .map(custom::CustomEndpoint::into_provider)
        .ok_or(ResolveError::Unknown)
}

fn resolve_builtin(
    spec: &'static ProviderSpec,
    src: &dyn SettingSource,
) -> Result<Provider, ErrorReply> {
    let (keys, key_setting, error) = spec_keys(spec, src);
    if let Some(e) = error {
        return Err(ErrorReply::misconfigured(&e.setting, &e.message));
    }
    let base = provider_base(spec, src)?;
    Ok(Provider {
        name: spec.route.to_string(),
        spec: Some(spec),
        base,
        auth: spec.auth,
        default_headers: spec
            .default_headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        chat_path: spec.chat_path.map(str::to_string),
        messages_path: spec.messages_path.map(str::to_string),
        models_path: spec.models_path.map(str::to_string),
        keys,
        key_setting,
        keys_required: true,
        static_models: None,
    })
}

/// A built-in provider's keys: the first of its key settings that is set.
pub fn spec_keys(
    spec: &ProviderSpec,
    src: &dyn SettingSource,
) -> (Vec<String>, String, Option<SettingError>) {
    for name in spec.key_settings {
        if settings::value(src, name).is_some() {
            let (keys, err) = settings::key_list(src, name);
            return (keys, name.to_string(), err);
        }
    }
    (Vec::new(), spec.key_settings[0].to_string(), None)
}

/// A built-in provider's base URL: the `<ROUTE>_BASE_URL` override, else the
/// table's default (Workers AI with the account id filled in).
pub fn provider_base(spec: &ProviderSpec, src: &dyn SettingSource) -> Result<BaseUrl, ErrorReply> {
    let setting = base_url_setting(spec.route);
    if let Some(raw) = settings::value(src, &setting) {
        return BaseUrl::parse(raw.trim())
            .map_err(|message| ErrorReply::misconfigured(&setting, &message));
    }
    default_base(spec, src)
}

/// A built-in provider's own base URL from the table, ignoring any override
/// (what the AI Gateway stands in for).
pub fn default_base(spec: &ProviderSpec, src: &dyn SettingSource) -> Result<BaseUrl, ErrorReply> {
    let setting = base_url_setting(spec.route);
    let url = if spec.base_url.contains("{account}") {
        let account = settings::value(src, "CLOUDFLARE_ACCOUNT_ID").ok_or_else(|| {
            ErrorReply::misconfigured(
                "CLOUDFLARE_ACCOUNT_ID",
                &format!("is required by {}", spec.route),
            )
        })?;
        let account = account.trim();
        if !crate::gateway::valid_name(account) {
            return Err(ErrorReply::bad_request(
                "CLOUDFLARE_ACCOUNT_ID must match [A-Za-z0-9_-]{1,64}",
                "invalid_account_id",
            ));
        }
        spec.base_url.replace("{account}", account)
    } else {
        spec.base_url.to_string()
    };
    BaseUrl::parse(&url).map_err(|message| ErrorReply::misconfigured(&setting, &message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn src(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        crate::settings::from_pairs(pairs)
    }

    #[test]
    fn table_routes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for p in PROVIDERS {
            assert!(seen.insert(p.route), "duplicate route {}", p.route);
            for a in p.aliases {
                assert!(seen.insert(a), "duplicate alias {a}");
            }
            assert!(p.chat_path.is_none_or(|c| c.starts_with('/')));
            assert!(p.models_path.is_none_or(|c| c.starts_with('/')));
            let url = p.base_url.replace("{account}", "acc");
            assert!(BaseUrl::parse(&url).is_ok(), "{}", p.base_url);
        }
    }

    #[test]
    fn aliases_resolve_to_the_canonical_route_and_alias_key_setting() {
        let s = src(&[("PERPLEXITYAI_API_KEY", "pk")]);
        let p = resolve("perplexity", &s).unwrap();
        assert_eq!(p.name, "perplexity-ai");
        assert_eq!(p.keys, vec!["pk"]);
        assert_eq!(p.key_setting, "PERPLEXITYAI_API_KEY");
    }

    #[test]
    fn base_url_override_and_setting_names() {
        assert_eq!(
            base_url_setting("google-ai-studio"),
            "GOOGLE_AI_STUDIO_BASE_URL"
        );
        assert_eq!(base_url_setting("perplexity-ai"), "PERPLEXITY_AI_BASE_URL");
        let s = src(&[("OPENAI_BASE_URL", "http://127.0.0.1:9/v1/")]);
        let p = resolve("openai", &s).unwrap();
        assert_eq!(p.base.origin(), "http://127.0.0.1:9");
        assert_eq!(p.base.path, "/v1");
    }

    #[test]
    fn workers_ai_needs_an_account_unless_its_base_is_overridden() {
        let s = src(&[("CLOUDFLARE_API_KEY", "k")]);
        match resolve("workers-ai", &s) {
            Err(ResolveError::Misconfigured(e)) => {
                assert!(e.message.contains("CLOUDFLARE_ACCOUNT_ID"))
            }
            other => panic!("{other:?}"),
        }
        let s = src(&[
            ("CLOUDFLARE_ACCOUNT_ID", "abc"),
            ("CLOUDFLARE_API_KEY", "k"),
        ]);
        let p = resolve("workers-ai", &s).unwrap();
        assert_eq!(p.base.path, "/client/v4/accounts/abc/ai");
        let s = src(&[("WORKERS_AI_BASE_URL", "http://127.0.0.1:1/cf")]);
        assert_eq!(resolve("workers-ai", &s).unwrap().base.path, "/cf");
    }

    #[test]
    fn unknown_provider() {
        assert_eq!(resolve("nope", &src(&[])), Err(ResolveError::Unknown));
    }
}
