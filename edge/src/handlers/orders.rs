//! Sales orders: entered by hand or imported by an integration. An order applies once per
//! (storefront, order id); a cancellation puts back what it took. Storefront webhooks will call
//! the same path.

use crate::bindings::DB;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::request::{json_body, json_response, ok, MAX_JSON_BODY};
use crate::store::orders::{self, Applied};
use crate::store::{outbox, products, rules};
use tally_domain::actor::Actor;
use tally_domain::order::{CancelOrder, OrderIn, OrderOut};
use tally_domain::{AccountId, CreatedVia};
use worker::{Env, Request, Response};

/// `POST /api/v1/orders`: 201 when applied now, 200 with `already_applied` for a repeat.
pub async fn import(
    req: &mut Request,
    env: &Env,
    account: AccountId,
    actor: &Actor,
) -> Result<Response, ApiError> {
    let body: OrderIn = json_body(req, MAX_JSON_BODY).await?;
    let order = body.check()?;
    let units: Vec<(String, i64)> = order
        .lines
        .iter()
        .map(|(s, n)| (s.to_string(), *n))
        .collect();
    let db = env.d1(DB)?;
    let now = now_ms();
    if let Some(row) = orders::find(&db, account, &order.storefront, &order.order_id).await? {
        return ok(&orders::report(&db, account, &row, &units, true).await?);
    }
    let mut new_skus = Vec::new();
    for (sku, _) in &order.lines {
        if products::find_by_sku(&db, account, sku.as_str())
            .await?
            .is_none()
        {
            new_skus.push(sku.as_str());
        }
    }
    let new_auto_sync = !new_skus.is_empty()
        && rules::load(&db, account)
            .await?
            .starts_on(CreatedVia::OrderImport);
    let applied = orders::apply(&db, account, actor, &order, &new_skus, new_auto_sync, now).await?;
    let row = orders::find(&db, account, &order.storefront, &order.order_id)
        .await?
        .ok_or_else(|| ApiError::Internal("the order is missing".into()))?;
    let (status, already) = match applied {
        Applied::New(queued) => {
            outbox::send_queued(env, account, &queued).await;
            (201, false)
        }
        Applied::Already => (200, true),
    };
    let report: OrderOut = orders::report(&db, account, &row, &units, already).await?;
    Ok(json_response(&report, status))
}

/// `POST /api/v1/orders/cancel`: puts back what the order took (not its oversold units).
pub async fn cancel(
    req: &mut Request,
    env: &Env,
    account: AccountId,
    actor: &Actor,
) -> Result<Response, ApiError> {
    let body: CancelOrder = json_body(req, MAX_JSON_BODY).await?;
    let db = env.d1(DB)?;
    let storefront = body.storefront_key();
    let row = orders::find(&db, account, &storefront, body.order_id.trim())
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    let applied = orders::cancel(&db, account, actor, &row, now_ms()).await?;
    let already = match applied {
        Applied::New(queued) => {
            outbox::send_queued(env, account, &queued).await;
            false
        }
        Applied::Already => true,
    };
    let row = orders::find(&db, account, &row.storefront, &row.order_id)
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    ok(&orders::report(&db, account, &row, &[], already).await?)
}

/// `GET /api/v1/orders`: the newest 50.
pub async fn list(env: &Env, account: AccountId) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    let mut out = Vec::new();
    for row in orders::recent(&db, account).await? {
        out.push(orders::report(&db, account, &row, &[], false).await?);
    }
    ok(&out)
}
