//! What a body the proxy reads whole may hold, checked while it is read:
//! its bytes (`MAX_BODY_BYTES`, less on routes that cannot need that many)
//! and its JSON values (`MAX_BODY_VALUES`). Planning a body is one
//! synchronous stretch of the instance, which serves up to 16 requests at
//! once: its cost grows with the values in it far more than with its bytes
//! (a long string is skipped at memory speed, a tiny object is a row of
//! work), so a body of too many values is refused as it arrives — between
//! chunks, where the instance serves the others — before any of it is
//! planned. See docs/performance.md, "One request and the instance".

use crate::settings::{self, SettingSource};

/// The most an embeddings body may hold (OpenAI, and the Gemini API's
/// `embedContent`, `batchEmbedContents`): texts only, at most 2,048 inputs
/// and 300,000 tokens a request (OpenAI's limits; the others' are lower),
/// which is about 1.2 MB of text — 4 MB written as token arrays or with
/// every character escaped.
pub const EMBEDDINGS_MAX_BYTES: u64 = 8 * 1024 * 1024;

/// The body limit of a route: `MAX_BODY_BYTES`, or less for embeddings
/// input (`embeds`), which cannot need that much.
pub fn max_bytes(embeds: bool, src: &dyn SettingSource) -> u64 {
    let limit = settings::max_body_bytes(src);
    match embeds {
        true => limit.min(EMBEDDINGS_MAX_BYTES),
        false => limit,
    }
}

/// Counts the JSON values of a body as it arrives, chunk by chunk: every
/// object, array, string (names included), number, `true`, `false` and
/// `null`. Not a validator: what is no JSON counts as something or
/// nothing, and the plan says what is wrong with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValueCount {
    values: u64,
    in_string: bool,
    /// A backslash in a string: the next byte is escaped.
    escaped: bool,
    /// Within a number or a literal (`true`, …).
    in_scalar: bool,
}

impl ValueCount {
    pub fn new() -> Self {
        Self::default()
    }

    /// The values counted so far (one being read included).
    pub fn values(&self) -> u64 {
        self.values
    }

    /// Counts the values that start in `chunk` (the next bytes of the body).
    pub fn push(&mut self, chunk: &[u8]) {
        let mut rest = chunk;
        while !rest.is_empty() {
            if self.in_string {
                rest = self.skip_string(rest);
                continue;
            }
            // Outside strings: byte by byte until one starts.
            let mut consumed = rest.len();
            for (i, &b) in rest.iter().enumerate() {
                match b {
                    b'"' => {
                        self.count();
                        self.in_scalar = false;
                        self.in_string = true;
                        consumed = i + 1;
                        break;
                    }
                    b'{' | b'[' => {
                        self.count();
                        self.in_scalar = false;
                    }
                    b'}' | b']' | b',' | b':' | b' ' | b'\t' | b'\n' | b'\r' => {
                        self.in_scalar = false
                    }
                    _ if !self.in_scalar => {
                        self.count();
                        self.in_scalar = true;
                    }
                    _ => {}
                }
            }
            rest = rest.get(consumed..).unwrap_or_default();
        }
    }

    fn count(&mut self) {
        self.values = self.values.saturating_add(1);
    }

    /// Skips string bytes up to and including the closing quote; what is
    /// left of `chunk`.
    fn skip_string<'a>(&mut self, chunk: &'a [u8]) -> &'a [u8] {
        let mut rest = chunk;
        loop {
            if self.escaped {
                self.escaped = false;
                rest = rest.get(1..).unwrap_or_default();
            }
            let Some(i) = memchr::memchr2(b'"', b'\\', rest) else {
                return &[];
            };
            let after = rest.get(i + 1..).unwrap_or_default();
            if rest.get(i) == Some(&b'"') {
                self.in_string = false;
                return after;
            }
            self.escaped = true;
            rest = after;
            if rest.is_empty() {
                return rest;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(body: &str) -> u64 {
        let mut c = ValueCount::new();
        c.push(body.as_bytes());
        c.values()
    }

    #[test]
    fn every_value_and_name_counts_once() {
        assert_eq!(count("{}"), 1);
        assert_eq!(count("[]"), 1);
        assert_eq!(count(r#"{"a":1}"#), 3);
        assert_eq!(count(r#"[1, -2.5e3, true, false, null, "x"]"#), 7);
        assert_eq!(count(r#"{"type":"text","text":"a"}"#), 5);
        // Brackets, quotes and commas inside strings are text.
        assert_eq!(count(r#"["{[,:\"]}", "\\", "a\\\"b"]"#), 4);
        assert_eq!(count(" \n\t 7 "), 1);
    }

    #[test]
    fn chunks_split_anywhere_count_the_same() {
        let body = r#"{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a \"q\" \\ b"},12345,true]}],"n":null}"#;
        let whole = count(body);
        assert_eq!(whole, 19);
        let bytes = body.as_bytes();
        for cut in 0..=bytes.len() {
            for cut2 in cut..=bytes.len() {
                let mut c = ValueCount::new();
                c.push(&bytes[..cut]);
                c.push(&bytes[cut..cut2]);
                c.push(&bytes[cut2..]);
                assert_eq!(c.values(), whole, "cut at {cut} and {cut2}");
            }
        }
    }

    #[test]
    fn embeddings_take_less_than_chat() {
        let src = crate::settings::from_pairs(&[]);
        assert_eq!(
            max_bytes(crate::pipeline::BodyRoute::ChatCompletions.embeds(), &src),
            settings::DEFAULT_MAX_BODY_BYTES
        );
        assert_eq!(
            max_bytes(crate::pipeline::BodyRoute::Embeddings.embeds(), &src),
            EMBEDDINGS_MAX_BYTES
        );
        let small = crate::settings::from_pairs(&[("MAX_BODY_BYTES", "100")]);
        assert_eq!(max_bytes(true, &small), 100);
    }
}
