//! The `sync_outbox` table: quantity changes waiting to be pushed, and sending them to the queue.

use super::Count;
use crate::bindings::{BULK_SYNC_QUEUE, JOBS_QUEUE, SYNC_DLQ, SYNC_QUEUE};
use crate::db::{int, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::api::PushOutcome;
use tally_domain::round::{Entry, EntryStatus};
use tally_domain::sync::{goes_in_bulk, messages_for, SyncMessage, SyncTrigger};
use tally_domain::{AccountId, ProductId};
use worker::{BatchMessageBuilder, D1Database, D1PreparedStatement, D1Result, Env, MessageBuilder};

/// An outbox entry as the consumer needs it.
#[derive(Debug, Clone, Deserialize)]
pub struct OutboxRow {
    pub id: i64,
    pub account_id: i64,
    pub product_id: i64,
    pub trigger: SyncTrigger,
    pub status: EntryStatus,
    /// When the change happened (change-to-storefront latency starts here).
    pub created_at: i64,
    /// The attempt its next delivery makes, less one: failed attempts so far. Waiting (a busy
    /// listing, the push spacing) and cron re-sends of a lost message do not count.
    pub attempts: i64,
}

impl OutboxRow {
    /// What a round needs to know of it.
    pub fn entry(&self) -> Entry {
        Entry {
            id: self.id,
            trigger: self.trigger,
            status: self.status,
        }
    }

    /// The queue message that delivers this entry.
    pub fn message(&self) -> SyncMessage {
        SyncMessage::ProductChanged {
            account_id: AccountId(self.account_id),
            product_id: ProductId(self.product_id),
            outbox_id: self.id,
            // The attempt the lost message would have made: the retry budget is neither reset
            // nor spent by a lost message.
            attempt: u32::try_from(self.attempts + 1).unwrap_or(u32::MAX),
        }
    }
}

/// The queue a message travels on: background job steps on the jobs queue, everything else
/// (pushes, webhook deliveries, polls, read-backs, health pings) on the sync queue.
fn queue_of(message: &SyncMessage) -> &'static str {
    if message.is_background_job() {
        JOBS_QUEUE
    } else {
        SYNC_QUEUE
    }
}

/// Puts one message on its queue.
pub async fn send(env: &Env, message: SyncMessage) -> Result<(), ApiError> {
    send_later(env, message, 0).await
}

/// Sends the queue message for a freshly written outbox entry. A failure here loses nothing:
/// the entry stays pending and the cron handler sends it again, so the seller's change is
/// confirmed either way.
pub async fn send_or_leave_for_cron(env: &Env, account: AccountId, product: ProductId, id: i64) {
    let message = SyncMessage::ProductChanged {
        account_id: account,
        product_id: product,
        outbox_id: id,
        attempt: 1,
    };
    if let Err(e) = send(env, message).await {
        worker::console_warn!("outbox {id}: queue send failed, cron will re-send: {e}");
    }
}

/// Sends many messages, in the queue's batches of at most 100. A failed send loses nothing: the
/// entries stay pending and the cron handler sends them again.
pub async fn send_many(env: &Env, messages: Vec<SyncMessage>) {
    if let Err(e) = send_all(env, messages).await {
        worker::console_warn!("queue send failed, cron will re-send: {e}");
    }
}

/// Sends many messages to their queues, in batches of at most 100; stops at the first failure.
pub async fn send_all(env: &Env, messages: Vec<SyncMessage>) -> Result<(), ApiError> {
    send_all_later(env, messages.into_iter().map(|m| (m, 0)).collect()).await
}

/// Sends many (message, delay in seconds) pairs to their queues, in batches of at most 100
/// (one queue call per hundred, not one per message); stops at the first failure.
pub async fn send_all_later(env: &Env, messages: Vec<(SyncMessage, u32)>) -> Result<(), ApiError> {
    let (jobs, others): (Vec<_>, Vec<_>) = messages
        .into_iter()
        .partition(|(m, _)| m.is_background_job());
    send_batches(env, JOBS_QUEUE, jobs).await?;
    send_batches(env, SYNC_QUEUE, others).await
}

/// Sends to the dead-letter queue the pushes whose retries are used up, in batches of 100.
pub async fn dead_letter_all(env: &Env, messages: Vec<SyncMessage>) -> Result<(), ApiError> {
    send_batches(
        env,
        SYNC_DLQ,
        messages.into_iter().map(|m| (m, 0)).collect(),
    )
    .await
}

async fn send_batches(
    env: &Env,
    binding: &str,
    messages: Vec<(SyncMessage, u32)>,
) -> Result<(), ApiError> {
    if messages.is_empty() {
        return Ok(());
    }
    let queue = env.queue(binding)?;
    for chunk in messages.chunks(100) {
        let mut batch = BatchMessageBuilder::new();
        for (message, delay_s) in chunk {
            batch = batch.message(
                MessageBuilder::new(message.clone())
                    .delay_seconds((*delay_s).min(MAX_DELAY_S))
                    .build(),
            );
        }
        queue.send_batch(batch.build()).await?;
    }
    Ok(())
}

/// The longest delay Queues accepts (12 hours).
const MAX_DELAY_S: u32 = 43_200;

/// An outbox entry a batch has just written: what to send.
#[derive(Debug, Deserialize)]
pub struct Queued {
    pub id: i64,
    pub product_id: i64,
}

/// The first statement of a batch that writes outbox entries. A batch is one transaction, so
/// every entry above the mark it reads was written by that batch.
pub fn mark(db: &D1Database) -> D1PreparedStatement {
    db.prepare("SELECT COALESCE(MAX(id), 0) AS n FROM sync_outbox")
}

/// The mark's value, from its statement's result.
pub fn mark_value(result: &D1Result) -> Result<i64, ApiError> {
    Ok(result.results::<Count>()?.first().map_or(0, |c| c.n as i64))
}

/// The account's entries with `trigger` written at `now` after `mark`.
pub async fn queued_since(
    db: &D1Database,
    account: AccountId,
    trigger: SyncTrigger,
    mark: i64,
    now: i64,
) -> Result<Vec<Queued>, ApiError> {
    Ok(db
        .prepare(
            "SELECT id, product_id FROM sync_outbox \
             WHERE id > ?1 AND account_id = ?2 AND trigger = ?3 AND created_at = ?4",
        )
        .bind(&[int(mark), int(account.0), text(trigger.as_str()), int(now)])?
        .all()
        .await?
        .results::<Queued>()?)
}

/// Sends the messages that deliver freshly queued entries (packed when there are many), from
/// the bulk lane when they are many (see `sync::goes_in_bulk`). A failed send loses nothing:
/// the entries stay pending and the cron sends them again.
pub async fn send_queued(env: &Env, account: AccountId, queued: &[Queued]) {
    let entries: Vec<(ProductId, i64)> = queued
        .iter()
        .map(|q| (ProductId(q.product_id), q.id))
        .collect();
    let messages = messages_for(account, &entries);
    if !goes_in_bulk(entries.len()) {
        return send_many(env, messages).await;
    }
    if let Err(e) = send_all_to(env, BULK_SYNC_QUEUE, messages).await {
        worker::console_warn!("bulk lane send failed, cron will re-send: {e}");
    }
}

/// Sends many messages to the queue bound as `binding`, in batches of at most 100.
pub async fn send_all_to(
    env: &Env,
    binding: &str,
    messages: Vec<SyncMessage>,
) -> Result<(), ApiError> {
    send_batches(env, binding, messages.into_iter().map(|m| (m, 0)).collect()).await
}

/// One entry of the account, if it exists there.
pub async fn find(
    db: &D1Database,
    account: AccountId,
    id: i64,
) -> Result<Option<OutboxRow>, ApiError> {
    Ok(db
        .prepare(
            "SELECT id, account_id, product_id, trigger, status, created_at, attempts FROM sync_outbox \
             WHERE id = ?1 AND account_id = ?2",
        )
        .bind(&[int(id), int(account.0)])?
        .first::<OutboxRow>(None)
        .await?)
}

/// Pending entries not touched since `before`: their message was lost, failed to send, or is
/// still waiting on a retry. At most `limit`, taken from the accounts in turn (each account's
/// oldest, then each one's second oldest, ...), so one account with thousands of stale entries
/// cannot keep another's single change waiting for many cron runs.
pub async fn stale_pending(
    db: &D1Database,
    before: i64,
    limit: u32,
) -> Result<Vec<OutboxRow>, ApiError> {
    Ok(db
        .prepare(
            "SELECT id, account_id, product_id, trigger, status, created_at, attempts FROM ( \
               SELECT *, ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY updated_at) AS turn \
               FROM sync_outbox WHERE status = 'pending' AND updated_at < ?1) \
             ORDER BY turn, updated_at LIMIT ?2",
        )
        .bind(&[int(before), int(i64::from(limit))])?
        .all()
        .await?
        .results::<OutboxRow>()?)
}

/// Re-sends the given entries and marks them touched, so the next cron run leaves them alone
/// until they are stale again.
pub async fn resend(
    env: &Env,
    db: &D1Database,
    rows: &[OutboxRow],
    now: i64,
) -> Result<(), ApiError> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut batch = BatchMessageBuilder::new();
    for row in rows {
        batch = batch.message(MessageBuilder::new(row.message()).build());
    }
    env.queue(SYNC_QUEUE)?.send_batch(batch.build()).await?;
    let touches = rows
        .iter()
        .map(|row| {
            db.prepare(
                "UPDATE sync_outbox SET updated_at = ?1 WHERE id = ?2 AND status = 'pending'",
            )
            .bind(&[int(now), int(row.id)])
        })
        .collect::<Result<Vec<_>, _>>()?;
    db.batch(touches).await?;
    Ok(())
}

/// The account's entries among `ids`.
pub async fn find_many(
    db: &D1Database,
    account: AccountId,
    ids: &[i64],
) -> Result<Vec<OutboxRow>, ApiError> {
    let ids = serde_json::to_string(ids).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(db
        .prepare(
            "SELECT id, account_id, product_id, trigger, status, created_at, attempts FROM sync_outbox \
             WHERE account_id = ?1 AND id IN (SELECT value FROM json_each(?2))",
        )
        .bind(&[int(account.0), text(&ids)])?
        .all()
        .await?
        .results::<OutboxRow>()?)
}

/// Where each of the account's entries among `ids` stands: settled or not (or given up on),
/// and each listing's newest outcome in the history. Pushed, already there (`skipped`), and a
/// `sent` row left on a settled entry (its answer was lost to a restart and a later attempt
/// pushed the current quantity, as the row says) count as pushed. Ids of other accounts are
/// left out.
pub async fn progress(
    db: &D1Database,
    account: AccountId,
    ids: &[i64],
) -> Result<Vec<PushOutcome>, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        status: EntryStatus,
        pushed: i64,
        failed: i64,
    }
    let ids = serde_json::to_string(ids).map_err(|e| ApiError::Internal(e.to_string()))?;
    let rows = db
        .prepare(
            "WITH asked AS (SELECT id, status FROM sync_outbox \
               WHERE account_id = ?1 AND id IN (SELECT value FROM json_each(?2))), \
             newest AS (SELECT h.outbox_id, h.status, ROW_NUMBER() OVER \
               (PARTITION BY h.outbox_id, h.listing_id ORDER BY h.attempt DESC, h.id DESC) AS rank \
               FROM sync_history h WHERE h.account_id = ?1 AND h.listing_id IS NOT NULL \
                 AND h.outbox_id IN (SELECT id FROM asked)) \
             SELECT a.status, \
               (SELECT COUNT(*) FROM newest n WHERE n.outbox_id = a.id AND n.rank = 1 \
                  AND n.status IN ('succeeded', 'skipped', 'sent')) AS pushed, \
               (SELECT COUNT(*) FROM newest n WHERE n.outbox_id = a.id AND n.rank = 1 \
                  AND n.status = 'failed') AS failed \
             FROM asked a",
        )
        .bind(&[int(account.0), text(&ids)])?
        .all()
        .await?
        .results::<Row>()?;
    Ok(rows
        .into_iter()
        .map(|r| PushOutcome {
            settled: r.status != EntryStatus::Pending,
            gave_up: r.status == EntryStatus::Failed,
            listings_pushed: r.pushed.max(0) as u64,
            listings_failed: r.failed.max(0) as u64,
        })
        .collect())
}

/// Closes pending entries with `status` (done or failed).
pub fn close(
    db: &D1Database,
    account: AccountId,
    ids: &[i64],
    status: EntryStatus,
    now: i64,
) -> Result<D1PreparedStatement, ApiError> {
    let ids = serde_json::to_string(ids).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(db
        .prepare(
            "UPDATE sync_outbox SET status = ?3, updated_at = ?4 \
             WHERE account_id = ?1 AND status = 'pending' \
               AND id IN (SELECT value FROM json_each(?2))",
        )
        .bind(&[int(account.0), text(&ids), text(status.as_str()), int(now)])?)
}

/// Keeps an entry pending but out of the cron's way until `until`, when its next delivery
/// (at `attempt`) is due: a retry after a failure, or the same attempt after a wait. Should
/// that message be lost, the cron re-sends the same attempt. The count never goes down: a
/// late repeat of an older attempt cannot hand a product more retries.
pub fn postpone(
    db: &D1Database,
    account: AccountId,
    id: i64,
    until: i64,
    attempt: u32,
) -> Result<D1PreparedStatement, ApiError> {
    Ok(db
        .prepare(
            "UPDATE sync_outbox SET updated_at = ?3, attempts = MAX(attempts, ?4) \
             WHERE account_id = ?1 AND id = ?2 AND status = 'pending'",
        )
        .bind(&[
            int(account.0),
            int(id),
            int(until),
            int(i64::from(attempt.saturating_sub(1))),
        ])?)
}

/// Puts messages on a queue with a delay (retries after backoff).
pub async fn send_later(env: &Env, message: SyncMessage, delay_s: u32) -> Result<(), ApiError> {
    env.queue(queue_of(&message))?
        .send(
            MessageBuilder::new(message)
                .delay_seconds(delay_s.min(MAX_DELAY_S))
                .build(),
        )
        .await?;
    Ok(())
}

/// What a settings change may have left out of date on the storefronts.
pub enum Resync {
    /// Listings of these products were linked, resumed or given other rules.
    Products(Vec<ProductId>),
    /// A connection was reactivated or given other rules, address or credential.
    Storefront(i64),
}

/// Queues a forced push (like Sync Now) for every Auto Sync product `what` touches, so the
/// storefront converges without waiting for the next sale. Products with Auto Sync off are left
/// alone, as the seller asked. Sending is best effort: the cron re-sends what did not go.
pub async fn resync(
    env: &Env,
    db: &D1Database,
    account: AccountId,
    what: Resync,
    now: i64,
) -> Result<(), ApiError> {
    let (filter, key) = match what {
        Resync::Products(ids) => {
            let ids: Vec<i64> = ids.iter().map(|p| p.0).collect();
            let json =
                serde_json::to_string(&ids).map_err(|e| ApiError::Internal(e.to_string()))?;
            ("id IN (SELECT value FROM json_each(?4))", text(&json))
        }
        Resync::Storefront(s) => (
            "id IN (SELECT product_id FROM listings \
                    WHERE account_id = ?3 AND storefront_id = ?4 AND active = 1)",
            int(s),
        ),
    };
    let insert = db
        .prepare(format!(
            "INSERT INTO sync_outbox (account_id, product_id, version, trigger, created_at, updated_at) \
             SELECT account_id, id, version, ?1, ?2, ?2 FROM products \
             WHERE account_id = ?3 AND auto_sync = 1 AND {filter}"
        ))
        .bind(&[
            text(SyncTrigger::Settings.as_str()),
            int(now),
            int(account.0),
            key,
        ])?;
    let results = db.batch(vec![mark(db), insert]).await?;
    let since = mark_value(&results[0])?;
    let queued = queued_since(db, account, SyncTrigger::Settings, since, now).await?;
    send_queued(env, account, &queued).await;
    Ok(())
}
