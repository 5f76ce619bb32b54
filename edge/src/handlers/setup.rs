//! The first-run checklist's facts: has the seller connected a storefront, added products,
//! linked a listing, turned Auto Sync on? Each is an EXISTS, so the answer costs the same for
//! ten products or a hundred thousand.

use crate::bindings::DB;
use crate::db::int;
use crate::error::ApiError;
use crate::request::ok;
use serde::Deserialize;
use tally_domain::api::SetupSteps;
use tally_domain::AccountId;
use worker::{Env, Response};

#[derive(Deserialize)]
struct Row {
    storefront: i64,
    products: i64,
    listing: i64,
    auto_sync: i64,
}

/// `GET /api/v1/setup`.
pub async fn get(env: &Env, account: AccountId) -> Result<Response, ApiError> {
    let row = env
        .d1(DB)?
        .prepare(
            "SELECT EXISTS (SELECT 1 FROM storefronts WHERE account_id = ?1) AS storefront, \
                    EXISTS (SELECT 1 FROM products WHERE account_id = ?1) AS products, \
                    EXISTS (SELECT 1 FROM listings WHERE account_id = ?1) AS listing, \
                    EXISTS (SELECT 1 FROM products WHERE account_id = ?1 AND auto_sync = 1) \
                      AS auto_sync",
        )
        .bind(&[int(account.0)])?
        .first::<Row>(None)
        .await?
        .ok_or_else(|| ApiError::Internal("the setup query returned no row".into()))?;
    ok(&SetupSteps {
        storefront: row.storefront == 1,
        products: row.products == 1,
        listing: row.listing == 1,
        auto_sync: row.auto_sync == 1,
    })
}
