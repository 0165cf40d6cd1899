//! What planning a large body costs in memory: every body route, through
//! the core (`decide` + `plan_body`, natively, with fixed host values), with
//! a body of ~4 MiB of small JSON objects where the route reads them — a
//! content array of tiny text blocks, thousands of tiny messages, inputs,
//! parts, steps. A counting global allocator records the peak of live heap
//! bytes while the body is planned; it must stay within a small multiple of
//! the body's size (the body itself not counted: it was read before).
//!
//! A `serde_json::Value` of such a body costs tens of times its size (a
//! map node per tiny object), which is what one request could do to a whole
//! instance (issue 26, point 5).

use llm_proxy::host::Fixed;
use llm_proxy::pipeline::{decide, plan_body, Decision, Planned};
use llm_proxy::request::RequestHead;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

/// Live heap bytes, and the most there were since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size(), Relaxed);
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = System.alloc_zeroed(layout);
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as what it may be: a new block while the old one lives.
        let p = System.realloc(ptr, layout, new_size);
        if !p.is_null() {
            grew(new_size);
            LIVE.fetch_sub(layout.size(), Relaxed);
        }
        p
    }
}

fn grew(n: usize) {
    let live = LIVE.fetch_add(n, Relaxed) + n;
    PEAK.fetch_max(live, Relaxed);
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// One measurement at a time (the counters are global).
static ONE: Mutex<()> = Mutex::new(());

/// About how large each body is.
const SIZE: usize = 4 << 20;
/// The most planning may allocate, as a multiple of the body's size.
const FACTOR: usize = 4;
/// The same for a body whose bulk is one object of tiny fields: the object
/// being read holds a row (a name and a raw value, 40 bytes) per field, so
/// an object of 400,000 fields of ten bytes costs several times its size
/// (a `serde_json::Map` of it cost more still).
const WIDE_FACTOR: usize = 10;

fn settings() -> HashMap<String, String> {
    [
        ("PROXY_API_KEY", "pk"),
        ("OPENAI_API_KEY", "sk-openai"),
        ("ANTHROPIC_API_KEY", "sk-ant"),
        ("GROQ_API_KEY", "gq"),
        ("GEMINI_API_KEY", "gem"),
        ("VERTEX_ACCESS_TOKEN", "ya29.token"),
        ("VERTEX_PROJECT", "proj"),
        ("VERTEX_REGION", "us-east5"),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        ),
        ("AWS_REGION", "us-east-1"),
        ("CLOUDFLARE_ACCOUNT_ID", "acc"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `item` repeated, comma-separated, to about `SIZE` bytes (`{i}` in it
/// numbered, for names that must differ).
fn many(item: &str) -> String {
    let mut s = String::with_capacity(SIZE + item.len() + 8);
    let mut i = 0;
    while s.len() < SIZE {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&item.replace("{i}", &i.to_string()));
        i += 1;
    }
    s
}

const BLOCK: &str = r#"{"type":"text","text":"a"}"#;

/// A chat-like request whose one user turn is `SIZE` of tiny text blocks.
fn blocks(model: &str, field: &str, block: &str) -> String {
    format!(
        r#"{{"model":"{model}","max_tokens":10,"{field}":[{{"role":"user","content":[{}]}}]}}"#,
        many(block)
    )
}

/// A chat-like request of `SIZE` of tiny messages.
fn turns(model: &str, field: &str, turn: &str) -> String {
    format!(
        r#"{{"model":"{model}","max_tokens":10,"{field}":[{}]}}"#,
        many(turn)
    )
}

struct Case {
    name: &'static str,
    path: String,
    body: String,
    factor: usize,
}

fn case(name: &'static str, path: &str, body: String) -> Case {
    Case {
        name,
        path: path.to_string(),
        body,
        factor: FACTOR,
    }
}

/// A case whose body is one wide object.
fn wide(name: &'static str, path: &str, body: String) -> Case {
    Case {
        factor: WIDE_FACTOR,
        ..case(name, path, body)
    }
}

fn cases() -> Vec<Case> {
    const CHAT: &str = "/v1/chat/completions";
    const MESSAGES: &str = "/v1/messages";
    const BEDROCK: &str = "aws-bedrock/anthropic.claude-3-haiku-20240307-v1:0";
    let user = r#"{"role":"user","content":"a"}"#;
    let gemini = |model: &str, method: &str| format!("/v1beta/models/{model}:{method}");
    let parts = format!(
        r#"{{"contents":[{{"role":"user","parts":[{}]}}]}}"#,
        many(r#"{"text":"a"}"#)
    );
    vec![
        case(
            "chat → openai, blocks",
            CHAT,
            blocks("openai/gpt-4o", "messages", BLOCK),
        ),
        case(
            "chat → openai, turns",
            CHAT,
            turns("openai/gpt-4o", "messages", user),
        ),
        case(
            "chat → anthropic, blocks",
            CHAT,
            blocks("anthropic/claude-3-5-haiku", "messages", BLOCK),
        ),
        case(
            "chat → anthropic, turns",
            CHAT,
            turns("anthropic/claude-3-5-haiku", "messages", user),
        ),
        case(
            "chat → bedrock, blocks",
            CHAT,
            blocks(BEDROCK, "messages", BLOCK),
        ),
        case(
            "chat → bedrock, turns",
            CHAT,
            turns(BEDROCK, "messages", user),
        ),
        case(
            "messages → anthropic, blocks",
            MESSAGES,
            blocks("claude-3-5-haiku", "messages", BLOCK),
        ),
        case(
            "messages → vertex, blocks",
            MESSAGES,
            blocks("google-vertex-ai/claude-sonnet-4", "messages", BLOCK),
        ),
        case(
            "messages → openai, blocks",
            MESSAGES,
            blocks("openai/gpt-4o", "messages", BLOCK),
        ),
        case(
            "messages → openai, turns",
            MESSAGES,
            turns("openai/gpt-4o", "messages", user),
        ),
        case(
            "messages → bedrock, blocks",
            MESSAGES,
            blocks(BEDROCK, "messages", BLOCK),
        ),
        case(
            "messages → bedrock, turns",
            MESSAGES,
            turns(BEDROCK, "messages", user),
        ),
        case(
            "count_tokens estimate, blocks",
            "/v1/messages/count_tokens",
            blocks("openai/gpt-4o", "messages", BLOCK),
        ),
        case(
            "count_tokens estimate, turns",
            "/v1/messages/count_tokens",
            turns("openai/gpt-4o", "messages", user),
        ),
        case(
            "responses → groq, blocks",
            "/v1/responses",
            blocks(
                "groq/llama-3.3-70b",
                "input",
                r#"{"type":"input_text","text":"a"}"#,
            ),
        ),
        case(
            "responses → groq, items",
            "/v1/responses",
            turns("groq/llama-3.3-70b", "input", user),
        ),
        case(
            "responses → bedrock, items",
            "/v1/responses",
            turns(BEDROCK, "input", user),
        ),
        case(
            "embeddings → openai",
            "/v1/embeddings",
            format!(
                r#"{{"model":"openai/text-embedding-3-small","input":[{}]}}"#,
                many(r#""a""#)
            ),
        ),
        case(
            "embeddings → bedrock",
            "/v1/embeddings",
            format!(
                r#"{{"model":"aws-bedrock/cohere.embed-english-v3","input":[{}]}}"#,
                many(r#""a""#)
            ),
        ),
        case(
            "gemini generateContent → openai, parts",
            &gemini("openai/gpt-4o", "generateContent"),
            parts.clone(),
        ),
        case(
            "gemini generateContent → openai, contents",
            &gemini("openai/gpt-4o", "generateContent"),
            format!(
                r#"{{"contents":[{}]}}"#,
                many(r#"{"role":"user","parts":[{"text":"a"}]}"#)
            ),
        ),
        case(
            "gemini generateContent → bedrock, parts",
            &gemini(BEDROCK, "generateContent"),
            parts.clone(),
        ),
        case(
            "gemini generateContent → native",
            &gemini("gemini-2.5-flash", "generateContent"),
            parts.clone(),
        ),
        case(
            "gemini countTokens estimate",
            &gemini("openai/gpt-4o", "countTokens"),
            parts,
        ),
        case(
            "gemini embedContent → openai",
            &gemini("openai/text-embedding-3-small", "embedContent"),
            format!(r#"{{"content":{{"parts":[{}]}}}}"#, many(r#"{"text":"a"}"#)),
        ),
        case(
            "gemini batchEmbedContents → openai",
            &gemini("openai/text-embedding-3-small", "batchEmbedContents"),
            format!(
                r#"{{"requests":[{}]}}"#,
                many(r#"{"content":{"parts":[{"text":"a"}]}}"#)
            ),
        ),
        case(
            "universal, one step",
            "/g/gw/",
            format!(
                r#"[{{"provider":"openai","endpoint":"chat/completions","headers":{{}},"query":{}}}]"#,
                blocks("gpt-4o", "messages", BLOCK)
            ),
        ),
        wide(
            "chat → openai, wide top level",
            CHAT,
            format!(
                r#"{{"model":"openai/gpt-4o","messages":[],{}}}"#,
                many(r#""k{i}":0"#)
            ),
        ),
        wide(
            "messages → openai, wide top level",
            MESSAGES,
            format!(
                r#"{{"model":"openai/gpt-4o","messages":[],{}}}"#,
                many(r#""k{i}":0"#)
            ),
        ),
        wide(
            "universal, step headers",
            "/g/gw/",
            format!(
                r#"[{{"provider":"openai","endpoint":"chat/completions","headers":{{{}}},"query":{{}}}}]"#,
                many(r#""x-{i}":"b""#)
            ),
        ),
    ]
}

/// Plans `c` and returns the peak of live heap bytes it added, and what
/// the plan came to (a status and a body size).
fn measure(c: &Case, src: &HashMap<String, String>) -> (usize, String) {
    let head = RequestHead::new(
        "POST",
        &c.path,
        vec![
            ("authorization".into(), b"Bearer pk".to_vec()),
            ("content-type".into(), b"application/json".to_vec()),
        ],
    );
    let host = Fixed {
        random: 0,
        now_ms: 0,
    };
    let decided = decide(&head, src, &host);
    let Decision::WithBody {
        route,
        selection,
        gateway,
        ..
    } = decided.decision
    else {
        panic!("{}: not a body route: {:?}", c.name, decided.decision);
    };
    let body = c.body.as_bytes();
    let _one = ONE.lock().unwrap_or_else(|e| e.into_inner());
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let planned = plan_body(
        route,
        &head,
        body,
        src,
        &host,
        selection,
        gateway.as_ref(),
        decided.caller.as_ref(),
    );
    let peak = PEAK.load(Relaxed).saturating_sub(before);
    let outcome = match &planned {
        Planned::Forward(f) => format!(
            "forward, {} bytes",
            f.first().body.as_ref().map_or(0, |b| b.len())
        ),
        Planned::Reply(r) => format!(
            "reply {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body[..r.body.len().min(120)])
        ),
    };
    drop(planned);
    (peak, outcome)
}

#[test]
fn planning_a_large_body_costs_a_small_multiple_of_its_size() {
    let src = settings();
    let mut over = Vec::new();
    for c in cases() {
        let (peak, outcome) = measure(&c, &src);
        let ratio = peak as f64 / c.body.len() as f64;
        println!(
            "{:<44} body {:>8} peak {:>10} ({ratio:>5.1}×)  {outcome}",
            c.name,
            c.body.len(),
            peak
        );
        let ok = outcome.starts_with("forward") || outcome.starts_with("reply 200");
        if !ok {
            over.push(format!("{}: {outcome}", c.name));
        } else if peak > c.factor * c.body.len() {
            over.push(format!("{}: {ratio:.1}× its body", c.name));
        }
    }
    assert!(
        over.is_empty(),
        "planning cost more than {FACTOR}× the body ({WIDE_FACTOR}× for one wide object), or failed:\n{}",
        over.join("\n")
    );
}
