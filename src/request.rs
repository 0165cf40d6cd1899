//! The request head the core decides on: plain data, filled in by the edge.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// Uppercase method (`GET`, `POST`, ...).
    pub method: String,
    /// The path without the query (raw, still percent-encoded).
    pub path: String,
    /// The raw query without `?` (empty when none).
    pub query: String,
    /// Header names lowercased; values as the bytes the client sent.
    pub headers: Vec<(String, Vec<u8>)>,
}

impl RequestHead {
    pub fn new(method: &str, path_with_query: &str, headers: Vec<(String, Vec<u8>)>) -> Self {
        let (path, query) = match path_with_query.split_once('?') {
            Some((p, q)) => (p, q),
            None => (path_with_query, ""),
        };
        RequestHead {
            method: method.to_ascii_uppercase(),
            path: if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
            query: query.into(),
            headers: headers
                .into_iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v))
                .collect(),
        }
    }

    /// Whether the request may carry a body: a `Content-Length` other than
    /// 0, a `Transfer-Encoding`, or — with neither — a method that takes one
    /// (hosts hide `Transfer-Encoding` from the guest, so a chunked body
    /// shows no framing header at all).
    pub fn has_body(&self) -> bool {
        match self.headers.iter().find(|(n, _)| n == "content-length") {
            Some((_, v)) => v.as_slice() != b"0",
            None => {
                self.headers.iter().any(|(n, _)| n == "transfer-encoding")
                    || matches!(self.method.as_str(), "POST" | "PUT" | "PATCH")
            }
        }
    }

    /// The first value of header `name` (lowercase), if it is valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_presence() {
        let h = |pairs: &[(&str, &str)]| {
            RequestHead::new(
                "GET",
                "/",
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
                    .collect(),
            )
        };
        assert!(!h(&[]).has_body());
        assert!(!h(&[("Content-Length", "0")]).has_body());
        assert!(h(&[("Content-Length", "12")]).has_body());
        assert!(h(&[("Transfer-Encoding", "chunked")]).has_body());
        // No framing header at all: POST, PUT and PATCH may still have a body.
        for (method, body) in [
            ("POST", true),
            ("PUT", true),
            ("PATCH", true),
            ("DELETE", false),
            ("HEAD", false),
        ] {
            assert_eq!(
                RequestHead::new(method, "/", vec![]).has_body(),
                body,
                "{method}"
            );
        }
        let zero = RequestHead::new("POST", "/", vec![("content-length".into(), b"0".to_vec())]);
        assert!(!zero.has_body());
    }
}
