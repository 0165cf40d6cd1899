//! Requests for the tests that hold a borrowed mapper to the one over
//! `serde_json::Value`s it replaced: what the coding agents sent, and
//! variants of it — every node replaced by odd values in turn, and objects
//! that name a field twice (a map keeps the last).

use serde_json::Value;

/// The recorded request bodies of the clients in `tests/fixtures/clients`
/// named (`aider-chat`, …), both turns of each.
pub fn fixtures(clients: &[&str]) -> Vec<Value> {
    const ALL: &[(&str, &str)] = &[
        (
            "aider-chat",
            include_str!("../../tests/fixtures/clients/aider-chat/first.json"),
        ),
        (
            "aider-chat",
            include_str!("../../tests/fixtures/clients/aider-chat/tool_result.json"),
        ),
        (
            "opencode-chat",
            include_str!("../../tests/fixtures/clients/opencode-chat/first.json"),
        ),
        (
            "opencode-chat",
            include_str!("../../tests/fixtures/clients/opencode-chat/tool_result.json"),
        ),
        (
            "claude-code-translated",
            include_str!("../../tests/fixtures/clients/claude-code-translated/first.json"),
        ),
        (
            "claude-code-translated",
            include_str!("../../tests/fixtures/clients/claude-code-translated/tool_result.json"),
        ),
        (
            "opencode-messages",
            include_str!("../../tests/fixtures/clients/opencode-messages/first.json"),
        ),
        (
            "opencode-messages",
            include_str!("../../tests/fixtures/clients/opencode-messages/tool_result.json"),
        ),
        (
            "gemini-translated",
            include_str!("../../tests/fixtures/clients/gemini-translated/first.json"),
        ),
        (
            "gemini-translated",
            include_str!("../../tests/fixtures/clients/gemini-translated/tool_result.json"),
        ),
    ];
    ALL.iter()
        .filter(|(name, _)| clients.contains(name))
        .map(|(_, f)| serde_json::from_str::<Value>(f).unwrap()["body"].take())
        .collect()
}

/// Long strings cut short (the shape is what the variants vary).
pub fn shrink(v: &mut Value) {
    match v {
        Value::String(s) if s.len() > 48 => *s = s.chars().take(48).collect(),
        Value::Object(m) => m.values_mut().for_each(shrink),
        Value::Array(a) => a.iter_mut().for_each(shrink),
        _ => {}
    }
}

/// Every node's path (object names, array indexes).
fn paths(v: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(at.clone());
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| {
            at.push(k.clone());
            paths(c, at, out);
            at.pop();
        }),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| {
            at.push(i.to_string());
            paths(c, at, out);
            at.pop();
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

/// `mimeType` → `mime_type`.
pub fn snake(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Every name in `v` snake_cased (the caller's data too).
pub fn snake_all(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let old = std::mem::take(m);
            for (k, mut c) in old {
                snake_all(&mut c);
                m.insert(snake(&k), c);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(snake_all),
        _ => {}
    }
}

/// `v` as JSON text, the object at `path` (if it is one with a field)
/// naming its first field twice (`twin`: once spelled in snake_case): once
/// more with `extra`, before the field (`before`: the field's own value is
/// the last and stays) or after it.
fn with_twice(
    v: &Value,
    path: &[String],
    extra: &Value,
    (before, twin): (bool, bool),
    out: &mut String,
) {
    match v {
        Value::Object(m) => {
            out.push('{');
            let here = path.is_empty();
            for (i, (k, c)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let name = serde_json::to_string(k).unwrap();
                let other = match twin {
                    true => serde_json::to_string(&snake(k)).unwrap(),
                    false => name.clone(),
                };
                if here && i == 0 && before {
                    out.push_str(&format!("{other}:{extra},"));
                }
                out.push_str(&name);
                out.push(':');
                match path.split_first() {
                    Some((p, rest)) if p == k => with_twice(c, rest, extra, (before, twin), out),
                    _ => out.push_str(&c.to_string()),
                }
                if here && i == 0 && !before {
                    out.push_str(&format!(",{other}:{extra}"));
                }
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, c) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                match path.split_first() {
                    Some((p, rest)) if *p == i.to_string() => {
                        with_twice(c, rest, extra, (before, twin), out)
                    }
                    _ => out.push_str(&c.to_string()),
                }
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// `body` and its variants, as JSON texts; about `most` of them, the
/// nodes taken evenly.
pub fn variants(body: &Value, most: usize) -> Vec<Vec<u8>> {
    let replacements = [
        Value::Null,
        serde_json::json!(7),
        serde_json::json!(-1.5e3),
        serde_json::json!("x\"\\y\u{e9}_z"),
        serde_json::json!([1, "a", {"text": "t"}, {"type": "text", "text": "u"}]),
        serde_json::json!({}),
        serde_json::json!({"type": "text", "text": "t", "thought": true}),
        serde_json::json!(true),
        serde_json::json!(""),
    ];
    let mut all = Vec::new();
    paths(body, &mut Vec::new(), &mut all);
    let per_node = replacements.len() + 4;
    let step = (all.len() * per_node / most.max(1)).max(1);
    let mut out = vec![serde_json::to_vec(body).unwrap()];
    for path in all.iter().step_by(step) {
        for r in &replacements {
            let mut v = body.clone();
            *node(&mut v, path) = r.clone();
            out.push(serde_json::to_vec(&v).unwrap());
        }
        for how in [(true, false), (false, false), (true, true), (false, true)] {
            let mut text = String::new();
            with_twice(body, path, &replacements[3], how, &mut text);
            out.push(text.into_bytes());
        }
    }
    out
}
