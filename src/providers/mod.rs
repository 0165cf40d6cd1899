//! The route table: every built-in provider as one declarative row
//! ([`ProviderSpec`]), plus custom OpenAI-compatible endpoints from settings.
//! Quirks the table cannot express live in one small module per provider.

pub mod anthropic;
pub mod aws_bedrock;
pub mod azure_openai;
pub mod custom;
pub mod google_ai_studio;
pub mod google_vertex_ai;

use crate::credentials::Credentials;
use crate::credentials::ServiceAccount;
use crate::errors::ErrorReply;
use crate::gateway::GatewayTarget;
use crate::outgoing::CloudAuth;
use crate::outgoing::UpstreamRequest;
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
    /// From the key's [`Credential`] at send time (a SigV4 signature, a
    /// token minted from a service account).
    Cloud,
}

/// Which code resolves a row (settings beyond one key list and a base URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    /// One key list, one base URL.
    Standard,
    AzureOpenAi,
    GoogleVertexAi,
    AwsBedrock,
}

/// A key that is more than a string: what signs or mints the auth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Aws(Credentials),
    Google(ServiceAccount),
}

/// Per-cloud settings a resolved provider carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cloud {
    Azure {
        resource: Option<String>,
        api_version: String,
    },
    Vertex {
        project: Option<String>,
        region: String,
        token_uri: Option<String>,
    },
    Bedrock {
        region: String,
    },
}

/// Where a chat request goes, in which dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatTarget {
    /// An OpenAI-compatible chat endpoint: `path` (relative to the base),
    /// with `model` in the body.
    OpenAi { path: String, model: String },
    /// Anthropic's Messages API: `model` in the body when given (else in the
    /// path), plus `anthropic_version` in the body when given (Vertex).
    Messages {
        path: String,
        model: Option<String>,
        anthropic_version: Option<&'static str>,
    },
    /// Bedrock's Converse API (the model id is in the path).
    Converse { path: String },
}

/// Where an embeddings request goes, in which dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbeddingsTarget {
    /// An OpenAI-compatible embeddings endpoint: `path` (relative to the
    /// base), with `model` in the body.
    OpenAi { path: String, model: String },
    /// Bedrock's `InvokeModel` (`/model/{id}/invoke`) for model id `model`:
    /// the body in the model family's own shape.
    Bedrock { path: String, model: String },
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

impl ParamPolicy {
    /// Whether a chat request parameter `name` reaches the provider.
    pub fn accepts(self, name: &str) -> bool {
        match self {
            ParamPolicy::OpenAi => true,
            ParamPolicy::Only(allowed) => allowed.contains(&name),
            ParamPolicy::OpenAiExcept(dropped) => !dropped.contains(&name),
        }
    }
}

/// Whether the provider named `name` takes the chat parameter `param` (a
/// provider outside the table, a custom endpoint, takes OpenAI's set).
pub fn accepts(name: &str, param: &str) -> bool {
    spec(name).is_none_or(|s| s.params.accepts(param))
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
    /// OpenAI-compatible embeddings path relative to the base URL, if any.
    pub embeddings_path: Option<&'static str>,
    /// Key settings; the first is canonical, the rest are accepted aliases
    /// (for the clouds: the ways to authenticate, in order of preference).
    pub key_settings: &'static [&'static str],
    /// Other settings the row reads (region, project, resource, …).
    pub extra_settings: &'static [&'static str],
    pub kind: ProviderKind,
    /// Cloudflare AI Gateway supports this provider.
    pub gateway: bool,
    /// The gateway's OpenAI-compatible `/compat` endpoint supports it.
    pub gateway_compat: bool,
    pub params: ParamPolicy,
    pub models_shape: ModelsShape,
    /// Models that take OpenAI's `reasoning_effort`: lists of name prefixes
    /// (matched after any `vendor/` part of the name; `"*"` for every
    /// model). A translated request's thinking settings become
    /// `reasoning_effort` only for these.
    pub reasoning_models: &'static [&'static [&'static str]],
    /// System text is accepted only at the start of the conversation: a
    /// system turn later on is merged into the leading system message.
    pub system_first: bool,
    /// OpenAI Responses API path relative to the base URL, for providers
    /// that speak it natively (`/v1/responses` is forwarded there
    /// untranslated; every other provider gets it translated to chat).
    pub responses_path: Option<&'static str>,
}

/// OpenAI's reasoning models (Azure deployments usually carry the model's name).
const OPENAI_REASONING: &[&str] = &["o1", "o3", "o4", "gpt-5", "codex"];
/// Claude models with extended thinking (through chat completions the proxy
/// turns `reasoning_effort` into a thinking budget).
const CLAUDE_THINKING: &[&str] = &[
    "claude-3-7",
    "claude-sonnet-4",
    "claude-opus-4",
    "claude-haiku-4",
    "claude-sonnet-5",
    "claude-opus-5",
];
/// Gemini's thinking models, on AI Studio's and Vertex's OpenAI-compatible endpoints.
const GEMINI_REASONING: &[&str] = &[
    "gemini-2.5",
    "gemini-3",
    "gemini-flash-latest",
    "gemini-pro-latest",
];

/// OpenAI's open-weight reasoning models, as Groq, Cerebras and Workers AI serve them.
const GPT_OSS: &[&str] = &["gpt-oss"];

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
    "reasoning_effort",
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

/// Shorthand for the common OpenAI-compatible, Bearer-auth row (no
/// embeddings unless the row sets `embeddings_path`).
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
        embeddings_path: None,
        key_settings: key_setting,
        extra_settings: &[],
        kind: ProviderKind::Standard,
        gateway: true,
        gateway_compat: true,
        params: ParamPolicy::OpenAi,
        models_shape: ModelsShape::OpenAi,
        reasoning_models: &[],
        system_first: false,
        responses_path: None,
    }
}

/// The route table (SPEC §8).
pub static PROVIDERS: &[ProviderSpec] = &[
    ProviderSpec {
        reasoning_models: &[OPENAI_REASONING],
        responses_path: Some("/responses"),
        embeddings_path: Some("/embeddings"),
        ..openai_like(
            "openai",
            "https://api.openai.com/v1",
            "/chat/completions",
            Some("/models"),
            &["OPENAI_API_KEY"],
        )
    },
    ProviderSpec {
        route: "google-ai-studio",
        aliases: &[],
        base_url: "https://generativelanguage.googleapis.com",
        auth: AuthStyle::GoogleAiStudio,
        default_headers: &[],
        chat_path: Some("/v1beta/openai/chat/completions"),
        messages_path: None,
        models_path: Some("/v1beta/models"),
        embeddings_path: Some("/v1beta/openai/embeddings"),
        key_settings: &["GEMINI_API_KEY"],
        extra_settings: &[],
        kind: ProviderKind::Standard,
        gateway: true,
        gateway_compat: true,
        params: ParamPolicy::Only(GOOGLE_PARAMS),
        models_shape: ModelsShape::Google,
        reasoning_models: &[GEMINI_REASONING],
        system_first: false,
        responses_path: None,
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
        embeddings_path: None,
        key_settings: &["ANTHROPIC_API_KEY"],
        extra_settings: &[],
        kind: ProviderKind::Standard,
        gateway: true,
        gateway_compat: true,
        params: ParamPolicy::OpenAi,
        models_shape: ModelsShape::Anthropic,
        reasoning_models: &[CLAUDE_THINKING],
        system_first: false,
        responses_path: None,
    },
    ProviderSpec {
        params: ParamPolicy::OpenAiExcept(CEREBRAS_DROPPED),
        reasoning_models: &[GPT_OSS],
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
        embeddings_path: Some("/compatibility/v1/embeddings"),
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
    ProviderSpec {
        embeddings_path: Some("/v1/embeddings"),
        ..openai_like(
            "grok",
            "https://api.x.ai",
            "/v1/chat/completions",
            Some("/v1/models"),
            &["GROK_API_KEY"],
        )
    },
    ProviderSpec {
        reasoning_models: &[GPT_OSS],
        ..openai_like(
            "groq",
            "https://api.groq.com/openai/v1",
            "/chat/completions",
            Some("/models"),
            &["GROQ_API_KEY"],
        )
    },
    ProviderSpec {
        // "Unexpected role 'system' after role 'assistant'".
        system_first: true,
        embeddings_path: Some("/v1/embeddings"),
        ..openai_like(
            "mistral",
            "https://api.mistral.ai",
            "/v1/chat/completions",
            Some("/v1/models"),
            &["MISTRAL_API_KEY"],
        )
    },
    ProviderSpec {
        aliases: &["perplexity"],
        // "After the (optional) system message(s), user and assistant roles
        // should be alternating."
        system_first: true,
        ..openai_like(
            "perplexity-ai",
            "https://api.perplexity.ai",
            "/chat/completions",
            None,
            &["PERPLEXITY_API_KEY", "PERPLEXITYAI_API_KEY"],
        )
    },
    ProviderSpec {
        // OpenRouter normalises `reasoning_effort` for every reasoning model.
        reasoning_models: &[&["*"]],
        embeddings_path: Some("/v1/embeddings"),
        ..openai_like(
            "openrouter",
            "https://openrouter.ai/api",
            "/v1/chat/completions",
            Some("/v1/models"),
            &["OPENROUTER_API_KEY"],
        )
    },
    ProviderSpec {
        models_shape: ModelsShape::WorkersAi,
        reasoning_models: &[GPT_OSS],
        embeddings_path: Some("/v1/embeddings"),
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
        embeddings_path: Some("/embeddings"),
        ..openai_like(
            "ollama",
            "https://ollama.com/v1",
            "/chat/completions",
            Some("/models"),
            &["OLLAMA_API_KEY"],
        )
    },
    // The clouds: their rows name the settings; their modules resolve them.
    ProviderSpec {
        route: "azure-openai",
        aliases: &[],
        base_url: "https://{resource}.openai.azure.com/openai",
        auth: AuthStyle::Header("api-key"),
        default_headers: &[],
        chat_path: Some("/v1/chat/completions"),
        messages_path: None,
        models_path: Some("/v1/models"),
        embeddings_path: Some("/v1/embeddings"),
        key_settings: &["AZURE_OPENAI_API_KEY"],
        extra_settings: &["AZURE_OPENAI_RESOURCE", "AZURE_OPENAI_API_VERSION"],
        kind: ProviderKind::AzureOpenAi,
        gateway: true,
        gateway_compat: false,
        params: ParamPolicy::OpenAi,
        models_shape: ModelsShape::OpenAi,
        reasoning_models: &[OPENAI_REASONING],
        system_first: false,
        responses_path: Some("/v1/responses"),
    },
    ProviderSpec {
        route: "google-vertex-ai",
        aliases: &[],
        base_url: "https://{region}-aiplatform.googleapis.com",
        auth: AuthStyle::Cloud,
        default_headers: &[],
        chat_path: None,
        messages_path: None,
        models_path: None,
        // Set per project by the Vertex module.
        embeddings_path: None,
        key_settings: &[
            "VERTEX_SERVICE_ACCOUNT_JSON",
            "VERTEX_ACCESS_TOKEN",
            "VERTEX_API_KEY",
        ],
        extra_settings: &["VERTEX_PROJECT", "VERTEX_REGION", "VERTEX_TOKEN_URI"],
        kind: ProviderKind::GoogleVertexAi,
        gateway: true,
        gateway_compat: false,
        params: ParamPolicy::OpenAi,
        models_shape: ModelsShape::OpenAi,
        reasoning_models: &[GEMINI_REASONING, CLAUDE_THINKING],
        system_first: false,
        responses_path: None,
    },
    ProviderSpec {
        route: "aws-bedrock",
        aliases: &[],
        base_url: "https://bedrock-runtime.{region}.amazonaws.com",
        auth: AuthStyle::Cloud,
        default_headers: &[],
        chat_path: None,
        messages_path: None,
        models_path: None,
        // InvokeModel, per model (see `embeddings_target`).
        embeddings_path: None,
        key_settings: &["AWS_BEARER_TOKEN_BEDROCK", "AWS_ACCESS_KEY_ID"],
        extra_settings: &["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION"],
        kind: ProviderKind::AwsBedrock,
        gateway: true,
        gateway_compat: false,
        params: ParamPolicy::OpenAi,
        models_shape: ModelsShape::OpenAi,
        reasoning_models: &[],
        system_first: false,
        responses_path: None,
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
    /// OpenAI-compatible embeddings path, if any.
    pub embeddings_path: Option<String>,
    pub keys: Vec<String>,
    /// The setting the keys come from (named in errors; never its value).
    pub key_setting: String,
    /// Custom endpoints may have no keys at all: then no auth header is sent.
    pub keys_required: bool,
    pub static_models: Option<Vec<String>>,
    /// With [`AuthStyle::Cloud`]: each key's credential, by key.
    pub credentials: Vec<(String, Credential)>,
    /// Cloud settings (region, project, resource).
    pub cloud: Option<Cloud>,
    /// A cheap authenticated GET for `/status` when there is no models path.
    pub check_path: Option<String>,
}

impl Provider {
    /// The auth `key` needs at send time, if it is a cloud credential.
    pub fn cloud_auth(&self, key: &str) -> Option<CloudAuth> {
        if self.auth != AuthStyle::Cloud {
            return None;
        }
        match &self.credentials.iter().find(|(k, _)| k == key)?.1 {
            Credential::Aws(creds) => Some(CloudAuth::SigV4 {
                creds: creds.clone(),
                region: match &self.cloud {
                    Some(Cloud::Bedrock { region }) => region.clone(),
                    _ => "us-east-1".into(),
                },
                service: "bedrock".into(),
                signed_for: None,
            }),
            Credential::Google(account) => Some(CloudAuth::Google {
                token_uri: match &self.cloud {
                    Some(Cloud::Vertex {
                        token_uri: Some(uri),
                        ..
                    }) => uri.clone(),
                    _ => account.token_uri.clone(),
                },
                account: account.clone(),
            }),
        }
    }

    /// Why chat requests have nowhere to go, where the provider knows more
    /// than "no chat endpoint".
    pub fn no_chat_reason(&self) -> Option<&'static str> {
        match self.spec.map(|s| s.kind) {
            Some(ProviderKind::GoogleVertexAi) => Some(google_vertex_ai::no_chat_reason(self)),
            _ => None,
        }
    }

    /// Whether `model` here takes OpenAI's `reasoning_effort` (the table's
    /// prefixes, matched after any `vendor/` part of the name).
    pub fn accepts_reasoning_effort(&self, model: &str) -> bool {
        let name = model.rsplit('/').next().unwrap_or(model);
        self.spec.is_some_and(|s| {
            s.reasoning_models
                .iter()
                .flat_map(|list| list.iter())
                .any(|p| *p == "*" || name.starts_with(p))
        })
    }

    /// Whether system text must come first (later system turns are merged).
    pub fn system_first(&self) -> bool {
        self.spec.is_some_and(|s| s.system_first)
    }

    /// Where a chat request for `model` goes (`stream`: whether it streams;
    /// `via_gateway`: through the AI Gateway's provider URL).
    pub fn chat_target(&self, model: &str, stream: bool, via_gateway: bool) -> Option<ChatTarget> {
        match self.spec.map(|s| s.kind) {
            Some(ProviderKind::AzureOpenAi) => azure_openai::chat_target(self, model, via_gateway),
            Some(ProviderKind::GoogleVertexAi) => {
                google_vertex_ai::chat_target(self, model, stream)
            }
            Some(ProviderKind::AwsBedrock) => Some(ChatTarget::Converse {
                path: crate::translate::bedrock_openai::request::converse_path(model, stream),
            }),
            _ => {
                if let Some(path) = &self.messages_path {
                    return Some(ChatTarget::Messages {
                        path: path.clone(),
                        model: Some(model.to_string()),
                        anthropic_version: None,
                    });
                }
                Some(ChatTarget::OpenAi {
                    path: self.chat_path.clone()?,
                    model: model.to_string(),
                })
            }
        }
    }

    /// The path of a Gemini API call (`method`: `generateContent`,
    /// `countTokens`, …; `version`: the client's, `v1beta` or `v1`) where this
    /// provider speaks the Gemini API natively: Google AI Studio, and Vertex
    /// for Google's own models. `None` elsewhere: the call is translated.
    pub fn gemini_path(&self, model: &str, version: &str, method: &str) -> Option<String> {
        match self.spec.map(|s| (s.kind, s.models_shape)) {
            Some((ProviderKind::GoogleVertexAi, _)) => {
                google_vertex_ai::gemini_path(self, model, method)
            }
            Some((ProviderKind::Standard, ModelsShape::Google)) => {
                Some(google_ai_studio::gemini_path(version, model, method))
            }
            _ => None,
        }
    }

    /// Where an embeddings request for `model` goes (`via_gateway`: through
    /// the AI Gateway's provider URL); `None` when the provider has no
    /// embeddings endpoint.
    pub fn embeddings_target(&self, model: &str, via_gateway: bool) -> Option<EmbeddingsTarget> {
        match self.spec.map(|s| s.kind) {
            Some(ProviderKind::AzureOpenAi) => {
                azure_openai::embeddings_target(self, model, via_gateway)
            }
            Some(ProviderKind::GoogleVertexAi) => google_vertex_ai::embeddings_target(self, model),
            Some(ProviderKind::AwsBedrock) => Some(EmbeddingsTarget::Bedrock {
                path: aws_bedrock::invoke_path(model),
                model: model.to_string(),
            }),
            _ => Some(EmbeddingsTarget::OpenAi {
                path: self.embeddings_path.clone()?,
                model: model.to_string(),
            }),
        }
    }

    /// The proxy's own routes this provider serves: `chat` (chat
    /// completions), `messages` (the Messages API), `embeddings`.
    pub fn routes(&self) -> Vec<&'static str> {
        let mut routes = Vec::new();
        if self.chat_target("model", false, false).is_some() {
            routes.extend(["chat", "messages", "responses", "gemini"]);
        } else {
            if self.spec.and_then(|s| s.responses_path).is_some() {
                routes.push("responses");
            }
            if self
                .gemini_path("model", "v1beta", "generateContent")
                .is_some()
            {
                routes.push("gemini");
            }
        }
        if self.embeddings_target("model", false).is_some() {
            routes.push("embeddings");
        }
        routes
    }

    /// Sends `up` (built for this provider's own base URL) through
    /// `gateway`: `{gateway}/{provider}` stands in for the base URL, in the
    /// shape the gateway wants for this provider.
    pub fn via_gateway(&self, up: &mut UpstreamRequest, gateway: &GatewayTarget) {
        match self.spec.map(|s| s.kind) {
            Some(ProviderKind::AzureOpenAi) => azure_openai::via_gateway(self, up, gateway),
            Some(ProviderKind::AwsBedrock) => aws_bedrock::via_gateway(self, up, gateway),
            _ => {
                let relative = up
                    .path_with_query
                    .strip_prefix(&self.base.path)
                    .unwrap_or(&up.path_with_query)
                    .to_string();
                let base = gateway.provider_base(&self.name);
                up.path_with_query = format!("{}{}", base.path, relative);
                up.base = base;
            }
        }
    }
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
    match spec.kind {
        ProviderKind::Standard => {}
        ProviderKind::AzureOpenAi => return azure_openai::resolve(spec, src),
        ProviderKind::GoogleVertexAi => return google_vertex_ai::resolve(spec, src),
        ProviderKind::AwsBedrock => return aws_bedrock::resolve(spec, src),
    }
    let (keys, key_setting, error) = spec_keys(spec, src);
    if let Some(e) = error {
        return Err(ErrorReply::misconfigured(&e.setting, &e.message));
    }
    let base = provider_base(spec, src)?;
    Ok(from_spec(spec, base, keys, &key_setting))
}

/// A provider from its row with the given keys and base; the cloud modules
/// fill in the rest.
pub fn from_spec(
    spec: &'static ProviderSpec,
    base: BaseUrl,
    keys: Vec<String>,
    key_setting: &str,
) -> Provider {
    Provider {
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
        embeddings_path: spec.embeddings_path.map(str::to_string),
        keys,
        key_setting: key_setting.to_string(),
        keys_required: true,
        static_models: None,
        credentials: Vec::new(),
        cloud: None,
        check_path: None,
    }
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
    let first = spec.key_settings.first().copied().unwrap_or_default();
    (Vec::new(), first.to_string(), None)
}

/// The `<ROUTE>_BASE_URL` override of a row, when set.
fn base_override(
    spec: &ProviderSpec,
    src: &dyn SettingSource,
) -> Result<Option<BaseUrl>, ErrorReply> {
    let setting = base_url_setting(spec.route);
    settings::value(src, &setting)
        .map(|raw| BaseUrl::parse(raw.trim()).map_err(|m| ErrorReply::misconfigured(&setting, &m)))
        .transpose()
}

/// A built-in provider's base URL: the `<ROUTE>_BASE_URL` override, else the
/// table's default (Workers AI with the account id filled in).
pub fn provider_base(spec: &ProviderSpec, src: &dyn SettingSource) -> Result<BaseUrl, ErrorReply> {
    if spec.kind == ProviderKind::AzureOpenAi {
        return azure_openai::base(src);
    }
    match base_override(spec, src)? {
        Some(base) => Ok(base),
        None => default_base(spec, src),
    }
}

/// A built-in provider's own base URL from the table, ignoring any override
/// (what the AI Gateway stands in for).
pub fn default_base(spec: &ProviderSpec, src: &dyn SettingSource) -> Result<BaseUrl, ErrorReply> {
    match spec.kind {
        ProviderKind::Standard => {}
        ProviderKind::AzureOpenAi => return azure_openai::default_base(src),
        ProviderKind::GoogleVertexAi => return google_vertex_ai::default_base(src),
        ProviderKind::AwsBedrock => return aws_bedrock::default_base(src),
    }
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
            assert!(p.embeddings_path.is_none_or(|c| c.starts_with('/')));
            let url = p
                .base_url
                .replace("{account}", "acc")
                .replace("{resource}", "res")
                .replace("{region}", "us-east-1");
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

#[cfg(test)]
#[path = "cloud_tests.rs"]
mod cloud_tests;
