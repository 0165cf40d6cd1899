//! Field names as Google's JSON parser reads them: a request may spell any
//! field in camelCase (`mimeType`) or as its proto name in snake_case
//! (`mime_type`) — Google's Python SDK writes some nested ones that way
//! (`inline_data.mime_type`, `parameters_json_schema`, `thinking_budget`).
//! [`camel_case_fields`] rewrites a request's field names to camelCase
//! before the mappers read it, leaving alone what is the caller's own
//! data: a function call's `args`, a function response's `response`, the
//! property names of a schema and the whole of a JSON Schema.

use serde_json::{Map, Value};

/// `mime_type` → `mimeType` (a name without `_` is returned as it is).
fn camel(name: &str) -> Option<String> {
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

/// How a value's own fields are read.
#[derive(Clone, Copy)]
enum Kind {
    /// Caller data: left exactly as it is.
    Opaque,
    /// A message of the API: names camel-cased, fields by [`field_kind`].
    Message,
    /// An OpenAPI-subset `Schema`: keywords camel-cased, `properties` keys kept.
    Schema,
}

/// What the field `name` (camel-cased) of a message holds.
fn field_kind(name: &str) -> Kind {
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
