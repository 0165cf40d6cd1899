//! The request pipeline (SPEC §2): CORS, `/key/` selection, `/ping`, auth,
//! then the route table. Turns a request head into a [`Decision`].

use crate::accounting;
use crate::client_keys::Caller;
use crate::errors::{Dialect, ErrorReply};
use crate::gateway::{self, GatewayTarget};
use crate::grant::{self, Endpoint};
use crate::handlers::models::{self, ModelsPlan};
use crate::handlers::status::{self, StatusPlan};
use crate::handlers::{
    chat_completions, compat, embeddings, gemini, messages, pass_through, responses, universal,
};
use crate::host::Host;
use crate::keys::KeySelection;
use crate::limits::{self, Reservation};
use crate::reply::Reply;
use crate::request::RequestHead;
use crate::settings::{self, SettingSource};
use crate::team;
use crate::upstream::chat;
use crate::upstream::{Forward, Inbound};
use gemini::GeminiCall;

/// What to do with a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Answer directly.
    Reply(Reply),
    /// Answer with this error, in the client's dialect.
    Error(ErrorReply),
    /// Forward to a provider (or the gateway), streaming both bodies;
    /// failing attempts fall back to the next key.
    PassThrough(Forward),
    /// Read the body (at most `limit` bytes), then plan it with [`plan_body`].
    WithBody {
        route: BodyRoute,
        limit: u64,
        selection: Option<KeySelection>,
        gateway: Option<GatewayTarget>,
        /// Request headers the caller's grant removed (named to the client).
        dropped: Vec<String>,
    },
    /// Fetch these model lists concurrently and merge them.
    Models(ModelsPlan),
    /// Check these keys concurrently and report.
    Status(StatusPlan),
}

/// A route whose plan needs the request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyRoute {
    /// `POST /v1/chat/completions`.
    ChatCompletions,
    /// `POST /v1/embeddings`.
    Embeddings,
    /// `POST /v1/messages`.
    Messages,
    /// `POST /v1/responses`.
    Responses,
    /// `POST /v1/messages/count_tokens`.
    CountTokens,
    /// `POST /` (or `/g/{gateway}/`) with a gateway: the Universal Endpoint.
    Universal,
    /// `POST /v1beta/models/{model}:{method}` (or `/v1/`): the Gemini API.
    Gemini(GeminiCall),
    /// A pass-through request of a token-limited client key: its body is
    /// read for the estimate (and a stream asked for its usage), then sent
    /// as planned.
    PassThrough(Box<Forward>, Endpoint),
}

pub use crate::upstream::Planned;

impl BodyRoute {
    /// Whether its body is embeddings input (texts only: a smaller limit).
    pub fn embeds(&self) -> bool {
        match self {
            BodyRoute::Embeddings => true,
            BodyRoute::Gemini(call) => {
                matches!(
                    call.method,
                    gemini::Method::Embed | gemini::Method::BatchEmbed
                )
            }
            BodyRoute::PassThrough(_, endpoint) => *endpoint == Endpoint::Embed,
            _ => false,
        }
    }
}

/// Plans a [`Decision::WithBody`] once its body has been read: a model
/// route is planned once per target; a client key's model list is checked.
/// (Without the grant's dropped headers or a reservation to keep: see
/// [`plan_granted`], which the edges call.)
#[allow(clippy::too_many_arguments)]
pub fn plan_body(
    route: BodyRoute,
    head: &RequestHead,
    body: &[u8],
    src: &dyn SettingSource,
    host: &dyn Host,
    selection: Option<KeySelection>,
    gateway: Option<&GatewayTarget>,
    caller: Option<&Caller>,
) -> Planned {
    let all = Caller::all_access();
    let caller = caller.unwrap_or(&all);
    plan_granted(
        route,
        head,
        body,
        src,
        host,
        selection,
        gateway,
        caller,
        &[],
        &mut None,
    )
}

/// What plan checks read of a body's top level, in one borrowed pass.
#[derive(Default)]
struct BodyFacts {
    /// The body's `model` (the Gemini path's for the Gemini API).
    model: Option<String>,
    /// A model list of the body's own (OpenRouter's `models`).
    models: Vec<String>,
    /// The most output tokens it asks for.
    max_output: Option<u64>,
    /// Whether it asks for a stream.
    stream: bool,
    /// Whether it asks for thinking (a translation may add a budget).
    thinks: bool,
}

/// The most output a translation adds for thinking (`reasoning_effort:
/// high` becomes a 16384-token budget on top of a `max_tokens` below it).
const THINKING_HEADROOM: u64 = 16_384;

/// An output bound as a provider reads it: a non-negative integer, an
/// integral float, or either as a string.
fn output_number(raw: &serde_json::value::RawValue) -> Option<u64> {
    let text = raw.get().trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    let n: f64 = text.trim().parse().ok()?;
    (n.is_finite() && n >= 0.0).then(|| n.ceil().min(u64::MAX as f64) as u64)
}

impl BodyFacts {
    fn read(route: &BodyRoute, body: &[u8]) -> BodyFacts {
        use crate::translate::raw::{as_bool, as_str, items, parse_object, Fields};
        let mut facts = BodyFacts::default();
        if let BodyRoute::Gemini(call) = route {
            facts.model = Some(call.model.clone());
            facts.stream = call.method == gemini::Method::Stream;
        }
        let Ok(top) = parse_object::<Fields>(body) else {
            return facts;
        };
        if !matches!(route, BodyRoute::Gemini(_) | BodyRoute::Universal) {
            facts.model = top.get("model").and_then(as_str).map(|m| m.into_owned());
            facts.stream = top.get("stream").and_then(as_bool) == Some(true) || facts.stream;
        }
        if let Some(list) = top.get("models").and_then(items) {
            facts.models = list
                .into_iter()
                .map(|m| as_str(m).map_or_else(|| m.get().to_string(), |s| s.into_owned()))
                .collect();
        }
        // The output bound the upstream may be sent, whichever field a
        // translation reads: the largest of them (numbers as Google's
        // APIs read them too: a string or an integral float), plus a
        // thinking budget a translation may add.
        let mut bound: Option<u64> = None;
        let mut take = |raw: Option<&serde_json::value::RawValue>| {
            if let Some(n) = raw.and_then(output_number) {
                bound = Some(bound.map_or(n, |b| b.max(n)));
            }
        };
        for f in [
            "max_tokens",
            "max_completion_tokens",
            "max_output_tokens",
            "maxOutputTokens",
        ] {
            take(top.get(f));
        }
        for config in ["generationConfig", "generation_config", "inferenceConfig"] {
            if let Some(c) = top.get(config).and_then(Fields::of) {
                for f in [
                    "maxOutputTokens",
                    "max_output_tokens",
                    "maxTokens",
                    "max_tokens",
                ] {
                    take(c.get(f));
                }
                if c.get("thinkingConfig").is_some() || c.get("thinking_config").is_some() {
                    facts.thinks = true;
                }
            }
        }
        facts.thinks |= ["reasoning_effort", "reasoning", "thinking"]
            .iter()
            .any(|f| top.get(f).is_some_and(|v| v.get() != "null"));
        facts.max_output = bound.map(|b| {
            if facts.thinks {
                b.saturating_add(THINKING_HEADROOM)
            } else {
                b
            }
        });
        facts
    }
}

/// The tokens a body route's request reserves against its key's limits.
fn reservation(route: &BodyRoute, body: &[u8], facts: &BodyFacts) -> u64 {
    let len = body.len() as u64;
    // Thinking without a bound: the default output plus its budget.
    let max_output = facts.max_output.or(facts
        .thinks
        .then_some(limits::DEFAULT_OUTPUT_TOKENS + THINKING_HEADROOM));
    match route {
        BodyRoute::CountTokens => 0,
        BodyRoute::Embeddings => limits::estimate(len, None, false),
        BodyRoute::Gemini(call) => match call.method {
            gemini::Method::CountTokens => 0,
            gemini::Method::Embed | gemini::Method::BatchEmbed => {
                limits::estimate(len, None, false)
            }
            _ => limits::estimate(len, max_output, true),
        },
        BodyRoute::PassThrough(fwd, endpoint) => {
            let method = fwd.first().method.as_str();
            match endpoint {
                _ if endpoint.free(method) => 0,
                Endpoint::Embed => limits::estimate(len, None, false),
                _ => limits::estimate(len, max_output, true),
            }
        }
        _ => limits::estimate(len, max_output, true),
    }
}

/// A 403 for a token-limited key whose request's spending could not be read.
fn usage_not_readable(caller: &Caller, what: &str) -> ErrorReply {
    ErrorReply::new(
        403,
        "permission_error",
        "usage_not_readable",
        format!(
            "the proxy key '{}' has token limits, and the proxy cannot read what {what} spends",
            crate::errors::printable(&caller.name)
        ),
    )
}

/// [`plan_body`] with the grant's verdict: the request headers it removed
/// (`dropped`, named in the answer) and, for a key with limits, the
/// admission — its reservation kept in `reserved` for the ledger to settle.
#[allow(clippy::too_many_arguments)]
pub fn plan_granted(
    route: BodyRoute,
    head: &RequestHead,
    body: &[u8],
    src: &dyn SettingSource,
    host: &dyn Host,
    selection: Option<KeySelection>,
    gateway: Option<&GatewayTarget>,
    caller: &Caller,
    dropped: &[String],
    reserved: &mut Option<Reservation>,
) -> Planned {
    let dialect = dialect_of(&head.path);
    let refuse = |e: ErrorReply| Planned::Reply(e.into_reply_for(dialect));
    let trust = grant::trust(caller, head);
    let limited = caller.key.as_ref().is_some_and(|k| k.has_limits());
    let tokens = caller.key.as_ref().is_some_and(|k| k.limits_tokens());
    if let BodyRoute::PassThrough(fwd, endpoint) = &route {
        if endpoint.inference() {
            if let Err(e) = grant::stored_objects(caller, &[fwd.first().provider.as_str()], body) {
                return refuse(e);
            }
        }
        let facts = if tokens {
            BodyFacts::read(&route, body)
        } else {
            BodyFacts::default()
        };
        let estimate = reservation(&route, body, &facts);
        let BodyRoute::PassThrough(fwd, endpoint) = route else {
            return refuse(ErrorReply::bad_gateway("no pass-through plan"));
        };
        match team::admit(caller, host, estimate) {
            Ok(r) => *reserved = r,
            Err(e) => return refuse(e),
        }
        return match pass_through::with_body(*fwd, endpoint, body, facts.stream, facts.max_output) {
            Some(mut fwd) => {
                fwd.granted(trust, dropped);
                Planned::Forward(fwd)
            }
            None => refuse(usage_not_readable(caller, "this stream")),
        };
    }
    let req = Inbound {
        head,
        src,
        host,
        selection,
        gateway,
    };
    let routes = match team::model_routes(src) {
        Ok(r) => r,
        Err(e) => return refuse(e),
    };
    let restricted = caller.restricted();
    // The Universal Endpoint names providers, endpoints and headers in the
    // body: the all-access key's.
    if route == BodyRoute::Universal {
        if let Err(e) = grant::operator_only(caller, "the Universal Endpoint") {
            return refuse(e);
        }
    }
    let facts = if routes.is_empty() && caller.key.is_none() {
        BodyFacts::default()
    } else {
        BodyFacts::read(&route, body)
    };
    let named = facts.model.as_deref();
    let found = named.and_then(|m| crate::model_routes::find(&routes, m));
    if let Some(r) = found {
        if let Err(e) = grant::route(caller, &r.name) {
            return refuse(e);
        }
        if caller.key.is_some() {
            let providers: Vec<&str> = r
                .targets
                .iter()
                .map(|t| t.split_once('/').map_or(t.as_str(), |(p, _)| p))
                .collect();
            if let Err(e) = grant::stored_objects(caller, &providers, body) {
                return refuse(e);
            }
        }
        // A route's client does not choose models beyond the route's.
        if !facts.models.is_empty() && caller.key.is_some() && !caller.allows("*") {
            return refuse(grant::not_allowed(caller, &facts.models[0]));
        }
    } else if let (true, Some(model)) = (restricted, named) {
        let full = canonical(model, &route, src);
        if let Err(e) = grant::model(caller, model, &full) {
            return refuse(e);
        }
        let provider = full.split_once('/').map_or("", |(p, _)| p);
        if let Err(e) = grant::body_models(caller, provider, &facts.models) {
            return refuse(e);
        }
    }
    if found.is_none() && caller.key.is_some() {
        let full = named.map(|m| canonical(m, &route, src)).unwrap_or_default();
        let provider = full.split_once('/').map_or(full.as_str(), |(p, _)| p);
        if let Err(e) = grant::stored_objects(caller, &[provider], body) {
            return refuse(e);
        }
    }
    if limited {
        match team::admit(caller, host, reservation(&route, body, &facts)) {
            Ok(r) => *reserved = r,
            Err(e) => return refuse(e),
        }
    }
    let planned = match found {
        Some(r) => team::plan_route(r, host, |target| match &route {
            BodyRoute::Gemini(call) => {
                let call = GeminiCall {
                    model: target.to_string(),
                    ..call.clone()
                };
                plan_one(&BodyRoute::Gemini(call), &req, body)
            }
            _ => match with_model(body, target) {
                Ok(body) => plan_one(&route, &req, &body),
                Err(e) => refuse(e),
            },
        }),
        None => plan_one(&route, &req, body),
    };
    match planned {
        Planned::Forward(mut fwd) => {
            if tokens && facts.stream && facts.max_output.is_none() && !stream_reports_usage(&fwd) {
                return refuse(usage_not_readable(caller, "a stream from this provider"));
            }
            fwd.granted(trust, dropped);
            Planned::Forward(fwd)
        }
        reply => reply,
    }
}

/// Whether a streamed answer of every target of `fwd` carries its usage:
/// not from an OpenAI-compatible chat endpoint that takes no
/// `stream_options` (the proxy cannot ask it for usage).
fn stream_reports_usage(fwd: &Forward) -> bool {
    use crate::translate::ResponseMapping;
    let mut next = Some(fwd);
    while let Some(f) = next {
        let native = matches!(
            f.response,
            ResponseMapping::MessagesToChat { .. } | ResponseMapping::ConverseToChat { .. }
        );
        let takes_options = crate::providers::accepts(&f.first().provider, "stream_options");
        if !native && !takes_options {
            return false;
        }
        next = f.fallback.as_deref();
    }
    true
}

/// One plan of `route` for `body`.
fn plan_one(route: &BodyRoute, req: &Inbound, body: &[u8]) -> Planned {
    let dialect = dialect_of(&req.head.path);
    let planned = match route {
        BodyRoute::ChatCompletions => chat_completions::plan(req, body).map(Planned::Forward),
        BodyRoute::Responses => responses::plan(req, body).map(Planned::Forward),
        BodyRoute::Embeddings => embeddings::plan(req, body).map(Planned::Forward),
        BodyRoute::Messages => messages::plan(req, body, false),
        BodyRoute::CountTokens => messages::plan(req, body, true),
        BodyRoute::Gemini(call) => gemini::plan(req, body, call),
        BodyRoute::Universal => match req.gateway {
            Some(gw) => universal::plan(req.head, body, req.src, gw, req.selection, req.host)
                .map(|up| Planned::Forward(Forward::single(up))),
            None => Err(ErrorReply::not_found(
                "the Universal Endpoint needs a gateway",
            )),
        },
        BodyRoute::PassThrough(fwd, _) => Ok(Planned::Forward((**fwd).clone())),
    };
    planned.unwrap_or_else(|e| Planned::Reply(e.into_reply_for(dialect)))
}

/// `model` as `provider/model`: a bare name on the Messages API is
/// Anthropic's, on the Gemini API Google AI Studio's, elsewhere the
/// default provider's.
fn canonical(model: &str, route: &BodyRoute, src: &dyn SettingSource) -> String {
    let bare = match route {
        BodyRoute::Messages | BodyRoute::CountTokens => Some("anthropic"),
        BodyRoute::Gemini(_) => Some("google-ai-studio"),
        _ => None,
    };
    match chat::split_model(model, src, bare) {
        Ok((provider, model)) => format!("{provider}/{model}"),
        Err(_) => model.to_string(),
    }
}

/// `body` with its top-level `model` replaced by `model`, every other byte
/// as the client sent it.
fn with_model(body: &[u8], model: &str) -> Result<Vec<u8>, ErrorReply> {
    use crate::translate::raw::{parse_object, splice, Fields};
    let top: Fields = parse_object(body).map_err(chat::body_error)?;
    Ok(splice(body, chat::model_field(&top)?, model))
}

/// A decision plus what the log line says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub decision: Decision,
    /// The route kind: `ping`, `preflight`, `pass-through`, `auth`, `not-found`, ...
    pub route: &'static str,
    pub provider: Option<String>,
    /// Something the operator must hear about (a missing or malformed
    /// setting): the edge logs it. Names settings, never their values.
    pub warning: Option<String>,
    /// The client's dialect (errors are rendered in it).
    pub dialect: Dialect,
    /// Who sent it (once authenticated).
    pub caller: Option<Caller>,
    /// The request head as the caller's grant lets it go on (a client key's
    /// account and gateway headers removed), when that differs from the
    /// head received: the edge uses it from here on.
    pub head: Option<RequestHead>,
    /// What the admission reserved against the caller's limits (settled by
    /// the ledger when the request ends).
    pub reserved: Option<Reservation>,
}

impl Decided {
    fn reply(route: &'static str, reply: Reply) -> Decided {
        Decided {
            decision: Decision::Reply(reply),
            route,
            provider: None,
            warning: None,
            dialect: Dialect::OpenAi,
            caller: None,
            head: None,
            reserved: None,
        }
    }

    fn error(route: &'static str, e: ErrorReply) -> Decided {
        let warning = (e.code == "proxy_misconfigured" || e.code == "proxy_key_not_configured")
            .then(|| e.message.clone());
        Decided {
            decision: Decision::Error(e),
            route,
            provider: None,
            warning,
            dialect: Dialect::OpenAi,
            caller: None,
            head: None,
            reserved: None,
        }
    }

    /// The reply, when the decision is to answer directly (errors rendered
    /// in the client's dialect).
    pub fn reply_now(&self) -> Option<Reply> {
        match &self.decision {
            Decision::Reply(r) => Some(r.clone()),
            Decision::Error(e) => Some(e.clone().into_reply_for(self.dialect)),
            _ => None,
        }
    }
}

/// The dialect a client speaks on `path` (after any `/key/` and `/g/`
/// prefixes): Anthropic's on the Messages API routes, Google's on the
/// Gemini API's, OpenAI's everywhere else.
pub fn dialect_of(path: &str) -> Dialect {
    let mut p = path;
    for prefix in ["/key/", "/g/", "/key/"] {
        if let Some(after) = p.strip_prefix(prefix) {
            p = after.find('/').map_or("", |i| &after[i..]);
        }
    }
    if p == "/v1/messages" || p == "/v1/messages/count_tokens" {
        Dialect::Anthropic
    } else if gemini::is_gemini_path(p) || p == "/v1beta/models" {
        Dialect::Gemini
    } else {
        Dialect::OpenAi
    }
}

/// Decides what to do with `head`, asking `src` and `host` only for what
/// this request needs.
pub fn decide(head: &RequestHead, src: &dyn SettingSource, host: &dyn Host) -> Decided {
    if head.method == "OPTIONS" {
        return Decided::reply("preflight", preflight(head));
    }
    Decided {
        dialect: dialect_of(&head.path),
        ..decide_inner(head, src, host)
    }
}

fn decide_inner(head: &RequestHead, src: &dyn SettingSource, host: &dyn Host) -> Decided {
    // `/key/{sel}/...`: key selection, prefix removed.
    let (mut selection, mut path) = match strip_key_selection(&head.path) {
        Ok(found) => found,
        Err(e) => return Decided::error("key-selection", e),
    };

    if path == "/ping" {
        return Decided::reply("ping", Reply::text(200, "Pong"));
    }

    if let Err(e) = check_content_length(head) {
        return Decided::error("bad-request", e);
    }
    let caller = match team::authenticate(head, src, host) {
        Ok(c) => c,
        Err(e) => return Decided::error("auth", e),
    };
    // The grant, before anything is planned: what this caller may send on.
    let trust = grant::trust(&caller, head);
    let granted = grant::head(&caller, head);
    let (head, dropped): (&RequestHead, Vec<String>) = match &granted {
        Some((h, d)) => (h, d.clone()),
        None => (head, Vec::new()),
    };

    // `/g/{gateway}/...`: this request's gateway, prefix removed; otherwise the default one.
    let gateway = match path.strip_prefix("/g/") {
        Some(after) => {
            let (name, rest) = after.split_at(after.find('/').unwrap_or(after.len()));
            path = if rest.is_empty() { "/" } else { rest };
            let default = settings::value(src, "AI_GATEWAY_NAME");
            grant::gateway(&caller, name, default.as_deref().map(str::trim))
                .and_then(|()| gateway::explicit(name, src).map(Some))
        }
        None => gateway::default_gateway(src),
    };
    let gateway = match gateway {
        Ok(g) => g,
        Err(e) => return Decided::error("gateway", e),
    };
    // A `/key/` prefix may also follow `/g/{gateway}/`.
    if selection.is_none() {
        match strip_key_selection(path) {
            Ok((sel, rest)) => (selection, path) = (sel, rest),
            Err(e) => return Decided::error("key-selection", e),
        }
    }

    let routing = Routing {
        head,
        path,
        src,
        host,
        selection,
        gateway: gateway.as_ref(),
        caller: &caller,
    };
    let (mut decided, endpoint) = match own_api(&routing) {
        Some(d) => (d, None),
        None => pass_through(&routing),
    };
    let limited = caller.key.as_ref().is_some_and(|k| k.has_limits());
    match &mut decided.decision {
        Decision::WithBody { dropped: d, .. } => *d = dropped,
        Decision::PassThrough(fwd) => {
            fwd.granted(trust, &dropped);
            let endpoint = endpoint.unwrap_or(Endpoint::Granted);
            let tokens = caller.key.as_ref().is_some_and(|k| k.limits_tokens());
            let method = head.method.as_str();
            let read = caller.key.is_some()
                && head.has_body()
                && (endpoint.inference() || (tokens && !endpoint.free(method)));
            if tokens && endpoint.usage_unreadable(method) {
                decided.decision = Decision::Error(usage_not_readable(&caller, "this endpoint"));
            } else if read {
                // A client key's inference body is read first: what it names
                // is checked, and its estimate reserved at admission.
                let route = BodyRoute::PassThrough(Box::new(fwd.clone()), endpoint);
                decided.decision = match body_limit(&route, src, head) {
                    Ok(limit) => Decision::WithBody {
                        route,
                        limit,
                        selection,
                        gateway: None,
                        dropped,
                    },
                    Err(e) => Decision::Error(e),
                };
            } else if limited {
                match team::admit(&caller, host, 0) {
                    Ok(r) => decided.reserved = r,
                    Err(e) => decided.decision = Decision::Error(e),
                }
            }
        }
        Decision::Models(_) if limited => match team::admit(&caller, host, 0) {
            Ok(r) => decided.reserved = r,
            Err(e) => decided.decision = Decision::Error(e),
        },
        _ => {}
    }
    decided.caller = Some(caller);
    decided.head = granted.map(|(h, _)| h);
    decided
}

/// The body-size limit of `route` for `head`: a 413 when its
/// `Content-Length` is over it.
fn body_limit(
    route: &BodyRoute,
    src: &dyn SettingSource,
    head: &RequestHead,
) -> Result<u64, ErrorReply> {
    let limit = crate::body_limit::max_bytes(route.embeds(), src);
    match content_length(head) {
        Some(len) if len > limit => Err(ErrorReply::too_large(limit)),
        _ => Ok(limit),
    }
}

/// What routing a request after its prefixes and auth needs.
struct Routing<'a> {
    head: &'a RequestHead,
    /// The path with `/key/` and `/g/` prefixes removed.
    path: &'a str,
    src: &'a dyn SettingSource,
    host: &'a dyn Host,
    selection: Option<KeySelection>,
    gateway: Option<&'a GatewayTarget>,
    caller: &'a Caller,
}

/// Splits a leading `/key/{sel}` off `path`.
fn strip_key_selection(path: &str) -> Result<(Option<KeySelection>, &str), ErrorReply> {
    let Some(after) = path.strip_prefix("/key/") else {
        return Ok((None, path));
    };
    let (sel, rest) = after.split_at(after.find('/').unwrap_or(after.len()));
    let selection = KeySelection::parse(sel).ok_or_else(|| {
        ErrorReply::bad_request(
            "invalid key selection: use /key/{i}/, /key/{i}-{j}/, /key/{i}-/ or /key/-{j}/",
            "invalid_key_selection",
        )
    })?;
    Ok((Some(selection), if rest.is_empty() { "/" } else { rest }))
}

/// The proxy's own routes: chat completions, embeddings, messages, the
/// Responses and Gemini APIs, models, status, the
/// gateway's `/compat/...` and Universal Endpoint. `None` when `path` is
/// none of them.
fn own_api(r: &Routing) -> Option<Decided> {
    let Routing {
        head,
        path,
        src,
        host,
        selection,
        gateway,
        caller,
    } = *r;
    let method = head.method.as_str();
    let get_only = |route| {
        (method != "GET" && method != "HEAD")
            .then(|| Decided::reply(route, method_not_allowed("GET, HEAD")))
    };
    let decided = |route, decision| Decided {
        decision,
        route,
        provider: None,
        warning: None,
        dialect: Dialect::OpenAi,
        caller: None,
        head: None,
        reserved: None,
    };
    let with_body = |route: BodyRoute, name: &'static str| {
        if method != "POST" {
            return Decided::reply(name, method_not_allowed("POST"));
        }
        match body_limit(&route, src, head) {
            Err(e) => Decided::error(name, e),
            Ok(limit) => decided(
                name,
                Decision::WithBody {
                    route,
                    limit,
                    selection,
                    gateway: gateway.cloned(),
                    dropped: Vec::new(),
                },
            ),
        }
    };
    Some(match path {
        "/chat/completions" | "/v1/chat/completions" => {
            with_body(BodyRoute::ChatCompletions, "chat")
        }
        "/embeddings" | "/v1/embeddings" => with_body(BodyRoute::Embeddings, "embeddings"),
        "/v1/messages" => with_body(BodyRoute::Messages, "messages"),
        "/responses" | "/v1/responses" => with_body(BodyRoute::Responses, "responses"),
        "/v1/messages/count_tokens" => with_body(BodyRoute::CountTokens, "count-tokens"),
        "/models" | "/v1/models" | "/v1beta/models" => get_only("models").unwrap_or_else(|| {
            let mut plan = models::plan(src, host, gateway);
            plan.gemini = gemini::lists_models(path, head);
            if let Err(e) = models::add_routes(&mut plan, src, caller) {
                return Decided::error("models", e);
            }
            decided("models", Decision::Models(plan))
        }),
        "/status" if caller.key.is_some() => Decided::error(
            "status",
            ErrorReply::new(
                403,
                "permission_error",
                "admin_only",
                "/status needs the all-access key (PROXY_API_KEY)",
            ),
        ),
        "/status" => get_only("status").unwrap_or_else(|| {
            decided("status", Decision::Status(status::plan(src, gateway, host)))
        }),
        "/usage" | "/v1/usage" => get_only("usage").unwrap_or_else(|| {
            let keys = match team::client_keys(src) {
                Ok(k) => k,
                Err(e) => return Decided::error("usage", e),
            };
            // Counts against the key's rpm like any request.
            let reserved = match team::admit(caller, host, 0) {
                Ok(r) => r,
                Err(e) => return Decided::error("usage", e),
            };
            let store = host.store();
            let now = if store.is_some() { host.now_ms() } else { 0 };
            match accounting::usage_reply(store, caller, &keys, now) {
                Ok(r) => Decided {
                    reserved,
                    ..Decided::reply("usage", r)
                },
                Err(e) => Decided::error("usage", e),
            }
        }),
        "/" if gateway.is_some() && method == "POST" => {
            with_body(BodyRoute::Universal, "universal")
        }
        _ if gemini::is_gemini_path(path) => match gemini::call_of(path)? {
            Ok(call) => with_body(BodyRoute::Gemini(call), "gemini"),
            Err(e) => Decided::error("gemini", e),
        },
        _ => {
            let gw = gateway?;
            let rest = path
                .strip_prefix("/compat")
                .filter(|r| r.is_empty() || r.starts_with('/'))?;
            if let Err(e) =
                grant::method(method).and_then(|()| grant::operator_only(caller, "/compat"))
            {
                return Some(Decided::error("compat", e));
            }
            match compat::plan(head, rest, src, gw) {
                Ok(up) => decided("compat", Decision::PassThrough(Forward::single(up))),
                Err(e) => Decided::error("compat", e),
            }
        }
    })
}

/// `/{provider}/{rest}`, through the gateway when it supports the provider,
/// as far as the caller's grant reaches (and which endpoint it is).
fn pass_through(r: &Routing) -> (Decided, Option<Endpoint>) {
    match pass_through::plan(
        r.head,
        r.path,
        r.src,
        r.host,
        r.selection,
        r.gateway,
        r.caller,
    ) {
        Ok((fwd, endpoint)) => (
            Decided {
                provider: Some(fwd.first().provider.clone()),
                decision: Decision::PassThrough(fwd),
                route: "pass-through",
                warning: None,
                dialect: Dialect::OpenAi,
                caller: None,
                head: None,
                reserved: None,
            },
            Some(endpoint),
        ),
        Err(refused) => {
            let route = if refused.error.status == 404 {
                "not-found"
            } else {
                "pass-through"
            };
            (
                Decided {
                    provider: refused.provider,
                    ..Decided::error(route, refused.error)
                },
                None,
            )
        }
    }
}

/// CORS preflight (SPEC §2.1).
fn preflight(head: &RequestHead) -> Reply {
    let origin = head.header("origin");
    let method = head.header("access-control-request-method");
    let mut reply = Reply::empty(204);
    if origin.is_some() && method.is_some() {
        reply.headers = vec![
            ("access-control-allow-origin".into(), "*".into()),
            (
                "access-control-allow-methods".into(),
                "GET,HEAD,POST,OPTIONS".into(),
            ),
            ("access-control-max-age".into(), "86400".into()),
        ];
        if let Some(h) = head.header("access-control-request-headers") {
            reply
                .headers
                .push(("access-control-allow-headers".into(), h.to_string()));
        }
    } else {
        reply.headers = vec![
            ("allow".into(), "GET, HEAD, POST, OPTIONS".into()),
            ("access-control-allow-origin".into(), "*".into()),
        ];
    }
    reply
}

fn method_not_allowed(allow: &str) -> Reply {
    let mut r = ErrorReply::new(
        405,
        "invalid_request_error",
        "method_not_allowed",
        format!("method not allowed here; use {allow}"),
    )
    .into_reply();
    r.headers.push(("allow".into(), allow.into()));
    r
}

/// The request's declared body length, if any (already validated).
pub fn content_length(head: &RequestHead) -> Option<u64> {
    head.header("content-length").and_then(|v| v.parse().ok())
}

/// A `Content-Length` that is not a plain number, or several that disagree, is a 400.
fn check_content_length(head: &RequestHead) -> Result<(), ErrorReply> {
    let mut seen: Option<&[u8]> = None;
    for (n, v) in &head.headers {
        if n != "content-length" {
            continue;
        }
        let valid = !v.is_empty() && v.len() <= 19 && v.iter().all(u8::is_ascii_digit);
        if !valid || seen.is_some_and(|s| s != v.as_slice()) {
            return Err(ErrorReply::bad_request(
                "invalid Content-Length header",
                "invalid_content_length",
            ));
        }
        seen = Some(v);
    }
    Ok(())
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
