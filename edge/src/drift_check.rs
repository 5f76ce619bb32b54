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
    now: i64,
) -> Result<(), ApiError> {
    let expected = drift::expected(db, account, read.storefront_id, read.created_at).await?;
    let items: Vec<_> = catalogue_reads::items(db, read.id)
        .await?
        .into_iter()
        .map(|(_, item)| item)
        .collect();
    let found = compare(&expected, &items);
    drift::record(db, account, read, &found, now).await?;
    Ok(())
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
    let fixed = drift::mark_fixed(db, account, listing_ids, now).await?;
    let lower: BTreeSet<i64> = fixed
        .iter()
        .filter(|(_, _, _, cause)| *cause == DriftCause::Lower)
        .map(|(_, _, storefront, _)| *storefront)
        .collect();
    let mut orders_found = 0;
    for storefront in lower {
        orders_found += polling::poll(env, account, storefront).await?.applied.len() as u64;
    }
    let products: BTreeSet<i64> = fixed.iter().map(|(_, product, _, _)| *product).collect();
    let products: Vec<ProductId> = products.into_iter().map(ProductId).collect();
    if !products.is_empty() {
        outbox::resync(env, db, account, Resync::Products(products), now).await?;
    }
    let pushed = fixed.len() as u64;
    let noun = if pushed == 1 { "listing" } else { "listings" };
    let mut message = if pushed == 0 {
        "Nothing open that a push can fix.".to_owned()
    } else {
        format!("Sending Tally's count to {pushed} {noun}; Sync history shows each result.")
    };
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
