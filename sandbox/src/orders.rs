//! Orders on the sandbox storefronts, in each platform's shapes: the API calls that subscribe
//! webhooks and list orders (answered here before the platform's inventory calls), and the
//! webhook bodies the storefront sends when an order is placed or cancelled.
//!
//! - Shopify (GraphQL): `webhookSubscriptionCreate`, `orders(query: "updated_at:>='…'")`
//! - WooCommerce: `POST /wp-json/wc/v3/webhooks`, `GET /wp-json/wc/v3/orders?modified_after=`
//! - BigCommerce: `POST /v3/hooks`, `GET /v2/orders?min_date_modified=`,
//!   `GET /v2/orders/{id}/products`
//! - eBay: `GET /sell/fulfillment/v1/order?filter=lastmodifieddate:[…..]`
//! - Amazon: `GET /orders/v0/orders?LastUpdatedAfter=`, `GET /orders/v0/orders/{id}/orderItems`
//!
//! Times are to the second, as the platforms give them.

use crate::api::ApiRequest;
use crate::platform::Reply;
use crate::store::State;
use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use tally_sandbox::{Kind, RefundLine, SandboxOrder, SandboxRefund, Subscription};

const SHOPIFY_PATH: &str = "/admin/api/2026-04/graphql.json";
const SHOPIFY_TOPICS: [&str; 3] = ["ORDERS_CREATE", "ORDERS_CANCELLED", "REFUNDS_CREATE"];
const WOO_TOPICS: [&str; 2] = ["order.created", "order.updated"];
const BIGCOMMERCE_SCOPES: [&str; 2] = ["store/order/created", "store/order/statusUpdated"];
/// What a page of orders costs on Shopify's bucket.
const ORDERS_COST: f64 = 5.0;

/// The platform's id for the `serial`th order.
pub fn order_id(kind: Kind, serial: u64) -> String {
    match kind {
        Kind::Shopify => (6_000_000_000 + serial).to_string(),
        Kind::Woocommerce | Kind::Bigcommerce => (100 + serial).to_string(),
        Kind::Ebay => format!("27-{serial:05}-{serial:05}"),
        Kind::Amazon => format!("111-{serial:07}-{serial:07}"),
    }
}

/// The topics told of a new order.
pub fn created_topics(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Shopify => &["ORDERS_CREATE"],
        Kind::Woocommerce => &["order.created"],
        Kind::Bigcommerce => &["store/order/created"],
        Kind::Ebay | Kind::Amazon => &[],
    }
}

/// The topics told of a cancelled order.
pub fn cancelled_topics(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Shopify => &["ORDERS_CANCELLED"],
        Kind::Woocommerce => &["order.updated"],
        Kind::Bigcommerce => &["store/order/statusUpdated"],
        Kind::Ebay | Kind::Amazon => &[],
    }
}

/// Answers the call if it is about webhooks or orders; `None` leaves it to the platform's
/// inventory handler.
pub fn api(kind: Kind, request: &ApiRequest, state: &mut State) -> Option<Reply> {
    let path = bigcommerce_path(&request.path);
    match (kind, request.method.as_str(), path) {
        (Kind::Shopify, "POST", SHOPIFY_PATH) => shopify(request, state),
        (Kind::Woocommerce, "POST", "/wp-json/wc/v3/webhooks") => {
            Some(woo_subscribe(request, state))
        }
        (Kind::Woocommerce, "GET", "/wp-json/wc/v3/orders") => Some(woo_orders(request, state)),
        (Kind::Bigcommerce, "POST", "/v3/hooks") => Some(bigcommerce_subscribe(request, state)),
        (Kind::Bigcommerce, "GET", "/v2/orders") => Some(bigcommerce_orders(request, state)),
        (Kind::Bigcommerce, "GET", p) if p.starts_with("/v2/orders/") => {
            Some(bigcommerce_products(p, state))
        }
        (Kind::Ebay, "GET", "/sell/fulfillment/v1/order") => Some(ebay_orders(request, state)),
        (Kind::Amazon, "GET", "/orders/v0/orders") => Some(amazon_orders(request, state)),
        (Kind::Amazon, "GET", p) if p.starts_with("/orders/v0/orders/") => {
            Some(amazon_items(p, state))
        }
        _ => None,
    }
}

/// BigCommerce paths are also served under `/stores/<hash>`.
pub(crate) fn bigcommerce_path(path: &str) -> &str {
    match path.strip_prefix("/stores/") {
        Some(rest) => rest.find('/').map_or(path, |i| &rest[i..]),
        None => path,
    }
}

/// Milliseconds, to the second.
fn second(ms: u64) -> u64 {
    ms / 1000 * 1000
}

fn datetime(ms: u64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms as i64).unwrap_or_default()
}

/// ISO 8601 in UTC with a `Z`, to the second.
pub fn iso(ms: u64) -> String {
    datetime(ms).to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// WooCommerce's GMT dates: no zone.
pub fn woo_date(ms: u64) -> String {
    datetime(ms).format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// `since` from an ISO 8601 time with or without a zone (then UTC), in ms.
fn parse_time(text: &str) -> Option<u64> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .or_else(|_| DateTime::parse_from_rfc2822(text).map(|t| t.timestamp_millis()))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
                .map(|t| t.and_utc().timestamp_millis())
        })
        .ok()
        .and_then(|ms| u64::try_from(ms).ok())
}

/// Orders changed at or after `since` (strictly after when `strict`), oldest change first.
fn changed_since(state: &State, since: Option<u64>, strict: bool) -> Vec<&SandboxOrder> {
    let mut orders: Vec<&SandboxOrder> = state
        .orders
        .iter()
        .filter(|o| match since {
            None => true,
            Some(t) if strict => second(o.updated_ms) > t,
            Some(t) => second(o.updated_ms) >= t,
        })
        .collect();
    orders.sort_by_key(|o| o.updated_ms);
    orders
}

/// One page of `items` and whether more follow.
fn page<T: Clone>(items: &[T], page: usize, per_page: usize) -> (Vec<T>, bool) {
    let start = page.saturating_sub(1) * per_page;
    let slice: Vec<T> = items.iter().skip(start).take(per_page).cloned().collect();
    (slice, items.len() > start + per_page)
}

fn new_subscription(state: &mut State, topic: &str, url: &str) -> Subscription {
    Subscription {
        id: state.next_serial(),
        topic: topic.to_owned(),
        url: url.to_owned(),
        secret: String::new(),
        headers: Default::default(),
    }
}

// ---- Shopify ------------------------------------------------------------------------------

fn shopify(request: &ApiRequest, state: &mut State) -> Option<Reply> {
    let body = request.json().ok()?;
    let query = body["query"].as_str()?;
    let variables = &body["variables"];
    if query.contains("webhookSubscriptionCreate") {
        Some(shopify_subscribe(variables, state))
    } else if query.contains("ProductVariant") {
        Some(shopify_variants(variables, state))
    } else if query.contains("orders(") {
        Some(shopify_orders(variables, state))
    } else {
        None
    }
}

fn shopify_subscribe(variables: &Value, state: &mut State) -> Reply {
    if let Err(throttled) = state.bucket.take(10.0) {
        return throttled;
    }
    let topic = variables["topic"].as_str().unwrap_or_default();
    let uri = variables["webhookSubscription"]["uri"]
        .as_str()
        .unwrap_or_default();
    let refused = |field: &str, message: &str| {
        json!({ "webhookSubscription": null,
                "userErrors": [{ "field": ["webhookSubscription", field], "message": message }] })
    };
    let created = if !SHOPIFY_TOPICS.contains(&topic) {
        refused("topic", "Topic is invalid")
    } else if !uri.starts_with("http") {
        refused("callbackUrl", "Address is invalid")
    } else if state
        .subscriptions
        .iter()
        .any(|s| s.topic == topic && s.url == uri)
    {
        refused(
            "callbackUrl",
            "Address for this topic has already been taken",
        )
    } else {
        let subscription = new_subscription(state, topic, uri);
        let id = format!("gid://shopify/WebhookSubscription/{}", subscription.id);
        state.subscriptions.push(subscription);
        json!({ "webhookSubscription": { "id": id, "topic": topic, "uri": uri }, "userErrors": [] })
    };
    Reply::json(
        200,
        json!({ "data": { "webhookSubscriptionCreate": created },
                "extensions": state.bucket.extensions(10.0) }),
    )
}

/// `updated_at:>='…'` (or `>`) from Shopify's search syntax.
fn shopify_since(query: &str) -> Option<u64> {
    let rest = query.split("updated_at:").nth(1)?;
    let rest = rest.trim_start_matches(['>', '=']);
    let value = rest.trim_start_matches(['\'', '"']);
    let end = value.find(['\'', '"', ' ']).unwrap_or(value.len());
    parse_time(&value[..end])
}

fn shopify_orders(variables: &Value, state: &mut State) -> Reply {
    if let Err(throttled) = state.bucket.take(ORDERS_COST) {
        return throttled;
    }
    let since = shopify_since(variables["query"].as_str().unwrap_or_default());
    let first = variables["first"].as_u64().unwrap_or(50).clamp(1, 250) as usize;
    let after: usize = variables["after"]
        .as_str()
        .and_then(|c| c.strip_prefix("cursor-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let orders: Vec<SandboxOrder> = changed_since(state, since, false)
        .into_iter()
        .cloned()
        .collect();
    let (nodes, more) = page(&orders[after.min(orders.len())..], 1, first);
    let nodes: Vec<Value> = nodes.iter().map(shopify_node).collect();
    let end = after + nodes.len();
    Reply::json(
        200,
        json!({ "data": { "orders": { "nodes": nodes,
                    "pageInfo": { "hasNextPage": more, "endCursor": format!("cursor-{end}") } } },
                "extensions": state.bucket.extensions(ORDERS_COST) }),
    )
}

/// The inventory item of a Shopify key `<inventoryItemId>@<locationId>`.
fn shopify_item(key: &str) -> &str {
    key.split('@').next().unwrap_or(key)
}

/// A Shopify variant's id differs from its inventory item's, as on a real shop (webhooks name
/// the variant; listings are inventory items): the sandbox's variant of item `n` is this
/// plus `n`.
const VARIANT_OFFSET: u64 = 7_000_000_000;

fn shopify_variant(item: &str) -> u64 {
    VARIANT_OFFSET + item.parse::<u64>().unwrap_or(0)
}

/// `nodes(ids: [ProductVariant gids])`: each variant's inventory item, `null` for one the
/// store does not have.
fn shopify_variants(variables: &Value, state: &mut State) -> Reply {
    let ids = variables["ids"].as_array().cloned().unwrap_or_default();
    let cost = 1.0 + ids.len() as f64;
    if let Err(throttled) = state.bucket.take(cost) {
        return throttled;
    }
    let nodes: Vec<Value> = ids
        .iter()
        .map(|id| {
            let variant = id
                .as_str()
                .and_then(|g| g.strip_prefix("gid://shopify/ProductVariant/"))
                .and_then(|n| n.parse::<u64>().ok())
                .filter(|n| *n > VARIANT_OFFSET);
            let Some(variant) = variant else {
                return Value::Null;
            };
            let item = (variant - VARIANT_OFFSET).to_string();
            let stocked = state.items.keys().any(|k| shopify_item(k) == item);
            if !stocked {
                return Value::Null;
            }
            json!({ "legacyResourceId": variant.to_string(),
                    "inventoryItem": { "legacyResourceId": item } })
        })
        .collect();
    Reply::json(
        200,
        json!({ "data": { "nodes": nodes }, "extensions": state.bucket.extensions(cost) }),
    )
}

fn shopify_node(order: &SandboxOrder) -> Value {
    let lines: Vec<Value> = order
        .lines
        .iter()
        .map(|l| {
            let item = shopify_item(&l.key);
            json!({ "sku": l.sku, "quantity": l.quantity,
                    "variant": { "legacyResourceId": shopify_variant(item).to_string(),
                                 "inventoryItem": { "legacyResourceId": item } } })
        })
        .collect();
    let refunds: Vec<Value> = order
        .refunds
        .iter()
        .map(|r| {
            let lines: Vec<Value> = r
                .lines
                .iter()
                .map(|l| {
                    let item = shopify_item(&l.key);
                    json!({ "quantity": l.quantity, "restockType": restock_type(l),
                            "lineItem": { "sku": sku_of(order, &l.key),
                                "variant": { "legacyResourceId": shopify_variant(item).to_string(),
                                             "inventoryItem": { "legacyResourceId": item } } } })
                })
                .collect();
            json!({ "legacyResourceId": r.refund_id, "refundLineItems": { "nodes": lines } })
        })
        .collect();
    json!({ "legacyResourceId": order.order_id, "updatedAt": iso(order.updated_ms),
            "cancelledAt": order.cancelled.then(|| iso(order.updated_ms)),
            "lineItems": { "nodes": lines }, "refunds": refunds })
}

/// Shopify's restock type for a refunded line (GraphQL enum; webhooks use it lower-cased).
fn restock_type(line: &RefundLine) -> &'static str {
    if line.restock {
        "RETURN"
    } else {
        "NO_RESTOCK"
    }
}

/// The SKU the order's line for `key` showed.
fn sku_of<'a>(order: &'a SandboxOrder, key: &str) -> &'a str {
    order
        .lines
        .iter()
        .find(|l| l.key == key)
        .map_or("", |l| l.sku.as_str())
}

/// The REST refund a Shopify `refunds/create` webhook carries.
pub fn shopify_refund_body(order: &SandboxOrder, refund: &SandboxRefund) -> Value {
    let lines: Vec<Value> = refund
        .lines
        .iter()
        .map(|l| {
            let variant = shopify_variant(shopify_item(&l.key));
            json!({ "quantity": l.quantity,
                    "restock_type": restock_type(l).to_ascii_lowercase(),
                    "line_item": { "variant_id": variant, "sku": sku_of(order, &l.key),
                                   "quantity": l.quantity } })
        })
        .collect();
    json!({ "id": refund.refund_id.parse::<u64>().unwrap_or(0),
            "order_id": order.order_id.parse::<u64>().unwrap_or(0),
            "refund_line_items": lines })
}

/// The REST order a Shopify webhook carries: its lines name variants (see
/// [`VARIANT_OFFSET`]), not inventory items.
pub fn shopify_webhook_body(order: &SandboxOrder) -> Value {
    let lines: Vec<Value> = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let variant = shopify_variant(shopify_item(&l.key));
            json!({ "id": 9_000_000 + i as u64, "variant_id": variant, "sku": l.sku,
                    "quantity": l.quantity })
        })
        .collect();
    json!({ "id": order.order_id.parse::<u64>().unwrap_or(0),
            "name": format!("#{}", order.order_id),
            "created_at": iso(order.created_ms), "updated_at": iso(order.updated_ms),
            "cancelled_at": order.cancelled.then(|| iso(order.updated_ms)),
            "line_items": lines })
}

// ---- WooCommerce --------------------------------------------------------------------------

fn woo_error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({ "code": code, "message": message, "data": { "status": status } }),
    )
}

fn woo_subscribe(request: &ApiRequest, state: &mut State) -> Reply {
    let Ok(body) = request.json() else {
        return woo_error(400, "rest_invalid_json", "Invalid JSON body passed.");
    };
    let topic = body["topic"].as_str().unwrap_or_default();
    if !WOO_TOPICS.contains(&topic) {
        return woo_error(
            400,
            "woocommerce_rest_webhook_invalid_topic",
            "Webhook topic is required and must be valid.",
        );
    }
    let Some(url) = body["delivery_url"]
        .as_str()
        .filter(|u| u.starts_with("http"))
    else {
        return woo_error(
            400,
            "rest_missing_callback_param",
            "Missing parameter(s): delivery_url",
        );
    };
    let mut subscription = new_subscription(state, topic, url);
    subscription.secret = body["secret"].as_str().unwrap_or_default().to_owned();
    let now = crate::store::now_ms();
    let (resource, event) = topic.split_once('.').unwrap_or(("order", "created"));
    let answer = json!({ "id": subscription.id, "name": body["name"], "status": "active",
        "topic": topic, "resource": resource, "event": event,
        "hooks": [format!("woocommerce_{}_{}", resource, event)],
        "delivery_url": url, "secret": subscription.secret,
        "date_created": woo_date(now), "date_created_gmt": woo_date(now),
        "date_modified": woo_date(now), "date_modified_gmt": woo_date(now) });
    state.subscriptions.push(subscription);
    Reply::json(201, answer)
}

/// `<product>` or `<parent>/<variation>`.
fn woo_ids(key: &str) -> (u64, u64) {
    match key.split_once('/') {
        Some((parent, variation)) => (parent.parse().unwrap_or(0), variation.parse().unwrap_or(0)),
        None => (key.parse().unwrap_or(0), 0),
    }
}

/// The order as WooCommerce's REST API and webhooks show it.
pub fn woo_order(order: &SandboxOrder) -> Value {
    let lines: Vec<Value> = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let (product, variation) = woo_ids(&l.key);
            json!({ "id": 500 + i as u64, "product_id": product, "variation_id": variation,
                    "sku": l.sku, "quantity": l.quantity })
        })
        .collect();
    json!({ "id": order.order_id.parse::<u64>().unwrap_or(0),
            "status": if order.cancelled { "cancelled" } else { "processing" },
            "date_created_gmt": woo_date(order.created_ms),
            "date_modified_gmt": woo_date(order.updated_ms),
            "line_items": lines })
}

fn woo_orders(request: &ApiRequest, state: &mut State) -> Reply {
    let since = request
        .query_param("modified_after")
        .and_then(|t| parse_time(&t));
    let per_page = request
        .query_param("per_page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(10usize)
        .clamp(1, 100);
    let number = request
        .query_param("page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let orders: Vec<Value> = changed_since(state, since, true)
        .into_iter()
        .map(woo_order)
        .collect();
    let total = orders.len();
    let (slice, _) = page(&orders, number, per_page);
    Reply::json(200, Value::Array(slice))
        .header("X-WP-Total", total)
        .header("X-WP-TotalPages", total.div_ceil(per_page).max(1))
}

// ---- BigCommerce --------------------------------------------------------------------------

fn bigcommerce_error(status: u16, title: &str) -> Reply {
    Reply::json(
        status,
        json!({ "status": status, "title": title,
                "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
                "errors": {} }),
    )
}

fn bigcommerce_subscribe(request: &ApiRequest, state: &mut State) -> Reply {
    let Ok(body) = request.json() else {
        return bigcommerce_error(400, "Input is invalid");
    };
    let scope = body["scope"].as_str().unwrap_or_default();
    if !BIGCOMMERCE_SCOPES.contains(&scope) {
        return bigcommerce_error(422, "The scope is not one of the supported webhook scopes");
    }
    let Some(url) = body["destination"]
        .as_str()
        .filter(|u| u.starts_with("http"))
    else {
        return bigcommerce_error(422, "destination is required");
    };
    let mut subscription = new_subscription(state, scope, url);
    if let Some(headers) = body["headers"].as_object() {
        subscription.headers = headers
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
    }
    let now = crate::store::now_ms() / 1000;
    let answer = json!({ "data": { "id": subscription.id, "client_id": "sandbox",
        "store_hash": "sandbox", "scope": scope, "destination": url,
        "headers": subscription.headers, "is_active": true,
        "created_at": now, "updated_at": now }, "meta": {} });
    state.subscriptions.push(subscription);
    Reply::json(200, answer)
}

/// RFC 2822, as BigCommerce's v2 API dates its orders.
fn rfc2822(ms: u64) -> String {
    datetime(ms).to_rfc2822()
}

fn bigcommerce_orders(request: &ApiRequest, state: &mut State) -> Reply {
    let since = request
        .query_param("min_date_modified")
        .and_then(|t| parse_time(&t));
    let limit = request
        .query_param("limit")
        .and_then(|n| n.parse().ok())
        .unwrap_or(50usize)
        .clamp(1, 250);
    let number = request
        .query_param("page")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1usize)
        .max(1);
    let orders: Vec<Value> = changed_since(state, since, false)
        .into_iter()
        .map(|o| {
            let (status_id, status) = if o.cancelled {
                (5, "Cancelled")
            } else {
                (11, "Awaiting Fulfillment")
            };
            json!({ "id": o.order_id.parse::<u64>().unwrap_or(0), "status_id": status_id,
                    "status": status, "date_created": rfc2822(o.created_ms),
                    "date_modified": rfc2822(o.updated_ms) })
        })
        .collect();
    let (slice, _) = page(&orders, number, limit);
    if slice.is_empty() {
        // BigCommerce answers an empty list with 204 and no body.
        return Reply::json(204, Value::Null);
    }
    Reply::json(200, Value::Array(slice))
}

fn bigcommerce_products(path: &str, state: &State) -> Reply {
    let id = path
        .strip_prefix("/v2/orders/")
        .and_then(|rest| rest.strip_suffix("/products"))
        .unwrap_or_default();
    let Some(order) = state.orders.iter().find(|o| o.order_id == id) else {
        return Reply::json(
            404,
            json!([{ "status": 404, "message": "The requested resource was not found." }]),
        );
    };
    let lines: Vec<Value> = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let variant: u64 = l.key.split('@').next().unwrap_or("0").parse().unwrap_or(0);
            json!({ "id": 700 + i as u64, "order_id": order.order_id.parse::<u64>().unwrap_or(0),
                    "product_id": 77, "variant_id": variant, "sku": l.sku,
                    "quantity": l.quantity })
        })
        .collect();
    Reply::json(200, Value::Array(lines))
}

/// A BigCommerce webhook body: it names the order only.
pub fn bigcommerce_webhook_body(order: &SandboxOrder, scope: &str) -> Value {
    let id = order.order_id.parse::<u64>().unwrap_or(0);
    let mut data = json!({ "type": "order", "id": id });
    if order.cancelled {
        data["status"] = json!({ "previous_status_id": 11, "new_status_id": 5 });
    }
    json!({ "created_at": order.updated_ms / 1000, "store_id": "1001",
            "producer": "stores/sandbox", "scope": scope,
            "hash": format!("{:040x}", order.updated_ms as u128 * 31 + id as u128),
            "data": data })
}

// ---- eBay ---------------------------------------------------------------------------------

/// `lastmodifieddate:[<start>..]`.
fn ebay_since(filter: &str) -> Option<u64> {
    let rest = filter.split("lastmodifieddate:").nth(1)?;
    let rest = rest.trim_start_matches('[');
    let start = rest.split("..").next()?;
    parse_time(start)
}

fn ebay_orders(request: &ApiRequest, state: &mut State) -> Reply {
    let since = request.query_param("filter").and_then(|f| ebay_since(&f));
    let limit = request
        .query_param("limit")
        .and_then(|n| n.parse().ok())
        .unwrap_or(50usize)
        .clamp(1, 200);
    let offset: usize = request
        .query_param("offset")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let all: Vec<Value> = changed_since(state, since, false)
        .into_iter()
        .map(|o| {
            let lines: Vec<Value> = o
                .lines
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let sku = if l.sku.is_empty() { &l.key } else { &l.sku };
                    json!({ "lineItemId": format!("{}{i}", 10_000 + i), "legacyItemId": "110000000001",
                            "sku": sku, "quantity": l.quantity })
                })
                .collect();
            json!({ "orderId": o.order_id,
                    "creationDate": datetime(o.created_ms).to_rfc3339_opts(SecondsFormat::Millis, true),
                    "lastModifiedDate": datetime(o.updated_ms).to_rfc3339_opts(SecondsFormat::Millis, true),
                    "orderFulfillmentStatus": "NOT_STARTED",
                    "cancelStatus": { "cancelState": if o.cancelled { "CANCELED" } else { "NONE_REQUESTED" } },
                    "lineItems": lines })
        })
        .collect();
    let total = all.len();
    let slice: Vec<Value> = all.into_iter().skip(offset).take(limit).collect();
    let mut answer = json!({ "href": request.path, "total": total, "limit": limit,
                             "offset": offset, "orders": slice });
    if offset + limit < total {
        answer["next"] = json!(format!("{}?offset={}", request.path, offset + limit));
    }
    Reply::json(200, answer)
}

// ---- Amazon -------------------------------------------------------------------------------

fn amazon_orders(request: &ApiRequest, state: &mut State) -> Reply {
    if request
        .query_param("MarketplaceIds")
        .is_none_or(|m| m.is_empty())
    {
        return Reply::json(
            400,
            json!({ "errors": [{ "code": "InvalidInput", "message": "Missing required 'MarketplaceIds'." }] }),
        );
    }
    let since = request
        .query_param("LastUpdatedAfter")
        .and_then(|t| parse_time(&t));
    let orders: Vec<Value> = changed_since(state, since, false)
        .into_iter()
        .map(|o| {
            json!({ "AmazonOrderId": o.order_id, "PurchaseDate": iso(o.created_ms),
                    "LastUpdateDate": iso(o.updated_ms),
                    "OrderStatus": if o.cancelled { "Canceled" } else { "Unshipped" } })
        })
        .collect();
    Reply::json(200, json!({ "payload": { "Orders": orders } }))
}

fn amazon_items(path: &str, state: &State) -> Reply {
    let id = path
        .strip_prefix("/orders/v0/orders/")
        .and_then(|rest| rest.strip_suffix("/orderItems"))
        .unwrap_or_default();
    let Some(order) = state.orders.iter().find(|o| o.order_id == id) else {
        return Reply::json(
            404,
            json!({ "errors": [{ "code": "NotFound", "message": "Order not found." }] }),
        );
    };
    let items: Vec<Value> = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            // `<sellerId>/<sku>`: the SKU is the listing.
            let sku = l.key.split_once('/').map_or(l.key.as_str(), |(_, s)| s);
            json!({ "ASIN": "B0SANDBOX", "SellerSKU": sku, "OrderItemId": format!("{}", 40_000 + i),
                    "QuantityOrdered": l.quantity })
        })
        .collect();
    Reply::json(
        200,
        json!({ "payload": { "AmazonOrderId": order.order_id, "OrderItems": items } }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_every_platforms_form() {
        let ms = parse_time("2026-12-03T10:00:05Z").unwrap();
        assert_eq!(iso(ms), "2026-12-03T10:00:05Z");
        assert_eq!(parse_time("2026-12-03T10:00:05"), Some(ms));
        assert_eq!(parse_time("Thu, 03 Dec 2026 10:00:05 +0000"), Some(ms));
        assert_eq!(woo_date(ms + 999), "2026-12-03T10:00:05");
        assert_eq!(rfc2822(ms), "Thu, 3 Dec 2026 10:00:05 +0000");
    }

    #[test]
    fn shopify_and_ebay_filters_are_read() {
        let ms = parse_time("2026-12-03T10:00:05Z");
        assert_eq!(shopify_since("updated_at:>='2026-12-03T10:00:05Z'"), ms);
        assert_eq!(
            shopify_since("status:any updated_at:>2026-12-03T10:00:05Z"),
            ms
        );
        assert_eq!(shopify_since("status:any"), None);
        assert_eq!(
            ebay_since("lastmodifieddate:[2026-12-03T10:00:05.000Z..]"),
            ms
        );
    }

    #[test]
    fn bigcommerce_paths_under_a_store_hash_are_the_same() {
        assert_eq!(bigcommerce_path("/stores/abc/v3/hooks"), "/v3/hooks");
        assert_eq!(bigcommerce_path("/v2/orders"), "/v2/orders");
    }

    #[test]
    fn webhook_bodies_name_the_lines_as_the_platforms_do() {
        let order = SandboxOrder {
            order_id: "6000000001".into(),
            lines: vec![tally_sandbox::OrderLine {
                key: "4401@77".into(),
                sku: "MUG-1".into(),
                quantity: 2,
            }],
            cancelled: false,
            created_ms: 1_000,
            updated_ms: 1_000,
            refunds: Vec::new(),
        };
        let shopify = shopify_webhook_body(&order);
        assert_eq!(shopify["id"], 6_000_000_001u64);
        assert_eq!(shopify["line_items"][0]["variant_id"], 7_000_004_401u64);
        assert_eq!(shopify["line_items"][0]["sku"], "MUG-1");
        let woo = woo_order(&SandboxOrder {
            order_id: "101".into(),
            lines: vec![tally_sandbox::OrderLine {
                key: "88/8802".into(),
                sku: String::new(),
                quantity: 1,
            }],
            ..order
        });
        assert_eq!(woo["line_items"][0]["product_id"], 88);
        assert_eq!(woo["line_items"][0]["variation_id"], 8802);
        assert_eq!(woo["status"], "processing");
    }
}
