//! SQL, one module per table. Every statement is scoped by `account_id`.

pub mod bulk_jobs;
pub mod catalogue_reads;
pub mod drift;
pub mod filter;
pub mod freshness;
pub mod history;
pub mod inbox;
pub mod ledger;
pub mod listings;
pub mod orders;
pub mod outbox;
pub mod products;
pub mod resync_jobs;
pub mod rules;
pub mod selection;
pub mod storefronts;
pub mod throttles;
pub mod uploads;

use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::AccountId;
use worker::{D1PreparedStatement, D1Result};

/// Rows changed by a write, from D1's result metadata.
pub fn changes(result: &D1Result) -> Result<usize, ApiError> {
    Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0))
}

/// The id of the row a write inserted, when it inserted one.
pub fn inserted_id(result: &D1Result) -> Result<Option<i64>, ApiError> {
    if changes(result)? == 0 {
        return Ok(None);
    }
    Ok(result.meta()?.and_then(|m| m.last_row_id))
}

/// A `COUNT(*) AS n` row.
#[derive(serde::Deserialize)]
pub struct Count {
    pub n: u64,
}

/// The rows of a query over all accounts that selects `account_id, id` (the cron's stalled
/// and due work), as (account, id).
pub async fn account_ids(query: D1PreparedStatement) -> Result<Vec<(AccountId, i64)>, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        account_id: i64,
        id: i64,
    }
    Ok(query
        .all()
        .await?
        .results::<Row>()?
        .into_iter()
        .map(|r| (AccountId(r.account_id), r.id))
        .collect())
}
