//! Relaying an upstream's answer to the client, through the body transform
//! the core chose (none for a pass-through).
//!
//! - No transform: the upstream's body stream and trailers future become the
//!   client's response as they are — the host moves the bytes, the guest
//!   never sees them.
//! - A whole answer (a JSON body translated at its end, which may change the
//!   status): read whole, translated, sent with its length.
//! - A translated stream: the head leaves at once; a task of its own reads
//!   the upstream, runs each chunk through the transform and writes what
//!   comes out at once. A body that breaks off ends with what the transform
//!   says about it (e.g. an error event), and the client's trailers future
//!   reports the break when the transform could not make the body whole.

use super::inbound::{body_stream, no_trailers, response, Incoming, READ_CHUNK};
use crate::reply;
use crate::translate::{BodyTransform, ResponseMapping, WHOLE_LIMIT};
use wasip3::http::types::{ErrorCode, Response};
use wasip3::wit_bindgen::{StreamResult, StreamWriter};
use wasip3::{wit_bindgen, wit_stream};

/// The client's response for an upstream `answer`: (response, status to the
/// client, upstream status).
pub async fn relay(
    answer: Response,
    mapping: &ResponseMapping,
    extra: Vec<(String, Vec<u8>)>,
) -> (Response, u16, Option<u16>) {
    let upstream_status = answer.get_status_code();
    let cleaned = reply::relay_response_headers(answer.get_headers().copy_all());
    let client = mapping.respond(upstream_status, cleaned);
    let (mut status, mut headers) = (client.status, client.headers);
    headers.extend(extra);
    let mut incoming = Incoming::of_response(answer);
    let Some(mut transform) = client.transform else {
        let Incoming {
            stream, trailers, ..
        } = incoming;
        return (
            response(status, &headers, Some(stream), trailers),
            status,
            Some(upstream_status),
        );
    };
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
        headers.retain(|(n, _)| n != "content-length");
        headers.push(("content-length".into(), out.len().to_string().into_bytes()));
        let (_, trailers) = no_trailers();
        return (
            response(status, &headers, body_stream(out), trailers),
            status,
            Some(upstream_status),
        );
    }
    // A translated stream has no length of its own.
    headers.retain(|(n, _)| n != "content-length");
    let (tx, rx) = wit_stream::new();
    let (trailers_tx, trailers_rx) = no_trailers();
    wit_bindgen::spawn(async move {
        let whole = pump_through(incoming, tx, transform.as_mut()).await;
        if !whole {
            let _ = trailers_tx
                .write(Err(ErrorCode::HttpResponseIncomplete))
                .await;
        }
    });
    (
        response(status, &headers, Some(rx), trailers_rx),
        status,
        Some(upstream_status),
    )
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
    let complete = ended && from.arrived_whole().await;
    transform.finish(complete, &mut out);
    let whole = complete || !out.is_empty();
    if !out.is_empty() && !to.write_all(out).await.is_empty() {
        return false;
    }
    drop(to);
    whole
}
