//! The concurrent fetcher: many small upstream requests at once (model
//! lists, status checks), each read whole, all within one deadline.

use super::bindings::wasi::clocks::monotonic_clock;
use super::bindings::wasi::http::types::{FutureIncomingResponse, IncomingBody, IncomingResponse};
use super::bindings::wasi::io::poll::{self, Pollable};
use super::bindings::wasi::io::streams::{InputStream, StreamError};
use super::inbound::ClientBody;
use super::io::READ_CHUNK;
use super::outbound::{dispatch, error_name, WaitError};
use crate::upstream::UpstreamRequest;

/// One request of [`fetch_all`]. Fields drop in declaration order: the stream
/// before its body, the body before its response.
enum Slot {
    Waiting(FutureIncomingResponse),
    Reading {
        status: u16,
        stream: InputStream,
        _body: IncomingBody,
        _response: IncomingResponse,
        buf: Vec<u8>,
    },
    Done(Result<(u16, Vec<u8>), String>),
}

impl Slot {
    /// Moves this request on as far as it can go without waiting.
    fn advance(&mut self, max_body: usize) {
        loop {
            let next = match self {
                Slot::Waiting(f) => match f.get() {
                    None => return,
                    Some(Ok(Ok(response))) => Slot::reading(response),
                    Some(Ok(Err(code))) => Slot::Done(Err(error_name(&code).into())),
                    Some(Err(())) => Slot::Done(Err("no response".into())),
                },
                Slot::Reading {
                    status,
                    stream,
                    buf,
                    ..
                } => match stream.read(READ_CHUNK) {
                    Ok(chunk) if chunk.is_empty() => return,
                    Ok(chunk) if buf.len() + chunk.len() > max_body => {
                        Slot::Done(Err("answer too large".into()))
                    }
                    Ok(chunk) => {
                        buf.extend_from_slice(&chunk);
                        continue;
                    }
                    Err(StreamError::Closed) => Slot::Done(Ok((*status, std::mem::take(buf)))),
                    Err(StreamError::LastOperationFailed(_)) => {
                        Slot::Done(Err("body read failed".into()))
                    }
                },
                Slot::Done(_) => return,
            };
            *self = next;
        }
    }

    fn reading(response: IncomingResponse) -> Slot {
        let status = response.status();
        let Ok(body) = response.consume() else {
            return Slot::Done(Err("unreadable body".into()));
        };
        let Ok(stream) = body.stream() else {
            return Slot::Done(Err("unreadable body".into()));
        };
        Slot::Reading {
            status,
            stream,
            _body: body,
            _response: response,
            buf: Vec::new(),
        }
    }

    fn pollable(&self) -> Option<Pollable> {
        match self {
            Slot::Waiting(f) => Some(f.subscribe()),
            Slot::Reading { stream, .. } => Some(stream.subscribe()),
            Slot::Done(_) => None,
        }
    }
}

/// Sends every request at once and collects (status, body) for each, all
/// within one `timeout_ns` deadline; bodies over `max_body` bytes fail.
pub fn fetch_all(
    requests: &[&UpstreamRequest],
    timeout_ns: u64,
    max_body: usize,
) -> Vec<Result<(u16, Vec<u8>), String>> {
    let mut slots: Vec<Slot> = requests
        .iter()
        .map(|up| {
            let mut body = ClientBody::Bytes(up.body.clone().unwrap_or_default());
            match dispatch(up, &mut body, timeout_ns) {
                Ok(f) => Slot::Waiting(f),
                Err(WaitError::Code(code)) => Slot::Done(Err(error_name(&code).into())),
                Err(_) => Slot::Done(Err("invalid request".into())),
            }
        })
        .collect();
    let deadline = monotonic_clock::subscribe_duration(timeout_ns);
    loop {
        slots.iter_mut().for_each(|s| s.advance(max_body));
        let pollables: Vec<Pollable> = slots.iter().filter_map(Slot::pollable).collect();
        if pollables.is_empty() || deadline.ready() {
            break;
        }
        let mut refs: Vec<&Pollable> = pollables.iter().collect();
        refs.push(&deadline);
        poll::poll(&refs);
    }
    slots
        .into_iter()
        .map(|s| match s {
            Slot::Done(r) => r,
            _ => Err("timed out".into()),
        })
        .collect()
}

/// One request made whole, for the core's token exchange.
pub struct EdgeFetch {
    pub timeout_ns: u64,
}

impl crate::cloud_auth::Fetch for EdgeFetch {
    fn fetch(&self, request: &UpstreamRequest) -> Result<(u16, Vec<u8>), String> {
        fetch_all(&[request], self.timeout_ns, crate::serve::TOKEN_MAX_BODY)
            .pop()
            .unwrap_or_else(|| Err("no answer".into()))
    }
}
