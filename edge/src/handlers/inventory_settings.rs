//! Settings › Inventory › Uploads: the wipe guard's share, per account. Every plan may change it:
//! it only protects the seller's own stock.

use crate::bindings::DB;
use crate::db::int;
use crate::error::ApiError;
use crate::request::{json_body, ok, MAX_JSON_BODY};
use crate::store::Count;
use tally_domain::api::{FieldError, InventorySettings};
use tally_domain::csv_import::{check_wipe_guard_percent, DEFAULT_WIPE_GUARD_PERCENT};
use tally_domain::AccountId;
use worker::{Env, Request, Response};

/// `GET /api/v1/settings/inventory`.
pub async fn get(env: &Env, account: AccountId) -> Result<Response, ApiError> {
    let percent = env
        .d1(DB)?
        .prepare("SELECT wipe_guard_percent AS n FROM accounts WHERE id = ?1")
        .bind(&[int(account.0)])?
        .first::<Count>(None)
        .await?
        .map_or(DEFAULT_WIPE_GUARD_PERCENT, |c| c.n);
    ok(&InventorySettings {
        wipe_guard_percent: percent,
    })
}

/// `PUT /api/v1/settings/inventory`.
pub async fn put(req: &mut Request, env: &Env, account: AccountId) -> Result<Response, ApiError> {
    let body: InventorySettings = json_body(req, MAX_JSON_BODY).await?;
    let percent = check_wipe_guard_percent(body.wipe_guard_percent)
        .map_err(|m| FieldError::new("wipe_guard_percent", m))?;
    env.d1(DB)?
        .prepare("UPDATE accounts SET wipe_guard_percent = ?2 WHERE id = ?1")
        .bind(&[int(account.0), int(percent as i64)])?
        .run()
        .await?;
    get(env, account).await
}
