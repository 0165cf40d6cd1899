//! A fast mock LLM upstream for benchmarks (std only, HTTP/1.1 keep-alive).
//! A fixed pool of threads accepts connections, so a client that opens a new
//! connection per request (as wasmtime's outbound HTTP does) costs no thread
//! spawn. Loopback only.
//!
//!   cargo run --release --example mock-upstream -- 127.0.0.1:9100
//!
//! - `POST .../chat/completions`: an OpenAI-style completion; with
//!   `"stream":true` in the body, `MOCK_EVENTS` SSE chunks (default 10)
//!   `MOCK_GAP_MS` apart (default 20), then `data: [DONE]`.
//! - `POST .../embeddings`: an OpenAI-style embeddings list.
//! - `GET .../models`: a model list.
//! - anything else: 404.

use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

const COMPLETION: &str = r#"{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I help you today?"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":9,"total_tokens":18}}"#;
const EMBEDDINGS: &str = r#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.5,-0.25]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":2,"total_tokens":2}}"#;
const MODELS: &str = r#"{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"}]}"#;

fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9100".into());
    let events: usize = std::env::var("MOCK_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let gap = Duration::from_millis(
        std::env::var("MOCK_GAP_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20),
    );
    let threads: usize = std::env::var("MOCK_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let listener = std::sync::Arc::new(TcpListener::bind(&addr).expect("bind"));
    eprintln!("mock-upstream listening on {addr} with {threads} threads");
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let listener = listener.clone();
            std::thread::spawn(move || loop {
                if let Ok((stream, _)) = listener.accept() {
                    let _ = serve(stream, events, gap);
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
}

fn serve(stream: TcpStream, events: usize, gap: Duration) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    // A pooled connection left idle (Spin's and wasmtime's outbound pools
    // keep them) gives its thread back after a while, so a long run never
    // ends with every thread parked on an idle connection.
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = BufWriter::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        let (mut length, mut close, mut expect) = (0usize, false, false);
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                if k == "content-length" {
                    length = v.parse().unwrap_or(0);
                } else if k == "expect" && v.eq_ignore_ascii_case("100-continue") {
                    expect = true;
                } else if k == "connection" && v.eq_ignore_ascii_case("close") {
                    close = true;
                }
            }
        }
        // As HTTP/1.1 servers do (nginx, Cloudflare, Go, uvicorn): a request
        // that asks gets its `100 Continue` as soon as its head is read.
        if expect {
            writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            writer.flush()?;
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let stream_requested = body.windows(13).any(|w| w == b"\"stream\":true");
        if method == "POST" && path.ends_with("/chat/completions") && stream_requested {
            writer.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")?;
            writer.flush()?;
            for i in 0..events {
                if i > 0 {
                    std::thread::sleep(gap);
                }
                let ev = format!(
                    "data: {{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"tok{i} \"}}}}]}}\n\n"
                );
                write!(writer, "{:x}\r\n{ev}\r\n", ev.len())?;
                writer.flush()?;
            }
            let done = "data: [DONE]\n\n";
            write!(writer, "{:x}\r\n{done}\r\n0\r\n\r\n", done.len())?;
        } else {
            let (status, body) = if method == "POST" && path.ends_with("/chat/completions") {
                ("200 OK", COMPLETION)
            } else if method == "POST" && path.ends_with("/embeddings") {
                ("200 OK", EMBEDDINGS)
            } else if path.ends_with("/models") {
                ("200 OK", MODELS)
            } else {
                ("404 Not Found", r#"{"error":"not found"}"#)
            };
            write!(
                writer,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )?;
        }
        writer.flush()?;
        if close {
            return Ok(());
        }
    }
}
