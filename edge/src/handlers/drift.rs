//! Drift: check a connection now, list what differs, fix one, a selection or all, and re-sync
//! a whole connection as a job with progress and cancel.

use crate::bindings::DB;
use crate::clock::now_ms;
use crate::drift_check;
use crate::error::ApiError;
use crate::request::{json_body, json_response, ok, MAX_JSON_BODY};
use crate::resync_job;
use crate::store::{drift, resync_jobs, storefronts};
use std::collections::BTreeSet;
use tally_domain::api::{DriftReport, FieldError, FixDrift};
use tally_domain::AccountId;
use worker::{Env, Request, Response};

/// Listings one fix names at most.
const MAX_FIX: usize = 500;

/// `POST /api/v1/storefronts/{id}/drift-checks`: 202 with the check (the running one, if any).
pub async fn check(
    env: &Env,
    account: AccountId,
    storefront_id: i64,
) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    storefronts::require(&db, account, storefront_id).await?;
    drift_check::start(env, &db, account, storefront_id, now_ms()).await?;
    let check = drift::checks(&db, account)
        .await?
        .into_iter()
        .find(|c| c.storefront_id == storefront_id)
        .ok_or_else(|| ApiError::Internal("the drift check just started is gone".into()))?;
    Ok(json_response(&check, 202))
}

/// `GET /api/v1/drift`.
pub async fn report(env: &Env, account: AccountId) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    let checks = drift::checks(&db, account).await?;
    let items = drift::open_items(&db, account).await?;
    let resyncs = resync_jobs::latest(&db, account)
        .await?
        .iter()
        .map(resync_jobs::JobRow::view)
        .collect();
    ok(&DriftReport {
        checks,
        items,
        resyncs,
    })
}

/// `POST /api/v1/drift/fix` with `{"listing_ids": [..]}` or `{"storefront_id": 3, "all": true}`.
pub async fn fix(req: &mut Request, env: &Env, account: AccountId) -> Result<Response, ApiError> {
    let body: FixDrift = json_body(req, MAX_JSON_BODY).await?;
    let db = env.d1(DB)?;
    let ids = match (body.all, body.storefront_id, body.listing_ids.is_empty()) {
        (true, Some(storefront), true) => {
            storefronts::find_lean(&db, account, storefront)
                .await?
                .ok_or_else(|| {
                    FieldError::new("storefront_id", "No such storefront in your account.")
                })?;
            drift::open_listings_of(&db, account, storefront).await?
        }
        (false, None, false) => {
            if body.listing_ids.len() > MAX_FIX {
                return Err(FieldError::new(
                    "listing_ids",
                    format!(
                        "At most {MAX_FIX} listings at once: use \"all\" for a whole storefront."
                    ),
                )
                .into());
            }
            let open: BTreeSet<i64> = drift::fixable(&db, account, &body.listing_ids)
                .await?
                .iter()
                .map(|(listing, _, _, _)| *listing)
                .collect();
            if let Some(id) = body.listing_ids.iter().find(|id| !open.contains(id)) {
                return Err(FieldError::new(
                    "listing_ids",
                    format!(
                        "Listing {id} has no open mismatch a push can fix (fixed already, gone \
                         from the storefront, or not in your account)."
                    ),
                )
                .into());
            }
            body.listing_ids
        }
        _ => {
            return Err(FieldError::new(
                "listing_ids",
                "Name the listings to fix, or send {\"storefront_id\": …, \"all\": true}.",
            )
            .into())
        }
    };
    ok(&drift_check::fix(env, &db, account, &ids, now_ms()).await?)
}

/// `POST /api/v1/storefronts/{id}/resync`: 202 with the job (the running one, if any).
pub async fn resync(
    env: &Env,
    account: AccountId,
    storefront_id: i64,
) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    storefronts::require(&db, account, storefront_id).await?;
    let id = resync_jobs::start(&db, account, storefront_id, now_ms()).await?;
    if let Err(e) = resync_job::advance(env, account, id).await {
        worker::console_warn!("re-sync {id}: first step waits for the cron: {e}");
    }
    let job = resync_jobs::find(&db, account, id)
        .await?
        .ok_or(ApiError::NotFound("re-sync"))?;
    Ok(json_response(&job.view(), 202))
}

/// `GET /api/v1/resync-jobs/{id}`.
pub async fn resync_job(env: &Env, account: AccountId, id: i64) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    let job = resync_jobs::find(&db, account, id)
        .await?
        .ok_or(ApiError::NotFound("re-sync"))?;
    ok(&job.view())
}

/// `POST /api/v1/resync-jobs/{id}/cancel`: pushes already sent go on; no more are queued.
pub async fn cancel_resync(env: &Env, account: AccountId, id: i64) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    resync_jobs::find(&db, account, id)
        .await?
        .ok_or(ApiError::NotFound("re-sync"))?;
    resync_jobs::cancel(&db, account, id, now_ms()).await?;
    let job = resync_jobs::find(&db, account, id)
        .await?
        .ok_or(ApiError::NotFound("re-sync"))?;
    ok(&job.view())
}
