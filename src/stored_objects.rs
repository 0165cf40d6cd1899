//! Which objects stored in a provider account an inference body names (a
//! stored response or conversation, a file, a vector store, a cached
//! context, a code container, a stored prompt): read where each field means
//! that, never inside what the client defines itself — a tool's JSON
//! schema (a parameter may well be called `prompt` or `file_id`), a tool
//! call's arguments or input, a function's response, metadata. One pass of
//! the borrowed reader over the body, nothing kept but the kinds found.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// The fields, the kind of object each names (as the provider's API path
/// names it), and where it counts.
pub const FIELDS: &[(&str, &str, Where)] = &[
    ("previous_response_id", "responses", Where::Top),
    ("conversation", "conversations", Where::Top),
    ("prompt", "prompts", Where::Top),
    ("cachedContent", "cachedContents", Where::Top),
    ("cached_content", "cachedContents", Where::Top),
    ("file_id", "files", Where::Anywhere),
    ("file_ids", "files", Where::Anywhere),
    ("fileUri", "files", Where::Anywhere),
    ("file_uri", "files", Where::Anywhere),
    ("vector_store_ids", "vector_stores", Where::Anywhere),
    ("container", "containers", Where::Anywhere),
    // A chat assistant message's `audio: {"id": …}`: a previous audio answer
    // kept by the provider (at the top, `audio` is the output's settings).
    ("audio", "audio", Where::Below),
    // A Responses input item `{"type": "item_reference", "id": …}`: an item
    // of a stored response (found by its `type`, see `Walk::visit_map`).
    ("item_reference", "responses", Where::Below),
];

#[derive(Clone, Copy, PartialEq)]
pub enum Where {
    /// A field of the request itself.
    Top,
    /// At any depth outside what the client defines itself.
    Anywhere,
    /// Below the top level, outside what the client defines itself.
    Below,
}

/// Keys whose values the client defines (schemas, arguments, tool input
/// and output data, metadata): not read. `input` (a tool call's) and
/// `response` (a Gemini function's) only below the top level (at the top
/// `input` is a Responses request's conversation).
const CLIENTS_OWN: &[&str] = &[
    "input_schema",
    "inputSchema",
    "parameters",
    "parametersJsonSchema",
    "properties",
    "schema",
    "json_schema",
    "responseSchema",
    "response_schema",
    "responseJsonSchema",
    "args",
    "arguments",
    "metadata",
    "json",
];

/// The kinds of stored objects `body` names (each once, in [`FIELDS`]'
/// order), or `None` when it is not JSON the reader can walk (then the
/// caller decides conservatively).
pub fn named(body: &[u8]) -> Option<Vec<(&'static str, &'static str)>> {
    let mut found = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    Walk {
        depth: 0,
        found: &mut found,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    let mut out: Vec<(&str, &str)> = Vec::new();
    for (field, kind, _) in FIELDS {
        if found.contains(field) && !out.iter().any(|(_, k)| k == kind) {
            out.push((field, kind));
        }
    }
    Some(out)
}

/// What a value was, as far as naming goes.
enum Kind {
    Null,
    /// A string; whether it is a public web URL (not Google's file store).
    Str {
        public: bool,
    },
    Array {
        empty: bool,
    },
    Object {
        /// It has a string `id`.
        has_id: bool,
    },
    Other,
}

fn names(field: &str, kind: &Kind) -> bool {
    match (field, kind) {
        (_, Kind::Null | Kind::Other) => false,
        ("fileUri" | "file_uri", Kind::Str { public }) => !public,
        (_, Kind::Str { .. }) => field != "prompt",
        // A new container's settings name nothing (its `file_ids` are read
        // on their own); a stored prompt or conversation is an object.
        ("audio", Kind::Object { has_id }) => *has_id,
        (_, Kind::Object { .. }) => field == "prompt" || field == "conversation",
        ("file_ids" | "vector_store_ids", Kind::Array { empty }) => !empty,
        (_, Kind::Array { .. }) => false,
    }
}

struct Walk<'f> {
    depth: usize,
    found: &'f mut Vec<&'static str>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = Kind;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = Kind;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_unit<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
    fn visit_none<E>(self) -> Result<Kind, E> {
        Ok(Kind::Null)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Kind, E> {
        Ok(Kind::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Kind, E> {
        Ok(Kind::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Kind, E> {
        Ok(Kind::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Kind, E> {
        Ok(Kind::Other)
    }
    fn visit_str<E>(self, v: &str) -> Result<Kind, E> {
        let public = (v.starts_with("https://") || v.starts_with("http://"))
            && !v.starts_with("https://generativelanguage.googleapis.com/");
        Ok(Kind::Str { public })
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Kind, A::Error> {
        let mut empty = true;
        while seq
            .next_element_seed(Walk {
                depth: self.depth + 1,
                found: &mut *self.found,
            })?
            .is_some()
        {
            empty = false;
        }
        Ok(Kind::Array { empty })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Kind, A::Error> {
        let mut has_id = false;
        let mut item_reference = false;
        while let Some(key) = map.next_key_seed(KeySeed {
            top: self.depth == 0,
        })? {
            match key {
                Key::Clients => {
                    map.next_value::<IgnoredAny>()?;
                }
                Key::Id => {
                    let kind = map.next_value_seed(Walk {
                        depth: self.depth + 1,
                        found: &mut *self.found,
                    })?;
                    has_id = matches!(kind, Kind::Str { .. });
                }
                Key::Type => {
                    item_reference = map.next_value_seed(TypeSeed)?;
                }
                Key::Other => {
                    map.next_value_seed(Walk {
                        depth: self.depth + 1,
                        found: &mut *self.found,
                    })?;
                }
                Key::Field(field) => {
                    let kind = map.next_value_seed(Walk {
                        depth: self.depth + 1,
                        found: &mut *self.found,
                    })?;
                    if names(field, &kind) && !self.found.contains(&field) {
                        self.found.push(field);
                    }
                }
            }
        }
        if item_reference && has_id && self.depth > 0 && !self.found.contains(&"item_reference") {
            self.found.push("item_reference");
        }
        Ok(Kind::Object { has_id })
    }
}

enum Key {
    /// A field of [`FIELDS`] where it counts.
    Field(&'static str),
    /// The client's own data: skipped.
    Clients,
    /// An object's `id` and `type`: read for what the object is.
    Id,
    Type,
    Other,
}

struct KeySeed {
    top: bool,
}

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Key, D::Error> {
        d.deserialize_str(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = Key;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E>(self, k: &str) -> Result<Key, E> {
        if let Some((field, _, at)) = FIELDS.iter().find(|(f, ..)| *f == k) {
            let counts = match at {
                Where::Top => self.top,
                Where::Anywhere => true,
                Where::Below => !self.top,
            };
            return Ok(if counts {
                Key::Field(field)
            } else {
                Key::Other
            });
        }
        if k == "id" {
            return Ok(Key::Id);
        }
        if k == "type" {
            return Ok(Key::Type);
        }
        if CLIENTS_OWN.contains(&k) || (!self.top && (k == "input" || k == "response")) {
            return Ok(Key::Clients);
        }
        Ok(Key::Other)
    }
}

/// Whether a `type` is `item_reference` (any other value skipped).
struct TypeSeed;

impl<'de> DeserializeSeed<'de> for TypeSeed {
    type Value = bool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TypeSeed {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a type")
    }
    fn visit_str<E>(self, v: &str) -> Result<bool, E> {
        Ok(v == "item_reference")
    }
    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_bool<E>(self, _: bool) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_i64<E>(self, _: i64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_u64<E>(self, _: u64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_f64<E>(self, _: f64) -> Result<bool, E> {
        Ok(false)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}
