//! Settings › Storefronts: connections a seller adds, edits and deactivates. Credentials go in
//! sealed and never come back out.

use crate::bindings::{CREDENTIALS_KEY, DB};
use crate::caller::Caller;
use crate::clock::now_ms;
use crate::connection;
use crate::crypto;
use crate::error::ApiError;
use crate::polling;
use crate::request::public_base;
use crate::request::{json_body, ok, MAX_JSON_BODY};
use crate::store::inbox;
use crate::store::outbox::{self, Resync};
use crate::store::storefronts::{self, Fields};
use crate::storefront_http::network;
use crate::subscriptions;
use tally_domain::address::{check_base_url, check_token_url};
use tally_domain::api::{DeliveryList, FieldError, StorefrontInput, StorefrontList};
use tally_domain::channel::ChannelRules;
use tally_domain::connector::oauth;
use tally_domain::product::clean_name;
use tally_domain::quota::{OverLimit, Quota};
use tally_domain::storefront::StorefrontKind;
use tally_domain::AccountId;
use worker::{Env, Request, Response};

/// `GET /api/v1/storefronts`.
pub async fn list(req: &Request, env: &Env, account: AccountId) -> Result<Response, ApiError> {
    let base = public_base(req, env)?;
    let rows = storefronts::list(&env.d1(DB)?, account).await?;
    let storefronts = rows
        .into_iter()
        .map(|row| row.into_storefront(&base))
        .collect::<Result<_, _>>()?;
    ok(&StorefrontList { storefronts })
}

/// `GET /api/v1/storefronts/{id}`.
pub async fn get(
    req: &Request,
    env: &Env,
    account: AccountId,
    id: i64,
) -> Result<Response, ApiError> {
    let row = storefronts::find(&env.d1(DB)?, account, id)
        .await?
        .ok_or(ApiError::NotFound("storefront"))?;
    ok(&row.into_storefront(&public_base(req, env)?)?)
}

/// `GET /api/v1/storefronts/{id}/deliveries`: the connection's Incoming log, newest first.
pub async fn deliveries(env: &Env, account: AccountId, id: i64) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    storefronts::find(&db, account, id)
        .await?
        .ok_or(ApiError::NotFound("storefront"))?;
    let deliveries = inbox::recent(&db, account, id).await?;
    ok(&DeliveryList { deliveries })
}

/// `POST /api/v1/storefronts/{id}/subscribe`: subscribes the webhook address to every topic
/// again (after webhooks were deleted on the storefront, say); answers the connection with
/// what each topic's registration gave.
pub async fn subscribe(
    req: &Request,
    env: &Env,
    account: AccountId,
    id: i64,
) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    let row = storefronts::find(&db, account, id)
        .await?
        .ok_or(ApiError::NotFound("storefront"))?;
    subscriptions::register(env, &row, &public_base(req, env)?, true).await?;
    get(req, env, account, id).await
}

/// `POST /api/v1/storefronts/{id}/poll`: reads the storefront's recent orders now instead of
/// at the next scheduled poll; answers the connection with what was found (`poll_status`).
pub async fn poll(
    req: &Request,
    env: &Env,
    account: AccountId,
    id: i64,
) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    storefronts::find(&db, account, id)
        .await?
        .ok_or(ApiError::NotFound("storefront"))?;
    polling::poll(env, account, id).await?;
    get(req, env, account, id).await
}

/// `POST /api/v1/storefronts`: name, kind and credential are required.
pub async fn create(req: &mut Request, env: &Env, caller: &Caller) -> Result<Response, ApiError> {
    let input: StorefrontInput = json_body(req, MAX_JSON_BODY).await?;
    let kind = input.kind.ok_or_else(|| {
        FieldError::new(
            "kind",
            "Choose the platform: shopify, woocommerce, ebay, amazon, bigcommerce or vendure.",
        )
    })?;
    let name = clean_name(input.name.as_deref().unwrap_or(""))
        .map_err(|e| FieldError::new("name", e.to_string()))?;
    let credential =
        checked_credential(env, kind, input.credential.as_deref())?.ok_or_else(|| {
            FieldError::new(
                "credential",
                format!("Paste the {}.", kind.credential_hint()),
            )
        })?;
    let base_url = check_base_url(kind, input.base_url.as_deref().unwrap_or(""), network(env))
        .map_err(|e| FieldError::new("base_url", e.to_string()))?;
    let store_ref = checked_store_ref(kind, input.store_ref.as_deref())?;
    let keys_in_query = checked_keys_in_query(kind, input.keys_in_query)?.unwrap_or(false);
    let rules = checked_rules(input.rules.unwrap_or_default())?;
    let key = credentials_key(env)?;
    let sealed = crypto::seal(&key, &credential).await?;
    // Shopify signs with the app's client secret, which only the seller has; for the others
    // Tally makes the secret it registers its webhooks with.
    let hook_secret = match checked_webhook_secret(input.webhook_secret.as_deref())? {
        Some(secret) => Some(secret),
        None if kind == StorefrontKind::Shopify => None,
        None => Some(hex::encode(crypto::random_bytes::<32>()?)),
    };
    let sealed_hook_secret = match &hook_secret {
        Some(secret) => crypto::seal(&key, secret).await?,
        None => String::new(),
    };
    let fields = Fields {
        name: &name,
        kind,
        base_url: &base_url,
        credential_enc: &sealed,
        store_ref: store_ref.as_deref(),
        keys_in_query,
        rules: &rules,
        active: input.active.unwrap_or(true),
        hook_secret_enc: &sealed_hook_secret,
    };
    if input.check == Some(true) {
        checked(env, &reach(0, &fields)).await?;
    }
    let db = env.d1(DB)?;
    let token = hex::encode(crypto::random_bytes::<24>()?);
    let limit = Quota::Storefronts.limit(caller.plan);
    let id = storefronts::insert(&db, caller.account, &fields, &token, now_ms(), limit)
        .await?
        .ok_or(ApiError::OverLimit(OverLimit {
            quota: Quota::Storefronts,
            plan: caller.plan,
        }))?;
    let base = public_base(req, env)?;
    let found = || async {
        storefronts::find(&db, caller.account, id)
            .await?
            .ok_or(ApiError::NotFound("storefront"))
    };
    subscriptions::register(env, &found().await?, &base, true).await?;
    Ok(ok(&found().await?.into_storefront(&base)?)?.with_status(201))
}

/// `PATCH /api/v1/storefronts/{id}`: only what is sent changes; the kind never does.
pub async fn update(
    req: &mut Request,
    env: &Env,
    caller: &Caller,
    id: i64,
) -> Result<Response, ApiError> {
    let account = caller.account;
    let input: StorefrontInput = json_body(req, MAX_JSON_BODY).await?;
    let db = env.d1(DB)?;
    let row = storefronts::find(&db, account, id)
        .await?
        .ok_or(ApiError::NotFound("storefront"))?;
    let kind = row.kind()?;
    if input.kind.is_some_and(|k| k != kind) {
        return Err(FieldError::new(
            "kind",
            "A connection's platform cannot change; add a new connection instead.",
        )
        .into());
    }
    let name = match input.name.as_deref() {
        Some(n) => clean_name(n).map_err(|e| FieldError::new("name", e.to_string()))?,
        None => row.name.clone(),
    };
    let base_url = match input.base_url.as_deref() {
        Some(u) => check_base_url(kind, u, network(env))
            .map_err(|e| FieldError::new("base_url", e.to_string()))?,
        None => row.base_url.clone(),
    };
    let sealed = match checked_credential(env, kind, input.credential.as_deref())? {
        Some(c) => crypto::seal(&credentials_key(env)?, &c).await?,
        // The stored credential was given for the stored address: a new address needs it
        // typed again, so a changed address cannot carry the old secret somewhere else.
        None if base_url != row.base_url => {
            return Err(FieldError::new(
                "credential",
                format!(
                    "Paste the {} again: Tally sends a credential only to the address it was \
                     given with, and the API address changed.",
                    kind.credential_hint()
                ),
            )
            .into())
        }
        None => row.credential_enc.clone(),
    };
    let store_ref = match input.store_ref.as_deref() {
        Some(s) => checked_store_ref(kind, Some(s))?,
        None => row.store_ref.clone(),
    };
    let keys_in_query =
        checked_keys_in_query(kind, input.keys_in_query)?.unwrap_or(row.keys_in_query == 1);
    let rules = checked_rules(input.rules.unwrap_or_else(|| row.rules()))?;
    let hook_secret_enc = match checked_webhook_secret(input.webhook_secret.as_deref())? {
        Some(secret) => crypto::seal(&credentials_key(env)?, &secret).await?,
        None => row.hook_secret_enc.clone(),
    };
    let reached_differently = base_url != row.base_url
        || sealed != row.credential_enc
        || keys_in_query != (row.keys_in_query == 1)
        || store_ref != row.store_ref;
    let fields = Fields {
        hook_secret_enc: &hook_secret_enc,
        name: &name,
        kind,
        base_url: &base_url,
        credential_enc: &sealed,
        store_ref: store_ref.as_deref(),
        keys_in_query,
        rules: &rules,
        active: input.active.unwrap_or(row.active == 1),
    };
    if input.check == Some(true) && reached_differently {
        checked(env, &reach(id, &fields)).await?;
    }
    let limit = Quota::Storefronts.limit(caller.plan);
    if !storefronts::update(&db, account, id, &fields, now_ms(), limit).await? {
        return Err(ApiError::OverLimit(OverLimit {
            quota: Quota::Storefronts,
            plan: caller.plan,
        }));
    }
    // Subscribed again everywhere when the storefront is reached differently; otherwise
    // only the topics that failed before are tried again.
    let reached_anew = base_url != row.base_url
        || sealed != row.credential_enc
        || keys_in_query != (row.keys_in_query == 1)
        || hook_secret_enc != row.hook_secret_enc;
    if let Some(saved) = storefronts::find(&db, account, id).await? {
        subscriptions::register(env, &saved, &public_base(req, env)?, reached_anew).await?;
    }
    // Reactivated, sending a different share, or reachable again with a new address or
    // credential: every listing on it is brought up to date now, not at the next sale.
    let changed = (fields.active && row.active == 0)
        || rules != row.rules()
        || base_url != row.base_url
        || sealed != row.credential_enc
        || keys_in_query != (row.keys_in_query == 1)
        || store_ref != row.store_ref;
    if fields.active && changed {
        outbox::resync(env, &db, account, Resync::Storefront(id), now_ms()).await?;
    }
    get(req, env, account, id).await
}

/// How connection `id` (0: not saved yet) would be reached with `fields`.
fn reach<'a>(id: i64, fields: &Fields<'a>) -> connection::Connection<'a> {
    connection::Connection {
        id,
        kind: fields.kind,
        base_url: fields.base_url,
        credential_enc: fields.credential_enc,
        store_ref: fields.store_ref,
        keys_in_query: fields.keys_in_query,
    }
}

/// [`connection::check`] as the field error the form shows: nothing is saved.
async fn checked(env: &Env, reach: &connection::Connection<'_>) -> Result<(), ApiError> {
    connection::check(env, reach).await.map_err(|refused| {
        match refused {
            connection::Refused::Credential(m) => FieldError::new("credential", m),
            connection::Refused::Address(m) => FieldError::new("base_url", m),
        }
        .into()
    })
}

/// The query-string keys switch, which only WooCommerce has.
fn checked_keys_in_query(
    kind: StorefrontKind,
    raw: Option<bool>,
) -> Result<Option<bool>, ApiError> {
    match (kind, raw) {
        (_, None | Some(false)) | (StorefrontKind::Woocommerce, _) => Ok(raw),
        _ => Err(FieldError::new(
            "keys_in_query",
            format!(
                "Only WooCommerce keys can go in the query string; {} takes its credential in a header.",
                kind.label()
            ),
        )
        .into()),
    }
}

/// A webhook secret as typed; `None` when none was sent.
fn checked_webhook_secret(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.len() > 512 || value.contains(char::is_whitespace) {
        return Err(FieldError::new(
            "webhook_secret",
            "That does not look like a webhook secret: paste it without spaces.",
        )
        .into());
    }
    Ok(Some(value.to_owned()))
}

/// The credential as typed, checked for its form; `None` when none was sent.
fn checked_credential(
    env: &Env,
    kind: StorefrontKind,
    raw: Option<&str>,
) -> Result<Option<String>, ApiError> {
    let Some(value) = raw.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    // eBay and Amazon also take a refresh credential (JSON), so Tally renews their tokens.
    if let Some(grant) = oauth::refresh_grant(kind, value)
        .map_err(|message| ApiError::from(FieldError::new("credential", message)))?
    {
        // A renewal sends the client secret to the token address: only the platform's own.
        if let Some(url) = &grant.token_url {
            check_token_url(kind, url, network(env))
                .map_err(|e| FieldError::new("credential", format!("token_url: {e}")))?;
        }
        let compact = serde_json::json!({
            "client_id": grant.client_id,
            "client_secret": grant.client_secret,
            "refresh_token": grant.refresh_token,
            "token_url": grant.token_url,
        });
        return Ok(Some(compact.to_string()));
    }
    if value.len() > 2048 || value.contains(char::is_whitespace) {
        return Err(FieldError::new(
            "credential",
            "That does not look like a credential: paste it without spaces.",
        )
        .into());
    }
    if kind == StorefrontKind::Woocommerce && !value.contains(':') {
        return Err(FieldError::new(
            "credential",
            "WooCommerce needs the consumer key and secret as ck_…:cs_….",
        )
        .into());
    }
    Ok(Some(value.to_owned()))
}

fn checked_store_ref(kind: StorefrontKind, raw: Option<&str>) -> Result<Option<String>, ApiError> {
    let value = raw.map(str::trim).filter(|v| !v.is_empty());
    match (kind.store_ref_label(), value) {
        (Some(label), None) => {
            Err(FieldError::new("store_ref", format!("{label} is required.")).into())
        }
        (Some(_), Some(v)) if v.len() > 64 || v.contains(char::is_whitespace) => {
            Err(FieldError::new(
                "store_ref",
                "The seller ID has no spaces and is at most 64 characters.",
            )
            .into())
        }
        (_, v) => Ok(v.map(str::to_owned)),
    }
}

/// Channel rules with every value in range; an error names `rules.<field>`.
fn checked_rules(rules: ChannelRules) -> Result<ChannelRules, ApiError> {
    rules
        .validate()
        .map_err(|e| FieldError::new(format!("rules.{}", e.field), e.message))?;
    Ok(rules)
}

/// The key credentials are sealed with (the worker secret `CREDENTIALS_KEY`).
pub fn credentials_key(env: &Env) -> Result<String, ApiError> {
    env.secret(CREDENTIALS_KEY)
        .map(|s| s.to_string())
        .map_err(|_| ApiError::Internal("the CREDENTIALS_KEY secret is not set".into()))
}
