//! The attempt loop (SPEC §7): each attempt of a [`Forward`] in turn while it
//! fails before any byte reached the client, recording the cooldowns of keys
//! that got 429/401/403, then relaying the answer (or the last failure).

use super::answer;
use super::bindings::wasi::clocks::monotonic_clock;
use super::bindings::wasi::http::types::{IncomingRequest, ResponseOutparam};
use super::fetch_all::EdgeFetch;
use super::inbound::ClientBody;
use super::io::header;
use super::outbound::{send_one, WaitError, NS_PER_SEC};
use super::relay::relay;
use crate::cloud_auth::{self, Authorized, CloudAuth};
use crate::failover::Outcome;
use crate::host::Host;
use crate::ledger::Ledger;
use crate::request::RequestHead;
use crate::serve::{self, Next};
use crate::settings::{self, SettingSource};
use crate::upstream::Forward;

/// Performs `fwd` (and, for a model route, its fallback targets);
/// `ledger` is finished when the answer has left.
///
/// Each attempt gets its cloud auth right before it is sent (a SigV4
/// signature over the exact bytes sent — a streamed body is then read whole,
/// up to `MAX_BODY_BYTES` — or a Google token); a 401 on a Google token is
/// answered by exactly one fresh token and the same attempt again.
pub fn forward(
    request: IncomingRequest,
    head: &RequestHead,
    out: ResponseOutparam,
    mut fwd: Forward,
    src: &dyn SettingSource,
    host: &dyn Host,
    mut ledger: Ledger,
) {
    if let Some(note) = fwd.note {
        eprintln!("llm-proxy {note}");
    }
    ledger.forwarding(&fwd, src);
    let timeout_ns = settings::upstream_timeout_secs(src).saturating_mul(NS_PER_SEC);
    let signs = matches!(fwd.first().cloud_auth, Some(CloudAuth::SigV4 { .. }));
    let whole = signs.then(|| usize::try_from(settings::max_body_bytes(src)).unwrap_or(usize::MAX));
    let mut body = match ClientBody::new(
        &request,
        head,
        fwd.first().body.clone(),
        fwd.attempts.len() > 1,
        whole,
    ) {
        Ok(body) => body,
        Err(e) => return answer(out, e.into_reply_for(fwd.dialect), ledger, host),
    };
    let mut last = last_attempt(&fwd, &body);
    let fetcher = EdgeFetch { timeout_ns };
    let mut refreshed = false;
    let mut i = 0;
    // Attempts of every target so far.
    let mut tried = 0;
    loop {
        let Some(mut up) = fwd.attempts.get(i).cloned() else {
            let e = crate::errors::ErrorReply::bad_gateway("no attempt left");
            return answer(out, e.into_reply(), ledger, host);
        };
        tried += 1;
        ledger.attempts = tried;
        let authorized = match cloud_auth::authorize(
            &mut up,
            body.bytes().unwrap_or_default(),
            host,
            &fetcher,
            false,
        ) {
            Ok(a) => a,
            Err(e) => return answer(out, serve::attempt_error(e, &fwd, tried - 1), ledger, host),
        };
        let mut result = send_one(&up, &mut body, timeout_ns);
        // A token the provider refused: one fresh token, same attempt.
        if matches!(authorized, Authorized::CachedToken | Authorized::FreshToken)
            && !refreshed
            && body.replayable()
            && matches!(&result, Ok(resp) if resp.status() == 401)
        {
            refreshed = true;
            drop(result);
            result = match cloud_auth::authorize(
                &mut up,
                body.bytes().unwrap_or_default(),
                host,
                &fetcher,
                true,
            ) {
                Ok(_) => send_one(&up, &mut body, timeout_ns),
                Err(e) => {
                    return answer(out, serve::attempt_error(e, &fwd, tried - 1), ledger, host)
                }
            };
        }
        let outcome = match &result {
            Ok(resp) => Outcome::Status(resp.status()),
            Err(WaitError::Timeout) => Outcome::Timeout,
            Err(_) => Outcome::Unreachable,
        };
        // The provider may have done the work: charged as reserved.
        ledger.upstream_timed_out |= outcome == Outcome::Timeout;
        // A success needs no Retry-After: no host call for it.
        let retry_after = match &result {
            Ok(resp) if !matches!(outcome, Outcome::Status(200..=399)) => {
                header(&resp.headers(), "retry-after")
            }
            _ => None,
        };
        let invalid = matches!(result, Err(WaitError::Invalid));
        let next = serve::after_attempt(
            &mut fwd,
            i,
            last,
            outcome,
            retry_after.as_deref(),
            invalid,
            host,
        );
        if serve::next_target(
            &mut fwd,
            next,
            invalid,
            outcome,
            retry_after.as_deref(),
            host,
            &mut ledger,
            src,
        ) {
            // The route's next target, with a body of its own.
            drop(result);
            body = ClientBody::Bytes(fwd.first().body.clone().unwrap_or_default());
            last = last_attempt(&fwd, &body);
            refreshed = false;
            i = 0;
            continue;
        }
        let Next::Retry { wait_ms } = next else {
            let extra = serve::answer_headers(&fwd, tried);
            return match result {
                Ok(resp) => relay(out, resp, &fwd.response, fwd.trust, extra, ledger),
                Err(e) => {
                    let reply = serve::attempt_error(e.for_upstream(&up), &fwd, tried - 1);
                    answer(out, reply, ledger, host)
                }
            };
        };
        drop(result);
        eprintln!(
            "llm-proxy retry provider={} attempt={} outcome={outcome:?} wait_ms={wait_ms}",
            up.provider,
            i + 1
        );
        monotonic_clock::subscribe_duration(wait_ms.saturating_mul(1_000_000)).block();
        i += 1;
    }
}

/// The index of the last attempt `fwd` may make with `body`: one only when
/// the body cannot be replayed.
fn last_attempt(fwd: &Forward, body: &ClientBody) -> usize {
    if body.replayable() {
        fwd.attempts.len().saturating_sub(1)
    } else {
        0
    }
}
