//! The sync queue consumer: turns "this product is dirty" into sync history (and, once
//! storefronts are connected, pushes). Each message is acked or retried on its own.
//!
//! Deliveries can repeat and arrive out of order, so the handler reads the *current* state and
//! every write is idempotent: a handled outbox entry is skipped, history rows are unique per
//! (outbox entry, listing).

use crate::bindings::{producer_of, DB, KV, SYNC_DLQ_NAME};
use crate::catalogue_job;
use crate::clock::{now_ms, Budget};
use crate::deliveries;
use crate::engine;
use crate::error::ApiError;
use crate::polling;
use crate::resync_job;
use crate::store::bulk_jobs::{self, Step};
use crate::store::history::{self, Record};
use crate::store::{outbox, products};
use crate::upload_job;
use crate::verify;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use tally_domain::bulk_job::JobStatus;
use tally_domain::connector::Failure;
use tally_domain::retry;
use tally_domain::round::{self, EntryStatus, InvocationBudget, Next};
use tally_domain::storefront::StorefrontKind;
use tally_domain::sync::{coalesce, handed_back, rounds, SyncMessage, SyncStatus};
use tally_domain::{AccountId, ProductId};
use worker::{Env, Message, MessageBatch, MessageExt, QueueRetryOptionsBuilder};

/// Seconds before a failed message is delivered again. The queue's `max_retries` then moves it
/// to the dead-letter queue.
const RETRY_DELAY_SECONDS: u32 = 5;

/// KV key where the consumer records the last health ping it handled.
pub const LAST_PING_KEY: &str = "health:last-ping";

/// What the health check reads back from [`LAST_PING_KEY`].
#[derive(Serialize, Deserialize)]
pub struct LastPing {
    pub nonce: String,
    pub at: i64,
}

/// Handles one batch from the sync queue or its dead-letter queue.
pub async fn handle_batch(batch: MessageBatch<SyncMessage>, env: &Env) {
    let queue = batch.queue();
    let dead_letters = queue == SYNC_DLQ_NAME;
    // What this invocation does not start goes back to the queue it came from.
    let back_to = producer_of(&queue);
    let mut messages = Vec::new();
    for raw in batch.raw_iter() {
        // A body that does not parse will never parse: ack it so it cannot block the queue.
        match Message::<SyncMessage>::try_from(raw) {
            Ok(m) => messages.push(m),
            Err(e) => worker::console_error!("dropping a sync message that does not parse: {e}"),
        }
    }
    if dead_letters {
        for message in &messages {
            settle(message, give_up_all(message.body(), env).await);
        }
        return;
    }
    // Product changes go through the engine together, so a burst coalesces; the rest one by one,
    // first, within half the invocation's budget, so neither can crowd the other out.
    let (changes, others): (Vec<_>, Vec<_>) =
        messages.iter().partition(|m| m.body().is_product_change());
    // Half the budget when product changes wait their turn too (the sync queue), all of it
    // when the batch holds nothing else (the jobs queue).
    let share = if changes.is_empty() { 1 } else { 2 };
    let mut budget = InvocationBudget::new(
        now_ms(),
        round::INVOCATION_MS / share,
        round::STATEMENTS_PER_INVOCATION / share as usize,
    );
    let mut later = Vec::new();
    for message in others {
        let guess = message.body().statements_guess();
        if !budget.allows(now_ms(), guess) {
            later.push(message);
            continue;
        }
        settle(message, handle(message.body(), env).await);
        budget.spend(guess);
    }
    hand_back(env, back_to, &later).await;
    let budget = budget.then(round::INVOCATION_MS, round::STATEMENTS_PER_INVOCATION);
    push_changes(env, &changes, budget, back_to).await;
}

/// Puts messages this invocation will not start back on their queue as fresh copies (a
/// hand-back is not a failed delivery, so it must not count towards `max_retries`); if that
/// send fails, the queue delivers the originals again instead. A copy starts its retry count
/// afresh (the `worker` crate does not expose a message's attempts, so one that failed before
/// cannot be told apart); each kind handed back here is also resumed by the cron from D1
/// (stalled deliveries, jobs, due polls and read-backs; a health ping is simply asked again), so
/// none depends on the count.
async fn hand_back(env: &Env, queue: &str, messages: &[&Message<SyncMessage>]) {
    if messages.is_empty() {
        return;
    }
    let copies = messages.iter().map(|m| m.body().clone()).collect();
    match outbox::send_all_to(env, queue, copies).await {
        Ok(()) => messages.iter().for_each(|m| m.ack()),
        Err(e) => {
            worker::console_warn!("handing back {} messages failed: {e}", messages.len());
            messages.iter().for_each(|m| m.retry());
        }
    }
}

/// Acks a handled message; a failure to handle it is retried by the queue (and dead-lettered
/// by it after `max_retries`).
fn settle(message: &Message<SyncMessage>, outcome: Result<(), ApiError>) {
    match outcome {
        Ok(()) => message.ack(),
        Err(e) => {
            worker::console_warn!("sync message {} will be retried: {e}", message.id());
            message.retry_with_options(
                &QueueRetryOptionsBuilder::new()
                    .with_delay_seconds(RETRY_DELAY_SECONDS)
                    .build(),
            );
        }
    }
}

/// Products one engine round takes on: a batch of packed messages (a big file) is pushed in
/// rounds of this many, so no round's reads and writes grow without bound (about 300 D1
/// statements for products with one listing each; see `round::STATEMENTS_PER_INVOCATION`).
const PRODUCTS_PER_ROUND: usize = 50;

/// What a product's messages need after its round, sent together at the end of the batch (one
/// queue call per hundred messages, not one per product).
#[derive(Default)]
struct FollowUps {
    /// (message, delay in seconds) for the sync queue, and the products they carry on.
    later: Vec<(SyncMessage, u32)>,
    later_for: Vec<(AccountId, ProductId)>,
    /// Rounds this invocation did not start, for the queue the batch came from (`back_to`).
    back: Vec<SyncMessage>,
    back_for: Vec<(AccountId, ProductId)>,
    back_to: &'static str,
    /// Messages for the dead-letter queue, and their products.
    dead: Vec<SyncMessage>,
    dead_for: Vec<(AccountId, ProductId)>,
}

impl FollowUps {
    /// Sends them all and records, per product, whether its follow-up is on its way.
    async fn send(
        self,
        env: &Env,
        settled: &mut HashMap<(AccountId, ProductId), Result<(), String>>,
    ) {
        let sent = outbox::send_all_later(env, self.later)
            .await
            .map_err(|e| format!("queueing the follow-up: {e}"));
        for key in self.later_for {
            settled.insert(key, sent.clone());
        }
        let sent = outbox::send_all_to(env, self.back_to, self.back)
            .await
            .map_err(|e| format!("handing back: {e}"));
        for key in self.back_for {
            settled.insert(key, sent.clone());
        }
        let sent = outbox::dead_letter_all(env, self.dead)
            .await
            .map_err(|e| format!("dead-lettering: {e}"));
        for key in self.dead_for {
            settled.insert(key, sent.clone());
        }
    }
}

/// Runs the engine per account for the batch's product changes (in rounds of at most
/// [`PRODUCTS_PER_ROUND`] products), then acts on what it decided for each product: done,
/// re-send later with the next attempt, or dead-letter. A message is acked once every product
/// it names is settled; otherwise the queue delivers it again (a repeat is harmless).
async fn push_changes(
    env: &Env,
    changes: &[&Message<SyncMessage>],
    mut budget: InvocationBudget,
    back_to: &'static str,
) {
    let dirty = coalesce(changes.iter().map(|m| m.body()));
    // Per product: settled, or why not.
    let mut settled: HashMap<(AccountId, ProductId), Result<(), String>> = HashMap::new();
    let mut follow_ups = FollowUps {
        back_to,
        ..FollowUps::default()
    };
    // The most statements one round took so far: the next one's expected cost.
    let mut largest_round = 0;
    for round in rounds(&dirty, PRODUCTS_PER_ROUND) {
        let Some(account) = round.first().map(|d| d.account_id) else {
            continue;
        };
        let round = round.as_slice();
        let expected = largest_round.max(round.len() * round::STATEMENTS_PER_PRODUCT_GUESS);
        if !budget.allows(now_ms(), expected) {
            // Long enough (or enough D1 statements) for one invocation: the rest goes back on
            // the queue as fresh messages (same entries and attempts), so nothing counts as a
            // failure. Each product's message is acked only once they are sent.
            follow_ups.back.extend(handed_back(round));
            follow_ups
                .back_for
                .extend(round.iter().map(|d| (account, d.product_id)));
            continue;
        }
        let next = match engine::run(env, account, round).await {
            Ok(done) => {
                budget.spend(done.statements);
                largest_round = largest_round.max(done.statements);
                done.next
            }
            Err(e) => {
                // What it issued before failing is not known: count what it was expected to.
                budget.spend(expected);
                for d in round {
                    settled.insert((account, d.product_id), Err(e.to_string()));
                }
                continue;
            }
        };
        for d in round {
            let key = (account, d.product_id);
            match next.get(&d.product_id.0) {
                Some(Next::Retry {
                    outbox_id,
                    attempt,
                    delay_s,
                }) => {
                    follow_ups
                        .later
                        .push((d.message(*outbox_id, *attempt), *delay_s));
                    follow_ups.later_for.push(key);
                }
                Some(Next::DeadLetter { outbox_id, attempt }) => {
                    follow_ups.dead.push(d.message(*outbox_id, *attempt));
                    follow_ups.dead_for.push(key);
                }
                _ => {
                    settled.insert(key, Ok(()));
                }
            }
        }
    }
    // If a follow-up could not be queued, the queue redelivers the product's message instead.
    follow_ups.send(env, &mut settled).await;
    for message in changes {
        let failed =
            message
                .body()
                .product_changes()
                .iter()
                .find_map(
                    |(account, product, _, _)| match settled.get(&(*account, *product)) {
                        Some(Ok(())) => None,
                        Some(Err(e)) => Some(e.clone()),
                        None => Some("not handled".to_owned()),
                    },
                );
        settle(
            message,
            failed.map_or(Ok(()), |e| Err(ApiError::Internal(e))),
        );
    }
}

async fn handle(message: &SyncMessage, env: &Env) -> Result<(), ApiError> {
    match message {
        SyncMessage::Ping { nonce } => record_ping(env, nonce).await,
        SyncMessage::BulkJob { account_id, job_id } => {
            run_bulk_job(env, *account_id, *job_id).await
        }
        SyncMessage::UploadJob {
            account_id,
            upload_id,
        } => {
            let budget = Budget::new(UPLOAD_STEPS_PER_DELIVERY, JOB_DELIVERY_MS);
            upload_job::advance(env, *account_id, *upload_id, budget).await
        }
        SyncMessage::Delivery {
            account_id,
            inbox_id,
        } => deliveries::apply(env, *account_id, *inbox_id).await,
        SyncMessage::Poll {
            account_id,
            storefront_id,
        } => polling::poll(env, *account_id, *storefront_id)
            .await
            .map(|_| ()),
        SyncMessage::Verify {
            account_id,
            listing_id,
        } => verify::listing(env, *account_id, *listing_id).await,
        SyncMessage::CatalogueRead {
            account_id,
            read_id,
        } => catalogue_job::advance(env, *account_id, *read_id).await,
        SyncMessage::ResyncJob { account_id, job_id } => {
            resync_job::advance(env, *account_id, *job_id).await
        }
        SyncMessage::ProductChanged { .. } | SyncMessage::ProductsChanged { .. } => Ok(()),
    }
}

/// How long one delivery of a background job keeps starting steps before it hands the rest to
/// a fresh message on the jobs queue: long enough that a job does not hop the queue after
/// every chunk, short enough that the jobs of other sellers (at most a few per batch) get their
/// turn within seconds.
const JOB_DELIVERY_MS: i64 = 1_000;

/// Bulk-job chunks one delivery runs at most (each a few D1 statements over 2,000 products).
const CHUNKS_PER_DELIVERY: u32 = 20;

/// Steps of an upload's apply job one delivery runs at most (each 5,000 rows, about half a
/// second, and a few hundred statements).
const UPLOAD_STEPS_PER_DELIVERY: u32 = 4;

/// Advances a bulk job chunk by chunk while its budget lasts; continues in a new message if
/// work remains.
async fn run_bulk_job(env: &Env, account: AccountId, job_id: i64) -> Result<(), ApiError> {
    let db = env.d1(DB)?;
    let budget = Budget::new(CHUNKS_PER_DELIVERY, JOB_DELIVERY_MS);
    let mut done = 0;
    while budget.allows(done) {
        done += 1;
        let Some(job) = bulk_jobs::find(&db, account, job_id).await? else {
            return Ok(());
        };
        if job.status() != JobStatus::Running {
            return Ok(());
        }
        match bulk_jobs::advance(&db, &job, now_ms()).await? {
            Step::Progressed => continue,
            Step::Finished | Step::Stopped => return Ok(()),
        }
    }
    outbox::send(
        env,
        SyncMessage::BulkJob {
            account_id: account,
            job_id,
        },
    )
    .await
}

async fn record_ping(env: &Env, nonce: &str) -> Result<(), ApiError> {
    let ping = LastPing {
        nonce: nonce.to_owned(),
        at: now_ms(),
    };
    env.kv(KV)?.put(LAST_PING_KEY, &ping)?.execute().await?;
    Ok(())
}

/// A dead letter names one product change, or (a packed message the consumer itself kept
/// failing on) several: each is given up on in turn.
async fn give_up_all(message: &SyncMessage, env: &Env) -> Result<(), ApiError> {
    for (account_id, product_id, outbox_id, attempt) in message.product_changes() {
        let one = SyncMessage::ProductChanged {
            account_id,
            product_id,
            outbox_id,
            attempt,
        };
        give_up(&one, env).await?;
    }
    Ok(())
}

/// After the last retry a push lands here: the outbox entry is marked failed and the history
/// says, per listing, what went wrong and what the seller should do.
async fn give_up(message: &SyncMessage, env: &Env) -> Result<(), ApiError> {
    let SyncMessage::ProductChanged {
        account_id,
        product_id,
        outbox_id,
        ..
    } = message
    else {
        // A lost health ping or job step needs no follow-up (the cron resumes jobs), and a
        // webhook delivery stays waiting in the inbox, where the cron finds it again.
        return Ok(());
    };
    let db = env.d1(DB)?;
    let Some(entry) = outbox::find(&db, *account_id, *outbox_id).await? else {
        return Ok(());
    };
    if entry.status != EntryStatus::Pending {
        return Ok(()); // Already settled: a repeated dead letter.
    }
    let now = now_ms();
    let failures = history::retrying(&db, *account_id, entry.id).await?;
    let mut writes = Vec::new();
    let generic;
    if failures.is_empty() {
        // The consumer itself kept failing (not a storefront): say so once for the product.
        let quantity = products::find(&db, *account_id, *product_id)
            .await?
            .map_or(0, |p| p.quantity);
        generic = Record {
            account_id: account_id.0,
            product_id: product_id.0,
            outbox_id: entry.id,
            trigger: entry.trigger,
            attempt: engine::Tuning::from_env(env).policy.max_attempts + 1,
            changed_at: Some(entry.created_at),
            now,
            listing_id: None,
            storefront_id: None,
            storefront: None,
            quantity,
            status: SyncStatus::Failed,
            message: "Tally could not process this quantity change after several tries.",
            action: Some(
                "Select the product in Inventory and press Sync Now to push its current quantity.",
            ),
            breakdown: None,
            answer: None,
            failure: None,
        };
        writes.push(history::insert(&db, &generic)?);
    }
    let texts: Vec<(String, String, &history::LastFailure)> = failures
        .iter()
        .map(|f| {
            let failure: Failure =
                serde_json::from_str(&f.failure).unwrap_or(Failure::Unavailable {
                    message: "unknown".into(),
                });
            let kind = StorefrontKind::parse(&f.storefront_kind).unwrap_or(StorefrontKind::Shopify);
            let (cause, fix) = retry::advice(kind, &failure);
            (
                format!("Gave up after {} tries. {cause}", f.attempt),
                fix,
                f,
            )
        })
        .collect();
    for (message, fix, f) in &texts {
        writes.push(history::insert(
            &db,
            &Record {
                account_id: account_id.0,
                product_id: product_id.0,
                outbox_id: entry.id,
                trigger: entry.trigger,
                attempt: u32::try_from(f.attempt + 1).unwrap_or(u32::MAX),
                changed_at: Some(entry.created_at),
                now,
                listing_id: Some(f.listing_id),
                storefront_id: Some(f.storefront_id),
                storefront: Some(&f.storefront),
                quantity: f.quantity,
                status: SyncStatus::Failed,
                message,
                action: Some(fix),
                breakdown: f.breakdown.clone(),
                answer: None,
                failure: Some(&f.failure),
            },
        )?);
    }
    writes.push(outbox::close(
        &db,
        *account_id,
        &[entry.id],
        EntryStatus::Failed,
        now,
    )?);
    writes.push(history::abandon_placeholders(
        &db,
        *account_id,
        entry.id,
        now,
    )?);
    writes.extend(history::settle_placeholders(&db, *account_id, &[entry.id])?);
    db.batch(writes).await?;
    Ok(())
}
