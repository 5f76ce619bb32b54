//! Sales made on a sandbox storefront, and the webhooks it sends about them (control
//! endpoints: no credential, never failed, not in the call log):
//!
//! - `POST /_sandbox/orders` with `tally_sandbox::PlaceOrder` → takes the units, records the
//!   order and, unless `"webhook": false`, sends the platform's signed "order created" webhook
//!   to every subscription of that topic; answers `tally_sandbox::PlacedOrder` (201)
//! - `POST /_sandbox/orders/{id}/cancel` (optional `{"webhook": false}`) → puts the units back
//!   and sends the "cancelled" webhook; a second cancel changes and sends nothing
//! - `POST /_sandbox/orders/{id}/refund` with `tally_sandbox::RefundOrder` (Shopify) → puts
//!   the restocked lines back, records the refund and sends `refunds/create`
//! - `GET /_sandbox/orders`, `GET /_sandbox/subscriptions`

use crate::api::ApiRequest;
use crate::orders;
use crate::platform::Reply;
use crate::store::Store;
use serde_json::{json, Value};
use std::time::Duration;
use tally_domain::webhook::base64_signature;
use tally_sandbox::{
    CancelOrder, Kind, PlaceOrder, PlacedOrder, RefundOrder, SandboxOrder, SandboxRefund,
    SentWebhook, Subscription,
};

/// Whether `request` is one of these endpoints.
pub fn handles(request: &ApiRequest) -> bool {
    request.path == "/_sandbox/orders"
        || request.path == "/_sandbox/subscriptions"
        || (request.path.starts_with("/_sandbox/orders/")
            && (request.path.ends_with("/cancel") || request.path.ends_with("/refund")))
}

pub async fn handle(store: &Store, request: &ApiRequest) -> Reply {
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/_sandbox/orders") => Reply::json(200, json!(store.orders())),
        ("GET", "/_sandbox/subscriptions") => Reply::json(200, json!(store.subscriptions())),
        ("POST", "/_sandbox/orders") => place(store, request).await,
        ("POST", path) if path.ends_with("/refund") => {
            let id = path
                .trim_start_matches("/_sandbox/orders/")
                .trim_end_matches("/refund");
            refund(store, request, id).await
        }
        ("POST", path) => {
            let id = path
                .trim_start_matches("/_sandbox/orders/")
                .trim_end_matches("/cancel");
            cancel(store, request, id).await
        }
        _ => refuse(405, "use GET or POST".into()),
    }
}

async fn place(store: &Store, request: &ApiRequest) -> Reply {
    let order: PlaceOrder = match serde_json::from_slice(&request.body) {
        Ok(order) => order,
        Err(e) => return refuse(400, format!("bad body: {e}")),
    };
    let (placed, subscriptions) = match store.place(&order) {
        Ok(placed) => placed,
        Err(message) if message.contains("oversell") => return refuse(409, message),
        Err(message) => return refuse(400, message),
    };
    let webhooks = if order.webhook {
        tell(store, Told::Order(&placed), &subscriptions).await
    } else {
        Vec::new()
    };
    Reply::json(
        201,
        json!(PlacedOrder {
            order_id: placed.order_id,
            webhooks
        }),
    )
}

async fn cancel(store: &Store, request: &ApiRequest, id: &str) -> Reply {
    let asked: CancelOrder = if request.body.is_empty() {
        CancelOrder::default()
    } else {
        match serde_json::from_slice(&request.body) {
            Ok(asked) => asked,
            Err(e) => return refuse(400, format!("bad body: {e}")),
        }
    };
    let webhooks = match store.cancel(id) {
        Err(message) => return refuse(404, message),
        Ok(None) => Vec::new(),
        Ok(Some((cancelled, subscriptions))) if asked.webhook => {
            tell(store, Told::Order(&cancelled), &subscriptions).await
        }
        Ok(Some(_)) => Vec::new(),
    };
    Reply::json(
        200,
        json!(PlacedOrder {
            order_id: id.to_owned(),
            webhooks
        }),
    )
}

async fn refund(store: &Store, request: &ApiRequest, id: &str) -> Reply {
    if store.kind != Kind::Shopify {
        return refuse(404, "refunds are kept by the Shopify sandbox only".into());
    }
    let asked: RefundOrder = match serde_json::from_slice(&request.body) {
        Ok(asked) => asked,
        Err(e) => return refuse(400, format!("bad body: {e}")),
    };
    let (order, refund, subscriptions) = match store.refund(id, &asked) {
        Ok(refunded) => refunded,
        Err(message) if message.starts_with("no order") => return refuse(404, message),
        Err(message) => return refuse(400, message),
    };
    let webhooks = if asked.webhook {
        let told = Told::Refunded(&order, &refund);
        tell(store, told, &subscriptions).await
    } else {
        Vec::new()
    };
    Reply::json(
        200,
        json!(PlacedOrder {
            order_id: id.to_owned(),
            webhooks
        }),
    )
}

/// What a webhook tells of: an order as it now stands, or one refund of it.
#[derive(Clone, Copy)]
enum Told<'a> {
    Order(&'a SandboxOrder),
    Refunded(&'a SandboxOrder, &'a SandboxRefund),
}

impl Told<'_> {
    fn order(&self) -> &SandboxOrder {
        match self {
            Told::Order(order) | Told::Refunded(order, _) => order,
        }
    }
}

/// Sends `order`'s webhook to each subscription, one after another, as the platform would.
async fn tell(store: &Store, told: Told<'_>, subscriptions: &[Subscription]) -> Vec<SentWebhook> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap_or_default();
    let mut sent = Vec::new();
    for subscription in subscriptions {
        let (body, headers) = delivery(store, told, subscription);
        let mut request = client
            .post(&subscription.url)
            .header("content-type", "application/json")
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let status = match request.send().await {
            Ok(answer) => answer.status().as_u16(),
            Err(_) => 0,
        };
        eprintln!(
            "{} webhook {} -> {} {status}",
            store.kind, subscription.topic, subscription.url
        );
        sent.push(SentWebhook {
            url: subscription.url.clone(),
            topic: subscription.topic.clone(),
            status,
        });
    }
    sent
}

/// The body and headers of one delivery, in the platform's shape and signature.
fn delivery(
    store: &Store,
    told: Told<'_>,
    subscription: &Subscription,
) -> (Vec<u8>, Vec<(String, String)>) {
    let order = told.order();
    let delivery_id = format!(
        "sandbox-{}-{}-{}",
        subscription.id, order.order_id, order.updated_ms
    );
    let (body, headers): (Value, Vec<(&str, String)>) = match store.kind {
        Kind::Shopify => {
            let (topic, body) = match told {
                Told::Refunded(order, refund) => {
                    ("refunds/create", orders::shopify_refund_body(order, refund))
                }
                Told::Order(order) if order.cancelled => {
                    ("orders/cancelled", orders::shopify_webhook_body(order))
                }
                Told::Order(order) => ("orders/create", orders::shopify_webhook_body(order)),
            };
            (
                body,
                vec![
                    ("X-Shopify-Topic", topic.to_owned()),
                    ("X-Shopify-Webhook-Id", delivery_id),
                    ("X-Shopify-Shop-Domain", "sandbox.myshopify.com".to_owned()),
                    ("X-Shopify-API-Version", "2026-04".to_owned()),
                ],
            )
        }
        Kind::Woocommerce => {
            let event = if order.cancelled {
                "updated"
            } else {
                "created"
            };
            (
                orders::woo_order(order),
                vec![
                    (
                        "X-WC-Webhook-Source",
                        format!("{}/", store.root.get().cloned().unwrap_or_default()),
                    ),
                    ("X-WC-Webhook-Topic", format!("order.{event}")),
                    ("X-WC-Webhook-Resource", "order".to_owned()),
                    ("X-WC-Webhook-Event", event.to_owned()),
                    ("X-WC-Webhook-ID", subscription.id.to_string()),
                    ("X-WC-Webhook-Delivery-ID", delivery_id),
                ],
            )
        }
        Kind::Bigcommerce => (
            orders::bigcommerce_webhook_body(order, &subscription.topic),
            subscription
                .headers
                .iter()
                .map(|(k, v)| (k.as_str(), v.clone()))
                .collect(),
        ),
        Kind::Ebay | Kind::Amazon => (json!({}), Vec::new()),
    };
    let body = body.to_string().into_bytes();
    let mut headers: Vec<(String, String)> = headers
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    match store.kind {
        Kind::Shopify => headers.push((
            "X-Shopify-Hmac-Sha256".into(),
            base64_signature(store.app_secret.as_bytes(), &body),
        )),
        Kind::Woocommerce => headers.push((
            "X-WC-Webhook-Signature".into(),
            base64_signature(subscription.secret.as_bytes(), &body),
        )),
        _ => {}
    }
    (body, headers)
}

fn refuse(status: u16, message: String) -> Reply {
    Reply::json(status, json!({ "error": message }))
}
