//! The Bedrock Converse ⇄ OpenAI chat completions pair: a [`request`]
//! mapper, a [`response`] mapper and a [`stream`] translator (Converse's
//! binary event-stream frames → OpenAI SSE), in the shape of
//! [`super::anthropic_openai`]. Anthropic Messages clients reach Bedrock
//! through both pairs in a row.

pub mod request;
pub mod response;
pub mod stream;

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;
