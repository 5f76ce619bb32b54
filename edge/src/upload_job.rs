//! Applying an inventory file as a background job: step after step (see `store::uploads`), a
//! few per queue delivery, each step's pushes queued as soon as it lands. The seller can close
//! the tab; the cron resumes a job whose message was lost.

use crate::bindings::DB;
use crate::clock::{now_ms, Budget};
use crate::error::ApiError;
use crate::store::outbox::{self, Queued};
use crate::store::uploads;
use tally_domain::csv_import::next_chunk;
use tally_domain::sync::SyncMessage;
use tally_domain::AccountId;
use worker::{D1Database, Env};

/// Runs steps of an applying upload while `budget` lasts, then hands the rest to a message on
/// the jobs queue. Every committed step's pushes are sent whatever happens; a failed step is
/// returned for the caller to retry (the queue redelivers; the cron resumes a lost job).
pub async fn advance(
    env: &Env,
    account: AccountId,
    upload_id: i64,
    budget: Budget,
) -> Result<(), ApiError> {
    let db = env.d1(DB)?;
    let mut queued = Vec::new();
    let outcome = run_steps(&db, account, upload_id, budget, &mut queued).await;
    // Pushes of the rows applied so far go out either way.
    outbox::send_queued(env, account, &queued).await;
    // A failed step is retried by whoever called (the queue redelivers this message): sending
    // the next step as well would leave two message chains driving one job.
    outcome?;
    let still_applying = match uploads::find(&db, account, upload_id).await {
        Ok(upload) => upload.is_some_and(|u| u.status == "applying"),
        Err(_) => true, // Unknown: a spare message is refused by the cursor's compare-and-set.
    };
    if still_applying {
        continue_later(env, account, upload_id).await;
    }
    Ok(())
}

/// Sends the job's next step; if that fails, the cron resumes it.
pub async fn continue_later(env: &Env, account: AccountId, upload_id: i64) {
    let message = SyncMessage::UploadJob {
        account_id: account,
        upload_id,
    };
    if let Err(e) = outbox::send(env, message).await {
        worker::console_warn!("upload {upload_id} waits for the cron to resume it: {e}");
    }
}

async fn run_steps(
    db: &D1Database,
    account: AccountId,
    upload_id: i64,
    budget: Budget,
    queued: &mut Vec<Queued>,
) -> Result<(), ApiError> {
    let mut done = 0;
    while budget.allows(done) {
        done += 1;
        let Some(upload) = uploads::find(db, account, upload_id).await? else {
            break;
        };
        if upload.status != "applying" {
            break;
        }
        let Some(lines) = next_chunk(upload.applied_rows.max(0) as u64, upload.rows.max(0) as u64)
        else {
            break;
        };
        // Strictly later than the last step: a step's new products are told apart by their time.
        let now = now_ms().max(upload.updated_at + 1);
        if let Some(written) = uploads::apply_chunk(db, account, &upload, lines, now).await? {
            queued.extend(written);
        }
    }
    Ok(())
}
