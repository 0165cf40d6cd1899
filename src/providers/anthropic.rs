//! Anthropic's quirks: its OpenAI-compatible endpoint needs `max_tokens`, and
//! its model list dates models with RFC 3339 strings.

use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// `max_tokens` sent when the client gave neither it nor `max_completion_tokens`.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

pub fn default_max_tokens(top: &mut BTreeMap<String, Box<RawValue>>) {
    if !top.contains_key("max_tokens") && !top.contains_key("max_completion_tokens") {
        if let Ok(raw) = RawValue::from_string(DEFAULT_MAX_TOKENS.to_string()) {
            top.insert("max_tokens".into(), raw);
        }
    }
}
