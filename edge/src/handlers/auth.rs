//! Sign-up, sign-in, sign-out and "who am I".

use crate::bindings::{DB, KV};
use crate::caller::{self, Caller, Session, SESSION_SECONDS};
use crate::clock::now_ms;
use crate::crypto::{self, Checked};
use crate::db::{int, text};
use crate::error::ApiError;
use crate::request::{json_body, json_response, MAX_JSON_BODY};
use crate::store::throttles;
use serde::Deserialize;
use tally_domain::account::{check_new_password, Email, Plan};
use tally_domain::api::{FieldError, Me, SignIn, SignUp};
use tally_domain::product::clean_name;
use tally_domain::secret::token_text;
use tally_domain::throttle::{
    visitor, SIGN_IN_PER_ADDRESS, SIGN_IN_PER_EMAIL, SIGN_IN_PER_EMAIL_AND_ADDRESS,
    SIGN_UP_PER_ADDRESS,
};
use worker::{Env, Request, Response};

#[derive(Deserialize)]
struct UserRow {
    id: i64,
    account_id: i64,
    email: String,
    password_hash: String,
}

#[derive(Deserialize)]
struct AccountRow {
    name: String,
    plan: String,
}

/// The caller as Cloudflare saw it (`CF-Connecting-IP`, which Cloudflare sets on every
/// request and a client cannot forge past it; `wrangler dev` fills it in locally), IPv6 by
/// its /64 (`throttle::visitor`).
fn client_address(req: &Request) -> String {
    let address = req
        .headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".to_owned());
    visitor(&address)
}

/// `POST /api/v1/auth/signup`: creates a free account and signs in.
pub async fn sign_up(req: &mut Request, env: &Env) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    throttles::take(&db, &SIGN_UP_PER_ADDRESS, &client_address(req), now_ms())
        .await?
        .map_err(ApiError::TooManyAttempts)?;
    let body: SignUp = json_body(req, MAX_JSON_BODY).await?;
    let email = Email::parse(&body.email).map_err(|e| FieldError::new("email", e.to_string()))?;
    check_new_password(&body.password).map_err(|e| FieldError::new("password", e.to_string()))?;
    let store_name = clean_name(&body.store_name)
        .map_err(|e| FieldError::new("store_name", format!("store {e}")))?;
    if find_user(&db, &email).await?.is_some() {
        return Err(taken(&email));
    }
    let hash = crypto::hash_password(&body.password, &crypto::pepper(env)?)
        .await?
        .encode();
    let now = now_ms();
    let account = db
        .prepare("INSERT INTO accounts (name, plan, created_at) VALUES (?1, 'free', ?2)")
        .bind(&[text(&store_name), int(now)])?;
    let user = db
        .prepare(
            "INSERT INTO users (account_id, email, password_hash, created_at) \
             VALUES (last_insert_rowid(), ?1, ?2, ?3)",
        )
        .bind(&[text(email.as_str()), text(&hash), int(now)])?;
    // Two sign-ups racing for one email: the UNIQUE index rejects the second whole batch.
    // Any other failure is answered as what it is, never as "taken".
    if let Err(e) = db.batch(vec![account, user]).await {
        if crate::db::refused_by_constraint(&e) && find_user(&db, &email).await?.is_some() {
            return Err(taken(&email));
        }
        return Err(e.into());
    }
    let row = find_user(&db, &email)
        .await?
        .ok_or_else(|| ApiError::Internal("the new user is missing".into()))?;
    let me = Me {
        email: Some(row.email.clone()),
        account_name: store_name,
        plan: Plan::Free,
    };
    start_session(env, &row, &me, 201).await
}

fn taken(email: &Email) -> ApiError {
    ApiError::Conflict(FieldError::new(
        "email",
        format!(
            "an account with {} already exists: sign in instead",
            email.as_str()
        ),
    ))
}

/// `POST /api/v1/auth/login`. Every try is counted before any password is hashed (one
/// atomic upsert each, so tries sent at once all count): per network address, per email from
/// that address, and per email from anywhere with a higher ceiling. Guessing by volume, or
/// hashing as a way to burn CPU, meets a 429 with `Retry-After`; a seller signing in from
/// their own address is not locked out by guesses made elsewhere.
pub async fn sign_in(req: &mut Request, env: &Env) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    let now = now_ms();
    let address = client_address(req);
    throttles::take(&db, &SIGN_IN_PER_ADDRESS, &address, now)
        .await?
        .map_err(ApiError::TooManyAttempts)?;
    let body: SignIn = json_body(req, MAX_JSON_BODY).await?;
    let email = body.email.trim().to_ascii_lowercase();
    let pair = format!("{email} {address}");
    throttles::take(&db, &SIGN_IN_PER_EMAIL_AND_ADDRESS, &pair, now)
        .await?
        .map_err(ApiError::TooManyAttempts)?;
    throttles::take(&db, &SIGN_IN_PER_EMAIL, &email, now)
        .await?
        .map_err(ApiError::TooManyAttempts)?;
    let user = match Email::parse(&body.email) {
        Ok(email) => find_user(&db, &email).await?,
        Err(_) => None,
    };
    let pepper = crypto::pepper(env)?;
    let checked = match &user {
        Some(user) => crypto::verify_password(&body.password, &user.password_hash, &pepper).await?,
        None => {
            // Same work and answer as a wrong password, so sign-in does not reveal who has an
            // account.
            let _ = crypto::hash_password(&body.password, &pepper).await;
            Checked::Wrong
        }
    };
    let user = match (user, checked) {
        (Some(user), Checked::Right) => user,
        (Some(user), Checked::RightButOld) => {
            upgrade_hash(&db, &user, &body.password, &pepper).await?;
            user
        }
        _ => return Err(ApiError::BadCredentials),
    };
    // The right password from here clears this address's tries for the email.
    throttles::clear(&db, &SIGN_IN_PER_EMAIL_AND_ADDRESS, &pair).await?;
    let account = account_row(&db, user.account_id).await?;
    let me = Me {
        email: Some(user.email.clone()),
        account_name: account.name,
        plan: Plan::from_stored(&account.plan),
    };
    start_session(env, &user, &me, 200).await
}

/// Stores a hash from before the pepper (or with fewer rounds) again in today's form, now that
/// the password is known to be right. Only if it is still the one checked: a password changed
/// meanwhile stays changed.
async fn upgrade_hash(
    db: &worker::D1Database,
    user: &UserRow,
    password: &str,
    pepper: &[u8],
) -> Result<(), ApiError> {
    let hash = crypto::hash_password(password, pepper).await?.encode();
    db.prepare("UPDATE users SET password_hash = ?1 WHERE id = ?2 AND password_hash = ?3")
        .bind(&[text(&hash), int(user.id), text(&user.password_hash)])?
        .run()
        .await?;
    Ok(())
}

/// `POST /api/v1/auth/logout`: revokes the session and clears the cookie.
pub async fn sign_out(env: &Env, caller: &Caller) -> Result<Response, ApiError> {
    if let Some(key) = &caller.session_key {
        env.kv(KV)?.delete(key).await?;
    }
    let mut response = json_response(&serde_json::json!({ "signed_out": true }), 200);
    response
        .headers_mut()
        .set("set-cookie", &caller::cleared_cookie())?;
    Ok(response)
}

/// `GET /api/v1/auth/me`.
pub async fn me(env: &Env, caller: &Caller) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    let account = account_row(&db, caller.account.0).await?;
    #[derive(Deserialize)]
    struct EmailRow {
        email: String,
    }
    let email = db
        .prepare("SELECT email FROM users WHERE account_id = ?1 ORDER BY id LIMIT 1")
        .bind(&[int(caller.account.0)])?
        .first::<EmailRow>(None)
        .await?
        .map(|r| r.email);
    let me = Me {
        email,
        account_name: account.name,
        plan: Plan::from_stored(&account.plan),
    };
    Ok(json_response(&me, 200))
}

async fn find_user(db: &worker::D1Database, email: &Email) -> Result<Option<UserRow>, ApiError> {
    Ok(db
        .prepare("SELECT id, account_id, email, password_hash FROM users WHERE email = ?1")
        .bind(&[text(email.as_str())])?
        .first::<UserRow>(None)
        .await?)
}

async fn account_row(db: &worker::D1Database, id: i64) -> Result<AccountRow, ApiError> {
    db.prepare("SELECT name, plan FROM accounts WHERE id = ?1")
        .bind(&[int(id)])?
        .first::<AccountRow>(None)
        .await?
        .ok_or_else(|| ApiError::Internal(format!("account {id} is missing")))
}

async fn start_session(
    env: &Env,
    user: &UserRow,
    me: &Me,
    status: u16,
) -> Result<Response, ApiError> {
    let token = token_text(&crypto::random_bytes::<32>()?);
    let session = Session {
        account_id: user.account_id,
        user_id: user.id,
    };
    env.kv(KV)?
        .put(&caller::session_key(&token), &session)?
        .expiration_ttl(SESSION_SECONDS)
        .execute()
        .await?;
    let mut response = json_response(me, status);
    response
        .headers_mut()
        .set("set-cookie", &caller::session_cookie(&token))?;
    Ok(response)
}
