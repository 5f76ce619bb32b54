//! Who is calling, and for which account. Every query is scoped to the caller's account.
//!
//! Two ways in: the SPA's session cookie (a random token whose SHA-256 keys a KV entry), or an
//! integration's `Authorization: Bearer tally_…` API key (looked up by SHA-256 in D1). A
//! cookie-authenticated request that changes state must also carry `X-Tally-Csrf: 1`: a custom
//! header no other site can make a browser send without a CORS preflight, which we never grant.

use crate::bindings::{DB, KV};
use crate::db::{int, text};
use crate::error::ApiError;
use serde::{Deserialize, Serialize};
use tally_domain::account::Plan;
use tally_domain::actor::Actor;
use tally_domain::scope::{Scope, ScopeRefused};
use tally_domain::secret::token_digest;
use tally_domain::AccountId;
use worker::{Env, Method, Request};

/// The session cookie's name. The `__Host-` prefix makes browsers accept it only when it is
/// Secure, for Path=/ and with no Domain, so no subdomain (or a plain-http page) can plant or
/// overwrite a session.
pub const SESSION_COOKIE: &str = "__Host-tally_session";
/// The header that proves a state-changing request came from our own pages.
pub const CSRF_HEADER: &str = "x-tally-csrf";
/// How long a session lasts without signing in again.
pub const SESSION_SECONDS: u64 = 30 * 24 * 3600;

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Session,
    ApiKey,
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account: AccountId,
    pub plan: Plan,
    pub via: Via,
    /// What the caller may do: a signed-in seller everything, an API key what it was given.
    pub scope: Scope,
    /// Who is calling: the signed-in user or the API key. Recorded on every ledger line.
    pub actor: Actor,
    /// The session token's digest (to revoke it on sign-out).
    pub session_key: Option<String>,
}

/// What a session's KV entry holds.
#[derive(Serialize, Deserialize)]
pub struct Session {
    pub account_id: i64,
    pub user_id: i64,
}

/// KV key of a session token.
pub fn session_key(token: &str) -> String {
    format!("session:{}", token_digest(token))
}

/// The `Set-Cookie` value that starts a session.
pub fn session_cookie(token: &str) -> String {
    format!("{SESSION_COOKIE}={token}; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age={SESSION_SECONDS}")
}

/// The `Set-Cookie` value that ends one.
pub fn cleared_cookie() -> String {
    format!("{SESSION_COOKIE}=; HttpOnly; Secure; SameSite=Lax; Path=/; Max-Age=0")
}

fn cookie(req: &Request, name: &str) -> Option<String> {
    let header = req.headers().get("cookie").ok()??;
    header.split(';').find_map(|pair| {
        let (k, v) = pair.trim().split_once('=')?;
        (k == name && !v.is_empty()).then(|| v.to_owned())
    })
}

#[derive(Deserialize)]
struct KeyRow {
    id: i64,
    account_id: i64,
    plan: String,
    name: String,
    hint: String,
    scope: String,
}

#[derive(Deserialize)]
struct UserRow {
    plan: String,
    email: String,
}

/// Resolves the caller, or 401 if the request carries no valid credentials.
pub async fn resolve(req: &Request, env: &Env) -> Result<Caller, ApiError> {
    if let Some(auth) = req.headers().get("authorization")? {
        let key = auth
            .strip_prefix("Bearer ")
            .ok_or(ApiError::Unauthenticated)?;
        return by_api_key(env, key.trim()).await;
    }
    let token = cookie(req, SESSION_COOKIE).ok_or(ApiError::Unauthenticated)?;
    let key = session_key(&token);
    let session = env
        .kv(KV)?
        .get(&key)
        .json::<Session>()
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let user = env
        .d1(DB)?
        .prepare(
            "SELECT a.plan AS plan, u.email AS email \
             FROM users u JOIN accounts a ON a.id = u.account_id \
             WHERE u.id = ?1 AND u.account_id = ?2",
        )
        .bind(&[int(session.user_id), int(session.account_id)])?
        .first::<UserRow>(None)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let caller = Caller {
        account: AccountId(session.account_id),
        plan: Plan::from_stored(&user.plan),
        via: Via::Session,
        scope: Scope::Admin,
        actor: Actor::User { email: user.email },
        session_key: Some(key),
    };
    check_csrf(req, &caller)?;
    Ok(caller)
}

async fn by_api_key(env: &Env, key: &str) -> Result<Caller, ApiError> {
    let db = env.d1(DB)?;
    let row = db
        .prepare(
            "SELECT k.id AS id, k.account_id AS account_id, a.plan AS plan, \
             k.name AS name, k.hint AS hint, k.scope AS scope \
             FROM api_keys k JOIN accounts a ON a.id = k.account_id \
             WHERE k.digest = ?1 AND k.revoked_at IS NULL",
        )
        .bind(&[text(&token_digest(key))])?
        .first::<KeyRow>(None)
        .await?
        .ok_or(ApiError::BadApiKey)?;
    db.prepare("UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2")
        .bind(&[int(crate::clock::now_ms()), int(row.id)])?
        .run()
        .await?;
    Ok(Caller {
        account: AccountId(row.account_id),
        plan: Plan::from_stored(&row.plan),
        via: Via::ApiKey,
        scope: Scope::from_stored(&row.scope),
        actor: Actor::ApiKey {
            name: row.name,
            hint: row.hint,
        },
        session_key: None,
    })
}

impl Caller {
    /// Refuses a request that needs more than the caller's scope.
    pub fn require(&self, needed: Scope) -> Result<(), ApiError> {
        self.scope
            .check(needed)
            .map_err(|e: ScopeRefused| ApiError::Forbidden(e.to_string()))
    }
}

/// Cookie-authenticated requests that change state need the CSRF header.
fn check_csrf(req: &Request, caller: &Caller) -> Result<(), ApiError> {
    let safe = matches!(req.method(), Method::Get | Method::Head | Method::Options);
    if caller.via == Via::ApiKey || safe {
        return Ok(());
    }
    match req.headers().get(CSRF_HEADER)? {
        Some(v) if v == "1" => Ok(()),
        _ => Err(ApiError::Forbidden(format!(
            "this request changes data and must carry the `{CSRF_HEADER}: 1` header"
        ))),
    }
}
