//! API keys for integrations: created (shown once), listed (never shown again), revoked.

use crate::bindings::DB;
use crate::caller::Caller;
use crate::clock::now_ms;
use crate::crypto;
use crate::db::{int, text};
use crate::error::ApiError;
use crate::request::{json_body, json_response, ok, MAX_JSON_BODY};
use crate::store::inserted_id;
use serde::Deserialize;
use tally_domain::api::{ApiKeySummary, CreatedApiKey, FieldError, NewApiKey};
use tally_domain::product::clean_name;
use tally_domain::scope::Scope;
use tally_domain::secret::{api_key_text, key_hint, token_digest};
use worker::{Env, Request, Response};

#[derive(Deserialize)]
struct KeyRow {
    id: i64,
    name: String,
    hint: String,
    scope: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl From<KeyRow> for ApiKeySummary {
    fn from(r: KeyRow) -> Self {
        ApiKeySummary {
            id: r.id,
            name: r.name,
            hint: r.hint,
            scope: Scope::from_stored(&r.scope),
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        }
    }
}

/// `GET /api/v1/api-keys`.
pub async fn list(env: &Env, caller: &Caller) -> Result<Response, ApiError> {
    let rows = env
        .d1(DB)?
        .prepare(
            "SELECT id, name, hint, scope, created_at, last_used_at, revoked_at FROM api_keys \
             WHERE account_id = ?1 ORDER BY id DESC",
        )
        .bind(&[int(caller.account.0)])?
        .all()
        .await?
        .results::<KeyRow>()?;
    let keys: Vec<ApiKeySummary> = rows.into_iter().map(Into::into).collect();
    ok(&keys)
}

/// `POST /api/v1/api-keys`: the answer is the only time the key is shown.
pub async fn create(req: &mut Request, env: &Env, caller: &Caller) -> Result<Response, ApiError> {
    let body: NewApiKey = json_body(req, MAX_JSON_BODY).await?;
    let name = clean_name(&body.name).map_err(|e| FieldError::new("name", e.to_string()))?;
    let key = api_key_text(&crypto::random_bytes::<32>()?);
    let now = now_ms();
    let result = env
        .d1(DB)?
        .prepare(
            "INSERT INTO api_keys (account_id, name, hint, scope, digest, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(&[
            int(caller.account.0),
            text(&name),
            text(&key_hint(&key)),
            text(body.scope.as_str()),
            text(&token_digest(&key)),
            int(now),
        ])?
        .run()
        .await?;
    let id = inserted_id(&result)?.ok_or_else(|| ApiError::Internal("key not stored".into()))?;
    let summary = ApiKeySummary {
        id,
        name,
        hint: key_hint(&key),
        scope: body.scope,
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    Ok(json_response(&CreatedApiKey { key, summary }, 201))
}

/// `DELETE /api/v1/api-keys/{id}`: the key stops working at once.
pub async fn revoke(env: &Env, caller: &Caller, id: i64) -> Result<Response, ApiError> {
    let result = env
        .d1(DB)?
        .prepare(
            "UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND account_id = ?3 AND revoked_at IS NULL",
        )
        .bind(&[int(now_ms()), int(id), int(caller.account.0)])?
        .run()
        .await?;
    if crate::store::changes(&result)? == 0 {
        return Err(ApiError::NotFound("API key"));
    }
    ok(&serde_json::json!({ "revoked": true }))
}
