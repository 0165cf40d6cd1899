//! Issue 26 (a gateway several teams share safely): what a client key can
//! reach, against the contract in docs/team.md ("What a client key can
//! reach"), under `wasmtime serve` (the `wasi` flavour, no store) with every
//! provider and the AI Gateway pointed at loopback mocks. Each test is
//! named after the issue's point (`p1_` ... `p13_`); the points that need
//! the key-value store (limits, cooldowns, Redis) are in tests/tenancy_spin.rs.
//!
//! These tests were written before the fix: tests/TENANCY_BEFORE.md says
//! how each failed on the code of the time. Each collects every broken
//! expectation of its point and reports them all at the end, with what the
//! upstream mocks received, so one run tells the whole story.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

// ---------------------------------------------------------------- keys

/// `openai/*`.
const ALICE: &str = "sk-ten-alice-1a2b3c4d5e";
/// `openai/gpt-4o-mini` only.
const ONE: &str = "sk-ten-one-6f7a8b9c0d";
/// The route `openai/gpt-4o` by its name.
const ROUTED: &str = "sk-ten-routed-11223344";
/// `*`.
const STAR: &str = "sk-ten-star-55667788";
/// `openrouter/anthropic/claude-sonnet-4.5` only.
const OR_ONE: &str = "sk-ten-or-one-99aabbcc";
/// OpenRouter's `anthropic/claude-sonnet-4.5`, `openai/gpt-4o`, `x-ai/grok-4`.
const OR_THREE: &str = "sk-ten-or-three-ddeeff00";
/// `openai/*` and `"gateways": ["team-gw"]`.
const GW: &str = "sk-ten-gw-13579bdf";
/// `openai/*` and `"pass_through": ["/openai/v1/files"]`.
const FILES: &str = "sk-ten-files-2468ace0";
/// `"models": []`.
const EMPTY: &str = "sk-ten-empty-0f0f0f0f";

/// The entries every test shares: only fields the code before issue 26
/// knew, so that code parses them and shows the holes themselves.
fn base_entries() -> Vec<Value> {
    vec![
        json!({"name": "alice", "sha256": sha256_hex(ALICE), "models": ["openai/*"]}),
        json!({"name": "one", "sha256": sha256_hex(ONE), "models": ["openai/gpt-4o-mini"]}),
        json!({"name": "routed", "sha256": sha256_hex(ROUTED), "models": ["openai/gpt-4o"]}),
        json!({"name": "star", "sha256": sha256_hex(STAR), "models": ["*"]}),
        json!({"name": "or-one", "sha256": sha256_hex(OR_ONE),
               "models": ["openrouter/anthropic/claude-sonnet-4.5"]}),
        json!({"name": "or-three", "sha256": sha256_hex(OR_THREE),
               "models": ["openrouter/anthropic/claude-sonnet-4.5", "openrouter/openai/gpt-4o",
                          "openrouter/x-ai/grok-4"]}),
    ]
}

fn keys_json(extra: &[Value]) -> String {
    let mut all = base_entries();
    all.extend_from_slice(extra);
    Value::Array(all).to_string()
}

const ACCOUNT: &str = "acc";

// ---------------------------------------------------------------- mocks

/// An upstream that answers in the shape its path asks for (chat
/// completions, Messages, Responses, embeddings, Gemini, model lists; an
/// echo otherwise), every answer with `headers`.
fn llm_mock(headers: &'static [(&'static str, &'static str)]) -> Mock {
    Mock::start(move |r| {
        let mut resp = llm_answer(r);
        for (k, v) in headers {
            resp = resp.header(k, v);
        }
        resp
    })
}

fn llm_answer(r: &Recorded) -> MockResponse {
    let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    let path = r.path();
    let model = body["model"].clone();
    if r.method == "POST" && path.ends_with("/chat/completions") {
        return MockResponse::json(
            200,
            &json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "Hi"}}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}})
            .to_string(),
        );
    }
    if r.method == "POST" && path.ends_with("/messages") {
        return MockResponse::json(
            200,
            &json!({"id": "msg_1", "type": "message", "role": "assistant", "model": model,
                "content": [{"type": "text", "text": "Bonjour"}], "stop_reason": "end_turn",
                "stop_sequence": null, "usage": {"input_tokens": 5, "output_tokens": 2}})
            .to_string(),
        );
    }
    if r.method == "POST" && path.ends_with("/responses") {
        return MockResponse::json(
            200,
            &json!({"id": "resp_1", "object": "response", "status": "completed", "model": model,
                "output": [{"type": "message", "id": "m1", "role": "assistant", "status": "completed",
                            "content": [{"type": "output_text", "text": "Hi", "annotations": []}]}],
                "usage": {"input_tokens": 4, "output_tokens": 1, "total_tokens": 5}})
            .to_string(),
        );
    }
    if r.method == "POST" && path.ends_with("/embeddings") {
        return MockResponse::json(
            200,
            &json!({"object": "list", "model": model,
                "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
                "usage": {"prompt_tokens": 2, "total_tokens": 2}})
            .to_string(),
        );
    }
    if path.contains(":generateContent") {
        return MockResponse::json(
            200,
            r#"{"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4}}"#,
        );
    }
    if path.ends_with("/models") {
        return MockResponse::json(
            200,
            r#"{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1,"owned_by":"openai"}]}"#,
        );
    }
    MockResponse::json(
        200,
        &json!({"echo": r.target, "method": r.method}).to_string(),
    )
}

/// Every upstream a test may reach: OpenAI, Anthropic, OpenRouter, Google
/// AI Studio, and the AI Gateway's base.
struct Upstreams {
    openai: Mock,
    anthropic: Mock,
    openrouter: Mock,
    google: Mock,
    gateway: Mock,
}

impl Upstreams {
    fn new() -> Upstreams {
        Upstreams::answering(&[])
    }

    /// Each answer carries `headers`.
    fn answering(headers: &'static [(&'static str, &'static str)]) -> Upstreams {
        Upstreams {
            openai: llm_mock(headers),
            anthropic: llm_mock(headers),
            openrouter: llm_mock(headers),
            google: llm_mock(headers),
            gateway: llm_mock(headers),
        }
    }

    fn all(&self) -> [(&'static str, &Mock); 5] {
        [
            ("openai", &self.openai),
            ("anthropic", &self.anthropic),
            ("openrouter", &self.openrouter),
            ("google", &self.google),
            ("gateway", &self.gateway),
        ]
    }

    /// How many requests each mock has received.
    fn counts(&self) -> [usize; 5] {
        self.all().map(|(_, m)| m.received().len())
    }

    /// What the mocks received since `counts`.
    fn since(&self, counts: [usize; 5]) -> Vec<(&'static str, Recorded)> {
        self.all()
            .iter()
            .zip(counts)
            .flat_map(|((name, m), n)| {
                m.received()
                    .into_iter()
                    .skip(n)
                    .map(move |r| (*name, r))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// The proxy with every provider at its mock, `CLOUDFLARE_ACCOUNT_ID`
    /// and `AI_GATEWAY_BASE_URL` at the gateway mock (no default gateway
    /// unless `extra` names one), `PROXY_KEYS` = `keys`.
    fn proxy(&self, keys: &str, extra: &[(&str, &str)]) -> Proxy {
        let mut e = env(&[
            ("PROXY_API_KEY", PROXY_KEY),
            ("PROXY_KEYS", keys),
            ("OPENAI_API_KEY", "sk-openai-upstream"),
            ("OPENAI_BASE_URL", &self.openai.url("/v1")),
            ("ANTHROPIC_API_KEY", "sk-ant-upstream"),
            ("ANTHROPIC_BASE_URL", &self.anthropic.url("")),
            ("OPENROUTER_API_KEY", "sk-or-upstream"),
            ("OPENROUTER_BASE_URL", &self.openrouter.url("")),
            ("GEMINI_API_KEY", "AIza-upstream"),
            ("GOOGLE_AI_STUDIO_BASE_URL", &self.google.url("")),
            ("CLOUDFLARE_ACCOUNT_ID", ACCOUNT),
            ("AI_GATEWAY_BASE_URL", &self.gateway.url("")),
        ]);
        e.extend(env(extra));
        Proxy::start(&e)
    }
}

fn describe(reached: &[(&'static str, Recorded)]) -> String {
    if reached.is_empty() {
        return "nothing".into();
    }
    reached
        .iter()
        .map(|(mock, r)| {
            let auth = r
                .header("authorization")
                .or(r.header("x-api-key"))
                .or(r.header("x-goog-api-key"))
                .unwrap_or("-");
            format!("{} {} on the {mock} mock (auth {auth})", r.method, r.target)
        })
        .collect::<Vec<_>>()
        .join("; ")
}

// ---------------------------------------------------------------- checks

/// Every broken expectation of a test, reported together at its end.
#[derive(Default)]
struct Checks(Vec<String>);

impl Checks {
    fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    /// `send()` must be refused with `status` (0: 403 or 405) and error
    /// `code` (OpenAI's `error.code`; `""`: any body) and reach no upstream.
    fn refused(
        &mut self,
        up: &Upstreams,
        status: u16,
        code: &str,
        what: &str,
        send: impl FnOnce() -> Response,
    ) -> Response {
        let before = up.counts();
        let resp = send();
        let reached = up.since(before);
        let got_code = error_code(&resp);
        self.check(
            (resp.status == status || (status == 0 && [403, 405].contains(&resp.status)))
                && (code.is_empty() || got_code == code)
                && reached.is_empty(),
            || {
                format!(
                    "{what}: expected {status} {code} and nothing upstream; got {} {} and the upstream received {}",
                    resp.status,
                    snippet(&resp),
                    describe(&reached)
                )
            },
        );
        resp
    }

    /// `send()` must be answered 200 after exactly one upstream request,
    /// which is returned (with the mock's name).
    fn passed(
        &mut self,
        up: &Upstreams,
        what: &str,
        send: impl FnOnce() -> Response,
    ) -> (Response, Option<(&'static str, Recorded)>) {
        let before = up.counts();
        let resp = send();
        let reached = up.since(before);
        self.check(resp.status == 200 && reached.len() == 1, || {
            format!(
                "{what}: expected 200 after one upstream request; got {} {} and the upstream received {}",
                resp.status,
                snippet(&resp),
                describe(&reached)
            )
        });
        let one = (reached.len() == 1).then(|| reached.into_iter().next().unwrap());
        (resp, one)
    }

    fn done(self) {
        assert!(
            self.0.is_empty(),
            "{} broken expectation(s):\n  - {}",
            self.0.len(),
            self.0.join("\n  - ")
        );
    }
}

fn error_code(resp: &Response) -> String {
    let v: Value = serde_json::from_slice(&resp.body).unwrap_or(Value::Null);
    v["error"]["code"].as_str().unwrap_or("").to_string()
}

fn snippet(resp: &Response) -> String {
    let t = resp.text();
    if t.len() > 300 {
        format!("{}…", &t[..300])
    } else {
        t
    }
}

// ---------------------------------------------------------------- requests

fn chat_body(model: &str) -> Vec<u8> {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
        .to_string()
        .into_bytes()
}

fn messages_body(model: &str) -> Vec<u8> {
    json!({"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]})
        .to_string()
        .into_bytes()
}

/// A request with `key` as a Bearer token (and a JSON body when there is one).
fn call(
    proxy: &Proxy,
    key: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Response {
    let auth = format!("Bearer {key}");
    let mut h = vec![("authorization", auth.as_str())];
    if !body.is_empty() {
        h.push(("content-type", "application/json"));
    }
    h.extend_from_slice(headers);
    proxy.request(method, path, &h, body)
}

fn post(proxy: &Proxy, key: &str, path: &str, body: &[u8]) -> Response {
    call(proxy, key, "POST", path, &[], body)
}

/// `POST /v1/messages` with `key` as `x-api-key`, as Claude Code sends it.
fn messages(proxy: &Proxy, key: &str, body: &[u8]) -> Response {
    proxy.request(
        "POST",
        "/v1/messages",
        &[
            ("x-api-key", key),
            ("anthropic-version", "2023-06-01"),
            ("content-type", "application/json"),
        ],
        body,
    )
}

fn sent(r: &Recorded) -> Value {
    serde_json::from_slice(&r.body).unwrap_or(Value::Null)
}

/// The names in a comma-separated header value, lowercased.
fn names_in(v: Option<&str>) -> Vec<String> {
    v.unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Whether a request log line with this `request_id` appears within 3 s.
fn logged(proxy: &Proxy, id: &str) -> bool {
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        if proxy.request_logs().iter().any(|l| l["request_id"] == id) {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn is_hex32(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

// ---------------------------------------------------------------- 1. gateways

#[test]
fn p1_a_client_key_cannot_name_a_gateway_it_was_not_granted() {
    let up = Upstreams::new();
    // CLOUDFLARE_ACCOUNT_ID only: no default gateway.
    let proxy = up.proxy(&keys_json(&[]), &[]);
    let mut c = Checks::default();
    c.refused(
        &up,
        403,
        "gateway_not_allowed",
        "alice (openai/*) POST /g/anyname/openai/v1/chat/completions",
        || {
            post(
                &proxy,
                ALICE,
                "/g/anyname/openai/v1/chat/completions",
                &chat_body("gpt-4o-mini"),
            )
        },
    );
    c.refused(
        &up,
        403,
        "gateway_not_allowed",
        "one (openai/gpt-4o-mini) POST /g/anyname/v1/chat/completions",
        || {
            post(
                &proxy,
                ONE,
                "/g/anyname/v1/chat/completions",
                &chat_body("openai/gpt-4o-mini"),
            )
        },
    );
    c.refused(
        &up,
        403,
        "gateway_not_allowed",
        "alice GET /g/anyname/openai/v1/models",
        || {
            call(
                &proxy,
                ALICE,
                "GET",
                "/g/anyname/openai/v1/models",
                &[],
                b"",
            )
        },
    );
    c.refused(
        &up,
        403,
        "gateway_not_allowed",
        "alice behind a /key/ prefix: POST /key/0/g/anyname/openai/v1/chat/completions",
        || {
            post(
                &proxy,
                ALICE,
                "/key/0/g/anyname/openai/v1/chat/completions",
                &chat_body("gpt-4o-mini"),
            )
        },
    );
    // The all-access key keeps /g/.
    let (_, got) = c.passed(
        &up,
        "the all-access key POST /g/anyname/openai/v1/chat/completions",
        || {
            post(
                &proxy,
                PROXY_KEY,
                "/g/anyname/openai/v1/chat/completions",
                &chat_body("gpt-4o-mini"),
            )
        },
    );
    if let Some((mock, r)) = got {
        c.check(
            mock == "gateway" && r.path().starts_with(&format!("/{ACCOUNT}/anyname/openai/")),
            || {
                format!(
                    "the all-access key's /g/anyname/ request went to {mock} {}",
                    r.target
                )
            },
        );
    }
    c.done();
}

#[test]
fn p1_a_gateways_grant_opens_that_gateway_and_no_other() {
    let up = Upstreams::new();
    let keys = keys_json(&[json!({"name": "gw", "sha256": sha256_hex(GW),
        "models": ["openai/*"], "gateways": ["team-gw"]})]);
    let proxy = up.proxy(&keys, &[]);
    let mut c = Checks::default();
    let (_, got) = c.passed(
        &up,
        "gw (gateways: [team-gw]) POST /g/team-gw/openai/v1/chat/completions",
        || {
            post(
                &proxy,
                GW,
                "/g/team-gw/openai/v1/chat/completions",
                &chat_body("gpt-4o-mini"),
            )
        },
    );
    if let Some((mock, r)) = got {
        c.check(
            mock == "gateway"
                && r.path().starts_with(&format!("/{ACCOUNT}/team-gw/openai/"))
                && r.path().ends_with("/chat/completions")
                && r.header("authorization") == Some("Bearer sk-openai-upstream"),
            || {
                format!(
                    "gw's request reached {mock} {} {} (auth {:?}); expected the gateway mock at /{ACCOUNT}/team-gw/openai/.../chat/completions with the operator's key",
                    r.method,
                    r.target,
                    r.header("authorization")
                )
            },
        );
    }
    // Its own route through the granted gateway too.
    c.passed(
        &up,
        "gw POST /g/team-gw/v1/chat/completions (openai/gpt-4o-mini)",
        || {
            post(
                &proxy,
                GW,
                "/g/team-gw/v1/chat/completions",
                &chat_body("openai/gpt-4o-mini"),
            )
        },
    );
    c.refused(
        &up,
        403,
        "gateway_not_allowed",
        "gw POST /g/other/openai/v1/chat/completions",
        || {
            post(
                &proxy,
                GW,
                "/g/other/openai/v1/chat/completions",
                &chat_body("gpt-4o-mini"),
            )
        },
    );
    // The grant is gw's alone.
    c.refused(
        &up,
        403,
        "gateway_not_allowed",
        "alice (no gateways) POST /g/team-gw/openai/v1/chat/completions",
        || {
            post(
                &proxy,
                ALICE,
                "/g/team-gw/openai/v1/chat/completions",
                &chat_body("gpt-4o-mini"),
            )
        },
    );
    c.done();
}

#[test]
fn p1_with_a_default_gateway_a_client_key_goes_through_it_and_cannot_name_another() {
    let up = Upstreams::new();
    let proxy = up.proxy(&keys_json(&[]), &[("AI_GATEWAY_NAME", "main")]);
    let mut c = Checks::default();
    let (_, got) = c.passed(
        &up,
        "one POST /v1/chat/completions (default gateway main)",
        || {
            post(
                &proxy,
                ONE,
                "/v1/chat/completions",
                &chat_body("openai/gpt-4o-mini"),
            )
        },
    );
    if let Some((mock, r)) = got {
        c.check(
            mock == "gateway" && r.path().starts_with(&format!("/{ACCOUNT}/main/")),
            || format!("one's request went to {mock} {}", r.target),
        );
    }
    c.refused(
        &up,
        403,
        "gateway_not_allowed",
        "one POST /g/other/v1/chat/completions",
        || {
            post(
                &proxy,
                ONE,
                "/g/other/v1/chat/completions",
                &chat_body("openai/gpt-4o-mini"),
            )
        },
    );
    c.refused(
        &up,
        403,
        "gateway_not_allowed",
        "alice POST /g/other/openai/v1/chat/completions",
        || {
            post(
                &proxy,
                ALICE,
                "/g/other/openai/v1/chat/completions",
                &chat_body("gpt-4o-mini"),
            )
        },
    );
    c.done();
}

/// The `cf-aig-*` headers a client sends in these tests.
const CF_AIG_SENT: [(&str, &str); 9] = [
    ("cf-aig-cache-ttl", "3600"),
    ("cf-aig-skip-cache", "true"),
    ("cf-aig-metadata", r#"{"team":"someone-else"}"#),
    ("cf-aig-collect-log", "false"),
    (
        "cf-aig-custom-cost",
        r#"{"per_token_in":0,"per_token_out":0}"#,
    ),
    ("cf-aig-cache-key", "shared-key"),
    ("cf-aig-max-attempts", "5"),
    ("cf-aig-request-timeout", "1"),
    ("cf-aig-authorization", "Bearer someone-elses-token"),
];
const CF_AIG_KEPT: [&str; 2] = ["cf-aig-cache-ttl", "cf-aig-skip-cache"];

#[test]
fn p1_a_client_keys_cf_aig_headers_are_dropped_but_cache_ttl_and_skip_cache() {
    let up = Upstreams::new();
    let proxy = up.proxy(&keys_json(&[]), &[("AI_GATEWAY_NAME", "main")]);
    let mut c = Checks::default();
    let routes: [(&str, &str, Vec<u8>); 3] = [
        (
            "pass-through",
            "/openai/v1/chat/completions",
            chat_body("gpt-4o-mini"),
        ),
        (
            "chat completions",
            "/v1/chat/completions",
            chat_body("openai/gpt-4o-mini"),
        ),
        ("model list", "/openai/v1/models", Vec::new()),
    ];
    for (route, path, body) in &routes {
        let method = if body.is_empty() { "GET" } else { "POST" };
        let what = format!("alice {method} {path} ({route}) with cf-aig-* headers");
        let (resp, got) = c.passed(&up, &what, || {
            call(&proxy, ALICE, method, path, &CF_AIG_SENT, body)
        });
        let Some((_, r)) = got else { continue };
        for (name, value) in CF_AIG_SENT {
            let kept = CF_AIG_KEPT.contains(&name);
            let arrived = r.header(name);
            if kept {
                c.check(arrived == Some(value), || {
                    format!("{what}: {name} should reach the gateway as sent, got {arrived:?}")
                });
            } else {
                c.check(arrived.is_none_or(|v| v != value), || {
                    format!("{what}: the client's {name}: {value} reached the gateway")
                });
            }
        }
        let dropped = names_in(resp.header("x-llm-proxy-dropped"));
        for (name, _) in CF_AIG_SENT {
            if !CF_AIG_KEPT.contains(&name) {
                c.check(dropped.iter().any(|d| d == name), || {
                    format!(
                        "{what}: x-llm-proxy-dropped should name {name}; it is {:?}",
                        resp.header("x-llm-proxy-dropped")
                    )
                });
            }
        }
        c.check(
            !dropped.iter().any(|d| CF_AIG_KEPT.contains(&d.as_str())),
            || format!("{what}: x-llm-proxy-dropped names a kept header: {dropped:?}"),
        );
    }
    // The all-access key keeps every cf-aig header, and /g/.
    for path in [
        "/openai/v1/chat/completions",
        "/g/other/openai/v1/chat/completions",
    ] {
        let what = format!("the all-access key POST {path} with cf-aig-* headers");
        let (_, got) = c.passed(&up, &what, || {
            call(
                &proxy,
                PROXY_KEY,
                "POST",
                path,
                &CF_AIG_SENT,
                &chat_body("gpt-4o-mini"),
            )
        });
        if let Some((_, r)) = got {
            for (name, value) in CF_AIG_SENT {
                c.check(r.header(name) == Some(value), || {
                    format!("{what}: {name} did not reach the gateway as sent")
                });
            }
        }
    }
    c.done();
}

// ---------------------------------------------------------------- 3. pass-through endpoints

#[test]
fn p3_a_providers_wildcard_opens_its_inference_and_model_lists_not_the_account() {
    let up = Upstreams::new();
    let proxy = up.proxy(&keys_json(&[]), &[]);
    let mut c = Checks::default();
    let batch = br#"{"input_file_id":"file-xyz","endpoint":"/v1/chat/completions","completion_window":"24h"}"#;
    let refused: [(&str, &str, &[u8]); 10] = [
        ("GET", "/openai/v1/files", b""),
        ("DELETE", "/openai/v1/files/file-xyz", b""),
        ("GET", "/openai/v1/batches", b""),
        ("POST", "/openai/v1/batches", batch),
        ("GET", "/openai/v1/chat/completions", b""),
        ("GET", "/openai/v1/responses/resp_abc", b""),
        ("DELETE", "/openai/v1/responses/resp_abc", b""),
        ("POST", "/openai/v1/fine_tuning/jobs", b"{}"),
        ("GET", "/openai/v1/vector_stores", b""),
        ("GET", "/openai/v1/organization/costs", b""),
    ];
    for (method, path, body) in refused {
        c.refused(
            &up,
            403,
            "endpoint_not_allowed",
            &format!("alice (openai/*) {method} {path}"),
            || call(&proxy, ALICE, method, path, &[], body),
        );
    }
    let passing: [(&str, &str, Vec<u8>); 5] = [
        (
            "POST",
            "/openai/v1/chat/completions",
            chat_body("gpt-4o-mini"),
        ),
        (
            "POST",
            "/openai/v1/embeddings",
            br#"{"model":"text-embedding-3-small","input":"hi"}"#.to_vec(),
        ),
        (
            "POST",
            "/openai/v1/responses",
            br#"{"model":"gpt-4o-mini","input":"hi"}"#.to_vec(),
        ),
        ("GET", "/openai/v1/models", Vec::new()),
        ("GET", "/openai/v1/models/gpt-4o-mini", Vec::new()),
    ];
    for (method, path, body) in &passing {
        let (_, got) = c.passed(&up, &format!("alice {method} {path}"), || {
            call(&proxy, ALICE, method, path, &[], body)
        });
        if let Some((mock, r)) = got {
            let want = path.trim_start_matches("/openai");
            c.check(
                mock == "openai" && r.method == *method && r.path() == want,
                || {
                    format!(
                        "alice {method} {path} reached {mock} as {} {}",
                        r.method, r.target
                    )
                },
            );
        }
    }
    c.done();
}

#[test]
fn p3_a_pass_through_grant_opens_that_path_and_below_and_nothing_else() {
    let up = Upstreams::new();
    let keys = keys_json(&[json!({"name": "files", "sha256": sha256_hex(FILES),
        "models": ["openai/*"], "pass_through": ["/openai/v1/files"]})]);
    let proxy = up.proxy(&keys, &[]);
    let mut c = Checks::default();
    for (method, path) in [
        ("GET", "/openai/v1/files"),
        ("DELETE", "/openai/v1/files/file-xyz"),
        ("GET", "/openai/v1/files/file-xyz/content"),
    ] {
        let (_, got) = c.passed(&up, &format!("files {method} {path}"), || {
            call(&proxy, FILES, method, path, &[], b"")
        });
        if let Some((mock, r)) = got {
            let want = path.trim_start_matches("/openai");
            c.check(
                mock == "openai" && r.method == method && r.path() == want,
                || {
                    format!(
                        "files {method} {path} reached {mock} as {} {}",
                        r.method, r.target
                    )
                },
            );
        }
    }
    for (method, path) in [
        ("GET", "/openai/v1/batches"),
        ("POST", "/openai/v1/batches"),
        // A prefix opens a path and what is below it, not a longer name.
        ("GET", "/openai/v1/files-archive"),
    ] {
        c.refused(
            &up,
            403,
            "endpoint_not_allowed",
            &format!("files {method} {path}"),
            || call(&proxy, FILES, method, path, &[], b"{}"),
        );
    }
    // Another key's grant is not alice's.
    c.refused(
        &up,
        403,
        "endpoint_not_allowed",
        "alice GET /openai/v1/files",
        || call(&proxy, ALICE, "GET", "/openai/v1/files", &[], b""),
    );
    c.done();
}

#[test]
fn p3_an_empty_models_list_is_a_settings_error_not_every_model() {
    let up = Upstreams::new();
    let keys = keys_json(&[json!({"name": "empty", "sha256": sha256_hex(EMPTY), "models": []})]);
    let proxy = up.proxy(&keys, &[]);
    let mut c = Checks::default();
    for key in [EMPTY, ALICE] {
        let resp = c.refused(
            &up,
            500,
            "proxy_misconfigured",
            &format!("a request with key {key} while an entry has \"models\": []"),
            || {
                post(
                    &proxy,
                    key,
                    "/v1/chat/completions",
                    &chat_body("openai/gpt-4o-mini"),
                )
            },
        );
        c.check(resp.text().contains("PROXY_KEYS"), || {
            format!("the settings error should name PROXY_KEYS: {}", resp.text())
        });
    }
    c.done();
}

// ---------------------------------------------------------------- 4. account headers

/// OpenAI answering 401 to a request that names an organisation.
fn org_checking_openai() -> Mock {
    Mock::start(|r| {
        if r.header("openai-organization").is_some() {
            return MockResponse::json(
                401,
                r#"{"error":{"message":"You are not a member of organization org-someone-else.","type":"invalid_request_error","code":"invalid_organization"}}"#,
            );
        }
        llm_answer(r)
    })
}

const ACCOUNT_HEADERS: [(&str, &str); 4] = [
    ("OpenAI-Organization", "org-someone-else"),
    ("OpenAI-Project", "proj_someone_else"),
    ("x-goog-user-project", "someone-elses-project"),
    ("chatgpt-account-id", "acct-someone-else"),
];

#[test]
fn p4_a_client_keys_provider_account_headers_never_reach_the_provider() {
    let mut up = Upstreams::new();
    up.openai = org_checking_openai();
    let proxy = up.proxy(&keys_json(&[]), &[]);
    let mut c = Checks::default();
    for (path, body) in [
        ("/v1/chat/completions", chat_body("openai/gpt-4o-mini")),
        ("/openai/v1/chat/completions", chat_body("gpt-4o-mini")),
        (
            "/v1/responses",
            br#"{"model":"openai/gpt-4o-mini","input":"hi"}"#.to_vec(),
        ),
    ] {
        let what = format!("alice POST {path} with OpenAI-Organization and co.");
        let (resp, got) = c.passed(&up, &what, || {
            call(&proxy, ALICE, "POST", path, &ACCOUNT_HEADERS, &body)
        });
        if let Some((_, r)) = got {
            for (name, _) in ACCOUNT_HEADERS {
                c.check(r.header(name).is_none(), || {
                    format!("{what}: {name} reached the provider: {:?}", r.header(name))
                });
            }
        }
        let dropped = names_in(resp.header("x-llm-proxy-dropped"));
        for (name, _) in ACCOUNT_HEADERS {
            let lower = name.to_ascii_lowercase();
            c.check(dropped.contains(&lower), || {
                format!(
                    "{what}: x-llm-proxy-dropped should name {lower}; it is {:?}",
                    resp.header("x-llm-proxy-dropped")
                )
            });
        }
    }
    // The all-access key's own account headers are its business: they
    // reach the provider (here, one that refuses the organisation).
    let before = up.counts();
    let resp = call(
        &proxy,
        PROXY_KEY,
        "POST",
        "/v1/chat/completions",
        &ACCOUNT_HEADERS,
        &chat_body("openai/gpt-4o-mini"),
    );
    let reached = up.since(before);
    c.check(
        resp.status == 401
            && reached.len() == 1
            && reached[0].1.header("openai-organization") == Some("org-someone-else"),
        || {
            format!(
                "the all-access key's OpenAI-Organization should reach OpenAI (which answers 401): got {} and {}",
                resp.status,
                describe(&reached)
            )
        },
    );
    c.done();
}

// ---------------------------------------------------------------- 7. a route named like a model

#[test]
fn p7_a_route_named_like_a_provider_model_is_not_opened_by_the_providers_wildcard() {
    let up = Upstreams::new();
    let proxy = up.proxy(
        &keys_json(&[]),
        &[(
            "MODEL_ROUTES",
            r#"{"openai/gpt-4o": ["anthropic/claude-sonnet-4-5"]}"#,
        )],
    );
    let mut c = Checks::default();
    let resp = c.refused(
        &up,
        403,
        "model_not_allowed",
        "alice (openai/*) POST /v1/chat/completions model openai/gpt-4o (a route to Anthropic)",
        || {
            post(
                &proxy,
                ALICE,
                "/v1/chat/completions",
                &chat_body("openai/gpt-4o"),
            )
        },
    );
    c.check(resp.text().contains("openai/gpt-4o"), || {
        format!("the refusal should name the model: {}", resp.text())
    });
    c.refused(
        &up,
        403,
        "",
        "alice POST /v1/messages model openai/gpt-4o",
        || messages(&proxy, ALICE, &messages_body("openai/gpt-4o")),
    );
    c.refused(
        &up,
        403,
        "",
        "alice POST /v1beta/models/openai/gpt-4o:generateContent",
        || {
            call(
                &proxy,
                ALICE,
                "POST",
                "/v1beta/models/openai/gpt-4o:generateContent",
                &[],
                br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#,
            )
        },
    );
    // Listed by name, or `*`: the route, to its Anthropic target.
    for (key, who) in [
        (ROUTED, "routed (openai/gpt-4o by name)"),
        (STAR, "star (*)"),
    ] {
        let what = format!("{who} POST /v1/chat/completions model openai/gpt-4o");
        let (resp, got) = c.passed(&up, &what, || {
            post(
                &proxy,
                key,
                "/v1/chat/completions",
                &chat_body("openai/gpt-4o"),
            )
        });
        if let Some((mock, r)) = got {
            c.check(
                mock == "anthropic" && sent(&r)["model"] == "claude-sonnet-4-5",
                || format!("{what}: reached {mock} {} with {}", r.target, sent(&r)),
            );
            c.check(
                resp.header("x-llm-proxy-route") == Some("anthropic/claude-sonnet-4-5"),
                || {
                    format!(
                        "{what}: x-llm-proxy-route {:?}",
                        resp.header("x-llm-proxy-route")
                    )
                },
            );
        }
    }
    c.done();
}

// ---------------------------------------------------------------- 8. OpenRouter's `models`

#[test]
fn p8_openrouters_own_model_list_in_the_body_must_be_granted_entry_by_entry() {
    let up = Upstreams::new();
    let proxy = up.proxy(&keys_json(&[]), &[]);
    let mut c = Checks::default();
    let with_models = |models: Value| {
        json!({"model": "openrouter/anthropic/claude-sonnet-4.5", "models": models,
               "route": "fallback", "messages": [{"role": "user", "content": "hi"}]})
        .to_string()
        .into_bytes()
    };
    let resp = c.refused(
        &up,
        403,
        "model_not_allowed",
        "or-one POST /v1/chat/completions with models [openai/gpt-4o, x-ai/grok-4]",
        || {
            post(
                &proxy,
                OR_ONE,
                "/v1/chat/completions",
                &with_models(json!(["openai/gpt-4o", "x-ai/grok-4"])),
            )
        },
    );
    c.check(resp.text().contains("openai/gpt-4o"), || {
        format!(
            "the refusal should name the first model not granted (openrouter/openai/gpt-4o): {}",
            resp.text()
        )
    });
    c.refused(
        &up,
        403,
        "model_not_allowed",
        "or-one POST /v1/chat/completions with models [anthropic/claude-sonnet-4.5, x-ai/grok-4]",
        || {
            post(
                &proxy,
                OR_ONE,
                "/v1/chat/completions",
                &with_models(json!(["anthropic/claude-sonnet-4.5", "x-ai/grok-4"])),
            )
        },
    );
    // Every entry granted: as sent.
    for (key, who, models) in [
        (
            OR_THREE,
            "or-three",
            json!(["openai/gpt-4o", "x-ai/grok-4"]),
        ),
        (OR_ONE, "or-one", json!(["anthropic/claude-sonnet-4.5"])),
    ] {
        let what = format!("{who} POST /v1/chat/completions with models {models}");
        let (_, got) = c.passed(&up, &what, || {
            post(
                &proxy,
                key,
                "/v1/chat/completions",
                &with_models(models.clone()),
            )
        });
        if let Some((mock, r)) = got {
            let body = sent(&r);
            c.check(
                mock == "openrouter"
                    && body["model"] == "anthropic/claude-sonnet-4.5"
                    && body["models"] == models,
                || format!("{what}: reached {mock} {} with {body}", r.target),
            );
        }
    }
    c.done();
}

// ---------------------------------------------------------------- 9. methods

const ALLOWED_METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

#[test]
fn p9_pass_through_and_compat_answer_other_methods_405_with_allow_for_every_key() {
    let up = Upstreams::new();
    let proxy = up.proxy(&keys_json(&[]), &[("AI_GATEWAY_NAME", "main")]);
    let mut c = Checks::default();
    let paths = [
        "/openai/v1/models",
        "/openai/v1/chat/completions",
        "/compat/chat/completions",
    ];
    for key in [PROXY_KEY, ALICE, STAR] {
        let who = if key == PROXY_KEY {
            "the all-access key"
        } else {
            key
        };
        for path in paths {
            for method in ["TRACE", "PROPFIND", "MKCOL", "CONNECT"] {
                let what = format!("{who} {method} {path}");
                let raw = format!(
                    "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{}\r\nauthorization: Bearer {key}\r\nconnection: close\r\n\r\n",
                    proxy.port
                );
                // A key without `*` may be refused /compat (403) before
                // its method is looked at; either way nothing is sent.
                let status = if key == ALICE && path.starts_with("/compat") {
                    0
                } else {
                    405
                };
                let resp = c.refused(&up, status, "", &what, || {
                    send_raw(proxy.port, raw.as_bytes()).unwrap_or_else(|e| Response {
                        status: 0,
                        headers: Vec::new(),
                        body: format!("no answer: {e}").into_bytes(),
                        arrivals: Vec::new(),
                    })
                });
                if resp.status == 405 {
                    let mut allow = names_in(resp.header("allow"));
                    allow.sort();
                    let mut want: Vec<String> = ALLOWED_METHODS
                        .iter()
                        .map(|m| m.to_ascii_lowercase())
                        .collect();
                    want.sort();
                    c.check(allow == want, || {
                        format!(
                            "{what}: Allow should list {ALLOWED_METHODS:?}, got {:?}",
                            resp.header("allow")
                        )
                    });
                }
            }
        }
    }
    // The methods it names still pass.
    c.passed(&up, "the all-access key PUT /openai/v1/x", || {
        call(&proxy, PROXY_KEY, "PUT", "/openai/v1/x", &[], b"{}")
    });
    c.done();
}

// ---------------------------------------------------------------- 10. answer headers

const ACCOUNT_ANSWER_HEADERS: &[(&str, &str)] = &[
    ("openai-organization", "org-operator"),
    ("openai-project", "proj_x"),
    ("anthropic-organization-id", "1234"),
    ("set-cookie", "__cf_bm=abc; path=/; HttpOnly"),
    ("set-cookie2", "legacy=1"),
    ("x-ratelimit-remaining-requests", "99"),
    ("anthropic-ratelimit-requests-remaining", "49"),
];

#[test]
fn p10_a_client_keys_answer_loses_account_ids_and_cookies_and_keeps_rate_limits() {
    let up = Upstreams::answering(ACCOUNT_ANSWER_HEADERS);
    let proxy = up.proxy(&keys_json(&[]), &[]);
    let mut c = Checks::default();
    let cases: [(&str, &str, &str, Vec<u8>); 6] = [
        ("pass-through", "GET", "/openai/v1/models", Vec::new()),
        (
            "pass-through",
            "POST",
            "/openai/v1/chat/completions",
            chat_body("gpt-4o-mini"),
        ),
        (
            "pass-through",
            "POST",
            "/anthropic/v1/messages",
            messages_body("claude-sonnet-4-5"),
        ),
        (
            "chat completions",
            "POST",
            "/v1/chat/completions",
            chat_body("openai/gpt-4o-mini"),
        ),
        (
            "messages, native",
            "POST",
            "/v1/messages",
            messages_body("anthropic/claude-sonnet-4-5"),
        ),
        (
            "messages, translated to OpenAI",
            "POST",
            "/v1/messages",
            messages_body("openai/gpt-4o-mini"),
        ),
    ];
    for (route, method, path, body) in &cases {
        let what = format!("star {method} {path} ({route})");
        let (resp, _) = c.passed(&up, &what, || {
            call(
                &proxy,
                STAR,
                method,
                path,
                &[("anthropic-version", "2023-06-01")],
                body,
            )
        });
        for name in [
            "openai-organization",
            "openai-project",
            "anthropic-organization-id",
            "set-cookie",
            "set-cookie2",
        ] {
            c.check(resp.header(name).is_none(), || {
                format!("{what}: the answer carries {name}: {:?}", resp.header(name))
            });
        }
        c.check(
            resp.header("x-ratelimit-remaining-requests") == Some("99"),
            || format!("{what}: x-ratelimit-remaining-requests should reach the client"),
        );
        c.check(
            resp.header("anthropic-ratelimit-requests-remaining") == Some("49"),
            || format!("{what}: anthropic-ratelimit-requests-remaining should reach the client"),
        );
    }
    c.done();
}

// ---------------------------------------------------------------- 13. x-request-id

#[test]
fn p13_the_providers_request_id_is_the_one_x_request_id_and_the_proxys_has_its_own_header() {
    let up = Upstreams::answering(&[("x-request-id", "req_abc")]);
    // Anthropic sends no id of its own here.
    let mut up = up;
    up.anthropic = llm_mock(&[]);
    let proxy = up.proxy(&keys_json(&[]), &[]);
    let mut c = Checks::default();
    let only = |resp: &Response, name: &str| -> Vec<String> {
        resp.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    };
    let cases: [(&str, &str, Vec<u8>, Option<&str>); 4] = [
        (
            "pass-through",
            "/openai/v1/chat/completions",
            chat_body("gpt-4o-mini"),
            None,
        ),
        (
            "pass-through",
            "/openai/v1/chat/completions",
            chat_body("gpt-4o-mini"),
            Some("mine-1"),
        ),
        (
            "messages translated to OpenAI",
            "/v1/messages",
            messages_body("openai/gpt-4o-mini"),
            None,
        ),
        (
            "messages translated to OpenAI",
            "/v1/messages",
            messages_body("openai/gpt-4o-mini"),
            Some("mine-2"),
        ),
    ];
    for (route, path, body, own) in &cases {
        let what = format!("star POST {path} ({route}, client id {own:?})");
        let mut h = vec![("anthropic-version", "2023-06-01")];
        if let Some(id) = own {
            h.push(("x-request-id", id));
        }
        let (resp, _) = c.passed(&up, &what, || call(&proxy, STAR, "POST", path, &h, body));
        let ids = only(&resp, "x-request-id");
        c.check(ids == ["req_abc"], || {
            format!("{what}: x-request-id should be exactly the provider's req_abc, got {ids:?}")
        });
        let proxy_ids = only(&resp, "x-llm-proxy-request-id");
        let ok = match own {
            Some(id) => proxy_ids == [id.to_string()],
            None => proxy_ids.len() == 1 && is_hex32(&proxy_ids[0]),
        };
        c.check(ok, || {
            format!("{what}: x-llm-proxy-request-id should be the proxy's id ({own:?} or 32 hex digits), got {proxy_ids:?}")
        });
        if let [id] = proxy_ids.as_slice() {
            c.check(logged(&proxy, id), || {
                format!("{what}: no request log line with request_id {id}")
            });
        }
    }
    // No id from the provider: x-request-id is the proxy's, as before.
    let what = "star POST /v1/messages (native Anthropic, no provider id)";
    let (resp, _) = c.passed(&up, what, || {
        messages(&proxy, STAR, &messages_body("anthropic/claude-sonnet-4-5"))
    });
    let ids = only(&resp, "x-request-id");
    let proxy_ids = only(&resp, "x-llm-proxy-request-id");
    c.check(
        ids.len() == 1 && is_hex32(&ids[0]) && proxy_ids == ids,
        || format!("{what}: x-request-id {ids:?} and x-llm-proxy-request-id {proxy_ids:?} should be the same proxy id"),
    );
    // A refusal (no upstream) carries both too.
    let resp = post(
        &proxy,
        "sk-nobody",
        "/v1/chat/completions",
        &chat_body("openai/gpt-4o-mini"),
    );
    let ids = only(&resp, "x-request-id");
    let proxy_ids = only(&resp, "x-llm-proxy-request-id");
    c.check(
        resp.status == 401 && ids.len() == 1 && is_hex32(&ids[0]) && proxy_ids == ids,
        || format!("an unknown key's 401: x-request-id {ids:?} and x-llm-proxy-request-id {proxy_ids:?} should be the same proxy id"),
    );
    c.done();
}
