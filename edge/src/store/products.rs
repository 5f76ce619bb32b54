//! The `products` table and the atomic write of a quantity change (product + ledger + outbox).

use super::{changes, inserted_id, Count};
use crate::db::{flag, int, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::api::Product;
use tally_domain::sync::SyncTrigger;
use tally_domain::{AccountId, PageRequest, ProductId, Quantity, Sku};
use worker::D1Database;

const COLUMNS: &str =
    "id, sku, name, quantity, auto_sync, created_via, version, created_at, updated_at";

/// A product row as D1 returns it (booleans are 0/1 integers).
#[derive(Debug, Deserialize)]
pub struct ProductRow {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub auto_sync: i64,
    pub created_via: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ProductRow {
    /// The quantity on hand as a domain value.
    pub fn on_hand(&self) -> Result<Quantity, ApiError> {
        Quantity::new(self.quantity)
            .map_err(|_| ApiError::Internal(format!("product {} has a bad quantity", self.id)))
    }

    /// The wire shape. Stored rows passed the same checks on the way in, so a failure here
    /// means the database was edited by hand: reported as internal, never shown raw.
    pub fn into_product(self) -> Result<Product, ApiError> {
        let bad = |what: &str| ApiError::Internal(format!("product {} has a bad {what}", self.id));
        Ok(Product {
            id: ProductId(self.id),
            sku: Sku::parse(&self.sku).map_err(|_| bad("sku"))?,
            quantity: Quantity::new(self.quantity).map_err(|_| bad("quantity"))?,
            created_via: self.created_via.parse().map_err(|_| bad("created_via"))?,
            auto_sync: self.auto_sync == 1,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            name: self.name,
        })
    }
}

/// One page of the account's products, ordered by SKU, and the total count.
pub async fn page(
    db: &D1Database,
    account: AccountId,
    paging: PageRequest,
) -> Result<(Vec<ProductRow>, u64), ApiError> {
    let rows = db
        .prepare(format!(
            "SELECT {COLUMNS} FROM products WHERE account_id = ?1 ORDER BY sku LIMIT ?2 OFFSET ?3"
        ))
        .bind(&[
            int(account.0),
            int(i64::from(paging.limit())),
            int(paging.offset() as i64),
        ])?;
    let count = db
        .prepare("SELECT COUNT(*) AS n FROM products WHERE account_id = ?1")
        .bind(&[int(account.0)])?;
    let results = db.batch(vec![rows, count]).await?;
    let total = results[1].results::<Count>()?.first().map_or(0, |c| c.n);
    Ok((results[0].results::<ProductRow>()?, total))
}

/// One product of the account, if it exists there.
pub async fn find(
    db: &D1Database,
    account: AccountId,
    id: ProductId,
) -> Result<Option<ProductRow>, ApiError> {
    Ok(db
        .prepare(format!(
            "SELECT {COLUMNS} FROM products WHERE id = ?1 AND account_id = ?2"
        ))
        .bind(&[int(id.0), int(account.0)])?
        .first::<ProductRow>(None)
        .await?)
}

/// Turns Auto Sync on or off. Writes nothing else: turning Auto Sync on pushes nothing.
/// Returns false when the account has no such product.
pub async fn set_auto_sync(
    db: &D1Database,
    account: AccountId,
    id: ProductId,
    on: bool,
    now: i64,
) -> Result<bool, ApiError> {
    let result = db
        .prepare(
            "UPDATE products SET auto_sync = ?1, updated_at = ?2 WHERE id = ?3 AND account_id = ?4",
        )
        .bind(&[flag(on), int(now), int(id.0), int(account.0)])?
        .run()
        .await?;
    Ok(changes(&result)? == 1)
}

/// A change to one product's quantity, decided by the domain from the row it read.
pub struct QuantityWrite<'a> {
    pub account: AccountId,
    pub product: &'a ProductRow,
    pub after: Quantity,
    pub source: &'static str,
    pub reference: Option<&'a str>,
    pub reason: &'a str,
    pub trigger: SyncTrigger,
    pub now: i64,
}

/// What became of a [`QuantityWrite`].
pub enum Written {
    /// Applied. `outbox_id` is set when Auto Sync was on and a push was queued in the outbox.
    Applied { outbox_id: Option<i64> },
    /// The product changed since it was read (another change won the race); nothing was
    /// written. Read again and recompute.
    Stale,
}

/// Applies a quantity change in one D1 batch (one transaction): the product update is
/// conditional on the version that was read, and the ledger entry and the outbox entry are each
/// conditional on the statement before having written a row (`changes() = 1`). So either all
/// three land or none does, and a concurrent change can never be overwritten.
pub async fn write_quantity(db: &D1Database, w: &QuantityWrite<'_>) -> Result<Written, ApiError> {
    let p = w.product;
    let new_version = p.version + 1;
    let after = w.after.get();
    let update = db
        .prepare(
            "UPDATE products SET quantity = ?1, version = ?2, updated_at = ?3 \
             WHERE id = ?4 AND account_id = ?5 AND version = ?6",
        )
        .bind(&[
            int(after),
            int(new_version),
            int(w.now),
            int(p.id),
            int(w.account.0),
            int(p.version),
        ])?;
    let ledger = db
        .prepare(
            "INSERT INTO quantity_changes \
             (account_id, product_id, before, after, delta, source, reference, reason, version, created_at) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10 WHERE changes() = 1",
        )
        .bind(&[
            int(w.account.0),
            int(p.id),
            int(p.quantity),
            int(after),
            int(after - p.quantity),
            text(w.source),
            crate::db::opt_text(w.reference),
            text(w.reason),
            int(new_version),
            int(w.now),
        ])?;
    // Auto Sync is read inside the transaction, so a toggle racing this change is respected.
    let outbox = db
        .prepare(
            "INSERT INTO sync_outbox (account_id, product_id, version, trigger, created_at, updated_at) \
             SELECT account_id, id, version, ?1, ?2, ?2 FROM products \
             WHERE id = ?3 AND account_id = ?4 AND auto_sync = 1 AND changes() = 1",
        )
        .bind(&[text(w.trigger.as_str()), int(w.now), int(p.id), int(w.account.0)])?;
    let results = db.batch(vec![update, ledger, outbox]).await?;
    if changes(&results[0])? == 0 {
        return Ok(Written::Stale);
    }
    Ok(Written::Applied {
        outbox_id: inserted_id(&results[2])?,
    })
}
