//! Writes over a seller's selection of products (at most 250), each in one D1 batch.

use super::changes;
use super::outbox::{self, Queued};
use crate::db::{flag, int, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::selection::Selection;
use tally_domain::sync::SyncTrigger;
use tally_domain::{AccountId, ProductId};
use wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement};

/// Ids per statement: D1 binds at most 100 parameters, and each statement also binds a few.
const IDS_PER_STATEMENT: usize = 90;

/// `?N, ?N+1, …` placeholders for `count` ids starting at parameter `first`.
fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn with_ids(mut params: Vec<JsValue>, ids: &[ProductId]) -> Vec<JsValue> {
    params.extend(ids.iter().map(|id| int(id.0)));
    params
}

/// The selected ids that are not products of the account (so the caller gets a 404 and nothing
/// is written).
pub async fn missing(
    db: &D1Database,
    account: AccountId,
    selection: &Selection,
) -> Result<Vec<ProductId>, ApiError> {
    #[derive(Deserialize)]
    struct Id {
        id: i64,
    }
    let statements = selection
        .chunks(IDS_PER_STATEMENT)
        .map(|ids| {
            db.prepare(format!(
                "SELECT id FROM products WHERE account_id = ?1 AND archived_at IS NULL AND id IN ({})",
                placeholders(2, ids.len())
            ))
            .bind(&with_ids(vec![int(account.0)], ids))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut found = Vec::new();
    for result in db.batch(statements).await? {
        found.extend(result.results::<Id>()?.into_iter().map(|r| r.id));
    }
    Ok(selection
        .ids()
        .iter()
        .filter(|id| !found.contains(&id.0))
        .copied()
        .collect())
}

fn set_flag_statements(
    db: &D1Database,
    account: AccountId,
    selection: &Selection,
    on: bool,
    now: i64,
) -> Result<Vec<D1PreparedStatement>, ApiError> {
    Ok(selection
        .chunks(IDS_PER_STATEMENT)
        .map(|ids| {
            db.prepare(format!(
                "UPDATE products SET auto_sync = ?1, updated_at = ?2 WHERE account_id = ?3 AND id IN ({})",
                placeholders(4, ids.len())
            ))
            .bind(&with_ids(vec![flag(on), int(now), int(account.0)], ids))
        })
        .collect::<Result<Vec<_>, _>>()?)
}

/// Turns Auto Sync on or off for every selected product, atomically. Returns rows changed.
pub async fn set_auto_sync(
    db: &D1Database,
    account: AccountId,
    selection: &Selection,
    on: bool,
    now: i64,
) -> Result<u64, ApiError> {
    let results = db
        .batch(set_flag_statements(db, account, selection, on, now)?)
        .await?;
    let mut total = 0;
    for r in &results {
        total += changes(r)? as u64;
    }
    Ok(total)
}

/// Sync Now in one batch: Auto Sync on for every selected product, and a forced outbox entry
/// for each at its current version. Returns the entries to send.
pub async fn sync_now(
    db: &D1Database,
    account: AccountId,
    selection: &Selection,
    now: i64,
) -> Result<Vec<Queued>, ApiError> {
    // The batch is one transaction: every outbox id above this mark is one of ours.
    let mut statements = vec![outbox::mark(db)];
    statements.extend(set_flag_statements(db, account, selection, true, now)?);
    for ids in selection.chunks(IDS_PER_STATEMENT) {
        statements.push(
            db.prepare(format!(
                "INSERT INTO sync_outbox (account_id, product_id, version, trigger, created_at, updated_at) \
                 SELECT account_id, id, version, ?1, ?2, ?2 FROM products \
                 WHERE account_id = ?3 AND id IN ({})",
                placeholders(4, ids.len())
            ))
            .bind(&with_ids(
                vec![text(SyncTrigger::SyncNow.as_str()), int(now), int(account.0)],
                ids,
            ))?,
        );
    }
    let results = db.batch(statements).await?;
    let mark = outbox::mark_value(&results[0])?;
    outbox::queued_since(db, account, SyncTrigger::SyncNow, mark, now).await
}
