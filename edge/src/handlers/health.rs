//! `GET /api/v1/health`: reads D1 and KV, for uptime checks anyone may run (it writes
//! nothing, so it cannot be used to flood the queue). `?deep=1` with the `HEALTH_SECRET`
//! bearer makes a real round trip: a KV write and read, and a ping through the sync queue.

use crate::bindings::{DB, KV};
use crate::clock::now_ms;
use crate::consumer::{LastPing, LAST_PING_KEY};
use crate::cron::LAST_RUN_KEY;
use crate::error::ApiError;
use crate::request::json_response;
use crate::store::{outbox, Count};
use tally_domain::api::{Check, Health};
use tally_domain::sync::SyncMessage;
use worker::{Env, Request, Response};

/// Checks every binding. 200 when all answer, 503 otherwise (with what failed).
pub async fn get(req: &Request, env: &Env) -> Result<Response, ApiError> {
    let deep = crate::request::query_param(req, "deep")?
        .is_some_and(|v| !matches!(v.as_str(), "0" | "false" | ""));
    if deep {
        check_secret(req, env)?;
    }
    let nonce = format!("{:x}", (js_sys::Math::random() * 1e15) as u64);
    let d1 = timed(check_d1(env)).await;
    let (kv, queue) = if deep {
        (
            timed(check_kv(env, &nonce)).await,
            timed(check_queue(env, &nonce)).await,
        )
    } else {
        (timed(read_kv(env)).await, not_checked())
    };
    let store = env.kv(KV)?;
    let last_ping = store
        .get(LAST_PING_KEY)
        .json::<LastPing>()
        .await
        .ok()
        .flatten();
    let cron_last_run_at = store
        .get(LAST_RUN_KEY)
        .text()
        .await
        .ok()
        .flatten()
        .and_then(|t| t.parse().ok());
    let ok = d1.ok && kv.ok && queue.ok;
    let report = Health {
        ok,
        d1,
        kv,
        queue,
        queue_last_consumed_at: last_ping.as_ref().map(|p| p.at),
        queue_last_ping: last_ping.map(|p| p.nonce),
        cron_last_run_at,
    };
    Ok(json_response(&report, if ok { 200 } else { 503 }))
}

/// The deep check writes: only with the `HEALTH_SECRET` worker secret as a bearer token.
fn check_secret(req: &Request, env: &Env) -> Result<(), ApiError> {
    let refused = || {
        ApiError::Forbidden(
            "the deep health check writes to KV and the queue: send `Authorization: Bearer \
             <HEALTH_SECRET>` (a worker secret), or leave out ?deep for the read-only check"
                .to_owned(),
        )
    };
    let expected = env
        .secret("HEALTH_SECRET")
        .map(|s| s.to_string())
        .map_err(|_| refused())?;
    let given = req
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .unwrap_or_default();
    let token = given.strip_prefix("Bearer ").unwrap_or_default();
    tally_domain::secret::same_secret(token, &expected)
        .then_some(())
        .ok_or_else(refused)
}

/// The public check does not send through the queue; it says so.
fn not_checked() -> Check {
    Check {
        ok: true,
        millis: 0,
        detail: "not sent: the read-only check leaves the queue alone (?deep=1 with the health \
                 secret sends a ping)"
            .to_owned(),
    }
}

async fn timed(check: impl std::future::Future<Output = Result<String, ApiError>>) -> Check {
    let started = now_ms();
    let outcome = check.await;
    let millis = now_ms() - started;
    match outcome {
        Ok(detail) => Check {
            ok: true,
            millis,
            detail,
        },
        Err(e) => Check {
            ok: false,
            millis,
            detail: e.to_string(),
        },
    }
}

async fn check_d1(env: &Env) -> Result<String, ApiError> {
    let count = env
        .d1(DB)?
        .prepare("SELECT COUNT(*) AS n FROM d1_migrations")
        .first::<Count>(None)
        .await?
        .map_or(0, |c| c.n);
    Ok(format!("{count} migrations applied"))
}

async fn check_kv(env: &Env, nonce: &str) -> Result<String, ApiError> {
    // A key per check, so concurrent health checks cannot read each other's probe.
    let key = format!("health:probe:{nonce}");
    let kv = env.kv(KV)?;
    kv.put(&key, nonce)?.expiration_ttl(60).execute().await?;
    match kv.get(&key).text().await? {
        Some(read) if read == nonce => Ok("wrote and read back a probe".into()),
        other => Err(ApiError::Internal(format!("KV read back {other:?}"))),
    }
}

async fn read_kv(env: &Env) -> Result<String, ApiError> {
    env.kv(KV)?.get(LAST_RUN_KEY).text().await?;
    Ok("read the cron's last run".into())
}

async fn check_queue(env: &Env, nonce: &str) -> Result<String, ApiError> {
    outbox::send(
        env,
        SyncMessage::Ping {
            nonce: nonce.to_owned(),
        },
    )
    .await?;
    Ok(format!("sent ping {nonce}"))
}
