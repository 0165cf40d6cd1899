//! The provider's side: building and sending an upstream request and
//! waiting for its answer's head.

use super::inbound::{fields_of, method_of, ClientBody};
use super::task::deadline;
use crate::errors::ErrorReply;
use crate::outgoing::UpstreamRequest;
use crate::serve;
use wasip3::http::types::{ErrorCode, Request, Response, Scheme};

pub const NS_PER_SEC: u64 = 1_000_000_000;

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
    let (contents, trailers) = body.take_for_send().await;
    let (request, _sent) = Request::new(fields_of(&up.headers), contents, trailers, None);
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
