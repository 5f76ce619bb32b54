//! The cron trigger: re-sends sync outbox entries that no consumer has handled in time,
//! resumes bulk jobs, upload apply jobs, catalogue reads and re-syncs that stopped moving, and
//! re-queues webhook deliveries stored but not applied, so a failed queue send or a worker
//! restart can delay work but never lose it. It also asks for each connection's poll of recent
//! orders (at most every few minutes per connection), starts each connection's scheduled drift
//! check (hourly by default), and asks for the read-back of updates a storefront accepted only
//! for processing.

use crate::bindings::{DB, KV};
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::polling;
use crate::retention;
use crate::store::{
    bulk_jobs, catalogue_reads, drift, inbox, listings, outbox, resync_jobs, storefronts,
    throttles, uploads,
};
use tally_domain::sync::SyncMessage;
use tally_domain::AccountId;
use worker::{Env, ScheduledEvent};

/// How long an outbox entry, bulk job or upload apply job may stay untouched before the cron
/// sends it again: longer than a queue delivery, so healthy work is rarely sent twice (a retry
/// waiting out its backoff is postponed, not stale). A repeat is harmless anyway (each job
/// step is behind a compare-and-set). `SYNC_RESEND_AFTER_MS` overrides it.
const STALE_AFTER_MS: i64 = 60_000;

fn stale_after_ms(env: &Env) -> i64 {
    env.var("SYNC_RESEND_AFTER_MS")
        .ok()
        .and_then(|v| v.to_string().parse().ok())
        .unwrap_or(STALE_AFTER_MS)
}

/// Entries re-sent per run; more wait for the next run (a queue batch send takes at most 100).
const RESEND_LIMIT: u32 = 100;

/// Listings read back per run (Amazon allows 5 reads a second per seller); the rest wait.
const VERIFY_LIMIT: u32 = 50;

/// Connections one cron run starts a scheduled drift check for; the rest wait a minute.
const DRIFT_CHECKS_PER_RUN: u32 = 20;

/// KV key with the time of the last cron run (shown by the health check).
pub const LAST_RUN_KEY: &str = "cron:last-run";

/// One cron run. Failures are logged; the next run tries again.
pub async fn run(event: &ScheduledEvent, env: &Env) {
    if let Err(e) = resend_stale(env).await {
        worker::console_error!("cron {}: {e}", event.cron());
    }
}

async fn resend_stale(env: &Env) -> Result<(), ApiError> {
    let now = now_ms();
    let db = env.d1(DB)?;
    let before = now - stale_after_ms(env);
    let stale = outbox::stale_pending(&db, before, RESEND_LIMIT).await?;
    outbox::resend(env, &db, &stale, now).await?;
    let stalled = bulk_jobs::stalled(&db, before, RESEND_LIMIT).await?;
    let uploads = uploads::stalled(&db, before, RESEND_LIMIT).await?;
    let deliveries = inbox::stalled(&db, before, RESEND_LIMIT).await?;
    let reads = catalogue_reads::stalled(&db, before, RESEND_LIMIT).await?;
    let resyncs = resync_jobs::stalled(&db, before, RESEND_LIMIT).await?;
    // Scheduled drift checks start as catalogue reads of their own.
    for (account, storefront_id) in drift::claim_due(&db, now, DRIFT_CHECKS_PER_RUN).await? {
        if let Err(e) = crate::drift_check::start(env, &db, account, storefront_id, now).await {
            worker::console_warn!("drift check of storefront {storefront_id}: {e}");
        }
    }
    let resume = stalled
        .iter()
        .map(|job| SyncMessage::BulkJob {
            account_id: AccountId(job.account_id),
            job_id: job.id,
        })
        .chain(
            uploads
                .into_iter()
                .map(|(account_id, upload_id)| SyncMessage::UploadJob {
                    account_id,
                    upload_id,
                }),
        )
        .chain(
            reads
                .into_iter()
                .map(|(account_id, read_id)| SyncMessage::CatalogueRead {
                    account_id,
                    read_id,
                }),
        )
        .chain(
            resyncs
                .into_iter()
                .map(|(account_id, job_id)| SyncMessage::ResyncJob { account_id, job_id }),
        )
        .chain(
            deliveries
                .into_iter()
                .map(|(account_id, inbox_id)| SyncMessage::Delivery {
                    account_id,
                    inbox_id,
                }),
        )
        .collect::<Vec<_>>();
    let polls = storefronts::claim_due_polls(
        &db,
        now - polling::poll_every_ms(env),
        now,
        polling::POLLS_PER_RUN,
    )
    .await?;
    let checks = listings::claim_due_verifications(&db, now, VERIFY_LIMIT).await?;
    let resume = resume
        .into_iter()
        .chain(
            polls
                .into_iter()
                .map(|(account_id, storefront_id)| SyncMessage::Poll {
                    account_id,
                    storefront_id,
                }),
        )
        .chain(
            checks
                .into_iter()
                .map(|(account_id, listing_id)| SyncMessage::Verify {
                    account_id,
                    listing_id,
                }),
        )
        .collect();
    outbox::send_many(env, resume).await;
    // Housekeeping: a failure is logged and tried again next minute; it never keeps the run
    // from being recorded.
    if let Err(e) = throttles::prune(&db, now).await {
        worker::console_warn!("pruning sign-in counts: {e}");
    }
    if let Err(e) = retention::prune(env, &db, now).await {
        worker::console_warn!("pruning old history and files: {e}");
    }
    env.kv(KV)?
        .put(LAST_RUN_KEY, now.to_string())?
        .execute()
        .await?;
    Ok(())
}
