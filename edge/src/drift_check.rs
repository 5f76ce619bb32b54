//! Drift checks: a connection's catalogue read back (the same job as listing import, see
//! `catalogue_job.rs`) and compared with what Tally's rules give each listing; and the fix,
//! which reads the storefront's recent orders first when it shows fewer (a sale Tally has not
//! heard of must be counted, not overwritten) and then sends Tally's count.

use crate::catalogue_job;
use crate::error::ApiError;
use crate::polling;
use crate::store::catalogue_reads::{self, Purpose, ReadRow};
use crate::store::drift;
use crate::store::outbox::{self, Resync};
use std::collections::BTreeSet;
use tally_domain::api::DriftFixed;
use tally_domain::drift::{compare, DriftCause};
use tally_domain::storefront::StorefrontKind;
use tally_domain::{AccountId, ProductId};
use worker::{D1Database, Env};

/// Starts a drift check of the connection (or finds the one running).
pub async fn start(
    env: &Env,
    db: &D1Database,
    account: AccountId,
    storefront_id: i64,
    now: i64,
) -> Result<i64, ApiError> {
    let id = catalogue_reads::start(db, account, storefront_id, Purpose::Drift, now).await?;
    catalogue_job::continue_later(env, account, id).await;
    Ok(id)
}

/// Compares a fully read catalogue with the listings Tally is responsible for and records the
/// mismatches.
pub async fn compare_read(
    db: &D1Database,
    account: AccountId,
    read: &ReadRow,
    kind: StorefrontKind,
    now: i64,
) -> Result<(), ApiError> {
    let expected = drift::expected(db, account, read.storefront_id, read.created_at).await?;
    let items: Vec<_> = catalogue_reads::items(db, read.id)
        .await?
        .into_iter()
        .map(|(_, item)| item)
        .collect();
    let found = compare(&expected, &items, read_whole(read, kind));
    drift::record(db, account, read, &found, now).await?;
    catalogue_reads::prune(db, account, read.storefront_id, Purpose::Drift).await
}

/// Amazon's listing search stops at 1,000 results.
const AMAZON_SEARCH_LIMIT: i64 = 1_000;

/// Whether the read holds the whole catalogue, so a listing missing from it is gone: as many
/// items as the platform said it has, and not a search the platform cuts short.
fn read_whole(read: &ReadRow, kind: StorefrontKind) -> bool {
    match read.total {
        Some(total) if kind == StorefrontKind::Amazon && total >= AMAZON_SEARCH_LIMIT => false,
        // Shopify counts variants, the read counts variants at each location.
        Some(_) if kind == StorefrontKind::Shopify => true,
        Some(total) => read.items_read >= total,
        None => true,
    }
}

/// Fixes these open mismatches: reads the orders of connections showing fewer, then sends
/// Tally's count to every listing that a push can repair.
pub async fn fix(
    env: &Env,
    db: &D1Database,
    account: AccountId,
    listing_ids: &[i64],
    now: i64,
) -> Result<DriftFixed, ApiError> {
    let open = drift::fixable(db, account, listing_ids).await?;
    let lower: BTreeSet<i64> = open
        .iter()
        .filter(|(_, _, _, cause)| *cause == DriftCause::Lower)
        .map(|(_, _, storefront, _)| *storefront)
        .collect();
    // A storefront showing fewer may have sold what Tally has not heard of: its orders are read
    // first, and if they cannot be, its listings are left open rather than overwritten.
    let mut orders_found = 0;
    let mut unread: Vec<(i64, String)> = Vec::new();
    for storefront in lower {
        let report = polling::poll(env, account, storefront).await?;
        orders_found += report.applied.len() as u64;
        if let Some(trouble) = report.trouble {
            unread.push((storefront, trouble));
        }
    }
    let fixed: Vec<_> = open
        .into_iter()
        .filter(|(_, _, storefront, cause)| {
            *cause != DriftCause::Lower || !unread.iter().any(|(s, _)| s == storefront)
        })
        .collect();
    let products: BTreeSet<i64> = fixed.iter().map(|(_, product, _, _)| *product).collect();
    let products: Vec<ProductId> = products.into_iter().map(ProductId).collect();
    if !products.is_empty() {
        outbox::resync(env, db, account, Resync::Products(products), now).await?;
    }
    // Marked only once the pushes are queued, so a failure above leaves them open.
    let ids: Vec<i64> = fixed.iter().map(|(listing, _, _, _)| *listing).collect();
    drift::mark_fixed(db, account, &ids, now).await?;
    let pushed = fixed.len() as u64;
    let noun = if pushed == 1 { "listing" } else { "listings" };
    let mut message = if pushed == 0 {
        "Nothing open that a push can fix.".to_owned()
    } else {
        format!("Sending Tally's count to {pushed} {noun}; Sync history shows each result.")
    };
    if let Some((_, trouble)) = unread.first() {
        message.push_str(&format!(
            " Listings showing fewer on a storefront whose orders could not be read are left \
             open, so no sale is overwritten: {trouble}"
        ));
    }
    if orders_found > 0 {
        message = format!(
            "Found {orders_found} order{} Tally had not heard of and applied {} first. {message}",
            if orders_found == 1 { "" } else { "s" },
            if orders_found == 1 { "it" } else { "them" }
        );
    }
    Ok(DriftFixed {
        pushed,
        orders_found,
        message,
    })
}
