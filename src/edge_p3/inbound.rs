//! The client's side: reading the request, answering directly, and the
//! request body as the attempts need it.

use crate::body_limit::ValueCount;
use crate::errors::ErrorReply;
use crate::failover;
use crate::reply::{self, Reply};
use crate::request::RequestHead;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::Poll;
use wasip3::http::types::{ErrorCode, Fields, Method, Request, Response, Trailers};
use wasip3::wit_bindgen::{FutureReader, FutureWriter, StreamReader, StreamResult};
use wasip3::{wit_bindgen, wit_future, wit_stream};

/// Smallest room made for a read from a body stream.
pub const READ_CHUNK: usize = 64 * 1024;

pub fn read_head(request: &Request) -> RequestHead {
    let method = method_name(request.get_method());
    let path = request.get_path_with_query().unwrap_or_else(|| "/".into());
    RequestHead::new(&method, &path, request.get_headers().copy_all())
}

http_glue!();

/// A message body being read: its stream, the future that says whether it
/// arrived whole, and our side of the handling result (dropped: fine).
pub struct Incoming {
    pub stream: StreamReader<u8>,
    pub trailers: FutureReader<BodyEnd>,
    _handled: FutureWriter<Result<(), ErrorCode>>,
}

impl Incoming {
    pub fn of_request(request: Request) -> Incoming {
        let (handled, res) = wit_future::new(|| Ok(()));
        let (stream, trailers) = Request::consume_body(request, res);
        Incoming {
            stream,
            trailers,
            _handled: handled,
        }
    }

    pub fn of_response(response: Response) -> Incoming {
        let (handled, res) = wit_future::new(|| Ok(()));
        let (stream, trailers) = Response::consume_body(response, res);
        Incoming {
            stream,
            trailers,
            _handled: handled,
        }
    }

    /// Reads on into `buf` until the end (`Ok(true)`, the body arrived
    /// whole) or until `buf` holds more than `limit` bytes (`Ok(false)`, the
    /// rest left unread). `Err` when the body broke off.
    pub async fn read_up_to(&mut self, limit: usize, buf: &mut Vec<u8>) -> Result<bool, ()> {
        self.read_checking(limit, buf, |_| true).await
    }

    /// [`Self::read_up_to`], each chunk handed to `check` as it arrives:
    /// `false` from it ends the read as over the limit (`Ok(false)`).
    pub async fn read_checking(
        &mut self,
        limit: usize,
        buf: &mut Vec<u8>,
        mut check: impl FnMut(&[u8]) -> bool,
    ) -> Result<bool, ()> {
        loop {
            if buf.capacity() - buf.len() < READ_CHUNK {
                buf.reserve(READ_CHUNK);
            }
            let before = buf.len();
            let (result, filled) = self.stream.read(std::mem::take(buf)).await;
            *buf = filled;
            match result {
                StreamResult::Complete(_) if buf.len() > limit => return Ok(false),
                StreamResult::Complete(_) => {
                    if !check(buf.get(before..).unwrap_or_default()) {
                        return Ok(false);
                    }
                }
                StreamResult::Dropped => return Ok(true),
                StreamResult::Cancelled => return Err(()),
            }
        }
    }

    /// Whether the body, read to its end, arrived whole.
    pub async fn arrived_whole(self) -> bool {
        let Incoming {
            stream, trailers, ..
        } = self;
        drop(stream);
        trailers.await.is_ok()
    }
}

/// Reads a whole request body, refusing more than `limit` bytes, or more
/// than `values` JSON values (counted chunk by chunk as they arrive), with a
/// 413: the rest is left unread.
pub async fn read_body(
    request: Request,
    head: &RequestHead,
    limit: u64,
    values: u64,
) -> Result<Vec<u8>, ErrorReply> {
    if !head.has_body() {
        return Ok(Vec::new());
    }
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let mut body = Vec::with_capacity(expected_len(head, limit));
    let mut incoming = Incoming::of_request(request);
    let mut count = ValueCount::new();
    let read = incoming
        .read_checking(limit, &mut body, |chunk| {
            count.push(chunk);
            count.values() <= values
        })
        .await;
    match read {
        Ok(true) if announced(head) == Some(body.len()) || incoming.arrived_whole().await => {
            Ok(body)
        }
        Ok(false) if count.values() > values => Err(ErrorReply::too_many_values(values)),
        Ok(false) => Err(ErrorReply::too_large(limit as u64)),
        _ => Err(unreadable()),
    }
}

/// Room for the whole body at once when its length is announced (one read
/// instead of many), never more than `limit` + 1.
fn expected_len(head: &RequestHead, limit: usize) -> usize {
    head.header("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok())
        .map_or(READ_CHUNK, |n| {
            n.saturating_add(1).min(limit.saturating_add(1))
        })
}

/// The body's announced length (`Content-Length`), if any: a body read to
/// its end at that length arrived whole without asking its trailers.
fn announced(head: &RequestHead) -> Option<usize> {
    head.header("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok())
}

fn unreadable() -> ErrorReply {
    ErrorReply::bad_request("the request body could not be read", "invalid_body")
}

/// Runs `fut`'s first step now, in the caller's task, and lets a task of
/// this request finish it. For a stream write this means the bytes are
/// already waiting when the host starts reading the other end, so the host
/// sends them with the message's head: a body sent after its head in a
/// segment of its own waits for the peer's delayed ACK (~40 ms) on a
/// connection without `TCP_NODELAY` — Spin's, both to the client and to
/// the upstream.
pub async fn start_now(fut: impl Future<Output = ()> + 'static) {
    let mut fut: Pin<Box<dyn Future<Output = ()>>> = Box::pin(fut);
    let pending = poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx).is_pending())).await;
    if pending {
        wit_bindgen::spawn(fut);
    }
}

/// A body for a message we send: `None` when empty, else a stream whose one
/// write of the whole body is already waiting when this returns.
pub async fn body_stream(bytes: Vec<u8>) -> (Option<StreamReader<u8>>, FutureReader<BodyEnd>) {
    let (end_tx, end_rx) = no_trailers();
    if bytes.is_empty() {
        return (None, end_rx);
    }
    let (mut tx, rx) = wit_stream::new();
    start_now(async move {
        let _ = tx.write_all(bytes).await;
        drop(tx);
        drop(end_tx);
    })
    .await;
    (Some(rx), end_rx)
}

/// How much of a body in memory is copied into its stream at a time.
const SEND_CHUNK: usize = 256 * 1024;

/// [`body_stream`] of a body shared with the next attempt: copied into the
/// stream a chunk at a time, the instance free for its other requests
/// between chunks (one copy of a 32 MiB body at once held it for tens of
/// milliseconds).
pub async fn shared_body_stream(
    bytes: crate::outgoing::SharedBody,
) -> (Option<StreamReader<u8>>, FutureReader<BodyEnd>) {
    if bytes.len() <= SEND_CHUNK {
        return body_stream(bytes.to_vec()).await;
    }
    let (end_tx, end_rx) = no_trailers();
    let (mut tx, rx) = wit_stream::new();
    start_now(async move {
        for chunk in bytes.chunks(SEND_CHUNK) {
            if !tx.write_all(chunk.to_vec()).await.is_empty() {
                // The reader is gone: the send reports it.
                return;
            }
        }
        drop(tx);
        drop(end_tx);
    })
    .await;
    (Some(rx), end_rx)
}

/// How a body ended: whole (with trailers, if any) or broken off.
pub type BodyEnd = Result<Option<Trailers>, ErrorCode>;

/// A trailers future that says "whole, no trailers" when its writer is
/// dropped.
pub fn no_trailers() -> (FutureWriter<BodyEnd>, FutureReader<BodyEnd>) {
    wit_future::new(|| Ok(None))
}

/// A response with `status`, `headers` and an optional body stream.
pub fn response(
    status: u16,
    headers: &[(String, Vec<u8>)],
    body: Option<StreamReader<u8>>,
    trailers: FutureReader<BodyEnd>,
) -> Response {
    let (response, _sent) = Response::new(fields_of(headers), body, trailers);
    let _ = response.set_status_code(status);
    response
}

/// The response for `reply` (plus CORS and a Content-Length), its status,
/// and no upstream status.
pub async fn reply_response(mut reply: Reply) -> (Response, u16, Option<u16>) {
    let headers = reply::wire_headers(&mut reply);
    let status = reply.status;
    (
        {
            let (body, end) = body_stream(reply.body).await;
            response(status, &headers, body, end)
        },
        status,
        None,
    )
}

/// The client's body as the attempts need it.
pub enum ClientBody {
    /// Wholly in memory (planned by the core, or read for replay).
    Bytes(crate::outgoing::SharedBody),
    /// Streamed from the client (larger than the replay limit, or no
    /// retries): sent once, `prefix` (already read) first.
    Stream { prefix: Vec<u8>, incoming: Incoming },
    /// Already sent.
    Spent,
}

impl ClientBody {
    /// The planned body, or the client's: read into memory for replay when
    /// `replay` and it fits in [`failover::REPLAY_LIMIT`], else left
    /// streaming; read whole when `whole` gives a limit (a body that must be
    /// signed), a 413 above it.
    pub async fn new(
        request: Option<Request>,
        head: &RequestHead,
        planned: Option<crate::outgoing::SharedBody>,
        replay: bool,
        whole: Option<usize>,
    ) -> Result<ClientBody, ErrorReply> {
        if let Some(bytes) = planned {
            return Ok(ClientBody::Bytes(bytes));
        }
        let request = match request {
            Some(r) if head.has_body() => r,
            _ => return Ok(ClientBody::Bytes(crate::outgoing::SharedBody::default())),
        };
        let mut incoming = Incoming::of_request(request);
        if let Some(limit) = whole {
            let mut body = Vec::with_capacity(expected_len(head, limit));
            return match incoming.read_up_to(limit, &mut body).await {
                Ok(true) if incoming.arrived_whole().await => Ok(ClientBody::Bytes(body.into())),
                Ok(false) => Err(ErrorReply::too_large(limit as u64)),
                _ => Err(unreadable()),
            };
        }
        let mut prefix = Vec::new();
        if replay {
            prefix.reserve(expected_len(head, failover::REPLAY_LIMIT));
            // Larger than the replay limit, or broken: streamed on (the send
            // finds out about a broken body).
            if incoming
                .read_up_to(failover::REPLAY_LIMIT, &mut prefix)
                .await
                == Ok(true)
            {
                return match incoming.arrived_whole().await {
                    true => Ok(ClientBody::Bytes(prefix.into())),
                    false => Err(unreadable()),
                };
            }
        }
        Ok(ClientBody::Stream { prefix, incoming })
    }

    pub fn replayable(&self) -> bool {
        matches!(self, ClientBody::Bytes(_))
    }

    /// The body when it is wholly in memory (else empty: a streamed body is
    /// never signed), shared, not copied.
    pub fn shared(&self) -> crate::outgoing::SharedBody {
        match self {
            ClientBody::Bytes(b) => b.clone(),
            _ => crate::outgoing::SharedBody::default(),
        }
    }

    /// The body for one send, its trailers future, and whether the guest
    /// writes it (rather than handing on the client's own stream): bytes in
    /// memory are copied into a stream of their own (kept for the next
    /// attempt); a streamed body is handed on as the client's own stream (no
    /// copy in the guest) and used up.
    pub async fn take_for_send(
        &mut self,
    ) -> (Option<StreamReader<u8>>, FutureReader<BodyEnd>, bool) {
        match std::mem::replace(self, ClientBody::Spent) {
            ClientBody::Bytes(bytes) => {
                let (stream, end) = shared_body_stream(bytes.clone()).await;
                *self = ClientBody::Bytes(bytes);
                let written = stream.is_some();
                (stream, end, written)
            }
            ClientBody::Stream { prefix, incoming } if prefix.is_empty() => {
                let Incoming {
                    stream, trailers, ..
                } = incoming;
                (Some(stream), trailers, false)
            }
            ClientBody::Stream { prefix, incoming } => {
                // Part was read already: it goes first, then the rest as it comes.
                let (mut tx, rx) = wit_stream::new();
                let (trailers_tx, trailers_rx) = no_trailers();
                start_now(async move {
                    let mut incoming = incoming;
                    let mut ok = tx.write_all(prefix).await.is_empty();
                    while ok {
                        let (result, chunk) =
                            incoming.stream.read(Vec::with_capacity(READ_CHUNK)).await;
                        match result {
                            StreamResult::Complete(_) => {
                                ok = tx.write_all(chunk).await.is_empty();
                            }
                            StreamResult::Dropped => break,
                            StreamResult::Cancelled => ok = false,
                        }
                    }
                    drop(tx);
                    if !ok || !incoming.arrived_whole().await {
                        let _ = trailers_tx
                            .write(Err(ErrorCode::HttpRequestBodySize(None)))
                            .await;
                    }
                })
                .await;
                (Some(rx), trailers_rx, true)
            }
            ClientBody::Spent => (None, no_trailers().1, false),
        }
    }
}
