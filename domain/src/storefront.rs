//! Storefronts a seller connects, and the ids a listing needs on each of them.
//!
//! What each platform's API expects (request shapes, limits, errors) lives in
//! [`crate::connector`]; this module is the part the seller fills in on a form.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The platforms Tally pushes quantities to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StorefrontKind {
    Shopify,
    Woocommerce,
    Ebay,
    Amazon,
    Bigcommerce,
    Vendure,
}

impl StorefrontKind {
    pub const ALL: [StorefrontKind; 6] = [
        StorefrontKind::Shopify,
        StorefrontKind::Woocommerce,
        StorefrontKind::Ebay,
        StorefrontKind::Amazon,
        StorefrontKind::Bigcommerce,
        StorefrontKind::Vendure,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            StorefrontKind::Shopify => "shopify",
            StorefrontKind::Woocommerce => "woocommerce",
            StorefrontKind::Ebay => "ebay",
            StorefrontKind::Amazon => "amazon",
            StorefrontKind::Bigcommerce => "bigcommerce",
            StorefrontKind::Vendure => "vendure",
        }
    }

    /// A stored name back into a kind.
    pub fn parse(name: &str) -> Option<StorefrontKind> {
        StorefrontKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// The platform's name as sellers write it.
    pub fn label(self) -> &'static str {
        match self {
            StorefrontKind::Shopify => "Shopify",
            StorefrontKind::Woocommerce => "WooCommerce",
            StorefrontKind::Ebay => "eBay",
            StorefrontKind::Amazon => "Amazon",
            StorefrontKind::Bigcommerce => "BigCommerce",
            StorefrontKind::Vendure => "Vendure",
        }
    }

    /// The API address when the seller leaves it empty ([`crate::address::check_base_url`]). Shopify, WooCommerce, BigCommerce and
    /// Vendure addresses name the seller's own store, so there is no default for them.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            StorefrontKind::Ebay => Some("https://api.ebay.com"),
            StorefrontKind::Amazon => Some("https://sellingpartnerapi-na.amazon.com"),
            _ => None,
        }
    }

    /// An example address for the form's placeholder.
    pub fn base_url_example(self) -> &'static str {
        match self {
            StorefrontKind::Shopify => "https://your-store.myshopify.com",
            StorefrontKind::Woocommerce => "https://your-store.example",
            StorefrontKind::Ebay => "https://api.ebay.com",
            StorefrontKind::Amazon => "https://sellingpartnerapi-na.amazon.com",
            StorefrontKind::Bigcommerce => "https://api.bigcommerce.com/stores/abc123",
            StorefrontKind::Vendure => "https://your-vendure-server.example",
        }
    }

    /// What the credential field holds, for the form's hint.
    pub fn credential_hint(self) -> &'static str {
        match self {
            StorefrontKind::Shopify => "Admin API access token (shpat_…)",
            StorefrontKind::Woocommerce => "Consumer key and secret as ck_…:cs_…",
            StorefrontKind::Ebay => {
                "OAuth user access token, or {\"client_id\", \"client_secret\", \"refresh_token\"} to renew it"
            }
            StorefrontKind::Amazon => {
                "Login with Amazon access token, or {\"client_id\", \"client_secret\", \"refresh_token\"} to renew it"
            }
            StorefrontKind::Bigcommerce => "API account access token",
            StorefrontKind::Vendure => {
                "Admin API token: the vendure-auth-token a SuperAdmin's login answers"
            }
        }
    }

    /// Whether the connection needs a store reference, and what it is.
    pub fn store_ref_label(self) -> Option<&'static str> {
        match self {
            StorefrontKind::Amazon => Some("Seller ID (optionally SELLERID:MARKETPLACEID)"),
            _ => None,
        }
    }

    /// What a listing's first id is on this platform.
    pub fn external_id_label(self) -> &'static str {
        match self {
            StorefrontKind::Shopify => "Inventory item ID",
            StorefrontKind::Woocommerce => "Product ID",
            StorefrontKind::Ebay => "eBay SKU",
            StorefrontKind::Amazon => "Seller SKU",
            StorefrontKind::Bigcommerce => "Variant ID (or product:ID)",
            StorefrontKind::Vendure => "Product variant ID",
        }
    }

    /// What a listing's second id is on this platform, and whether it is required.
    pub fn external_sub_id_label(self) -> Option<(&'static str, bool)> {
        match self {
            StorefrontKind::Shopify => Some(("Location ID", true)),
            StorefrontKind::Woocommerce => Some(("Variation ID", false)),
            StorefrontKind::Ebay => Some(("Offer ID", false)),
            StorefrontKind::Amazon | StorefrontKind::Vendure => None,
            StorefrontKind::Bigcommerce => Some(("Location ID", true)),
        }
    }

    /// Whether the platform's ids are numbers (Shopify, WooCommerce and BigCommerce) rather
    /// than the seller's own text.
    fn numeric_ids(self) -> bool {
        matches!(
            self,
            StorefrontKind::Shopify | StorefrontKind::Woocommerce | StorefrontKind::Bigcommerce
        )
    }
}

/// Why a listing's ids were refused; each names the field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ListingRefError {
    #[error("{label} is required.")]
    Missing {
        field: &'static str,
        label: &'static str,
    },
    #[error("{label} must be a whole number, like 40318.")]
    NotANumber {
        field: &'static str,
        label: &'static str,
    },
    #[error("{label} must be at most 128 characters.")]
    TooLong {
        field: &'static str,
        label: &'static str,
    },
    #[error("{kind} listings have no second ID; leave it empty.")]
    Unexpected {
        field: &'static str,
        kind: &'static str,
    },
}

impl ListingRefError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            ListingRefError::Missing { field, .. }
            | ListingRefError::NotANumber { field, .. }
            | ListingRefError::TooLong { field, .. }
            | ListingRefError::Unexpected { field, .. } => field,
        }
    }
}

/// The ids that find a product's listing on its storefront, checked for the platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingRef {
    pub external_id: String,
    pub external_sub_id: Option<String>,
}

impl ListingRef {
    /// Checks the ids a seller typed for `kind`. Surrounding spaces are dropped, and a Shopify
    /// `gid://shopify/InventoryItem/123` is accepted as its number.
    pub fn parse(
        kind: StorefrontKind,
        external_id: &str,
        external_sub_id: Option<&str>,
    ) -> Result<ListingRef, ListingRefError> {
        let id_label = kind.external_id_label();
        let external_id = check_id(kind, "external_id", id_label, external_id)?.ok_or(
            ListingRefError::Missing {
                field: "external_id",
                label: id_label,
            },
        )?;
        let sub = external_sub_id.map(str::trim).filter(|s| !s.is_empty());
        let external_sub_id = match (kind.external_sub_id_label(), sub) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(ListingRefError::Unexpected {
                    field: "external_sub_id",
                    kind: kind.label(),
                })
            }
            (Some((label, true)), None) => {
                return Err(ListingRefError::Missing {
                    field: "external_sub_id",
                    label,
                })
            }
            (Some(_), None) => None,
            (Some((label, _)), Some(value)) => check_id(kind, "external_sub_id", label, value)?,
        };
        Ok(ListingRef {
            external_id,
            external_sub_id,
        })
    }
}

fn check_id(
    kind: StorefrontKind,
    field: &'static str,
    label: &'static str,
    value: &str,
) -> Result<Option<String>, ListingRefError> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > 128 {
        return Err(ListingRefError::TooLong { field, label });
    }
    if !kind.numeric_ids() {
        return Ok(Some(value.to_owned()));
    }
    // BigCommerce stocks a product without variants by its product id ("tracked by product").
    if let (StorefrontKind::Bigcommerce, "external_id") = (kind, field) {
        if let Some(product) = strip_prefix_ignore_case(value, BIGCOMMERCE_PRODUCT) {
            let number =
                number_in(product.trim()).ok_or(ListingRefError::NotANumber { field, label })?;
            return Ok(Some(format!("{BIGCOMMERCE_PRODUCT}{number}")));
        }
    }
    // Shopify's admin shows global ids; the number at the end is the id.
    let number = number_in(value.rsplit('/').next().unwrap_or(value))
        .ok_or(ListingRefError::NotANumber { field, label })?;
    Ok(Some(number.to_owned()))
}

/// The prefix of a BigCommerce listing stocked by product: `product:<product id>`.
pub const BIGCOMMERCE_PRODUCT: &str = "product:";

/// `text` when it is a platform id: digits only, at most 19 of them.
fn number_in(text: &str) -> Option<&str> {
    let ok = !text.is_empty() && text.len() <= 19 && text.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(text)
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_stored_names() {
        for kind in StorefrontKind::ALL {
            assert_eq!(StorefrontKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_value(kind).unwrap();
            assert_eq!(json, kind.as_str());
        }
        assert_eq!(StorefrontKind::parse("etsy"), None);
    }

    #[test]
    fn shopify_needs_a_location_and_accepts_global_ids() {
        let r = ListingRef::parse(
            StorefrontKind::Shopify,
            " gid://shopify/InventoryItem/4031 ",
            Some("77"),
        )
        .unwrap();
        assert_eq!(r.external_id, "4031");
        assert_eq!(r.external_sub_id.as_deref(), Some("77"));
        let e = ListingRef::parse(StorefrontKind::Shopify, "4031", None).unwrap_err();
        assert_eq!(e.field(), "external_sub_id");
        assert_eq!(e.to_string(), "Location ID is required.");
    }

    #[test]
    fn numeric_platforms_refuse_text_ids_naming_the_field() {
        let e = ListingRef::parse(StorefrontKind::Woocommerce, "abc", None).unwrap_err();
        assert_eq!(e.field(), "external_id");
        assert!(e.to_string().contains("Product ID must be a whole number"));
        let e = ListingRef::parse(StorefrontKind::Bigcommerce, "12", Some("x")).unwrap_err();
        assert_eq!(e.field(), "external_sub_id");
    }

    #[test]
    fn bigcommerce_listings_name_a_variant_or_a_product() {
        let bc = StorefrontKind::Bigcommerce;
        let r = ListingRef::parse(bc, " Product: 55 ", Some("1")).unwrap();
        assert_eq!(r.external_id, "product:55");
        assert_eq!(
            ListingRef::parse(bc, "77", Some("1")).unwrap().external_id,
            "77"
        );
        let e = ListingRef::parse(bc, "product:x", Some("1")).unwrap_err();
        assert_eq!(e.field(), "external_id");
        // Only BigCommerce's first id can name a product.
        assert!(ListingRef::parse(StorefrontKind::Woocommerce, "product:5", None).is_err());
        assert!(ListingRef::parse(bc, "5", Some("product:1")).is_err());
    }

    #[test]
    fn text_platforms_keep_the_sellers_sku() {
        let r = ListingRef::parse(StorefrontKind::Amazon, "MUG-RED-01", None).unwrap();
        assert_eq!(r.external_id, "MUG-RED-01");
        let e = ListingRef::parse(StorefrontKind::Amazon, "MUG", Some("9")).unwrap_err();
        assert_eq!(e.field(), "external_sub_id");
        let r = ListingRef::parse(StorefrontKind::Ebay, "MUG", Some("  ")).unwrap();
        assert_eq!(r.external_sub_id, None);
        let e = ListingRef::parse(StorefrontKind::Ebay, "  ", None).unwrap_err();
        assert_eq!(e.field(), "external_id");
    }
}
