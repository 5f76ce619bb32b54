//! Polling, the safety net under webhooks (which the platforms call best-effort): read a
//! connection's orders changed since its cursor and take each new one through the same order
//! path as webhooks, so an order heard both ways applies once. eBay and Amazon cannot call a
//! worker, so polling is how their sales arrive.
//!
//! The cron asks for a poll per connection at most every [`POLL_EVERY_MS`]; the sync engine
//! asks at once when a storefront holds a number Tally did not expect (see `engine.rs`:
//! never erase a sale).

use crate::bindings::DB;
use crate::clock::now_ms;
use crate::connection;
use crate::deliveries;
use crate::error::ApiError;
use crate::store::orders;
use crate::store::storefronts::{self, StorefrontRow};
use crate::storefront_http;
use tally_domain::connector::orders::{poll_answer, poll_request, Page, PolledOrder, MAX_PAGES};
use tally_domain::order::OrderSource;
use tally_domain::webhook::OrderEvent;
use tally_domain::AccountId;
use worker::Env;

/// How often the cron polls one connection: inside every platform's rate limits (a poll is
/// one to five list calls), and the latest a sale whose webhook was lost is heard of.
/// `POLL_EVERY_MS` overrides it.
pub const POLL_EVERY_MS: i64 = 5 * 60_000;

/// Connections one cron run asks to poll; the rest wait for the next run.
pub const POLLS_PER_RUN: u32 = 50;

/// How long one list call may take.
const TIMEOUT_MS: u64 = 10_000;

pub fn poll_every_ms(env: &Env) -> i64 {
    env.var("POLL_EVERY_MS")
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(POLL_EVERY_MS)
}

/// What one poll found.
#[derive(Debug, Default)]
pub struct Report {
    /// Orders the storefront listed.
    pub read: usize,
    /// New sales and cancellations applied now (ids).
    pub applied: Vec<String>,
    /// What stopped the poll before it read everything (the storefront did not answer, or
    /// refused), in the seller's words.
    pub trouble: Option<String>,
}

/// Polls connection `storefront_id` of `account` now. `Err` only for a database failure (the
/// queue retries); a storefront that does not answer is written in the poll status.
pub async fn poll(env: &Env, account: AccountId, storefront_id: i64) -> Result<Report, ApiError> {
    let db = env.d1(DB)?;
    let Some(connection) = storefronts::find_lean(&db, account, storefront_id).await? else {
        return Ok(Report::default()); // Removed since the cron asked.
    };
    let since = connection.poll_cursor_ms.unwrap_or(connection.created_at);
    let mut report = Report::default();
    let (newest, trouble) = read_pages(env, &connection, since, &mut report).await?;
    report.trouble = trouble.clone();
    let status = match trouble {
        Some(message) => message,
        None if report.applied.is_empty() => format!("{} orders read; none new.", report.read),
        None => format!(
            "{} orders read; {} new applied ({}).",
            report.read,
            report.applied.len(),
            report.applied.join(", ")
        ),
    };
    storefronts::finish_poll(&db, account, storefront_id, newest, &status, now_ms()).await?;
    Ok(report)
}

/// Reads up to [`MAX_PAGES`] pages, applying as it goes; the newest change seen, and what
/// stopped it early, if anything did.
async fn read_pages(
    env: &Env,
    connection: &StorefrontRow,
    since: i64,
    report: &mut Report,
) -> Result<(i64, Option<String>), ApiError> {
    let mut newest = since;
    let target = match connection::storefront_target(env, connection, TIMEOUT_MS).await {
        Ok(target) => target,
        Err(failure) => return Ok((newest, Some(failure.message().to_owned()))),
    };
    let mut page = Page::First;
    for _ in 0..MAX_PAGES {
        let request = poll_request(&target, since, &page);
        let polled = match storefront_http::send(&request, TIMEOUT_MS).await {
            Err(message) => Err(format!(
                "{} did not answer ({message}); Tally tries again at the next poll.",
                target.kind.label()
            )),
            Ok(response) => poll_answer(&target, &page, &response),
        };
        let polled = match polled {
            Ok(polled) => polled,
            Err(message) => return Ok((newest, Some(message))),
        };
        for order in polled.orders {
            report.read += 1;
            newest = newest.max(order.modified_ms.unwrap_or(since));
            if let Some(id) = apply(env, connection, order).await? {
                report.applied.push(id);
            }
        }
        match polled.next {
            Some(next) => page = next,
            None => break,
        }
    }
    Ok((newest, None))
}

/// Applies one listed order unless Tally already has it in that state, then its refunds not
/// applied yet; the order id when something changed.
async fn apply(
    env: &Env,
    connection: &StorefrontRow,
    order: PolledOrder,
) -> Result<Option<String>, ApiError> {
    let db = env.d1(DB)?;
    let key = deliveries::storefront_key(connection);
    let account = connection.account();
    let known = orders::find(&db, account, &key, &order.order_id).await?;
    let new = match (&order.event, &known) {
        (OrderEvent::Nothing { .. }, _) => false,
        // Cancelling an order Tally never took anything for changes nothing.
        (OrderEvent::Cancelled { .. }, None) => false,
        (OrderEvent::Cancelled { .. }, Some(row)) => row.status == "placed",
        // Refunds come in `order.refunds`, never as the order's own state.
        (OrderEvent::Restocked { .. }, _) => false,
        (OrderEvent::Placed { .. } | OrderEvent::FetchOrder { .. }, known) => known.is_none(),
    };
    let mut changed = false;
    if new {
        let (status, _message, _) =
            deliveries::act(env, connection, order.event, OrderSource::Poll).await?;
        changed = status == "applied";
    }
    if !order.refunds.is_empty() {
        changed |= apply_refunds(env, connection, &order.order_id, order.refunds).await?;
    }
    Ok(changed.then_some(order.order_id))
}

/// Applies the refunds of a placed order that have not put their units back yet; whether
/// any did. (A refund webhook heard first leaves nothing for the poll to do.)
async fn apply_refunds(
    env: &Env,
    connection: &StorefrontRow,
    order_id: &str,
    refunds: Vec<OrderEvent>,
) -> Result<bool, ApiError> {
    let db = env.d1(DB)?;
    let key = deliveries::storefront_key(connection);
    let account = connection.account();
    let mut changed = false;
    for refund in refunds {
        let OrderEvent::Restocked { refund_id, .. } = &refund else {
            continue;
        };
        // Read again each time: the order may have been cancelled by the one before.
        let Some(row) = orders::find(&db, account, &key, order_id).await? else {
            return Ok(changed);
        };
        if row.status != "placed" || orders::refund_applied(&db, account, &row, refund_id).await? {
            continue;
        }
        let (status, _message, _) =
            deliveries::act(env, connection, refund, OrderSource::Poll).await?;
        changed |= status == "applied";
    }
    Ok(changed)
}
