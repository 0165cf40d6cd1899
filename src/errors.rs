//! Errors in OpenAI's shape: `{"error":{"message","type","code"}}`, with the
//! status that fits. Messages are built from fixed text and setting *names*,
//! never from a secret.

use crate::reply::Reply;

/// Text fit for an error message: no control characters, cut short.
pub fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// The API dialect a client speaks: errors are rendered in its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// `{"error":{"message","type","code"}}`.
    #[default]
    OpenAi,
    /// `{"type":"error","error":{"type","message"}}`.
    Anthropic,
    /// Google's `{"error":{"code","message","status"}}` (the Gemini API).
    Gemini,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReply {
    pub status: u16,
    pub message: String,
    pub kind: &'static str,
    pub code: &'static str,
    /// Seconds for a `Retry-After` header (a limit that refused).
    pub retry_after: Option<u64>,
    /// The methods for an `Allow` header (a 405).
    pub allow: Option<&'static str>,
}

impl ErrorReply {
    pub fn new(
        status: u16,
        kind: &'static str,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        ErrorReply {
            status,
            message: message.into(),
            kind,
            code,
            retry_after: None,
            allow: None,
        }
    }

    pub fn bad_request(message: impl Into<String>, code: &'static str) -> Self {
        Self::new(400, "invalid_request_error", code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(401, "authentication_error", "invalid_api_key", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(404, "not_found_error", "not_found", message)
    }

    pub fn too_large(limit: u64) -> Self {
        Self::new(
            413,
            "invalid_request_error",
            "body_too_large",
            format!(
                "request body is larger than {limit} bytes, the most this route takes (MAX_BODY_BYTES)"
            ),
        )
    }

    /// A body of more JSON values than `limit` (`MAX_BODY_VALUES`).
    pub fn too_many_values(limit: u64) -> Self {
        Self::new(
            413,
            "invalid_request_error",
            "body_too_many_values",
            format!("request body holds more than {limit} JSON values (MAX_BODY_VALUES)"),
        )
    }

    pub fn bad_gateway(message: impl Into<String>) -> Self {
        Self::new(502, "upstream_error", "upstream_unreachable", message)
    }

    pub fn gateway_timeout(message: impl Into<String>) -> Self {
        Self::new(504, "upstream_error", "upstream_timeout", message)
    }

    /// A setting is missing or malformed: named, never echoed.
    pub fn misconfigured(setting: &str, problem: &str) -> Self {
        Self::new(
            500,
            "server_error",
            "proxy_misconfigured",
            format!("setting {setting} {problem}"),
        )
    }

    pub fn body(&self) -> Vec<u8> {
        serde_json::json!({
            "error": {
                "message": self.message,
                "type": self.kind,
                "code": self.code,
            }
        })
        .to_string()
        .into_bytes()
    }

    pub fn into_reply(self) -> Reply {
        let mut r = Reply::json(self.status, self.body());
        r.headers.extend(self.retry_header());
        r
    }

    /// `Retry-After` and `Allow`, when the error has them.
    fn retry_header(&self) -> Vec<(String, String)> {
        let mut h = Vec::new();
        if let Some(s) = self.retry_after {
            h.push(("retry-after".to_string(), s.to_string()));
        }
        if let Some(methods) = self.allow {
            h.push(("allow".to_string(), methods.to_string()));
        }
        h
    }

    /// Anthropic's error `type` for this error's status.
    pub fn anthropic_type(&self) -> &'static str {
        anthropic_error_type(self.status)
    }

    /// This error in `dialect`'s shape.
    pub fn into_reply_for(self, dialect: Dialect) -> Reply {
        let retry = self.retry_header();
        let mut reply = match dialect {
            Dialect::OpenAi => self.into_reply(),
            Dialect::Anthropic => Reply::json(
                self.status,
                serde_json::json!({
                    "type": "error",
                    "error": {"type": self.anthropic_type(), "message": self.message},
                })
                .to_string()
                .into_bytes(),
            ),
            Dialect::Gemini => Reply::json(self.status, google_error(self.status, &self.message)),
        };
        if dialect != Dialect::OpenAi {
            reply.headers.extend(retry);
        }
        reply
    }
}

/// `{"error": {"code", "message", "status"}}`, Google's error body.
pub fn google_error(status: u16, message: &str) -> Vec<u8> {
    serde_json::json!({"error": {"code": status, "message": message, "status": google_status(status)}})
        .to_string()
        .into_bytes()
}

/// Google's canonical status name for an HTTP status.
pub fn google_status(status: u16) -> &'static str {
    match status {
        400 | 422 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        412 => "FAILED_PRECONDITION",
        413 => "INVALID_ARGUMENT",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        s if s >= 500 => "INTERNAL",
        _ => "INVALID_ARGUMENT",
    }
}

/// Anthropic's error `type` for an HTTP status.
pub fn anthropic_error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        504 => "timeout_error",
        529 => "overloaded_error",
        s if s >= 500 => "api_error",
        _ => "invalid_request_error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_openai_error_shape() {
        let e = ErrorReply::bad_request("model is \"missing\"", "missing_model");
        let v: serde_json::Value = serde_json::from_slice(&e.body()).unwrap();
        assert_eq!(v["error"]["message"], "model is \"missing\"");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["code"], "missing_model");
        let r = e.into_reply();
        assert_eq!(r.status, 400);
        assert!(r
            .headers
            .contains(&("content-type".into(), "application/json".into())));
    }
}
