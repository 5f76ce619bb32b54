//! `scripts/bench.sh` (fourth part): storefronts talking back, measured on the real worker
//! under `wrangler dev`. Prints figures; asserts nothing about speed.
//!
//! 1. Webhook intake: signed Shopify `orders/create` deliveries for distinct orders, 16 at a
//!    time, next to the bare route (`/api/v1/bench/bare`: read the body, write one D1 row) in
//!    the same run; then whether every order was applied (nothing lost, nothing doubled).
//! 2. Sale on storefront A → storefront B holds the new quantity, at 20 orders a second for
//!    20 s over 50 products (each sells every 2.5 s, so the 2 s push interval holds nothing
//!    back): from the moment storefront A's webhook was sent to the sandbox WooCommerce (B)
//!    answering the first push that carries that quantity or a lower one.

use futures::future::join_all;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tally_domain::api::{Product, Storefront};
use tally_domain::webhook::base64_signature;
use tally_tests::bench::{latencies, now_ms, percentile, settle, woo_pushes};
use tally_tests::client::{Api, DEMO_EMAIL, DEMO_PASSWORD};
use tally_tests::sandbox::{Kind, Sandbox};
use tally_tests::worker::TestWorker;

const WOO: &str = "ck_bench:cs_bench";
const APP_SECRET: &str = "shpss_bench_client_secret";
const INTAKE: u64 = 2_000;
const AT_ONCE: usize = 16;

fn main() {
    let worker = TestWorker::start();
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    rt.block_on(run(&worker));
}

async fn run(worker: &TestWorker) {
    let demo = Api::new(&worker.base_url)
        .signed_in(DEMO_EMAIL, DEMO_PASSWORD)
        .await;
    let seller = demo.new_account("Bench Hooks").await;
    // Storefront A: a Shopify connection nothing is pushed to (inactive); its sales arrive
    // as signed webhooks from this process.
    let shop: Storefront = seller
        .send_json(
            "POST",
            "/api/v1/storefronts",
            &json!({ "name": "Shop A", "kind": "shopify", "credential": "shpat_bench",
                     "base_url": "http://127.0.0.1:9", "webhook_secret": APP_SECRET,
                     "active": false }),
        )
        .await
        .json();
    let http = reqwest::Client::new();

    let stock = product(&seller, "INTAKE-1", 1_000_000).await;
    let bare_url = format!("{}/api/v1/bench/bare", seller.base);
    let sample = order_body(1, &[("INTAKE-1", 1)]);
    let bare = throughput(INTAKE, |_| {
        let http = http.clone();
        let url = bare_url.clone();
        let body = sample.clone();
        async move {
            http.post(&url)
                .body(body)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        }
    })
    .await;
    let hook = throughput(INTAKE, |n| {
        let http = http.clone();
        let url = shop.webhook_url.clone();
        let body = order_body(1_000_000 + n, &[("INTAKE-1", 1)]);
        async move { deliver(&http, &url, &format!("intake-{n}"), body).await }
    })
    .await;
    // The same deliveries again: looked up, checked and found stored, so nothing is queued
    // or applied. Next to the first figure it shows what applying in the background costs
    // the intake (both share the one local D1 database).
    let repeat = throughput(INTAKE, |n| {
        let http = http.clone();
        let url = shop.webhook_url.clone();
        let body = order_body(1_000_000 + n, &[("INTAKE-1", 1)]);
        async move { deliver(&http, &url, &format!("intake-{n}"), body).await }
    })
    .await;
    println!(
        "webhook intake, {INTAKE} signed deliveries {AT_ONCE} at a time: {:.0}/s ({} refused) \
         vs bare route (one D1 row) {:.0}/s ({} refused): {:.2}×",
        hook.0,
        hook.1,
        bare.0,
        bare.1,
        hook.0 / bare.0
    );
    println!(
        "  the same {INTAKE} again (checked, already stored: nothing queued or applied): {:.0}/s ({} refused): {:.2}× the bare route",
        repeat.0,
        repeat.1,
        repeat.0 / bare.0
    );
    let started = Instant::now();
    let expected = 1_000_000 - INTAKE as i64;
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut last = 0;
    while Instant::now() < deadline {
        last = seller.product(stock.id.0).await.quantity.get();
        if last <= expected {
            break;
        }
        seller.run_cron().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "  applied: quantity {last} (expected {expected}: {}), all applied {:.1} s after the last was answered",
        if last == expected { "nothing lost or doubled" } else { "MISMATCH" },
        started.elapsed().as_secs_f64()
    );

    // Storefront B: the sandbox WooCommerce, with every product listed.
    let sandbox = Sandbox::start(&[(Kind::Woocommerce, WOO)]).await;
    let woo: Storefront = seller
        .send_json(
            "POST",
            "/api/v1/storefronts",
            &json!({ "name": "Shop B", "kind": "woocommerce", "credential": WOO,
                     "base_url": sandbox.base_url(Kind::Woocommerce) }),
        )
        .await
        .json();
    let mut listed = Vec::new();
    for i in 0..50 {
        let p = product(&seller, &format!("AB-{i}"), 10_000).await;
        let item = (30_000 + i).to_string();
        sandbox
            .set_items(Kind::Woocommerce, [(item.as_str(), 0)])
            .await;
        seller
            .send_json(
                "POST",
                &format!("/api/v1/products/{}/listings", p.id),
                &json!({ "storefront_id": woo.id, "external_id": item }),
            )
            .await;
        listed.push((p, item));
    }
    settle(&seller).await;
    let (p50, p99, n) = a_to_b(&seller, &sandbox, &http, &shop, &listed).await;
    println!(
        "sale on A (webhook) → B holds it, 20 orders/s ({n} sales): p50 {p50} ms, p99 {p99} ms"
    );
}

async fn product(seller: &Api, sku: &str, quantity: i64) -> Product {
    let created = seller
        .send_json(
            "POST",
            "/api/v1/products",
            &json!({ "sku": sku, "name": sku, "quantity": quantity }),
        )
        .await;
    let p: Product = created.json();
    seller.set_auto_sync(p.id.0, true).await
}

/// A Shopify order webhook body.
fn order_body(id: u64, lines: &[(&str, i64)]) -> Vec<u8> {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(sku, quantity)| json!({ "sku": sku, "quantity": quantity, "variant_id": 1 }))
        .collect();
    json!({ "id": id, "line_items": lines })
        .to_string()
        .into_bytes()
}

/// Sends one signed delivery; whether it was taken (retrying the dev proxy's plain 503, as
/// a platform retries any 5xx).
async fn deliver(http: &reqwest::Client, url: &str, delivery: &str, body: Vec<u8>) -> bool {
    let signature = base64_signature(APP_SECRET.as_bytes(), &body);
    for _ in 0..4 {
        let answer = http
            .post(url)
            .header("content-type", "application/json")
            .header("X-Shopify-Topic", "orders/create")
            .header("X-Shopify-Hmac-Sha256", &signature)
            .header("X-Shopify-Webhook-Id", delivery)
            .body(body.clone())
            .send()
            .await;
        match answer {
            Ok(r) if r.status() == 200 => return true,
            Ok(r) if r.status() == 503 => continue,
            _ => return false,
        }
    }
    false
}

/// Requests per second for `total` requests made by `request(n)`, [`AT_ONCE`] at a time; and
/// how many were not answered 200.
async fn throughput<F, Fut>(total: u64, request: F) -> (f64, u64)
where
    F: Fn(u64) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    let mut refused = 0;
    let mut n = 0;
    while n < total {
        let wave = (n..(n + AT_ONCE as u64).min(total)).map(&request);
        refused += join_all(wave).await.into_iter().filter(|ok| !ok).count() as u64;
        n += AT_ONCE as u64;
    }
    (total as f64 / started.elapsed().as_secs_f64(), refused)
}

/// 20 sales a second for 20 s on storefront A, then per sale the time until storefront B was
/// first pushed that quantity or a lower one.
async fn a_to_b(
    seller: &Api,
    sandbox: &Sandbox,
    http: &reqwest::Client,
    shop: &Storefront,
    listed: &[(Product, String)],
) -> (u64, u64, usize) {
    sandbox.clear_calls(Kind::Woocommerce).await;
    let mut left: BTreeMap<usize, i64> = BTreeMap::new();
    let mut sent: Vec<(String, i64, u64)> = Vec::new();
    let start = Instant::now();
    for tick in 0..20u64 * 10 {
        // Ten ticks a second, two sales each.
        let mut wave = Vec::new();
        for k in 0..2u64 {
            let n = tick * 2 + k;
            let i = (n as usize) % listed.len();
            let q = left.entry(i).or_insert(10_000);
            *q -= 1;
            let (p, item) = &listed[i];
            let body = order_body(2_000_000 + n, &[(p.sku.as_str(), 1)]);
            let (item, quantity, url) = (item.clone(), *q, shop.webhook_url.clone());
            let http = http.clone();
            wave.push(async move {
                let at = now_ms();
                deliver(&http, &url, &format!("ab-{n}"), body).await;
                (item, quantity, at)
            });
        }
        sent.extend(join_all(wave).await);
        let due = Duration::from_millis((tick + 1) * 100);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    settle(seller).await;
    let pushes = woo_pushes(&sandbox.calls(Kind::Woocommerce).await);
    // The first push carrying that quantity or a later (lower) one.
    let mut latencies = latencies(&sent, &pushes, |pushed, sold_to| pushed <= sold_to);
    let n = latencies.len();
    (
        percentile(&mut latencies, 50),
        percentile(&mut latencies, 99),
        n,
    )
}
