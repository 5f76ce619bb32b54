//! `GET /api/v1/sync-history`: the Inventory Sync History, newest first.

use crate::bindings::DB;
use crate::error::ApiError;
use crate::request::{ok, query_param};
use crate::store::history;
use tally_domain::api::{FieldError, SyncHistoryPage};
use tally_domain::{AccountId, PageRequest, ProductId};
use worker::{Env, Request, Response};

/// One page of history, optionally for one product (`?product_id=`).
pub async fn list(req: &Request, env: &Env, account: AccountId) -> Result<Response, ApiError> {
    let paging = super::products::paging(req)?;
    let product = match query_param(req, "product_id")? {
        None => None,
        Some(raw) => Some(ProductId(raw.parse().map_err(|_| {
            FieldError::new(
                "product_id",
                format!("product_id must be a product id, not `{raw}`"),
            )
        })?)),
    };
    let (items, total) = history::page(&env.d1(DB)?, account, product, paging).await?;
    ok(&page(items, total, paging))
}

fn page(
    items: Vec<tally_domain::api::SyncHistoryEntry>,
    total: u64,
    paging: PageRequest,
) -> SyncHistoryPage {
    SyncHistoryPage {
        items,
        page: paging.page,
        per_page: paging.per_page.rows(),
        total,
    }
}
