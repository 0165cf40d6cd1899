//! Streaming probe for benchmarks: one streaming chat completion, timed.
//!
//!   cargo run --release --example stream-probe -- 127.0.0.1:8080 /v1/chat/completions '<json body>' [bearer-key]
//!   cargo run --release --example stream-probe -- 127.0.0.1:8080 \
//!     '/v1beta/models/openai/gpt-4o-mini:streamGenerateContent?alt=sse' '<json body>' x-goog-api-key:KEY
//!
//! The key goes as `authorization: Bearer KEY`, or, written `HEADER:KEY`,
//! in that header (Gemini's clients send `x-goog-api-key`); a key in the
//! path (`?key=`) needs no argument. Events end in a blank line, `\n\n` or
//! `\r\n\r\n` (Google writes CRLF).
//!
//! The connection is warmed first with a keep-alive `GET /ping` (any answer
//! will do), as an SDK's pooled connection would be, so the figures are per
//! request, not per connection. Prints one JSON line: time to first byte
//! (response head), to the first event, to the end, every event's arrival
//! (ms), and whether events arrived incrementally (spread over at least half
//! the time the upstream spent).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (addr, path, body) = (&args[1], &args[2], &args[3]);
    let auth = args
        .get(4)
        .map(|k| match k.split_once(':') {
            Some((header, key)) => format!("{header}: {key}\r\n"),
            None => format!("authorization: Bearer {k}\r\n"),
        })
        .unwrap_or_default();
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_nodelay(true).unwrap();
    warm(&mut stream, addr, &auth);
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-type: application/json\r\n{auth}content-length: {}\r\n\r\n{body}",
        body.len()
    );
    let start = Instant::now();
    stream.write_all(request.as_bytes()).unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let ttfb = start.elapsed();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
    }
    // Chunked body: record when each `data:` event completes.
    let mut events = Vec::new();
    let mut pending = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        let Ok(n) = usize::from_str_radix(line.trim(), 16) else {
            break;
        };
        if n == 0 {
            break;
        }
        let mut chunk = vec![0; n + 2];
        reader.read_exact(&mut chunk).unwrap();
        pending.extend_from_slice(&chunk[..n]);
        while let Some(end) = event_end(&pending) {
            let event: Vec<u8> = pending.drain(..end).collect();
            // OpenAI and Gemini events are one `data:` line; Anthropic's start with `event:`.
            if event.windows(5).any(|w| w == b"data:") {
                events.push(start.elapsed().as_secs_f64() * 1000.0);
            }
        }
    }
    let total = start.elapsed().as_secs_f64() * 1000.0;
    let first = events.first().copied().unwrap_or(f64::NAN);
    let last = events.last().copied().unwrap_or(f64::NAN);
    let gap_ms: f64 = std::env::var("MOCK_GAP_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20.0);
    let upstream_spread = gap_ms * (events.len().saturating_sub(2)) as f64;
    let incremental = events.len() > 2 && (last - first) >= upstream_spread * 0.5;
    println!(
        "{{\"ttfb_ms\":{:.3},\"first_event_ms\":{first:.3},\"total_ms\":{total:.3},\"events\":{},\"incremental\":{incremental},\"arrivals_ms\":[{}]}}",
        ttfb.as_secs_f64() * 1000.0,
        events.len(),
        events.iter().map(|t| format!("{t:.2}")).collect::<Vec<_>>().join(",")
    );
}

/// Where the first whole event in `buf` ends (past its blank line, LF or
/// CRLF line ends), if there is one.
fn event_end(buf: &[u8]) -> Option<usize> {
    (0..buf.len()).find_map(|i| {
        let rest = &buf[i..];
        if rest.starts_with(b"\n\n") {
            Some(i + 2)
        } else if rest.starts_with(b"\r\n\r\n") {
            Some(i + 4)
        } else {
            None
        }
    })
}

/// One keep-alive `GET /ping` on the connection; its answer is read and dropped.
fn warm(stream: &mut TcpStream, addr: &str, auth: &str) {
    write!(stream, "GET /ping HTTP/1.1\r\nhost: {addr}\r\n{auth}\r\n").unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    let mut length = 0usize;
    reader.read_line(&mut line).unwrap();
    loop {
        line.clear();
        reader.read_line(&mut line).unwrap();
        if line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    assert!(
        reader.buffer().is_empty(),
        "unexpected bytes after the warm-up answer"
    );
}
