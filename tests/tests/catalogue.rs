//! Storefront catalogues, end to end: `wrangler dev` reads each sandbox storefront's catalogue
//! through the platform's own API shapes, and listing import matches it to Tally by SKU,
//! previews it and links it all or none.
//!
//! Each test works in its own new account with its own sandbox storefronts.

use serde_json::{json, Value};
use std::time::Duration;
use tally_domain::api::{
    DriftFixed, DriftReport, ImportItemPage, ImportStatus, Listing, ListingImport, Product,
    ResyncJob, Storefront,
};
use tally_domain::bulk_job::JobStatus;
use tally_domain::drift::DriftCause;
use tally_tests::client::Api;
use tally_tests::eventually;
use tally_tests::sandbox::{Kind, Sandbox};
use tally_tests::suite::{arguments, runtime};
use tally_tests::worker::TestWorker;

/// Reading 5,000 items is about 20 BigCommerce pages; pushes take seconds.
const WAIT: Duration = Duration::from_secs(120);

fn credential(kind: Kind) -> &'static str {
    match kind {
        Kind::Shopify => "shpat_catalogue_token",
        Kind::Woocommerce => "ck_catalogue:cs_catalogue_secret",
        Kind::Ebay => "v^1.1#catalogue_ebay",
        Kind::Amazon => "Atza|catalogue_amazon",
        Kind::Bigcommerce => "bc_catalogue_token",
    }
}

#[derive(Clone)]
struct Ctx {
    api: Api,
}

fn main() {
    let args = arguments();
    let worker = TestWorker::start();
    let rt = runtime();
    let ctx = Ctx {
        api: Api::new(&worker.base_url),
    };
    let tests = tally_tests::cases![&rt, &ctx;
        a_5000_item_catalogue_imports_with_matches_new_items_and_a_conflict,
        every_platform_s_catalogue_is_read_in_its_own_shapes,
        applying_links_everything_or_nothing,
        imports_refuse_bad_requests_by_name_and_stay_in_their_account,
        drift_on_a_storefront_is_found_with_its_cause_and_fixed,
        a_full_resync_pushes_every_listing_with_progress_and_can_be_cancelled,
        drift_fixes_refuse_what_is_not_theirs_to_fix,
        ebay_s_cap_refusal_is_a_wait_for_every_variation_of_the_listing,
        linking_asks_the_storefront_first_and_its_items_can_be_searched,
    ];
    let conclusion = libtest_mimic::run(&args, tests);
    if conclusion.has_failed() {
        eprintln!("--- wrangler dev log (tail) ---\n{}", worker.log_tail());
    }
    drop(ctx);
    drop(worker);
    conclusion.exit();
}

// ---- helpers ------------------------------------------------------------------------------

async fn product(seller: &Api, sku: &str, quantity: i64) -> Product {
    let answer = seller
        .send_json(
            "POST",
            "/api/v1/products",
            &json!({ "sku": sku, "name": format!("Product {sku}"), "quantity": quantity }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.json()
}

async fn connect(seller: &Api, sandbox: &Sandbox, kind: Kind) -> Storefront {
    let mut body = json!({ "name": format!("My {kind}"), "kind": kind.as_str(),
        "base_url": sandbox.base_url(kind), "credential": credential(kind) });
    if kind == Kind::Amazon {
        body["store_ref"] = json!("A1SELLER");
    }
    seller.connect(&body).await
}

/// A sandbox item: `(key, sku, quantity)`.
type Item = (String, String, i64);

/// A listing's `(external_id, external_sub_id)`.
type Ids<'a> = (&'a str, Option<&'a str>);

/// Sandbox items with a SKU (and title) each.
async fn stock(sandbox: &Sandbox, kind: Kind, items: &[Item]) {
    sandbox
        .set_items(kind, items.iter().map(|(k, _, q)| (k.clone(), *q)))
        .await;
    let traits: serde_json::Map<String, Value> = items
        .iter()
        .filter(|(_, sku, _)| !sku.is_empty())
        .map(|(k, sku, _)| {
            (
                k.clone(),
                json!({ "sku": sku, "title": format!("Title {sku}") }),
            )
        })
        .collect();
    sandbox.set_traits(kind, Value::Object(traits)).await;
}

/// Starts an import of `storefront` and waits for its preview.
async fn preview(seller: &Api, storefront: i64) -> ListingImport {
    let answer = seller
        .send_json(
            "POST",
            &format!("/api/v1/storefronts/{storefront}/imports"),
            &json!({}),
        )
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let started: ListingImport = answer.json();
    assert_eq!(started.status, ImportStatus::Reading);
    eventually(
        &format!("import {} to be ready", started.id),
        WAIT,
        || async {
            seller.run_cron().await;
            let import: ListingImport = seller
                .get(&format!("/api/v1/imports/{}", started.id))
                .await
                .json();
            assert!(
                matches!(import.status, ImportStatus::Reading | ImportStatus::Ready),
                "the import stopped: {import:?}"
            );
            (import.status == ImportStatus::Ready).then_some(import)
        },
    )
    .await
}

async fn items(seller: &Api, import: i64, class: &str) -> ImportItemPage {
    let answer = seller
        .get(&format!(
            "/api/v1/imports/{import}/items?class={class}&page_size=250"
        ))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

async fn apply(seller: &Api, import: i64) -> ListingImport {
    let answer = seller
        .send_json(
            "POST",
            &format!("/api/v1/imports/{import}/apply"),
            &json!({}),
        )
        .await;
    assert!(matches!(answer.status, 200 | 202), "{}", answer.body);
    eventually(
        &format!("import {import} to finish applying"),
        WAIT,
        || async {
            seller.run_cron().await;
            let import: ListingImport = seller
                .get(&format!("/api/v1/imports/{import}"))
                .await
                .json();
            (import.status != ImportStatus::Applying).then_some(import)
        },
    )
    .await
}

async fn listings(seller: &Api, product: &Product) -> Vec<Listing> {
    let answer = seller
        .get(&format!("/api/v1/products/{}/listings", product.id))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    serde_json::from_value(answer.body["listings"].clone()).expect("listings")
}

async fn by_sku(seller: &Api, sku: &str) -> Option<Product> {
    let answer = seller
        .get(&format!("/api/v1/products?q={sku}&per_page=250"))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let items: Vec<Product> = serde_json::from_value(answer.body["items"].clone()).expect("items");
    items.into_iter().find(|p| p.sku.as_str() == sku)
}

// ---- tests --------------------------------------------------------------------------------

/// 5,000 BigCommerce variants: 99 match Tally products, one is linked already, one has no SKU,
/// two share a SKU, and the rest are new. Applying links 4,996 in one step, creates the new
/// products at the storefront's counts, and pushes Tally's count to matched Auto Sync items.
/// Running it again finds nothing new.
async fn a_5000_item_catalogue_imports_with_matches_new_items_and_a_conflict(ctx: Ctx) {
    let seller = ctx.api.new_account("Import Five Thousand").await;
    let sandbox = Sandbox::start(&[(Kind::Bigcommerce, credential(Kind::Bigcommerce))]).await;
    let sku = |v: i64| match v {
        1 => String::new(),
        5000 => "IMP-4999".to_owned(),
        v => format!("IMP-{v}"),
    };
    let catalogue: Vec<Item> = (1..=5000)
        .map(|v| (format!("{v}@1"), sku(v), v % 50 + 1))
        .collect();
    stock(&sandbox, Kind::Bigcommerce, &catalogue).await;
    let store = connect(&seller, &sandbox, Kind::Bigcommerce).await;
    let mut first = None;
    for v in 2..=101 {
        let p = product(&seller, &format!("IMP-{v}"), 7).await;
        first.get_or_insert(p);
    }
    let first = seller.set_auto_sync(first.expect("made").id.0, true).await;
    let linked = by_sku(&seller, "IMP-101").await.expect("made");
    let answer = seller
        .send_json(
            "POST",
            &format!("/api/v1/products/{}/listings", linked.id),
            &json!({ "storefront_id": store.id, "external_id": "101", "external_sub_id": "1" }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);

    let import = preview(&seller, store.id).await;
    assert_eq!(import.items_read, 5000);
    let c = &import.counts;
    assert_eq!(
        (c.matched, c.new, c.conflict, c.linked, c.skipped),
        (99, 4897, 2, 1, 1),
        "{import:?}"
    );
    let conflicts = items(&seller, import.id, "conflict").await;
    assert_eq!(conflicts.total, 2);
    assert!(conflicts
        .items
        .iter()
        .all(|i| i.sku == "IMP-4999" && i.note.contains("2 items")));
    let skipped = items(&seller, import.id, "skipped").await;
    assert!(
        skipped.items[0].note.contains("No SKU on BigCommerce"),
        "{:?}",
        skipped.items
    );
    // Nothing is linked or created by the preview.
    assert!(by_sku(&seller, "IMP-3000").await.is_none());

    let applied = apply(&seller, import.id).await;
    assert_eq!(applied.status, ImportStatus::Applied, "{applied:?}");
    assert_eq!(
        applied.message,
        "Linked 4996 listings: 99 to your products, 4897 new products."
    );
    let new = by_sku(&seller, "IMP-3001")
        .await
        .expect("created by the import");
    assert_eq!(
        new.quantity.get(),
        2,
        "a new product takes the storefront's count (3001 % 50 + 1)"
    );
    assert_eq!(new.created_via.as_str(), "listing_import");
    let ids: Vec<(String, Option<String>)> = listings(&seller, &new)
        .await
        .into_iter()
        .map(|l| (l.external_id, l.external_sub_id))
        .collect();
    assert_eq!(ids, [("3001".to_owned(), Some("1".to_owned()))]);
    assert_eq!(listings(&seller, &first).await.len(), 1);
    assert!(
        by_sku(&seller, "IMP-4999").await.is_none(),
        "a conflict is left alone"
    );
    // Tally is the master for what it had: its count reaches the matched Auto Sync item.
    eventually("IMP-2's count to reach BigCommerce", WAIT, || async {
        (sandbox.items(Kind::Bigcommerce).await.get("2@1") == Some(&7)).then_some(())
    })
    .await;
    assert_eq!(
        sandbox.items(Kind::Bigcommerce).await.get("3@1"),
        Some(&4),
        "Auto Sync off: untouched"
    );

    let again = preview(&seller, store.id).await;
    let c = &again.counts;
    assert_eq!(
        (c.matched, c.new, c.conflict, c.linked, c.skipped),
        (0, 0, 2, 4997, 1)
    );
    let applied = apply(&seller, again.id).await;
    assert_eq!(
        applied.message,
        "Nothing new to link (4997 linked already)."
    );
}

/// A small catalogue on each platform, read through its own API: Shopify variants at two
/// locations (one SKU at both is a conflict), WooCommerce simple products and variations,
/// eBay inventory items, Amazon listings (fulfilled by Amazon is skipped), BigCommerce products
/// tracked by product. Each matched item is linked with the ids its pushes need.
async fn every_platform_s_catalogue_is_read_in_its_own_shapes(ctx: Ctx) {
    let seller = ctx.api.new_account("Import Every Platform").await;
    let stores: Vec<(Kind, &str)> = Kind::ALL.iter().map(|k| (*k, credential(*k))).collect();
    let sandbox = Sandbox::start(&stores).await;
    let s = |k: &str, sku: &str, q: i64| (k.to_owned(), sku.to_owned(), q);
    // (platform, its catalogue, the SKU Tally has, the ids that SKU's listing gets)
    let cases: Vec<(Kind, Vec<Item>, &str, Ids)> = vec![
        (
            Kind::Shopify,
            vec![
                s("11@5", "SH-A", 3),
                s("12@5", "SH-B", 1),
                s("12@6", "SH-B", 2),
            ],
            "SH-A",
            ("11", Some("5")),
        ),
        (
            Kind::Woocommerce,
            vec![
                s("21", "WO-A", 4),
                s("30/31", "WO-B", 2),
                s("30/32", "WO-C", 0),
            ],
            "WO-B",
            ("30", Some("31")),
        ),
        (Kind::Ebay, vec![s("EB-A", "", 5)], "EB-A", ("EB-A", None)),
        (
            Kind::Amazon,
            vec![s("A1SELLER/AM-A", "", 6), s("A1SELLER/AM-FBA", "", 9)],
            "AM-A",
            ("AM-A", None),
        ),
        (
            Kind::Bigcommerce,
            vec![s("product:41@1", "BC-A", 8)],
            "BC-A",
            ("product:41", Some("1")),
        ),
    ];
    for (kind, catalogue, matched, ids) in cases {
        stock(&sandbox, kind, &catalogue).await;
        if kind == Kind::Amazon {
            sandbox
                .set_traits(Kind::Amazon, json!({ "A1SELLER/AM-FBA": { "fba": true } }))
                .await;
        }
        let store = connect(&seller, &sandbox, kind).await;
        let target = product(&seller, matched, 1).await;
        let import = preview(&seller, store.id).await;
        assert_eq!(import.counts.matched, 1, "{kind}: {import:?}");
        match kind {
            Kind::Shopify => assert_eq!(import.counts.conflict, 2, "SH-B is at two locations"),
            Kind::Woocommerce => assert_eq!(import.counts.new, 2, "{import:?}"),
            Kind::Amazon => {
                assert_eq!(import.counts.skipped, 1);
                let skipped = items(&seller, import.id, "skipped").await;
                assert!(skipped.items[0].note.contains("Fulfilled by Amazon"));
            }
            _ => {}
        }
        let applied = apply(&seller, import.id).await;
        assert_eq!(applied.status, ImportStatus::Applied, "{kind}: {applied:?}");
        let linked = listings(&seller, &target).await;
        assert_eq!(linked.len(), 1, "{kind}");
        assert_eq!(
            (
                linked[0].external_id.as_str(),
                linked[0].external_sub_id.as_deref()
            ),
            ids,
            "{kind}"
        );
        if kind == Kind::Woocommerce {
            let variation = by_sku(&seller, "WO-C").await.expect("created");
            assert_eq!(variation.name, "Product 30 - Title WO-C");
        }
    }
}

/// A SKU created between the preview and applying makes the whole write refuse: nothing is
/// linked or created, and the import says what to do.
async fn applying_links_everything_or_nothing(ctx: Ctx) {
    let seller = ctx.api.new_account("Import All Or None").await;
    let sandbox = Sandbox::start(&[(Kind::Ebay, credential(Kind::Ebay))]).await;
    let catalogue: Vec<Item> = ["AON-1", "AON-2", "AON-3"]
        .iter()
        .map(|s| ((*s).to_owned(), String::new(), 5))
        .collect();
    stock(&sandbox, Kind::Ebay, &catalogue).await;
    let store = connect(&seller, &sandbox, Kind::Ebay).await;
    let matched = product(&seller, "AON-1", 2).await;
    let import = preview(&seller, store.id).await;
    assert_eq!((import.counts.matched, import.counts.new), (1, 2));
    // Made by hand while the preview was on screen.
    product(&seller, "AON-3", 1).await;
    let failed = apply(&seller, import.id).await;
    assert_eq!(failed.status, ImportStatus::Failed, "{failed:?}");
    assert!(
        failed.message.starts_with("Nothing was linked"),
        "{}",
        failed.message
    );
    assert!(listings(&seller, &matched).await.is_empty());
    assert!(by_sku(&seller, "AON-2").await.is_none());
    // A fresh preview sees AON-3 as a match, and applies.
    let again = preview(&seller, store.id).await;
    assert_eq!((again.counts.matched, again.counts.new), (2, 1));
    assert_eq!(apply(&seller, again.id).await.status, ImportStatus::Applied);
    assert_eq!(listings(&seller, &matched).await.len(), 1);

    // A matched product linked by hand to another item of the store meanwhile would be shown
    // there twice: the write is refused whole.
    sandbox
        .set_items(Kind::Ebay, [("AON-4", 2), ("AON-5", 2)])
        .await;
    let fourth = product(&seller, "AON-4", 1).await;
    let third = preview(&seller, store.id).await;
    assert_eq!((third.counts.matched, third.counts.new), (1, 1));
    let answer = seller
        .send_json(
            "POST",
            &format!("/api/v1/products/{}/listings", fourth.id),
            &json!({ "storefront_id": store.id, "external_id": "AON-ELSEWHERE" }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let failed = apply(&seller, third.id).await;
    assert_eq!(failed.status, ImportStatus::Failed, "{failed:?}");
    assert!(by_sku(&seller, "AON-5").await.is_none());
    assert_eq!(listings(&seller, &fourth).await.len(), 1);
}

async fn imports_refuse_bad_requests_by_name_and_stay_in_their_account(ctx: Ctx) {
    let seller = ctx.api.new_account("Import Owner").await;
    let other = ctx.api.new_account("Import Stranger").await;
    let sandbox = Sandbox::start(&[(Kind::Ebay, credential(Kind::Ebay))]).await;
    stock(
        &sandbox,
        Kind::Ebay,
        &[("BAD-1".to_owned(), String::new(), 1)],
    )
    .await;
    let store = connect(&seller, &sandbox, Kind::Ebay).await;
    let import = preview(&seller, store.id).await;

    let answer = other
        .send_json(
            "POST",
            &format!("/api/v1/storefronts/{}/imports", store.id),
            &json!({}),
        )
        .await;
    assert_eq!(answer.status, 404, "{}", answer.body);
    for path in [
        format!("/api/v1/imports/{}", import.id),
        format!("/api/v1/imports/{}/items", import.id),
    ] {
        assert_eq!(other.get(&path).await.status, 404, "{path}");
    }
    let answer = other
        .send_json(
            "POST",
            &format!("/api/v1/imports/{}/apply", import.id),
            &json!({}),
        )
        .await;
    assert_eq!(answer.status, 404);

    let answer = seller
        .get(&format!("/api/v1/imports/{}/items?class=bogus", import.id))
        .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(answer.error_field(), Some("class"));
    let answer = seller
        .get(&format!("/api/v1/imports/{}/items?page_size=0", import.id))
        .await;
    assert_eq!(answer.error_field(), Some("page_size"));
    let answer = seller
        .get(&format!(
            "/api/v1/imports/{}/items?page_size=251",
            import.id
        ))
        .await;
    assert_eq!(answer.error_field(), Some("page_size"));

    let cancelled = seller
        .send_json(
            "POST",
            &format!("/api/v1/imports/{}/cancel", import.id),
            &json!({}),
        )
        .await;
    assert_eq!(cancelled.status, 200);
    let answer = seller
        .send_json(
            "POST",
            &format!("/api/v1/imports/{}/apply", import.id),
            &json!({}),
        )
        .await;
    assert_eq!(answer.status, 409, "{}", answer.body);
    assert!(
        answer.error_message().contains("Start the import again"),
        "{}",
        answer.body
    );
    assert!(by_sku(&seller, "BAD-1").await.is_none());
}

// ---- drift --------------------------------------------------------------------------------

/// A product with Auto Sync on, linked to `item` on `storefront`.
async fn listed(seller: &Api, storefront: i64, sku: &str, quantity: i64, item: &str) -> Product {
    let p = seller.synced_product(sku, quantity).await;
    seller.link(&p, storefront, item, None).await;
    p
}

async fn drift_report(seller: &Api) -> DriftReport {
    let answer = seller.get("/api/v1/drift").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

/// Runs a drift check of `storefront` now and waits for it to finish.
async fn check_drift(seller: &Api, storefront: i64) -> DriftReport {
    let answer = seller
        .send_json(
            "POST",
            &format!("/api/v1/storefronts/{storefront}/drift-checks"),
            &json!({}),
        )
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let started = answer.body["id"].as_i64().expect("an id");
    eventually("the drift check to finish", WAIT, || async {
        seller.run_cron().await;
        let report = drift_report(seller).await;
        let check = report
            .checks
            .iter()
            .find(|c| c.storefront_id == storefront)?;
        assert_ne!(check.status, ImportStatus::Failed, "{check:?}");
        (check.id == started && check.status == ImportStatus::Ready).then_some(report)
    })
    .await
}

async fn ebay_shows(sandbox: &Sandbox, sku: &str, expected: i64) {
    eventually(&format!("eBay {sku} to show {expected}"), WAIT, || async {
        (sandbox.items(Kind::Ebay).await.get(sku) == Some(&expected)).then_some(())
    })
    .await;
}

/// Three kinds of drift on an eBay store (an edit up, an edit down, a listing gone) are found
/// with their causes; fixing two sends Tally's count back, the gone one waits for the seller,
/// and the health panel counts what is open.
async fn drift_on_a_storefront_is_found_with_its_cause_and_fixed(ctx: Ctx) {
    let seller = ctx.api.new_account("Drift Finder").await;
    let sandbox = Sandbox::start(&[(Kind::Ebay, credential(Kind::Ebay))]).await;
    sandbox
        .set_items(Kind::Ebay, [("DR-1", 0), ("DR-2", 0), ("DR-3", 0)])
        .await;
    let store = connect(&seller, &sandbox, Kind::Ebay).await;
    let up = listed(&seller, store.id, "DR-1", 5, "DR-1").await;
    let down = listed(&seller, store.id, "DR-2", 5, "DR-2").await;
    listed(&seller, store.id, "DR-3", 5, "DR-3").await;
    let gone = listed(&seller, store.id, "DR-GONE", 5, "DR-GONE").await;
    for sku in ["DR-1", "DR-2", "DR-3"] {
        ebay_shows(&sandbox, sku, 5).await;
    }
    // eBay refused the push to an item it does not have (a push on its way is not drift).
    eventually("DR-GONE's push to fail", WAIT, || async {
        let page = seller.history_of(gone.id.0).await;
        page.items
            .iter()
            .any(|e| e.status == tally_domain::sync::SyncStatus::Failed)
            .then_some(())
    })
    .await;
    // Edits made on eBay itself.
    sandbox
        .set_items(Kind::Ebay, [("DR-1", 9), ("DR-2", 3)])
        .await;

    let report = check_drift(&seller, store.id).await;
    let found: Vec<(&str, i64, Option<i64>, DriftCause)> = report
        .items
        .iter()
        .map(|i| (i.sku.as_str(), i.expected, i.found, i.cause))
        .collect();
    assert_eq!(
        found,
        [
            ("DR-1", 5, Some(9), DriftCause::Higher),
            ("DR-2", 5, Some(3), DriftCause::Lower),
            ("DR-GONE", 5, None, DriftCause::Gone),
        ]
    );
    let gone = &report.items[2];
    assert!(
        !gone.fixable && gone.explanation.contains("Not on eBay any more"),
        "{gone:?}"
    );
    assert_eq!(report.checks[0].open, 3);
    let health = seller.get("/api/v1/sync-health").await;
    assert_eq!(health.body["drift"], 3, "{}", health.body);

    let listing_of = |p: &Product| {
        report
            .items
            .iter()
            .find(|i| i.product_id == p.id)
            .map(|i| i.listing_id)
            .expect("listed")
    };
    let answer = seller
        .send_json(
            "POST",
            "/api/v1/drift/fix",
            &json!({ "listing_ids": [listing_of(&up), listing_of(&down)] }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let fixed: DriftFixed = answer.json();
    assert_eq!(fixed.pushed, 2);
    assert_eq!(fixed.orders_found, 0);
    ebay_shows(&sandbox, "DR-1", 5).await;
    ebay_shows(&sandbox, "DR-2", 5).await;
    let report = drift_report(&seller).await;
    assert_eq!(
        report.items.len(),
        1,
        "only the gone listing stays open: {:?}",
        report.items
    );
    // Fix all has nothing a push can fix now.
    let answer = seller
        .send_json(
            "POST",
            "/api/v1/drift/fix",
            &json!({ "storefront_id": store.id, "all": true }),
        )
        .await;
    let fixed: DriftFixed = answer.json();
    assert_eq!(fixed.pushed, 0, "{}", fixed.message);

    // The next check agrees.
    let report = check_drift(&seller, store.id).await;
    let open: Vec<&str> = report.items.iter().map(|i| i.sku.as_str()).collect();
    assert_eq!(open, ["DR-GONE"]);
}

/// 120 Auto Sync listings whose eBay counts were all changed there: a full re-sync pushes each
/// again, its progress counting pushes as they land; a second one cancelled at once stops
/// after its first chunk.
async fn a_full_resync_pushes_every_listing_with_progress_and_can_be_cancelled(ctx: Ctx) {
    let seller = ctx.api.new_account("Full Resync").await;
    let sandbox = Sandbox::start(&[(Kind::Ebay, credential(Kind::Ebay))]).await;
    let skus: Vec<String> = (1..=120).map(|n| format!("RS-{n:03}")).collect();
    sandbox
        .set_items(Kind::Ebay, skus.iter().map(|s| (s.clone(), 4)))
        .await;
    let store = connect(&seller, &sandbox, Kind::Ebay).await;
    let mut ids = Vec::new();
    for sku in &skus {
        ids.push(product(&seller, sku, 4).await.id.0);
    }
    let answer = seller
        .send_json(
            "POST",
            "/api/v1/products/auto-sync",
            &json!({ "ids": ids, "auto_sync": true }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let import = preview(&seller, store.id).await;
    assert_eq!(import.counts.matched, 120);
    assert_eq!(
        apply(&seller, import.id).await.status,
        ImportStatus::Applied
    );
    // Everything changed on eBay behind Tally's back.
    sandbox
        .set_items(Kind::Ebay, skus.iter().map(|s| (s.clone(), 0)))
        .await;

    let answer = seller
        .send_json(
            "POST",
            &format!("/api/v1/storefronts/{}/resync", store.id),
            &json!({}),
        )
        .await;
    assert_eq!(answer.status, 202, "{}", answer.body);
    let job: ResyncJob = answer.json();
    assert_eq!(job.total, 120);
    let done = eventually("the re-sync to push every listing", WAIT, || async {
        seller.run_cron().await;
        let job: ResyncJob = seller
            .get(&format!("/api/v1/resync-jobs/{}", job.id))
            .await
            .json();
        (job.status == JobStatus::Finished && job.pushed == 120).then_some(job)
    })
    .await;
    assert_eq!((done.queued, done.failed), (120, 0));
    let items = sandbox.items(Kind::Ebay).await;
    assert!(skus.iter().all(|s| items.get(s) == Some(&4)), "{items:?}");

    let answer = seller
        .send_json(
            "POST",
            &format!("/api/v1/storefronts/{}/resync", store.id),
            &json!({}),
        )
        .await;
    let second: ResyncJob = answer.json();
    assert_ne!(second.id, done.id);
    let answer = seller
        .send_json(
            "POST",
            &format!("/api/v1/resync-jobs/{}/cancel", second.id),
            &json!({}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let cancelled: ResyncJob = answer.json();
    assert_eq!(cancelled.status, JobStatus::Cancelled);
    seller.run_cron().await;
    let later: ResyncJob = seller
        .get(&format!("/api/v1/resync-jobs/{}", second.id))
        .await
        .json();
    assert!(
        later.queued <= 50,
        "a cancelled re-sync queues nothing more: {later:?}"
    );
}

async fn drift_fixes_refuse_what_is_not_theirs_to_fix(ctx: Ctx) {
    let seller = ctx.api.new_account("Drift Owner").await;
    let other = ctx.api.new_account("Drift Stranger").await;
    let sandbox = Sandbox::start(&[(Kind::Ebay, credential(Kind::Ebay))]).await;
    sandbox.set_items(Kind::Ebay, [("DF-1", 0)]).await;
    let store = connect(&seller, &sandbox, Kind::Ebay).await;
    listed(&seller, store.id, "DF-1", 2, "DF-1").await;
    ebay_shows(&sandbox, "DF-1", 2).await;
    sandbox.set_items(Kind::Ebay, [("DF-1", 7)]).await;
    let report = check_drift(&seller, store.id).await;
    let listing = report.items[0].listing_id;

    for (who, body, field) in [
        (&other, json!({ "listing_ids": [listing] }), "listing_ids"),
        (
            &other,
            json!({ "storefront_id": store.id, "all": true }),
            "storefront_id",
        ),
        (&seller, json!({}), "listing_ids"),
        (
            &seller,
            json!({ "listing_ids": [listing + 1000] }),
            "listing_ids",
        ),
    ] {
        let answer = who.send_json("POST", "/api/v1/drift/fix", &body).await;
        assert_eq!(answer.status, 422, "{body}: {}", answer.body);
        assert_eq!(answer.error_field(), Some(field), "{body}");
    }
    let answer = seller
        .send_json(
            "POST",
            "/api/v1/drift/fix",
            &json!({ "listing_ids": "all" }),
        )
        .await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    for path in [
        format!("/api/v1/storefronts/{}/drift-checks", store.id),
        format!("/api/v1/storefronts/{}/resync", store.id),
    ] {
        let answer = other.send_json("POST", &path, &json!({})).await;
        assert_eq!(answer.status, 404, "{path}: {}", answer.body);
    }
    assert!(drift_report(&other).await.items.is_empty());
    // Nothing was pushed by the refusals: eBay still shows the edit.
    assert_eq!(sandbox.items(Kind::Ebay).await.get("DF-1"), Some(&7));
}

// ---- eBay's daily revision cap --------------------------------------------------------------

/// Two variations of one eBay listing (an inventory item group) share its 250 revisions a day.
/// The listing has used them up: eBay refuses the push, and Tally waits for the new day (no
/// failure), for the other variation too; an item of another listing is pushed as usual. The
/// group comes from the catalogue read by listing import.
async fn ebay_s_cap_refusal_is_a_wait_for_every_variation_of_the_listing(ctx: Ctx) {
    let seller = ctx.api.new_account("eBay Cap").await;
    let sandbox = Sandbox::start(&[(Kind::Ebay, credential(Kind::Ebay))]).await;
    sandbox
        .set_items(
            Kind::Ebay,
            [("CAP-S", 0), ("CAP-M", 0), ("CAP-L", 0), ("CAP-X", 0)],
        )
        .await;
    sandbox
        .set_traits(
            Kind::Ebay,
            json!({ "CAP-S": { "group": "TEE", "revisions_today": 250 },
                    "CAP-M": { "group": "TEE" }, "CAP-L": { "group": "TEE" } }),
        )
        .await;
    let store = connect(&seller, &sandbox, Kind::Ebay).await;
    let mut products = Vec::new();
    for sku in ["CAP-S", "CAP-M", "CAP-X"] {
        let p = product(&seller, sku, 3).await;
        products.push(seller.set_auto_sync(p.id.0, true).await);
    }
    let import = preview(&seller, store.id).await;
    assert_eq!(import.counts.matched, 3);
    assert_eq!(
        apply(&seller, import.id).await.status,
        ImportStatus::Applied
    );

    ebay_shows(&sandbox, "CAP-X", 3).await;
    for p in &products[..2] {
        let id = p.id.0;
        let seller = &seller;
        eventually(
            &format!("{} to wait for the new day", p.sku),
            WAIT,
            || async move {
                seller.run_cron().await;
                let page = seller.history_of(id).await;
                assert!(
                    page.items
                        .iter()
                        .all(|e| e.status != tally_domain::sync::SyncStatus::Failed),
                    "a cap is a wait, not a failure: {:?}",
                    page.items
                );
                page.items
                    .iter()
                    .any(|e| e.message.contains("Queued until midnight UTC"))
                    .then_some(())
            },
        )
        .await;
    }
    let items = sandbox.items(Kind::Ebay).await;
    assert_eq!(
        (items["CAP-S"], items["CAP-M"]),
        (0, 0),
        "eBay took nothing over the cap"
    );
}

/// Links with `check: true` (as the app sends them) on every platform: an item the storefront
/// has links, one it does not have is refused by name and links nothing; and the link form's
/// search finds items by part of their SKU (Amazon: the whole SKU; eBay cannot search).
async fn linking_asks_the_storefront_first_and_its_items_can_be_searched(ctx: Ctx) {
    let seller = ctx.api.new_account("Checked Links").await;
    let stores: Vec<(Kind, &str)> = Kind::ALL.iter().map(|k| (*k, credential(*k))).collect();
    let sandbox = Sandbox::start(&stores).await;
    let s = |k: &str, sku: &str, q: i64| (k.to_owned(), sku.to_owned(), q);
    // (platform, its items, a search and the ids it finds, ids it has, ids it has not)
    type Case<'a> = (
        Kind,
        Vec<Item>,
        (&'a str, Vec<Ids<'a>>),
        Ids<'a>,
        Vec<Ids<'a>>,
    );
    let cases: Vec<Case> = vec![
        (
            Kind::Shopify,
            vec![s("11@5", "SH-A", 3), s("12@5", "SH-B", 1)],
            ("sh-a", vec![("11", Some("5"))]),
            ("12", Some("5")),
            vec![("11", Some("6")), ("99", Some("5"))],
        ),
        (
            Kind::Woocommerce,
            vec![s("21", "WO-A", 4), s("30/31", "WO-B", 2)],
            // WordPress's search reads titles, not SKUs.
            ("title wo-a", vec![("21", None)]),
            ("30", Some("31")),
            vec![("30", None), ("22", None), ("30", Some("39"))],
        ),
        (
            Kind::Ebay,
            vec![s("EB-A", "", 5)],
            ("EB", Vec::new()),
            ("EB-A", None),
            vec![("EB-Z", None)],
        ),
        (
            Kind::Amazon,
            vec![s("A1SELLER/AM-A", "", 6), s("A1SELLER/AM-B", "", 1)],
            ("AM-A", vec![("AM-A", None)]),
            ("AM-B", None),
            vec![("AM-Z", None)],
        ),
        (
            Kind::Bigcommerce,
            vec![s("product:41@1", "BC-A", 8), s("42@1", "BC-V", 2)],
            ("bc-", vec![("product:41", Some("1")), ("42", Some("1"))]),
            ("42", Some("1")),
            vec![("43", Some("1")), ("product:44", Some("1"))],
        ),
    ];
    for (n, (kind, catalogue, (words, expected), has, has_not)) in cases.into_iter().enumerate() {
        stock(&sandbox, kind, &catalogue).await;
        let store = connect(&seller, &sandbox, kind).await;

        let found = seller
            .get(&format!("/api/v1/storefronts/{}/items?q={words}", store.id))
            .await;
        assert_eq!(found.status, 200, "{kind}: {}", found.body);
        assert_eq!(
            found.body["searchable"],
            kind != Kind::Ebay,
            "{kind}: {}",
            found.body
        );
        let ids: Vec<(String, Option<String>)> = found.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                let sub = i["external_sub_id"].as_str().map(str::to_owned);
                (
                    i["external_id"].as_str().unwrap_or_default().to_owned(),
                    sub,
                )
            })
            .collect();
        let expected: Vec<(String, Option<String>)> = expected
            .iter()
            .map(|(id, sub)| ((*id).to_owned(), sub.map(str::to_owned)))
            .collect();
        assert_eq!(ids, expected, "{kind}: {}", found.body);

        let link = |ids: Ids, product: i64| {
            let seller = seller.clone();
            let body = json!({ "storefront_id": store.id, "external_id": ids.0,
                "external_sub_id": ids.1, "check": true });
            async move {
                seller
                    .send_json(
                        "POST",
                        &format!("/api/v1/products/{product}/listings"),
                        &body,
                    )
                    .await
            }
        };
        for (m, missing) in has_not.into_iter().enumerate() {
            let p = product(&seller, &format!("NOPE-{n}-{m}"), 1).await;
            let refused = link(missing, p.id.0).await;
            assert_eq!(refused.status, 422, "{kind} {missing:?}: {}", refused.body);
            assert_eq!(refused.error_field(), Some("external_id"), "{kind}");
            assert!(
                refused
                    .error_message()
                    .contains(&format!("My {kind} has no")),
                "{kind}: {}",
                refused.body
            );
            let listings = seller
                .get(&format!("/api/v1/products/{}/listings", p.id.0))
                .await;
            assert_eq!(
                listings.body["listings"],
                json!([]),
                "{kind}: nothing linked"
            );
        }
        let p = product(&seller, &format!("YES-{n}"), 1).await;
        let linked = link(has, p.id.0).await;
        assert_eq!(linked.status, 201, "{kind} {has:?}: {}", linked.body);
    }

    // Bad searches are refused by name; another account's storefront is not there.
    let stranger = ctx.api.new_account("Checked Links Stranger").await;
    let store = seller.get("/api/v1/storefronts").await.body["storefronts"][0]["id"]
        .as_i64()
        .expect("a storefront");
    let too_long = "x".repeat(101);
    for q in ["", "%20%20", too_long.as_str()] {
        let answer = seller
            .get(&format!("/api/v1/storefronts/{store}/items?q={q}"))
            .await;
        assert_eq!(answer.status, 422, "{q:?}: {}", answer.body);
        assert_eq!(answer.error_field(), Some("q"));
    }
    let theirs = stranger
        .get(&format!("/api/v1/storefronts/{store}/items?q=SH"))
        .await;
    assert_eq!(theirs.status, 404, "{}", theirs.body);
}
