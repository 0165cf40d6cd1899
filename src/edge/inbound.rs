//! The client's side: reading the request, answering directly.

use super::bindings::wasi::http::types::{
    ErrorCode, IncomingBody, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use super::bindings::wasi::io::streams::{InputStream, OutputStream};
use super::io::{
    fields_of, method_name, pump, read_checking, read_up_to, write_all, write_unflushed,
};
use crate::body_limit::ValueCount;
use crate::errors::ErrorReply;
use crate::failover;
use crate::reply::{self, Reply};
use crate::request::RequestHead;

pub fn read_head(request: &IncomingRequest) -> RequestHead {
    let method = method_name(request.method());
    let path = request.path_with_query().unwrap_or_else(|| "/".into());
    RequestHead::new(&method, &path, request.headers().entries())
}

/// Reads a whole request body, refusing more than `limit` bytes, or more
/// than `values` JSON values (counted chunk by chunk as they arrive), with a
/// 413: the rest is left unread.
pub fn read_body(
    request: &IncomingRequest,
    limit: u64,
    values: u64,
) -> Result<Vec<u8>, ErrorReply> {
    let mut body = Vec::new();
    let Ok(incoming) = request.consume() else {
        return Ok(body);
    };
    if let Ok(stream) = incoming.stream() {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let mut count = ValueCount::new();
        let read = read_checking(&stream, limit, &mut body, |chunk| {
            count.push(chunk);
            count.values() <= values
        });
        match read {
            Ok(true) => {}
            Ok(false) if count.values() > values => {
                return Err(ErrorReply::too_many_values(values))
            }
            Ok(false) => return Err(ErrorReply::too_large(limit as u64)),
            Err(()) => {
                return Err(ErrorReply::bad_request(
                    "the request body could not be read",
                    "invalid_body",
                ))
            }
        }
    }
    let _ = IncomingBody::finish(incoming);
    Ok(body)
}

/// Answers with `reply` (plus CORS and a Content-Length); returns its status.
pub fn send_reply(out: ResponseOutparam, mut reply: Reply) -> u16 {
    let headers = reply::wire_headers(&mut reply);
    let response = OutgoingResponse::new(fields_of(&headers));
    let _ = response.set_status_code(reply.status);
    let Ok(body) = response.body() else {
        ResponseOutparam::set(out, Err(ErrorCode::InternalError(None)));
        return 500;
    };
    ResponseOutparam::set(out, Ok(response));
    if let Ok(stream) = body.write() {
        let _ = write_all(&stream, &reply.body);
        drop(stream);
    }
    let _ = OutgoingBody::finish(body, None);
    reply.status
}

/// The client's body as the attempts need it.
pub enum ClientBody {
    /// Wholly in memory (planned by the core, or read for replay).
    Bytes(crate::outgoing::SharedBody),
    /// Streamed from the client (larger than the replay limit, or no
    /// retries): sent once. Fields drop in order: the stream before its body.
    Stream {
        prefix: Vec<u8>,
        stream: InputStream,
        _body: IncomingBody,
    },
    /// Already sent.
    Spent,
}

impl ClientBody {
    /// The planned body, or the client's: read into memory for replay when
    /// `replay` and it fits in [`failover::REPLAY_LIMIT`], else left
    /// streaming; read whole when `whole` gives a limit (a body that must be
    /// signed), a 413 above it.
    pub fn new(
        request: &IncomingRequest,
        head: &RequestHead,
        planned: Option<crate::outgoing::SharedBody>,
        replay: bool,
        whole: Option<usize>,
    ) -> Result<ClientBody, ErrorReply> {
        if let Some(bytes) = planned {
            return Ok(ClientBody::Bytes(bytes));
        }
        let empty = || Ok(ClientBody::Bytes(crate::outgoing::SharedBody::default()));
        if !head.has_body() {
            return empty();
        }
        let Ok(body) = request.consume() else {
            return empty();
        };
        let Ok(stream) = body.stream() else {
            return empty();
        };
        let mut prefix = Vec::new();
        if let Some(limit) = whole {
            return match read_up_to(&stream, limit, &mut prefix) {
                Ok(true) => {
                    drop(stream);
                    let _ = IncomingBody::finish(body);
                    Ok(ClientBody::Bytes(prefix.into()))
                }
                Ok(false) => Err(ErrorReply::too_large(limit as u64)),
                Err(()) => Err(ErrorReply::bad_request(
                    "the request body could not be read",
                    "invalid_body",
                )),
            };
        }
        // Broken reads fall through to streaming: the send finds out.
        if replay && read_up_to(&stream, failover::REPLAY_LIMIT, &mut prefix) == Ok(true) {
            drop(stream);
            let _ = IncomingBody::finish(body);
            return Ok(ClientBody::Bytes(prefix.into()));
        }
        Ok(ClientBody::Stream {
            prefix,
            stream,
            _body: body,
        })
    }

    pub fn replayable(&self) -> bool {
        matches!(self, ClientBody::Bytes(_))
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, ClientBody::Bytes(b) if b.is_empty())
    }

    /// The body, when it is wholly in memory.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            ClientBody::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// Writes the body into `to` from byte `offset` on (bytes already
    /// written); a streamed body is used up.
    pub fn send_from(&mut self, to: &OutputStream, offset: usize) -> bool {
        match std::mem::replace(self, ClientBody::Spent) {
            ClientBody::Bytes(bytes) => {
                let ok = write_unflushed(to, bytes.get(offset..).unwrap_or_default()).is_ok();
                *self = ClientBody::Bytes(bytes);
                ok
            }
            ClientBody::Stream { prefix, stream, .. } => {
                write_all(to, &prefix).is_ok() && pump(&stream, to).is_ok()
            }
            ClientBody::Spent => false,
        }
    }
}
