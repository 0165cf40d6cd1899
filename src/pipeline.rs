//! The request pipeline (SPEC §2): CORS, `/key/` selection, `/ping`, auth,
//! then the route table. Turns a request head into a [`Decision`].

use crate::auth;
use crate::chat_completions;
use crate::errors::ErrorReply;
use crate::keys::{self, KeySelection};
use crate::models::{self, ModelsPlan};
use crate::pass_through::{self, UpstreamRequest};
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
    /// Forward to a provider, streaming both bodies.
    PassThrough(UpstreamRequest),
    /// Read the body (at most `limit` bytes), then plan it with
    /// [`crate::chat_completions::plan`].
    ChatCompletions {
        limit: u64,
        selection: Option<KeySelection>,
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
}

impl Decided {
    fn reply(route: &'static str, reply: Reply) -> Decided {
        Decided {
            decision: Decision::Reply(reply),
            route,
            provider: None,
        }
    }

    fn error(route: &'static str, e: ErrorReply) -> Decided {
        Decided::reply(route, e.into_reply())
    }
}

/// Decides what to do with `head`; `random` drives key choice.
pub fn decide(head: &RequestHead, src: &dyn SettingSource, random: u64) -> Decided {
    if head.method == "OPTIONS" {
        return Decided::reply("preflight", preflight(head));
    }

    // `/key/{sel}/...`: key selection, prefix removed.
    let mut path = head.path.as_str();
    let mut selection = None;
    if let Some(after) = path.strip_prefix("/key/") {
        let (sel, rest) = after.split_at(after.find('/').unwrap_or(after.len()));
        match KeySelection::parse(sel) {
            Some(s) => selection = Some(s),
            None => return Decided::error(
                "key-selection",
                ErrorReply::bad_request(
                    "invalid key selection: use /key/{i}/, /key/{i}-{j}/, /key/{i}-/ or /key/-{j}/",
                    "invalid_key_selection",
                ),
            ),
        }
        path = if rest.is_empty() { "/" } else { rest };
    }

    if path == "/ping" {
        return Decided::reply("ping", Reply::text(200, "Pong"));
    }

    if let Err(e) = check_content_length(head) {
        return Decided::error("bad-request", e);
    }

    if !settings::flag(src, "DEV") {
        let (proxy_keys, _) = settings::key_list(src, "PROXY_API_KEY");
        if proxy_keys.is_empty() {
            return Decided::error(
                "auth",
                ErrorReply::unauthorized(
                    "the proxy key is not configured: set PROXY_API_KEY (or DEV=true for local development)",
                ),
            );
        }
        if !auth::authorized(&auth::candidates(head), &proxy_keys) {
            return Decided::error(
                "auth",
                ErrorReply::unauthorized(
                    "invalid or missing proxy key: send it as 'Authorization: Bearer <key>', x-api-key, x-goog-api-key or ?key=",
                ),
            );
        }
    }

    // The proxy's own API.
    let method = head.method.as_str();
    match path {
        "/chat/completions" | "/v1/chat/completions" => {
            if method != "POST" {
                return Decided::reply("chat", method_not_allowed("POST"));
            }
            if let Some(len) = content_length(head) {
                let limit = chat_completions::max_body_bytes(src);
                if len > limit {
                    return Decided::error("chat", ErrorReply::too_large(limit));
                }
            }
            return Decided {
                decision: Decision::ChatCompletions {
                    limit: chat_completions::max_body_bytes(src),
                    selection,
                },
                route: "chat",
                provider: None,
            };
        }
        "/models" | "/v1/models" => {
            if method != "GET" && method != "HEAD" {
                return Decided::reply("models", method_not_allowed("GET, HEAD"));
            }
            return Decided {
                decision: Decision::Models(models::plan(src, random)),
                route: "models",
                provider: None,
            };
        }
        "/status" => {
            if method != "GET" && method != "HEAD" {
                return Decided::reply("status", method_not_allowed("GET, HEAD"));
            }
            return Decided {
                decision: Decision::Status(status::plan(src)),
                route: "status",
                provider: None,
            };
        }
        _ => {}
    }

    // `/{provider}/{rest}`
    let trimmed = &path[1..];
    let (name, rest) = trimmed.split_at(trimmed.find('/').unwrap_or(trimmed.len()));
    let provider = match providers::resolve(name, src) {
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
    let key_index = match (provider.keys.len(), provider.keys_required) {
        (0, true) => {
            return Decided {
                provider: Some(provider.name.clone()),
                ..Decided::error(
                    "pass-through",
                    ErrorReply::bad_request(
                        format!(
                            "provider {} has no key configured: set {}",
                            provider.name, provider.key_setting
                        ),
                        "provider_not_configured",
                    ),
                )
            }
        }
        (0, false) => None,
        (n, _) => Some(keys::choose(selection, n, random)),
    };
    let key = key_index.map(|i| provider.keys[i].as_str());
    match pass_through::build(head, &provider, rest, key) {
        Ok(up) => Decided {
            decision: Decision::PassThrough(up),
            route: "pass-through",
            provider: Some(provider.name),
        },
        Err(e) => Decided {
            provider: Some(provider.name),
            ..Decided::error("pass-through", e)
        },
    }
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
