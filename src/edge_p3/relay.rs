//! Relaying an upstream's answer to the client, through the body transform
//! the core chose (none for a pass-through).
//!
//! - Every body goes through the guest, watched for usage
//!   ([`crate::ledger::tapped`]): untranslated, it leaves as it came, the
//!   first bytes with the head.
//! - A whole answer (a JSON body translated at its end, which may change the
//!   status): read whole, translated, sent with its length.
//! - A translated stream: the head waits for the first bytes the client gets
//!   (at most [`HOLD_MS`]), and leaves with them; then a task of its own reads
//!   the upstream, runs each chunk through the transform and writes what
//!   comes out at once. A body that breaks off ends with what the transform
//!   says about it (e.g. an error event), and the client's trailers future
//!   reports the break when the transform could not make the body whole.
//!
//! Bytes that leave with a head are written before the response is handed
//! to the host ([`start_now`]): on a connection without `TCP_NODELAY` (Spin
//! sets none on the connections it accepts) a small write that follows the
//! head in a segment of its own waits for the client's delayed ACK, ~40 ms.

use super::finish_later;
use super::inbound::{body_stream, no_trailers, response, start_now, Incoming, READ_CHUNK};
use crate::grant::Trust;
use crate::ledger::{tapped, Ledger, OnEnd};
use crate::serve;
use crate::translate::{BodyTransform, ResponseMapping, WHOLE_LIMIT};
use std::future::{poll_fn, Future};
use std::task::Poll;
use wasip3::http::types::{ErrorCode, Response};
use wasip3::wit_bindgen::{StreamResult, StreamWriter};
use wasip3::wit_stream;

/// The client's response for an upstream `answer`, its body watched for
/// usage on the way through the guest; `ledger` is finished when the body
/// is done with.
pub async fn relay(
    answer: Response,
    mapping: &ResponseMapping,
    trust: Trust,
    extra: Vec<(String, Vec<u8>)>,
    mut ledger: Ledger,
) -> Response {
    let upstream_status = answer.get_status_code();
    let (cleaned, upstream_id) =
        serve::relayed_headers(answer.get_headers().copy_all(), trust, &ledger.request_id);
    ledger.upstream_request_id = upstream_id;
    let client = mapping.respond(upstream_status, cleaned);
    let (mut status, mut headers) = (client.status, client.headers);
    headers.extend(extra);
    ledger.status = status;
    ledger.upstream_status = Some(upstream_status);
    let mut incoming = Incoming::of_response(answer);
    let translated = client.transform.is_some();
    let on_end: OnEnd = Box::new(move |ended| {
        if let Some(s) = ended.status {
            ledger.status = s;
        }
        ledger.first_byte_ns = ended.first_byte_ns;
        ledger.whole = ended.whole;
        finish_later(ledger, ended.usage);
    });
    let mut transform = tapped(client.transform, monotonic_ns, on_end);
    if client.hold_whole {
        let mut body = Vec::new();
        let complete = matches!(incoming.read_up_to(WHOLE_LIMIT, &mut body).await, Ok(true))
            && incoming.arrived_whole().await;
        let mut out = Vec::new();
        transform.push(&body, &mut out);
        drop(body);
        transform.finish(complete, &mut out);
        if let Some(replaced) = transform.status() {
            status = replaced;
        }
        drop(transform);
        headers.retain(|(n, _)| n != "content-length");
        headers.push(("content-length".into(), out.len().to_string().into_bytes()));
        let (body, end) = body_stream(out).await;
        return response(status, &headers, body, end);
    }
    if translated {
        // A translated stream has no length of its own.
        headers.retain(|(n, _)| n != "content-length");
    }
    streamed(incoming, transform, status, headers).await
}

fn monotonic_ns() -> u64 {
    wasip3::clocks::monotonic_clock::now()
}

/// The client's response with a body read from `incoming` through
/// `transform`: the head waits for the first bytes (at most [`HOLD_MS`])
/// and leaves with them; a task of this request writes the rest.
async fn streamed(
    mut incoming: Incoming,
    mut transform: Box<dyn BodyTransform>,
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
) -> Response {
    let mut first = Vec::new();
    let ended = hold(&mut incoming, transform.as_mut(), &mut first).await;
    let (mut tx, rx) = wit_stream::new();
    let (trailers_tx, trailers_rx) = no_trailers();
    start_now(async move {
        let mut whole = first.is_empty() || tx.write_all(first).await.is_empty();
        whole = whole
            && match ended {
                Some(ended) => finish(incoming, tx, transform.as_mut(), ended).await,
                None => pump_through(incoming, tx, transform.as_mut()).await,
            };
        if !whole {
            let _ = trailers_tx
                .write(Err(ErrorCode::HttpResponseIncomplete))
                .await;
        }
    })
    .await;
    response(status, &headers, Some(rx), trailers_rx)
}

/// Longest the response head waits for the first bytes of a translated body.
pub const HOLD_MS: u64 = 50;

/// Reads the upstream through `transform` until the client has bytes to get
/// (in `out`) or [`HOLD_MS`] passed: `None`, the body goes on; or until the
/// body ended first: `Some(whether it ended whole)`.
async fn hold(
    from: &mut Incoming,
    transform: &mut dyn BodyTransform,
    out: &mut Vec<u8>,
) -> Option<bool> {
    let mut timer = std::pin::pin!(wasip3::clocks::monotonic_clock::wait_for(
        HOLD_MS * 1_000_000
    ));
    let mut expired = false;
    while out.is_empty() && !expired {
        let mut read = std::pin::pin!(from.stream.read(Vec::with_capacity(READ_CHUNK)));
        let (result, chunk) = poll_fn(|cx| {
            if let Poll::Ready(done) = read.as_mut().poll(cx) {
                return Poll::Ready(done);
            }
            if timer.as_mut().poll(cx).is_ready() {
                expired = true;
                // What the read got before it was called off, if anything.
                return Poll::Ready(read.as_mut().cancel());
            }
            Poll::Pending
        })
        .await;
        match result {
            StreamResult::Complete(_) => transform.push(&chunk, out),
            StreamResult::Dropped => return Some(true),
            StreamResult::Cancelled if expired => {}
            StreamResult::Cancelled => return Some(false),
        }
    }
    None
}

/// The end of a body that ended while the head was held: what the transform
/// adds at the end, written; whether the client's body is whole.
async fn finish(
    from: Incoming,
    mut to: StreamWriter<u8>,
    transform: &mut dyn BodyTransform,
    ended: bool,
) -> bool {
    let complete = ended && from.arrived_whole().await;
    let mut out = Vec::new();
    transform.finish(complete, &mut out);
    let whole = complete || !out.is_empty();
    if !out.is_empty() && !to.write_all(out).await.is_empty() {
        return false;
    }
    drop(to);
    whole
}

/// Reads `from` to its end through `transform` into `to`, each chunk's
/// output written as soon as it exists. Returns whether the client's body is
/// whole (the writer is dropped — the body closed — before it returns).
async fn pump_through(
    mut from: Incoming,
    mut to: StreamWriter<u8>,
    transform: &mut dyn BodyTransform,
) -> bool {
    let mut buf = Vec::with_capacity(READ_CHUNK);
    let mut out = Vec::new();
    let ended = loop {
        buf.clear();
        if buf.capacity() < READ_CHUNK {
            buf.reserve(READ_CHUNK);
        }
        let (result, chunk) = from.stream.read(std::mem::take(&mut buf)).await;
        buf = chunk;
        match result {
            StreamResult::Complete(_) => {
                transform.push(&buf, &mut out);
                if !out.is_empty() && !to.write_all(std::mem::take(&mut out)).await.is_empty() {
                    // The client went away.
                    return false;
                }
            }
            StreamResult::Dropped => break true,
            StreamResult::Cancelled => break false,
        }
    };
    finish(from, to, transform, ended).await
}
