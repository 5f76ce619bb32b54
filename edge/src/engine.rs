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
//!
//! `run` reads as those steps, each a method of `Work` (the round's decisions so far and the
//! writes not yet sent), with a D1 batch where the order matters: the *sent* lines before any
//! storefront is called, the outcomes after.
//!
//! This module is the shell: reads, writes and their order. Every decision (which entry leads,
//! push or wait and why, what an answer means, which entries close) is in `tally_domain::round`
//! and `tally_domain::sync`, unit-tested there; the storefront calls are in `push`.

use crate::bindings::DB;
use crate::clock::now_ms;
use crate::crypto;
use crate::db::{int, opt_int, text};
use crate::error::ApiError;
use crate::push;
use crate::store::history::{self, Record};
use crate::store::listings::{self, ListingRow};
use crate::store::outbox::{self, OutboxRow};
use std::collections::BTreeMap;
use tally_domain::channel::ChannelQuantity;
use tally_domain::connector::{self, Failure};
use tally_domain::retry::RetryPolicy;
use tally_domain::round::{self, Entry, EntryStatus, Next};
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
    /// burst of sales becomes a few pushes of the latest quantity, not one per sale. A lone
    /// change is pushed at once. `None` (the default) takes each platform's own spacing
    /// (`round::spacing_ms`); `SYNC_MIN_PUSH_INTERVAL_MS` sets one for every platform.
    pub push_spacing_ms: Option<i64>,
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
            push_spacing_ms: var("SYNC_MIN_PUSH_INTERVAL_MS")
                .map(|v| i64::try_from(v).unwrap_or(i64::MAX)),
            verify_after_ms: var("SYNC_VERIFY_AFTER_MS").and_then(|v| i64::try_from(v).ok()),
        }
    }
}

/// A listing's push in this round, with what the history needs to describe it.
pub(crate) struct Planned<'a> {
    pub(crate) row: ListingRow,
    pub(crate) quantity: ChannelQuantity,
    pub(crate) outbox: &'a OutboxRow,
    pub(crate) attempt: u32,
}

/// What a round decided, and what it cost.
pub struct Round {
    /// Per product id: what the consumer does with its messages.
    pub next: BTreeMap<i64, Next>,
    /// D1 statements the round issued (see `round::STATEMENTS_PER_INVOCATION`).
    pub statements: usize,
}

/// Runs one round for `dirty` (all of one account) and says what to do next per product.
pub async fn run(env: &Env, account: AccountId, dirty: &[DirtyProduct]) -> Result<Round, ApiError> {
    let db = env.d1(DB)?;
    let tuning = Tuning::from_env(env);
    let now = now_ms();
    let rows = outbox::find_many(&db, account, &all_entry_ids(dirty)).await?;
    let mut work = Work::new(db, account, dirty, &rows)?;
    work.statements += 1;
    if work.leads.is_empty() {
        // Every entry named is settled: only placeholders of closed entries to tidy.
        work.settle_placeholders(Vec::new())?;
        work.flush().await?;
        return Ok(work.done());
    }
    let product_ids: Vec<i64> = work.leads.keys().copied().collect();
    let lease_until = now + LEASE_TIMEOUTS * tuning.fetch_timeout_ms as i64;
    let claim = listings::claim(
        &work.db,
        account,
        &product_ids,
        &work.token,
        now,
        lease_until,
    )
    .await?;
    work.statements += listings::CLAIM_STATEMENTS;

    work.behind_busy_listings(&claim.busy, now)?;
    work.without_listings(&claim.unlisted, now)?;
    let to_push = work.plan(claim.claimed, &tuning, now)?;
    work.sent(&to_push, now)?;
    work.flush().await?;

    // No request may still be in flight when the lease runs out: another round could then push
    // a newer quantity that this one's older request overwrites.
    let deadline = lease_until - 2 * tuning.fetch_timeout_ms as i64;
    let results = push::push_all(env, account, &to_push, tuning.fetch_timeout_ms, deadline).await;
    let finished = now_ms();
    work.answered(&to_push, &results, &tuning, finished)?;
    work.settle(finished)?;
    work.flush().await?;
    Ok(work.done())
}

/// A product's part in the round: its deliveries, the outbox entry the round runs as, and the
/// attempt that entry's delivery carried.
type Lead<'a> = (&'a DirtyProduct, &'a OutboxRow, u32);

/// What the steps of one round share: the decisions so far, and the writes not yet sent.
struct Work<'a> {
    db: D1Database,
    account: AccountId,
    /// The round's lease token on the listings it claims.
    token: String,
    /// Every entry the batch named, as the outbox has it.
    entries: Vec<Entry>,
    /// Per product still to do.
    leads: BTreeMap<i64, Lead<'a>>,
    /// Per product named: what the consumer does next.
    next: BTreeMap<i64, Next>,
    writes: Vec<D1PreparedStatement>,
    /// D1 statements issued so far.
    statements: usize,
}

impl<'a> Work<'a> {
    fn new(
        db: D1Database,
        account: AccountId,
        dirty: &'a [DirtyProduct],
        rows: &'a [OutboxRow],
    ) -> Result<Self, ApiError> {
        let entries: Vec<Entry> = rows.iter().map(OutboxRow::entry).collect();
        let leads = dirty
            .iter()
            .filter_map(|d| {
                let (id, attempt) = round::lead_entry(d, &entries)?;
                let lead = rows.iter().find(|r| r.id == id)?;
                Some((d.product_id.0, (d, lead, attempt)))
            })
            .collect();
        Ok(Work {
            db,
            account,
            token: hex(&crypto::random_bytes::<12>()?),
            entries,
            leads,
            next: dirty.iter().map(|d| (d.product_id.0, Next::Done)).collect(),
            writes: Vec::new(),
            statements: 0,
        })
    }

    fn done(self) -> Round {
        Round {
            next: self.next,
            statements: self.statements,
        }
    }

    /// Sends the writes gathered so far as one D1 batch.
    async fn flush(&mut self) -> Result<(), ApiError> {
        if !self.writes.is_empty() {
            self.statements += self.writes.len();
            self.db.batch(std::mem::take(&mut self.writes)).await?;
        }
        Ok(())
    }

    /// Another round holds a listing of these products, and may have read the quantity before
    /// this change: they try again in a moment, at the same attempt.
    fn behind_busy_listings(&mut self, busy: &[(i64, i64)], now: i64) -> Result<(), ApiError> {
        for &(pid, quantity) in busy {
            let Some(&(_, lead, attempt)) = self.leads.get(&pid) else {
                continue;
            };
            self.next.insert(
                pid,
                Next::Retry {
                    outbox_id: lead.id,
                    attempt,
                    delay_s: BUSY_DELAY_S,
                },
            );
            let line = queued(
                "Queued behind a push already on its way to a storefront; this change follows \
                 it in a moment.",
            );
            let row = product_record(self.account, lead, attempt, pid, quantity, now, line);
            self.writes.push(history::insert(&self.db, &row)?);
        }
        Ok(())
    }

    /// Products with no listing a push reaches: one line saying so.
    fn without_listings(&mut self, unlisted: &[(i64, i64)], now: i64) -> Result<(), ApiError> {
        for &(pid, quantity) in unlisted {
            let Some(&(_, lead, attempt)) = self.leads.get(&pid) else {
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
            let row = product_record(self.account, lead, attempt, pid, quantity, now, line);
            self.writes.push(history::insert(&self.db, &row)?);
        }
        Ok(())
    }

    /// Plans every claimed listing: up to date (released), waiting out its spacing or daily
    /// cap (released, the same attempt comes back), or to push now (returned).
    fn plan(
        &mut self,
        claimed: Vec<ListingRow>,
        tuning: &Tuning,
        now: i64,
    ) -> Result<Vec<Planned<'a>>, ApiError> {
        let mut to_push = Vec::new();
        for row in claimed {
            let pid = row.product_id;
            let Some(&(product, lead, attempt)) = self.leads.get(&pid) else {
                continue;
            };
            let forced_by = round::forced_by(product, &self.entries);
            let state = ListingState {
                listing_id: row.id,
                rules: row.effective_rules(),
                pushed_version: row.pushed_version,
                pushed_quantity: row.pushed_quantity,
                pushed_outbox: row.pushed_outbox,
            };
            match plan_listing(row.quantity, row.version, &state, forced_by) {
                // A retry re-plans every listing; those that landed on an earlier attempt need
                // no new line in the history.
                ListingPlan::UpToDate(_) if attempt > 1 => {
                    self.writes.push(release(&self.db, row.id, &self.token)?);
                }
                ListingPlan::UpToDate(quantity) => {
                    let message = format!(
                        "{} already shows {} for this change: nothing to send.",
                        row.storefront_name, quantity.quantity
                    );
                    let line = Line {
                        status: SyncStatus::Skipped,
                        message: &message,
                        action: None,
                        answer: None,
                        failure: None,
                    };
                    let entry = record(self.account, lead, attempt, &row, &quantity, now, line);
                    self.writes.push(history::insert(&self.db, &entry)?);
                    self.writes.push(release(&self.db, row.id, &self.token)?);
                }
                ListingPlan::Push(quantity) => {
                    let clock = row.push_clock();
                    let kind = row.kind()?;
                    let spacing = tuning
                        .push_spacing_ms
                        .unwrap_or_else(|| round::spacing_ms(kind, &clock, now));
                    match round::wait(&clock, kind, forced_by.is_some(), now, spacing) {
                        // Deferred, not failed: the same attempt comes back when the wait is
                        // over and pushes whatever the quantity is then (its outcome replaces
                        // this row).
                        Some(wait) => {
                            let message = wait.message(&row.storefront_name);
                            let line = queued(&message);
                            let entry =
                                record(self.account, lead, attempt, &row, &quantity, now, line);
                            self.writes.push(history::insert(&self.db, &entry)?);
                            self.writes.push(release(&self.db, row.id, &self.token)?);
                            let wanted = Next::Retry {
                                outbox_id: lead.id,
                                attempt,
                                delay_s: wait.delay_s(),
                            };
                            follow(&mut self.next, pid, wanted);
                        }
                        None => to_push.push(Planned {
                            outbox: lead,
                            row,
                            quantity,
                            attempt,
                        }),
                    }
                }
            }
        }
        Ok(to_push)
    }

    /// The seller sees each push as `sent` while the storefront answers; the outcome replaces
    /// it.
    fn sent(&mut self, to_push: &[Planned<'a>], now: i64) -> Result<(), ApiError> {
        for p in to_push {
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
            let entry = record(
                self.account,
                p.outbox,
                p.attempt,
                &p.row,
                &p.quantity,
                now,
                line,
            );
            self.writes.push(history::insert(&self.db, &entry)?);
        }
        Ok(())
    }

    /// Each storefront's answer: the history's outcome, what the listing was last told (or
    /// its lease released), and the product's follow-up (see `round::succeeded`/`failed`).
    fn answered(
        &mut self,
        to_push: &[Planned<'a>],
        results: &[connector::ItemResult],
        tuning: &Tuning,
        finished: i64,
    ) -> Result<(), ApiError> {
        let jitter = random_unit()?;
        for (planned, result) in to_push.iter().zip(results) {
            let kind = planned.row.kind()?;
            let outcome = match &result.outcome {
                Ok(()) => round::succeeded(&planned.row.storefront_name, &planned.quantity),
                Err(failure) => round::failed(
                    kind,
                    failure,
                    planned.outbox.id,
                    planned.attempt,
                    &tuning.policy,
                    jitter,
                ),
            };
            let failure_json = result
                .outcome
                .as_ref()
                .err()
                .map(|f| serde_json::to_string(f).unwrap_or_default());
            let line = Line {
                status: outcome.status,
                message: &outcome.message,
                action: outcome.action.as_deref(),
                answer: Some(&result.answer),
                failure: failure_json.as_deref(),
            };
            let entry = record(
                self.account,
                planned.outbox,
                planned.attempt,
                &planned.row,
                &planned.quantity,
                finished,
                line,
            );
            self.writes.push(history::insert(&self.db, &entry)?);
            match &result.outcome {
                Ok(()) => {
                    // A platform that accepts only for processing is read back later.
                    let verify_at = connector::verify_after_ms(kind)
                        .map(|delay| finished + tuning.verify_after_ms.unwrap_or(delay));
                    self.writes
                        .push(pushed(&self.db, planned, finished, &self.token, verify_at)?);
                }
                Err(failure) => {
                    self.writes
                        .push(release(&self.db, planned.row.id, &self.token)?);
                    if matches!(failure, Failure::KeyRefused { .. }) {
                        self.writes.push(next_key_round(&self.db, planned.row.id)?);
                    }
                    if matches!(failure, Failure::CapReached { .. }) {
                        self.writes
                            .push(cap_used_up(&self.db, &planned.row, finished)?);
                    }
                }
            }
            follow(&mut self.next, planned.row.product_id, outcome.next);
        }
        Ok(())
    }

    /// Settles the outbox (see `round::settle`): entries closed or postponed to their retry.
    fn settle(&mut self, finished: i64) -> Result<(), ApiError> {
        let mut closed = Vec::new();
        // The leads are not needed after the round settles.
        for (pid, (product, lead, _)) in std::mem::take(&mut self.leads) {
            let settlement = round::settle(product, lead.id, &self.next[&pid], finished);
            self.writes.push(outbox::close(
                &self.db,
                self.account,
                &settlement.close,
                EntryStatus::Done,
                finished,
            )?);
            if let Some(p) = settlement.postpone {
                self.writes.push(outbox::postpone(
                    &self.db,
                    self.account,
                    p.id,
                    p.until,
                    p.attempt,
                )?);
            }
            closed.extend(settlement.close);
        }
        self.settle_placeholders(closed)
    }

    /// Placeholder rows of closed entries go (see `history::settle_placeholders`): those this
    /// round closed, and those the batch named that were closed before it (a repeat, or a
    /// round that raced this one), for which a late round may have written a placeholder.
    fn settle_placeholders(&mut self, mut closed: Vec<i64>) -> Result<(), ApiError> {
        closed.extend(
            self.entries
                .iter()
                .filter(|e| e.status != EntryStatus::Pending)
                .map(|e| e.id),
        );
        if !closed.is_empty() {
            let writes = history::settle_placeholders(&self.db, self.account, &closed)?;
            self.writes.extend(writes);
        }
        Ok(())
    }
}

/// Records `wanted` as a product's follow-up, keeping the stronger of it and what is there.
fn follow(next: &mut BTreeMap<i64, Next>, product: i64, wanted: Next) {
    let now = next.remove(&product).unwrap_or(Next::Done);
    next.insert(product, now.stronger(wanted));
}

fn all_entry_ids(dirty: &[DirtyProduct]) -> Vec<i64> {
    dirty
        .iter()
        .flat_map(|d| d.entries.iter().map(|(id, _)| *id))
        .collect()
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
        trigger: lead.trigger,
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
        trigger: lead.trigger,
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
    p: &Planned<'_>,
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

/// The storefront said the listing's cap is used up: count it so, so this listing and its
/// cap group wait for the new day.
fn cap_used_up(
    db: &D1Database,
    row: &ListingRow,
    now: i64,
) -> Result<D1PreparedStatement, ApiError> {
    let cap = connector::limits(row.kind()?)
        .daily_revisions
        .map_or(0, i64::from);
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A random number in `[0, 1)` for retry jitter.
fn random_unit() -> Result<f64, ApiError> {
    let bytes = crypto::random_bytes::<4>()?;
    Ok(f64::from(u32::from_le_bytes(bytes)) / (f64::from(u32::MAX) + 1.0))
}
