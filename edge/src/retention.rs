//! What Tally keeps, and for how long: sync history for a window (`HISTORY_KEEP_DAYS`, 90 by
//! default), the health panel's per-minute rollups for a day (it shows an hour), and inventory
//! files that were previewed but never applied for a day. Run by the
//! cron, a bounded batch at a time, so one run never holds D1 for long.

use crate::db::int;
use crate::error::ApiError;
use worker::{D1Database, Env};

const DAY_MS: i64 = 86_400_000;

/// How long an inventory file may wait to be applied before it expires (and stops counting
/// towards the plan's limit of waiting files).
pub const UNAPPLIED_UPLOAD_MS: i64 = DAY_MS;

/// History rows one cron run deletes at most; the next run takes the rest.
const HISTORY_BATCH: i64 = 5_000;

/// Rows of files previewed and left unapplied one cron run removes at most; a file goes once
/// its rows are gone.
const UPLOAD_ROW_BATCH: i64 = 20_000;

/// How many days of sync history are kept (the `HISTORY_KEEP_DAYS` var, at least 1).
fn history_keep_days(env: &Env) -> i64 {
    env.var("HISTORY_KEEP_DAYS")
        .ok()
        .and_then(|v| v.to_string().trim().parse::<i64>().ok())
        .filter(|d| *d >= 1)
        .unwrap_or(90)
}

/// How long the per-minute push rollups are kept: the health panel reads the last hour. At
/// most one row per storefront and minute, so a day's is small and one run deletes a minute's.
const ROLLUP_KEEP_MS: i64 = DAY_MS;

/// Deletes history older than the window, rollups and staged files older than a day.
pub async fn prune(env: &Env, db: &D1Database, now: i64) -> Result<(), ApiError> {
    let history_before = now - history_keep_days(env) * DAY_MS;
    let staged_before = now - UNAPPLIED_UPLOAD_MS;
    let stale_uploads = "SELECT id FROM uploads WHERE status IN ('staging', 'ready') \
         AND created_at < ?1";
    db.batch(vec![
        // Rows still in flight (queued, sent) are left for their outcome.
        db.prepare(
            "DELETE FROM sync_history WHERE id IN (SELECT id FROM sync_history \
             WHERE created_at < ?1 AND status NOT IN ('queued', 'sent') ORDER BY id LIMIT ?2)",
        )
        .bind(&[int(history_before), int(HISTORY_BATCH)])?,
        db.prepare("DELETE FROM push_minutes WHERE minute < ?1")
            .bind(&[int(now - ROLLUP_KEEP_MS)])?,
        db.prepare(format!(
            "DELETE FROM upload_rows WHERE rowid IN (SELECT rowid FROM upload_rows \
             WHERE upload_id IN ({stale_uploads}) LIMIT ?2)"
        ))
        .bind(&[int(staged_before), int(UPLOAD_ROW_BATCH)])?,
        db.prepare(format!(
            "DELETE FROM uploads WHERE id IN ({stale_uploads}) \
             AND NOT EXISTS (SELECT 1 FROM upload_rows r WHERE r.upload_id = uploads.id)"
        ))
        .bind(&[int(staged_before)])?,
    ])
    .await?;
    Ok(())
}
