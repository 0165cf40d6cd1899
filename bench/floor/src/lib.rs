//! The benchmark's floor component (see Cargo.toml).

wit_bindgen::generate!({ world: "llm-proxy-wasi", path: "../../wit", generate_all });

use exports::wasi::http::incoming_handler::Guest;
use wasi::http::types::*;

struct Floor;
export!(Floor);

fn respond(out: ResponseOutparam, status: u16, headers: Fields, body: &[u8]) {
    let resp = OutgoingResponse::new(headers);
    let _ = resp.set_status_code(status);
    let out_body = resp.body().unwrap();
    ResponseOutparam::set(out, Ok(resp));
    let stream = out_body.write().unwrap();
    let _ = stream.blocking_write_and_flush(body);
    drop(stream);
    let _ = OutgoingBody::finish(out_body, None);
}

impl Guest for Floor {
    fn handle(request: IncomingRequest, out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        if path == "/noop" {
            let h = Fields::new();
            let _ = h.append("content-length", b"2");
            return respond(out, 200, h, b"ok");
        }
        // Forward: same method, path and body to UPSTREAM (host:port).
        let upstream = std::env::var("UPSTREAM").unwrap_or_default();
        let body = {
            let incoming = request.consume().unwrap();
            let stream = incoming.stream().unwrap();
            let mut buf = Vec::new();
            while let Ok(chunk) = stream.blocking_read(65536) {
                buf.extend_from_slice(&chunk);
            }
            drop(stream);
            buf
        };
        let h = Fields::new();
        let _ = h.append("content-type", b"application/json");
        let _ = h.append("content-length", body.len().to_string().as_bytes());
        let req = OutgoingRequest::new(h);
        let _ = req.set_method(&request.method());
        let _ = req.set_scheme(Some(&Scheme::Http));
        let _ = req.set_authority(Some(&upstream));
        let _ = req.set_path_with_query(Some(&path));
        let req_body = req.body().unwrap();
        let future = wasi::http::outgoing_handler::handle(req, None).unwrap();
        {
            let s = req_body.write().unwrap();
            let _ = s.write(&body);
        }
        let _ = OutgoingBody::finish(req_body, None);
        future.subscribe().block();
        let resp = future.get().unwrap().unwrap().unwrap();
        let status = resp.status();
        let incoming = resp.consume().unwrap();
        let stream = incoming.stream().unwrap();
        let mut buf = Vec::new();
        while let Ok(chunk) = stream.blocking_read(65536) {
            buf.extend_from_slice(&chunk);
        }
        let h = Fields::new();
        let _ = h.append("content-type", b"application/json");
        let _ = h.append("content-length", buf.len().to_string().as_bytes());
        respond(out, status, h, &buf);
    }
}
