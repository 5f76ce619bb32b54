//! SQL, one module per table. Every statement is scoped by `account_id`.

pub mod bulk_jobs;
pub mod filter;
pub mod history;
pub mod inbox;
pub mod ledger;
pub mod listings;
pub mod orders;
pub mod outbox;
pub mod products;
pub mod rules;
pub mod selection;
pub mod storefronts;
pub mod uploads;

use crate::error::ApiError;
use worker::D1Result;

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
