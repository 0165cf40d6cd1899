//! Stream translator of the Bedrock Converse ⇄ OpenAI chat completions
//! pair: `converse-stream`'s binary event-stream frames → OpenAI SSE
//! chunks, each chunk written as soon as its frame is whole (and checked).

use super::response::{finish_reason, usage_to_openai};
use crate::translate::eventstream::{Decoder, Frame};
use crate::translate::openai::AnswerHead;
use crate::translate::sse::write_event;
use crate::translate::BodyTransform;
use serde_json::{json, Value};

/// Converse event-stream frames → OpenAI chat completion chunks.
pub struct ConverseToChatStream {
    decoder: Decoder,
    chunks: AnswerHead,
    include_usage: bool,
    /// Converse content-block index → OpenAI tool-call index.
    tools: Vec<(u64, usize)>,
    stopped: bool,
    done: bool,
}

impl ConverseToChatStream {
    pub fn new(model: &str, id: &str, created: i64, include_usage: bool) -> ConverseToChatStream {
        ConverseToChatStream {
            decoder: Decoder::new(),
            chunks: AnswerHead::new(id, created, model),
            include_usage,
            tools: Vec::new(),
            stopped: false,
            done: false,
        }
    }

    fn chunk(&self, out: &mut Vec<u8>, delta: Value, finish: Option<&str>) {
        self.chunks.delta(out, delta, finish);
    }

    fn error(&mut self, message: &str, kind: &str, out: &mut Vec<u8>) {
        self.done = true;
        AnswerHead::error(out, message, kind);
    }

    fn frame(&mut self, f: Frame, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        let payload: Value = serde_json::from_slice(&f.payload).unwrap_or(Value::Null);
        if f.header(":message-type") == Some("exception")
            || f.header(":message-type") == Some("error")
        {
            let kind = f
                .header(":exception-type")
                .or_else(|| f.header(":error-code"))
                .unwrap_or("exception");
            let message = payload
                .get("message")
                .or_else(|| payload.get("Message"))
                .and_then(Value::as_str)
                .unwrap_or("the provider reported an error mid-stream")
                .to_string();
            let kind = if kind.contains("hrottl") {
                "rate_limit_error"
            } else {
                "api_error"
            };
            self.error(&message, kind, out);
            return;
        }
        match f.header(":event-type").unwrap_or("") {
            "messageStart" => self.chunk(out, json!({"role": "assistant", "content": ""}), None),
            "contentBlockStart" => {
                if let Some(tool) = payload["start"].get("toolUse") {
                    let block = payload["contentBlockIndex"].as_u64().unwrap_or(0);
                    let k = self.tools.len();
                    self.tools.push((block, k));
                    self.chunk(
                        out,
                        json!({"tool_calls": [{"index": k, "id": tool["toolUseId"], "type": "function",
                               "function": {"name": tool["name"], "arguments": ""}}]}),
                        None,
                    );
                }
            }
            "contentBlockDelta" => {
                let block = payload["contentBlockIndex"].as_u64().unwrap_or(0);
                let d = &payload["delta"];
                if let Some(t) = d.get("text").and_then(Value::as_str) {
                    self.chunk(out, json!({"content": t}), None);
                } else if let Some(args) = d["toolUse"].get("input").and_then(Value::as_str) {
                    if let Some((_, k)) = self.tools.iter().find(|(b, _)| *b == block) {
                        self.chunk(
                            out,
                            json!({"tool_calls": [{"index": k, "function": {"arguments": args}}]}),
                            None,
                        );
                    }
                } else if let Some(r) = d["reasoningContent"].get("text").and_then(Value::as_str) {
                    self.chunk(out, json!({"reasoning_content": r}), None);
                }
            }
            "messageStop" => {
                self.stopped = true;
                let stop = payload["stopReason"].as_str().unwrap_or("end_turn");
                self.chunk(out, json!({}), Some(finish_reason(stop)));
            }
            "metadata" => {
                if self.include_usage {
                    self.chunks.usage(out, usage_to_openai(&payload["usage"]));
                }
                self.done = true;
                write_event(out, None, "[DONE]");
            }
            _ => {}
        }
    }
}

impl BodyTransform for ConverseToChatStream {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        let (frames, failure) = match self.decoder.push(chunk) {
            Ok(frames) => (frames, None),
            Err((frames, why)) => (frames, Some(why)),
        };
        for f in frames {
            self.frame(f, out);
        }
        if let Some(why) = failure {
            if !self.done {
                self.error(&why, "api_error", out);
            }
        }
    }

    fn finish(&mut self, complete: bool, out: &mut Vec<u8>) {
        if self.done {
            return;
        }
        if complete && self.stopped && !self.decoder.has_partial() {
            // The metadata frame never came: the answer is still whole.
            self.done = true;
            write_event(out, None, "[DONE]");
        } else {
            self.error(
                "the provider's stream was cut off before it ended",
                "api_error",
                out,
            );
        }
    }
}
