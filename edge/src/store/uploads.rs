//! The `uploads` and `upload_rows` tables: staging a checked file, previewing it, applying it.
//!
//! Applying is a job of steps ([`apply_chunk`]), each one transaction over
//! [`APPLY_CHUNK_ROWS`](tally_domain::csv_import::APPLY_CHUNK_ROWS) lines of the file: ledger
//! lines for changed products, the updates, new products with their first ledger lines, outbox
//! entries for products with Auto Sync on. A step runs behind a compare-and-set on the upload's
//! cursor, so a repeated step (a redelivered message, a cron resume) writes nothing. Every row
//! was checked before the file was staged, so once applying starts it runs to the end.

use super::outbox::{self, Queued};
use super::{inserted_id, Count};
use crate::db::{flag, int, text};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tally_domain::actor::Actor;
use tally_domain::csv_import::{
    needs_wipe_confirmation, UploadPreview, UploadRow, DEFAULT_WIPE_GUARD_PERCENT,
};
use tally_domain::sync::SyncTrigger;
use tally_domain::AccountId;
use worker::D1Database;

/// Staged rows travel as one JSON parameter per INSERT, which D1 caps at 2 MB: a statement
/// takes rows until its JSON reaches this many bytes.
const JSON_BYTES_PER_STATEMENT: usize = 1_000_000;

const COLUMNS: &str =
    "id, rows, ignored, status, applied_rows, summary, applied_by, new_auto_sync, updated_at";

#[derive(Debug, Deserialize)]
pub struct UploadRecord {
    pub id: i64,
    pub rows: i64,
    pub ignored: String,
    pub status: String,
    pub applied_rows: i64,
    /// The preview taken when applying started (JSON of [`Summary`]); empty before.
    pub summary: String,
    pub applied_by: String,
    pub new_auto_sync: i64,
    pub updated_at: i64,
}

/// The counts of a preview, fixed when applying starts: while the job runs (and after), the
/// products no longer show what the file was going to change.
#[derive(Debug, Serialize, Deserialize)]
struct Summary {
    to_update: u64,
    to_create: u64,
    unchanged: u64,
    zeroing: u64,
    stocked: u64,
    wipe_guard_percent: u64,
}

/// Stores a checked file's rows (all in one transaction); returns the upload id. Until every
/// row is staged the upload is `staging` and cannot be applied. `None` when the account already
/// has `limit` files waiting to be applied (those older than a day are expiring, so they do not
/// count).
pub async fn stage(
    db: &D1Database,
    account: AccountId,
    rows: &[UploadRow],
    ignored: &[String],
    now: i64,
    limit: u32,
) -> Result<Option<i64>, ApiError> {
    let result = db
        .prepare(
            "INSERT INTO uploads (account_id, rows, ignored, status, created_at, updated_at) \
             SELECT ?1, ?2, ?3, 'staging', ?4, ?4 WHERE (SELECT COUNT(*) FROM uploads \
             WHERE account_id = ?1 AND status IN ('staging', 'ready') AND created_at > ?5) < ?6",
        )
        .bind(&[
            int(account.0),
            int(rows.len() as i64),
            text(&ignored.join(",")),
            int(now),
            int(now - crate::retention::UNAPPLIED_UPLOAD_MS),
            int(i64::from(limit)),
        ])?
        .run()
        .await?;
    let Some(id) = inserted_id(&result)? else {
        return Ok(None);
    };
    let mut statements = Vec::new();
    for batch in json_batches(rows) {
        statements.push(
            db.prepare(
                "INSERT INTO upload_rows (upload_id, line, sku, quantity, name, brand, supplier, tags) \
                 SELECT ?1, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6 \
                 FROM json_each(?2)",
            )
            .bind(&[int(id), text(&batch)])?,
        );
    }
    statements.push(
        db.prepare("UPDATE uploads SET status = 'ready' WHERE id = ?1")
            .bind(&[int(id)])?,
    );
    db.batch(statements).await?;
    Ok(Some(id))
}

/// The rows as JSON arrays `[line, sku, quantity, name, brand, supplier, tags]`, grouped into
/// arrays of at most [`JSON_BYTES_PER_STATEMENT`] bytes (a single huge row gets one of its own).
fn json_batches(rows: &[UploadRow]) -> Vec<String> {
    let mut batches = Vec::new();
    let mut current = String::from("[");
    for (i, r) in rows.iter().enumerate() {
        let row = json!([
            i + 1,
            r.sku.as_str(),
            r.quantity.get(),
            r.name,
            r.brand,
            r.supplier,
            r.tags
        ])
        .to_string();
        if current.len() > 1 && current.len() + row.len() + 2 > JSON_BYTES_PER_STATEMENT {
            current.push(']');
            batches.push(std::mem::replace(&mut current, String::from("[")));
        }
        if current.len() > 1 {
            current.push(',');
        }
        current.push_str(&row);
    }
    if current.len() > 1 {
        current.push(']');
        batches.push(current);
    }
    batches
}

/// One upload of the account.
pub async fn find(
    db: &D1Database,
    account: AccountId,
    id: i64,
) -> Result<Option<UploadRecord>, ApiError> {
    Ok(db
        .prepare(format!(
            "SELECT {COLUMNS} FROM uploads WHERE id = ?1 AND account_id = ?2"
        ))
        .bind(&[int(id), int(account.0)])?
        .first::<UploadRecord>(None)
        .await?)
}

/// What applying the upload will do; once applying has started, what it was going to do when
/// it started, with the progress so far.
pub async fn preview(
    db: &D1Database,
    account: AccountId,
    upload: &UploadRecord,
) -> Result<UploadPreview, ApiError> {
    let summary = match serde_json::from_str::<Summary>(&upload.summary) {
        Ok(summary) => summary,
        Err(_) => count(db, account, upload.id).await?,
    };
    let ready = upload.status == "ready";
    Ok(UploadPreview {
        id: upload.id,
        rows: upload.rows as u64,
        to_update: summary.to_update,
        to_create: summary.to_create,
        unchanged: summary.unchanged,
        zeroing: summary.zeroing,
        stocked: summary.stocked,
        wipe_guard: ready
            && needs_wipe_confirmation(
                summary.zeroing,
                summary.stocked,
                summary.wipe_guard_percent,
            ),
        wipe_guard_percent: summary.wipe_guard_percent,
        ignored_columns: upload
            .ignored
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
        status: upload.status.clone(),
        applied_rows: upload.applied_rows.max(0) as u64,
    })
}

/// The preview's counts, from the staged rows and the products as they are now.
async fn count(db: &D1Database, account: AccountId, upload: i64) -> Result<Summary, ApiError> {
    let join = "FROM upload_rows u LEFT JOIN products p ON p.account_id = ?1 AND p.sku = u.sku WHERE u.upload_id = ?2";
    let params = [int(account.0), int(upload)];
    let counts = [
        format!("SELECT COUNT(*) AS n {join} AND p.id IS NULL"),
        format!("SELECT COUNT(*) AS n {join} AND p.id IS NOT NULL AND p.quantity != u.quantity"),
        format!("SELECT COUNT(*) AS n {join} AND p.id IS NOT NULL AND p.quantity = u.quantity"),
        format!("SELECT COUNT(*) AS n {join} AND p.quantity > 0 AND u.quantity = 0"),
    ];
    let mut statements = counts
        .iter()
        .map(|sql| db.prepare(sql.as_str()).bind(&params))
        .collect::<Result<Vec<_>, _>>()?;
    statements.push(
        db.prepare("SELECT COUNT(*) AS n FROM products WHERE account_id = ?1 AND quantity > 0")
            .bind(&[int(account.0)])?,
    );
    statements.push(
        db.prepare("SELECT wipe_guard_percent AS n FROM accounts WHERE id = ?1")
            .bind(&[int(account.0)])?,
    );
    let results = db.batch(statements).await?;
    let n = |i: usize| -> Result<Option<u64>, ApiError> {
        Ok(results[i].results::<Count>()?.first().map(|c| c.n))
    };
    Ok(Summary {
        to_create: n(0)?.unwrap_or(0),
        to_update: n(1)?.unwrap_or(0),
        unchanged: n(2)?.unwrap_or(0),
        zeroing: n(3)?.unwrap_or(0),
        stocked: n(4)?.unwrap_or(0),
        wipe_guard_percent: n(5)?.unwrap_or(DEFAULT_WIPE_GUARD_PERCENT),
    })
}

/// Turns a ready upload into a running apply job, fixing its preview, who applies it and the
/// Auto Sync rule for the products it creates. False when it was not ready (applied or started
/// already, perhaps by a concurrent request).
pub async fn start_apply(
    db: &D1Database,
    account: AccountId,
    actor: &Actor,
    preview: &UploadPreview,
    new_auto_sync: bool,
    now: i64,
) -> Result<bool, ApiError> {
    let summary = Summary {
        to_update: preview.to_update,
        to_create: preview.to_create,
        unchanged: preview.unchanged,
        zeroing: preview.zeroing,
        stocked: preview.stocked,
        wipe_guard_percent: preview.wipe_guard_percent,
    };
    let summary = serde_json::to_string(&summary).map_err(|e| ApiError::Internal(e.to_string()))?;
    let result = db
        .prepare(
            "UPDATE uploads SET status = 'applying', applied_rows = 0, summary = ?3, applied_by = ?4, \
               new_auto_sync = ?5, updated_at = ?6 \
             WHERE id = ?1 AND account_id = ?2 AND status = 'ready'",
        )
        .bind(&[
            int(preview.id),
            int(account.0),
            text(&summary),
            text(&actor.stored()),
            flag(new_auto_sync),
            int(now),
        ])?
        .run()
        .await?;
    Ok(super::changes(&result)? == 1)
}

/// Applies lines `first..=last` of an applying upload in one transaction, moving its cursor from
/// `first - 1` to `last` (and to `applied` after the last line). Returns the outbox entries it
/// wrote, or `None` if the cursor had already moved (the step ran before: nothing written).
pub async fn apply_chunk(
    db: &D1Database,
    account: AccountId,
    upload: &UploadRecord,
    (first, last): (u64, u64),
    now: i64,
) -> Result<Option<Vec<Queued>>, ApiError> {
    let a = int(account.0);
    let u = int(upload.id);
    let (lo, hi) = (int(first as i64), int(last as i64));
    let r = text(&format!("upload:{}", upload.id));
    let t = int(now);
    let who = text(&upload.applied_by);
    let lines = "u.upload_id = ?2 AND u.line BETWEEN ?3 AND ?4";
    let statements = vec![
        outbox::mark(db),
        db.prepare(
            "UPDATE uploads SET applied_rows = ?4, updated_at = ?5, \
               status = CASE WHEN ?4 >= rows THEN 'applied' ELSE 'applying' END, \
               applied_at = CASE WHEN ?4 >= rows THEN ?5 ELSE NULL END \
             WHERE id = ?2 AND account_id = ?1 AND status = 'applying' AND applied_rows = ?3 - 1",
        )
        .bind(&[a.clone(), u.clone(), lo.clone(), hi.clone(), t.clone()])?,
        // The step ran before (or the upload is not applying): abort the whole batch here.
        db.prepare("INSERT INTO write_guards (ok) VALUES (changes())"),
        // Ledger lines for products whose quantity changes, written before the change.
        db.prepare(format!(
            "INSERT INTO quantity_changes \
             (account_id, product_id, before, after, delta, source, reference, reason, version, created_at, actor) \
             SELECT p.account_id, p.id, p.quantity, u.quantity, u.quantity - p.quantity, 'upload', ?5, '', p.version + 1, ?6, ?7 \
             FROM upload_rows u JOIN products p ON p.account_id = ?1 AND p.sku = u.sku \
             WHERE {lines} AND p.quantity != u.quantity"
        ))
        .bind(&[a.clone(), u.clone(), lo.clone(), hi.clone(), r.clone(), t.clone(), who.clone()])?,
        db.prepare(format!(
            "UPDATE products SET quantity = u.quantity, version = products.version + 1, updated_at = ?5 \
             FROM upload_rows u \
             WHERE {lines} AND products.account_id = ?1 AND products.sku = u.sku \
               AND products.quantity != u.quantity"
        ))
        .bind(&[a.clone(), u.clone(), lo.clone(), hi.clone(), t.clone()])?,
        db.prepare(format!(
            "INSERT INTO products \
             (account_id, sku, name, quantity, auto_sync, created_via, brand, supplier, tags, version, created_at, updated_at) \
             SELECT ?1, u.sku, CASE WHEN u.name = '' THEN u.sku ELSE u.name END, u.quantity, ?6, 'file_upload', \
                    u.brand, u.supplier, u.tags, 1, ?5, ?5 \
             FROM upload_rows u WHERE {lines} \
               AND NOT EXISTS (SELECT 1 FROM products p WHERE p.account_id = ?1 AND p.sku = u.sku)"
        ))
        .bind(&[a.clone(), u.clone(), lo.clone(), hi.clone(), t.clone(), flag(upload.new_auto_sync == 1)])?,
        db.prepare(format!(
            "INSERT INTO quantity_changes \
             (account_id, product_id, before, after, delta, source, reference, reason, version, created_at, actor) \
             SELECT p.account_id, p.id, 0, p.quantity, p.quantity, 'upload', ?5, 'Created by the upload', 1, ?6, ?7 \
             FROM upload_rows u JOIN products p ON p.account_id = ?1 AND p.sku = u.sku \
             WHERE {lines} AND p.created_via = 'file_upload' AND p.version = 1 AND p.created_at = ?6 \
               AND NOT EXISTS (SELECT 1 FROM quantity_changes q \
                 WHERE q.account_id = ?1 AND q.product_id = p.id)"
        ))
        .bind(&[a.clone(), u.clone(), lo.clone(), hi.clone(), r.clone(), t.clone(), who])?,
        db.prepare(format!(
            "INSERT INTO sync_outbox (account_id, product_id, version, trigger, created_at, updated_at) \
             SELECT p.account_id, p.id, p.version, 'upload', ?6, ?6 \
             FROM upload_rows u \
               JOIN products p ON p.account_id = ?1 AND p.sku = u.sku \
               JOIN quantity_changes q ON q.account_id = ?1 AND q.source = 'upload' AND q.reference = ?5 \
                 AND q.product_id = p.id \
             WHERE {lines} AND p.auto_sync = 1"
        ))
        .bind(&[a, u.clone(), lo.clone(), hi.clone(), r, t])?,
        // Applied lines are not needed again: the summary keeps what the preview showed.
        db.prepare("DELETE FROM upload_rows WHERE upload_id = ?1 AND line BETWEEN ?2 AND ?3")
            .bind(&[u, lo, hi])?,
        db.prepare("DELETE FROM write_guards"),
    ];
    let results = match db.batch(statements).await {
        Ok(results) => results,
        Err(e) => {
            // The compare-and-set refused the step if the cursor already moved past it; any
            // other failure is the database's and the step is tried again.
            return match find(db, account, upload.id).await? {
                Some(current)
                    if current.applied_rows >= last as i64 || current.status != "applying" =>
                {
                    Ok(None)
                }
                _ => Err(e.into()),
            };
        }
    };
    let mark = outbox::mark_value(&results[0])?;
    Ok(Some(
        outbox::queued_since(db, account, SyncTrigger::Upload, mark, now).await?,
    ))
}

/// Uploads whose apply job has not moved since `before` (a lost message, a restart).
pub async fn stalled(
    db: &D1Database,
    before: i64,
    limit: u32,
) -> Result<Vec<(AccountId, i64)>, ApiError> {
    super::account_ids(
        db.prepare(
            "SELECT account_id, id FROM uploads WHERE status = 'applying' AND updated_at < ?1 \
             ORDER BY updated_at LIMIT ?2",
        )
        .bind(&[int(before), int(i64::from(limit))])?,
    )
    .await
}
