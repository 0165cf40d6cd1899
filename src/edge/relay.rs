//! Relaying an upstream's answer to the client as it arrives, through the
//! body transform the core chose (none for a pass-through).
//!
//! The response head is held until the first bytes for the client exist (or
//! [`HOLD_MS`] pass), then both leave together. On a connection without
//! `TCP_NODELAY` (Spin sets none on the connections it accepts) a small body
//! write that follows the head in a separate segment waits for the client's
//! delayed ACK, ~40 ms; sent together they leave at once. Every later byte is
//! written as soon as it is read.

use super::bindings::wasi::clocks::monotonic_clock;
use super::bindings::wasi::http::types::{
    ErrorCode, IncomingBody, IncomingResponse, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use super::bindings::wasi::io::poll::{self, Pollable};
use super::bindings::wasi::io::streams::{InputStream, OutputStream, StreamError};
use super::host::EdgeHost;
use super::io::{fields_of, pump, write_now, write_unflushed, READ_CHUNK};
use crate::grant::Trust;
use crate::ledger::{tapped, Ledger, OnEnd};
use crate::serve;
use crate::translate::{BodyTransform, ResponseMapping};

/// Longest the response head waits for the first body bytes.
pub const HOLD_MS: u64 = 50;

/// How the upstream body ended while the head was held.
enum Held {
    /// Still going.
    Open,
    /// Ended (`true`: complete).
    Ended(bool),
}

/// Relays status, headers (minus hop-by-hop, plus CORS and `extra`) and the
/// body as it arrives. Returns (status to client, upstream status).
pub fn relay(
    out: ResponseOutparam,
    response: IncomingResponse,
    mapping: &ResponseMapping,
    trust: Trust,
    extra: Vec<(String, Vec<u8>)>,
    mut ledger: Ledger,
) {
    let upstream_status = response.status();
    let (cleaned, upstream_id) =
        serve::relayed_headers(response.headers().entries(), trust, &ledger.request_id);
    ledger.upstream_request_id = upstream_id;
    let client = mapping.respond(upstream_status, cleaned);
    let (mut status, mut headers) = (client.status, client.headers);
    headers.extend(extra);
    ledger.status = status;
    ledger.upstream_status = Some(upstream_status);
    let on_end: OnEnd = Box::new(move |ended| {
        if let Some(s) = ended.status {
            ledger.status = s;
        }
        ledger.first_byte_ns = ended.first_byte_ns;
        ledger.whole = ended.whole;
        let now = monotonic_clock::now();
        serve::log(&ledger.finish(ended.usage, now, &EdgeHost::default()));
    });
    let translated = client.transform.is_some();
    let mut transform = Some(tapped(client.transform, monotonic_clock::now, on_end));
    let Ok(in_body) = response.consume() else {
        ResponseOutparam::set(out, Err(ErrorCode::InternalError(None)));
        return;
    };
    let Ok(from) = in_body.stream() else {
        ResponseOutparam::set(out, Err(ErrorCode::InternalError(None)));
        return;
    };

    // Hold the head until the client has bytes to get, or HOLD_MS passed
    // (or, for an answer translated whole, until it is whole).
    let mut pending = Vec::new();
    let mut held = hold(&from, &mut transform, &mut pending, client.hold_whole);
    if let Some(replaced) = transform.as_ref().and_then(|t| t.status()) {
        status = replaced;
    }
    if let (Held::Ended(_), true) = (&held, translated) {
        // A translated answer that is already whole gets its length.
        headers.retain(|(n, _)| n != "content-length");
        headers.push((
            "content-length".into(),
            pending.len().to_string().into_bytes(),
        ));
    }
    let outgoing = OutgoingResponse::new(fields_of(&headers));
    let _ = outgoing.set_status_code(status);
    let Ok(out_body) = outgoing.body() else {
        ResponseOutparam::set(out, Err(ErrorCode::InternalError(None)));
        return;
    };
    let Ok(to) = out_body.write() else {
        ResponseOutparam::set(out, Err(ErrorCode::InternalError(None)));
        return;
    };
    // What the stream takes now goes out with the head; nothing waits here,
    // as nobody reads the body before the head is set.
    let early = write_now(&to, &pending).unwrap_or(0);
    ResponseOutparam::set(out, Ok(outgoing));
    let mut ok = write_unflushed(&to, &pending[early..]).is_ok() && to.flush().is_ok();
    if ok && matches!(held, Held::Open) {
        held = Held::Ended(match &mut transform {
            None => pump(&from, &to).is_ok(),
            Some(t) => pump_through(&from, &to, t.as_mut()),
        });
    }
    if let Held::Ended(complete) = held {
        ok = ok && complete && to.blocking_flush().is_ok();
    }
    drop(to);
    drop(from);
    let _ = IncomingBody::finish(in_body);
    if ok {
        let _ = OutgoingBody::finish(out_body, None);
    }
    // Otherwise dropping the body unfinished tells the client it was cut short.
    // The body is done with: the ledger (through the transform's end).
    drop(transform);
}

/// Reads the upstream body until the client has bytes to get (in `pending`),
/// the body ends, or [`HOLD_MS`] pass; with `whole`, until the body ends.
fn hold(
    from: &InputStream,
    transform: &mut Option<Box<dyn BodyTransform>>,
    pending: &mut Vec<u8>,
    whole: bool,
) -> Held {
    // The timer and the pollables are made only when the first read finds
    // nothing yet: a body already there (most JSON answers) costs no more.
    let mut waiting: Option<(Pollable, Pollable)> = None;
    loop {
        match from.read(READ_CHUNK) {
            Ok(chunk) if chunk.is_empty() => {
                if whole {
                    // No deadline: the answer is translated at its end.
                    from.subscribe().block();
                    continue;
                }
                let (readable, deadline) = waiting.get_or_insert_with(|| {
                    (
                        from.subscribe(),
                        monotonic_clock::subscribe_duration(HOLD_MS * 1_000_000),
                    )
                });
                if deadline.ready() {
                    return Held::Open;
                }
                poll::poll(&[readable, deadline]);
            }
            Ok(chunk) => {
                match transform {
                    None => pending.extend_from_slice(&chunk),
                    Some(t) => t.push(&chunk, pending),
                }
                if !pending.is_empty() && !whole {
                    return Held::Open;
                }
            }
            Err(e) => {
                // A translated body that broke off is still whole for the
                // client when the transform said so (e.g. an error event).
                let complete = matches!(e, StreamError::Closed);
                let whole = match transform {
                    Some(t) => {
                        let before = pending.len();
                        t.finish(complete, pending);
                        complete || pending.len() > before
                    }
                    None => complete,
                };
                return Held::Ended(whole);
            }
        }
    }
}

/// Like [`pump`], through `transform`: each chunk's output is written and
/// flushed at once. A body that breaks off ends with what the transform
/// says about it (e.g. an error event). Returns whether the client's body is
/// whole.
fn pump_through(from: &InputStream, to: &OutputStream, transform: &mut dyn BodyTransform) -> bool {
    let mut out = Vec::new();
    loop {
        out.clear();
        let step = from.blocking_read(READ_CHUNK);
        let ended = match &step {
            Ok(chunk) => {
                transform.push(chunk, &mut out);
                None
            }
            Err(e) => {
                let complete = matches!(e, StreamError::Closed);
                transform.finish(complete, &mut out);
                Some(complete || !out.is_empty())
            }
        };
        if !out.is_empty() && (write_unflushed(to, &out).is_err() || to.flush().is_err()) {
            return false;
        }
        if let Some(whole) = ended {
            return whole;
        }
    }
}
