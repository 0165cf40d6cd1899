//! Server-sent events, incrementally: bytes in (split anywhere), whole
//! events out — the way the WHATWG EventSource parser reads them (lines end
//! in `\n`, `\r\n` or `\r`; `data` lines join with `\n`; a blank line ends an
//! event; `:` starts a comment).

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Event {
    /// The `event:` field (empty when none).
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// An incremental SSE parser.
#[derive(Debug, Default)]
pub struct SseParser {
    /// The current, unfinished line.
    line: Vec<u8>,
    /// A `\r` ended the last line: a `\n` right after it belongs to it.
    after_cr: bool,
    event: String,
    data: String,
    has_data: bool,
}

impl SseParser {
    pub fn new() -> SseParser {
        SseParser::default()
    }

    /// Feeds `bytes`, calling `emit` for every event they complete.
    pub fn push(&mut self, bytes: &[u8], mut emit: impl FnMut(Event)) {
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' => self.end_line(&mut emit),
                b'\r' => {
                    self.end_line(&mut emit);
                    self.after_cr = true;
                }
                _ => self.line.push(b),
            }
        }
    }

    /// The stream ended: an event still missing its blank line is dispatched
    /// when it has data (servers that close right after the last `data:`).
    pub fn finish(&mut self, mut emit: impl FnMut(Event)) {
        if !self.line.is_empty() {
            self.end_line(&mut emit);
        }
        self.dispatch(&mut emit);
    }

    /// [`Self::push`], collecting the events.
    pub fn events(&mut self, bytes: &[u8]) -> Vec<Event> {
        let mut out = Vec::new();
        self.push(bytes, |e| out.push(e));
        out
    }

    /// [`Self::finish`], collecting the events.
    pub fn finish_events(&mut self) -> Vec<Event> {
        let mut out = Vec::new();
        self.finish(|e| out.push(e));
        out
    }

    /// Whether nothing is buffered (no partial line, no partial event).
    pub fn is_idle(&self) -> bool {
        self.line.is_empty() && !self.has_data && self.event.is_empty()
    }

    fn end_line(&mut self, emit: &mut impl FnMut(Event)) {
        if self.line.is_empty() {
            self.dispatch(emit);
            return;
        }
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_str(), ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, emit: &mut impl FnMut(Event)) {
        if self.has_data {
            emit(Event {
                event: std::mem::take(&mut self.event),
                data: std::mem::take(&mut self.data),
            });
        }
        self.event.clear();
        self.data.clear();
        self.has_data = false;
    }
}

/// Appends one event: `event: {name}` (when given) and `data: {data}`.
pub fn write_event(out: &mut Vec<u8>, name: Option<&str>, data: &str) {
    if let Some(name) = name {
        out.extend_from_slice(b"event: ");
        out.extend_from_slice(name.as_bytes());
        out.push(b'\n');
    }
    for line in data.split('\n') {
        out.extend_from_slice(b"data: ");
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(input: &[u8], cut: usize) -> Vec<Event> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        let (a, b) = input.split_at(cut);
        p.push(a, |e| out.push(e));
        p.push(b, |e| out.push(e));
        p.finish(|e| out.push(e));
        out
    }

    #[test]
    fn events_are_the_same_wherever_the_bytes_are_split() {
        let input = b"event: message_start\r\ndata: {\"a\":1}\r\n\r\n: comment\n\ndata: x\ndata:y\n\nevent: e\rdata: z\r\rdata: [DONE]\n\n";
        let want = vec![
            Event {
                event: "message_start".into(),
                data: "{\"a\":1}".into(),
            },
            Event {
                event: "".into(),
                data: "x\ny".into(),
            },
            Event {
                event: "e".into(),
                data: "z".into(),
            },
            Event {
                event: "".into(),
                data: "[DONE]".into(),
            },
        ];
        for cut in 0..=input.len() {
            assert_eq!(parse_in_pieces(input, cut), want, "cut at {cut}");
        }
        // Byte by byte.
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for b in input {
            p.push(&[*b], |e| out.push(e));
        }
        assert_eq!(out, want);
    }

    #[test]
    fn a_last_event_without_its_blank_line_is_kept_and_empty_events_are_not() {
        assert_eq!(
            parse_in_pieces(b"event: only-name\n\ndata: tail", 3),
            vec![Event {
                event: "".into(),
                data: "tail".into()
            }]
        );
    }

    #[test]
    fn writes_multi_line_data() {
        let mut out = Vec::new();
        write_event(&mut out, Some("x"), "a\nb");
        assert_eq!(out, b"event: x\ndata: a\ndata: b\n\n");
    }
}
