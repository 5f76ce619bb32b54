//! The `catalogue_reads` and `catalogue_items` tables: a storefront's catalogue read page by
//! page for listing import, its items classified, and the one write that links them.

use super::outbox::{self, Queued};
use crate::db::{flag, int, opt_int, opt_text, text};
use crate::error::ApiError;
use serde::Deserialize;
use std::collections::HashSet;
use tally_domain::api::{ImportItem, ImportStatus, ListingImport};
use tally_domain::connector::catalogue::{CatalogueItem, Page};
use tally_domain::listing_import::{Decision, ImportClass, ImportCounts};
use tally_domain::sync::SyncTrigger;
use tally_domain::AccountId;
use worker::D1Database;

/// Reads in a row a storefront may leave unanswered before the read fails.
pub const MAX_MISSES: i64 = 5;

/// Rows one classification statement writes (its JSON stays well under D1's value limit).
const CLASSIFY_CHUNK: usize = 1_000;

const SELECT: &str = "SELECT r.id, r.account_id, r.storefront_id, s.name AS storefront_name, r.purpose, \
     r.status, r.page, r.pages_read, r.items_read, r.total, r.misses, r.counts, r.message, \
     r.new_auto_sync, r.applied_by, r.created_at, r.updated_at, r.finished_at \
     FROM catalogue_reads r JOIN storefronts s ON s.id = r.storefront_id AND s.account_id = r.account_id";

/// A stored read.
#[derive(Debug, Clone, Deserialize)]
pub struct ReadRow {
    pub id: i64,
    pub storefront_id: i64,
    pub storefront_name: String,
    /// `import` or `drift` (a drift check reads the catalogue the same way).
    pub purpose: String,
    pub status: String,
    pub page: Option<String>,
    pub pages_read: i64,
    pub items_read: i64,
    pub total: Option<i64>,
    pub counts: String,
    pub message: String,
    pub new_auto_sync: i64,
    pub applied_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

impl ReadRow {
    pub fn status(&self) -> ImportStatus {
        ImportStatus::parse(&self.status).unwrap_or(ImportStatus::Failed)
    }

    /// The page to read next (`None` once the whole catalogue is stored).
    pub fn next_page(&self) -> Option<Page> {
        match &self.page {
            None if self.pages_read == 0 => Some(Page::First),
            None => None,
            Some(json) => serde_json::from_str(json).ok(),
        }
    }

    pub fn counts(&self) -> ImportCounts {
        serde_json::from_str(&self.counts).unwrap_or_default()
    }

    pub fn view(&self) -> ListingImport {
        ListingImport {
            id: self.id,
            storefront_id: self.storefront_id,
            storefront_name: self.storefront_name.clone(),
            status: self.status(),
            items_read: self.items_read.max(0) as u64,
            total: self.total.map(|t| t.max(0) as u64),
            counts: self.counts(),
            message: self.message.clone(),
            new_auto_sync: self.new_auto_sync == 1,
            created_at: self.created_at,
            finished_at: self.finished_at,
        }
    }
}

pub async fn find(
    db: &D1Database,
    account: AccountId,
    id: i64,
) -> Result<Option<ReadRow>, ApiError> {
    Ok(db
        .prepare(format!("{SELECT} WHERE r.account_id = ?1 AND r.id = ?2"))
        .bind(&[int(account.0), int(id)])?
        .first::<ReadRow>(None)
        .await?)
}

/// The connection's newest imports, newest first.
pub async fn recent(
    db: &D1Database,
    account: AccountId,
    storefront_id: i64,
) -> Result<Vec<ReadRow>, ApiError> {
    Ok(db
        .prepare(format!(
            "{SELECT} WHERE r.account_id = ?1 AND r.storefront_id = ?2 AND r.purpose = 'import' \
             ORDER BY r.id DESC LIMIT 5"
        ))
        .bind(&[int(account.0), int(storefront_id)])?
        .all()
        .await?
        .results::<ReadRow>()?)
}

/// Import or drift check: what a catalogue read is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Import,
    Drift,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Import => "import",
            Purpose::Drift => "drift",
        }
    }
}

/// Starts a read of the connection's catalogue for `purpose`, unless one is running: then
/// that one.
pub async fn start(
    db: &D1Database,
    account: AccountId,
    storefront_id: i64,
    purpose: Purpose,
    now: i64,
) -> Result<i64, ApiError> {
    #[derive(Deserialize)]
    struct Id {
        id: i64,
    }
    // One statement, so two clicks cannot start two reads.
    db.prepare(
        "INSERT INTO catalogue_reads (account_id, storefront_id, purpose, status, created_at, updated_at) \
         SELECT ?1, ?2, ?4, 'reading', ?3, ?3 WHERE NOT EXISTS (SELECT 1 FROM catalogue_reads \
           WHERE account_id = ?1 AND storefront_id = ?2 AND purpose = ?4 \
             AND status IN ('reading', 'applying'))",
    )
    .bind(&[int(account.0), int(storefront_id), int(now), text(purpose.as_str())])?
    .run()
    .await?;
    let row = db
        .prepare(
            "SELECT id FROM catalogue_reads WHERE account_id = ?1 AND storefront_id = ?2 \
               AND purpose = ?3 \
             ORDER BY (status IN ('reading', 'applying')) DESC, id DESC LIMIT 1",
        )
        .bind(&[int(account.0), int(storefront_id), text(purpose.as_str())])?
        .first::<Id>(None)
        .await?
        .ok_or_else(|| ApiError::Internal("the import just started is gone".into()))?;
    Ok(row.id)
}

/// Stores one page's items and moves the cursor past it, unless another delivery stored that
/// page first (then `false` and nothing is written).
pub async fn store_page(
    db: &D1Database,
    read: &ReadRow,
    items: &[CatalogueItem],
    next: Option<&Page>,
    total: Option<u64>,
    now: i64,
) -> Result<bool, ApiError> {
    let rows: Vec<_> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            serde_json::json!([
                read.items_read + i as i64,
                item.external_id,
                item.external_sub_id,
                item.sku,
                item.title,
                item.quantity,
                item.not_settable,
                item.group
            ])
        })
        .collect();
    let rows = serde_json::Value::Array(rows).to_string();
    let next = next
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let advance = db
        .prepare(
            "UPDATE catalogue_reads SET pages_read = pages_read + 1, items_read = items_read + ?3, \
               page = ?4, total = coalesce(?5, total), misses = 0, updated_at = ?6 \
             WHERE id = ?1 AND status = 'reading' AND pages_read = ?2",
        )
        .bind(&[
            int(read.id),
            int(read.pages_read),
            int(items.len() as i64),
            opt_text(next.as_deref()),
            opt_int(total.map(|t| t as i64)),
            int(now),
        ])?;
    let guard = db.prepare("INSERT INTO write_guards (ok) VALUES (changes() = 1)");
    let insert = db
        .prepare(
            "INSERT INTO catalogue_items \
             (read_id, n, external_id, external_sub_id, sku, title, quantity, not_settable, cap_group) \
             SELECT ?1, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, \
                    value ->> 5, value ->> 6, value ->> 7 FROM json_each(?2)",
        )
        .bind(&[int(read.id), text(&rows)])?;
    let clear = db.prepare("DELETE FROM write_guards");
    Ok(db.batch(vec![advance, guard, insert, clear]).await.is_ok())
}

/// Counts a read the storefront did not answer; after [`MAX_MISSES`] the read fails with
/// `message`.
pub async fn miss(
    db: &D1Database,
    read: &ReadRow,
    message: &str,
    now: i64,
) -> Result<(), ApiError> {
    db.prepare(
        "UPDATE catalogue_reads SET misses = misses + 1, updated_at = ?3, \
           status = CASE WHEN misses + 1 >= ?4 THEN 'failed' ELSE status END, \
           message = CASE WHEN misses + 1 >= ?4 THEN ?2 ELSE message END, \
           finished_at = CASE WHEN misses + 1 >= ?4 THEN ?3 ELSE finished_at END \
         WHERE id = ?1 AND status = 'reading'",
    )
    .bind(&[int(read.id), text(message), int(now), int(MAX_MISSES)])?
    .run()
    .await?;
    Ok(())
}

/// Ends a job with `status` and `message`, if it is still in `from`.
pub async fn finish(
    db: &D1Database,
    account: AccountId,
    id: i64,
    from: &[ImportStatus],
    status: ImportStatus,
    message: &str,
    now: i64,
) -> Result<bool, ApiError> {
    let from: Vec<&str> = from.iter().map(|s| s.as_str()).collect();
    let from = serde_json::to_string(&from).map_err(|e| ApiError::Internal(e.to_string()))?;
    let result = db
        .prepare(
            "UPDATE catalogue_reads SET status = ?3, message = ?4, updated_at = ?5, finished_at = ?5 \
             WHERE account_id = ?1 AND id = ?2 AND status IN (SELECT value FROM json_each(?6))",
        )
        .bind(&[int(account.0), int(id), text(status.as_str()), text(message), int(now), text(&from)])?
        .run()
        .await?;
    Ok(super::changes(&result)? == 1)
}

#[derive(Deserialize)]
struct ItemRow {
    n: i64,
    external_id: String,
    external_sub_id: Option<String>,
    sku: String,
    title: String,
    quantity: Option<i64>,
    not_settable: Option<String>,
    cap_group: Option<String>,
}

/// Every item of a read, in the order read, with its number.
pub async fn items(db: &D1Database, read_id: i64) -> Result<Vec<(i64, CatalogueItem)>, ApiError> {
    let rows = db
        .prepare(
            "SELECT n, external_id, external_sub_id, sku, title, quantity, not_settable, cap_group \
             FROM catalogue_items WHERE read_id = ?1 ORDER BY n",
        )
        .bind(&[int(read_id)])?
        .all()
        .await?
        .results::<ItemRow>()?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.n,
                CatalogueItem {
                    external_id: r.external_id,
                    external_sub_id: r.external_sub_id,
                    sku: r.sku,
                    title: r.title,
                    quantity: r.quantity,
                    not_settable: r.not_settable,
                    group: r.cap_group,
                },
            )
        })
        .collect())
}

#[derive(Deserialize)]
struct Text {
    t: String,
}

#[derive(Deserialize)]
struct Pair {
    a: String,
    b: String,
}

/// What decides the classes: the SKUs of the read that are Tally products, the items of the
/// storefront linked already, and the SKUs of products linked there.
pub async fn known(
    db: &D1Database,
    account: AccountId,
    read: &ReadRow,
) -> Result<(HashSet<String>, HashSet<(String, String)>, HashSet<String>), ApiError> {
    let products = db
        .prepare(
            "SELECT DISTINCT p.sku AS t FROM catalogue_items c \
             JOIN products p ON p.account_id = ?1 AND p.sku = trim(c.sku) WHERE c.read_id = ?2",
        )
        .bind(&[int(account.0), int(read.id)])?
        .all()
        .await?
        .results::<Text>()?;
    let linked = db
        .prepare(
            "SELECT external_id AS a, ifnull(external_sub_id, '') AS b FROM listings \
             WHERE account_id = ?1 AND storefront_id = ?2",
        )
        .bind(&[int(account.0), int(read.storefront_id)])?
        .all()
        .await?
        .results::<Pair>()?;
    let linked_skus = db
        .prepare(
            "SELECT DISTINCT p.sku AS t FROM listings l JOIN products p ON p.id = l.product_id \
             WHERE l.account_id = ?1 AND l.storefront_id = ?2",
        )
        .bind(&[int(account.0), int(read.storefront_id)])?
        .all()
        .await?
        .results::<Text>()?;
    Ok((
        products.into_iter().map(|r| r.t).collect(),
        linked.into_iter().map(|r| (r.a, r.b)).collect(),
        linked_skus.into_iter().map(|r| r.t).collect(),
    ))
}

/// Writes every item's class and marks the read ready, in one batch. The rows are written
/// again whole (an upsert by primary key): SQLite cannot index `json_each`, so an
/// `UPDATE … FROM json_each` would scan the JSON once per item.
pub async fn classify(
    db: &D1Database,
    read: &ReadRow,
    items: &[(i64, CatalogueItem)],
    decisions: &[Decision],
    now: i64,
) -> Result<(), ApiError> {
    let counts = ImportCounts::of(decisions);
    let counts = serde_json::to_string(&counts).map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut statements = vec![
        db.prepare(
            "UPDATE catalogue_reads SET status = 'ready', counts = ?2, updated_at = ?3, page = NULL \
             WHERE id = ?1 AND status = 'reading'",
        )
        .bind(&[int(read.id), text(&counts), int(now)])?,
        db.prepare("INSERT INTO write_guards (ok) VALUES (changes() = 1)"),
    ];
    let rows: Vec<_> = items
        .iter()
        .zip(decisions)
        .map(|((n, item), d)| {
            let sku = d.sku.as_ref().map_or(item.sku.as_str(), |s| s.as_str());
            serde_json::json!([
                n,
                item.external_id,
                item.external_sub_id,
                sku,
                item.title,
                item.quantity,
                item.not_settable,
                d.class.as_str(),
                d.note,
                item.group
            ])
        })
        .collect();
    for chunk in rows.chunks(CLASSIFY_CHUNK) {
        let json = serde_json::Value::Array(chunk.to_vec()).to_string();
        statements.push(
            db.prepare(
                "INSERT INTO catalogue_items \
                 (read_id, n, external_id, external_sub_id, sku, title, quantity, not_settable, class, note, cap_group) \
                 SELECT ?1, value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, \
                        value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9 FROM json_each(?2) WHERE true \
                 ON CONFLICT (read_id, n) DO UPDATE SET class = excluded.class, note = excluded.note, \
                   sku = excluded.sku",
            )
            .bind(&[int(read.id), text(&json)])?,
        );
    }
    statements.push(db.prepare("DELETE FROM write_guards"));
    if let Err(e) = db.batch(statements).await {
        // Refused by the guard when another delivery classified it first: nothing to do then.
        let still_reading = find_by_id(db, read.id)
            .await?
            .is_some_and(|r| r.status == "reading");
        if still_reading {
            return Err(ApiError::Internal(format!(
                "classifying import {}: {e}",
                read.id
            )));
        }
    }
    Ok(())
}

async fn find_by_id(db: &D1Database, id: i64) -> Result<Option<ReadRow>, ApiError> {
    Ok(db
        .prepare(format!("{SELECT} WHERE r.id = ?1"))
        .bind(&[int(id)])?
        .first::<ReadRow>(None)
        .await?)
}

/// One page of a read's items, of one class or all.
pub async fn item_page(
    db: &D1Database,
    read_id: i64,
    class: Option<ImportClass>,
    offset: u64,
    limit: u64,
) -> Result<(Vec<ImportItem>, u64), ApiError> {
    #[derive(Deserialize)]
    struct Row {
        external_id: String,
        external_sub_id: Option<String>,
        sku: String,
        title: String,
        quantity: Option<i64>,
        class: Option<String>,
        note: String,
    }
    let class = class.map(ImportClass::as_str);
    let filter = "read_id = ?1 AND (?2 IS NULL OR class = ?2)";
    let rows = db
        .prepare(format!(
            "SELECT external_id, external_sub_id, sku, title, quantity, class, note \
             FROM catalogue_items WHERE {filter} ORDER BY n LIMIT ?3 OFFSET ?4"
        ))
        .bind(&[
            int(read_id),
            opt_text(class),
            int(limit as i64),
            int(offset as i64),
        ])?
        .all()
        .await?
        .results::<Row>()?;
    let total = db
        .prepare(format!(
            "SELECT COUNT(*) AS n FROM catalogue_items WHERE {filter}"
        ))
        .bind(&[int(read_id), opt_text(class)])?
        .first::<super::Count>(None)
        .await?
        .map_or(0, |c| c.n);
    let items = rows
        .into_iter()
        .map(|r| ImportItem {
            external_id: r.external_id,
            external_sub_id: r.external_sub_id,
            sku: r.sku,
            title: r.title,
            quantity: r.quantity,
            class: r
                .class
                .as_deref()
                .and_then(ImportClass::parse)
                .unwrap_or(ImportClass::Skipped),
            note: r.note,
        })
        .collect();
    Ok((items, total))
}

/// Moves a ready import to applying, fixing what every part of the write must agree on.
pub async fn start_apply(
    db: &D1Database,
    account: AccountId,
    id: i64,
    new_auto_sync: bool,
    applied_by: &str,
    now: i64,
) -> Result<bool, ApiError> {
    let result = db
        .prepare(
            "UPDATE catalogue_reads SET status = 'applying', new_auto_sync = ?3, applied_by = ?4, \
               updated_at = ?5 WHERE account_id = ?1 AND id = ?2 AND status = 'ready'",
        )
        .bind(&[
            int(account.0),
            int(id),
            flag(new_auto_sync),
            text(applied_by),
            int(now),
        ])?
        .run()
        .await?;
    Ok(super::changes(&result)? == 1)
}

/// Links every matched and new item of an applying import in one transaction, or nothing:
/// creates the new products (at the storefront's count, Auto Sync by the rule, with their
/// ledger lines), links them and the matched ones, and queues pushes of Tally's count for the
/// matched products with Auto Sync on. `None` when the write was refused: a SKU created or an
/// item linked since the preview, or another delivery applied it first.
pub async fn apply(
    db: &D1Database,
    account: AccountId,
    read: &ReadRow,
    now: i64,
) -> Result<Option<Vec<Queued>>, ApiError> {
    let counts = read.counts();
    let (a, r, t) = (int(account.0), int(read.id), int(now));
    let s = int(read.storefront_id);
    let message = counts.applied_message();
    let reason = format!("Imported from {}", read.storefront_name);
    let statements = vec![
        outbox::mark(db),
        db.prepare(
            "UPDATE catalogue_reads SET status = 'applied', message = ?3, updated_at = ?4, \
               finished_at = ?4 WHERE account_id = ?1 AND id = ?2 AND status = 'applying'",
        )
        .bind(&[a.clone(), r.clone(), text(&message), t.clone()])?,
        db.prepare("INSERT INTO write_guards (ok) VALUES (changes() = 1)"),
        // A SKU created since the preview breaks UNIQUE (account_id, sku): all is rolled back.
        db.prepare(
            "INSERT INTO products (account_id, sku, name, quantity, auto_sync, created_via, \
               version, created_at, updated_at) \
             SELECT ?1, c.sku, CASE WHEN trim(c.title) = '' THEN c.sku ELSE substr(c.title, 1, 200) END, \
                    min(max(ifnull(c.quantity, 0), 0), 999999999), ?3, 'listing_import', 1, ?4, ?4 \
             FROM catalogue_items c WHERE c.read_id = ?2 AND c.class = 'new'",
        )
        .bind(&[a.clone(), r.clone(), flag(read.new_auto_sync == 1), t.clone()])?,
        db.prepare("INSERT INTO write_guards (ok) VALUES (changes() = ?1)")
            .bind(&[int(counts.new as i64)])?,
        db.prepare(
            "INSERT INTO quantity_changes \
             (account_id, product_id, before, after, delta, source, reference, reason, version, created_at, actor) \
             SELECT ?1, p.id, 0, p.quantity, p.quantity, 'adjustment', 'import:' || ?2, ?5, 1, ?4, ?6 \
             FROM catalogue_items c JOIN products p ON p.account_id = ?1 AND p.sku = c.sku \
             WHERE c.read_id = ?2 AND c.class = 'new'",
        )
        .bind(&[a.clone(), r.clone(), s.clone(), t.clone(), text(&reason), text(&read.applied_by)])?,
        // A matched product linked to another item of this storefront since the preview would
        // be shown there twice: refuse the whole write.
        db.prepare(
            "INSERT INTO write_guards (ok) SELECT NOT EXISTS (SELECT 1 FROM catalogue_items c \
               JOIN products p ON p.account_id = ?1 AND p.sku = c.sku \
               JOIN listings l ON l.product_id = p.id AND l.account_id = ?1 AND l.storefront_id = ?3 \
             WHERE c.read_id = ?2 AND c.class = 'matched')",
        )
        .bind(&[a.clone(), r.clone(), s.clone()])?,
        // An item linked since the preview breaks the one-listing-per-item index.
        db.prepare(
            "INSERT INTO listings (account_id, product_id, storefront_id, external_id, \
               external_sub_id, rules, active, created_at, updated_at, cap_group) \
             SELECT ?1, p.id, ?3, c.external_id, c.external_sub_id, '{}', 1, ?4, ?4, c.cap_group \
             FROM catalogue_items c JOIN products p ON p.account_id = ?1 AND p.sku = c.sku \
             WHERE c.read_id = ?2 AND c.class IN ('matched', 'new')",
        )
        .bind(&[a.clone(), r.clone(), s, t.clone()])?,
        db.prepare("INSERT INTO write_guards (ok) VALUES (changes() = ?1)")
            .bind(&[int(counts.to_link() as i64)])?,
        db.prepare(
            "INSERT INTO sync_outbox (account_id, product_id, version, trigger, created_at, updated_at) \
             SELECT DISTINCT p.account_id, p.id, p.version, ?3, ?4, ?4 \
             FROM catalogue_items c JOIN products p ON p.account_id = ?1 AND p.sku = c.sku \
             WHERE c.read_id = ?2 AND c.class = 'matched' AND p.auto_sync = 1",
        )
        .bind(&[a, r, text(SyncTrigger::Settings.as_str()), t])?,
        db.prepare("DELETE FROM write_guards"),
    ];
    let results = match db.batch(statements).await {
        Ok(results) => results,
        // A guard or a UNIQUE index refused it: something changed since the preview.
        Err(e) if crate::db::refused_by_constraint(&e) => {
            worker::console_warn!("import {}: the link write was refused: {e}", read.id);
            return Ok(None);
        }
        // The database's own trouble: the queue tries again.
        Err(e) => return Err(e.into()),
    };
    let since = outbox::mark_value(&results[0])?;
    Ok(Some(
        outbox::queued_since(db, account, SyncTrigger::Settings, since, now).await?,
    ))
}

/// Reads of the connection kept per purpose; older finished ones go with their items and
/// mismatches, so an hourly drift check does not grow the database without end.
const KEEP: i64 = 3;

/// Drops the connection's older finished reads of `purpose`.
pub async fn prune(
    db: &D1Database,
    account: AccountId,
    storefront_id: i64,
    purpose: Purpose,
) -> Result<(), ApiError> {
    let old = "SELECT id FROM catalogue_reads WHERE account_id = ?1 AND storefront_id = ?2 \
         AND purpose = ?3 AND status NOT IN ('reading', 'applying') AND id NOT IN ( \
           SELECT id FROM catalogue_reads WHERE account_id = ?1 AND storefront_id = ?2 \
             AND purpose = ?3 ORDER BY id DESC LIMIT ?4)";
    let binds = [
        int(account.0),
        int(storefront_id),
        text(purpose.as_str()),
        int(KEEP),
    ];
    db.batch(vec![
        db.prepare(format!(
            "DELETE FROM catalogue_items WHERE read_id IN ({old})"
        ))
        .bind(&binds)?,
        db.prepare(format!(
            "DELETE FROM listing_drift WHERE read_id IN ({old})"
        ))
        .bind(&binds)?,
        db.prepare(format!("DELETE FROM catalogue_reads WHERE id IN ({old})"))
            .bind(&binds)?,
    ])
    .await?;
    Ok(())
}

/// Jobs that stopped moving (reading or applying, untouched since `before`), for the cron.
pub async fn stalled(
    db: &D1Database,
    before: i64,
    limit: u32,
) -> Result<Vec<(AccountId, i64)>, ApiError> {
    super::account_ids(
        db.prepare(
            "SELECT account_id, id FROM catalogue_reads \
             WHERE status IN ('reading', 'applying') AND updated_at < ?1 ORDER BY updated_at LIMIT ?2",
        )
        .bind(&[int(before), int(i64::from(limit))])?,
    )
    .await
}
