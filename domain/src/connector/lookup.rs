//! Finding a storefront's items before one is linked: by its ids (is it there, and what is
//! it?) or by words of its SKU or title (the link form's search). Each platform is asked
//! with its own read, narrowed to the item or the words; the answer is turned into the
//! catalogue's shape and read by the catalogue's parsers, so an item found here looks
//! exactly as listing import and the drift check see it.

use super::catalogue::{catalogue_answer, CatalogueItem, Page, Parent};
use super::{
    base_url, encode_component, get_request, post_json, HttpRequest, HttpResponse, Target,
};
use crate::storefront::{ListingRef, StorefrontKind};
use serde_json::{json, Value};

/// How many items a search shows: enough to pick from, few enough to read.
pub const SEARCH_LIMIT: u64 = 20;

/// What to look for.
#[derive(Debug, Clone, Copy)]
pub enum Lookup<'a> {
    /// The item a listing would name.
    Item(&'a ListingRef),
    /// Items whose SKU or title holds these words.
    Search(&'a str),
}

/// Shopify: one inventory item with its variant and its stock at the listing's location (null
/// when it is not stocked there), however many locations stock it.
const SHOPIFY_ITEM: &str = "query TallyItem($id: ID!, $location: ID!) { inventoryItem(id: $id) { legacyResourceId tracked variant { sku displayName } inventoryLevel(locationId: $location) { location { legacyResourceId } quantities(names: [\"available\"]) { name quantity } } } }";

/// Shopify: variants matching a search, as the catalogue reads them.
const SHOPIFY_SEARCH: &str = "query TallySearch($first: Int!, $query: String!) { productVariants(first: $first, query: $query) { nodes { sku displayName inventoryItem { legacyResourceId tracked inventoryLevels(first: 5) { nodes { location { legacyResourceId } quantities(names: [\"available\"]) { name quantity } } } } } pageInfo { hasNextPage endCursor } } }";

/// The request that finds `lookup`; `None` where the platform cannot search (eBay's
/// Inventory API lists items but has no search: its items are found by SKU).
pub fn lookup_request(target: &Target, lookup: &Lookup) -> Option<HttpRequest> {
    let base = base_url(target);
    let request = match (target.kind, lookup) {
        (StorefrontKind::Shopify, lookup) => {
            let url = format!(
                "{base}/admin/api/{}/graphql.json",
                super::shopify::API_VERSION
            );
            let body = match lookup {
                Lookup::Item(item) => json!({ "query": SHOPIFY_ITEM, "variables": {
                    "id": format!("gid://shopify/InventoryItem/{}", item.external_id),
                    "location": format!("gid://shopify/Location/{}",
                        item.external_sub_id.as_deref().unwrap_or_default()) } }),
                Lookup::Search(words) => json!({ "query": SHOPIFY_SEARCH, "variables": {
                    "first": SEARCH_LIMIT, "query": words } }),
            };
            post_json(target, url, &body)
        }
        (StorefrontKind::Woocommerce, Lookup::Item(item)) => {
            let product = encode_component(&item.external_id);
            let url = match &item.external_sub_id {
                Some(variation) => format!(
                    "{base}/wp-json/wc/v3/products/{product}/variations/{}",
                    encode_component(variation)
                ),
                None => format!("{base}/wp-json/wc/v3/products/{product}"),
            };
            get_request(target, url)
        }
        (StorefrontKind::Woocommerce, Lookup::Search(words)) => get_request(
            target,
            format!(
                "{base}/wp-json/wc/v3/products?search={}&per_page={SEARCH_LIMIT}",
                encode_component(words)
            ),
        ),
        (StorefrontKind::Bigcommerce, Lookup::Item(item)) => {
            let url = match item.external_id.strip_prefix("product:") {
                Some(product) => format!(
                    "{base}/v3/catalog/products?include=variants&id:in={}",
                    encode_component(product)
                ),
                None => format!(
                    "{base}/v3/catalog/variants?id:in={}",
                    encode_component(&item.external_id)
                ),
            };
            get_request(target, url)
        }
        (StorefrontKind::Bigcommerce, Lookup::Search(words)) => get_request(
            target,
            format!(
                "{base}/v3/catalog/products?include=variants&keyword={}&limit={SEARCH_LIMIT}",
                encode_component(words)
            ),
        ),
        (StorefrontKind::Ebay, Lookup::Item(item)) => get_request(
            target,
            format!(
                "{base}/sell/inventory/v1/inventory_item/{}",
                encode_component(&item.external_id)
            ),
        ),
        (StorefrontKind::Ebay, Lookup::Search(_)) => return None,
        (StorefrontKind::Amazon, lookup) => {
            let (seller, marketplace) = super::amazon::account(target);
            let (seller, marketplace) = (encode_component(seller), encode_component(marketplace));
            let included = "includedData=summaries,fulfillmentAvailability";
            let url = match lookup {
                Lookup::Item(item) => format!(
                    "{base}/listings/2021-08-01/items/{seller}/{}?marketplaceIds={marketplace}&{included}",
                    encode_component(&item.external_id)
                ),
                // Amazon's listings search takes SKUs, not words: the seller types a SKU.
                Lookup::Search(sku) => format!(
                    "{base}/listings/2021-08-01/items/{seller}?marketplaceIds={marketplace}&{included}\
                     &identifiers={}&identifiersType=SKU",
                    encode_component(sku)
                ),
            };
            get_request(target, url)
        }
        (StorefrontKind::Vendure, Lookup::Item(item)) => {
            super::vendure::find_request(target, json!({ "id": { "eq": item.external_id } }), 1)
        }
        (StorefrontKind::Vendure, Lookup::Search(words)) => super::vendure::find_request(
            target,
            json!({ "sku": { "contains": words }, "name": { "contains": words } }),
            SEARCH_LIMIT,
        ),
    };
    Some(request)
}

/// The items the answer to [`lookup_request`] names, or what went wrong in words a seller
/// can act on. For an item, an empty list means the storefront does not have it.
pub fn lookup_answer(
    target: &Target,
    lookup: &Lookup,
    response: &HttpResponse,
) -> Result<Vec<CatalogueItem>, String> {
    if matches!(lookup, Lookup::Item(_)) && says_not_found(target.kind, response) {
        return Ok(Vec::new());
    }
    let (page, body) = match lookup {
        Lookup::Item(item) => as_catalogue(target.kind, item, &response.body)?,
        Lookup::Search(_) => (Page::First, response.body.clone()),
    };
    let read = HttpResponse {
        status: response.status,
        headers: Vec::new(),
        body,
    };
    let items = catalogue_answer(target, &page, &read)?.items;
    Ok(match lookup {
        Lookup::Item(item) => items
            .into_iter()
            .filter(|i| is(item, target.kind, i))
            .collect(),
        Lookup::Search(words) => items
            .into_iter()
            .filter(|i| matches(words, i))
            .take(SEARCH_LIMIT as usize)
            .collect(),
    })
}

/// Whether a 404 is the platform saying it has no such item, rather than no API at this
/// address (WordPress without its REST API, a wrong base path): only the former is an answer.
fn says_not_found(kind: StorefrontKind, response: &HttpResponse) -> bool {
    if response.status != 404 {
        return false;
    }
    let body: Value = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    let errors = || body["errors"].as_array().into_iter().flatten();
    match kind {
        // `woocommerce_rest_product_invalid_id`, `…_product_variation_invalid_id`, …
        StorefrontKind::Woocommerce => body["code"]
            .as_str()
            .is_some_and(|c| c.starts_with("woocommerce_rest_") && c.contains("invalid")),
        // 25702 (no such SKU) and 25710 (no such resource).
        StorefrontKind::Ebay => {
            errors().any(|e| matches!(e["errorId"].as_i64(), Some(25702 | 25710)))
        }
        StorefrontKind::Amazon => {
            errors().any(|e| matches!(e["code"].as_str(), Some("NOT_FOUND" | "NotFound")))
        }
        // Their item reads are lists or GraphQL: a 404 means the address is wrong.
        StorefrontKind::Shopify | StorefrontKind::Bigcommerce | StorefrontKind::Vendure => false,
    }
}

/// Whether `found` is the item `item` names. Shopify's location and WooCommerce's variation
/// must match too; BigCommerce's catalogue shows the default location only, and an eBay offer
/// belongs to its SKU, so there the item id alone decides.
fn is(item: &ListingRef, kind: StorefrontKind, found: &CatalogueItem) -> bool {
    let sub_matters = matches!(kind, StorefrontKind::Shopify | StorefrontKind::Woocommerce);
    found.external_id == item.external_id
        && (!sub_matters || found.external_sub_id == item.external_sub_id)
}

/// Whether `found`'s SKU or title holds `words` (in any case): the platforms' own searches
/// also look elsewhere (descriptions, tags), which would only crowd the list.
fn matches(words: &str, found: &CatalogueItem) -> bool {
    let words = words.trim().to_lowercase();
    found.sku.to_lowercase().contains(&words) || found.title.to_lowercase().contains(&words)
}

/// A one-item answer in the shape of a catalogue page of that platform, and the page it is.
fn as_catalogue(
    kind: StorefrontKind,
    item: &ListingRef,
    body: &str,
) -> Result<(Page, String), String> {
    let read = |e: serde_json::Error| format!("{}'s answer could not be read: {e}", kind.label());
    let one: Value = serde_json::from_str(body).map_err(read)?;
    let (page, wrapped) = match kind {
        StorefrontKind::Shopify => {
            let found = one.pointer("/data/inventoryItem").filter(|i| !i.is_null());
            // An item hidden by an error (a token without `read_products`, ACCESS_DENIED) was
            // not answered for: Shopify could not be asked; it did not say "no such item".
            if let (None, Some(errors)) = (found, one.get("errors")) {
                return Err(format!("Shopify refused to read the item: {errors}"));
            }
            let nodes = match found {
                Some(item) => {
                    // Its level at the listing's location, as the catalogue's list of levels.
                    let level = item.get("inventoryLevel").filter(|l| !l.is_null());
                    let mut inventory = item.clone();
                    inventory["inventoryLevels"] =
                        json!({ "nodes": level.into_iter().collect::<Vec<_>>() });
                    vec![json!({
                        "sku": item["variant"]["sku"],
                        "displayName": item["variant"]["displayName"],
                        "inventoryItem": inventory,
                    })]
                }
                None => Vec::new(),
            };
            let page = json!({ "data": { "productVariants": {
                "nodes": nodes, "pageInfo": { "hasNextPage": false, "endCursor": null } } } });
            (Page::First, page)
        }
        // A variation read under another product than its own is not the listing's item.
        StorefrontKind::Woocommerce
            if one["parent_id"]
                .as_u64()
                .is_some_and(|parent| parent.to_string() != item.external_id) =>
        {
            (Page::First, json!([]))
        }
        StorefrontKind::Woocommerce => match &item.external_sub_id {
            Some(_) => (
                Page::WooVariations {
                    parents: vec![Parent {
                        id: item.external_id.clone(),
                        name: String::new(),
                    }],
                    n: 1,
                },
                json!([one]),
            ),
            None => (Page::First, json!([one])),
        },
        StorefrontKind::Bigcommerce if !item.external_id.starts_with("product:") => {
            // A variant alone: its product's name is not in the answer, so its SKU stands in.
            let products: Vec<Value> = one["data"]
                .as_array()
                .map(|variants| {
                    variants
                        .iter()
                        .map(|v| {
                            json!({ "id": v["product_id"], "name": v["sku"],
                            "inventory_tracking": "variant", "variants": [v] })
                        })
                        .collect()
                })
                .unwrap_or_default();
            let page = json!({ "data": products,
                "meta": { "pagination": { "current_page": 1, "total_pages": 1 } } });
            (Page::First, page)
        }
        StorefrontKind::Ebay => (Page::First, json!({ "inventoryItems": [one] })),
        StorefrontKind::Amazon => (Page::First, json!({ "items": [one] })),
        StorefrontKind::Bigcommerce | StorefrontKind::Vendure => (Page::First, one),
    };
    Ok((page, wrapped.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::fixtures::{body, response, target};

    fn item(id: &str, sub: Option<&str>) -> ListingRef {
        ListingRef {
            external_id: id.to_owned(),
            external_sub_id: sub.map(str::to_owned),
        }
    }

    #[test]
    fn a_shopify_item_is_asked_by_its_gid_and_found_at_its_location_only() {
        let t = target(StorefrontKind::Shopify);
        let at_9 = item("808", Some("9"));
        let request = lookup_request(&t, &Lookup::Item(&at_9)).unwrap();
        assert_eq!(
            body(&request)["variables"]["id"],
            "gid://shopify/InventoryItem/808"
        );
        assert_eq!(
            body(&request)["variables"]["location"],
            "gid://shopify/Location/9"
        );
        let answer = r#"{"data":{"inventoryItem":{"legacyResourceId":"808","tracked":true,
            "variant":{"sku":"MUG-1","displayName":"Mug - Blue"},
            "inventoryLevel":{"location":{"legacyResourceId":"9"},
            "quantities":[{"name":"available","quantity":4}]}}}}"#;
        let found = lookup_answer(&t, &Lookup::Item(&at_9), &response(200, answer)).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].sku.as_str(), found[0].quantity),
            ("MUG-1", Some(4))
        );
        let not_stocked = r#"{"data":{"inventoryItem":{"legacyResourceId":"808","tracked":true,
            "variant":{"sku":"MUG-1","displayName":"Mug - Blue"},"inventoryLevel":null}}}"#;
        assert!(
            lookup_answer(&t, &Lookup::Item(&at_9), &response(200, not_stocked))
                .unwrap()
                .is_empty()
        );
        // An error that hides the item is not "no such item".
        let denied = r#"{"data":{"inventoryItem":null},"errors":[{"message":"Access denied","extensions":{"code":"ACCESS_DENIED"}}]}"#;
        assert!(lookup_answer(&t, &Lookup::Item(&at_9), &response(200, denied)).is_err());
        let gone = r#"{"data":{"inventoryItem":null}}"#;
        assert!(
            lookup_answer(&t, &Lookup::Item(&at_9), &response(200, gone))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn woocommerce_reads_a_product_or_a_variation_and_a_404_is_not_there() {
        let t = target(StorefrontKind::Woocommerce);
        let simple = item("12", None);
        let request = lookup_request(&t, &Lookup::Item(&simple)).unwrap();
        assert_eq!(
            request.url,
            "https://mugs.example/wp-json/wc/v3/products/12"
        );
        let answer = r#"{"id":12,"name":"Mug","sku":"MUG-1","type":"simple","stock_quantity":3}"#;
        let found = lookup_answer(&t, &Lookup::Item(&simple), &response(200, answer)).unwrap();
        assert_eq!(found[0].title, "Mug");
        let variation = item("12", Some("40"));
        let request = lookup_request(&t, &Lookup::Item(&variation)).unwrap();
        assert!(
            request.url.ends_with("/products/12/variations/40"),
            "{}",
            request.url
        );
        let answer =
            r#"{"id":40,"sku":"MUG-1-B","stock_quantity":1,"attributes":[{"option":"Blue"}]}"#;
        let found = lookup_answer(&t, &Lookup::Item(&variation), &response(200, answer)).unwrap();
        assert_eq!(found[0].external_sub_id.as_deref(), Some("40"));
        let missing = r#"{"code":"woocommerce_rest_product_invalid_id","message":"Invalid ID."}"#;
        assert!(
            lookup_answer(&t, &Lookup::Item(&simple), &response(404, missing))
                .unwrap()
                .is_empty()
        );
        // WordPress without its REST API answers 404 too: that is no answer about the item.
        let no_api = r#"{"code":"rest_no_route","message":"No route was found."}"#;
        assert!(lookup_answer(&t, &Lookup::Item(&simple), &response(404, no_api)).is_err());
        let elsewhere = r#"{"id":40,"parent_id":13,"sku":"X","stock_quantity":1}"#;
        assert!(
            lookup_answer(&t, &Lookup::Item(&variation), &response(200, elsewhere))
                .unwrap()
                .is_empty(),
            "variation 40 belongs to product 13, not 12"
        );
        // A variable product is not a listing by itself: it is not found without a variation.
        let variable = r#"{"id":12,"name":"Mug","type":"variable"}"#;
        assert!(
            lookup_answer(&t, &Lookup::Item(&simple), &response(200, variable))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn a_bigcommerce_variant_is_read_alone_and_a_search_keeps_what_the_words_name() {
        let t = target(StorefrontKind::Bigcommerce);
        let variant = item("77", Some("1"));
        let request = lookup_request(&t, &Lookup::Item(&variant)).unwrap();
        assert!(
            request.url.ends_with("/v3/catalog/variants?id:in=77"),
            "{}",
            request.url
        );
        let answer = r#"{"data":[{"id":77,"product_id":5,"sku":"CAP-R","inventory_level":6,
            "option_values":[{"label":"Red"}]}],"meta":{}}"#;
        let found = lookup_answer(&t, &Lookup::Item(&variant), &response(200, answer)).unwrap();
        assert_eq!(
            (found[0].sku.as_str(), found[0].quantity),
            ("CAP-R", Some(6))
        );
        let search = Lookup::Search("cap");
        let request = lookup_request(&t, &search).unwrap();
        assert!(request.url.contains("keyword=cap"), "{}", request.url);
        let page = r#"{"data":[{"id":5,"name":"Cap","sku":"","inventory_tracking":"variant",
            "variants":[{"id":77,"sku":"CAP-R"},{"id":78,"sku":"CAP-B"}]},
            {"id":6,"name":"Scarf","sku":"SC","inventory_tracking":"product"}],
            "meta":{"pagination":{"current_page":1,"total_pages":1}}}"#;
        let found = lookup_answer(&t, &search, &response(200, page)).unwrap();
        let skus: Vec<&str> = found.iter().map(|i| i.sku.as_str()).collect();
        assert_eq!(skus, ["CAP-R", "CAP-B"], "the scarf matched Cap nowhere");
    }

    #[test]
    fn ebay_is_found_by_sku_only_and_amazon_searches_by_sku() {
        let ebay = target(StorefrontKind::Ebay);
        assert!(lookup_request(&ebay, &Lookup::Search("mug")).is_none());
        let sku = item("MUG 1/B", None);
        let request = lookup_request(&ebay, &Lookup::Item(&sku)).unwrap();
        assert!(
            request.url.ends_with("/inventory_item/MUG%201%2FB"),
            "{}",
            request.url
        );
        let answer = r#"{"sku":"MUG 1/B","product":{"title":"Mug"},
            "availability":{"shipToLocationAvailability":{"quantity":2}}}"#;
        let found = lookup_answer(&ebay, &Lookup::Item(&sku), &response(200, answer)).unwrap();
        assert_eq!(found[0].quantity, Some(2));

        let amazon = target(StorefrontKind::Amazon);
        let request = lookup_request(&amazon, &Lookup::Search("MUG-1")).unwrap();
        assert!(
            request
                .url
                .contains("identifiers=MUG-1&identifiersType=SKU"),
            "{}",
            request.url
        );
        let one = item("MUG-1", None);
        let answer = r#"{"sku":"MUG-1","summaries":[],"fulfillmentAvailability":
            [{"fulfillmentChannelCode":"DEFAULT","quantity":5}]}"#;
        let found = lookup_answer(&amazon, &Lookup::Item(&one), &response(200, answer)).unwrap();
        assert_eq!(found[0].quantity, Some(5));
    }

    #[test]
    fn a_refusal_is_said_not_taken_for_a_missing_item() {
        let t = target(StorefrontKind::Woocommerce);
        let simple = item("12", None);
        let refused = lookup_answer(&t, &Lookup::Item(&simple), &response(401, "{}"));
        assert!(refused.is_err());
    }
}
