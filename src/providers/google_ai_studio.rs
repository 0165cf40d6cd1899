//! Google AI Studio's quirk: its native API takes `x-goog-api-key`, its
//! OpenAI-compatible paths (`/v1beta/openai/...`) take a Bearer token.

/// The auth header for a request to `path` (relative to the provider's base URL).
pub fn auth_header(path: &str, key: &str) -> (String, String) {
    if path == "/v1beta/openai" || path.starts_with("/v1beta/openai/") {
        ("authorization".into(), format!("Bearer {key}"))
    } else {
        ("x-goog-api-key".into(), key.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_only_on_openai_compatible_paths() {
        assert_eq!(
            auth_header("/v1beta/openai/chat/completions", "k"),
            ("authorization".into(), "Bearer k".into())
        );
        assert_eq!(
            auth_header("/v1beta/models/gemini:generateContent", "k"),
            ("x-goog-api-key".into(), "k".into())
        );
        assert_eq!(auth_header("/v1beta/openaix", "k").0, "x-goog-api-key");
    }
}
