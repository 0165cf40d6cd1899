//! Issue 26, as a property: nothing a client key sends reaches an upstream
//! outside what its `PROXY_KEYS` entry grants (docs/team.md, "What a client
//! key can reach").
//!
//! One proxy (`wasmtime serve`, the `wasi` flavour) per world, with 20
//! generated client keys (model patterns from a small vocabulary: exact
//! models, `provider/*`, `*`, route names — one of them named like a
//! provider's model; some entries with `gateways` and `pass_through`),
//! `MODEL_ROUTES`, and mocks for OpenAI, Anthropic, OpenRouter, Google AI
//! Studio and the AI Gateway's base. A few hundred generated requests
//! (seeded: `GRANT_SEED=n` replays another run) — method, path (own routes,
//! `/g/..`, `/key/..`, pass-through inference, model lists, files, batches,
//! stored responses, admin paths, `/compat`, the Universal Endpoint),
//! `cf-aig-*` and provider-account headers, a body naming a model and
//! sometimes OpenRouter's `models` list — are sent one at a time with a
//! random key (sometimes the all-access one), so every request a mock
//! records belongs to the case being sent. Each recorded upstream request
//! is then checked against the grant of the key that caused it:
//!
//! - `method`: GET, HEAD, POST, PUT, PATCH or DELETE (every key);
//! - `gateway`: the gateway in its URL, if any, is the default one or
//!   named in the entry's `gateways`;
//! - `headers`: no `cf-aig-*` but `cf-aig-cache-ttl` / `cf-aig-skip-cache`,
//!   no `openai-organization`, `openai-project`, `x-goog-user-project`,
//!   `chatgpt-account-id`;
//! - `pass-through`: `/{provider}/...` only with `{provider}/*` or `*`, and
//!   only to an inference endpoint or a model list unless the client's path
//!   is under a granted `pass_through` prefix;
//! - `compat/universal`: only with `*`;
//! - `model`: the `provider/model` sent is granted by a pattern or is a
//!   target of a granted route; OpenRouter's `models` entries too;
//! - `route`: a route is used only when named in the entry (or `*`).
//!
//! A world whose client keys reached nothing at all also fails (a proxy
//! that refuses everything is not what this checks). The failure lists
//! every broken rule with the case, the key's entry, the client request and
//! the upstream request.

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

const ACCOUNT: &str = "acc";
const CASES: usize = 300;

// ---------------------------------------------------------------- randomness

/// SplitMix64: small, seeded, the same on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// `n` distinct items of `xs`.
    fn some<T: Clone + PartialEq>(&mut self, xs: &[T], n: usize) -> Vec<T> {
        let mut out: Vec<T> = Vec::new();
        while out.len() < n.min(xs.len()) {
            let x = self.pick(xs).clone();
            if !out.contains(&x) {
                out.push(x);
            }
        }
        out
    }
}

// ---------------------------------------------------------------- vocabulary

const PROVIDERS: [&str; 4] = ["openai", "anthropic", "openrouter", "google-ai-studio"];

const MODELS: [&str; 7] = [
    "openai/gpt-4o-mini",
    "openai/gpt-4.1",
    "anthropic/claude-sonnet-4-5",
    "openrouter/anthropic/claude-sonnet-4.5",
    "openrouter/openai/gpt-4o",
    "openrouter/x-ai/grok-4",
    "google-ai-studio/gemini-2.5-flash",
];

/// Route name → targets. `openai/gpt-4o` is named like a provider's model.
const ROUTES: [(&str, &[&str]); 3] = [
    ("smart", &["openai/gpt-4.1", "anthropic/claude-sonnet-4-5"]),
    ("openai/gpt-4o", &["anthropic/claude-sonnet-4-5"]),
    (
        "cheap",
        &[
            "openrouter/x-ai/grok-4",
            "google-ai-studio/gemini-2.5-flash",
        ],
    ),
];

fn routes_json() -> String {
    let mut o = serde_json::Map::new();
    for (name, targets) in ROUTES {
        o.insert(name.into(), json!(targets));
    }
    Value::Object(o).to_string()
}

/// What a client names as its model: models, routes, a bare one.
fn client_models() -> Vec<&'static str> {
    let mut m: Vec<&str> = MODELS.to_vec();
    m.extend(ROUTES.iter().map(|(n, _)| *n));
    m.push("claude-sonnet-4-5");
    m
}

/// OpenRouter's own `models` entries a body may carry.
const OPENROUTER_ENTRIES: [&str; 4] = [
    "anthropic/claude-sonnet-4.5",
    "openai/gpt-4o",
    "x-ai/grok-4",
    "meta-llama/llama-4",
];

fn patterns() -> Vec<String> {
    let mut p: Vec<String> = MODELS.iter().map(|m| m.to_string()).collect();
    p.extend(PROVIDERS.iter().map(|p| format!("{p}/*")));
    p.push("*".into());
    p.extend(ROUTES.iter().map(|(n, _)| n.to_string()));
    p
}

const GATEWAYS: [&str; 2] = ["team-a", "team-b"];
const PASS_THROUGH: [&str; 5] = [
    "/openai/v1/files",
    "/openai/v1/batches",
    "/anthropic/v1/messages/batches",
    "/google-ai-studio/v1beta/files",
    "/openai",
];

/// The proxy's own routes (after the prefixes).
const OWN_PATHS: [&str; 12] = [
    "/v1/chat/completions",
    "/v1/chat/completions",
    "/v1/chat/completions",
    "/v1/messages",
    "/v1/messages/count_tokens",
    "/v1/responses",
    "/v1/embeddings",
    "/v1/models",
    "/v1beta/models/{model}:generateContent",
    "/usage",
    "/compat/chat/completions",
    "/",
];

/// Pass-through paths: inference, model lists, and the rest of the
/// providers' APIs.
const PASS_PATHS: [&str; 27] = [
    "/openai/v1/chat/completions",
    "/openai/v1/completions",
    "/openai/v1/embeddings",
    "/openai/v1/responses",
    "/openai/v1/models",
    "/openai/v1/models/gpt-4o-mini",
    "/openai/v1/files",
    "/openai/v1/files/file-xyz",
    "/openai/v1/files-archive",
    "/openai/v1/batches",
    "/openai/v1/chat/completions/chatcmpl-1",
    "/openai/v1/responses/resp_abc",
    "/openai/v1/fine_tuning/jobs",
    "/openai/v1/organization/costs",
    "/openai/v1/vector_stores",
    "/anthropic/v1/messages",
    "/anthropic/v1/messages/count_tokens",
    "/anthropic/v1/models",
    "/anthropic/v1/messages/batches",
    "/anthropic/v1/files",
    "/openrouter/v1/chat/completions",
    "/openrouter/v1/models",
    "/openrouter/v1/credits",
    "/google-ai-studio/v1beta/models/gemini-2.5-flash:generateContent",
    "/google-ai-studio/v1beta/models",
    "/google-ai-studio/v1beta/files",
    "/google-ai-studio/v1beta/cachedContents",
];

const PREFIXES: [&str; 9] = [
    "",
    "",
    "",
    "",
    "/g/main",
    "/g/team-a",
    "/g/team-b",
    "/g/evil",
    "/key/0",
];

const METHODS: [&str; 20] = [
    "POST", "POST", "POST", "POST", "POST", "POST", "POST", "POST", "GET", "GET", "GET", "GET",
    "GET", "DELETE", "PUT", "PATCH", "HEAD", "TRACE", "PROPFIND", "OPTIONS",
];

const SENT_HEADERS: [(&str, &str); 11] = [
    ("cf-aig-cache-ttl", "60"),
    ("cf-aig-skip-cache", "true"),
    ("cf-aig-metadata", r#"{"who":"someone-else"}"#),
    ("cf-aig-collect-log", "false"),
    ("cf-aig-custom-cost", r#"{"per_token_in":0}"#),
    ("cf-aig-cache-key", "shared"),
    ("cf-aig-max-attempts", "5"),
    ("openai-organization", "org-someone-else"),
    ("openai-project", "proj_someone_else"),
    ("x-goog-user-project", "someone-elses-project"),
    ("chatgpt-account-id", "acct-someone-else"),
];
const ACCOUNT_HEADERS: [&str; 4] = [
    "openai-organization",
    "openai-project",
    "x-goog-user-project",
    "chatgpt-account-id",
];

// ---------------------------------------------------------------- keys

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    secret: String,
    /// `None`: the field left out (every model and route).
    models: Option<Vec<String>>,
    gateways: Vec<String>,
    pass_through: Vec<String>,
}

impl Entry {
    fn json(&self) -> Value {
        let mut o = json!({"name": self.name, "sha256": sha256_hex(&self.secret)});
        if let Some(m) = &self.models {
            o["models"] = json!(m);
        }
        if !self.gateways.is_empty() {
            o["gateways"] = json!(self.gateways);
        }
        if !self.pass_through.is_empty() {
            o["pass_through"] = json!(self.pass_through);
        }
        o
    }

    fn has(&self, pattern: &str) -> bool {
        self.models
            .as_ref()
            .is_none_or(|m| m.iter().any(|p| p == pattern))
    }

    /// `{provider}/*` or `*` (or no list).
    fn wildcard(&self, provider: &str) -> bool {
        self.has("*") || self.has(&format!("{provider}/*"))
    }

    /// A route, by its name or `*`.
    fn route(&self, name: &str) -> bool {
        self.has("*") || self.has(name)
    }

    /// A `provider/model` by a pattern, or as a target of a granted route.
    fn model(&self, pm: &str) -> bool {
        let provider = pm.split('/').next().unwrap_or("");
        self.has("*")
            || self.has(pm)
            || self.wildcard(provider)
            || ROUTES
                .iter()
                .any(|(name, targets)| self.route(name) && targets.contains(&pm))
    }

    fn pass_through_granted(&self, client_path: &str) -> bool {
        self.pass_through.iter().any(|p| {
            client_path == p
                || client_path
                    .strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
    }
}

fn entries(rng: &mut Rng, with_grants: bool) -> Vec<Entry> {
    let patterns = patterns();
    (0..20)
        .map(|i| {
            // The first two are the issue's own shapes: one OpenRouter
            // model, and a provider's wildcard.
            let models = if i == 0 {
                Some(vec!["openrouter/anthropic/claude-sonnet-4.5".to_string()])
            } else if i == 1 {
                Some(vec!["openai/*".to_string()])
            } else if rng.chance(10) {
                None
            } else {
                let n = 1 + rng.below(3);
                Some(rng.some(&patterns, n))
            };
            let gateways = if with_grants && rng.chance(35) {
                let n = 1 + rng.below(2);
                rng.some(&GATEWAYS.map(String::from), n)
            } else {
                Vec::new()
            };
            let pass_through = if with_grants && rng.chance(35) {
                let n = 1 + rng.below(2);
                rng.some(&PASS_THROUGH.map(String::from), n)
            } else {
                Vec::new()
            };
            Entry {
                name: format!("k{i}"),
                secret: format!("sk-grant-{i:02}-{:016x}", rng.next()),
                models,
                gateways,
                pass_through,
            }
        })
        .collect()
}

// ---------------------------------------------------------------- mocks

fn answer(r: &Recorded) -> MockResponse {
    let path = r.path();
    let model = serde_json::from_slice::<Value>(&r.body)
        .ok()
        .map(|b| b["model"].clone())
        .unwrap_or(Value::Null);
    let body = if path.ends_with("/messages") {
        json!({"id": "msg_1", "type": "message", "role": "assistant", "model": model,
               "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
               "stop_sequence": null, "usage": {"input_tokens": 1, "output_tokens": 1}})
    } else if path.contains(":generateContent") {
        json!({"candidates": [{"content": {"parts": [{"text": "ok"}], "role": "model"},
                               "finishReason": "STOP"}],
               "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2}})
    } else if path.ends_with("/responses") {
        json!({"id": "resp_1", "object": "response", "status": "completed", "model": model,
               "output": [], "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2}})
    } else if path.ends_with("/embeddings") {
        json!({"object": "list", "model": model,
               "data": [{"object": "embedding", "index": 0, "embedding": [0.1]}],
               "usage": {"prompt_tokens": 1, "total_tokens": 1}})
    } else if path.ends_with("/models") {
        json!({"object": "list", "data": [], "models": []})
    } else {
        json!({"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
               "choices": [{"index": 0, "finish_reason": "stop",
                            "message": {"role": "assistant", "content": "ok"}}],
               "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})
    };
    MockResponse::json(200, &body.to_string())
}

struct World {
    name: &'static str,
    default_gateway: Option<&'static str>,
    entries: Vec<Entry>,
    proxy: Proxy,
    mocks: Vec<(&'static str, Mock)>,
}

impl World {
    fn start(
        name: &'static str,
        default_gateway: Option<&'static str>,
        entries: Vec<Entry>,
    ) -> World {
        let mocks: Vec<(&'static str, Mock)> = [
            "openai",
            "anthropic",
            "openrouter",
            "google-ai-studio",
            "gateway",
        ]
        .into_iter()
        .map(|n| (n, Mock::start(answer)))
        .collect();
        let url = |n: &str, p: &str| mocks.iter().find(|(m, _)| *m == n).unwrap().1.url(p);
        let keys = Value::Array(entries.iter().map(Entry::json).collect()).to_string();
        let mut e = env(&[
            ("PROXY_API_KEY", PROXY_KEY),
            ("PROXY_KEYS", &keys),
            ("MODEL_ROUTES", &routes_json()),
            ("OPENAI_API_KEY", "sk-openai-upstream"),
            ("OPENAI_BASE_URL", &url("openai", "/v1")),
            ("ANTHROPIC_API_KEY", "sk-ant-upstream"),
            ("ANTHROPIC_BASE_URL", &url("anthropic", "")),
            ("OPENROUTER_API_KEY", "sk-or-upstream"),
            ("OPENROUTER_BASE_URL", &url("openrouter", "")),
            ("GEMINI_API_KEY", "AIza-upstream"),
            ("GOOGLE_AI_STUDIO_BASE_URL", &url("google-ai-studio", "")),
            ("CLOUDFLARE_ACCOUNT_ID", ACCOUNT),
            ("AI_GATEWAY_BASE_URL", &url("gateway", "")),
        ]);
        if let Some(gw) = default_gateway {
            e.extend(env(&[("AI_GATEWAY_NAME", gw)]));
        }
        let proxy = Proxy::start(&e);
        World {
            name,
            default_gateway,
            entries,
            proxy,
            mocks,
        }
    }

    fn counts(&self) -> Vec<usize> {
        self.mocks.iter().map(|(_, m)| m.received().len()).collect()
    }

    fn since(&self, counts: &[usize]) -> Vec<(&'static str, Recorded)> {
        self.mocks
            .iter()
            .zip(counts)
            .flat_map(|((n, m), c)| {
                m.received()
                    .into_iter()
                    .skip(*c)
                    .map(|r| (*n, r))
                    .collect::<Vec<_>>()
            })
            .collect()
    }
}

// ---------------------------------------------------------------- cases

#[derive(Debug)]
struct Case {
    n: usize,
    /// Index into the world's entries; `None`: the all-access key.
    key: Option<usize>,
    method: String,
    /// As sent, prefixes included.
    path: String,
    /// Without the `/key/` and `/g/` prefixes.
    route_path: String,
    /// The model the client named, if any.
    model: Option<String>,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn chat_like(path: &str) -> bool {
    path.ends_with("/chat/completions") || path.ends_with("/completions")
}

/// A client model in the shape a path wants: a pass-through names the
/// provider's own model (no `provider/`).
fn own_name(model: &str, path: &str) -> String {
    let provider = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if PROVIDERS.contains(&provider) {
        model
            .strip_prefix(&format!("{provider}/"))
            .unwrap_or(model)
            .to_string()
    } else {
        model.to_string()
    }
}

/// A model the client names: half the time one the key's own patterns
/// suggest (a wildcard's provider, a route it lists), else any.
fn client_model(rng: &mut Rng, entry: Option<&Entry>) -> String {
    let all = client_models();
    let suggested: Vec<String> = entry
        .and_then(|e| e.models.clone())
        .unwrap_or_default()
        .iter()
        .flat_map(|p| match p.strip_suffix("/*") {
            Some(provider) => all
                .iter()
                .filter(|m| m.starts_with(&format!("{provider}/")))
                .map(|m| m.to_string())
                .collect(),
            None if p == "*" => Vec::new(),
            None => vec![p.clone()],
        })
        .collect();
    if !suggested.is_empty() && rng.chance(50) {
        rng.pick(&suggested).clone()
    } else {
        rng.pick(&all).to_string()
    }
}

fn case(rng: &mut Rng, n: usize, entries: &[Entry]) -> Case {
    let key = if rng.chance(10) {
        None
    } else {
        Some(rng.below(entries.len()))
    };
    let prefix = *rng.pick(&PREFIXES);
    let model = client_model(rng, key.map(|i| &entries[i]));
    let own = rng.chance(55);
    let route_path = if own {
        rng.pick(&OWN_PATHS)
    } else {
        rng.pick(&PASS_PATHS)
    }
    .replace("{model}", &model);
    // The own routes mostly with their own method; pass-through with any.
    let method = if own && rng.chance(85) {
        if route_path == "/v1/models" || route_path == "/usage" {
            "GET"
        } else {
            "POST"
        }
    } else {
        rng.pick(&METHODS)
    }
    .to_string();
    let path = format!("{prefix}{route_path}");
    let marker = format!("case-{n}");
    let wire_model = own_name(&model, &route_path);
    let body = if method != "POST" && method != "PUT" && method != "PATCH" {
        Vec::new()
    } else if route_path == "/" {
        let (provider, m) = model.split_once('/').unwrap_or(("openai", &model));
        json!([{"provider": provider, "endpoint": "chat/completions", "headers": {},
                "query": {"model": m, "messages": [{"role": "user", "content": marker}]}}])
        .to_string()
        .into_bytes()
    } else if route_path.contains("/messages") {
        json!({"model": wire_model, "max_tokens": 16,
               "messages": [{"role": "user", "content": marker}]})
        .to_string()
        .into_bytes()
    } else if route_path.ends_with("/responses") || route_path.ends_with("/embeddings") {
        json!({"model": wire_model, "input": marker})
            .to_string()
            .into_bytes()
    } else if route_path.contains(":generateContent") {
        json!({"contents": [{"role": "user", "parts": [{"text": marker}]}]})
            .to_string()
            .into_bytes()
    } else {
        let mut b = json!({"model": wire_model,
                           "messages": [{"role": "user", "content": marker}]});
        if chat_like(&route_path) && rng.chance(40) {
            let k = 1 + rng.below(2);
            b["models"] = json!(rng.some(&OPENROUTER_ENTRIES, k));
            b["route"] = json!("fallback");
        }
        b.to_string().into_bytes()
    };
    let mut headers = vec![("x-test-case".to_string(), n.to_string())];
    for (h, v) in SENT_HEADERS {
        if rng.chance(12) {
            headers.push((h.to_string(), v.to_string()));
        }
    }
    let named_model = (!body.is_empty() || route_path.contains(":generateContent"))
        .then_some(model)
        .filter(|_| {
            !PROVIDERS
                .iter()
                .any(|p| route_path.starts_with(&format!("/{p}/")))
        });
    Case {
        n,
        key,
        method,
        path,
        route_path,
        model: named_model,
        headers,
        body,
    }
}

fn send(world: &World, c: &Case) -> Response {
    let secret = match c.key {
        Some(i) => world.entries[i].secret.clone(),
        None => PROXY_KEY.to_string(),
    };
    let auth = format!("Bearer {secret}");
    let mut h: Vec<(&str, &str)> = vec![("authorization", &auth)];
    if !c.body.is_empty() {
        h.push(("content-type", "application/json"));
    }
    h.extend(c.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    try_request(world.proxy.port, &c.method, &c.path, &h, &c.body).unwrap_or_else(|e| Response {
        status: 0,
        headers: Vec::new(),
        body: format!("no answer: {e}").into_bytes(),
        arrivals: Vec::new(),
    })
}

// ---------------------------------------------------------------- the rules

/// The `provider/model` an upstream request carries, if any.
fn upstream_model(mock: &str, r: &Recorded) -> Option<String> {
    let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    let path = r.path();
    let (provider, gateway_compat) = if mock == "gateway" {
        // /{account}/{gateway}/{provider or compat}/...
        let seg = path.split('/').nth(3).unwrap_or("");
        (seg.to_string(), seg == "compat")
    } else {
        (mock.to_string(), false)
    };
    let model = body["model"]
        .as_str()
        .map(|m| m.trim_start_matches("models/").to_string())
        .or_else(|| {
            let after = path.split("/models/").nth(1)?;
            let (m, _) = after.split_once(':')?;
            Some(m.to_string())
        })?;
    Some(if gateway_compat {
        model
    } else {
        format!("{provider}/{model}")
    })
}

fn inference(method: &str, path: &str) -> bool {
    if method != "POST" {
        return false;
    }
    if let Some((_, action)) = path.rsplit_once(':') {
        return matches!(
            action,
            "generateContent"
                | "streamGenerateContent"
                | "countTokens"
                | "embedContent"
                | "batchEmbedContents"
        );
    }
    [
        "/chat/completions",
        "/completions",
        "/messages",
        "/messages/count_tokens",
        "/responses",
        "/embeddings",
    ]
    .iter()
    .any(|s| path.ends_with(s))
}

fn model_list(method: &str, path: &str) -> bool {
    (method == "GET" || method == "HEAD")
        && !path.contains(':')
        && (path.ends_with("/models") || path.contains("/models/"))
}

/// The rules `r` (recorded by `mock` for case `c`) breaks.
fn broken(world: &World, c: &Case, mock: &str, r: &Recorded) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if !["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].contains(&r.method.as_str()) {
        out.push(("method", format!("{} was forwarded", r.method)));
    }
    if let Some(tag) = r.header("x-test-case") {
        if tag != c.n.to_string() {
            out.push((
                "harness",
                format!("x-test-case {tag} arrived during case {}", c.n),
            ));
        }
    }
    let Some(e) = c.key.map(|i| &world.entries[i]) else {
        return out;
    };
    // gateway
    if mock == "gateway" {
        let gw = r.path().split('/').nth(2).unwrap_or("");
        if Some(gw) != world.default_gateway && !e.gateways.iter().any(|g| g == gw) {
            out.push((
                "gateway",
                format!(
                    "gateway '{gw}' is neither the default ({:?}) nor in the entry's gateways {:?}",
                    world.default_gateway, e.gateways
                ),
            ));
        }
    }
    // headers: the client's own (the proxy may add cf-aig-* of its own)
    for (name, value) in &r.headers {
        let n = name.to_ascii_lowercase();
        let from_client = c
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case(&n) && v == value);
        let kept = n == "cf-aig-cache-ttl" || n == "cf-aig-skip-cache";
        if from_client
            && ((n.starts_with("cf-aig-") && !kept) || ACCOUNT_HEADERS.contains(&n.as_str()))
        {
            out.push((
                "headers",
                format!("the client's {n}: {value} reached the upstream"),
            ));
        }
    }
    let first = c
        .route_path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    let client_path = c.route_path.split('?').next().unwrap_or("");
    if PROVIDERS.contains(&first) {
        // pass-through (a `pass_through` grant opens its paths even
        // without the provider's wildcard: either reading of the contract)
        if !e.wildcard(first) && !e.pass_through_granted(client_path) {
            out.push((
                "pass-through",
                format!(
                    "/{first}/... without {first}/* or * (models {:?})",
                    e.models
                ),
            ));
        }
        if !inference(&r.method, r.path())
            && !model_list(&r.method, r.path())
            && !e.pass_through_granted(client_path)
        {
            out.push((
                "pass-through",
                format!(
                    "{} {} is neither inference nor a model list, and {client_path} is under none of {:?}",
                    r.method,
                    r.path(),
                    e.pass_through
                ),
            ));
        }
    } else if client_path.starts_with("/compat") || client_path == "/" {
        if !e.has("*") {
            out.push((
                "compat/universal",
                format!("{client_path} without * (models {:?})", e.models),
            ));
        }
    } else {
        // own routes: the model, OpenRouter's list, the route
        if let Some(pm) = upstream_model(mock, r) {
            if !e.model(&pm) {
                out.push((
                    "model",
                    format!(
                        "{pm} is not granted by {:?} (nor a target of a granted route)",
                        e.models
                    ),
                ));
            }
            let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
            // A body's own model list (OpenRouter's `models`), entry by
            // entry as `{provider}/{entry}`.
            let provider = pm.split('/').next().unwrap_or("");
            for entry in body["models"].as_array().into_iter().flatten() {
                let m = format!("{provider}/{}", entry.as_str().unwrap_or("?"));
                if !e.model(&m) {
                    out.push((
                        "model",
                        format!(
                            "the body's models entry {m} is not granted by {:?}",
                            e.models
                        ),
                    ));
                }
            }
        }
        if let Some(m) = &c.model {
            if ROUTES.iter().any(|(n, _)| n == m) && !e.route(m) {
                out.push((
                    "route",
                    format!("the route {m} was used; the entry lists {:?}", e.models),
                ));
            }
        }
    }
    out
}

// ---------------------------------------------------------------- the run

struct Outcome {
    violations: Vec<(&'static str, String)>,
    client_cases: usize,
    client_forwarded: usize,
    statuses: BTreeMap<u16, usize>,
    /// The first client-key answer of each status (its body, cut short).
    samples: BTreeMap<u16, String>,
}

fn run(world: &World, rng: &mut Rng) -> Outcome {
    let mut out = Outcome {
        violations: Vec::new(),
        client_cases: 0,
        client_forwarded: 0,
        statuses: BTreeMap::new(),
        samples: BTreeMap::new(),
    };
    for n in 0..CASES {
        let c = case(rng, n, &world.entries);
        let before = world.counts();
        let resp = send(world, &c);
        *out.statuses.entry(resp.status).or_default() += 1;
        let reached = world.since(&before);
        if c.key.is_some() {
            out.samples.entry(resp.status).or_insert_with(|| {
                let t = resp.text();
                t.chars().take(160).collect()
            });
            out.client_cases += 1;
            out.client_forwarded += usize::from(!reached.is_empty());
        }
        for (mock, r) in &reached {
            for (rule, why) in broken(world, &c, mock, r) {
                let who = match c.key {
                    Some(i) => match &world.entries[i].models {
                        Some(m) => format!("key {} {m:?}", world.entries[i].name),
                        None => format!("key {} (no models field)", world.entries[i].name),
                    },
                    None => "the all-access key".into(),
                };
                let entry = c.key.map(|i| {
                    let mut j = world.entries[i].json();
                    j.as_object_mut().unwrap().remove("sha256");
                    j
                });
                let headers: Vec<&str> = c
                    .headers
                    .iter()
                    .filter(|(k, _)| k != "x-test-case")
                    .map(|(k, _)| k.as_str())
                    .collect();
                let mut line = format!(
                    "[{}] case {} ({who}): {} {} headers {headers:?} body {} → {} {} on the {mock} mock ({}): {why}",
                    world.name,
                    c.n,
                    c.method,
                    c.path,
                    String::from_utf8_lossy(&c.body),
                    r.method,
                    r.target,
                    resp.status,
                );
                if let Some(e) = entry {
                    let _ = write!(line, "\n      entry {e}");
                }
                out.violations.push((rule, line));
            }
        }
    }
    out
}

fn report(outcomes: &[(&str, Outcome)]) -> String {
    let mut by_rule: BTreeMap<&str, Vec<&String>> = BTreeMap::new();
    let mut s = String::new();
    for (world, o) in outcomes {
        let _ = writeln!(
            s,
            "world {world}: {} client-key cases, {} reached an upstream; statuses {:?}",
            o.client_cases, o.client_forwarded, o.statuses
        );
        for (status, body) in &o.samples {
            let _ = writeln!(s, "  a client key's {status}, e.g.: {body}");
        }
        for (rule, line) in &o.violations {
            by_rule.entry(rule).or_default().push(line);
        }
    }
    for (rule, lines) in &by_rule {
        let _ = writeln!(
            s,
            "\nrule `{rule}`: {} upstream request(s) broke it, e.g.",
            lines.len()
        );
        for l in lines.iter().take(6) {
            let _ = writeln!(s, "  - {l}");
        }
    }
    s
}

#[test]
fn no_upstream_request_falls_outside_the_grant_of_the_key_that_caused_it() {
    let seed = std::env::var("GRANT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(26u64);
    let mut rng = Rng(seed);
    // A: no default gateway; entries with `models` only (fields every
    // version parses). B: the default gateway `main`; entries with
    // `gateways` and `pass_through` grants too.
    let a = World::start("A", None, entries(&mut rng, false));
    let b = World::start("B", Some("main"), entries(&mut rng, true));
    let mut outcomes = Vec::new();
    for world in [&a, &b] {
        outcomes.push((world.name, run(world, &mut rng)));
    }
    let text = report(&outcomes);
    eprintln!("grant property (seed {seed}):\n{text}");
    let mut failures = Vec::new();
    for (world, o) in &outcomes {
        if !o.violations.is_empty() {
            failures.push(format!(
                "world {world}: {} upstream request(s) outside their key's grant",
                o.violations.len()
            ));
        }
        // Not vacuous: client keys did reach upstreams.
        if o.client_forwarded * 10 < o.client_cases {
            failures.push(format!(
                "world {world}: only {} of {} client-key cases reached an upstream (statuses {:?}) — a proxy that refuses everything proves nothing",
                o.client_forwarded, o.client_cases, o.statuses
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "seed {seed} (GRANT_SEED={seed} replays it):\n{}\n\n{text}",
        failures.join("\n")
    );
}
