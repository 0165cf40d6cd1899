//! Auth that is not a static key: AWS SigV4 signatures ([`sigv4`]) and
//! Google OAuth2 tokens minted from a service account ([`google`]).
//!
//! A plan carries it as a value ([`CloudAuth`] on the upstream request); the
//! edge calls [`authorize`] right before sending each attempt, with the
//! clock, the stores and a way to make one request ([`Fetch`]) — so the
//! decisions (sign what, mint when, cache where, refresh once) stay here and
//! are tested with fakes. An edge that cannot make a request synchronously
//! (WASIp3's is async) calls its two phases instead: [`prepare`], and, when
//! it returns a [`Mint`], sends [`Mint::request`] and hands the answer to
//! [`Mint::finish`].

pub mod google;
pub mod sigv4;

use crate::errors::ErrorReply;
use crate::host::Host;
pub use crate::outgoing::CloudAuth;
use crate::outgoing::UpstreamRequest;
use crate::url::BaseUrl;
use google::ServiceAccount;

/// One request made on the edge's behalf (the token exchange).
pub trait Fetch {
    /// Sends `request` and reads the whole answer: (status, body).
    fn fetch(&self, request: &UpstreamRequest) -> Result<(u16, Vec<u8>), String>;
}

/// Where a request's auth came from, for the caller's retry decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorized {
    /// Nothing to do (a static key, already in the headers).
    Static,
    /// Signed (SigV4).
    Signed,
    /// A token from the cache: worth one fresh mint after a 401.
    CachedToken,
    /// A freshly minted token.
    FreshToken,
}

/// Adds the request's cloud auth headers: a SigV4 signature over `body`, or
/// a Google bearer token (cached unless `refresh`, minted when needed and
/// cached for the instances that follow).
///
/// [`prepare`], then — when a token must be minted — one `fetch` of the
/// token exchange and [`Mint::finish`]. An async edge calls the two phases
/// itself and awaits the exchange in between.
pub fn authorize(
    up: &mut UpstreamRequest,
    body: &[u8],
    host: &dyn Host,
    fetch: &dyn Fetch,
    refresh: bool,
) -> Result<Authorized, ErrorReply> {
    match prepare(up, body, host, refresh)? {
        Prepared::Done(authorized) => Ok(authorized),
        Prepared::Mint(mint) => {
            let answer = fetch.fetch(mint.request());
            mint.finish(up, host, answer)
        }
    }
}

/// What [`prepare`] left to do.
#[derive(Debug)]
pub enum Prepared {
    /// The request is authorized (a static key, a signature, a cached token).
    Done(Authorized),
    /// A Google token must be minted: send [`Mint::request`], then
    /// [`Mint::finish`] with the answer.
    Mint(Mint),
}

/// A token exchange to make and how to read its answer (the second phase of
/// [`authorize`]). Boxed: [`Prepared::Done`] is the common case.
pub struct Mint(Box<MintState>);

struct MintState {
    account: ServiceAccount,
    now_ms: u64,
    request: UpstreamRequest,
}

impl std::fmt::Debug for Mint {
    /// The request's body is a signed assertion, a credential: not shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mint")
            .field("account", &"(a service account)")
            .field("token_uri", &self.0.request.url())
            .finish()
    }
}

/// The first, IO-free phase of [`authorize`]: clears any stale auth headers,
/// then signs (SigV4), applies a cached Google token (the host's memory
/// first, then its shared store, unless `refresh`), or returns the token
/// exchange still to make.
pub fn prepare(
    up: &mut UpstreamRequest,
    body: &[u8],
    host: &dyn Host,
    refresh: bool,
) -> Result<Prepared, ErrorReply> {
    let Some(auth) = up.cloud_auth.clone() else {
        return Ok(Prepared::Done(Authorized::Static));
    };
    up.headers.retain(|(n, _)| {
        !matches!(
            n.as_str(),
            "authorization" | "x-amz-date" | "x-amz-security-token" | "x-amz-content-sha256"
        )
    });
    match auth {
        CloudAuth::SigV4 {
            creds,
            region,
            service,
            signed_for,
        } => {
            let (sign_host, path_and_query) = signed_for
                .unwrap_or_else(|| (up.base.authority.clone(), up.path_with_query.clone()));
            let (path, query) = path_and_query
                .split_once('?')
                .unwrap_or((&path_and_query, ""));
            let signed = sigv4::sign(
                &sigv4::SigningInput {
                    method: &up.method,
                    host: &sign_host,
                    path,
                    query,
                    headers: &[],
                    body,
                    region: &region,
                    service: &service,
                    now: (host.now_ms() / 1000) as i64,
                },
                &creds,
            );
            up.headers
                .extend(signed.headers.into_iter().map(|(n, v)| (n, v.into_bytes())));
            Ok(Prepared::Done(Authorized::Signed))
        }
        CloudAuth::Google { account, token_uri } => {
            let now_ms = host.now_ms();
            if !refresh {
                if let Some(token) = cached_token(&account, now_ms, host) {
                    set_bearer(up, &token);
                    return Ok(Prepared::Done(Authorized::CachedToken));
                }
            }
            let request = token_request(&account, &token_uri, now_ms, host)?;
            Ok(Prepared::Mint(Mint(Box::new(MintState {
                account,
                now_ms,
                request,
            }))))
        }
    }
}

impl Mint {
    /// The token exchange to send.
    pub fn request(&self) -> &UpstreamRequest {
        &self.0.request
    }

    /// Reads the exchange's `answer` ((status, body), or why it could not be
    /// made); on success remembers the token in the host's memory and shared
    /// store and sets it as `up`'s bearer (`up` as [`prepare`] left it).
    pub fn finish(
        self,
        up: &mut UpstreamRequest,
        host: &dyn Host,
        answer: Result<(u16, Vec<u8>), String>,
    ) -> Result<Authorized, ErrorReply> {
        let MintState {
            account, now_ms, ..
        } = *self.0;
        let (token, expires_in) = read_token_answer(&account, answer)?;
        for kv in [host.memory(), host.store()].into_iter().flatten() {
            google::remember(kv, &account, &token, expires_in, now_ms);
        }
        set_bearer(up, &token);
        Ok(Authorized::FreshToken)
    }
}

/// A cached token for `account`: from the host's memory, else from its
/// shared store (then copied into memory, until the same expiry).
fn cached_token(account: &ServiceAccount, now_ms: u64, host: &dyn Host) -> Option<String> {
    let memory = host.memory();
    if let Some(token) = memory.and_then(|m| google::cached(m, account, now_ms)) {
        return Some(token);
    }
    let (token, expiry_ms) = host
        .store()
        .and_then(|s| google::cached_until(s, account, now_ms))?;
    if let Some(memory) = memory {
        google::remember_until(memory, account, &token, expiry_ms);
    }
    Some(token)
}

fn set_bearer(up: &mut UpstreamRequest, token: &str) {
    up.headers.push((
        "authorization".into(),
        format!("Bearer {token}").into_bytes(),
    ));
}

/// The token exchange for `account` at `token_uri`.
pub fn token_request(
    account: &ServiceAccount,
    token_uri: &str,
    now_ms: u64,
    host: &dyn Host,
) -> Result<UpstreamRequest, ErrorReply> {
    let misconfigured = |what: &str| ErrorReply::misconfigured("VERTEX_SERVICE_ACCOUNT_JSON", what);
    let (base, path) = split_url(token_uri)
        .ok_or_else(|| misconfigured("has a token_uri that is not an http(s) URL"))?;
    let assertion = google::assertion(account, token_uri, (now_ms / 1000) as i64, host)
        .map_err(|m| misconfigured(&m))?;
    let body = google::token_request_body(&assertion);
    Ok(UpstreamRequest {
        method: "POST".into(),
        path_with_query: path,
        headers: vec![
            (
                "content-type".into(),
                b"application/x-www-form-urlencoded".to_vec(),
            ),
            ("content-length".into(), body.len().to_string().into_bytes()),
            ("accept".into(), b"application/json".to_vec()),
        ],
        base,
        provider: "google-oauth2".into(),
        body: Some(body.into()),
        key_fingerprint: None,
        cloud_auth: None,
    })
}

/// `scheme://authority/path?query` → (base, path with query).
fn split_url(url: &str) -> Option<(BaseUrl, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let base = BaseUrl::parse(&format!("{scheme}://{authority}")).ok()?;
    Some((
        base,
        if path.is_empty() {
            "/".into()
        } else {
            path.to_string()
        },
    ))
}

/// The token endpoint's answer → (token, expires_in seconds), or the error
/// to reply (a refused grant is the client's 401, anything else a 502).
fn read_token_answer(
    _account: &ServiceAccount,
    answer: Result<(u16, Vec<u8>), String>,
) -> Result<(String, u64), ErrorReply> {
    let failed = |why: String| {
        // Named by its setting, never by its e-mail (which names the
        // operator's project and account).
        ErrorReply::bad_gateway(format!(
            "could not get a Google access token for the service account of \
             VERTEX_SERVICE_ACCOUNT_JSON: {why}"
        ))
    };
    match answer {
        Ok((200, body)) => google::parse_token(&body).map_err(failed),
        Ok((status, body)) => {
            // Google's error codes (invalid_grant, …) name the problem, never a secret.
            let code = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or_default();
            let mut e = failed(format!("the token endpoint answered {status} {code}"));
            if status == 400 || status == 401 || status == 403 {
                e.status = 401;
                e.kind = "authentication_error";
                e.code = "provider_auth_failed";
            }
            Err(e)
        }
        Err(why) => Err(failed(why)),
    }
}

#[cfg(test)]
mod tests;
