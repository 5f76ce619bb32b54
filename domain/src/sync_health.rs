//! The health panel's numbers: pushes and failures per minute and change-to-storefront latency
//! per storefront, over the last hour.
//!
//! The panel reads per-minute rollups (`push_minutes`), not the hour's history rows: a busy
//! account pushes tens of thousands of times an hour, and the panel refreshes while the seller
//! watches. Triggers on `sync_history` keep the rollups (migration 0033), so every write path
//! counts exactly as the rows themselves would. Latency is rolled up as a count per bucket
//! ([`LATENCY_BOUNDS_MS`]), so a percentile is known to the bucket: the panel says "at most"
//! that long, which stays true.

use crate::api::{MinuteBucket, StorefrontHealth, SyncHealth};
use std::collections::BTreeMap;

const MINUTE_MS: i64 = 60_000;

/// Upper bounds, in milliseconds, of the latency buckets the rollups count in: roughly 1, 1.5,
/// 2, 3, 5 and 7 per decade up to a minute, then coarser up to a day. A latency above the last
/// bound is counted in one more bucket ("over a day"). Migration 0033 spells the same bounds
/// out in SQL; a unit test holds the two together.
pub const LATENCY_BOUNDS_MS: [i64; 30] = [
    10, 15, 20, 30, 50, 70, 100, 150, 200, 300, 500, 700, 1_000, 1_500, 2_000, 3_000, 5_000, 7_000,
    10_000, 15_000, 20_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000,
    21_600_000, 86_400_000,
];

/// What a percentile in the last bucket reads as: one millisecond over a day.
pub const OVER_A_DAY_MS: i64 = 86_400_001;

/// The bucket a change-to-storefront latency of `ms` is counted in.
pub fn latency_bucket(ms: i64) -> usize {
    LATENCY_BOUNDS_MS
        .iter()
        .position(|bound| ms <= *bound)
        .unwrap_or(LATENCY_BOUNDS_MS.len())
}

/// A percentile from [`summarize`] as the panel shows it: "≤ 50 ms", "≤ 1.5 s", "≤ 5 min",
/// "≤ 6 h", or "over a day". The "≤" is the truth: the rollups know the bucket, not the
/// exact figure.
pub fn latency_label(ms: i64) -> String {
    match ms {
        ms if ms > LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.len() - 1] => "over a day".to_owned(),
        ms if ms < 1_000 => format!("≤ {ms} ms"),
        ms if ms < 60_000 => match (ms / 1_000, ms % 1_000 / 100) {
            (whole, 0) => format!("≤ {whole} s"),
            (whole, tenths) => format!("≤ {whole}.{tenths} s"),
        },
        ms if ms < 3_600_000 => format!("≤ {} min", ms / 60_000),
        ms => format!("≤ {} h", ms / 3_600_000),
    }
}

/// One storefront's pushes in one minute, as the rollup table holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinuteRollup {
    /// The minute's start, in milliseconds since the epoch.
    pub minute: i64,
    pub storefront_id: i64,
    pub storefront: String,
    /// Pushes sent or settled (succeeded, failed or retrying); "up to date" is not a push.
    pub pushes: u64,
    /// Of those, failed or retrying.
    pub failures: u64,
    /// Succeeded pushes by latency bucket ([`latency_bucket`]).
    pub latencies: BTreeMap<usize, u64>,
}

/// Summarises `rollups` over the `minutes` minutes ending at `now`.
pub fn summarize(rollups: &[MinuteRollup], now: i64, minutes: i64, in_flight: u64) -> SyncHealth {
    let last = now - now.rem_euclid(MINUTE_MS);
    let since = last - (minutes - 1) * MINUTE_MS;
    let mut buckets: Vec<MinuteBucket> = (0..minutes)
        .map(|i| MinuteBucket {
            minute: since + i * MINUTE_MS,
            pushes: 0,
            failures: 0,
        })
        .collect();
    let mut storefronts: Vec<(StorefrontHealth, BTreeMap<usize, u64>)> = Vec::new();
    for r in rollups
        .iter()
        .filter(|r| r.pushes > 0 && r.minute >= since && r.minute <= last)
    {
        if let Some(b) = buckets.get_mut(((r.minute - since) / MINUTE_MS) as usize) {
            b.pushes += r.pushes;
            b.failures += r.failures;
        }
        let index = match storefronts
            .iter()
            .position(|(s, _)| s.storefront_id == r.storefront_id)
        {
            Some(i) => i,
            None => {
                storefronts.push((
                    quiet_storefront(r.storefront_id, &r.storefront),
                    BTreeMap::new(),
                ));
                storefronts.len() - 1
            }
        };
        let (health, latencies) = &mut storefronts[index];
        health.pushes += r.pushes;
        health.failures += r.failures;
        for (bucket, n) in &r.latencies {
            *latencies.entry(*bucket).or_default() += n;
        }
    }
    let storefronts = storefronts
        .into_iter()
        .map(|(mut health, latencies)| {
            health.p50_ms = percentile_bound(&latencies, 50);
            health.p99_ms = percentile_bound(&latencies, 99);
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

/// The upper bound of the bucket holding the `p`th percentile (nearest rank) of the counted
/// latencies: that percentile took at most this long. `None` when nothing was counted.
fn percentile_bound(latencies: &BTreeMap<usize, u64>, p: u64) -> Option<i64> {
    let total: u64 = latencies.values().sum();
    if total == 0 {
        return None;
    }
    let rank = (p.min(100) * total).div_ceil(100).max(1);
    let mut seen = 0;
    latencies.iter().find_map(|(bucket, n)| {
        seen += n;
        (seen >= rank).then(|| {
            LATENCY_BOUNDS_MS
                .get(*bucket)
                .copied()
                .unwrap_or(OVER_A_DAY_MS)
        })
    })
}

fn quiet_storefront(storefront_id: i64, name: &str) -> StorefrontHealth {
    StorefrontHealth {
        storefront_id,
        name: name.to_owned(),
        pushes: 0,
        failures: 0,
        p50_ms: None,
        p99_ms: None,
        orders_heard: 0,
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
                orders_heard: orders,
                ..quiet_storefront(storefront_id, &name)
            }),
        }
    }
    health
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One minute of one storefront: `pushes` pushes, `failures` of them failed, and the
    /// succeeded ones' latencies in milliseconds.
    fn rollup(
        minute: i64,
        storefront_id: i64,
        pushes: u64,
        failures: u64,
        latencies: &[i64],
    ) -> MinuteRollup {
        let mut counted = BTreeMap::new();
        for ms in latencies {
            *counted.entry(latency_bucket(*ms)).or_default() += 1;
        }
        MinuteRollup {
            minute,
            storefront_id,
            storefront: format!("S{storefront_id}"),
            pushes,
            failures,
            latencies: counted,
        }
    }

    #[test]
    fn latencies_fall_in_the_first_bucket_that_holds_them() {
        assert_eq!(
            latency_bucket(-5),
            0,
            "a clock a little behind is no latency"
        );
        assert_eq!(latency_bucket(10), 0);
        assert_eq!(latency_bucket(11), 1);
        assert_eq!(latency_bucket(800), 12, "800 ms is at most 1 s");
        assert_eq!(LATENCY_BOUNDS_MS[latency_bucket(800)], 1_000);
        assert_eq!(latency_bucket(86_400_000), 29);
        assert_eq!(
            latency_bucket(86_400_001),
            30,
            "over a day has a bucket of its own"
        );
        assert!(LATENCY_BOUNDS_MS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn every_bound_reads_as_a_plain_upper_limit() {
        let labels: Vec<String> = LATENCY_BOUNDS_MS
            .iter()
            .map(|b| latency_label(*b))
            .collect();
        assert_eq!(labels[0], "≤ 10 ms");
        assert_eq!(labels[11], "≤ 700 ms");
        assert_eq!(labels[12], "≤ 1 s");
        assert_eq!(labels[13], "≤ 1.5 s");
        assert_eq!(labels[22], "≤ 1 min");
        assert_eq!(labels[26], "≤ 30 min");
        assert_eq!(labels[27], "≤ 1 h");
        assert_eq!(labels[29], "≤ 24 h");
        assert_eq!(latency_label(OVER_A_DAY_MS), "over a day");
        let mut unique = labels.clone();
        unique.dedup();
        assert_eq!(
            unique.len(),
            labels.len(),
            "no two buckets read alike: {labels:?}"
        );
    }

    #[test]
    fn pushes_are_counted_per_minute_and_storefront() {
        let now = 10 * MINUTE_MS + 5_000;
        let this_minute = 10 * MINUTE_MS;
        let rollups = [
            rollup(this_minute, 1, 2, 0, &[800, 1_200]),
            rollup(this_minute - MINUTE_MS, 2, 1, 1, &[]),
            rollup(this_minute - 120 * MINUTE_MS, 1, 7, 0, &[5]),
        ];
        let h = summarize(&rollups, now, 60, 3);
        assert_eq!(h.minutes.len(), 60);
        let last = h.minutes.last().unwrap();
        assert_eq!(
            (last.minute, last.pushes, last.failures),
            (this_minute, 2, 0)
        );
        assert_eq!(h.minutes[58].failures, 1);
        assert_eq!(h.storefronts.len(), 2);
        assert_eq!(
            h.storefronts[0].pushes, 2,
            "the minute two hours ago is outside the panel"
        );
        assert_eq!(
            h.storefronts[0].p50_ms,
            Some(1_000),
            "800 ms reads as at most 1 s"
        );
        assert_eq!(
            h.storefronts[0].p99_ms,
            Some(1_500),
            "1.2 s reads as at most 1.5 s"
        );
        assert_eq!(h.storefronts[1].p50_ms, None, "no success, no latency");
        assert_eq!(h.in_flight, 3);
    }

    #[test]
    fn a_storefronts_minutes_add_up_before_its_percentiles_are_read() {
        let now = 30 * MINUTE_MS;
        // 98 fast pushes over two minutes and two slow ones: p50 fast, p99 slow.
        let rollups = [
            rollup(29 * MINUTE_MS, 1, 50, 0, &[40; 50]),
            rollup(
                28 * MINUTE_MS,
                1,
                50,
                0,
                &[[40; 48].as_slice(), &[9_000, 9_000]].concat(),
            ),
        ];
        let h = summarize(&rollups, now, 60, 0);
        assert_eq!(h.storefronts.len(), 1);
        assert_eq!(h.storefronts[0].pushes, 100);
        assert_eq!(h.storefronts[0].p50_ms, Some(50));
        assert_eq!(h.storefronts[0].p99_ms, Some(10_000));
        let over = summarize(
            &[rollup(29 * MINUTE_MS, 1, 1, 0, &[100_000_000])],
            now,
            60,
            0,
        );
        assert_eq!(over.storefronts[0].p99_ms, Some(OVER_A_DAY_MS));
    }

    #[test]
    fn the_migration_spells_out_the_same_buckets() {
        let migration = include_str!("../../edge/migrations/0033_push_minutes.sql");
        let mut case = String::from("CASE");
        for (i, bound) in LATENCY_BOUNDS_MS.iter().enumerate() {
            case.push_str(&format!(
                " WHEN max(0, created_at - changed_at) <= {bound} THEN {i}"
            ));
        }
        case.push_str(&format!(" ELSE {} END", LATENCY_BOUNDS_MS.len()));
        let flat = migration.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains(&case),
            "migration 0033 must bucket latencies as {case}"
        );
    }

    #[test]
    fn orders_heard_join_their_storefront_or_add_one() {
        let now = 10 * MINUTE_MS;
        let health = summarize(&[rollup(now, 1, 1, 0, &[300])], now, 60, 0);
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
