//! Replays what the real coding agents sent (tests/fixtures/clients/,
//! recorded by `scripts/clients.sh --record`) through the proxy's core —
//! route, auth, plan — against every kind of provider: each translated pair
//! and chain, the native routes, and the providers that take system text
//! only first. A regression in what an agent needs shows here even where
//! the agent itself is not installed.
//!
//! For each replay the test checks what would reach the provider: the URL,
//! a body in the provider's dialect (roles, block types, tool list), the
//! tool result (the recorded secret) at its place, and the system prompt.

use llm_proxy::host::Fixed;
use llm_proxy::pipeline::{decide, plan_body, Decision, Planned};
use llm_proxy::request::RequestHead;
use llm_proxy::upstream::Forward;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

const PROXY_KEY: &str = "proxy-key-fixtures";
/// The recorded run's secret: only the tool result carries it.
const MAGIC: &str = "MAGIC-0123456789abcdef";

fn settings() -> HashMap<String, String> {
    [
        ("PROXY_API_KEY", PROXY_KEY),
        ("OPENAI_API_KEY", "sk-openai"),
        ("ANTHROPIC_API_KEY", "sk-ant"),
        ("GEMINI_API_KEY", "gem"),
        ("GROQ_API_KEY", "groq"),
        ("MISTRAL_API_KEY", "mis"),
        ("PERPLEXITY_API_KEY", "pplx"),
        ("OPENROUTER_API_KEY", "or"),
        ("DEEPSEEK_API_KEY", "ds"),
        ("COHERE_API_KEY", "co"),
        ("CEREBRAS_API_KEY", "cb"),
        ("AZURE_OPENAI_API_KEY", "az"),
        ("AZURE_OPENAI_RESOURCE", "res"),
        ("VERTEX_ACCESS_TOKEN", "ya29.token"),
        ("VERTEX_PROJECT", "proj"),
        ("VERTEX_REGION", "us-east5"),
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        (
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        ),
        ("AWS_REGION", "us-east-1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

struct Fixture {
    name: String,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Value,
}

fn load(case: &str, which: &str) -> Fixture {
    let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/clients")
        .join(case)
        .join(format!("{which}.json"));
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file:?}: {e}"));
    let v: Value = serde_json::from_str(&text).unwrap();
    let headers = v["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            let v = v.as_str().unwrap().replace("<PROXY_KEY>", PROXY_KEY);
            (k.to_ascii_lowercase(), v.into_bytes())
        })
        .collect();
    Fixture {
        name: format!("{case}/{which}"),
        path: v["path"].as_str().unwrap().to_string(),
        headers,
        body: v["body"].clone(),
    }
}

/// The fixture with its model replaced, through the whole core.
fn replay(f: &Fixture, model: &str) -> Forward {
    let mut body = f.body.clone();
    body["model"] = Value::String(model.into());
    replay_at(f, &f.path, &body, model)
}

/// A Gemini API fixture with another model in its path (the Gemini API
/// names the model there, not in the body), through the whole core.
fn replay_gemini(f: &Fixture, model: &str) -> Forward {
    let (_, method) = f.path.rsplit_once(':').unwrap();
    replay_at(
        f,
        &format!("/v1beta/models/{model}:{method}"),
        &f.body,
        model,
    )
}

fn replay_at(f: &Fixture, path: &str, body: &Value, model: &str) -> Forward {
    let bytes = serde_json::to_vec(body).unwrap();
    let what = format!("{} ({model})", f.name);
    plan(&what, path, f.headers.clone(), &bytes, &settings())
}

/// `bytes` posted to `path` with `headers`, through the whole core (decided
/// and planned for the caller the headers name); the plan, or a panic
/// naming `what` and the refusal.
fn plan(
    what: &str,
    path: &str,
    mut headers: Vec<(String, Vec<u8>)>,
    bytes: &[u8],
    src: &HashMap<String, String>,
) -> Forward {
    headers.push((
        "content-length".into(),
        bytes.len().to_string().into_bytes(),
    ));
    let head = RequestHead::new("POST", path, headers);
    let host = Fixed {
        random: 0,
        now_ms: 0,
    };
    let decided = decide(&head, src, &host);
    let caller = decided.caller.clone();
    let Decision::WithBody {
        route,
        selection,
        gateway,
        ..
    } = decided.decision
    else {
        panic!("{what}: not a body route: {:?}", decided.decision)
    };
    match plan_body(
        route,
        &head,
        bytes,
        src,
        &host,
        selection,
        gateway.as_ref(),
        caller.as_ref(),
    ) {
        Planned::Forward(fwd) => fwd,
        Planned::Reply(r) => panic!(
            "{what}: refused {}: {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ),
    }
}

fn sent(fwd: &Forward) -> Value {
    serde_json::from_slice(fwd.first().body.as_deref().unwrap()).unwrap()
}

fn dropped(fwd: &Forward) -> String {
    fwd.response_headers
        .iter()
        .find(|(n, _)| n == "x-llm-proxy-dropped")
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// The text of the first system prompt a fixture carries (a prefix of it
/// is enough to find it again after translation).
fn system_marker(body: &Value) -> String {
    let text = match &body["system"] {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b["text"].as_str())
            .find(|t| t.len() > 40)
            .unwrap_or_default()
            .to_string(),
        _ => body["messages"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["role"] == "system"))
            .and_then(|m| m["content"].as_str().map(str::to_string))
            .unwrap_or_default(),
    };
    text.chars().take(40).collect()
}

/// The roles of a body's messages, in order.
fn roles(body: &Value) -> Vec<&str> {
    body["messages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|m| m["role"].as_str().unwrap_or("?"))
        .collect()
}

/// The client's function tools, by name.
fn tool_names(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|t| {
            t["name"]
                .as_str()
                .or_else(|| t["function"]["name"].as_str())
                .map(str::to_string)
        })
        .collect()
}

const MESSAGES_CASES: &[&str] = &[
    "claude-code-translated",
    "claude-code-native",
    "opencode-messages",
    "opencode-messages-native",
];
const CHAT_CASES: &[&str] = &["opencode-chat", "aider-chat"];

/// OpenAI-compatible targets of a Messages client: model, URL, and whether
/// system text must come first there.
const CHAT_TARGETS: &[(&str, &str, bool)] = &[
    (
        "openai/gpt-4o-mini",
        "https://api.openai.com/v1/chat/completions",
        false,
    ),
    ("openai/o3", "https://api.openai.com/v1/chat/completions", false),
    (
        "google-ai-studio/gemini-2.5-flash",
        "https://generativelanguage.googleapis.com/v1beta/openai/chat/completions",
        false,
    ),
    (
        "groq/llama-3.3-70b-versatile",
        "https://api.groq.com/openai/v1/chat/completions",
        false,
    ),
    (
        "mistral/mistral-large-latest",
        "https://api.mistral.ai/v1/chat/completions",
        true,
    ),
    ("perplexity/sonar", "https://api.perplexity.ai/chat/completions", true),
    (
        "openrouter/qwen/qwen3-coder",
        "https://openrouter.ai/api/v1/chat/completions",
        false,
    ),
    ("deepseek/deepseek-chat", "https://api.deepseek.com/chat/completions", false),
    (
        "cohere/command-a-03-2025",
        "https://api.cohere.com/compatibility/v1/chat/completions",
        false,
    ),
    (
        "azure-openai/gpt-4.1",
        "https://res.openai.azure.com/openai/v1/chat/completions",
        false,
    ),
    (
        "google-vertex-ai/google/gemini-2.5-pro",
        "https://us-east5-aiplatform.googleapis.com/v1/projects/proj/locations/us-east5/endpoints/openapi/chat/completions",
        false,
    ),
];

#[test]
fn messages_clients_reach_every_openai_compatible_provider() {
    for case in MESSAGES_CASES {
        for which in ["first", "tool_result"] {
            let f = load(case, which);
            let marker = system_marker(&f.body);
            assert!(!marker.is_empty(), "{}: no system prompt", f.name);
            let tools = tool_names(&f.body);
            for (model, url, system_first) in CHAT_TARGETS {
                let fwd = replay(&f, model);
                let up = fwd.first();
                assert_eq!(up.url(), *url, "{} → {model}", f.name);
                // Nothing of the client's dialect, SDK or agent travels on,
                // and never the proxy key.
                for (name, value) in &up.headers {
                    assert!(
                        !name.starts_with("anthropic-")
                            && !name.starts_with("x-stainless-")
                            && !name.starts_with("x-claude-code-")
                            && name != "x-app",
                        "{} → {model}: {name}",
                        f.name
                    );
                    assert!(!String::from_utf8_lossy(value).contains(PROXY_KEY));
                }
                let body = sent(&fwd);
                let messages = body["messages"].as_array().unwrap();
                let roles = roles(&body);
                for (i, role) in roles.iter().enumerate() {
                    assert!(
                        matches!(*role, "system" | "user" | "assistant" | "tool"),
                        "{} → {model}: messages[{i}].role {role}",
                        f.name
                    );
                    if *system_first {
                        assert!(
                            *role != "system" || i == 0,
                            "{} → {model}: a system message at {i}: {roles:?}",
                            f.name
                        );
                    }
                }
                let text = serde_json::to_string(&body).unwrap();
                assert!(
                    text.contains(&marker),
                    "{} → {model}: the system prompt is gone",
                    f.name
                );
                // Every function tool the client offered is offered on.
                let sent_tools = tool_names(&body);
                assert_eq!(sent_tools, tools, "{} → {model}", f.name);
                if which == "tool_result" {
                    let tool_msg = messages
                        .iter()
                        .find(|m| m["role"] == "tool")
                        .unwrap_or_else(|| panic!("{} → {model}: no tool message", f.name));
                    assert!(
                        tool_msg["content"].as_str().unwrap().contains(MAGIC),
                        "{} → {model}: the tool result is not in the tool message",
                        f.name
                    );
                    let id = tool_msg["tool_call_id"].as_str().unwrap();
                    let calls = messages
                        .iter()
                        .filter_map(|m| m["tool_calls"].as_array())
                        .flatten()
                        .filter(|c| c["id"] == id)
                        .count();
                    assert_eq!(calls, 1, "{} → {model}: the tool call {id}", f.name);
                } else {
                    assert!(
                        !text.contains(MAGIC),
                        "{}: a secret before the tool ran",
                        f.name
                    );
                }
                // What the agent sends that has no equivalent is named.
                if f.body.get("context_management").is_some() {
                    assert!(
                        dropped(&fwd).contains("context_management"),
                        "{} → {model}: {}",
                        f.name,
                        dropped(&fwd)
                    );
                }
            }
        }
    }
}

#[test]
fn claude_code_effort_reaches_reasoning_models_only() {
    let f = load("claude-code-translated", "first");
    assert_eq!(f.body["output_config"]["effort"], "high");
    let body = sent(&replay(&f, "openai/o3"));
    assert_eq!(body["reasoning_effort"], "high");
    let fwd = replay(&f, "openai/gpt-4o-mini");
    assert!(sent(&fwd).get("reasoning_effort").is_none());
    let named = dropped(&fwd);
    assert!(
        named.contains("thinking") && named.contains("output_config.effort"),
        "{named}"
    );
    // Claude Code's environment turn sits inside `messages`: kept in place
    // where the provider allows it, merged into the first message elsewhere.
    let in_messages = f.body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .position(|m| m["role"] == "system")
        .expect("Claude Code sends a system turn inside messages");
    let body = sent(&replay(&f, "openai/gpt-4o-mini"));
    // +1: the `system` field became the first message.
    assert_eq!(body["messages"][in_messages + 1]["role"], "system");
    let body = sent(&replay(&f, "mistral/mistral-large-latest"));
    let first = body["messages"][0]["content"].as_str().unwrap();
    assert!(first.contains("# Environment"), "{first}");
}

#[test]
fn messages_clients_reach_converse_and_native_anthropic() {
    for case in MESSAGES_CASES {
        for which in ["first", "tool_result"] {
            let f = load(case, which);
            // Bedrock: Messages → chat → Converse.
            let fwd = replay(&f, "aws-bedrock/anthropic.claude-sonnet-4-5-v1:0");
            let up = fwd.first();
            assert!(up.url().contains("/converse"), "{}: {}", f.name, up.url());
            let body = sent(&fwd);
            let text = serde_json::to_string(&body).unwrap();
            assert!(body["system"].is_array(), "{}", f.name);
            for m in body["messages"].as_array().unwrap() {
                assert!(
                    m["role"] == "user" || m["role"] == "assistant",
                    "{}",
                    f.name
                );
            }
            assert_eq!(
                text.contains(MAGIC),
                which == "tool_result",
                "{}: the tool result on Converse",
                f.name
            );
            if which == "tool_result" {
                assert!(text.contains("toolResult"), "{}", f.name);
            }
            // Anthropic itself (a bare name), and Claude on Vertex: the body
            // as the client sent it (Vertex: model out, version in).
            let fwd = replay(&f, "claude-sonnet-4-5");
            // (`?beta=true` is the SDK's marker for its beta client; the
            // `anthropic-beta` header is what turns features on.)
            assert_eq!(fwd.first().url(), "https://api.anthropic.com/v1/messages");
            let beta = f.headers.iter().find(|(n, _)| n == "anthropic-beta");
            let beta = beta.map(|(_, v)| String::from_utf8_lossy(v).to_string());
            assert_eq!(
                fwd.first().header("anthropic-beta"),
                beta.as_deref(),
                "{}",
                f.name
            );
            let body = sent(&fwd);
            assert_eq!(body["messages"], f.body["messages"], "{}", f.name);
            assert_eq!(body["model"], "claude-sonnet-4-5");
            let fwd = replay(&f, "google-vertex-ai/claude-sonnet-4-5@20250929");
            assert!(fwd
                .first()
                .url()
                .contains("publishers/anthropic/models/claude-sonnet-4-5@20250929"));
            let body = sent(&fwd);
            assert_eq!(body["messages"], f.body["messages"], "{}", f.name);
            assert!(body.get("model").is_none());
            assert_eq!(body["anthropic_version"], "vertex-2023-10-16");
        }
    }
}

#[test]
fn chat_clients_reach_anthropic_converse_and_openai() {
    for case in CHAT_CASES {
        for which in ["first", "tool_result"] {
            let f = load(case, which);
            let marker = system_marker(&f.body);
            let tools = tool_names(&f.body);
            // Anthropic natively: chat → Messages.
            let fwd = replay(&f, "anthropic/claude-sonnet-4-5");
            assert_eq!(fwd.first().url(), "https://api.anthropic.com/v1/messages");
            let body = sent(&fwd);
            let text = serde_json::to_string(&body).unwrap();
            assert!(
                body["system"].as_str().unwrap().contains(&marker),
                "{}",
                f.name
            );
            assert_eq!(tool_names(&body), tools, "{}", f.name);
            let roles = roles(&body);
            assert!(
                roles.windows(2).all(|w| w[0] != w[1]),
                "{}: {roles:?}",
                f.name
            );
            assert_eq!(roles.first(), Some(&"user"), "{}", f.name);
            assert_eq!(text.contains(MAGIC), which == "tool_result", "{}", f.name);
            if which == "tool_result" && !tools.is_empty() {
                assert!(text.contains("\"tool_result\""), "{}", f.name);
            }
            // Bedrock: chat → Converse.
            let fwd = replay(&f, "aws-bedrock/anthropic.claude-sonnet-4-5-v1:0");
            let text = String::from_utf8_lossy(fwd.first().body.as_deref().unwrap()).to_string();
            assert_eq!(text.contains(MAGIC), which == "tool_result", "{}", f.name);
            // OpenAI: as the client sent it, but the model.
            let fwd = replay(&f, "openai/gpt-4o-mini");
            let body = sent(&fwd);
            assert_eq!(body["messages"], f.body["messages"], "{}", f.name);
            assert_eq!(body["model"], "gpt-4o-mini");
        }
    }
}

const RESPONSES_CASES: &[&str] = &["codex-translated", "codex-native", "codex-catalog"];

/// Codex's turns through every kind of provider: natively to OpenAI and
/// Azure, translated to OpenAI-compatible ones (system-first included), and
/// chained to Anthropic and Bedrock.
#[test]
fn codex_reaches_every_provider() {
    for case in RESPONSES_CASES {
        for which in ["first", "tool_result"] {
            let f = load(case, which);
            let input = f.body["input"].as_array().unwrap();
            let developer = input[0]["content"][0]["text"].as_str().unwrap();
            let marker: String = developer.chars().take(40).collect();
            // Native: the body as Codex sent it but the model.
            for (model, url) in [
                ("openai/gpt-5-codex", "https://api.openai.com/v1/responses"),
                (
                    "azure-openai/codex",
                    "https://res.openai.azure.com/openai/v1/responses",
                ),
            ] {
                let fwd = replay(&f, model);
                assert_eq!(fwd.first().url(), url, "{}", f.name);
                let body = sent(&fwd);
                assert_eq!(body["input"], f.body["input"], "{}", f.name);
                assert_eq!(body["tools"], f.body["tools"], "{}", f.name);
            }
            // Translated: chat completions.
            for (model, url, system_first) in CHAT_TARGETS {
                if model.starts_with("openai/") || model.starts_with("azure-openai/") {
                    continue;
                }
                let fwd = replay(&f, model);
                let up = fwd.first();
                assert_eq!(up.url(), *url, "{} → {model}", f.name);
                for (name, _) in &up.headers {
                    assert!(
                        !name.starts_with("x-codex-")
                            && name != "originator"
                            && name != "session-id",
                        "{} → {model}: {name}",
                        f.name
                    );
                }
                let body = sent(&fwd);
                let roles = roles(&body);
                assert_eq!(roles[0], "system", "{} → {model}", f.name);
                if *system_first {
                    assert_eq!(
                        roles.iter().filter(|r| **r == "system").count(),
                        1,
                        "{} → {model}: {roles:?}",
                        f.name
                    );
                }
                let text = serde_json::to_string(&body).unwrap();
                assert!(text.contains(&marker), "{} → {model}", f.name);
                let names = tool_names(&body);
                assert!(names.contains(&"exec_command".to_string()), "{names:?}");
                assert!(!names.iter().any(|n| n.is_empty()), "{names:?}");
                assert!(
                    dropped(&fwd).contains("tools.web_search"),
                    "{}",
                    dropped(&fwd)
                );
                if which == "tool_result" {
                    let messages = body["messages"].as_array().unwrap();
                    let tool = messages.iter().find(|m| m["role"] == "tool").unwrap();
                    assert!(
                        tool["content"].as_str().unwrap().contains(MAGIC),
                        "{}",
                        f.name
                    );
                    let id = tool["tool_call_id"].as_str().unwrap();
                    assert!(
                        messages.iter().any(|m| m["tool_calls"]
                            .as_array()
                            .is_some_and(|c| c.iter().any(|c| c["id"] == id))),
                        "{} → {model}: the call {id}",
                        f.name
                    );
                } else {
                    assert!(!text.contains(MAGIC));
                }
            }
            // Chained: Anthropic (Messages) and Bedrock (Converse).
            let fwd = replay(&f, "anthropic/claude-sonnet-4-5");
            assert_eq!(fwd.first().url(), "https://api.anthropic.com/v1/messages");
            let body = sent(&fwd);
            assert!(
                body["system"].as_str().unwrap().contains(&marker),
                "{}",
                f.name
            );
            let text = serde_json::to_string(&body).unwrap();
            assert_eq!(text.contains(MAGIC), which == "tool_result", "{}", f.name);
            let fwd = replay(&f, "google-vertex-ai/claude-sonnet-4-5@20250929");
            let url = fwd.first().url();
            assert!(
                url.contains(
                    "publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"
                ),
                "{}: {url}",
                f.name
            );
            let body = sent(&fwd);
            assert_eq!(body["anthropic_version"], "vertex-2023-10-16");
            assert!(body.get("model").is_none());
            assert!(body["system"].as_str().unwrap().contains(&marker));
            let fwd = replay(&f, "aws-bedrock/anthropic.claude-sonnet-4-5-v1:0");
            assert!(fwd.first().url().contains("/converse"), "{}", f.name);
            let text = String::from_utf8_lossy(fwd.first().body.as_deref().unwrap()).to_string();
            assert_eq!(text.contains(MAGIC), which == "tool_result", "{}", f.name);
        }
    }
}

const GEMINI_CASES: &[&str] = &["gemini-translated", "gemini-native", "gemini-auto"];

/// Gemini CLI's function declarations, by name.
fn gemini_tool_names(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .flat_map(|t| {
            t["functionDeclarations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|f| f["name"].as_str().map(str::to_string))
        .collect()
}

/// Gemini CLI's turns (the Gemini API, `streamGenerateContent?alt=sse`)
/// through every kind of provider: natively to Google AI Studio (a bare
/// name) and to Vertex for a Google model, translated to every
/// OpenAI-compatible one, and chained to Anthropic and Bedrock.
#[test]
fn gemini_cli_reaches_every_provider() {
    for case in GEMINI_CASES {
        for which in ["first", "tool_result"] {
            let f = load(case, which);
            let system = f.body["systemInstruction"]["parts"][0]["text"]
                .as_str()
                .unwrap();
            let marker: String = system.chars().take(40).collect();
            let tools = gemini_tool_names(&f.body);
            assert!(
                tools.iter().any(|t| t == "run_shell_command"),
                "{}: {tools:?}",
                f.name
            );
            let no_proxy_key = |fwd: &Forward, model: &str| {
                for (name, value) in &fwd.first().headers {
                    assert!(
                        !String::from_utf8_lossy(value).contains(PROXY_KEY),
                        "{} → {model}: the proxy key in {name}",
                        f.name
                    );
                }
                assert!(!fwd.first().url().contains(PROXY_KEY));
            };
            // Native: the body as Gemini CLI sent it, the provider's key.
            let fwd = replay_gemini(&f, "gemini-2.5-flash");
            let up = fwd.first();
            assert_eq!(
                up.url(),
                "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                "{}",
                f.name
            );
            assert_eq!(up.header("x-goog-api-key"), Some("gem"), "{}", f.name);
            assert_eq!(sent(&fwd), f.body, "{}", f.name);
            no_proxy_key(&fwd, "gemini-2.5-flash");
            let fwd = replay_gemini(&f, "google-vertex-ai/gemini-2.5-pro");
            assert!(
                fwd.first()
                    .url()
                    .contains("/publishers/google/models/gemini-2.5-pro:streamGenerateContent"),
                "{}: {}",
                f.name,
                fwd.first().url()
            );
            assert_eq!(sent(&fwd), f.body, "{}", f.name);
            // Translated: chat completions (Google's own speak Gemini natively).
            for (model, url, system_first) in CHAT_TARGETS {
                if model.starts_with("google-") {
                    continue;
                }
                let fwd = replay_gemini(&f, model);
                let up = fwd.first();
                assert_eq!(up.url(), *url, "{} → {model}", f.name);
                for (name, _) in &up.headers {
                    assert!(!name.starts_with("x-goog-"), "{} → {model}: {name}", f.name);
                }
                no_proxy_key(&fwd, model);
                let body = sent(&fwd);
                assert_eq!(body["stream"], true, "{} → {model}", f.name);
                let roles = roles(&body);
                assert_eq!(roles[0], "system", "{} → {model}", f.name);
                if *system_first {
                    assert_eq!(
                        roles.iter().filter(|r| **r == "system").count(),
                        1,
                        "{} → {model}: {roles:?}",
                        f.name
                    );
                }
                let text = serde_json::to_string(&body).unwrap();
                assert!(text.contains(&marker), "{} → {model}", f.name);
                assert_eq!(tool_names(&body), tools, "{} → {model}", f.name);
                let named = dropped(&fwd);
                assert!(named.contains("generationConfig.topK"), "{named}");
                if which == "tool_result" {
                    // The shell call and its output, paired by id.
                    let messages = body["messages"].as_array().unwrap();
                    let tool = messages.iter().find(|m| m["role"] == "tool").unwrap();
                    assert!(
                        tool["content"].as_str().unwrap().contains(MAGIC),
                        "{} → {model}",
                        f.name
                    );
                    let id = tool["tool_call_id"].as_str().unwrap();
                    let call = messages
                        .iter()
                        .filter_map(|m| m["tool_calls"].as_array())
                        .flatten()
                        .find(|c| c["id"] == id)
                        .unwrap_or_else(|| panic!("{} → {model}: the call {id}", f.name));
                    assert_eq!(call["function"]["name"], "run_shell_command");
                    let args: Value =
                        serde_json::from_str(call["function"]["arguments"].as_str().unwrap())
                            .unwrap();
                    assert!(args["command"].as_str().unwrap().starts_with("cat "));
                    // Gemini CLI's placeholder signature has no equivalent.
                    assert!(named.contains("thoughtSignature"), "{named}");
                } else {
                    assert!(
                        !text.contains(MAGIC),
                        "{}: a secret before the tool ran",
                        f.name
                    );
                }
            }
            // Chained: Anthropic (Messages) and Bedrock (Converse).
            let fwd = replay_gemini(&f, "anthropic/claude-sonnet-4-5");
            assert_eq!(fwd.first().url(), "https://api.anthropic.com/v1/messages");
            no_proxy_key(&fwd, "anthropic/claude-sonnet-4-5");
            let body = sent(&fwd);
            assert!(
                body["system"].as_str().unwrap().contains(&marker),
                "{}",
                f.name
            );
            let text = serde_json::to_string(&body).unwrap();
            assert_eq!(text.contains(MAGIC), which == "tool_result", "{}", f.name);
            if which == "tool_result" {
                assert!(text.contains("\"tool_result\""), "{}", f.name);
            }
            let fwd = replay_gemini(&f, "aws-bedrock/anthropic.claude-sonnet-4-5-v1:0");
            assert!(fwd.first().url().contains("/converse"), "{}", f.name);
            let text = String::from_utf8_lossy(fwd.first().body.as_deref().unwrap()).to_string();
            assert_eq!(text.contains(MAGIC), which == "tool_result", "{}", f.name);
            if which == "tool_result" {
                assert!(text.contains("toolResult"), "{}", f.name);
            }
        }
    }
}

/// Gemini CLI's own choice (`-m auto`: a Gemini 3 model, `thinkingLevel`
/// HIGH) reaches a reasoning model as its effort, and is named as dropped
/// where the model takes none.
#[test]
fn gemini_cli_thinking_level_reaches_reasoning_models_only() {
    let f = load("gemini-auto", "first");
    assert_eq!(
        f.body["generationConfig"]["thinkingConfig"]["thinkingLevel"],
        "HIGH"
    );
    let body = sent(&replay_gemini(&f, "openai/o3"));
    assert_eq!(body["reasoning_effort"], "high");
    let fwd = replay_gemini(&f, "openai/gpt-4o-mini");
    assert!(sent(&fwd).get("reasoning_effort").is_none());
    let named = dropped(&fwd);
    assert!(named.contains("generationConfig.thinkingConfig"), "{named}");
}

/// Every node of every recorded body, replaced in turn by a value of each
/// other JSON type: the translators never panic, and whatever they write is
/// JSON (they splice raw bytes, so this is what could go wrong).
#[test]
fn mutated_agent_requests_translate_to_valid_json_or_a_reason() {
    use llm_proxy::translate::anthropic_openai::request::{
        chat_to_messages, messages_to_chat, ChatOptions,
    };
    use llm_proxy::translate::gemini_openai::request::gemini_to_chat;
    use llm_proxy::translate::responses_openai::request::responses_to_chat;
    fn paths(v: &Value, at: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        match v {
            Value::Object(m) => m.iter().for_each(|(k, c)| {
                let mut p = at.clone();
                p.push(k.clone());
                paths(c, p, out)
            }),
            Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| {
                let mut p = at.clone();
                p.push(i.to_string());
                paths(c, p, out)
            }),
            _ => {}
        }
    }
    fn node<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
        path.iter().fold(v, |v, k| match v {
            Value::Array(a) => &mut a[k.parse::<usize>().unwrap()],
            other => &mut other[k.as_str()],
        })
    }
    let replacements = [
        Value::Null,
        serde_json::json!(7),
        serde_json::json!("x\"\\y"),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::json!(true),
    ];
    let opts = ChatOptions {
        max_completion_tokens: true,
        reasoning_effort: true,
        system_first: true,
        thinking_blocks: true,
    };
    // Long texts (system prompts, tool descriptions) shortened: the shape is
    // what is mutated here, and escapes are covered elsewhere.
    fn shrink(v: &mut Value) {
        match v {
            Value::String(s) if s.len() > 48 => {
                *s = s.chars().take(48).collect();
            }
            Value::Object(m) => m.values_mut().for_each(shrink),
            Value::Array(a) => a.iter_mut().for_each(shrink),
            _ => {}
        }
    }
    let mut runs = 0;
    for case in MESSAGES_CASES
        .iter()
        .chain(CHAT_CASES)
        .chain(RESPONSES_CASES)
        .chain(GEMINI_CASES)
    {
        for which in ["first", "tool_result"] {
            let mut f = load(case, which);
            shrink(&mut f.body);
            let mut all = Vec::new();
            paths(&f.body, Vec::new(), &mut all);
            // Every node of the top two levels, then a spread of the deeper ones.
            let step = (all.len() / 80).max(1);
            for (i, path) in all.iter().enumerate() {
                if path.len() > 2 && i % step != 0 {
                    continue;
                }
                for r in &replacements {
                    let mut body = f.body.clone();
                    *node(&mut body, path) = r.clone();
                    let bytes = serde_json::to_vec(&body).unwrap();
                    // A Gemini API body goes through its own translator;
                    // the others through each of the other dialects'.
                    let results = if GEMINI_CASES.contains(case) {
                        vec![(
                            "gemini_to_chat",
                            gemini_to_chat(&bytes, "openai/gpt-4o-mini", true, opts)
                                .map_err(|e| e.message),
                        )]
                    } else {
                        vec![
                            ("messages_to_chat", messages_to_chat(&bytes, opts)),
                            (
                                "messages_to_chat/plain",
                                messages_to_chat(&bytes, ChatOptions::default()),
                            ),
                            ("chat_to_messages", chat_to_messages(&bytes)),
                            (
                                "responses_to_chat",
                                responses_to_chat(&bytes, opts).map(|r| r.chat),
                            ),
                        ]
                    };
                    for (name, result) in results {
                        runs += 1;
                        if let Ok(t) = result {
                            let out = t.body.to_vec();
                            assert!(
                                serde_json::from_slice::<Value>(&out).is_ok(),
                                "{name}: {} with {path:?} = {r}: {}",
                                f.name,
                                String::from_utf8_lossy(&out)
                            );
                        }
                    }
                }
            }
        }
    }
    eprintln!("{runs} translations of mutated bodies");
    assert!(runs > 5_000, "{runs}");
}

/// Every recorded agent request, sent with a client key granted every
/// model (`*`) and nothing of the provider accounts, is planned as the
/// all-access key's is: nothing in what the agents send (a tool parameter
/// named `prompt`, `file_id` or `container`, say) reads as naming a stored
/// object of the provider account. (Claude Code's and Gemini CLI's tool
/// schemas were once refused as "stored prompts".)
#[test]
fn a_client_key_granted_every_model_sends_every_recorded_agent_request() {
    use sha2::Digest;
    const CLIENT_KEY: &str = "client-key-fixtures";
    let sha: String = sha2::Sha256::digest(CLIENT_KEY.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut src = settings();
    src.insert(
        "PROXY_KEYS".into(),
        format!(r#"[{{"name":"member","sha256":"{sha}","models":["*"]}}]"#),
    );
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clients");
    let mut planned = 0;
    for case in std::fs::read_dir(&dir).unwrap() {
        let case = case.unwrap().path();
        if !case.is_dir() {
            continue;
        }
        for which in ["first", "tool_result"] {
            if !case.join(format!("{which}.json")).exists() {
                continue;
            }
            let f = load(case.file_name().unwrap().to_str().unwrap(), which);
            let bytes = serde_json::to_vec(&f.body).unwrap();
            let headers: Vec<(String, Vec<u8>)> = f
                .headers
                .iter()
                .map(|(n, v)| {
                    let v = String::from_utf8_lossy(v).replace(PROXY_KEY, CLIENT_KEY);
                    (n.clone(), v.into_bytes())
                })
                .collect();
            let host = Fixed {
                random: 0,
                now_ms: 0,
            };
            let head = RequestHead::new("POST", &f.path, headers.clone());
            assert!(
                decide(&head, &src, &host)
                    .caller
                    .is_some_and(|c| c.key.is_some()),
                "{}: not the client key",
                f.name
            );
            let fwd = plan(
                &format!("{}: a client key's request", f.name),
                &f.path,
                headers,
                &bytes,
                &src,
            );
            assert!(fwd.first().url().starts_with("https://"), "{}", f.name);
            planned += 1;
        }
    }
    assert!(planned >= 20, "only {planned} recorded requests");
}
