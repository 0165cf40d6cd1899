//! Borrowed JSON for the request mappers: the client's body is read one
//! level at a time ([`Fields`]), every value it does not need to look into
//! stays a slice of the client's bytes, and the translated body is written
//! straight into a buffer ([`ObjectBuf`]) with those slices copied as they
//! are. Text, tool schemas and tool results cross a translation without
//! being unescaped, allocated as values or escaped again — what keeps a
//! 1 MB Claude Code turn in the low milliseconds.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// An object key, borrowed unless it had escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A JSON object's fields in order, each value a raw slice of the input.
#[derive(Debug, Default)]
pub struct Fields<'a>(pub Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(4));
                while let Some(Key(k)) = map.next_key()? {
                    let v: &'de RawValue = map.next_value()?;
                    fields.push((k, v));
                }
                Ok(Fields(fields))
            }
        }
        d.deserialize_map(V)
    }
}

impl<'a> Fields<'a> {
    /// Parses `raw` as an object; `None` when it is something else.
    pub fn of(raw: &'a RawValue) -> Option<Fields<'a>> {
        if !raw.get().starts_with('{') {
            return None;
        }
        serde_json::from_str(raw.get()).ok()
    }

    /// The value of `name` (the last, if it repeats).
    pub fn get(&self, name: &str) -> Option<&'a RawValue> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }

    /// The value of `name` when it is a string, decoded.
    pub fn str(&self, name: &str) -> Option<Cow<'a, str>> {
        self.get(name).and_then(as_str)
    }

    /// The fields in order, each name once (its last value, as a map of
    /// the object would hold it).
    pub fn unique(&self) -> impl Iterator<Item = (&str, &'a RawValue)> + '_ {
        let mut order: Vec<usize> = (0..self.0.len()).collect();
        // Stable: of a repeated name, the last stays last.
        order.sort_by(|&a, &b| self.0[a].0.cmp(&self.0[b].0));
        let mut keep = vec![true; self.0.len()];
        for pair in order.windows(2) {
            if let [a, b] = *pair {
                if self.0[a].0 == self.0[b].0 {
                    keep[a] = false;
                }
            }
        }
        self.0
            .iter()
            .zip(keep)
            .filter(|(_, keep)| *keep)
            .map(|((k, v), _)| (k.as_ref(), *v))
    }

    /// The value of `name` when it is a string, as its raw JSON literal.
    pub fn raw_str(&self, name: &str) -> Option<&'a str> {
        self.get(name)
            .map(RawValue::get)
            .filter(|r| r.starts_with('"'))
    }
}

/// A request body's top level, read as `T` (one of the borrowed readers
/// here, or a map of raw values); the reason, worded for the client, when
/// the body is not JSON or not an object.
pub fn parse_object<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, String> {
    let invalid = |e: serde_json::Error| format!("invalid JSON body: {e}");
    if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return match serde_json::from_slice::<de::IgnoredAny>(body) {
            Ok(_) => Err("the request body must be a JSON object".into()),
            Err(e) => Err(invalid(e)),
        };
    }
    serde_json::from_slice(body).map_err(invalid)
}

/// `body` with the value `raw` (a slice of it) replaced by the JSON string
/// `value`, every other byte as it was.
pub fn splice(body: &[u8], raw: &RawValue, value: &str) -> Vec<u8> {
    let mut literal = Vec::with_capacity(value.len() + 2);
    write_str(&mut literal, value);
    splice_raw(body, raw, &literal)
}

/// What asking a chat body's stream for its usage came to ([`ask_usage`]).
#[derive(Debug, PartialEq, Eq)]
pub enum AskUsage {
    /// The body, asking (`stream_options.include_usage: true`): the client
    /// did not, so the usage-only chunk must leave its stream again.
    Asked(Vec<u8>),
    /// The client asked itself.
    AlreadyAsked,
    /// Not a JSON object, or `stream_options` is not one: left as it is.
    Unreadable,
}

/// A chat completions body with `stream_options.include_usage: true`, every
/// other byte as the client sent it (the option spliced into its
/// `stream_options`, or a new `stream_options` first in the object).
pub fn ask_usage(body: &[u8]) -> AskUsage {
    let Ok(top) = parse_object::<Fields>(body) else {
        return AskUsage::Unreadable;
    };
    let Some(options) = top.get("stream_options") else {
        let Some(open) = body.iter().position(|b| *b == b'{') else {
            return AskUsage::Unreadable;
        };
        let empty = top.0.is_empty();
        let field = br#""stream_options":{"include_usage":true}"#;
        let mut out = Vec::with_capacity(body.len() + field.len() + 1);
        out.extend_from_slice(&body[..=open]);
        out.extend_from_slice(field);
        if !empty {
            out.push(b',');
        }
        out.extend_from_slice(&body[open + 1..]);
        return AskUsage::Asked(out);
    };
    let Some(fields) = Fields::of(options) else {
        return AskUsage::Unreadable;
    };
    if fields.get("include_usage").and_then(as_bool) == Some(true) {
        return AskUsage::AlreadyAsked;
    }
    let mut obj = ObjectBuf::new();
    for (k, v) in &fields.0 {
        obj.insert_raw(k, v.get().as_bytes().to_vec());
    }
    obj.insert_raw("include_usage", b"true".to_vec());
    AskUsage::Asked(splice_raw(body, options, &obj.to_vec()))
}

/// `body` with the value `raw` (a slice of it) replaced by the JSON text
/// `json`, every other byte as it was.
pub fn splice_raw(body: &[u8], raw: &RawValue, json: &[u8]) -> Vec<u8> {
    let raw = raw.get().as_bytes();
    let start = (raw.as_ptr() as usize).saturating_sub(body.as_ptr() as usize);
    let end = start.saturating_add(raw.len());
    if end > body.len() {
        return body.to_vec();
    }
    // safe: start <= end <= body.len() (checked above).
    let mut out = Vec::with_capacity(body.len() + json.len());
    out.extend_from_slice(&body[..start]);
    out.extend_from_slice(json);
    out.extend_from_slice(&body[end..]);
    out
}

/// A JSON array's items, each a raw slice of the input.
pub fn items(raw: &RawValue) -> Option<Vec<&RawValue>> {
    if !raw.get().starts_with('[') {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// Visitor methods that answer `$none` for every scalar (a value of a type
/// the caller does not want, skipped).
macro_rules! nothing_for_scalars {
    ($none:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($none)
        }
    };
}

/// An object, or nothing for any other value (skipped without a copy).
struct MaybeFields<'a>(Option<Fields<'a>>);

impl<'de> Deserialize<'de> for MaybeFields<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeFields<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let fields = Fields::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(MaybeFields(Some(fields)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(MaybeFields(None))
            }
            nothing_for_scalars!(MaybeFields(None));
        }
        d.deserialize_any(V)
    }
}

/// The objects of an array (other items skipped); `None` for anything but
/// an array. One pass: each object's values are captured raw on the way.
pub struct Objects<'a>(pub Option<Vec<Fields<'a>>>);

impl<'de> Deserialize<'de> for Objects<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Objects<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(8));
                while let Some(MaybeFields(item)) = seq.next_element()? {
                    out.extend(item);
                }
                Ok(Objects(Some(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(Objects(None))
            }
            nothing_for_scalars!(Objects(None));
        }
        d.deserialize_any(V)
    }
}

/// A JSON array of objects (items that are not objects are skipped).
pub fn objects(raw: &RawValue) -> Option<Vec<Fields<'_>>> {
    if !raw.get().starts_with('[') {
        return None;
    }
    serde_json::from_str::<Objects>(raw.get())
        .ok()
        .and_then(|o| o.0)
}

/// An object read as `T`, or nothing for any other value (skipped without
/// a copy).
struct Maybe<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Maybe<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Maybe<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(|t| Maybe(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Maybe(None))
            }
            nothing_for_scalars!(Maybe(None));
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// The items of an array, each an object read as `T` or `None` for any
/// other value (`keep_others`), or only the objects; `None` for anything
/// but an array.
struct ArrayOf<T, const KEEP_OTHERS: bool>(Option<Vec<Option<T>>>);

impl<'de, T: Deserialize<'de>, const KEEP_OTHERS: bool> Deserialize<'de>
    for ArrayOf<T, KEEP_OTHERS>
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T, const K: bool>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const K: bool> Visitor<'de> for V<T, K> {
            type Value = ArrayOf<T, K>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(8));
                while let Some(Maybe(item)) = seq.next_element::<Maybe<T>>()? {
                    if K || item.is_some() {
                        out.push(item);
                    }
                }
                Ok(ArrayOf(Some(out)))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map
                    .next_entry::<de::IgnoredAny, de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(ArrayOf(None))
            }
            nothing_for_scalars!(ArrayOf(None));
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// The objects of an array read as `T` (other items skipped); `None` for
/// anything but an array.
pub struct ObjectsOf<T>(pub Option<Vec<T>>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectsOf<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let ArrayOf::<T, false>(items) = Deserialize::deserialize(d)?;
        Ok(ObjectsOf(items.map(|i| i.into_iter().flatten().collect())))
    }
}

/// Every item of an array, an object read as `T` or `None` for any other
/// value; `None` for anything but an array.
pub struct ItemsOf<T>(pub Option<Vec<Option<T>>>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ItemsOf<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let ArrayOf::<T, true>(items) = Deserialize::deserialize(d)?;
        Ok(ItemsOf(items))
    }
}

/// Hands each item of an array, read as `T`, to a callback: one item at a
/// time, nothing of the array collected.
struct Each<T, F>(F, PhantomData<T>);

impl<'de, T: Deserialize<'de>, F: FnMut(T)> Visitor<'de> for Each<T, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON array")
    }
    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<T>()? {
            (self.0)(item);
        }
        Ok(())
    }
}

/// Calls `f` with each item of the array `raw`, read as `T`, one at a
/// time: the array's size costs no memory. `false` (and no call) when
/// `raw` is no array.
fn each<'a, T: Deserialize<'a>>(raw: &'a RawValue, f: impl FnMut(T)) -> bool {
    if !raw.get().starts_with('[') {
        return false;
    }
    let mut de = serde_json::Deserializer::from_str(raw.get());
    de.deserialize_seq(Each(f, PhantomData)).is_ok()
}

/// Calls `f` with each item of an array (a raw slice), one at a time;
/// `false` when `raw` is no array.
pub fn for_each_item<'a>(raw: &'a RawValue, f: impl FnMut(&'a RawValue)) -> bool {
    each(raw, f)
}

/// Calls `f` with each object of an array (other items skipped), one at a
/// time; `false` when `raw` is no array.
pub fn for_each_object<'a>(raw: &'a RawValue, mut f: impl FnMut(Fields<'a>)) -> bool {
    each(raw, |MaybeFields(item)| {
        if let Some(fields) = item {
            f(fields)
        }
    })
}

/// Calls `f` with each item of an array, an object's fields or `None` for
/// any other value, one at a time; `false` when `raw` is no array.
pub fn for_each_maybe_object<'a>(raw: &'a RawValue, mut f: impl FnMut(Option<Fields<'a>>)) -> bool {
    each(raw, |MaybeFields(item)| f(item))
}

/// Calls `f` with each field of an object (name, raw value), one at a
/// time; `false` when `raw` is no object.
pub fn for_each_field<'a>(raw: &'a RawValue, f: impl FnMut(Cow<'a, str>, &'a RawValue)) -> bool {
    struct V<F>(F);
    impl<'de, F: FnMut(Cow<'de, str>, &'de RawValue)> Visitor<'de> for V<F> {
        type Value = ();
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
            while let Some(Key(k)) = map.next_key()? {
                let v: &'de RawValue = map.next_value()?;
                (self.0)(k, v);
            }
            Ok(())
        }
    }
    if !raw.get().starts_with('{') {
        return false;
    }
    let mut de = serde_json::Deserializer::from_str(raw.get());
    de.deserialize_map(V(f)).is_ok()
}

/// Whether `raw` is an array with at least one item (read no further).
pub fn is_nonempty_array(raw: &RawValue) -> bool {
    raw.get()
        .strip_prefix('[')
        .is_some_and(|rest| !rest.trim_start().starts_with(']'))
}

/// How many items the array `raw` has (`None`: no array), counted one at
/// a time.
pub fn count_items(raw: &RawValue) -> Option<usize> {
    let mut n = 0usize;
    each(raw, |_: de::IgnoredAny| n += 1).then_some(n)
}

/// Every item of an array, each an object's fields or `None` for any other
/// value (skipped without a copy); `None` for anything but an array.
pub fn maybe_objects(raw: &RawValue) -> Option<Vec<Option<Fields<'_>>>> {
    if !raw.get().starts_with('[') {
        return None;
    }
    serde_json::from_str::<ItemsOf<Fields>>(raw.get())
        .ok()
        .and_then(|i| i.0)
}

/// The name of the field a [`With`] reads in the same pass.
pub trait FieldName {
    const NAME: &'static str;
}

/// An object's fields, the one named `N::NAME` (its last value, if it
/// repeats) read as `T` in the same pass instead of kept raw — the bulk of
/// a request read once, not captured raw first and parsed again.
pub struct With<'a, N, T> {
    /// Every other field.
    pub fields: Fields<'a>,
    pub field: Option<T>,
    name: PhantomData<N>,
}

impl<'de, N: FieldName, T: Deserialize<'de>> Deserialize<'de> for With<'de, N, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<N, T>(PhantomData<(N, T)>);
        impl<'de, N: FieldName, T: Deserialize<'de>> Visitor<'de> for V<N, T> {
            type Value = With<'de, N, T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(4));
                let mut field = None;
                while let Some(Key(k)) = map.next_key()? {
                    if k == N::NAME {
                        field = Some(map.next_value()?);
                    } else {
                        let v: &'de RawValue = map.next_value()?;
                        fields.push((k, v));
                    }
                }
                Ok(With {
                    fields: Fields(fields),
                    field,
                    name: PhantomData,
                })
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

/// A request body's top level: its fields, each a raw slice (the
/// `messages` array among them, read one message at a time by
/// [`Request::for_each_message`], never collected).
#[derive(Debug, Default)]
pub struct Request<'a> {
    pub fields: Fields<'a>,
}

impl<'de> Deserialize<'de> for Request<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Fields::deserialize(d).map(|fields| Request { fields })
    }
}

impl<'a> Request<'a> {
    /// The `messages` array (its last value, if it repeats); `None` when
    /// there is none or it is no array.
    pub fn messages(&self) -> Option<&'a RawValue> {
        self.fields
            .get("messages")
            .filter(|m| m.get().starts_with('['))
    }

    /// Calls `f` with each message (an object; other items skipped), one
    /// at a time.
    pub fn for_each_message(&self, f: impl FnMut(Fields<'a>)) {
        if let Some(m) = self.messages() {
            for_each_object(m, f);
        }
    }
}

/// A raw string value, decoded; `None` for anything but a string.
pub fn as_str(raw: &RawValue) -> Option<Cow<'_, str>> {
    let r = raw.get();
    if !r.starts_with('"') {
        return None;
    }
    // Without a backslash a JSON string's text is its bytes between the quotes.
    if !r.as_bytes().contains(&b'\\') {
        if let Some(text) = r.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
            return Some(Cow::Borrowed(text));
        }
    }
    struct S<'a>(Cow<'a, str>);
    impl<'de> Deserialize<'de> for S<'de> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            Key::deserialize(d).map(|k| S(k.0))
        }
    }
    serde_json::from_str::<S>(raw.get()).ok().map(|s| s.0)
}

/// What a raw value is, by its first byte.
pub fn is_str(raw: &RawValue) -> bool {
    raw.get().starts_with('"')
}

/// A raw value as a `bool`, when it is one.
pub fn as_bool(raw: &RawValue) -> Option<bool> {
    match raw.get() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// A raw value as a `u64`, when it is one.
pub fn as_u64(raw: &RawValue) -> Option<u64> {
    raw.get().parse().ok()
}

/// The raw string literals `parts` (each `"…"`) joined by `sep` (already
/// JSON-escaped, e.g. `\n`) into one literal, without decoding any of them.
pub fn join_literals(out: &mut Vec<u8>, parts: &[&str], sep: &str) {
    out.push(b'"');
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(sep.as_bytes());
        }
        out.extend_from_slice(inner(p).as_bytes());
    }
    out.push(b'"');
}

/// A raw string literal without its quotes (still escaped).
pub fn inner(literal: &str) -> &str {
    literal
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or("")
}

/// Writes `s` as a JSON string.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    // Writing into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

/// Writes any serializable value as JSON.
pub fn write_json(out: &mut Vec<u8>, v: &impl serde::Serialize) {
    let _ = serde_json::to_writer(&mut *out, v);
}

/// A JSON array being written, one item at a time (the translated
/// `messages`).
pub struct Out {
    buf: Vec<u8>,
    count: usize,
}

impl Out {
    pub fn with_capacity(n: usize) -> Self {
        let mut buf = Vec::with_capacity(n);
        buf.push(b'[');
        Out { buf, count: 0 }
    }

    /// Starts the next item; returns the buffer to write it into.
    pub fn item(&mut self) -> &mut Vec<u8> {
        if self.count > 0 {
            self.buf.push(b',');
        }
        self.count += 1;
        &mut self.buf
    }

    /// How many items were started.
    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(b']');
        self.buf
    }
}

/// An OpenAI message `{"role":ROLE,"content":…}` whose content is the raw
/// string literals `texts` joined by newlines.
pub fn text_message(out: &mut Out, role: &str, texts: &[&str]) {
    let buf = out.item();
    buf.extend_from_slice(b"{\"role\":\"");
    buf.extend_from_slice(role.as_bytes());
    buf.extend_from_slice(b"\",\"content\":");
    join_literals(buf, texts, "\\n");
    buf.push(b'}');
}

/// One part of a user turn being written: a text (a raw string literal), or
/// a whole chat content part as JSON (an image, a file).
pub enum Part<'a> {
    Text(&'a str),
    Json(Vec<u8>),
}

/// An `image_url` content part for `url`, a JSON string literal.
pub fn image_url_part(url: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(url.len() + 40);
    buf.extend_from_slice(br#"{"type":"image_url","image_url":{"url":"#);
    buf.extend_from_slice(url);
    buf.extend_from_slice(b"}}");
    buf
}

/// The parts of a user turn being gathered, one at a time: while it has
/// only texts, their contents joined by newlines (and each one's length);
/// its content parts written out as JSON once it has another kind too.
#[derive(Default)]
pub struct UserParts {
    /// The texts' raw contents (still escaped), newline-separated.
    joined: Vec<u8>,
    lens: Vec<usize>,
    parts: Option<Vec<u8>>,
}

impl UserParts {
    pub fn push(&mut self, part: Part) {
        let UserParts {
            joined,
            lens,
            parts,
        } = self;
        let buf = match (&part, parts.as_mut()) {
            (Part::Text(t), None) => {
                if !lens.is_empty() {
                    joined.extend_from_slice(b"\\n");
                }
                let text = inner(t);
                joined.extend_from_slice(text.as_bytes());
                return lens.push(text.len());
            }
            (_, Some(buf)) => buf,
            (Part::Json(_), None) => {
                // The texts so far become parts of their own.
                let mut buf = Vec::with_capacity(joined.len() + 24 * lens.len());
                let mut at = 0usize;
                for len in lens.drain(..) {
                    let text = joined.get(at..at.saturating_add(len)).unwrap_or_default();
                    text_part(&mut buf, text);
                    // The next text starts after this one's separator.
                    at = at.saturating_add(len).saturating_add(2);
                }
                *joined = Vec::new();
                *lens = Vec::new();
                parts.insert(buf)
            }
        };
        match part {
            Part::Text(t) => text_part(buf, inner(t).as_bytes()),
            Part::Json(j) => {
                if !buf.is_empty() {
                    buf.push(b',');
                }
                buf.extend_from_slice(&j);
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.lens.is_empty() && self.parts.is_none()
    }

    /// The user message of the parts (at least one): its texts joined by
    /// newlines into one string when it has only texts, else an array of
    /// content parts.
    pub fn write(self, out: &mut Out) {
        let buf = out.item();
        match self.parts {
            None => {
                buf.extend_from_slice(br#"{"role":"user","content":""#);
                buf.extend_from_slice(&self.joined);
                buf.extend_from_slice(br#""}"#);
            }
            Some(parts) => {
                buf.extend_from_slice(br#"{"role":"user","content":["#);
                buf.extend_from_slice(&parts);
                buf.extend_from_slice(b"]}");
            }
        }
    }
}

/// A text content part for a string's raw contents, after a comma if needed.
fn text_part(buf: &mut Vec<u8>, text: &[u8]) {
    if !buf.is_empty() {
        buf.push(b',');
    }
    buf.extend_from_slice(br#"{"type":"text","text":""#);
    buf.extend_from_slice(text);
    buf.extend_from_slice(br#""}"#);
}

/// Turns being written (`[{"role":…,"content":[…]},…]`, Anthropic's and
/// Converse's shape): consecutive turns of one role merge (what both
/// want), each a comma-separated run of content blocks.
pub struct Turns {
    buf: Vec<u8>,
    /// The role of the turn still open, if any.
    open: Option<&'static str>,
}

impl Turns {
    pub fn with_capacity(size: usize) -> Self {
        let mut buf = Vec::with_capacity(size);
        buf.push(b'[');
        Turns { buf, open: None }
    }

    /// Appends `blocks` (comma-separated JSON objects) as a turn of `role`.
    pub fn push(&mut self, role: &'static str, blocks: Vec<u8>) {
        if blocks.is_empty() {
            return;
        }
        match self.open {
            Some(open) if open == role => self.buf.push(b','),
            open => {
                if open.is_some() {
                    self.buf.extend_from_slice(b"]},");
                }
                self.buf.extend_from_slice(br#"{"role":""#);
                self.buf.extend_from_slice(role.as_bytes());
                self.buf.extend_from_slice(br#"","content":["#);
                self.open = Some(role);
            }
        }
        self.buf.extend_from_slice(&blocks);
    }

    pub fn finish(mut self) -> Vec<u8> {
        if self.open.is_some() {
            self.buf.extend_from_slice(b"]}");
        }
        self.buf.push(b']');
        self.buf
    }
}

/// Appends one block to a comma-separated run.
pub fn block(blocks: &mut Vec<u8>) -> &mut Vec<u8> {
    if !blocks.is_empty() {
        blocks.push(b',');
    }
    blocks
}

/// A JSON object under construction: field names and their values as JSON
/// text, written out in order. The translators build request bodies in it;
/// the handlers set `model` and drop what a provider does not accept.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ObjectBuf {
    fields: Vec<(String, Vec<u8>)>,
}

impl ObjectBuf {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to the JSON text `raw` (trusted to be valid JSON).
    pub fn insert_raw(&mut self, name: &str, raw: Vec<u8>) {
        match self.fields.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = raw,
            None => self.fields.push((name.to_string(), raw)),
        }
    }

    /// Sets `name` to a serializable value.
    pub fn insert(&mut self, name: &str, value: &impl serde::Serialize) {
        let mut raw = Vec::new();
        write_json(&mut raw, value);
        self.insert_raw(name, raw);
    }

    /// The JSON text of `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The value of `name`, parsed (for tests and small fields).
    pub fn value(&self, name: &str) -> Option<Value> {
        self.get(name).and_then(|v| serde_json::from_slice(v).ok())
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    pub fn remove(&mut self, name: &str) -> Option<Vec<u8>> {
        let i = self.fields.iter().position(|(k, _)| k == name)?;
        Some(self.fields.remove(i).1)
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(k, _)| k.as_str())
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.fields.retain(|(k, _)| keep(k));
    }

    /// The object as JSON bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        write_object(
            self.len_hint(),
            self.fields.iter().map(|(k, v)| (k.as_str(), v)),
        )
    }

    /// The object as JSON bytes, its fields given up one by one as they are
    /// written (a large one is not held twice for longer than its copy).
    pub fn into_vec(self) -> Vec<u8> {
        let len = self.len_hint();
        write_object(len, self.fields.into_iter())
    }

    fn len_hint(&self) -> usize {
        let fields: usize = self.fields.iter().map(|(k, v)| k.len() + v.len() + 4).sum();
        fields + 2
    }

    /// The object as a `serde_json` value (slow: for a translation that
    /// goes on from here in `Value`s, and for tests).
    pub fn to_value(&self) -> Value {
        serde_json::from_slice(&self.to_vec()).unwrap_or(Value::Object(Map::new()))
    }

    /// A `serde_json` object, field by field.
    pub fn from_map(map: &Map<String, Value>) -> ObjectBuf {
        let mut out = ObjectBuf::new();
        for (k, v) in map {
            out.insert(k, v);
        }
        out
    }
}

/// `{"k":v,...}` from names and raw JSON values, each given up once it is
/// written when the iterator owns them.
fn write_object<K: AsRef<str>, V: AsRef<[u8]>>(
    len: usize,
    fields: impl Iterator<Item = (K, V)>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(len);
    out.push(b'{');
    for (i, (k, v)) in fields.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(&mut out, k.as_ref());
        out.push(b':');
        out.extend_from_slice(v.as_ref());
    }
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_borrow_and_join_literals_without_decoding() {
        let body = r#"{"a": "x\"y", "b\u0041": [1, {"c": 2}], "a": "last"}"#;
        let f: Fields = serde_json::from_str(body).unwrap();
        assert_eq!(f.0.len(), 3);
        assert_eq!(f.get("a").unwrap().get(), r#""last""#);
        assert_eq!(f.get("bA").unwrap().get(), r#"[1, {"c": 2}]"#);
        let items = items(f.get("bA").unwrap()).unwrap();
        assert_eq!(items.len(), 2);
        let objs = objects(f.get("bA").unwrap()).unwrap();
        assert_eq!(objs.len(), 1);
        assert_eq!(objs[0].get("c").unwrap().get(), "2");
        let mut out = Vec::new();
        join_literals(&mut out, &[r#""x\"y""#, r#""é\n""#], "\\n");
        assert_eq!(serde_json::from_slice::<String>(&out).unwrap(), "x\"y\né\n");
        assert_eq!(as_str(f.get("a").unwrap()).unwrap(), "last");
        assert!(as_str(f.get("bA").unwrap()).is_none());
        assert!(Fields::of(f.get("bA").unwrap()).is_none());
    }

    #[test]
    fn object_buf_replaces_removes_and_writes() {
        let mut o = ObjectBuf::new();
        o.insert("model", &"m");
        o.insert_raw("messages", b"[]".to_vec());
        o.insert("model", &"n\"");
        o.insert("x", &1);
        assert_eq!(o.remove("x"), Some(b"1".to_vec()));
        assert_eq!(o.keys().collect::<Vec<_>>(), ["model", "messages"]);
        assert_eq!(o.to_vec(), br#"{"model":"n\"","messages":[]}"#.to_vec());
        assert_eq!(o.to_value()["model"], "n\"");
    }
}
