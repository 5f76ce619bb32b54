//! A full re-sync of one connection as a background job: every Auto Sync product listed there
//! is pushed again, a chunk at a time, each chunk once most of the one before has landed. The
//! seller watches pushes land and can cancel what has not gone out.

use crate::bindings::DB;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::store::{outbox, resync_jobs};
use tally_domain::sync::SyncMessage;
use tally_domain::AccountId;
use worker::Env;

/// Seconds before the job looks again: soon after queuing a chunk, longer while it waits for
/// pushes that are slow to land (a storefront rate-limiting or down).
const PACE_SECONDS: u32 = 1;
const WAIT_SECONDS: u32 = 5;

/// Moves re-sync `job_id` on by at most one chunk.
pub async fn advance(env: &Env, account: AccountId, job_id: i64) -> Result<(), ApiError> {
    let db = env.d1(DB)?;
    let Some(job) = resync_jobs::find(&db, account, job_id).await? else {
        return Ok(());
    };
    if !job.running() {
        return Ok(());
    }
    // Most of the last chunk still on its way: look again shortly. Either way the job is
    // touched, so the cron does not take a waiting job for a lost one and start a second
    // message chain beside this one.
    let mut pace = WAIT_SECONDS;
    if resync_jobs::pending(&db, job.id).await? <= u64::from(resync_jobs::CHUNK / 2) {
        if let Some(queued) = resync_jobs::step(&db, account, &job, now_ms()).await? {
            outbox::send_queued(env, account, &queued).await;
            pace = PACE_SECONDS;
        }
    } else {
        resync_jobs::touch(&db, account, job.id, now_ms()).await?;
    }
    let still_running = resync_jobs::find(&db, account, job_id)
        .await?
        .is_some_and(|j| j.running());
    if still_running {
        let message = SyncMessage::ResyncJob {
            account_id: account,
            job_id,
        };
        if let Err(e) = outbox::send_later(env, message, pace).await {
            worker::console_warn!("re-sync {job_id} waits for the cron to resume it: {e}");
        }
    }
    Ok(())
}
