//! The `orders` table and the atomic write of an order or its cancellation.
//!
//! Order lines decrement with SQL arithmetic (`MAX(0, quantity - n)`, the domain's
//! `order::sell` rule) rather than a read-then-compare-and-set: orders on one SKU then never
//! conflict, however many arrive at once, and each batch is one transaction, so the order row,
//! its ledger lines, the product updates and the outbox entries land together or not at all.

use super::outbox::{self, Queued};
use crate::db::{flag, int, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::actor::Actor;
use tally_domain::order::{Order, OrderLineOut, OrderOut};
use tally_domain::sync::SyncTrigger;
use tally_domain::AccountId;
use worker::{D1Database, D1PreparedStatement};

#[derive(Debug, Deserialize)]
pub struct OrderRow {
    pub storefront: String,
    pub order_id: String,
    pub status: String,
    pub created_at: i64,
}

#[derive(Debug, Deserialize)]
struct LineRow {
    product_id: i64,
    sku: String,
    before: i64,
    after: i64,
}

/// One order of the account.
pub async fn find(
    db: &D1Database,
    account: AccountId,
    storefront: &str,
    order_id: &str,
) -> Result<Option<OrderRow>, ApiError> {
    Ok(db
        .prepare(
            "SELECT storefront, order_id, status, created_at FROM orders \
             WHERE account_id = ?1 AND storefront = ?2 AND order_id = ?3",
        )
        .bind(&[int(account.0), text(storefront), text(order_id)])?
        .first::<OrderRow>(None)
        .await?)
}

/// The account's newest orders.
pub async fn recent(db: &D1Database, account: AccountId) -> Result<Vec<OrderRow>, ApiError> {
    Ok(db
        .prepare(
            "SELECT storefront, order_id, status, created_at FROM orders \
             WHERE account_id = ?1 ORDER BY id DESC LIMIT 50",
        )
        .bind(&[int(account.0)])?
        .all()
        .await?
        .results::<OrderRow>()?)
}

/// The order as the API reports it, from its ledger lines. `units` gives each SKU's ordered
/// units, to report the oversell.
pub async fn report(
    db: &D1Database,
    account: AccountId,
    row: &OrderRow,
    units: &[(String, i64)],
    already_applied: bool,
) -> Result<OrderOut, ApiError> {
    let reference = format!("{}:{}", row.storefront, row.order_id);
    let lines = db
        .prepare(
            "SELECT q.product_id AS product_id, p.sku AS sku, q.before AS before, q.after AS after \
             FROM quantity_changes q JOIN products p ON p.id = q.product_id \
             WHERE q.account_id = ?1 AND q.source = 'order' AND q.reference = ?2 ORDER BY q.id",
        )
        .bind(&[int(account.0), text(&reference)])?
        .all()
        .await?
        .results::<LineRow>()?;
    Ok(OrderOut {
        storefront: row.storefront.clone(),
        order_id: row.order_id.clone(),
        status: row.status.clone(),
        lines: lines
            .into_iter()
            .map(|l| {
                let ordered = units
                    .iter()
                    .find(|(s, _)| *s == l.sku)
                    .map_or(0, |(_, n)| *n);
                OrderLineOut {
                    oversold: (ordered - (l.before - l.after)).max(0),
                    sku: l.sku,
                    product_id: l.product_id,
                    before: l.before,
                    after: l.after,
                }
            })
            .collect(),
        already_applied,
        created_at: row.created_at,
    })
}

/// A change of one product's quantity by the SQL expression `after` (in terms of `quantity`
/// and `?3`, the amount).
struct LineChange<'a> {
    sku: &'a str,
    after: &'static str,
    amount: i64,
    reference: &'a str,
    reason: String,
    actor: &'a Actor,
    now: i64,
}

/// The ledger line, the product update and (if Auto Sync is on) the outbox entry of a change.
fn change_statements(
    db: &D1Database,
    account: AccountId,
    c: &LineChange<'_>,
) -> Result<Vec<D1PreparedStatement>, ApiError> {
    let (sku, after, amount, now) = (c.sku, c.after, c.amount, c.now);
    let ledger = db
        .prepare(format!(
            "INSERT INTO quantity_changes \
             (account_id, product_id, before, after, delta, source, reference, reason, version, created_at, actor) \
             SELECT account_id, id, quantity, {after}, ({after}) - quantity, 'order', ?4, ?5, version + 1, ?6, ?7 \
             FROM products WHERE account_id = ?1 AND sku = ?2"
        ))
        .bind(&[
            int(account.0),
            text(sku),
            int(amount),
            text(c.reference),
            text(&c.reason),
            int(now),
            text(&c.actor.stored()),
        ])?;
    let update = db
        .prepare(format!(
            "UPDATE products SET quantity = {after}, version = version + 1, updated_at = ?4 \
             WHERE account_id = ?1 AND sku = ?2"
        ))
        .bind(&[int(account.0), text(sku), int(amount), int(now)])?;
    let outbox = db
        .prepare(
            "INSERT INTO sync_outbox (account_id, product_id, version, trigger, created_at, updated_at) \
             SELECT account_id, id, version, 'order', ?3, ?3 FROM products \
             WHERE account_id = ?1 AND sku = ?2 AND auto_sync = 1",
        )
        .bind(&[int(account.0), text(sku), int(now)])?;
    Ok(vec![ledger, update, outbox])
}

/// What became of an order write.
pub enum Applied {
    New(Vec<Queued>),
    /// The order (or its cancellation) was applied before: nothing changed.
    Already,
}

/// Applies a new order. SKUs in `new_skus` are created first at quantity 0 (`order_import`,
/// Auto Sync as the rule says).
pub async fn apply(
    db: &D1Database,
    account: AccountId,
    actor: &Actor,
    order: &Order,
    new_skus: &[&str],
    new_auto_sync: bool,
    now: i64,
) -> Result<Applied, ApiError> {
    let reference = order.reference();
    let mut statements = vec![
        outbox::mark(db),
        db.prepare(
            "INSERT INTO orders (account_id, storefront, order_id, status, created_at, updated_at) \
             VALUES (?1, ?2, ?3, 'placed', ?4, ?4)",
        )
        .bind(&[int(account.0), text(&order.storefront), text(&order.order_id), int(now)])?,
    ];
    for sku in new_skus {
        statements.push(
            db.prepare(
                "INSERT OR IGNORE INTO products \
                 (account_id, sku, name, quantity, auto_sync, created_via, version, created_at, updated_at) \
                 VALUES (?1, ?2, ?2, 0, ?3, 'order_import', 1, ?4, ?4)",
            )
            .bind(&[int(account.0), text(sku), flag(new_auto_sync), int(now)])?,
        );
    }
    for (sku, units) in &order.lines {
        let change = LineChange {
            sku: sku.as_str(),
            after: "MAX(0, quantity - ?3)",
            amount: *units,
            reference: &reference,
            reason: format!("Order {reference}: {units} sold"),
            actor,
            now,
        };
        statements.extend(change_statements(db, account, &change)?);
    }
    let results = match db.batch(statements).await {
        Ok(r) => r,
        // The UNIQUE (storefront, order id) index refused a repeat (possibly a concurrent one).
        Err(_)
            if find(db, account, &order.storefront, &order.order_id)
                .await?
                .is_some() =>
        {
            return Ok(Applied::Already)
        }
        Err(e) => return Err(e.into()),
    };
    let mark = outbox::mark_value(&results[0])?;
    Ok(Applied::New(
        outbox::queued_since(db, account, SyncTrigger::Order, mark, now).await?,
    ))
}

/// Cancels a placed order, putting back exactly what each line took.
pub async fn cancel(
    db: &D1Database,
    account: AccountId,
    actor: &Actor,
    row: &OrderRow,
    now: i64,
) -> Result<Applied, ApiError> {
    if row.status == "cancelled" {
        return Ok(Applied::Already);
    }
    let reference = format!("{}:{}", row.storefront, row.order_id);
    let taken = db
        .prepare(
            "SELECT q.product_id AS product_id, p.sku AS sku, q.before AS before, q.after AS after \
             FROM quantity_changes q JOIN products p ON p.id = q.product_id \
             WHERE q.account_id = ?1 AND q.source = 'order' AND q.reference = ?2",
        )
        .bind(&[int(account.0), text(&reference)])?
        .all()
        .await?
        .results::<LineRow>()?;
    let cancel_reference = format!("{reference}#cancelled");
    let mut statements = vec![
        outbox::mark(db),
        db.prepare(
            "UPDATE orders SET status = 'cancelled', updated_at = ?1 \
             WHERE account_id = ?2 AND storefront = ?3 AND order_id = ?4 AND status = 'placed'",
        )
        .bind(&[
            int(now),
            int(account.0),
            text(&row.storefront),
            text(&row.order_id),
        ])?,
    ];
    for line in taken.iter().filter(|l| l.before > l.after) {
        let restore = line.before - line.after;
        let change = LineChange {
            sku: &line.sku,
            after: "MIN(999999999, quantity + ?3)",
            amount: restore,
            reference: &cancel_reference,
            reason: format!("Order {reference} cancelled: {restore} back in stock"),
            actor,
            now,
        };
        statements.extend(change_statements(db, account, &change)?);
    }
    // A concurrent cancellation makes the ledger's UNIQUE reference refuse the whole batch.
    let Ok(results) = db.batch(statements).await else {
        return Ok(Applied::Already);
    };
    let mark = outbox::mark_value(&results[0])?;
    Ok(Applied::New(
        outbox::queued_since(db, account, SyncTrigger::Order, mark, now).await?,
    ))
}
