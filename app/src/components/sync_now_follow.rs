//! Follows Sync Now's pushes to the end, so its toast says what happened ("12 products pushed
//! to 20 listings; 1 failed") and not only what was asked ("pushing 13").

use crate::api;
use crate::components::toast::{Toaster, Tone};
use crate::reactive::pause;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;
use tally_domain::api::{BulkResult, PushProgress};
use tally_domain::selection::sync_now_report;
use tally_domain::ProductId;

/// How often the pushes are asked after, and how many times (about a minute and a half, each
/// ask adding its own round trip) before the toast hands over to the history: a storefront
/// that is down keeps its pushes retrying for minutes.
const EVERY: Duration = Duration::from_secs(1);
const PATIENCE: u32 = 90;

/// A link the toast ends with: its words and where it goes.
type Link = Option<(&'static str, String)>;

/// Shows Sync Now's answer for `ids`, then follows its pushes until every product has its
/// outcome, updating the toast's bar; `landed` runs at the end (to redraw what they changed).
pub fn follow(result: BulkResult, ids: Vec<ProductId>, toaster: Toaster, landed: Callback<()>) {
    let with_listings = result.updated - result.without_listings.min(result.updated);
    if result.pushes.is_empty() || with_listings == 0 {
        toaster.show(Tone::Success, result.message);
        landed.run(());
        return;
    }
    let toast = toaster.follow(result.message.clone(), result.updated);
    spawn_local(async move {
        let mut last: Option<PushProgress> = None;
        for _ in 0..PATIENCE {
            pause(EVERY).await;
            // A lost answer is asked again next time: the pushes go on regardless.
            let Ok(progress) = api::push_progress(&result.pushes).await else {
                continue;
            };
            last = Some(progress);
            if progress.finished() {
                let (tone, link) = ending(&progress, &ids, None);
                toast.finish(tone, sync_now_report(&result, Some(&progress), false), link);
                landed.run(());
                return;
            }
            let report = sync_now_report(&result, Some(&progress), false);
            if !toast.update(report, progress.settled(), progress.products) {
                // Dismissed, or another toast took its place: the pushes go on unwatched.
                landed.run(());
                return;
            }
        }
        let history = Some(("Sync history", "/history".to_owned()));
        let (tone, link) = match &last {
            Some(progress) => ending(progress, &ids, history),
            None => (Tone::Success, history),
        };
        toast.finish(tone, sync_now_report(&result, last.as_ref(), true), link);
        landed.run(());
    });
}

/// How the toast ends: a failure is critical and links to what failed; otherwise `link`.
fn ending(progress: &PushProgress, ids: &[ProductId], link: Link) -> (Tone, Link) {
    match progress.products_failed {
        0 => (Tone::Success, link),
        _ => (
            Tone::Critical,
            Some(("See what failed", failed_history(ids))),
        ),
    }
}

/// The history of what failed: the one product's pushes, or every failed push.
fn failed_history(ids: &[ProductId]) -> String {
    match ids {
        [one] => format!("/history?product_id={}", one.0),
        _ => "/history?status=failed".to_owned(),
    }
}
