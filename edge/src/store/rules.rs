//! The `auto_sync_rules` table.

use crate::db::{flag, int, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::rules::{AutoSyncRules, Rule};
use tally_domain::AccountId;
use worker::D1Database;

#[derive(Deserialize)]
struct RuleRow {
    created_via: String,
    auto_sync: i64,
}

/// The account's rules (every method; missing ones off).
pub async fn load(db: &D1Database, account: AccountId) -> Result<AutoSyncRules, ApiError> {
    let rows = db
        .prepare("SELECT created_via, auto_sync FROM auto_sync_rules WHERE account_id = ?1")
        .bind(&[int(account.0)])?
        .all()
        .await?
        .results::<RuleRow>()?;
    let stored: Vec<Rule> = rows
        .into_iter()
        .filter_map(|r| {
            Some(Rule {
                created_via: r.created_via.parse().ok()?,
                auto_sync: r.auto_sync == 1,
            })
        })
        .collect();
    Ok(AutoSyncRules::from_stored(&stored))
}

/// Stores the given rules in one batch.
pub async fn save(
    db: &D1Database,
    account: AccountId,
    rules: &[Rule],
    now: i64,
) -> Result<(), ApiError> {
    let statements = rules
        .iter()
        .map(|r| {
            db.prepare(
                "INSERT INTO auto_sync_rules (account_id, created_via, auto_sync, updated_at) \
                 VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (account_id, created_via) DO UPDATE SET auto_sync = ?3, updated_at = ?4",
            )
            .bind(&[int(account.0), text(r.created_via.as_str()), flag(r.auto_sync), int(now)])
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !statements.is_empty() {
        db.batch(statements).await?;
    }
    Ok(())
}
