//! `POST /api/v1/hooks/{token}`: where storefronts deliver order webhooks. One unguessable
//! address per connection; the platform's signature over the raw body decides whether a
//! delivery is genuine. A genuine one is stored, queued and answered 200 at once (platforms
//! retry, then drop the subscription, when answers are slow); the queue applies it.

use crate::bindings::{DB, SYNC_QUEUE};
use crate::clock::now_ms;
use crate::crypto;
use crate::error::ApiError;
use crate::handlers::storefronts::credentials_key;
use crate::request::{ok, raw_body};
use crate::store::inbox::{self, NewDelivery};
use crate::store::storefronts::{self, StorefrontRow};
use serde_json::json;
use tally_domain::sync::SyncMessage;
use tally_domain::webhook::{Received, SignatureError, MAX_DELIVERY_BYTES};
use worker::{Env, Request, Response};

/// Answers one delivery.
pub async fn receive(req: &mut Request, env: &Env, token: &str) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    // Tokens are hex; anything else cannot name a connection and is not looked up.
    if token.len() > 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::NotFound("webhook address"));
    }
    let connection = storefronts::find_by_hook_token(&db, token)
        .await?
        .ok_or(ApiError::NotFound("webhook address"))?;
    let body = raw_body(req, MAX_DELIVERY_BYTES).await?;
    let headers: Vec<(String, String)> = req.headers().entries().collect();
    let received = Received {
        kind: connection.kind()?,
        headers: &headers,
        body: &body,
    };
    if received.is_woocommerce_ping() {
        return ok(&json!({ "received": true }));
    }
    let now = now_ms();
    if let Err(refusal) = check(env, &connection, &received).await? {
        let nonce = hex::encode(crypto::random_bytes::<8>()?);
        let reason = format!("Refused: {refusal}.");
        inbox::refuse(
            &db,
            connection.account(),
            connection.id,
            &received.topic(),
            &reason,
            &nonce,
            now,
        )
        .await?;
        return Err(ApiError::BadSignature(refusal));
    }
    // Every format Tally reads is JSON, which is UTF-8.
    let text = String::from_utf8(body.clone()).map_err(|_| ApiError::MalformedBody {
        message: "the delivery's body is not UTF-8 JSON".into(),
        field: None,
    })?;
    let delivery_id = received.delivery_id();
    let stored = inbox::insert(
        &db,
        &NewDelivery {
            account: connection.account(),
            storefront_id: connection.id,
            delivery_id: &delivery_id,
            format: received.format().as_str(),
            topic: &received.topic(),
            body: &text,
            now,
        },
    )
    .await?;
    if let Some(inbox_id) = stored {
        let message = SyncMessage::Delivery {
            account_id: connection.account(),
            inbox_id,
        };
        // A failed send leaves the delivery waiting: the cron sends it again.
        if let Err(e) = env.queue(SYNC_QUEUE)?.send(message).await {
            worker::console_warn!("delivery {inbox_id} stored, not queued (cron will): {e}");
        }
    }
    ok(&json!({ "received": true, "duplicate": stored.is_none() }))
}

/// Whether the delivery was signed with the connection's secret; `Err` for a failure of
/// Tally's own (the secret could not be opened), `Ok(Err)` for a refusal.
async fn check(
    env: &Env,
    connection: &StorefrontRow,
    received: &Received<'_>,
) -> Result<Result<(), SignatureError>, ApiError> {
    if connection.hook_secret_enc.is_empty() {
        // No secret (a Shopify connection saved without its client secret): nothing can be
        // checked, so nothing is taken. The Incoming log says what to add.
        return Ok(Err(SignatureError::NoSecret));
    }
    let secret = crypto::open(&credentials_key(env)?, &connection.hook_secret_enc).await?;
    Ok(received.verify(&secret))
}

/// `POST /api/v1/bench/bare`, for the benchmark only (404 unless the `BENCH_ROUTES` var is
/// `1`): reads the body as a delivery is read and writes one D1 row, nothing else. The
/// webhook intake's throughput is measured next to it.
pub async fn bare(req: &mut Request, env: &Env) -> Result<Response, ApiError> {
    let enabled = env.var("BENCH_ROUTES").is_ok_and(|v| v.to_string() == "1");
    if !enabled {
        return Err(ApiError::NotFound("page"));
    }
    let body = raw_body(req, MAX_DELIVERY_BYTES).await?;
    env.d1(DB)?
        .prepare("INSERT INTO bench_rows (body_bytes, received_at) VALUES (?1, ?2)")
        .bind(&[crate::db::int(body.len() as i64), crate::db::int(now_ms())])?
        .run()
        .await?;
    ok(&json!({ "received": true }))
}
