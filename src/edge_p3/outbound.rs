//! The provider's side: building and sending an upstream request and
//! waiting for its answer's head.

use super::inbound::{fields_of, method_of, ClientBody};
use super::task::deadline;
use crate::errors::ErrorReply;
use crate::outgoing::UpstreamRequest;
use crate::serve;
use wasip3::http::types::{ErrorCode, Request, Response, Scheme};

pub const NS_PER_SEC: u64 = 1_000_000_000;

/// Whether a request body the guest writes goes with `Expect: 100-continue`.
///
/// Under Spin 4.1 such a body reaches Spin's pooled upstream connection
/// through a channel the host fills after hyper got the request, so now and
/// then (~10 % of requests at concurrency 1, measured) hyper has sent the head
/// alone; Spin sets no `TCP_NODELAY`, and the body then waits for the
/// upstream's delayed ACK of the head, ~40 ms (docs/performance.md, "WASIp3
/// under Spin"). A server that honours `Expect` answers the head with `100
/// Continue` at once, which carries the ACK, and the body leaves. Nothing
/// waits for that answer (hyper sends the body regardless), so a server that
/// ignores the header costs nothing. Under `wasmtime serve` (a new connection
/// per request) the wait does not happen. A body handed on as the client's
/// own stream reaches the connection with its head and needs none of this.
const ASK_CONTINUE: bool = cfg!(feature = "spin");

/// `headers` plus `Expect: 100-continue`, unless they already say something.
fn with_expect_continue(headers: &[(String, Vec<u8>)]) -> wasip3::http::types::Fields {
    if headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("expect"))
    {
        return fields_of(headers);
    }
    let mut all = headers.to_vec();
    all.push(("expect".into(), b"100-continue".to_vec()));
    fields_of(&all)
}

pub enum WaitError {
    Timeout,
    Code(ErrorCode),
    /// The host refused the method, authority or path.
    Invalid,
}

impl WaitError {
    pub fn for_upstream(&self, up: &UpstreamRequest) -> ErrorReply {
        match self {
            WaitError::Timeout => serve::upstream_timeout(&up.provider),
            WaitError::Code(code) => serve::upstream_failure(&up.provider, &format!("{code:?}")),
            WaitError::Invalid => ErrorReply::bad_request(
                "the upstream request could not be built from this method or path",
                "invalid_request",
            ),
        }
    }

    /// In words, for a fan-out's log.
    pub fn name(&self) -> &'static str {
        match self {
            WaitError::Timeout => "timed out",
            WaitError::Code(code) => serve::error_name(&format!("{code:?}")),
            WaitError::Invalid => "invalid request",
        }
    }
}

/// Sends one attempt of `up` with `body` and waits (at most `timeout_ns`)
/// for its response head.
pub async fn send(
    up: &UpstreamRequest,
    body: &mut ClientBody,
    timeout_ns: u64,
) -> Result<Response, WaitError> {
    let (contents, trailers, written) = body.take_for_send().await;
    let headers = if ASK_CONTINUE && written {
        with_expect_continue(&up.headers)
    } else {
        fields_of(&up.headers)
    };
    let (request, _sent) = Request::new(headers, contents, trailers, None);
    let built = set_target!(request, up);
    if !built {
        return Err(WaitError::Invalid);
    }
    match deadline(wasip3::http::client::send(request), timeout_ns).await {
        Some(Ok(response)) => Ok(response),
        Some(Err(code)) => Err(WaitError::Code(code)),
        None => Err(WaitError::Timeout),
    }
}
