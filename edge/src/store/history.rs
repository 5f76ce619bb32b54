//! The `sync_history` table: one row per push attempt (or per decision not to push), as the
//! seller sees it in Inventory Sync History and the health panel.

use super::Count;
use crate::db::{int, opt_int, opt_text, text};
use crate::error::ApiError;
use serde::Deserialize;
use std::collections::BTreeMap;
use tally_domain::api::SyncHistoryEntry;
use tally_domain::sync::{SyncStatus, SyncTrigger};
use tally_domain::sync_health::MinuteRollup;
use tally_domain::{AccountId, PageRequest, ProductId};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

#[derive(Deserialize)]
struct HistoryRow {
    id: i64,
    created_at: i64,
    product_id: i64,
    sku: String,
    storefront: Option<String>,
    storefront_id: Option<i64>,
    listing_id: Option<i64>,
    listing_item: Option<String>,
    trigger: String,
    quantity: i64,
    status: String,
    message: String,
    action: Option<String>,
    attempt: i64,
    breakdown: Option<String>,
    answer: Option<String>,
    changed_at: Option<i64>,
    reference: Option<String>,
}

impl HistoryRow {
    fn into_entry(self) -> Result<SyncHistoryEntry, ApiError> {
        let trigger: SyncTrigger = parse_name(self.id, "trigger", &self.trigger)?;
        let status: SyncStatus = parse_name(self.id, "status", &self.status)?;
        Ok(SyncHistoryEntry {
            id: self.id,
            created_at: self.created_at,
            product_id: ProductId(self.product_id),
            sku: self.sku,
            storefront: self.storefront,
            trigger,
            quantity: self.quantity,
            status,
            message: self.message,
            action: self.action,
            listing_id: self.listing_id,
            listing_item: self.listing_item,
            storefront_id: self.storefront_id,
            attempt: u32::try_from(self.attempt).unwrap_or(1),
            breakdown: self.breakdown,
            answer: self.answer,
            reference: self
                .reference
                .map(|r| tally_domain::order::readable_reference(&r)),
            changed_at: self.changed_at,
        })
    }
}

/// A stored snake_case name back into its enum.
fn parse_name<T: serde::de::DeserializeOwned>(
    id: i64,
    field: &str,
    value: &str,
) -> Result<T, ApiError> {
    serde_json::from_value(serde_json::Value::String(value.to_owned()))
        .map_err(|_| ApiError::Internal(format!("history {id} has a bad {field}")))
}

/// What the history list can be narrowed to.
#[derive(Debug, Default)]
pub struct HistoryFilter {
    pub product: Option<ProductId>,
    pub status: Option<SyncStatus>,
    pub storefront_id: Option<i64>,
    /// SKUs starting with this.
    pub sku: Option<String>,
    /// `created_at` in `[from, to)`.
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl HistoryFilter {
    fn params(&self, account: AccountId) -> Vec<JsValue> {
        // A prefix compared as text, not a LIKE pattern: D1 refuses patterns over 50 bytes,
        // and a SKU's `%` or `_` is only itself. ASCII case is ignored, as LIKE did.
        let sku = self.sku.as_deref().map(str::to_ascii_lowercase);
        vec![
            int(account.0),
            opt_int(self.product.map(|p| p.0)),
            opt_text(self.status.map(SyncStatus::as_str)),
            opt_int(self.storefront_id),
            opt_text(sku.as_deref()),
            opt_int(self.from),
            opt_int(self.to),
        ]
    }
}

const WHERE: &str = "WHERE h.account_id = ?1 AND (?2 IS NULL OR h.product_id = ?2) \
     AND (?3 IS NULL OR h.status = ?3) AND (?4 IS NULL OR h.storefront_id = ?4) \
     AND (?5 IS NULL OR substr(lower(p.sku), 1, length(?5)) = ?5) \
     AND (?6 IS NULL OR h.created_at >= ?6) AND (?7 IS NULL OR h.created_at < ?7)";

/// One page of the account's history matching `filter`, newest first, and how many match.
pub async fn page(
    db: &D1Database,
    account: AccountId,
    filter: &HistoryFilter,
    paging: PageRequest,
) -> Result<(Vec<SyncHistoryEntry>, u64), ApiError> {
    let mut params = filter.params(account);
    let count = db
        .prepare(format!(
            "SELECT COUNT(*) AS n FROM sync_history h JOIN products p ON p.id = h.product_id {WHERE}"
        ))
        .bind(&params)?;
    params.push(int(i64::from(paging.limit())));
    params.push(int(paging.offset() as i64));
    // The order or upload behind a push is the ledger row of the version its outbox entry
    // recorded: no writer has to copy it.
    let rows = db
        .prepare(format!(
            "SELECT h.id, h.created_at, h.product_id, p.sku, h.storefront, h.storefront_id, \
                    h.listing_id, h.trigger, h.quantity, h.status, h.message, h.action, \
                    h.attempt, h.breakdown, h.answer, h.changed_at, \
                    (SELECT l.external_id FROM listings l WHERE l.id = h.listing_id \
                       AND l.account_id = h.account_id) AS listing_item, \
                    (SELECT q.reference FROM sync_outbox o JOIN quantity_changes q \
                       ON q.account_id = o.account_id AND q.product_id = o.product_id \
                      AND q.version = o.version WHERE o.id = h.outbox_id) AS reference \
             FROM sync_history h JOIN products p ON p.id = h.product_id {WHERE} \
             ORDER BY h.id DESC LIMIT ?8 OFFSET ?9"
        ))
        .bind(&params)?;
    let results = db.batch(vec![rows, count]).await?;
    let total = results[1].results::<Count>()?.first().map_or(0, |c| c.n);
    let entries = results[0]
        .results::<HistoryRow>()?
        .into_iter()
        .map(HistoryRow::into_entry)
        .collect::<Result<_, _>>()?;
    Ok((entries, total))
}

#[derive(Deserialize)]
struct MinuteRow {
    minute: i64,
    storefront_id: i64,
    storefront: String,
    pushes: i64,
    failures: i64,
    latencies: String,
}

impl MinuteRow {
    fn into_rollup(self) -> Result<MinuteRollup, ApiError> {
        let counted: BTreeMap<usize, i64> = serde_json::from_str(&self.latencies).map_err(|e| {
            ApiError::Internal(format!("push_minutes latencies `{}`: {e}", self.latencies))
        })?;
        // The triggers never take a count below zero; read defensively all the same.
        let latencies = counted
            .into_iter()
            .map(|(bucket, n)| (bucket, u64::try_from(n).unwrap_or(0)))
            .collect();
        Ok(MinuteRollup {
            minute: self.minute,
            storefront_id: self.storefront_id,
            storefront: self.storefront,
            pushes: u64::try_from(self.pushes).unwrap_or(0),
            failures: u64::try_from(self.failures).unwrap_or(0),
            latencies,
        })
    }
}

/// The account's pushes per storefront and minute since `since` (the rollups migration 0033's
/// triggers keep), and how many changes are still in flight, for the health panel.
pub async fn pushes_since(
    db: &D1Database,
    account: AccountId,
    since: i64,
) -> Result<(Vec<MinuteRollup>, u64), ApiError> {
    let rows = db
        .prepare(
            "SELECT minute, storefront_id, storefront, pushes, failures, latencies \
             FROM push_minutes WHERE account_id = ?1 AND minute >= ?2 AND pushes > 0",
        )
        .bind(&[int(account.0), int(since)])?;
    let pending = db
        .prepare(
            "SELECT COUNT(*) AS n FROM sync_outbox WHERE account_id = ?1 AND status = 'pending'",
        )
        .bind(&[int(account.0)])?;
    let results = db.batch(vec![rows, pending]).await?;
    let in_flight = results[1].results::<Count>()?.first().map_or(0, |c| c.n);
    let rollups = results[0]
        .results::<MinuteRow>()?
        .into_iter()
        .map(MinuteRow::into_rollup)
        .collect::<Result<_, _>>()?;
    Ok((rollups, in_flight))
}

/// One history row to write.
pub struct Record<'a> {
    pub account_id: i64,
    pub product_id: i64,
    pub outbox_id: i64,
    pub trigger: SyncTrigger,
    pub attempt: u32,
    pub changed_at: Option<i64>,
    pub now: i64,
    pub listing_id: Option<i64>,
    pub storefront_id: Option<i64>,
    pub storefront: Option<&'a str>,
    pub quantity: i64,
    pub status: SyncStatus,
    pub message: &'a str,
    pub action: Option<&'a str>,
    pub breakdown: Option<String>,
    pub answer: Option<&'a str>,
    pub failure: Option<&'a str>,
}

/// The write of one row, unique per (outbox entry, listing, attempt). A row still `queued` or
/// `sent` is a placeholder that the attempt's outcome replaces in place (so the seller sees one
/// row move on); a row with an outcome is never rewritten, so a redelivered message writes
/// nothing new.
pub fn insert(db: &D1Database, r: &Record<'_>) -> Result<D1PreparedStatement, ApiError> {
    Ok(db
        .prepare(
            "INSERT INTO sync_history \
             (account_id, product_id, outbox_id, listing_id, storefront_id, storefront, trigger, \
              quantity, status, message, action, attempt, breakdown, answer, failure, changed_at, \
              created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17) \
             ON CONFLICT (outbox_id, ifnull(listing_id, 0), attempt) DO UPDATE SET \
               quantity = excluded.quantity, status = excluded.status, message = excluded.message, \
               action = excluded.action, breakdown = excluded.breakdown, answer = excluded.answer, \
               failure = excluded.failure, created_at = excluded.created_at \
             WHERE sync_history.status IN ('queued', 'sent')",
        )
        .bind(&[
            int(r.account_id),
            int(r.product_id),
            int(r.outbox_id),
            opt_int(r.listing_id),
            opt_int(r.storefront_id),
            opt_text(r.storefront),
            text(r.trigger.as_str()),
            int(r.quantity),
            text(r.status.as_str()),
            text(r.message),
            opt_text(r.action),
            int(i64::from(r.attempt)),
            opt_text(r.breakdown.as_deref()),
            opt_text(r.answer),
            opt_text(r.failure),
            opt_int(r.changed_at),
            int(r.now),
        ])?)
}

/// The listing's last successful push turns out refused (the storefront said so later): that
/// row becomes a failure with the storefront's words and what to do.
pub fn refused_later(
    db: &D1Database,
    account: AccountId,
    listing_id: i64,
    later: &RefusedLater<'_>,
) -> Result<D1PreparedStatement, ApiError> {
    Ok(db
        .prepare(
            "UPDATE sync_history SET status = 'failed', message = ?3, action = ?4, \
               answer = ?5, failure = ?6 \
             WHERE id = (SELECT id FROM sync_history WHERE account_id = ?1 AND listing_id = ?2 \
               AND status = 'succeeded' ORDER BY id DESC LIMIT 1)",
        )
        .bind(&[
            int(account.0),
            int(listing_id),
            text(later.message),
            text(later.action),
            text(later.answer),
            text(later.failure),
        ])?)
}

/// What a later refusal writes over a success.
pub struct RefusedLater<'a> {
    pub message: &'a str,
    pub action: &'a str,
    pub answer: &'a str,
    /// The failure as JSON, as other failed rows keep it.
    pub failure: &'a str,
}

/// When outbox entries close, the placeholders no outcome replaced: `queued` rows (the push
/// went out under a later attempt or a newer change, which has its own row) are removed, and
/// `sent` rows (the answer was lost to a restart) say so.
pub fn settle_placeholders(
    db: &D1Database,
    account: AccountId,
    outbox_ids: &[i64],
) -> Result<Vec<D1PreparedStatement>, ApiError> {
    let ids = serde_json::to_string(outbox_ids).map_err(|e| ApiError::Internal(e.to_string()))?;
    let which = "account_id = ?1 AND outbox_id IN (SELECT value FROM json_each(?2))";
    Ok(vec![
        db.prepare(format!(
            "DELETE FROM sync_history WHERE {which} AND status = 'queued'"
        ))
        .bind(&[int(account.0), text(&ids)])?,
        // The message is written whole from the row's own columns, so settling twice gives the
        // same words (no reading of the old message to see whether it was done).
        db.prepare(format!(
            "UPDATE sync_history SET message = 'Sent ' || quantity || ' to ' || \
               ifnull(storefront, 'the storefront') || '; no answer was recorded (the worker \
               restarted). A later attempt pushed the current quantity.' \
             WHERE {which} AND status = 'sent'"
        ))
        .bind(&[int(account.0), text(&ids)])?,
    ])
}

/// When an outbox entry is given up on (another listing's push used every retry), the pushes
/// of its other listings that were still waiting did not happen: their `queued` rows become
/// `failed`, saying so and what to do, rather than vanishing.
pub fn abandon_placeholders(
    db: &D1Database,
    account: AccountId,
    outbox_id: i64,
    now: i64,
) -> Result<D1PreparedStatement, ApiError> {
    Ok(db
        .prepare(
            "UPDATE sync_history SET status = 'failed', created_at = ?3, \
               message = 'Not pushed: this change was given up on for another listing while this \
                 one waited. (' || message || ')', \
               action = 'Press Sync Now on the product to push its current quantity (after \
                 midnight UTC if the listing is over its daily cap).' \
             WHERE account_id = ?1 AND outbox_id = ?2 AND status = 'queued' \
               AND listing_id IS NOT NULL",
        )
        .bind(&[int(account.0), int(outbox_id), int(now)])?)
}

/// The last failure recorded for each listing of an outbox entry that is still retrying, for
/// the dead-letter consumer's final word.
#[derive(Deserialize)]
pub struct LastFailure {
    pub listing_id: i64,
    pub storefront_id: i64,
    pub storefront: String,
    pub storefront_kind: String,
    pub quantity: i64,
    pub failure: String,
    pub attempt: i64,
    pub breakdown: Option<String>,
}

pub async fn retrying(
    db: &D1Database,
    account: AccountId,
    outbox_id: i64,
) -> Result<Vec<LastFailure>, ApiError> {
    Ok(db
        .prepare(
            "SELECT h.listing_id, h.storefront_id, h.storefront, h.quantity, h.failure, h.attempt, \
                    h.breakdown, \
                    (SELECT kind FROM storefronts s WHERE s.id = h.storefront_id) AS storefront_kind \
             FROM sync_history h WHERE h.account_id = ?1 AND h.outbox_id = ?2 \
               AND h.status = 'retrying' AND h.failure IS NOT NULL \
               AND h.attempt = (SELECT MAX(attempt) FROM sync_history g \
                                WHERE g.outbox_id = h.outbox_id AND g.listing_id = h.listing_id)",
        )
        .bind(&[int(account.0), int(outbox_id)])?
        .all()
        .await?
        .results::<LastFailure>()?)
}
