//! Integration tests: the real worker under `wrangler dev` with local D1, KV and Queues.
//! One worker (fresh state, demo data) serves every test in this binary; tests that change data
//! each use products no other test touches.

use serde_json::json;
use std::time::Duration;
use tally_domain::api::{AdjustmentResult, Health, Product};
use tally_domain::sync::SyncStatus;
use tally_tests::client::Api;
use tally_tests::eventually;
use tally_tests::suite::{arguments, case, runtime};
use tally_tests::worker::TestWorker;

/// Queue deliveries take about a second locally; the first of a cold run up to ~5 s.
const QUEUE_WAIT: Duration = Duration::from_secs(30);

fn main() {
    let args = arguments();
    let worker = TestWorker::start();
    let api = Api::new(&worker.base_url);
    let rt = runtime();
    let tests = vec![
        case(
            &rt,
            &api,
            "health_reports_a_real_round_trip_through_d1_kv_and_the_queue",
            health_round_trip,
        ),
        case(
            &rt,
            &api,
            "the_cron_trigger_runs_and_is_reported_by_health",
            cron_runs,
        ),
        case(
            &rt,
            &api,
            "products_are_listed_a_page_at_a_time_in_sku_order",
            products_paged,
        ),
        case(
            &rt,
            &api,
            "only_the_offered_page_sizes_are_accepted",
            bad_paging,
        ),
        case(
            &rt,
            &api,
            "turning_auto_sync_on_persists_and_pushes_nothing",
            auto_sync_persists_and_pushes_nothing,
        ),
        case(
            &rt,
            &api,
            "an_adjustment_with_auto_sync_on_reaches_the_queue_consumer_once",
            adjustment_reaches_consumer,
        ),
        case(
            &rt,
            &api,
            "an_adjustment_with_auto_sync_off_queues_nothing",
            adjustment_without_auto_sync,
        ),
        case(
            &rt,
            &api,
            "fifty_concurrent_adjustments_on_one_sku_all_count",
            concurrent_adjustments,
        ),
        case(
            &rt,
            &api,
            "bad_adjustments_get_a_4xx_naming_the_field_and_change_nothing",
            bad_adjustments,
        ),
        case(
            &rt,
            &api,
            "unknown_products_and_endpoints_answer_404_json",
            unknown_things,
        ),
        case(
            &rt,
            &api,
            "the_spa_is_served_from_the_same_origin_with_deep_links",
            spa_served,
        ),
    ];
    let conclusion = libtest_mimic::run(&args, tests);
    if conclusion.has_failed() {
        eprintln!("--- wrangler dev log (tail) ---\n{}", worker.log_tail());
    }
    drop(worker);
    conclusion.exit();
}

/// The seeded product with this SKU (demo SKUs run `<KIND>-0001` … `<KIND>-1200`).
async fn product_by_sku(api: &Api, sku: &str) -> Product {
    // Products are sorted by SKU; search the pages rather than assume an order.
    for page in 1..=5 {
        let found = api
            .products(page, 250)
            .await
            .items
            .into_iter()
            .find(|p| p.sku.as_str() == sku);
        if let Some(p) = found {
            return p;
        }
    }
    panic!("demo product {sku} not found");
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_millis() as i64
}

async fn health_round_trip(api: Api) {
    let sent_at = now_ms();
    let first = api.get("/api/v1/health").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let health: Health = first.json();
    assert!(
        health.d1.ok && health.kv.ok && health.queue.ok,
        "{health:?}"
    );
    assert!(
        health.d1.detail.contains("1 migrations applied"),
        "{}",
        health.d1.detail
    );
    assert!(
        health.queue.detail.starts_with("sent ping "),
        "{}",
        health.queue.detail
    );
    // The consumer records each ping it handles in KV; health reads it back. A ping handled
    // after ours was sent closes the round trip through the queue.
    let consumed_at = eventually("the consumer to handle a health ping", QUEUE_WAIT, || {
        let api = api.clone();
        async move {
            let h: Health = api.get("/api/v1/health").await.json();
            h.queue_last_consumed_at.filter(|at| *at >= sent_at)
        }
    })
    .await;
    assert!(consumed_at <= now_ms());
}

async fn cron_runs(api: Api) {
    let before: Health = api.get("/api/v1/health").await.json();
    let started = now_ms();
    let response = reqwest::get(format!("{}/__scheduled?cron=*+*+*+*+*", api.base))
        .await
        .expect("wrangler dev exposes the scheduled handler");
    assert!(response.status().is_success());
    let last = eventually("the cron run to be recorded", QUEUE_WAIT, || {
        let api = api.clone();
        async move {
            let h: Health = api.get("/api/v1/health").await.json();
            h.cron_last_run_at.filter(|at| *at >= started - 1_000)
        }
    })
    .await;
    assert_ne!(before.cron_last_run_at, Some(last));
}

async fn products_paged(api: Api) {
    let first = api.products(1, 25).await;
    assert_eq!(first.total, 1200);
    assert_eq!(first.items.len(), 25);
    assert_eq!((first.page, first.per_page), (1, 25));
    let skus: Vec<&str> = first.items.iter().map(|p| p.sku.as_str()).collect();
    let mut sorted = skus.clone();
    sorted.sort();
    assert_eq!(skus, sorted, "pages are in SKU order");

    let last = api.products(5, 250).await;
    assert_eq!(
        last.items.len(),
        200,
        "1,200 products: the fifth page of 250 holds 200"
    );
    let beyond = api.products(6, 250).await;
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, 1200);
}

async fn bad_paging(api: Api) {
    for (query, field) in [
        ("per_page=30", "per_page"),
        ("per_page=1000", "per_page"),
        ("page=0", "page"),
        ("page=x", "page"),
    ] {
        let answer = api.get(&format!("/api/v1/products?{query}")).await;
        assert_eq!(answer.status, 422, "{query}: {}", answer.body);
        assert_eq!(answer.error_field(), Some(field), "{query}");
    }
}

async fn auto_sync_persists_and_pushes_nothing(api: Api) {
    let product = product_by_sku(&api, "TEE-0016").await;
    assert!(!product.auto_sync, "the seed leaves #16 with Auto Sync off");
    let updated = api.set_auto_sync(product.id.0, true).await;
    assert!(updated.auto_sync);
    assert_eq!(updated.quantity, product.quantity);
    assert_eq!(
        updated.version, product.version,
        "turning Auto Sync on changes no quantity"
    );
    assert!(api.product(product.id.0).await.auto_sync, "persisted in D1");

    // Let the queue drain a change of another product; by then a push for #16 would be visible.
    let other = product_by_sku(&api, "SOCK-0019").await;
    api.set_auto_sync(other.id.0, true).await;
    assert_eq!(api.adjust(other.id.0, "add", 1).await.status, 200);
    eventually("the other product's push to be handled", QUEUE_WAIT, || {
        let api = api.clone();
        async move { (api.history_of(other.id.0).await.total == 1).then_some(()) }
    })
    .await;
    assert_eq!(
        api.history_of(product.id.0).await.total,
        0,
        "turning Auto Sync on pushed nothing"
    );

    let off = api.set_auto_sync(product.id.0, false).await;
    assert!(!off.auto_sync);
}

async fn adjustment_reaches_consumer(api: Api) {
    let product = product_by_sku(&api, "CAP-0026").await;
    api.set_auto_sync(product.id.0, true).await;
    let answer = api.adjust(product.id.0, "add", 5).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let result: AdjustmentResult = answer.json();
    assert_eq!(result.before, product.quantity.get());
    assert_eq!(result.after, product.quantity.get() + 5);
    assert!(result.sync_queued);
    assert_eq!(result.product.version, product.version + 1);

    let history = eventually("the consumer to record the change", QUEUE_WAIT, || {
        let api = api.clone();
        async move {
            let page = api.history_of(product.id.0).await;
            (page.total > 0).then_some(page)
        }
    })
    .await;
    assert_eq!(
        history.total, 1,
        "one change, one history entry: {history:?}"
    );
    let entry = &history.items[0];
    assert_eq!(entry.status, SyncStatus::Skipped);
    assert_eq!(
        entry.quantity,
        product.quantity.get() + 5,
        "the current quantity"
    );
    assert!(
        entry.message.contains("No active listings"),
        "{}",
        entry.message
    );
    assert!(entry.action.is_some(), "a skipped push says what to do");
    assert_eq!(entry.sku, "CAP-0026");
}

async fn adjustment_without_auto_sync(api: Api) {
    let product = product_by_sku(&api, "BOOT-0028").await;
    api.set_auto_sync(product.id.0, false).await;
    let answer = api.adjust(product.id.0, "set", 77).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let result: AdjustmentResult = answer.json();
    assert_eq!(result.after, 77);
    assert!(!result.sync_queued);
    assert_eq!(api.product(product.id.0).await.quantity.get(), 77);
}

async fn concurrent_adjustments(api: Api) {
    let product = product_by_sku(&api, "MUG-0029").await;
    api.set_auto_sync(product.id.0, true).await;
    let start = api.product(product.id.0).await;
    let requests = (0..50).map(|_| {
        let api = api.clone();
        async move { api.adjust(product.id.0, "add", 1).await }
    });
    let answers = futures::future::join_all(requests).await;
    for answer in &answers {
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let end = api.product(product.id.0).await;
    assert_eq!(
        end.quantity.get(),
        start.quantity.get() + 50,
        "no update lost"
    );
    assert_eq!(end.version, start.version + 50, "each change applied once");
    let mut afters: Vec<i64> = answers
        .iter()
        .map(|a| a.json::<AdjustmentResult>().after)
        .collect();
    afters.sort_unstable();
    afters.dedup();
    assert_eq!(afters.len(), 50, "every change saw a distinct quantity");
    eventually(
        "a history entry for each of the 50 changes",
        QUEUE_WAIT,
        || {
            let api = api.clone();
            async move { (api.history_of(product.id.0).await.total == 50).then_some(()) }
        },
    )
    .await;
}

async fn bad_adjustments(api: Api) {
    let product = product_by_sku(&api, "BAG-0030").await;
    let path = format!("/api/v1/products/{}/adjustments", product.id.0);
    // (what, body, content type, expected status, field named in the error)
    type Case<'a> = (&'a str, Vec<u8>, &'a str, u16, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            "malformed JSON",
            b"{\"mode\":".to_vec(),
            "application/json",
            400,
            None,
        ),
        (
            "fractional amount",
            br#"{"mode":"add","amount":1.5}"#.to_vec(),
            "application/json",
            400,
            Some("amount"),
        ),
        (
            "amount as text",
            br#"{"mode":"add","amount":"3"}"#.to_vec(),
            "application/json",
            400,
            Some("amount"),
        ),
        (
            "overflowing amount",
            br#"{"mode":"add","amount":1e15}"#.to_vec(),
            "application/json",
            400,
            Some("amount"),
        ),
        (
            "unknown mode",
            br#"{"mode":"double","amount":1}"#.to_vec(),
            "application/json",
            400,
            Some("mode"),
        ),
        (
            "negative set",
            br#"{"mode":"set","amount":-1}"#.to_vec(),
            "application/json",
            422,
            Some("amount"),
        ),
        (
            "below zero",
            format!(
                r#"{{"mode":"add","amount":-{}}}"#,
                product.quantity.get() + 1
            )
            .into_bytes(),
            "application/json",
            422,
            Some("amount"),
        ),
        (
            "zero change",
            br#"{"mode":"add","amount":0}"#.to_vec(),
            "application/json",
            422,
            Some("amount"),
        ),
        (
            "not JSON",
            b"mode=add".to_vec(),
            "application/x-www-form-urlencoded",
            415,
            None,
        ),
        (
            "oversize body",
            vec![b' '; 70 * 1024],
            "application/json",
            413,
            None,
        ),
    ];
    for (what, body, content_type, status, field) in cases {
        let answer = api.send_raw("POST", &path, content_type, body).await;
        assert_eq!(answer.status, status, "{what}: {}", answer.body);
        assert!(!answer.error_message().is_empty(), "{what}: a message");
        if let Some(field) = field {
            assert_eq!(answer.error_field(), Some(field), "{what}: {}", answer.body);
        }
    }
    let after = api.product(product.id.0).await;
    assert_eq!(after.quantity, product.quantity, "nothing was applied");
    assert_eq!(after.version, product.version);
    let toggle = api
        .send_json(
            "PATCH",
            &format!("/api/v1/products/{}/auto-sync", product.id.0),
            &json!({"auto_sync": "yes"}),
        )
        .await;
    assert_eq!(toggle.status, 400);
    assert_eq!(toggle.error_field(), Some("auto_sync"));
}

async fn unknown_things(api: Api) {
    for path in [
        "/api/v1/products/999999",
        "/api/v1/products/abc",
        "/api/v1/products/-1",
    ] {
        let answer = api.get(path).await;
        assert_eq!(answer.status, 404, "{path}");
        assert_eq!(answer.body["error"]["code"], "not_found");
    }
    let adjust = api.adjust(999_999, "add", 1).await;
    assert_eq!(adjust.status, 404);
    let endpoint = api.get("/api/v1/nothing-here").await;
    assert_eq!(endpoint.status, 404);
    assert_eq!(endpoint.body["error"]["code"], "no_such_endpoint");
}

async fn spa_served(api: Api) {
    for path in ["/", "/history", "/some/deep/link"] {
        let response = reqwest::get(format!("{}{path}", api.base))
            .await
            .expect("an answer");
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.unwrap();
        assert!(html.contains("<title>Tally"), "{path} serves the SPA");
    }
}
