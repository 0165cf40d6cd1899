//! The provider's side: building and sending an upstream request, waiting
//! for its answer, and naming what went wrong.

use super::bindings::wasi::clocks::monotonic_clock;
use super::bindings::wasi::http::outgoing_handler;
use super::bindings::wasi::http::types::{
    ErrorCode, FutureIncomingResponse, IncomingResponse, OutgoingBody, OutgoingRequest,
    RequestOptions, Scheme,
};
use super::bindings::wasi::io::poll;
use super::inbound::ClientBody;
use super::io::{fields_of, method_of, write_now};
use crate::errors::ErrorReply;
use crate::serve;
use crate::upstream::UpstreamRequest;

pub const NS_PER_SEC: u64 = 1_000_000_000;
use crate::settings::DEFAULT_UPSTREAM_TIMEOUT_SECS as DEFAULT_TIMEOUT_SECS;

/// The outgoing request for `up`, or `None` when the host refuses its
/// method, authority or path.
pub fn outgoing_request(up: &UpstreamRequest) -> Option<OutgoingRequest> {
    let outgoing = OutgoingRequest::new(fields_of(&up.headers));
    let built = set_target!(outgoing, up);
    built.then_some(outgoing)
}

/// Sends one attempt and waits (at most `timeout_ns`) for its response head.
pub fn send_one(
    up: &UpstreamRequest,
    body: &mut ClientBody,
    timeout_ns: u64,
) -> Result<IncomingResponse, WaitError> {
    let future = dispatch(up, body, timeout_ns)?;
    await_response(&future, timeout_ns)
}

/// Starts `up` with `body`: the outgoing request, its options, the body
/// written and finished. The response is for the caller to wait for.
pub fn dispatch(
    up: &UpstreamRequest,
    body: &mut ClientBody,
    timeout_ns: u64,
) -> Result<FutureIncomingResponse, WaitError> {
    let outgoing = outgoing_request(up).ok_or(WaitError::Invalid)?;
    let out_body = outgoing.body().map_err(|_| WaitError::Gone)?;
    // The first-byte deadline is enforced by the caller; the host is told
    // only when it differs from the host's own default, saving the calls.
    let options = (timeout_ns != DEFAULT_TIMEOUT_SECS * NS_PER_SEC).then(|| {
        let options = RequestOptions::new();
        let _ = options.set_first_byte_timeout(Some(timeout_ns));
        let _ = options.set_between_bytes_timeout(Some(timeout_ns));
        options
    });
    // A body already in memory goes into the stream before the request is
    // handed to the host, as far as the stream takes it without waiting: the
    // host then has head and body together and sends them in one segment. (On
    // a pooled keep-alive connection — Spin keeps them — a body sent after its
    // head waits for the server's delayed ACK, ~40 ms, unless TCP_NODELAY is set.)
    let stream = if body.is_empty() {
        None
    } else {
        out_body.write().ok()
    };
    let early = match (&stream, body.bytes()) {
        (Some(to), Some(bytes)) => write_now(to, bytes).unwrap_or(0),
        _ => 0,
    };
    let whole_early = body.is_empty() || body.bytes().is_some_and(|b| early == b.len());
    if whole_early {
        drop(stream);
        let _ = OutgoingBody::finish(out_body, None);
        return outgoing_handler::handle(outgoing, options).map_err(WaitError::Code);
    }
    let future = outgoing_handler::handle(outgoing, options).map_err(WaitError::Code)?;
    let sent = match &stream {
        Some(to) => body.send_from(to, early),
        None => false,
    };
    drop(stream);
    if sent {
        let _ = OutgoingBody::finish(out_body, None);
    } else {
        // Unfinished: the upstream sees the request as cut short.
        drop(out_body);
    }
    Ok(future)
}

pub enum WaitError {
    Timeout,
    Code(ErrorCode),
    Gone,
    /// The host refused the method, authority or path.
    Invalid,
}

impl WaitError {
    pub fn for_upstream(&self, up: &UpstreamRequest) -> ErrorReply {
        match self {
            WaitError::Timeout => serve::upstream_timeout(&up.provider),
            WaitError::Code(code) => serve::upstream_failure(&up.provider, &format!("{code:?}")),
            WaitError::Gone => {
                ErrorReply::bad_gateway(format!("provider {} did not answer", up.provider))
            }
            WaitError::Invalid => ErrorReply::bad_request(
                "the upstream request could not be built from this method or path",
                "invalid_request",
            ),
        }
    }
}

pub fn await_response(
    future: &FutureIncomingResponse,
    timeout_ns: u64,
) -> Result<IncomingResponse, WaitError> {
    let deadline = monotonic_clock::subscribe_duration(timeout_ns);
    let ready = future.subscribe();
    loop {
        match future.get() {
            Some(Ok(Ok(response))) => return Ok(response),
            Some(Ok(Err(code))) => return Err(WaitError::Code(code)),
            Some(Err(())) => return Err(WaitError::Gone),
            None => {}
        }
        if deadline.ready() {
            return Err(WaitError::Timeout);
        }
        poll::poll(&[&ready, &deadline]);
    }
}

/// The words for a host error (shared with the p3 edge: [`serve::error_name`]).
pub fn error_name(code: &ErrorCode) -> &'static str {
    serve::error_name(&format!("{code:?}"))
}
