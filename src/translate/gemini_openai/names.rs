//! Field names as Google's JSON parser reads them: a request may spell any
//! field in camelCase (`mimeType`) or as its proto name in snake_case
//! (`mime_type`) — Google's Python SDK writes some nested ones that way
//! (`inline_data.mime_type`, `parameters_json_schema`, `thinking_budget`).
//! [`camel_case_fields`] rewrites a request's field names to camelCase
//! before the mappers read it, leaving alone what is the caller's own
//! data: a function call's `args`, a function response's `response`, the
//! property names of a schema and the whole of a JSON Schema.
//!
//! The request mapper reads its body borrowed instead, one level at a time:
//! [`get`] finds a field by its camelCase name in either spelling, and
//! [`camel_fields`] lists an object's fields as [`camel_case_fields`] would
//! have left them (renamed, deduplicated, in name order).

use crate::translate::raw::Fields;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// `mime_type` → `mimeType` (a name without `_` is returned as it is).
pub(crate) fn camel(name: &str) -> Option<String> {
    if !name.contains('_') {
        return None;
    }
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    Some(out)
}

/// Whether `key` camel-cased is `name` (what [`camel`] would give, without
/// building it).
fn camel_is(key: &str, name: &str) -> bool {
    let mut want = name.chars();
    let mut upper = false;
    let mut started = false;
    for c in key.chars() {
        if c == '_' && started {
            upper = true;
            continue;
        }
        if upper {
            if !c.to_uppercase().all(|u| want.next() == Some(u)) {
                return false;
            }
            upper = false;
        } else if want.next() != Some(c) {
            return false;
        }
        started = true;
    }
    want.next().is_none()
}

/// The value of the field `name` (camelCase, no `_`) of a message, spelled
/// either way: the camelCase spelling wins over a snake_case twin, as in
/// [`camel_case_fields`] (and of repeated names, the last).
pub fn get<'a>(fields: &Fields<'a>, name: &str) -> Option<&'a RawValue> {
    let mut exact = None;
    let mut snake: Option<(&str, &'a RawValue)> = None;
    for (k, v) in &fields.0 {
        if k == name {
            exact = Some(*v);
        } else if exact.is_none() && k.contains('_') && camel_is(k, name) {
            // Of several snake_case spellings, the first in name order wins.
            match snake {
                Some((s, _)) if s < k.as_ref() => {}
                _ => snake = Some((k.as_ref(), *v)),
            }
        }
    }
    exact.or(snake.map(|(_, v)| v))
}

/// A message's fields as [`camel_case_fields`] leaves them: camel-cased,
/// one value a name (the camelCase spelling's, else the first snake_case
/// one's in name order; of repeated names the last), in name order.
pub fn camel_fields<'a>(fields: &Fields<'a>) -> Vec<(String, &'a RawValue)> {
    let mut given: BTreeMap<&str, &'a RawValue> = BTreeMap::new();
    for (k, v) in &fields.0 {
        given.insert(k.as_ref(), *v);
    }
    let mut out: BTreeMap<String, &'a RawValue> = BTreeMap::new();
    for (k, v) in &given {
        if !k.contains('_') {
            out.insert(k.to_string(), *v);
        }
    }
    for (k, v) in &given {
        if let Some(new) = camel(k) {
            out.entry(new).or_insert(*v);
        }
    }
    out.into_iter().collect()
}

/// The smallest camel-cased name of a message's fields but `except`.
pub fn first_name(fields: &Fields, except: &[&str]) -> Option<String> {
    fields
        .0
        .iter()
        .map(|(k, _)| camel(k).unwrap_or_else(|| k.to_string()))
        .filter(|k| !except.contains(&k.as_str()))
        .min()
}

/// How a value's own fields are read.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// Caller data: left exactly as it is.
    Opaque,
    /// A message of the API: names camel-cased, fields by [`field_kind`].
    Message,
    /// An OpenAPI-subset `Schema`: keywords camel-cased, `properties` keys kept.
    Schema,
}

/// What the field `name` (camel-cased) of a message holds.
pub(crate) fn field_kind(name: &str) -> Kind {
    match name {
        "args" | "response" | "parametersJsonSchema" | "responseJsonSchema" | "labels" => {
            Kind::Opaque
        }
        "parameters" | "responseSchema" => Kind::Schema,
        _ => Kind::Message,
    }
}

/// Renames the keys of `map` to camelCase (a camel-cased name already
/// present wins over its snake-cased twin).
fn rename(map: &mut Map<String, Value>) {
    let snake: Vec<String> = map.keys().filter(|k| k.contains('_')).cloned().collect();
    for old in snake {
        let Some(new) = camel(&old) else { continue };
        if let Some(v) = map.remove(&old) {
            map.entry(new).or_insert(v);
        }
    }
}

fn walk(v: &mut Value, kind: Kind) {
    match (v, kind) {
        (_, Kind::Opaque) => {}
        (Value::Array(items), _) => items.iter_mut().for_each(|i| walk(i, kind)),
        (Value::Object(map), Kind::Message) => {
            rename(map);
            for (k, v) in map.iter_mut() {
                walk(v, field_kind(k));
            }
        }
        (Value::Object(map), Kind::Schema) => {
            rename(map);
            for (k, v) in map.iter_mut() {
                match k.as_str() {
                    // Property names are the caller's; each value is a schema.
                    "properties" => {
                        if let Value::Object(props) = v {
                            props.values_mut().for_each(|s| walk(s, Kind::Schema));
                        }
                    }
                    "items" | "anyOf" => walk(v, Kind::Schema),
                    // `enum`, `required`, `propertyOrdering`, `default`, `example`:
                    // values, not names.
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// Rewrites the field names of a Gemini API request (any method) to
/// camelCase, in place.
pub fn camel_case_fields(request: &mut Value) {
    walk(request, Kind::Message);
}

/// Rewrites the keywords of an OpenAPI-subset `Schema` to camelCase, in
/// place (property names left as they are).
pub fn camel_case_schema(schema: &mut Value) {
    walk(schema, Kind::Schema);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn names_are_camel_cased_but_caller_data_is_not() {
        let mut req = json!({
            "contents": [{"role": "user", "parts": [
                {"inline_data": {"mime_type": "image/png", "data": "iVBO"}},
                {"file_data": {"file_uri": "gs://b/f.png", "mime_type": "image/png"}},
                {"function_call": {"name": "f", "args": {"snake_arg": 1}}},
                {"function_response": {"name": "f", "response": {"out_put": "x"}}}]}],
            "system_instruction": {"parts": [{"text": "s"}]},
            "tools": [{"function_declarations": [
                {"name": "g", "parameters_json_schema": {"type": "object",
                    "properties": {"file_path": {"type": "string"}}, "additionalProperties": false}},
                {"name": "h", "parameters": {"type": "OBJECT", "property_ordering": ["a_b"],
                    "properties": {"a_b": {"type": "ARRAY", "max_items": "2",
                        "items": {"type": "STRING", "any_of": []}}}}}]}],
            "tool_config": {"function_calling_config": {"mode": "ANY", "allowed_function_names": ["g"]}},
            "generation_config": {"max_output_tokens": 5, "thinking_config": {"thinking_budget": 1024},
                "response_mime_type": "application/json",
                "response_json_schema": {"properties": {"x_y": {}}}},
            "labels": {"team_name": "a"}
        });
        camel_case_fields(&mut req);
        assert_eq!(
            req,
            json!({
                "contents": [{"role": "user", "parts": [
                    {"inlineData": {"mimeType": "image/png", "data": "iVBO"}},
                    {"fileData": {"fileUri": "gs://b/f.png", "mimeType": "image/png"}},
                    {"functionCall": {"name": "f", "args": {"snake_arg": 1}}},
                    {"functionResponse": {"name": "f", "response": {"out_put": "x"}}}]}],
                "systemInstruction": {"parts": [{"text": "s"}]},
                "tools": [{"functionDeclarations": [
                    {"name": "g", "parametersJsonSchema": {"type": "object",
                        "properties": {"file_path": {"type": "string"}}, "additionalProperties": false}},
                    {"name": "h", "parameters": {"type": "OBJECT", "propertyOrdering": ["a_b"],
                        "properties": {"a_b": {"type": "ARRAY", "maxItems": "2",
                            "items": {"type": "STRING", "anyOf": []}}}}}]}],
                "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["g"]}},
                "generationConfig": {"maxOutputTokens": 5, "thinkingConfig": {"thinkingBudget": 1024},
                    "responseMimeType": "application/json",
                    "responseJsonSchema": {"properties": {"x_y": {}}}},
                "labels": {"team_name": "a"}
            })
        );
    }

    #[test]
    fn camel_case_wins_and_odd_names_survive() {
        let mut v = json!({"mimeType": "a", "mime_type": "b", "_x": 1, "y_": 2});
        camel_case_fields(&mut v);
        assert_eq!(v, json!({"mimeType": "a", "_x": 1, "y": 2}));
    }
}
