//! `scripts/bench.sh` (second part): the sync engine's figures for the README, measured on the
//! real worker under `wrangler dev` pushing to a sandbox WooCommerce. Prints figures; asserts
//! nothing about speed.
//!
//! 1. The floor: a no-op round trip through the queue (the health ping) plus one storefront
//!    call, measured in the same run.
//! 2. Change-to-storefront latency (p50/p99) at 50 changes a second for 20 seconds, over 200
//!    products (each changes every 4 s, so the 2 s push interval never holds a change back):
//!    from the moment the client sent the change to the sandbox answering the first push that
//!    carries it (or a later quantity).
//! 3. 1,000 orders on 10 SKUs, at most 100 a second (10 s if the local server keeps up):
//!    pushes per listing.
//! 4. Fairness: a quiet seller's change-to-storefront latency while another seller floods the
//!    same worker (a 100,000-row file applying, a bulk job over it, 1,000 orders), next to
//!    the same seller's latency with nobody else busy.

use futures::future::join_all;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tally_domain::api::Product;
use tally_tests::bench::{latencies, now_ms, percentile, settle, woo_pushes};
use tally_tests::client::{Api, DEMO_EMAIL, DEMO_PASSWORD};
use tally_tests::sandbox::{Kind, Sandbox};
use tally_tests::worker::TestWorker;

const WOO: &str = "ck_bench:cs_bench";

fn main() {
    let worker = TestWorker::start();
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    rt.block_on(run(&worker));
}

async fn run(worker: &TestWorker) {
    let sandbox = Sandbox::start(&[(Kind::Woocommerce, WOO)]).await;
    let demo = Api::new(&worker.base_url)
        .signed_in(DEMO_EMAIL, DEMO_PASSWORD)
        .await;
    let seller = demo.new_account("Bench Sync").await;
    let woo = connect_woo(&seller, &sandbox).await;

    let floor = floor(&seller, &sandbox).await;
    println!(
        "floor: no-op queue round trip p50 {} ms + one sandbox call p50 {} ms = {} ms",
        floor.0,
        floor.1,
        floor.0 + floor.1
    );

    let products = listed_products(&seller, &sandbox, woo, "LAT", 200, 1_000).await;
    let (p50, p99, n) = latency(&seller, &sandbox, &products).await;
    println!("change → storefront at 50 changes/s ({n} changes): p50 {p50} ms, p99 {p99} ms");

    let skus = listed_products(&seller, &sandbox, woo, "HOT", 10, 1_000).await;
    let (pushes, took) = orders(&seller, &sandbox, &skus, "BENCH").await;
    println!(
        "1,000 orders on 10 SKUs in {:.1} s: {pushes} pushes, {:.1} per listing (vs 100 changes each)",
        took.as_secs_f64(),
        pushes as f64 / 10.0
    );

    let quiet = demo.new_account("Bench Quiet").await;
    let quiet_woo = connect_woo(&quiet, &sandbox).await;
    let lone = listed_products(&quiet, &sandbox, quiet_woo, "QUIET", 1, 1_000).await;
    let (alone_p50, alone_max) = quiet_changes(&quiet, &sandbox, &lone[0], 1_000).await;
    let flood = async {
        let file = flood_file(&seller).await;
        let job = seller
            .send_json(
                "POST",
                "/api/v1/bulk-jobs",
                &json!({ "action": "auto_sync_on", "filter": { "q": "FLOOD-" } }),
            )
            .await;
        let orders = orders(&seller, &sandbox, &skus, "FLOOD").await;
        (file, job.status, orders)
    };
    let quiet_run = async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        quiet_changes(&quiet, &sandbox, &lone[0], 2_000).await
    };
    let ((file_status, job_status, _), (busy_p50, busy_max)) = tokio::join!(flood, quiet_run);
    println!(
        "a quiet seller's change → storefront, 10 changes: alone p50 {alone_p50} ms, max \
         {alone_max} ms; while another seller floods (100,000-row file {file_status}, bulk job \
         {job_status}, 1,000 orders) p50 {busy_p50} ms, max {busy_max} ms"
    );
    settle(&seller).await;
}

/// Connects `seller` to the sandbox WooCommerce; the connection's id.
async fn connect_woo(seller: &Api, sandbox: &Sandbox) -> i64 {
    let body = json!({ "name": "Woo", "kind": "woocommerce", "credential": WOO,
                       "base_url": sandbox.base_url(Kind::Woocommerce) });
    seller.connect(&body).await.id
}

/// Uploads and starts applying a 100,000-row file of new products; the apply's HTTP status.
async fn flood_file(seller: &Api) -> u16 {
    let mut csv = String::from("sku,quantity,name\n");
    for i in 0..100_000 {
        csv.push_str(&format!("FLOOD-{i:06},{},Flood {i}\n", i % 90));
    }
    let upload = seller
        .send_raw("POST", "/api/v1/uploads", "text/csv", csv.into_bytes())
        .await;
    let Some(id) = upload.body["id"].as_i64() else {
        return upload.status;
    };
    seller
        .send_json("POST", &format!("/api/v1/uploads/{id}/apply"), &json!({}))
        .await
        .status
}

/// Ten changes to one listed product, one every 2.5 s (outside its 2 s push spacing), from `base`
/// up: the p50 and max time from each change to the storefront holding it.
async fn quiet_changes(
    seller: &Api,
    sandbox: &Sandbox,
    lone: &(Product, String),
    base: i64,
) -> (u64, u64) {
    // Not cleared: another seller's pushes reach the same sandbox meanwhile.
    let before = sandbox.calls(Kind::Woocommerce).await.len();
    let (product, item) = lone;
    let mut sent = Vec::new();
    for n in 1..=10 {
        let at = now_ms();
        seller.adjust(product.id.0, "set", base + n).await;
        sent.push((item.clone(), base + n, at));
        tokio::time::sleep(Duration::from_millis(2_500)).await;
    }
    settle(seller).await;
    let calls = sandbox.calls(Kind::Woocommerce).await;
    let pushes = woo_pushes(&calls[before.min(calls.len())..]);
    let mut latencies = latencies(&sent, &pushes, |pushed, changed| pushed == changed);
    (
        percentile(&mut latencies, 50),
        percentile(&mut latencies, 100),
    )
}

/// Products with Auto Sync on, each listed on the sandbox WooCommerce as item `prefix`-number.
async fn listed_products(
    seller: &Api,
    sandbox: &Sandbox,
    woo: i64,
    prefix: &str,
    count: usize,
    quantity: i64,
) -> Vec<(Product, String)> {
    let base = match prefix {
        "LAT" => 10_000,
        "HOT" => 20_000,
        _ => 30_000,
    };
    let mut out = Vec::new();
    for i in 0..count {
        let sku = format!("{prefix}-{i}");
        let created = seller
            .send_json(
                "POST",
                "/api/v1/products",
                &json!({ "sku": sku, "name": sku, "quantity": quantity }),
            )
            .await;
        let p: Product = created.json();
        let p = seller.set_auto_sync(p.id.0, true).await;
        let item = (base + i).to_string();
        sandbox
            .set_items(Kind::Woocommerce, [(item.as_str(), quantity)])
            .await;
        seller
            .send_json(
                "POST",
                &format!("/api/v1/products/{}/listings", p.id),
                &json!({ "storefront_id": woo, "external_id": item }),
            )
            .await;
        out.push((p, item));
    }
    out
}

/// Median no-op round trip through the queue (a change to a product with no listings: the
/// consumer only records "nothing to push", timed by the worker's own clock from the change to
/// that row) and median sandbox call from this process, 20 of each.
async fn floor(seller: &Api, sandbox: &Sandbox) -> (u64, u64) {
    let created = seller
        .send_json(
            "POST",
            "/api/v1/products",
            &json!({ "sku": "FLOOR-1", "name": "Floor", "quantity": 1 }),
        )
        .await;
    let p: Product = created.json();
    seller.set_auto_sync(p.id.0, true).await;
    for n in 0..20 {
        seller.adjust(p.id.0, "set", 100 + n).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut queue: Vec<u64> = loop {
        let page = seller.history_of(p.id.0).await;
        let rows: Vec<u64> = page
            .items
            .iter()
            .filter_map(|e| Some(e.created_at.saturating_sub(e.changed_at?) as u64))
            .collect();
        if rows.len() >= 20 || Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let http = reqwest::Client::new();
    let url = format!(
        "{}/wp-json/wc/v3/products/batch",
        sandbox.base_url(Kind::Woocommerce)
    );
    let mut calls = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let _ = http
            .post(&url)
            .basic_auth("ck_bench", Some("cs_bench"))
            .json(&json!({ "update": [{ "id": 10_000, "manage_stock": true, "stock_quantity": 1000 }] }))
            .send()
            .await;
        calls.push(started.elapsed().as_millis() as u64);
    }
    (percentile(&mut queue, 50), percentile(&mut calls, 50))
}

/// 50 changes a second for 20 s, each a new (higher) quantity for one of the products, then the
/// time from each change to the first sandbox call showing that quantity or a later one.
async fn latency(
    seller: &Api,
    sandbox: &Sandbox,
    products: &[(Product, String)],
) -> (u64, u64, usize) {
    sandbox.clear_calls(Kind::Woocommerce).await;
    let mut sent: Vec<(String, i64, u64)> = Vec::new();
    let mut next_quantity: BTreeMap<usize, i64> = BTreeMap::new();
    let start = Instant::now();
    for tick in 0..20u64 * 10 {
        // Ten ticks a second, five changes each.
        let wave: Vec<usize> = (0..5)
            .map(|k| ((tick * 5 + k) as usize) % products.len())
            .collect();
        let mut requests = Vec::new();
        for i in wave {
            let q = next_quantity.entry(i).or_insert(1_000);
            *q += 1;
            let (p, item) = &products[i];
            let quantity = *q;
            let seller = seller.clone();
            let id = p.id.0;
            let item = item.clone();
            requests.push(async move {
                let at = now_ms();
                seller.adjust(id, "set", quantity).await;
                (item, quantity, at)
            });
        }
        sent.extend(join_all(requests).await);
        let due = Duration::from_millis((tick + 1) * 100);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    settle(seller).await;
    let pushes = woo_pushes(&sandbox.calls(Kind::Woocommerce).await);
    // The first push carrying that quantity or a later (higher) one.
    let mut latencies = latencies(&sent, &pushes, |pushed, changed| pushed >= changed);
    let n = latencies.len();
    (
        percentile(&mut latencies, 50),
        percentile(&mut latencies, 99),
        n,
    )
}

/// 1,000 orders of one unit, 100 a second over the ten SKUs, with ids from `prefix`; pushes
/// counted at the sandbox.
async fn orders(
    seller: &Api,
    sandbox: &Sandbox,
    skus: &[(Product, String)],
    prefix: &str,
) -> (usize, Duration) {
    let before = sandbox.calls(Kind::Woocommerce).await.len();
    let start = Instant::now();
    // Ten at a time, at most 100 a second: as fast as the local dev server takes them (its
    // proxy drops connections when a thousand arrive at once).
    for tick in 0..100u64 {
        let wave = (0..10).map(|k| {
            let n = tick * 10 + k;
            let seller = seller.clone();
            let sku = skus[(n % 10) as usize].0.sku.to_string();
            async move {
                let body = json!({ "order_id": format!("{prefix}-{n}"), "lines": [{ "sku": sku, "quantity": 1 }] });
                seller.send_json("POST", "/api/v1/orders", &body).await;
            }
        });
        join_all(wave).await;
        let due = Duration::from_millis((tick + 1) * 100);
        if let Some(wait) = due.checked_sub(start.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    let took = start.elapsed();
    settle(seller).await;
    let pushes = sandbox.calls(Kind::Woocommerce).await[before..]
        .iter()
        .map(|c| c.body["update"].as_array().map_or(0, Vec::len))
        .sum();
    (pushes, took)
}
