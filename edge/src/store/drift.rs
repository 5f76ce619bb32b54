//! The `listing_drift` table: each drift check's mismatches, open until the seller fixes them.
//! The open ones are those of each connection's latest finished check.

use super::catalogue_reads::ReadRow;
use super::storefronts::parse_rules;
use crate::db::{int, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::api::{DriftCheck, DriftItem, ImportStatus};
use tally_domain::drift::{Drift, DriftCause, Expected};
use tally_domain::storefront::StorefrontKind;
use tally_domain::{AccountId, ProductId};
use worker::D1Database;

/// Mismatches one report lists at most (the count is exact).
const REPORT_LIMIT: u32 = 500;

/// The id of each connection's latest finished drift check.
const LATEST: &str = "SELECT MAX(id) FROM catalogue_reads \
     WHERE account_id = ?1 AND purpose = 'drift' AND status = 'ready' GROUP BY storefront_id";

/// The listings of connection `storefront_id` Tally is responsible for and has not pushed
/// since `since` (a push landing during the read may have been read before it landed), with
/// no push on its way: active, of Auto Sync products, with the quantity the rules give.
pub async fn expected(
    db: &D1Database,
    account: AccountId,
    storefront_id: i64,
    since: i64,
) -> Result<Vec<Expected>, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        id: i64,
        external_id: String,
        external_sub_id: Option<String>,
        listing_rules: String,
        storefront_rules: String,
        quantity: i64,
    }
    let rows = db
        .prepare(
            "SELECT l.id, l.external_id, l.external_sub_id, l.rules AS listing_rules, \
               s.rules AS storefront_rules, p.quantity \
             FROM listings l JOIN storefronts s ON s.id = l.storefront_id \
               JOIN products p ON p.id = l.product_id \
             WHERE l.account_id = ?1 AND l.storefront_id = ?2 AND l.active = 1 AND p.auto_sync = 1 \
               AND ifnull(l.pushed_at, 0) < ?3 AND l.verify_after IS NULL \
               AND NOT EXISTS (SELECT 1 FROM sync_outbox o WHERE o.account_id = ?1 \
                 AND o.product_id = p.id AND o.status = 'pending') \
             ORDER BY l.id",
        )
        .bind(&[int(account.0), int(storefront_id), int(since)])?
        .all()
        .await?
        .results::<Row>()?;
    Ok(rows
        .into_iter()
        .map(|r| Expected {
            listing_id: r.id,
            external_id: r.external_id,
            external_sub_id: r.external_sub_id,
            quantity: parse_rules(&r.storefront_rules)
                .overridden_by(&parse_rules(&r.listing_rules))
                .apply(r.quantity)
                .quantity,
        })
        .collect())
}

/// Stores a check's mismatches and marks it done, in one batch (refused, and `false`, when
/// another delivery recorded it first).
pub async fn record(
    db: &D1Database,
    account: AccountId,
    read: &ReadRow,
    drift: &[Drift],
    now: i64,
) -> Result<bool, ApiError> {
    let rows: Vec<_> = drift
        .iter()
        .map(|d| serde_json::json!([d.listing_id, d.expected, d.found, d.cause.as_str()]))
        .collect();
    let rows = serde_json::Value::Array(rows).to_string();
    let statements = vec![
        db.prepare(
            "UPDATE catalogue_reads SET status = 'ready', page = NULL, updated_at = ?2, \
               finished_at = ?2, message = ?3 WHERE id = ?1 AND status = 'reading'",
        )
        .bind(&[int(read.id), int(now), text(&checked_message(drift.len()))])?,
        db.prepare("INSERT INTO write_guards (ok) VALUES (changes() = 1)"),
        db.prepare(
            "INSERT INTO listing_drift (read_id, account_id, listing_id, expected, found, cause) \
             SELECT ?1, ?2, value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM json_each(?3)",
        )
        .bind(&[int(read.id), int(account.0), text(&rows)])?,
        // The items were only needed for the comparison.
        db.prepare("DELETE FROM catalogue_items WHERE read_id = ?1")
            .bind(&[int(read.id)])?,
        db.prepare("DELETE FROM write_guards"),
    ];
    Ok(db.batch(statements).await.is_ok())
}

fn checked_message(mismatches: usize) -> String {
    match mismatches {
        0 => "Every listing matches Tally.".to_owned(),
        1 => "1 listing differs from Tally.".to_owned(),
        n => format!("{n} listings differ from Tally."),
    }
}

#[derive(Deserialize)]
struct CheckRow {
    id: i64,
    storefront_id: i64,
    storefront_name: String,
    status: String,
    items_read: i64,
    total: Option<i64>,
    message: String,
    created_at: i64,
    finished_at: Option<i64>,
}

/// Each connection's latest drift check, with the mismatches still open.
pub async fn checks(db: &D1Database, account: AccountId) -> Result<Vec<DriftCheck>, ApiError> {
    let rows = db
        .prepare(
            "SELECT r.id, r.storefront_id, s.name AS storefront_name, r.status, r.items_read, \
               r.total, r.message, r.created_at, r.finished_at \
             FROM catalogue_reads r JOIN storefronts s ON s.id = r.storefront_id \
             WHERE r.account_id = ?1 AND r.id IN (SELECT MAX(id) FROM catalogue_reads \
               WHERE account_id = ?1 AND purpose = 'drift' GROUP BY storefront_id) \
             ORDER BY s.name",
        )
        .bind(&[int(account.0)])?
        .all()
        .await?
        .results::<CheckRow>()?;
    let open = open_by_storefront(db, account).await?;
    Ok(rows
        .into_iter()
        .map(|r| DriftCheck {
            open: open
                .iter()
                .find(|(s, _)| *s == r.storefront_id)
                .map_or(0, |(_, n)| *n),
            id: r.id,
            storefront_id: r.storefront_id,
            storefront_name: r.storefront_name,
            status: ImportStatus::parse(&r.status).unwrap_or(ImportStatus::Failed),
            items_read: r.items_read.max(0) as u64,
            total: r.total.map(|t| t.max(0) as u64),
            message: r.message,
            started_at: r.created_at,
            finished_at: r.finished_at,
        })
        .collect())
}

async fn open_by_storefront(
    db: &D1Database,
    account: AccountId,
) -> Result<Vec<(i64, u64)>, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        storefront_id: i64,
        n: u64,
    }
    let rows = db
        .prepare(format!(
            "SELECT r.storefront_id, COUNT(*) AS n FROM listing_drift d \
               JOIN catalogue_reads r ON r.id = d.read_id \
             WHERE d.account_id = ?1 AND d.fixed_at IS NULL AND d.read_id IN ({LATEST}) \
             GROUP BY r.storefront_id"
        ))
        .bind(&[int(account.0)])?
        .all()
        .await?
        .results::<Row>()?;
    Ok(rows.into_iter().map(|r| (r.storefront_id, r.n)).collect())
}

/// Open mismatches across the account (the health panel's drift count).
pub async fn open_count(db: &D1Database, account: AccountId) -> Result<u64, ApiError> {
    Ok(open_by_storefront(db, account)
        .await?
        .iter()
        .map(|(_, n)| n)
        .sum())
}

/// The open mismatches, by connection and SKU.
pub async fn open_items(db: &D1Database, account: AccountId) -> Result<Vec<DriftItem>, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        listing_id: i64,
        product_id: i64,
        sku: String,
        storefront_id: i64,
        storefront_name: String,
        kind: String,
        external_id: String,
        external_sub_id: Option<String>,
        expected: i64,
        found: Option<i64>,
        cause: String,
    }
    let rows = db
        .prepare(format!(
            "SELECT d.listing_id, l.product_id, p.sku, l.storefront_id, s.name AS storefront_name, \
               s.kind, l.external_id, l.external_sub_id, d.expected, d.found, d.cause \
             FROM listing_drift d JOIN listings l ON l.id = d.listing_id \
               JOIN products p ON p.id = l.product_id JOIN storefronts s ON s.id = l.storefront_id \
             WHERE d.account_id = ?1 AND d.fixed_at IS NULL AND d.read_id IN ({LATEST}) \
             ORDER BY s.name, p.sku LIMIT {REPORT_LIMIT}"
        ))
        .bind(&[int(account.0)])?
        .all()
        .await?
        .results::<Row>()?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let cause = DriftCause::parse(&r.cause).unwrap_or(DriftCause::Gone);
            let platform = StorefrontKind::parse(&r.kind).map_or("The storefront", |k| k.label());
            DriftItem {
                listing_id: r.listing_id,
                product_id: ProductId(r.product_id),
                sku: r.sku,
                storefront_id: r.storefront_id,
                storefront_name: r.storefront_name,
                external_id: r.external_id,
                external_sub_id: r.external_sub_id,
                expected: r.expected,
                found: r.found,
                explanation: cause.explain(platform),
                fixable: cause.fixable(),
                cause,
            }
        })
        .collect())
}

/// Which of these listings have an open mismatch a push can fix: (listing, product,
/// connection, cause).
pub async fn fixable(
    db: &D1Database,
    account: AccountId,
    listing_ids: &[i64],
) -> Result<Vec<(i64, i64, i64, DriftCause)>, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        listing_id: i64,
        product_id: i64,
        storefront_id: i64,
        cause: String,
    }
    let ids = serde_json::to_string(listing_ids).map_err(|e| ApiError::Internal(e.to_string()))?;
    let rows = db
        .prepare(format!(
            "SELECT d.listing_id, l.product_id, l.storefront_id, d.cause FROM listing_drift d \
               JOIN listings l ON l.id = d.listing_id WHERE {OPEN_FIXABLE}"
        ))
        .bind(&[int(account.0), text(&ids)])?
        .all()
        .await?
        .results::<Row>()?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let cause = DriftCause::parse(&r.cause).unwrap_or(DriftCause::Higher);
            (r.listing_id, r.product_id, r.storefront_id, cause)
        })
        .collect())
}

/// Open mismatches among the listings of `?2` (JSON ids) of account `?1` that a push can fix.
const OPEN_FIXABLE: &str = "d.account_id = ?1 AND d.fixed_at IS NULL \
     AND d.cause IN ('lower', 'higher') AND d.listing_id IN (SELECT value FROM json_each(?2)) \
     AND d.read_id IN (SELECT MAX(id) FROM catalogue_reads WHERE account_id = ?1 \
       AND purpose = 'drift' AND status = 'ready' GROUP BY storefront_id)";

/// Marks these open mismatches fixed (their pushes are queued).
pub async fn mark_fixed(
    db: &D1Database,
    account: AccountId,
    listing_ids: &[i64],
    now: i64,
) -> Result<(), ApiError> {
    let ids = serde_json::to_string(listing_ids).map_err(|e| ApiError::Internal(e.to_string()))?;
    db.prepare(format!(
        "UPDATE listing_drift AS d SET fixed_at = ?3 WHERE {OPEN_FIXABLE}"
    ))
    .bind(&[int(account.0), text(&ids), int(now)])?
    .run()
    .await?;
    Ok(())
}

/// The open mismatches of connection `storefront_id` (for "Fix all").
pub async fn open_listings_of(
    db: &D1Database,
    account: AccountId,
    storefront_id: i64,
) -> Result<Vec<i64>, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        listing_id: i64,
    }
    let rows = db
        .prepare(format!(
            "SELECT d.listing_id FROM listing_drift d JOIN catalogue_reads r ON r.id = d.read_id \
             WHERE d.account_id = ?1 AND d.fixed_at IS NULL AND r.storefront_id = ?2 \
               AND d.read_id IN ({LATEST})"
        ))
        .bind(&[int(account.0), int(storefront_id)])?
        .all()
        .await?
        .results::<Row>()?;
    Ok(rows.into_iter().map(|r| r.listing_id).collect())
}

/// Connections due a scheduled drift check (claimed: their clock moves to `now`), at most
/// `limit`: active ones with listings, `drift_every_minutes` after the last check (or after
/// they were made).
pub async fn claim_due(
    db: &D1Database,
    now: i64,
    limit: u32,
) -> Result<Vec<(AccountId, i64)>, ApiError> {
    super::account_ids(
        db.prepare(
            "UPDATE storefronts SET drift_checked_at = ?1 WHERE id IN ( \
               SELECT s.id FROM storefronts s WHERE s.active = 1 \
                 AND ifnull(s.drift_checked_at, s.created_at) + s.drift_every_minutes * 60000 <= ?1 \
                 AND EXISTS (SELECT 1 FROM listings l WHERE l.storefront_id = s.id AND l.active = 1) \
               ORDER BY ifnull(s.drift_checked_at, s.created_at) LIMIT ?2) \
             RETURNING account_id, id",
        )
        .bind(&[int(now), int(i64::from(limit))])?,
    )
    .await
}
