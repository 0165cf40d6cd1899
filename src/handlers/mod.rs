//! The proxy's handlers, one per kind of route; siblings that share only
//! what `crate::upstream` holds (the upstream request, key picking, header
//! rules), never each other.

pub mod chat_completions;
pub mod compat;
pub mod embeddings;
pub mod gemini;
pub mod messages;
pub mod models;
pub mod pass_through;
pub mod responses;
pub mod status;
pub mod universal;
