//! The concurrent fetcher: many small upstream requests at once (model
//! lists, status checks, a token exchange), each read whole, all within one
//! deadline.

use super::inbound::{ClientBody, Incoming};
use super::outbound::send;
use super::task::all_until;
use crate::outgoing::UpstreamRequest;
use crate::serve::Fetched;
use std::future::Future;
use std::pin::Pin;

/// Sends every request at once and collects (status, body) for each, all
/// within one `timeout_ns` deadline; bodies over `max_body` bytes fail.
pub async fn fetch_all(
    requests: &[&UpstreamRequest],
    timeout_ns: u64,
    max_body: usize,
) -> Vec<Fetched> {
    let futs: Vec<Pin<Box<dyn Future<Output = Fetched> + '_>>> = requests
        .iter()
        .map(|up| Box::pin(fetch_one(up, timeout_ns, max_body)) as Pin<Box<dyn Future<Output = _>>>)
        .collect();
    all_until(futs, timeout_ns)
        .await
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err("timed out".into())))
        .collect()
}

/// One request, read whole (no deadline of its own beyond the head's).
pub async fn fetch_one(up: &UpstreamRequest, timeout_ns: u64, max_body: usize) -> Fetched {
    let mut body = ClientBody::Bytes(up.body.clone().unwrap_or_default());
    let response = send(up, &mut body, timeout_ns)
        .await
        .map_err(|e| e.name().to_string())?;
    let status = response.get_status_code();
    let mut incoming = Incoming::of_response(response);
    let mut buf = Vec::new();
    match incoming.read_up_to(max_body, &mut buf).await {
        Ok(true) if incoming.arrived_whole().await => Ok((status, buf)),
        Ok(false) => Err("answer too large".into()),
        _ => Err("body read failed".into()),
    }
}
