//! The `webhook_inbox` table: every delivery a connection's webhook address received, the
//! connection's Incoming log. A genuine delivery is written here before it is answered, so
//! a slow apply never makes the platform retry; UNIQUE (storefront, delivery id) makes a
//! retry of the same delivery a no-op.

use crate::db::{int, opt_text, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::api::Delivery;
use tally_domain::AccountId;
use worker::D1Database;

/// Refused deliveries kept per connection: enough to see what is wrong, and a flood of
/// forged requests cannot grow the table.
const REFUSED_KEPT: i64 = 50;

/// A genuine delivery, as stored before it is applied.
pub struct NewDelivery<'a> {
    pub account: AccountId,
    pub storefront_id: i64,
    pub delivery_id: &'a str,
    pub format: &'a str,
    pub topic: &'a str,
    pub body: &'a str,
    pub now: i64,
}

/// Stores a delivery; `None` when the same delivery was stored before (a platform's retry).
pub async fn insert(db: &D1Database, d: &NewDelivery<'_>) -> Result<Option<i64>, ApiError> {
    #[derive(Deserialize)]
    struct Id {
        id: i64,
    }
    let row = db
        .prepare(
            "INSERT INTO webhook_inbox \
             (account_id, storefront_id, delivery_id, format, topic, body, status, received_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'received', ?7) \
             ON CONFLICT (storefront_id, delivery_id) DO NOTHING RETURNING id",
        )
        .bind(&[
            int(d.account.0),
            int(d.storefront_id),
            text(d.delivery_id),
            text(d.format),
            text(d.topic),
            text(d.body),
            int(d.now),
        ])?
        .first::<Id>(None)
        .await?;
    Ok(row.map(|r| r.id))
}

/// Records a refused delivery with its reason (never its body), keeping the newest
/// [`REFUSED_KEPT`] of the connection.
pub async fn refuse(
    db: &D1Database,
    account: AccountId,
    storefront_id: i64,
    topic: &str,
    reason: &str,
    nonce: &str,
    now: i64,
) -> Result<(), ApiError> {
    let insert = db
        .prepare(
            "INSERT INTO webhook_inbox \
             (account_id, storefront_id, delivery_id, format, topic, status, message, received_at, handled_at) \
             VALUES (?1, ?2, ?3, '', ?4, 'refused', ?5, ?6, ?6)",
        )
        .bind(&[
            int(account.0),
            int(storefront_id),
            text(&format!("refused:{nonce}")),
            text(topic),
            text(reason),
            int(now),
        ])?;
    let prune = db
        .prepare(
            "DELETE FROM webhook_inbox WHERE account_id = ?1 AND storefront_id = ?2 \
             AND status = 'refused' AND id NOT IN (SELECT id FROM webhook_inbox \
             WHERE account_id = ?1 AND storefront_id = ?2 AND status = 'refused' \
             ORDER BY id DESC LIMIT ?3)",
        )
        .bind(&[int(account.0), int(storefront_id), int(REFUSED_KEPT)])?;
    db.batch(vec![insert, prune]).await?;
    Ok(())
}

/// A stored delivery still to be applied.
#[derive(Debug, Deserialize)]
pub struct Waiting {
    pub storefront_id: i64,
    pub format: String,
    pub topic: String,
    pub body: Option<String>,
}

/// The delivery, if it is still waiting to be applied (a repeat finds it handled).
pub async fn waiting(
    db: &D1Database,
    account: AccountId,
    id: i64,
) -> Result<Option<Waiting>, ApiError> {
    Ok(db
        .prepare(
            "SELECT storefront_id, format, topic, body FROM webhook_inbox \
             WHERE account_id = ?1 AND id = ?2 AND status = 'received'",
        )
        .bind(&[int(account.0), int(id)])?
        .first::<Waiting>(None)
        .await?)
}

/// How a delivery was handled.
pub struct Outcome<'a> {
    /// `applied`, `ignored` or `failed`.
    pub status: &'static str,
    pub message: &'a str,
    pub order_id: Option<&'a str>,
}

/// Marks a waiting delivery handled and drops its body.
pub async fn finish(
    db: &D1Database,
    account: AccountId,
    id: i64,
    outcome: &Outcome<'_>,
    now: i64,
) -> Result<(), ApiError> {
    db.prepare(
        "UPDATE webhook_inbox SET status = ?3, message = ?4, order_id = ?5, handled_at = ?6, \
         body = NULL WHERE account_id = ?1 AND id = ?2 AND status = 'received'",
    )
    .bind(&[
        int(account.0),
        int(id),
        text(outcome.status),
        text(outcome.message),
        opt_text(outcome.order_id),
        int(now),
    ])?
    .run()
    .await?;
    Ok(())
}

/// The connection's newest 100 deliveries.
pub async fn recent(
    db: &D1Database,
    account: AccountId,
    storefront_id: i64,
) -> Result<Vec<Delivery>, ApiError> {
    Ok(db
        .prepare(
            "SELECT id, topic, status, message, order_id, received_at, handled_at \
             FROM webhook_inbox WHERE account_id = ?1 AND storefront_id = ?2 \
             ORDER BY id DESC LIMIT 100",
        )
        .bind(&[int(account.0), int(storefront_id)])?
        .all()
        .await?
        .results::<Delivery>()?)
}

/// Deliveries stored before `before` and still not applied (a lost queue send, a restart):
/// (account, delivery), oldest first.
pub async fn stalled(
    db: &D1Database,
    before: i64,
    limit: u32,
) -> Result<Vec<(AccountId, i64)>, ApiError> {
    super::account_ids(
        db.prepare(
            "SELECT account_id, id FROM webhook_inbox \
             WHERE status = 'received' AND received_at < ?1 ORDER BY received_at LIMIT ?2",
        )
        .bind(&[int(before), int(i64::from(limit))])?,
    )
    .await
}
