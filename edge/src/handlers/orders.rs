//! Sales orders entered in the app or sent by an integration: thin wrappers around the one
//! order path ([`crate::sales`]) that storefront webhooks and polling take too.

use crate::bindings::DB;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::request::{idempotency_key, json_body, json_response, ok, MAX_JSON_BODY};
use crate::sales;
use crate::store::orders::{self, Heard};
use crate::store::products;
use tally_domain::actor::Actor;
use tally_domain::api::FieldError;
use tally_domain::order::{describe_request, CancelOrder, OrderIn, OrderOut, OrderSource};
use tally_domain::AccountId;
use worker::{Env, Request, Response};

/// `POST /api/v1/orders`: 201 when applied now, 200 with `already_applied` for a repeat. With
/// an `Idempotency-Key`, a repeat under the key is also marked `Idempotency-Replayed: true`,
/// and another order under it is a 409 that changes nothing.
pub async fn import(
    req: &mut Request,
    env: &Env,
    account: AccountId,
    actor: &Actor,
) -> Result<Response, ApiError> {
    let idempotency = idempotency_key(req)?;
    let body: OrderIn = json_body(req, MAX_JSON_BODY).await?;
    let order = body.check()?;
    if body.create_missing == Some(false) {
        refuse_unknown_skus(env, account, &body).await?;
    }
    // The key is claimed once the order is known to be acceptable, so a refused order leaves
    // it free for the corrected one.
    if let Some(key) = &idempotency {
        let asked = order.request_text();
        let first = orders::claim_key(&env.d1(DB)?, account, key, &asked, now_ms()).await?;
        if first != asked {
            return Err(ApiError::Conflict(FieldError::new(
                "Idempotency-Key",
                format!(
                    "this Idempotency-Key was already used for another order ({}): send a new \
                     key for a new order; nothing was applied",
                    describe_request(&first)
                ),
            )));
        }
    }
    let units: Vec<(String, i64)> = order
        .lines
        .iter()
        .map(|(s, n)| (s.to_string(), *n))
        .collect();
    let heard = Heard {
        source: match actor {
            Actor::User { .. } => OrderSource::Manual,
            _ => OrderSource::Api,
        },
        storefront_id: None,
    };
    let outcome = sales::place(env, account, actor, &order, &heard).await?;
    let db = env.d1(DB)?;
    let report: OrderOut =
        orders::report(&db, account, &outcome.order, &units, outcome.already).await?;
    let mut response = json_response(&report, if outcome.already { 200 } else { 201 });
    if idempotency.is_some() && outcome.already {
        response.headers_mut().set("idempotency-replayed", "true")?;
    }
    Ok(response)
}

/// The 422 naming every SKU not in the inventory (the field is the first such line), so the
/// app can ask the seller before the order creates products from typos.
async fn refuse_unknown_skus(
    env: &Env,
    account: AccountId,
    body: &OrderIn,
) -> Result<(), ApiError> {
    let skus: Vec<&str> = body.lines.iter().map(|l| l.sku.as_str()).collect();
    let known = products::ids_by_sku(&env.d1(DB)?, account, &skus).await?;
    let unknown: Vec<(usize, &str)> = skus
        .iter()
        .enumerate()
        .filter(|(_, sku)| !known.contains_key(**sku))
        .map(|(i, sku)| (i, *sku))
        .collect();
    let Some((first, _)) = unknown.first() else {
        return Ok(());
    };
    let named: Vec<&str> = unknown.iter().map(|(_, sku)| *sku).collect();
    let message = match named.as_slice() {
        [one] => format!(
            "{one} is not in your inventory: check the SKU, or add it as a new product at quantity 0"
        ),
        many => format!(
            "{} are not in your inventory: check the SKUs, or add them as new products at quantity 0",
            many.join(", ")
        ),
    };
    Err(FieldError::new(format!("lines[{first}].sku"), message).into())
}

/// `POST /api/v1/orders/cancel`: puts back what the order took (not its oversold units).
pub async fn cancel(
    req: &mut Request,
    env: &Env,
    account: AccountId,
    actor: &Actor,
) -> Result<Response, ApiError> {
    let body: CancelOrder = json_body(req, MAX_JSON_BODY).await?;
    let storefront = body.storefront_key();
    let outcome = sales::cancel(env, account, actor, &storefront, body.order_id.trim())
        .await?
        .ok_or(ApiError::NotFound("order"))?;
    let db = env.d1(DB)?;
    ok(&orders::report(&db, account, &outcome.order, &[], outcome.already).await?)
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
