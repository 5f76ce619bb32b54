//! Opening a storefront connection: the one way to a decrypted credential. The connection's
//! address is checked again here (`domain::address`), and a refresh grant is turned into a
//! fresh access token (cached in KV), so every call (pushes, reads, polls, webhooks) reaches
//! only the host the credential was given for.

use crate::bindings::KV;
use crate::crypto;
use crate::error::ApiError;
use crate::handlers::storefronts::credentials_key;
use crate::store::listings::ListingRow;
use crate::store::storefronts::StorefrontRow;
use crate::storefront_http;
use tally_domain::address;
use tally_domain::connector::catalogue::{self, CatalogueItem, Page};
use tally_domain::connector::lookup::{lookup_answer, lookup_request, Lookup};
use tally_domain::connector::oauth::{self, RefreshGrant};
use tally_domain::connector::{Failure, Target};
use tally_domain::storefront::StorefrontKind;
use worker::Env;

/// The target for pushing to (or reading back) `row`'s listing.
pub(crate) async fn target(
    env: &Env,
    row: &ListingRow,
    timeout_ms: u64,
) -> Result<Target, Failure> {
    let kind = row.kind().map_err(unreadable)?;
    let connection = Connection {
        id: row.storefront_id,
        kind,
        base_url: &row.base_url,
        credential_enc: &row.credential_enc,
        store_ref: row.store_ref.as_deref(),
        keys_in_query: row.keys_in_query == 1,
    };
    open_target(env, &connection, timeout_ms).await
}

/// The target for reading from a connection (its orders, its webhooks), with a fresh access
/// token where the credential is a refresh grant, as for pushes.
pub async fn storefront_target(
    env: &Env,
    row: &StorefrontRow,
    timeout_ms: u64,
) -> Result<Target, Failure> {
    let kind = row.kind().map_err(unreadable)?;
    let connection = Connection {
        id: row.id,
        kind,
        base_url: &row.base_url,
        credential_enc: &row.credential_enc,
        store_ref: row.store_ref.as_deref(),
        keys_in_query: row.keys_in_query == 1,
    };
    open_target(env, &connection, timeout_ms).await
}

/// Why a connection was turned away by [`check`], by the field the seller should fix.
pub enum Refused {
    Credential(String),
    Address(String),
}

/// How long the check may take: the seller is waiting on the save.
const CHECK_TIMEOUT_MS: u64 = 8_000;

/// Reads the first page of the storefront's products with a connection as it is about to be
/// saved: the read listing import and the drift check begin with,
/// so a pass means Tally can reach the store and its credential may read products. A
/// storefront that answers but is busy or failing (429, 5xx) passes: the connection is not
/// at fault, and pushes retry.
pub async fn check(env: &Env, connection: &Connection<'_>) -> Result<(), Refused> {
    let kind = connection.kind;
    let platform = kind.label();
    let target = open_target(env, connection, CHECK_TIMEOUT_MS)
        .await
        .map_err(|failure| match failure {
            Failure::Auth { message } => Refused::Credential(message),
            other => Refused::Address(other.message().to_owned()),
        })?;
    let request = catalogue::catalogue_request(&target, &Page::First);
    let response = storefront_http::send(&request, CHECK_TIMEOUT_MS)
        .await
        .map_err(|e| {
            Refused::Address(format!(
                "{platform} did not answer at this address ({e}): check the API address."
            ))
        })?;
    match response.status {
        401 | 403 => Err(Refused::Credential(format!(
            "{platform} refused this credential (HTTP {}): check it, and that it may read products and inventory.",
            response.status
        ))),
        404 => Err(Refused::Address(format!(
            "No {platform} API answered at this address (HTTP 404): check the API address."
        ))),
        429 | 500..=599 => Ok(()),
        _ => catalogue::catalogue_answer(&target, &Page::First, &response)
            .map(|_| ())
            .map_err(|_| {
                Refused::Address(format!(
                    "Something answered at this address, but not as a {platform} store's API does: check the API address."
                ))
            }),
    }
}

/// Asks the storefront `row` for `lookup` (an item by its ids, or a search): the items found,
/// or, as `Err`, why it could not be asked now (down, refusing the credential, unreadable),
/// in words a seller can act on. `Ok(None)`: the platform has no search.
pub async fn lookup(
    env: &Env,
    row: &StorefrontRow,
    lookup: &Lookup<'_>,
) -> Result<Option<Vec<CatalogueItem>>, String> {
    let target = storefront_target(env, row, CHECK_TIMEOUT_MS)
        .await
        .map_err(|f| f.message().to_owned())?;
    let Some(request) = lookup_request(&target, lookup) else {
        return Ok(None);
    };
    let platform = row.kind().map_err(|e| e.to_string())?.label();
    let response = storefront_http::send(&request, CHECK_TIMEOUT_MS)
        .await
        .map_err(|e| format!("{platform} did not answer ({e}); try again in a minute."))?;
    lookup_answer(&target, lookup, &response).map(Some)
}

/// How a storefront is reached: what a target is opened from (`id` 0 for a connection not
/// saved yet).
pub struct Connection<'a> {
    pub id: i64,
    pub kind: StorefrontKind,
    pub base_url: &'a str,
    pub credential_enc: &'a str,
    pub store_ref: Option<&'a str>,
    pub keys_in_query: bool,
}

/// An address the rules forbid: the seller edits the connection (retrying will not help).
fn refused_address(c: &Connection<'_>, e: &address::AddressError) -> Failure {
    Failure::Validation {
        message: format!(
            "Tally did not send this {} connection's credential: {e} Edit the connection's API \
             address (Settings › Storefronts).",
            c.kind.label()
        ),
    }
}

fn unreadable(e: ApiError) -> Failure {
    Failure::Unavailable {
        message: format!("Tally could not read this connection's credential: {e}"),
    }
}

async fn open_target(env: &Env, c: &Connection<'_>, timeout_ms: u64) -> Result<Target, Failure> {
    // Checked again before every use, so a connection saved before a rule existed (or on
    // another network setting) never sends its credential where the rules forbid.
    let network = storefront_http::network(env);
    address::check_base_url(c.kind, c.base_url, network).map_err(|e| refused_address(c, &e))?;
    let key = credentials_key(env).map_err(unreadable)?;
    let mut credential = crypto::open(&key, c.credential_enc)
        .await
        .map_err(unreadable)?;
    if let Ok(Some(grant)) = oauth::refresh_grant(c.kind, &credential) {
        if let Some(url) = &grant.token_url {
            address::check_token_url(c.kind, url, network).map_err(|e| refused_address(c, &e))?;
        }
        credential = access_token(env, c.id, c.kind, &grant, timeout_ms).await?;
    }
    Ok(Target {
        kind: c.kind,
        base_url: c.base_url.to_owned(),
        credential,
        store_ref: c.store_ref.map(str::to_owned),
        keys_in_query: c.keys_in_query,
    })
}

/// An access token for a refresh credential: the one kept in KV (a cache: losing it costs one
/// renewal), or a fresh one from the platform, kept until five minutes before it runs out.
async fn access_token(
    env: &Env,
    storefront: i64,
    kind: StorefrontKind,
    grant: &RefreshGrant,
    timeout_ms: u64,
) -> Result<String, Failure> {
    let key = oauth::cache_key(storefront, grant);
    let kv = env.kv(KV).ok();
    if let Some(kv) = &kv {
        if let Ok(Some(token)) = kv.get(&key).text().await {
            return Ok(token);
        }
    }
    let answer = storefront_http::send(&oauth::token_request(kind, grant), timeout_ms)
        .await
        .map_err(|message| Failure::Unavailable { message })?;
    let token = oauth::parse_token(kind, &answer)?;
    let keep_s = oauth::keep_for_s(&token);
    if let (Some(kv), true) = (&kv, keep_s >= 60) {
        let stored = match kv.put_bytes(&key, token.token.as_bytes()) {
            Ok(put) => put.expiration_ttl(keep_s).execute().await.is_ok(),
            Err(_) => false,
        };
        if !stored {
            worker::console_warn!("storefront {storefront}: access token not cached");
        }
    }
    Ok(token.token)
}
