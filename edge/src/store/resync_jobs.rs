//! The `resync_jobs` table: a full re-sync of one connection, queued a chunk of products at a
//! time. Its pushes are the outbox entries carrying its id, so progress counts what landed.

use super::outbox::{self, Queued};
use super::Count;
use crate::db::{int, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::api::ResyncJob;
use tally_domain::bulk_job::JobStatus;
use tally_domain::AccountId;
use worker::D1Database;

/// Products one step queues; the next waits until most of them have landed, so Cancel stops
/// what has not gone out yet and one seller's re-sync never floods the queue.
pub const CHUNK: u32 = 50;

/// Which products a connection's re-sync pushes: Auto Sync ones with an active listing there.
const PRODUCTS: &str = "SELECT DISTINCT p.id FROM products p JOIN listings l \
     ON l.product_id = p.id AND l.account_id = p.account_id \
     WHERE p.account_id = ?1 AND l.storefront_id = ?2 AND l.active = 1 AND p.auto_sync = 1";

#[derive(Debug, Clone, Deserialize)]
pub struct JobRow {
    pub id: i64,
    pub storefront_id: i64,
    pub total: i64,
    pub queued: i64,
    pub cursor: i64,
    pub status: String,
    pub created_at: i64,
    pub pushed: i64,
    pub failed: i64,
}

impl JobRow {
    pub fn view(&self) -> ResyncJob {
        ResyncJob {
            id: self.id,
            storefront_id: self.storefront_id,
            total: self.total.max(0) as u64,
            queued: self.queued.max(0) as u64,
            pushed: self.pushed.max(0) as u64,
            failed: self.failed.max(0) as u64,
            status: JobStatus::from_stored(&self.status),
            created_at: self.created_at,
        }
    }

    pub fn running(&self) -> bool {
        self.status == "running"
    }
}

const SELECT: &str = "SELECT j.id, j.storefront_id, j.total, j.queued, j.cursor, j.status, \
     j.created_at, \
     (SELECT COUNT(*) FROM sync_outbox o WHERE o.resync_job = j.id AND o.status = 'done') AS pushed, \
     (SELECT COUNT(*) FROM sync_outbox o WHERE o.resync_job = j.id AND o.status = 'failed') AS failed \
     FROM resync_jobs j";

pub async fn find(
    db: &D1Database,
    account: AccountId,
    id: i64,
) -> Result<Option<JobRow>, ApiError> {
    Ok(db
        .prepare(format!("{SELECT} WHERE j.account_id = ?1 AND j.id = ?2"))
        .bind(&[int(account.0), int(id)])?
        .first::<JobRow>(None)
        .await?)
}

/// Each connection's latest re-sync.
pub async fn latest(db: &D1Database, account: AccountId) -> Result<Vec<JobRow>, ApiError> {
    Ok(db
        .prepare(format!(
            "{SELECT} WHERE j.account_id = ?1 AND j.id IN (SELECT MAX(id) FROM resync_jobs \
               WHERE account_id = ?1 GROUP BY storefront_id)"
        ))
        .bind(&[int(account.0)])?
        .all()
        .await?
        .results::<JobRow>()?)
}

/// Starts a re-sync of the connection, unless one is running (then that one).
pub async fn start(
    db: &D1Database,
    account: AccountId,
    storefront_id: i64,
    now: i64,
) -> Result<i64, ApiError> {
    #[derive(Deserialize)]
    struct Id {
        id: i64,
    }
    db.prepare(format!(
        "INSERT INTO resync_jobs (account_id, storefront_id, total, status, created_at, updated_at) \
         SELECT ?1, ?2, (SELECT COUNT(*) FROM ({PRODUCTS})), 'running', ?3, ?3 \
         WHERE NOT EXISTS (SELECT 1 FROM resync_jobs WHERE account_id = ?1 AND storefront_id = ?2 \
           AND status = 'running')"
    ))
    .bind(&[int(account.0), int(storefront_id), int(now)])?
    .run()
    .await?;
    db.prepare(
        "SELECT id FROM resync_jobs WHERE account_id = ?1 AND storefront_id = ?2 \
         ORDER BY (status = 'running') DESC, id DESC LIMIT 1",
    )
    .bind(&[int(account.0), int(storefront_id)])?
    .first::<Id>(None)
    .await?
    .map(|r| r.id)
    .ok_or_else(|| ApiError::Internal("the re-sync just started is gone".into()))
}

/// Pushes of the job not landed yet.
pub async fn pending(db: &D1Database, job_id: i64) -> Result<u64, ApiError> {
    Ok(db
        .prepare(
            "SELECT COUNT(*) AS n FROM sync_outbox WHERE resync_job = ?1 AND status = 'pending'",
        )
        .bind(&[int(job_id)])?
        .first::<Count>(None)
        .await?
        .map_or(0, |c| c.n))
}

/// Queues the next chunk's pushes and moves the cursor past it, or finishes the job when none
/// are left. `None` when another delivery took this step first.
pub async fn step(
    db: &D1Database,
    account: AccountId,
    job: &JobRow,
    now: i64,
) -> Result<Option<Vec<Queued>>, ApiError> {
    #[derive(Deserialize)]
    struct Id {
        id: i64,
    }
    let ids: Vec<i64> = db
        .prepare(format!("{PRODUCTS} AND p.id > ?3 ORDER BY p.id LIMIT ?4"))
        .bind(&[
            int(account.0),
            int(job.storefront_id),
            int(job.cursor),
            int(i64::from(CHUNK)),
        ])?
        .all()
        .await?
        .results::<Id>()?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let Some(last) = ids.last().copied() else {
        db.prepare(
            "UPDATE resync_jobs SET status = 'finished', updated_at = ?3 \
             WHERE account_id = ?1 AND id = ?2 AND status = 'running'",
        )
        .bind(&[int(account.0), int(job.id), int(now)])?
        .run()
        .await?;
        return Ok(Some(Vec::new()));
    };
    let json = serde_json::to_string(&ids).map_err(|e| ApiError::Internal(e.to_string()))?;
    let statements = vec![
        outbox::mark(db),
        db.prepare(
            "UPDATE resync_jobs SET cursor = ?4, queued = queued + ?5, updated_at = ?6 \
             WHERE account_id = ?1 AND id = ?2 AND status = 'running' AND cursor = ?3",
        )
        .bind(&[
            int(account.0),
            int(job.id),
            int(job.cursor),
            int(last),
            int(ids.len() as i64),
            int(now),
        ])?,
        db.prepare("INSERT INTO write_guards (ok) VALUES (changes() = 1)"),
        db.prepare(
            "INSERT INTO sync_outbox (account_id, product_id, version, trigger, created_at, updated_at, resync_job) \
             SELECT p.account_id, p.id, p.version, 'sync_now', ?3, ?3, ?4 FROM products p \
             WHERE p.account_id = ?1 AND p.id IN (SELECT value FROM json_each(?2))",
        )
        .bind(&[int(account.0), text(&json), int(now), int(job.id)])?,
        db.prepare("DELETE FROM write_guards"),
    ];
    let Ok(results) = db.batch(statements).await else {
        return Ok(None);
    };
    let since = outbox::mark_value(&results[0])?;
    Ok(Some(
        outbox::queued_since(
            db,
            account,
            tally_domain::sync::SyncTrigger::SyncNow,
            since,
            now,
        )
        .await?,
    ))
}

/// Marks a running job as alive (it is waiting for its pushes, not lost).
pub async fn touch(db: &D1Database, account: AccountId, id: i64, now: i64) -> Result<(), ApiError> {
    db.prepare(
        "UPDATE resync_jobs SET updated_at = ?3 WHERE account_id = ?1 AND id = ?2 AND status = 'running'",
    )
    .bind(&[int(account.0), int(id), int(now)])?
    .run()
    .await?;
    Ok(())
}

/// Stops queuing; pushes already sent go on.
pub async fn cancel(
    db: &D1Database,
    account: AccountId,
    id: i64,
    now: i64,
) -> Result<(), ApiError> {
    db.prepare(
        "UPDATE resync_jobs SET status = 'cancelled', updated_at = ?3 \
         WHERE account_id = ?1 AND id = ?2 AND status = 'running'",
    )
    .bind(&[int(account.0), int(id), int(now)])?
    .run()
    .await?;
    Ok(())
}

/// Running jobs untouched since `before`, for the cron.
pub async fn stalled(
    db: &D1Database,
    before: i64,
    limit: u32,
) -> Result<Vec<(AccountId, i64)>, ApiError> {
    super::account_ids(
        db.prepare(
            "SELECT account_id, id FROM resync_jobs WHERE status = 'running' AND updated_at < ?1 \
             ORDER BY updated_at LIMIT ?2",
        )
        .bind(&[int(before), int(i64::from(limit))])?,
    )
    .await
}
