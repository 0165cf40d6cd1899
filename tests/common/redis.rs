//! A redis-server of a test's own (two `spin up` over one Redis): started
//! on a free loopback port with nothing saved to disk, spoken to in RESP,
//! watched with MONITOR, killed on drop.
#![allow(dead_code)]

use super::{free_port, stop};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub fn redis_server_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("REDIS_SERVER").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("redis-server"))
            .find(|p| p.is_file())
    })
}

// ---------------------------------------------------------------- redis

/// A redis-server on a free loopback port, nothing saved to disk; killed
/// on drop.
pub struct Redis {
    pub port: u16,
    child: Child,
    dir: PathBuf,
}

impl Redis {
    pub fn start(bin: &Path) -> Redis {
        let port = free_port();
        let dir =
            std::env::temp_dir().join(format!("llm-proxy-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new(bin)
            .args(["--save", "", "--appendonly", "no", "--port"])
            .arg(port.to_string())
            .args(["--bind", "127.0.0.1"])
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let mut redis = Redis { port, child, dir };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match redis.command(&["PING"]) {
                Ok(Resp::Simple(s)) if s == "PONG" => break,
                other => {
                    if let Ok(Some(status)) = redis.child.try_wait() {
                        panic!("redis-server exited ({status}) on port {port}: {other:?}");
                    }
                    assert!(
                        Instant::now() < deadline,
                        "redis-server on port {port} did not answer PING: {other:?}"
                    );
                    thread::sleep(Duration::from_millis(50));
                }
            }
        }
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// One command, its reply.
    pub fn command(&self, args: &[&str]) -> std::io::Result<Resp> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let mut out = format!("*{}\r\n", args.len());
        for a in args {
            out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        stream.write_all(out.as_bytes())?;
        read_resp(&mut BufReader::new(stream))
    }

    /// The proxy's keys in Redis and their values (for failure messages).
    pub fn dump(&self) -> String {
        let keys = match self.command(&["KEYS", "llm-proxy/*"]) {
            Ok(Resp::Array(Some(keys))) => keys,
            other => return format!("KEYS failed: {other:?}"),
        };
        let mut lines: Vec<String> = keys
            .iter()
            .filter_map(|k| match k {
                Resp::Bulk(Some(k)) => Some(String::from_utf8_lossy(k).into_owned()),
                _ => None,
            })
            .map(|k| {
                let v = match self.command(&["GET", &k]) {
                    Ok(Resp::Bulk(Some(v))) => String::from_utf8_lossy(&v).into_owned(),
                    other => format!("{other:?}"),
                };
                format!("  {k} = {v:?}")
            })
            .collect();
        lines.sort();
        if lines.is_empty() {
            "  (no llm-proxy/* keys)".into()
        } else {
            lines.join("\n")
        }
    }

    /// Every command Redis executes from now on, as MONITOR reports them
    /// (`"GET" "llm-proxy/..."`), collected by a thread of its own.
    pub fn monitor(&self) -> Arc<Mutex<Vec<String>>> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.write_all(b"*1\r\n$7\r\nMONITOR\r\n").unwrap();
        let mut reader = BufReader::new(s);
        let mut ok = String::new();
        reader.read_line(&mut ok).unwrap();
        assert_eq!(ok.trim_end(), "+OK", "MONITOR");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        thread::spawn(move || {
            for line in reader.lines().map_while(Result::ok) {
                // "+1700000000.123456 [0 127.0.0.1:5000] "GET" "key""
                if let Some(at) = line.find("] ") {
                    sink.lock().unwrap().push(line[at + 2..].to_string());
                }
            }
        });
        seen
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        stop(&mut self.child);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Redis reply (its fields are read through `Debug`, in failure messages).
#[derive(Debug)]
#[allow(dead_code)]
pub enum Resp {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Resp>>),
}

pub fn read_resp(r: &mut impl BufRead) -> std::io::Result<Resp> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(std::io::Error::other("redis closed the connection"));
    }
    let line = line.trim_end();
    let (kind, rest) = line.split_at(1.min(line.len()));
    let number = || {
        rest.parse::<i64>()
            .map_err(|_| std::io::Error::other(format!("bad RESP line {line:?}")))
    };
    Ok(match kind {
        "+" => Resp::Simple(rest.to_string()),
        "-" => Resp::Error(rest.to_string()),
        ":" => Resp::Int(number()?),
        "$" => match number()? {
            n if n < 0 => Resp::Bulk(None),
            n => {
                let mut buf = vec![0; n as usize + 2];
                r.read_exact(&mut buf)?;
                buf.truncate(n as usize);
                Resp::Bulk(Some(buf))
            }
        },
        "*" => match number()? {
            n if n < 0 => Resp::Array(None),
            n => Resp::Array(Some(
                (0..n).map(|_| read_resp(r)).collect::<Result<_, _>>()?,
            )),
        },
        _ => return Err(std::io::Error::other(format!("bad RESP line {line:?}"))),
    })
}
