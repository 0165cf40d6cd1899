//! The Gemini `generateContent` ⇄ OpenAI chat completions pair (a client
//! such as Gemini CLI or Google's SDKs speaking to a provider that has chat
//! completions): the [`request`] mapper, the [`response`] mapper (whole
//! answers and errors in Google's shape) and the [`stream`] translator
//! (chat chunks → `alt=sse` events); and [`embed`] (`embedContent` ⇄ OpenAI
//! embeddings, the `countTokens` estimate); [`names`] reads fields spelled
//! either way Google accepts (camelCase or snake_case). Pure functions.

pub mod embed;
pub mod names;
pub mod request;
pub mod response;
pub mod stream;

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;
