//! "Turn on (or off) Auto Sync for all in filter" as a server-side job: it runs in chunks from
//! the queue, survives a closed tab and a worker restart, reports progress and can be cancelled.
//! (ecomdash asks sellers to keep the tab open; Tally does not.)

use crate::filter::ProductFilter;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Products handled per chunk: large enough that 100,000 products take 50 chunks, small enough
/// that each chunk is a short D1 write.
pub const CHUNK: u32 = 2_000;

/// What a bulk job does to every product in its filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BulkAction {
    AutoSyncOn,
    AutoSyncOff,
}

impl BulkAction {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            BulkAction::AutoSyncOn => "auto_sync_on",
            BulkAction::AutoSyncOff => "auto_sync_off",
        }
    }

    /// Parses the stored name.
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "auto_sync_on" => Some(BulkAction::AutoSyncOn),
            "auto_sync_off" => Some(BulkAction::AutoSyncOff),
            _ => None,
        }
    }

    /// The Auto Sync value the action sets.
    pub fn auto_sync(self) -> bool {
        self == BulkAction::AutoSyncOn
    }

    /// What the progress panel calls it.
    pub fn label(self) -> &'static str {
        match self {
            BulkAction::AutoSyncOn => "Turning on Auto Sync",
            BulkAction::AutoSyncOff => "Turning off Auto Sync",
        }
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Running,
    Finished,
    Cancelled,
}

impl JobStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Running => "running",
            JobStatus::Finished => "finished",
            JobStatus::Cancelled => "cancelled",
        }
    }

    /// Parses the stored name (unknown reads as finished: nothing more will happen to it).
    pub fn from_stored(s: &str) -> Self {
        match s {
            "running" => JobStatus::Running,
            "cancelled" => JobStatus::Cancelled,
            _ => JobStatus::Finished,
        }
    }
}

/// `POST /api/v1/bulk-jobs`: the action and the filter, in the inventory URL's parameter names
/// (`{"q": "tee", "auto_sync": "off"}`); an empty filter means every product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBulkJob {
    pub action: BulkAction,
    #[serde(default)]
    pub filter: BTreeMap<String, String>,
}

impl StartBulkJob {
    /// The filter, checked like the inventory's.
    pub fn filter(&self) -> Result<ProductFilter, crate::api::FieldError> {
        ProductFilter::from_params(self.filter.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map_err(|mut e| {
                e.field = format!("filter.{}", e.field);
                e
            })
    }
}

/// A bulk job as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkJob {
    pub id: i64,
    pub action: BulkAction,
    pub filter: ProductFilter,
    /// Products in the filter when the job started.
    pub total: u64,
    /// Products handled so far.
    pub done: u64,
    pub status: JobStatus,
    pub created_at: i64,
    pub updated_at: i64,
    /// Seconds left at the rate so far, while running and once there is a rate.
    pub eta_seconds: Option<u64>,
}

/// Seconds left for `total - done` at the rate achieved since `started` (both in ms).
pub fn eta_seconds(done: u64, total: u64, started: i64, now: i64) -> Option<u64> {
    let elapsed = u64::try_from(now - started).ok().filter(|ms| *ms > 0)?;
    if done == 0 || done >= total {
        return None;
    }
    let left = total - done;
    Some((left * elapsed).div_ceil(done * 1000))
}

/// The share done, 0–100, for the progress bar.
pub fn percent(done: u64, total: u64) -> u8 {
    if total == 0 {
        return 100;
    }
    ((done.min(total) * 100) / total) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_follows_the_rate_so_far() {
        // 1,000 of 10,000 in 2 s: 9,000 left at 500/s is 18 s.
        assert_eq!(eta_seconds(1_000, 10_000, 0, 2_000), Some(18));
        assert_eq!(eta_seconds(0, 10_000, 0, 2_000), None, "no rate yet");
        assert_eq!(eta_seconds(10_000, 10_000, 0, 2_000), None, "done");
        assert_eq!(
            eta_seconds(10, 100, 5_000, 5_000),
            None,
            "no time has passed"
        );
    }

    #[test]
    fn percent_is_bounded() {
        assert_eq!(percent(0, 0), 100);
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(5, 3), 100);
    }

    #[test]
    fn the_filter_is_checked_and_errors_name_it() {
        let ok: StartBulkJob = serde_json::from_str(
            r#"{"action":"auto_sync_on","filter":{"q":"tee","auto_sync":"off"}}"#,
        )
        .unwrap();
        assert_eq!(ok.filter().unwrap().auto_sync, Some(false));
        let none: StartBulkJob = serde_json::from_str(r#"{"action":"auto_sync_off"}"#).unwrap();
        assert!(
            none.filter().unwrap().is_empty(),
            "no filter means every product"
        );
        let bad: StartBulkJob =
            serde_json::from_str(r#"{"action":"auto_sync_on","filter":{"qty_min":"-2"}}"#).unwrap();
        assert_eq!(bad.filter().unwrap_err().field, "filter.qty_min");
    }

    #[test]
    fn actions_and_statuses_round_trip_through_storage() {
        for a in [BulkAction::AutoSyncOn, BulkAction::AutoSyncOff] {
            assert_eq!(BulkAction::from_stored(a.as_str()), Some(a));
        }
        for s in [
            JobStatus::Running,
            JobStatus::Finished,
            JobStatus::Cancelled,
        ] {
            assert_eq!(JobStatus::from_stored(s.as_str()), s);
        }
    }
}
