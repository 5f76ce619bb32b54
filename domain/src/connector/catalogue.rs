//! Reading a storefront's catalogue: every item Tally could link, with its SKU, a title and
//! the quantity the storefront shows now. Listing import matches it to Tally by SKU; the drift
//! check compares its quantities with what Tally's rules give each listing.
//!
//! A catalogue is read page by page ([`catalogue_request`], [`catalogue_answer`]); the page
//! cursor is plain data so a background job can keep it between steps.

use super::{
    base_url, encode_component, get_request, post_json, HttpRequest, HttpResponse, Target,
};
use crate::storefront::StorefrontKind;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Which page of a catalogue to read next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "at", rename_all = "snake_case")]
pub enum Page {
    First,
    /// Shopify's `endCursor`, Amazon's `nextToken`.
    Token {
        token: String,
    },
    /// BigCommerce's page number (from 1), eBay's offset (from 0).
    Number {
        n: u64,
    },
    /// WooCommerce product page `n`, with the variable products met so far (their
    /// variations are read after the products).
    WooProducts {
        n: u64,
        parents: Vec<Parent>,
    },
    /// WooCommerce: page `n` of the first parent's variations, then the other parents'.
    WooVariations {
        parents: Vec<Parent>,
        n: u64,
    },
}

/// A WooCommerce variable product, whose variations are the listings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parent {
    pub id: String,
    pub name: String,
}

/// One storefront item Tally could link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueItem {
    /// The listing ids, as [`crate::storefront::ListingRef`] takes them.
    pub external_id: String,
    pub external_sub_id: Option<String>,
    /// Empty when the storefront item has none.
    pub sku: String,
    pub title: String,
    /// What the storefront shows now; `None` when it does not count this item.
    pub quantity: Option<i64>,
    /// Why Tally must not set this item, when it must not (fulfilled by Amazon, stock not
    /// tracked): import leaves it out and says why.
    pub not_settable: Option<String>,
    /// The platform's listing this item shares a daily revision cap with (eBay: the inventory
    /// item group of a multi-variation listing).
    #[serde(default)]
    pub group: Option<String>,
}

/// One page of a catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CataloguePage {
    pub items: Vec<CatalogueItem>,
    pub next: Option<Page>,
    /// How many items the whole catalogue holds, where the platform says so.
    pub total: Option<u64>,
}

/// Items per page: each platform's largest page that stays inside its query cost.
const SHOPIFY_PAGE: u64 = 40;
const WOO_PAGE: u64 = 100;
const BIGCOMMERCE_PAGE: u64 = 250;
const EBAY_PAGE: u64 = 100;
const AMAZON_PAGE: u64 = 20;

/// BigCommerce's default location, where a store without Multi-Location keeps its stock.
pub const BIGCOMMERCE_DEFAULT_LOCATION: &str = "1";

/// Variants with their inventory item and its levels at up to 5 locations. Shopify charges a
/// connection by its `first` times what each node asks for: about 40 × (1 + 1 + 2 + 5 × 3)
/// = 760 points, inside its 1,000-point limit for one query. An item stocked at more
/// locations shows its first five (the drift check then leaves the others out).
const SHOPIFY_CATALOGUE: &str = "query TallyCatalogue($first: Int!, $after: String) { productVariantsCount { count } productVariants(first: $first, after: $after) { nodes { sku displayName inventoryItem { legacyResourceId tracked inventoryLevels(first: 5) { nodes { location { legacyResourceId } quantities(names: [\"available\"]) { name quantity } } } } } pageInfo { hasNextPage endCursor } } }";

/// The request for `page` of the connection's catalogue.
pub fn catalogue_request(target: &Target, page: &Page) -> HttpRequest {
    let base = base_url(target);
    match (target.kind, page) {
        (StorefrontKind::Shopify, page) => {
            let after = match page {
                Page::Token { token } => Some(token.as_str()),
                _ => None,
            };
            post_json(
                target,
                format!(
                    "{base}/admin/api/{}/graphql.json",
                    super::shopify::API_VERSION
                ),
                &json!({"query": SHOPIFY_CATALOGUE,
                        "variables": {"first": SHOPIFY_PAGE, "after": after}}),
            )
        }
        (StorefrontKind::Woocommerce, Page::WooVariations { parents, n }) => {
            let parent = parents.first().map_or("0", |p| p.id.as_str());
            get_request(
                target,
                format!(
                    "{base}/wp-json/wc/v3/products/{}/variations?per_page={WOO_PAGE}&page={n}",
                    encode_component(parent)
                ),
            )
        }
        (StorefrontKind::Woocommerce, page) => get_request(
            target,
            format!(
                "{base}/wp-json/wc/v3/products?per_page={WOO_PAGE}&page={}&orderby=id&order=asc",
                page_number(page, 1)
            ),
        ),
        (StorefrontKind::Bigcommerce, page) => get_request(
            target,
            format!(
                "{base}/v3/catalog/products?include=variants&limit={BIGCOMMERCE_PAGE}&page={}&sort=id",
                page_number(page, 1)
            ),
        ),
        (StorefrontKind::Ebay, page) => get_request(
            target,
            format!(
                "{base}/sell/inventory/v1/inventory_item?limit={EBAY_PAGE}&offset={}",
                page_number(page, 0)
            ),
        ),
        (StorefrontKind::Amazon, page) => {
            let (seller, marketplace) = super::amazon::account(target);
            let mut url = format!(
                "{base}/listings/2021-08-01/items/{}?marketplaceIds={}\
                 &includedData=summaries,fulfillmentAvailability&pageSize={AMAZON_PAGE}",
                encode_component(seller),
                encode_component(marketplace)
            );
            if let Page::Token { token } = page {
                url.push_str(&format!("&pageToken={}", encode_component(token)));
            }
            get_request(target, url)
        }
        (StorefrontKind::Vendure, page) => super::vendure::catalogue_request(target, page),
    }
}

fn page_number(page: &Page, first: u64) -> u64 {
    match page {
        Page::Number { n } | Page::WooProducts { n, .. } => *n,
        _ => first,
    }
}

/// The items in the answer to [`catalogue_request`] for `page`, or what went wrong in words
/// a seller can act on.
pub fn catalogue_answer(
    target: &Target,
    page: &Page,
    response: &HttpResponse,
) -> Result<CataloguePage, String> {
    let platform = target.kind.label();
    match response.status {
        200..=299 => {}
        401 | 403 => {
            return Err(format!(
                "{platform} refused to list its products (HTTP {}): give the connection's \
                 credential permission to read products and inventory.",
                response.status
            ))
        }
        429 => {
            return Err(format!(
                "{platform} asked Tally to slow down (HTTP 429); the read goes on shortly."
            ))
        }
        status => {
            return Err(format!(
                "{platform} did not list its products (HTTP {status}); try again in a few \
                 minutes."
            ))
        }
    }
    let unreadable =
        |e: serde_json::Error| format!("{platform}'s product list could not be read: {e}");
    match target.kind {
        StorefrontKind::Shopify => shopify::page(&response.body),
        StorefrontKind::Woocommerce => woo::page(page, response).map_err(unreadable),
        StorefrontKind::Bigcommerce => bigcommerce::page(page, &response.body).map_err(unreadable),
        StorefrontKind::Ebay => ebay::page(page, &response.body).map_err(unreadable),
        StorefrontKind::Amazon => amazon::page(target, &response.body).map_err(unreadable),
        StorefrontKind::Vendure => super::vendure::catalogue_page(page, response),
    }
}

mod shopify {
    use super::{CatalogueItem, CataloguePage, Page};
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Answer {
        data: Option<Data>,
        #[serde(default)]
        errors: Option<serde_json::Value>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        product_variants_count: Option<Count>,
        product_variants: Connection,
    }

    #[derive(Deserialize)]
    struct Count {
        count: u64,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Connection {
        nodes: Vec<Variant>,
        page_info: PageInfo,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct PageInfo {
        has_next_page: bool,
        end_cursor: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Variant {
        sku: Option<String>,
        display_name: String,
        inventory_item: Item,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Item {
        legacy_resource_id: String,
        #[serde(default = "yes")]
        tracked: bool,
        inventory_levels: Levels,
    }

    fn yes() -> bool {
        true
    }

    #[derive(Deserialize)]
    struct Levels {
        nodes: Vec<Level>,
    }

    #[derive(Deserialize)]
    struct Level {
        location: Location,
        quantities: Vec<Quantity>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Location {
        legacy_resource_id: String,
    }

    #[derive(Deserialize)]
    struct Quantity {
        name: String,
        quantity: i64,
    }

    pub(super) fn page(body: &str) -> Result<CataloguePage, String> {
        let answer: Answer = serde_json::from_str(body)
            .map_err(|e| format!("Shopify's product list could not be read: {e}"))?;
        let Some(data) = answer.data else {
            let throttled = answer
                .errors
                .as_ref()
                .is_some_and(|e| e.to_string().contains("THROTTLED"));
            return Err(if throttled {
                "Shopify asked Tally to slow down; the read goes on shortly.".to_owned()
            } else {
                format!(
                    "Shopify refused the product list: {}",
                    answer.errors.unwrap_or_default()
                )
            });
        };
        let variants = data.product_variants;
        let items = variants
            .nodes
            .into_iter()
            .flat_map(|variant| {
                let item = variant.inventory_item;
                let tracked = item.tracked;
                let sku = variant.sku.unwrap_or_default().trim().to_owned();
                let title = variant.display_name;
                let id = item.legacy_resource_id;
                item.inventory_levels.nodes.into_iter().map(move |level| {
                    let quantity = level
                        .quantities
                        .iter()
                        .find(|q| q.name == "available")
                        .map(|q| q.quantity);
                    CatalogueItem {
                        external_id: id.clone(),
                        external_sub_id: Some(level.location.legacy_resource_id),
                        sku: sku.clone(),
                        title: title.clone(),
                        quantity,
                        not_settable: (!tracked).then(|| {
                            "Shopify does not track this variant's stock: turn on \"Track \
                             quantity\" in Shopify first."
                                .to_owned()
                        }),
                        group: None,
                    }
                })
            })
            .collect();
        let next = match variants.page_info {
            PageInfo {
                has_next_page: true,
                end_cursor: Some(token),
            } => Some(Page::Token { token }),
            _ => None,
        };
        Ok(CataloguePage {
            items,
            next,
            total: data.product_variants_count.map(|c| c.count),
        })
    }
}

mod woo {
    use super::{CatalogueItem, CataloguePage, HttpResponse, Page, Parent, WOO_PAGE};
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Product {
        id: u64,
        #[serde(default)]
        name: String,
        #[serde(default)]
        sku: String,
        #[serde(default, rename = "type")]
        kind: String,
        #[serde(default)]
        stock_quantity: Option<i64>,
        #[serde(default)]
        attributes: Vec<Attribute>,
    }

    #[derive(Deserialize)]
    struct Attribute {
        #[serde(default)]
        option: String,
    }

    pub(super) fn page(
        page: &Page,
        response: &HttpResponse,
    ) -> Result<CataloguePage, serde_json::Error> {
        let products: Vec<Product> = serde_json::from_str(&response.body)?;
        let full = products.len() as u64 >= WOO_PAGE;
        // A host that strips WordPress's headers: a full page may have more behind it.
        let pages: u64 = response
            .header("x-wp-totalpages")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(if full { u64::MAX } else { 1 });
        match page {
            Page::WooVariations { parents, n } => {
                let parent = parents.first().cloned().unwrap_or(Parent {
                    id: String::new(),
                    name: String::new(),
                });
                let items = products
                    .into_iter()
                    .map(|v| variation(&parent, v))
                    .collect();
                let next = if *n < pages && full {
                    Some(Page::WooVariations {
                        parents: parents.clone(),
                        n: n + 1,
                    })
                } else if parents.len() > 1 {
                    Some(Page::WooVariations {
                        parents: parents[1..].to_vec(),
                        n: 1,
                    })
                } else {
                    None
                };
                Ok(CataloguePage {
                    items,
                    next,
                    total: None,
                })
            }
            page => {
                let (n, mut parents) = match page {
                    Page::WooProducts { n, parents } => (*n, parents.clone()),
                    _ => (1, Vec::new()),
                };
                let products_empty = products.is_empty();
                let mut items = Vec::new();
                for product in products {
                    if product.kind == "variable" {
                        parents.push(Parent {
                            id: product.id.to_string(),
                            name: product.name,
                        });
                    } else {
                        items.push(simple(product));
                    }
                }
                let next = if n < pages && !products_empty {
                    Some(Page::WooProducts { n: n + 1, parents })
                } else if !parents.is_empty() {
                    Some(Page::WooVariations { parents, n: 1 })
                } else {
                    None
                };
                Ok(CataloguePage {
                    items,
                    next,
                    total: None,
                })
            }
        }
    }

    fn simple(product: Product) -> CatalogueItem {
        CatalogueItem {
            external_id: product.id.to_string(),
            external_sub_id: None,
            sku: product.sku.trim().to_owned(),
            title: product.name,
            quantity: product.stock_quantity,
            not_settable: None,
            group: None,
        }
    }

    fn variation(parent: &Parent, variation: Product) -> CatalogueItem {
        let options: Vec<&str> = variation
            .attributes
            .iter()
            .map(|a| a.option.as_str())
            .filter(|o| !o.is_empty())
            .collect();
        let title = if options.is_empty() {
            parent.name.clone()
        } else {
            format!("{} - {}", parent.name, options.join(", "))
        };
        CatalogueItem {
            external_id: parent.id.clone(),
            external_sub_id: Some(variation.id.to_string()),
            sku: variation.sku.trim().to_owned(),
            title,
            quantity: variation.stock_quantity,
            not_settable: None,
            group: None,
        }
    }
}

mod bigcommerce {
    use super::{CatalogueItem, CataloguePage, Page, BIGCOMMERCE_DEFAULT_LOCATION};
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Answer {
        data: Vec<Product>,
        meta: Meta,
    }

    #[derive(Deserialize)]
    struct Meta {
        pagination: Pagination,
    }

    #[derive(Deserialize)]
    struct Pagination {
        current_page: u64,
        total_pages: u64,
    }

    #[derive(Deserialize)]
    struct Product {
        id: u64,
        name: String,
        #[serde(default)]
        sku: String,
        inventory_tracking: String,
        #[serde(default)]
        inventory_level: Option<i64>,
        #[serde(default)]
        variants: Vec<Variant>,
    }

    #[derive(Deserialize)]
    struct Variant {
        id: u64,
        #[serde(default)]
        sku: String,
        #[serde(default)]
        inventory_level: Option<i64>,
        #[serde(default)]
        option_values: Vec<OptionValue>,
    }

    #[derive(Deserialize)]
    struct OptionValue {
        #[serde(default)]
        label: String,
    }

    pub(super) fn page(_page: &Page, body: &str) -> Result<CataloguePage, serde_json::Error> {
        let answer: Answer = serde_json::from_str(body)?;
        let mut items = Vec::new();
        for product in answer.data {
            items.extend(product_items(product));
        }
        let p = answer.meta.pagination;
        Ok(CataloguePage {
            items,
            next: (p.current_page < p.total_pages).then(|| Page::Number {
                n: p.current_page + 1,
            }),
            total: None,
        })
    }

    /// A product tracked by product is one listing (`product:<id>`); tracked by variant, one
    /// per variant; not tracked, one Tally cannot set.
    fn product_items(product: Product) -> Vec<CatalogueItem> {
        let location = Some(BIGCOMMERCE_DEFAULT_LOCATION.to_owned());
        match product.inventory_tracking.as_str() {
            "product" => vec![CatalogueItem {
                external_id: format!("product:{}", product.id),
                external_sub_id: location,
                sku: product.sku.trim().to_owned(),
                title: product.name,
                quantity: product.inventory_level,
                not_settable: None,
                group: None,
            }],
            "variant" => product
                .variants
                .into_iter()
                .map(|v| {
                    let options: Vec<&str> =
                        v.option_values.iter().map(|o| o.label.as_str()).collect();
                    CatalogueItem {
                        external_id: v.id.to_string(),
                        external_sub_id: location.clone(),
                        sku: v.sku.trim().to_owned(),
                        title: if options.is_empty() {
                            product.name.clone()
                        } else {
                            format!("{} - {}", product.name, options.join(", "))
                        },
                        quantity: v.inventory_level,
                        not_settable: None,
                        group: None,
                    }
                })
                .collect(),
            _ => vec![CatalogueItem {
                external_id: format!("product:{}", product.id),
                external_sub_id: location,
                sku: product.sku.trim().to_owned(),
                title: product.name,
                quantity: None,
                not_settable: Some(
                    "BigCommerce does not track this product's inventory: turn on inventory \
                     tracking in BigCommerce first."
                        .to_owned(),
                ),
                group: None,
            }],
        }
    }
}

mod ebay {
    use super::{CatalogueItem, CataloguePage, Page};

    /// A whole-number query parameter of a URL.
    fn query_number(url: &str, name: &str) -> Option<u64> {
        let query = url.split_once('?')?.1;
        query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| value.parse().ok()).flatten()
        })
    }
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        #[serde(default)]
        total: Option<u64>,
        #[serde(default)]
        limit: Option<u64>,
        #[serde(default)]
        next: Option<String>,
        #[serde(default)]
        inventory_items: Vec<Item>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Item {
        sku: String,
        #[serde(default)]
        product: Option<Product>,
        #[serde(default)]
        availability: Option<Availability>,
        /// The multi-variation listings (inventory item groups) the item is a variation of.
        #[serde(default)]
        inventory_item_group_keys: Vec<String>,
        #[serde(default)]
        group_ids: Vec<String>,
    }

    #[derive(Deserialize)]
    struct Product {
        #[serde(default)]
        title: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Availability {
        ship_to_location_availability: Option<ShipTo>,
    }

    #[derive(Deserialize)]
    struct ShipTo {
        quantity: Option<i64>,
    }

    pub(super) fn page(page: &Page, body: &str) -> Result<CataloguePage, serde_json::Error> {
        let answer: Answer = serde_json::from_str(body)?;
        let offset = match page {
            Page::Number { n } => *n,
            _ => 0,
        };
        let limit = answer.limit.unwrap_or(super::EBAY_PAGE);
        let items = answer
            .inventory_items
            .into_iter()
            .map(|item| CatalogueItem {
                group: item
                    .inventory_item_group_keys
                    .into_iter()
                    .chain(item.group_ids)
                    .next(),
                title: item.product.map(|p| p.title).unwrap_or_default(),
                quantity: item
                    .availability
                    .and_then(|a| a.ship_to_location_availability)
                    .and_then(|s| s.quantity),
                sku: item.sku.trim().to_owned(),
                external_id: item.sku,
                external_sub_id: None,
                not_settable: None,
            })
            .collect();
        // eBay's `next` is the address of the next page: its offset is what eBay means by
        // one (its reference calls the parameter a page number, its answers count records).
        let next = answer.next.map(|url| Page::Number {
            n: query_number(&url, "offset").unwrap_or(offset + limit),
        });
        Ok(CataloguePage {
            items,
            next,
            total: answer.total,
        })
    }
}

mod amazon {
    use super::{CatalogueItem, CataloguePage, Page, Target};
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Answer {
        #[serde(default)]
        number_of_results: Option<u64>,
        #[serde(default)]
        pagination: Option<Pagination>,
        #[serde(default)]
        items: Vec<Item>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Pagination {
        next_token: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Item {
        sku: String,
        #[serde(default)]
        summaries: Vec<Summary>,
        #[serde(default)]
        fulfillment_availability: Vec<Channel>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Summary {
        #[serde(default)]
        marketplace_id: String,
        #[serde(default)]
        item_name: String,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Channel {
        fulfillment_channel_code: String,
        #[serde(default)]
        quantity: Option<i64>,
    }

    pub(super) fn page(target: &Target, body: &str) -> Result<CataloguePage, serde_json::Error> {
        let answer: Answer = serde_json::from_str(body)?;
        let (_, marketplace) = crate::connector::amazon::account(target);
        let items = answer
            .items
            .into_iter()
            .map(|item| {
                let merchant = item
                    .fulfillment_availability
                    .iter()
                    .find(|c| c.fulfillment_channel_code == "DEFAULT");
                let by_amazon = merchant.is_none() && !item.fulfillment_availability.is_empty();
                let title = item
                    .summaries
                    .iter()
                    .find(|s| s.marketplace_id == marketplace)
                    .or(item.summaries.first())
                    .map(|s| s.item_name.clone())
                    .unwrap_or_default();
                CatalogueItem {
                    sku: item.sku.trim().to_owned(),
                    external_id: item.sku,
                    external_sub_id: None,
                    title,
                    quantity: merchant.and_then(|c| c.quantity),
                    not_settable: by_amazon.then(|| {
                        "Fulfilled by Amazon: Amazon counts this stock in its warehouses, so \
                         Tally leaves it alone."
                            .to_owned()
                    }),
                    group: None,
                }
            })
            .collect();
        Ok(CataloguePage {
            items,
            next: answer
                .pagination
                .and_then(|p| p.next_token)
                .map(|token| Page::Token { token }),
            total: answer.number_of_results,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::fixtures::target;

    fn answer(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    #[test]
    fn shopify_reads_each_variant_at_each_location_with_its_available_count() {
        let t = target(StorefrontKind::Shopify);
        let request = catalogue_request(&t, &Page::First);
        assert!(request.url.ends_with("/admin/api/2026-04/graphql.json"));
        let body: serde_json::Value =
            serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["variables"]["first"], 40);
        assert!(body["variables"]["after"].is_null());
        let page = catalogue_answer(
            &t,
            &Page::First,
            &answer(
                200,
                r#"{"data":{"productVariantsCount":{"count":2},"productVariants":{"nodes":[
                {"sku":"MUG-1","displayName":"Mug - Blue","inventoryItem":{"legacyResourceId":"11","tracked":true,
                 "inventoryLevels":{"nodes":[
                   {"location":{"legacyResourceId":"5"},"quantities":[{"name":"available","quantity":3}]},
                   {"location":{"legacyResourceId":"6"},"quantities":[{"name":"available","quantity":0}]}]}}},
                {"sku":null,"displayName":"Gift card","inventoryItem":{"legacyResourceId":"12","tracked":false,
                 "inventoryLevels":{"nodes":[{"location":{"legacyResourceId":"5"},"quantities":[]}]}}}],
                "pageInfo":{"hasNextPage":true,"endCursor":"abc"}}}}"#,
            ),
        )
        .unwrap();
        assert_eq!(page.total, Some(2));
        assert_eq!(
            page.next,
            Some(Page::Token {
                token: "abc".into()
            })
        );
        assert_eq!(page.items.len(), 3);
        assert_eq!(page.items[0].external_id, "11");
        assert_eq!(page.items[0].external_sub_id.as_deref(), Some("5"));
        assert_eq!(page.items[0].quantity, Some(3));
        assert_eq!(page.items[1].external_sub_id.as_deref(), Some("6"));
        assert_eq!(page.items[2].sku, "");
        assert!(page.items[2].not_settable.is_some());
        let next = catalogue_request(&t, page.next.as_ref().unwrap());
        assert!(next.body.unwrap().contains("\"after\":\"abc\""));
    }

    #[test]
    fn shopify_throttling_is_a_pause_not_an_empty_catalogue() {
        let t = target(StorefrontKind::Shopify);
        let err = catalogue_answer(
            &t,
            &Page::First,
            &answer(
                200,
                r#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}]}"#,
            ),
        )
        .unwrap_err();
        assert!(err.contains("slow down"), "{err}");
    }

    #[test]
    fn woocommerce_reads_products_then_each_variable_products_variations() {
        let t = target(StorefrontKind::Woocommerce);
        let first = catalogue_request(&t, &Page::First);
        assert!(first
            .url
            .contains("/wp-json/wc/v3/products?per_page=100&page=1"));
        let mut response = answer(
            200,
            r#"[{"id":7,"name":"Mug","sku":"MUG","type":"simple","stock_quantity":4},
               {"id":8,"name":"Tee","sku":"","type":"variable","stock_quantity":null}]"#,
        );
        response
            .headers
            .push(("x-wp-totalpages".into(), "1".into()));
        let page = catalogue_answer(&t, &Page::First, &response).unwrap();
        assert_eq!(page.items.len(), 1);
        assert_eq!(page.items[0].external_id, "7");
        assert_eq!(page.items[0].quantity, Some(4));
        let next = page.next.unwrap();
        assert_eq!(
            next,
            Page::WooVariations {
                parents: vec![Parent {
                    id: "8".into(),
                    name: "Tee".into()
                }],
                n: 1
            }
        );
        assert!(catalogue_request(&t, &next)
            .url
            .contains("/wp-json/wc/v3/products/8/variations?per_page=100&page=1"));
        let variations = catalogue_answer(
            &t,
            &next,
            &answer(200, r#"[{"id":81,"sku":"TEE-S","stock_quantity":2,"attributes":[{"name":"Size","option":"S"}]}]"#),
        )
        .unwrap();
        assert_eq!(variations.next, None);
        let v = &variations.items[0];
        assert_eq!(
            (v.external_id.as_str(), v.external_sub_id.as_deref()),
            ("8", Some("81"))
        );
        assert_eq!(v.title, "Tee - S");
        assert_eq!(v.sku, "TEE-S");
    }

    #[test]
    fn woocommerce_follows_total_pages_and_keeps_the_parents_met() {
        let t = target(StorefrontKind::Woocommerce);
        let mut response = answer(200, r#"[{"id":8,"name":"Tee","type":"variable"}]"#);
        response
            .headers
            .push(("x-wp-totalpages".into(), "3".into()));
        let page = catalogue_answer(
            &t,
            &Page::WooProducts {
                n: 2,
                parents: vec![],
            },
            &response,
        )
        .unwrap();
        assert_eq!(
            page.next,
            Some(Page::WooProducts {
                n: 3,
                parents: vec![Parent {
                    id: "8".into(),
                    name: "Tee".into()
                }]
            })
        );
    }

    #[test]
    fn bigcommerce_lists_variants_or_the_product_by_how_stock_is_tracked() {
        let t = target(StorefrontKind::Bigcommerce);
        assert!(catalogue_request(&t, &Page::First)
            .url
            .ends_with("/v3/catalog/products?include=variants&limit=250&page=1&sort=id"));
        let page = catalogue_answer(
            &t,
            &Page::First,
            &answer(
                200,
                r#"{"data":[
                 {"id":1,"name":"Mug","sku":"MUG","inventory_tracking":"product","inventory_level":5,"variants":[{"id":10,"sku":"MUG","inventory_level":0}]},
                 {"id":2,"name":"Tee","sku":"TEE","inventory_tracking":"variant","inventory_level":0,
                  "variants":[{"id":20,"sku":"TEE-S","inventory_level":2,"option_values":[{"label":"S"}]}]},
                 {"id":3,"name":"Download","sku":"DL","inventory_tracking":"none","variants":[]}],
                 "meta":{"pagination":{"total":3,"count":3,"per_page":250,"current_page":1,"total_pages":2}}}"#,
            ),
        )
        .unwrap();
        assert_eq!(page.next, Some(Page::Number { n: 2 }));
        let ids: Vec<&str> = page.items.iter().map(|i| i.external_id.as_str()).collect();
        assert_eq!(ids, ["product:1", "20", "product:3"]);
        assert_eq!(page.items[0].quantity, Some(5));
        assert_eq!(page.items[1].title, "Tee - S");
        assert_eq!(page.items[1].external_sub_id.as_deref(), Some("1"));
        assert!(page.items[2].not_settable.is_some());
    }

    #[test]
    fn ebay_pages_by_offset_and_reads_ship_to_location_quantity() {
        let t = target(StorefrontKind::Ebay);
        let page = catalogue_answer(
            &t,
            &Page::First,
            &answer(
                200,
                r#"{"total":150,"size":100,"limit":100,"next":"https://x/inventory_item?limit=100&offset=1",
                 "inventoryItems":[{"sku":"MUG","product":{"title":"Mug"},"inventoryItemGroupKeys":["MUGS"],
                 "availability":{"shipToLocationAvailability":{"quantity":7}}}]}"#,
            ),
        )
        .unwrap();
        assert_eq!(page.total, Some(150));
        // eBay's next link decides what the next offset is.
        assert_eq!(page.next, Some(Page::Number { n: 1 }));
        assert_eq!(page.items[0].quantity, Some(7));
        assert_eq!(page.items[0].group.as_deref(), Some("MUGS"));
        assert!(catalogue_request(&t, &Page::Number { n: 100 })
            .url
            .ends_with("/sell/inventory/v1/inventory_item?limit=100&offset=100"));
    }

    #[test]
    fn amazon_reads_merchant_quantities_and_marks_fba_listings() {
        let t = target(StorefrontKind::Amazon);
        let url = catalogue_request(
            &t,
            &Page::Token {
                token: "n/1".into(),
            },
        )
        .url;
        assert!(url.contains("/listings/2021-08-01/items/"), "{url}");
        assert!(url.contains("includedData=summaries,fulfillmentAvailability"));
        assert!(url.ends_with("&pageToken=n%2F1"));
        let page = catalogue_answer(
            &t,
            &Page::First,
            &answer(
                200,
                r#"{"numberOfResults":2,"pagination":{"nextToken":"t2"},"items":[
                 {"sku":"MUG","summaries":[{"marketplaceId":"ATVPDKIKX0DER","itemName":"Mug"}],
                  "fulfillmentAvailability":[{"fulfillmentChannelCode":"DEFAULT","quantity":3}]},
                 {"sku":"FBA-1","summaries":[],"fulfillmentAvailability":[{"fulfillmentChannelCode":"AMAZON_NA","quantity":9}]}]}"#,
            ),
        )
        .unwrap();
        assert_eq!(page.next, Some(Page::Token { token: "t2".into() }));
        assert_eq!(page.items[0].quantity, Some(3));
        assert_eq!(page.items[0].title, "Mug");
        assert!(page.items[0].not_settable.is_none());
        assert!(page.items[1].not_settable.is_some());
        assert_eq!(page.items[1].quantity, None);
    }

    #[test]
    fn refusals_say_what_to_give_the_credential() {
        for kind in StorefrontKind::ALL {
            let t = target(kind);
            let err = catalogue_answer(&t, &Page::First, &answer(403, "{}")).unwrap_err();
            assert!(
                err.contains("permission to read products"),
                "{kind:?}: {err}"
            );
            let err = catalogue_answer(&t, &Page::First, &answer(200, "not json")).unwrap_err();
            assert!(err.contains("could not be read"), "{kind:?}: {err}");
        }
    }

    #[test]
    fn pages_survive_being_stored_between_steps() {
        let page = Page::WooVariations {
            parents: vec![Parent {
                id: "8".into(),
                name: "Tee".into(),
            }],
            n: 2,
        };
        let text = serde_json::to_string(&page).unwrap();
        assert_eq!(serde_json::from_str::<Page>(&text).unwrap(), page);
    }
}
