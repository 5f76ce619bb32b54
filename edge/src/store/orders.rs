//! The `orders` table and the atomic write of an order or its cancellation.
//!
//! Order lines decrement with SQL arithmetic (`MAX(0, quantity - n)`, the domain's
//! `order::sell` rule) rather than a read-then-compare-and-set: orders on one SKU then never
//! conflict, however many arrive at once, and each batch is one transaction, so the order row,
//! its ledger lines, the product updates and the outbox entries land together or not at all.

use super::outbox::{self, Queued};
use crate::db::{flag, int, opt_int, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::actor::Actor;
use tally_domain::order::{to_restore, Order, OrderLineOut, OrderOut, OrderSource};
use tally_domain::sync::SyncTrigger;
use tally_domain::AccountId;
use worker::{D1Database, D1PreparedStatement};

#[derive(Debug, Deserialize)]
pub struct OrderRow {
    pub storefront: String,
    pub order_id: String,
    pub status: String,
    pub created_at: i64,
    pub source: String,
    pub storefront_id: Option<i64>,
    /// The connection's name, when the order came from one.
    pub storefront_name: Option<String>,
}

impl OrderRow {
    /// The ledger reference of the order's lines (`order::order_reference`).
    pub fn reference(&self) -> String {
        tally_domain::order::order_reference(&self.storefront, &self.order_id)
    }
}

const SELECT: &str = "SELECT o.storefront, o.order_id, o.status, o.created_at, o.source, \
     o.storefront_id, s.name AS storefront_name FROM orders o \
     LEFT JOIN storefronts s ON s.id = o.storefront_id AND s.account_id = o.account_id";

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
        .prepare(format!(
            "{SELECT} WHERE o.account_id = ?1 AND o.storefront = ?2 AND o.order_id = ?3"
        ))
        .bind(&[int(account.0), text(storefront), text(order_id)])?
        .first::<OrderRow>(None)
        .await?)
}

/// Claims `key` for `request` (an order's `request_text`) unless it is taken, and answers what
/// the key stands for now: `request` when it was free or taken by the same order before,
/// another order's words when another order took it. One batch, so two requests racing for a
/// key both read the winner's.
pub async fn claim_key(
    db: &D1Database,
    account: AccountId,
    key: &str,
    request: &str,
    now: i64,
) -> Result<String, ApiError> {
    #[derive(Deserialize)]
    struct Taken {
        request: String,
    }
    let results = db
        .batch(vec![
            db.prepare(
                "INSERT INTO order_idempotency_keys (account_id, key, request, created_at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account_id, key) DO NOTHING",
            )
            .bind(&[int(account.0), text(key), text(request), int(now)])?,
            db.prepare(
                "SELECT request FROM order_idempotency_keys WHERE account_id = ?1 AND key = ?2",
            )
            .bind(&[int(account.0), text(key)])?,
        ])
        .await?;
    let taken = results
        .get(1)
        .map(|r| r.results::<Taken>())
        .transpose()?
        .and_then(|rows| rows.into_iter().next())
        .ok_or_else(|| ApiError::Internal("the idempotency key was not read back".into()))?;
    Ok(taken.request)
}

/// The account's newest orders.
pub async fn recent(db: &D1Database, account: AccountId) -> Result<Vec<OrderRow>, ApiError> {
    Ok(db
        .prepare(format!(
            "{SELECT} WHERE o.account_id = ?1 ORDER BY o.id DESC LIMIT 50"
        ))
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
    let lines = ledger_lines(db, account, &row.reference(), false).await?;
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
        source: OrderSource::parse(&row.source),
        storefront_id: row.storefront_id,
        storefront_name: row.storefront_name.clone(),
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
    /// Something changed between reading and writing (a concurrent refund or cancellation):
    /// nothing was applied; read again and retry.
    Conflict,
}

/// How an order reached Tally, stored with it.
pub struct Heard {
    pub source: OrderSource,
    /// The connection it came from (webhook, poll).
    pub storefront_id: Option<i64>,
}

/// Applies a new order. SKUs in `new_skus` are created first at quantity 0 (`order_import`,
/// Auto Sync as the rule says).
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    db: &D1Database,
    account: AccountId,
    actor: &Actor,
    order: &Order,
    heard: &Heard,
    new_skus: &[&str],
    new_auto_sync: bool,
    now: i64,
) -> Result<Applied, ApiError> {
    let reference = order.reference();
    let mut statements = vec![
        outbox::mark(db),
        db.prepare(
            "INSERT INTO orders (account_id, storefront, order_id, status, created_at, updated_at, \
             source, storefront_id) VALUES (?1, ?2, ?3, 'placed', ?4, ?4, ?5, ?6)",
        )
        .bind(&[
            int(account.0),
            text(&order.storefront),
            text(&order.order_id),
            int(now),
            text(heard.source.as_str()),
            opt_int(heard.storefront_id),
        ])?,
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
            reason: format!("Order {}: {units} sold", order.readable()),
            actor,
            now,
        };
        statements.extend(change_statements(db, account, &change)?);
    }
    let results = match db.batch(statements).await {
        Ok(r) => r,
        // The UNIQUE (storefront, order id) index refused a repeat (possibly a concurrent one).
        Err(e)
            if crate::db::refused_by_constraint(&e)
                && find(db, account, &order.storefront, &order.order_id)
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

/// The order ledger lines whose reference is `reference` (exactly) or, with `prefix`, starts
/// with it, oldest first.
async fn ledger_lines(
    db: &D1Database,
    account: AccountId,
    reference: &str,
    prefix: bool,
) -> Result<Vec<LineRow>, ApiError> {
    let matches = if prefix {
        "substr(q.reference, 1, length(?2)) = ?2"
    } else {
        "q.reference = ?2"
    };
    Ok(db
        .prepare(format!(
            "SELECT q.product_id AS product_id, p.sku AS sku, q.before AS before, q.after AS after \
             FROM quantity_changes q JOIN products p ON p.id = q.product_id \
             WHERE q.account_id = ?1 AND q.source = 'order' AND {matches} ORDER BY q.id"
        ))
        .bind(&[int(account.0), text(reference)])?
        .all()
        .await?
        .results::<LineRow>()?)
}

/// Units per SKU in those ledger lines.
async fn units_by_sku(
    db: &D1Database,
    account: AccountId,
    reference: &str,
    prefix: bool,
) -> Result<Vec<(String, i64)>, ApiError> {
    Ok(ledger_lines(db, account, reference, prefix)
        .await?
        .into_iter()
        .map(|l| (l.sku, (l.before - l.after).abs()))
        .collect())
}

/// The prefix of the ledger references of an order's refunds.
/// Whether refund `refund_id` of the order has put units back already.
pub async fn refund_applied(
    db: &D1Database,
    account: AccountId,
    row: &OrderRow,
    refund_id: &str,
) -> Result<bool, ApiError> {
    let reference = format!("{}{refund_id}", refund_prefix(&row.reference()));
    Ok(!ledger_lines(db, account, &reference, false)
        .await?
        .is_empty())
}

fn refund_prefix(reference: &str) -> String {
    format!("{reference}#refund:")
}

/// Statements that roll the whole batch back unless `count_sql` (one row, one column) gives 1
/// when the batch runs: what was read before the batch still holds.
fn guard(
    db: &D1Database,
    count_sql: &str,
    values: &[wasm_bindgen::JsValue],
) -> Result<D1PreparedStatement, ApiError> {
    Ok(db
        .prepare(format!("INSERT INTO write_guards (ok) {count_sql}"))
        .bind(values)?)
}

/// A guard that no refund of the order at `reference` landed since `restored` of its ledger
/// lines were read.
fn no_refund_since(
    db: &D1Database,
    account: AccountId,
    reference: &str,
    restored: usize,
) -> Result<D1PreparedStatement, ApiError> {
    guard(
        db,
        "SELECT COUNT(*) = ?3 FROM quantity_changes WHERE account_id = ?1 \
         AND source = 'order' AND substr(reference, 1, length(?2)) = ?2",
        &[
            int(account.0),
            text(&refund_prefix(reference)),
            int(restored as i64),
        ],
    )
}

/// Runs a batch that starts with [`outbox::mark`] and holds guards: the changes it queued, or
/// [`Applied::Conflict`] when a guard rolled it back (a concurrent cancellation, done already,
/// or a refund: read again and put back the rest).
async fn run_guarded(
    db: &D1Database,
    account: AccountId,
    mut statements: Vec<D1PreparedStatement>,
    now: i64,
) -> Result<Applied, ApiError> {
    statements.push(db.prepare("DELETE FROM write_guards"));
    match db.batch(statements).await {
        Ok(results) => {
            let mark = outbox::mark_value(&results[0])?;
            Ok(Applied::New(
                outbox::queued_since(db, account, SyncTrigger::Order, mark, now).await?,
            ))
        }
        // A guard refused it: something changed since it was read.
        Err(e) if crate::db::refused_by_constraint(&e) => Ok(Applied::Conflict),
        Err(e) => Err(e.into()),
    }
}

/// Cancels a placed order, putting back what it took less what its refunds already put back.
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
    let reference = row.reference();
    let taken = units_by_sku(db, account, &reference, false).await?;
    let restored = units_by_sku(db, account, &refund_prefix(&reference), true).await?;
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
        // Exactly one order moved to cancelled (not a concurrent cancellation's), and no
        // refund landed since `restored` was read.
        guard(db, "VALUES (changes())", &[])?,
        no_refund_since(db, account, &reference, restored.len())?,
    ];
    for (sku, restore) in to_restore(&taken, &restored, None) {
        let change = LineChange {
            sku: &sku,
            after: "MIN(999999999, quantity + ?3)",
            amount: restore,
            reference: &cancel_reference,
            reason: format!(
                "Order {} cancelled: {restore} back in stock",
                tally_domain::order::readable_reference(&reference)
            ),
            actor,
            now,
        };
        statements.extend(change_statements(db, account, &change)?);
    }
    run_guarded(db, account, statements, now).await
}

/// Puts back a refund's restocked units, once per refund id, never more than the order took
/// less earlier refunds. A cancelled order has nothing left to put back.
#[allow(clippy::too_many_arguments)]
pub async fn restock(
    db: &D1Database,
    account: AccountId,
    actor: &Actor,
    row: &OrderRow,
    refund_id: &str,
    asked: &[(String, i64)],
    now: i64,
) -> Result<Applied, ApiError> {
    if row.status != "placed" {
        return Ok(Applied::Already);
    }
    let reference = row.reference();
    let refund_reference = format!("{}{refund_id}", refund_prefix(&reference));
    if !units_by_sku(db, account, &refund_reference, false)
        .await?
        .is_empty()
    {
        return Ok(Applied::Already);
    }
    let taken = units_by_sku(db, account, &reference, false).await?;
    let restored = units_by_sku(db, account, &refund_prefix(&reference), true).await?;
    let back = to_restore(&taken, &restored, Some(asked));
    if back.is_empty() {
        return Ok(Applied::New(Vec::new()));
    }
    let mut statements = vec![
        outbox::mark(db),
        // Still placed, and no other refund landed since `restored` was read.
        guard(
            db,
            "SELECT COUNT(*) FROM orders WHERE account_id = ?1 AND storefront = ?2 \
             AND order_id = ?3 AND status = 'placed'",
            &[int(account.0), text(&row.storefront), text(&row.order_id)],
        )?,
        no_refund_since(db, account, &reference, restored.len())?,
    ];
    for (sku, units) in &back {
        let change = LineChange {
            sku,
            after: "MIN(999999999, quantity + ?3)",
            amount: *units,
            reference: &refund_reference,
            reason: format!(
                "Order {} refund {refund_id}: {units} back in stock",
                tally_domain::order::readable_reference(&reference)
            ),
            actor,
            now,
        };
        statements.extend(change_statements(db, account, &change)?);
    }
    run_guarded(db, account, statements, now).await
}

/// Orders each connection reported since `since` (webhook or poll): (storefront id, its name,
/// orders), for the health panel.
pub async fn heard_since(
    db: &D1Database,
    account: AccountId,
    since: i64,
) -> Result<Vec<(i64, String, u64)>, ApiError> {
    #[derive(Deserialize)]
    struct Heard {
        storefront_id: i64,
        name: String,
        orders: u64,
    }
    let rows = db
        .prepare(
            "SELECT o.storefront_id, s.name, COUNT(*) AS orders FROM orders o \
             JOIN storefronts s ON s.id = o.storefront_id AND s.account_id = o.account_id \
             WHERE o.account_id = ?1 AND o.created_at >= ?2 GROUP BY o.storefront_id, s.name",
        )
        .bind(&[int(account.0), int(since)])?
        .all()
        .await?
        .results::<Heard>()?;
    Ok(rows
        .into_iter()
        .map(|h| (h.storefront_id, h.name, h.orders))
        .collect())
}
