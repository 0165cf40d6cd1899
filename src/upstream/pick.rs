//! Picking the provider key for each attempt of a request (SPEC §7), for
//! every handler.

use crate::errors::ErrorReply;
use crate::failover;
use crate::host::Host;
use crate::keys::{self, CooldownRecord, KeySelection};
use crate::providers::Provider;
use crate::settings::SettingSource;

/// One provider key chosen for one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickedKey {
    pub key: String,
    /// Its fingerprint in the cooldown record, when failures are recorded
    /// (several keys and a shared store).
    pub fingerprint: Option<String>,
}

/// The keys of a request's attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picked {
    /// One per attempt; `None` for a custom endpoint without keys.
    pub keys: Vec<Option<PickedKey>>,
    /// Something the log should say about key choice (no secrets).
    pub note: Option<&'static str>,
    /// Where failed attempts record cooldowns.
    pub cooldowns: Option<CooldownRecord>,
}

/// The key for each of `1 + RETRY` attempts, or a 400 naming the setting when
/// the provider needs a key and has none.
pub fn pick_keys(
    provider: &Provider,
    selection: Option<KeySelection>,
    src: &dyn SettingSource,
    host: &dyn Host,
) -> Result<Picked, ErrorReply> {
    pick(
        provider,
        selection,
        1 + failover::retries(src) as usize,
        src,
        host,
    )
}

/// The first choice of key, for requests that are not retried (model
/// lists, status checks, the Universal Endpoint).
pub fn pick_key(
    provider: &Provider,
    selection: Option<KeySelection>,
    src: &dyn SettingSource,
    host: &dyn Host,
) -> Result<Option<String>, ErrorReply> {
    Ok(pick(provider, selection, 1, src, host)?
        .keys
        .into_iter()
        .next()
        .flatten()
        .map(|k| k.key))
}

fn pick(
    provider: &Provider,
    selection: Option<KeySelection>,
    attempts: usize,
    src: &dyn SettingSource,
    host: &dyn Host,
) -> Result<Picked, ErrorReply> {
    if provider.keys.is_empty() {
        if provider.keys_required {
            return Err(ErrorReply::bad_request(
                format!(
                    "provider {} has no key configured: set {}",
                    provider.name, provider.key_setting
                ),
                "provider_not_configured",
            ));
        }
        return Ok(Picked {
            keys: vec![None; attempts],
            note: None,
            cooldowns: None,
        });
    }
    let order = keys::order(
        &provider.keys,
        &provider.key_setting,
        selection,
        attempts,
        src,
        host,
    );
    let recorded = order.cooldowns.is_some();
    let keys = order
        .indexes
        .iter()
        .map(|&i| {
            // safe: keys::order returns indexes below the number of keys.
            let key = &provider.keys[i];
            Some(PickedKey {
                key: key.clone(),
                fingerprint: recorded.then(|| keys::fingerprint(key)),
            })
        })
        .collect();
    Ok(Picked {
        keys,
        note: order.fallback_note,
        cooldowns: order.cooldowns,
    })
}
