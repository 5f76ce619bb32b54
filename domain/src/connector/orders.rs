//! Reading a storefront's orders back. Webhooks are best-effort by the platforms' own
//! documentation, so Tally also polls each connection for orders changed since a cursor,
//! and reads the lines of the orders a webhook or a list only names (BigCommerce, Amazon).
//! Polled orders take the same path as webhooks: the same (connection, order id) applies once.

use super::{
    base_url, encode_component, get_request, post_json, HttpRequest, HttpResponse, Target,
};
use crate::storefront::StorefrontKind;
use crate::webhook::{
    checked, non_empty, shopify_restocks, OrderEvent, SaleLine, WooOrder, BIGCOMMERCE_RESTORING,
};
use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::json;

/// Polls re-read this much before the cursor: the platforms stamp orders to the second, and
/// an order changed in the cursor's own second may not have been listed yet. Applying an
/// order twice changes nothing, so the overlap is free.
pub const OVERLAP_MS: i64 = 2_000;

/// Pages one poll reads at most; the rest waits for the next poll (the cursor moved).
pub const MAX_PAGES: usize = 5;

/// Which page of a poll to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    First,
    /// The platform's cursor, page number, offset or token for the next page.
    Next(String),
}

/// One page of a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Polled {
    pub orders: Vec<PolledOrder>,
    pub next: Option<Page>,
}

/// An order the storefront listed, with what it asks of Tally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolledOrder {
    pub order_id: String,
    /// When it last changed, in ms since the epoch (`None` when the platform's date could not
    /// be read; the cursor then stays where it was).
    pub modified_ms: Option<i64>,
    pub event: OrderEvent,
    /// The order's refunds that restock units ([`OrderEvent::Restocked`], oldest first), to
    /// apply after `event`; each applies once per refund id. Shopify lists them with the
    /// order; the other platforms report a refund as the order's status.
    pub refunds: Vec<OrderEvent>,
}

const SHOPIFY_ORDERS: &str = "query TallyOrders($first: Int!, $after: String, $query: String!) { orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) { nodes { legacyResourceId updatedAt cancelledAt lineItems(first: 100) { nodes { sku quantity variant { legacyResourceId inventoryItem { legacyResourceId } } } } refunds(first: 20) { legacyResourceId refundLineItems(first: 100) { nodes { quantity restockType lineItem { sku variant { legacyResourceId inventoryItem { legacyResourceId } } } } } } } pageInfo { hasNextPage endCursor } } }";

const SHOPIFY_VARIANTS: &str = "query TallyVariants($ids: [ID!]!) { nodes(ids: $ids) { ... on ProductVariant { legacyResourceId inventoryItem { legacyResourceId } } } }";

/// Variants one lookup names at most (Shopify's `nodes` takes 250 ids).
pub const VARIANTS_PER_LOOKUP: usize = 250;

/// The lookup of the inventory item behind each Shopify variant: a webhook's lines name
/// variants, while a Shopify listing is an inventory item (at a location).
pub fn shopify_variants_request(target: &Target, variant_ids: &[String]) -> HttpRequest {
    let ids: Vec<String> = variant_ids
        .iter()
        .take(VARIANTS_PER_LOOKUP)
        .map(|id| format!("gid://shopify/ProductVariant/{id}"))
        .collect();
    post_json(
        target,
        format!(
            "{}/admin/api/{}/graphql.json",
            base_url(target),
            super::shopify::API_VERSION
        ),
        &json!({ "query": SHOPIFY_VARIANTS, "variables": { "ids": ids } }),
    )
}

/// `(variant id, inventory item id)` for each variant the lookup found; an unknown variant
/// (a `null` node) is left out.
pub fn shopify_variant_items(response: &HttpResponse) -> Result<Vec<(String, String)>, String> {
    #[derive(Deserialize)]
    struct Answer {
        data: Option<Data>,
    }
    #[derive(Deserialize)]
    struct Data {
        nodes: Vec<Option<Node>>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Node {
        legacy_resource_id: Option<String>,
        inventory_item: Option<Legacy>,
    }
    if !(200..300).contains(&response.status) {
        return Err(format!("Shopify answered {}", response.status));
    }
    let answer: Answer = serde_json::from_str(&response.body)
        .map_err(|e| format!("Shopify's variants could not be read: {e}"))?;
    let nodes = answer
        .data
        .ok_or("Shopify's answer held no variants")?
        .nodes;
    Ok(nodes
        .into_iter()
        .flatten()
        .filter_map(|n| Some((n.legacy_resource_id?, n.inventory_item?.legacy_resource_id)))
        .collect())
}

/// The request for the orders changed since `since_ms` (less [`OVERLAP_MS`]), oldest first.
pub fn poll_request(target: &Target, since_ms: i64, page: &Page) -> HttpRequest {
    let base = base_url(target);
    let since = since_ms.saturating_sub(OVERLAP_MS).max(0);
    let next = match page {
        Page::First => None,
        Page::Next(n) => Some(n.as_str()),
    };
    match target.kind {
        StorefrontKind::Shopify => post_json(
            target,
            format!(
                "{base}/admin/api/{}/graphql.json",
                super::shopify::API_VERSION
            ),
            &json!({ "query": SHOPIFY_ORDERS, "variables": {
                "first": 50, "after": next,
                "query": format!("updated_at:>='{}'", iso(since, SecondsFormat::Secs)) } }),
        ),
        StorefrontKind::Woocommerce => {
            // `modified_after` is GMT without a zone when `dates_are_gmt` is set.
            let after = iso(since, SecondsFormat::Secs);
            get_request(
                target,
                format!(
                    "{base}/wp-json/wc/v3/orders?modified_after={}&dates_are_gmt=true\
                     &orderby=modified&order=asc&per_page=100&page={}",
                    encode_component(after.trim_end_matches('Z')),
                    next.unwrap_or("1")
                ),
            )
        }
        StorefrontKind::Bigcommerce => get_request(
            target,
            format!(
                "{base}/v2/orders?min_date_modified={}&sort=date_modified:asc&limit=50&page={}",
                encode_component(&iso(since, SecondsFormat::Secs)),
                next.unwrap_or("1")
            ),
        ),
        StorefrontKind::Ebay => get_request(
            target,
            format!(
                "{base}/sell/fulfillment/v1/order?filter={}&limit=200&offset={}",
                encode_component(&format!(
                    "lastmodifieddate:[{}..]",
                    iso(since, SecondsFormat::Millis)
                )),
                next.unwrap_or("0")
            ),
        ),
        StorefrontKind::Amazon => {
            let (_, marketplace) = super::amazon::account(target);
            let mut url = format!(
                "{base}/orders/v0/orders?MarketplaceIds={}&LastUpdatedAfter={}",
                encode_component(marketplace),
                encode_component(&iso(since, SecondsFormat::Secs))
            );
            if let Some(token) = next {
                url.push_str(&format!("&NextToken={}", encode_component(token)));
            }
            get_request(target, url)
        }
        StorefrontKind::Vendure => {
            super::vendure::poll_request(target, &iso(since, SecondsFormat::Millis), page)
        }
    }
}

/// The orders in the answer to [`poll_request`] for `page`, or what went wrong, worded for
/// the storefront's page.
pub fn poll_answer(
    target: &Target,
    page: &Page,
    response: &HttpResponse,
) -> Result<Polled, String> {
    let platform = target.kind.label();
    match response.status {
        // BigCommerce answers "no orders" with 204 and no body.
        204 => {
            return Ok(Polled {
                orders: Vec::new(),
                next: None,
            })
        }
        200..=299 => {}
        401 | 403 => {
            return Err(format!(
                "{platform} refused to list orders (HTTP {}): give the connection's credential \
                 permission to read orders.",
                response.status
            ))
        }
        status => {
            return Err(format!(
                "{platform} did not list its orders (HTTP {status}); Tally tries again at the \
                 next poll."
            ))
        }
    }
    let unreadable =
        |e: serde_json::Error| format!("{platform}'s order list could not be read: {e}");
    let number = match page {
        Page::First => 1,
        Page::Next(n) => n.parse::<u64>().unwrap_or(1),
    };
    match target.kind {
        StorefrontKind::Shopify => shopify_page(&response.body),
        StorefrontKind::Woocommerce => {
            let orders: Vec<WooOrder> = serde_json::from_str(&response.body).map_err(unreadable)?;
            let pages: u64 = response
                .header("x-wp-totalpages")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(1);
            Ok(Polled {
                orders: orders
                    .into_iter()
                    .map(woo_order)
                    .collect::<Result<_, _>>()?,
                next: (number < pages).then(|| Page::Next((number + 1).to_string())),
            })
        }
        StorefrontKind::Bigcommerce => {
            let orders: Vec<BigCommerceOrder> =
                serde_json::from_str(&response.body).map_err(unreadable)?;
            let full = orders.len() == 50;
            Ok(Polled {
                orders: orders.into_iter().map(bigcommerce_order).collect(),
                next: full.then(|| Page::Next((number + 1).to_string())),
            })
        }
        StorefrontKind::Ebay => {
            let list: EbayOrders = serde_json::from_str(&response.body).map_err(unreadable)?;
            let offset = match page {
                Page::First => 0,
                Page::Next(n) => n.parse::<u64>().unwrap_or(0),
            };
            let next = list
                .next
                .is_some()
                .then(|| Page::Next((offset + list.limit.unwrap_or(200)).to_string()));
            Ok(Polled {
                orders: list
                    .orders
                    .into_iter()
                    .map(ebay_order)
                    .collect::<Result<_, _>>()?,
                next,
            })
        }
        StorefrontKind::Amazon => {
            let list: AmazonOrders = serde_json::from_str(&response.body).map_err(unreadable)?;
            Ok(Polled {
                next: list.payload.next_token.map(Page::Next),
                orders: list.payload.orders.into_iter().map(amazon_order).collect(),
            })
        }
        StorefrontKind::Vendure => super::vendure::poll_page(page, response),
    }
}

/// `ms` as an ISO 8601 UTC time.
fn iso(ms: i64, precision: SecondsFormat) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(precision, true)
}

fn rfc3339_ms(text: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|t| t.timestamp_millis())
}

#[derive(Deserialize)]
struct ShopifyAnswer {
    data: Option<ShopifyData>,
    #[serde(default)]
    errors: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct ShopifyData {
    orders: Connection<ShopifyOrder>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection<T> {
    nodes: Vec<T>,
    #[serde(default)]
    page_info: Option<PageInfo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShopifyOrder {
    legacy_resource_id: String,
    updated_at: String,
    cancelled_at: Option<String>,
    line_items: Connection<ShopifyLine>,
    #[serde(default)]
    refunds: Vec<ShopifyRefund>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShopifyRefund {
    legacy_resource_id: String,
    refund_line_items: Connection<ShopifyRefundLine>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShopifyRefundLine {
    quantity: i64,
    restock_type: Option<String>,
    line_item: ShopifyItem,
}

impl ShopifyItem {
    /// The line with `quantity` units. Shopify's listings are its inventory items, so the
    /// line names its item.
    fn sale(self, quantity: i64) -> SaleLine {
        SaleLine {
            external_id: self
                .variant
                .and_then(|v| v.inventory_item)
                .map(|i| i.legacy_resource_id),
            sku: non_empty(self.sku),
            quantity,
        }
    }
}

/// The refund as Tally applies it: only lines that go back on the shelf (`NO_RESTOCK` keeps
/// the units off, as the webhook path does).
fn shopify_restock(order_id: &str, refund: ShopifyRefund) -> Result<OrderEvent, String> {
    let lines = refund
        .refund_line_items
        .nodes
        .into_iter()
        .filter(|l| shopify_restocks(l.restock_type.as_deref()))
        .map(|l| l.line_item.sale(l.quantity))
        .collect();
    Ok(OrderEvent::Restocked {
        order_id: order_id.to_owned(),
        lines: checked(lines).map_err(|e| {
            format!(
                "Shopify order {order_id} refund {}: {e}",
                refund.legacy_resource_id
            )
        })?,
        refund_id: refund.legacy_resource_id,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShopifyLine {
    quantity: i64,
    #[serde(flatten)]
    item: ShopifyItem,
}

/// What a line sold: the variant's inventory item, and its SKU.
#[derive(Deserialize)]
struct ShopifyItem {
    sku: Option<String>,
    variant: Option<ShopifyVariant>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShopifyVariant {
    inventory_item: Option<Legacy>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Legacy {
    legacy_resource_id: String,
}

fn shopify_page(body: &str) -> Result<Polled, String> {
    let answer: ShopifyAnswer = serde_json::from_str(body)
        .map_err(|e| format!("Shopify's order list could not be read: {e}"))?;
    if let Some(errors) = answer.errors {
        let text = errors.to_string();
        return Err(if text.contains("THROTTLED") {
            "Shopify asked Tally to slow down; the next poll reads the orders.".to_owned()
        } else {
            format!(
                "Shopify refused to list orders: {}. Check the access token has the read_orders \
                 scope.",
                text.chars().take(200).collect::<String>()
            )
        });
    }
    let orders = answer
        .data
        .ok_or("Shopify's answer held no orders.")?
        .orders;
    let next = orders
        .page_info
        .filter(|p| p.has_next_page)
        .and_then(|p| p.end_cursor)
        .map(Page::Next);
    let orders = orders
        .nodes
        .into_iter()
        .map(|o| {
            let order_id = o.legacy_resource_id;
            let event = if o.cancelled_at.is_some() {
                OrderEvent::Cancelled {
                    order_id: order_id.clone(),
                }
            } else {
                let lines = o
                    .line_items
                    .nodes
                    .into_iter()
                    .map(|l| l.item.sale(l.quantity))
                    .collect();
                OrderEvent::Placed {
                    order_id: order_id.clone(),
                    lines: checked(lines).map_err(|e| format!("Shopify order {order_id}: {e}"))?,
                }
            };
            let refunds = o
                .refunds
                .into_iter()
                .map(|r| shopify_restock(&order_id, r))
                .collect::<Result<_, String>>()?;
            Ok(PolledOrder {
                modified_ms: rfc3339_ms(&o.updated_at),
                order_id,
                event,
                refunds,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(Polled { orders, next })
}

/// WooCommerce takes stock when an order is paid for (processing, on hold, completed) and
/// gives it back when the order is cancelled or refunded.
fn woo_order(order: WooOrder) -> Result<PolledOrder, String> {
    let order_id = order.id.to_string();
    let modified_ms = order
        .date_modified_gmt
        .as_deref()
        .and_then(|t| NaiveDateTime::parse_from_str(t.trim(), "%Y-%m-%dT%H:%M:%S").ok())
        .map(|t| t.and_utc().timestamp_millis());
    let event = match order.status.as_str() {
        "processing" | "on-hold" | "completed" => OrderEvent::Placed {
            order_id: order_id.clone(),
            lines: order
                .sale_lines()
                .map_err(|e| format!("WooCommerce order {order_id}: {e}"))?,
        },
        "cancelled" | "refunded" => OrderEvent::Cancelled {
            order_id: order_id.clone(),
        },
        _ => OrderEvent::Nothing {
            why: "an order not yet paid for",
        },
    };
    Ok(PolledOrder {
        order_id,
        modified_ms,
        event,
        refunds: Vec::new(),
    })
}

#[derive(Deserialize)]
struct BigCommerceOrder {
    id: u64,
    status_id: u32,
    #[serde(default)]
    date_modified: Option<String>,
}

/// BigCommerce lists orders without their lines: an order that took stock is read again.
fn bigcommerce_order(order: BigCommerceOrder) -> PolledOrder {
    let order_id = order.id.to_string();
    let event = if BIGCOMMERCE_RESTORING.contains(&order.status_id) {
        OrderEvent::Cancelled {
            order_id: order_id.clone(),
        }
    } else if order.status_id == 0 {
        OrderEvent::Nothing {
            why: "an incomplete checkout",
        }
    } else {
        OrderEvent::FetchOrder {
            order_id: order_id.clone(),
            cancelled: false,
        }
    };
    PolledOrder {
        modified_ms: order
            .date_modified
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc2822(t.trim()).ok())
            .map(|t| t.timestamp_millis()),
        order_id,
        event,
        refunds: Vec::new(),
    }
}

#[derive(Deserialize)]
struct EbayOrders {
    #[serde(default)]
    orders: Vec<EbayOrder>,
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EbayOrder {
    order_id: String,
    #[serde(default)]
    last_modified_date: Option<String>,
    #[serde(default)]
    cancel_status: Option<EbayCancel>,
    #[serde(default)]
    line_items: Vec<EbayLine>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EbayCancel {
    cancel_state: String,
}

#[derive(Deserialize)]
struct EbayLine {
    #[serde(default)]
    sku: Option<String>,
    quantity: i64,
}

/// eBay's listings are its inventory SKUs, so a line's SKU is also its listing id.
fn ebay_order(order: EbayOrder) -> Result<PolledOrder, String> {
    let order_id = order.order_id;
    let cancelled = order
        .cancel_status
        .is_some_and(|c| c.cancel_state == "CANCELED");
    let event = if cancelled {
        OrderEvent::Cancelled {
            order_id: order_id.clone(),
        }
    } else {
        let lines = order
            .line_items
            .into_iter()
            .map(|l| {
                let sku = non_empty(l.sku);
                SaleLine {
                    external_id: sku.clone(),
                    sku,
                    quantity: l.quantity,
                }
            })
            .collect();
        OrderEvent::Placed {
            order_id: order_id.clone(),
            lines: checked(lines).map_err(|e| format!("eBay order {order_id}: {e}"))?,
        }
    };
    Ok(PolledOrder {
        modified_ms: order.last_modified_date.as_deref().and_then(rfc3339_ms),
        order_id,
        event,
        refunds: Vec::new(),
    })
}

#[derive(Deserialize)]
struct AmazonOrders {
    payload: AmazonOrdersPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AmazonOrdersPayload {
    #[serde(default)]
    orders: Vec<AmazonOrder>,
    #[serde(default)]
    next_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AmazonOrder {
    amazon_order_id: String,
    order_status: String,
    #[serde(default)]
    last_update_date: Option<String>,
}

/// Amazon lists orders without their items; a pending order has not taken stock yet.
fn amazon_order(order: AmazonOrder) -> PolledOrder {
    let order_id = order.amazon_order_id;
    let event = match order.order_status.as_str() {
        "Canceled" => OrderEvent::Cancelled {
            order_id: order_id.clone(),
        },
        "Pending" | "PendingAvailability" => OrderEvent::Nothing {
            why: "an order Amazon has not confirmed",
        },
        _ => OrderEvent::FetchOrder {
            order_id: order_id.clone(),
            cancelled: false,
        },
    };
    PolledOrder {
        modified_ms: order.last_update_date.as_deref().and_then(rfc3339_ms),
        order_id,
        event,
        refunds: Vec::new(),
    }
}

/// The request that reads an order's lines, for the platforms whose webhooks and order lists
/// leave them out: BigCommerce's `GET /v2/orders/{id}/products`, Amazon's
/// `getOrderItems`. `None` for the others, or for an id that cannot be one of theirs.
pub fn lines_request(target: &Target, order_id: &str) -> Option<HttpRequest> {
    let base = base_url(target);
    match target.kind {
        StorefrontKind::Bigcommerce => {
            // Order ids are BigCommerce's integers; anything else cannot name one of its orders.
            let id: u64 = order_id.parse().ok()?;
            Some(get_request(
                target,
                format!("{base}/v2/orders/{id}/products?limit=250"),
            ))
        }
        StorefrontKind::Amazon => {
            let plain =
                !order_id.is_empty() && order_id.chars().all(|c| c.is_ascii_digit() || c == '-');
            plain.then(|| {
                get_request(
                    target,
                    format!("{base}/orders/v0/orders/{order_id}/orderItems"),
                )
            })
        }
        _ => None,
    }
}

#[derive(Deserialize)]
struct BigCommerceOrderProduct {
    #[serde(default)]
    variant_id: Option<u64>,
    #[serde(default)]
    sku: Option<String>,
    quantity: i64,
}

#[derive(Deserialize)]
struct AmazonItems {
    payload: AmazonItemsPayload,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AmazonItemsPayload {
    #[serde(default)]
    order_items: Vec<AmazonItem>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AmazonItem {
    #[serde(default, rename = "SellerSKU")]
    seller_sku: Option<String>,
    quantity_ordered: i64,
}

/// The lines in the answer to [`lines_request`], or what went wrong, worded for the
/// connection's Incoming log.
pub fn lines(kind: StorefrontKind, response: &HttpResponse) -> Result<Vec<SaleLine>, String> {
    let platform = kind.label();
    match response.status {
        200..=299 => {}
        401 | 403 => {
            return Err(format!(
                "{platform} refused to show the order (HTTP {}): check the connection's \
                 credential may read orders (BigCommerce: the Orders read scope)",
                response.status
            ))
        }
        404 => return Err(format!("{platform} has no such order")),
        status => {
            return Err(format!(
                "{platform} did not show the order (HTTP {status}); Tally will try again"
            ))
        }
    }
    let unreadable =
        |e: serde_json::Error| format!("{platform}'s order lines could not be read: {e}");
    let lines = match kind {
        StorefrontKind::Amazon => {
            let items: AmazonItems = serde_json::from_str(&response.body).map_err(unreadable)?;
            items
                .payload
                .order_items
                .into_iter()
                .map(|i| {
                    // Amazon's listings are the seller's SKUs.
                    let sku = non_empty(i.seller_sku);
                    SaleLine {
                        external_id: sku.clone(),
                        sku,
                        quantity: i.quantity_ordered,
                    }
                })
                .collect()
        }
        _ => {
            let products: Vec<BigCommerceOrderProduct> =
                serde_json::from_str(&response.body).map_err(unreadable)?;
            products
                .into_iter()
                .map(|p| SaleLine {
                    external_id: p.variant_id.filter(|id| *id != 0).map(|id| id.to_string()),
                    sku: non_empty(p.sku),
                    quantity: p.quantity,
                })
                .collect()
        }
    };
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::Method;

    fn target(kind: StorefrontKind) -> Target {
        Target {
            kind,
            base_url: "https://api.bigcommerce.com/stores/abc123/".to_owned(),
            credential: "token".to_owned(),
            store_ref: None,
            keys_in_query: false,
        }
    }

    fn answer(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    #[test]
    fn bigcommerce_orders_are_read_by_id_with_the_token() {
        let request = lines_request(&target(StorefrontKind::Bigcommerce), "250").unwrap();
        assert_eq!(request.method, Method::Get);
        assert_eq!(
            request.url,
            "https://api.bigcommerce.com/stores/abc123/v2/orders/250/products?limit=250"
        );
        assert!(request
            .headers
            .contains(&("X-Auth-Token".to_owned(), "token".to_owned())));
        assert!(lines_request(&target(StorefrontKind::Bigcommerce), "../x").is_none());
        assert!(lines_request(&target(StorefrontKind::Shopify), "250").is_none());
    }

    #[test]
    fn order_products_become_sale_lines() {
        let body = r#"[{"id":1,"order_id":250,"product_id":77,"variant_id":501,"sku":"SCARF-R",
            "quantity":2,"name":"Scarf"},{"id":2,"variant_id":0,"sku":" ","quantity":1}]"#;
        assert_eq!(
            lines(StorefrontKind::Bigcommerce, &answer(200, body)),
            Ok(vec![
                SaleLine {
                    external_id: Some("501".into()),
                    sku: Some("SCARF-R".into()),
                    quantity: 2
                },
                SaleLine {
                    external_id: None,
                    sku: None,
                    quantity: 1
                },
            ])
        );
        assert!(lines(StorefrontKind::Bigcommerce, &answer(401, "{}"))
            .unwrap_err()
            .contains("Orders read scope"));
        assert!(lines(StorefrontKind::Bigcommerce, &answer(200, "not json")).is_err());
    }

    fn target_of(kind: StorefrontKind, base: &str) -> Target {
        Target {
            kind,
            base_url: base.to_owned(),
            credential: "token".to_owned(),
            store_ref: Some("A1SELLER:A1PHAD".to_owned()),
            keys_in_query: false,
        }
    }

    /// 2026-12-03T10:00:00Z.
    const SINCE: i64 = 1_796_292_000_000;

    #[test]
    fn polls_ask_for_orders_changed_since_the_cursor_less_the_overlap() {
        let shopify = poll_request(
            &target_of(StorefrontKind::Shopify, "https://s.example"),
            SINCE,
            &Page::First,
        );
        let body: serde_json::Value =
            serde_json::from_str(shopify.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            body["variables"]["query"],
            "updated_at:>='2026-12-03T09:59:58Z'"
        );
        assert_eq!(body["variables"]["after"], serde_json::Value::Null);
        let next = poll_request(
            &target_of(StorefrontKind::Shopify, "https://s.example"),
            SINCE,
            &Page::Next("c1".into()),
        );
        assert!(next.body.unwrap().contains("\"after\":\"c1\""));

        // (kind, base URL, page, the URL asked for)
        let lists = [
            (StorefrontKind::Woocommerce, "https://w.example/", Page::Next("2".into()),
             "https://w.example/wp-json/wc/v3/orders?modified_after=2026-12-03T09%3A59%3A58&dates_are_gmt=true&orderby=modified&order=asc&per_page=100&page=2"),
            (StorefrontKind::Bigcommerce, "https://b.example", Page::First,
             "https://b.example/v2/orders?min_date_modified=2026-12-03T09%3A59%3A58Z&sort=date_modified:asc&limit=50&page=1"),
            (StorefrontKind::Ebay, "https://e.example", Page::First,
             "https://e.example/sell/fulfillment/v1/order?filter=lastmodifieddate%3A%5B2026-12-03T09%3A59%3A58.000Z..%5D&limit=200&offset=0"),
            (StorefrontKind::Amazon, "https://a.example", Page::Next("tok/1".into()),
             "https://a.example/orders/v0/orders?MarketplaceIds=A1PHAD&LastUpdatedAfter=2026-12-03T09%3A59%3A58Z&NextToken=tok%2F1"),
        ];
        for (kind, base, page, url) in lists {
            let request = poll_request(&target_of(kind, base), SINCE, &page);
            assert_eq!(
                (request.method, request.url.as_str()),
                (Method::Get, url),
                "{kind:?}"
            );
            assert!(request.body.is_none(), "{kind:?}");
        }
        let amazon = poll_request(
            &target_of(StorefrontKind::Amazon, "https://a"),
            SINCE,
            &Page::First,
        );
        assert!(amazon
            .headers
            .contains(&("x-amz-access-token".to_owned(), "token".to_owned())));
    }

    #[test]
    fn a_webhooks_variants_are_looked_up_as_inventory_items() {
        let t = target_of(StorefrontKind::Shopify, "https://s.example");
        let request = shopify_variants_request(&t, &["44".into(), "45".into()]);
        assert_eq!(
            request.url,
            "https://s.example/admin/api/2026-04/graphql.json"
        );
        let sent: serde_json::Value =
            serde_json::from_str(request.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            sent["variables"]["ids"],
            json!([
                "gid://shopify/ProductVariant/44",
                "gid://shopify/ProductVariant/45"
            ])
        );
        let body = r#"{"data":{"nodes":[{"legacyResourceId":"44","inventoryItem":{"legacyResourceId":"4401"}},null]}}"#;
        assert_eq!(
            shopify_variant_items(&answer(200, body)),
            Ok(vec![("44".to_owned(), "4401".to_owned())])
        );
        assert!(shopify_variant_items(&answer(503, "down")).is_err());
    }

    #[test]
    fn shopify_lists_sales_by_inventory_item_refunds_and_cancellations() {
        let body = r#"{"data":{"orders":{"nodes":[
            {"legacyResourceId":"6001","updatedAt":"2026-12-03T10:00:05Z","cancelledAt":null,
             "lineItems":{"nodes":[{"sku":"MUG-1","quantity":2,"variant":{"legacyResourceId":"9","inventoryItem":{"legacyResourceId":"4401"}}}]},
             "refunds":[{"legacyResourceId":"77","refundLineItems":{"nodes":[
               {"quantity":1,"restockType":"RETURN","lineItem":{"sku":"MUG-1","variant":{"legacyResourceId":"9","inventoryItem":{"legacyResourceId":"4401"}}}},
               {"quantity":1,"restockType":"NO_RESTOCK","lineItem":{"sku":"CAP-2","variant":null}}]}}]},
            {"legacyResourceId":"6002","updatedAt":"2026-12-03T10:00:06Z","cancelledAt":"2026-12-03T10:00:06Z",
             "lineItems":{"nodes":[]}}],
            "pageInfo":{"hasNextPage":true,"endCursor":"c2"}}}}"#;
        let t = target_of(StorefrontKind::Shopify, "https://s");
        let polled = poll_answer(&t, &Page::First, &answer(200, body)).unwrap();
        assert_eq!(polled.next, Some(Page::Next("c2".into())));
        assert_eq!(
            polled.orders[0],
            PolledOrder {
                order_id: "6001".into(),
                modified_ms: Some(SINCE + 5_000),
                event: OrderEvent::Placed {
                    order_id: "6001".into(),
                    lines: vec![SaleLine {
                        external_id: Some("4401".into()),
                        sku: Some("MUG-1".into()),
                        quantity: 2
                    }]
                },
                // Only the restocked line goes back; the refund applies once by its id.
                refunds: vec![OrderEvent::Restocked {
                    order_id: "6001".into(),
                    refund_id: "77".into(),
                    lines: vec![SaleLine {
                        external_id: Some("4401".into()),
                        sku: Some("MUG-1".into()),
                        quantity: 1
                    }]
                }],
            }
        );
        assert_eq!(
            polled.orders[1].event,
            OrderEvent::Cancelled {
                order_id: "6002".into()
            }
        );
        let throttled = r#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}]}"#;
        assert!(poll_answer(&t, &Page::First, &answer(200, throttled))
            .unwrap_err()
            .contains("slow down"));
    }

    #[test]
    fn woocommerce_takes_stock_for_paid_orders_and_pages_by_header() {
        let body = r#"[{"id":101,"status":"processing","date_modified_gmt":"2026-12-03T10:00:05",
              "line_items":[{"product_id":88,"variation_id":8802,"sku":"SOCK","quantity":1}]},
             {"id":102,"status":"pending","date_modified_gmt":"2026-12-03T10:00:06","line_items":[]},
             {"id":103,"status":"refunded","date_modified_gmt":"bad","line_items":[]}]"#;
        let mut response = answer(200, body);
        response
            .headers
            .push(("x-wp-totalpages".into(), "3".into()));
        let t = target_of(StorefrontKind::Woocommerce, "https://w");
        let polled = poll_answer(&t, &Page::Next("2".into()), &response).unwrap();
        assert_eq!(polled.next, Some(Page::Next("3".into())));
        assert_eq!(polled.orders[0].modified_ms, Some(SINCE + 5_000));
        assert!(
            matches!(&polled.orders[0].event, OrderEvent::Placed { lines, .. }
            if lines[0].external_id.as_deref() == Some("8802"))
        );
        assert!(matches!(polled.orders[1].event, OrderEvent::Nothing { .. }));
        assert_eq!(polled.orders[2].modified_ms, None);
        assert!(matches!(
            polled.orders[2].event,
            OrderEvent::Cancelled { .. }
        ));
        let last = poll_answer(&t, &Page::Next("3".into()), &response).unwrap();
        assert_eq!(last.next, None);
    }

    #[test]
    fn bigcommerce_lists_ids_to_read_and_204_means_none() {
        let t = target_of(StorefrontKind::Bigcommerce, "https://b");
        let body = r#"[{"id":250,"status_id":11,"date_modified":"Thu, 03 Dec 2026 10:00:05 +0000"},
                       {"id":251,"status_id":5,"date_modified":"Thu, 03 Dec 2026 10:00:06 +0000"}]"#;
        let polled = poll_answer(&t, &Page::First, &answer(200, body)).unwrap();
        assert_eq!(polled.next, None);
        assert_eq!(polled.orders[0].modified_ms, Some(SINCE + 5_000));
        assert_eq!(
            polled.orders[0].event,
            OrderEvent::FetchOrder {
                order_id: "250".into(),
                cancelled: false
            }
        );
        assert!(matches!(
            polled.orders[1].event,
            OrderEvent::Cancelled { .. }
        ));
        let none = poll_answer(&t, &Page::First, &answer(204, "")).unwrap();
        assert!(none.orders.is_empty());
    }

    #[test]
    fn ebay_and_amazon_orders_become_events() {
        let ebay = r#"{"total":2,"limit":200,"offset":0,"next":"https://e/next","orders":[
            {"orderId":"27-1-1","lastModifiedDate":"2026-12-03T10:00:05.000Z","cancelStatus":{"cancelState":"NONE_REQUESTED"},
             "lineItems":[{"sku":"CAP-1","quantity":3,"legacyItemId":"11"}]},
            {"orderId":"27-1-2","cancelStatus":{"cancelState":"CANCELED"},"lineItems":[]}]}"#;
        let t = target_of(StorefrontKind::Ebay, "https://e");
        let polled = poll_answer(&t, &Page::First, &answer(200, ebay)).unwrap();
        assert_eq!(polled.next, Some(Page::Next("200".into())));
        assert!(
            matches!(&polled.orders[0].event, OrderEvent::Placed { lines, .. }
            if lines[0].external_id.as_deref() == Some("CAP-1") && lines[0].quantity == 3)
        );
        assert!(matches!(
            polled.orders[1].event,
            OrderEvent::Cancelled { .. }
        ));

        let amazon = r#"{"payload":{"Orders":[
            {"AmazonOrderId":"111-1-1","OrderStatus":"Unshipped","LastUpdateDate":"2026-12-03T10:00:05Z"},
            {"AmazonOrderId":"111-1-2","OrderStatus":"Pending"}],"NextToken":"n2"}}"#;
        let t = target_of(StorefrontKind::Amazon, "https://a");
        let polled = poll_answer(&t, &Page::First, &answer(200, amazon)).unwrap();
        assert_eq!(polled.next, Some(Page::Next("n2".into())));
        assert!(matches!(
            polled.orders[0].event,
            OrderEvent::FetchOrder { .. }
        ));
        assert!(matches!(polled.orders[1].event, OrderEvent::Nothing { .. }));
        let request = lines_request(&t, "111-1-1").unwrap();
        assert_eq!(request.url, "https://a/orders/v0/orders/111-1-1/orderItems");
        assert!(lines_request(&t, "../x").is_none());
        let items = r#"{"payload":{"AmazonOrderId":"111-1-1","OrderItems":[{"SellerSKU":"CAP-1","QuantityOrdered":2,"ASIN":"B0"}]}}"#;
        assert_eq!(
            lines(StorefrontKind::Amazon, &answer(200, items)),
            Ok(vec![SaleLine {
                external_id: Some("CAP-1".into()),
                sku: Some("CAP-1".into()),
                quantity: 2
            }])
        );
    }

    #[test]
    fn refusals_say_what_to_do() {
        let t = target_of(StorefrontKind::Woocommerce, "https://w");
        let message = poll_answer(&t, &Page::First, &answer(401, "{}")).unwrap_err();
        assert!(message.contains("permission to read orders"), "{message}");
        let message = poll_answer(&t, &Page::First, &answer(503, "")).unwrap_err();
        assert!(message.contains("next poll"), "{message}");
    }
}
