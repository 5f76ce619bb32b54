//! The sync engine: one round of pushes for the products a queue batch named.
//!
//! A round, for one account:
//! 1. drop deliveries whose outbox entries are already settled (repeats);
//! 2. take the lease of every active listing of the remaining products, then read each
//!    product's **current** quantity and version (so nothing older can be pushed after it);
//! 3. plan each listing (push, or skip as up to date) with the channel rules;
//! 4. send each storefront its pushes in its API's batches, paced to its limits;
//! 5. write history, what each listing was last told and the lease release in one D1 batch,
//!    and settle or reschedule the outbox entries.
//!
//! What happens next for each product (acknowledge, retry later, dead-letter) goes back to the
//! consumer, which owns the queue messages.

use crate::bindings::{DB, KV};
use crate::clock::now_ms;
use crate::crypto;
use crate::db::{int, opt_int, text};
use crate::error::ApiError;
use crate::handlers::storefronts::credentials_key;
use crate::polling;
use crate::store::history::{self, Record};
use crate::store::listings::{self, ListingRow};
use crate::store::outbox::{self, OutboxRow};
use crate::store::storefronts::StorefrontRow;
use crate::storefront_http;
use futures_util::future::join_all;
use std::collections::{BTreeMap, VecDeque};
use tally_domain::address;
use tally_domain::channel::ChannelQuantity;
use tally_domain::connector::oauth::{self, RefreshGrant};
use tally_domain::connector::{self, Failure, HttpRequest, ItemResult, Preflight, Push, Target};
use tally_domain::retry::{self, RetryDecision, RetryPolicy};
use tally_domain::storefront::StorefrontKind;
use tally_domain::sync::{
    no_listings_entry, plan_listing, DirtyProduct, ListingPlan, ListingState, SyncStatus,
};
use tally_domain::AccountId;
use worker::{D1Database, D1PreparedStatement, Env};

/// How long a round may hold a listing, in fetch timeouts: longer than any round's pushes to
/// one storefront (a Shopify re-read and retry is three calls), and a crashed round's leases
/// simply expire after it (60 s with the default 10 s timeout).
const LEASE_TIMEOUTS: i64 = 6;

/// How long to wait before trying a product whose listing another round holds.
pub const BUSY_DELAY_S: u32 = 2;

/// Knobs a deployment may set as worker vars (`wrangler.toml` `[vars]`); the defaults suit
/// production. The tests shorten them so a dead-lettered push takes seconds, not minutes.
pub struct Tuning {
    pub policy: RetryPolicy,
    /// A storefront that has not answered by now is treated as down (and the push retried).
    /// Kept well under the listing lease, so a push in flight never outlives its lease.
    pub fetch_timeout_ms: u64,
    /// A listing pushed less than this long ago waits out the rest before its next push, so a
    /// burst of sales becomes a few pushes of the latest quantity, not one per sale (and eBay's
    /// 250 revisions a day last). A lone change is pushed at once.
    pub min_push_interval_ms: i64,
    /// How long after an update a storefront accepted only for processing (Amazon) it is read
    /// back; `None` keeps the platform's own delay.
    pub verify_after_ms: Option<i64>,
}

impl Tuning {
    pub fn from_env(env: &Env) -> Self {
        let var = |name: &str| {
            env.var(name)
                .ok()
                .and_then(|v| v.to_string().parse::<u64>().ok())
        };
        let default = RetryPolicy::default();
        Tuning {
            policy: RetryPolicy {
                max_attempts: var("SYNC_MAX_ATTEMPTS")
                    .and_then(|v| u32::try_from(v).ok())
                    .filter(|v| *v >= 1)
                    .unwrap_or(default.max_attempts),
                base_delay_ms: var("SYNC_RETRY_BASE_MS").unwrap_or(default.base_delay_ms),
            },
            fetch_timeout_ms: var("SYNC_FETCH_TIMEOUT_MS").unwrap_or(10_000).min(30_000),
            min_push_interval_ms: var("SYNC_MIN_PUSH_INTERVAL_MS")
                .map_or(2_000, |v| i64::try_from(v).unwrap_or(i64::MAX)),
            verify_after_ms: var("SYNC_VERIFY_AFTER_MS").and_then(|v| i64::try_from(v).ok()),
        }
    }
}

/// What the consumer does with a product's messages after the round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Everything settled (pushed, up to date, or failed for good).
    Done,
    /// Deliver again after `delay_s`: the lead entry, at this attempt.
    Retry {
        outbox_id: i64,
        attempt: u32,
        delay_s: u32,
    },
    /// Retries are used up: hand the lead entry to the dead-letter queue.
    DeadLetter { outbox_id: i64, attempt: u32 },
}

/// A listing's push in this round, with what the history needs to describe it.
struct Planned {
    row: ListingRow,
    quantity: ChannelQuantity,
    outbox: OutboxRow,
    attempt: u32,
}

/// Runs one round for `dirty` (all of one account) and says what to do next per product.
pub async fn run(
    env: &Env,
    account: AccountId,
    dirty: &[DirtyProduct],
) -> Result<BTreeMap<i64, Next>, ApiError> {
    let db = env.d1(DB)?;
    let tuning = Tuning::from_env(env);
    let now = now_ms();
    let mut next = BTreeMap::new();
    let entries = outbox::find_many(&db, account, &all_entry_ids(dirty)).await?;
    let pending: Vec<&DirtyProduct> = dirty
        .iter()
        .filter(|d| lead_entry(d, &entries).is_some())
        .collect();
    for d in dirty {
        next.insert(d.product_id.0, Next::Done);
    }
    // Entries this batch names that are closed already (a repeat, or a round that raced this
    // one): a placeholder a late round wrote for them has no outcome coming.
    let closed_before: Vec<i64> = entries
        .iter()
        .filter(|e| e.status != "pending")
        .map(|e| e.id)
        .collect();
    if pending.is_empty() {
        if !closed_before.is_empty() {
            db.batch(history::settle_placeholders(&db, account, &closed_before)?)
                .await?;
        }
        return Ok(next);
    }
    let product_ids: Vec<i64> = pending.iter().map(|d| d.product_id.0).collect();
    let token = hex(&crypto::random_bytes::<12>()?);
    let lease_until = now + LEASE_TIMEOUTS * tuning.fetch_timeout_ms as i64;
    let claim = listings::claim(&db, account, &product_ids, &token, now, lease_until).await?;

    let mut writes: Vec<D1PreparedStatement> = Vec::new();
    for &(pid, quantity) in &claim.busy {
        // Another round holds a listing: it may have read the quantity before this change.
        let Some(d) = pending.iter().find(|d| d.product_id.0 == pid) else {
            continue;
        };
        let Some((lead, attempt)) = lead_entry(d, &entries) else {
            continue;
        };
        next.insert(
            pid,
            Next::Retry {
                outbox_id: lead.id,
                attempt,
                delay_s: BUSY_DELAY_S,
            },
        );
        let line = queued(
            "Queued behind a push already on its way to a storefront; this change follows it \
             in a moment.",
        );
        writes.push(history::insert(
            &db,
            &product_record(account, &lead, attempt, pid, quantity, now, line),
        )?);
    }
    for &(pid, quantity) in &claim.unlisted {
        let Some(d) = pending.iter().find(|d| d.product_id.0 == pid) else {
            continue;
        };
        let Some((lead, attempt)) = lead_entry(d, &entries) else {
            continue;
        };
        let entry = no_listings_entry(quantity);
        let line = Line {
            status: entry.status,
            message: &entry.message,
            action: entry.action.as_deref(),
            answer: None,
            failure: None,
        };
        writes.push(history::insert(
            &db,
            &product_record(account, &lead, attempt, pid, quantity, now, line),
        )?);
    }

    // Plan every claimed listing of a product that is not waiting on a busy one.
    let mut to_push: Vec<Planned> = Vec::new();
    for row in claim.claimed {
        let pid = row.product_id;
        let Some(d) = pending.iter().find(|d| d.product_id.0 == pid) else {
            continue;
        };
        let Some((lead, attempt)) = lead_entry(d, &entries) else {
            continue;
        };
        let forced_by = d
            .entries
            .iter()
            .filter_map(|(id, _)| entries.iter().find(|e| e.id == *id))
            .filter(|e| e.trigger == "sync_now" || e.trigger == "settings")
            .map(|e| e.id)
            .max();
        let state = ListingState {
            listing_id: row.id,
            rules: row.effective_rules(),
            pushed_version: row.pushed_version,
            pushed_quantity: row.pushed_quantity,
            pushed_outbox: row.pushed_outbox,
        };
        match plan_listing(row.quantity, row.version, &state, forced_by) {
            // A retry re-plans every listing; those that landed on an earlier attempt need no
            // new line in the history.
            ListingPlan::UpToDate(_) if attempt > 1 => writes.push(release(&db, row.id, &token)?),
            ListingPlan::UpToDate(quantity) => {
                let message = format!(
                    "{} already shows {} for this change: nothing to send.",
                    row.storefront_name, quantity.quantity
                );
                writes.push(history::insert(
                    &db,
                    &record(
                        account,
                        &lead,
                        attempt,
                        &row,
                        &quantity,
                        now,
                        Line {
                            status: SyncStatus::Skipped,
                            message: &message,
                            action: None,
                            answer: None,
                            failure: None,
                        },
                    ),
                )?);
                writes.push(release(&db, row.id, &token)?);
            }
            ListingPlan::Push(quantity) => match wait(&row, forced_by.is_some(), now, &tuning)? {
                // Deferred, not failed: the same attempt comes back when the wait is over and
                // pushes whatever the quantity is then (its outcome replaces this row).
                Some((delay_s, message)) => {
                    let line = queued(&message);
                    writes.push(history::insert(
                        &db,
                        &record(account, &lead, attempt, &row, &quantity, now, line),
                    )?);
                    writes.push(release(&db, row.id, &token)?);
                    let wanted = Next::Retry {
                        outbox_id: lead.id,
                        attempt,
                        delay_s,
                    };
                    next.insert(
                        pid,
                        stronger(next.get(&pid).cloned().unwrap_or(Next::Done), wanted),
                    );
                }
                None => to_push.push(Planned {
                    outbox: lead.clone(),
                    row,
                    quantity,
                    attempt,
                }),
            },
        }
    }

    // The seller sees each push as `sent` while the storefront answers; the outcome replaces it.
    for p in &to_push {
        let message = format!(
            "Sent {} to {}; waiting for its answer.",
            p.quantity.quantity, p.row.storefront_name
        );
        let line = Line {
            status: SyncStatus::Sent,
            message: &message,
            action: None,
            answer: None,
            failure: None,
        };
        writes.push(history::insert(
            &db,
            &record(
                account,
                &p.outbox,
                p.attempt,
                &p.row,
                &p.quantity,
                now,
                line,
            ),
        )?);
    }
    if !writes.is_empty() {
        db.batch(std::mem::take(&mut writes)).await?;
    }

    // No request may still be in flight when the lease runs out: another round could then push
    // a newer quantity that this one's older request overwrites.
    let deadline = lease_until - 2 * tuning.fetch_timeout_ms as i64;
    let results = push_all(env, account, &to_push, tuning.fetch_timeout_ms, deadline).await;
    let finished = now_ms();
    let jitter = random_unit()?;
    for (planned, result) in to_push.iter().zip(results) {
        let pid = planned.row.product_id;
        let kind = planned.row.kind()?;
        match &result.outcome {
            Ok(()) => {
                let message = format!(
                    "{} now shows {}.",
                    planned.row.storefront_name, planned.quantity.quantity
                );
                writes.push(history::insert(
                    &db,
                    &record(
                        account,
                        &planned.outbox,
                        planned.attempt,
                        &planned.row,
                        &planned.quantity,
                        finished,
                        Line {
                            status: SyncStatus::Succeeded,
                            message: &message,
                            action: None,
                            answer: Some(&result.answer),
                            failure: None,
                        },
                    ),
                )?);
                // A platform that accepts only for processing is read back later.
                let verify_at = connector::verify_after_ms(kind)
                    .map(|delay| finished + tuning.verify_after_ms.unwrap_or(delay));
                writes.push(pushed(&db, planned, finished, &token, verify_at)?);
            }
            Err(failure) => {
                let failure_json = serde_json::to_string(failure).unwrap_or_default();
                let (cause, fix) = retry::advice(kind, failure);
                let decision = tuning.policy.decide(failure, planned.attempt, jitter);
                let (status, action) = match decision {
                    RetryDecision::FailNow => (SyncStatus::Failed, Some(fix.as_str())),
                    RetryDecision::RetryAfter(_) | RetryDecision::GiveUp => {
                        (SyncStatus::Retrying, None)
                    }
                };
                let message = match decision {
                    RetryDecision::RetryAfter(ms) => {
                        format!("{cause} Trying again in {} s.", ms.div_ceil(1000))
                    }
                    _ => cause.clone(),
                };
                writes.push(history::insert(
                    &db,
                    &record(
                        account,
                        &planned.outbox,
                        planned.attempt,
                        &planned.row,
                        &planned.quantity,
                        finished,
                        Line {
                            status,
                            message: &message,
                            action,
                            answer: Some(&result.answer),
                            failure: Some(&failure_json),
                        },
                    ),
                )?);
                writes.push(release(&db, planned.row.id, &token)?);
                if matches!(failure, Failure::KeyRefused { .. }) {
                    writes.push(next_key_round(&db, planned.row.id)?);
                }
                if matches!(failure, Failure::CapReached { .. }) {
                    writes.push(cap_used_up(&db, &planned.row, finished)?);
                }
                let wanted = match decision {
                    RetryDecision::FailNow => Next::Done,
                    RetryDecision::RetryAfter(ms) => Next::Retry {
                        outbox_id: planned.outbox.id,
                        attempt: planned.attempt + 1,
                        delay_s: u32::try_from(ms.div_ceil(1000)).unwrap_or(u32::MAX),
                    },
                    RetryDecision::GiveUp => Next::DeadLetter {
                        outbox_id: planned.outbox.id,
                        attempt: planned.attempt,
                    },
                };
                next.insert(
                    pid,
                    stronger(next.get(&pid).cloned().unwrap_or(Next::Done), wanted),
                );
            }
        }
    }

    // Settle the outbox: a product that is done closes every entry it had; one that retries
    // keeps its lead entry pending (out of the cron's way until the retry is due). Placeholder
    // rows of closed entries go (see `history::settle_placeholders`).
    let mut closed: Vec<i64> = closed_before;
    for d in &pending {
        let pid = d.product_id.0;
        let Some((lead_row, _)) = lead_entry(d, &entries) else {
            continue;
        };
        let lead = lead_row.id;
        let others: Vec<i64> = d
            .entries
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| *id != lead)
            .collect();
        match next.get(&pid) {
            Some(Next::Retry {
                delay_s, attempt, ..
            }) => {
                writes.push(outbox::close(&db, account, &others, "done", finished)?);
                writes.push(outbox::postpone(
                    &db,
                    account,
                    lead,
                    finished + i64::from(*delay_s) * 1000,
                    *attempt,
                )?);
                closed.extend(others);
            }
            Some(Next::DeadLetter { .. }) => {
                writes.push(outbox::close(&db, account, &others, "done", finished)?);
                closed.extend(others);
            }
            _ => {
                let ids: Vec<i64> = d.entries.iter().map(|(id, _)| *id).collect();
                writes.push(outbox::close(&db, account, &ids, "done", finished)?);
                closed.extend(ids);
            }
        }
    }
    if !closed.is_empty() {
        writes.extend(history::settle_placeholders(&db, account, &closed)?);
    }
    if !writes.is_empty() {
        db.batch(writes).await?;
    }
    Ok(next)
}

/// Of two follow-ups for one product, the one that keeps it alive: a dead letter outranks a
/// retry, and two retries merge into the longer wait at the higher attempt (so every listing's
/// wait is honoured and no failure is forgotten).
fn stronger(a: Next, b: Next) -> Next {
    match (a, b) {
        (dead @ Next::DeadLetter { .. }, _) | (_, dead @ Next::DeadLetter { .. }) => dead,
        (
            Next::Retry {
                outbox_id,
                attempt: x,
                delay_s: dx,
            },
            Next::Retry {
                attempt: y,
                delay_s: dy,
                ..
            },
        ) => Next::Retry {
            outbox_id,
            attempt: x.max(y),
            delay_s: dx.max(dy),
        },
        (retry @ Next::Retry { .. }, Next::Done) | (Next::Done, retry @ Next::Retry { .. }) => {
            retry
        }
        (Next::Done, Next::Done) => Next::Done,
    }
}

fn all_entry_ids(dirty: &[DirtyProduct]) -> Vec<i64> {
    dirty
        .iter()
        .flat_map(|d| d.entries.iter().map(|(id, _)| *id))
        .collect()
}

/// The newest still-pending entry a product's deliveries named, with its attempt.
fn lead_entry(d: &DirtyProduct, entries: &[OutboxRow]) -> Option<(OutboxRow, u32)> {
    d.entries
        .iter()
        .filter_map(|(id, attempt)| {
            entries
                .iter()
                .find(|e| e.id == *id && e.status == "pending")
                .map(|e| (e.clone(), *attempt))
        })
        .max_by_key(|(e, _)| e.id)
}

/// What one history row says about a listing.
struct Line<'a> {
    status: SyncStatus,
    message: &'a str,
    action: Option<&'a str>,
    answer: Option<&'a str>,
    failure: Option<&'a str>,
}

/// The history row for a product as a whole (no listing to name) in this round.
fn product_record<'a>(
    account: AccountId,
    lead: &'a OutboxRow,
    attempt: u32,
    product_id: i64,
    quantity: i64,
    now: i64,
    line: Line<'a>,
) -> Record<'a> {
    Record {
        account_id: account.0,
        product_id,
        outbox_id: lead.id,
        trigger: &lead.trigger,
        attempt,
        changed_at: Some(lead.created_at),
        now,
        listing_id: None,
        storefront_id: None,
        storefront: None,
        quantity,
        status: line.status,
        message: line.message,
        action: line.action,
        breakdown: None,
        answer: line.answer,
        failure: line.failure,
    }
}

/// The history row for `row` in this round.
fn record<'a>(
    account: AccountId,
    lead: &'a OutboxRow,
    attempt: u32,
    row: &'a ListingRow,
    quantity: &ChannelQuantity,
    now: i64,
    line: Line<'a>,
) -> Record<'a> {
    let Line {
        status,
        message,
        action,
        answer,
        failure,
    } = line;
    Record {
        account_id: account.0,
        product_id: row.product_id,
        outbox_id: lead.id,
        trigger: &lead.trigger,
        attempt,
        changed_at: Some(lead.created_at),
        now,
        listing_id: Some(row.id),
        storefront_id: Some(row.storefront_id),
        storefront: Some(&row.storefront_name),
        quantity: quantity.quantity,
        status,
        message,
        action,
        breakdown: Some(quantity.breakdown()),
        answer,
        failure,
    }
}

/// The history line of a push that waits (replaced in place by its outcome later).
fn queued(message: &str) -> Line<'_> {
    Line {
        status: SyncStatus::Queued,
        message,
        action: None,
        answer: None,
        failure: None,
    }
}

/// What the storefront was last told; releases the lease. A later version already recorded
/// by another round is never overwritten by an older one.
fn pushed(
    db: &D1Database,
    p: &Planned,
    now: i64,
    token: &str,
    verify_at: Option<i64>,
) -> Result<D1PreparedStatement, ApiError> {
    let day = now / 86_400_000;
    Ok(db
        .prepare(
            "UPDATE listings SET pushed_version = ?2, pushed_quantity = ?3, \
               pushed_outbox = MAX(pushed_outbox, ?4), pushed_at = ?5, lease_until = 0, \
               lease_token = NULL, \
               revisions = CASE WHEN revisions_day = ?6 THEN revisions + 1 ELSE 1 END, \
               revisions_day = ?6, verify_after = ?8 \
             WHERE id = ?1 AND lease_token = ?7 \
               AND (pushed_version IS NULL OR pushed_version <= ?2)",
        )
        .bind(&[
            int(p.row.id),
            int(p.row.version),
            int(p.quantity.quantity),
            int(p.outbox.id),
            int(now),
            int(day),
            text(token),
            opt_int(verify_at),
        ])?)
}

/// Whether a push due now must wait, and how long (seconds) and why, in the seller's words:
/// a listing pushed moments ago waits out the spacing (Sync Now does not), and one over its
/// platform's daily revision cap waits until the cap starts again (the queue holds a message
/// 12 h at most; the cron re-sends the entry once it is due).
fn wait(
    row: &ListingRow,
    forced: bool,
    now: i64,
    tuning: &Tuning,
) -> Result<Option<(u32, String)>, ApiError> {
    let wait_ms = too_soon(row, now, tuning);
    if !forced && wait_ms > 0 {
        let delay_s = u32::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1);
        let message = format!(
            "Queued for {delay_s} s: {} was updated moments ago, and pushes to one listing are \
             spaced {} s apart.",
            row.storefront_name,
            (tuning.min_push_interval_ms + 999) / 1000
        );
        return Ok(Some((delay_s, message)));
    }
    if over_daily_revisions(row, now)? {
        let delay_s = connector::seconds_until_caps_reset(now);
        let message = format!(
            "Queued until midnight UTC (in about {} h): {} allows {} quantity changes per \
             listing per day and this listing has had them all today. The quantity current \
             then is pushed.",
            delay_s.div_ceil(3600),
            row.storefront_name,
            daily_revisions(row)?.unwrap_or(0)
        );
        return Ok(Some((delay_s, message)));
    }
    Ok(None)
}

/// Milliseconds until the listing may be pushed again (0: now).
fn too_soon(row: &ListingRow, now: i64, tuning: &Tuning) -> i64 {
    row.pushed_at
        .map_or(0, |at| (at + tuning.min_push_interval_ms - now).max(0))
}

fn daily_revisions(row: &ListingRow) -> Result<Option<u32>, ApiError> {
    Ok(connector::limits(row.kind()?).daily_revisions)
}

/// Whether the platform's per-listing daily revision cap (eBay: 250) is used up today: by
/// this listing, or by its cap group (an eBay listing's variations share one cap).
fn over_daily_revisions(row: &ListingRow, now: i64) -> Result<bool, ApiError> {
    let today = now / 86_400_000;
    let own = if row.revisions_day == today {
        row.revisions
    } else {
        0
    };
    let used = own.max(row.group_revisions);
    Ok(daily_revisions(row)?.is_some_and(|cap| used >= i64::from(cap)))
}

/// The storefront said the listing's cap is used up: count it so, so this listing and its
/// cap group wait for the new day.
fn cap_used_up(
    db: &D1Database,
    row: &ListingRow,
    now: i64,
) -> Result<D1PreparedStatement, ApiError> {
    let cap = daily_revisions(row)?.map_or(0, i64::from);
    Ok(db
        .prepare(
            "UPDATE listings SET revisions = MAX(?2, CASE WHEN revisions_day = ?3 THEN revisions ELSE 0 END), \
               revisions_day = ?3 WHERE id = ?1",
        )
        .bind(&[int(row.id), int(cap), int(now / 86_400_000)])?)
}

/// Gives the lease back, if this round still holds it (a lease that ran out may be another
/// round's by now).
fn release(db: &D1Database, listing: i64, token: &str) -> Result<D1PreparedStatement, ApiError> {
    Ok(db
        .prepare(
            "UPDATE listings SET lease_until = 0, lease_token = NULL \
             WHERE id = ?1 AND lease_token = ?2",
        )
        .bind(&[int(listing), text(token)])?)
}

/// Moves the listing's pushes to a new idempotency key: the storefront will not repeat the
/// last attempt under the old one.
fn next_key_round(db: &D1Database, listing: i64) -> Result<D1PreparedStatement, ApiError> {
    Ok(db
        .prepare("UPDATE listings SET push_key_round = push_key_round + 1 WHERE id = ?1")
        .bind(&[int(listing)])?)
}

/// Sends every planned push, storefronts side by side, each storefront's requests in turn.
/// Returns one result per planned push, in order.
async fn push_all(
    env: &Env,
    account: AccountId,
    planned: &[Planned],
    timeout_ms: u64,
    deadline: i64,
) -> Vec<ItemResult> {
    let mut by_storefront: BTreeMap<i64, Vec<usize>> = BTreeMap::new();
    for (i, p) in planned.iter().enumerate() {
        by_storefront
            .entry(p.row.storefront_id)
            .or_default()
            .push(i);
    }
    let rounds = by_storefront
        .values()
        .map(|indexes| push_to_storefront(env, account, planned, indexes, timeout_ms, deadline));
    let mut results: Vec<Option<ItemResult>> = vec![None; planned.len()];
    for (indexes, outcome) in by_storefront.values().zip(join_all(rounds).await) {
        for (i, result) in indexes.iter().zip(outcome) {
            results[*i] = Some(result);
        }
    }
    planned
        .iter()
        .zip(results)
        .map(|(p, r)| {
            r.unwrap_or_else(|| ItemResult {
                listing_id: p.row.id,
                outcome: Err(Failure::Unavailable {
                    message: "not sent".into(),
                }),
                answer: "not sent".into(),
            })
        })
        .collect()
}

/// One storefront's pushes; one result per index, in order.
async fn push_to_storefront(
    env: &Env,
    account: AccountId,
    planned: &[Planned],
    indexes: &[usize],
    timeout_ms: u64,
    deadline: i64,
) -> Vec<ItemResult> {
    let first = &planned[indexes[0]].row;
    let target = match target(env, first, timeout_ms).await {
        Ok(t) => t,
        Err(failure) => {
            // No request could be made: every listing gets the reason (a refused renewal is
            // an auth failure, with its fix; a timeout is retried).
            let answer = failure.message().to_owned();
            return indexes
                .iter()
                .map(|i| ItemResult {
                    listing_id: planned[*i].row.id,
                    outcome: Err(failure.clone()),
                    answer: answer.clone(),
                })
                .collect();
        }
    };
    let mut pushes: Vec<Push> = indexes.iter().map(|i| to_push(&planned[*i])).collect();
    // Listings the storefront keeps itself (Amazon FBA) are not pushed at all; Vendure's
    // pushes learn what it holds for placed orders.
    let not_ours = preflight(&target, &mut pushes, timeout_ms, deadline).await;
    pushes.retain(|p| !not_ours.contains_key(&p.listing_id));
    let mut by_listing = send_pushes(&target, &pushes, timeout_ms, deadline).await;
    by_listing.extend(not_ours);
    // Shopify's compare-and-set missed: read what the storefront holds and try once more.
    let stale: Vec<i64> = by_listing
        .values()
        .filter(|r| matches!(r.outcome, Err(Failure::Stale { .. })))
        .map(|r| r.listing_id)
        .collect();
    if !stale.is_empty() {
        // Never erase a sale: the storefront changed something Tally has not heard of. Its
        // recent orders are read and applied first; when that finds any, these pushes wait
        // for the new quantity (their retry plans again) instead of overwriting the sale.
        if let Some(note) = unheard_orders(env, account, first).await {
            for id in &stale {
                if let Some(result) = by_listing.get_mut(id) {
                    result.outcome = Err(Failure::Stale {
                        message: note.clone(),
                        current: None,
                    });
                }
            }
            return in_order(planned, indexes, by_listing);
        }
        pushes.retain(|p| stale.contains(&p.listing_id));
        let current = reread(&target, &pushes, timeout_ms, deadline).await;
        for p in &mut pushes {
            p.expected_current = current.get(&p.listing_id).copied();
        }
        by_listing.extend(send_pushes(&target, &pushes, timeout_ms, deadline).await);
    }
    in_order(planned, indexes, by_listing)
}

/// One result per index, in order.
fn in_order(
    planned: &[Planned],
    indexes: &[usize],
    mut by_listing: BTreeMap<i64, ItemResult>,
) -> Vec<ItemResult> {
    indexes
        .iter()
        .map(|i| {
            let id = planned[*i].row.id;
            by_listing.remove(&id).unwrap_or_else(|| ItemResult {
                listing_id: id,
                outcome: Err(Failure::Unavailable {
                    message: "no answer for this listing".into(),
                }),
                answer: "no answer".into(),
            })
        })
        .collect()
}

/// Reads `row`'s storefront's recent orders now and applies those Tally had not heard of;
/// what it found, for the sync history, when it found any. A poll that fails leaves Tally's
/// number standing (the push goes ahead, as before polling existed).
async fn unheard_orders(env: &Env, account: AccountId, row: &ListingRow) -> Option<String> {
    let report = match polling::poll(env, account, row.storefront_id).await {
        Ok(report) => report,
        Err(e) => {
            worker::console_error!(
                "reading {}'s orders before a push: {e}",
                row.storefront_name
            );
            return None;
        }
    };
    (!report.applied.is_empty()).then(|| {
        format!(
            "{} held another number than Tally last sent, so Tally read its recent orders \
             first and applied {} it had not heard of ({}); the new quantity follows.",
            row.storefront_name,
            if report.applied.len() == 1 {
                "1 order".to_owned()
            } else {
                format!("{} orders", report.applied.len())
            },
            report.applied.join(", ")
        )
    })
}

/// The reads a platform needs before pushing (`connector::build_preflight`). Sets each push's
/// `held` from what the storefront holds for placed orders, and returns the listings that must
/// not be pushed, with why. A read that fails leaves its listing for the retry.
async fn preflight(
    target: &Target,
    pushes: &mut [Push],
    timeout_ms: u64,
    deadline: i64,
) -> BTreeMap<i64, ItemResult> {
    let limits = connector::limits(target.kind);
    let mut refused = BTreeMap::new();
    for (n, request) in connector::build_preflight(target, pushes)
        .iter()
        .enumerate()
    {
        if n > 0 {
            storefront_http::pause(limits.min_interval_ms).await;
        }
        let unread = |why: String| -> Vec<(i64, Preflight)> {
            let failure = Failure::Unavailable { message: why };
            request
                .listing_ids
                .iter()
                .map(|&id| (id, Preflight::Skip(failure.clone())))
                .collect()
        };
        let verdicts = if now_ms() + timeout_ms as i64 > deadline {
            unread("not read: this round ran out of time".to_owned())
        } else {
            match storefront_http::send(request, timeout_ms).await {
                Ok(response) => connector::parse_preflight(target, request, &response),
                Err(message) => unread(format!(
                    "{} did not answer when Tally read the listing ({message})",
                    target.kind.label()
                )),
            }
        };
        // A listing the read gave no verdict for is not pushed this round: pushing it without
        // what the storefront holds for orders could take a sale off twice.
        let missing: Vec<(i64, Preflight)> = request
            .listing_ids
            .iter()
            .filter(|id| !verdicts.iter().any(|(v, _)| v == *id))
            .map(|&id| {
                let message = "the read before pushing said nothing of this listing".to_owned();
                (id, Preflight::Skip(Failure::Unavailable { message }))
            })
            .collect();
        for (listing_id, verdict) in verdicts.into_iter().chain(missing) {
            match verdict {
                Preflight::Push { held } => {
                    if let Some(push) = pushes.iter_mut().find(|p| p.listing_id == listing_id) {
                        push.held = held;
                    }
                }
                Preflight::Skip(failure) => {
                    let answer: String = format!("Read before pushing: {}", failure.message())
                        .chars()
                        .take(200)
                        .collect();
                    refused.insert(
                        listing_id,
                        ItemResult {
                            listing_id,
                            outcome: Err(failure),
                            answer,
                        },
                    );
                }
            }
        }
    }
    refused
}

/// Sends pushes in the connector's batches, paced to its limits. A call the storefront refused
/// whole for an item it did not name is sent again in halves (see
/// `connector::refused_without_naming`), so only the wrong listing fails.
async fn send_pushes(
    target: &Target,
    pushes: &[Push],
    timeout_ms: u64,
    deadline: i64,
) -> BTreeMap<i64, ItemResult> {
    let limits = connector::limits(target.kind);
    let by_listing: BTreeMap<i64, &Push> = pushes.iter().map(|p| (p.listing_id, p)).collect();
    let mut results = BTreeMap::new();
    let mut to_send: VecDeque<HttpRequest> = connector::build_requests(target, pushes).into();
    let mut sent = 0;
    while let Some(request) = to_send.pop_front() {
        if sent > 0 {
            storefront_http::pause(limits.min_interval_ms).await;
        }
        sent += 1;
        if now_ms() + timeout_ms as i64 > deadline {
            // Left for the retry, which takes a fresh lease and reads the quantity again.
            let items = connector::unreachable(&request, "not sent: this round ran out of time");
            results.extend(items.into_iter().map(|i| (i.listing_id, i)));
            continue;
        }
        let items = match storefront_http::send(&request, timeout_ms).await {
            Ok(response) if connector::refused_without_naming(target, &request, &response) => {
                let (first, second) = request.listing_ids.split_at(request.listing_ids.len() / 2);
                for half in [second, first] {
                    let half: Vec<Push> = half
                        .iter()
                        .filter_map(|id| by_listing.get(id).map(|p| (*p).clone()))
                        .collect();
                    for split in connector::build_requests(target, &half).into_iter().rev() {
                        to_send.push_front(split);
                    }
                }
                continue;
            }
            Ok(response) => {
                let items = connector::parse_response(target, &request, &response);
                if let Some(wait) = connector::pause_after(target, &response) {
                    storefront_http::pause(wait.min(5_000)).await;
                }
                items
            }
            Err(message) => connector::unreachable(&request, &message),
        };
        for item in items {
            results.insert(item.listing_id, item);
        }
    }
    results
}

async fn reread(
    target: &Target,
    pushes: &[Push],
    timeout_ms: u64,
    deadline: i64,
) -> BTreeMap<i64, i64> {
    let mut current = BTreeMap::new();
    for request in connector::build_reread(target, pushes) {
        if now_ms() + timeout_ms as i64 > deadline {
            break;
        }
        if let Ok(response) = storefront_http::send(&request, timeout_ms).await {
            current.extend(connector::parse_reread(target, &request, &response));
        }
    }
    current
}

fn to_push(p: &Planned) -> Push {
    Push {
        listing_id: p.row.id,
        version: p.row.version,
        quantity: p.quantity.quantity,
        external_id: p.row.external_id.clone(),
        external_sub_id: p.row.external_sub_id.clone(),
        expected_current: p.row.pushed_quantity,
        key_round: p.row.push_key_round,
        manage_stock: p.row.manage_stock == 1,
        held: 0,
    }
}

pub(crate) async fn target(
    env: &Env,
    row: &ListingRow,
    timeout_ms: u64,
) -> Result<Target, Failure> {
    let kind = row.kind().map_err(unreadable)?;
    let connection = Connection {
        id: row.storefront_id,
        kind,
        base_url: &row.base_url,
        credential_enc: &row.credential_enc,
        store_ref: row.store_ref.as_deref(),
        keys_in_query: row.keys_in_query == 1,
    };
    open_target(env, &connection, timeout_ms).await
}

/// The target for reading from a connection (its orders, its webhooks), with a fresh access
/// token where the credential is a refresh grant, as for pushes.
pub async fn storefront_target(
    env: &Env,
    row: &StorefrontRow,
    timeout_ms: u64,
) -> Result<Target, Failure> {
    let kind = row.kind().map_err(unreadable)?;
    let connection = Connection {
        id: row.id,
        kind,
        base_url: &row.base_url,
        credential_enc: &row.credential_enc,
        store_ref: row.store_ref.as_deref(),
        keys_in_query: row.keys_in_query == 1,
    };
    open_target(env, &connection, timeout_ms).await
}

struct Connection<'a> {
    id: i64,
    kind: StorefrontKind,
    base_url: &'a str,
    credential_enc: &'a str,
    store_ref: Option<&'a str>,
    keys_in_query: bool,
}

/// An address the rules forbid: the seller edits the connection (retrying will not help).
fn refused_address(c: &Connection<'_>, e: &address::AddressError) -> Failure {
    Failure::Validation {
        message: format!(
            "Tally did not send this {} connection's credential: {e} Edit the connection's API \
             address (Settings › Storefronts).",
            c.kind.label()
        ),
    }
}

fn unreadable(e: ApiError) -> Failure {
    Failure::Unavailable {
        message: format!("Tally could not read this connection's credential: {e}"),
    }
}

async fn open_target(env: &Env, c: &Connection<'_>, timeout_ms: u64) -> Result<Target, Failure> {
    // Checked again before every use, so a connection saved before a rule existed (or on
    // another network setting) never sends its credential where the rules forbid.
    let network = storefront_http::network(env);
    address::check_base_url(c.kind, c.base_url, network).map_err(|e| refused_address(c, &e))?;
    let key = credentials_key(env).map_err(unreadable)?;
    let mut credential = crypto::open(&key, c.credential_enc)
        .await
        .map_err(unreadable)?;
    if let Ok(Some(grant)) = oauth::refresh_grant(c.kind, &credential) {
        if let Some(url) = &grant.token_url {
            address::check_token_url(c.kind, url, network).map_err(|e| refused_address(c, &e))?;
        }
        credential = access_token(env, c.id, c.kind, &grant, timeout_ms).await?;
    }
    Ok(Target {
        kind: c.kind,
        base_url: c.base_url.to_owned(),
        credential,
        store_ref: c.store_ref.map(str::to_owned),
        keys_in_query: c.keys_in_query,
    })
}

/// An access token for a refresh credential: the one kept in KV (a cache: losing it costs one
/// renewal), or a fresh one from the platform, kept until five minutes before it runs out.
async fn access_token(
    env: &Env,
    storefront: i64,
    kind: StorefrontKind,
    grant: &RefreshGrant,
    timeout_ms: u64,
) -> Result<String, Failure> {
    let key = oauth::cache_key(storefront, grant);
    let kv = env.kv(KV).ok();
    if let Some(kv) = &kv {
        if let Ok(Some(token)) = kv.get(&key).text().await {
            return Ok(token);
        }
    }
    let answer = storefront_http::send(&oauth::token_request(kind, grant), timeout_ms)
        .await
        .map_err(|message| Failure::Unavailable { message })?;
    let token = oauth::parse_token(kind, &answer)?;
    let keep_s = oauth::keep_for_s(&token);
    if let (Some(kv), true) = (&kv, keep_s >= 60) {
        let stored = match kv.put_bytes(&key, token.token.as_bytes()) {
            Ok(put) => put.expiration_ttl(keep_s).execute().await.is_ok(),
            Err(_) => false,
        };
        if !stored {
            worker::console_warn!("storefront {storefront}: access token not cached");
        }
    }
    Ok(token.token)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random number in `[0, 1)` for retry jitter.
fn random_unit() -> Result<f64, ApiError> {
    let bytes = crypto::random_bytes::<4>()?;
    Ok(f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0))
}
