//! Token usage (issue 20): read from any provider's answer as its bytes go
//! by ([`UsageTap`]), and the usage-only chunk taken out of an OpenAI chat
//! stream the client did not ask it for ([`StripUsage`]). Pure: bytes in,
//! counts or bytes out.
//!
//! The tap does not parse the answer. It looks for the keys `"usage"`,
//! `"usageMetadata"` and `"usage_metadata"` followed by `:` and an object
//! (an unescaped `"` cannot occur inside a JSON string, so only real keys
//! match, whatever framing is around the JSON: a whole body, SSE, a Gemini
//! JSON array, AWS event-stream frames), captures that object to its
//! matching `}` and reads it with serde_json. Every dialect's fields are
//! understood (OpenAI chat and embeddings, Responses, Anthropic Messages,
//! Gemini, Bedrock Converse); counts seen in a stream are cumulative, so
//! each field keeps the largest value seen.

use crate::translate::BodyTransform;
use memchr::memmem::Finder;
use serde_json::{Map, Value};

/// Tokens of one answer, in OpenAI's sense: `input` includes `cached`,
/// `output` includes `reasoning`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub cached: u64,
    pub reasoning: u64,
}

impl Usage {
    /// `input + output` (saturating).
    pub fn total(&self) -> u64 {
        self.input.saturating_add(self.output)
    }

    /// The larger of each field.
    pub fn max_each(self, other: Usage) -> Usage {
        Usage {
            input: self.input.max(other.input),
            output: self.output.max(other.output),
            cached: self.cached.max(other.cached),
            reasoning: self.reasoning.max(other.reasoning),
        }
    }

    /// Reads one usage object in any dialect (the value of `usage`,
    /// `usageMetadata` or `usage_metadata`); `None` when it holds none of
    /// the known token fields. Unknown fields, and known ones that are not
    /// non-negative integers, are ignored.
    pub fn from_object(o: &Map<String, Value>) -> Option<Usage> {
        let n = |k: &str| o.get(k).and_then(Value::as_u64);
        let sub =
            |outer: &str, k: &str| o.get(outer).and_then(|d| d.get(k)).and_then(Value::as_u64);
        let mut found: Option<Usage> = None;
        let mut add = |u: Usage| found = Some(found.unwrap_or_default().max_each(u));

        // OpenAI chat completions and embeddings (and the compatible ones;
        // DeepSeek names its cache hits `prompt_cache_hit_tokens`).
        let (prompt, completion) = (n("prompt_tokens"), n("completion_tokens"));
        if prompt.is_some() || completion.is_some() {
            add(Usage {
                input: prompt.unwrap_or(0),
                output: completion.unwrap_or(0),
                cached: sub("prompt_tokens_details", "cached_tokens")
                    .or_else(|| n("prompt_cache_hit_tokens"))
                    .unwrap_or(0),
                reasoning: sub("completion_tokens_details", "reasoning_tokens").unwrap_or(0),
            });
        }

        // The Responses API and Anthropic Messages share `input_tokens` and
        // `output_tokens`; Anthropic's input excludes its cache, which it
        // counts apart (the keys are there, even as null, in its answers).
        let (input, output) = (n("input_tokens"), n("output_tokens"));
        let anthropic = o.contains_key("cache_read_input_tokens")
            || o.contains_key("cache_creation_input_tokens");
        if input.is_some() || output.is_some() || anthropic {
            let reasoning = sub("output_tokens_details", "reasoning_tokens").unwrap_or(0);
            let output = output.unwrap_or(0);
            if anthropic {
                let read = n("cache_read_input_tokens").unwrap_or(0);
                let write = n("cache_creation_input_tokens").unwrap_or(0);
                add(Usage {
                    input: input
                        .unwrap_or(0)
                        .saturating_add(read)
                        .saturating_add(write),
                    output,
                    cached: read,
                    reasoning,
                });
            } else {
                add(Usage {
                    input: input.unwrap_or(0),
                    output,
                    cached: sub("input_tokens_details", "cached_tokens").unwrap_or(0),
                    reasoning,
                });
            }
        }

        // Bedrock Converse: input excludes the cache, as Anthropic's.
        let (input, output) = (n("inputTokens"), n("outputTokens"));
        let (read, write) = (n("cacheReadInputTokens"), n("cacheWriteInputTokens"));
        if input.is_some() || output.is_some() || read.is_some() || write.is_some() {
            let read = read.unwrap_or(0);
            add(Usage {
                input: input
                    .unwrap_or(0)
                    .saturating_add(read)
                    .saturating_add(write.unwrap_or(0)),
                output: output.unwrap_or(0),
                cached: read,
                reasoning: 0,
            });
        }

        // Gemini's usageMetadata, camelCase or snake_case: candidates exclude
        // thoughts; the prompt includes the cached content.
        let g = |camel: &str, snake: &str| n(camel).or_else(|| n(snake));
        let prompt = g("promptTokenCount", "prompt_token_count");
        let candidates = g("candidatesTokenCount", "candidates_token_count");
        let thoughts = g("thoughtsTokenCount", "thoughts_token_count");
        let cached = g("cachedContentTokenCount", "cached_content_token_count");
        let tool_use = g("toolUsePromptTokenCount", "tool_use_prompt_token_count");
        if prompt.is_some()
            || candidates.is_some()
            || thoughts.is_some()
            || cached.is_some()
            || tool_use.is_some()
        {
            let thoughts = thoughts.unwrap_or(0);
            add(Usage {
                input: prompt.unwrap_or(0).saturating_add(tool_use.unwrap_or(0)),
                output: candidates.unwrap_or(0).saturating_add(thoughts),
                cached: cached.unwrap_or(0),
                reasoning: thoughts,
            });
        }
        found
    }
}

/// The largest usage object the tap reads; a longer one is given up.
pub const OBJECT_LIMIT: usize = 8 * 1024;

/// What the key search looks for first (one substring search per chunk).
const KEY: &[u8] = b"\"usage";

/// Where the tap is in `"usage" : {`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    /// Nothing matched: searching.
    Idle,
    /// The first `n` bytes of [`KEY`] (1 to 5) ended the last chunk, the
    /// quote not escaped.
    Prefix(usize),
    /// [`KEY`] matched: next `"`, `Metadata"` or `_metadata"`.
    Name,
    /// Part of a longer name matched (its rest, bytes of it matched).
    Suffix(&'static [u8], usize),
    /// The key's closing quote passed: whitespace, then `:`.
    Colon,
    /// The colon passed: whitespace, then `{`.
    Value,
    /// Inside the object, captured.
    Object,
}

/// Watches an answer's bytes for its usage, whatever the framing and
/// however the bytes are split into chunks.
#[derive(Debug, Clone)]
pub struct UsageTap {
    finder: Finder<'static>,
    key: Key,
    /// The last byte of the previous chunk (is a quote at a chunk's start
    /// escaped?).
    last: u8,
    /// The object being captured.
    object: Vec<u8>,
    depth: usize,
    in_string: bool,
    escaped: bool,
    usage: Option<Usage>,
}

impl Default for UsageTap {
    fn default() -> Self {
        UsageTap::new()
    }
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl UsageTap {
    pub fn new() -> UsageTap {
        UsageTap {
            finder: Finder::new(KEY),
            key: Key::Idle,
            last: 0,
            object: Vec::new(),
            depth: 0,
            in_string: false,
            escaped: false,
            usage: None,
        }
    }

    /// The usage seen so far (each field's largest value); `None` when no
    /// usage object with a known token field was seen.
    pub fn usage(&self) -> Option<Usage> {
        self.usage
    }

    /// Feeds the next bytes of the answer.
    pub fn push(&mut self, chunk: &[u8]) {
        let mut i = 0;
        while let Some(&b) = chunk.get(i) {
            i = match self.key {
                Key::Idle => self.search(chunk, i),
                Key::Object => self.capture(chunk, i),
                _ => {
                    if self.step(b) {
                        i + 1
                    } else {
                        // Not a key after all: this byte is searched again
                        // (it may open one).
                        i
                    }
                }
            };
        }
        if let Some(&b) = chunk.last() {
            self.last = b;
        }
    }

    /// Whether the quote at `chunk[at]` is escaped.
    fn escaped_at(&self, chunk: &[u8], at: usize) -> bool {
        let before = match at.checked_sub(1) {
            Some(p) => chunk.get(p).copied().unwrap_or(self.last),
            None => self.last,
        };
        before == b'\\'
    }

    /// Searches `chunk[from..]` for the key; returns where to go on.
    fn search(&mut self, chunk: &[u8], from: usize) -> usize {
        let hay = chunk.get(from..).unwrap_or_default();
        let mut at = 0;
        while let Some(h) = hay.get(at..).and_then(|rest| self.finder.find(rest)) {
            let pos = from + at + h;
            if !self.escaped_at(chunk, pos) {
                self.key = Key::Name;
                return pos + KEY.len();
            }
            at += h + 1;
        }
        // A key cut off by the chunk's end: its start, a quote, is the last
        // quote of the last few bytes (KEY holds no other).
        let tail = hay.len().saturating_sub(KEY.len() - 1);
        let tail_bytes = hay.get(tail..).unwrap_or_default();
        if let Some(q) = memchr::memrchr(b'"', tail_bytes) {
            let rest = tail_bytes.get(q..).unwrap_or_default();
            if KEY.starts_with(rest) && !self.escaped_at(chunk, from + tail + q) {
                self.key = Key::Prefix(rest.len());
            }
        }
        chunk.len()
    }

    /// One byte of the key, colon or opening brace; `false` when it is not
    /// one (back to searching, the byte not consumed).
    fn step(&mut self, b: u8) -> bool {
        let next = match self.key {
            Key::Prefix(n) if KEY.get(n) == Some(&b) => {
                if n + 1 == KEY.len() {
                    Key::Name
                } else {
                    Key::Prefix(n + 1)
                }
            }
            Key::Name => match b {
                b'"' => Key::Colon,
                b'M' => Key::Suffix(b"Metadata\"", 1),
                b'_' => Key::Suffix(b"_metadata\"", 1),
                _ => Key::Idle,
            },
            Key::Suffix(rest, n) if rest.get(n) == Some(&b) => {
                if n + 1 == rest.len() {
                    Key::Colon
                } else {
                    Key::Suffix(rest, n + 1)
                }
            }
            Key::Colon if is_ws(b) => Key::Colon,
            Key::Colon if b == b':' => Key::Value,
            Key::Value if is_ws(b) => Key::Value,
            Key::Value if b == b'{' => {
                self.object.clear();
                self.object.push(b);
                self.depth = 1;
                self.in_string = false;
                self.escaped = false;
                Key::Object
            }
            _ => Key::Idle,
        };
        self.key = next;
        next != Key::Idle
    }

    /// Captures the object from `chunk[from..]`; returns where to go on.
    /// An object not closed within [`OBJECT_LIMIT`] bytes is given up at
    /// exactly that many bytes (wherever the chunks end), and the search
    /// goes on from there.
    fn capture(&mut self, chunk: &[u8], from: usize) -> usize {
        let room = OBJECT_LIMIT.saturating_sub(self.object.len());
        let rest = chunk.get(from..).unwrap_or_default();
        let rest = rest.get(..room.min(rest.len())).unwrap_or_default();
        let mut taken = 0;
        let mut done = false;
        while let Some(part) = rest.get(taken..).filter(|p| !p.is_empty()) {
            let hit = if self.escaped {
                Some(0)
            } else if self.in_string {
                memchr::memchr2(b'"', b'\\', part)
            } else {
                memchr::memchr3(b'"', b'{', b'}', part)
            };
            let Some(h) = hit else {
                taken = rest.len();
                break;
            };
            // safe: `h < part.len()` (memchr's hit, or 0 with `part` not empty)
            let b = part[h];
            taken += h + 1;
            if self.escaped {
                self.escaped = false;
            } else if self.in_string {
                match b {
                    b'\\' => self.escaped = true,
                    _ => self.in_string = false,
                }
            } else {
                match b {
                    b'"' => self.in_string = true,
                    b'{' => self.depth += 1,
                    _ => {
                        self.depth = self.depth.saturating_sub(1);
                        if self.depth == 0 {
                            done = true;
                            break;
                        }
                    }
                }
            }
        }
        self.object
            .extend_from_slice(rest.get(..taken).unwrap_or_default());
        if done {
            if let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(&self.object) {
                if let Some(u) = Usage::from_object(&o) {
                    self.usage = Some(self.usage.unwrap_or_default().max_each(u));
                }
            }
            self.object.clear();
            self.key = Key::Idle;
        } else if self.object.len() >= OBJECT_LIMIT {
            // Too long for a usage object: given up.
            self.object.clear();
            self.key = Key::Idle;
        }
        from + taken
    }
}

/// Takes out of an OpenAI chat completions stream what
/// `stream_options.include_usage` added when the proxy asked for it and the
/// client did not: the usage-only chunk (`"choices":[]` and a usage object)
/// is dropped, and `"usage":null` is removed from the other chunks. Every
/// other byte passes as it came; each event is sent as soon as its blank
/// line arrives.
#[derive(Debug, Clone)]
pub struct StripUsage {
    finder: Finder<'static>,
    /// The current event's bytes.
    event: Vec<u8>,
    /// The next byte starts a line.
    line_start: bool,
    /// The last line ended with `\r` (a `\n` next belongs to it).
    after_cr: bool,
    /// The last event ended with a lone `\r`: a `\n` next belongs to it
    /// (`Some(sent)`, whether that event was sent).
    event_cr: Option<bool>,
}

impl Default for StripUsage {
    fn default() -> Self {
        StripUsage::new()
    }
}

impl StripUsage {
    pub fn new() -> StripUsage {
        StripUsage {
            finder: Finder::new(b"\"usage\""),
            event: Vec::new(),
            line_start: true,
            after_cr: false,
            event_cr: None,
        }
    }

    /// The current event ended: sends it (changed or not) or drops it;
    /// returns whether it was sent.
    fn dispatch(&mut self, out: &mut Vec<u8>) -> bool {
        let sent = strip_event(&self.finder, &self.event, out);
        self.event.clear();
        self.line_start = true;
        self.after_cr = false;
        sent
    }
}

impl BodyTransform for StripUsage {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut i = 0;
        while let Some(&b) = chunk.get(i) {
            if let Some(sent) = self.event_cr.take() {
                if b == b'\n' {
                    if sent {
                        out.push(b);
                    }
                    i += 1;
                    continue;
                }
            }
            if self.line_start {
                if b == b'\n' && self.after_cr {
                    self.event.push(b);
                    self.after_cr = false;
                    i += 1;
                    continue;
                }
                self.after_cr = false;
                if b == b'\n' || b == b'\r' {
                    // A blank line: the event is whole.
                    self.event.push(b);
                    i += 1;
                    let sent = self.dispatch(out);
                    if b == b'\r' {
                        self.event_cr = Some(sent);
                    }
                    continue;
                }
                self.line_start = false;
            }
            let rest = chunk.get(i..).unwrap_or_default();
            match memchr::memchr2(b'\n', b'\r', rest) {
                Some(j) => {
                    self.event
                        .extend_from_slice(rest.get(..=j).unwrap_or_default());
                    self.line_start = true;
                    self.after_cr = rest.get(j) == Some(&b'\r');
                    i += j + 1;
                }
                None => {
                    self.event.extend_from_slice(rest);
                    i = chunk.len();
                }
            }
        }
    }

    fn finish(&mut self, _complete: bool, out: &mut Vec<u8>) {
        // An event without its blank line is passed as it is.
        out.extend_from_slice(&self.event);
        self.event.clear();
        self.line_start = true;
        self.after_cr = false;
        self.event_cr = None;
    }
}

/// Where the value of the key whose quote is at `ev[key]` starts (`key_len`
/// bytes of key, then whitespace, `:`, whitespace); `None` when the quote
/// is escaped or no colon follows.
fn value_at(ev: &[u8], key: usize, key_len: usize) -> Option<usize> {
    if key.checked_sub(1).and_then(|p| ev.get(p)) == Some(&b'\\') {
        return None;
    }
    let mut i = key + key_len;
    while ev.get(i).is_some_and(|&b| is_ws(b)) {
        i += 1;
    }
    if ev.get(i) != Some(&b':') {
        return None;
    }
    i += 1;
    while ev.get(i).is_some_and(|&b| is_ws(b)) {
        i += 1;
    }
    Some(i)
}

/// One event's bytes into `out`, without `"usage":null`, or nothing when it
/// is the usage-only chunk; returns whether something was sent.
fn strip_event(finder: &Finder<'static>, ev: &[u8], out: &mut Vec<u8>) -> bool {
    const KEY_LEN: usize = b"\"usage\"".len();
    if finder.find(ev).is_none() {
        out.extend_from_slice(ev);
        return true;
    }
    // A usage object: the usage-only chunk, when `choices` is empty.
    let has_object = finder
        .find_iter(ev)
        .any(|k| value_at(ev, k, KEY_LEN).is_some_and(|v| ev.get(v) == Some(&b'{')));
    if has_object && usage_only(ev) {
        return false;
    }
    let mut sent_to = 0;
    let mut from = 0;
    while let Some(h) = ev.get(from..).and_then(|rest| finder.find(rest)) {
        let k = from + h;
        from = k + 1;
        let Some(v) = value_at(ev, k, KEY_LEN) else {
            continue;
        };
        let end = v + 4;
        if ev.get(v..end) != Some(b"null".as_slice())
            || ev.get(end).is_some_and(|b| b.is_ascii_alphanumeric())
        {
            continue;
        }
        // With the comma before it, or else the comma after it (and the
        // whitespace after that comma), or alone (`{"usage":null}`).
        let before = ev
            .get(..k)
            .and_then(|head| head.iter().rposition(|&b| !is_ws(b)));
        let (cut_from, cut_to) = match before {
            Some(c) if ev.get(c) == Some(&b',') => (c, end),
            _ => {
                let mut j = end;
                while ev.get(j).is_some_and(|&b| is_ws(b)) {
                    j += 1;
                }
                if ev.get(j) == Some(&b',') {
                    j += 1;
                    while ev.get(j).is_some_and(|&b| is_ws(b)) {
                        j += 1;
                    }
                    (k, j)
                } else {
                    (k, end)
                }
            }
        };
        if cut_from < sent_to {
            continue;
        }
        out.extend_from_slice(ev.get(sent_to..cut_from).unwrap_or_default());
        sent_to = cut_to;
        from = from.max(cut_to);
    }
    out.extend_from_slice(ev.get(sent_to..).unwrap_or_default());
    true
}

/// Whether the event's data is a chat chunk with `"choices":[]` and a usage
/// object.
fn usage_only(ev: &[u8]) -> bool {
    let mut data = Vec::new();
    let mut any = false;
    for line in ev.split(|&b| b == b'\n' || b == b'\r') {
        if let Some(value) = line.strip_prefix(b"data:") {
            if any {
                data.push(b'\n');
            }
            data.extend_from_slice(value.strip_prefix(b" ").unwrap_or(value));
            any = true;
        }
    }
    let Ok(Value::Object(o)) = serde_json::from_slice::<Value>(&data) else {
        return false;
    };
    o.get("choices")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
        && o.get("usage").is_some_and(Value::is_object)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::translate::eventstream::encode;

    fn u(input: u64, output: u64, cached: u64, reasoning: u64) -> Usage {
        Usage {
            input,
            output,
            cached,
            reasoning,
        }
    }

    fn tap(parts: &[&[u8]]) -> Option<Usage> {
        let mut t = UsageTap::new();
        for p in parts {
            t.push(p);
        }
        t.usage()
    }

    /// The usage of `input`, checked to be the same at every split point,
    /// split in three, and byte by byte.
    fn tapped(input: &[u8]) -> Option<Usage> {
        let whole = tap(&[input]);
        for cut in 0..=input.len() {
            let (a, b) = input.split_at(cut);
            assert_eq!(tap(&[a, b]), whole, "cut at {cut}");
        }
        let third = input.len() / 3;
        for cut in 0..=input.len().saturating_sub(third) {
            let (a, rest) = input.split_at(cut);
            let (b, c) = rest.split_at(third.min(rest.len()));
            assert_eq!(tap(&[a, b, c]), whole, "cuts at {cut}, +{third}");
        }
        let mut t = UsageTap::new();
        for b in input {
            t.push(std::slice::from_ref(b));
        }
        assert_eq!(t.usage(), whole, "byte by byte");
        whole
    }

    const CHAT: &str = r#"{"id":"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG","object":"chat.completion","created":1741570283,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"The sign says \"usage\": {\"prompt_tokens\": 999999} and \"usage\":{\"completion_tokens\":888888}.","refusal":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"log","arguments":"{\"usage\": {\"prompt_tokens\": 777777, \"completion_tokens\": 777777}}"}}],"annotations":[]},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":1117,"completion_tokens":46,"total_tokens":1163,"prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":12,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_fc9f1d7035"}"#;

    #[test]
    fn openai_chat_answer() {
        assert_eq!(tapped(CHAT.as_bytes()), Some(u(1117, 46, 1024, 12)));
        // Pretty-printed, spaces around the colon.
        let v: Value = serde_json::from_str(CHAT).unwrap();
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        assert_eq!(tapped(pretty.as_bytes()), Some(u(1117, 46, 1024, 12)));
        let spaced = CHAT.replace("\"usage\":{\"prompt", "\"usage\" \t:\r\n {\"prompt");
        assert_eq!(tapped(spaced.as_bytes()), Some(u(1117, 46, 1024, 12)));
    }

    #[test]
    fn openai_embeddings_answer() {
        let body = br#"{"object":"list","data":[{"object":"embedding","index":0,"embedding":[0.0023064255,-0.009327292,-0.0028842222]}],"model":"text-embedding-3-small","usage":{"prompt_tokens":8,"total_tokens":8}}"#;
        assert_eq!(tapped(body), Some(u(8, 0, 0, 0)));
    }

    const CHAT_STREAM: &str = concat!(
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Say \\\"usage\\\": {\\\"prompt_tokens\\\": 5000}\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"log\",\"arguments\":\"{\\\"usage\"}}]},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\": {\\\"prompt_tokens\\\": 6000}}\"}}]},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_1\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}],\"usage\":null}\n\n",
        "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_1\",\"choices\":[],\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":10,\"total_tokens\":29,\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}\n\n",
        "data: [DONE]\n\n",
    );

    #[test]
    fn openai_chat_stream() {
        assert_eq!(tapped(CHAT_STREAM.as_bytes()), Some(u(19, 10, 0, 0)));
        // Only `"usage":null` chunks: none.
        let cut = CHAT_STREAM.find("data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"gpt-4o-mini\",\"system_fingerprint\":\"fp_1\",\"choices\":[],").unwrap();
        assert_eq!(tapped(&CHAT_STREAM.as_bytes()[..cut]), None);
        // Cut off inside the usage object: none.
        let inside = CHAT_STREAM.find("\"total_tokens\":29").unwrap();
        assert_eq!(tapped(&CHAT_STREAM.as_bytes()[..inside]), None);
    }

    const ANTHROPIC_STREAM: &str = concat!(
        "event: message_start\n",
        "data: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-5-20250929\",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":2000,\"cache_creation\":{\"ephemeral_5m_input_tokens\":100,\"ephemeral_1h_input_tokens\":0},\"output_tokens\":1,\"service_tier\":\"standard\"}}}\n\n",
        "event: content_block_start\n",
        "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
        "event: ping\n",
        "data: {\"type\": \"ping\"}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Reported \\\"usage\\\": {\\\"output_tokens\\\": 5000000}\"}}\n\n",
        "event: content_block_stop\n",
        "data: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
        "event: content_block_start\n",
        "data: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01\",\"name\":\"get_weather\",\"input\":{}}}\n\n",
        "event: content_block_delta\n",
        "data: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"usage\\\": {\\\"input_tokens\\\": 7777777\"}}\n\n",
        "event: content_block_stop\n",
        "data: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
        "event: message_delta\n",
        "data: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":89}}\n\n",
        "event: message_stop\n",
        "data: {\"type\":\"message_stop\"}\n\n",
    );

    #[test]
    fn anthropic_stream_counts_the_cache_in_the_input() {
        assert_eq!(
            tapped(ANTHROPIC_STREAM.as_bytes()),
            Some(u(2125, 89, 2000, 0))
        );
        // Cut before message_delta: message_start's output of 1.
        let cut = ANTHROPIC_STREAM.find("event: message_delta").unwrap();
        assert_eq!(
            tapped(&ANTHROPIC_STREAM.as_bytes()[..cut]),
            Some(u(2125, 1, 2000, 0))
        );
        // The newer message_delta repeats the input counts (cumulative).
        let newer = ANTHROPIC_STREAM.replace(
            "\"usage\":{\"output_tokens\":89}",
            "\"usage\":{\"input_tokens\":25,\"cache_creation_input_tokens\":100,\"cache_read_input_tokens\":2000,\"output_tokens\":89}",
        );
        assert_eq!(tapped(newer.as_bytes()), Some(u(2125, 89, 2000, 0)));
    }

    #[test]
    fn anthropic_answer() {
        let body = br#"{"id":"msg_01","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_01","name":"lookup","input":{"query":"usage","usage":"heavy"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":2095,"cache_creation_input_tokens":null,"cache_read_input_tokens":null,"output_tokens":503,"server_tool_use":{"web_search_requests":0}}}"#;
        assert_eq!(tapped(body), Some(u(2095, 503, 0, 0)));
    }

    const RESPONSES_STREAM: &str = concat!(
        "event: response.created\n",
        "data: {\"type\":\"response.created\",\"sequence_number\":0,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1741290958,\"status\":\"in_progress\",\"model\":\"gpt-5\",\"output\":[],\"usage\":null,\"metadata\":{}}}\n\n",
        "event: response.output_text.delta\n",
        "data: {\"type\":\"response.output_text.delta\",\"sequence_number\":4,\"item_id\":\"msg_1\",\"output_index\":1,\"content_index\":0,\"delta\":\"the \\\"usage\\\":{\\\"input_tokens\\\":1}\"}\n\n",
        "event: response.completed\n",
        "data: {\"type\":\"response.completed\",\"sequence_number\":9,\"response\":{\"id\":\"resp_1\",\"object\":\"response\",\"created_at\":1741290958,\"status\":\"completed\",\"model\":\"gpt-5\",\"output\":[{\"type\":\"message\",\"id\":\"msg_1\",\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hi\",\"annotations\":[]}]}],\"usage\":{\"input_tokens\":37,\"input_tokens_details\":{\"cached_tokens\":16},\"output_tokens\":75,\"output_tokens_details\":{\"reasoning_tokens\":64},\"total_tokens\":112},\"metadata\":{}}}\n\n",
    );

    #[test]
    fn responses_stream_and_answer() {
        assert_eq!(tapped(RESPONSES_STREAM.as_bytes()), Some(u(37, 75, 16, 64)));
        let answer = r#"{"id":"resp_1","object":"response","status":"completed","output":[],"usage":{"input_tokens":328,"input_tokens_details":{"cached_tokens":0},"output_tokens":52,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":380}}"#;
        assert_eq!(tapped(answer.as_bytes()), Some(u(328, 52, 0, 0)));
    }

    const GEMINI_SSE: &str = concat!(
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"The \"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 100,\"candidatesTokenCount\": 1,\"totalTokenCount\": 101,\"promptTokensDetails\": [{\"modality\": \"TEXT\",\"tokenCount\": 100}]},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"r1\"}\r\n\r\n",
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"functionCall\": {\"name\": \"report\",\"args\": {\"usage\": \"high\",\"usageMetadata\": {\"note\": \"not tokens\", \"level\": {\"x\": \"}\"}}}}}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 100,\"candidatesTokenCount\": 12,\"totalTokenCount\": 142,\"thoughtsTokenCount\": 30},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"r1\"}\r\n\r\n",
        "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 100,\"candidatesTokenCount\": 20,\"totalTokenCount\": 150,\"cachedContentTokenCount\": 60,\"thoughtsTokenCount\": 30,\"toolUsePromptTokenCount\": 5},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"r1\"}\r\n\r\n",
    );

    #[test]
    fn gemini_sse_and_array_streams() {
        assert_eq!(tapped(GEMINI_SSE.as_bytes()), Some(u(105, 50, 60, 30)));
        // The same chunks as a JSON array (streamGenerateContent without alt=sse).
        let chunks: Vec<&str> = GEMINI_SSE
            .split("\r\n\r\n")
            .filter(|s| !s.is_empty())
            .map(|s| s.strip_prefix("data: ").unwrap())
            .collect();
        let array = format!("[{}]", chunks.join(",\r\n"));
        assert!(serde_json::from_str::<Value>(&array).is_ok());
        assert_eq!(tapped(array.as_bytes()), Some(u(105, 50, 60, 30)));
    }

    #[test]
    fn gemini_answer_snake_case() {
        let body = br#"{"candidates":[{"content":{"parts":[{"text":"hi"}],"role":"model"}}],"usage_metadata":{"prompt_token_count":7,"candidates_token_count":3,"thoughts_token_count":2,"cached_content_token_count":4,"total_token_count":12}}"#;
        assert_eq!(tapped(body), Some(u(7, 5, 4, 2)));
    }

    fn bedrock_event(kind: &str, payload: &str) -> Vec<u8> {
        encode(
            &[
                (":event-type", kind),
                (":content-type", "application/json"),
                (":message-type", "event"),
            ],
            payload.as_bytes(),
        )
    }

    #[test]
    fn bedrock_event_stream_and_answer() {
        let mut stream = Vec::new();
        stream.extend(bedrock_event(
            "messageStart",
            r#"{"p":"abcd","role":"assistant"}"#,
        ));
        stream.extend(bedrock_event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":"\"usage\":{\"inputTokens\":99999}"},"p":"ab"}"#,
        ));
        stream.extend(bedrock_event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"usage\":{\"outputTokens\":99999}}"}},"p":"ab"}"#,
        ));
        stream.extend(bedrock_event(
            "messageStop",
            r#"{"p":"abc","stopReason":"end_turn"}"#,
        ));
        stream.extend(bedrock_event(
            "metadata",
            r#"{"metrics":{"latencyMs":640},"p":"abcdefghij","usage":{"cacheReadInputTokens":5,"cacheWriteInputTokens":7,"inputTokens":12,"outputTokens":34,"totalTokens":58}}"#,
        ));
        assert_eq!(tapped(&stream), Some(u(24, 34, 5, 0)));

        let answer = br#"{"metrics":{"latencyMs":500},"output":{"message":{"content":[{"text":"Hello"},{"toolUse":{"input":{"usage":{"inputTokens":1}},"name":"n","toolUseId":"t"}}],"role":"assistant"}},"stopReason":"end_turn","usage":{"inputTokens":30,"outputTokens":20,"totalTokens":50}}"#;
        assert_eq!(tapped(answer), Some(u(30, 20, 0, 0)));
    }

    #[test]
    fn null_unknown_and_broken_usage_objects_are_not_usage() {
        for body in [
            &b"{\"usage\": null, \"x\": 1}"[..],
            b"{\"usage\":{}}",
            b"{\"usage\":{\"total_tokens\":3}}",
            b"{\"usage\":{\"prompt_tokens\":\"12\"}}",
            b"{\"usage\":{\"prompt_tokens\":-1}}",
            b"{\"usage\":{\"prompt_tokens\":1.5}}",
            b"{\"usage\":{\"prompt_tokens\":}}",
            b"{\"usage\":[1,2]}",
            b"{\"usage\":\"{\\\"prompt_tokens\\\":1}\"}",
            b"{\"type\":\"usage\",\"n\":{\"prompt_tokens\":1}}",
            b"{\"usages\":{\"prompt_tokens\":1}}",
            b"{\"usageMetadataX\":{\"promptTokenCount\":1}}",
            b"{\"my_usage\":{\"prompt_tokens\":1}}",
            b"{\"a\\\"usage\":{\"prompt_tokens\":1}}",
            b"",
            b"\"usage",
            b"\"usage\"",
            b"\"usage\" :",
            b"\"usage\" : {",
            b"\"usage\" : {\"prompt_tokens\":12",
            b"\xff\xfe\"usage\":{\"prompt_tokens\":\xff}",
        ] {
            assert_eq!(tapped(body), None, "{}", String::from_utf8_lossy(body));
        }
        // Known fields beside unknown ones count.
        assert_eq!(
            tapped(b"{\"usage\":{\"prompt_tokens\":\"x\",\"completion_tokens\":4,\"extra\":[{\"}\":\"{\"}]}}"),
            Some(u(0, 4, 0, 0))
        );
    }

    #[test]
    fn an_overlong_object_is_given_up_and_the_search_goes_on() {
        let mut body = b"{\"usage\":{\"note\":\"".to_vec();
        body.extend(std::iter::repeat_n(b'x', OBJECT_LIMIT));
        body.extend_from_slice(
            b"\",\"prompt_tokens\":9},\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}",
        );
        assert_eq!(tap(&[&body]), Some(u(3, 2, 0, 0)));
        // Same wherever split (a sample of cuts; every cut is slow here).
        for cut in (0..body.len()).step_by(97) {
            let (a, b) = body.split_at(cut);
            assert_eq!(tap(&[a, b]), Some(u(3, 2, 0, 0)), "cut at {cut}");
        }
        // An object that never closes does not stop the search for long.
        let mut body = b"garbage \"usage\":{\"a\":\"unterminated string".to_vec();
        body.extend(std::iter::repeat_n(b'y', OBJECT_LIMIT));
        body.extend_from_slice(
            b"\n\ndata: {\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\n",
        );
        assert_eq!(tap(&[&body]), Some(u(1, 1, 0, 0)));
        // One just within the limit is read.
        let mut body = b"{\"usage\":{\"prompt_tokens\":5,\"pad\":\"".to_vec();
        let head = body.len() - b"{\"usage\":".len();
        body.extend(std::iter::repeat_n(b'z', OBJECT_LIMIT - head - 2));
        body.extend_from_slice(b"\"}}");
        assert_eq!(tap(&[&body]), Some(u(5, 0, 0, 0)));
    }

    #[test]
    fn each_field_keeps_its_largest_value() {
        let body = b"data: {\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":50}}\n\ndata: {\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":5,\"completion_tokens_details\":{\"reasoning_tokens\":3}}}\n\n";
        assert_eq!(tapped(body), Some(u(12, 50, 0, 3)));
        assert_eq!(u(3, 4, 1, 1).total(), 7);
        assert_eq!(u(u64::MAX, 4, 0, 0).total(), u64::MAX);
        let huge = format!(
            "{{\"usage\":{{\"input_tokens\":{m},\"cache_read_input_tokens\":{m},\"output_tokens\":1}}}}",
            m = u64::MAX
        );
        assert_eq!(tapped(huge.as_bytes()), Some(u(u64::MAX, 1, u64::MAX, 0)));
    }

    #[test]
    fn from_object_reads_each_dialect() {
        let read = |s: &str| match serde_json::from_str::<Value>(s).unwrap() {
            Value::Object(o) => Usage::from_object(&o),
            _ => unreachable!(),
        };
        assert_eq!(
            read(r#"{"prompt_tokens":10,"completion_tokens":2,"prompt_cache_hit_tokens":4}"#),
            Some(u(10, 2, 4, 0))
        );
        assert_eq!(
            read(r#"{"input_tokens":10,"output_tokens":2}"#),
            Some(u(10, 2, 0, 0))
        );
        assert_eq!(
            read(r#"{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":2}"#),
            Some(u(15, 2, 5, 0))
        );
        assert_eq!(read(r#"{"outputTokens":2}"#), Some(u(0, 2, 0, 0)));
        assert_eq!(read(r#"{"thoughtsTokenCount":2}"#), Some(u(0, 2, 0, 2)));
        assert_eq!(read(r#"{"totalTokenCount":2}"#), None);
    }

    // StripUsage.

    fn strip(parts: &[&[u8]]) -> Vec<u8> {
        let mut t = StripUsage::new();
        let mut out = Vec::new();
        for p in parts {
            t.push(p, &mut out);
        }
        t.finish(true, &mut out);
        out
    }

    /// The stripped `input`, checked to be the same at every split point
    /// and byte by byte.
    fn stripped(input: &[u8]) -> Vec<u8> {
        let whole = strip(&[input]);
        for cut in 0..=input.len() {
            let (a, b) = input.split_at(cut);
            assert_eq!(strip(&[a, b]), whole, "cut at {cut}");
        }
        let mut t = StripUsage::new();
        let mut out = Vec::new();
        for b in input {
            t.push(std::slice::from_ref(b), &mut out);
        }
        t.finish(true, &mut out);
        assert_eq!(out, whole, "byte by byte");
        whole
    }

    #[test]
    fn strips_the_usage_chunk_and_the_null_usages() {
        let out = String::from_utf8(stripped(CHAT_STREAM.as_bytes())).unwrap();
        let want = CHAT_STREAM
            .replace(",\"usage\":null}", "}")
            .split("\n\n")
            .filter(|e| !e.contains("\"choices\":[]"))
            .map(|e| format!("{e}\n\n"))
            .filter(|e| e != "\n\n")
            .collect::<String>();
        assert_eq!(out, want);
        assert!(!out.contains("\"usage\":null"));
        assert!(!out.contains("\"prompt_tokens\":19"));
        // What the tool arguments and content say is untouched.
        assert!(out.contains("Say \\\"usage\\\": {\\\"prompt_tokens\\\": 5000}"));
        assert!(out.contains("\"arguments\":\"{\\\"usage\"}"));
        assert!(out.ends_with("data: [DONE]\n\n"));
        // Each chunk is still JSON.
        let mut p = crate::translate::sse::SseParser::new();
        for e in p.events(out.as_bytes()) {
            if e.data != "[DONE]" {
                serde_json::from_str::<Value>(&e.data).unwrap();
            }
        }
    }

    #[test]
    fn strip_handles_spacing_and_key_positions() {
        let cases: [(&str, &str); 7] = [
            (
                "data: {\"usage\":null,\"id\":1}\n\n",
                "data: {\"id\":1}\n\n",
            ),
            (
                "data: {\"usage\": null, \"id\": 1}\n\n",
                "data: {\"id\": 1}\n\n",
            ),
            (
                "data: {\"id\": 1, \"usage\" : null}\n\n",
                "data: {\"id\": 1}\n\n",
            ),
            ("data: {\"usage\":null}\n\n", "data: {}\n\n"),
            (
                "data: {\"id\":1,\"usage\":nullx}\n\n",
                "data: {\"id\":1,\"usage\":nullx}\n\n",
            ),
            (
                "data: {\"a\":\"\\\"usage\\\":null\",\"usage\":null}\n\n",
                "data: {\"a\":\"\\\"usage\\\":null\"}\n\n",
            ),
            // A usage object beside choices: passed as it is.
            (
                "data: {\"choices\":[{\"index\":0,\"delta\":{}}],\"usage\":{\"prompt_tokens\":1}}\n\n",
                "data: {\"choices\":[{\"index\":0,\"delta\":{}}],\"usage\":{\"prompt_tokens\":1}}\n\n",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                String::from_utf8(stripped(input.as_bytes())).unwrap(),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn strip_keeps_every_line_ending_and_comment() {
        let input = ": keep-alive\r\n\r\nevent: x\rdata: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\r\rdata: {\"id\":2,\"usage\":null}\r\n\r\n\n\ndata: {\"choices\":[], \"usage\": {\"prompt_tokens\": 1}}\r\n\r\ndata: [DONE]\r\n\r\n";
        let want = ": keep-alive\r\n\r\ndata: {\"id\":2}\r\n\r\n\n\ndata: [DONE]\r\n\r\n";
        assert_eq!(String::from_utf8(stripped(input.as_bytes())).unwrap(), want);
    }

    #[test]
    fn strip_sends_each_event_when_it_is_whole_and_flushes_a_tail_as_it_is() {
        let mut t = StripUsage::new();
        let mut out = Vec::new();
        t.push(b"data: {\"id\":1,\"usage\":null}\n", &mut out);
        assert!(out.is_empty());
        t.push(b"\n", &mut out);
        assert_eq!(out, b"data: {\"id\":1}\n\n");
        out.clear();
        t.push(
            b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1}}\n\n",
            &mut out,
        );
        assert!(out.is_empty());
        t.push(b"data: {\"id\":2,\"usage\":null}", &mut out);
        assert!(out.is_empty());
        t.finish(false, &mut out);
        assert_eq!(out, b"data: {\"id\":2,\"usage\":null}");
    }

    #[test]
    fn strip_passes_what_is_not_a_chat_stream() {
        for input in [
            &b""[..],
            b"\n\n\r\r",
            b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\"\n\n",
            b"data: {\"choices\":[],\"usage\":null}\n\n",
            b"data: {\"choices\":[1],\"usage\":{}}\n\n",
            b"data: \xff\xfe\"usage\":{\n\n",
            b"event: error\ndata: {\"error\":{\"message\":\"usage limit\"}}\n\n",
        ] {
            let out = stripped(input);
            if input == b"data: {\"choices\":[],\"usage\":null}\n\n" {
                assert_eq!(out, b"data: {\"choices\":[]}\n\n");
            } else {
                assert_eq!(out, input, "{}", String::from_utf8_lossy(input));
            }
        }
    }

    #[test]
    fn garbage_never_panics() {
        // A pseudo-random walk over bytes that matter here.
        let alphabet = b"\"usage_metadata Metadata:{}[]\\\r\n,null0123 data:";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut input = Vec::new();
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let i = (x % (alphabet.len() as u64 + 1)) as usize;
            input.push(alphabet.get(i).copied().unwrap_or((x >> 32) as u8));
        }
        let whole = tap(&[&input]);
        for size in [1, 2, 3, 7, 64, 4096] {
            let mut t = UsageTap::new();
            let mut s = StripUsage::new();
            let mut out = Vec::new();
            for c in input.chunks(size) {
                t.push(c);
                s.push(c, &mut out);
            }
            s.finish(false, &mut out);
            assert_eq!(t.usage(), whole, "chunks of {size}");
        }
    }

    /// Inputs made of the pieces that matter here, and any byte.
    fn pieces() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let piece = prop_oneof![
            Just(b"\"usage\"".to_vec()),
            Just(b"\"usageMetadata\"".to_vec()),
            Just(b"\"usage_metadata\"".to_vec()),
            Just(b":".to_vec()),
            Just(b" ".to_vec()),
            Just(b"{".to_vec()),
            Just(b"}".to_vec()),
            Just(b"\\".to_vec()),
            Just(b"\"".to_vec()),
            Just(b"null".to_vec()),
            Just(b",".to_vec()),
            Just(b"\n\n".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"data: ".to_vec()),
            Just(b"\"choices\":[]".to_vec()),
            Just(b"\"prompt_tokens\":12".to_vec()),
            Just(b"\"promptTokenCount\":7".to_vec()),
            Just(b"\"output_tokens\":3".to_vec()),
            any::<u8>().prop_map(|b| vec![b]),
        ];
        proptest::collection::vec(piece, 0..60).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #[test]
        fn any_split_gives_the_same_usage_and_bytes(input in pieces(), a in 0usize..400, b in 0usize..400) {
            let a = a.min(input.len());
            let b = b.min(input.len()).max(a);
            let (x, rest) = input.split_at(a);
            let (y, z) = rest.split_at(b - a);
            proptest::prop_assert_eq!(tap(&[x, y, z]), tap(&[&input]));
            proptest::prop_assert_eq!(strip(&[x, y, z]), strip(&[&input]));
            // Without a usage key the bytes pass as they are.
            if memchr::memmem::find(&input, b"\"usage\"").is_none() {
                proptest::prop_assert_eq!(strip(&[x, y, z]), input.clone());
            }
        }
    }
}
