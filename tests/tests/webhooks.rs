//! Storefront webhooks through the real parts: deliveries signed as each platform signs them,
//! posted to a connection's address on the worker under `wrangler dev`, stored, queued and
//! applied by the queue consumer into local D1.
//!
//! Each test signs up an account of its own, so any order or number of threads passes. The
//! connections are inactive (nothing is pushed to their addresses, where nothing listens):
//! a sale heard from a storefront counts whether or not Tally pushes to it.

use futures::future::join_all;
use serde_json::{json, Value};
use std::time::Duration;
use tally_domain::api::{DeliveryList, Storefront};
use tally_domain::webhook::{base64_signature, generic_signature, MAX_DELIVERY_BYTES};
use tally_tests::client::Api;
use tally_tests::eventually;
use tally_tests::suite::{arguments, runtime};
use tally_tests::worker::TestWorker;

/// A delivery is applied about a second after it is answered; a cold first one takes longer.
const APPLY_WAIT: Duration = Duration::from_secs(45);

const SHOPIFY_SECRET: &str = "shpss_webhook_test_client_secret";
const WOO_SECRET: &str = "woo-webhook-test-secret_4f2a";
const RELAY_SECRET: &str = "relay-signing-secret";

fn main() {
    let args = arguments();
    let worker = TestWorker::start();
    let rt = runtime();
    let api = Api::new(&worker.base_url);
    let tests = tally_tests::cases![&rt, &api;
        each_platforms_signed_webhook_applies_once_when_delivered_three_times_at_once,
        forged_unsigned_oversized_and_unreadable_deliveries_change_nothing,
        a_refund_restocks_only_its_restock_lines_and_a_cancellation_the_rest,
        two_hundred_concurrent_webhooks_for_different_orders_end_at_the_exact_quantity,
        a_line_is_matched_by_its_linked_listing_before_its_sku,
        woocommerces_unsigned_ping_is_answered_and_stored_nowhere,
    ];
    let conclusion = libtest_mimic::run(&args, tests);
    drop(worker);
    conclusion.exit();
}

/// What the worker answered a delivery.
struct Answer {
    status: u16,
    body: Value,
}

/// Posts `body` to a webhook address with `headers`, as a storefront would (no session, no key).
async fn deliver(url: &str, headers: &[(&str, String)], body: &[u8]) -> Answer {
    let client = reqwest::Client::new();
    let mut attempt = 0;
    let response = loop {
        let mut request = client
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let response = request.send().await.expect("the worker answers");
        // wrangler dev's proxy sometimes drops a request before the worker sees it and answers
        // with a plain-text 503 (see tests/src/client.rs). Every platform retries a 5xx, so
        // send it again as they would; the worker's own answers are JSON and never retried.
        let dev_proxy_drop = response.status() == 503
            && !response
                .headers()
                .get("content-type")
                .and_then(|ct| ct.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/json"));
        if dev_proxy_drop && attempt < 3 {
            attempt += 1;
            continue;
        }
        break response;
    };
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body arrives");
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("HTTP {status} with a non-JSON body: {text:?}"));
    Answer { status, body }
}

/// A Shopify delivery of `topic`: signed with the app's client secret, with its delivery id.
fn shopify_headers(topic: &str, delivery_id: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        (
            "X-Shopify-Hmac-Sha256",
            base64_signature(SHOPIFY_SECRET.as_bytes(), body),
        ),
        ("X-Shopify-Topic", topic.to_owned()),
        ("X-Shopify-Webhook-Id", delivery_id.to_owned()),
        ("X-Shopify-Shop-Domain", "wool-co.myshopify.com".to_owned()),
    ]
}

fn woo_headers(topic: &str, delivery_id: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        (
            "X-WC-Webhook-Signature",
            base64_signature(WOO_SECRET.as_bytes(), body),
        ),
        ("X-WC-Webhook-Topic", topic.to_owned()),
        ("X-WC-Webhook-Delivery-ID", delivery_id.to_owned()),
    ]
}

fn relay_headers(body: &[u8]) -> Vec<(&'static str, String)> {
    vec![(
        "X-Tally-Signature",
        generic_signature(RELAY_SECRET.as_bytes(), body),
    )]
}

/// A connection in `seller`'s account (inactive: nothing is pushed to it).
async fn connect(seller: &Api, kind: &str, secret: &str) -> Storefront {
    let credential = if kind == "woocommerce" {
        "ck_hooks:cs_hooks"
    } else {
        "token_for_webhook_tests"
    };
    let mut body = json!({ "name": format!("My {kind}"), "kind": kind,
        "base_url": "http://127.0.0.1:9", "credential": credential,
        "webhook_secret": secret, "active": false });
    if kind == "amazon" {
        body["store_ref"] = json!("A1SELLER");
    }
    let created = seller.send_json("POST", "/api/v1/storefronts", &body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let storefront: Storefront = created.json();
    assert!(
        storefront.webhook_url.contains("/api/v1/hooks/"),
        "{}",
        storefront.webhook_url
    );
    assert!(storefront.has_webhook_secret);
    assert!(
        !created.body.to_string().contains(secret),
        "the webhook secret came back: {}",
        created.body
    );
    storefront
}

async fn product(seller: &Api, sku: &str, quantity: i64) -> i64 {
    let created = seller
        .send_json(
            "POST",
            "/api/v1/products",
            &json!({ "sku": sku, "name": sku, "quantity": quantity }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["id"].as_i64().expect("a product id")
}

async fn quantity(seller: &Api, id: i64) -> i64 {
    seller.product(id).await.quantity.get()
}

/// Waits until the connection's Incoming log has `n` deliveries, none still waiting, running
/// the cron as it waits (it re-sends a delivery the local queue stalled on).
async fn settled_log(seller: &Api, storefront: i64, n: usize) -> DeliveryList {
    eventually(
        &format!("{n} handled deliveries on storefront {storefront}"),
        APPLY_WAIT,
        || async move {
            seller.run_cron().await;
            let answer = seller
                .get(&format!("/api/v1/storefronts/{storefront}/deliveries"))
                .await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            let log: DeliveryList = answer.json();
            (log.deliveries.len() == n && log.deliveries.iter().all(|d| d.status != "received"))
                .then_some(log)
        },
    )
    .await
}

fn shopify_order(id: u64, lines: &[(&str, i64)]) -> Vec<u8> {
    let items: Vec<Value> = lines
        .iter()
        .enumerate()
        .map(|(i, (sku, q))| json!({ "id": 9000 + i, "sku": sku, "variant_id": 4000 + i, "quantity": q, "title": sku }))
        .collect();
    json!({ "id": id, "name": format!("#{id}"), "email": "buyer@example.com", "line_items": items })
        .to_string()
        .into_bytes()
}

async fn each_platforms_signed_webhook_applies_once_when_delivered_three_times_at_once(api: Api) {
    let seller = api.new_account("Webhook Wool").await;
    let scarf = product(&seller, "SCARF-1", 20).await;
    let shopify = connect(&seller, "shopify", SHOPIFY_SECRET).await;
    let woo = connect(&seller, "woocommerce", WOO_SECRET).await;
    let ebay = connect(&seller, "ebay", RELAY_SECRET).await;

    // Shopify: orders/create, three identical deliveries at once.
    let body = shopify_order(820_982_911_946_154_508, &[("SCARF-1", 2)]);
    let headers = shopify_headers("orders/create", "b54557e4-0001", &body);
    let answers = join_all((0..3).map(|_| deliver(&shopify.webhook_url, &headers, &body))).await;
    assert!(
        answers.iter().all(|a| a.status == 200),
        "every copy is answered 200"
    );
    assert_eq!(
        answers
            .iter()
            .filter(|a| a.body["duplicate"] == false)
            .count(),
        1,
        "one copy is stored, the others are known repeats"
    );
    // WooCommerce: the same sale sent twice under two delivery ids (a retry with a new id):
    // the order id still stops it applying twice.
    let body = json!({ "id": 5521, "status": "processing", "line_items": [
        { "id": 1, "product_id": 7001, "variation_id": 0, "sku": "SCARF-1", "quantity": 3 } ] })
    .to_string()
    .into_bytes();
    let first = woo_headers("order.created", "woo-delivery-1", &body);
    let second = woo_headers("order.created", "woo-delivery-2", &body);
    let answers = join_all([
        deliver(&woo.webhook_url, &first, &body),
        deliver(&woo.webhook_url, &second, &body),
        deliver(&woo.webhook_url, &first, &body),
    ])
    .await;
    assert!(answers.iter().all(|a| a.status == 200));
    // Tally's own format from a relay on the eBay connection.
    let body = json!({ "event": "order.placed", "order_id": "12-03456-78901",
        "lines": [{ "sku": "SCARF-1", "quantity": 4 }] })
    .to_string()
    .into_bytes();
    let headers = relay_headers(&body);
    let answers = join_all((0..3).map(|_| deliver(&ebay.webhook_url, &headers, &body))).await;
    assert!(answers.iter().all(|a| a.status == 200));

    settled_log(&seller, shopify.id, 1).await;
    let woo_log = settled_log(&seller, woo.id, 2).await;
    settled_log(&seller, ebay.id, 1).await;
    assert_eq!(
        quantity(&seller, scarf).await,
        20 - 2 - 3 - 4,
        "each sale once"
    );
    let messages: Vec<&str> = woo_log
        .deliveries
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("Order 5521: SCARF-1 ") && m.contains(" → ")),
        "the log says what changed: {messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("applied before")),
        "{messages:?}"
    );

    // The Orders page's source: each order says it came by webhook, from which connection.
    let orders = seller.get("/api/v1/orders").await;
    assert_eq!(orders.status, 200);
    let orders = orders.body.as_array().expect("a list").clone();
    assert_eq!(orders.len(), 3, "{orders:?}");
    assert!(orders.iter().all(|o| o["source"] == "webhook"));
    let names: Vec<&str> = orders
        .iter()
        .filter_map(|o| o["storefront_name"].as_str())
        .collect();
    assert!(names.contains(&"My shopify") && names.contains(&"My woocommerce"));
    let listed: Vec<Storefront> = seller
        .get("/api/v1/storefronts")
        .await
        .json::<tally_domain::api::StorefrontList>()
        .storefronts;
    assert!(
        listed.iter().all(|s| s.orders_heard_24h == 1),
        "one order each"
    );
}

async fn forged_unsigned_oversized_and_unreadable_deliveries_change_nothing(api: Api) {
    let seller = api.new_account("Webhook Fortress").await;
    let scarf = product(&seller, "FORT-1", 10).await;
    let shopify = connect(&seller, "shopify", SHOPIFY_SECRET).await;
    let body = shopify_order(1, &[("FORT-1", 5)]);

    // Signed with another secret.
    let mut forged = shopify_headers("orders/create", "forged-1", &body);
    forged[0].1 = base64_signature(b"not the client secret", &body);
    let answer = deliver(&shopify.webhook_url, &forged, &body).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    assert_eq!(answer.body["error"]["code"], "bad_signature");
    assert_eq!(answer.body["error"]["field"], "X-Shopify-Hmac-Sha256");
    // Unsigned.
    let answer = deliver(&shopify.webhook_url, &forged[1..], &body).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    // A genuine signature replayed over another body.
    let genuine = shopify_headers("orders/create", "replayed-1", &body);
    let other = shopify_order(2, &[("FORT-1", 9)]);
    let answer = deliver(&shopify.webhook_url, &genuine, &other).await;
    assert_eq!(answer.status, 401, "{}", answer.body);
    // Oversized, even when signed.
    let huge = vec![b' '; MAX_DELIVERY_BYTES + 1];
    let answer = deliver(
        &shopify.webhook_url,
        &shopify_headers("orders/create", "huge-1", &huge),
        &huge,
    )
    .await;
    assert_eq!(answer.status, 413, "{}", answer.body);
    // An address that names no connection.
    let nowhere = format!("{}/api/v1/hooks/{}", api.base, "ab".repeat(24));
    let answer = deliver(&nowhere, &genuine, &body).await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    // Genuine but unreadable: stored, then failed with the reason (never a 5xx).
    let garbled = b"{\"id\": \"not a number\"".to_vec();
    let answer = deliver(
        &shopify.webhook_url,
        &shopify_headers("orders/create", "garbled-1", &garbled),
        &garbled,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    let log = settled_log(&seller, shopify.id, 4).await;
    let refused = log
        .deliveries
        .iter()
        .filter(|d| d.status == "refused")
        .count();
    assert_eq!(
        refused, 3,
        "forged, unsigned and replayed: {:?}",
        log.deliveries
    );
    let failed = log
        .deliveries
        .iter()
        .find(|d| d.status == "failed")
        .expect("the unreadable delivery");
    assert!(
        failed.message.contains("Shopify order"),
        "says what could not be read: {}",
        failed.message
    );
    assert_eq!(quantity(&seller, scarf).await, 10, "nothing changed");
    let orders = seller.get("/api/v1/orders").await;
    assert_eq!(orders.body, json!([]));
}

async fn a_refund_restocks_only_its_restock_lines_and_a_cancellation_the_rest(api: Api) {
    let seller = api.new_account("Refund Rooms").await;
    let a = product(&seller, "REF-A", 10).await;
    let b = product(&seller, "REF-B", 10).await;
    let shopify = connect(&seller, "shopify", SHOPIFY_SECRET).await;
    let order_id = 450_789_469_u64;
    let body = shopify_order(order_id, &[("REF-A", 3), ("REF-B", 2)]);
    let answer = deliver(
        &shopify.webhook_url,
        &shopify_headers("orders/create", "order-1", &body),
        &body,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    settled_log(&seller, shopify.id, 1).await;
    assert_eq!(
        (quantity(&seller, a).await, quantity(&seller, b).await),
        (7, 8)
    );

    // Two of A come back to the shelf; B's line is refunded without a restock.
    let refund = json!({ "id": 509_562_969, "order_id": order_id, "refund_line_items": [
        { "quantity": 2, "restock_type": "return",
          "line_item": { "sku": "REF-A", "variant_id": 4000, "quantity": 3 } },
        { "quantity": 2, "restock_type": "no_restock",
          "line_item": { "sku": "REF-B", "variant_id": 4001, "quantity": 2 } } ] })
    .to_string()
    .into_bytes();
    for delivery in ["refund-1", "refund-1-again"] {
        let answer = deliver(
            &shopify.webhook_url,
            &shopify_headers("refunds/create", delivery, &refund),
            &refund,
        )
        .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    settled_log(&seller, shopify.id, 3).await;
    assert_eq!(
        (quantity(&seller, a).await, quantity(&seller, b).await),
        (9, 8),
        "only the restocked units, once"
    );

    // Cancelling puts back the rest: 1 of A (2 came back already) and both of B.
    let cancelled = json!({ "id": order_id, "line_items": [] })
        .to_string()
        .into_bytes();
    let answer = deliver(
        &shopify.webhook_url,
        &shopify_headers("orders/cancelled", "cancel-1", &cancelled),
        &cancelled,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    settled_log(&seller, shopify.id, 4).await;
    assert_eq!(
        (quantity(&seller, a).await, quantity(&seller, b).await),
        (10, 10)
    );
}

async fn two_hundred_concurrent_webhooks_for_different_orders_end_at_the_exact_quantity(api: Api) {
    let seller = api.new_account("Flash Sale Co").await;
    let hat = product(&seller, "HAT-200", 500).await;
    let shopify = connect(&seller, "shopify", SHOPIFY_SECRET).await;
    let bodies: Vec<Vec<u8>> = (0..200)
        .map(|i| shopify_order(7_000_000 + i, &[("HAT-200", 1)]))
        .collect();
    let answers = join_all(bodies.iter().enumerate().map(|(i, body)| {
        let headers = shopify_headers("orders/create", &format!("flash-{i}"), body);
        let url = shopify.webhook_url.clone();
        async move { deliver(&url, &headers, body).await }
    }))
    .await;
    let refused: Vec<String> = answers
        .iter()
        .filter(|a| a.status != 200)
        .map(|a| format!("{} {}", a.status, a.body))
        .collect();
    assert!(refused.is_empty(), "every delivery is taken: {refused:?}");
    eventually("all 200 orders applied", APPLY_WAIT * 2, || {
        let seller = seller.clone();
        async move {
            seller.run_cron().await;
            (quantity(&seller, hat).await == 300).then_some(())
        }
    })
    .await;
    settled_log(&seller, shopify.id, 100).await;
}

async fn a_line_is_matched_by_its_linked_listing_before_its_sku(api: Api) {
    let seller = api.new_account("Variation Vault").await;
    let red = product(&seller, "SOCK-RED", 10).await;
    let blue = product(&seller, "SOCK-BLUE", 10).await;
    let woo = connect(&seller, "woocommerce", WOO_SECRET).await;
    // The seller linked variation 8802 of product 88 to SOCK-RED.
    let linked = seller
        .send_json(
            "POST",
            &format!("/api/v1/products/{red}/listings"),
            &json!({ "storefront_id": woo.id, "external_id": "88", "external_sub_id": "8802" }),
        )
        .await;
    assert_eq!(linked.status, 201, "{}", linked.body);
    // WooCommerce shows a stale SKU on that variation; the link wins. The second line has
    // only a SKU; the third neither, so it is skipped and said so.
    let body = json!({ "id": 9101, "status": "processing", "line_items": [
        { "product_id": 88, "variation_id": 8802, "sku": "SOCK-BLUE", "quantity": 2 },
        { "product_id": 90, "variation_id": 0, "sku": "SOCK-BLUE", "quantity": 1 },
        { "product_id": 91, "variation_id": 0, "sku": "", "quantity": 5 } ] })
    .to_string()
    .into_bytes();
    let answer = deliver(
        &woo.webhook_url,
        &woo_headers("order.created", "match-1", &body),
        &body,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let log = settled_log(&seller, woo.id, 1).await;
    assert_eq!(quantity(&seller, red).await, 8, "the linked variation");
    assert_eq!(quantity(&seller, blue).await, 9, "by SKU");
    let message = &log.deliveries[0].message;
    assert!(message.contains("Line 3 skipped"), "{message}");
}

async fn woocommerces_unsigned_ping_is_answered_and_stored_nowhere(api: Api) {
    let seller = api.new_account("Ping Pong Goods").await;
    let woo = connect(&seller, "woocommerce", WOO_SECRET).await;
    let response = reqwest::Client::new()
        .post(&woo.webhook_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("webhook_id=42")
        .send()
        .await
        .expect("the worker answers");
    assert_eq!(response.status().as_u16(), 200);
    let log = seller
        .get(&format!("/api/v1/storefronts/{}/deliveries", woo.id))
        .await;
    assert_eq!(log.json::<DeliveryList>().deliveries, vec![]);
    // Anything else unsigned is refused.
    let answer = deliver(&woo.webhook_url, &[], b"{\"id\":1}").await;
    assert_eq!(answer.status, 401, "{}", answer.body);
}
