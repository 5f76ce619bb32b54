//! Inventory file uploads: upload → preview → apply. A file with any bad row is refused whole,
//! with every error by row and column; a good file is staged, previewed, and applied whole.

use crate::bindings::DB;
use crate::caller::Caller;
use crate::clock::{now_ms, Budget};
use crate::error::ApiError;
use crate::request::{csv_body, json_body, json_response, ok, MAX_JSON_BODY};
use crate::store::rules;
use crate::store::uploads::{self, UploadRecord};
use crate::upload_job;
use tally_domain::actor::Actor;
use tally_domain::csv_import::{self, ApplyUpload, MAX_BYTES};
use tally_domain::quota::{OverLimit, Quota};
use tally_domain::{AccountId, CreatedVia};
use worker::{D1Database, Env, Request, Response};

/// `POST /api/v1/uploads` with the CSV as the body (`Content-Type: text/csv`): 201 with the
/// preview, or 422 with every error.
pub async fn upload(req: &mut Request, env: &Env, caller: &Caller) -> Result<Response, ApiError> {
    let account = caller.account;
    let bytes = csv_body(req, MAX_BYTES).await?;
    let file = csv_import::parse(&bytes).map_err(ApiError::BadFile)?;
    let db = env.d1(DB)?;
    let limit = Quota::PendingUploads.limit(caller.plan);
    let id = uploads::stage(
        &db,
        account,
        &file.rows,
        &file.ignored_columns,
        now_ms(),
        limit,
    )
    .await?
    .ok_or(ApiError::OverLimit(OverLimit {
        quota: Quota::PendingUploads,
        plan: caller.plan,
    }))?;
    let record = find(&db, account, id).await?;
    Ok(json_response(
        &uploads::preview(&db, account, &record).await?,
        201,
    ))
}

/// `GET /api/v1/uploads/{id}`: the preview again, with the apply job's progress.
pub async fn get(env: &Env, account: AccountId, id: i64) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    let record = find(&db, account, id).await?;
    ok(&uploads::preview(&db, account, &record).await?)
}

/// `POST /api/v1/uploads/{id}/apply`: starts applying the file and runs its first step. A file
/// of up to `csv_import::APPLY_CHUNK_ROWS` rows is applied when this answers (200); a larger one goes on as
/// a background job (202) whose progress `GET /api/v1/uploads/{id}` shows.
pub async fn apply(
    req: &mut Request,
    env: &Env,
    account: AccountId,
    actor: &Actor,
    id: i64,
) -> Result<Response, ApiError> {
    let body: ApplyUpload = json_body(req, MAX_JSON_BODY).await?;
    let db = env.d1(DB)?;
    let record = find(&db, account, id).await?;
    if record.status == "ready" {
        let preview = uploads::preview(&db, account, &record).await?;
        if preview.wipe_guard && !body.confirm_wipe {
            return Err(ApiError::NeedsConfirmation(format!(
                "this file sets {} of your {} stocked products to 0. Check it is complete, then \
                 apply again with confirm_wipe to go ahead",
                preview.zeroing, preview.stocked
            )));
        }
        let new_auto_sync = rules::load(&db, account)
            .await?
            .starts_on(CreatedVia::FileUpload);
        // False when a concurrent request started it first: then this one only reports.
        if uploads::start_apply(&db, account, actor, &preview, new_auto_sync, now_ms()).await? {
            // Started: a failed first step is the job's to retry, not the seller's (202 below).
            if let Err(e) = upload_job::advance(env, account, id, Budget::new(1, 0)).await {
                worker::console_warn!("upload {id}: first step failed, the job retries it: {e}");
                upload_job::continue_later(env, account, id).await;
            }
        }
    }
    let record = find(&db, account, id).await?;
    let status = if record.status == "applied" { 200 } else { 202 };
    Ok(json_response(
        &uploads::preview(&db, account, &record).await?,
        status,
    ))
}

async fn find(db: &D1Database, account: AccountId, id: i64) -> Result<UploadRecord, ApiError> {
    uploads::find(db, account, id)
        .await?
        .ok_or(ApiError::NotFound("upload"))
}
