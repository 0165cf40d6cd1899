//! What one request asks of its host, per route: settings read (each a Spin
//! variable lookup under Spin), key-value store calls, clock and random
//! reads. Native: the core with counting fakes of the edge's host traits
//! (`settings::Counting` behind the edge's `settings::Cached`, and
//! `host::fake::FakeHost`), driven exactly as the edge drives it.
//!
//! `cargo test --test host_calls -- --nocapture` prints the table the
//! docs/performance.md quotes.

use llm_proxy::host::fake::{Calls, FakeHost};
use llm_proxy::pipeline::{decide, plan_body, Decision, Planned};
use llm_proxy::request::RequestHead;
use llm_proxy::settings::{self, Cached, Counting};

/// Settings reads and host calls of one request.
#[derive(Debug, PartialEq, Eq)]
struct Asked {
    /// Distinct settings read from the host.
    settings: usize,
    calls: Calls,
}

/// Runs one request through the core as the edge does: decide, plan the
/// body where the route has one, read the upstream timeout for forwards.
fn ask(
    method: &str,
    path: &str,
    body: &[u8],
    config: &[(&str, &str)],
    host: &FakeHost,
) -> (Asked, Vec<String>) {
    let mut pairs = vec![("PROXY_API_KEY", "pk-0123456789")];
    pairs.extend_from_slice(config);
    let src = Cached::new(Counting::new(&pairs));
    host.reset_calls();
    let head = RequestHead::new(
        method,
        path,
        vec![
            ("authorization".into(), b"Bearer pk-0123456789".to_vec()),
            ("content-length".into(), body.len().to_string().into_bytes()),
        ],
    );
    let decided = decide(&head, &src, host);
    let forwards = match decided.decision {
        Decision::WithBody {
            route,
            selection,
            gateway,
            ..
        } => matches!(
            plan_body(
                route,
                &head,
                body,
                &src,
                host,
                selection,
                gateway.as_ref(),
                None
            ),
            Planned::Forward(_)
        ),
        Decision::PassThrough(_) => true,
        Decision::Error(e) => panic!("{path}: {}", e.message),
        _ => false,
    };
    if forwards {
        settings::upstream_timeout_secs(&src);
    }
    let raw = src.raw();
    assert!(
        raw.max_reads() <= 1,
        "{path}: a setting was asked of the host twice: {:?}",
        raw.reads.borrow()
    );
    (
        Asked {
            settings: raw.names().len(),
            calls: host.calls(),
        },
        raw.names(),
    )
}

const CHAT: &[u8] =
    br#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
const MESSAGES: &[u8] = br#"{"model":"openai/gpt-4o-mini","max_tokens":64,"messages":[{"role":"user","content":"hi"}]}"#;
const EMBEDDINGS: &[u8] = br#"{"model":"openai/text-embedding-3-small","input":["hi"]}"#;
const RESPONSES: &[u8] = br#"{"model":"openai/gpt-5","input":"hi","store":false}"#;
const RESPONSES_GROQ: &[u8] = br#"{"model":"groq/llama-3.3-70b","input":"hi","store":false}"#;
const GEMINI: &[u8] = br#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#;
const GROQ_KEY: &[(&str, &str)] = &[("GROQ_API_KEY", "gsk-one")];
const ONE_KEY: &[(&str, &str)] = &[("OPENAI_API_KEY", "sk-one")];
const THREE_KEYS: &[(&str, &str)] = &[("OPENAI_API_KEY", "sk-a,sk-b,sk-c")];
const THREE_KEYS_RR: &[(&str, &str)] = &[
    ("OPENAI_API_KEY", "sk-a,sk-b,sk-c"),
    ("ENABLE_GLOBAL_ROUND_ROBIN", "true"),
];

fn calls(random: u32, clock: u32, store_open: u32, store_get: u32, store_increment: u32) -> Calls {
    Calls {
        clock,
        random,
        store_open,
        store_get,
        store_set: 0,
        store_increment,
        store_delete: 0,
    }
}

#[test]
fn host_calls_per_route() {
    let host = FakeHost::new();
    type Row<'a> = (&'a str, (Asked, Vec<String>), Asked);
    let rows: Vec<Row> = vec![
        (
            "GET /ping",
            ask("GET", "/ping", b"", ONE_KEY, &host),
            Asked {
                settings: 0,
                calls: Calls::default(),
            },
        ),
        (
            "OPTIONS (preflight)",
            ask("OPTIONS", "/v1/chat/completions", b"", ONE_KEY, &host),
            Asked {
                settings: 0,
                calls: Calls::default(),
            },
        ),
        (
            "pass-through, one key",
            ask("GET", "/openai/v1/models", b"", ONE_KEY, &host),
            Asked {
                settings: 6,
                calls: Calls::default(),
            },
        ),
        (
            "chat completions, one key",
            ask("POST", "/v1/chat/completions", CHAT, ONE_KEY, &host),
            Asked {
                settings: 8,
                calls: Calls::default(),
            },
        ),
        (
            "messages (translated), one key",
            ask("POST", "/v1/messages", MESSAGES, ONE_KEY, &host),
            Asked {
                settings: 8,
                calls: Calls::default(),
            },
        ),
        (
            "responses (native), one key",
            ask("POST", "/v1/responses", RESPONSES, ONE_KEY, &host),
            Asked {
                settings: 8,
                calls: Calls::default(),
            },
        ),
        (
            "responses (translated), one key",
            ask("POST", "/v1/responses", RESPONSES_GROQ, GROQ_KEY, &host),
            Asked {
                settings: 8,
                calls: Calls::default(),
            },
        ),
        (
            "gemini generateContent (translated), one key",
            ask(
                "POST",
                "/v1beta/models/openai/gpt-4o-mini:generateContent",
                GEMINI,
                ONE_KEY,
                &host,
            ),
            Asked {
                settings: 8,
                calls: Calls::default(),
            },
        ),
        (
            "embeddings, one key",
            ask("POST", "/v1/embeddings", EMBEDDINGS, ONE_KEY, &host),
            Asked {
                settings: 8,
                calls: Calls::default(),
            },
        ),
        (
            "chat completions, three keys",
            ask("POST", "/v1/chat/completions", CHAT, THREE_KEYS, &host),
            Asked {
                settings: 9,
                calls: calls(1, 0, 1, 1, 0),
            },
        ),
        (
            "chat completions, three keys, round robin",
            ask("POST", "/v1/chat/completions", CHAT, THREE_KEYS_RR, &host),
            Asked {
                settings: 9,
                calls: calls(0, 0, 1, 1, 1),
            },
        ),
    ];
    println!("| request | settings read | store calls | clock | random |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (name, (got, names), want) in &rows {
        let c = got.calls;
        let store = c.store_open + c.store_get + c.store_set + c.store_increment;
        println!(
            "| {name} | {} | {store} | {} | {} |",
            got.settings, c.clock, c.random
        );
        assert_eq!(got, want, "{name}: read {names:?}");
    }
    // The one-key rows read exactly what routing them needs.
    assert_eq!(
        rows[2].1 .1,
        [
            "AI_GATEWAY_NAME",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "PROXY_API_KEY",
            "RETRY",
            "UPSTREAM_TIMEOUT_SECONDS"
        ]
    );
}

#[test]
fn a_wrong_key_reads_dev_and_stops() {
    let src = Cached::new(Counting::new(&[("PROXY_API_KEY", "pk")]));
    let host = FakeHost::new();
    let head = RequestHead::new(
        "GET",
        "/openai/v1/models",
        vec![("authorization".into(), b"Bearer wrong".to_vec())],
    );
    let d = decide(&head, &src, &host);
    assert!(matches!(d.decision, Decision::Error(ref e) if e.status == 401));
    assert_eq!(src.raw().names(), ["DEV", "PROXY_API_KEY", "PROXY_KEYS"]);
    assert_eq!(host.calls(), Calls::default());
}
