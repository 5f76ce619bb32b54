//! The `sync_history` table: what Auto Sync did for every change, as the seller sees it.

use super::Count;
use crate::db::{int, opt_int, opt_text, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::api::SyncHistoryEntry;
use tally_domain::sync::{PlannedEntry, SyncStatus, SyncTrigger};
use tally_domain::{AccountId, PageRequest, ProductId};
use worker::{D1Database, D1PreparedStatement};

#[derive(Deserialize)]
struct HistoryRow {
    id: i64,
    created_at: i64,
    product_id: i64,
    sku: String,
    storefront: Option<String>,
    trigger: String,
    quantity: i64,
    status: String,
    message: String,
    action: Option<String>,
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

/// One page of the account's history, newest first, optionally for one product.
pub async fn page(
    db: &D1Database,
    account: AccountId,
    product: Option<ProductId>,
    paging: PageRequest,
) -> Result<(Vec<SyncHistoryEntry>, u64), ApiError> {
    let product = opt_int(product.map(|p| p.0));
    let rows = db
        .prepare(
            "SELECT h.id, h.created_at, h.product_id, p.sku, h.storefront, h.trigger, h.quantity, \
                    h.status, h.message, h.action \
             FROM sync_history h JOIN products p ON p.id = h.product_id \
             WHERE h.account_id = ?1 AND (?2 IS NULL OR h.product_id = ?2) \
             ORDER BY h.id DESC LIMIT ?3 OFFSET ?4",
        )
        .bind(&[
            int(account.0),
            product.clone(),
            int(i64::from(paging.limit())),
            int(paging.offset() as i64),
        ])?;
    let count = db
        .prepare(
            "SELECT COUNT(*) AS n FROM sync_history \
             WHERE account_id = ?1 AND (?2 IS NULL OR product_id = ?2)",
        )
        .bind(&[int(account.0), product])?;
    let results = db.batch(vec![rows, count]).await?;
    let total = results[1].results::<Count>()?.first().map_or(0, |c| c.n);
    let entries = results[0]
        .results::<HistoryRow>()?
        .into_iter()
        .map(HistoryRow::into_entry)
        .collect::<Result<_, _>>()?;
    Ok((entries, total))
}

/// Where a history entry comes from.
pub struct Origin<'a> {
    pub account_id: i64,
    pub product_id: i64,
    pub outbox_id: i64,
    pub trigger: &'a str,
    pub now: i64,
}

/// The insert of one planned entry. `OR IGNORE` with the unique (outbox, listing) index makes a
/// redelivered message write nothing new.
pub fn insert(
    db: &D1Database,
    origin: &Origin<'_>,
    entry: &PlannedEntry,
) -> Result<D1PreparedStatement, ApiError> {
    Ok(db
        .prepare(
            "INSERT OR IGNORE INTO sync_history \
             (account_id, product_id, outbox_id, listing_id, storefront, trigger, quantity, status, \
              message, action, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )
        .bind(&[
            int(origin.account_id),
            int(origin.product_id),
            int(origin.outbox_id),
            opt_int(entry.listing_id),
            opt_text(entry.storefront_name.as_deref()),
            text(origin.trigger),
            int(entry.quantity),
            text(entry.status.as_str()),
            text(&entry.message),
            opt_text(entry.action.as_deref()),
            int(origin.now),
        ])?)
}
