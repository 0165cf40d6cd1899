//! The attempt loop (SPEC §7): each attempt of a [`Forward`] in turn while it
//! fails before any byte reached the client, recording the cooldowns of keys
//! that got 429/401/403, then relaying the answer (or the last failure).

use super::bindings::wasi::clocks::monotonic_clock;
use super::bindings::wasi::http::types::{IncomingRequest, ResponseOutparam};
use super::fetch_all::EdgeFetch;
use super::inbound::{send_reply, ClientBody};
use super::io::header;
use super::outbound::{send_one, WaitError, NS_PER_SEC};
use super::relay::relay;
use crate::cloud_auth::{self, Authorized, CloudAuth};
use crate::failover::Outcome;
use crate::host::Host;
use crate::request::RequestHead;
use crate::serve::{self, Next};
use crate::settings::{self, SettingSource};
use crate::upstream::Forward;

/// Performs `fwd`. Returns (status sent to the client, upstream status).
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
) -> (u16, Option<u16>) {
    if let Some(note) = fwd.note {
        eprintln!("llm-proxy {note}");
    }
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
        Err(e) => return (send_reply(out, e.into_reply_for(fwd.dialect)), None),
    };
    let last = if body.replayable() {
        fwd.attempts.len() - 1
    } else {
        0
    };
    let fetcher = EdgeFetch { timeout_ns };
    let mut refreshed = false;
    let mut i = 0;
    loop {
        let mut up = fwd.attempts[i].clone();
        let authorized = match cloud_auth::authorize(
            &mut up,
            body.bytes().unwrap_or_default(),
            host,
            &fetcher,
            false,
        ) {
            Ok(a) => a,
            Err(e) => return (send_reply(out, serve::attempt_error(e, &fwd, i)), None),
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
                Err(e) => return (send_reply(out, serve::attempt_error(e, &fwd, i)), None),
            };
        }
        let outcome = match &result {
            Ok(resp) => Outcome::Status(resp.status()),
            Err(WaitError::Timeout) => Outcome::Timeout,
            Err(_) => Outcome::Unreachable,
        };
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
        let Next::Retry { wait_ms } = next else {
            return match result {
                Ok(resp) => relay(out, resp, &fwd.response, serve::answer_headers(&fwd, i + 1)),
                Err(e) => (
                    send_reply(out, serve::attempt_error(e.for_upstream(&up), &fwd, i)),
                    None,
                ),
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
