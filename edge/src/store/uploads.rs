//! The `uploads` and `upload_rows` tables: staging a checked file, previewing it, applying it.
//!
//! Applying is set-based SQL in one batch (one transaction): ledger lines for changed products,
//! the updates, new products with their first ledger lines, and outbox entries for products with
//! Auto Sync on. 100,000 rows apply as one write, never half.

use super::outbox::{self, Queued};
use super::{inserted_id, Count};
use crate::db::{flag, int, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::actor::Actor;
use tally_domain::csv_import::{
    needs_wipe_confirmation, UploadPreview, UploadRow, DEFAULT_WIPE_GUARD_PERCENT,
};
use tally_domain::sync::SyncTrigger;
use tally_domain::AccountId;
use wasm_bindgen::JsValue;
use worker::D1Database;

/// Rows per INSERT statement (7 parameters each; D1 binds at most 100).
const ROWS_PER_STATEMENT: usize = 14;
/// Statements per staging batch.
const STATEMENTS_PER_BATCH: usize = 200;

#[derive(Debug, Deserialize)]
pub struct UploadRecord {
    pub id: i64,
    pub rows: i64,
    pub ignored: String,
    pub status: String,
}

/// Stores a checked file's rows; returns the upload id. Until every row is staged the upload is
/// `staging` and cannot be applied.
pub async fn stage(
    db: &D1Database,
    account: AccountId,
    rows: &[UploadRow],
    ignored: &[String],
    now: i64,
) -> Result<i64, ApiError> {
    let result = db
        .prepare(
            "INSERT INTO uploads (account_id, rows, ignored, status, created_at) VALUES (?1, ?2, ?3, 'staging', ?4)",
        )
        .bind(&[int(account.0), int(rows.len() as i64), text(&ignored.join(",")), int(now)])?
        .run()
        .await?;
    let id = inserted_id(&result)?.ok_or_else(|| ApiError::Internal("upload not stored".into()))?;
    let mut statements = Vec::new();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut params: Vec<JsValue> = Vec::with_capacity(chunk.len() * 7);
        let values: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, r)| {
                params.extend([
                    int(id),
                    text(r.sku.as_str()),
                    int(r.quantity.get()),
                    text(&r.name),
                    text(&r.brand),
                    text(&r.supplier),
                    text(&r.tags),
                ]);
                let b = i * 7;
                format!(
                    "(?{}, ?{}, ?{}, ?{}, ?{}, ?{}, ?{})",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6,
                    b + 7
                )
            })
            .collect();
        statements.push(
            db.prepare(format!(
                "INSERT INTO upload_rows (upload_id, sku, quantity, name, brand, supplier, tags) VALUES {}",
                values.join(", ")
            ))
            .bind(&params)?,
        );
        if statements.len() == STATEMENTS_PER_BATCH {
            db.batch(std::mem::take(&mut statements)).await?;
        }
    }
    statements.push(
        db.prepare("UPDATE uploads SET status = 'ready' WHERE id = ?1")
            .bind(&[int(id)])?,
    );
    db.batch(statements).await?;
    Ok(id)
}

/// One upload of the account.
pub async fn find(
    db: &D1Database,
    account: AccountId,
    id: i64,
) -> Result<Option<UploadRecord>, ApiError> {
    Ok(db
        .prepare("SELECT id, rows, ignored, status FROM uploads WHERE id = ?1 AND account_id = ?2")
        .bind(&[int(id), int(account.0)])?
        .first::<UploadRecord>(None)
        .await?)
}

/// What applying the upload will do (or did, once applied: then the counts describe the
/// products as they are now).
pub async fn preview(
    db: &D1Database,
    account: AccountId,
    upload: &UploadRecord,
) -> Result<UploadPreview, ApiError> {
    let join = "FROM upload_rows u LEFT JOIN products p ON p.account_id = ?1 AND p.sku = u.sku WHERE u.upload_id = ?2";
    let params = [int(account.0), int(upload.id)];
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
    let n = |i: usize| -> Result<u64, ApiError> {
        Ok(results[i].results::<Count>()?.first().map_or(0, |c| c.n))
    };
    let (to_create, to_update, unchanged, zeroing, stocked) = (n(0)?, n(1)?, n(2)?, n(3)?, n(4)?);
    let percent = results[5]
        .results::<Count>()?
        .first()
        .map_or(DEFAULT_WIPE_GUARD_PERCENT, |c| c.n);
    Ok(UploadPreview {
        id: upload.id,
        rows: upload.rows as u64,
        to_update,
        to_create,
        unchanged,
        zeroing,
        stocked,
        wipe_guard: needs_wipe_confirmation(zeroing, stocked, percent),
        wipe_guard_percent: percent,
        ignored_columns: upload
            .ignored
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect(),
        status: upload.status.clone(),
    })
}

/// Applies a ready upload in one transaction. Returns `None` if it was not ready (already
/// applied, or applied concurrently: the ledger's unique reference refuses a second apply).
pub async fn apply(
    db: &D1Database,
    account: AccountId,
    actor: &Actor,
    upload_id: i64,
    new_auto_sync: bool,
    now: i64,
) -> Result<Option<Vec<Queued>>, ApiError> {
    let reference = format!("upload:{upload_id}");
    let a = int(account.0);
    let u = int(upload_id);
    let r = text(&reference);
    let t = int(now);
    let who = text(&actor.stored());
    let statements = vec![
        outbox::mark(db),
        db.prepare(
            "UPDATE uploads SET status = 'applied', applied_at = ?3 WHERE id = ?2 AND account_id = ?1 AND status = 'ready'",
        )
        .bind(&[a.clone(), u.clone(), t.clone()])?,
        // Not ready (applied before, or by a concurrent request): abort the whole batch here.
        db.prepare("INSERT INTO write_guards (ok) VALUES (changes())"),
        // Ledger lines for products whose quantity changes, written before the change.
        db.prepare(
            "INSERT INTO quantity_changes \
             (account_id, product_id, before, after, delta, source, reference, reason, version, created_at, actor) \
             SELECT p.account_id, p.id, p.quantity, u.quantity, u.quantity - p.quantity, 'upload', ?3, '', p.version + 1, ?4, ?5 \
             FROM upload_rows u JOIN products p ON p.account_id = ?1 AND p.sku = u.sku \
             WHERE u.upload_id = ?2 AND p.quantity != u.quantity",
        )
        .bind(&[a.clone(), u.clone(), r.clone(), t.clone(), who.clone()])?,
        db.prepare(
            "UPDATE products SET \
               quantity = (SELECT u.quantity FROM upload_rows u WHERE u.upload_id = ?2 AND u.sku = products.sku), \
               version = version + 1, updated_at = ?3 \
             WHERE account_id = ?1 AND id IN ( \
               SELECT product_id FROM quantity_changes WHERE account_id = ?1 AND source = 'upload' AND reference = ?4)",
        )
        .bind(&[a.clone(), u.clone(), t.clone(), r.clone()])?,
        db.prepare(
            "INSERT INTO products \
             (account_id, sku, name, quantity, auto_sync, created_via, brand, supplier, tags, version, created_at, updated_at) \
             SELECT ?1, u.sku, CASE WHEN u.name = '' THEN u.sku ELSE u.name END, u.quantity, ?3, 'file_upload', \
                    u.brand, u.supplier, u.tags, 1, ?4, ?4 \
             FROM upload_rows u WHERE u.upload_id = ?2 \
               AND NOT EXISTS (SELECT 1 FROM products p WHERE p.account_id = ?1 AND p.sku = u.sku)",
        )
        .bind(&[a.clone(), u.clone(), flag(new_auto_sync), t.clone()])?,
        db.prepare(
            "INSERT INTO quantity_changes \
             (account_id, product_id, before, after, delta, source, reference, reason, version, created_at, actor) \
             SELECT p.account_id, p.id, 0, p.quantity, p.quantity, 'upload', ?3, 'Created by the upload', 1, ?4, ?5 \
             FROM upload_rows u JOIN products p ON p.account_id = ?1 AND p.sku = u.sku \
             WHERE u.upload_id = ?2 AND p.created_via = 'file_upload' AND p.version = 1 AND p.created_at = ?4",
        )
        .bind(&[a.clone(), u.clone(), r.clone(), t.clone(), who])?,
        db.prepare(
            "INSERT INTO sync_outbox (account_id, product_id, version, trigger, created_at, updated_at) \
             SELECT p.account_id, p.id, p.version, 'upload', ?3, ?3 \
             FROM quantity_changes q JOIN products p ON p.id = q.product_id \
             WHERE q.account_id = ?1 AND q.source = 'upload' AND q.reference = ?2 AND p.auto_sync = 1",
        )
        .bind(&[a.clone(), r.clone(), t.clone()])?,
        db.prepare("DELETE FROM write_guards"),
    ];
    let Ok(results) = db.batch(statements).await else {
        return Ok(None);
    };
    let mark = outbox::mark_value(&results[0])?;
    Ok(Some(
        outbox::queued_since(db, account, SyncTrigger::Upload, mark, now).await?,
    ))
}
