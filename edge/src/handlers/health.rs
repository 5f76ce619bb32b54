//! `GET /api/v1/health`: a real round trip to D1, KV and the sync queue.

use crate::bindings::{DB, KV};
use crate::clock::now_ms;
use crate::consumer::{LastPing, LAST_PING_KEY};
use crate::cron::LAST_RUN_KEY;
use crate::error::ApiError;
use crate::request::json_response;
use crate::store::{outbox, Count};
use tally_domain::api::{Check, Health};
use tally_domain::sync::SyncMessage;
use worker::{Env, Response};

/// Checks every binding. 200 when all answer, 503 otherwise (with what failed).
pub async fn get(env: &Env) -> Result<Response, ApiError> {
    let nonce = format!("{:x}", (js_sys::Math::random() * 1e15) as u64);
    let d1 = timed(check_d1(env)).await;
    let kv = timed(check_kv(env, &nonce)).await;
    let queue = timed(check_queue(env, &nonce)).await;
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
