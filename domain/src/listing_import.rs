//! Listing import: a storefront's catalogue matched to Tally by SKU, so a seller with
//! thousands of listings links them in one step instead of one by one.
//!
//! Every catalogue item gets one [`ImportClass`]. Applying links the matched and new ones
//! (all or none); the rest stay as they are, each with the reason shown in the preview.
//! Re-running an import later finds what is linked already and links only what is new.

use crate::connector::catalogue::CatalogueItem;
use crate::sku::Sku;
use crate::storefront::{ListingRef, StorefrontKind};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// What applying an import does with one storefront item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportClass {
    /// Its SKU is a Tally product: linked to it.
    Matched,
    /// Its SKU is new to Tally: a product is created (via listing import, at the
    /// storefront's quantity) and linked.
    New,
    /// Its SKU is on more than one item of the storefront, or its product is linked to
    /// another item there already: left for the seller to link by hand.
    Conflict,
    /// Linked already.
    Linked,
    /// Cannot be linked: no SKU, or Tally must not set it (the reason says which).
    Skipped,
}

impl ImportClass {
    pub const ALL: [ImportClass; 5] = [
        ImportClass::Matched,
        ImportClass::New,
        ImportClass::Conflict,
        ImportClass::Linked,
        ImportClass::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportClass::Matched => "matched",
            ImportClass::New => "new",
            ImportClass::Conflict => "conflict",
            ImportClass::Linked => "linked",
            ImportClass::Skipped => "skipped",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Whether applying links items of this class.
    pub fn links(self) -> bool {
        matches!(self, ImportClass::Matched | ImportClass::New)
    }
}

/// One item's class, with the reason a seller reads for those not linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub class: ImportClass,
    /// The SKU as Tally keeps it (trimmed), for matched and new items.
    pub sku: Option<Sku>,
    pub note: String,
}

/// What Tally knows that decides the classes, read from its database.
pub struct Known<'a> {
    /// Tally's products by SKU.
    pub products: &'a HashSet<String>,
    /// The storefront items linked already, as (external id, external sub id or "").
    pub linked_items: &'a HashSet<(String, String)>,
    /// SKUs of products that have a listing on this storefront already.
    pub linked_skus: &'a HashSet<String>,
}

/// Classifies every item of a catalogue read, in order.
pub fn classify(kind: StorefrontKind, items: &[CatalogueItem], known: &Known) -> Vec<Decision> {
    let platform = kind.label();
    let linked_ids: HashSet<&str> = known
        .linked_items
        .iter()
        .map(|(id, _)| id.as_str())
        .collect();
    let is_linked = |item: &CatalogueItem| is_linked(item, known, &linked_ids);
    // SKUs on more than one unlinked item of this storefront.
    let mut items_per_sku: HashMap<&str, usize> = HashMap::new();
    for item in items {
        if !is_linked(item) && item.not_settable.is_none() && !item.sku.trim().is_empty() {
            *items_per_sku.entry(item.sku.trim()).or_default() += 1;
        }
    }
    items
        .iter()
        .map(|item| decide(kind, platform, item, is_linked(item), known, &items_per_sku))
        .collect()
}

/// Whether the item is linked: by both ids, or, for an item the catalogue lists without a sub
/// id (an eBay SKU, whose listings may name one of its offers), by its own id.
fn is_linked(item: &CatalogueItem, known: &Known, linked_ids: &HashSet<&str>) -> bool {
    let key = (
        item.external_id.clone(),
        item.external_sub_id.clone().unwrap_or_default(),
    );
    known.linked_items.contains(&key)
        || (item.external_sub_id.is_none() && linked_ids.contains(item.external_id.as_str()))
}

fn decide(
    kind: StorefrontKind,
    platform: &str,
    item: &CatalogueItem,
    linked: bool,
    known: &Known,
    items_per_sku: &HashMap<&str, usize>,
) -> Decision {
    let skipped = |note: String| Decision {
        class: ImportClass::Skipped,
        sku: None,
        note,
    };
    if linked {
        return Decision {
            class: ImportClass::Linked,
            sku: None,
            note: "Linked already.".to_owned(),
        };
    }
    if let Some(reason) = &item.not_settable {
        return skipped(reason.clone());
    }
    if let Err(e) = ListingRef::parse(kind, &item.external_id, item.external_sub_id.as_deref()) {
        return skipped(format!("{platform} gave ids Tally cannot use: {e}"));
    }
    let sku = match Sku::parse(&item.sku) {
        Ok(sku) => sku,
        Err(crate::sku::SkuError::Empty) => {
            return skipped(format!(
                "No SKU on {platform}: give it one there and import again, or link it by hand \
                 from a product's page."
            ))
        }
        Err(e) => return skipped(format!("Its SKU cannot be used in Tally: {e}.")),
    };
    let conflict = |note: String| Decision {
        class: ImportClass::Conflict,
        sku: Some(sku.clone()),
        note,
    };
    let count = items_per_sku.get(sku.as_str()).copied().unwrap_or(0);
    if count > 1 {
        return conflict(format!(
            "SKU {sku} is on {count} items of this {platform} store (or one item at {count} \
             locations): link the one Tally should set by hand, so stock is not shown twice."
        ));
    }
    if known.linked_skus.contains(sku.as_str()) {
        return conflict(format!(
            "Product {sku} is linked to another item of this {platform} store already: unlink \
             that one first if this is the right item."
        ));
    }
    if known.products.contains(sku.as_str()) {
        Decision {
            class: ImportClass::Matched,
            note: format!("Links to your product {sku}; Tally's count is sent if Auto Sync is on."),
            sku: Some(sku),
        }
    } else {
        let quantity = item.quantity.unwrap_or(0).max(0);
        Decision {
            class: ImportClass::New,
            note: format!("New product {sku}, starting at {quantity} (the {platform} count)."),
            sku: Some(sku),
        }
    }
}

/// How many items of each class a read holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    pub matched: u64,
    pub new: u64,
    pub conflict: u64,
    pub linked: u64,
    pub skipped: u64,
}

impl ImportCounts {
    pub fn of(decisions: &[Decision]) -> Self {
        let mut counts = Self::default();
        for d in decisions {
            counts.add(d.class, 1);
        }
        counts
    }

    pub fn add(&mut self, class: ImportClass, n: u64) {
        match class {
            ImportClass::Matched => self.matched += n,
            ImportClass::New => self.new += n,
            ImportClass::Conflict => self.conflict += n,
            ImportClass::Linked => self.linked += n,
            ImportClass::Skipped => self.skipped += n,
        }
    }

    /// Items applying links.
    pub fn to_link(&self) -> u64 {
        self.matched + self.new
    }

    /// The outcome in a seller's words, e.g. "Linked 12 listings: 10 to your products, 2 new
    /// products.".
    pub fn applied_message(&self) -> String {
        let total = self.to_link();
        let mut parts = Vec::new();
        if self.matched > 0 {
            parts.push(format!("{} to your products", self.matched));
        }
        if self.new > 0 {
            parts.push(format!(
                "{} new product{}",
                self.new,
                if self.new == 1 { "" } else { "s" }
            ));
        }
        let noun = if total == 1 { "listing" } else { "listings" };
        if parts.is_empty() {
            format!("Nothing new to link ({} linked already).", self.linked)
        } else {
            format!("Linked {total} {noun}: {}.", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, sub: Option<&str>, sku: &str, quantity: i64) -> CatalogueItem {
        CatalogueItem {
            external_id: id.into(),
            external_sub_id: sub.map(str::to_owned),
            sku: sku.into(),
            title: format!("Item {id}"),
            quantity: Some(quantity),
            not_settable: None,
            group: None,
        }
    }

    fn set(items: &[&str]) -> HashSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn classes(kind: StorefrontKind, items: &[CatalogueItem], known: &Known) -> Vec<ImportClass> {
        classify(kind, items, known)
            .into_iter()
            .map(|d| d.class)
            .collect()
    }

    #[test]
    fn items_match_by_sku_and_the_rest_are_new() {
        let products = set(&["MUG"]);
        let none = HashSet::new();
        let no_skus = HashSet::new();
        let known = Known {
            products: &products,
            linked_items: &none,
            linked_skus: &no_skus,
        };
        let items = [item("1", None, "MUG", 3), item("2", None, " TEE ", 4)];
        let decisions = classify(StorefrontKind::Ebay, &items, &known);
        assert_eq!(decisions[0].class, ImportClass::Matched);
        assert_eq!(decisions[1].class, ImportClass::New);
        assert_eq!(decisions[1].sku.as_ref().unwrap().as_str(), "TEE");
        assert!(
            decisions[1].note.contains("starting at 4"),
            "{}",
            decisions[1].note
        );
    }

    #[test]
    fn one_sku_on_two_items_is_a_conflict_for_both() {
        let none = HashSet::new();
        let no_items = HashSet::new();
        let known = Known {
            products: &none,
            linked_items: &no_items,
            linked_skus: &none,
        };
        let items = [
            item("1", Some("5"), "MUG", 3),
            item("1", Some("6"), "MUG", 1),
            item("2", Some("5"), "TEE", 1),
        ];
        assert_eq!(
            classes(StorefrontKind::Shopify, &items, &known),
            [
                ImportClass::Conflict,
                ImportClass::Conflict,
                ImportClass::New
            ]
        );
    }

    #[test]
    fn rerunning_links_only_what_is_new() {
        let products = set(&["MUG"]);
        let linked: HashSet<(String, String)> = [("1".to_owned(), String::new())].into();
        let linked_skus = set(&["MUG"]);
        let known = Known {
            products: &products,
            linked_items: &linked,
            linked_skus: &linked_skus,
        };
        let items = [item("1", None, "MUG", 3), item("2", None, "TEE", 4)];
        assert_eq!(
            classes(StorefrontKind::Woocommerce, &items, &known),
            [ImportClass::Linked, ImportClass::New]
        );
    }

    #[test]
    fn an_ebay_sku_linked_through_one_of_its_offers_is_linked() {
        let none = HashSet::new();
        let linked: HashSet<(String, String)> = [("MUG".to_owned(), "555".to_owned())].into();
        let known = Known {
            products: &none,
            linked_items: &linked,
            linked_skus: &none,
        };
        let d = &classify(StorefrontKind::Ebay, &[item("MUG", None, "MUG", 1)], &known)[0];
        assert_eq!(d.class, ImportClass::Linked);
    }

    #[test]
    fn a_product_linked_to_another_item_there_is_a_conflict() {
        let products = set(&["MUG"]);
        let none = HashSet::new();
        let linked_skus = set(&["MUG"]);
        let known = Known {
            products: &products,
            linked_items: &none,
            linked_skus: &linked_skus,
        };
        let d = &classify(StorefrontKind::Ebay, &[item("MUG", None, "MUG", 1)], &known)[0];
        assert_eq!(d.class, ImportClass::Conflict);
        assert!(d.note.contains("linked to another item"));
    }

    #[test]
    fn items_without_sku_or_not_settable_are_skipped_with_the_reason() {
        let none = HashSet::new();
        let no_items = HashSet::new();
        let known = Known {
            products: &none,
            linked_items: &no_items,
            linked_skus: &none,
        };
        let mut fba = item("FBA", None, "FBA", 2);
        fba.not_settable = Some("Fulfilled by Amazon".into());
        let items = [item("1", None, "", 1), fba, item("x", None, "BAD", 1)];
        let d = classify(StorefrontKind::Woocommerce, &items, &known);
        assert_eq!(d[0].class, ImportClass::Skipped);
        assert!(d[0].note.contains("No SKU on WooCommerce"), "{}", d[0].note);
        assert_eq!(d[1].note, "Fulfilled by Amazon");
        // WooCommerce ids are numbers: "x" cannot be pushed to.
        assert_eq!(d[2].class, ImportClass::Skipped);
    }

    #[test]
    fn an_empty_sku_does_not_make_the_others_conflict() {
        let none = HashSet::new();
        let no_items = HashSet::new();
        let known = Known {
            products: &none,
            linked_items: &no_items,
            linked_skus: &none,
        };
        let items = [item("1", None, "", 1), item("2", None, "", 1)];
        assert_eq!(
            classes(StorefrontKind::Woocommerce, &items, &known),
            [ImportClass::Skipped, ImportClass::Skipped]
        );
    }

    #[test]
    fn counts_say_the_outcome_plainly() {
        let mut counts = ImportCounts::default();
        counts.add(ImportClass::Matched, 10);
        counts.add(ImportClass::New, 2);
        assert_eq!(
            counts.applied_message(),
            "Linked 12 listings: 10 to your products, 2 new products."
        );
        counts = ImportCounts {
            linked: 3,
            ..Default::default()
        };
        assert_eq!(
            counts.applied_message(),
            "Nothing new to link (3 linked already)."
        );
    }
}
