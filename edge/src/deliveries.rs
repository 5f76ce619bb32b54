//! Applying a stored webhook delivery (from the queue): read what it tells of, turn the
//! storefront's lines into Tally SKUs, and take the one order path. The delivery's row in the
//! Incoming log then says what happened, in the seller's words.

use crate::bindings::DB;
use crate::clock::now_ms;
use crate::connection;
use crate::error::ApiError;
use crate::sales::{self, Outcome};
use crate::store::inbox::{self, Outcome as Handled};
use crate::store::listings;
use crate::store::orders::{self, Heard};
use crate::store::storefronts::{self, StorefrontRow};
use crate::storefront_http;
use std::collections::HashMap;
use tally_domain::actor::Actor;
use tally_domain::connector::orders as storefront_orders;
use tally_domain::order::{Order, OrderSource};
use tally_domain::storefront::StorefrontKind;
use tally_domain::webhook::{
    read_event, sale_to_order, Format, OrderEvent, SaleLine, SHOPIFY_VARIANT,
};
use tally_domain::AccountId;
use worker::Env;

/// How long reading an order's lines from the storefront may take.
const FETCH_TIMEOUT_MS: u64 = 10_000;

/// The storefront half of the key of orders heard from a connection: with the order id it
/// is what stops a webhook, its retries and polling applying one sale twice.
pub fn storefront_key(connection: &StorefrontRow) -> String {
    format!("{}-{}", connection.kind, connection.id)
}

/// Applies delivery `inbox_id` if it is still waiting. `Err` only for a failure worth
/// retrying (the database, a storefront that did not answer): the queue delivers it again.
pub async fn apply(env: &Env, account: AccountId, inbox_id: i64) -> Result<(), ApiError> {
    let db = env.d1(DB)?;
    let Some(waiting) = inbox::waiting(&db, account, inbox_id).await? else {
        return Ok(()); // Handled before: a repeat of the queue message.
    };
    let connection = storefronts::find_lean(&db, account, waiting.storefront_id).await?;
    let event = Format::parse(&waiting.format)
        .ok_or_else(|| format!("Tally does not read the {:?} format.", waiting.format))
        .and_then(|format| {
            let body = waiting.body.as_deref().unwrap_or_default().as_bytes();
            read_event(format, &waiting.topic, body).map_err(|e| format!("Not applied: {e}."))
        });
    let (status, message, order_id) = match (connection, event) {
        (None, _) => (
            "failed",
            "Not applied: the connection was removed.".to_owned(),
            None,
        ),
        (Some(_), Err(message)) => ("failed", message, None),
        (Some(connection), Ok(event)) => act(env, &connection, event, OrderSource::Webhook).await?,
    };
    let handled = Handled {
        status,
        message: &message,
        order_id: order_id.as_deref(),
    };
    inbox::finish(&db, account, inbox_id, &handled, now_ms()).await
}

/// (status, message, order id) for the Incoming log.
pub type Logged = (&'static str, String, Option<String>);

/// Does what `event` from `connection` asks, through the one order path. Webhooks and
/// polling both come here, so an order heard both ways applies once.
pub async fn act(
    env: &Env,
    connection: &StorefrontRow,
    event: OrderEvent,
    source: OrderSource,
) -> Result<Logged, ApiError> {
    let account = connection.account();
    let key = storefront_key(connection);
    match event {
        OrderEvent::Placed { order_id, lines } => {
            place(env, connection, &order_id, &lines, source).await
        }
        OrderEvent::FetchOrder { order_id, .. } => {
            let lines = match fetch_lines(env, connection, &order_id).await? {
                Ok(lines) => lines,
                Err(message) => return Ok(("failed", message, Some(order_id))),
            };
            place(env, connection, &order_id, &lines, source).await
        }
        OrderEvent::Cancelled { order_id } => {
            let outcome = sales::cancel(env, account, &Actor::System, &key, &order_id).await?;
            Ok(match outcome {
                None => (
                    "ignored",
                    format!("Order {order_id} was cancelled before Tally heard of it: nothing to put back."),
                    Some(order_id),
                ),
                Some(o) => logged(env, account, &o, &order_id, "Cancelled", &[]).await?,
            })
        }
        OrderEvent::Restocked {
            order_id,
            refund_id,
            lines,
        } => {
            let (order, skipped) = match to_order(env, connection, &order_id, &lines).await? {
                Ok(found) => found,
                Err(message) => return Ok(("ignored", message, Some(order_id))),
            };
            let Some(order) = order else {
                return Ok((
                    "ignored",
                    format!("Refund {refund_id} puts nothing back on the shelf."),
                    Some(order_id),
                ));
            };
            let asked: Vec<(String, i64)> = order
                .lines
                .iter()
                .map(|(sku, n)| (sku.to_string(), *n))
                .collect();
            let outcome = sales::restock(
                env,
                account,
                &Actor::System,
                (&key, &order_id),
                &refund_id,
                &asked,
            )
            .await?;
            Ok(match outcome {
                None => (
                    "ignored",
                    format!("Refund {refund_id} is for order {order_id}, which Tally never heard of: nothing to put back."),
                    Some(order_id),
                ),
                Some(o) if o.already => (
                    "applied",
                    format!("Refund {refund_id} was applied before (or the order is cancelled): nothing changed."),
                    Some(order_id),
                ),
                Some(_) => (
                    "applied",
                    format!("Refund {refund_id}: {} back in stock.{}", units_text(&asked), skipped),
                    Some(order_id),
                ),
            })
        }
        OrderEvent::Nothing { why } => Ok(("ignored", format!("Nothing to apply: {why}."), None)),
    }
}

/// A sale: its lines matched to SKUs, then applied once.
async fn place(
    env: &Env,
    connection: &StorefrontRow,
    order_id: &str,
    lines: &[SaleLine],
    source: OrderSource,
) -> Result<Logged, ApiError> {
    let account = connection.account();
    let (order, skipped) = match to_order(env, connection, order_id, lines).await? {
        Ok(found) => found,
        Err(message) => return Ok(("failed", message, Some(order_id.to_owned()))),
    };
    let Some(order) = order else {
        return Ok((
            "ignored",
            format!("Order {order_id} has no line Tally can match to a product.{skipped}"),
            Some(order_id.to_owned()),
        ));
    };
    let heard = Heard {
        source,
        storefront_id: Some(connection.id),
    };
    let outcome = sales::place(env, account, &Actor::System, &order, &heard).await?;
    logged(env, account, &outcome, order_id, "Sold", &[skipped]).await
}

/// The storefront's lines as an order of Tally SKUs (`None` when no line matches), with a
/// note on the skipped lines; `Err` names a line that cannot be read.
async fn to_order(
    env: &Env,
    connection: &StorefrontRow,
    order_id: &str,
    lines: &[SaleLine],
) -> Result<Result<(Option<Order>, String), String>, ApiError> {
    let db = env.d1(DB)?;
    let (lines, note) = &shopify_items(env, connection, lines).await?;
    let ids: Vec<String> = lines.iter().filter_map(|l| l.external_id.clone()).collect();
    let variations = connection.kind == StorefrontKind::Woocommerce.as_str();
    let linked =
        listings::skus_by_external_id(&db, connection.account(), connection.id, &ids, variations)
            .await?;
    let found = sale_to_order(&storefront_key(connection), order_id, lines, |id| {
        linked
            .get(id)
            .and_then(|sku| tally_domain::sku::Sku::parse(sku).ok())
    });
    Ok(match found {
        Ok((order, unmatched)) => {
            let skipped: String = unmatched
                .iter()
                .map(|u| format!(" Line {} skipped: {}.", u.line, u.why))
                .collect();
            Ok((order, format!("{note}{skipped}")))
        }
        Err(e) => Err(format!("Not applied: {}: {}.", e.field, e.message)),
    })
}

/// A Shopify webhook names each line's variant, while a Shopify listing is an inventory item:
/// the variants are looked up (one call, only when the connection has listings to match) and
/// replaced by their items. A line that cannot be looked up is matched by its SKU alone, as
/// before the lookup existed; the note says so for the Incoming log.
async fn shopify_items(
    env: &Env,
    connection: &StorefrontRow,
    lines: &[SaleLine],
) -> Result<(Vec<SaleLine>, String), ApiError> {
    let variant = |l: &SaleLine| {
        l.external_id
            .as_deref()
            .and_then(|id| id.strip_prefix(SHOPIFY_VARIANT))
            .map(str::to_owned)
    };
    let variants: Vec<String> = lines.iter().filter_map(variant).collect();
    if variants.is_empty() {
        return Ok((lines.to_vec(), String::new()));
    }
    let db = env.d1(DB)?;
    let linked = listings::any_on(&db, connection.account(), connection.id).await?;
    let (items, note) = match linked {
        false => (HashMap::new(), String::new()),
        true => match variant_items(env, connection, &variants).await {
            Ok(items) => (items, String::new()),
            Err(why) => (
                HashMap::new(),
                format!(
                    " Shopify's variants could not be looked up ({why}): lines matched by SKU."
                ),
            ),
        },
    };
    let lines = lines
        .iter()
        .map(|l| match variant(l) {
            Some(v) => SaleLine {
                external_id: items.get(&v).cloned(),
                ..l.clone()
            },
            None => l.clone(),
        })
        .collect();
    Ok((lines, note))
}

/// Variant id → inventory item id, from Shopify.
async fn variant_items(
    env: &Env,
    connection: &StorefrontRow,
    variants: &[String],
) -> Result<HashMap<String, String>, String> {
    let target = connection::storefront_target(env, connection, FETCH_TIMEOUT_MS)
        .await
        .map_err(|f| f.message().to_owned())?;
    let request = storefront_orders::shopify_variants_request(&target, variants);
    let response = storefront_http::send(&request, FETCH_TIMEOUT_MS).await?;
    Ok(storefront_orders::shopify_variant_items(&response)?
        .into_iter()
        .collect())
}

/// The log line of an applied (or repeated) order event, from its ledger lines.
async fn logged(
    env: &Env,
    account: AccountId,
    outcome: &Outcome,
    order_id: &str,
    verb: &str,
    notes: &[String],
) -> Result<Logged, ApiError> {
    if outcome.already {
        return Ok((
            "applied",
            format!("Order {order_id} was applied before: nothing changed."),
            Some(order_id.to_owned()),
        ));
    }
    let db = env.d1(DB)?;
    let report = orders::report(&db, account, &outcome.order, &[], false).await?;
    let changes: Vec<String> = report
        .lines
        .iter()
        .map(|l| format!("{} {} → {}", l.sku, l.before, l.after))
        .collect();
    let message = if verb == "Cancelled" {
        format!("Order {order_id} cancelled: its units are back in stock.")
    } else {
        format!(
            "Order {order_id}: {}.{}",
            changes.join(", "),
            notes.concat()
        )
    };
    Ok(("applied", message, Some(order_id.to_owned())))
}

fn units_text(lines: &[(String, i64)]) -> String {
    lines
        .iter()
        .map(|(sku, n)| format!("{n} × {sku}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The lines of an order the webhook only named (BigCommerce). `Ok(Err)` is final (the
/// storefront refused or has no such order); `Err` is retried by the queue.
async fn fetch_lines(
    env: &Env,
    connection: &StorefrontRow,
    order_id: &str,
) -> Result<Result<Vec<SaleLine>, String>, ApiError> {
    let target = match connection::storefront_target(env, connection, FETCH_TIMEOUT_MS).await {
        Ok(target) => target,
        Err(failure) => return Ok(Err(format!("Not applied: {}", failure.message()))),
    };
    let Some(request) = storefront_orders::lines_request(&target, order_id) else {
        return Ok(Err(format!(
            "Not applied: Tally cannot read order {order_id}'s lines from this storefront."
        )));
    };
    let answer = storefront_http::send(&request, FETCH_TIMEOUT_MS)
        .await
        .map_err(|e| ApiError::Internal(format!("reading order {order_id}: {e}")))?;
    if answer.status == 429 || answer.status >= 500 {
        return Err(ApiError::Internal(format!(
            "reading order {order_id}: HTTP {}",
            answer.status
        )));
    }
    Ok(storefront_orders::lines(target.kind, &answer).map_err(|m| format!("Not applied: {m}.")))
}
