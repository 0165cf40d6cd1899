//! Sizes of a request's parts, read once without building them: the bytes
//! of text in a value's strings, or the length of its compact JSON as
//! `serde_json` writes a value — what the token estimates count. The
//! result is what the same count over a `serde_json::Value` of the part
//! gives (an object a map: a repeated name counts once, its last value;
//! Gemini's names camel-cased first, as [`names::camel_case_fields`]
//! renames them), without the tree: a part of any size costs one small
//! record per name of each object still open.

use crate::translate::gemini_openai::names::{self, Kind};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

/// What is counted.
#[derive(Debug, Clone, Copy)]
pub enum Count {
    /// The UTF-8 bytes of every string, but what is under the names listed.
    Text(&'static [&'static str]),
    /// The length of the compact JSON.
    Json,
}

/// How an object's names are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// As written.
    Kept,
    /// A Gemini API message: camel-cased, its fields by their kind.
    Message,
    /// A Gemini OpenAPI-subset schema: keywords camel-cased.
    Schema,
    /// A schema's `properties`: names kept, each value a schema.
    Properties,
}

impl Names {
    /// How the value of the field `name` (as renamed) is read.
    pub fn field(self, name: &str) -> Names {
        match self {
            Names::Kept => Names::Kept,
            Names::Message => match names::field_kind(name) {
                Kind::Opaque => Names::Kept,
                Kind::Message => Names::Message,
                Kind::Schema => Names::Schema,
            },
            Names::Schema => match name {
                "properties" => Names::Properties,
                "items" | "anyOf" => Names::Schema,
                _ => Names::Kept,
            },
            Names::Properties => Names::Schema,
        }
    }

    /// How the items of an array are read.
    pub fn item(self) -> Names {
        match self {
            // An array of properties is no map of them: left as it is.
            Names::Properties => Names::Kept,
            other => other,
        }
    }

    fn renames(self) -> bool {
        matches!(self, Names::Message | Names::Schema)
    }
}

/// A value measured: its size, and how many items it has when it is an array.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Size {
    pub bytes: u64,
    pub items: Option<u64>,
}

/// Measures the value `raw`.
pub fn measure(raw: &RawValue, count: Count, names: Names) -> Size {
    let mut de = serde_json::Deserializer::from_str(raw.get());
    Measure { count, names }
        .deserialize(&mut de)
        .unwrap_or_default()
}

/// Counts bytes written.
struct Counter(u64);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len() as u64);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The length of `v` as compact JSON.
fn json_len(v: &impl serde::Serialize) -> u64 {
    let mut c = Counter(0);
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

/// An object name, borrowed unless it had escapes.
struct Name<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(s.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

#[derive(Clone, Copy)]
struct Measure {
    count: Count,
    names: Names,
}

impl Measure {
    fn scalar(self, json: impl FnOnce() -> u64) -> Size {
        Size {
            bytes: match self.count {
                Count::Text(_) => 0,
                Count::Json => json(),
            },
            items: None,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Measure {
    type Value = Size;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Size, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Measure {
    type Value = Size;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Size, E> {
        Ok(self.scalar(|| if b { 4 } else { 5 }))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Size, E> {
        Ok(self.scalar(|| json_len(&n)))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Size, E> {
        Ok(self.scalar(|| json_len(&n)))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Size, E> {
        Ok(self.scalar(|| json_len(&n)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Size, E> {
        Ok(self.scalar(|| 4))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Size, E> {
        let bytes = match self.count {
            Count::Text(_) => s.len() as u64,
            Count::Json => json_len(&s),
        };
        Ok(Size { bytes, items: None })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Size, A::Error> {
        let item = Measure {
            names: self.names.item(),
            ..self
        };
        let mut bytes = 0u64;
        let mut n = 0u64;
        while let Some(size) = seq.next_element_seed(item)? {
            bytes = bytes.saturating_add(size.bytes);
            n = n.saturating_add(1);
        }
        if let Count::Json = self.count {
            // `[`, `]` and a comma between items.
            bytes = bytes.saturating_add(n.max(1).saturating_add(1));
        }
        Ok(Size {
            bytes,
            items: Some(n),
        })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Size, A::Error> {
        // Each name as written, and what it adds (its value, and for JSON
        // the name as it is written out).
        let mut fields: Vec<(Cow<'de, str>, u64)> = Vec::new();
        while let Some(Name(key)) = map.next_key()? {
            let renamed = match self.names.renames() {
                true => names::camel(&key).map_or(Cow::Borrowed(key.as_ref()), Cow::Owned),
                false => Cow::Borrowed(key.as_ref()),
            };
            let bytes = match self.count {
                Count::Text(skip) if skip.contains(&renamed.as_ref()) => {
                    map.next_value::<IgnoredAny>()?;
                    0
                }
                Count::Text(_) => {
                    let names = self.names.field(&renamed);
                    map.next_value_seed(Measure { names, ..self })?.bytes
                }
                Count::Json => {
                    let names = self.names.field(&renamed);
                    let value = map.next_value_seed(Measure { names, ..self })?.bytes;
                    // `"name":value`
                    json_len(&renamed.as_ref())
                        .saturating_add(1)
                        .saturating_add(value)
                }
            };
            drop(renamed);
            fields.push((key, bytes));
        }
        let kept = resolve(fields, self.names.renames());
        let mut bytes = kept.iter().fold(0u64, |sum, b| sum.saturating_add(*b));
        if let Count::Json = self.count {
            // `{`, `}` and a comma between fields.
            bytes = bytes.saturating_add((kept.len() as u64).max(1).saturating_add(1));
        }
        Ok(Size { bytes, items: None })
    }
}

/// What each field of an object adds once it is a map: of a repeated name
/// the last value; renamed (`rename`), the camelCase spelling wins over a
/// snake_case twin, of those the first in name order (as
/// [`names::camel_fields`]).
fn resolve(mut fields: Vec<(Cow<str>, u64)>, rename: bool) -> Vec<u64> {
    if fields.len() < 2 {
        return fields.into_iter().map(|(_, b)| b).collect();
    }
    // Stable: of a repeated name, the last stays last.
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    let mut given: Vec<(Cow<str>, u64)> = Vec::with_capacity(fields.len());
    for f in fields {
        match given.last_mut() {
            Some(last) if last.0 == f.0 => *last = f,
            _ => given.push(f),
        }
    }
    if !rename || !given.iter().any(|(k, _)| k.contains('_')) {
        return given.into_iter().map(|(_, b)| b).collect();
    }
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for (k, b) in given.iter().filter(|(k, _)| !k.contains('_')) {
        out.insert(k.to_string(), *b);
    }
    for (k, b) in &given {
        if let Some(new) = names::camel(k) {
            out.entry(new).or_insert(*b);
        }
    }
    out.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn raw(v: &Value) -> Box<RawValue> {
        RawValue::from_string(v.to_string()).unwrap()
    }

    #[test]
    fn json_lengths_are_what_serde_json_writes_of_a_value() {
        for v in [
            json!(null),
            json!([]),
            json!({}),
            json!([1, -2, 3.5, 1e300, true, false, null, "a\"\n\u{1}é"]),
            json!({"b": {"x": [1, {"y": "z"}]}, "a": "", "c": []}),
        ] {
            let text = v.to_string();
            let size = measure(&raw(&v), Count::Json, Names::Kept);
            assert_eq!(size.bytes, text.len() as u64, "{text}");
        }
        // A repeated name: the map holds its last value.
        let dup = RawValue::from_string(r#"{"a": [1, 2, 3], "b": 1, "a": 10}"#.into()).unwrap();
        let size = measure(&dup, Count::Json, Names::Kept);
        assert_eq!(size.bytes, r#"{"a":10,"b":1}"#.len() as u64);
        // Written with spaces and escapes: counted as written again.
        let spaced = RawValue::from_string(r#"[ 1.50 , "\u00e9" ]"#.into()).unwrap();
        let size = measure(&spaced, Count::Json, Names::Kept);
        assert_eq!(size.bytes, r#"[1.5,"é"]"#.len() as u64);
        assert_eq!(size.items, Some(2));
    }

    #[test]
    fn text_counts_strings_but_what_is_skipped() {
        let v = raw(&json!([{"type": "text", "text": "abcd", "n": 12},
                           {"type": "image", "source": {"data": "AAAA"}}, "xy"]));
        let size = measure(&v, Count::Text(&["type", "source"]), Names::Kept);
        assert_eq!(size.bytes, 6);
        assert_eq!(size.items, Some(3));
    }

    #[test]
    fn gemini_names_are_camel_cased_first() {
        let mut v = json!({"parts": [{"inline_data": {"mime_type": "x", "data": "AAAA"}},
                                     {"text": "ab", "te_xt": "c"}],
                           "function_declarations": [{"name": "f", "parameters":
                               {"type": "OBJECT", "any_of": [], "properties": {"a_b": {"max_items": 1}}}}],
                           "mimeType": "m", "mime_type": "ignored"});
        let r = raw(&v);
        let text = measure(&r, Count::Text(&["inlineData"]), Names::Message);
        let json = measure(&r, Count::Json, Names::Message);
        names::camel_case_fields(&mut v);
        assert_eq!(json.bytes, v.to_string().len() as u64);
        // "ab", "c", "f", "OBJECT", "m".
        assert_eq!(text.bytes, 2 + 1 + 1 + 6 + 1);
    }

    /// The estimates as they were, over a `serde_json::Value` of the whole
    /// body: the oracles the borrowed ones are held to.
    mod reference {
        use crate::translate::gemini_openai::names;
        use serde_json::Value;

        pub fn anthropic(body: &[u8]) -> u64 {
            fn text_len(v: &Value) -> usize {
                match v {
                    Value::String(s) => s.len(),
                    Value::Array(a) => a.iter().map(text_len).sum(),
                    Value::Object(o) => o
                        .iter()
                        .filter(|(k, _)| {
                            !matches!(k.as_str(), "type" | "cache_control" | "id" | "tool_use_id")
                        })
                        .map(|(k, v)| match (k.as_str(), v) {
                            ("data", _) | ("source", _) => 0,
                            (_, Value::String(s)) => s.len(),
                            (_, other) => text_len(other),
                        })
                        .sum(),
                    _ => 0,
                }
            }
            let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let mut bytes = 0;
            for field in ["system", "messages", "tools"] {
                if let Some(v) = request.get(field) {
                    bytes += if field == "tools" {
                        serde_json::to_string(v).map_or(0, |s| s.len())
                    } else {
                        text_len(v)
                    };
                }
            }
            let messages = request
                .get("messages")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            (bytes.div_ceil(4) + 4 * messages + 3) as u64
        }

        pub fn gemini(body: &[u8]) -> Option<u64> {
            fn text_len(v: &Value) -> u64 {
                match v {
                    Value::String(s) => s.len() as u64,
                    Value::Array(a) => a.iter().map(text_len).sum(),
                    Value::Object(o) => o
                        .iter()
                        .filter(|(k, _)| !matches!(k.as_str(), "inlineData" | "fileData" | "role"))
                        .map(|(_, v)| text_len(v))
                        .sum(),
                    _ => 0,
                }
            }
            let mut req: Value = serde_json::from_slice(body).ok()?;
            names::camel_case_fields(&mut req);
            let inner = req.get("generateContentRequest").unwrap_or(&req);
            if !inner.is_object() {
                return None;
            }
            let mut bytes = 0u64;
            for field in ["contents", "systemInstruction"] {
                bytes = bytes.saturating_add(inner.get(field).map_or(0, text_len));
            }
            if let Some(tools) = inner.get("tools") {
                bytes = bytes.saturating_add(tools.to_string().len() as u64);
            }
            let turns = inner["contents"].as_array().map_or(0, Vec::len) as u64;
            Some(
                bytes
                    .div_ceil(4)
                    .saturating_add(turns.saturating_mul(4))
                    .saturating_add(3),
            )
        }
    }

    #[test]
    fn the_estimates_agree_with_the_value_ones() {
        use crate::translate::gemini_openai::embed::estimate_tokens;
        use crate::translate::raw::Fields;
        use crate::translate::variants::{fixtures, shrink, snake_all, variants};
        let mut anthropic = fixtures(&["claude-code-translated", "opencode-messages"]);
        anthropic.push(json!({"model": "m", "system": [{"type": "text", "text": "s", "cache_control": {}}],
            "messages": [{"role": "user", "content": [{"type": "image", "source": {"data": "AAAA"}},
                {"type": "tool_result", "tool_use_id": "x", "content": [{"type": "text", "text": "é"}]}]}],
            "tools": [{"name": "t", "input_schema": {"type": "object", "b": 1.50, "a": [true, null]}}]}));
        for mut body in anthropic {
            shrink(&mut body);
            for v in variants(&body, 300) {
                let Ok(top) = serde_json::from_slice::<Fields>(&v) else {
                    continue;
                };
                let reply = crate::handlers::messages::estimate(&top);
                let got: Value = serde_json::from_slice(&reply.body).unwrap();
                assert_eq!(
                    got["input_tokens"],
                    reference::anthropic(&v),
                    "{}",
                    String::from_utf8_lossy(&v)
                );
            }
        }
        let mut gemini = fixtures(&["gemini-translated"]);
        let wrapped: Vec<Value> = gemini
            .iter()
            .map(|b| json!({"generateContentRequest": b}))
            .collect();
        gemini.extend(wrapped);
        let snake: Vec<Value> = gemini
            .iter()
            .map(|b| {
                let mut b = b.clone();
                snake_all(&mut b);
                b
            })
            .collect();
        gemini.extend(snake);
        for mut body in gemini {
            shrink(&mut body);
            for v in variants(&body, 300) {
                assert_eq!(
                    estimate_tokens(&v).ok(),
                    reference::gemini(&v),
                    "{}",
                    String::from_utf8_lossy(&v)
                );
            }
        }
    }
}
