//! Usage per client key and UTC day in the shared key-value store, and
//! `GET /usage` over it. (The all-access key's requests are in the log
//! lines only: counting them would put a store write on every request of a
//! proxy without client keys.)
//!
//! Written once per answered request, after its body closed:
//! - an instance that serves many requests (WASIp3) keeps its own running
//!   totals of each key and day in its memory and writes them whole to its
//!   own record, `llm-proxy/usage/{YYYY-MM-DD}/{name}/slot/{n}` — one `set`
//!   per request, no race (no other instance writes that record); its slot
//!   `n` is drawn once per key and day from the counter
//!   `llm-proxy/usage/{YYYY-MM-DD}/{name}/slots`;
//! - an instance that serves one request (WASIp2) adds to one atomic counter
//!   per field ([`FIELDS`]), `llm-proxy/usage/{YYYY-MM-DD}/{name}/{field}`
//!   (fields that are zero skipped).
//!
//! A day is the sum of its counters and slots; a month the sum of its days.

use crate::client_keys::{Caller, ClientKey};
use crate::errors::ErrorReply;
use crate::host::KeyValue;
use crate::reply::Reply;
use crate::usage::Usage;
use serde_json::{json, Value};

/// The counters of one key and day, in store order.
pub const FIELDS: [&str; 6] = [
    "requests",
    "input",
    "output",
    "cached",
    "reasoning",
    "cost_micros",
];

pub use crate::client_keys::ALL_ACCESS;

/// What one key used in a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub requests: u64,
    pub usage: Usage,
    pub cost_micros: u64,
}

impl Totals {
    fn fields(&self) -> [u64; 6] {
        let u = &self.usage;
        [
            self.requests,
            u.input,
            u.output,
            u.cached,
            u.reasoning,
            self.cost_micros,
        ]
    }

    fn add_fields(&mut self, f: [u64; 6]) {
        self.requests = self.requests.saturating_add(f[0]);
        let u = &mut self.usage;
        u.input = u.input.saturating_add(f[1]);
        u.output = u.output.saturating_add(f[2]);
        u.cached = u.cached.saturating_add(f[3]);
        u.reasoning = u.reasoning.saturating_add(f[4]);
        self.cost_micros = self.cost_micros.saturating_add(f[5]);
    }

    fn to_json(self) -> Value {
        json!({
            "requests": self.requests,
            "input_tokens": self.usage.input,
            "output_tokens": self.usage.output,
            "cached_tokens": self.usage.cached,
            "reasoning_tokens": self.usage.reasoning,
            "cost_usd": self.cost_micros as f64 / 1e6,
        })
    }
}

/// The UTC date of `now_ms`: (year, month, day).
pub fn date_of(now_ms: u64) -> (i32, u8, u8) {
    let secs = i64::try_from(now_ms / 1000).unwrap_or(0);
    match time::OffsetDateTime::from_unix_timestamp(secs) {
        Ok(t) => (t.year(), t.month() as u8, t.day()),
        Err(_) => (1970, 1, 1),
    }
}

/// `YYYY-MM-DD` of `now_ms` (UTC).
pub fn day_of(now_ms: u64) -> String {
    let (y, m, d) = date_of(now_ms);
    format!("{y:04}-{m:02}-{d:02}")
}

fn counter(day: &str, name: &str, field: &str) -> String {
    format!("llm-proxy/usage/{day}/{name}/{field}")
}

fn slots_key(day: &str, name: &str) -> String {
    format!("llm-proxy/usage/{day}/{name}/slots")
}

fn slot_key(day: &str, name: &str, n: u64) -> String {
    format!("llm-proxy/usage/{day}/{name}/slot/{n}")
}

fn encode(n: u64, f: [u64; 6]) -> Vec<u8> {
    let fields: Vec<String> = f.iter().map(u64::to_string).collect();
    format!("{n}:{}", fields.join(",")).into_bytes()
}

/// A record `slot:requests,input,output,cached,reasoning,cost_micros`
/// (the slot is kept only in the instance's memory).
fn decode(raw: &[u8]) -> Option<(u64, [u64; 6])> {
    let text = std::str::from_utf8(raw).ok()?;
    let (n, rest) = text.split_once(':')?;
    let mut f = [0u64; 6];
    let mut parts = rest.split(',');
    for slot in f.iter_mut() {
        *slot = parts.next()?.trim().parse().ok()?;
    }
    Some((n.parse().ok()?, f))
}

/// Adds one answered request (and its usage, if it had any) to `name`'s
/// usage for `day`: with an instance memory, one write of the instance's
/// record (plus, on the instance's first request of the key and day, one
/// increment for its slot); without, one increment per field that is not 0.
pub fn record(
    store: &dyn KeyValue,
    memory: Option<&dyn KeyValue>,
    name: &str,
    day: &str,
    usage: Option<Usage>,
    cost_micros: u64,
) {
    let this = Totals {
        requests: 1,
        usage: usage.unwrap_or_default(),
        cost_micros,
    };
    if let Some(memory) = memory {
        let own = format!("llm-proxy/usage-own/{day}/{name}");
        let known = memory.get(&own).and_then(|raw| decode(&raw));
        let slot = match known {
            Some((n, _)) => Some(n),
            None => store
                .increment(&slots_key(day, name), 1)
                .and_then(|n| u64::try_from(n).ok()),
        };
        if let Some(n) = slot {
            let mut totals = Totals::default();
            if let Some((_, f)) = known {
                totals.add_fields(f);
            }
            totals.add_fields(this.fields());
            let record = encode(n, totals.fields());
            memory.set(&own, &record);
            store.set(&slot_key(day, name, n), &record);
            return;
        }
    }
    for (field, value) in FIELDS.iter().zip(this.fields()) {
        if value > 0 {
            let delta = i64::try_from(value).unwrap_or(i64::MAX);
            store.increment(&counter(day, name, field), delta);
        }
    }
}

/// Reads one counter (an increment by 0: atomic whatever the store's
/// encoding of counters). `None` when the store cannot tell.
fn read(store: &dyn KeyValue, key: &str) -> Option<u64> {
    store.increment(key, 0).map(|v| v.max(0) as u64)
}

/// Today's tokens (input + output) of `name`, for `daily_tokens`.
pub fn day_tokens(store: &dyn KeyValue, name: &str, day: &str) -> Option<u64> {
    try_totals(store, name, &[day.to_string()]).map(|t| t.usage.total())
}

/// `name`'s totals over `days`: each day's counters and instance records.
/// `None` when the store cannot tell.
pub fn try_totals(store: &dyn KeyValue, name: &str, days: &[String]) -> Option<Totals> {
    let mut t = Totals::default();
    for day in days {
        let mut f = [0u64; 6];
        for (slot, field) in f.iter_mut().zip(FIELDS) {
            *slot = read(store, &counter(day, name, field))?;
        }
        t.add_fields(f);
        let slots = read(store, &slots_key(day, name))?;
        for n in 1..=slots {
            if let Some((_, f)) = store.get(&slot_key(day, name, n)).and_then(|r| decode(&r)) {
                t.add_fields(f);
            }
        }
    }
    Some(t)
}

/// [`try_totals`], zero where the store cannot tell.
pub fn totals(store: &dyn KeyValue, name: &str, days: &[String]) -> Totals {
    try_totals(store, name, days).unwrap_or_default()
}

/// Every day of the month of `now_ms` up to and including its day.
pub fn month_days(now_ms: u64) -> Vec<String> {
    let (y, m, d) = date_of(now_ms);
    (1..=d)
        .map(|day| format!("{y:04}-{m:02}-{day:02}"))
        .collect()
}

/// `GET /usage`: the all-access key sees every client key, a client key its own.
pub fn usage_reply(
    store: Option<&dyn KeyValue>,
    caller: &Caller,
    keys: &[ClientKey],
    now_ms: u64,
) -> Result<Reply, ErrorReply> {
    let Some(store) = store else {
        return Err(ErrorReply::new(
            503,
            "api_error",
            "usage_needs_shared_store",
            "usage is counted in a shared key-value store, which this host does not offer \
             (run the spin flavour; for several instances, back its store with Redis)",
        ));
    };
    let names: Vec<&ClientKey> = match &caller.key {
        Some(k) => vec![k],
        None => keys.iter().collect(),
    };
    let today = day_of(now_ms);
    let month = month_days(now_ms);
    let entries: Vec<Value> = names
        .into_iter()
        .map(|k| {
            let day = totals(store, &k.name, std::slice::from_ref(&today));
            let month = totals(store, &k.name, &month);
            json!({
                "name": k.name,
                "today": day.to_json(),
                "month": month.to_json(),
                "limits": {"rpm": k.rpm, "tpm": k.tpm, "daily_tokens": k.daily_tokens},
            })
        })
        .collect();
    let body = json!({
        "object": "usage",
        "date": today,
        "month": today.get(..7).unwrap_or_default(),
        "keys": entries,
    });
    Ok(Reply::json(200, body.to_string().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::fake::FakeStore;

    /// 2026-12-01T12:00:30Z.
    const NOW: u64 = 1_796_126_430_000;

    fn key(name: &str) -> ClientKey {
        ClientKey {
            name: name.into(),
            sha256: [0; 32],
            models: vec![],
            gateways: vec![],
            pass_through: vec![],
            rpm: Some(5),
            tpm: None,
            daily_tokens: None,
            expires: None,
        }
    }

    #[test]
    fn days_and_months_are_utc_dates() {
        assert_eq!(day_of(NOW), "2026-12-01");
        assert_eq!(month_days(NOW), vec!["2026-12-01".to_string()]);
        assert_eq!(month_days(NOW + 2 * 86_400_000).len(), 3);
        assert_eq!(day_of(0), "1970-01-01");
    }

    #[test]
    fn counters_add_up_per_day_and_month() {
        let store = FakeStore::default();
        let u = Usage {
            input: 10,
            output: 5,
            cached: 2,
            reasoning: 0,
        };
        record(&store, None, "alice", "2026-12-01", Some(u), 120);
        record(&store, None, "alice", "2026-12-01", None, 0);
        record(&store, None, "alice", "2026-12-02", Some(u), 0);
        // Zero fields are not written.
        assert!(!store
            .data
            .borrow()
            .contains_key("llm-proxy/usage/2026-12-01/alice/reasoning"));
        let day = totals(&store, "alice", &["2026-12-01".to_string()]);
        assert_eq!(day.requests, 2);
        assert_eq!(day.usage, u);
        assert_eq!(day.cost_micros, 120);
        assert_eq!(day_tokens(&store, "alice", "2026-12-01"), Some(15));
        let month = totals(&store, "alice", &month_days(NOW + 86_400_000));
        assert_eq!((month.requests, month.usage.input), (3, 20));
    }

    #[test]
    fn instances_write_their_own_records_once_per_request() {
        use crate::host::MemoryStore;
        let store = FakeStore::default();
        let (a, b) = (MemoryStore::new(), MemoryStore::new());
        let u = Usage {
            input: 10,
            output: 5,
            cached: 2,
            reasoning: 1,
        };
        let day = "2026-12-01";
        record(&store, Some(&a), "alice", day, Some(u), 7);
        record(&store, Some(&b), "alice", day, Some(u), 7);
        let before = store.data.borrow().len();
        // The next requests: one write each, no new slot.
        record(&store, Some(&a), "alice", day, None, 0);
        record(&store, Some(&a), "alice", day, Some(u), 7);
        assert_eq!(store.data.borrow().len(), before);
        // Per-field counters (a one-request instance) add to the same day.
        record(&store, None, "alice", day, Some(u), 0);
        let t = totals(&store, "alice", &[day.to_string()]);
        assert_eq!(t.requests, 5);
        assert_eq!(t.usage.input, 40);
        assert_eq!(t.usage.reasoning, 4);
        assert_eq!(t.cost_micros, 21);
        assert_eq!(day_tokens(&store, "alice", day), Some(60));
        assert_eq!(decode(b"3:1,2,3,4,5,6"), Some((3, [1, 2, 3, 4, 5, 6])));
        assert_eq!(decode(b"3:1,2"), None);
        assert_eq!(decode(b"garbage"), None);
    }

    #[test]
    fn usage_shows_all_keys_to_the_all_access_key_and_its_own_to_a_client() {
        let store = FakeStore::default();
        record(&store, None, "alice", "2026-12-01", None, 0);
        let keys = vec![key("alice"), key("bob")];
        let admin = Caller::all_access();
        let r = usage_reply(Some(&store), &admin, &keys, NOW).unwrap();
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        let names: Vec<&str> = v["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["alice", "bob"]);
        assert_eq!(v["keys"][0]["today"]["requests"], 1);
        assert_eq!(v["keys"][0]["limits"]["rpm"], 5);
        assert_eq!(v["month"], "2026-12");
        let alice = Caller::client(key("alice"));
        let r = usage_reply(Some(&store), &alice, &keys, NOW).unwrap();
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(v["keys"].as_array().unwrap().len(), 1);
        assert_eq!(v["keys"][0]["name"], "alice");
        let e = usage_reply(None, &alice, &keys, NOW).unwrap_err();
        assert_eq!((e.status, e.code), (503, "usage_needs_shared_store"));
    }
}
