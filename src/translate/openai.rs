//! The OpenAI chat completions side that every pair shares: reading an
//! OpenAI request's tool calls and tool messages, building OpenAI answers
//! and stream chunks.

use crate::translate::sse::{write_event, Event, SseParser};
use serde_json::{json, Map, Value};

/// Tool-call arguments (a JSON string) as an object; anything that is not a
/// JSON object is kept, recoverable, as `{"_raw_arguments": "<text>"}`
/// rather than failing the request or the answer.
pub fn arguments_object(args: &str) -> Value {
    match serde_json::from_str::<Value>(args) {
        Ok(v @ Value::Object(_)) => v,
        _ if args.trim().is_empty() => json!({}),
        _ => json!({ "_raw_arguments": args }),
    }
}

/// An assistant message's tool calls: (id, name, arguments as an object).
pub fn tool_calls(message: &Value) -> Vec<(&str, &str, Value)> {
    message
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|call| {
            (
                call.get("id").and_then(Value::as_str).unwrap_or(""),
                call["function"]["name"].as_str().unwrap_or(""),
                arguments_object(call["function"]["arguments"].as_str().unwrap_or("")),
            )
        })
        .collect()
}

/// A `tool` message: (the call it answers, its text).
pub fn tool_result(message: &Value) -> (&str, String) {
    let text = match message.get("content").unwrap_or(&Value::Null) {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    };
    let id = message
        .get("tool_call_id")
        .or_else(|| message.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    (id, text)
}

/// Appends `blocks` as a turn of `role`, merged into the previous turn when
/// it has the same role (consecutive tool results become one user turn, with
/// a following user message's content after them): what both Anthropic and
/// Converse want.
pub fn push_turn(turns: &mut Vec<Value>, role: &str, blocks: Vec<Value>) {
    if blocks.is_empty() {
        return;
    }
    if let Some(last) = turns.last_mut().filter(|t| t["role"] == role) {
        // safe: `last` has a role, so it is an object (IndexMut inserts).
        if let Some(existing) = last["content"].as_array_mut() {
            existing.extend(blocks);
            return;
        }
    }
    turns.push(json!({"role": role, "content": blocks}));
}

/// An OpenAI tool call.
pub fn tool_call(id: &Value, name: &Value, input: Option<&Value>) -> Value {
    json!({
        "id": id.as_str().unwrap_or(""),
        "type": "function",
        "function": {
            "name": name.as_str().unwrap_or(""),
            "arguments": serde_json::to_string(input.unwrap_or(&json!({}))).unwrap_or_default(),
        },
    })
}

/// What an answer's message holds.
#[derive(Debug, Default)]
pub struct Message {
    pub text: String,
    pub reasoning: String,
    /// Anthropic's thinking blocks as they came (text and signature), so a
    /// client can send them back — `thinking_blocks`, as LiteLLM names them.
    pub thinking_blocks: Vec<Value>,
    /// OpenAI tool calls ([`tool_call`]).
    pub calls: Vec<Value>,
}

/// What every chunk (and the whole completion) of one answer carries.
pub struct AnswerHead {
    pub id: String,
    pub created: i64,
    pub model: String,
}

impl AnswerHead {
    /// The head of an answer whose upstream id is `id` (already cleaned).
    pub fn new(id: &str, created: i64, model: &str) -> Self {
        AnswerHead {
            id: format!("chatcmpl-{id}"),
            created,
            model: model.to_string(),
        }
    }

    /// The whole OpenAI chat completion, serialized.
    pub fn completion_bytes(
        &self,
        m: Message,
        finish: &str,
        usage: Value,
    ) -> Result<Vec<u8>, String> {
        serde_json::to_vec(&self.completion(m, finish, usage)).map_err(|e| e.to_string())
    }

    /// The whole OpenAI chat completion.
    pub fn completion(&self, m: Message, finish: &str, usage: Value) -> Value {
        let mut message = Map::new();
        message.insert("role".into(), json!("assistant"));
        message.insert(
            "content".into(),
            if m.text.is_empty() && !m.calls.is_empty() {
                Value::Null
            } else {
                Value::String(m.text)
            },
        );
        if !m.reasoning.is_empty() {
            message.insert("reasoning_content".into(), Value::String(m.reasoning));
        }
        if !m.thinking_blocks.is_empty() {
            message.insert("thinking_blocks".into(), Value::Array(m.thinking_blocks));
        }
        if !m.calls.is_empty() {
            message.insert("tool_calls".into(), Value::Array(m.calls));
        }
        json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
            "usage": usage,
        })
    }

    /// A chunk with one choice.
    pub fn delta(&self, out: &mut Vec<u8>, delta: Value, finish: Option<&str>) {
        let c = json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        write_event(out, None, &c.to_string());
    }

    /// The usage chunk (no choices).
    pub fn usage(&self, out: &mut Vec<u8>, usage: Value) {
        let c = json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model, "choices": [], "usage": usage,
        });
        write_event(out, None, &c.to_string());
    }

    /// An error in a stream (the OpenAI SDK raises it).
    pub fn error(out: &mut Vec<u8>, message: &str, kind: &str) {
        let e = json!({"error": {"message": message, "type": kind, "code": null}});
        write_event(out, None, &e.to_string());
    }
}

/// OpenAI's `stop` (a string or a list of strings) as a list; `None` when
/// there is nothing to stop on.
pub fn stop_list(value: &Value) -> Option<Value> {
    match value {
        Value::String(s) => Some(json!([s])),
        Value::Array(a) if !a.is_empty() => Some(value.clone()),
        _ => None,
    }
}

/// A whole chat completion, read for translation into another dialect: its
/// JSON, which has at least one choice (`v["choices"][0]` is there).
pub fn parse_answer(body: &[u8]) -> Result<Value, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON ({e})"))?;
    if v.get("choices").and_then(|c| c.get(0)).is_none() {
        return Err("no choices in the provider's answer".into());
    }
    Ok(v)
}

/// A translator of an OpenAI chat stream into another dialect (Anthropic
/// Messages, the Responses API): its events and its two endings. Both run
/// through [`push_chat_stream`] and [`finish_chat_stream`], so each such
/// stream closes the same way — its own end when the upstream closed after
/// an answer, its dialect's error otherwise — and never without one.
pub trait ChatStreamTarget {
    fn parser(&mut self) -> &mut SseParser;
    /// One chunk of the answer (its choices, its usage).
    fn chunk(&mut self, chunk: &Value, out: &mut Vec<u8>);
    /// The provider reported an error mid-stream: `message`, and its
    /// `error` object for a code or status.
    fn provider_error(&mut self, message: &str, error: &Value, out: &mut Vec<u8>);
    /// The terminal event went out.
    fn is_done(&self) -> bool;
    /// The answer began.
    fn is_started(&self) -> bool;
    /// The dialect's end of a whole answer.
    fn end(&mut self, out: &mut Vec<u8>);
    /// The dialect's error event, saying `why`.
    fn fail_stream(&mut self, why: &str, out: &mut Vec<u8>);
}

/// Every chat-stream translator is fed and ended the same way.
impl<T: ChatStreamTarget> super::BodyTransform for T {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        push_chat_stream(self, chunk, out)
    }

    fn finish(&mut self, complete: bool, out: &mut Vec<u8>) {
        finish_chat_stream(self, complete, out)
    }
}

/// One upstream event: `[DONE]` ends a started answer, an `error` goes to
/// [`ChatStreamTarget::provider_error`], any other chunk to
/// [`ChatStreamTarget::chunk`]; what is not JSON is skipped.
fn chat_event(t: &mut impl ChatStreamTarget, e: Event, out: &mut Vec<u8>) {
    if t.is_done() {
        return;
    }
    let data = e.data.trim();
    if data == "[DONE]" {
        if t.is_started() {
            t.end(out);
        }
        return;
    }
    let Ok(chunk) = serde_json::from_str::<Value>(data) else {
        return;
    };
    match chunk.get("error") {
        Some(err) => {
            let message = err
                .get("message")
                .and_then(Value::as_str)
                .or_else(|| err.as_str())
                .unwrap_or("the provider reported an error mid-stream");
            t.provider_error(message, err, out);
        }
        None => t.chunk(&chunk, out),
    }
}

/// Feeds upstream bytes to `t`, event by event.
pub fn push_chat_stream(t: &mut impl ChatStreamTarget, chunk: &[u8], out: &mut Vec<u8>) {
    for e in t.parser().events(chunk) {
        chat_event(t, e, out);
    }
}

/// The upstream's body ended (`complete`) or broke off: what `t` still owes.
pub fn finish_chat_stream(t: &mut impl ChatStreamTarget, complete: bool, out: &mut Vec<u8>) {
    for e in t.parser().finish_events() {
        chat_event(t, e, out);
    }
    if t.is_done() {
        return;
    }
    if complete && t.is_started() {
        // No `[DONE]` (some providers just close): the answer is over.
        t.end(out);
    } else if complete {
        t.fail_stream("the provider's stream ended without an answer", out);
    } else {
        t.fail_stream("the provider's stream was cut off before it ended", out);
    }
}
