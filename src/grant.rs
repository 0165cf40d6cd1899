//! What a caller may reach (docs/team.md, "What a client key can reach"),
//! decided in one place before any plan: which request headers go on, which
//! gateway it may name, which models and routes it may use, which
//! pass-through endpoints and methods it may reach, and which of the
//! answer's headers it may see. The all-access key (`PROXY_API_KEY`, or
//! `DEV` without a key) is not restricted; a client key from `PROXY_KEYS`
//! gets what its entry grants and nothing more.
//!
//! Pure: the pipeline asks, the plans carry the verdict ([`Trust`]).

use crate::client_keys::Caller;
use crate::errors::{printable, ErrorReply};
use crate::providers::{self, Cloud, Provider, ProviderKind};
use crate::request::RequestHead;
use crate::settings::SettingSource;

/// Request headers that choose a provider account (an organisation, a
/// project, a billing project): a client key uses the operator's account as
/// the operator configured it, so a client key's are dropped. A 401 or 403
/// answering a request that carried one says nothing about the key.
pub const ACCOUNT_HEADERS: &[&str] = &[
    "openai-organization",
    "openai-project",
    "x-goog-user-project",
    "chatgpt-account-id",
];

/// Query parameters that carry a credential or choose a provider account
/// (Google's system parameters: the billing project, an OAuth token, an API
/// key): a client key's are dropped, as the headers are.
pub const ACCOUNT_PARAMS: &[&str] = &[
    "userProject",
    "$userProject",
    "access_token",
    "$access_token",
    "oauth_token",
    "$oauth_token",
    "key",
    "$key",
];

/// The `cf-aig-*` request headers a client key may send: the cache's time to
/// live and skipping the cache. Every other one (logging, custom cost,
/// metadata, the cache key, the gateway's retries and timeouts, its
/// authorization) is the operator's.
pub const GATEWAY_HEADERS_FOR_CLIENTS: &[&str] = &["cf-aig-cache-ttl", "cf-aig-skip-cache"];

/// Answer headers a client key never sees: the provider account's
/// identifiers and cookies. (Rate-limit headers pass.)
pub const ACCOUNT_RESPONSE_HEADERS: &[&str] = &[
    "openai-organization",
    "openai-project",
    "anthropic-organization-id",
    "x-goog-user-project",
    "set-cookie",
    "set-cookie2",
];

/// The methods pass-through and `/compat` forward (`OPTIONS` is answered by
/// the proxy itself); anything else is a 405.
pub const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// [`METHODS`] as an `Allow` header says them.
pub const ALLOW: &str = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS";

/// What a plan's caller is, as the attempt loop and the relay need to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trust {
    /// The all-access key: every failure of a key is the key's.
    #[default]
    Operator,
    /// The all-access key with provider-account headers of its own: a 401
    /// or 403 may be theirs, not the key's.
    OperatorAccount,
    /// A client key: account headers were dropped, the answer's account
    /// headers are hidden, and a 403 (the request refused, not the key) does
    /// not cool the key down.
    Client,
}

impl Trust {
    /// Whether an attempt that ended in `status` says the key itself is
    /// bad (so it cools down).
    pub fn blames_key(self, status: u16) -> bool {
        !matches!(
            (self, status),
            (Trust::OperatorAccount, 401 | 403) | (Trust::Client, 403)
        )
    }

    /// Whether the answer's header `name` (lowercase) reaches the client.
    pub fn shows(self, name: &str) -> bool {
        self != Trust::Client || !ACCOUNT_RESPONSE_HEADERS.contains(&name)
    }
}

/// The trust of `caller`'s plans for a request with `head` (as received).
pub fn trust(caller: &Caller, head: &RequestHead) -> Trust {
    if caller.key.is_some() {
        Trust::Client
    } else if head
        .headers
        .iter()
        .any(|(n, _)| ACCOUNT_HEADERS.contains(&n.as_str()))
    {
        Trust::OperatorAccount
    } else {
        Trust::Operator
    }
}

/// `head` as `caller` may send it on: a client key's provider-account
/// headers and query parameters (and credentials in the query) and
/// `cf-aig-*` headers (but the cache's) removed. `None` when nothing is
/// removed; else the new head and the names removed (for
/// `x-llm-proxy-dropped`; a query parameter as `?name`).
pub fn head(caller: &Caller, head: &RequestHead) -> Option<(RequestHead, Vec<String>)> {
    caller.key.as_ref()?;
    let removed = |n: &str| {
        ACCOUNT_HEADERS.contains(&n)
            || (n.starts_with("cf-aig-") && !GATEWAY_HEADERS_FOR_CLIENTS.contains(&n))
    };
    let param = |n: &[u8]| ACCOUNT_PARAMS.iter().any(|p| p.as_bytes() == n);
    let (query, params) = if head.query.is_empty() {
        (String::new(), Vec::new())
    } else {
        crate::url::strip_params(&head.query, param)
    };
    if params.is_empty() && !head.headers.iter().any(|(n, _)| removed(n)) {
        return None;
    }
    let mut dropped: Vec<String> = Vec::new();
    let mut kept = head.clone();
    kept.headers.retain(|(n, _)| {
        if !removed(n) {
            return true;
        }
        if !dropped.contains(n) {
            dropped.push(n.clone());
        }
        false
    });
    kept.query = query;
    // The proxy key in `?key=` is the client's own: not named.
    dropped.extend(
        params
            .into_iter()
            .filter(|p| p != "key")
            .map(|p| format!("?{}", printable(&p))),
    );
    Some((kept, dropped))
}

fn refused(status: u16, kind: &'static str, code: &'static str, message: String) -> ErrorReply {
    ErrorReply::new(status, kind, code, message)
}

/// `/g/{name}/`: the all-access key's, or a client key's whose entry lists
/// the name in `gateways` (or names the default gateway, `default`, which
/// applies to it anyway).
pub fn gateway(caller: &Caller, name: &str, default: Option<&str>) -> Result<(), ErrorReply> {
    match &caller.key {
        Some(k) if !k.gateways.iter().any(|g| g == name) && default != Some(name) => Err(refused(
            403,
            "permission_error",
            "gateway_not_allowed",
            format!(
                "the proxy key '{}' may not choose a gateway ('/g/{}/'); the proxy's own \
                 gateway settings apply to it",
                printable(&caller.name),
                printable(name)
            ),
        )),
        _ => Ok(()),
    }
}

/// A 403 for a model (or route) outside the caller's grant.
pub fn not_allowed(caller: &Caller, model: &str) -> ErrorReply {
    refused(
        403,
        "permission_error",
        "model_not_allowed",
        format!(
            "the proxy key '{}' may not use model '{}'",
            printable(&caller.name),
            printable(model)
        ),
    )
}

/// The model route `name`: listed by its exact name (or `*`).
pub fn route(caller: &Caller, name: &str) -> Result<(), ErrorReply> {
    if caller.allows_route(name) {
        Ok(())
    } else {
        Err(not_allowed(caller, name))
    }
}

/// A model as the client named it (`as_named`) and as the `provider/model`
/// it resolves to (`canonical`): either may be granted.
pub fn model(caller: &Caller, as_named: &str, canonical: &str) -> Result<(), ErrorReply> {
    if caller.allows(as_named) || caller.allows(canonical) {
        Ok(())
    } else {
        Err(not_allowed(caller, as_named))
    }
}

/// A body's own list of models (OpenRouter's `models`, tried in turn by
/// the provider): each entry must be granted as `{provider}/{entry}`.
pub fn body_models(caller: &Caller, provider: &str, models: &[String]) -> Result<(), ErrorReply> {
    if caller.key.is_none() {
        return Ok(());
    }
    for m in models {
        let full = format!("{provider}/{m}");
        if !caller.allows(&full) {
            return Err(not_allowed(caller, &full));
        }
    }
    Ok(())
}

/// Routes that name providers, endpoints and headers of their own in the
/// body or path (`/compat`, the Universal Endpoint), which no entry can
/// grant part of: the all-access key's only.
pub fn operator_only(caller: &Caller, route: &str) -> Result<(), ErrorReply> {
    match &caller.key {
        None => Ok(()),
        Some(_) => Err(refused(
            403,
            "permission_error",
            "endpoint_not_allowed",
            format!(
                "{route} is for the all-access key only: it names providers and endpoints \
                 that the proxy key '{}' cannot be granted in part",
                printable(&caller.name)
            ),
        )),
    }
}

/// An inference body of a client key naming an object stored in the
/// provider account (for any of `providers`): refused unless the entry's
/// `pass_through` grants that kind of object there (`/openai/v1/files`, or
/// the provider's whole API, `/openai`). Fields are read where they mean
/// that (`crate::stored_objects`), not in a tool's schema or arguments; a
/// public URL (`fileUri` of a web page or video) names nothing stored.
pub fn stored_objects(caller: &Caller, providers: &[&str], body: &[u8]) -> Result<(), ErrorReply> {
    let Some(key) = &caller.key else {
        return Ok(());
    };
    let named = match crate::stored_objects::named(body) {
        Ok(named) => named,
        // JSON the reader cannot walk (malformed, nested more than 128
        // deep, a string that is no Unicode): what it names cannot be told,
        // so it goes nowhere.
        Err(e) if e.json => {
            return Err(refused(
                400,
                "invalid_request_error",
                "invalid_body",
                "request body is not JSON the proxy can read (malformed, nested more than \
                 128 deep, or a string that is not Unicode)"
                    .to_string(),
            ))
        }
        // Not JSON at all (a binary body to an opaque endpoint): any
        // mention of a field counts.
        Err(_) => crate::stored_objects::FIELDS
            .iter()
            .filter(|(field, ..)| names_object(body, field))
            .map(|(field, kind, _)| (*field, *kind))
            .collect(),
    };
    for (field, kind) in named {
        let granted = |p: &str| {
            let root = format!("/{p}");
            key.pass_through.iter().any(|g| {
                *g == root
                    || g.strip_prefix(&root)
                        .is_some_and(|rest| rest.split('/').any(|s| s == kind))
            })
        };
        if !providers.iter().all(|p| granted(p)) {
            return Err(refused(
                403,
                "permission_error",
                "stored_object_not_allowed",
                format!(
                    "the proxy key '{}' may not name stored {kind} of the provider account \
                     ('{field}'); that needs a 'pass_through' grant for them",
                    printable(&caller.name)
                ),
            ));
        }
    }
    Ok(())
}

/// Whether `body` (not JSON the reader can walk) has a field `field` (anywhere, at any depth) whose value
/// names something: not `null`, not an empty list, not a new container's
/// settings, and for a file URI not a public `http(s)` URL other than
/// Google's own file store.
fn names_object(body: &[u8], field: &str) -> bool {
    let needle = format!("\"{field}\"");
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    for at in finder.find_iter(body) {
        // A key, not text inside a string: not after a backslash, and a
        // colon next.
        if at > 0 && body.get(at - 1) == Some(&b'\\') {
            continue;
        }
        let rest = body.get(at + needle.len()..).unwrap_or_default();
        let rest = skip_space(rest);
        let Some(value) = rest.strip_prefix(b":") else {
            continue;
        };
        let value = skip_space(value);
        let names = match value.first() {
            // `conversation: {"id": …}` and `prompt: {"id": …}` name one;
            // `container: {"type": "auto"}` asks for a new one.
            Some(b'{') => field == "conversation" || field == "prompt",
            // A completions `prompt` is text.
            Some(_) if field == "prompt" => false,
            None => false,
            Some(b'n') => !value.starts_with(b"null"),
            Some(b'[') => skip_space(&value[1..]).first() != Some(&b']'),
            Some(b'"') if field.ends_with("Uri") || field.ends_with("uri") => {
                let v = &value[1..];
                let public = (v.starts_with(b"https://") || v.starts_with(b"http://"))
                    && !v.starts_with(b"https://generativelanguage.googleapis.com/");
                !public
            }
            Some(_) => true,
        };
        if names {
            return true;
        }
    }
    false
}

fn skip_space(b: &[u8]) -> &[u8] {
    let n = b
        .iter()
        .take_while(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        .count();
    b.get(n..).unwrap_or_default()
}

/// A 405 for a method pass-through and `/compat` do not forward.
pub fn method(method: &str) -> Result<(), ErrorReply> {
    if METHODS.contains(&method) {
        return Ok(());
    }
    let mut e = refused(
        405,
        "invalid_request_error",
        "method_not_allowed",
        format!("method {} is not forwarded; use {ALLOW}", printable(method)),
    );
    e.allow = Some(ALLOW);
    Err(e)
}

/// What a pass-through request reaches at its provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// OpenAI chat completions (`stream_options.include_usage` applies).
    Chat,
    /// OpenAI's legacy completions (as chat for usage).
    Completions,
    /// Anthropic Messages, the Responses API, Gemini's generateContent
    /// (and stream), Bedrock Converse (and stream): every answer carries
    /// its usage.
    Generate,
    /// Embeddings: no output; the answer's usage when it has one.
    Embed,
    /// A token count: nothing spent.
    Count,
    /// Inference whose usage the proxy cannot read (Bedrock `invoke`,
    /// Vertex `rawPredict`/`predict`, Workers AI `/run/`).
    Opaque,
    /// A model list (GET/HEAD).
    Models,
    /// Anything else, reached through a `pass_through` grant.
    Granted,
}

impl Endpoint {
    /// Whether a request here spends tokens the proxy cannot count.
    pub fn usage_unreadable(self, method: &str) -> bool {
        match self {
            Endpoint::Opaque => true,
            Endpoint::Granted => !matches!(method, "GET" | "HEAD" | "DELETE" | "OPTIONS"),
            _ => false,
        }
    }

    /// Whether it is one of a provider's inference endpoints (its body may
    /// name stored objects, and is read for a client key).
    pub fn inference(self) -> bool {
        !matches!(self, Endpoint::Models | Endpoint::Granted)
    }

    /// Whether a request here spends no tokens at all.
    pub fn free(self, method: &str) -> bool {
        matches!(self, Endpoint::Count | Endpoint::Models)
            || matches!(method, "GET" | "HEAD" | "DELETE" | "OPTIONS")
    }
}

/// `/{provider}{rest}` for `caller`: the provider's inference and model-list
/// endpoints with `{provider}/*` (or `*`), anything under a `pass_through`
/// grant; else a 403. The all-access key reaches every path (as
/// [`Endpoint::Granted`]).
pub fn pass_through(
    caller: &Caller,
    provider: &Provider,
    method: &str,
    rest: &str,
    src: &dyn SettingSource,
) -> Result<Endpoint, ErrorReply> {
    self::method(method)?;
    // The all-access key reaches every path; what it is matters only to a
    // client key (its limits), so it is not worked out here.
    let Some(key) = &caller.key else {
        return Ok(Endpoint::Granted);
    };
    let known = endpoint(provider, method, rest, src);
    let full = format!("/{}{}", provider.name, rest);
    let granted = key.pass_through.iter().any(|p| has_prefix(&full, p));
    let wildcard = format!("{}/*", provider.name);
    match known {
        Some(e) if caller.allows(&wildcard) => Ok(e),
        _ if granted => Ok(known.unwrap_or(Endpoint::Granted)),
        Some(_) => Err(not_allowed(caller, &wildcard)),
        None => Err(refused(
            403,
            "permission_error",
            "endpoint_not_allowed",
            format!(
                "the proxy key '{}' may reach only the inference and model-list endpoints of \
                 '{}'; {} {} needs a 'pass_through' grant",
                printable(&caller.name),
                provider.name,
                printable(method),
                printable(&full)
            ),
        )),
    }
}

/// `path` equals `prefix` or continues it at a segment boundary.
fn has_prefix(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|tail| tail.is_empty() || tail.starts_with('/'))
}

/// Which known endpoint `method` `rest` (the client's path after
/// `/{provider}`) is at `provider`, if any. Paths are compared relative to
/// the provider's own base path (a base-URL override does not change what a
/// path is), segment by segment; a literal segment must be written as it
/// is (no percent-encoding).
pub fn endpoint(
    provider: &Provider,
    method: &str,
    rest: &str,
    src: &dyn SettingSource,
) -> Option<Endpoint> {
    let base = provider
        .spec
        .and_then(|s| providers::default_base(s, src).ok())
        .unwrap_or_else(|| provider.base.clone());
    let joined = base.join_path(rest);
    let relative = joined.strip_prefix(&base.path).unwrap_or(&joined);
    let path: Vec<&str> = relative.split('/').skip(1).collect();
    let read = matches!(method, "GET" | "HEAD");
    let post = method == "POST";
    let is = |p: &Option<String>| {
        p.as_deref()
            .is_some_and(|p| segments(p.split('?').next().unwrap_or_default()) == path)
    };
    // The table's own paths.
    if post {
        if is(&provider.chat_path) {
            return Some(Endpoint::Chat);
        }
        let legacy = provider
            .chat_path
            .as_deref()
            .and_then(|p| p.strip_suffix("/chat/completions"))
            .map(|p| format!("{p}/completions"));
        if is(&legacy) {
            return Some(Endpoint::Completions);
        }
        if is(&provider.messages_path) || is(&responses_path(provider)) {
            return Some(Endpoint::Generate);
        }
        let count = provider
            .messages_path
            .as_deref()
            .map(|p| format!("{p}/count_tokens"));
        let input_tokens = responses_path(provider).map(|p| format!("{p}/input_tokens"));
        if is(&count) || is(&input_tokens) {
            return Some(Endpoint::Count);
        }
        if is(&provider.embeddings_path) {
            return Some(Endpoint::Embed);
        }
    }
    if read {
        if let Some(models) = provider.models_path.as_deref() {
            let models = segments(models.split('?').next().unwrap_or_default());
            let tail = path.get(models.len()..).unwrap_or_default();
            if !models.is_empty() && path.starts_with(&models) && listing(tail) {
                return Some(Endpoint::Models);
            }
        }
    }
    match provider.spec.map(|s| (s.kind, s.route)) {
        Some((ProviderKind::Standard, "google-ai-studio")) => gemini(&path, method),
        Some((ProviderKind::Standard, "workers-ai")) => match path.as_slice() {
            ["run", model @ ..] if post && !model.is_empty() => Some(Endpoint::Opaque),
            _ => None,
        },
        Some((ProviderKind::AzureOpenAi, _)) => match path.as_slice() {
            ["deployments", d, tail @ ..] if post && plain(d) => match tail {
                ["chat", "completions"] => Some(Endpoint::Chat),
                ["completions"] => Some(Endpoint::Completions),
                ["embeddings"] => Some(Endpoint::Embed),
                _ => None,
            },
            ["models", tail @ ..] if read && listing(tail) => Some(Endpoint::Models),
            _ => None,
        },
        Some((ProviderKind::GoogleVertexAi, _)) => vertex(provider, &path, method),
        Some((ProviderKind::AwsBedrock, _)) => match path.as_slice() {
            ["model", id, action] if post && !id.is_empty() => match *action {
                "converse" | "converse-stream" => Some(Endpoint::Generate),
                "count-tokens" => Some(Endpoint::Count),
                "invoke" | "invoke-with-response-stream" => Some(Endpoint::Opaque),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// The Responses API path of `provider`, if it speaks it natively.
fn responses_path(provider: &Provider) -> Option<String> {
    provider
        .spec
        .and_then(|s| s.responses_path)
        .map(str::to_string)
}

fn segments(path: &str) -> Vec<&str> {
    path.split('/').skip(1).collect()
}

/// A segment that names something (a model, a deployment) and hides no
/// other path: not empty, no encoded `/` or `\`.
fn plain(segment: &str) -> bool {
    let lower = segment.to_ascii_lowercase();
    !segment.is_empty() && !lower.contains("%2f") && !lower.contains("%5c")
}

fn literal(tail: &[&str]) -> bool {
    tail.iter().all(|s| plain(s))
}

/// The rest of a model-list path: a model's name, no action on it.
fn listing(tail: &[&str]) -> bool {
    literal(tail) && tail.iter().all(|s| !s.contains(':'))
}

/// Gemini API actions on a model (`models/{m}:{action}`).
fn gemini_action(segment: &str) -> Option<Endpoint> {
    let (model, action) = segment.split_once(':')?;
    if !plain(model) {
        return None;
    }
    Some(match action {
        "generateContent" | "streamGenerateContent" => Endpoint::Generate,
        "countTokens" => Endpoint::Count,
        "embedContent" | "batchEmbedContents" => Endpoint::Embed,
        _ => return None,
    })
}

fn version(segment: &str) -> bool {
    matches!(segment, "v1" | "v1beta" | "v1alpha" | "v1beta1")
}

/// Google AI Studio: `/{version}/models/{m}:{action}` and the model lists.
fn gemini(path: &[&str], method: &str) -> Option<Endpoint> {
    match path {
        [v, "models", m] if version(v) && method == "POST" => gemini_action(m),
        [v, "models", tail @ ..] if version(v) && matches!(method, "GET" | "HEAD") => {
            listing(tail).then_some(Endpoint::Models)
        }
        [v, "openai", "models", tail @ ..]
            if version(v) && matches!(method, "GET" | "HEAD") && listing(tail) =>
        {
            Some(Endpoint::Models)
        }
        _ => None,
    }
}

/// Vertex AI: publisher models' actions in the configured project (express
/// mode: the global publisher path), and the OpenAI-compatible chat.
fn vertex(provider: &Provider, path: &[&str], method: &str) -> Option<Endpoint> {
    if method != "POST" {
        return None;
    }
    let project = match &provider.cloud {
        Some(Cloud::Vertex { project, .. }) => project.as_deref(),
        _ => None,
    };
    let ours = |p: &str| project.is_none_or(|ours| ours == p);
    let action = |m: &str| {
        let (model, action) = m.split_once(':')?;
        if !plain(model) {
            return None;
        }
        match action {
            "rawPredict" | "streamRawPredict" | "predict" => Some(Endpoint::Opaque),
            _ => gemini_action(m),
        }
    };
    match path {
        [v, "projects", p, "locations", l, "publishers", publisher, "models", m]
            if version(v) && ours(p) && plain(l) && plain(publisher) =>
        {
            action(m)
        }
        [v, "projects", p, "locations", l, "endpoints", "openapi", "chat", "completions"]
            if version(v) && ours(p) && plain(l) =>
        {
            Some(Endpoint::Chat)
        }
        [v, "publishers", publisher, "models", m] if version(v) && plain(publisher) => action(m),
        _ => None,
    }
}

#[cfg(test)]
#[path = "grant_tests.rs"]
mod tests;
