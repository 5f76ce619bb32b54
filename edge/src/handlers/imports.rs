//! Listing import: read a connection's catalogue, preview what matches Tally by SKU, apply it
//! (everything or nothing). The reading happens in the queue consumer (`catalogue_job.rs`), so
//! a large catalogue finishes even if the seller closes the tab.

use crate::bindings::DB;
use crate::catalogue_job;
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::request::{json_response, ok, query_param};
use crate::store::catalogue_reads::{self, Purpose, ReadRow};
use crate::store::{rules, storefronts};
use tally_domain::actor::Actor;
use tally_domain::api::{FieldError, ImportItemPage, ImportStatus, ListingImport};
use tally_domain::listing_import::ImportClass;
use tally_domain::{AccountId, CreatedVia};
use worker::{D1Database, Env, Request, Response};

/// Items one preview page shows at most.
const MAX_PAGE_SIZE: u64 = 250;

/// `POST /api/v1/storefronts/{id}/imports`: 202 with the import (the one already running for
/// this connection, if any).
pub async fn start(
    env: &Env,
    account: AccountId,
    storefront_id: i64,
) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    storefronts::require(&db, account, storefront_id).await?;
    let id = catalogue_reads::start(&db, account, storefront_id, Purpose::Import, now_ms()).await?;
    catalogue_job::continue_later(env, account, id).await;
    Ok(json_response(&find(&db, account, id).await?.view(), 202))
}

/// `GET /api/v1/storefronts/{id}/imports`: the connection's newest imports, newest first.
pub async fn for_storefront(
    env: &Env,
    account: AccountId,
    storefront_id: i64,
) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    storefronts::require(&db, account, storefront_id).await?;
    let imports: Vec<ListingImport> = catalogue_reads::recent(&db, account, storefront_id)
        .await?
        .iter()
        .map(ReadRow::view)
        .collect();
    ok(&imports)
}

/// `GET /api/v1/imports/{id}`.
pub async fn get(env: &Env, account: AccountId, id: i64) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    ok(&find(&db, account, id).await?.view())
}

/// `GET /api/v1/imports/{id}/items?class=new&page=1&page_size=50`.
pub async fn items(
    req: &Request,
    env: &Env,
    account: AccountId,
    id: i64,
) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    let read = find(&db, account, id).await?;
    let class = match query_param(req, "class")?.filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(ImportClass::parse(&c).ok_or_else(|| {
            FieldError::new(
                "class",
                "Use one of matched, new, conflict, linked or skipped (or leave it out for all).",
            )
        })?),
    };
    let page = positive(req, "page", 1)?;
    let size = positive(req, "page_size", 50)?;
    if size > MAX_PAGE_SIZE {
        return Err(FieldError::new(
            "page_size",
            format!("At most {MAX_PAGE_SIZE} items a page."),
        )
        .into());
    }
    let (items, total) =
        catalogue_reads::item_page(&db, read.id, class, (page - 1).saturating_mul(size), size)
            .await?;
    ok(&ImportItemPage { items, total })
}

/// `POST /api/v1/imports/{id}/apply`: links every matched and new item, or none. Applied
/// before this answers (200) unless the write has to wait for the queue (202).
pub async fn apply(
    env: &Env,
    account: AccountId,
    actor: &Actor,
    id: i64,
) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    let read = find(&db, account, id).await?;
    match read.status() {
        ImportStatus::Ready => {}
        ImportStatus::Applying | ImportStatus::Applied => {
            return Ok(json_response(&read.view(), 200));
        }
        status => {
            return Err(ApiError::Conflict(FieldError::new(
                "status",
                format!(
                    "This import is {}: only a finished preview can be applied. Start the import again.",
                    status.as_str()
                ),
            )))
        }
    }
    let new_auto_sync = rules::load(&db, account)
        .await?
        .starts_on(CreatedVia::ListingImport);
    if catalogue_reads::start_apply(&db, account, id, new_auto_sync, &actor.stored(), now_ms())
        .await?
    {
        if let Err(e) = catalogue_job::advance(env, account, id).await {
            worker::console_warn!("import {id}: applying waits for the queue: {e}");
            catalogue_job::continue_later(env, account, id).await;
        }
    }
    let read = find(&db, account, id).await?;
    let status = if read.status() == ImportStatus::Applying {
        202
    } else {
        200
    };
    Ok(json_response(&read.view(), status))
}

/// `POST /api/v1/imports/{id}/cancel`: stops a read or drops a preview; nothing was linked.
pub async fn cancel(env: &Env, account: AccountId, id: i64) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    let read = find(&db, account, id).await?;
    catalogue_reads::finish(
        &db,
        account,
        read.id,
        &[ImportStatus::Reading, ImportStatus::Ready],
        ImportStatus::Cancelled,
        "Cancelled: nothing was linked.",
        now_ms(),
    )
    .await?;
    ok(&find(&db, account, id).await?.view())
}

async fn find(db: &D1Database, account: AccountId, id: i64) -> Result<ReadRow, ApiError> {
    catalogue_reads::find(db, account, id)
        .await?
        .filter(|r| r.purpose == Purpose::Import.as_str())
        .ok_or(ApiError::NotFound("import"))
}

/// A whole number ≥ 1 from the query string, or `default` when absent.
fn positive(req: &Request, name: &'static str, default: u64) -> Result<u64, ApiError> {
    match query_param(req, name)? {
        None => Ok(default),
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) if n >= 1 => Ok(n),
            _ => Err(FieldError::new(name, "Use a whole number from 1.").into()),
        },
    }
}
