//! The health panel's numbers: pushes and failures per minute and change-to-storefront latency
//! per storefront, from the last hour of sync history.

use crate::api::{MinuteBucket, StorefrontHealth, SyncHealth};
use crate::sync::{percentile, SyncStatus};

const MINUTE_MS: i64 = 60_000;

/// One push attempt as the panel counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRecord {
    pub at: i64,
    pub status: SyncStatus,
    pub storefront_id: i64,
    pub storefront: String,
    /// When the change that caused it happened.
    pub changed_at: Option<i64>,
}

/// Summarises `records` over the `minutes` minutes ending at `now`. Skipped entries ("up to
/// date") are not pushes; only succeeded pushes have a latency.
pub fn summarize(records: &[PushRecord], now: i64, minutes: i64, in_flight: u64) -> SyncHealth {
    let last = now - now.rem_euclid(MINUTE_MS);
    let since = last - (minutes - 1) * MINUTE_MS;
    let mut buckets: Vec<MinuteBucket> = (0..minutes)
        .map(|i| MinuteBucket {
            minute: since + i * MINUTE_MS,
            pushes: 0,
            failures: 0,
        })
        .collect();
    let mut storefronts: Vec<(StorefrontHealth, Vec<i64>)> = Vec::new();
    for r in records
        .iter()
        .filter(|r| r.at >= since && !matches!(r.status, SyncStatus::Skipped | SyncStatus::Queued))
    {
        let failed = matches!(r.status, SyncStatus::Failed | SyncStatus::Retrying);
        if let Some(b) = buckets.get_mut(((r.at - since) / MINUTE_MS) as usize) {
            b.pushes += 1;
            b.failures += u64::from(failed);
        }
        let index = match storefronts
            .iter()
            .position(|(s, _)| s.storefront_id == r.storefront_id)
        {
            Some(i) => i,
            None => {
                storefronts.push((
                    StorefrontHealth {
                        storefront_id: r.storefront_id,
                        name: r.storefront.clone(),
                        pushes: 0,
                        failures: 0,
                        p50_ms: None,
                        p99_ms: None,
                        orders_heard: 0,
                    },
                    Vec::new(),
                ));
                storefronts.len() - 1
            }
        };
        let (health, latencies) = &mut storefronts[index];
        health.pushes += 1;
        health.failures += u64::from(failed);
        if r.status == SyncStatus::Succeeded {
            if let Some(changed) = r.changed_at {
                latencies.push((r.at - changed).max(0));
            }
        }
    }
    let storefronts = storefronts
        .into_iter()
        .map(|(mut health, mut latencies)| {
            health.p50_ms = percentile(&mut latencies, 50);
            health.p99_ms = percentile(&mut latencies, 99);
            health
        })
        .collect();
    SyncHealth {
        since,
        minutes: buckets,
        storefronts,
        in_flight,
        drift: 0,
    }
}

/// Adds the orders each storefront reported in the panel's hour, `(storefront id, name,
/// orders)`; a storefront that sold without being pushed to gets a row of its own.
pub fn with_orders_heard(mut health: SyncHealth, heard: Vec<(i64, String, u64)>) -> SyncHealth {
    for (storefront_id, name, orders) in heard {
        match health
            .storefronts
            .iter_mut()
            .find(|s| s.storefront_id == storefront_id)
        {
            Some(row) => row.orders_heard = orders,
            None => health.storefronts.push(StorefrontHealth {
                storefront_id,
                name,
                pushes: 0,
                failures: 0,
                p50_ms: None,
                p99_ms: None,
                orders_heard: orders,
            }),
        }
    }
    health
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(at: i64, status: SyncStatus, storefront_id: i64, latency: i64) -> PushRecord {
        PushRecord {
            at,
            status,
            storefront_id,
            storefront: format!("S{storefront_id}"),
            changed_at: Some(at - latency),
        }
    }

    #[test]
    fn pushes_are_counted_per_minute_and_storefront() {
        let now = 10 * MINUTE_MS + 5_000;
        let records = [
            record(now - 1_000, SyncStatus::Succeeded, 1, 800),
            record(now - 2_000, SyncStatus::Succeeded, 1, 1_200),
            record(now - MINUTE_MS, SyncStatus::Failed, 2, 0),
            record(now - 2_000, SyncStatus::Skipped, 1, 0),
            record(now - 120 * MINUTE_MS, SyncStatus::Succeeded, 1, 5),
        ];
        let h = summarize(&records, now, 60, 3);
        assert_eq!(h.minutes.len(), 60);
        let last = h.minutes.last().unwrap();
        assert_eq!((last.pushes, last.failures), (2, 0));
        assert_eq!(h.minutes[58].failures, 1);
        assert_eq!(h.storefronts.len(), 2);
        assert_eq!(h.storefronts[0].pushes, 2);
        assert_eq!(h.storefronts[0].p50_ms, Some(800));
        assert_eq!(h.storefronts[0].p99_ms, Some(1_200));
        assert_eq!(h.storefronts[1].p50_ms, None);
        assert_eq!(h.in_flight, 3);
    }

    #[test]
    fn orders_heard_join_their_storefront_or_add_one() {
        let now = 10 * MINUTE_MS;
        let health = summarize(
            &[record(now - 1_000, SyncStatus::Succeeded, 1, 300)],
            now,
            60,
            0,
        );
        let health = with_orders_heard(health, vec![(1, "S1".into(), 4), (2, "Shop".into(), 2)]);
        assert_eq!(health.storefronts.len(), 2);
        assert_eq!(health.storefronts[0].orders_heard, 4);
        assert_eq!(health.storefronts[0].pushes, 1);
        assert_eq!(
            (
                health.storefronts[1].name.as_str(),
                health.storefronts[1].pushes,
                health.storefronts[1].orders_heard
            ),
            ("Shop", 0, 2)
        );
    }
}
