//! The host edge: the only code that touches WASI/Spin. It reads the request
//! head, asks the core for a decision, and performs it — answering directly or
//! streaming the request to the upstream and the response back.
//!
//! Both flavours serve `wasi:http/incoming-handler@0.2.0`; they differ only in
//! where settings come from (see `settings_source`).

mod settings_source;

/// Bindings for the flavour's world (wit/world.wit); both flavours serve
/// the same `wasi:http/incoming-handler` export through them.
mod bindings {
    #[cfg(not(feature = "spin"))]
    wit_bindgen::generate!({
        world: "llm-proxy-wasi",
        path: "wit",
        generate_all,
    });
    #[cfg(feature = "spin")]
    wit_bindgen::generate!({
        world: "llm-proxy-spin",
        path: "wit",
        generate_all,
    });
}

use crate::chat_completions;
use crate::errors::ErrorReply;
use crate::failover::{self, Outcome};
use crate::keys::{KeyContext, KeyValue};
use crate::models::{self, ModelsPlan, FETCH_TIMEOUT_SECS};
use crate::pass_through::{Forward, UpstreamRequest};
use crate::pipeline::{self, Decision};
use crate::reply::{self, Reply};
use crate::request::RequestHead;
use crate::settings;
use crate::status::{self, StatusPlan};
use crate::universal;
use crate::url::Scheme as UrlScheme;
use std::sync::Arc;

use bindings::exports::wasi::http::incoming_handler::Guest;
use bindings::wasi::clocks::monotonic_clock;
use bindings::wasi::http::outgoing_handler;
use bindings::wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingRequest, IncomingResponse,
    Method, OutgoingBody, OutgoingRequest, OutgoingResponse, RequestOptions, ResponseOutparam,
    Scheme,
};
use bindings::wasi::io::poll::{self, Pollable};
use bindings::wasi::io::streams::{InputStream, OutputStream, StreamError};

struct Component;

bindings::export!(Component with_types_in bindings);

/// Largest chunk read from a body stream at once.
const READ_CHUNK: u64 = 64 * 1024;
const NS_PER_SEC: u64 = 1_000_000_000;
/// `UPSTREAM_TIMEOUT_SECONDS` by default — also wasi:http hosts' own default.
const DEFAULT_TIMEOUT_SECS: u64 = 600;

impl Guest for Component {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let started = monotonic_clock::now();
        let head = read_head(&request);
        let src = settings_source::current();
        let store = settings_source::store();
        let ctx = KeyContext {
            random: bindings::wasi::random::random::get_random_u64(),
            // Only cooldowns need the wall clock, and only with a store.
            now_ms: if store.available() { wall_ms() } else { 0 },
            store: &store,
            round_robin: settings::flag(&src, "ENABLE_GLOBAL_ROUND_ROBIN"),
            retries: failover::retries(&src),
        };
        let decided = pipeline::decide(&head, &src, &ctx);
        if let Some(warning) = &decided.warning {
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("llm-proxy warning: {warning}\n").as_bytes(),
            );
        }
        let mut provider = decided.provider.clone();
        let timeout = || settings::seconds(&src, "UPSTREAM_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECS);
        let (status, upstream_status) = match decided.decision {
            Decision::Reply(reply) => (send_reply(out, reply), None),
            Decision::PassThrough(fwd) => forward(request, &head, out, fwd, timeout(), &store),
            Decision::ChatCompletions {
                limit,
                selection,
                gateway,
            } => {
                let planned = read_body(&request, limit).and_then(|body| {
                    chat_completions::plan(&head, &body, &src, selection, &ctx, gateway.as_ref())
                });
                match planned {
                    Err(e) => (send_error(out, e), None),
                    Ok(fwd) => {
                        provider = Some(fwd.first().provider.clone());
                        forward(request, &head, out, fwd, timeout(), &store)
                    }
                }
            }
            Decision::Universal {
                limit,
                selection,
                gateway,
            } => {
                let planned = read_body(&request, limit).and_then(|body| {
                    universal::plan(&head, &body, &src, &gateway, selection, &ctx)
                });
                match planned {
                    Err(e) => (send_error(out, e), None),
                    Ok(up) => forward(request, &head, out, Forward::single(up), timeout(), &store),
                }
            }
            Decision::Models(plan) => (send_reply(out, models_reply(plan)), None),
            Decision::Status(plan) => (send_reply(out, status_reply(plan)), None),
        };
        log_line(
            &head,
            decided.route,
            provider.as_deref(),
            status,
            upstream_status,
            started,
        );
    }
}

fn log_line(
    head: &RequestHead,
    route: &str,
    provider: Option<&str>,
    status: u16,
    upstream_status: Option<u16>,
    started: u64,
) {
    let ms = (monotonic_clock::now().saturating_sub(started)) as f64 / 1e6;
    let path: String = head
        .path
        .chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect();
    let line = format!(
        "llm-proxy method={} path={} route={} provider={} status={} upstream_status={} ms={:.2}\n",
        head.method,
        path,
        route,
        provider.unwrap_or("-"),
        status,
        upstream_status.map_or("-".to_string(), |s| s.to_string()),
        ms
    );
    // One write, one host call (`eprintln!` writes piece by piece, unbuffered).
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

fn read_head(request: &IncomingRequest) -> RequestHead {
    let method = match request.method() {
        Method::Get => "GET".to_string(),
        Method::Head => "HEAD".into(),
        Method::Post => "POST".into(),
        Method::Put => "PUT".into(),
        Method::Delete => "DELETE".into(),
        Method::Connect => "CONNECT".into(),
        Method::Options => "OPTIONS".into(),
        Method::Trace => "TRACE".into(),
        Method::Patch => "PATCH".into(),
        Method::Other(m) => m,
    };
    let path = request.path_with_query().unwrap_or_else(|| "/".into());
    RequestHead::new(&method, &path, request.headers().entries())
}

fn method_of(name: &str) -> Method {
    match name {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "CONNECT" => Method::Connect,
        "OPTIONS" => Method::Options,
        "TRACE" => Method::Trace,
        "PATCH" => Method::Patch,
        other => Method::Other(other.to_string()),
    }
}

/// Fields from a header list; entries the host refuses (forbidden or
/// malformed) are skipped rather than failing the request.
/// (One host call when the host takes the whole list, as it nearly always does.)
fn fields_of(headers: &[(String, Vec<u8>)]) -> Fields {
    if let Ok(fields) = Fields::from_list(headers) {
        return fields;
    }
    let fields = Fields::new();
    for (name, value) in headers {
        let _ = fields.append(name, value);
    }
    fields
}

fn send_reply(out: ResponseOutparam, reply: Reply) -> u16 {
    let mut headers: Vec<(String, Vec<u8>)> = reply
        .headers
        .into_iter()
        .map(|(n, v)| (n, v.into_bytes()))
        .collect();
    reply::add_cors(&mut headers);
    // A known length spares the client chunked decoding (none for 204).
    if reply.status != 204 {
        headers.push((
            "content-length".into(),
            reply.body.len().to_string().into_bytes(),
        ));
    }
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

fn send_error(out: ResponseOutparam, e: ErrorReply) -> u16 {
    send_reply(out, e.into_reply())
}

/// Writes all of `data`, waiting for the stream when it is full, then flushes.
fn write_all(stream: &OutputStream, data: &[u8]) -> Result<(), StreamError> {
    write_unflushed(stream, data)?;
    stream.blocking_flush()
}

/// Writes all of `data`, waiting for the stream when it is full, without
/// waiting for it to be flushed (for a request body, which the host sends as
/// soon as the connection is up; `OutgoingBody::finish` ends it).
fn write_unflushed(stream: &OutputStream, mut data: &[u8]) -> Result<(), StreamError> {
    while !data.is_empty() {
        let n = stream.check_write()?;
        if n == 0 {
            stream.subscribe().block();
            continue;
        }
        let n = usize::try_from(n).unwrap_or(usize::MAX).min(data.len());
        stream.write(&data[..n])?;
        data = &data[n..];
    }
    Ok(())
}

/// Copies `from` into `to` chunk by chunk as data arrives (nothing is buffered
/// whole). `Ok` at the end of `from`; `Err` when either side failed.
///
/// Each chunk is flushed as soon as it is written (so an SSE event leaves at
/// once) without waiting for that flush before reading the next chunk; the
/// last flush is awaited at the end.
fn pump(from: &InputStream, to: &OutputStream) -> Result<u64, ()> {
    let mut total = 0u64;
    loop {
        match from.blocking_read(READ_CHUNK) {
            Ok(chunk) => {
                total += chunk.len() as u64;
                write_unflushed(to, &chunk).map_err(|_| ())?;
                to.flush().map_err(|_| ())?;
            }
            Err(StreamError::Closed) => return to.blocking_flush().map(|()| total).map_err(|_| ()),
            Err(StreamError::LastOperationFailed(_)) => return Err(()),
        }
    }
}

/// The client's body as the attempts need it.
enum ClientBody {
    /// Wholly in memory (planned by the core, or read for replay).
    Bytes(Arc<[u8]>),
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
    /// `replay` and it fits in [`failover::REPLAY_LIMIT`], else left streaming.
    fn new(
        request: &IncomingRequest,
        head: &RequestHead,
        planned: Option<Arc<[u8]>>,
        replay: bool,
    ) -> ClientBody {
        if let Some(bytes) = planned {
            return ClientBody::Bytes(bytes);
        }
        let empty = || ClientBody::Bytes(Arc::from(&[][..]));
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
        // Broken reads fall through to streaming: the send finds out.
        if replay && read_up_to(&stream, failover::REPLAY_LIMIT, &mut prefix) == Ok(true) {
            drop(stream);
            let _ = IncomingBody::finish(body);
            return ClientBody::Bytes(prefix.into());
        }
        ClientBody::Stream {
            prefix,
            stream,
            _body: body,
        }
    }

    fn replayable(&self) -> bool {
        matches!(self, ClientBody::Bytes(_))
    }

    fn is_empty(&self) -> bool {
        matches!(self, ClientBody::Bytes(b) if b.is_empty())
    }

    /// Writes the body into `to`; a streamed body is used up.
    fn send(&mut self, to: &OutputStream) -> bool {
        match std::mem::replace(self, ClientBody::Spent) {
            ClientBody::Bytes(bytes) => {
                let ok = write_unflushed(to, &bytes).is_ok();
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

/// Performs a [`Forward`]: each attempt in turn while it fails before any
/// byte reached the client (SPEC §7), then relays the answer (or the last
/// failure) with `x-llm-proxy-attempts`. Keys that got 429/401/403 are put
/// to cool down in the shared store, if there is one.
/// Returns (status sent to the client, upstream status).
fn forward(
    request: IncomingRequest,
    head: &RequestHead,
    out: ResponseOutparam,
    fwd: Forward,
    timeout_secs: u64,
    store: &dyn KeyValue,
) -> (u16, Option<u16>) {
    if let Some(note) = fwd.note {
        eprintln!("llm-proxy {note}");
    }
    let timeout_ns = timeout_secs.saturating_mul(NS_PER_SEC);
    let mut body = ClientBody::new(
        &request,
        head,
        fwd.first().body.clone(),
        fwd.attempts.len() > 1,
    );
    let attempts = if body.replayable() {
        &fwd.attempts[..]
    } else {
        &fwd.attempts[..1]
    };
    let mut i = 0;
    loop {
        let up = &attempts[i];
        let result = send_one(up, &mut body, timeout_ns);
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
        let now = if failed { wall_ms() } else { 0 };
        if let Some(key) = up.cooldown_key.as_ref().filter(|_| failed) {
            if let Some(until) = failover::cooldown_until(outcome, retry_after.as_deref(), now) {
                store.set(key, until.to_string().as_bytes());
            }
        }
        let invalid = matches!(result, Err(WaitError::Invalid));
        if invalid || i + 1 >= attempts.len() || !failover::retryable(outcome, fwd.key_count) {
            let count = (i + 1).to_string();
            return match result {
                Ok(resp) => relay(out, resp, &count),
                Err(e) => {
                    let mut reply = e.for_upstream(up).into_reply();
                    reply.headers.push(("x-llm-proxy-attempts".into(), count));
                    (send_reply(out, reply), None)
                }
            };
        }
        drop(result);
        let failures = (i + 1) as u32;
        let random = bindings::wasi::random::random::get_random_u64();
        let wait = failover::wait_ms(failures, retry_after.as_deref(), now, random);
        eprintln!(
            "llm-proxy retry provider={} attempt={} outcome={outcome:?} wait_ms={wait}",
            up.provider,
            i + 1
        );
        monotonic_clock::subscribe_duration(wait.saturating_mul(1_000_000)).block();
        i += 1;
    }
}

/// Sends one attempt and waits (at most `timeout_ns`) for its response head.
fn send_one(
    up: &UpstreamRequest,
    body: &mut ClientBody,
    timeout_ns: u64,
) -> Result<IncomingResponse, WaitError> {
    let future = dispatch(up, body, timeout_ns)?;
    await_response(&future, timeout_ns)
}

/// Starts `up` with `body`: the outgoing request, its options, the body
/// written and finished. The response is for the caller to wait for.
fn dispatch(
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
    let future = outgoing_handler::handle(outgoing, options).map_err(WaitError::Code)?;
    let sent = body.is_empty()
        || match out_body.write() {
            Ok(to) => body.send(&to),
            Err(()) => false,
        };
    if sent {
        let _ = OutgoingBody::finish(out_body, None);
    } else {
        // Unfinished: the upstream sees the request as cut short.
        drop(out_body);
    }
    Ok(future)
}

/// The first value of header `name`, if it is UTF-8.
fn header(fields: &Fields, name: &str) -> Option<String> {
    fields
        .get(name)
        .into_iter()
        .next()
        .and_then(|v| String::from_utf8(v).ok())
}

/// Wall-clock time in unix milliseconds.
fn wall_ms() -> u64 {
    let now = bindings::wasi::clocks::wall_clock::now();
    now.seconds * 1000 + u64::from(now.nanoseconds / 1_000_000)
}

enum WaitError {
    Timeout,
    Code(ErrorCode),
    Gone,
    /// The host refused the method, authority or path.
    Invalid,
}

impl WaitError {
    fn for_upstream(&self, up: &UpstreamRequest) -> ErrorReply {
        match self {
            WaitError::Timeout => ErrorReply::gateway_timeout(format!(
                "provider {} sent no response within UPSTREAM_TIMEOUT_SECONDS",
                up.provider
            )),
            WaitError::Code(code) => upstream_error(up, code),
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

fn await_response(
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

/// Maps a host error to 504 (timeouts) or 502 (everything else), naming the
/// provider and the kind of failure, never a URL with credentials.
fn upstream_error(up: &UpstreamRequest, code: &ErrorCode) -> ErrorReply {
    let what = match code {
        ErrorCode::DnsTimeout | ErrorCode::ConnectionTimeout | ErrorCode::ConnectionReadTimeout => {
            return ErrorReply::gateway_timeout(format!(
                "provider {} timed out ({})",
                up.provider,
                error_name(code)
            ))
        }
        other => error_name(other),
    };
    ErrorReply::bad_gateway(format!("provider {} is unreachable ({what})", up.provider))
}

fn error_name(code: &ErrorCode) -> &'static str {
    match code {
        ErrorCode::DnsTimeout => "DNS timeout",
        ErrorCode::DnsError(_) => "DNS error",
        ErrorCode::DestinationNotFound => "destination not found",
        ErrorCode::DestinationUnavailable => "destination unavailable",
        ErrorCode::DestinationIpProhibited => "destination IP prohibited",
        ErrorCode::DestinationIpUnroutable => "destination IP unroutable",
        ErrorCode::ConnectionRefused => "connection refused",
        ErrorCode::ConnectionTerminated => "connection terminated",
        ErrorCode::ConnectionTimeout => "connection timeout",
        ErrorCode::ConnectionReadTimeout => "read timeout",
        ErrorCode::ConnectionWriteTimeout => "write timeout",
        ErrorCode::ConnectionLimitReached => "connection limit reached",
        ErrorCode::TlsProtocolError => "TLS protocol error",
        ErrorCode::TlsCertificateError => "TLS certificate error",
        ErrorCode::TlsAlertReceived(_) => "TLS alert",
        ErrorCode::HttpRequestDenied => {
            "request denied by the host (is the host in allowed_outbound_hosts?)"
        }
        ErrorCode::HttpProtocolError => "HTTP protocol error",
        ErrorCode::HttpResponseIncomplete => "response incomplete",
        ErrorCode::HttpRequestUriInvalid => "invalid request URI",
        _ => "upstream error",
    }
}

/// Relays status, headers (minus hop-by-hop, plus CORS) and the body as it
/// arrives. Returns (status to client, upstream status).
fn relay(out: ResponseOutparam, response: IncomingResponse, attempts: &str) -> (u16, Option<u16>) {
    let status = response.status();
    let mut headers = reply::relay_response_headers(response.headers().entries());
    headers.push(("x-llm-proxy-attempts".into(), attempts.as_bytes().to_vec()));
    let outgoing = OutgoingResponse::new(fields_of(&headers));
    let _ = outgoing.set_status_code(status);
    let (Ok(in_body), Ok(out_body)) = (response.consume(), outgoing.body()) else {
        ResponseOutparam::set(out, Err(ErrorCode::InternalError(None)));
        return (502, Some(status));
    };
    ResponseOutparam::set(out, Ok(outgoing));
    let complete = match (in_body.stream(), out_body.write()) {
        (Ok(from), Ok(to)) => {
            let r = pump(&from, &to);
            drop(to);
            drop(from);
            r.is_ok()
        }
        _ => false,
    };
    let _ = IncomingBody::finish(in_body);
    if complete {
        let _ = OutgoingBody::finish(out_body, None);
    }
    // Otherwise dropping the body unfinished tells the client it was cut short.
    (status, Some(status))
}

/// Reads from `stream` into `buf` until the end (`Ok(true)`) or until `buf`
/// holds more than `limit` bytes (`Ok(false)`, the rest left unread).
fn read_up_to(stream: &InputStream, limit: usize, buf: &mut Vec<u8>) -> Result<bool, ()> {
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => {
                buf.extend_from_slice(&chunk);
                if buf.len() > limit {
                    return Ok(false);
                }
            }
            Err(StreamError::Closed) => return Ok(true),
            Err(StreamError::LastOperationFailed(_)) => return Err(()),
        }
    }
}

/// Reads a whole request body, refusing more than `limit` bytes with a 413.
fn read_body(request: &IncomingRequest, limit: u64) -> Result<Vec<u8>, ErrorReply> {
    let mut body = Vec::new();
    let Ok(incoming) = request.consume() else {
        return Ok(body);
    };
    if let Ok(stream) = incoming.stream() {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        match read_up_to(&stream, limit, &mut body) {
            Ok(true) => {}
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
fn fetch_all(
    requests: &[&UpstreamRequest],
    timeout_ns: u64,
    max_body: usize,
) -> Vec<Result<(u16, Vec<u8>), String>> {
    let mut slots: Vec<Slot> = requests
        .iter()
        .map(|up| {
            let mut body = ClientBody::Bytes(up.body.clone().unwrap_or_else(|| Arc::from(&[][..])));
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

/// The outgoing request for `up`, or `None` when the host refuses its
/// method, authority or path.
fn outgoing_request(up: &UpstreamRequest) -> Option<OutgoingRequest> {
    let outgoing = OutgoingRequest::new(fields_of(&up.headers));
    let scheme = match up.base.scheme {
        UrlScheme::Http => Scheme::Http,
        UrlScheme::Https => Scheme::Https,
    };
    let built = outgoing.set_method(&method_of(&up.method)).is_ok()
        && outgoing.set_scheme(Some(&scheme)).is_ok()
        && outgoing.set_authority(Some(&up.base.authority)).is_ok()
        && outgoing
            .set_path_with_query(Some(&up.path_with_query))
            .is_ok();
    built.then_some(outgoing)
}

/// Largest model-list answer read from one provider.
const MODELS_MAX_BODY: usize = 16 * 1024 * 1024;

fn models_reply(plan: ModelsPlan) -> Reply {
    for s in &plan.skipped {
        eprintln!("llm-proxy models skipped {s}");
    }
    let requests: Vec<&UpstreamRequest> = plan.fetches.iter().map(|f| &f.request).collect();
    let results = fetch_all(&requests, FETCH_TIMEOUT_SECS * NS_PER_SEC, MODELS_MAX_BODY);
    let mut entries = Vec::new();
    for (fetch, result) in plan.fetches.iter().zip(results) {
        let why = match result {
            Ok((200..=299, body)) => match models::normalize(&fetch.provider, fetch.shape, &body) {
                Ok(list) => {
                    entries.extend(list);
                    continue;
                }
                Err(e) => e,
            },
            Ok((status, _)) => format!("upstream status {status}"),
            Err(e) => e,
        };
        eprintln!(
            "llm-proxy models provider={} skipped: {why}",
            fetch.provider
        );
    }
    entries.extend(plan.static_models);
    Reply::json(200, models::render(&entries))
}

fn status_reply(plan: StatusPlan) -> Reply {
    let requests: Vec<&UpstreamRequest> = plan
        .checks
        .iter()
        .filter_map(|c| c.request.as_ref())
        .collect();
    let mut results =
        fetch_all(&requests, FETCH_TIMEOUT_SECS * NS_PER_SEC, MODELS_MAX_BODY).into_iter();
    let statuses: Vec<Option<u16>> = plan
        .checks
        .iter()
        .map(|c| match c.request {
            Some(_) => results.next().and_then(|r| r.ok()).map(|(s, _)| s),
            None => None,
        })
        .collect();
    Reply::json(200, status::render(&plan, &statuses))
}
