//! Stream translator of the Responses ⇄ chat pair: OpenAI chat chunks (SSE)
//! → Responses API events, independent of how the bytes are split. Every
//! event carries `sequence_number`; every stream ends with
//! `response.completed`, `response.incomplete` or `response.failed`
//! (clients re-send forever without one).

use super::response::{
    call_item, item_id, message_item, reasoning_item, response_object, status, usage,
};
use super::ToolNames;
use crate::translate::openai::ChatStreamTarget;
use crate::translate::sse::{write_event, SseParser};
use serde_json::{json, Value};

/// The item being streamed.
enum Open {
    None,
    Message {
        id: String,
        text: String,
    },
    Reasoning {
        id: String,
        text: String,
        blocks: Vec<Value>,
    },
    Call {
        openai_index: u64,
        call_id: String,
        flat: String,
        args: String,
    },
}

/// OpenAI chat completions SSE → Responses API SSE.
pub struct ChatToResponsesStream {
    parser: SseParser,
    model: String,
    tools: ToolNames,
    created: i64,
    started: bool,
    done: bool,
    seq: u64,
    upstream_id: String,
    response_id: String,
    /// Items already done, in order.
    output: Vec<Value>,
    open: Open,
    finish: Option<String>,
    usage: Option<Value>,
}

impl ChatToResponsesStream {
    /// `model` as the client named it; `tools` the client's tool names.
    pub fn new(model: &str, tools: ToolNames, created: i64) -> Self {
        ChatToResponsesStream {
            parser: SseParser::new(),
            model: model.to_string(),
            tools,
            created,
            started: false,
            done: false,
            seq: 0,
            upstream_id: String::new(),
            response_id: item_id("resp", ""),
            output: Vec::new(),
            open: Open::None,
            finish: None,
            usage: None,
        }
    }

    /// `data` is always a `json!({...})` object of this file, so assigning
    /// into it cannot panic.
    fn emit(&mut self, out: &mut Vec<u8>, name: &str, mut data: Value) {
        data["type"] = json!(name);
        data["sequence_number"] = json!(self.seq);
        self.seq += 1;
        write_event(out, Some(name), &data.to_string());
    }

    fn response(&self, status: &str, incomplete: Option<&str>, usage: Value) -> Value {
        response_object(
            &self.response_id,
            self.created,
            &self.model,
            status,
            incomplete,
            self.output.clone(),
            usage,
        )
    }

    fn start(&mut self, chunk: &Value, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        self.upstream_id = chunk
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        self.response_id = item_id("resp", &self.upstream_id);
        let r = self.response("in_progress", None, Value::Null);
        self.emit(out, "response.created", json!({"response": r}));
        let r = self.response("in_progress", None, Value::Null);
        self.emit(out, "response.in_progress", json!({"response": r}));
    }

    /// Index the open item has (or the next one will have) in `output`.
    fn index(&self) -> usize {
        self.output.len()
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        let i = self.index();
        match std::mem::replace(&mut self.open, Open::None) {
            Open::None => {}
            Open::Message { id, text } => {
                let base = json!({"item_id": id, "output_index": i, "content_index": 0});
                let mut d = base.clone();
                d["text"] = json!(text);
                d["logprobs"] = json!([]);
                self.emit(out, "response.output_text.done", d);
                let mut d = base;
                d["part"] = json!({"type": "output_text", "text": text, "annotations": []});
                self.emit(out, "response.content_part.done", d);
                let item = message_item(&id, &text, true);
                self.emit(
                    out,
                    "response.output_item.done",
                    json!({"output_index": i, "item": item}),
                );
                self.output.push(item);
            }
            Open::Reasoning { id, text, blocks } => {
                let base = json!({"item_id": id, "output_index": i, "summary_index": 0});
                let mut d = base.clone();
                d["text"] = json!(text);
                self.emit(out, "response.reasoning_summary_text.done", d);
                let mut d = base;
                d["part"] = json!({"type": "summary_text", "text": text});
                self.emit(out, "response.reasoning_summary_part.done", d);
                let item = reasoning_item(&id, &text, &blocks);
                self.emit(
                    out,
                    "response.output_item.done",
                    json!({"output_index": i, "item": item}),
                );
                self.output.push(item);
            }
            Open::Call {
                call_id,
                flat,
                args,
                ..
            } => {
                let item = call_item(&self.tools, &call_id, &flat, &args, true);
                if item["type"] == "function_call" {
                    let d = json!({"item_id": item["id"], "output_index": i, "arguments": args});
                    self.emit(out, "response.function_call_arguments.done", d);
                } else {
                    let d =
                        json!({"item_id": item["id"], "output_index": i, "input": item["input"]});
                    self.emit(out, "response.custom_tool_call_input.done", d);
                }
                self.emit(
                    out,
                    "response.output_item.done",
                    json!({"output_index": i, "item": item}),
                );
                self.output.push(item);
            }
        }
    }

    fn text(&mut self, t: &str, out: &mut Vec<u8>) {
        if t.is_empty() {
            return;
        }
        if !matches!(self.open, Open::Message { .. }) {
            self.close(out);
            let id = item_id("msg", &format!("{}_{}", self.upstream_id, self.index()));
            let i = self.index();
            let item = message_item(&id, "", false);
            self.emit(
                out,
                "response.output_item.added",
                json!({"output_index": i, "item": item}),
            );
            let part = json!({"type": "output_text", "text": "", "annotations": []});
            self.emit(
                out,
                "response.content_part.added",
                json!({"item_id": id, "output_index": i, "content_index": 0, "part": part}),
            );
            self.open = Open::Message {
                id,
                text: String::new(),
            };
        }
        let i = self.index();
        if let Open::Message { id, text } = &mut self.open {
            text.push_str(t);
            let d = json!({"item_id": id, "output_index": i, "content_index": 0, "delta": t, "logprobs": []});
            self.emit(out, "response.output_text.delta", d);
        }
    }

    /// Opens a reasoning item unless one is open.
    fn open_reasoning(&mut self, out: &mut Vec<u8>) {
        if !matches!(self.open, Open::Reasoning { .. }) {
            self.close(out);
            let id = item_id("rs", &format!("{}_{}", self.upstream_id, self.index()));
            let i = self.index();
            let item = json!({"type": "reasoning", "id": id, "summary": []});
            self.emit(
                out,
                "response.output_item.added",
                json!({"output_index": i, "item": item}),
            );
            let part = json!({"type": "summary_text", "text": ""});
            self.emit(
                out,
                "response.reasoning_summary_part.added",
                json!({"item_id": id, "output_index": i, "summary_index": 0, "part": part}),
            );
            self.open = Open::Reasoning {
                id,
                text: String::new(),
                blocks: Vec::new(),
            };
        }
    }

    fn reasoning(&mut self, t: &str, out: &mut Vec<u8>) {
        if t.is_empty() {
            return;
        }
        self.open_reasoning(out);
        let i = self.index();
        if let Open::Reasoning { id, text, .. } = &mut self.open {
            text.push_str(t);
            let d = json!({"item_id": id, "output_index": i, "summary_index": 0, "delta": t});
            self.emit(out, "response.reasoning_summary_text.delta", d);
        }
    }

    fn tool_call(&mut self, position: usize, call: &Value, out: &mut Vec<u8>) {
        let openai_index = call
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(position as u64);
        let same = matches!(&self.open, Open::Call { openai_index: o, .. } if *o == openai_index);
        if !same {
            self.close(out);
            let call_id = call
                .get("id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .unwrap_or_else(|| format!("call_{}_{openai_index}", self.response_id));
            let flat = call["function"]["name"].as_str().unwrap_or("").to_string();
            let i = self.index();
            let item = call_item(&self.tools, &call_id, &flat, "", false);
            self.emit(
                out,
                "response.output_item.added",
                json!({"output_index": i, "item": item}),
            );
            self.open = Open::Call {
                openai_index,
                call_id,
                flat,
                args: String::new(),
            };
        }
        let delta = call["function"]["arguments"].as_str().unwrap_or("");
        if delta.is_empty() {
            return;
        }
        let i = self.index();
        let mut event = None;
        if let Open::Call {
            call_id,
            flat,
            args,
            ..
        } = &mut self.open
        {
            args.push_str(delta);
            // A custom tool's text is known whole only at the end (it is
            // the one string inside the JSON arguments).
            if !self.tools.back(flat).is_some_and(|t| t.custom) {
                event = Some(
                    json!({"item_id": item_id("fc", call_id), "output_index": i, "delta": delta}),
                );
            }
        }
        if let Some(d) = event {
            self.emit(out, "response.function_call_arguments.delta", d);
        }
    }

    fn fail(&mut self, message: &str, code: &str, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        if !self.started {
            self.start(&Value::Null, out);
        }
        self.close(out);
        self.done = true;
        let mut r = self.response("failed", None, usage(self.usage.as_ref()));
        r["error"] = json!({"code": code, "message": message});
        self.emit(out, "response.failed", json!({"response": r}));
    }

    fn end(&mut self, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        self.close(out);
        self.done = true;
        let (status, incomplete) = status(self.finish.as_deref().unwrap_or("stop"));
        let r = self.response(status, incomplete, usage(self.usage.as_ref()));
        let name = if status == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        self.emit(out, name, json!({"response": r}));
    }

    fn chunk(&mut self, chunk: &Value, out: &mut Vec<u8>) {
        self.start(chunk, out);
        if let Some(u) = chunk.get("usage").filter(|u| !u.is_null()) {
            self.usage = Some(u.clone());
        }
        if let Some(choice) = chunk.get("choices").and_then(|c| c.get(0)) {
            let delta = &choice["delta"];
            for key in ["reasoning_content", "reasoning"] {
                if let Some(t) = delta.get(key).and_then(Value::as_str) {
                    self.reasoning(t, out);
                }
            }
            if let Some(b) = delta.get("thinking_blocks").and_then(Value::as_array) {
                self.open_reasoning(out);
                if let Open::Reasoning { blocks, .. } = &mut self.open {
                    blocks.extend(b.iter().cloned());
                }
            }
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
                self.close(out);
            }
        }
        if self.finish.is_some() && self.usage.is_some() {
            self.end(out);
        }
    }
}

impl ChatStreamTarget for ChatToResponsesStream {
    fn parser(&mut self) -> &mut SseParser {
        &mut self.parser
    }
    fn chunk(&mut self, chunk: &Value, out: &mut Vec<u8>) {
        ChatToResponsesStream::chunk(self, chunk, out)
    }
    fn provider_error(&mut self, message: &str, error: &Value, out: &mut Vec<u8>) {
        let code = error
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or("server_error");
        self.fail(message, code, out)
    }
    fn is_done(&self) -> bool {
        self.done
    }
    fn is_started(&self) -> bool {
        self.started
    }
    fn end(&mut self, out: &mut Vec<u8>) {
        ChatToResponsesStream::end(self, out)
    }
    fn fail_stream(&mut self, why: &str, out: &mut Vec<u8>) {
        self.fail(why, "server_error", out)
    }
}
