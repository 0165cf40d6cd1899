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
use crate::failover::{self, Outcome};
use crate::host::Host;
use crate::request::RequestHead;
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
            Err(e) => return (send_reply(out, refused(e, &fwd, i)), None),
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
                Err(e) => return (send_reply(out, refused(e, &fwd, i)), None),
            };
        }
        let up = &up;
        let outcome = match &result {
            Ok(resp) => Outcome::Status(resp.status()),
            Err(WaitError::Timeout) => Outcome::Timeout,
            Err(_) => Outcome::Unreachable,
        };
        // A success needs neither the clock nor Retry-After: no host calls for them.
        let failed = !matches!(outcome, Outcome::Status(200..=399));
        let retry_after = match &result {
            Ok(resp) if failed => header(&resp.headers(), "retry-after"),
            _ => None,
        };
        let now = if failed { host.now_ms() } else { 0 };
        if failed {
            let until = failover::cooldown_until(outcome, retry_after.as_deref(), now);
            if let (Some(until), Some(fp), Some(record), Some(store)) = (
                until,
                up.key_fingerprint.as_deref(),
                fwd.cooldowns.as_mut(),
                host.store(),
            ) {
                record.mark(store, fp, until, now);
            }
        }
        let invalid = matches!(result, Err(WaitError::Invalid));
        if invalid || i >= last || !failover::retryable(outcome, fwd.key_count) {
            let count = (i + 1).to_string();
            let mut extra: Vec<(String, Vec<u8>)> = fwd
                .response_headers
                .iter()
                .map(|(n, v)| (n.clone(), v.clone().into_bytes()))
                .collect();
            extra.push(("x-llm-proxy-attempts".into(), count.into_bytes()));
            return match result {
                Ok(resp) => relay(out, resp, &fwd.response, extra),
                Err(e) => {
                    let mut reply = e.for_upstream(up).into_reply_for(fwd.dialect);
                    reply.headers.extend(
                        extra
                            .into_iter()
                            .map(|(n, v)| (n, String::from_utf8_lossy(&v).into_owned())),
                    );
                    (send_reply(out, reply), None)
                }
            };
        }
        drop(result);
        let failures = (i + 1) as u32;
        let wait = failover::wait_ms(failures, retry_after.as_deref(), now, host.random_u64());
        eprintln!(
            "llm-proxy retry provider={} attempt={} outcome={outcome:?} wait_ms={wait}",
            up.provider,
            i + 1
        );
        monotonic_clock::subscribe_duration(wait.saturating_mul(1_000_000)).block();
        i += 1;
    }
}

/// The reply when attempt `i` could not get its auth (the token exchange failed).
fn refused(e: crate::errors::ErrorReply, fwd: &Forward, i: usize) -> crate::reply::Reply {
    let mut reply = e.into_reply_for(fwd.dialect);
    reply
        .headers
        .push(("x-llm-proxy-attempts".into(), (i + 1).to_string()));
    reply
}
