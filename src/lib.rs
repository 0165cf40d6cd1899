//! llm-proxy: one WebAssembly component that puts every major LLM API behind
//! one door.
//!
//! The crate is a sans-IO core — plain data in, a [`pipeline::Decision`] out —
//! plus a thin host edge (`edge`, wasm32 only) that reads requests, calls the
//! core and performs its decision with wasi:http.
//!
//! Where to look:
//! - [`pipeline`]: the request pipeline and route dispatch (SPEC §2).
//! - [`providers`]: the route table, one row per provider; quirk modules beside it.
//! - [`pass_through`]: upstream URL and header rules for `/{provider}/...`.
//! - [`settings`]: how settings are read; [`keys`]: key choice; [`auth`]: proxy auth.

pub mod auth;
pub mod chat_completions;
pub mod errors;
pub mod failover;
pub mod gateway;
pub mod keys;
pub mod models;
pub mod pass_through;
pub mod pipeline;
pub mod providers;
pub mod reply;
pub mod request;
pub mod settings;
pub mod status;
pub mod universal;
pub mod url;

#[cfg(target_arch = "wasm32")]
mod edge;
