//! The attempt loop (SPEC §7): each attempt of a [`Forward`] in turn while it
//! fails before any byte reached the client, then the answer (or the last
//! failure). The bookkeeping between attempts is [`serve::after_attempt`].

use super::answer;
use super::fetch_all::fetch_one;
use super::inbound::ClientBody;
use super::outbound::{send, WaitError, NS_PER_SEC};
use super::relay::relay;
use super::task::deadline;
use crate::cloud_auth::{self, Authorized, CloudAuth, Prepared};
use crate::errors::ErrorReply;
use crate::failover::Outcome;
use crate::host::Host;
use crate::ledger::Ledger;
use crate::outgoing::UpstreamRequest;
use crate::request::RequestHead;
use crate::serve::{self, Next};
use crate::settings::{self, SettingSource};
use crate::upstream::Forward;
use wasip3::http::types::{Request, Response};

/// Adds `up`'s cloud auth (a SigV4 signature over `body`, or a Google token:
/// from the instance's memory or the store unless `refresh`, else minted
/// with one token exchange).
pub async fn authorize(
    up: &mut UpstreamRequest,
    body: &[u8],
    host: &dyn Host,
    refresh: bool,
    timeout_ns: u64,
) -> Result<Authorized, ErrorReply> {
    match cloud_auth::prepare(up, body, host, refresh)? {
        Prepared::Done(how) => Ok(how),
        Prepared::Mint(mint) => {
            let fetched = deadline(
                fetch_one(mint.request(), timeout_ns, serve::TOKEN_MAX_BODY),
                timeout_ns,
            )
            .await
            .unwrap_or_else(|| Err("timed out".into()));
            mint.finish(up, host, fetched)
        }
    }
}

/// Performs `fwd` (and, for a model route, its fallback targets) and
/// returns the client's response; `ledger` is finished when the answer
/// has left.
///
/// Each attempt gets its cloud auth right before it is sent (a SigV4
/// signature over the exact bytes sent — a streamed body is then read whole,
/// up to `MAX_BODY_BYTES` — or a Google token); a 401 on a Google token is
/// answered by exactly one fresh token and the same attempt again.
pub async fn forward(
    request: Option<Request>,
    head: &RequestHead,
    mut fwd: Forward,
    src: &dyn SettingSource,
    host: &dyn Host,
    mut ledger: Ledger,
) -> Response {
    if let Some(note) = fwd.note {
        serve::log(&format!("llm-proxy {note}\n"));
    }
    ledger.forwarding(&fwd, src);
    let timeout_ns = settings::upstream_timeout_secs(src).saturating_mul(NS_PER_SEC);
    let signs = matches!(fwd.first().cloud_auth, Some(CloudAuth::SigV4 { .. }));
    let whole = signs.then(|| usize::try_from(settings::max_body_bytes(src)).unwrap_or(usize::MAX));
    let planned = fwd.first().body.clone();
    let replay = fwd.attempts.len() > 1;
    let mut body = match ClientBody::new(request, head, planned, replay, whole).await {
        Ok(body) => body,
        Err(e) => return answer(e.into_reply_for(fwd.dialect), ledger).await,
    };
    let mut last = last_attempt(&fwd, &body);
    let mut refreshed = false;
    let mut i = 0;
    // Attempts of every target so far.
    let mut tried = 0;
    loop {
        let Some(mut up) = fwd.attempts.get(i).cloned() else {
            // safe: `after_attempt` answers at `last`, an index of `attempts`.
            return answer(
                ErrorReply::bad_gateway("no attempt left").into_reply(),
                ledger,
            )
            .await;
        };
        tried += 1;
        ledger.attempts = tried;
        let bytes = body.shared();
        let authorized = match authorize(&mut up, &bytes, host, false, timeout_ns).await {
            Ok(a) => a,
            Err(e) => return answer(serve::attempt_error(e, &fwd, tried - 1), ledger).await,
        };
        let mut result = send(&up, &mut body, timeout_ns).await;
        // A token the provider refused: one fresh token, same attempt.
        if matches!(authorized, Authorized::CachedToken | Authorized::FreshToken)
            && !refreshed
            && body.replayable()
            && matches!(&result, Ok(resp) if resp.get_status_code() == 401)
        {
            refreshed = true;
            drop(result);
            result = match authorize(&mut up, &bytes, host, true, timeout_ns).await {
                Ok(_) => send(&up, &mut body, timeout_ns).await,
                Err(e) => return answer(serve::attempt_error(e, &fwd, tried - 1), ledger).await,
            };
        }
        let outcome = match &result {
            Ok(resp) => Outcome::Status(resp.get_status_code()),
            Err(WaitError::Timeout) => Outcome::Timeout,
            Err(_) => Outcome::Unreachable,
        };
        // The provider may have done the work: charged as reserved.
        ledger.upstream_timed_out |= outcome == Outcome::Timeout;
        // A success needs no Retry-After: no host call for it.
        let retry_after = match &result {
            Ok(resp) if !matches!(outcome, Outcome::Status(200..=399)) => resp
                .get_headers()
                .get("retry-after")
                .into_iter()
                .next()
                .and_then(|v| String::from_utf8(v).ok()),
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
                Ok(resp) => relay(resp, &fwd.response, fwd.trust, extra, ledger).await,
                Err(e) => {
                    let reply = serve::attempt_error(e.for_upstream(&up), &fwd, tried - 1);
                    answer(reply, ledger).await
                }
            };
        };
        drop(result);
        serve::log(&format!(
            "llm-proxy retry provider={} attempt={} outcome={outcome:?} wait_ms={wait_ms}\n",
            up.provider,
            i + 1
        ));
        wasip3::clocks::monotonic_clock::wait_for(wait_ms.saturating_mul(1_000_000)).await;
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
