//! The request pipeline (SPEC §2): CORS, `/key/` selection, `/ping`, auth,
//! then the route table. Turns a request head into a [`Decision`].

use crate::accounting;
use crate::client_keys::Caller;
use crate::errors::{Dialect, ErrorReply};
use crate::gateway::{self, GatewayTarget};
use crate::handlers::models::{self, ModelsPlan};
use crate::handlers::status::{self, StatusPlan};
use crate::handlers::{
    chat_completions, compat, embeddings, gemini, messages, pass_through, responses, universal,
};
use crate::host::Host;
use crate::keys::KeySelection;
use crate::reply::Reply;
use crate::request::RequestHead;
use crate::settings::SettingSource;
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
}

pub use crate::upstream::Planned;

/// Plans a [`Decision::WithBody`] once its body has been read: a model
/// route is planned once per target; a client key's model list is checked.
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
    let dialect = dialect_of(&head.path);
    let req = Inbound {
        head,
        src,
        host,
        selection,
        gateway,
    };
    let refuse = |e: ErrorReply| Planned::Reply(e.into_reply_for(dialect));
    let routes = match team::model_routes(src) {
        Ok(r) => r,
        Err(e) => return refuse(e),
    };
    let restricted = caller.filter(|c| c.restricted());
    // The Universal Endpoint names its providers in the body: all models.
    if let Some(c) = restricted.filter(|c| route == BodyRoute::Universal && !c.allows("*")) {
        return refuse(team::not_allowed(c, "*"));
    }
    let named = if routes.is_empty() && restricted.is_none() {
        None
    } else {
        named_model(&route, body)
    };
    if let Some(r) = named
        .as_deref()
        .and_then(|m| crate::model_routes::find(&routes, m))
    {
        if let Some(c) = restricted.filter(|c| !c.allows(&r.name)) {
            return refuse(team::not_allowed(c, &r.name));
        }
        return team::plan_route(r, host, |target| match &route {
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
        });
    }
    if let (Some(c), Some(model)) = (restricted, &named) {
        if !c.allows(model) && !c.allows(&canonical(model, &route, src)) {
            return refuse(team::not_allowed(c, model));
        }
    }
    plan_one(&route, &req, body)
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
    };
    planned.unwrap_or_else(|e| Planned::Reply(e.into_reply_for(dialect)))
}

/// The model a body route's request names (the body's top-level `model`,
/// or the Gemini path's), when it can be read; the plan reports a body it
/// cannot read.
fn named_model(route: &BodyRoute, body: &[u8]) -> Option<String> {
    match route {
        BodyRoute::Gemini(call) => Some(call.model.clone()),
        BodyRoute::Universal => None,
        _ => chat::parse_top_level(body)
            .ok()
            .and_then(|top| chat::model_of(&top).ok()),
    }
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

/// `body` with its top-level `model` replaced by `model`.
fn with_model(body: &[u8], model: &str) -> Result<Vec<u8>, ErrorReply> {
    let mut top = chat::parse_top_level(body)?;
    chat::set_model(&mut top, model);
    serde_json::to_vec(&top)
        .map_err(|_| ErrorReply::bad_request("could not encode the request body", "invalid_body"))
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

    // `/g/{gateway}/...`: this request's gateway, prefix removed; otherwise the default one.
    let gateway = match path.strip_prefix("/g/") {
        Some(after) => {
            let (name, rest) = after.split_at(after.find('/').unwrap_or(after.len()));
            path = if rest.is_empty() { "/" } else { rest };
            gateway::explicit(name, src).map(Some)
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
    let mut decided = own_api(&routing).unwrap_or_else(|| pass_through(&routing));
    if matches!(
        decided.decision,
        Decision::WithBody { .. } | Decision::PassThrough(_)
    ) {
        if let Err(e) = team::admit(&caller, host) {
            decided.decision = Decision::Error(e);
        }
    }
    decided.caller = Some(caller);
    decided
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
    };
    let body_limit = |route: &BodyRoute| -> Result<u64, ErrorReply> {
        let limit = crate::body_limit::max_bytes(route, src);
        match content_length(head) {
            Some(len) if len > limit => Err(ErrorReply::too_large(limit)),
            _ => Ok(limit),
        }
    };
    let with_body = |route: BodyRoute, name: &'static str| {
        if method != "POST" {
            return Decided::reply(name, method_not_allowed("POST"));
        }
        match body_limit(&route) {
            Err(e) => Decided::error(name, e),
            Ok(limit) => decided(
                name,
                Decision::WithBody {
                    route,
                    limit,
                    selection,
                    gateway: gateway.cloned(),
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
            let store = host.store();
            let now = if store.is_some() { host.now_ms() } else { 0 };
            match accounting::usage_reply(store, caller, &keys, now) {
                Ok(r) => Decided::reply("usage", r),
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
            if !caller.allows("*") {
                return Some(Decided::error("compat", team::not_allowed(caller, "*")));
            }
            match compat::plan(head, rest, src, gw) {
                Ok(up) => decided("compat", Decision::PassThrough(Forward::single(up))),
                Err(e) => Decided::error("compat", e),
            }
        }
    })
}

/// `/{provider}/{rest}`, through the gateway when it supports the provider.
fn pass_through(r: &Routing) -> Decided {
    match pass_through::plan(r.head, r.path, r.src, r.host, r.selection, r.gateway) {
        Ok(fwd) if !r.caller.allows(&format!("{}/*", fwd.first().provider)) => Decided {
            provider: Some(fwd.first().provider.clone()),
            ..Decided::error(
                "pass-through",
                team::not_allowed(r.caller, &format!("{}/*", fwd.first().provider)),
            )
        },
        Ok(fwd) => Decided {
            provider: Some(fwd.first().provider.clone()),
            decision: Decision::PassThrough(fwd),
            route: "pass-through",
            warning: None,
            dialect: Dialect::OpenAi,
            caller: None,
        },
        Err(refused) => {
            let route = if refused.error.status == 404 {
                "not-found"
            } else {
                "pass-through"
            };
            Decided {
                provider: refused.provider,
                ..Decided::error(route, refused.error)
            }
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
