//! The benchmark's floor component (see Cargo.toml): the least a wasi:http
//! component can do to proxy — same method, path and body to `UPSTREAM`,
//! the answer's status, content type and body relayed as they arrive (both
//! bodies streamed chunk by chunk, nothing buffered whole). No auth, no
//! routing, no settings beyond `UPSTREAM`, no logging.

wit_bindgen::generate!({ world: "llm-proxy-wasi", path: "../../wit", generate_all });

use exports::wasi::http::incoming_handler::Guest;
use wasi::http::types::*;
use wasi::io::streams::{InputStream, OutputStream, StreamError};

struct Floor;
export!(Floor);

/// Copies `from` into `to` as data arrives, flushing each chunk.
fn pump(from: &InputStream, to: &OutputStream) -> bool {
    loop {
        match from.blocking_read(65536) {
            Ok(chunk) => {
                let mut rest = &chunk[..];
                while !rest.is_empty() {
                    let n = match to.check_write() {
                        Ok(0) => {
                            to.subscribe().block();
                            continue;
                        }
                        Ok(n) => (n as usize).min(rest.len()),
                        Err(_) => return false,
                    };
                    if to.write(&rest[..n]).is_err() {
                        return false;
                    }
                    rest = &rest[n..];
                }
                let _ = to.flush();
            }
            Err(StreamError::Closed) => return to.blocking_flush().is_ok(),
            Err(_) => return false,
        }
    }
}

fn header(fields: &Fields, name: &str) -> Option<Vec<u8>> {
    fields.get(name).into_iter().next()
}

impl Guest for Floor {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        if path == "/noop" {
            let h = Fields::new();
            let _ = h.append("content-length", b"2");
            let resp = OutgoingResponse::new(h);
            let body = resp.body().unwrap();
            ResponseOutparam::set(out, Ok(resp));
            let s = body.write().unwrap();
            let _ = s.blocking_write_and_flush(b"ok");
            drop(s);
            let _ = OutgoingBody::finish(body, None);
            return;
        }
        let upstream = std::env::var("UPSTREAM").unwrap_or_default();
        let in_headers = request.headers();
        let h = Fields::new();
        for name in ["content-type", "content-length"] {
            if let Some(v) = header(&in_headers, name) {
                let _ = h.append(name, &v);
            }
        }
        let req = OutgoingRequest::new(h);
        let _ = req.set_method(&request.method());
        let _ = req.set_scheme(Some(&Scheme::Http));
        let _ = req.set_authority(Some(&upstream));
        let _ = req.set_path_with_query(Some(&path));
        let req_body = req.body().unwrap();
        let future = wasi::http::outgoing_handler::handle(req, None).unwrap();
        let incoming = request.consume().unwrap();
        {
            let from = incoming.stream().unwrap();
            let to = req_body.write().unwrap();
            pump(&from, &to);
        }
        let _ = OutgoingBody::finish(req_body, None);
        future.subscribe().block();
        let resp = future.get().unwrap().unwrap().unwrap();
        let h = Fields::new();
        let resp_headers = resp.headers();
        for name in ["content-type", "content-length"] {
            if let Some(v) = header(&resp_headers, name) {
                let _ = h.append(name, &v);
            }
        }
        let outgoing = OutgoingResponse::new(h);
        let _ = outgoing.set_status_code(resp.status());
        let body = resp.consume().unwrap();
        let out_body = outgoing.body().unwrap();
        ResponseOutparam::set(out, Ok(outgoing));
        let ok = {
            let from = body.stream().unwrap();
            let to = out_body.write().unwrap();
            pump(&from, &to)
        };
        if ok {
            let _ = OutgoingBody::finish(out_body, None);
        }
    }
}
