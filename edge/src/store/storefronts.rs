//! The `storefronts` table: a seller's connections. The sealed credential is read only by the
//! sync engine; nothing here ever puts it in an API answer.

use crate::db::{flag, int, opt_text, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::api::Storefront;
use tally_domain::channel::ChannelRules;
use tally_domain::storefront::StorefrontKind;
use tally_domain::AccountId;
use worker::D1Database;

/// A connection as stored.
#[derive(Debug, Deserialize)]
pub struct StorefrontRow {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub base_url: String,
    pub credential_enc: String,
    pub store_ref: Option<String>,
    pub keys_in_query: i64,
    pub rules: String,
    pub active: i64,
    pub listings: u64,
    pub created_at: i64,
    pub updated_at: i64,
    /// The last part of the connection's webhook address.
    pub hook_token: Option<String>,
    pub hook_secret_enc: String,
    /// JSON list of `WebhookTopic`s.
    pub hook_status: String,
    pub orders_heard_24h: u64,
    /// The newest order change polling has read (ms); `None` only before migration 0015's
    /// trigger ran.
    pub poll_cursor_ms: Option<i64>,
    /// When a poll last started (0: never).
    pub polled_at: i64,
    /// What the last poll found, for the storefront's page.
    pub poll_status: String,
    pub account_id: i64,
    /// The newest push's message when that push failed (`None` in lean reads).
    #[serde(default)]
    pub failing: Option<String>,
}

impl StorefrontRow {
    pub fn kind(&self) -> Result<StorefrontKind, ApiError> {
        StorefrontKind::parse(&self.kind)
            .ok_or_else(|| ApiError::Internal(format!("storefront {} has a bad kind", self.id)))
    }

    pub fn rules(&self) -> ChannelRules {
        parse_rules(&self.rules)
    }

    pub fn account(&self) -> AccountId {
        AccountId(self.account_id)
    }

    /// The address its storefront sends webhooks to, under `public_base` (the worker's
    /// public origin).
    pub fn webhook_url(&self, public_base: &str) -> String {
        match &self.hook_token {
            Some(token) => format!("{public_base}/api/v1/hooks/{token}"),
            None => String::new(),
        }
    }

    /// The wire shape: the credential and webhook secret are reduced to whether one is stored.
    pub fn into_storefront(self, public_base: &str) -> Result<Storefront, ApiError> {
        Ok(Storefront {
            webhook_url: self.webhook_url(public_base),
            has_webhook_secret: !self.hook_secret_enc.is_empty(),
            webhooks: serde_json::from_str(&self.hook_status).unwrap_or_default(),
            orders_heard_24h: self.orders_heard_24h,
            polled_at: (self.polled_at > 0).then_some(self.polled_at),
            kind: self.kind()?,
            rules: self.rules(),
            has_credential: !self.credential_enc.is_empty(),
            keys_in_query: self.keys_in_query == 1,
            active: self.active == 1,
            id: self.id,
            name: self.name,
            base_url: self.base_url,
            store_ref: self.store_ref,
            poll_status: self.poll_status,
            failing: self.failing,
            listings: self.listings,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// Stored rules JSON; rows are written from checked values, so a bad one means no rules.
pub fn parse_rules(json: &str) -> ChannelRules {
    serde_json::from_str(json).unwrap_or_default()
}

pub fn rules_json(rules: &ChannelRules) -> String {
    serde_json::to_string(rules).unwrap_or_else(|_| "{}".to_owned())
}

const SELECT: &str = "SELECT s.id, s.account_id, s.name, s.kind, s.base_url, s.credential_enc, \
     s.store_ref, s.keys_in_query, s.rules, s.active, s.created_at, s.updated_at, s.hook_token, \
     s.hook_secret_enc, s.hook_status, s.poll_cursor_ms, s.polled_at, s.poll_status, \
     (SELECT COUNT(*) FROM listings l WHERE l.storefront_id = s.id) AS listings, \
     (SELECT COUNT(*) FROM orders o WHERE o.account_id = s.account_id \
        AND o.storefront_id = s.id AND o.created_at > (unixepoch() - 86400) * 1000) \
        AS orders_heard_24h, \
     (SELECT CASE WHEN h.status = 'failed' THEN h.message END FROM sync_history h \
        WHERE h.storefront_id = s.id AND h.account_id = s.account_id \
        ORDER BY h.id DESC LIMIT 1) AS failing \
     FROM storefronts s";

/// The same columns without the two counts, for the paths that never show them (a webhook
/// delivery, applying it, a poll): the orders count grows with the account's sales.
const SELECT_LEAN: &str = "SELECT s.id, s.account_id, s.name, s.kind, s.base_url, \
     s.credential_enc, s.store_ref, s.keys_in_query, s.rules, s.active, s.created_at, \
     s.updated_at, s.hook_token, s.hook_secret_enc, s.hook_status, s.poll_cursor_ms, \
     s.polled_at, s.poll_status, 0 AS listings, 0 AS orders_heard_24h, NULL AS failing \
     FROM storefronts s";

/// The account's connection `id`, or 404 "storefront" (a path naming another account's
/// connection finds nothing, as if it did not exist).
pub async fn require(
    db: &D1Database,
    account: AccountId,
    id: i64,
) -> Result<StorefrontRow, ApiError> {
    find_lean(db, account, id)
        .await?
        .ok_or(ApiError::NotFound("storefront"))
}

/// A connection for work behind the scenes: its `listings` and `orders_heard_24h` read 0.
pub async fn find_lean(
    db: &D1Database,
    account: AccountId,
    id: i64,
) -> Result<Option<StorefrontRow>, ApiError> {
    Ok(db
        .prepare(format!(
            "{SELECT_LEAN} WHERE s.account_id = ?1 AND s.id = ?2"
        ))
        .bind(&[int(account.0), int(id)])?
        .first::<StorefrontRow>(None)
        .await?)
}

pub async fn list(db: &D1Database, account: AccountId) -> Result<Vec<StorefrontRow>, ApiError> {
    Ok(db
        .prepare(format!("{SELECT} WHERE s.account_id = ?1 ORDER BY s.id"))
        .bind(&[int(account.0)])?
        .all()
        .await?
        .results::<StorefrontRow>()?)
}

pub async fn find(
    db: &D1Database,
    account: AccountId,
    id: i64,
) -> Result<Option<StorefrontRow>, ApiError> {
    Ok(db
        .prepare(format!("{SELECT} WHERE s.account_id = ?1 AND s.id = ?2"))
        .bind(&[int(account.0), int(id)])?
        .first::<StorefrontRow>(None)
        .await?)
}

/// The connection a webhook address names. The token is the credential of the address, so
/// this is the one lookup not scoped to an account: the row found names the account.
pub async fn find_by_hook_token(
    db: &D1Database,
    token: &str,
) -> Result<Option<StorefrontRow>, ApiError> {
    Ok(db
        .prepare(format!("{SELECT_LEAN} WHERE s.hook_token = ?1"))
        .bind(&[text(token)])?
        .first::<StorefrontRow>(None)
        .await?)
}

/// What a create or edit writes.
pub struct Fields<'a> {
    pub name: &'a str,
    pub kind: StorefrontKind,
    pub base_url: &'a str,
    pub credential_enc: &'a str,
    pub store_ref: Option<&'a str>,
    pub keys_in_query: bool,
    pub rules: &'a ChannelRules,
    pub active: bool,
    pub hook_secret_enc: &'a str,
}

/// Active connections of the account, counted in the statement that adds one (so two saves at
/// once cannot both take the last place). `?1` is the account.
const ACTIVE_COUNT: &str =
    "(SELECT COUNT(*) FROM storefronts WHERE account_id = ?1 AND active = 1)";

/// A new connection with its webhook address token; `None` when it would be active and the
/// account already has `limit` active ones.
pub async fn insert(
    db: &D1Database,
    account: AccountId,
    f: &Fields<'_>,
    hook_token: &str,
    now: i64,
    limit: u32,
) -> Result<Option<i64>, ApiError> {
    let result = db
        .prepare(format!(
            "INSERT INTO storefronts (account_id, name, kind, base_url, credential_enc, store_ref, \
             rules, active, created_at, updated_at, hook_secret_enc, hook_token, keys_in_query) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12 \
             WHERE ?8 = 0 OR {ACTIVE_COUNT} < ?13"
        ))
        .bind(&[
            int(account.0),
            text(f.name),
            text(f.kind.as_str()),
            text(f.base_url),
            text(f.credential_enc),
            opt_text(f.store_ref),
            text(&rules_json(f.rules)),
            flag(f.active),
            int(now),
            text(f.hook_secret_enc),
            text(hook_token),
            flag(f.keys_in_query),
            int(i64::from(limit)),
        ])?
        .run()
        .await?;
    super::inserted_id(&result)
}

/// Saves an edit; false when it would reactivate the connection and the account already has
/// `limit` active ones (an edit that keeps it active, or inactive, always saves).
pub async fn update(
    db: &D1Database,
    account: AccountId,
    id: i64,
    f: &Fields<'_>,
    now: i64,
    limit: u32,
) -> Result<bool, ApiError> {
    let result = db
        .prepare(format!(
            "UPDATE storefronts SET name = ?3, base_url = ?4, credential_enc = ?5, store_ref = ?6, \
             rules = ?7, active = ?8, updated_at = ?9, hook_secret_enc = ?10, keys_in_query = ?11 \
             WHERE account_id = ?1 AND id = ?2 AND (?8 = 0 OR active = 1 OR {ACTIVE_COUNT} < ?12)"
        ))
        .bind(&[
            int(account.0),
            int(id),
            text(f.name),
            text(f.base_url),
            text(f.credential_enc),
            opt_text(f.store_ref),
            text(&rules_json(f.rules)),
            flag(f.active),
            int(now),
            text(f.hook_secret_enc),
            flag(f.keys_in_query),
            int(i64::from(limit)),
        ])?
        .run()
        .await?;
    Ok(super::changes(&result)? > 0)
}

/// Records what registering Tally's webhooks gave, per topic (JSON `WebhookTopic`s).
pub async fn set_hook_status(
    db: &D1Database,
    account: AccountId,
    id: i64,
    status_json: &str,
) -> Result<(), ApiError> {
    db.prepare("UPDATE storefronts SET hook_status = ?3 WHERE account_id = ?1 AND id = ?2")
        .bind(&[int(account.0), int(id), text(status_json)])?
        .run()
        .await?;
    Ok(())
}

/// Claims up to `limit` active connections not polled since `before` (oldest first) by
/// stamping them `now`, so two cron runs never poll one connection twice; (account, id).
pub async fn claim_due_polls(
    db: &D1Database,
    before: i64,
    now: i64,
    limit: u32,
) -> Result<Vec<(AccountId, i64)>, ApiError> {
    super::account_ids(
        db.prepare(
            "UPDATE storefronts SET polled_at = ?1 WHERE id IN (SELECT id FROM storefronts \
             WHERE active = 1 AND polled_at < ?2 ORDER BY polled_at LIMIT ?3) \
             RETURNING account_id, id",
        )
        .bind(&[int(now), int(before), int(i64::from(limit))])?,
    )
    .await
}

/// After a poll: the cursor moves forward only (a slow poll finishing after a newer one
/// must not move it back), and the page says what was found.
pub async fn finish_poll(
    db: &D1Database,
    account: AccountId,
    id: i64,
    cursor_ms: i64,
    status: &str,
    now: i64,
) -> Result<(), ApiError> {
    db.prepare(
        "UPDATE storefronts SET poll_cursor_ms = MAX(COALESCE(poll_cursor_ms, 0), ?3), \
         poll_status = ?4, polled_at = MAX(polled_at, ?5) WHERE account_id = ?1 AND id = ?2",
    )
    .bind(&[
        int(account.0),
        int(id),
        int(cursor_ms),
        text(status),
        int(now),
    ])?
    .run()
    .await?;
    Ok(())
}
