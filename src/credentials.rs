//! Cloud credentials as plain data: an AWS key pair and a Google service
//! account, read from settings by the route table, carried by an upstream
//! request (`outgoing::CloudAuth`) and used by the signers (`cloud_auth`).
//! Below all three, so none of them imports another to get them. `Debug`
//! never shows a secret.

use serde_json::Value;

/// Default token endpoint.
pub const TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

/// AWS credentials (static or temporary).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The fields of a service-account key file the proxy uses.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceAccount {
    pub client_email: String,
    pub private_key_id: String,
    pub private_key_pem: String,
    pub token_uri: String,
    pub project_id: Option<String>,
}

impl std::fmt::Debug for ServiceAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccount")
            .field("client_email", &self.client_email)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl ServiceAccount {
    /// Reads a key file's JSON. Errors name the missing field, never a value.
    pub fn parse(v: &Value) -> Result<ServiceAccount, String> {
        let field = |name: &str| {
            v.get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| format!("a service-account key needs '{name}'"))
        };
        Ok(ServiceAccount {
            client_email: field("client_email")?,
            private_key_pem: field("private_key")?,
            private_key_id: field("private_key_id").unwrap_or_default(),
            token_uri: field("token_uri").unwrap_or_else(|_| TOKEN_URI.into()),
            project_id: field("project_id").ok(),
        })
    }

    /// The store key of this account's cached token.
    pub fn cache_key(&self) -> String {
        format!(
            "llm-proxy/google-token/{}",
            crate::keys::fingerprint(&format!("{}/{}", self.client_email, self.private_key_id))
        )
    }
}
