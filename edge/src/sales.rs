//! Sales: the one path every order takes, whoever reports it: the app, an integration's API
//! call, a storefront's webhook or Tally reading a storefront's recent orders. An order
//! applies once per (storefront, order id) whatever arrives first or how often; a
//! cancellation or refund puts back exactly what it took; an unknown SKU becomes a product at
//! 0 (order import, Auto Sync as the seller's rule says). What changed is pushed to every
//! listing at once, the storefront where the sale happened included.

use crate::bindings::DB;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::store::orders::{self, Applied, Heard, OrderRow};
use crate::store::{outbox, products, rules};
use tally_domain::actor::Actor;
use tally_domain::order::Order;
use tally_domain::{AccountId, CreatedVia};
use worker::{D1Database, Env};

/// Reads-then-writes retried when a concurrent refund or cancellation moved under them.
const ATTEMPTS: usize = 5;

/// What became of a report of an order.
pub struct Outcome {
    pub order: OrderRow,
    /// The order (or this cancellation or refund) was applied before: nothing changed now.
    pub already: bool,
}

/// Applies a sale once.
pub async fn place(
    env: &Env,
    account: AccountId,
    actor: &Actor,
    order: &Order,
    heard: &Heard,
) -> Result<Outcome, ApiError> {
    let db = env.d1(DB)?;
    if let Some(row) = orders::find(&db, account, &order.storefront, &order.order_id).await? {
        return Ok(Outcome {
            order: row,
            already: true,
        });
    }
    let new_skus = unknown_skus(&db, account, order).await?;
    let new_auto_sync = !new_skus.is_empty()
        && rules::load(&db, account)
            .await?
            .starts_on(CreatedVia::OrderImport);
    let applied = orders::apply(
        &db,
        account,
        actor,
        order,
        heard,
        &new_skus,
        new_auto_sync,
        now_ms(),
    )
    .await?;
    let already = settle(env, account, applied).await;
    Ok(Outcome {
        order: found(&db, account, &order.storefront, &order.order_id).await?,
        already,
    })
}

/// Cancels an order; `None` when the storefront never reported it.
pub async fn cancel(
    env: &Env,
    account: AccountId,
    actor: &Actor,
    storefront: &str,
    order_id: &str,
) -> Result<Option<Outcome>, ApiError> {
    let db = env.d1(DB)?;
    change_reported(env, account, (storefront, order_id), |row| {
        let db = &db;
        async move { orders::cancel(db, account, actor, &row, now_ms()).await }
    })
    .await
}

/// Puts back a refund's restocked units (`lines`: SKU, units); `None` when the storefront
/// never reported the order.
pub async fn restock(
    env: &Env,
    account: AccountId,
    actor: &Actor,
    order: (&str, &str),
    refund_id: &str,
    lines: &[(String, i64)],
) -> Result<Option<Outcome>, ApiError> {
    let db = env.d1(DB)?;
    change_reported(env, account, order, |row| {
        let db = &db;
        async move { orders::restock(db, account, actor, &row, refund_id, lines, now_ms()).await }
    })
    .await
}

/// Reads the order and applies `write` to it, again while a concurrent refund or
/// cancellation moves under it; `None` when the order was never reported.
async fn change_reported<F, Fut>(
    env: &Env,
    account: AccountId,
    (storefront, order_id): (&str, &str),
    write: F,
) -> Result<Option<Outcome>, ApiError>
where
    F: Fn(OrderRow) -> Fut,
    Fut: std::future::Future<Output = Result<Applied, ApiError>>,
{
    let db = env.d1(DB)?;
    for _ in 0..ATTEMPTS {
        let Some(row) = orders::find(&db, account, storefront, order_id).await? else {
            return Ok(None);
        };
        let applied = write(row).await?;
        if matches!(applied, Applied::Conflict) {
            continue;
        }
        let already = settle(env, account, applied).await;
        return Ok(Some(Outcome {
            order: found(&db, account, storefront, order_id).await?,
            already,
        }));
    }
    Err(busy())
}

/// Sends what a write queued; true when the write found it done before.
async fn settle(env: &Env, account: AccountId, applied: Applied) -> bool {
    match applied {
        Applied::New(queued) => {
            outbox::send_queued(env, account, &queued).await;
            false
        }
        Applied::Already | Applied::Conflict => true,
    }
}

async fn unknown_skus<'a>(
    db: &D1Database,
    account: AccountId,
    order: &'a Order,
) -> Result<Vec<&'a str>, ApiError> {
    // One query for every line, not one per line.
    let skus: Vec<&str> = order.lines.iter().map(|(sku, _)| sku.as_str()).collect();
    let known = products::ids_by_sku(db, account, &skus).await?;
    Ok(skus
        .into_iter()
        .filter(|s| !known.contains_key(*s))
        .collect())
}

async fn found(
    db: &D1Database,
    account: AccountId,
    storefront: &str,
    order_id: &str,
) -> Result<OrderRow, ApiError> {
    orders::find(db, account, storefront, order_id)
        .await?
        .ok_or_else(|| ApiError::Internal("an order just written is missing".into()))
}

fn busy() -> ApiError {
    ApiError::Busy(
        "This order kept changing while Tally applied it (refunds or cancellations arriving \
         at once); nothing was applied. Try again."
            .into(),
    )
}
