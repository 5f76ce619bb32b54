//! Settings > Inventory: Auto Sync Rules. Anyone may read them; only subscribers change them.

use crate::bindings::DB;
use crate::caller::Caller;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::request::{json_body, ok, MAX_JSON_BODY};
use crate::store::rules;
use tally_domain::api::{AutoSyncRulesView, SetAutoSyncRules};
use tally_domain::rules::{may_edit, AutoSyncRules, SUBSCRIBER_ONLY};
use worker::{Env, Request, Response};

fn view(rules: AutoSyncRules, caller: &Caller) -> AutoSyncRulesView {
    let editable = may_edit(caller.plan);
    AutoSyncRulesView {
        warning: rules.warning().map(str::to_owned),
        rules: rules.0,
        editable,
        explanation: (!editable).then(|| SUBSCRIBER_ONLY.to_owned()),
    }
}

/// `GET /api/v1/settings/auto-sync-rules`.
pub async fn get(env: &Env, caller: &Caller) -> Result<Response, ApiError> {
    let rules = rules::load(&env.d1(DB)?, caller.account).await?;
    ok(&view(rules, caller))
}

/// `PUT /api/v1/settings/auto-sync-rules`: 403 on the free plan.
pub async fn put(req: &mut Request, env: &Env, caller: &Caller) -> Result<Response, ApiError> {
    if !may_edit(caller.plan) {
        return Err(ApiError::Forbidden(SUBSCRIBER_ONLY.to_owned()));
    }
    let body: SetAutoSyncRules = json_body(req, MAX_JSON_BODY).await?;
    let db = env.d1(DB)?;
    rules::save(&db, caller.account, &body.rules, now_ms()).await?;
    ok(&view(rules::load(&db, caller.account).await?, caller))
}
