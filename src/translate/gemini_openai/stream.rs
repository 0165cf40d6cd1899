//! Stream translator of the Gemini ⇄ chat pair: OpenAI chat chunks (SSE) →
//! Gemini `streamGenerateContent?alt=sse` events, independent of how the
//! bytes are split. Each event is a partial `GenerateContentResponse`: text
//! as it comes, tool calls as `functionCall` parts once their arguments are
//! whole (at the end). The last event always carries `finishReason` and
//! `usageMetadata` — Gemini CLI retries a stream without one — also when the
//! upstream broke off or failed: then `finishReason` is `OTHER`, with a
//! `finishMessage` saying why.

use super::response::{
    candidate, finish_reason, function_call_part, response_object, thought_text, usage_metadata,
};
use crate::translate::openai::ChatStreamTarget;
use crate::translate::sse::SseParser;
use serde_json::{json, Value};

/// A tool call being gathered.
struct Call {
    openai_index: u64,
    id: String,
    name: String,
    args: String,
}

/// OpenAI chat completions SSE → Gemini SSE.
pub struct ChatToGeminiStream {
    parser: SseParser,
    model: String,
    response_id: String,
    started: bool,
    done: bool,
    calls: Vec<Call>,
    finish: Option<String>,
    usage: Option<Value>,
}

/// One `alt=sse` event: `data: <json>` and a blank line, CRLF as Google
/// writes them.
fn write(out: &mut Vec<u8>, v: &Value) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(v.to_string().as_bytes());
    out.extend_from_slice(b"\r\n\r\n");
}

impl ChatToGeminiStream {
    /// `model` as the client named it (the events' `modelVersion`).
    pub fn new(model: &str) -> Self {
        ChatToGeminiStream {
            parser: SseParser::new(),
            model: model.to_string(),
            response_id: String::new(),
            started: false,
            done: false,
            calls: Vec::new(),
            finish: None,
            usage: None,
        }
    }

    fn event(&self, parts: Vec<Value>, finish: Option<&str>, out: &mut Vec<u8>) -> Value {
        let usage = finish.map(|_| usage_metadata(self.usage.as_ref()));
        let r = response_object(
            candidate(parts, finish),
            usage,
            &self.model,
            &self.response_id,
        );
        write(out, &r);
        r
    }

    fn text(&mut self, t: &str, out: &mut Vec<u8>) {
        if !t.is_empty() {
            self.event(vec![json!({"text": t})], None, out);
        }
    }

    fn tool_call(&mut self, position: usize, call: &Value) {
        let openai_index = call
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(position as u64);
        let i = match self
            .calls
            .iter()
            .position(|c| c.openai_index == openai_index)
        {
            Some(i) => i,
            None => {
                self.calls.push(Call {
                    openai_index,
                    id: String::new(),
                    name: String::new(),
                    args: String::new(),
                });
                self.calls.len() - 1
            }
        };
        let c = &mut self.calls[i];
        if let Some(id) = call.get("id").and_then(Value::as_str) {
            if c.id.is_empty() {
                c.id = id.to_string();
            }
        }
        if let Some(name) = call["function"]["name"].as_str() {
            if c.name.is_empty() {
                c.name = name.to_string();
            }
        }
        if let Some(a) = call["function"]["arguments"].as_str() {
            c.args.push_str(a);
        }
    }

    /// The last event of a whole answer: its tool calls, `finishReason`,
    /// `usageMetadata`.
    fn end(&mut self, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        self.done = true;
        let mut parts: Vec<Value> = self
            .calls
            .iter()
            .map(|c| function_call_part(&c.id, &c.name, &c.args))
            .collect();
        if parts.is_empty() {
            parts.push(json!({"text": ""}));
        }
        let finish = finish_reason(self.finish.as_deref().unwrap_or("stop"));
        self.event(parts, Some(finish), out);
    }

    /// The last event of an answer that did not end well: `OTHER`, why, and
    /// the usage known so far (tool calls, maybe partial, are left out). An
    /// answer whose `finish_reason` came is whole, only its usage may be
    /// missing: it ends as usual.
    fn fail(&mut self, why: &str, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        if self.finish.is_some() {
            return self.end(out);
        }
        self.done = true;
        let usage = usage_metadata(self.usage.as_ref());
        let mut c = candidate(vec![json!({"text": ""})], Some("OTHER"));
        c["finishMessage"] = json!(why);
        write(
            out,
            &response_object(c, Some(usage), &self.model, &self.response_id),
        );
    }

    fn chunk(&mut self, chunk: &Value, out: &mut Vec<u8>) {
        if !self.started {
            self.started = true;
            self.response_id = chunk
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
        }
        if let Some(u) = chunk.get("usage").filter(|u| !u.is_null()) {
            self.usage = Some(u.clone());
        }
        if let Some(choice) = chunk.get("choices").and_then(|c| c.get(0)) {
            let delta = &choice["delta"];
            if let Some(t) = thought_text(delta) {
                self.event(vec![json!({"text": t, "thought": true})], None, out);
            }
            for key in ["content", "refusal"] {
                if let Some(t) = delta.get(key).and_then(Value::as_str) {
                    self.text(t, out);
                }
            }
            if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
                for (pos, call) in calls.iter().enumerate() {
                    self.tool_call(pos, call);
                }
            }
            if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
                self.finish = Some(f.to_string());
            }
        }
        if self.finish.is_some() && self.usage.is_some() {
            self.end(out);
        }
    }
}

impl ChatStreamTarget for ChatToGeminiStream {
    fn parser(&mut self) -> &mut SseParser {
        &mut self.parser
    }
    fn chunk(&mut self, chunk: &Value, out: &mut Vec<u8>) {
        ChatToGeminiStream::chunk(self, chunk, out)
    }
    fn provider_error(&mut self, message: &str, _error: &Value, out: &mut Vec<u8>) {
        // Whole or not, the provider said the answer failed.
        self.finish = None;
        self.fail(message, out)
    }
    fn is_done(&self) -> bool {
        self.done
    }
    fn is_started(&self) -> bool {
        self.started
    }
    fn end(&mut self, out: &mut Vec<u8>) {
        ChatToGeminiStream::end(self, out)
    }
    fn fail_stream(&mut self, why: &str, out: &mut Vec<u8>) {
        self.fail(why, out)
    }
}
