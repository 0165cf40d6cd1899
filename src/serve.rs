//! What both host edges (WASIp2 and WASIp3) do around their I/O, as plain
//! functions: the attempt loop's bookkeeping between two sends (a key's
//! cooldown, the next key, a route's next target), and turning fetched model lists and key checks into replies. The
//! edges differ only in how they send, wait and stream.

use crate::errors::ErrorReply;
use crate::failover::{self, Outcome};
use crate::handlers::models::{self, ModelsPlan};
use crate::handlers::status::{self, StatusPlan};
use crate::host::Host;
use crate::reply::Reply;
use crate::upstream::Forward;

/// What one fetch of a fan-out (model lists, key checks, a token) gave:
/// (status, whole body) or why there is none.
pub type Fetched = Result<(u16, Vec<u8>), String>;

/// Largest model-list answer read from one provider.
pub const MODELS_MAX_BODY: usize = 16 * 1024 * 1024;

/// Largest token-endpoint answer read.
pub const TOKEN_MAX_BODY: usize = 1024 * 1024;

/// Writes one line to stderr in one host call (`eprintln!` writes piece by
/// piece, unbuffered).
pub fn log(line: &str) {
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
}

/// What the attempt loop does after attempt `i` (0-based) ended in `outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Give the client this attempt's answer (or its failure).
    Answer,
    /// Wait this long, then attempt `i + 1`.
    Retry { wait_ms: u64 },
}

/// The bookkeeping between two attempts (SPEC §7): a failed attempt's key
/// cools down (recorded in the shared store), and the next attempt follows
/// when the failure is retryable and attempts are left (`last`: the index of
/// the last attempt allowed — 0 when the body cannot be replayed). `invalid`:
/// the host refused to build the request, which no other key fixes.
///
/// A success asks the host for nothing (no clock, no store).
pub fn after_attempt(
    fwd: &mut Forward,
    i: usize,
    last: usize,
    outcome: Outcome,
    retry_after: Option<&str>,
    invalid: bool,
    host: &dyn Host,
) -> Next {
    let failed = !matches!(outcome, Outcome::Status(200..=399));
    if !failed {
        return Next::Answer;
    }
    let now = host.now_ms();
    // Only failures the key is to blame for cool it down (not a 403 that
    // refused a client key's request, nor an auth failure that the
    // caller's own account headers may have caused).
    let blamed = match outcome {
        Outcome::Status(s) => fwd.trust.blames_key(s),
        _ => true,
    };
    let until = failover::cooldown_until(outcome, retry_after, now).filter(|_| blamed);
    let fp = fwd
        .attempts
        .get(i)
        .and_then(|up| up.key_fingerprint.clone());
    if let (Some(until), Some(fp), Some(record), Some(store)) =
        (until, fp, fwd.cooldowns.as_mut(), host.store())
    {
        record.mark(store, &fp, until, now);
    }
    if invalid || i >= last || !failover::retryable(outcome, fwd.key_count) {
        return Next::Answer;
    }
    let failures = u32::try_from(i + 1).unwrap_or(u32::MAX);
    Next::Retry {
        wait_ms: failover::wait_ms(failures, retry_after, now, host.random_u64()),
    }
}

/// After attempt outcome `outcome` was to be answered (`next`): a model
/// route's next target instead, when the outcome is one to fall back on
/// (429, 5xx, timeout, unreachable; not a request the host refused to build)
/// and the route has one. `fwd` becomes that target's plan, logged, and the
/// ledger follows it; the edge then sends it with a body of its own.
#[allow(clippy::too_many_arguments)]
pub fn next_target(
    fwd: &mut Forward,
    next: Next,
    invalid: bool,
    outcome: Outcome,
    retry_after: Option<&str>,
    host: &dyn Host,
    ledger: &mut crate::ledger::Ledger,
    src: &dyn crate::settings::SettingSource,
) -> bool {
    let from = fwd.first().provider.clone();
    if next != Next::Answer || invalid || !crate::team::next_target(fwd, outcome, retry_after, host)
    {
        return false;
    }
    log(&format!(
        "llm-proxy route={} fallback from provider={from} outcome={outcome:?} to={}\n",
        fwd.route.as_deref().unwrap_or("-"),
        fwd.model.as_deref().unwrap_or("-"),
    ));
    ledger.forwarding(fwd, src);
    true
}

/// The head of a relayed answer as the client gets it: the upstream's
/// headers cleaned ([`crate::reply::relay_response_headers`]), less what
/// the caller may not see (a client key: the provider account's
/// identifiers and cookies), plus the request's ids
/// ([`crate::ledger::id_headers`]: the provider's own `x-request-id` passes
/// unchanged). Also the provider's own request id, for the log.
pub fn relayed_headers(
    upstream: Vec<(String, Vec<u8>)>,
    trust: crate::grant::Trust,
    request_id: &str,
) -> (Vec<(String, Vec<u8>)>, Option<String>) {
    let mut headers = crate::reply::relay_response_headers(upstream);
    headers.retain(|(n, _)| trust.shows(n));
    let id_of = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
            .map(|v| {
                v.chars()
                    .filter(|c| !c.is_control())
                    .take(200)
                    .collect::<String>()
            })
    };
    let upstream_id = id_of(crate::ledger::REQUEST_ID).or_else(|| id_of("request-id"));
    let has_one = headers.iter().any(|(n, _)| n == crate::ledger::REQUEST_ID);
    for (n, v) in crate::ledger::id_headers(request_id, has_one) {
        headers.push((n.to_string(), v.into_bytes()));
    }
    (headers, upstream_id)
}

/// The headers the client's answer gets besides the upstream's: what the
/// plan adds (e.g. what a translation dropped) and how many attempts it took.
pub fn answer_headers(fwd: &Forward, attempts: usize) -> Vec<(String, Vec<u8>)> {
    let mut extra: Vec<(String, Vec<u8>)> = fwd
        .response_headers
        .iter()
        .map(|(n, v)| (n.clone(), v.clone().into_bytes()))
        .collect();
    extra.push((
        "x-llm-proxy-attempts".into(),
        attempts.to_string().into_bytes(),
    ));
    extra
}

/// The proxy's own error for attempt `i` (its auth could not be had, or it
/// failed before an answer), in the client's dialect, with the plan's headers.
pub fn attempt_error(e: ErrorReply, fwd: &Forward, i: usize) -> Reply {
    let mut reply = e.into_reply_for(fwd.dialect);
    reply.headers.extend(
        answer_headers(fwd, i + 1)
            .into_iter()
            .map(|(n, v)| (n, String::from_utf8_lossy(&v).into_owned())),
    );
    reply
}

/// How long an instance answers `/v1/models` from the lists it fetched
/// last (each fetch is one upstream call per provider, with the
/// operator's keys).
pub const MODELS_CACHE_MS: u64 = 5_000;

/// Where an instance keeps the lists fetched for `plan`: one record per set
/// of providers and URLs (no header, no key).
fn models_cache_key(plan: &ModelsPlan) -> String {
    let mut key = String::from("llm-proxy/models-cache");
    for f in &plan.fetches {
        key.push('\n');
        key.push_str(&f.provider);
        key.push(' ');
        key.push_str(&f.request.base.url(&f.request.path_with_query));
    }
    key
}

/// The model entries an instance fetched for `plan` less than
/// [`MODELS_CACHE_MS`] ago, if any.
pub fn cached_models(plan: &ModelsPlan, host: &dyn Host) -> Option<Vec<models::ModelEntry>> {
    let memory = host.memory()?;
    if plan.fetches.is_empty() {
        return None;
    }
    let raw = memory.get(&models_cache_key(plan))?;
    let text = String::from_utf8(raw).ok()?;
    let mut lines = text.split('\n');
    let at: u64 = lines.next()?.parse().ok()?;
    if host.now_ms().saturating_sub(at) >= MODELS_CACHE_MS {
        return None;
    }
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut f = l.splitn(3, '\t');
            Some(models::ModelEntry {
                created: f.next()?.parse().ok()?,
                owned_by: f.next()?.to_string(),
                id: f.next()?.to_string(),
                object: "model",
            })
        })
        .collect()
}

/// `GET /v1/models`: every provider's list (those that answered), then the
/// static ones; what failed is logged and left out. What was fetched is
/// kept in the instance's memory for [`MODELS_CACHE_MS`].
pub fn models_reply(plan: ModelsPlan, results: Vec<Fetched>, host: &dyn Host) -> Reply {
    for s in &plan.skipped {
        log(&format!("llm-proxy models skipped {s}\n"));
    }
    let mut entries = Vec::new();
    for (fetch, result) in plan.fetches.iter().zip(results) {
        let why = match result {
            Ok((200..=299, body)) => match models::normalize(&fetch.provider, fetch.shape, &body) {
                Ok(list) => {
                    entries.extend(list);
                    continue;
                }
                Err(e) => e,
            },
            Ok((status, _)) => format!("upstream status {status}"),
            Err(e) => e,
        };
        log(&format!(
            "llm-proxy models provider={} skipped: {why}\n",
            fetch.provider
        ));
    }
    if let (Some(memory), false) = (host.memory(), plan.fetches.is_empty()) {
        let mut record = host.now_ms().to_string();
        for e in &entries {
            let clean = |s: &str| s.replace(['\n', '\t'], " ");
            record.push_str(&format!(
                "\n{}\t{}\t{}",
                e.created,
                clean(&e.owned_by),
                clean(&e.id)
            ));
        }
        memory.set(&models_cache_key(&plan), record.as_bytes());
    }
    models_answer(plan, entries)
}

/// The model list for `plan`'s caller from the fetched `entries`: plus the
/// static ones, only what the caller may use, plus its routes.
pub fn models_answer(plan: ModelsPlan, mut entries: Vec<models::ModelEntry>) -> Reply {
    entries.extend(plan.static_models.iter().cloned());
    entries.retain(|e| plan.lists(e));
    entries.extend(plan.routes.iter().cloned());
    let body = if plan.gemini {
        models::render_gemini(&entries)
    } else {
        models::render(&entries)
    };
    Reply::json(200, body)
}

/// `GET /status`: each key check's verdict. `refused[i]`: the status of
/// check `i` when its auth could not be had (it was not sent); `sent`: the
/// answers of the checks that were sent, in order.
pub fn status_reply(plan: &StatusPlan, refused: &[Option<u16>], sent: Vec<Fetched>) -> Reply {
    let mut sent = sent.into_iter();
    let statuses: Vec<Option<u16>> = plan
        .checks
        .iter()
        .zip(refused.iter().copied().chain(std::iter::repeat(None)))
        .map(|(c, refused)| match (&c.request, refused) {
            (_, Some(status)) => Some(status),
            (Some(_), None) => sent.next().and_then(|r| r.ok()).map(|(s, _)| s),
            (None, None) => None,
        })
        .collect();
    Reply::json(200, status::render(plan, &statuses))
}

/// What a host's `wasi:http` `error-code` says, in words, from its variant
/// name (its `Debug` form: `DnsTimeout`, `DnsError(..)`, or with the type
/// first, `ErrorCode::DnsTimeout`; both edges' bindings name the variants
/// alike). Never a URL or a header.
pub fn error_name(code: &str) -> &'static str {
    let path = code
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ':'))
        .next()
        .unwrap_or_default();
    let variant = path.rsplit("::").next().unwrap_or_default();
    match variant {
        "DnsTimeout" => "DNS timeout",
        "DnsError" => "DNS error",
        "DestinationNotFound" => "destination not found",
        "DestinationUnavailable" => "destination unavailable",
        "DestinationIpProhibited" => "destination IP prohibited",
        "DestinationIpUnroutable" => "destination IP unroutable",
        "ConnectionRefused" => "connection refused",
        "ConnectionTerminated" => "connection terminated",
        "ConnectionTimeout" => "connection timeout",
        "ConnectionReadTimeout" => "read timeout",
        "ConnectionWriteTimeout" => "write timeout",
        "ConnectionLimitReached" => "connection limit reached",
        "TlsProtocolError" => "TLS protocol error",
        "TlsCertificateError" => "TLS certificate error",
        "TlsAlertReceived" => "TLS alert",
        "HttpRequestDenied" => {
            "request denied by the host (is the host in allowed_outbound_hosts?)"
        }
        "HttpProtocolError" => "HTTP protocol error",
        "HttpResponseIncomplete" => "response incomplete",
        "HttpRequestUriInvalid" => "invalid request URI",
        _ => "upstream error",
    }
}

/// A host error sending to `provider` (`code`: the error code's `Debug`
/// form): 504 for timeouts, 502 for everything else, naming the provider and
/// the kind of failure, never a URL with credentials.
pub fn upstream_failure(provider: &str, code: &str) -> ErrorReply {
    let what = error_name(code);
    if matches!(what, "DNS timeout" | "connection timeout" | "read timeout") {
        return ErrorReply::gateway_timeout(format!("provider {provider} timed out ({what})"));
    }
    ErrorReply::bad_gateway(format!("provider {provider} is unreachable ({what})"))
}

/// No answer head within `UPSTREAM_TIMEOUT_SECONDS`.
pub fn upstream_timeout(provider: &str) -> ErrorReply {
    ErrorReply::gateway_timeout(format!(
        "provider {provider} sent no response within UPSTREAM_TIMEOUT_SECONDS"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::FakeHost;
    use crate::outgoing::UpstreamRequest;
    use crate::url::BaseUrl;

    fn up(fp: &str) -> UpstreamRequest {
        UpstreamRequest {
            method: "POST".into(),
            base: BaseUrl::parse("http://127.0.0.1:9").unwrap(),
            path_with_query: "/v1/chat/completions".into(),
            headers: vec![],
            provider: "openai".into(),
            body: None,
            key_fingerprint: Some(fp.into()),
            cloud_auth: None,
        }
    }

    fn forward(n: usize) -> Forward {
        let mut fwd = Forward::single(up("k0"));
        fwd.attempts = (0..n).map(|i| up(&format!("k{i}"))).collect();
        fwd.key_count = n;
        fwd
    }

    #[test]
    fn a_success_is_answered_without_asking_the_host() {
        let host = FakeHost::new();
        let mut fwd = forward(3);
        let next = after_attempt(&mut fwd, 0, 2, Outcome::Status(200), None, false, &host);
        assert_eq!(next, Next::Answer);
        assert_eq!(host.calls(), Default::default());
    }

    #[test]
    fn retryable_failures_wait_and_go_on_until_the_last_attempt() {
        let host = FakeHost::new();
        let mut fwd = forward(3);
        let next = after_attempt(
            &mut fwd,
            0,
            2,
            Outcome::Status(429),
            Some("2"),
            false,
            &host,
        );
        assert_eq!(next, Next::Retry { wait_ms: 2000 });
        let next = after_attempt(&mut fwd, 1, 2, Outcome::Status(503), None, false, &host);
        assert!(matches!(next, Next::Retry { wait_ms } if (200..=400).contains(&wait_ms)));
        // The last attempt is answered, whatever it was.
        let next = after_attempt(&mut fwd, 2, 2, Outcome::Timeout, None, false, &host);
        assert_eq!(next, Next::Answer);
        // A body that cannot be replayed allows no second attempt.
        let next = after_attempt(&mut fwd, 0, 0, Outcome::Unreachable, None, false, &host);
        assert_eq!(next, Next::Answer);
        // Nor does a request the host refused to build, nor a 400.
        let next = after_attempt(&mut fwd, 0, 2, Outcome::Unreachable, None, true, &host);
        assert_eq!(next, Next::Answer);
        let next = after_attempt(&mut fwd, 0, 2, Outcome::Status(400), None, false, &host);
        assert_eq!(next, Next::Answer);
    }

    #[test]
    fn answer_headers_name_the_attempts_and_the_plans_headers() {
        let mut fwd = forward(1);
        fwd.response_headers
            .push(("x-llm-proxy-dropped".into(), "foo".into()));
        let h = answer_headers(&fwd, 2);
        assert_eq!(
            h,
            vec![
                ("x-llm-proxy-dropped".to_string(), b"foo".to_vec()),
                ("x-llm-proxy-attempts".to_string(), b"2".to_vec()),
            ]
        );
        let reply = attempt_error(ErrorReply::bad_gateway("x"), &fwd, 0);
        assert_eq!(reply.status, 502);
        assert!(reply
            .headers
            .iter()
            .any(|(n, v)| n == "x-llm-proxy-attempts" && v == "1"));
    }

    #[test]
    fn host_errors_are_named_by_their_variant() {
        assert_eq!(error_name("DnsTimeout"), "DNS timeout");
        assert_eq!(
            error_name("ErrorCode::HttpRequestDenied"),
            "request denied by the host (is the host in allowed_outbound_hosts?)"
        );
        assert_eq!(
            error_name("DnsError(DnsErrorPayload { rcode: None, info_code: None })"),
            "DNS error"
        );
        assert_eq!(error_name("InternalError(Some(\"x\"))"), "upstream error");
        assert_eq!(error_name(""), "upstream error");
        let e = upstream_failure("openai", "ConnectionTimeout");
        assert_eq!(e.status, 504);
        assert!(
            e.message.contains("openai timed out (connection timeout)"),
            "{}",
            e.message
        );
        let e = upstream_failure("groq", "ConnectionRefused");
        assert_eq!(e.status, 502);
        assert!(e
            .message
            .contains("groq is unreachable (connection refused)"));
        assert_eq!(upstream_timeout("x").status, 504);
    }
}
