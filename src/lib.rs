//! llm-proxy: one WebAssembly component that puts every major LLM API behind
//! one door.
//!
//! The crate is a sans-IO core — plain data in, a [`pipeline::Decision`] out —
//! plus a thin host edge (`edge`, wasm32 only) that reads requests, calls the
//! core and performs its decision with wasi:http.
//!
//! Where to look:
//! - [`pipeline`]: the request pipeline and route dispatch (SPEC §2).
//! - [`handlers`]: one module per kind of route (pass-through, chat
//!   completions, messages, responses, gemini, models, status, universal,
//!   compat), siblings.
//! - [`upstream`]: what the handlers share — the upstream request and its
//!   forward plan, header rules, key picking.
//! - [`providers`]: the route table, one row per provider; quirk modules beside it.
//! - [`translate`]: dialect pairs (request/response mappers, stream translators).
//! - [`serve`]: what both edges do around their I/O (attempt bookkeeping,
//!   fan-out replies, the log line).
//! - [`settings`]: how settings are read; [`keys`]: key choice and cooldowns;
//!   [`host`]: what the core asks of its host (clock, randomness, store).
//! - The team gateway (docs/team.md): [`model_routes`], [`client_keys`]
//!   and [`limits`]; [`usage`] (tokens seen in answers), [`prices`],
//!   [`accounting`] (counters per key and day, `/usage`) and [`ledger`]
//!   (the request id, the log line, what is written at the end).

pub mod accounting;
pub mod auth;
pub mod body_limit;
pub mod client_keys;
pub mod cloud_auth;
pub mod credentials;
pub mod errors;
pub mod failover;
pub mod gateway;
pub mod grant;
pub mod handlers;
pub mod host;
pub mod keys;
pub mod ledger;
pub mod limits;
pub mod model_routes;
pub mod outgoing;
pub mod pipeline;
pub mod prices;
pub mod providers;
pub mod reply;
pub mod request;
pub mod serve;
pub mod settings;
pub mod stored_objects;
pub mod team;
pub mod translate;
pub mod upstream;
pub mod url;
pub mod usage;

#[cfg(target_arch = "wasm32")]
#[macro_use]
mod edge_glue;
#[cfg(all(target_arch = "wasm32", feature = "p2"))]
mod edge;
#[cfg(all(target_arch = "wasm32", not(feature = "p2")))]
mod edge_p3;
