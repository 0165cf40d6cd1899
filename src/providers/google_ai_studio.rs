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

/// The native Gemini API path of `method` for `model` under API `version`
/// (`v1beta`, `v1`): `/{version}/models/{model}:{method}`, or
/// `/{version}/tunedModels/{id}:{method}` for a tuned model.
pub fn gemini_path(version: &str, model: &str, method: &str) -> String {
    let (collection, id) = match model.strip_prefix("tunedModels/") {
        Some(id) => ("tunedModels", id),
        None => ("models", model),
    };
    let id = crate::cloud_auth::sigv4::uri_encode(id.as_bytes(), false);
    format!("/{version}/{collection}/{id}:{method}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemini_paths_name_the_model_once_and_encoded() {
        assert_eq!(
            gemini_path("v1beta", "gemini-2.5-flash", "streamGenerateContent"),
            "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
        );
        assert_eq!(
            gemini_path("v1", "tunedModels/my-model", "generateContent"),
            "/v1/tunedModels/my-model:generateContent"
        );
        assert_eq!(
            gemini_path("v1beta", "a b/../c", "countTokens"),
            "/v1beta/models/a%20b%2F..%2Fc:countTokens"
        );
    }

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
