//! What the team gateway (docs/team.md) adds to the pipeline: who is
//! calling (the all-access key or a client key), whether a client key may
//! go on (expiry, its limits, its models), and model routes — a request for
//! a route planned once per target, each target's plan falling back to the
//! next.

use crate::auth;
use crate::client_keys::{self, Caller, ClientKey};
use crate::errors::{printable, ErrorReply};
use crate::host::{Host, KeyValue};
use crate::keys::{cooldown_record_key, CooldownBook};
use crate::limits::{self, Refused, Reservation};
use crate::model_routes::{self, ModelRoute, Strategy};
use crate::prices::Price;
use crate::request::RequestHead;
use crate::settings::{self, SettingSource};
use crate::upstream::{Forward, Planned};
use std::cell::RefCell;
use std::rc::Rc;

/// The response header naming the route target that answered.
pub const ROUTE_HEADER: &str = "x-llm-proxy-route";

/// Proxy auth (skipped when `DEV`); fails closed without `PROXY_API_KEY`
/// and `PROXY_KEYS`. `DEV` is read only when the request brought no valid key.
pub fn authenticate(
    head: &RequestHead,
    src: &dyn SettingSource,
    host: &dyn Host,
) -> Result<Caller, ErrorReply> {
    let (proxy_keys, malformed) = settings::key_list(src, "PROXY_API_KEY");
    let candidates = auth::candidates(head);
    if !proxy_keys.is_empty() && auth::authorized(&candidates, &proxy_keys) {
        return Ok(Caller::all_access());
    }
    let clients = match client_keys(src) {
        Ok(keys) => keys,
        Err(e) if !candidates.is_empty() => return Err(e),
        Err(_) => Rc::new(Vec::new()),
    };
    if !candidates.is_empty() {
        if let Some(key) = client_keys::find(&clients, &candidates) {
            if key.expires.is_some() && key.expired(host.now_ms()) {
                return Err(ErrorReply::new(
                    401,
                    "authentication_error",
                    "key_expired",
                    format!("the proxy key '{}' has expired", printable(&key.name)),
                ));
            }
            return Ok(Caller::client(key.clone()));
        }
    }
    if settings::flag(src, "DEV") {
        return Ok(Caller::dev());
    }
    if proxy_keys.is_empty() && clients.is_empty() {
        let why = match malformed {
            Some(e) => format!("PROXY_API_KEY is malformed: {}", e.message),
            None => "set PROXY_API_KEY or PROXY_KEYS (or DEV=true for local development)".into(),
        };
        return Err(ErrorReply::new(
            401,
            "authentication_error",
            "proxy_key_not_configured",
            format!("the proxy key is not configured: {why}"),
        ));
    }
    Err(ErrorReply::unauthorized(
        "invalid or missing proxy key: send it as 'Authorization: Bearer <key>', x-api-key, x-goog-api-key or ?key=",
    ))
}

/// A setting parsed once per value: an instance that serves many requests
/// (WASIp3) parses `PROXY_KEYS`, `MODEL_ROUTES` and `MODEL_PRICES` again only
/// when the value changes.
struct Parsed<T>(RefCell<Option<(String, Rc<T>)>>);

impl<T> Parsed<T> {
    const fn new() -> Self {
        Parsed(RefCell::new(None))
    }

    fn get(
        &self,
        src: &dyn SettingSource,
        name: &str,
        parse: fn(&str) -> Result<T, String>,
        empty: fn() -> T,
    ) -> Result<Rc<T>, ErrorReply> {
        let raw = match settings::value(src, name) {
            Some(raw) if !raw.trim().is_empty() => raw,
            _ => return Ok(Rc::new(empty())),
        };
        if let Some((known, parsed)) = &*self.0.borrow() {
            if *known == raw {
                return Ok(parsed.clone());
            }
        }
        let parsed = Rc::new(parse(&raw).map_err(|e| ErrorReply::misconfigured(name, &e))?);
        *self.0.borrow_mut() = Some((raw, parsed.clone()));
        Ok(parsed)
    }
}

thread_local! {
    static KEYS: Parsed<Vec<ClientKey>> = const { Parsed::new() };
    static ROUTES: Parsed<Vec<ModelRoute>> = const { Parsed::new() };
    static PRICES: Parsed<Vec<(String, Price)>> = const { Parsed::new() };
}

/// `PROXY_KEYS`, parsed (empty when unset).
pub fn client_keys(src: &dyn SettingSource) -> Result<Rc<Vec<ClientKey>>, ErrorReply> {
    KEYS.with(|p| p.get(src, "PROXY_KEYS", client_keys::parse, Vec::new))
}

/// `MODEL_ROUTES`, parsed (empty when unset).
pub fn model_routes(src: &dyn SettingSource) -> Result<Rc<Vec<ModelRoute>>, ErrorReply> {
    ROUTES.with(|p| p.get(src, "MODEL_ROUTES", model_routes::parse, Vec::new))
}

/// `MODEL_PRICES`, parsed (empty when unset).
pub fn model_prices(src: &dyn SettingSource) -> Result<Rc<Vec<(String, Price)>>, ErrorReply> {
    PRICES.with(|p| p.get(src, "MODEL_PRICES", crate::prices::parse, Vec::new))
}

/// Admits one request of a client key with limits, reserving `tokens`
/// (docs/team.md, "Limits"), or refuses it (429 with `Retry-After`; 503 when
/// there is no shared store to count in). `None`: nothing to settle.
pub fn admit(
    caller: &Caller,
    host: &dyn Host,
    tokens: u64,
) -> Result<Option<Reservation>, ErrorReply> {
    let Some(key) = caller.key.as_ref().filter(|k| k.has_limits()) else {
        return Ok(None);
    };
    let Some(store) = host.store() else {
        return Err(ErrorReply::new(
            503,
            "api_error",
            "limits_need_shared_store",
            format!(
                "the proxy key '{}' has limits, which are counted in a shared key-value store; \
                 this host offers none (run the spin flavour; for several instances, back its \
                 store with Redis)",
                printable(&key.name)
            ),
        ));
    };
    match limits::admit(store, key, host.now_ms(), tokens) {
        Ok(r) => Ok(Some(r)),
        Err(Refused::Over {
            limit,
            value,
            retry_after,
        }) => {
            let unit = match limit {
                "rpm" => "requests per minute",
                "tpm" => "tokens per minute",
                _ => "tokens per day",
            };
            let mut e = ErrorReply::new(
                429,
                "rate_limit_error",
                "rate_limit_exceeded",
                format!(
                    "the proxy key '{}' is over its {limit} limit ({value} {unit}); retry in {retry_after} s",
                    printable(&key.name)
                ),
            );
            e.retry_after = Some(retry_after);
            Err(e)
        }
        Err(Refused::Store) => Err(ErrorReply::new(
            503,
            "api_error",
            "store_unavailable",
            format!(
                "the key-value store could not count the limits of proxy key '{}'",
                printable(&key.name)
            ),
        )),
    }
}

/// A 403 for a model outside the caller's list.
pub use crate::grant::not_allowed;

/// The store a route's counter and cooldowns live in: the shared one, else
/// the instance's own.
fn route_store(host: &dyn Host) -> Option<&dyn KeyValue> {
    host.store().or_else(|| host.memory())
}

fn cooldown_setting(route: &str) -> String {
    format!("route/{route}")
}

/// The order in which this request tries `route`'s targets: its strategy's
/// first (round robin: one increment of the shared counter), the others
/// after it; targets cooling down go last.
pub fn target_order(route: &ModelRoute, host: &dyn Host) -> Vec<usize> {
    let counter = match route.strategy {
        Strategy::RoundRobin => route_store(host)
            .and_then(|s| s.increment(&format!("llm-proxy/route-rr/{}", route.name), 1))
            .map_or(0, |n| n.saturating_sub(1).max(0) as u64),
        _ => 0,
    };
    let random = match route.strategy {
        Strategy::Weighted => host.random_u64(),
        _ => 0,
    };
    let mut order = route.order(counter, random);
    if order.len() > 1 {
        let book = cooldowns(host, &route.name);
        if !book.entries.is_empty() {
            let now = host.now_ms();
            let cooling = |i: &usize| book.cooling_until(&route.targets[*i], now).is_some();
            // Stable: the ready ones in order, then the cooling ones.
            order.sort_by_key(|i| cooling(i));
        }
    }
    order
}

/// How long an instance reuses the shared store's cooldown record of a
/// route before reading it again: a store read per request would cost
/// every routed request a store call; another instance's cooldown is seen
/// this much later.
pub const COOLDOWN_READ_MS: u64 = 1_000;

fn book_copy_key(route: &str) -> String {
    format!("llm-proxy/route-cooldown-copy/{route}")
}

/// The cooldowns of `route`'s targets: the instance's copy when it is
/// fresh (an instance that serves many requests), else the store's record.
fn cooldowns(host: &dyn Host, route: &str) -> CooldownBook {
    let setting = cooldown_setting(route);
    let (Some(store), Some(memory)) = (host.store(), host.memory()) else {
        return route_store(host)
            .map(|s| CooldownBook::load(s, &setting))
            .unwrap_or_default();
    };
    let now = host.now_ms();
    let copy = memory.get(&book_copy_key(route)).and_then(|raw| {
        let text = String::from_utf8(raw).ok()?;
        let (read, book) = text.split_once('\n')?;
        let read: u64 = read.parse().ok()?;
        (now.saturating_sub(read) < COOLDOWN_READ_MS).then(|| CooldownBook::decode(book.as_bytes()))
    });
    copy.unwrap_or_else(|| {
        let book = CooldownBook::load(store, &setting);
        keep_copy(memory, route, &book, now);
        book
    })
}

fn keep_copy(memory: &dyn KeyValue, route: &str, book: &CooldownBook, now: u64) {
    let mut raw = format!("{now}\n").into_bytes();
    raw.extend(book.encode(now));
    memory.set(&book_copy_key(route), &raw);
}

/// Chains `plans` (one per target, in order) into one plan whose every
/// target falls back to the next, each marked with its route and target.
pub fn chain(route: &str, plans: Vec<(String, Forward)>) -> Option<Forward> {
    let mut next: Option<Forward> = None;
    for (target, mut fwd) in plans.into_iter().rev() {
        fwd.route = Some(route.to_string());
        fwd.model = Some(target.clone());
        fwd.response_headers.push((ROUTE_HEADER.into(), target));
        fwd.fallback = next.map(Box::new);
        next = Some(fwd);
    }
    next
}

/// Plans a request for `route`: `plan_target(target)` for each target in
/// this request's order. A target that cannot be planned (a provider
/// without keys, ...) is left out; when none can, the first one's error. A
/// direct answer (a token-count estimate) is given at once.
pub fn plan_route(
    route: &ModelRoute,
    host: &dyn Host,
    mut plan_target: impl FnMut(&str) -> Planned,
) -> Planned {
    let mut plans = Vec::new();
    let mut refused = None;
    for i in target_order(route, host) {
        let target = &route.targets[i];
        match plan_target(target) {
            Planned::Forward(fwd) => plans.push((target.clone(), fwd)),
            Planned::Reply(r) if r.status < 400 && plans.is_empty() => return Planned::Reply(r),
            Planned::Reply(r) => {
                refused.get_or_insert(r);
            }
        }
    }
    match chain(&route.name, plans) {
        Some(fwd) => Planned::Forward(fwd),
        None => Planned::Reply(refused.unwrap_or_else(|| {
            ErrorReply::bad_gateway(format!("route '{}' has no target", route.name)).into_reply()
        })),
    }
}

/// Whether a target that ended so is left for the route's next one: 429,
/// any 5xx, a timeout or no connection.
pub fn falls_back(outcome: crate::failover::Outcome) -> bool {
    use crate::failover::Outcome;
    match outcome {
        Outcome::Status(s) => s == 429 || s >= 500,
        Outcome::Timeout | Outcome::Unreachable => true,
    }
}

/// After every attempt of `fwd`'s target ended in `outcome` (before any
/// byte reached the client): the target cools down and `fwd` becomes the
/// route's next target. `false` when there is none or the outcome is not
/// one to fall back on.
pub fn next_target(
    fwd: &mut Forward,
    outcome: crate::failover::Outcome,
    retry_after: Option<&str>,
    host: &dyn Host,
) -> bool {
    if !falls_back(outcome) || fwd.fallback.is_none() {
        return false;
    }
    if let (Some(route), Some(target), Some(store)) = (&fwd.route, &fwd.model, route_store(host)) {
        let now = host.now_ms();
        let ms = match outcome {
            crate::failover::Outcome::Status(429) => retry_after
                .and_then(|v| crate::failover::parse_retry_after(v, now))
                .unwrap_or(crate::failover::DEFAULT_COOLDOWN_MS),
            _ => TARGET_COOLDOWN_MS,
        };
        let setting = cooldown_setting(route);
        let mut book = CooldownBook::load(store, &setting);
        book.mark(target, now.saturating_add(ms.max(1)));
        store.set(&cooldown_record_key(&setting), &book.encode(now));
        if let (Some(memory), Some(_)) = (host.memory(), host.store()) {
            keep_copy(memory, route, &book, now);
        }
    }
    match fwd.fallback.take() {
        Some(next) => {
            *fwd = *next;
            true
        }
        None => false,
    }
}

/// How long a route target that failed with a 5xx, a timeout or no
/// connection is tried after the others.
pub const TARGET_COOLDOWN_MS: u64 = 10_000;

#[cfg(test)]
#[path = "team_tests.rs"]
mod tests;
