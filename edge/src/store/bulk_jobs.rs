//! The `bulk_jobs` table and the chunked write that advances a job.

use super::filter::where_clause;
use super::{changes, inserted_id, Count};
use crate::db::{flag, int, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::bulk_job::{eta_seconds, BulkAction, BulkJob, JobStatus, CHUNK};
use tally_domain::filter::ProductFilter;
use tally_domain::AccountId;
use worker::D1Database;

/// The largest id JavaScript numbers hold exactly: "no upper bound" for the last chunk.
const NO_BOUND: i64 = 9_007_199_254_740_991;

const COLUMNS: &str =
    "id, account_id, action, filter, total, done, cursor, status, created_at, updated_at";

/// A stored job.
#[derive(Debug, Deserialize)]
pub struct JobRow {
    pub id: i64,
    pub account_id: i64,
    pub action: String,
    pub filter: String,
    pub total: i64,
    pub done: i64,
    pub cursor: i64,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl JobRow {
    /// The filter the job was started with.
    pub fn product_filter(&self) -> ProductFilter {
        serde_json::from_str(&self.filter).unwrap_or_default()
    }

    /// Where the job stands.
    pub fn status(&self) -> JobStatus {
        JobStatus::from_stored(&self.status)
    }

    /// The API's view, with an ETA from the rate so far.
    pub fn view(&self, now: i64) -> BulkJob {
        let status = self.status();
        let (done, total) = (self.done.max(0) as u64, self.total.max(0) as u64);
        BulkJob {
            id: self.id,
            action: BulkAction::from_stored(&self.action).unwrap_or(BulkAction::AutoSyncOn),
            filter: self.product_filter(),
            total,
            done,
            status,
            created_at: self.created_at,
            updated_at: self.updated_at,
            eta_seconds: (status == JobStatus::Running)
                .then(|| eta_seconds(done, total, self.created_at, now))
                .flatten(),
        }
    }
}

/// How many of the account's products match `filter`.
pub async fn count(
    db: &D1Database,
    account: AccountId,
    filter: &ProductFilter,
) -> Result<u64, ApiError> {
    let w = where_clause(account, filter);
    Ok(db
        .prepare(format!("SELECT COUNT(*) AS n FROM products {}", w.sql))
        .bind(&w.params)?
        .first::<Count>(None)
        .await?
        .map_or(0, |c| c.n))
}

/// Records a new running job and returns its id; `None` when the account already runs `limit`
/// jobs (counted in the same statement, so two starts at once cannot both take the last place).
pub async fn create(
    db: &D1Database,
    account: AccountId,
    action: BulkAction,
    filter: &ProductFilter,
    total: u64,
    now: i64,
    limit: u32,
) -> Result<Option<i64>, ApiError> {
    let filter_json =
        serde_json::to_string(filter).map_err(|e| ApiError::Internal(e.to_string()))?;
    let result = db
        .prepare(
            "INSERT INTO bulk_jobs (account_id, action, filter, total, status, created_at, updated_at) \
             SELECT ?1, ?2, ?3, ?4, 'running', ?5, ?5 WHERE (SELECT COUNT(*) FROM bulk_jobs \
             WHERE account_id = ?1 AND status = 'running') < ?6",
        )
        .bind(&[
            int(account.0),
            text(action.as_str()),
            text(&filter_json),
            int(total as i64),
            int(now),
            int(i64::from(limit)),
        ])?
        .run()
        .await?;
    inserted_id(&result)
}

/// One job of the account.
pub async fn find(
    db: &D1Database,
    account: AccountId,
    id: i64,
) -> Result<Option<JobRow>, ApiError> {
    Ok(db
        .prepare(format!(
            "SELECT {COLUMNS} FROM bulk_jobs WHERE id = ?1 AND account_id = ?2"
        ))
        .bind(&[int(id), int(account.0)])?
        .first::<JobRow>(None)
        .await?)
}

/// The account's most recent jobs, newest first (running ones are what the UI re-attaches to).
pub async fn recent(
    db: &D1Database,
    account: AccountId,
    running_only: bool,
) -> Result<Vec<JobRow>, ApiError> {
    let status = if running_only {
        " AND status = 'running'"
    } else {
        ""
    };
    Ok(db
        .prepare(format!(
            "SELECT {COLUMNS} FROM bulk_jobs WHERE account_id = ?1{status} ORDER BY id DESC LIMIT 20"
        ))
        .bind(&[int(account.0)])?
        .all()
        .await?
        .results::<JobRow>()?)
}

/// Stops a running job; false if it was not running.
pub async fn cancel(
    db: &D1Database,
    account: AccountId,
    id: i64,
    now: i64,
) -> Result<bool, ApiError> {
    let result = db
        .prepare(
            "UPDATE bulk_jobs SET status = 'cancelled', updated_at = ?1 \
             WHERE id = ?2 AND account_id = ?3 AND status = 'running'",
        )
        .bind(&[int(now), int(id), int(account.0)])?
        .run()
        .await?;
    Ok(changes(&result)? == 1)
}

/// What one chunk did.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// A chunk was handled; more remain.
    Progressed,
    /// The last chunk was handled: the job is finished.
    Finished,
    /// Nothing was done: the job is no longer running, or another delivery moved it first.
    Stopped,
}

#[derive(Deserialize)]
struct Id {
    id: i64,
}

/// Handles the next chunk of `job` in one batch: the job's cursor moves by compare-and-set, and
/// the products update runs only if it did (`changes() = 1`), so a chunk is never applied twice.
pub async fn advance(db: &D1Database, job: &JobRow, now: i64) -> Result<Step, ApiError> {
    let account = AccountId(job.account_id);
    let filter = job.product_filter();
    let Some(action) = BulkAction::from_stored(&job.action) else {
        return Ok(Step::Stopped);
    };

    // The chunk ends at the CHUNK-th matching product after the cursor (or has no end).
    let mut w = where_clause(account, &filter);
    let after = w.next(int(job.cursor));
    let skip = w.next(int(i64::from(CHUNK - 1)));
    let bound = db
        .prepare(format!(
            "SELECT id FROM products {} AND id > {after} ORDER BY id LIMIT 1 OFFSET {skip}",
            w.sql
        ))
        .bind(&w.params)?
        .first::<Id>(None)
        .await?
        .map(|r| r.id);
    let last = bound.is_none();
    let upto = bound.unwrap_or(NO_BOUND);

    let mut j = where_clause(account, &filter);
    let (c, u, n, id) = (
        j.next(int(job.cursor)),
        j.next(int(upto)),
        j.next(int(now)),
        j.next(int(job.id)),
    );
    let move_cursor = db
        .prepare(format!(
            "UPDATE bulk_jobs SET cursor = {u}, updated_at = {n}, \
             done = done + (SELECT COUNT(*) FROM products {} AND id > {c} AND id <= {u}) \
             WHERE id = {id} AND account_id = ?1 AND cursor = {c} AND status = 'running'",
            j.sql
        ))
        .bind(&j.params)?;
    let mut p = where_clause(account, &filter);
    let (c, u, v, n) = (
        p.next(int(job.cursor)),
        p.next(int(upto)),
        p.next(flag(action.auto_sync())),
        p.next(int(now)),
    );
    let update_products = db
        .prepare(format!(
            "UPDATE products SET auto_sync = {v}, updated_at = {n} {} AND id > {c} AND id <= {u} AND changes() = 1",
            p.sql
        ))
        .bind(&p.params)?;
    let mut statements = vec![move_cursor, update_products];
    if last {
        statements.push(
            db.prepare(
                "UPDATE bulk_jobs SET status = 'finished', updated_at = ?1 \
                 WHERE id = ?2 AND status = 'running' AND cursor = ?3",
            )
            .bind(&[int(now), int(job.id), int(upto)])?,
        );
    }
    let results = db.batch(statements).await?;
    Ok(match (changes(&results[0])?, last) {
        (0, _) => Step::Stopped,
        (_, true) => Step::Finished,
        (_, false) => Step::Progressed,
    })
}

/// Running jobs (of any account) that have not moved since `before`: their message was lost or
/// the worker restarted. At most `limit`.
pub async fn stalled(db: &D1Database, before: i64, limit: u32) -> Result<Vec<JobRow>, ApiError> {
    Ok(db
        .prepare(format!(
            "SELECT {COLUMNS} FROM bulk_jobs WHERE status = 'running' AND updated_at < ?1 ORDER BY updated_at LIMIT ?2"
        ))
        .bind(&[int(before), int(i64::from(limit))])?
        .all()
        .await?
        .results::<JobRow>()?)
}
