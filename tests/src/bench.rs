//! What the bench drivers (`src/bin/bench_*.rs`) share: clocks, percentiles, waiting for
//! pushes to settle, and reading the pushes a sandbox WooCommerce received.

use crate::client::Api;
use crate::sandbox::Call;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tally_domain::api::SyncHealth;

/// Milliseconds since the Unix epoch (the sandbox stamps its calls the same way).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The `p`th percentile (nearest rank) of `values`, 0 when empty.
pub fn percentile(values: &mut [u64], p: usize) -> u64 {
    values.sort_unstable();
    let rank = (p * values.len()).div_ceil(100).max(1);
    values.get(rank - 1).copied().unwrap_or(0)
}

/// Waits (at most 5 minutes) until no change of the seller's is waiting, in flight or
/// retrying, running the cron as it waits: `wrangler dev` runs it only when asked.
pub async fn settle(seller: &Api) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while Instant::now() < deadline {
        seller.run_cron().await;
        let h: SyncHealth = seller.get("/api/v1/sync-health").await.json();
        if h.in_flight == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("warning: pushes did not settle within 5 minutes");
}

/// Per WooCommerce item, the quantities pushed to it in time order: (answered at, quantity).
pub fn woo_pushes(calls: &[Call]) -> BTreeMap<String, Vec<(u64, i64)>> {
    let mut pushes: BTreeMap<String, Vec<(u64, i64)>> = BTreeMap::new();
    for call in calls {
        for update in call.body["update"].as_array().into_iter().flatten() {
            let id = match &update["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let Some(q) = update["stock_quantity"].as_i64() else {
                continue;
            };
            pushes.entry(id).or_default().push((call.at_ms, q));
        }
    }
    pushes
}

/// For each (item, quantity, sent at), the time until the first push to that item that
/// `reached` the quantity; changes no push reached are left out.
pub fn latencies(
    sent: &[(String, i64, u64)],
    pushes: &BTreeMap<String, Vec<(u64, i64)>>,
    reached: impl Fn(i64, i64) -> bool,
) -> Vec<u64> {
    sent.iter()
        .filter_map(|(item, quantity, at)| {
            pushes
                .get(item)?
                .iter()
                .find(|(_, q)| reached(*q, *quantity))
                .map(|(t, _)| t.saturating_sub(*at))
        })
        .collect()
}
