//! The one upstream request, as a plain value: what a plan hands the edge
//! to send (method, URL, headers, body, and the cloud auth to add at send
//! time). It sits below the route table, the handlers' shared floor and
//! the cloud signers, which all build or read it, so none of them imports
//! another to get it.

use crate::credentials::{Credentials, ServiceAccount};
use crate::url::BaseUrl;

/// A body in memory shared by the attempts (and the relay): a `Vec` moved
/// behind an `Arc`, not copied (an `Arc<[u8]>` from a `Vec` is a copy of the
/// whole body — tens of milliseconds for a large one, the instance held).
pub type SharedBody = std::sync::Arc<Vec<u8>>;

/// Everything the edge needs to send one upstream request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamRequest {
    pub method: String,
    /// Scheme and authority come from here; its path is already in `path_with_query`.
    pub base: BaseUrl,
    pub path_with_query: String,
    pub headers: Vec<(String, Vec<u8>)>,
    /// Route name, for the log.
    pub provider: String,
    /// The body to send; `None` streams the client's body through unchanged.
    pub body: Option<SharedBody>,
    /// The fingerprint of this attempt's provider key in the cooldown
    /// record, when failures are recorded (see [`Forward::cooldowns`]).
    pub key_fingerprint: Option<String>,
    /// Auth added at send time (a SigV4 signature, a minted token).
    pub cloud_auth: Option<CloudAuth>,
}

impl UpstreamRequest {
    pub fn url(&self) -> String {
        self.base.url(&self.path_with_query)
    }

    /// The first value of header `name` (lowercase), if it is UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }
}

/// How an upstream request gets its auth at send time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudAuth {
    /// An AWS SigV4 signature over the request as sent.
    SigV4 {
        creds: Credentials,
        region: String,
        service: String,
        /// What the signature is for when it differs from where the request
        /// goes (through the AI Gateway, the real Bedrock host and path).
        signed_for: Option<(String, String)>,
    },
    /// A bearer token minted from a Google service account.
    Google {
        account: ServiceAccount,
        /// The token endpoint (the key file's, or `VERTEX_TOKEN_URI`).
        token_uri: String,
    },
}
