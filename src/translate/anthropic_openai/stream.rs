//! Stream translators of the Anthropic Messages ⇄ OpenAI chat completions
//! pair: state machines over SSE bytes, independent of how the bytes are
//! split. Each event is translated as soon as it is whole; the only thing
//! held back is Anthropic's closing `message_delta`, which waits for the
//! usage chunk that follows OpenAI's last choice.

use super::response::{
    clean_id, finish_reason, message_id, openai_error_type, stop_reason, usage_to_anthropic,
    usage_to_openai,
};
use crate::errors::anthropic_error_type;
use crate::translate::openai::{AnswerHead, ChatStreamTarget};
use crate::translate::sse::{write_event, Event, SseParser};
use crate::translate::BodyTransform;
use serde_json::{json, Value};

/// An OpenAI chat completions SSE stream → Anthropic Messages SSE events.
pub struct ChatToMessagesStream {
    parser: SseParser,
    model: String,
    started: bool,
    done: bool,
    /// The Anthropic index of the next content block.
    next_index: usize,
    /// The open block: its Anthropic index, and for a tool call its OpenAI index.
    open: Option<(usize, Option<u64>)>,
    /// OpenAI tool-call index → Anthropic block index.
    tools: Vec<(u64, usize)>,
    message_id: String,
    finish: Option<String>,
    matched_stop: Option<String>,
    usage: Option<Value>,
}

impl ChatToMessagesStream {
    /// `model` is the model as the client named it.
    pub fn new(model: &str) -> ChatToMessagesStream {
        ChatToMessagesStream {
            parser: SseParser::new(),
            model: model.to_string(),
            started: false,
            done: false,
            next_index: 0,
            open: None,
            tools: Vec::new(),
            message_id: String::new(),
            finish: None,
            matched_stop: None,
            usage: None,
        }
    }

    fn emit(out: &mut Vec<u8>, name: &str, data: Value) {
        write_event(out, Some(name), &data.to_string());
    }

    fn start(&mut self, chunk: &Value, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        self.message_id = message_id(chunk.get("id").and_then(Value::as_str).unwrap_or(""));
        let usage = usage_to_anthropic(chunk.get("usage").filter(|u| !u.is_null()));
        Self::emit(
            out,
            "message_start",
            json!({"type": "message_start", "message": {
                "id": self.message_id, "type": "message", "role": "assistant", "model": self.model,
                "content": [], "stop_reason": null, "stop_sequence": null, "usage": usage,
            }}),
        );
    }

    fn close_open(&mut self, out: &mut Vec<u8>) {
        if let Some((index, _)) = self.open.take() {
            Self::emit(
                out,
                "content_block_stop",
                json!({"type": "content_block_stop", "index": index}),
            );
        }
    }

    fn open_block(&mut self, block: Value, tool: Option<u64>, out: &mut Vec<u8>) -> usize {
        self.close_open(out);
        let index = self.next_index;
        self.next_index += 1;
        self.open = Some((index, tool));
        Self::emit(
            out,
            "content_block_start",
            json!({"type": "content_block_start", "index": index, "content_block": block}),
        );
        index
    }

    fn text(&mut self, text: &str, out: &mut Vec<u8>) {
        if text.is_empty() {
            return;
        }
        let index = match self.open {
            Some((i, None)) => i,
            _ => self.open_block(json!({"type": "text", "text": ""}), None, out),
        };
        Self::emit(
            out,
            "content_block_delta",
            json!({"type": "content_block_delta", "index": index,
                   "delta": {"type": "text_delta", "text": text}}),
        );
    }

    fn tool_call(&mut self, position: usize, call: &Value, out: &mut Vec<u8>) {
        let openai_index = call
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(position as u64);
        let index = match self.tools.iter().find(|(o, _)| *o == openai_index) {
            Some((_, i)) => *i,
            None => {
                let id = call
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        format!("toolu_{}_{openai_index}", clean_id(&self.message_id))
                    });
                let name = call["function"]["name"].as_str().unwrap_or("");
                let i = self.open_block(
                    json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                    Some(openai_index),
                    out,
                );
                self.tools.push((openai_index, i));
                i
            }
        };
        let args = call["function"]["arguments"].as_str().unwrap_or("");
        if !args.is_empty() {
            Self::emit(
                out,
                "content_block_delta",
                json!({"type": "content_block_delta", "index": index,
                       "delta": {"type": "input_json_delta", "partial_json": args}}),
            );
        }
    }

    fn error(&mut self, message: &str, kind: &str, out: &mut Vec<u8>) {
        self.done = true;
        Self::emit(
            out,
            "error",
            json!({"type": "error", "error": {"type": kind, "message": message}}),
        );
    }

    /// Closes the message: the open block, `message_delta`, `message_stop`.
    fn end(&mut self, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        self.done = true;
        self.close_open(out);
        let finish = self.finish.as_deref().unwrap_or("stop");
        let stop = stop_reason(finish, self.matched_stop.as_deref());
        let usage = usage_to_anthropic(self.usage.as_ref());
        Self::emit(
            out,
            "message_delta",
            json!({"type": "message_delta",
                   "delta": {"stop_reason": stop,
                             "stop_sequence": if stop == "stop_sequence" { json!(self.matched_stop) } else { Value::Null }},
                   "usage": usage}),
        );
        Self::emit(out, "message_stop", json!({"type": "message_stop"}));
    }

    fn chunk(&mut self, chunk: &Value, out: &mut Vec<u8>) {
        self.start(chunk, out);
        if let Some(u) = chunk.get("usage").filter(|u| !u.is_null()) {
            self.usage = Some(u.clone());
        }
        if let Some(choice) = chunk.get("choices").and_then(|c| c.get(0)) {
            let delta = &choice["delta"];
            for key in ["content", "refusal"] {
                if let Some(t) = delta.get(key).and_then(Value::as_str) {
                    self.text(t, out);
                }
            }
            if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
                for (pos, call) in calls.iter().enumerate() {
                    self.tool_call(pos, call, out);
                }
            }
            if let Some(f) = choice.get("finish_reason").and_then(Value::as_str) {
                self.finish = Some(f.to_string());
                self.matched_stop = choice
                    .get("stop_reason")
                    .or_else(|| choice.get("matched_stop"))
                    .and_then(Value::as_str)
                    .map(str::to_string);
                self.close_open(out);
            }
        }
        // Everything the closing events need is known: send them now.
        if self.finish.is_some() && self.usage.is_some() {
            self.end(out);
        }
    }
}

impl ChatStreamTarget for ChatToMessagesStream {
    fn parser(&mut self) -> &mut SseParser {
        &mut self.parser
    }
    fn chunk(&mut self, chunk: &Value, out: &mut Vec<u8>) {
        ChatToMessagesStream::chunk(self, chunk, out)
    }
    fn provider_error(&mut self, message: &str, error: &Value, out: &mut Vec<u8>) {
        // A code that is no HTTP status (e.g. 65965, which `as u16` made 429) is a 500.
        let status = error
            .get("code")
            .and_then(Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(500);
        self.error(message, anthropic_error_type(status), out)
    }
    fn is_done(&self) -> bool {
        self.done
    }
    fn is_started(&self) -> bool {
        self.started
    }
    fn end(&mut self, out: &mut Vec<u8>) {
        ChatToMessagesStream::end(self, out)
    }
    fn fail_stream(&mut self, why: &str, out: &mut Vec<u8>) {
        self.error(why, "api_error", out)
    }
}

/// An Anthropic Messages SSE stream → OpenAI chat completions SSE chunks.
pub struct MessagesToChatStream {
    parser: SseParser,
    chunks: AnswerHead,
    include_usage: bool,
    /// Anthropic block index → OpenAI tool-call index.
    tools: Vec<(u64, usize)>,
    /// The thinking block being streamed: its index and the block so far
    /// (sent whole, as `thinking_blocks`, when it stops).
    thinking: Option<(u64, Value)>,
    usage: Value,
    done: bool,
}

impl MessagesToChatStream {
    /// `model` as the client named it; `created` from the upstream's `Date`.
    pub fn new(model: &str, created: i64, include_usage: bool) -> MessagesToChatStream {
        MessagesToChatStream {
            parser: SseParser::new(),
            chunks: AnswerHead::new("proxy", created, model),
            include_usage,
            tools: Vec::new(),
            thinking: None,
            usage: json!({}),
            done: false,
        }
    }

    fn chunk(&self, out: &mut Vec<u8>, delta: Value, finish: Option<&str>) {
        self.chunks.delta(out, delta, finish);
    }

    fn error(&mut self, message: &str, status: u16, out: &mut Vec<u8>) {
        self.done = true;
        AnswerHead::error(out, message, openai_error_type(status));
    }

    fn event(&mut self, e: Event, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        let Ok(v) = serde_json::from_str::<Value>(&e.data) else {
            return;
        };
        let kind = v.get("type").and_then(Value::as_str).unwrap_or(&e.event);
        match kind {
            "message_start" => {
                let m = &v["message"];
                self.chunks.id = format!(
                    "chatcmpl-{}",
                    clean_id(m.get("id").and_then(Value::as_str).unwrap_or("proxy"))
                );
                merge_usage(&mut self.usage, &m["usage"]);
                self.chunk(out, json!({"role": "assistant", "content": ""}), None);
            }
            "content_block_start" => {
                let block = &v["content_block"];
                let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
                match block.get("type").and_then(Value::as_str) {
                    Some("tool_use") => {
                        let k = self.tools.len();
                        self.tools.push((index, k));
                        self.chunk(
                            out,
                            json!({"tool_calls": [{"index": k, "id": block["id"], "type": "function",
                                   "function": {"name": block["name"], "arguments": ""}}]}),
                            None,
                        );
                    }
                    Some("thinking") | Some("redacted_thinking") => {
                        // An object (its "type" matched): the deltas below may
                        // assign into it (`Value`'s IndexMut panics on non-objects).
                        self.thinking = Some((index, block.clone()));
                        let text = block.get("thinking").and_then(Value::as_str).unwrap_or("");
                        if !text.is_empty() {
                            self.chunk(out, json!({"reasoning_content": text}), None);
                        }
                    }
                    Some("text") => {
                        let text = block.get("text").and_then(Value::as_str).unwrap_or("");
                        if !text.is_empty() {
                            self.chunk(out, json!({"content": text}), None);
                        }
                    }
                    _ => {}
                }
            }
            "content_block_delta" => {
                let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
                let d = &v["delta"];
                match d.get("type").and_then(Value::as_str) {
                    Some("text_delta") => self.chunk(out, json!({"content": d["text"]}), None),
                    Some("input_json_delta") => {
                        if let Some((_, k)) = self.tools.iter().find(|(i, _)| *i == index) {
                            self.chunk(
                                out,
                                json!({"tool_calls": [{"index": k, "function": {"arguments": d["partial_json"]}}]}),
                                None,
                            );
                        }
                    }
                    Some("thinking_delta") => {
                        if let Some((_, b)) = self.thinking.as_mut().filter(|(i, _)| *i == index) {
                            let t = d["thinking"].as_str().unwrap_or("");
                            let so_far = b["thinking"].as_str().unwrap_or("").to_string();
                            b["thinking"] = json!(so_far + t);
                        }
                        self.chunk(out, json!({"reasoning_content": d["thinking"]}), None)
                    }
                    Some("signature_delta") => {
                        if let Some((_, b)) = self.thinking.as_mut().filter(|(i, _)| *i == index) {
                            let s = d["signature"].as_str().unwrap_or("");
                            let so_far = b["signature"].as_str().unwrap_or("").to_string();
                            b["signature"] = json!(so_far + s);
                        }
                    }
                    _ => {}
                }
            }
            "content_block_stop" => {
                let index = v.get("index").and_then(Value::as_u64).unwrap_or(0);
                if self.thinking.as_ref().is_some_and(|(i, _)| *i == index) {
                    if let Some((_, block)) = self.thinking.take() {
                        self.chunk(out, json!({"thinking_blocks": [block]}), None);
                    }
                }
            }
            "message_delta" => {
                merge_usage(&mut self.usage, &v["usage"]);
                if let Some(stop) = v["delta"].get("stop_reason").and_then(Value::as_str) {
                    self.chunk(out, json!({}), Some(finish_reason(stop)));
                }
            }
            "message_stop" => {
                self.done = true;
                if self.include_usage {
                    self.chunks.usage(out, usage_to_openai(&self.usage));
                }
                write_event(out, None, "[DONE]");
            }
            "error" => {
                let err = &v["error"];
                let status = match err.get("type").and_then(Value::as_str) {
                    Some("overloaded_error") => 529,
                    Some("rate_limit_error") => 429,
                    Some("invalid_request_error") => 400,
                    _ => 500,
                };
                let message = err
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("the provider reported an error mid-stream")
                    .to_string();
                self.error(&message, status, out);
            }
            _ => {}
        }
    }
}

/// Takes every usage number `from` has into `into`.
fn merge_usage(into: &mut Value, from: &Value) {
    if let (Some(into), Some(from)) = (into.as_object_mut(), from.as_object()) {
        for (k, v) in from {
            if v.is_u64() {
                into.insert(k.clone(), v.clone());
            }
        }
    }
}

impl BodyTransform for MessagesToChatStream {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        for e in self.parser.events(chunk) {
            self.event(e, out);
        }
    }

    fn finish(&mut self, complete: bool, out: &mut Vec<u8>) {
        for e in self.parser.finish_events() {
            self.event(e, out);
        }
        if !self.done {
            let why = if complete {
                "the provider's stream ended before message_stop"
            } else {
                "the provider's stream was cut off before it ended"
            };
            self.error(why, 502, out);
        }
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
