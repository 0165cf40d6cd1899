//! The host edge: the only code that touches WASI/Spin. It reads the request
//! head, asks the core for a decision, and performs it — answering directly or
//! streaming the request to the upstream and the response back.
//!
//! Both flavours serve `wasi:http/incoming-handler@0.2.0`; they differ only in
//! where settings come from and whether there is a shared store (`host`).
//!
//! - `inbound`: reading the client's request, answering directly;
//! - `outbound`: sending an upstream request and waiting for its head;
//! - `attempts`: the failover loop over a forward plan's attempts;
//! - `relay`: streaming the answer back through the core's body transform;
//! - `fetch_all`: many small upstream requests at once (models, status);
//! - `host`: settings, clock, randomness and the store of each flavour.

mod attempts;
mod fetch_all;
mod host;
mod inbound;
mod io;
mod outbound;
mod relay;

/// Bindings for the flavour's world (wit/world.wit); both flavours serve
/// the same `wasi:http/incoming-handler` export through them.
mod bindings {
    #[cfg(not(feature = "spin"))]
    wit_bindgen::generate!({
        world: "llm-proxy-wasi",
        path: "wit",
        generate_all,
    });
    #[cfg(feature = "spin")]
    wit_bindgen::generate!({
        world: "llm-proxy-spin",
        path: "wit",
        generate_all,
    });
}

use crate::client_keys::Caller;
use crate::handlers::models::{ModelsPlan, FETCH_TIMEOUT_SECS};
use crate::handlers::status::StatusPlan;
use crate::ledger::{self, Ledger};
use crate::pipeline::{self, Decision, Planned};
use crate::reply::Reply;
use crate::serve;
use crate::settings;
use crate::upstream::UpstreamRequest;
use attempts::forward;
use bindings::exports::wasi::http::incoming_handler::Guest;
use bindings::wasi::clocks::monotonic_clock;
use bindings::wasi::http::types::{IncomingRequest, ResponseOutparam};
use fetch_all::fetch_all;
use inbound::{read_body, read_head, send_reply};
use outbound::NS_PER_SEC;

struct Component;

bindings::export!(Component with_types_in bindings);

impl Guest for Component {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let started = monotonic_clock::now();
        let head = read_head(&request);
        let src = host::settings();
        let host = host::EdgeHost::default();
        let mut ledger = Ledger::new(&head, ledger::request_id(&head, &host), started);
        let mut decided = pipeline::decide(&head, &src, &host);
        ledger.decided(&decided);
        if let Some(warning) = &decided.warning {
            serve::log(&format!("llm-proxy warning: {warning}\n"));
        }
        // From here on, the head as the caller's grant lets it go on.
        let head = decided.head.take().unwrap_or(head);
        let dialect = decided.dialect;
        match decided.decision {
            Decision::Reply(reply) => answer(out, reply, ledger, &host),
            Decision::Error(e) => answer(out, e.into_reply_for(dialect), ledger, &host),
            Decision::PassThrough(fwd) => forward(request, &head, out, fwd, &src, &host, ledger),
            Decision::WithBody {
                route,
                limit,
                selection,
                gateway,
                dropped,
            } => {
                let planned = match read_body(&request, limit, settings::max_body_values(&src)) {
                    Err(e) => Planned::Reply(e.into_reply_for(dialect)),
                    Ok(body) => pipeline::plan_granted(
                        route,
                        &head,
                        &body,
                        &src,
                        &host,
                        selection,
                        gateway.as_ref(),
                        decided.caller.as_ref().unwrap_or(&Caller::all_access()),
                        &dropped,
                        &mut ledger.reserved,
                    ),
                };
                match planned {
                    Planned::Reply(reply) => answer(out, reply, ledger, &host),
                    Planned::Forward(fwd) => forward(request, &head, out, fwd, &src, &host, ledger),
                }
            }
            Decision::Models(plan) => answer(out, models_reply(plan, &host), ledger, &host),
            Decision::Status(plan) => answer(out, status_reply(plan, &host), ledger, &host),
        }
    }
}

/// The proxy's own answer, with the request's id; then the ledger.
pub fn answer(
    out: ResponseOutparam,
    mut reply: Reply,
    mut ledger: Ledger,
    host: &dyn crate::host::Host,
) {
    reply.headers.extend(
        ledger::id_headers(&ledger.request_id, false)
            .into_iter()
            .map(|(n, v)| (n.to_string(), v)),
    );
    ledger.status = send_reply(out, reply);
    let now = monotonic_clock::now();
    ledger.first_byte_ns = Some(now);
    serve::log(&ledger.finish(None, now, host));
}

fn models_reply(plan: ModelsPlan, host: &dyn crate::host::Host) -> Reply {
    if let Some(entries) = serve::cached_models(&plan, host) {
        return serve::models_answer(plan, entries);
    }
    let requests: Vec<&UpstreamRequest> = plan.fetches.iter().map(|f| &f.request).collect();
    let results = fetch_all(
        &requests,
        FETCH_TIMEOUT_SECS * NS_PER_SEC,
        serve::MODELS_MAX_BODY,
    );
    serve::models_reply(plan, results, host)
}

fn status_reply(plan: StatusPlan, host: &dyn crate::host::Host) -> Reply {
    // Keys whose auth is minted or signed get it first (a token exchange
    // that fails is a verdict of its own).
    let fetcher = fetch_all::EdgeFetch {
        timeout_ns: FETCH_TIMEOUT_SECS * NS_PER_SEC,
    };
    let mut refused: Vec<Option<u16>> = Vec::new();
    let mut requests: Vec<UpstreamRequest> = Vec::new();
    for check in &plan.checks {
        let Some(up) = &check.request else {
            refused.push(None);
            continue;
        };
        let mut up = up.clone();
        let body = up.body.clone().unwrap_or_default();
        match crate::cloud_auth::authorize(&mut up, &body, host, &fetcher, false) {
            Ok(_) => {
                refused.push(None);
                requests.push(up);
            }
            Err(e) => refused.push(Some(e.status)),
        }
    }
    let refs: Vec<&UpstreamRequest> = requests.iter().collect();
    let sent = fetch_all(
        &refs,
        FETCH_TIMEOUT_SECS * NS_PER_SEC,
        serve::MODELS_MAX_BODY,
    );
    serve::status_reply(&plan, &refused, sent)
}
