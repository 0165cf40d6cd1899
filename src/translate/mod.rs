//! Dialect translation: clients speak OpenAI chat completions, Anthropic
//! Messages, the Responses API or the Gemini API; providers speak their own. Each pair is a module of pure
//! mappers (request, response) and stream translators (state machines over
//! bytes, independent of chunk boundaries); the edge only runs the upstream's
//! bytes through the [`BodyTransform`] that [`ResponseMapping`] chooses.
//!
//! Pairs, each with OpenAI chat completions as the hub: [`anthropic_openai`]
//! (Anthropic Messages), [`bedrock_openai`] (Bedrock Converse),
//! [`responses_openai`] (the OpenAI Responses API), [`gemini_openai`]
//! (Gemini `generateContent`, `embedContent`); and
//! [`bedrock_embeddings`] (Bedrock `InvokeModel` embeddings ⇄ OpenAI embeddings).

pub mod anthropic_openai;
pub mod bedrock_embeddings;
pub mod bedrock_openai;
pub mod eventstream;
pub mod gemini_openai;
pub mod measure;
pub mod openai;
pub mod raw;
pub mod responses_openai;
pub mod sse;
#[cfg(test)]
pub mod variants;

use anthropic_openai::{response, stream};
use raw::ObjectBuf;

/// A translated request body (its `model` is set by the caller).
#[derive(Debug, Clone, PartialEq)]
pub struct Translated {
    pub body: ObjectBuf,
    /// What had no equivalent, by name (deduplicated, in order of first sight).
    pub dropped: Vec<String>,
    pub stream: bool,
    /// The client asked for the usage chunk at the end of an OpenAI stream.
    pub include_usage: bool,
}

/// The most names a request's dropped fields are reported by; more are
/// one more name, `...` (a body of thousands of unknown names must not
/// cost a search through all of them per name, nor a header of them).
pub const MAX_DROPPED: usize = 32;

/// Names `name` among what a translation dropped (once).
pub fn drop_name(dropped: &mut Vec<String>, name: impl Into<String>) {
    if dropped.len() > MAX_DROPPED {
        return;
    }
    let name = name.into();
    if dropped.contains(&name) {
        return;
    }
    if dropped.len() == MAX_DROPPED {
        dropped.push("...".into());
    } else {
        dropped.push(name);
    }
}

/// `data:{media type};base64,{data}` → (media type, data).
pub fn data_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let media_type = meta.strip_suffix(";base64")?;
    Some((media_type, data))
}

/// How an upstream's answer becomes the client's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ResponseMapping {
    /// Relayed as it is.
    #[default]
    Relay,
    /// An OpenAI chat completions answer → Anthropic Messages (the client
    /// spoke Messages; `model` as it named it).
    ChatToMessages { model: String },
    /// An Anthropic Messages answer → OpenAI chat completions.
    MessagesToChat { model: String, include_usage: bool },
    /// A Bedrock Converse answer (JSON or event stream) → OpenAI chat completions.
    ConverseToChat { model: String, include_usage: bool },
    /// An OpenAI chat completions answer → the Responses API (the client
    /// spoke Responses; `model` as it named it, `tools` its tool names).
    ChatToResponses {
        model: String,
        tools: responses_openai::ToolNames,
    },
    /// An OpenAI chat completions answer → Gemini's `GenerateContentResponse`
    /// (the client spoke the Gemini API; `model` as it named it). `array`: a
    /// whole answer as a one-element JSON array (`streamGenerateContent`
    /// without `alt=sse`).
    ChatToGemini { model: String, array: bool },
    /// An OpenAI embeddings answer → Gemini's `embedContent` answer
    /// (`batch`: `batchEmbedContents`).
    EmbeddingsToGemini { batch: bool },
    /// A Bedrock `InvokeModel` embeddings answer (Titan or Cohere) → OpenAI
    /// embeddings (`base64`: the client asked `encoding_format: "base64"`).
    BedrockEmbeddings { model: String, base64: bool },
    /// An OpenAI chat stream with the usage-only chunk taken out again (the
    /// proxy asked for usage; the client did not). Other answers relayed.
    StripUsage,
    /// The first mapping, then the second (a Messages client reaching
    /// Bedrock: Converse → OpenAI chat → Anthropic Messages).
    Chain(Box<ResponseMapping>, Box<ResponseMapping>),
}

/// Two transforms in a row.
struct Chained(Box<dyn BodyTransform>, Box<dyn BodyTransform>);

impl BodyTransform for Chained {
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        let mut between = Vec::new();
        self.0.push(chunk, &mut between);
        if !between.is_empty() {
            self.1.push(&between, out);
        }
    }

    fn finish(&mut self, complete: bool, out: &mut Vec<u8>) {
        let mut between = Vec::new();
        self.0.finish(complete, &mut between);
        self.1.push(&between, out);
        // The first said how it ended (an error event, when it was cut off).
        self.1.finish(complete || !between.is_empty(), out);
    }

    fn status(&self) -> Option<u16> {
        self.0.status().or(self.1.status())
    }
}

/// Turns the upstream's body into the client's, chunk by chunk. Whatever a
/// call appends to `out` is sent to the client at once.
pub trait BodyTransform {
    /// Feeds the next bytes from the upstream.
    fn push(&mut self, chunk: &[u8], out: &mut Vec<u8>);
    /// The upstream's body ended (`complete`) or broke off.
    fn finish(&mut self, complete: bool, out: &mut Vec<u8>);
    /// A status that replaces the upstream's, known once the body is whole
    /// (a translation that failed). Only asked when the head waited for it.
    fn status(&self) -> Option<u16> {
        None
    }
}

/// The client's response head and body transform for an upstream answer.
pub struct ClientResponse {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    /// `None`: the body is relayed byte for byte.
    pub transform: Option<Box<dyn BodyTransform>>,
    /// The head waits for the whole body (a whole JSON answer is translated
    /// at its end, and may change the status).
    pub hold_whole: bool,
}

/// The most a whole translated answer may hold.
pub const WHOLE_LIMIT: usize = 64 * 1024 * 1024;

/// Buffers a whole body and converts it at the end; a failed conversion
/// becomes `fail`'s body with status 502.
struct Whole<F: FnMut(&[u8]) -> Result<Vec<u8>, String>> {
    buf: Vec<u8>,
    convert: F,
    fail: fn(u16, &[u8]) -> Vec<u8>,
    failed: bool,
}

impl<F: FnMut(&[u8]) -> Result<Vec<u8>, String>> BodyTransform for Whole<F> {
    fn push(&mut self, chunk: &[u8], _out: &mut Vec<u8>) {
        if self.buf.len() + chunk.len() <= WHOLE_LIMIT {
            self.buf.extend_from_slice(chunk);
        } else {
            self.failed = true;
        }
    }

    fn finish(&mut self, complete: bool, out: &mut Vec<u8>) {
        let result = if self.failed {
            Err("the provider's answer is too large to translate".to_string())
        } else if !complete {
            Err("the provider's answer was cut off".to_string())
        } else {
            (self.convert)(&self.buf)
        };
        match result {
            Ok(body) => out.extend_from_slice(&body),
            Err(why) => {
                self.failed = true;
                let message = format!("could not translate the provider's answer: {why}");
                let wrapped = serde_json::json!({ "error": { "message": message } }).to_string();
                out.extend_from_slice(&(self.fail)(502, wrapped.as_bytes()));
            }
        }
    }

    fn status(&self) -> Option<u16> {
        self.failed.then_some(502)
    }
}

fn whole(
    convert: impl FnMut(&[u8]) -> Result<Vec<u8>, String> + 'static,
    fail: fn(u16, &[u8]) -> Vec<u8>,
) -> Option<Box<dyn BodyTransform>> {
    Some(Box::new(Whole {
        buf: Vec::new(),
        convert,
        fail,
        failed: false,
    }))
}

/// How a translated body is produced: the transform, its content type and
/// whether the head waits for the whole body.
type Shape = (Option<Box<dyn BodyTransform>>, &'static str, bool);

/// A whole JSON body converted at its end; `fail` shapes a broken one.
fn json(
    convert: impl FnMut(&[u8]) -> Result<Vec<u8>, String> + 'static,
    fail: fn(u16, &[u8]) -> Vec<u8>,
) -> Shape {
    (whole(convert, fail), "application/json", true)
}

/// An upstream error answer, reshaped into the client's dialect.
fn error_in(status: u16, fail: fn(u16, &[u8]) -> Vec<u8>) -> Shape {
    json(move |b: &[u8]| Ok(fail(status, b)), fail)
}

/// A stream translated event by event.
fn events(t: impl BodyTransform + 'static) -> Shape {
    (Some(Box::new(t)), "text/event-stream", false)
}

fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
}

/// The upstream's `Date` as unix seconds (0 when absent): the `created` of
/// a translated answer, without a clock read.
fn date_of(headers: &[(String, Vec<u8>)]) -> i64 {
    header(headers, "date")
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs() as i64)
}

/// Headers of a translated body: the upstream's, minus what described its
/// bytes, plus the new content type.
fn translated_headers(
    mut headers: Vec<(String, Vec<u8>)>,
    content_type: &str,
) -> Vec<(String, Vec<u8>)> {
    headers.retain(|(n, _)| {
        !matches!(
            n.as_str(),
            "content-length" | "content-type" | "content-encoding" | "etag" | "content-md5"
        )
    });
    headers.push(("content-type".into(), content_type.as_bytes().to_vec()));
    if content_type == "text/event-stream" {
        headers.retain(|(n, _)| n != "cache-control");
        headers.push(("cache-control".into(), b"no-cache".to_vec()));
    }
    headers
}

impl ResponseMapping {
    /// This mapping, then `next` (nothing to chain when this one relays).
    pub fn then(self, next: ResponseMapping) -> ResponseMapping {
        match self {
            ResponseMapping::Relay => next,
            first => ResponseMapping::Chain(Box::new(first), Box::new(next)),
        }
    }

    /// What the client gets for an upstream answer with `status` and
    /// `headers` (already cleaned of hop-by-hop headers).
    pub fn respond(&self, status: u16, headers: Vec<(String, Vec<u8>)>) -> ClientResponse {
        let ok = (200..300).contains(&status);
        let sse =
            header(&headers, "content-type").is_some_and(|c| c.starts_with("text/event-stream"));
        let (transform, content_type, hold_whole): Shape = match self {
            ResponseMapping::Chain(first, second) => {
                let a = first.respond(status, headers);
                let b = second.respond(a.status, a.headers);
                let transform: Option<Box<dyn BodyTransform>> = match (a.transform, b.transform) {
                    (Some(x), Some(y)) => Some(Box::new(Chained(x, y))),
                    (x, y) => x.or(y),
                };
                return ClientResponse {
                    status: b.status,
                    headers: b.headers,
                    transform,
                    hold_whole: a.hold_whole || b.hold_whole,
                };
            }
            ResponseMapping::ConverseToChat {
                model,
                include_usage,
            } => {
                let model = model.clone();
                let created = date_of(&headers);
                let id = header(&headers, "x-amzn-requestid")
                    .map(anthropic_openai::response::clean_id)
                    .filter(|i| !i.is_empty())
                    .unwrap_or_else(|| "bedrock".into());
                let event_stream = header(&headers, "content-type")
                    .is_some_and(|c| c.starts_with("application/vnd.amazon.eventstream"));
                if ok && event_stream {
                    let t = bedrock_openai::stream::ConverseToChatStream::new(
                        &model,
                        &id,
                        created,
                        *include_usage,
                    );
                    events(t)
                } else if ok {
                    let convert = move |b: &[u8]| {
                        bedrock_openai::response::converse_to_chat_response(b, &model, &id, created)
                    };
                    json(convert, response::error_to_openai)
                } else {
                    error_in(status, response::error_to_openai)
                }
            }
            ResponseMapping::BedrockEmbeddings { model, base64 } => {
                let (model, base64) = (model.clone(), *base64);
                let tokens = header(&headers, "x-amzn-bedrock-input-token-count")
                    .and_then(|t| t.trim().parse().ok());
                if ok {
                    let convert =
                        move |b: &[u8]| bedrock_embeddings::to_openai(b, &model, base64, tokens);
                    json(convert, response::error_to_openai)
                } else {
                    error_in(status, response::error_to_openai)
                }
            }
            ResponseMapping::StripUsage if ok && sse => {
                return ClientResponse {
                    status,
                    headers,
                    transform: Some(Box::new(crate::usage::StripUsage::new())),
                    hold_whole: false,
                }
            }
            ResponseMapping::Relay | ResponseMapping::StripUsage => {
                return ClientResponse {
                    status,
                    headers,
                    transform: None,
                    hold_whole: false,
                }
            }
            ResponseMapping::ChatToResponses { model, tools } => {
                let (model, tools) = (model.clone(), tools.clone());
                let created = date_of(&headers);
                if ok && sse {
                    let t = responses_openai::stream::ChatToResponsesStream::new(
                        &model, tools, created,
                    );
                    events(t)
                } else if ok {
                    let convert = move |b: &[u8]| {
                        responses_openai::response::chat_to_responses_response(
                            b, &model, &tools, created,
                        )
                    };
                    json(convert, response::error_to_openai)
                } else {
                    error_in(status, response::error_to_openai)
                }
            }
            ResponseMapping::ChatToGemini { model, array } => {
                let (model, array) = (model.clone(), *array);
                if ok && sse {
                    events(gemini_openai::stream::ChatToGeminiStream::new(&model))
                } else if ok {
                    let convert = move |b: &[u8]| {
                        let one = gemini_openai::response::chat_to_gemini_response(b, &model)?;
                        Ok(if array {
                            [&b"["[..], &one, b"]"].concat()
                        } else {
                            one
                        })
                    };
                    json(convert, gemini_openai::response::error_to_gemini)
                } else {
                    error_in(status, gemini_openai::response::error_to_gemini)
                }
            }
            ResponseMapping::EmbeddingsToGemini { batch } => {
                let batch = *batch;
                if ok {
                    let convert = move |b: &[u8]| gemini_openai::embed::openai_to_embed(b, batch);
                    json(convert, gemini_openai::response::error_to_gemini)
                } else {
                    error_in(status, gemini_openai::response::error_to_gemini)
                }
            }
            ResponseMapping::ChatToMessages { model } => {
                let model = model.clone();
                if ok && sse {
                    let t = stream::ChatToMessagesStream::new(&model);
                    events(t)
                } else if ok {
                    let convert = move |b: &[u8]| response::chat_to_messages_response(b, &model);
                    json(convert, response::error_to_anthropic)
                } else {
                    error_in(status, response::error_to_anthropic)
                }
            }
            ResponseMapping::MessagesToChat {
                model,
                include_usage,
            } => {
                let model = model.clone();
                let created = date_of(&headers);
                if ok && sse {
                    let t = stream::MessagesToChatStream::new(&model, created, *include_usage);
                    events(t)
                } else if ok {
                    let convert =
                        move |b: &[u8]| response::messages_to_chat_response(b, &model, created);
                    json(convert, response::error_to_openai)
                } else {
                    error_in(status, response::error_to_openai)
                }
            }
        };
        ClientResponse {
            status,
            headers: translated_headers(headers, content_type),
            transform,
            hold_whole,
        }
    }
}
