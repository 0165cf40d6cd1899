//! The Messages API handler: which provider, which upstream request, what
//! the client gets back.

use super::*;
use crate::errors::Dialect;
use crate::host::Fixed;
use crate::pipeline::{decide, dialect_of, plan_body, BodyRoute, Planned as PipelinePlanned};
use crate::request::RequestHead;
use crate::settings::from_pairs;
use std::collections::HashMap;

fn src(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut m = from_pairs(&[
        ("PROXY_API_KEY", "pk"),
        ("OPENAI_API_KEY", "sk-o"),
        ("ANTHROPIC_API_KEY", "sk-a"),
        ("COHERE_API_KEY", "co"),
    ]);
    m.extend(from_pairs(extra));
    m
}

fn head(path: &str) -> RequestHead {
    RequestHead::new(
        "POST",
        path,
        vec![
            ("x-api-key".into(), b"pk".to_vec()),
            ("anthropic-version".into(), b"2023-06-01".to_vec()),
            (
                "anthropic-beta".into(),
                b"interleaved-thinking-2025-05-14".to_vec(),
            ),
            ("accept-encoding".into(), b"gzip".to_vec()),
            ("content-type".into(), b"application/json".to_vec()),
            ("x-app".into(), b"cli".to_vec()),
            ("x-stainless-package-version".into(), b"0.128.0".to_vec()),
            ("x-claude-code-session-id".into(), b"a3a4d785".to_vec()),
            ("user-agent".into(), b"claude-cli/2.1.332".to_vec()),
        ],
    )
}

fn forward(body: &str, s: &HashMap<String, String>, count: bool) -> Forward {
    match plan(
        &Inbound::new(
            &head("/v1/messages?beta=true"),
            s,
            &Fixed {
                random: 0,
                now_ms: 0,
            },
        ),
        body.as_bytes(),
        count,
    )
    .unwrap()
    {
        Planned::Forward(f) => f,
        Planned::Reply(r) => panic!("expected a forward, got {r:?}"),
    }
}

const CLAUDE_CODE: &str = r#"{"model":"claude-sonnet-4-20250514","max_tokens":32000,"stream":true,
  "system":[{"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}}],
  "messages":[{"role":"user","content":[{"type":"text","text":"hi  there","cache_control":{"type":"ephemeral"}}]}],
  "metadata":{"user_id":"user_abc"},"thinking":{"type":"enabled","budget_tokens":1024},
  "temperature":1, "numbers": [1.0, 2e3, -0.0]}"#;

#[test]
fn bare_models_go_to_anthropic_byte_identical_but_for_the_model() {
    let f = forward(CLAUDE_CODE, &src(&[]), false);
    let up = f.first();
    assert_eq!(up.url(), "https://api.anthropic.com/v1/messages");
    assert_eq!(up.header("x-api-key"), Some("sk-a"));
    assert_eq!(
        up.header("anthropic-beta"),
        Some("interleaved-thinking-2025-05-14")
    );
    assert_eq!(up.header("accept-encoding"), Some("gzip"));
    assert_eq!(
        up.body.as_deref().unwrap(),
        CLAUDE_CODE.as_bytes(),
        "the model was already bare: nothing changes"
    );
    assert_eq!(f.response, ResponseMapping::Relay);
    assert_eq!(f.dialect, Dialect::Anthropic);
    let prefixed = CLAUDE_CODE.replace("\"claude-sonnet", "\"anthropic/claude-sonnet");
    let f = forward(&prefixed, &src(&[]), false);
    assert_eq!(f.first().body.as_deref().unwrap(), CLAUDE_CODE.as_bytes());
    // count_tokens natively, same splicing.
    let f = forward(&prefixed, &src(&[]), true);
    assert_eq!(
        f.first().url(),
        "https://api.anthropic.com/v1/messages/count_tokens"
    );
}

#[test]
fn other_providers_get_the_request_translated() {
    let body = CLAUDE_CODE.replace("claude-sonnet-4-20250514", "openai/gpt-4.1");
    let f = forward(&body, &src(&[]), false);
    let up = f.first();
    assert_eq!(up.url(), "https://api.openai.com/v1/chat/completions");
    assert_eq!(up.header("authorization"), Some("Bearer sk-o"));
    for gone in [
        "x-api-key",
        "anthropic-version",
        "anthropic-beta",
        "accept-encoding",
        "x-app",
        "x-stainless-package-version",
        "x-claude-code-session-id",
    ] {
        assert_eq!(up.header(gone), None, "{gone}");
    }
    assert_eq!(up.header("user-agent"), Some("claude-cli/2.1.332"));
    let sent: Value = serde_json::from_slice(up.body.as_deref().unwrap()).unwrap();
    assert_eq!(sent["model"], "gpt-4.1");
    assert_eq!(sent["max_completion_tokens"], 32000);
    assert_eq!(
        sent["messages"][0],
        serde_json::json!({"role": "system", "content": "You are Claude Code."})
    );
    assert_eq!(sent["messages"][1]["content"], "hi  there");
    assert_eq!(sent["stream_options"]["include_usage"], true);
    assert_eq!(
        f.response,
        ResponseMapping::ChatToMessages {
            model: "openai/gpt-4.1".into()
        }
    );
    assert_eq!(
        f.response_headers,
        vec![(
            "x-llm-proxy-dropped".into(),
            "cache_control, thinking, numbers".into()
        )]
    );
    assert!(sent.get("reasoning_effort").is_none());
    // A reasoning model takes the thinking budget as an effort instead.
    let o3 = CLAUDE_CODE.replace("claude-sonnet-4-20250514", "openai/o3");
    let f = forward(&o3, &src(&[]), false);
    let sent: Value = serde_json::from_slice(f.first().body.as_deref().unwrap()).unwrap();
    assert_eq!(sent["reasoning_effort"], "low");
    assert_eq!(
        f.response_headers,
        vec![(
            "x-llm-proxy-dropped".into(),
            "cache_control, numbers".into()
        )]
    );
    // The provider's allow-list still applies, and what it drops is named.
    let f = forward(
        &body.replace("openai/gpt-4.1", "cohere/command-r"),
        &src(&[]),
        false,
    );
    let sent: Value = serde_json::from_slice(f.first().body.as_deref().unwrap()).unwrap();
    assert!(sent.get("stream_options").is_none() && sent.get("user").is_none());
    assert_eq!(sent["max_tokens"], 32000);
    let dropped = &f.response_headers[0].1;
    assert!(
        dropped.contains("stream_options") && dropped.contains("user"),
        "{dropped}"
    );
}

#[test]
fn count_tokens_elsewhere_is_an_estimate() {
    let body = r#"{"model":"openai/gpt-4.1","messages":[{"role":"user","content":"abcdefgh abcdefgh abcdefgh abcdefgh"}],
                   "system":"be brief"}"#;
    let Planned::Reply(r) = plan(
        &Inbound::new(
            &head("/v1/messages/count_tokens"),
            &src(&[]),
            &Fixed {
                random: 0,
                now_ms: 0,
            },
        ),
        body.as_bytes(),
        true,
    )
    .unwrap() else {
        panic!("expected an estimate")
    };
    assert_eq!(r.status, 200);
    assert!(r
        .headers
        .contains(&(ESTIMATE_HEADER.into(), "estimate".into())));
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    // 35 bytes of content + 4 of role + 8 of system → 12, plus 4 for the
    // message and 3.
    assert_eq!(v["input_tokens"], 19);
}

#[test]
fn errors_on_these_routes_are_anthropic_shaped() {
    assert_eq!(dialect_of("/v1/messages"), Dialect::Anthropic);
    assert_eq!(
        dialect_of("/key/1/g/gw/v1/messages/count_tokens"),
        Dialect::Anthropic
    );
    assert_eq!(dialect_of("/v1/chat/completions"), Dialect::OpenAi);
    let s = src(&[("MAX_BODY_BYTES", "100")]);
    let host = Fixed {
        random: 0,
        now_ms: 0,
    };
    let check = |r: crate::reply::Reply, status: u16, kind: &str| {
        assert_eq!(r.status, status);
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["type"], "error", "{v}");
        assert_eq!(v["error"]["type"], kind, "{v}");
    };
    // The proxy's own: auth, size.
    let wrong = RequestHead::new(
        "POST",
        "/v1/messages",
        vec![("x-api-key".into(), b"nope".to_vec())],
    );
    check(
        decide(&wrong, &s, &host).reply_now().unwrap(),
        401,
        "authentication_error",
    );
    let big = RequestHead::new(
        "POST",
        "/v1/messages",
        vec![
            ("x-api-key".into(), b"pk".to_vec()),
            ("content-length".into(), b"500".to_vec()),
        ],
    );
    check(
        decide(&big, &s, &host).reply_now().unwrap(),
        413,
        "request_too_large",
    );
    // Bad JSON, unknown provider.
    for (body, needle) in [
        ("{", "invalid JSON"),
        (r#"{"model":"nosuch/x","messages":[]}"#, "nosuch"),
        (r#"{"messages":[]}"#, "model"),
    ] {
        match plan_body(
            BodyRoute::Messages,
            &head("/v1/messages"),
            body.as_bytes(),
            &s,
            &host,
            None,
            None,
            None,
        ) {
            PipelinePlanned::Reply(r) => {
                assert!(String::from_utf8_lossy(&r.body).contains(needle), "{body}");
                check(r, 400, "invalid_request_error")
            }
            PipelinePlanned::Forward(_) => panic!("{body} was forwarded"),
        }
    }
}

#[test]
fn splicing_keeps_every_other_byte() {
    let body = br#"{ "a" : {"model":"inner"}, "model" :"anthropic/x" ,"z":[1.50]}"#;
    assert_eq!(
        splice_model(body, "x").unwrap(),
        br#"{ "a" : {"model":"inner"}, "model" :"x" ,"z":[1.50]}"#.to_vec()
    );
    assert!(splice_model(br#"{"model":"a","model":"b"}"#, "x").is_err());
    assert!(splice_model(br#"{"nomodel":1}"#, "x").is_err());
}
