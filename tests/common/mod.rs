//! Shared harness for the integration tests: builds the component once, starts
//! it under `wasmtime serve` on a free loopback port, runs mock upstreams, and
//! speaks raw HTTP/1.1 so tests see exactly what crossed the wire and when.
#![allow(dead_code)]

pub mod aws;
pub mod llm;
pub mod redis;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

pub const PROXY_KEY: &str = "proxy-key-ZZZ-very-secret";

// ---------------------------------------------------------------- building

/// Which edge the integration tests run: `LLM_PROXY_EDGE=p2` runs them
/// against the WASIp2 build (scripts/test.sh does both); WASIp3 otherwise.
pub fn edge() -> &'static str {
    static EDGE: OnceLock<&'static str> = OnceLock::new();
    EDGE.get_or_init(|| match std::env::var("LLM_PROXY_EDGE").as_deref() {
        Ok("p2") => "p2",
        _ => "p3",
    })
}

/// Builds a flavour (`wasi` or `spin`, of the edge the tests run, or
/// `wasi-p2`/`spin-p2`/`wasi-p3`/`spin-p3` by name) once per test binary
/// (a separate target dir, so it does not wait on the lock of the `cargo
/// test` that runs us) and returns its path.
pub fn component(flavour: &str) -> PathBuf {
    static BUILT: Mutex<Vec<(String, PathBuf)>> = Mutex::new(Vec::new());
    let name = if flavour.contains('-') {
        flavour.to_string()
    } else {
        format!("{flavour}-{}", edge())
    };
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, path)) = built.iter().find(|(n, _)| *n == name) {
        return path.clone();
    }
    let path = build(&name);
    built.push((name, path.clone()));
    path
}

fn build(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target_dir = root.join("target").join("component");
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(&root).args([
        "build",
        "--quiet",
        "--release",
        "--target",
        "wasm32-wasip2",
        "--target-dir",
    ]);
    cmd.arg(&target_dir);
    let features = match name {
        "wasi-p3" => Some("wasi"),
        "wasi-p2" => Some("wasi,p2"),
        "spin-p2" => Some("spin,p2"),
        _ => None,
    };
    if let Some(features) = features {
        cmd.args(["--no-default-features", "--features", features]);
    }
    let status = cmd.status().expect("cargo build of the component");
    assert!(status.success(), "building the {name} component failed");
    let built = target_dir.join("wasm32-wasip2/release/llm_proxy.wasm");
    let out = target_dir.join(format!("llm-proxy-{name}.wasm"));
    std::fs::copy(&built, &out).expect("copy component");
    out
}

/// The `wasmtime serve` options of scripts/serve-opts.sh that a test needs:
/// the environment (settings) and the WASIp3 interfaces (a p2 component
/// runs with them too).
pub const SERVE_FLAGS: [&str; 6] = ["-S", "cli", "-S", "p3", "-W", "component-model-async"];

/// A tool installed by `scripts/test.sh` (on PATH or in ~/.cargo/bin).
pub fn tool(name: &str) -> PathBuf {
    if let Ok(p) = std::env::var(format!(
        "{}_BIN",
        name.to_ascii_uppercase().replace('-', "_")
    )) {
        return p.into();
    }
    let in_path = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
        .unwrap_or(None);
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    in_path
        .or_else(|| Some(home.join("bin").join(name)).filter(|p| p.is_file()))
        .unwrap_or_else(|| panic!("{name} not found: run scripts/test.sh, which installs it"))
}

// ---------------------------------------------------------------- the proxy

pub struct Proxy {
    pub port: u16,
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
}

/// The `spin` binary the Spin tests run under: `$SPIN`, else `spin` on
/// PATH; `None` when there is none (the tests then say so and skip).
pub fn spin_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SPIN").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("spin"))
            .find(|p| p.is_file())
    })
}

/// The project's own spin.toml with only what a test run needs changed: the
/// component's path (the `spin` flavour built by the tests) and loopback
/// entries in `allowed_outbound_hosts` (one per allowed port).
pub fn spin_manifest(allowed_ports: &[u16]) -> String {
    let manifest = std::fs::read_to_string(repo_root().join("spin.toml")).unwrap();
    let wasm = component("spin");
    let mut hosts = String::from("allowed_outbound_hosts = [\n");
    for port in allowed_ports {
        hosts.push_str(&format!("    \"http://127.0.0.1:{port}\",\n"));
    }
    let adapted = manifest
        .replace(
            "source = \"target/wasm32-wasip2/release/llm_proxy.wasm\"",
            &format!("source = {:?}", wasm.display().to_string()),
        )
        .replacen("allowed_outbound_hosts = [\n", &hosts, 1);
    assert_ne!(
        adapted, manifest,
        "spin.toml no longer has the lines tests adapt"
    );
    adapted
}

impl Proxy {
    /// Starts the `spin` flavour under a real `spin up` (the project's
    /// spin.toml, adapted by [`spin_manifest`], and its runtime-config.toml),
    /// with `variables` as `SPIN_VARIABLE_*` and `component_env` as the
    /// component's environment (`spin up --env`). `None` without a `spin`.
    pub fn start_spin(
        variables: &[(&str, String)],
        component_env: &[(&str, String)],
        allowed_ports: &[u16],
    ) -> Option<Proxy> {
        Proxy::start_spin_with_runtime_config(
            variables,
            component_env,
            allowed_ports,
            &repo_root().join("runtime-config.toml"),
        )
    }

    /// [`Proxy::start_spin`] with another runtime config
    /// (`spin up --runtime-config-file`), e.g. one whose `default` key-value
    /// store is a Redis several instances share.
    pub fn start_spin_with_runtime_config(
        variables: &[(&str, String)],
        component_env: &[(&str, String)],
        allowed_ports: &[u16],
        runtime_config: &Path,
    ) -> Option<Proxy> {
        let spin = spin_binary()?;
        let dir = std::env::temp_dir().join(format!(
            "llm-proxy-spin-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("spin.toml"), spin_manifest(allowed_ports)).unwrap();
        let port = free_port();
        let mut cmd = Command::new(spin);
        cmd.arg("up")
            .arg("--from")
            .arg(dir.join("spin.toml"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--runtime-config-file")
            .arg(runtime_config)
            .arg("--state-dir")
            .arg(dir.join(".spin"));
        for (k, v) in component_env {
            cmd.arg("--env").arg(format!("{k}={v}"));
        }
        cmd.env_clear()
            .env("HOME", std::env::var("HOME").unwrap_or_default())
            .env("PATH", std::env::var("PATH").unwrap_or_default());
        for (k, v) in variables {
            cmd.env(format!("SPIN_VARIABLE_{}", k.to_ascii_uppercase()), v);
        }
        Some(Proxy::launch(cmd, port))
    }

    /// Starts the `wasi` flavour with these settings and waits until it answers.
    pub fn start(env: &[(&str, String)]) -> Proxy {
        Proxy::start_component(&component("wasi"), env)
    }

    /// Starts a built component under `wasmtime serve` with these settings.
    pub fn start_component(wasm: &Path, env: &[(&str, String)]) -> Proxy {
        let port = free_port();
        let mut cmd = Command::new(tool("wasmtime"));
        cmd.arg("serve")
            .args(SERVE_FLAGS)
            .arg("--addr")
            .arg(format!("127.0.0.1:{port}"));
        for (k, v) in env {
            cmd.arg("--env").arg(format!("{k}={v}"));
        }
        cmd.arg(wasm)
            .env_clear()
            .env("HOME", std::env::var("HOME").unwrap_or_default());
        Proxy::launch(cmd, port)
    }

    /// Spawns the host process and waits until the proxy answers `/ping`.
    fn launch(mut cmd: Command, port: u16) -> Proxy {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("start the host");
        let log = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let mut proxy = Proxy { port, child, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = try_request(port, "GET", "/ping", &[], b"") {
                if r.status == 200 {
                    break;
                }
            }
            if let Ok(Some(status)) = proxy.child.try_wait() {
                // Give the stderr reader a moment to catch the last lines.
                thread::sleep(Duration::from_millis(100));
                panic!(
                    "the host exited ({status}) before serving: {:?}",
                    proxy.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "proxy did not start: {:?}",
                proxy.log()
            );
            thread::sleep(Duration::from_millis(50));
        }
        proxy
    }

    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        request(self.port, method, path, headers, body)
    }

    /// A request with the proxy key as a Bearer token.
    pub fn authed(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Response {
        let auth = format!("Bearer {PROXY_KEY}");
        let mut h = vec![("authorization", auth.as_str())];
        h.extend_from_slice(headers);
        self.request(method, path, &h, body)
    }

    /// What the proxy wrote to stderr so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the log has a line containing `needle`.
    pub fn wait_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(l) = self.log().into_iter().find(|l| l.contains(needle)) {
                return l;
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needle:?}: {:?}",
                self.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Proxy {
    /// The JSON request log lines (`{"event":"request",...}`) written so far
    /// (anything before the first `{` on the line, a host's prefix such as
    /// wasmtime's `stderr [0] :: `, is ignored).
    pub fn request_logs(&self) -> Vec<serde_json::Value> {
        self.log()
            .iter()
            .filter_map(|l| {
                let at = l.find('{')?;
                serde_json::from_str::<serde_json::Value>(&l[at..]).ok()
            })
            .filter(|v| v["event"] == "request")
            .collect()
    }

    /// Waits (up to 5 s: the line is written after the client's body closed)
    /// for a request log line for which `pred` holds.
    pub fn wait_request_log(&self, pred: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(v) = self.request_logs().into_iter().find(|v| pred(v)) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "no matching request log line: {:#?}",
                self.log()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// The request log line of the request whose answer carried this
    /// `x-request-id`.
    pub fn request_log_of(&self, resp: &Response) -> serde_json::Value {
        let id = resp
            .header("x-request-id")
            .unwrap_or_else(|| panic!("no x-request-id on the answer: {:?}", resp.headers))
            .to_string();
        self.wait_request_log(|v| v["request_id"] == id.as_str())
    }
}

/// The SHA-256 of `s` as 64 lowercase hex digits (what `PROXY_KEYS` holds).
pub fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Drop for Proxy {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Stops a host process and what it started. `spin up` runs the app in a
/// child process (`spin trigger http`) that a SIGKILL of `spin up` would
/// leave running; a SIGTERM makes it stop that child first. So: SIGTERM,
/// a few seconds' grace, then SIGKILL for it and any child still there.
pub fn stop(child: &mut Child) {
    let pid = child.id();
    let children = children_of(pid);
    let signalled = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    while signalled && Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            break;
        }
        thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let left: Vec<String> = children
        .iter()
        .filter(|c| Path::new(&format!("/proc/{c}")).exists())
        .map(|c| c.to_string())
        .collect();
    if !left.is_empty() {
        let _ = Command::new("kill")
            .arg("-KILL")
            .args(&left)
            .stderr(Stdio::null())
            .status();
    }
}

/// The processes whose parent is `pid` (Linux: from /proc; none elsewhere).
fn children_of(pid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|p| {
            // "pid (comm) state ppid ...": the name may hold spaces and ')'.
            std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|stat| {
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                    == Some(pid)
            })
        })
        .collect()
}

/// A loopback port nothing listens on and no test takes: port 1 (tcpmux),
/// below the ephemeral range [`free_port`] hands out. (A port `free_port`
/// gave and closed again can be taken by a server another test starts
/// meanwhile, which then answers.)
pub fn closed_port() -> u16 {
    1
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

// ---------------------------------------------------------------- raw HTTP client

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// When each piece of the body arrived, measured from sending the request.
    pub arrivals: Vec<(Duration, Vec<u8>)>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// When the body first contained `needle`.
    pub fn arrival_of(&self, needle: &str) -> Option<Duration> {
        let mut seen = Vec::new();
        for (t, chunk) in &self.arrivals {
            seen.extend_from_slice(chunk);
            if String::from_utf8_lossy(&seen).contains(needle) {
                return Some(*t);
            }
        }
        None
    }
}

pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    try_request(port, method, path, headers, body)
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

/// Sends one request with `Connection: close` and reads the whole response.
pub fn try_request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Response> {
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" || method == "PUT" {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body);
    send_raw(port, &raw)
}

/// Sends raw bytes and parses the response (for malformed-request tests).
pub fn send_raw(port: u16, raw: &[u8]) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let start = Instant::now();
    stream.write_all(raw)?;
    read_response(stream, start, raw.starts_with(b"HEAD "))
}

fn read_response(
    stream: TcpStream,
    start: Instant,
    head_request: bool,
) -> std::io::Result<Response> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let headers = read_headers(&mut reader)?;
    let find = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.clone())
    };
    let mut arrivals = Vec::new();
    if head_request || status == 204 || status == 304 {
        // No body, whatever the headers say.
    } else if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {size:?}")))?;
            if n == 0 {
                break;
            }
            let mut chunk = vec![0; n];
            reader.read_exact(&mut chunk)?;
            arrivals.push((start.elapsed(), chunk));
            let mut crlf = [0; 2];
            reader.read_exact(&mut crlf)?;
        }
    } else if let Some(len) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        arrivals.push((start.elapsed(), body));
    } else {
        let mut buf = [0u8; 16384];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            arrivals.push((start.elapsed(), buf[..n].to_vec()));
        }
    }
    let body = arrivals.iter().flat_map(|(_, c)| c.clone()).collect();
    Ok(Response {
        status,
        headers,
        body,
        arrivals,
    })
}

fn read_headers(reader: &mut impl BufRead) -> std::io::Result<Vec<(String, String)>> {
    let mut headers = Vec::new();
    loop {
        let mut raw = Vec::new();
        if reader.read_until(b'\n', &mut raw)? == 0 {
            return Err(std::io::Error::other("connection closed in headers"));
        }
        let line = String::from_utf8_lossy(&raw);
        let line = line.trim_end();
        if line.is_empty() {
            return Ok(headers);
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
}

// ---------------------------------------------------------------- mock upstream

/// A request as the mock upstream received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True when `needle` appears in any header name or value.
    pub fn any_header_contains(&self, needle: &str) -> bool {
        self.headers
            .iter()
            .any(|(n, v)| n.contains(needle) || v.contains(needle))
    }
}

/// What the mock answers.
#[derive(Clone)]
pub struct MockResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Waited before anything is sent.
    pub delay: Duration,
    /// Sent as one body with Content-Length, or chunk by chunk with a pause before each.
    pub body: MockBody,
}

#[derive(Clone)]
pub enum MockBody {
    Full(Vec<u8>),
    Chunks(Vec<(Duration, Vec<u8>)>),
    /// Chunks, then the connection drops without the final chunk.
    Truncated(Vec<(Duration, Vec<u8>)>),
}

impl MockResponse {
    pub fn json(status: u16, body: &str) -> MockResponse {
        MockResponse {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            delay: Duration::ZERO,
            body: MockBody::Full(body.as_bytes().to_vec()),
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }

    /// A 200 `text/event-stream` answer sent as `chunks`, each after its pause.
    pub fn events(chunks: Vec<(Duration, Vec<u8>)>) -> MockResponse {
        MockResponse {
            status: 200,
            headers: vec![("content-type".into(), "text/event-stream".into())],
            delay: Duration::ZERO,
            body: MockBody::Chunks(chunks),
        }
    }

    /// `n` SSE events `data: {i}`, `gap` apart.
    pub fn sse(n: usize, gap: Duration) -> MockResponse {
        MockResponse::events(
            (0..n)
                .map(|i| {
                    (
                        if i == 0 { Duration::ZERO } else { gap },
                        format!("data: event-{i}\n\n").into_bytes(),
                    )
                })
                .collect(),
        )
    }
}

type Handler = Arc<dyn Fn(&Recorded) -> MockResponse + Send + Sync>;

pub struct Mock {
    pub port: u16,
    received: Arc<Mutex<Vec<Recorded>>>,
}

impl Mock {
    /// Answers every request with `handler`'s response.
    pub fn start(handler: impl Fn(&Recorded) -> MockResponse + Send + Sync + 'static) -> Mock {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let handler: Handler = Arc::new(handler);
        let rec = received.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (rec, handler) = (rec.clone(), handler.clone());
                thread::spawn(move || {
                    let _ = serve_one(stream, &rec, &handler);
                });
            }
        });
        Mock { port, received }
    }

    /// A mock that echoes the request as JSON.
    pub fn echo() -> Mock {
        Mock::start(|r| {
            MockResponse::json(
                200,
                &serde_json::json!({"echo": r.target, "bytes": r.body.len()}).to_string(),
            )
        })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    pub fn received(&self) -> Vec<Recorded> {
        self.received.lock().unwrap().clone()
    }

    /// The one request received so far (panics unless exactly one).
    pub fn only(&self) -> Recorded {
        let r = self.received();
        assert_eq!(r.len(), 1, "expected one upstream request, got {r:#?}");
        r.into_iter().next().unwrap()
    }
}

fn serve_one(
    stream: TcpStream,
    rec: &Mutex<Vec<Recorded>>,
    handler: &Handler,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("").to_string();
    let headers = read_headers(&mut reader)?;
    let find = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if let Some(len) = find("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(len, 0);
        reader.read_exact(&mut body)?;
    } else if find("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 {
                let mut end = String::new();
                reader.read_line(&mut end)?;
                break;
            }
            let start = body.len();
            body.resize(start + n, 0);
            reader.read_exact(&mut body[start..])?;
            let mut crlf = [0; 2];
            reader.read_exact(&mut crlf)?;
        }
    }
    let recorded = Recorded {
        method,
        target,
        headers,
        body,
    };
    rec.lock().unwrap().push(recorded.clone());
    let resp = handler(&recorded);
    thread::sleep(resp.delay);
    let mut out = stream;
    let mut head = format!("HTTP/1.1 {} Mock\r\nconnection: close\r\n", resp.status);
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    match &resp.body {
        MockBody::Full(b) => {
            head.push_str(&format!("content-length: {}\r\n\r\n", b.len()));
            out.write_all(head.as_bytes())?;
            // A HEAD answer announces the length but carries no body.
            if recorded.method != "HEAD" {
                out.write_all(b)?;
            }
        }
        MockBody::Chunks(chunks) | MockBody::Truncated(chunks) => {
            head.push_str("transfer-encoding: chunked\r\n\r\n");
            out.write_all(head.as_bytes())?;
            out.flush()?;
            for (gap, c) in chunks {
                thread::sleep(*gap);
                out.write_all(format!("{:x}\r\n", c.len()).as_bytes())?;
                out.write_all(c)?;
                out.write_all(b"\r\n")?;
                out.flush()?;
            }
            if matches!(resp.body, MockBody::Truncated(_)) {
                let _ = out.shutdown(Shutdown::Both);
                return Ok(());
            }
            out.write_all(b"0\r\n\r\n")?;
        }
    }
    out.flush()?;
    let _ = out.shutdown(Shutdown::Write);
    Ok(())
}

/// `(name, value)` settings pairs from string literals.
pub fn env(pairs: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    pairs
        .iter()
        .map(|(k, v)| (&*Box::leak(k.to_string().into_boxed_str()), v.to_string()))
        .collect()
}

pub fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}
