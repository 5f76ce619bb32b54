//! The `throttles` table: attempts per key in fixed windows (`domain::throttle`). Not scoped by
//! account: its keys are network addresses and emails, before anyone is signed in.

use crate::db::{int, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::throttle::{Limit, Wait};
use worker::D1Database;

#[derive(Deserialize)]
struct Window {
    window_start: i64,
    count: u32,
}

/// Counts an attempt by `who` under `limit` (one atomic upsert: concurrent attempts each
/// count); whether it may go ahead.
pub async fn take(
    db: &D1Database,
    limit: &Limit,
    who: &str,
    now: i64,
) -> Result<Result<(), Wait>, ApiError> {
    let window: Option<Window> = db
        .prepare(
            "INSERT INTO throttles (key, window_start, count) VALUES (?1, ?2, 1) \
             ON CONFLICT (key) DO UPDATE SET \
               count = CASE WHEN throttles.window_start + ?3 <= ?2 THEN 1 \
                            ELSE throttles.count + 1 END, \
               window_start = CASE WHEN throttles.window_start + ?3 <= ?2 THEN ?2 \
                                   ELSE throttles.window_start END \
             RETURNING window_start, count",
        )
        .bind(&[text(&limit.key(who)), int(now), int(limit.window_ms)])?
        .first(None)
        .await?;
    let window = window.ok_or_else(|| ApiError::Internal("the attempt was not counted".into()))?;
    Ok(limit.verdict(window.window_start, window.count, now))
}

/// Forgets `who`'s count under `limit` (the right password clears the tries before it).
pub async fn clear(db: &D1Database, limit: &Limit, who: &str) -> Result<(), ApiError> {
    db.prepare("DELETE FROM throttles WHERE key = ?1")
        .bind(&[text(&limit.key(who))])?
        .run()
        .await?;
    Ok(())
}

/// Drops windows that ended more than a day ago, so the table holds only recent keys.
pub async fn prune(db: &D1Database, now: i64) -> Result<(), ApiError> {
    db.prepare("DELETE FROM throttles WHERE window_start < ?1")
        .bind(&[int(now - 86_400_000)])?
        .run()
        .await?;
    Ok(())
}
