//! The `listings` table: where each product is sold, and so where Auto Sync pushes.

use crate::db::int;
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::sync::ActiveListing;
use tally_domain::{AccountId, ProductId};
use worker::D1Database;

#[derive(Deserialize)]
struct ListingRow {
    id: i64,
    storefront_name: String,
}

/// The product's listings that are active on an active storefront.
pub async fn active_for_product(
    db: &D1Database,
    account: AccountId,
    product: ProductId,
) -> Result<Vec<ActiveListing>, ApiError> {
    let rows = db
        .prepare(
            "SELECT l.id AS id, s.name AS storefront_name \
             FROM listings l JOIN storefronts s ON s.id = l.storefront_id \
             WHERE l.account_id = ?1 AND l.product_id = ?2 AND l.active = 1 AND s.active = 1 \
             ORDER BY l.id",
        )
        .bind(&[int(account.0), int(product.0)])?
        .all()
        .await?
        .results::<ListingRow>()?;
    Ok(rows
        .into_iter()
        .map(|r| ActiveListing {
            listing_id: r.id,
            storefront_name: r.storefront_name,
        })
        .collect())
}
