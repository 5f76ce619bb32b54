//! Inventory Sync History (`GET /api/v1/sync-history`) and its health panel
//! (`GET /api/v1/sync-health`).

use crate::bindings::DB;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::request::{ok, query_param};
use crate::store::history::{self, HistoryFilter};
use crate::store::{drift, orders};
use tally_domain::api::{FieldError, SyncHistoryPage};
use tally_domain::sync::SyncStatus;
use tally_domain::sync_health::{summarize, with_orders_heard};
use tally_domain::{AccountId, ProductId};
use worker::{Env, Request, Response};

/// One page of history, filtered by `product_id`, `status`, `storefront_id`, `sku` (prefix),
/// and `from`/`to` (milliseconds since the epoch).
pub async fn list(req: &Request, env: &Env, account: AccountId) -> Result<Response, ApiError> {
    let paging = super::products::paging(req)?;
    let filter = HistoryFilter {
        product: number(req, "product_id")?.map(ProductId),
        status: status(req)?,
        storefront_id: number(req, "storefront_id")?,
        sku: query_param(req, "sku")?
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        from: number(req, "from")?,
        to: number(req, "to")?,
    };
    let (items, total) = history::page(&env.d1(DB)?, account, &filter, paging).await?;
    ok(&SyncHistoryPage {
        items,
        page: paging.page,
        per_page: paging.per_page.rows(),
        total,
    })
}

/// The last hour of pushes, per minute and per storefront.
pub async fn health(env: &Env, account: AccountId) -> Result<Response, ApiError> {
    const MINUTES: i64 = 60;
    let now = now_ms();
    let db = env.d1(DB)?;
    let since = now - MINUTES * 60_000;
    let (records, in_flight) = history::pushes_since(&db, account, since).await?;
    let heard = orders::heard_since(&db, account, since).await?;
    let mut health = with_orders_heard(summarize(&records, now, MINUTES, in_flight), heard);
    health.drift = drift::open_count(&db, account).await?;
    ok(&health)
}

fn number(req: &Request, name: &'static str) -> Result<Option<i64>, ApiError> {
    match query_param(req, name)?.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => raw.parse().map(Some).map_err(|_| {
            FieldError::new(name, format!("{name} must be a whole number, not `{raw}`")).into()
        }),
    }
}

fn status(req: &Request) -> Result<Option<SyncStatus>, ApiError> {
    match query_param(req, "status")?.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(raw) => serde_json::from_value(serde_json::Value::String(raw.clone()))
            .map(Some)
            .map_err(|_| {
                FieldError::new(
                    "status",
                    format!("status must be queued, sent, succeeded, retrying, failed or skipped, not `{raw}`"),
                )
                .into()
            }),
    }
}
