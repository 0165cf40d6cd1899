//! What one request leaves behind: its `x-request-id`, one JSON log line
//! (who, which route and provider, status, attempts, timings, tokens) and,
//! with a shared store, the caller's usage counters and token limit — all
//! written once, at the end, after the client's body closed.
//!
//! The edge makes a [`Ledger`] per request, fills it in as the request goes
//! ([`Ledger::decided`], [`Ledger::forwarding`]), and runs the answer's
//! bytes through [`tapped`], which watches them for usage and finishes the
//! ledger when the body is done with.

use crate::accounting;
use crate::client_keys::Caller;
use crate::host::Host;
use crate::limits::{self, Reservation};
use crate::pipeline::Decided;
use crate::prices::{self, Price};
use crate::request::RequestHead;
use crate::settings::SettingSource;
use crate::translate::BodyTransform;
use crate::upstream::Forward;
use crate::usage::{Usage, UsageTap};
use serde_json::{json, Value};

/// The response header that names a request (the provider's own id when
/// its answer has one, else the proxy's).
pub const REQUEST_ID: &str = "x-request-id";

/// The response header that always carries the proxy's own id of a request.
pub const PROXY_REQUEST_ID: &str = "x-llm-proxy-request-id";

/// The headers that name a request to its client: the proxy's id in
/// [`PROXY_REQUEST_ID`], and in [`REQUEST_ID`] too unless the answer
/// already has one (the provider's, which its SDK shows as the request id).
pub fn id_headers(id: &str, answer_has_one: bool) -> Vec<(&'static str, String)> {
    let mut h = vec![(PROXY_REQUEST_ID, id.to_string())];
    if !answer_has_one {
        h.push((REQUEST_ID, id.to_string()));
    }
    h
}

/// The client's `x-request-id` when it is 1–128 characters of
/// `A-Z a-z 0-9 . _ : - / + =`, else a new one (32 hex digits).
pub fn request_id(head: &RequestHead, host: &dyn Host) -> String {
    let valid = |v: &[u8]| {
        (1..=128).contains(&v.len())
            && v.iter()
                .all(|b| b.is_ascii_alphanumeric() || b".-_:/+=".contains(b))
    };
    match head.header(REQUEST_ID) {
        Some(v) if valid(v.as_bytes()) => v.to_string(),
        _ => format!("{:016x}{:016x}", host.random_u64(), host.random_u64()),
    }
}

/// One request's record.
#[derive(Debug, Clone)]
pub struct Ledger {
    pub request_id: String,
    method: String,
    path: String,
    pub api: &'static str,
    pub caller: Option<Caller>,
    /// The model route's name.
    pub route: Option<String>,
    pub provider: Option<String>,
    /// `provider/model` as sent upstream.
    pub model: Option<String>,
    pub status: u16,
    pub upstream_status: Option<u16>,
    pub attempts: usize,
    started_ns: u64,
    pub first_byte_ns: Option<u64>,
    /// (instance, its request number) on a host whose instances serve many.
    pub instance: Option<(u32, u32)>,
    price: Option<Price>,
    /// Whether the request reached a provider (only then is usage counted).
    forwarded: bool,
    /// The tokens its admission reserved against the key's limits, settled
    /// when it finishes.
    pub reserved: Option<Reservation>,
    /// The provider's own id of its answer (`x-request-id` or `request-id`).
    pub upstream_request_id: Option<String>,
    /// Whether the answer's body reached its end whole (set by the relay).
    pub whole: bool,
    /// Whether an attempt was sent and the provider did not answer in time
    /// (it may have done the work).
    pub upstream_timed_out: bool,
}

impl Ledger {
    pub fn new(head: &RequestHead, request_id: String, started_ns: u64) -> Ledger {
        let path: String = head
            .path
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect();
        Ledger {
            request_id,
            method: head.method.clone(),
            path,
            api: "-",
            caller: None,
            route: None,
            provider: None,
            model: None,
            status: 0,
            upstream_status: None,
            attempts: 0,
            started_ns,
            first_byte_ns: None,
            instance: None,
            price: None,
            forwarded: false,
            reserved: None,
            upstream_request_id: None,
            whole: false,
            upstream_timed_out: false,
        }
    }

    /// What the pipeline decided: the kind of route, the caller, the provider.
    pub fn decided(&mut self, d: &Decided) {
        self.api = d.route;
        self.caller = d.caller.clone();
        self.provider = d.provider.clone();
        self.reserved = d.reserved;
    }

    /// The plan (target) about to be sent: provider, model, route, price.
    pub fn forwarding(&mut self, fwd: &Forward, src: &dyn SettingSource) {
        self.forwarded = true;
        self.provider = Some(fwd.first().provider.clone());
        self.model = fwd.model.clone();
        self.route = fwd.route.clone();
        self.price = match (&self.model, crate::team::model_prices(src)) {
            (Some(model), Ok(p)) => prices::find(&p, model).copied(),
            _ => None,
        };
    }

    /// The tokens a request is charged against its key's limits: its
    /// answer's usage when the answer ended whole; the more of what it
    /// reported and its reservation when it was cut off (its final usage
    /// never came); without usage, nothing when it reached no provider, no
    /// provider answered (but for a timeout: the provider may have done the
    /// work) or the provider refused it, else its reservation (what was
    /// spent could not be read).
    fn used(&self, reserved: &Reservation, usage: Option<Usage>) -> u64 {
        let refused = self
            .upstream_status
            .is_some_and(|s| !(200..300).contains(&s));
        match usage {
            Some(u) if self.whole || refused => u.total(),
            Some(u) => u.total().max(reserved.tokens),
            None if !self.forwarded => 0,
            None if self.upstream_timed_out => reserved.tokens,
            None if self.upstream_status.is_none() || refused => 0,
            None => reserved.tokens,
        }
    }

    /// The log line (one JSON object and a newline).
    pub fn line(&self, usage: Option<Usage>, cost_micros: Option<u64>, now_ns: u64) -> String {
        let ms = |ns: u64| (ns.saturating_sub(self.started_ns) as f64 / 1e4).round() / 100.0;
        let tokens = |f: fn(&Usage) -> u64| usage.as_ref().map(f);
        let mut v = json!({
            "event": "request",
            "request_id": self.request_id,
            "key": self.caller.as_ref().map(|c| c.name.as_str()),
            "method": self.method,
            "path": self.path,
            "api": self.api,
            "route": self.route,
            "provider": self.provider,
            "model": self.model,
            "status": self.status,
            "upstream_status": self.upstream_status,
            "attempts": self.attempts,
            "ms": ms(now_ns),
            "first_byte_ms": self.first_byte_ns.map(ms),
            "input_tokens": tokens(|u| u.input),
            "output_tokens": tokens(|u| u.output),
            "cached_tokens": tokens(|u| u.cached),
            "reasoning_tokens": tokens(|u| u.reasoning),
            "cost_usd": cost_micros.map(|c| c as f64 / 1e6),
            "upstream_request_id": self.upstream_request_id,
        });
        if let Some((id, n)) = self.instance {
            v["instance"] = Value::from(format!("{id:08x}#{n}"));
        }
        let mut line = v.to_string();
        line.push('\n');
        line
    }

    /// Ends the request: the caller's counters (with a store, when it
    /// reached a provider) and the log line, returned for the edge to write.
    pub fn finish(self, usage: Option<Usage>, now_ns: u64, host: &dyn Host) -> String {
        let used = self.reserved.map(|r| self.used(&r, usage));
        // An answer cut off before its end never said what it spent: what it
        // reported so far (an Anthropic stream's `output_tokens: 1`) is not
        // its usage. Logged and recorded as unknown; its key charged as
        // `used` says.
        let cut = self.forwarded && self.upstream_status.is_some() && !self.whole;
        let usage = if cut { None } else { usage };
        let cost = match (&self.price, &usage) {
            (Some(p), Some(u)) => Some(prices::cost_micros(p, u)),
            _ => None,
        };
        // Counted for client keys (the all-access key's use is in the log).
        let key = self.caller.as_ref().and_then(|c| c.key.as_ref());
        if let (Some(key), Some(store)) = (key, host.store()) {
            let now_ms = host.now_ms();
            if self.forwarded {
                let day = accounting::day_of(now_ms);
                let cost = cost.unwrap_or(0);
                accounting::record(store, host.memory(), &key.name, &day, usage, cost);
            }
            if let (Some(reserved), Some(used)) = (&self.reserved, used) {
                limits::settle(store, key, reserved, used, now_ms);
            }
        }
        self.line(usage, cost, now_ns)
    }
}

/// How a relayed answer's body ended, as its tap saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    /// The usage it reported (so far, when it did not end whole).
    pub usage: Option<Usage>,
    /// The status a transform replaced.
    pub status: Option<u16>,
    /// When the first byte for the client came out (monotonic ns).
    pub first_byte_ns: Option<u64>,
    /// Whether it reached its end whole (not cut off by the upstream, nor
    /// abandoned by a client that went away).
    pub whole: bool,
}

/// What the edge does with a finished body.
pub type OnEnd = Box<dyn FnOnce(Ended)>;

/// The upstream's body on its way to the client, watched for usage: through
/// `inner` (a translation) or as it is. When dropped — the body done with,
/// whole, broken off or abandoned — it calls `on_end`. `clock`: monotonic ns,
/// read when the first bytes for the client come out.
pub fn tapped(
    inner: Option<Box<dyn BodyTransform>>,
    clock: fn() -> u64,
    on_end: OnEnd,
) -> Box<dyn BodyTransform> {
    Box::new(Tapped {
        inner,
        tap: UsageTap::new(),
        clock,
        first_byte_ns: None,
        whole: false,
        on_end: Some(on_end),
    })
}

struct Tapped {
    inner: Option<Box<dyn BodyTransform>>,
    tap: UsageTap,
    clock: fn() -> u64,
    first_byte_ns: Option<u64>,
    /// `finish` was called with the body complete.
    whole: bool,
    on_end: Option<OnEnd>,
}

impl Tapped {
    fn mark(&mut self, out: &[u8]) {
        if self.first_byte_ns.is_none() && !out.is_empty() {
            self.first_byte_ns = Some((self.clock)());
        }
    }
}

impl BodyTransform for Tapped {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        self.tap.push(chunk);
        match &mut self.inner {
            Some(t) => t.push(chunk, out),
            None => out.extend_from_slice(chunk),
        }
        self.mark(out);
    }

    fn finish(&mut self, complete: bool, out: &mut Vec<u8>) {
        self.whole = complete;
        if let Some(t) = &mut self.inner {
            t.finish(complete, out);
        }
        self.mark(out);
    }

    fn status(&self) -> Option<u16> {
        self.inner.as_ref().and_then(|t| t.status())
    }
}

impl Drop for Tapped {
    fn drop(&mut self) {
        let status = self.status();
        if let Some(on_end) = self.on_end.take() {
            on_end(Ended {
                usage: self.tap.usage(),
                status,
                first_byte_ns: self.first_byte_ns,
                whole: self.whole,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::FakeHost;

    fn head(id: Option<&str>) -> RequestHead {
        let headers = id
            .map(|v| vec![(REQUEST_ID.to_string(), v.as_bytes().to_vec())])
            .unwrap_or_default();
        RequestHead::new("POST", "/v1/chat/completions", headers)
    }

    #[test]
    fn request_ids_are_the_clients_when_valid() {
        let host = FakeHost::new().random(0xab);
        assert_eq!(
            request_id(&head(Some("req-1.a:b/c+d=")), &host),
            "req-1.a:b/c+d="
        );
        let generated = "00000000000000ab00000000000000ab";
        for bad in ["", "has space", &"x".repeat(129), "é"] {
            assert_eq!(request_id(&head(Some(bad)), &host), generated, "{bad:?}");
        }
        assert_eq!(request_id(&head(None), &host), generated);
    }

    #[test]
    fn the_log_line_is_one_json_object_with_every_field() {
        let mut l = Ledger::new(&head(None), "rid".into(), 1_000_000);
        l.api = "chat";
        l.caller = Some(Caller::all_access());
        l.status = 200;
        l.attempts = 2;
        l.first_byte_ns = Some(3_500_000);
        let u = Usage {
            input: 10,
            output: 4,
            cached: 3,
            reasoning: 1,
        };
        let line = l.line(Some(u), Some(1500), 13_000_000);
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["event"], "request");
        assert_eq!(v["request_id"], "rid");
        assert_eq!(v["key"], "all-access");
        assert_eq!(v["api"], "chat");
        assert_eq!(v["route"], Value::Null);
        assert_eq!(v["ms"], 12.0);
        assert_eq!(v["first_byte_ms"], 2.5);
        assert_eq!(v["input_tokens"], 10);
        assert_eq!(v["reasoning_tokens"], 1);
        assert_eq!(v["cost_usd"], 0.0015);
        let v: Value = serde_json::from_str(&l.line(None, None, 2_000_000)).unwrap();
        assert_eq!(v["input_tokens"], Value::Null);
        assert_eq!(v["cost_usd"], Value::Null);
    }

    #[test]
    fn a_tapped_body_reports_when_dropped() {
        use std::cell::Cell;
        use std::rc::Rc;
        let seen = Rc::new(Cell::new(None));
        let s = seen.clone();
        let mut t = tapped(
            None,
            || 42,
            Box::new(move |e: Ended| s.set(Some((e.status, e.first_byte_ns, e.whole)))),
        );
        let mut out = Vec::new();
        t.push(b"", &mut out);
        t.push(b"abc", &mut out);
        assert_eq!(out, b"abc");
        assert_eq!(seen.get(), None);
        drop(t);
        // Dropped before its end: not whole.
        assert_eq!(seen.get(), Some((None, Some(42), false)));
        let s = seen.clone();
        let mut t = tapped(
            None,
            || 42,
            Box::new(move |e: Ended| s.set(Some((e.status, e.first_byte_ns, e.whole)))),
        );
        t.finish(true, &mut Vec::new());
        drop(t);
        assert_eq!(seen.get(), Some((None, None, true)));
    }
}
