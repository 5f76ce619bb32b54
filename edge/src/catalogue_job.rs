//! Reading a storefront's catalogue as a background job, a few pages per queue delivery. For
//! listing import it classifies every item once the last page is in and, when the seller
//! applies it, links everything in one write; for a drift check it compares the counts
//! (`drift_check.rs`). The seller can close the tab; the cron resumes a job whose
//! message was lost, and every step is behind a compare-and-set, so a repeat is harmless.

use crate::bindings::DB;
use crate::clock::now_ms;
use crate::connection;
use crate::error::ApiError;
use crate::store::catalogue_reads::{self, Purpose, ReadRow};
use crate::store::{outbox, storefronts};
use crate::storefront_http;
use std::collections::HashSet;
use tally_domain::api::ImportStatus;
use tally_domain::connector::catalogue::{catalogue_answer, catalogue_request};
use tally_domain::listing_import::{classify, Known};
use tally_domain::sync::SyncMessage;
use tally_domain::AccountId;
use worker::{D1Database, Env};

/// Pages one delivery reads: a few seconds of storefront calls at most, so an invocation stays
/// short and a big catalogue does not hold other sellers' messages up.
const PAGES_PER_DELIVERY: u32 = 4;

/// How long one catalogue call may take.
const TIMEOUT_MS: u64 = 15_000;

/// Moves import `read_id` on. `Err` asks the queue to deliver the message again later (a
/// storefront that did not answer, or a database failure).
pub async fn advance(env: &Env, account: AccountId, read_id: i64) -> Result<(), ApiError> {
    let db = env.d1(DB)?;
    let Some(read) = catalogue_reads::find(&db, account, read_id).await? else {
        return Ok(());
    };
    match read.status() {
        ImportStatus::Reading => read_pages(env, &db, account, read).await,
        ImportStatus::Applying => apply(env, &db, account, &read).await,
        _ => Ok(()),
    }
}

/// Sends the job's next message; if that fails, the cron resumes it.
pub async fn continue_later(env: &Env, account: AccountId, read_id: i64) {
    let message = SyncMessage::CatalogueRead {
        account_id: account,
        read_id,
    };
    if let Err(e) = outbox::send(env, message).await {
        worker::console_warn!("import {read_id} waits for the cron to resume it: {e}");
    }
}

async fn read_pages(
    env: &Env,
    db: &D1Database,
    account: AccountId,
    mut read: ReadRow,
) -> Result<(), ApiError> {
    let Some(connection) = storefronts::find_lean(db, account, read.storefront_id).await? else {
        return Ok(());
    };
    let target = match connection::storefront_target(env, &connection, TIMEOUT_MS).await {
        Ok(target) => target,
        Err(failure) => {
            let message = failure.message().to_owned();
            let statuses = [ImportStatus::Reading];
            catalogue_reads::finish(
                db,
                account,
                read.id,
                &statuses,
                ImportStatus::Failed,
                &message,
                now_ms(),
            )
            .await?;
            return Ok(());
        }
    };
    for _ in 0..PAGES_PER_DELIVERY {
        let Some(page) = read.next_page() else {
            return match read.purpose.as_str() {
                "drift" => {
                    let kind = connection.kind()?;
                    crate::drift_check::compare_read(db, account, &read, kind, now_ms()).await
                }
                _ => classify_items(db, account, &read).await,
            };
        };
        let request = catalogue_request(&target, &page);
        let answer = match storefront_http::send(&request, TIMEOUT_MS).await {
            Err(message) => Err(format!(
                "{} did not answer ({message}); try the import again in a few minutes.",
                target.kind.label()
            )),
            Ok(response) => catalogue_answer(&target, &page, &response),
        };
        let page = match answer {
            Ok(page) => page,
            Err(message) => {
                // Counted; the queue delivers the message again after a pause, and a read the
                // storefront keeps refusing fails with its words.
                catalogue_reads::miss(db, &read, &message, now_ms()).await?;
                return Err(ApiError::Busy(message));
            }
        };
        let now = now_ms();
        if !catalogue_reads::store_page(db, &read, &page.items, page.next.as_ref(), page.total, now)
            .await?
        {
            // Another delivery stored this page (it carries the job on), unless the cursor did
            // not move: then the write itself failed, and the queue tries again.
            let moved = catalogue_reads::find(db, account, read.id)
                .await?
                .is_none_or(|r| r.pages_read != read.pages_read || r.status != read.status);
            if moved {
                return Ok(());
            }
            catalogue_reads::miss(
                db,
                &read,
                "Tally could not store a page of the catalogue; it tries again.",
                now,
            )
            .await?;
            return Err(ApiError::Busy(format!(
                "import {}: storing a page failed",
                read.id
            )));
        }
        match catalogue_reads::find(db, account, read.id).await? {
            Some(next) => read = next,
            None => return Ok(()),
        }
    }
    continue_later(env, account, read.id).await;
    Ok(())
}

/// Classifies every item of a fully read catalogue: the preview is ready.
async fn classify_items(
    db: &D1Database,
    account: AccountId,
    read: &ReadRow,
) -> Result<(), ApiError> {
    let Some(connection) = storefronts::find_lean(db, account, read.storefront_id).await? else {
        return Ok(());
    };
    let kind = connection.kind()?;
    let (products, linked_items, linked_skus): (HashSet<String>, _, _) =
        catalogue_reads::known(db, account, read).await?;
    let numbered = catalogue_reads::items(db, read.id).await?;
    let items: Vec<_> = numbered.iter().map(|(_, item)| item.clone()).collect();
    let known = Known {
        products: &products,
        linked_items: &linked_items,
        linked_skus: &linked_skus,
    };
    let decisions = classify(kind, &items, &known);
    catalogue_reads::classify(db, read, &numbered, &decisions, now_ms()).await?;
    catalogue_reads::prune(db, account, read.storefront_id, Purpose::Import).await
}

async fn apply(
    env: &Env,
    db: &D1Database,
    account: AccountId,
    read: &ReadRow,
) -> Result<(), ApiError> {
    let now = now_ms().max(read.updated_at + 1);
    if let Some(queued) = catalogue_reads::apply(db, account, read, now).await? {
        outbox::send_queued(env, account, &queued).await;
        return Ok(());
    }
    // Refused whole. Unless another delivery applied it, something changed since the preview.
    catalogue_reads::finish(
        db,
        account,
        read.id,
        &[ImportStatus::Applying],
        ImportStatus::Failed,
        "Nothing was linked: a product or listing was added since the preview (one of its SKUs \
         or items is taken now). Start the import again for a fresh preview.",
        now_ms(),
    )
    .await?;
    Ok(())
}
