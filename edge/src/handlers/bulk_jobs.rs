//! "For all in filter" bulk jobs: start, watch, list, cancel. The work itself happens in the
//! queue consumer, so it finishes even if the seller closes the tab.

use crate::bindings::DB;
use crate::caller::Caller;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::request::{json_body, json_response, ok, query_param, MAX_JSON_BODY};
use crate::store::{bulk_jobs, outbox};
use tally_domain::bulk_job::{BulkJob, StartBulkJob};
use tally_domain::quota::{OverLimit, Quota};
use tally_domain::sync::SyncMessage;
use tally_domain::AccountId;
use worker::{Env, Request, Response};

/// `POST /api/v1/bulk-jobs`: 202 with the job; its total is the filter's count now.
pub async fn start(req: &mut Request, env: &Env, caller: &Caller) -> Result<Response, ApiError> {
    let account = caller.account;
    let body: StartBulkJob = json_body(req, MAX_JSON_BODY).await?;
    let filter = body.filter()?;
    let db = env.d1(DB)?;
    let now = now_ms();
    let total = bulk_jobs::count(&db, account, &filter).await?;
    let limit = Quota::RunningJobs.limit(caller.plan);
    let id = bulk_jobs::create(&db, account, body.action, &filter, total, now, limit)
        .await?
        .ok_or(ApiError::OverLimit(OverLimit {
            quota: Quota::RunningJobs,
            plan: caller.plan,
        }))?;
    // If this send fails the job waits for the cron, which resumes running jobs.
    if let Err(e) = outbox::send(
        env,
        SyncMessage::BulkJob {
            account_id: account,
            job_id: id,
        },
    )
    .await
    {
        worker::console_warn!("bulk job {id}: first send failed, cron will resume it: {e}");
    }
    let job = bulk_jobs::find(&db, account, id)
        .await?
        .ok_or(ApiError::NotFound("bulk job"))?;
    Ok(json_response(&job.view(now), 202))
}

/// `GET /api/v1/bulk-jobs/{id}`.
pub async fn get(env: &Env, account: AccountId, id: i64) -> Result<Response, ApiError> {
    let job = bulk_jobs::find(&env.d1(DB)?, account, id)
        .await?
        .ok_or(ApiError::NotFound("bulk job"))?;
    ok(&job.view(now_ms()))
}

/// `GET /api/v1/bulk-jobs?status=running`: the newest 20 (running ones only when asked).
pub async fn list(req: &Request, env: &Env, account: AccountId) -> Result<Response, ApiError> {
    let running_only = query_param(req, "status")?.as_deref() == Some("running");
    let now = now_ms();
    let jobs: Vec<BulkJob> = bulk_jobs::recent(&env.d1(DB)?, account, running_only)
        .await?
        .iter()
        .map(|j| j.view(now))
        .collect();
    ok(&jobs)
}

/// `POST /api/v1/bulk-jobs/{id}/cancel`: products already handled keep their new setting.
pub async fn cancel(env: &Env, account: AccountId, id: i64) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    let job = bulk_jobs::find(&db, account, id)
        .await?
        .ok_or(ApiError::NotFound("bulk job"))?;
    bulk_jobs::cancel(&db, account, id, now_ms()).await?;
    let job = bulk_jobs::find(&db, account, job.id)
        .await?
        .ok_or(ApiError::NotFound("bulk job"))?;
    ok(&job.view(now_ms()))
}
