//! Cloudflare AI Gateway's Universal Endpoint (SPEC §6): a step or an array
//! of steps `{provider, endpoint?, headers?, query}`; the proxy fills in each
//! step's provider auth (the step's own headers win) and default endpoint, and
//! always posts an array to `{gateway base}/{account}/{gateway}`.
//!
//! Cloudflare marks the Universal Endpoint deprecated for new integrations;
//! it stays for parity with the seed proxy.

use crate::errors::ErrorReply;
use crate::gateway::{self, GatewayTarget};
use crate::host::Host;
use crate::keys::KeySelection;
use crate::providers::{self, ResolveError};
use crate::request::RequestHead;
use crate::settings::SettingSource;
use crate::translate::raw::{
    as_str, for_each_field, for_each_maybe_object, is_nonempty_array, write_str, Fields,
};
use crate::upstream::headers::{auth_header, client_headers};
use crate::upstream::pick::pick_key;
use crate::upstream::UpstreamRequest;
use serde_json::value::RawValue;
#[cfg(test)]
use serde_json::Value;
use std::borrow::Cow;
use std::cmp::Ordering;

fn bad(message: impl Into<String>, code: &'static str) -> ErrorReply {
    ErrorReply::bad_request(message, code)
}

/// Header names compared as HTTP compares them (ASCII case ignored).
fn cmp_names(a: &str, b: &str) -> Ordering {
    let a = a.bytes().map(|b| b.to_ascii_lowercase());
    a.cmp(b.bytes().map(|b| b.to_ascii_lowercase()))
}

/// A step's headers: the provider's defaults and auth, then the step's own
/// (which win, a name matched without regard to case; of the step's own
/// that differ only in case, the last in name order), as a JSON object.
fn write_headers(out: &mut Vec<u8>, base: &[(String, String)], own: Option<&RawValue>) {
    let mut given: Vec<(Cow<str>, &RawValue)> = Vec::new();
    if let Some(own) = own {
        for_each_field(own, |k, v| given.push((k, v)));
    }
    // By name without case, then as written, then in order: of each name
    // (without case) the last wins.
    given.sort_by(|a, b| cmp_names(&a.0, &b.0).then_with(|| a.0.cmp(&b.0)));
    let mut first = true;
    let mut field = |out: &mut Vec<u8>, name: &str| {
        if !std::mem::take(&mut first) {
            out.push(b',');
        }
        write_str(out, name);
        out.push(b':');
    };
    out.push(b'{');
    for (k, v) in base {
        let mine = given.binary_search_by(|(g, _)| cmp_names(g, k)).is_ok();
        if !mine {
            field(out, k);
            write_str(out, v);
        }
    }
    for (i, (k, v)) in given.iter().enumerate() {
        let last = given
            .get(i + 1)
            .is_none_or(|(next, _)| cmp_names(next, k) != Ordering::Equal);
        if last {
            field(out, k);
            out.extend_from_slice(v.get().as_bytes());
        }
    }
    out.push(b'}');
}

pub fn plan(
    head: &RequestHead,
    body: &[u8],
    src: &dyn SettingSource,
    gateway: &GatewayTarget,
    selection: Option<KeySelection>,
    host: &dyn Host,
) -> Result<UpstreamRequest, ErrorReply> {
    let parsed: &RawValue = serde_json::from_slice(body)
        .map_err(|e| bad(format!("invalid JSON body: {e}"), "invalid_json"))?;
    let single = parsed.get().starts_with('{');
    if !single && !is_nonempty_array(parsed) {
        return Err(bad(
            "the body must be a step object or a non-empty array of steps",
            "invalid_body",
        ));
    }
    let mut out = Vec::with_capacity(body.len() + 256);
    out.push(b'[');
    let mut i = 0usize;
    let mut refused = None;
    let mut step_of = |step: Option<Fields>| {
        if refused.is_some() {
            return;
        }
        if i > 0 {
            out.push(b',');
        }
        match write_step(&mut out, i, step, src, selection, host) {
            Ok(()) => {}
            Err(e) => refused = Some(e),
        }
        // safe: one per step, far below usize::MAX.
        i += 1;
    };
    if single {
        step_of(Fields::of(parsed));
    } else {
        for_each_maybe_object(parsed, &mut step_of);
    }
    if let Some(e) = refused {
        return Err(e);
    }
    out.push(b']');
    let body = out;
    let mut headers = client_headers(head);
    headers.retain(|(n, _)| n != "content-length" && n != "content-type");
    headers.extend(gateway::token_header(src));
    headers.push(("content-type".into(), b"application/json".to_vec()));
    headers.push(("content-length".into(), body.len().to_string().into_bytes()));
    Ok(UpstreamRequest {
        method: "POST".into(),
        base: gateway.base.clone(),
        path_with_query: gateway.root(),
        headers,
        provider: "universal".into(),
        body: Some(body.into()),
        key_fingerprint: None,
        cloud_auth: None,
    })
}

/// Writes step `i` with its provider's auth and default headers (the
/// step's own win) and endpoint filled in, every other field as given.
fn write_step(
    out: &mut Vec<u8>,
    i: usize,
    step: Option<Fields>,
    src: &dyn SettingSource,
    selection: Option<KeySelection>,
    host: &dyn Host,
) -> Result<(), ErrorReply> {
    let Some(step) = step else {
        return Err(bad(format!("step {i} must be an object"), "invalid_body"));
    };
    let name = step
        .get("provider")
        .and_then(as_str)
        .ok_or_else(|| {
            bad(
                format!("step {i} needs a string 'provider'"),
                "invalid_body",
            )
        })?
        .into_owned();
    let provider = match providers::resolve(&name, src) {
        Ok(p) if p.auth == crate::providers::AuthStyle::Cloud => {
            return Err(bad(
                format!("provider '{name}' in step {i} needs per-request signing or a minted token, which the Universal Endpoint cannot carry; use /{name}/... or /v1/chat/completions"),
                "unsupported_provider",
            ))
        }
        Ok(p) if p.spec.is_some_and(|s| s.gateway) => p,
        Ok(_) | Err(ResolveError::Unknown) => {
            return Err(bad(
                format!("unknown provider '{name}' in step {i} (not one the gateway supports)"),
                "unknown_provider",
            ))
        }
        Err(ResolveError::Misconfigured(e)) => return Err(e),
    };
    let endpoint = match step.get("endpoint").and_then(as_str) {
        Some(e) => e.into_owned(),
        None => provider
            .chat_path
            .as_deref()
            .map(|p| p.trim_start_matches('/').to_string())
            .ok_or_else(|| {
                bad(
                    format!("step {i}: provider '{name}' needs an 'endpoint'"),
                    "invalid_body",
                )
            })?,
    };
    let key = pick_key(&provider, selection, src, host)?;
    // The provider's auth and default headers, then the step's own (which win).
    let mut base: Vec<(String, String)> = Vec::new();
    let mut set = |k: String, v: String| match base.iter_mut().find(|(n, _)| *n == k) {
        Some(slot) => slot.1 = v,
        None => base.push((k, v)),
    };
    for (k, v) in &provider.default_headers {
        set(k.to_string(), v.to_string());
    }
    if let Some((k, v)) = key
        .as_deref()
        .and_then(|key| auth_header(provider.auth, &format!("/{endpoint}"), key))
    {
        set(k, v);
    }
    out.push(b'{');
    for (k, v) in step.unique() {
        if !matches!(k, "provider" | "endpoint" | "headers") {
            write_str(out, k);
            out.push(b':');
            out.extend_from_slice(v.get().as_bytes());
            out.push(b',');
        }
    }
    out.extend_from_slice(br#""provider":"#);
    write_str(out, &provider.name);
    out.extend_from_slice(br#","endpoint":"#);
    write_str(out, &endpoint);
    out.extend_from_slice(br#","headers":"#);
    write_headers(out, &base, step.get("headers"));
    out.push(b'}');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn src() -> HashMap<String, String> {
        [
            ("OPENAI_API_KEY", "sk-o"),
            ("ANTHROPIC_API_KEY", "sk-a"),
            ("CLOUDFLARE_ACCOUNT_ID", "acc"),
            ("OLLAMA_API_KEY", "ol"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    fn run(body: &str) -> Result<Value, ErrorReply> {
        let s = src();
        let gw = gateway::explicit("gw", &s).unwrap();
        let up = plan(
            &RequestHead::new("POST", "/", vec![]),
            body.as_bytes(),
            &s,
            &gw,
            None,
            &crate::host::Fixed {
                random: 0,
                now_ms: 0,
            },
        )?;
        assert_eq!(up.url(), "https://gateway.ai.cloudflare.com/v1/acc/gw");
        Ok(serde_json::from_slice(up.body.as_ref().unwrap()).unwrap())
    }

    #[test]
    fn a_single_step_becomes_an_array_with_auth_and_endpoint() {
        let v =
            run(r#"{"provider":"anthropic","query":{"model":"claude","messages":[]}}"#).unwrap();
        assert_eq!(
            v,
            serde_json::json!([{"provider": "anthropic", "endpoint": "v1/chat/completions",
                "headers": {"anthropic-version": "2023-06-01", "x-api-key": "sk-a"},
                "query": {"model": "claude", "messages": []}}])
        );
    }

    #[test]
    fn step_headers_and_endpoint_win() {
        let v = run(r#"[{"provider":"openai","endpoint":"embeddings","headers":{"Authorization":"Bearer mine","x":"1"},"query":{}},
                        {"provider":"anthropic","query":{}}]"#)
        .unwrap();
        assert_eq!(v[0]["endpoint"], "embeddings");
        assert_eq!(
            v[0]["headers"],
            serde_json::json!({"Authorization": "Bearer mine", "x": "1"})
        );
        assert_eq!(v[1]["headers"]["x-api-key"], "sk-a");
    }

    #[test]
    fn unknown_or_unsupported_provider_is_named() {
        let e = run(r#"[{"provider":"openai","query":{}},{"provider":"nope","query":{}}]"#)
            .unwrap_err();
        assert!(
            e.message.contains("'nope'") && e.message.contains("step 1"),
            "{}",
            e.message
        );
        assert!(run(r#"{"provider":"ollama","query":{}}"#)
            .unwrap_err()
            .message
            .contains("ollama"));
        assert_eq!(run("[]").unwrap_err().code, "invalid_body");
        assert_eq!(run("{").unwrap_err().code, "invalid_json");
        assert_eq!(run(r#"[1]"#).unwrap_err().code, "invalid_body");
    }
}

/// The plan as it was before it read bodies borrowed: the whole body a
/// `serde_json::Value`. Kept for the tests only, as the oracle the borrowed
/// plan is held to.
#[cfg(test)]
mod reference {
    use super::*;
    use serde_json::{Map, Value};

    pub fn plan(
        head: &RequestHead,
        body: &[u8],
        src: &dyn SettingSource,
        gateway: &GatewayTarget,
        selection: Option<KeySelection>,
        host: &dyn Host,
    ) -> Result<UpstreamRequest, ErrorReply> {
        let parsed: Value = serde_json::from_slice(body)
            .map_err(|e| bad(format!("invalid JSON body: {e}"), "invalid_json"))?;
        let steps = match parsed {
            Value::Object(step) => vec![Value::Object(step)],
            Value::Array(steps) if !steps.is_empty() => steps,
            _ => {
                return Err(bad(
                    "the body must be a step object or a non-empty array of steps",
                    "invalid_body",
                ))
            }
        };
        let mut out = Vec::with_capacity(steps.len());
        for (i, step) in steps.into_iter().enumerate() {
            let Value::Object(mut step) = step else {
                return Err(bad(format!("step {i} must be an object"), "invalid_body"));
            };
            let name = step
                .get("provider")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    bad(
                        format!("step {i} needs a string 'provider'"),
                        "invalid_body",
                    )
                })?
                .to_string();
            let provider = match providers::resolve(&name, src) {
                Ok(p) if p.auth == crate::providers::AuthStyle::Cloud => {
                    return Err(bad(
                        format!("provider '{name}' in step {i} needs per-request signing or a minted token, which the Universal Endpoint cannot carry; use /{name}/... or /v1/chat/completions"),
                        "unsupported_provider",
                    ))
                }
                Ok(p) if p.spec.is_some_and(|s| s.gateway) => p,
                Ok(_) | Err(ResolveError::Unknown) => {
                    return Err(bad(
                        format!("unknown provider '{name}' in step {i} (not one the gateway supports)"),
                        "unknown_provider",
                    ))
                }
                Err(ResolveError::Misconfigured(e)) => return Err(e),
            };
            let endpoint = match step.get("endpoint").and_then(Value::as_str) {
                Some(e) => e.to_string(),
                None => provider
                    .chat_path
                    .as_deref()
                    .map(|p| p.trim_start_matches('/').to_string())
                    .ok_or_else(|| {
                        bad(
                            format!("step {i}: provider '{name}' needs an 'endpoint'"),
                            "invalid_body",
                        )
                    })?,
            };
            let key = pick_key(&provider, selection, src, host)?;
            // The provider's auth and default headers, then the step's own (which win).
            let mut headers = Map::new();
            for (k, v) in &provider.default_headers {
                headers.insert(k.clone(), Value::String(v.clone()));
            }
            if let Some((k, v)) = key
                .as_deref()
                .and_then(|key| auth_header(provider.auth, &format!("/{endpoint}"), key))
            {
                headers.insert(k, Value::String(v));
            }
            if let Some(own) = step.get("headers").and_then(Value::as_object) {
                for (k, v) in own {
                    headers.retain(|existing, _| !existing.eq_ignore_ascii_case(k));
                    headers.insert(k.clone(), v.clone());
                }
            }
            step.insert("provider".into(), Value::String(provider.name.clone()));
            step.insert("endpoint".into(), Value::String(endpoint));
            step.insert("headers".into(), Value::Object(headers));
            out.push(Value::Object(step));
        }
        let body = serde_json::to_vec(&Value::Array(out))
            .map_err(|_| bad("could not encode the body", "invalid_body"))?;
        let mut headers = client_headers(head);
        headers.retain(|(n, _)| n != "content-length" && n != "content-type");
        headers.extend(gateway::token_header(src));
        headers.push(("content-type".into(), b"application/json".to_vec()));
        headers.push(("content-length".into(), body.len().to_string().into_bytes()));
        Ok(UpstreamRequest {
            method: "POST".into(),
            base: gateway.base.clone(),
            path_with_query: gateway.root(),
            headers,
            provider: "universal".into(),
            body: Some(body.into()),
            key_fingerprint: None,
            cloud_auth: None,
        })
    }

    #[test]
    fn the_borrowed_plan_agrees_with_the_value_one() {
        use crate::translate::variants::variants;
        let s: std::collections::HashMap<String, String> = crate::settings::from_pairs(&[
            ("OPENAI_API_KEY", "sk-o"),
            ("ANTHROPIC_API_KEY", "sk-a"),
            ("CLOUDFLARE_ACCOUNT_ID", "acc"),
            ("OLLAMA_API_KEY", "ol"),
        ]);
        let gw = gateway::explicit("gw", &s).unwrap();
        let host = crate::host::Fixed {
            random: 0,
            now_ms: 0,
        };
        let head = RequestHead::new("POST", "/", vec![]);
        let bodies = [
            serde_json::json!([{"provider": "openai", "endpoint": "embeddings", "headers": {"Authorization": "Bearer mine", "authorization": "b", "X-A": 1, "x-a": 2, "x-b": null}, "query": {"a": [1, {"b": 2}]}, "extra": true},
                {"provider": "anthropic", "query": {}}, {"provider": "ollama", "query": {}}]),
            serde_json::json!({"provider": "anthropic", "endpoint": "v1/messages", "query": {"model": "claude", "messages": []}}),
        ];
        for body in bodies {
            for v in variants(&body, 600) {
                let what = String::from_utf8_lossy(&v);
                let new = super::plan(&head, &v, &s, &gw, None, &host);
                let old = plan(&head, &v, &s, &gw, None, &host);
                match (new, old) {
                    (Ok(new), Ok(old)) => {
                        let body = |u: &UpstreamRequest| -> Value {
                            serde_json::from_slice(u.body.as_deref().unwrap()).unwrap()
                        };
                        assert_eq!(body(&new), body(&old), "{what}");
                        let head = |u: &UpstreamRequest| {
                            let mut h = u.headers.clone();
                            h.retain(|(n, _)| n != "content-length");
                            (u.url(), h)
                        };
                        assert_eq!(head(&new), head(&old), "{what}");
                    }
                    (Err(new), Err(old)) => {
                        assert_eq!((new.code, new.status), (old.code, old.status), "{what}")
                    }
                    (new, old) => panic!("{what}: {:?} vs {:?}", new.map(|_| ()), old.map(|_| ())),
                }
            }
        }
    }
}
