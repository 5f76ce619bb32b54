//! The sync queue consumer: turns "this product is dirty" into sync history (and, once
//! storefronts are connected, pushes). Each message is acked or retried on its own.
//!
//! Deliveries can repeat and arrive out of order, so the handler reads the *current* state and
//! every write is idempotent: a handled outbox entry is skipped, history rows are unique per
//! (outbox entry, listing).

use crate::bindings::{DB, KV, SYNC_DLQ_NAME};
use crate::clock::now_ms;
use crate::db::int;
use crate::error::ApiError;
use crate::store::bulk_jobs::{self, Step};
use crate::store::{history, listings, outbox, products};
use serde::{Deserialize, Serialize};
use tally_domain::sync::{plan_pushes, PlannedEntry, SyncMessage, SyncStatus};
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
    let dead_letters = batch.queue() == SYNC_DLQ_NAME;
    for raw in batch.raw_iter() {
        // A body that does not parse will never parse: ack it so it cannot block the queue.
        let message = match Message::<SyncMessage>::try_from(raw) {
            Ok(m) => m,
            Err(e) => {
                worker::console_error!("dropping a sync message that does not parse: {e}");
                continue;
            }
        };
        let outcome = if dead_letters {
            give_up(message.body(), env).await
        } else {
            handle(message.body(), env).await
        };
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
}

async fn handle(message: &SyncMessage, env: &Env) -> Result<(), ApiError> {
    match message {
        SyncMessage::Ping { nonce } => record_ping(env, nonce).await,
        SyncMessage::BulkJob { account_id, job_id } => {
            run_bulk_job(env, *account_id, *job_id).await
        }
        SyncMessage::ProductChanged {
            account_id,
            product_id,
            outbox_id,
        } => product_changed(env, *account_id, *product_id, *outbox_id).await,
    }
}

/// Chunks one delivery handles before handing the rest to a fresh message, so no single
/// invocation runs long and other messages are not held up behind a big job.
const CHUNKS_PER_DELIVERY: u32 = 10;

/// Advances a bulk job chunk by chunk; continues in a new message if work remains.
async fn run_bulk_job(env: &Env, account: AccountId, job_id: i64) -> Result<(), ApiError> {
    let db = env.d1(DB)?;
    for _ in 0..CHUNKS_PER_DELIVERY {
        let Some(job) = bulk_jobs::find(&db, account, job_id).await? else {
            return Ok(());
        };
        if job.status != "running" {
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

async fn product_changed(
    env: &Env,
    account: AccountId,
    product_id: ProductId,
    outbox_id: i64,
) -> Result<(), ApiError> {
    let db = env.d1(DB)?;
    let Some(entry) = outbox::find(&db, account, outbox_id).await? else {
        return Ok(()); // Not ours to handle (deleted, or a forged id): nothing to do.
    };
    if entry.status != "pending" {
        return Ok(()); // A repeated delivery of an entry already handled.
    }
    let Some(product) = products::find(&db, account, product_id).await? else {
        return Ok(());
    };
    let listings = listings::active_for_product(&db, account, product_id).await?;
    let plan = plan_pushes(product.quantity, &listings);
    let origin = history::Origin {
        account_id: account.0,
        product_id: product_id.0,
        outbox_id,
        trigger: &entry.trigger,
        now: now_ms(),
    };
    finish(&db, &origin, &plan, "done").await
}

/// After the last retry: the entry is marked failed and the seller is told what to do.
async fn give_up(message: &SyncMessage, env: &Env) -> Result<(), ApiError> {
    let SyncMessage::ProductChanged {
        account_id,
        product_id,
        outbox_id,
    } = message
    else {
        return Ok(()); // A lost health ping needs no follow-up.
    };
    let db = env.d1(DB)?;
    let Some(entry) = outbox::find(&db, *account_id, *outbox_id).await? else {
        return Ok(());
    };
    let quantity = products::find(&db, *account_id, *product_id)
        .await?
        .map_or(0, |p| p.quantity);
    let failed = PlannedEntry {
        listing_id: None,
        storefront_name: None,
        quantity,
        status: SyncStatus::Failed,
        message: "Tally could not process this quantity change after several tries.".into(),
        action: Some(
            "Select the product in Inventory and press Sync Now to push its current quantity."
                .into(),
        ),
    };
    let origin = history::Origin {
        account_id: account_id.0,
        product_id: product_id.0,
        outbox_id: entry.id,
        trigger: &entry.trigger,
        now: now_ms(),
    };
    finish(&db, &origin, &[failed], "failed").await
}

/// Writes the history entries and closes the outbox entry in one batch.
async fn finish(
    db: &worker::D1Database,
    origin: &history::Origin<'_>,
    entries: &[PlannedEntry],
    outbox_status: &str,
) -> Result<(), ApiError> {
    let mut statements = entries
        .iter()
        .map(|e| history::insert(db, origin, e))
        .collect::<Result<Vec<_>, _>>()?;
    statements.push(
        db.prepare(
            "UPDATE sync_outbox SET status = ?1, updated_at = ?2 WHERE id = ?3 AND status = 'pending'",
        )
        .bind(&[
            crate::db::text(outbox_status),
            int(origin.now),
            int(origin.outbox_id),
        ])?,
    );
    db.batch(statements).await?;
    Ok(())
}
