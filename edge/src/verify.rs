//! Reading back an update a storefront accepted only for processing. Amazon answers a quantity
//! update `ACCEPTED`, which means accepted for processing: it can still refuse it minutes
//! later, in the listing's issues. The engine marks such a listing to be read back
//! (`listings.verify_after`); the cron claims those that are due and sends one queue message
//! each, handled here. A refusal turns the listing's last *Succeeded* history row into a
//! failure with Amazon's words and what to do, so the seller never trusts a number that did
//! not land; a read that does not tell is asked again later.

use crate::bindings::DB;
use crate::clock::now_ms;
use crate::connection;
use crate::error::ApiError;
use crate::store::history::{self, RefusedLater};
use crate::store::listings;
use crate::storefront_http;
use tally_domain::connector::{self, Failure, Push, Verified};
use tally_domain::retry;
use tally_domain::AccountId;
use worker::Env;

/// How long one read may take.
const TIMEOUT_MS: u64 = 10_000;

/// When a read did not tell, the next one is this much later.
const AGAIN_AFTER_MS: i64 = 5 * 60_000;

/// Reads listing `listing_id` of `account` back now. `Err` only for a database failure (the
/// queue retries).
pub async fn listing(env: &Env, account: AccountId, listing_id: i64) -> Result<(), ApiError> {
    let db = env.d1(DB)?;
    let Some(row) = listings::find(&db, account, listing_id).await? else {
        return Ok(()); // Unlinked since it was pushed.
    };
    let kind = row.kind()?;
    let Some(sent) = row.pushed_quantity else {
        return Ok(()); // Nothing stands to be checked.
    };
    // No token now (a renewal that failed, a timeout): the read waits for a later run.
    let Ok(target) = connection::target(env, &row, TIMEOUT_MS).await else {
        return listings::verify_later(&db, account, listing_id, later()).await;
    };
    let push = Push {
        listing_id,
        version: row.version,
        quantity: sent,
        external_id: row.external_id.clone(),
        external_sub_id: row.external_sub_id.clone(),
        expected_current: None,
        key_round: row.push_key_round,
        manage_stock: row.manage_stock == 1,
        held: 0,
    };
    let Some(request) = connector::build_verify(&target, &push) else {
        return Ok(());
    };
    let verdict = match storefront_http::send(&request, TIMEOUT_MS).await {
        Ok(response) => connector::parse_verify(&target, &response),
        Err(message) => Verified::Unknown(message),
    };
    match verdict {
        Verified::Accepted => Ok(()),
        Verified::Unknown(_) => listings::verify_later(&db, account, listing_id, later()).await,
        Verified::Refused(said) => {
            let failure = Failure::Validation {
                message: format!(
                    "{} accepted the quantity {sent} for processing, then refused it: {said}",
                    kind.label()
                ),
            };
            let (cause, fix) = retry::advice(kind, &failure);
            let failure_json = serde_json::to_string(&failure).unwrap_or_default();
            let answer: String = said.chars().take(200).collect();
            let refused = RefusedLater {
                message: &cause,
                action: &fix,
                answer: &answer,
                failure: &failure_json,
            };
            db.batch(vec![
                history::refused_later(&db, account, listing_id, &refused)?,
                listings::not_pushed(&db, account, listing_id)?,
            ])
            .await?;
            Ok(())
        }
    }
}

fn later() -> i64 {
    now_ms() + AGAIN_AFTER_MS
}
