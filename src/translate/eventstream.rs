//! AWS's binary event-stream framing (`application/vnd.amazon.eventstream`),
//! incrementally: bytes in (split anywhere), whole frames out, each checked
//! against both of its CRC32s. A frame that fails a check ends the stream
//! with an error — nothing after it is trusted.
//!
//! A frame: total length (u32 BE), headers length (u32 BE), CRC32 of those 8
//! bytes; the headers (name length u8, name, type u8, value); the payload;
//! the CRC32 of everything before it.

/// One header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderValue {
    Bool(bool),
    Int(i64),
    Bytes(Vec<u8>),
    String(String),
    Timestamp(i64),
    Uuid([u8; 16]),
}

/// One frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub headers: Vec<(String, HeaderValue)>,
    pub payload: Vec<u8>,
}

impl Frame {
    /// A string header's value (`:event-type`, `:message-type`, …).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|(n, v)| match v {
            HeaderValue::String(s) if n == name => Some(s.as_str()),
            _ => None,
        })
    }
}

/// Frames larger than this are refused (AWS's own limit is 16 MiB).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;

/// An incremental decoder.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    failed: bool,
}

// Indexing here is bounds-checked by hand (the property tests feed the
// decoder arbitrary bytes): `decode` slices only within `rest.len() >= 12`
// and, after `16 <= total <= MAX_FRAME` and `headers_len <= total - 16`,
// within `rest.len() >= total`; `parse_headers` reads `b[0]` of a non-empty
// `b`, steps past `2 + n` bytes only once `b.get(1 + n)` exists, and `take`
// slices after `get(..k)`. Lengths are u32/u16/u8 read from the frame, so
// the additions cannot overflow.

/// The big-endian u32 at the start of `b` (callers pass at least 4 bytes).
fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Feeds `bytes`; returns every frame they complete, or — when a frame
    /// fails a check — the good frames before it and the error that ends the
    /// stream (after which every call fails).
    pub fn push(&mut self, bytes: &[u8]) -> Result<Vec<Frame>, (Vec<Frame>, String)> {
        if self.failed {
            return Err((Vec::new(), "the event stream already failed".into()));
        }
        let mut frames = Vec::new();
        match self.decode(bytes, &mut frames) {
            Ok(()) => Ok(frames),
            Err(why) => {
                self.failed = true;
                self.buf.clear();
                Err((frames, why))
            }
        }
    }

    fn decode(&mut self, bytes: &[u8], frames: &mut Vec<Frame>) -> Result<(), String> {
        self.buf.extend_from_slice(bytes);
        let mut at = 0;
        loop {
            let rest = &self.buf[at..];
            if rest.len() < 12 {
                break;
            }
            if crc32fast::hash(&rest[..8]) != be32(&rest[8..12]) {
                return Err("an event-stream frame failed its prelude CRC".into());
            }
            let total = be32(&rest[..4]) as usize;
            let headers_len = be32(&rest[4..8]) as usize;
            if !(16..=MAX_FRAME).contains(&total) || headers_len > total - 16 {
                return Err("an event-stream frame has impossible lengths".into());
            }
            if rest.len() < total {
                break;
            }
            let frame = &rest[..total];
            if crc32fast::hash(&frame[..total - 4]) != be32(&frame[total - 4..]) {
                return Err("an event-stream frame failed its message CRC".into());
            }
            let headers = parse_headers(&frame[12..12 + headers_len])?;
            frames.push(Frame {
                headers,
                payload: frame[12 + headers_len..total - 4].to_vec(),
            });
            at += total;
        }
        self.buf.drain(..at);
        Ok(())
    }

    /// Whether bytes of an unfinished frame are left over.
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty()
    }
}

fn parse_headers(mut b: &[u8]) -> Result<Vec<(String, HeaderValue)>, String> {
    let bad = || "an event-stream frame has malformed headers".to_string();
    let mut out = Vec::new();
    while !b.is_empty() {
        let n = b[0] as usize;
        let name = std::str::from_utf8(b.get(1..1 + n).ok_or_else(bad)?).map_err(|_| bad())?;
        let kind = *b.get(1 + n).ok_or_else(bad)?;
        b = &b[2 + n..];
        let take = |b: &mut &[u8], k: usize| -> Result<Vec<u8>, String> {
            let v = b.get(..k).ok_or_else(bad)?.to_vec();
            *b = &b[k..];
            Ok(v)
        };
        let int = |v: &[u8]| v.iter().fold(0i64, |acc, x| (acc << 8) | i64::from(*x));
        let value = match kind {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => HeaderValue::Int(take(&mut b, 1)?[0] as i8 as i64),
            3 => HeaderValue::Int(int(&take(&mut b, 2)?) as i16 as i64),
            4 => HeaderValue::Int(int(&take(&mut b, 4)?) as i32 as i64),
            5 => HeaderValue::Int(int(&take(&mut b, 8)?)),
            6 | 7 => {
                let len = int(&take(&mut b, 2)?) as usize;
                let v = take(&mut b, len)?;
                if kind == 6 {
                    HeaderValue::Bytes(v)
                } else {
                    HeaderValue::String(String::from_utf8(v).map_err(|_| bad())?)
                }
            }
            8 => HeaderValue::Timestamp(int(&take(&mut b, 8)?)),
            9 => {
                let v = take(&mut b, 16)?;
                let mut u = [0; 16];
                u.copy_from_slice(&v);
                HeaderValue::Uuid(u)
            }
            _ => return Err(bad()),
        };
        out.push((name.to_string(), value));
    }
    Ok(out)
}

/// Encodes a frame with string headers (for tests and mocks).
pub fn encode(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value.as_bytes());
    }
    let total = 12 + h.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    out.extend_from_slice(&crc32fast::hash(&out).to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    out.extend_from_slice(&crc32fast::hash(&out).to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str, payload: &str) -> Vec<u8> {
        encode(
            &[
                (":event-type", kind),
                (":content-type", "application/json"),
                (":message-type", "event"),
            ],
            payload.as_bytes(),
        )
    }

    fn stream() -> Vec<u8> {
        let mut s = event("messageStart", r#"{"role":"assistant"}"#);
        s.extend(event(
            "contentBlockDelta",
            r#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#,
        ));
        s.extend(event("messageStop", r#"{"stopReason":"end_turn"}"#));
        s
    }

    #[test]
    fn frames_are_the_same_wherever_the_bytes_are_split() {
        let s = stream();
        let whole = Decoder::new().push(&s).unwrap();
        assert_eq!(whole.len(), 3);
        assert_eq!(whole[1].header(":event-type"), Some("contentBlockDelta"));
        assert_eq!(
            whole[1].payload,
            br#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#
        );
        for cut in 0..=s.len() {
            let mut d = Decoder::new();
            let mut got = d.push(&s[..cut]).unwrap();
            got.extend(d.push(&s[cut..]).unwrap());
            assert_eq!(got, whole, "cut at {cut}");
            assert!(!d.has_partial());
        }
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for b in &s {
            got.extend(d.push(&[*b]).unwrap());
        }
        assert_eq!(got, whole);
    }

    #[test]
    fn a_corrupt_crc_ends_the_stream() {
        let s = stream();
        let first = event("messageStart", r#"{"role":"assistant"}"#).len();
        // A flipped payload byte in the second frame: its message CRC fails.
        let mut bad = s.clone();
        bad[first + 40] ^= 0x20;
        let mut d = Decoder::new();
        assert_eq!(d.push(&bad[..first]).unwrap().len(), 1);
        assert!(d.push(&bad[first..]).unwrap_err().1.contains("message CRC"));
        // In one piece, the good first frame still comes out.
        let (good, why) = Decoder::new().push(&bad).unwrap_err();
        assert_eq!(good.len(), 1);
        assert!(why.contains("message CRC"));
        assert!(d.push(b"").is_err(), "nothing after a failure is trusted");
        // A flipped length: the prelude CRC fails before any length is believed.
        let mut bad = s.clone();
        bad[2] ^= 0x01;
        assert!(Decoder::new()
            .push(&bad)
            .unwrap_err()
            .1
            .contains("prelude CRC"));
    }

    #[test]
    fn every_header_type_decodes() {
        let mut h = Vec::new();
        let mut add = |name: &str, kind: u8, value: &[u8]| {
            h.push(name.len() as u8);
            h.extend_from_slice(name.as_bytes());
            h.push(kind);
            h.extend_from_slice(value);
        };
        add("t", 0, b"");
        add("f", 1, b"");
        add("b", 2, &[0xff]);
        add("s", 3, &(-2i16).to_be_bytes());
        add("i", 4, &7i32.to_be_bytes());
        add("l", 5, &(-9i64).to_be_bytes());
        add("x", 6, &[0, 2, 1, 2]);
        add("ts", 8, &1000i64.to_be_bytes());
        add("u", 9, &[3; 16]);
        let parsed = parse_headers(&h).unwrap();
        assert_eq!(
            parsed.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>(),
            vec![
                HeaderValue::Bool(true),
                HeaderValue::Bool(false),
                HeaderValue::Int(-1),
                HeaderValue::Int(-2),
                HeaderValue::Int(7),
                HeaderValue::Int(-9),
                HeaderValue::Bytes(vec![1, 2]),
                HeaderValue::Timestamp(1000),
                HeaderValue::Uuid([3; 16]),
            ]
        );
        assert!(parse_headers(&[5, b'a']).is_err());
        assert!(parse_headers(&[1, b'a', 42]).is_err());
    }
}
