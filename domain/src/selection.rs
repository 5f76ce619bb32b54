//! A seller's selection of products for a bulk action: at most one page of 250.

use crate::api::{BulkResult, PushProgress};
use crate::product::ProductId;
use serde::{Deserialize, Serialize};

/// The most products one bulk request (selected rows, Sync Now) takes: one page of 250.
pub const MAX_SELECTED: usize = 250;

/// Why a selection was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectionError {
    #[error("select at least one product")]
    Empty,
    #[error("{0} products were selected; select at most {MAX_SELECTED} at a time (one page of 250), or use \"for all in filter\"")]
    TooMany(usize),
    #[error("product ids are positive whole numbers; {0} is not one")]
    BadId(i64),
}

/// A checked selection: 1 to 250 distinct product ids, in the order given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Selection(Vec<ProductId>);

impl Selection {
    /// Checks ids as they arrive; repeats count once.
    pub fn new(ids: &[i64]) -> Result<Self, SelectionError> {
        if let Some(bad) = ids.iter().find(|id| **id <= 0) {
            return Err(SelectionError::BadId(*bad));
        }
        let mut unique: Vec<ProductId> = Vec::with_capacity(ids.len());
        for id in ids {
            if !unique.iter().any(|p| p.0 == *id) {
                unique.push(ProductId(*id));
            }
        }
        match unique.len() {
            0 => Err(SelectionError::Empty),
            n if n > MAX_SELECTED => Err(SelectionError::TooMany(n)),
            _ => Ok(Self(unique)),
        }
    }

    /// The ids.
    pub fn ids(&self) -> &[ProductId] {
        &self.0
    }

    /// The ids in groups of at most `size` (D1 binds at most 100 parameters per statement).
    pub fn chunks(&self, size: usize) -> impl Iterator<Item = &[ProductId]> {
        self.0.chunks(size)
    }
}

impl<'de> Deserialize<'de> for Selection {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let ids = Vec::<i64>::deserialize(d)?;
        Selection::new(&ids).map_err(serde::de::Error::custom)
    }
}

/// What Sync Now did, in the seller's words: how many products are on their way to their
/// listings, how many had none (so nothing was sent for them), and that Auto Sync is now on.
pub fn sync_now_summary(r: &BulkResult) -> String {
    let n = r.updated;
    let without = r.without_listings.min(n);
    let pushing = n - without;
    if n == 1 {
        let sent = if pushing == 1 {
            "pushing it to its listings now"
        } else {
            "it has no listing yet, so nothing was pushed (link one on its page)"
        };
        return format!(
            "Sync Now: {sent}. Auto Sync is now on for it; Sync history shows each push."
        );
    }
    let sent = if pushing == 0 {
        format!(
            "none of these {} has a listing yet, so nothing was pushed (link listings on each \
             product's page)",
            products(n)
        )
    } else if without == 0 {
        format!("pushing {} to their listings now", products(pushing))
    } else {
        format!(
            "pushing {} to their listings now; {without} with no listing yet got nothing",
            products(pushing)
        )
    };
    format!("Sync Now: {sent}. Auto Sync is now on for all {n}; Sync history shows each push.")
}

/// Sync Now's account as its pushes land (`progress`, from `GET /api/v1/pushes/progress`):
/// how many are pushed so far; once all have settled, how many were pushed, failed or had no
/// listing; and, when the app stops following (`gave_up`) before then, how many still wait.
/// `None`: no answer came at all (offline, signed out), so only what was asked can be said.
pub fn sync_now_report(r: &BulkResult, p: Option<&PushProgress>, gave_up: bool) -> String {
    match p {
        Some(p) if p.finished() => finished_report(r, p),
        Some(p) if gave_up => waiting_report(r, p),
        Some(p) => landing_report(r, p),
        None if gave_up => format!(
            "{} Tally could not follow the pushes from this page; Sync history has each one.",
            sync_now_summary(r)
        ),
        None => sync_now_summary(r),
    }
}

/// While pushes land: "Sync Now: 5 of 12 products pushed so far (1 failed)…".
fn landing_report(r: &BulkResult, p: &PushProgress) -> String {
    if r.updated == 1 {
        return "Sync Now: pushing it to its listings…".to_owned();
    }
    format!(
        "Sync Now: {} of {} pushed so far{}…",
        p.products_pushed,
        products(with_listings(r)),
        failed_so_far(p)
    )
}

/// When the app stops following before every push has settled (a storefront retrying).
fn waiting_report(r: &BulkResult, p: &PushProgress) -> String {
    let waiting = p.products - p.settled();
    if r.updated == 1 {
        return "Sync Now: its push is still waiting on a storefront (Sync history follows it). \
                Auto Sync is now on for it."
            .to_owned();
    }
    format!(
        "Sync Now: {} of {} pushed so far{}; {waiting} still waiting on their storefronts (Sync \
         history follows them). Auto Sync is now on for all {}.",
        p.products_pushed,
        products(with_listings(r)),
        failed_so_far(p),
        r.updated
    )
}

/// Once every push has settled: what happened to each product.
fn finished_report(r: &BulkResult, p: &PushProgress) -> String {
    // A product Sync Now saw with a listing whose push has no rows of its own was taken over
    // by a newer change to it, which pushed the newer quantity.
    let without = p.products_without_listings.min(r.without_listings);
    let taken_over = p.products_without_listings - without;
    if r.updated == 1 {
        let sent = match (p.products_pushed, p.products_failed, taken_over) {
            (1, _, _) => format!("pushed to its {}", listings(p.listings_pushed)),
            (_, 1, _) => "its push failed (Sync history says why)".to_owned(),
            (_, _, 1) => "a newer change to it pushed its quantity".to_owned(),
            _ => return sync_now_summary(r),
        };
        return format!("Sync Now: {sent}. Auto Sync is now on for it.");
    }
    let mut parts = Vec::new();
    if p.products_pushed > 0 {
        parts.push(format!(
            "{} pushed to {}",
            products(p.products_pushed),
            listings(p.listings_pushed)
        ));
    }
    if taken_over > 0 {
        parts.push(format!("{taken_over} pushed with a newer change"));
    }
    if p.products_failed > 0 {
        let on = match p.listings_failed {
            0 => String::new(),
            n => format!(" on {}", listings(n)),
        };
        parts.push(format!(
            "{} failed{on} (Sync history says why)",
            p.products_failed
        ));
    }
    if without > 0 {
        parts.push(format!("{without} with no listing yet got nothing"));
    }
    format!(
        "Sync Now: {}. Auto Sync is now on for all {}.",
        parts.join("; "),
        r.updated
    )
}

/// The products Sync Now found with a listing a push reaches.
fn with_listings(r: &BulkResult) -> u64 {
    r.updated - r.without_listings.min(r.updated)
}

fn failed_so_far(p: &PushProgress) -> String {
    match p.products_failed {
        0 => String::new(),
        f => format!(" ({f} failed)"),
    }
}

fn listings(n: u64) -> String {
    if n == 1 {
        "1 listing".to_owned()
    } else {
        format!("{n} listings")
    }
}

fn products(n: u64) -> String {
    if n == 1 {
        "1 product".to_owned()
    } else {
        format!("{n} products")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sync_now_says_how_many_were_pushed_and_how_many_had_no_listing() {
        let result = |updated, without_listings| crate::api::BulkResult {
            updated,
            queued: updated,
            without_listings,
            message: String::new(),
            pushes: Vec::new(),
        };
        assert_eq!(
            sync_now_summary(&result(160, 148)),
            "Sync Now: pushing 12 products to their listings now; 148 with no listing yet got \
             nothing. Auto Sync is now on for all 160; Sync history shows each push."
        );
        let one = sync_now_summary(&result(1, 0));
        assert!(
            one.starts_with("Sync Now: pushing it to its listings now"),
            "{one}"
        );
        let lone = sync_now_summary(&result(1, 1));
        assert!(lone.contains("it has no listing yet"), "{lone}");
        let all = sync_now_summary(&result(2, 0));
        assert!(all.starts_with("Sync Now: pushing 2 products to"), "{all}");
        let none = sync_now_summary(&result(3, 3));
        assert!(
            none.contains("none of these 3 products has a listing yet"),
            "{none}"
        );
    }

    use super::*;
    use crate::api::PushOutcome;

    fn bulk(updated: u64, without_listings: u64) -> BulkResult {
        BulkResult {
            updated,
            queued: updated,
            without_listings,
            message: String::new(),
            pushes: Vec::new(),
        }
    }

    fn outcome(settled: bool, pushed: u64, failed: u64) -> PushOutcome {
        PushOutcome {
            settled,
            gave_up: false,
            listings_pushed: pushed,
            listings_failed: failed,
        }
    }

    #[test]
    fn sync_now_reports_pushes_as_they_land_and_what_happened_once_all_have() {
        let r = bulk(4, 1);
        let landing = PushProgress::of(&[
            outcome(true, 2, 0),
            outcome(false, 1, 0),
            outcome(false, 0, 0),
            outcome(true, 0, 0),
        ]);
        assert_eq!(
            sync_now_report(&r, Some(&landing), false),
            "Sync Now: 1 of 3 products pushed so far…"
        );
        assert_eq!(
            sync_now_report(&r, Some(&landing), true),
            "Sync Now: 1 of 3 products pushed so far; 2 still waiting on their storefronts \
             (Sync history follows them). Auto Sync is now on for all 4."
        );
        let done = PushProgress::of(&[
            outcome(true, 2, 0),
            outcome(true, 1, 0),
            outcome(true, 1, 2),
            outcome(true, 0, 0),
        ]);
        assert!(done.finished());
        assert_eq!(
            sync_now_report(&r, Some(&done), false),
            "Sync Now: 2 products pushed to 3 listings; 1 failed on 2 listings (Sync history \
             says why); 1 with no listing yet got nothing. Auto Sync is now on for all 4."
        );
    }

    #[test]
    fn a_push_taken_over_by_a_newer_change_or_given_up_on_is_said_so() {
        // Sync Now saw all three with a listing: the one with no rows was taken over.
        let r = bulk(3, 0);
        let given_up = PushOutcome {
            gave_up: true,
            ..outcome(true, 0, 0)
        };
        let done = PushProgress::of(&[outcome(true, 1, 0), outcome(true, 0, 0), given_up]);
        assert_eq!(
            sync_now_report(&r, Some(&done), false),
            "Sync Now: 1 product pushed to 1 listing; 1 pushed with a newer change; 1 failed \
             (Sync history says why). Auto Sync is now on for all 3."
        );
    }

    #[test]
    fn without_any_answer_only_what_was_asked_is_said() {
        let r = BulkResult {
            message: String::new(),
            ..bulk(3, 0)
        };
        let never = sync_now_report(&r, None, true);
        assert!(never.starts_with("Sync Now: pushing 3 products"), "{never}");
        assert!(never.contains("could not follow the pushes"), "{never}");
        let nothing = PushProgress::of(&[]);
        assert!(!nothing.finished());
        assert!(sync_now_report(&r, Some(&nothing), false).contains("pushed so far"));
    }

    #[test]
    fn sync_now_of_one_product_speaks_of_its_listings() {
        let one = bulk(1, 0);
        let report = |o: PushOutcome| sync_now_report(&one, Some(&PushProgress::of(&[o])), false);
        assert_eq!(
            report(outcome(true, 1, 0)),
            "Sync Now: pushed to its 1 listing. Auto Sync is now on for it."
        );
        assert_eq!(
            report(outcome(true, 1, 1)),
            "Sync Now: its push failed (Sync history says why). Auto Sync is now on for it."
        );
        assert!(report(outcome(true, 0, 0)).contains("a newer change to it pushed"));
        let lone = bulk(1, 1);
        let nothing = PushProgress::of(&[outcome(true, 0, 0)]);
        assert!(sync_now_report(&lone, Some(&nothing), false).contains("it has no listing yet"));
        let waiting = PushProgress::of(&[outcome(false, 0, 0)]);
        assert_eq!(
            sync_now_report(&one, Some(&waiting), false),
            "Sync Now: pushing it to its listings…"
        );
        assert!(
            sync_now_report(&one, Some(&waiting), true).contains("still waiting on a storefront")
        );
    }

    #[test]
    fn a_page_of_250_is_accepted_and_repeats_count_once() {
        let ids: Vec<i64> = (1..=250).chain([1, 2, 3]).collect();
        assert_eq!(Selection::new(&ids).unwrap().ids().len(), 250);
    }

    #[test]
    fn more_than_250_is_refused_with_the_count() {
        let ids: Vec<i64> = (1..=251).collect();
        let err = Selection::new(&ids).unwrap_err();
        assert_eq!(err, SelectionError::TooMany(251));
        assert!(err.to_string().contains("at most 250"));
    }

    #[test]
    fn empty_selections_and_bad_ids_are_refused() {
        assert_eq!(Selection::new(&[]), Err(SelectionError::Empty));
        assert_eq!(Selection::new(&[3, 0]), Err(SelectionError::BadId(0)));
        assert_eq!(Selection::new(&[-7]), Err(SelectionError::BadId(-7)));
    }

    #[test]
    fn chunks_keep_every_id_once() {
        let ids: Vec<i64> = (1..=250).collect();
        let selection = Selection::new(&ids).unwrap();
        let sizes: Vec<usize> = selection.chunks(90).map(<[ProductId]>::len).collect();
        assert_eq!(sizes, vec![90, 90, 70]);
    }

    #[test]
    fn selections_deserialize_with_the_same_checks() {
        let too_many = format!(
            "[{}]",
            (1..=300)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        let err = serde_json::from_str::<Selection>(&too_many).unwrap_err();
        assert!(err.to_string().contains("300 products were selected"));
    }
}
