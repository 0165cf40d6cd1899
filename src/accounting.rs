//! Usage counters per client key and UTC day in the shared key-value store,
//! and `GET /usage` over them.
//!
//! `llm-proxy/usage/{YYYY-MM-DD}/{name}/{field}`, one atomic counter per
//! field ([`FIELDS`]), incremented once per answered request after its body
//! closed (fields that are zero are skipped). A month is the sum of its days.

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

/// The usage name of the all-access key (`PROXY_API_KEY`).
pub const ALL_ACCESS: &str = "all-access";

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

/// Adds one answered request (and its usage, if it had any) to `name`'s
/// counters for `day`: one atomic increment per field that is not zero.
pub fn record(store: &dyn KeyValue, name: &str, day: &str, usage: Option<Usage>, cost_micros: u64) {
    let totals = Totals {
        requests: 1,
        usage: usage.unwrap_or_default(),
        cost_micros,
    };
    for (field, value) in FIELDS.iter().zip(totals.fields()) {
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
    let input = read(store, &counter(day, name, "input"))?;
    let output = read(store, &counter(day, name, "output"))?;
    Some(input.saturating_add(output))
}

/// `name`'s totals over `days`.
pub fn totals(store: &dyn KeyValue, name: &str, days: &[String]) -> Totals {
    let mut t = Totals::default();
    for day in days {
        let mut f = [0u64; 6];
        for (slot, field) in f.iter_mut().zip(FIELDS) {
            *slot = read(store, &counter(day, name, field)).unwrap_or(0);
        }
        t.add_fields(f);
    }
    t
}

/// Every day of the month of `now_ms` up to and including its day.
pub fn month_days(now_ms: u64) -> Vec<String> {
    let (y, m, d) = date_of(now_ms);
    (1..=d)
        .map(|day| format!("{y:04}-{m:02}-{day:02}"))
        .collect()
}

/// `GET /usage`: the all-access key sees every key, a client key its own.
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
    let names: Vec<(&str, Option<&ClientKey>)> = match &caller.key {
        Some(k) => vec![(k.name.as_str(), Some(k))],
        None => std::iter::once((ALL_ACCESS, None))
            .chain(keys.iter().map(|k| (k.name.as_str(), Some(k))))
            .collect(),
    };
    let today = day_of(now_ms);
    let month = month_days(now_ms);
    let entries: Vec<Value> = names
        .into_iter()
        .map(|(name, key)| {
            let day = totals(store, name, std::slice::from_ref(&today));
            let month = totals(store, name, &month);
            let mut e = json!({"name": name, "today": day.to_json(), "month": month.to_json()});
            if let Some(k) = key {
                e["limits"] = json!({"rpm": k.rpm, "tpm": k.tpm, "daily_tokens": k.daily_tokens});
            }
            e
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
        record(&store, "alice", "2026-12-01", Some(u), 120);
        record(&store, "alice", "2026-12-01", None, 0);
        record(&store, "alice", "2026-12-02", Some(u), 0);
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
    fn usage_shows_all_keys_to_the_all_access_key_and_its_own_to_a_client() {
        let store = FakeStore::default();
        record(&store, "alice", "2026-12-01", None, 0);
        record(&store, ALL_ACCESS, "2026-12-01", None, 0);
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
        assert_eq!(names, ["all-access", "alice", "bob"]);
        assert_eq!(v["keys"][1]["today"]["requests"], 1);
        assert_eq!(v["keys"][1]["limits"]["rpm"], 5);
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
