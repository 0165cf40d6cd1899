//! The request pipeline (SPEC §2): CORS, `/key/` selection, `/ping`, auth,
//! then the route table. Turns a request head into a [`Decision`].

use crate::auth;
use crate::chat_completions;
use crate::errors::ErrorReply;
use crate::gateway::{self, GatewayTarget};
use crate::keys::{KeyContext, KeySelection};
use crate::models::{self, ModelsPlan};
use crate::pass_through::{self, Forward, UpstreamRequest};
use crate::providers::{self, ResolveError};
use crate::reply::Reply;
use crate::request::RequestHead;
use crate::settings::{self, SettingSource};
use crate::status::{self, StatusPlan};

/// What to do with a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Answer directly.
    Reply(Reply),
    /// Forward to a provider (or the gateway), streaming both bodies;
    /// failing attempts fall back to the next key.
    PassThrough(Forward),
    /// Read the body (at most `limit` bytes), then plan it with
    /// [`crate::chat_completions::plan`].
    ChatCompletions {
        limit: u64,
        selection: Option<KeySelection>,
        gateway: Option<GatewayTarget>,
    },
    /// Read the body (at most `limit` bytes), then plan it with
    /// [`crate::universal::plan`].
    Universal {
        limit: u64,
        selection: Option<KeySelection>,
        gateway: GatewayTarget,
    },
    /// Fetch these model lists concurrently and merge them.
    Models(ModelsPlan),
    /// Check these keys concurrently and report.
    Status(StatusPlan),
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
}

impl Decided {
    fn reply(route: &'static str, reply: Reply) -> Decided {
        Decided {
            decision: Decision::Reply(reply),
            route,
            provider: None,
            warning: None,
        }
    }

    fn error(route: &'static str, e: ErrorReply) -> Decided {
        let warning = (e.code == "proxy_misconfigured" || e.code == "proxy_key_not_configured")
            .then(|| e.message.clone());
        Decided {
            warning,
            ..Decided::reply(route, e.into_reply())
        }
    }
}

/// Decides what to do with `head`; `random` drives key choice.
pub fn decide(head: &RequestHead, src: &dyn SettingSource, ctx: &KeyContext) -> Decided {
    if head.method == "OPTIONS" {
        return Decided::reply("preflight", preflight(head));
    }

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
    if let Err(e) = authenticate(head, src) {
        return Decided::error("auth", e);
    }

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
        ctx,
        selection,
        gateway: gateway.as_ref(),
    };
    own_api(&routing).unwrap_or_else(|| pass_through(&routing))
}

/// What routing a request after its prefixes and auth needs.
struct Routing<'a> {
    head: &'a RequestHead,
    /// The path with `/key/` and `/g/` prefixes removed.
    path: &'a str,
    src: &'a dyn SettingSource,
    ctx: &'a KeyContext<'a>,
    selection: Option<KeySelection>,
    gateway: Option<&'a GatewayTarget>,
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

/// Proxy auth (skipped when `DEV`); fails closed without `PROXY_API_KEY`.
fn authenticate(head: &RequestHead, src: &dyn SettingSource) -> Result<(), ErrorReply> {
    if settings::flag(src, "DEV") {
        return Ok(());
    }
    let (proxy_keys, malformed) = settings::key_list(src, "PROXY_API_KEY");
    if proxy_keys.is_empty() {
        let why = match malformed {
            Some(e) => format!("PROXY_API_KEY is malformed: {}", e.message),
            None => "set PROXY_API_KEY (or DEV=true for local development)".into(),
        };
        return Err(ErrorReply::new(
            401,
            "authentication_error",
            "proxy_key_not_configured",
            format!("the proxy key is not configured: {why}"),
        ));
    }
    if !auth::authorized(&auth::candidates(head), &proxy_keys) {
        return Err(ErrorReply::unauthorized(
            "invalid or missing proxy key: send it as 'Authorization: Bearer <key>', x-api-key, x-goog-api-key or ?key=",
        ));
    }
    Ok(())
}

/// The proxy's own routes: chat completions, models, status, the gateway's
/// `/compat/...` and Universal Endpoint. `None` when `path` is none of them.
fn own_api(r: &Routing) -> Option<Decided> {
    let Routing {
        head,
        path,
        src,
        ctx,
        selection,
        gateway,
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
    };
    let body_limit = || -> Result<u64, ErrorReply> {
        let limit = chat_completions::max_body_bytes(src);
        match content_length(head) {
            Some(len) if len > limit => Err(ErrorReply::too_large(limit)),
            _ => Ok(limit),
        }
    };
    Some(match path {
        "/chat/completions" | "/v1/chat/completions" => {
            if method != "POST" {
                return Some(Decided::reply("chat", method_not_allowed("POST")));
            }
            match body_limit() {
                Err(e) => Decided::error("chat", e),
                Ok(limit) => decided(
                    "chat",
                    Decision::ChatCompletions {
                        limit,
                        selection,
                        gateway: gateway.cloned(),
                    },
                ),
            }
        }
        "/models" | "/v1/models" => get_only("models").unwrap_or_else(|| {
            decided("models", Decision::Models(models::plan(src, ctx, gateway)))
        }),
        "/status" => get_only("status").unwrap_or_else(|| {
            decided("status", Decision::Status(status::plan(src, gateway, ctx)))
        }),
        "/" if gateway.is_some() && method == "POST" => match body_limit() {
            Err(e) => Decided::error("universal", e),
            Ok(limit) => decided(
                "universal",
                Decision::Universal {
                    limit,
                    selection,
                    gateway: gateway.cloned()?,
                },
            ),
        },
        _ => {
            let gw = gateway?;
            let rest = path
                .strip_prefix("/compat")
                .filter(|r| r.is_empty() || r.starts_with('/'))?;
            match compat(head, rest, src, gw) {
                Ok(up) => decided("compat", Decision::PassThrough(Forward::single(up))),
                Err(e) => Decided::error("compat", e),
            }
        }
    })
}

/// `/compat/...` with the gateway on: forwarded to `{gateway}/compat/...`
/// with the client's headers minus its auth.
fn compat(
    head: &RequestHead,
    rest: &str,
    src: &dyn SettingSource,
    gateway: &GatewayTarget,
) -> Result<UpstreamRequest, ErrorReply> {
    crate::url::check_rest(rest).map_err(|m| ErrorReply::bad_request(m, "invalid_path"))?;
    let base = gateway.compat_base();
    let query = crate::url::strip_key_param(&head.query);
    let mut path_with_query = format!("{}{}", base.path, rest);
    if !query.is_empty() {
        path_with_query = format!("{path_with_query}?{query}");
    }
    let mut headers = pass_through::client_headers(head);
    headers.extend(gateway::token_header(src));
    Ok(UpstreamRequest {
        method: head.method.clone(),
        base,
        path_with_query,
        headers,
        provider: "compat".into(),
        body: None,
        cooldown_key: None,
    })
}

/// `/{provider}/{rest}`, through the gateway when it supports the provider.
fn pass_through(r: &Routing) -> Decided {
    let Routing {
        head,
        path,
        src,
        ctx,
        selection,
        gateway,
    } = *r;
    let trimmed = path.strip_prefix('/').unwrap_or(path);
    let (name, rest) = trimmed.split_at(trimmed.find('/').unwrap_or(trimmed.len()));
    let gateway = gateway.filter(|_| providers::spec(name).is_some_and(|s| s.gateway));
    let resolved = providers::resolve(name, src).and_then(|mut p| {
        // Through the gateway, paths are de-duplicated against the provider's
        // own base path, not a base-URL override's.
        if let (Some(_), Some(spec)) = (gateway, p.spec) {
            p.base = providers::default_base(spec, src).map_err(ResolveError::Misconfigured)?;
        }
        Ok(p)
    });
    let provider = match resolved {
        Ok(p) => p,
        Err(ResolveError::Unknown) => {
            return Decided::error(
                "not-found",
                ErrorReply::not_found(format!(
                    "no route for {} {}: not a provider or endpoint of this proxy",
                    head.method,
                    printable(path)
                )),
            )
        }
        Err(ResolveError::Misconfigured(e)) => return Decided::error("pass-through", e),
    };
    let with_provider = |decided: Decided| Decided {
        provider: Some(provider.name.clone()),
        ..decided
    };
    let (picked, note) = match chat_completions::pick_keys(&provider, selection, ctx) {
        Ok(p) => p,
        Err(e) => return with_provider(Decided::error("pass-through", e)),
    };
    let mut attempts = Vec::with_capacity(picked.len());
    for key in &picked {
        match pass_through::build(head, &provider, rest, key.as_ref().map(|k| k.key.as_str())) {
            Ok(mut up) => {
                if let Some(gw) = gateway {
                    pass_through::via_gateway(&mut up, &provider, gw, gateway::token_header(src));
                }
                up.cooldown_key = key.as_ref().and_then(|k| k.cooldown_key.clone());
                attempts.push(up);
            }
            Err(e) => return with_provider(Decided::error("pass-through", e)),
        }
    }
    with_provider(Decided {
        decision: Decision::PassThrough(Forward {
            attempts,
            key_count: provider.keys.len(),
            note,
        }),
        route: "pass-through",
        provider: None,
        warning: None,
    })
}

/// A path cut short and stripped of anything odd, fit for an error message.
fn printable(path: &str) -> String {
    path.chars().filter(|c| !c.is_control()).take(200).collect()
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
