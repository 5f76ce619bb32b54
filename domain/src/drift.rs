//! Drift: a storefront showing another quantity than Tally's rules give its listing. Tally
//! reads each connection's catalogue back (hourly, or when the seller asks), compares, and
//! names the likely cause, so the seller sees it before a customer does.
//!
//! Only listings Tally is responsible for are compared: active ones of Auto Sync products,
//! with no push on its way (a pending push is not drift, it is the fix arriving).

use crate::connector::catalogue::CatalogueItem;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Why a storefront's count differs, as far as Tally can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftCause {
    /// Fewer there than Tally gives it: most often a sale Tally has not heard of yet.
    Lower,
    /// More there: changed on the storefront since Tally's last push (an edit there).
    Higher,
    /// Not in the catalogue any more: deleted there, or its ids changed.
    Gone,
    /// The storefront does not count this item's stock.
    NotCounted,
}

impl DriftCause {
    pub const ALL: [DriftCause; 4] = [
        DriftCause::Lower,
        DriftCause::Higher,
        DriftCause::Gone,
        DriftCause::NotCounted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DriftCause::Lower => "lower",
            DriftCause::Higher => "higher",
            DriftCause::Gone => "gone",
            DriftCause::NotCounted => "not_counted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// The likely cause and what fixing does, in a seller's words.
    pub fn explain(self, platform: &str) -> String {
        match self {
            DriftCause::Lower => format!(
                "{platform} shows fewer: most likely a sale Tally has not heard of yet. Fix \
                 reads {platform}'s recent orders first, then sends Tally's count."
            ),
            DriftCause::Higher => format!(
                "{platform} shows more: changed on {platform} since Tally's last push (an edit \
                 there). Fix sends Tally's count."
            ),
            DriftCause::Gone => format!(
                "Not on {platform} any more: deleted there, or its ids changed. Link the item \
                 again from the product's page, or pause the listing."
            ),
            DriftCause::NotCounted => format!(
                "{platform} does not count this item's stock: turn stock tracking on there, \
                 then fix."
            ),
        }
    }

    /// Whether a push can repair it (a gone listing, or one whose stock the storefront does
    /// not count, needs the seller first).
    pub fn fixable(self) -> bool {
        matches!(self, DriftCause::Lower | DriftCause::Higher)
    }
}

/// A listing Tally is responsible for, with the quantity its rules give it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub listing_id: i64,
    pub external_id: String,
    pub external_sub_id: Option<String>,
    pub quantity: i64,
}

/// One listing whose storefront count is not Tally's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub listing_id: i64,
    pub expected: i64,
    /// What the storefront shows; `None` when it is gone or not counted.
    pub found: Option<i64>,
    pub cause: DriftCause,
}

/// Compares the listings with the catalogue read back: the mismatches, in listing order.
///
/// `complete` says the read holds the whole catalogue (a platform that lists only so many
/// items, as Amazon's search does past 1,000, gives an incomplete one): only then is a listing
/// missing from it *gone*. A listing is matched by both its ids; one the catalogue lists
/// without a sub id (an eBay SKU, whose offers it does not read) matches by its own id; one
/// whose item is listed at other sub ids only (a Shopify location past the five read, a
/// BigCommerce location other than the default) was not read, and is left out.
pub fn compare(listings: &[Expected], catalogue: &[CatalogueItem], complete: bool) -> Vec<Drift> {
    let by_ids: HashMap<(&str, &str), &CatalogueItem> = catalogue
        .iter()
        .map(|item| {
            let sub = item.external_sub_id.as_deref().unwrap_or("");
            ((item.external_id.as_str(), sub), item)
        })
        .collect();
    let listed: std::collections::HashSet<&str> =
        catalogue.iter().map(|i| i.external_id.as_str()).collect();
    listings
        .iter()
        .filter_map(|listing| {
            let id = listing.external_id.as_str();
            let key = (id, listing.external_sub_id.as_deref().unwrap_or(""));
            let item = by_ids.get(&key).or_else(|| by_ids.get(&(id, "")));
            let (found, cause) = match item {
                None if listed.contains(id) || !complete => return None,
                None => (None, DriftCause::Gone),
                Some(item) if item.not_settable.is_some() => (None, DriftCause::NotCounted),
                Some(item) => match item.quantity {
                    None => (None, DriftCause::NotCounted),
                    Some(q) if q == listing.quantity => return None,
                    Some(q) if q < listing.quantity => (Some(q), DriftCause::Lower),
                    Some(q) => (Some(q), DriftCause::Higher),
                },
            };
            Some(Drift {
                listing_id: listing.listing_id,
                expected: listing.quantity,
                found,
                cause,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(id: i64, ext: &str, sub: Option<&str>, quantity: i64) -> Expected {
        Expected {
            listing_id: id,
            external_id: ext.into(),
            external_sub_id: sub.map(str::to_owned),
            quantity,
        }
    }

    fn item(ext: &str, sub: Option<&str>, quantity: Option<i64>) -> CatalogueItem {
        CatalogueItem {
            external_id: ext.into(),
            external_sub_id: sub.map(str::to_owned),
            sku: String::new(),
            title: String::new(),
            quantity,
            not_settable: None,
            group: None,
        }
    }

    #[test]
    fn matching_counts_are_not_drift_and_each_mismatch_gets_its_cause() {
        let listings = [
            listing(1, "11", Some("5"), 4),
            listing(2, "12", Some("5"), 4),
            listing(3, "13", Some("5"), 4),
            listing(4, "14", Some("5"), 4),
            listing(5, "15", Some("5"), 4),
        ];
        let catalogue = [
            item("11", Some("5"), Some(4)),
            item("12", Some("5"), Some(1)),
            item("13", Some("5"), Some(9)),
            item("15", Some("5"), None),
            item("14", Some("6"), Some(4)),
        ];
        let drift = compare(&listings, &catalogue, true);
        let got: Vec<(i64, Option<i64>, DriftCause)> = drift
            .iter()
            .map(|d| (d.listing_id, d.found, d.cause))
            .collect();
        assert_eq!(
            got,
            [
                (2, Some(1), DriftCause::Lower),
                (3, Some(9), DriftCause::Higher),
                // Item 14 is listed at another location only: not read, so not drift.
                (5, None, DriftCause::NotCounted),
            ]
        );
        assert!(drift.iter().all(|d| d.expected == 4));
    }

    #[test]
    fn listings_without_a_sub_id_match_items_without_one() {
        let drift = compare(
            &[listing(1, "MUG", None, 3)],
            &[item("MUG", None, Some(3))],
            true,
        );
        assert!(drift.is_empty());
    }

    #[test]
    fn a_listing_is_gone_only_when_the_whole_catalogue_was_read() {
        let listings = [listing(1, "OLD", None, 3)];
        let read = [item("NEW", None, Some(3))];
        assert_eq!(compare(&listings, &read, true)[0].cause, DriftCause::Gone);
        assert!(compare(&listings, &read, false).is_empty());
    }

    #[test]
    fn an_offer_listing_matches_its_sku_and_untracked_items_are_not_counted() {
        // eBay: the listing names an offer; the catalogue lists the SKU.
        let listings = [
            listing(1, "MUG", Some("555"), 3),
            listing(2, "FBA", None, 3),
        ];
        let mut fba = item("FBA", None, Some(9));
        fba.not_settable = Some("Fulfilled by Amazon".into());
        let drift = compare(&listings, &[item("MUG", None, Some(1)), fba], true);
        assert_eq!(drift[0].cause, DriftCause::Lower);
        assert_eq!(drift[1].cause, DriftCause::NotCounted);
        assert!(!DriftCause::NotCounted.fixable());
    }

    #[test]
    fn causes_say_what_fixing_does() {
        assert!(DriftCause::Lower
            .explain("Shopify")
            .contains("reads Shopify's recent orders first"));
        assert!(DriftCause::Higher.explain("eBay").contains("edit"));
        assert!(!DriftCause::Gone.fixable());
        for cause in DriftCause::ALL {
            assert_eq!(DriftCause::parse(cause.as_str()), Some(cause));
        }
    }
}
