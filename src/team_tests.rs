//! Native tests of the team gateway in the pipeline: client keys, limits,
//! model checks and routes, planned as the edge would plan them.

use super::*;
use crate::failover::Outcome;
use crate::host::fake::FakeHost;
use crate::pipeline::{decide, plan_body, Decided, Decision};
use crate::translate::ResponseMapping;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// 2026-12-01T12:00:30Z.
const NOW: u64 = 1_796_126_430_000;

fn sha(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn settings(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let keys = format!(
        r#"[{{"name":"alice","sha256":"{}","models":["openai/*","smart"]}},
            {{"name":"bob","sha256":"{}","rpm":2}},
            {{"name":"old","sha256":"{}","expires":"2020-01-01T00:00:00Z"}},
            {{"name":"daily","sha256":"{}","daily_tokens":100}}]"#,
        sha("alice-key"),
        sha("bob-key"),
        sha("old-key"),
        sha("daily-key")
    );
    let mut m: HashMap<String, String> = [
        ("PROXY_API_KEY", "admin-key"),
        ("OPENAI_API_KEY", "sk-o"),
        ("ANTHROPIC_API_KEY", "sk-a"),
        ("GEMINI_API_KEY", "g"),
        (
            "MODEL_ROUTES",
            r#"{"smart": ["openai/gpt-4.1", "anthropic/claude-sonnet-4-5"],
                "rr": {"targets": ["openai/m1", "openai/m2"], "strategy": "round-robin"},
                "claude-sonnet-4-5": ["openai/gpt-4o-mini"]}"#,
        ),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    m.insert("PROXY_KEYS".into(), keys);
    for (k, v) in extra {
        m.insert(k.to_string(), v.to_string());
    }
    m
}

fn head(method: &str, path: &str, key: &str) -> RequestHead {
    RequestHead::new(
        method,
        path,
        vec![("authorization".into(), format!("Bearer {key}").into_bytes())],
    )
}

fn host() -> FakeHost {
    let h = FakeHost::new();
    h.now.set(NOW);
    h
}

fn error(d: &Decided) -> (u16, String) {
    match &d.decision {
        Decision::Error(e) => (e.status, e.code.to_string()),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// Decides and plans a POST with `body` as the edge does.
fn plan(
    path: &str,
    key: &str,
    body: &str,
    src: &HashMap<String, String>,
    host: &FakeHost,
) -> Planned {
    let h = head("POST", path, key);
    let d = decide(&h, src, host);
    let Decision::WithBody {
        route,
        selection,
        gateway,
        ..
    } = d.decision
    else {
        panic!("expected a body route, got {:?}", d.decision);
    };
    plan_body(
        route,
        &h,
        body.as_bytes(),
        src,
        host,
        selection,
        gateway.as_ref(),
        d.caller.as_ref(),
    )
}

fn forward(p: Planned) -> Forward {
    match p {
        Planned::Forward(f) => f,
        Planned::Reply(r) => panic!(
            "expected a forward, got {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        ),
    }
}

fn refused(p: Planned) -> (u16, Value) {
    match p {
        Planned::Reply(r) => (r.status, serde_json::from_slice(&r.body).unwrap()),
        Planned::Forward(f) => panic!("expected a refusal, got {:?}", f.first().path_with_query),
    }
}

fn sent_json(f: &Forward) -> Value {
    serde_json::from_slice(f.first().body.as_deref().unwrap()).unwrap()
}

#[test]
fn callers_are_the_all_access_key_a_client_key_or_refused() {
    let src = settings(&[]);
    let h = host();
    let d = decide(&head("GET", "/v1/models", "admin-key"), &src, &h);
    assert_eq!(d.caller, Some(Caller::all_access()));
    let d = decide(&head("GET", "/v1/models", "alice-key"), &src, &h);
    assert_eq!(d.caller.as_ref().map(|c| c.name.as_str()), Some("alice"));
    assert_eq!(
        error(&decide(&head("GET", "/v1/models", "nope"), &src, &h)),
        (401, "invalid_api_key".into())
    );
    assert_eq!(
        error(&decide(&head("GET", "/v1/models", "old-key"), &src, &h)),
        (401, "key_expired".into())
    );
    // A client key needs no PROXY_API_KEY.
    let mut only_clients = settings(&[]);
    only_clients.remove("PROXY_API_KEY");
    let d = decide(&head("GET", "/v1/models", "alice-key"), &only_clients, &h);
    assert!(matches!(d.decision, Decision::Models(_)));
    // Broken PROXY_KEYS: the all-access key still works; a client key is a 500.
    let broken = settings(&[("PROXY_KEYS", "[{")]);
    assert!(matches!(
        decide(&head("GET", "/v1/models", "admin-key"), &broken, &h).decision,
        Decision::Models(_)
    ));
    let d = decide(&head("GET", "/v1/models", "alice-key"), &broken, &h);
    assert_eq!(error(&d).0, 500);
    assert!(d.warning.unwrap().contains("PROXY_KEYS"));
}

#[test]
fn status_is_for_the_all_access_key_and_usage_for_everyone() {
    let src = settings(&[]);
    let h = host();
    let d = decide(&head("GET", "/status", "alice-key"), &src, &h);
    assert_eq!(error(&d), (403, "admin_only".into()));
    let d = decide(&head("GET", "/usage", "alice-key"), &src, &h);
    let r = d.reply_now().unwrap();
    assert_eq!(r.status, 200);
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["keys"].as_array().unwrap().len(), 1);
    let r = decide(&head("GET", "/usage", "admin-key"), &src, &h)
        .reply_now()
        .unwrap();
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["keys"].as_array().unwrap().len(), 4, "{v}");
    // No store: a 503 that says why.
    let d = decide(
        &head("GET", "/usage", "admin-key"),
        &src,
        &FakeHost::storeless(),
    );
    assert_eq!(error(&d), (503, "usage_needs_shared_store".into()));
}

const CHAT: &str =
    r#"{"model":"openai/gpt-4o","max_tokens":50,"messages":[{"role":"user","content":"hi"}]}"#;

#[test]
fn limits_count_in_the_store_and_refuse_in_the_clients_dialect() {
    let src = settings(&[]);
    let h = host();
    let chat = |h: &FakeHost| plan("/v1/chat/completions", "bob-key", CHAT, &src, h);
    forward(chat(&h));
    forward(chat(&h));
    let (status, v) = refused(chat(&h));
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (429, Some("rate_limit_exceeded"))
    );
    // Anthropic's and Google's shapes, with the header.
    let d = decide(&head("POST", "/v1/messages", "bob-key"), &src, &h);
    let Decision::WithBody { route, .. } = d.decision else {
        panic!("{:?}", d.decision)
    };
    let Planned::Reply(r) = plan_body(
        route,
        &head("POST", "/v1/messages", "bob-key"),
        br#"{"model":"claude-x","max_tokens":5,"messages":[]}"#,
        &src,
        &h,
        None,
        None,
        d.caller.as_ref(),
    ) else {
        panic!("expected a refusal")
    };
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["error"]["type"], "rate_limit_error");
    assert!(r.headers.contains(&("retry-after".into(), "30".into())));
    let (_, v) = refused(plan(
        "/v1beta/models/gemini-2.0-flash:generateContent",
        "bob-key",
        r#"{"contents":[]}"#,
        &src,
        &h,
    ));
    assert_eq!(v["error"]["status"], "RESOURCE_EXHAUSTED");
    // The model list and /usage are requests like any other.
    for path in ["/v1/models", "/usage"] {
        let d = decide(&head("GET", path, "bob-key"), &src, &h);
        assert_eq!(error(&d), (429, "rate_limit_exceeded".into()), "{path}");
    }
    // The next minute.
    h.now.set(NOW + 30_000);
    let d = decide(&head("GET", "/v1/models", "bob-key"), &src, &h);
    assert!(matches!(d.decision, Decision::Models(_)));
    forward(chat(&h));
    // No store: a 503, never unlimited.
    let (status, v) = refused(chat(&FakeHost::storeless()));
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (503, Some("limits_need_shared_store"))
    );
}

/// Plans `body` on `path` for `key` as the edge does, and ends it as the
/// ledger does with `usage`.
fn plan_and_settle(
    path: &str,
    key: &str,
    body: &str,
    src: &HashMap<String, String>,
    host: &FakeHost,
    usage: Option<crate::usage::Usage>,
) -> Planned {
    let h = head("POST", path, key);
    let d = decide(&h, src, host);
    let Decision::WithBody {
        route,
        selection,
        gateway,
        dropped,
        ..
    } = d.decision.clone()
    else {
        panic!("expected a body route, got {:?}", d.decision);
    };
    let mut ledger = crate::ledger::Ledger::new(&h, "id".into(), 0);
    ledger.decided(&d);
    let planned = crate::pipeline::plan_granted(
        route,
        &h,
        body.as_bytes(),
        src,
        host,
        selection,
        gateway.as_ref(),
        d.caller.as_ref().unwrap(),
        &dropped,
        &mut ledger.reserved,
    );
    if let Planned::Forward(f) = &planned {
        ledger.forwarding(f, src);
        ledger.upstream_status = Some(200);
        ledger.whole = true;
    }
    ledger.finish(usage, 1, host);
    planned
}

#[test]
fn daily_tokens_are_reserved_at_admission_and_settled_to_the_usage() {
    // daily_tokens 100: each request reserves its body / 3 + max_tokens.
    let src = settings(&[]);
    let h = host();
    let used = |input, output| {
        Some(crate::usage::Usage {
            input,
            output,
            ..Default::default()
        })
    };
    let small = r#"{"model":"openai/m","max_tokens":10,"messages":[]}"#;
    let day = crate::limits::day_key("daily", NOW);
    let store = h.store.as_ref().unwrap();
    forward(plan_and_settle(
        "/v1/chat/completions",
        "daily-key",
        small,
        &src,
        &h,
        used(30, 20),
    ));
    assert_eq!(store.increment(&day, 0), Some(50));
    forward(plan_and_settle(
        "/v1/chat/completions",
        "daily-key",
        small,
        &src,
        &h,
        used(30, 30),
    ));
    assert_eq!(store.increment(&day, 0), Some(110));
    let (status, v) = refused(plan("/v1/chat/completions", "daily-key", small, &src, &h));
    assert_eq!(status, 429);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("daily_tokens"));
    // The refused request left nothing behind.
    assert_eq!(store.increment(&day, 0), Some(110));
}

#[test]
fn a_reservation_holds_while_requests_are_in_flight() {
    // daily_tokens 100 and requests that reserve 67 each (50 bytes / 3 +
    // max_tokens 50): the second is admitted (67 < 100), the third is not
    // (134), while none has ended.
    let src = settings(&[]);
    let h = host();
    let body = r#"{"model":"openai/m","max_tokens":50,"messages":[]}"#;
    assert_eq!(
        crate::limits::estimate(body.len() as u64, Some(50), true),
        67
    );
    let p = |h: &FakeHost| plan("/v1/chat/completions", "daily-key", body, &src, h);
    forward(p(&h));
    forward(p(&h));
    assert_eq!(refused(p(&h)).0, 429);
}

#[test]
fn a_request_that_reached_no_provider_spends_nothing() {
    let src = settings(&[]);
    let h = host();
    let store = h.store.as_ref().unwrap();
    let day = crate::limits::day_key("daily", NOW);
    // An unknown provider: admitted, refused by the plan, settled to 0.
    let p = plan_and_settle(
        "/v1/chat/completions",
        "daily-key",
        r#"{"model":"nowhere/m","max_tokens":10,"messages":[]}"#,
        &src,
        &h,
        None,
    );
    assert_eq!(refused(p).0, 400);
    assert_eq!(store.increment(&day, 0), Some(0));
}

#[test]
fn a_client_key_uses_only_its_models_in_every_dialect() {
    let src = settings(&[]);
    let h = host();
    let ok = plan(
        "/v1/chat/completions",
        "alice-key",
        r#"{"model":"openai/gpt-4o-mini","messages":[]}"#,
        &src,
        &h,
    );
    assert_eq!(forward(ok).model.as_deref(), Some("openai/gpt-4o-mini"));
    let (status, v) = refused(plan(
        "/v1/chat/completions",
        "alice-key",
        r#"{"model":"anthropic/claude-sonnet-4-5","messages":[]}"#,
        &src,
        &h,
    ));
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (403, Some("model_not_allowed"))
    );
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("anthropic/claude-sonnet-4-5"));
    // A bare model on the Messages API is Anthropic's.
    let (status, v) = refused(plan(
        "/v1/messages",
        "alice-key",
        r#"{"model":"claude-3-haiku","max_tokens":5,"messages":[]}"#,
        &src,
        &h,
    ));
    assert_eq!((status, v["type"].as_str()), (403, Some("error")));
    assert_eq!(v["error"]["type"], "permission_error");
    let (status, v) = refused(plan(
        "/v1beta/models/gemini-2.0-flash:generateContent",
        "alice-key",
        r#"{"contents":[]}"#,
        &src,
        &h,
    ));
    assert_eq!(
        (status, v["error"]["status"].as_str()),
        (403, Some("PERMISSION_DENIED"))
    );
    // A route it lists; a route it does not.
    assert!(matches!(
        plan(
            "/v1/chat/completions",
            "alice-key",
            r#"{"model":"smart","messages":[]}"#,
            &src,
            &h
        ),
        Planned::Forward(_)
    ));
    let (status, _) = refused(plan(
        "/v1/chat/completions",
        "alice-key",
        r#"{"model":"rr","messages":[]}"#,
        &src,
        &h,
    ));
    assert_eq!(status, 403);
    // Pass-through to a provider outside its list.
    let d = decide(
        &head("POST", "/anthropic/v1/messages", "alice-key"),
        &src,
        &h,
    );
    assert_eq!(error(&d), (403, "model_not_allowed".into()));
    // A client key's inference body is read (what it names is checked)
    // before it goes on as it came; a model list is not.
    let p = plan(
        "/openai/v1/chat/completions",
        "alice-key",
        r#"{"model":"gpt-4o","messages":[]}"#,
        &src,
        &h,
    );
    let fwd = forward(p);
    assert_eq!(
        fwd.first().body.as_deref().map(|b| &b[..]),
        Some(&br#"{"model":"gpt-4o","messages":[]}"#[..])
    );
    let (status, v) = refused(plan(
        "/openai/v1/responses",
        "alice-key",
        r#"{"model":"gpt-4o","input":"hi","previous_response_id":"resp_other_team"}"#,
        &src,
        &h,
    ));
    assert_eq!(
        (status, v["error"]["code"].as_str()),
        (403, Some("stored_object_not_allowed"))
    );
    let d = decide(&head("GET", "/openai/v1/models", "alice-key"), &src, &h);
    assert!(matches!(d.decision, Decision::PassThrough(_)));
}

#[test]
fn a_route_is_planned_once_per_target_each_falling_back_to_the_next() {
    let src = settings(&[]);
    let h = host();
    let body = r#"{"model":"smart","messages":[{"role":"user","content":"hi"}],"max_tokens":9}"#;
    let fwd = forward(plan("/v1/chat/completions", "admin-key", body, &src, &h));
    assert_eq!(fwd.route.as_deref(), Some("smart"));
    assert_eq!(fwd.model.as_deref(), Some("openai/gpt-4.1"));
    assert_eq!(fwd.first().provider, "openai");
    assert_eq!(sent_json(&fwd)["model"], "gpt-4.1");
    assert!(fwd
        .response_headers
        .contains(&(ROUTE_HEADER.into(), "openai/gpt-4.1".into())));
    let next = fwd.fallback.as_deref().unwrap();
    assert_eq!(next.first().provider, "anthropic");
    assert_eq!(next.first().path_with_query, "/v1/messages");
    assert_eq!(sent_json(next)["model"], "claude-sonnet-4-5");
    assert!(matches!(
        next.response,
        ResponseMapping::MessagesToChat { .. }
    ));
    assert!(next.fallback.is_none());

    // From Messages: the first target translated, the second native.
    let body = r#"{"model":"smart","max_tokens":9,"messages":[{"role":"user","content":"hi"}]}"#;
    let fwd = forward(plan("/v1/messages", "admin-key", body, &src, &h));
    assert!(matches!(
        fwd.response,
        ResponseMapping::ChatToMessages { .. }
    ));
    assert_eq!(sent_json(&fwd)["model"], "gpt-4.1");
    let next = fwd.fallback.as_deref().unwrap();
    assert_eq!(sent_json(next)["model"], "claude-sonnet-4-5");
    assert!(matches!(next.response, ResponseMapping::Relay));

    // From the Gemini API: the route's name in the path.
    let body = r#"{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}"#;
    let fwd = forward(plan(
        "/v1beta/models/smart:generateContent",
        "admin-key",
        body,
        &src,
        &h,
    ));
    assert_eq!(fwd.first().provider, "openai");
    assert_eq!(
        fwd.fallback.as_deref().unwrap().first().provider,
        "anthropic"
    );

    // An alias: one target.
    let body = r#"{"model":"claude-sonnet-4-5","max_tokens":9,"messages":[]}"#;
    let fwd = forward(plan("/v1/messages", "admin-key", body, &src, &h));
    assert_eq!(sent_json(&fwd)["model"], "gpt-4o-mini");
    assert!(fwd.fallback.is_none());
}

#[test]
fn a_failed_target_hands_over_and_cools_down() {
    let src = settings(&[]);
    let h = host();
    let body = r#"{"model":"smart","messages":[]}"#;
    let mut fwd = forward(plan("/v1/chat/completions", "admin-key", body, &src, &h));
    // A 400 is the client's: no fallback.
    assert!(!next_target(&mut fwd, Outcome::Status(400), None, &h));
    assert!(next_target(&mut fwd, Outcome::Status(429), Some("30"), &h));
    assert_eq!(fwd.first().provider, "anthropic");
    assert!(!next_target(&mut fwd, Outcome::Status(500), None, &h));
    // The next request tries the cooling target last.
    let fwd = forward(plan("/v1/chat/completions", "admin-key", body, &src, &h));
    assert_eq!(fwd.first().provider, "anthropic");
    assert_eq!(fwd.fallback.as_deref().unwrap().first().provider, "openai");
    // After its cooldown, first again.
    h.now.set(NOW + 31_000);
    let fwd = forward(plan("/v1/chat/completions", "admin-key", body, &src, &h));
    assert_eq!(fwd.first().provider, "openai");
}

#[test]
fn round_robin_counts_in_the_store() {
    let src = settings(&[]);
    let h = host();
    let body = r#"{"model":"rr","messages":[]}"#;
    let firsts: Vec<Value> = (0..4)
        .map(|_| {
            sent_json(&forward(plan(
                "/v1/chat/completions",
                "admin-key",
                body,
                &src,
                &h,
            )))["model"]
                .clone()
        })
        .collect();
    assert_eq!(firsts, ["m1", "m2", "m1", "m2"]);
    // Without a shared store, the instance's memory.
    let h = FakeHost::storeless().with_memory();
    let firsts: Vec<Value> = (0..2)
        .map(|_| {
            sent_json(&forward(plan(
                "/v1/chat/completions",
                "admin-key",
                body,
                &src,
                &h,
            )))["model"]
                .clone()
        })
        .collect();
    assert_eq!(firsts, ["m1", "m2"]);
}

#[test]
fn a_route_target_that_cannot_be_planned_is_left_out() {
    let src = settings(&[(
        "MODEL_ROUTES",
        r#"{"x": ["mistral/m", "openai/gpt-4.1"], "none": ["mistral/m"]}"#,
    )]);
    let h = host();
    let fwd = forward(plan(
        "/v1/chat/completions",
        "admin-key",
        r#"{"model":"x","messages":[]}"#,
        &src,
        &h,
    ));
    assert_eq!(fwd.first().provider, "openai");
    assert!(fwd.fallback.is_none());
    let (status, v) = refused(plan(
        "/v1/chat/completions",
        "admin-key",
        r#"{"model":"none","messages":[]}"#,
        &src,
        &h,
    ));
    assert_eq!(status, 400, "{v}");
    // A malformed MODEL_ROUTES is the operator's: a 500 naming it.
    let src = settings(&[("MODEL_ROUTES", "{")]);
    let (status, v) = refused(plan(
        "/v1/chat/completions",
        "admin-key",
        r#"{"model":"openai/gpt-4.1","messages":[]}"#,
        &src,
        &h,
    ));
    assert_eq!(status, 500);
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("MODEL_ROUTES"));
}

#[test]
fn a_stream_asks_for_usage_and_strips_it_only_when_the_client_did_not() {
    let src = settings(&[]);
    let h = host();
    let fwd = forward(plan(
        "/v1/chat/completions",
        "admin-key",
        r#"{"model":"openai/gpt-4.1","messages":[],"stream":true}"#,
        &src,
        &h,
    ));
    assert_eq!(sent_json(&fwd)["stream_options"]["include_usage"], true);
    assert!(matches!(fwd.response, ResponseMapping::StripUsage));
    let fwd = forward(plan(
        "/v1/chat/completions",
        "admin-key",
        r#"{"model":"openai/gpt-4.1","messages":[],"stream":true,"stream_options":{"include_usage":true}}"#,
        &src,
        &h,
    ));
    assert!(matches!(fwd.response, ResponseMapping::Relay));
    let fwd = forward(plan(
        "/v1/chat/completions",
        "admin-key",
        r#"{"model":"openai/gpt-4.1","messages":[]}"#,
        &src,
        &h,
    ));
    assert!(sent_json(&fwd).get("stream_options").is_none());
}

#[test]
fn the_model_list_has_the_routes_a_key_may_use() {
    let src = settings(&[]);
    let h = host();
    let names = |key: &str| -> Vec<String> {
        match decide(&head("GET", "/v1/models", key), &src, &h).decision {
            Decision::Models(plan) => {
                let reply = crate::serve::models_reply(plan, Vec::new(), &h);
                let v: Value = serde_json::from_slice(&reply.body).unwrap();
                v["data"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["id"].as_str().unwrap().to_string())
                    .collect()
            }
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(names("admin-key"), ["claude-sonnet-4-5", "rr", "smart"]);
    assert_eq!(names("alice-key"), ["smart"]);
}

#[test]
fn an_instance_reads_a_routes_cooldowns_at_most_once_a_second() {
    let src = settings(&[]);
    let h = FakeHost::new().with_memory();
    h.now.set(NOW);
    let body = r#"{"model":"smart","messages":[]}"#;
    forward(plan("/v1/chat/completions", "admin-key", body, &src, &h));
    h.reset_calls();
    let fwd = forward(plan("/v1/chat/completions", "admin-key", body, &src, &h));
    assert_eq!(fwd.first().provider, "openai");
    assert_eq!(h.calls().store_get, 0, "{:?}", h.calls());
    // Another instance cools the first target down: seen within a second.
    let store = h.store.as_ref().unwrap();
    let mut book = CooldownBook::default();
    book.mark("openai/gpt-4.1", NOW + 60_000);
    store.set(&cooldown_record_key("route/smart"), &book.encode(NOW));
    h.now.set(NOW + 500);
    let fwd = forward(plan("/v1/chat/completions", "admin-key", body, &src, &h));
    assert_eq!(fwd.first().provider, "openai");
    h.now.set(NOW + 1_000);
    let fwd = forward(plan("/v1/chat/completions", "admin-key", body, &src, &h));
    assert_eq!(fwd.first().provider, "anthropic");
    // This instance's own failure is seen at once.
    h.now.set(NOW + 120_000);
    let mut fwd = forward(plan("/v1/chat/completions", "admin-key", body, &src, &h));
    assert_eq!(fwd.first().provider, "openai");
    assert!(next_target(&mut fwd, Outcome::Status(503), None, &h));
    let fwd = forward(plan("/v1/chat/completions", "admin-key", body, &src, &h));
    assert_eq!(fwd.first().provider, "anthropic");
}
