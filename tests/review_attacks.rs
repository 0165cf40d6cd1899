//! Security review of issue 26's change (c32ad8e..): "a client key gets
//! exactly what its entry grants, and no more" (docs/team.md, "What a client
//! key can reach" and "Limits").
//!
//! Each test is one hole found in review, named for it, and asserts the SAFE
//! behaviour: every test here fails on the reviewed code. Most go through the
//! core (`decide` + `plan_granted`, the ledger, the limits) like
//! tests/properties.rs' `grant_property`; the one whose hole is in the edge
//! (what a relayed stream is charged when its client goes away) runs the
//! built component under `wasmtime serve` with a loopback mock.

mod common;

use common::{Mock, MockResponse, Proxy};
use llm_proxy::client_keys::{Caller, ClientKey};
use llm_proxy::host::fake::{FakeHost, FakeStore};
use llm_proxy::host::KeyValue;
use llm_proxy::ledger::{tapped, Ended, Ledger};
use llm_proxy::limits::{self, Reservation};
use llm_proxy::pipeline::{decide, plan_granted, Decided, Decision, Planned};
use llm_proxy::request::RequestHead;
use llm_proxy::upstream::Forward;
use llm_proxy::usage::Usage;
use serde_json::{json, Value};
use std::cell::Cell;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// This thread's heap bytes in use, and their peak (for the memory a plan
/// takes; other test threads do not count).
mod heap {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static IN_USE: Cell<isize> = const { Cell::new(0) };
        static PEAK: Cell<isize> = const { Cell::new(0) };
    }

    fn add(n: isize) {
        let _ = IN_USE.try_with(|c| {
            let v = c.get() + n;
            c.set(v);
            let _ = PEAK.try_with(|p| p.set(p.get().max(v)));
        });
    }

    pub struct Counting;

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            add(l.size() as isize);
            System.alloc(l)
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            add(-(l.size() as isize));
            System.dealloc(p, l)
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
            add(n as isize - l.size() as isize);
            System.realloc(p, l, n)
        }
    }

    /// The most this thread's heap grew while `f` ran.
    pub fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
        let base = IN_USE.with(Cell::get);
        PEAK.with(|p| p.set(base));
        let out = f();
        let peak = PEAK.with(Cell::get) - base;
        (out, peak.max(0) as usize)
    }
}

#[global_allocator]
static HEAP: heap::Counting = heap::Counting;

/// The attacker's client key (team A).
const KEY: &str = "sk-team-a-client-key";
const TEAM: &str = "team-a";

/// Settings of a team gateway: the operator's provider keys, and team A's
/// entry `entry` (its name and hash added) in `PROXY_KEYS`.
fn settings(entry: Value, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut e = entry;
    e["name"] = json!(TEAM);
    e["sha256"] = json!(common::sha256_hex(KEY));
    let mut s: HashMap<String, String> = [
        ("PROXY_API_KEY", "pk-operator"),
        ("OPENAI_API_KEY", "sk-op-openai-1,sk-op-openai-2"),
        ("ANTHROPIC_API_KEY", "sk-op-anthropic"),
        ("GEMINI_API_KEY", "op-gemini-key"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        s.insert(k.to_string(), v.to_string());
    }
    s.insert("PROXY_KEYS".into(), json!([e]).to_string());
    s
}

/// A request of team A's key.
fn head(method: &str, path: &str, headers: &[(&str, &str)]) -> RequestHead {
    let mut h: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
        .collect();
    h.push(("authorization".into(), format!("Bearer {KEY}").into_bytes()));
    h.push(("content-type".into(), b"application/json".to_vec()));
    RequestHead::new(method, path, h)
}

/// What the proxy would do with a request, as the edges drive the core.
enum Outcome {
    /// Forwarded: the plan, and what its admission reserved.
    Sent(Box<Forward>, Option<Reservation>),
    /// Answered by the proxy itself: status and body.
    Answered(u16, String),
}

impl Outcome {
    fn sent(self, what: &str) -> (Forward, Option<Reservation>) {
        match self {
            Outcome::Sent(f, r) => (*f, r),
            Outcome::Answered(s, b) => panic!("{what}: expected a forward, got {s} {b}"),
        }
    }
}

fn decide_and_plan(
    src: &HashMap<String, String>,
    host: &FakeHost,
    h: &RequestHead,
    body: &[u8],
) -> (Decided, Outcome) {
    let decided = decide(h, src, host);
    let granted = decided.head.clone().unwrap_or_else(|| h.clone());
    let outcome = match decided.decision.clone() {
        Decision::PassThrough(f) => Outcome::Sent(Box::new(f), decided.reserved),
        Decision::WithBody {
            route,
            selection,
            gateway,
            dropped,
            ..
        } => {
            let caller = decided.caller.clone().unwrap_or_else(Caller::all_access);
            let mut reserved = None;
            match plan_granted(
                route,
                &granted,
                body,
                src,
                host,
                selection,
                gateway.as_ref(),
                &caller,
                &dropped,
                &mut reserved,
            ) {
                Planned::Forward(f) => Outcome::Sent(Box::new(f), reserved),
                Planned::Reply(r) => {
                    Outcome::Answered(r.status, String::from_utf8_lossy(&r.body).into())
                }
            }
        }
        _ => match decided.reply_now() {
            Some(r) => Outcome::Answered(r.status, String::from_utf8_lossy(&r.body).into()),
            None => Outcome::Answered(0, "a model list or status fan-out".into()),
        },
    };
    (decided, outcome)
}

fn run(src: &HashMap<String, String>, host: &FakeHost, h: &RequestHead, body: &[u8]) -> Outcome {
    decide_and_plan(src, host, h, body).1
}

/// Every upstream request a plan could send (every key, every route target).
fn sends(fwd: &Forward) -> Vec<&llm_proxy::outgoing::UpstreamRequest> {
    let mut out = Vec::new();
    let mut next = Some(fwd);
    while let Some(f) = next {
        out.extend(f.attempts.iter());
        next = f.fallback.as_deref();
    }
    out
}

fn body_text(up: &llm_proxy::outgoing::UpstreamRequest) -> String {
    up.body
        .as_deref()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// The tokens counted in team A's minute counter (settled and reserved).
fn minute_tokens(host: &FakeHost) -> u64 {
    let store = host.store.as_ref().expect("a store");
    let packed = store
        .increment(&limits::minute_key(TEAM, host.now.get()), 0)
        .unwrap_or(0);
    (packed & ((1 << 32) - 1)) as u64
}

// ------------------------------------------------------------------ limits

/// HIGH. The minute counter packs `requests << 32 | tokens`, and admission
/// reserves up to 2^31 tokens per request (`MAX_TOKENS_DELTA`). Two requests
/// in flight that each reserve the most carry 2^32 out of the token half into
/// the request half: the token half reads 0 again, and `tpm` admits every
/// further one — reserving 2^31, 0, 2^31, 0, ... An estimate that large
/// takes only a body's `max_tokens` (the estimate is capped to exactly
/// 2^31), and the chat → Messages translation sends Anthropic the body's
/// `max_completion_tokens` instead, so each admitted request is a real
/// 64k-token generation: any number of them in flight at once, with
/// `tpm: 1000`.
///
/// src/limits.rs `admit` (the packed `delta = REQUEST + own`, `before = (packed
/// & TOKENS) - own`) with `MAX_TOKENS_DELTA = 1 << 31`.
#[test]
fn tpm_is_not_bypassed_by_reservations_that_carry_into_the_request_count() {
    // The counter itself.
    let key = ClientKey {
        name: TEAM.into(),
        sha256: [0; 32],
        models: vec![],
        gateways: vec![],
        pass_through: vec![],
        rpm: None,
        tpm: Some(1000),
        daily_tokens: None,
        expires: None,
    };
    let store = FakeStore::default();
    let now = 1_796_126_430_000;
    let mut broken = Vec::new();
    let admitted = (0..6)
        .filter(|i| limits::admit(&store, &key, now + i, u64::MAX).is_ok())
        .count();
    if admitted > 1 {
        broken.push(format!(
            "limits::admit, tpm 1000: {admitted} of 6 requests reserving 2^31 tokens admitted \
             while the others are in flight"
        ));
    }

    // Whole requests: each is a real generation of at most 64000 tokens.
    let src = settings(json!({"models": ["anthropic/*"], "tpm": 1000}), &[]);
    let host = FakeHost::new();
    let body = json!({"model": "anthropic/claude-sonnet-4-5", "max_tokens": 3_000_000_000u64,
                      "max_completion_tokens": 64000, "stream": true,
                      "messages": [{"role": "user", "content": "write at length"}]})
    .to_string();
    let mut in_flight = 0;
    for _ in 0..6 {
        let h = head("POST", "/v1/chat/completions", &[]);
        if let Outcome::Sent(fwd, _) = run(&src, &host, &h, body.as_bytes()) {
            let sent: Value = serde_json::from_str(&body_text(fwd.first())).unwrap();
            assert_eq!(sent["max_tokens"], 64000, "what Anthropic is asked for");
            in_flight += 1;
        }
    }
    if in_flight > 1 {
        broken.push(format!(
            "tpm 1000: {in_flight} chat requests of up to 64000 tokens each admitted at once"
        ));
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// MEDIUM. The reservation reads `max_tokens` first (then
/// `max_completion_tokens`, `max_output_tokens`, `generationConfig`...),
/// whatever the route; the translations read other fields or raise the
/// bound: chat → Messages takes `max_completion_tokens` over `max_tokens`,
/// adds a thinking budget for `reasoning_effort`, and a Gemini body's
/// top-level `max_tokens` is no Gemini field (dropped by the translation)
/// while `generationConfig.maxOutputTokens` is sent. So a request bounded
/// at 64000 output tokens reserves 1: docs/team.md promises the last
/// request admitted uses "at most its reservation when its output is
/// bounded", and requests in flight each see only the others' reservations
/// — N of them admitted at once overshoot `tpm`/`daily_tokens` by N × 64000.
///
/// src/pipeline.rs `BodyFacts::read` (`max_output`) and `reservation`.
#[test]
fn the_reservation_covers_the_output_bound_the_upstream_is_sent() {
    let src = settings(
        json!({"models": ["anthropic/*", "google-ai-studio/*"], "tpm": 10_000_000}),
        &[],
    );
    let host = FakeHost::new();
    let msgs = json!([{"role": "user", "content": "hi"}]);
    let contents = json!([{"parts": [{"text": "hi"}]}]);
    let cases = [
        (
            "/v1/chat/completions",
            json!({"model": "anthropic/claude-sonnet-4-5", "max_tokens": 1,
                   "max_completion_tokens": 64000, "messages": msgs}),
        ),
        (
            "/v1/chat/completions",
            json!({"model": "anthropic/claude-sonnet-4-5", "max_tokens": 1,
                   "reasoning_effort": "high", "messages": msgs}),
        ),
        (
            "/v1beta/models/anthropic%2Fclaude-sonnet-4-5:generateContent",
            json!({"max_tokens": 1, "contents": [{"parts": [{"text": "hi"}]}],
                   "generationConfig": {"maxOutputTokens": 64000}}),
        ),
        // Google's APIs read JSON as proto3 does: an integer field takes a
        // string or an integral float, and either field name at any level.
        (
            "/v1beta/models/gemini-2.5-flash:generateContent",
            json!({"contents": contents, "generationConfig": {"maxOutputTokens": "64000"}}),
        ),
        (
            "/v1beta/models/gemini-2.5-flash:generateContent",
            json!({"contents": contents, "generationConfig": {"maxOutputTokens": 64000.0}}),
        ),
        (
            "/v1beta/models/gemini-2.5-flash:generateContent",
            json!({"contents": contents, "generation_config": {"maxOutputTokens": 64000}}),
        ),
    ];
    let mut broken = Vec::new();
    for (path, body) in cases {
        let (fwd, reserved) = run(
            &src,
            &host,
            &head("POST", path, &[]),
            body.to_string().as_bytes(),
        )
        .sent(path);
        let reserved = reserved.expect("a tpm key's request reserves").tokens;
        let sent: Value = serde_json::from_str(&body_text(fwd.first())).unwrap();
        let number = |v: &Value| match v {
            Value::String(s) => s.parse::<f64>().ok(),
            v => v.as_f64(),
        };
        let bound = ["generationConfig", "generation_config"]
            .iter()
            .filter_map(|c| number(&sent[c]["maxOutputTokens"]))
            .chain(number(&sent["max_tokens"]))
            .fold(0.0, f64::max) as u64;
        if reserved < bound {
            broken.push(format!(
                "{path} {body}: reserved {reserved} tokens, the upstream may generate {bound}"
            ));
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// The first events of an Anthropic Messages stream: `message_start` carries
/// a usage object (`output_tokens: 1`); the real output count comes only in
/// the last `message_delta`.
fn anthropic_stream_head() -> Vec<u8> {
    let mut s = String::new();
    s.push_str("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":12,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":1}}}\n\n");
    s.push_str("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n");
    s.into_bytes()
}

fn anthropic_delta(i: usize) -> Vec<u8> {
    format!(
        "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"w-{i} \"}}}}\n\n"
    )
    .into_bytes()
}

fn anthropic_stream_end(output: usize) -> Vec<u8> {
    format!(
        "event: content_block_stop\ndata: {{\"type\":\"content_block_stop\",\"index\":0}}\n\n\
         event: message_delta\ndata: {{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\",\"stop_sequence\":null}},\"usage\":{{\"output_tokens\":{output}}}}}\n\n\
         event: message_stop\ndata: {{\"type\":\"message_stop\"}}\n\n"
    )
    .into_bytes()
}

/// HIGH. A relayed stream whose client goes away is dropped mid-way
/// (src/edge_p3/relay.rs `pump_through`: "The client went away" → `return
/// false`, the upstream no longer read) and settled to the usage seen so
/// far. An Anthropic stream's `message_start` already carries a usage
/// object (`output_tokens: 1`), so a client that reads the text and
/// disconnects before the final `message_delta` is charged its input and
/// ONE output token — every time: `tpm` and `daily_tokens` never see the
/// output of Anthropic streams (/v1/messages, chat translated to Messages,
/// Vertex Claude, pass-through /anthropic/v1/messages). (The same holds for
/// any answer in which the client can get a usage-shaped object echoed
/// before the real one, e.g. a Responses API `response.created` event
/// echoing tool schemas.)
///
/// src/ledger.rs `Ledger::used` (`Some(u) => u.total()`, whether or not the
/// body ended) and `tapped` (its `Drop` reports the usage of a cut body like
/// a whole one).
#[test]
fn a_stream_cut_before_its_final_usage_is_charged_at_least_its_reservation() {
    let src = settings(json!({"models": ["anthropic/*"], "tpm": 10_000_000}), &[]);
    let host = FakeHost::new();
    let h = head("POST", "/v1/messages", &[]);
    let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 4000, "stream": true,
                      "messages": [{"role": "user", "content": "a long story"}]})
    .to_string();
    let (decided, outcome) = decide_and_plan(&src, &host, &h, body.as_bytes());
    let (fwd, reserved) = outcome.sent("messages stream");
    let reserved = reserved.expect("reserved");
    let mut ledger = Ledger::new(&h, "rid".into(), 0);
    ledger.decided(&decided);
    ledger.reserved = Some(reserved);
    ledger.forwarding(&fwd, &src);
    ledger.status = 200;
    ledger.upstream_status = Some(200);

    // The relay's tap, as the edge runs it: 300 text deltas reach the
    // client, which then goes away; the body is dropped unfinished.
    let seen: Rc<Cell<Option<Usage>>> = Rc::new(Cell::new(None));
    let report = seen.clone();
    let mut tap = tapped(None, || 1, Box::new(move |e: Ended| report.set(e.usage)));
    let mut out = Vec::new();
    tap.push(&anthropic_stream_head(), &mut out);
    for i in 0..300 {
        tap.push(&anthropic_delta(i), &mut out);
    }
    drop(tap);
    ledger.finish(seen.get(), 2, &host);

    let charged = minute_tokens(&host);
    assert!(
        charged >= reserved.tokens,
        "a stream cut after 300 deltas (of up to 4000 output tokens) was charged {charged} \
         tokens (usage seen: {:?}); its reservation was {}",
        seen.get(),
        reserved.tokens
    );
}

/// The same, over the wire: the component under `wasmtime serve` relays an
/// Anthropic stream to a client that reads 40 text deltas and hangs up. The
/// request's log line (the usage the ledger settles with) says 1 output
/// token; it must not claim fewer output tokens than the deltas the client
/// got (unknown, `null`, is fine: then the reservation is charged).
#[test]
fn a_stream_cut_by_its_client_does_not_report_one_output_token() {
    let mock = Mock::start(|_| {
        let mut chunks = vec![(Duration::ZERO, anthropic_stream_head())];
        for i in 0..400 {
            chunks.push((Duration::from_millis(10), anthropic_delta(i)));
        }
        chunks.push((Duration::from_millis(10), anthropic_stream_end(400)));
        MockResponse::events(chunks)
    });
    let keys = json!([{"name": TEAM, "sha256": common::sha256_hex(KEY)}]).to_string();
    let base = mock.url("");
    let proxy = Proxy::start(&common::env(&[
        ("PROXY_API_KEY", "pk-operator"),
        ("PROXY_KEYS", keys.as_str()),
        ("ANTHROPIC_API_KEY", "sk-op-anthropic"),
        ("ANTHROPIC_BASE_URL", base.as_str()),
    ]));
    let body = json!({"model": "claude-sonnet-4-5", "max_tokens": 4000, "stream": true,
                      "messages": [{"role": "user", "content": "a long story"}]})
    .to_string();
    let raw = format!(
        "POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {KEY}\r\n\
         content-type: application/json\r\nx-request-id: cut-stream-1\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut client = std::net::TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    client.write_all(raw.as_bytes()).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while !String::from_utf8_lossy(&got).contains("\"w-40 \"") && Instant::now() < deadline {
        match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let received = String::from_utf8_lossy(&got).matches("text_delta").count();
    assert!(
        received >= 40,
        "the client got {received} deltas: {}",
        String::from_utf8_lossy(&got)
    );
    drop(client);
    let line = {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(v) = proxy
                .request_logs()
                .into_iter()
                .find(|v| v["request_id"] == "cut-stream-1")
            {
                break v;
            }
            assert!(Instant::now() < deadline, "no log line: {:#?}", proxy.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let output = &line["output_tokens"];
    assert!(
        output.is_null() || output.as_u64().unwrap_or(0) >= received as u64,
        "the client read {received} text deltas and hung up; the request was settled with \
         output_tokens {output} (log line: {line})"
    );
}

/// MEDIUM-LOW. A request that was sent but got no answer head within
/// `UPSTREAM_TIMEOUT_SECONDS` (504) is settled as one that "reached no
/// provider": charged 0, its reservation given back. The provider did get
/// it and usually generates (and bills) it whole — a long non-streaming
/// generation outlasts the timeout on purpose, and with `RETRY` it is even
/// sent again, each copy uncounted. A key's limits then bound nothing of
/// what it spends this way.
///
/// src/ledger.rs `Ledger::used` (`None if self.upstream_status.is_none() => 0`).
#[test]
fn a_request_sent_but_timed_out_is_charged_its_reservation() {
    let src = settings(json!({"models": ["openai/*"], "tpm": 10_000_000}), &[]);
    let host = FakeHost::new();
    let h = head("POST", "/v1/chat/completions", &[]);
    let body = json!({"model": "openai/o3-pro", "max_completion_tokens": 100000,
                      "messages": [{"role": "user", "content": "think hard"}]})
    .to_string();
    let (decided, outcome) = decide_and_plan(&src, &host, &h, body.as_bytes());
    let (fwd, reserved) = outcome.sent("chat");
    let reserved = reserved.expect("reserved");
    // What the edge records for it: forwarded, timed out (the attempt
    // loop marks it), then answered by the proxy with a 504
    // (src/edge_p3/attempts.rs: `Err(e) => answer(...)`).
    let mut ledger = Ledger::new(&h, "rid".into(), 0);
    ledger.decided(&decided);
    ledger.reserved = Some(reserved);
    ledger.forwarding(&fwd, &src);
    ledger.upstream_timed_out = true;
    ledger.status = 504;
    ledger.finish(None, 2, &host);
    let charged = minute_tokens(&host);
    assert!(
        charged >= reserved.tokens,
        "a request the provider received and then timed out was charged {charged}; \
         its reservation was {}",
        reserved.tokens
    );
}

// ------------------------------------------------------------- the account

/// MEDIUM. `x-goog-user-project` (the quota and billing project) is dropped
/// from a client key's request, but Google's APIs take the same system
/// parameter in the query: `$userProject` (`%24userProject`), and
/// `userProject`. The query goes on as the client wrote it (only `key` is
/// stripped), on the Gemini API route — even for a key granted one model —
/// and on pass-through: the operator's service account or token then runs
/// in, and bills, a project the client chose.
///
/// src/url.rs `strip_key_param` (used by src/handlers/gemini.rs `plan` and
/// src/handlers/pass_through.rs `build`); src/grant.rs `ACCOUNT_HEADERS` has
/// no query counterpart.
#[test]
fn google_query_parameters_cannot_choose_the_billing_project() {
    let src = settings(
        json!({"models": ["google-ai-studio/gemini-2.5-flash", "google-vertex-ai/*"]}),
        &[
            ("VERTEX_ACCESS_TOKEN", "ya29.operator"),
            ("VERTEX_PROJECT", "op-proj"),
        ],
    );
    let host = FakeHost::new();
    let body = json!({"contents": [{"parts": [{"text": "hi"}]}]}).to_string();
    let mut broken = Vec::new();
    for path in [
        "/v1beta/models/gemini-2.5-flash:generateContent?userProject=victim-proj",
        "/v1beta/models/gemini-2.5-flash:generateContent?%24userProject=victim-proj",
        "/v1beta/models/google-vertex-ai%2Fgemini-2.5-flash:generateContent?$userProject=victim-proj",
        "/google-vertex-ai/v1/projects/op-proj/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent?userProject=victim-proj",
    ] {
        let (fwd, _) = run(&src, &host, &head("POST", path, &[]), body.as_bytes()).sent(path);
        for up in sends(&fwd) {
            let q = String::from_utf8_lossy(&llm_proxy::url::percent_decode(&up.path_with_query))
                .to_ascii_lowercase();
            if q.contains("userproject") {
                broken.push(format!("{path} -> {}", up.base.url(&up.path_with_query)));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// LOW-MEDIUM. A client key's own credentials for the provider reach it next
/// to the operator's: Azure's `api-key` (and `Ocp-Apim-Subscription-Key`)
/// header is forwarded (only `authorization`, `x-api-key` and
/// `x-goog-api-key` never are), ahead of the operator's `api-key`; Google's
/// `access_token` and `$key` query parameters pass too. The provider then
/// answers 401, which blames the operator's key (`Trust::Client` cools a key
/// down on 401; with several keys the 401 is retried on each, so one request
/// cools them all for 60 s): for every team's requests — docs/team.md: "a
/// provider key cools down only for failures the proxy caused".
///
/// src/upstream/headers.rs `NEVER_FORWARDED` (no `api-key`), src/url.rs
/// `strip_key_param`, src/grant.rs `Trust::blames_key`.
#[test]
fn client_credentials_never_reach_the_provider_next_to_the_operators() {
    let src = settings(
        json!({"models": ["azure-openai/*", "google-ai-studio/*"]}),
        &[
            ("AZURE_OPENAI_API_KEY", "az-op-1,az-op-2"),
            ("AZURE_OPENAI_RESOURCE", "opres"),
        ],
    );
    let host = FakeHost::new();
    let mut broken = Vec::new();
    let (fwd, _) = run(
        &src,
        &host,
        &head(
            "POST",
            "/v1/chat/completions",
            &[("api-key", "bogus"), ("ocp-apim-subscription-key", "bogus")],
        ),
        json!({"model": "azure-openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
            .to_string()
            .as_bytes(),
    )
    .sent("azure chat");
    for up in sends(&fwd) {
        let auth: Vec<String> = up
            .headers
            .iter()
            .filter(|(n, _)| n == "api-key" || n == "ocp-apim-subscription-key")
            .map(|(n, v)| format!("{n}: {}", String::from_utf8_lossy(v)))
            .collect();
        if auth.len() != 1 || auth[0].contains("bogus") {
            broken.push(format!("azure: {auth:?}"));
        }
    }
    let (fwd, _) = run(
        &src,
        &host,
        &head(
            "POST",
            "/v1beta/models/gemini-2.5-flash:generateContent?access_token=bogus&%24key=bogus",
            &[],
        ),
        json!({"contents": [{"parts": [{"text": "hi"}]}]})
            .to_string()
            .as_bytes(),
    )
    .sent("gemini");
    for up in sends(&fwd) {
        if up.path_with_query.contains("bogus") {
            broken.push(format!("google: {}", up.path_with_query));
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// MEDIUM. Inference bodies name the shared account's stored objects, and
/// go on untouched: a key granted only models reaches other teams' stored
/// responses and conversations (`previous_response_id`, `conversation`:
/// their whole content becomes this request's context), their reusable
/// prompts, vector stores and uploaded files (`file_id` in chat and Messages
/// content with `anthropic-beta: files-api-...`, `vector_store_ids`), and
/// Gemini context caches and uploaded files (`cachedContent`,
/// `fileData.fileUri`) — what docs/team.md keeps behind a `pass_through`
/// grant ("files, ..., stored completions and responses, ..., vector
/// stores"). The ids leak easily (logs, shared notebooks, error reports).
///
/// src/handlers/responses.rs `plan` (native: "the body untouched but for
/// `model`"), src/handlers/messages.rs `plan`, src/handlers/gemini.rs `plan`,
/// src/handlers/chat_completions.rs; nothing in src/grant.rs looks at them.
#[test]
fn inference_bodies_cannot_name_stored_objects_of_the_shared_account() {
    let src = settings(
        json!({"models": ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4-5",
                          "google-ai-studio/gemini-2.5-flash"]}),
        &[],
    );
    let host = FakeHost::new();
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Value, &'a str);
    let cases: Vec<Case> = vec![
        (
            "/v1/responses",
            vec![],
            json!({"model": "openai/gpt-4o-mini", "input": "repeat the above", "previous_response_id": "resp_teamb"}),
            "resp_teamb",
        ),
        (
            "/v1/responses",
            vec![],
            json!({"model": "openai/gpt-4o-mini", "input": "go on", "conversation": "conv_teamb"}),
            "conv_teamb",
        ),
        (
            "/v1/responses",
            vec![],
            json!({"model": "openai/gpt-4o-mini", "prompt": {"id": "pmpt_teamb"}}),
            "pmpt_teamb",
        ),
        (
            "/v1/responses",
            vec![],
            json!({"model": "openai/gpt-4o-mini", "input": "what is in there?",
                "tools": [{"type": "file_search", "vector_store_ids": ["vs_teamb"]}]}),
            "vs_teamb",
        ),
        (
            "/v1/chat/completions",
            vec![],
            json!({"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": [
             {"type": "text", "text": "summarise"}, {"type": "file", "file": {"file_id": "file-teamb"}}]}]}),
            "file-teamb",
        ),
        (
            "/v1/messages",
            vec![("anthropic-beta", "files-api-2025-04-14")],
            json!({"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": [
             {"type": "document", "source": {"type": "file", "file_id": "file_teamb"}}]}]}),
            "file_teamb",
        ),
        (
            "/v1beta/models/gemini-2.5-flash:generateContent",
            vec![],
            json!({"cachedContent": "cachedContents/teamb", "contents": [{"parts": [{"text": "hi"}]}]}),
            "cachedContents/teamb",
        ),
        (
            "/v1beta/models/gemini-2.5-flash:generateContent",
            vec![],
            json!({"contents": [{"parts": [{"fileData": {"fileUri":
             "https://generativelanguage.googleapis.com/v1beta/files/teamb"}}]}]}),
            "files/teamb",
        ),
    ];
    let mut broken = Vec::new();
    for (path, headers, body, reference) in cases {
        if let Outcome::Sent(fwd, _) = run(
            &src,
            &host,
            &head("POST", path, &headers),
            body.to_string().as_bytes(),
        ) {
            if sends(&fwd)
                .iter()
                .any(|up| body_text(up).contains(reference))
            {
                broken.push(format!("{path}: {reference} reached the provider"));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// MEDIUM. The Universal Endpoint (`POST /` with a gateway) is open to a
/// client key granted `*` ("they name providers in the body"), and each
/// step's `endpoint` and `headers` go to the provider as the client wrote
/// them, with the operator's key filled in: `"endpoint": "files"`,
/// `"batches"`, `"fine_tuning/jobs"`, ... — what docs/team.md keeps behind a
/// `pass_through` grant, which this key does not have — and
/// `"headers": {"OpenAI-Organization": ...}`, the provider-account header a
/// client key's request loses everywhere else. (A token-limited `*` key is
/// not refused either: the steps' spending is unreadable.) `*` grants every
/// model, not every endpoint nor the operator's account settings.
///
/// src/handlers/universal.rs `plan` (`step.get("endpoint")`, "the step's
/// own headers win"); src/pipeline.rs `plan_granted` checks only
/// `grant::any_model`.
#[test]
fn the_universal_endpoint_reaches_no_more_than_the_keys_grant() {
    let src = settings(
        json!({"models": ["*"]}),
        &[("CLOUDFLARE_ACCOUNT_ID", "acc"), ("AI_GATEWAY_NAME", "gw")],
    );
    let host = FakeHost::new();
    let body = json!([
        {"provider": "openai", "endpoint": "fine_tuning/jobs",
         "headers": {"OpenAI-Organization": "org-other-team", "OpenAI-Project": "proj_other"},
         "query": {"model": "gpt-4o-mini-2024-07-18", "training_file": "file-teamb"}},
        {"provider": "openai", "endpoint": "files", "query": {"purpose": "batch"}}
    ])
    .to_string();
    let mut broken = Vec::new();
    if let Outcome::Sent(fwd, _) = run(&src, &host, &head("POST", "/", &[]), body.as_bytes()) {
        for up in sends(&fwd) {
            let steps: Value = serde_json::from_str(&body_text(up)).unwrap_or(Value::Null);
            for step in steps.as_array().into_iter().flatten() {
                let endpoint = step["endpoint"].as_str().unwrap_or_default();
                if !matches!(
                    endpoint,
                    "chat/completions"
                        | "v1/chat/completions"
                        | "completions"
                        | "embeddings"
                        | "responses"
                        | "v1/messages"
                ) {
                    broken.push(format!("step endpoint {endpoint:?} reached the provider"));
                }
                for (name, value) in step["headers"].as_object().into_iter().flatten() {
                    let n = name.to_ascii_lowercase();
                    if llm_proxy::grant::ACCOUNT_HEADERS.contains(&n.as_str()) {
                        broken.push(format!("step header {name}: {value} reached the provider"));
                    }
                }
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// LOW. When a Google token cannot be minted, the error every caller gets
/// (a client key's included) names the service account: its `client_email`,
/// `name@PROJECT.iam.gserviceaccount.com` — the operator's GCP project id
/// and service-account identity, which docs/team.md keeps from a client key.
///
/// src/cloud_auth/mod.rs `read_token_answer` (`account.label()` in the
/// message).
#[test]
fn a_failed_token_mint_does_not_name_the_service_account() {
    let sa = std::fs::read_to_string(
        common::repo_root().join("tests/fixtures/test-service-account.json"),
    )
    .unwrap();
    let email: String = serde_json::from_str::<Value>(&sa).unwrap()["client_email"]
        .as_str()
        .unwrap()
        .into();
    let src = settings(
        json!({"models": ["google-vertex-ai/*"]}),
        &[
            ("VERTEX_SERVICE_ACCOUNT_JSON", &sa),
            ("VERTEX_PROJECT", "op-proj"),
        ],
    );
    let host = FakeHost::new().with_memory();
    let body = json!({"model": "google-vertex-ai/gemini-2.5-flash",
                      "messages": [{"role": "user", "content": "hi"}]})
    .to_string();
    let (fwd, _) = run(
        &src,
        &host,
        &head("POST", "/v1/chat/completions", &[]),
        body.as_bytes(),
    )
    .sent("vertex chat");
    let mut broken = Vec::new();
    for answer in [
        Err("timed out".to_string()),
        Ok((
            400,
            br#"{"error":"invalid_grant","error_description":"Invalid JWT"}"#.to_vec(),
        )),
        Ok((503, b"unavailable".to_vec())),
    ] {
        let mut up = fwd.first().clone();
        let mint = match llm_proxy::cloud_auth::prepare(&mut up, body.as_bytes(), &host, true) {
            Ok(llm_proxy::cloud_auth::Prepared::Mint(m)) => m,
            other => panic!("expected a token exchange, got {other:?}"),
        };
        if let Err(e) = mint.finish(&mut up, &host, answer) {
            if e.message.contains(&email) {
                broken.push(format!("{} {}", e.status, e.message));
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

// --------------------------------------------------------- shared instance

/// `n` bytes or so of JSON array items that cost the most as a
/// `serde_json::Value` tree: objects nested 60 deep (each level 5 bytes of
/// JSON, one B-tree node of ~400 bytes in a tree).
fn nested_items(n: usize) -> String {
    let deep = format!("{}{{}}{}", r#"{"":"#.repeat(60), "}".repeat(60));
    vec![deep.as_str(); n / (deep.len() + 1)].join(",")
}

/// MEDIUM-HIGH. docs/team.md: "no route builds a tree of the client's JSON;
/// a request costs about its body's size in memory, and a large body does
/// not hold up other requests of the instance". The proxy's own token
/// estimates (`/v1/messages/count_tokens` and Gemini `:countTokens` for a
/// provider without a counting endpoint), the Gemini API translated to
/// chat, and chat translated to Bedrock Converse parse the whole body into a
/// `serde_json::Value`: ~100x its size natively, ~85x in wasm32 — a 30 MiB
/// body (under the default `MAX_BODY_BYTES`) took the component under
/// `wasmtime serve` to 2.6 GB resident and 5-6 s of CPU, during which the
/// instance (shared by up to 16 requests of any team) serves nothing; with a
/// larger `MAX_BODY_BYTES` one request passes wasm32's 4 GiB and the trap
/// ends every request of the instance. A count reserves no tokens: `tpm`
/// and `daily_tokens` do not bound it.
///
/// src/handlers/messages.rs `estimate_body` (`serde_json::from_slice` to a
/// `Value`), src/translate/gemini_openai/embed.rs `estimate_tokens`,
/// src/handlers/chat_completions.rs `translate`, the Gemini → chat
/// translation.
#[test]
fn no_route_builds_a_tree_of_the_clients_json() {
    let src = settings(
        json!({"models": ["openai/*", "aws-bedrock/*"]}),
        &[
            ("AWS_BEARER_TOKEN_BEDROCK", "op-bedrock"),
            ("AWS_REGION", "us-east-1"),
        ],
    );
    let host = FakeHost::new();
    let items = nested_items(4 << 20);
    let cases = [
        (
            "/v1/messages/count_tokens",
            format!(
                r#"{{"model":"openai/gpt-4o-mini","messages":[{{"role":"user","content":[{items}]}}]}}"#
            ),
        ),
        (
            "/v1beta/models/openai%2Fgpt-4o-mini:countTokens",
            format!(r#"{{"contents":[{{"parts":[{items}]}}]}}"#),
        ),
        (
            "/v1beta/models/openai%2Fgpt-4o-mini:generateContent",
            format!(r#"{{"contents":[{{"parts":[{items}]}}]}}"#),
        ),
        (
            "/v1/chat/completions",
            format!(
                r#"{{"model":"aws-bedrock/anthropic.claude-sonnet-4-5","messages":[{{"role":"user","content":[{items}]}}]}}"#
            ),
        ),
    ];
    let mut broken = Vec::new();
    for (path, body) in cases {
        let h = head("POST", path, &[]);
        let decided = decide(&h, &src, &host);
        let Decision::WithBody {
            route,
            selection,
            gateway,
            dropped,
            ..
        } = decided.decision
        else {
            panic!("{path}: not a body route");
        };
        let caller = decided.caller.unwrap();
        let (planned, peak) = heap::peak_of(|| {
            plan_granted(
                route,
                &h,
                body.as_bytes(),
                &src,
                &host,
                selection,
                gateway.as_ref(),
                &caller,
                &dropped,
                &mut None,
            )
        });
        drop(planned);
        if peak > 6 * body.len() {
            broken.push(format!(
                "{path}: a {} KiB body took {} KiB ({}x) to plan",
                body.len() >> 10,
                peak >> 10,
                peak / body.len()
            ));
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
}

/// The same, seen from another team: team B's stream is relayed by the
/// component under `wasmtime serve` while team A sends one 24 MiB
/// `count_tokens` body; team B's stream must not stop for a second.
#[test]
fn a_large_body_does_not_hold_up_another_teams_stream() {
    let mock = Mock::start(|_| MockResponse::sse(200, Duration::from_millis(50)));
    let keys = json!([{"name": TEAM, "sha256": common::sha256_hex(KEY)}]).to_string();
    let base = mock.url("/v1");
    let proxy = Proxy::start(&common::env(&[
        ("PROXY_API_KEY", "pk-operator"),
        ("PROXY_KEYS", keys.as_str()),
        ("OPENAI_API_KEY", "sk-op-openai"),
        ("OPENAI_BASE_URL", base.as_str()),
    ]));
    let port = proxy.port;
    let team_b = std::thread::spawn(move || {
        common::request(
            port,
            "POST",
            "/openai/v1/chat/completions",
            &[
                ("authorization", "Bearer pk-operator"),
                ("content-type", "application/json"),
            ],
            br#"{"model":"gpt-4o-mini","stream":true,"messages":[]}"#,
        )
    });
    std::thread::sleep(Duration::from_millis(1500));
    let body = format!(
        r#"{{"model":"openai/gpt-4o-mini","messages":[{{"role":"user","content":[{}]}}]}}"#,
        nested_items(24 << 20)
    );
    let auth = format!("Bearer {KEY}");
    // Refused while it arrives (413: too many values) the rest of it is not
    // read: the write may then break off, which is fine.
    let a = common::try_request(
        port,
        "POST",
        "/v1/messages/count_tokens",
        &[
            ("authorization", auth.as_str()),
            ("content-type", "application/json"),
        ],
        body.as_bytes(),
    );
    drop(body);
    let (a_status, a_text) = match &a {
        Ok(r) => (r.status.to_string(), r.text()),
        Err(e) => (
            "(connection closed while sending)".to_string(),
            e.to_string(),
        ),
    };
    let b = team_b.join().unwrap();
    assert_eq!(b.status, 200, "{}", b.text());
    let longest = b
        .arrivals
        .windows(2)
        .map(|w| w[1].0.saturating_sub(w[0].0))
        .max()
        .unwrap_or_default();
    assert!(
        longest < Duration::from_secs(1),
        "team B's stream (an event every 50 ms) stopped for {longest:?} while team A's \
         {} KiB count_tokens was planned (answered {} {})",
        24 << 10,
        a_status,
        a_text
    );
    if let Ok(r) = &a {
        assert!(r.status == 413 || r.status == 200, "{}", r.text());
    }
}

/// LOW. `GET /usage` of a client key reads its month day by day: 7 store
/// calls per day of the month so far (6 counters and the slot count, plus
/// one per instance slot), 217 on the 31st — against 1–3 for an inference
/// request. A key without `rpm` can send it as fast as it likes: each costs
/// the shared store (Redis, one round trip each, and a key created per
/// `increment(0)` of a counter that was not there) about two hundred calls.
///
/// src/accounting.rs `usage_reply` → `totals(store, name, &month)`.
#[test]
#[ignore = "left for issue 28, which keeps usage per day and model for 90 days and answers \
            /admin/usage over it: /usage's month is read day by day until then (a client key's \
            /usage counts against its rpm since issue 26)"]
fn usage_costs_the_same_store_calls_on_every_day_of_the_month() {
    let src = settings(json!({"models": ["openai/*"]}), &[]);
    let calls_on = |now_ms: u64| {
        let host = FakeHost::new().with_memory();
        host.now.set(now_ms);
        host.reset_calls();
        match run(&src, &host, &head("GET", "/usage", &[]), b"") {
            Outcome::Answered(200, _) => {}
            Outcome::Answered(s, b) => panic!("/usage: {s} {b}"),
            Outcome::Sent(..) => panic!("/usage forwarded"),
        }
        let c = host.calls();
        c.store_get + c.store_increment + c.store_set + c.store_delete
    };
    // 2026-12-01 and 2026-12-31, 12:00 UTC.
    let first = calls_on(1_796_126_400_000);
    let last = calls_on(1_796_126_400_000 + 30 * 86_400_000);
    assert!(
        last <= first.max(16) * 2,
        "a client key's /usage costs {first} store calls on the 1st and {last} on the 31st"
    );
}

// Checked in review and found safe (no test):
// - pass-through path tricks: `//`, trailing `/`, `;x`, trailing `.`,
//   percent-encoded letters, `%2F`/`%5C` and `..`/`%2e%2e` in any segment,
//   `/v1/v1/...`, case: each is refused (400 `invalid_path` or 403); the
//   classifier and `build` agree, with and without a base-URL override or a
//   gateway (the override only prefixes what the default base classified).
// - `/key/` and `/g/` in either order, twice, or in other case: one of each
//   is stripped, the rest is a provider name (404); `/g/` is checked first.
// - Gemini `models/{m}:{action}`: `%3A`, a second `:`, `tunedModels/`,
//   unknown actions are refused; the model is percent-encoded into paths.
// - Vertex pass-through is held to VERTEX_PROJECT; Bedrock `%2F` ids stay in
//   one segment; Workers AI stays under `/accounts/{id}/ai`.
// - model names: `default`, bare names on /v1/messages and the Gemini path,
//   trailing spaces, case, aliases (`perplexity`), duplicate `model` keys,
//   escaped keys, non-string models: checked and planned alike (a body the
//   check cannot read is one the handlers refuse).
// - OpenRouter `models` (also through a route), a route named like a model.
// - headers: names are lowercased before the drop; `x-llm-proxy-*`, `spin-*`
//   and forwarding headers never go on; `x-llm-proxy-dropped` is rebuilt.
// - `/v1/models`: the 5 s cache holds the unfiltered fetch per set of URLs
//   (gateway included) and every answer is filtered for its own caller.
// - `/usage` shows a client key only its own entry; `/status` is admin-only.
// - duplicate `stream_options` / `include_usage`: the injection follows the
//   last-wins reading the providers use.
