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

    /// Whether the request carries a body (HTTP/1.1: a `Content-Length` other
    /// than 0, or a `Transfer-Encoding`).
    pub fn has_body(&self) -> bool {
        self.headers.iter().any(|(n, v)| {
            (n == "content-length" && v.as_slice() != b"0") || n == "transfer-encoding"
        })
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
                "POST",
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
    }
}
