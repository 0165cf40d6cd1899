//! The Anthropic Messages ⇄ OpenAI chat completions pair, both directions:
//! [`request`] mappers, [`response`] mappers (whole answers and errors) and
//! [`stream`] translators (SSE state machines).

pub mod request;
pub mod response;
pub mod stream;

#[cfg(test)]
mod tests;
