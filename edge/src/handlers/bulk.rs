//! Bulk actions on selected products (at most one page of 250): Auto Sync on/off, Sync Now,
//! and how far Sync Now's pushes have got.

use crate::bindings::DB;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::request::{json_body, ok, query_param, MAX_JSON_BODY};
use crate::store::{listings, outbox, selection};
use tally_domain::api::{push_ids, BulkAutoSync, BulkResult, FieldError, PushProgress, SyncNow};
use tally_domain::selection::Selection;
use tally_domain::AccountId;
use worker::{D1Database, Env, Request, Response};

/// Refuses the whole request if any selected id is not the account's product.
async fn check_all_exist(
    db: &D1Database,
    account: AccountId,
    ids: &Selection,
) -> Result<(), ApiError> {
    let missing = selection::missing(db, account, ids).await?;
    if missing.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = missing.iter().map(|id| id.0.to_string()).collect();
    Err(ApiError::NotFoundIds(format!(
        "no product with id {} in your account (or it is archived); nothing was changed",
        list.join(", ")
    )))
}

/// `POST /api/v1/products/auto-sync`: turning Auto Sync on pushes nothing by itself.
pub async fn set_auto_sync(
    req: &mut Request,
    env: &Env,
    account: AccountId,
) -> Result<Response, ApiError> {
    let body: BulkAutoSync = json_body(req, MAX_JSON_BODY).await?;
    let db = env.d1(DB)?;
    check_all_exist(&db, account, &body.ids).await?;
    let updated =
        selection::set_auto_sync(&db, account, &body.ids, body.auto_sync, now_ms()).await?;
    ok(&BulkResult {
        updated,
        queued: 0,
        without_listings: 0,
        message: String::new(),
        pushes: Vec::new(),
    })
}

/// `POST /api/v1/products/sync-now`: a forced push per product, and Auto Sync on for them.
pub async fn sync_now(
    req: &mut Request,
    env: &Env,
    account: AccountId,
) -> Result<Response, ApiError> {
    let body: SyncNow = json_body(req, MAX_JSON_BODY).await?;
    let db = env.d1(DB)?;
    check_all_exist(&db, account, &body.ids).await?;
    let queued = selection::sync_now(&db, account, &body.ids, now_ms()).await?;
    outbox::send_queued(env, account, &queued).await;
    let ids: Vec<i64> = body.ids.ids().iter().map(|p| p.0).collect();
    let mut result = BulkResult {
        updated: ids.len() as u64,
        queued: queued.len() as u64,
        without_listings: listings::without_reachable_listing(&db, account, &ids).await?,
        message: String::new(),
        pushes: queued.iter().map(|q| q.id).collect(),
    };
    result.message = tally_domain::selection::sync_now_summary(&result);
    ok(&result)
}

/// `GET /api/v1/pushes/progress?ids=`: how many of these pushes (Sync Now's `pushes`) have
/// landed, failed or found no listing, so the app can say "12 pushed" once they have.
pub async fn progress(req: &Request, env: &Env, account: AccountId) -> Result<Response, ApiError> {
    let ids = query_param(req, "ids")?.unwrap_or_default();
    let ids = push_ids(&ids).map_err(|m| FieldError::new("ids", m))?;
    let outcomes = outbox::progress(&env.d1(DB)?, account, &ids).await?;
    ok(&PushProgress::of(&outcomes))
}
