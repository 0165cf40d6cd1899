//! The WASIp3 host edge (the default build): the only code of this build
//! that touches WASI/Spin. It serves `wasi:http/handler@0.3.0`, where one
//! instance serves many requests (up to 16 at once, interleaved at each
//! `await`) — so what it keeps between requests lives in [`host`]'s
//! instance state (settings, the store's handle, minted tokens), and
//! everything of one request lives in that request's `handle` future.
//!
//! - `inbound`: reading the client's request, answering directly;
//! - `outbound`: sending an upstream request, waiting for its head;
//! - `attempts`: the failover loop over a forward plan's attempts;
//! - `relay`: the answer back to the client — an untranslated body is the
//!   upstream's own stream handed on (no copy in the guest), a translated
//!   one runs through the core's transform in a task of its own;
//! - `fetch_all`: many small upstream requests at once (models, status);
//! - `task`: the two combinators the edge needs (a deadline, a fan-out);
//! - `host`: settings, clock, randomness and the store of each flavour.
//!
//! What the edges share besides the core is in [`crate::serve`].

mod attempts;
mod fetch_all;
mod host;
mod inbound;
mod outbound;
mod relay;
mod task;

/// The Spin imports (variables, key-value) of the `spin` flavour, generated
/// from wit/p3 with the wasi:http bindings' own wit-bindgen.
#[cfg(feature = "spin")]
mod spin_bindings {
    wasip3::wit_bindgen::generate!({
        world: "llm-proxy-spin-imports",
        path: "wit/p3",
        generate_all,
    });
}

use crate::client_keys::Caller;
use crate::handlers::models::FETCH_TIMEOUT_SECS;
use crate::handlers::status::StatusPlan;
use crate::ledger::{self, Ledger};
use crate::pipeline::{self, Decision, Planned};
use crate::serve;
use crate::settings;
use crate::upstream::UpstreamRequest;
use inbound::{read_body, read_head, reply_response};
use outbound::NS_PER_SEC;
use wasip3::clocks::monotonic_clock;
use wasip3::http::types::{ErrorCode, Request, Response};

struct Component;

wasip3::http::service::export!(Component);

impl wasip3::exports::http::handler::Guest for Component {
    async fn handle(request: Request) -> Result<Response, ErrorCode> {
        let started = monotonic_clock::now();
        let served = host::begin_request();
        let head = read_head(&request);
        let src = host::settings();
        let host = host::EdgeHost;
        let mut ledger = Ledger::new(&head, ledger::request_id(&head, &host), started);
        ledger.instance = Some(served);
        let mut decided = pipeline::decide(&head, src, &host);
        ledger.decided(&decided);
        if let Some(warning) = &decided.warning {
            serve::log(&format!("llm-proxy warning: {warning}\n"));
        }
        // From here on, the head as the caller's grant lets it go on.
        let head = decided.head.take().unwrap_or(head);
        let dialect = decided.dialect;
        let response = match decided.decision {
            Decision::Reply(reply) => answer(reply, ledger).await,
            Decision::Error(e) => answer(e.into_reply_for(dialect), ledger).await,
            Decision::PassThrough(fwd) => {
                attempts::forward(Some(request), &head, fwd, src, &host, ledger).await
            }
            Decision::WithBody {
                route,
                limit,
                selection,
                gateway,
                dropped,
            } => {
                let values = settings::max_body_values(src);
                let planned = match read_body(request, &head, limit, values).await {
                    Err(e) => Planned::Reply(e.into_reply_for(dialect)),
                    Ok(body) => pipeline::plan_granted(
                        route,
                        &head,
                        &body,
                        src,
                        &host,
                        selection,
                        gateway.as_ref(),
                        decided.caller.as_ref().unwrap_or(&Caller::all_access()),
                        &dropped,
                        &mut ledger.reserved,
                    ),
                };
                match planned {
                    Planned::Reply(reply) => answer(reply, ledger).await,
                    Planned::Forward(fwd) => {
                        attempts::forward(None, &head, fwd, src, &host, ledger).await
                    }
                }
            }
            Decision::Models(plan) => {
                let reply = match serve::cached_models(&plan, &host) {
                    Some(entries) => serve::models_answer(plan, entries),
                    None => {
                        let requests: Vec<&UpstreamRequest> =
                            plan.fetches.iter().map(|f| &f.request).collect();
                        let results = fetch_all::fetch_all(
                            &requests,
                            FETCH_TIMEOUT_SECS * NS_PER_SEC,
                            serve::MODELS_MAX_BODY,
                        )
                        .await;
                        serve::models_reply(plan, results, &host)
                    }
                };
                answer(reply, ledger).await
            }
            Decision::Status(plan) => answer(status_reply(plan, &host).await, ledger).await,
        };
        Ok(response)
    }
}

/// The proxy's own answer, with the request's id; the ledger is finished
/// once the answer has left.
pub async fn answer(mut reply: crate::reply::Reply, mut ledger: Ledger) -> Response {
    reply.headers.extend(
        ledger::id_headers(&ledger.request_id, false)
            .into_iter()
            .map(|(n, v)| (n.to_string(), v)),
    );
    let (response, status, _) = reply_response(reply).await;
    ledger.status = status;
    ledger.first_byte_ns = Some(monotonic_clock::now());
    finish_later(ledger, None);
    response
}

/// Finishes `ledger` (the caller's counters, the log line) in a task of its
/// own, after the answer has been handed to the host.
pub fn finish_later(ledger: Ledger, usage: Option<crate::usage::Usage>) {
    wasip3::wit_bindgen::spawn(async move {
        let line = ledger.finish(usage, monotonic_clock::now(), &host::EdgeHost);
        serve::log(&line);
    });
}

/// `GET /status`: each key checked at once (keys whose auth is minted or
/// signed get it first; a token exchange that fails is a verdict of its own).
async fn status_reply(plan: StatusPlan, host: &host::EdgeHost) -> crate::reply::Reply {
    let timeout_ns = FETCH_TIMEOUT_SECS * NS_PER_SEC;
    let mut refused: Vec<Option<u16>> = Vec::new();
    let mut requests: Vec<UpstreamRequest> = Vec::new();
    for check in &plan.checks {
        let Some(up) = &check.request else {
            refused.push(None);
            continue;
        };
        let mut up = up.clone();
        let body = up.body.clone().unwrap_or_default();
        match attempts::authorize(&mut up, &body, host, false, timeout_ns).await {
            Ok(_) => {
                refused.push(None);
                requests.push(up);
            }
            Err(e) => refused.push(Some(e.status)),
        }
    }
    let refs: Vec<&UpstreamRequest> = requests.iter().collect();
    let sent = fetch_all::fetch_all(&refs, timeout_ns, serve::MODELS_MAX_BODY).await;
    serve::status_reply(&plan, &refused, sent)
}
