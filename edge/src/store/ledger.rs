//! The `quantity_changes` table read back: a product's ledger, newest first, each line with
//! who made it as the seller reads it.

use crate::db::int;
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::actor::label_of;
use tally_domain::api::LedgerEntry;
use tally_domain::{AccountId, ProductId};
use worker::D1Database;

#[derive(Deserialize)]
struct Row {
    id: i64,
    before: i64,
    after: i64,
    delta: i64,
    source: String,
    reference: Option<String>,
    reason: String,
    actor: String,
    created_at: i64,
}

/// The product's newest `limit` ledger lines.
pub async fn for_product(
    db: &D1Database,
    account: AccountId,
    product: ProductId,
    limit: u32,
) -> Result<Vec<LedgerEntry>, ApiError> {
    let rows = db
        .prepare(
            "SELECT id, before, after, delta, source, reference, reason, actor, created_at \
             FROM quantity_changes \
             WHERE account_id = ?1 AND product_id = ?2 ORDER BY id DESC LIMIT ?3",
        )
        .bind(&[int(account.0), int(product.0), int(i64::from(limit))])?
        .all()
        .await?
        .results::<Row>()?;
    Ok(rows
        .into_iter()
        .map(|r| LedgerEntry {
            id: r.id,
            before: r.before,
            after: r.after,
            delta: r.delta,
            source: r.source,
            reference: r
                .reference
                .map(|r| tally_domain::order::readable_reference(&r)),
            reason: r.reason,
            actor: label_of(&r.actor),
            created_at: r.created_at,
        })
        .collect())
}
