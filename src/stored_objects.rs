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
    // At the top of generateContent; inside countTokens'
    // `generateContentRequest`.
    ("cachedContent", "cachedContents", Where::Anywhere),
    ("cached_content", "cachedContents", Where::Anywhere),
    ("file_id", "files", Where::Anywhere),
    ("file_ids", "files", Where::Anywhere),
    ("fileUri", "files", Where::Anywhere),
    ("file_uri", "files", Where::Anywhere),
    ("vector_store_ids", "vector_stores", Where::Anywhere),
    // A code container by id (a string, or Anthropic's `{"id": …}`); a
    // hosted shell's `container_reference`; Anthropic's custom skills.
    ("container", "containers", Where::Anywhere),
    ("container_id", "containers", Where::Anywhere),
    ("skill_id", "skills", Where::Anywhere),
    // Google's file search stores, Vertex's RAG corpora and search data
    // stores.
    ("fileSearchStoreNames", "fileSearchStores", Where::Anywhere),
    (
        "file_search_store_names",
        "fileSearchStores",
        Where::Anywhere,
    ),
    ("ragCorpus", "ragCorpora", Where::Anywhere),
    ("rag_corpus", "ragCorpora", Where::Anywhere),
    ("datastore", "dataStores", Where::Anywhere),
    // The account's buckets: Bedrock's `s3Location`, Vertex's `gcsUri` and
    // `storageUri`.
    ("s3Location", "buckets", Where::Anywhere),
    ("s3_location", "buckets", Where::Anywhere),
    ("gcsUri", "buckets", Where::Anywhere),
    ("gcs_uri", "buckets", Where::Anywhere),
    ("storageUri", "buckets", Where::Anywhere),
    ("storage_uri", "buckets", Where::Anywhere),
    // A chat assistant message's `audio: {"id": …}`: a previous audio answer
    // kept by the provider (at the top, `audio` is the output's settings).
    ("audio", "audio", Where::Below),
    // A Responses input item that the provider looks up by its id (see
    // `Item`): an item of a stored response.
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
/// and output data, metadata): not read.
const CLIENTS_OWN: &[&str] = &[
    "input_schema",
    "inputSchema",
    "parametersJsonSchema",
    "parameters_json_schema",
    "properties",
    "schema",
    "json_schema",
    "responseSchema",
    "response_schema",
    "responseJsonSchema",
    "response_json_schema",
    "args",
    "arguments",
    "metadata",
    "json",
];

/// The same below the top level only: a function's `parameters` (at the top
/// they are Vertex `predict`'s), a tool call's `input` (at the top, a
/// Responses request's conversation), a Gemini function's `response`.
const CLIENTS_OWN_BELOW: &[&str] = &["parameters", "input", "response"];

/// A body the reader could not walk.
pub struct NotWalkable {
    /// It looks like JSON (an object or array): malformed, nested deeper than
    /// 128, or with a string that is no Unicode. Anything else (a binary
    /// body to an opaque endpoint) is not JSON at all.
    pub json: bool,
}

/// The kinds of stored objects `body` names (each once, in [`FIELDS`]'
/// order).
pub fn named(body: &[u8]) -> Result<Vec<(&'static str, &'static str)>, NotWalkable> {
    let mut found = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let walked = Walk {
        depth: 0,
        item: false,
        found: &mut found,
    }
    .deserialize(&mut de)
    .and_then(|_| de.end());
    if walked.is_err() {
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        return Err(NotWalkable {
            json: matches!(first, Some(b'{' | b'[')),
        });
    }
    let mut out: Vec<(&str, &str)> = Vec::new();
    for (field, kind, _) in FIELDS {
        if found.contains(field) && !out.iter().any(|(_, k)| k == kind) {
            out.push((field, kind));
        }
    }
    Ok(out)
}

/// Whether a string is a public web URL: not Google's file store (whose
/// host may be written in any case).
fn public_url(v: &str) -> bool {
    let head = v.get(..v.len().min(64)).unwrap_or(v).to_ascii_lowercase();
    let rest = head
        .strip_prefix("https://")
        .or_else(|| head.strip_prefix("http://"));
    rest.is_some_and(|r| !r.starts_with("generativelanguage.googleapis.com"))
}

/// What a value was, as far as naming goes.
enum Kind {
    Null,
    /// A string; whether it is a public web URL.
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
        (_, Kind::Str { .. }) => field != "prompt" && field != "audio",
        // A container or a previous audio answer by id (a new container's
        // settings name nothing: their `file_ids` are read on their own); a
        // stored prompt or conversation; a bucket's location.
        ("audio" | "container", Kind::Object { has_id }) => *has_id,
        ("prompt" | "conversation" | "s3Location" | "s3_location", Kind::Object { .. }) => true,
        (_, Kind::Object { .. }) => false,
        (
            "file_ids" | "vector_store_ids" | "fileSearchStoreNames" | "file_search_store_names",
            Kind::Array { empty },
        ) => !empty,
        (_, Kind::Array { .. }) => false,
    }
}

struct Walk<'f> {
    depth: usize,
    /// An item of a Responses request's `input`.
    item: bool,
    found: &'f mut Vec<&'static str>,
}

impl Walk<'_> {
    fn below(&mut self, item: bool) -> Walk<'_> {
        Walk {
            depth: self.depth + 1,
            item,
            found: &mut *self.found,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = Kind;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Kind, D::Error> {
        d.deserialize_any(self)
    }
}

/// What an input item says of itself: an item with an id and nothing that
/// carries its content is looked up in the provider's store (a bare
/// `{"id": …}` or `{"type": "item_reference", …}`; a reasoning item
/// without its `encrypted_content`; an image generation call without its
/// `result`).
#[derive(Default)]
struct Item {
    has_id: bool,
    kind: ItemType,
    /// Keys other than `id` and `type`.
    others: usize,
    encrypted_content: bool,
    result: bool,
}

#[derive(Default, PartialEq)]
enum ItemType {
    #[default]
    None,
    Reference,
    Reasoning,
    ImageGeneration,
    Other,
}

impl Item {
    fn refers(&self) -> bool {
        self.has_id
            && match self.kind {
                ItemType::None | ItemType::Reference => {
                    self.others == 0 || self.kind == ItemType::Reference
                }
                ItemType::Reasoning => !self.encrypted_content,
                ItemType::ImageGeneration => !self.result,
                ItemType::Other => false,
            }
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
        Ok(Kind::Str {
            public: public_url(v),
        })
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Kind, A::Error> {
        let mut empty = true;
        // The items of a Responses request's `input` (this array is the top
        // level's `input` when `self.item` is set on it).
        let items = self.item;
        while seq.next_element_seed(self.below(items))?.is_some() {
            empty = false;
        }
        Ok(Kind::Array { empty })
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Kind, A::Error> {
        let top = self.depth == 0;
        let mut item = Item::default();
        while let Some(key) = map.next_key_seed(KeySeed { top })? {
            match key {
                Key::Clients => {
                    map.next_value::<IgnoredAny>()?;
                    item.others += 1;
                }
                Key::Type => {
                    item.kind = map.next_value_seed(TypeSeed)?;
                }
                Key::Other(k) => {
                    // The top level's `input` holds the Responses items.
                    let items = top && k == Known::Input;
                    let kind = map.next_value_seed(self.below(items))?;
                    match k {
                        Known::Id => item.has_id = matches!(kind, Kind::Str { .. }),
                        Known::EncryptedContent => {
                            item.encrypted_content = matches!(kind, Kind::Str { .. });
                            item.others += 1;
                        }
                        Known::Result => {
                            item.result = !matches!(kind, Kind::Null);
                            item.others += 1;
                        }
                        _ => item.others += 1,
                    }
                }
                Key::Field(field) => {
                    let kind = map.next_value_seed(self.below(false))?;
                    if names(field, &kind) && !self.found.contains(&field) {
                        self.found.push(field);
                    }
                    item.others += 1;
                }
            }
        }
        if self.item && item.refers() && !self.found.contains(&"item_reference") {
            self.found.push("item_reference");
        }
        Ok(Kind::Object {
            has_id: item.has_id,
        })
    }
}

enum Key {
    /// A field of [`FIELDS`] where it counts.
    Field(&'static str),
    /// The client's own data: skipped.
    Clients,
    /// An object's `type`: read for what the object is.
    Type,
    Other(Known),
}

/// Keys read for what an object is.
#[derive(PartialEq)]
enum Known {
    Id,
    Input,
    EncryptedContent,
    Result,
    Any,
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
                Key::Other(Known::Any)
            });
        }
        if CLIENTS_OWN.contains(&k) || (!self.top && CLIENTS_OWN_BELOW.contains(&k)) {
            return Ok(Key::Clients);
        }
        Ok(match k {
            "type" => Key::Type,
            "id" => Key::Other(Known::Id),
            "input" => Key::Other(Known::Input),
            "encrypted_content" => Key::Other(Known::EncryptedContent),
            "result" => Key::Other(Known::Result),
            _ => Key::Other(Known::Any),
        })
    }
}

/// What an item's `type` says (any other value skipped).
struct TypeSeed;

impl<'de> DeserializeSeed<'de> for TypeSeed {
    type Value = ItemType;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ItemType, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TypeSeed {
    type Value = ItemType;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a type")
    }
    fn visit_str<E>(self, v: &str) -> Result<ItemType, E> {
        Ok(match v {
            "item_reference" => ItemType::Reference,
            "reasoning" => ItemType::Reasoning,
            "image_generation_call" => ItemType::ImageGeneration,
            _ => ItemType::Other,
        })
    }
    fn visit_unit<E>(self) -> Result<ItemType, E> {
        Ok(ItemType::None)
    }
    fn visit_bool<E>(self, _: bool) -> Result<ItemType, E> {
        Ok(ItemType::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<ItemType, E> {
        Ok(ItemType::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<ItemType, E> {
        Ok(ItemType::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<ItemType, E> {
        Ok(ItemType::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ItemType, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ItemType::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ItemType, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(ItemType::Other)
    }
}
