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

use crate::handlers::models::{ModelsPlan, FETCH_TIMEOUT_SECS};
use crate::handlers::status::StatusPlan;
use crate::pipeline::{self, Decision, Planned};
use crate::reply::Reply;
use crate::request::RequestHead;
use crate::serve;
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
        let decided = pipeline::decide(&head, &src, &host);
        if let Some(warning) = &decided.warning {
            serve::log(&format!("llm-proxy warning: {warning}\n"));
        }
        let mut provider = decided.provider.clone();
        let dialect = decided.dialect;
        let (status, upstream_status) = match decided.decision {
            Decision::Reply(reply) => (send_reply(out, reply), None),
            Decision::Error(e) => (send_reply(out, e.into_reply_for(dialect)), None),
            Decision::PassThrough(fwd) => forward(request, &head, out, fwd, &src, &host),
            Decision::WithBody {
                route,
                limit,
                selection,
                gateway,
            } => {
                let planned = match read_body(&request, limit) {
                    Err(e) => Planned::Reply(e.into_reply_for(dialect)),
                    Ok(body) => pipeline::plan_body(
                        route,
                        &head,
                        &body,
                        &src,
                        &host,
                        selection,
                        gateway.as_ref(),
                    ),
                };
                match planned {
                    Planned::Reply(reply) => (send_reply(out, reply), None),
                    Planned::Forward(fwd) => {
                        provider = Some(fwd.first().provider.clone());
                        forward(request, &head, out, fwd, &src, &host)
                    }
                }
            }
            Decision::Models(plan) => (send_reply(out, models_reply(plan)), None),
            Decision::Status(plan) => (send_reply(out, status_reply(plan, &host)), None),
        };
        log_line(
            &head,
            decided.route,
            provider.as_deref(),
            status,
            upstream_status,
            started,
        );
    }
}

fn log_line(
    head: &RequestHead,
    route: &str,
    provider: Option<&str>,
    status: u16,
    upstream_status: Option<u16>,
    started: u64,
) {
    let ms = (monotonic_clock::now().saturating_sub(started)) as f64 / 1e6;
    serve::log(&serve::log_line(
        head,
        route,
        provider,
        status,
        upstream_status,
        ms,
        None,
    ));
}

fn models_reply(plan: ModelsPlan) -> Reply {
    let requests: Vec<&UpstreamRequest> = plan.fetches.iter().map(|f| &f.request).collect();
    let results = fetch_all(
        &requests,
        FETCH_TIMEOUT_SECS * NS_PER_SEC,
        serve::MODELS_MAX_BODY,
    );
    serve::models_reply(plan, results)
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
        let body = up
            .body
            .clone()
            .unwrap_or_else(|| std::sync::Arc::from(&[][..]));
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
