//! A response the proxy answers itself, and the header rules every response
//! gets on the way out (CORS, hop-by-hop).

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: Vec<u8>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        }
    }

    pub fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
}

/// Headers that describe one connection, not the message (RFC 9110 §7.6.1),
/// plus `host`, which the outbound request sets itself.
pub const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "http2-settings",
];

/// True when `name` (lowercase) must not be relayed; `connection_listed`
/// holds the names the message's own `Connection` header lists.
pub fn is_hop_by_hop(name: &str, connection_listed: &[String]) -> bool {
    HOP_BY_HOP.contains(&name) || connection_listed.iter().any(|c| c == name)
}

/// The lowercase names listed in `Connection` headers.
pub fn connection_tokens<'a, I>(headers: I) -> Vec<String>
where
    I: IntoIterator<Item = (&'a str, &'a [u8])>,
{
    headers
        .into_iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, v)| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Response headers relayed from an upstream: hop-by-hop removed, the
/// proxy's own names (`x-llm-proxy-*`, which only this proxy may say to its
/// client) and host-internal `spin-*` names removed, and
/// `Access-Control-Allow-Origin: *` added unless the upstream set one.
pub fn relay_response_headers(upstream: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    let listed = connection_tokens(upstream.iter().map(|(n, v)| (n.as_str(), v.as_slice())));
    let mut out: Vec<(String, Vec<u8>)> = upstream
        .into_iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), v))
        .filter(|(n, _)| {
            !is_hop_by_hop(n, &listed) && !n.starts_with("x-llm-proxy-") && !n.starts_with("spin-")
        })
        .collect();
    add_cors(&mut out);
    out
}

/// Adds `Access-Control-Allow-Origin: *` unless present.
/// The proxy's own answer as it goes on the wire: its headers plus CORS
/// and a Content-Length (none for 204: a known length spares the client
/// chunked decoding), as both edges send it.
pub fn wire_headers(reply: &mut Reply) -> Vec<(String, Vec<u8>)> {
    let mut headers: Vec<(String, Vec<u8>)> = std::mem::take(&mut reply.headers)
        .into_iter()
        .map(|(n, v)| (n, v.into_bytes()))
        .collect();
    add_cors(&mut headers);
    if reply.status != 204 {
        headers.push((
            "content-length".into(),
            reply.body.len().to_string().into_bytes(),
        ));
    }
    headers
}

pub fn add_cors(headers: &mut Vec<(String, Vec<u8>)>) {
    if !headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("access-control-allow-origin"))
    {
        headers.push(("access-control-allow-origin".into(), b"*".to_vec()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, Vec<u8>)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn relayed_headers_lose_hop_by_hop_and_gain_cors() {
        let out = relay_response_headers(h(&[
            ("Content-Type", "text/event-stream"),
            ("Connection", "keep-alive, X-Conn-Only"),
            ("x-conn-only", "1"),
            ("Transfer-Encoding", "chunked"),
            ("x-request-id", "r1"),
            ("X-LLM-Proxy-Attempts", "9"),
            ("spin-full-url", "http://x/?key=k"),
        ]));
        assert_eq!(
            out,
            h(&[
                ("content-type", "text/event-stream"),
                ("x-request-id", "r1"),
                ("access-control-allow-origin", "*"),
            ])
        );
    }

    #[test]
    fn upstream_cors_wins() {
        let out = relay_response_headers(h(&[("Access-Control-Allow-Origin", "https://a")]));
        assert_eq!(out, h(&[("access-control-allow-origin", "https://a")]));
    }
}
