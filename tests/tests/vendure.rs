//! A real storefront, end to end: Vendure 3.7 (open source, `vendure/`) runs next to
//! `wrangler dev`. Tally sets its stock through Vendure's Admin API and reads it back there;
//! a shopper's order through Vendure's Shop API reaches Tally by the webhook plugin (or by
//! polling when the webhook is lost), and the sandbox storefronts follow.
//!
//! Each test starts its own Vendure and works in its own new account.

use serde_json::json;
use std::time::Duration;
use tally_domain::api::{DriftReport, ImportStatus, ListingImport, Product, Storefront};
use tally_domain::drift::DriftCause;
use tally_domain::sync::SyncStatus;
use tally_tests::client::Api;
use tally_tests::eventually;
use tally_tests::sandbox::{Kind, Sandbox};
use tally_tests::suite::{arguments, runtime};
use tally_tests::vendure::{Stock, Vendure};
use tally_tests::worker::TestWorker;

const WAIT: Duration = Duration::from_secs(60);
const SHOPIFY_TOKEN: &str = "shpat_vendure_test";

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
        tally_sets_vendures_stock_and_a_vendure_order_reaches_every_storefront,
        a_vendure_order_whose_webhook_is_lost_is_found_by_polling,
        vendure_variants_are_imported_and_a_difference_is_found_and_fixed,
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

/// Connects `vendure` with its SuperAdmin's token, as a seller would paste it.
async fn connect_vendure(seller: &Api, vendure: &Vendure) -> Storefront {
    seller
        .connect(&json!({ "name": "My Vendure", "kind": "vendure",
                          "base_url": vendure.base_url, "credential": vendure.token }))
        .await
}

async fn connect_shopify(seller: &Api, sandbox: &Sandbox) -> Storefront {
    seller
        .connect(&json!({ "name": "My Shopify", "kind": "shopify",
                          "base_url": sandbox.base_url(Kind::Shopify), "credential": SHOPIFY_TOKEN,
                          "webhook_secret": tally_tests::sandbox::SHOPIFY_APP_SECRET }))
        .await
}

/// Waits until Tally's quantity is `expected` without running the cron, so it is a webhook's
/// doing, not a poll's.
async fn tally_hears(seller: &Api, product: &Product, expected: i64) {
    eventually(
        &format!("{} to be {expected} in Tally by webhook", product.sku),
        WAIT,
        || async move {
            (seller.product(product.id.0).await.quantity.get() == expected).then_some(())
        },
    )
    .await;
}

/// The account's orders as the Orders page lists them.
async fn orders(seller: &Api) -> Vec<serde_json::Value> {
    let answer = seller.get("/api/v1/orders").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body.as_array().expect("a list").clone()
}

/// Reads the storefront's recent orders now, as its page's "Check now" does; what it found.
async fn poll_now(seller: &Api, storefront: i64) -> String {
    let answer = seller
        .send_json(
            "POST",
            &format!("/api/v1/storefronts/{storefront}/poll"),
            &json!({}),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body["poll_status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Waits until Tally's quantity is `expected`, running the cron (which polls) as it waits.
async fn tally_shows(seller: &Api, product: &Product, expected: i64) {
    eventually(
        &format!("{} to be {expected} in Tally", product.sku),
        WAIT,
        || async move {
            seller.run_cron().await;
            (seller.product(product.id.0).await.quantity.get() == expected).then_some(())
        },
    )
    .await;
}

async fn shopify_shows(sandbox: &Sandbox, key: &str, expected: i64) {
    eventually(
        &format!("Shopify item {key} to show {expected}"),
        WAIT,
        || async move {
            (sandbox.items(Kind::Shopify).await.get(key) == Some(&expected)).then_some(())
        },
    )
    .await;
}

/// Waits for a successful push of `quantity` to `storefront` newer than history entry
/// `after`; its id and answer.
async fn pushed_after(
    seller: &Api,
    product: &Product,
    storefront: i64,
    quantity: i64,
    after: i64,
) -> (i64, String) {
    eventually(
        &format!("a push of {quantity} to storefront {storefront}"),
        WAIT,
        || async move {
            seller
                .history_of(product.id.0)
                .await
                .items
                .into_iter()
                .find(|e| {
                    e.id > after
                        && e.storefront_id == Some(storefront)
                        && e.quantity == quantity
                        && e.status == SyncStatus::Succeeded
                })
                .map(|e| (e.id, e.answer.unwrap_or_default()))
        },
    )
    .await
}

/// Waits for a successful push of `quantity` to `storefront`; its answer.
async fn pushed(seller: &Api, product: &Product, storefront: i64, quantity: i64) -> String {
    pushed_after(seller, product, storefront, quantity, 0)
        .await
        .1
}

// ---- tests --------------------------------------------------------------------------------

async fn tally_sets_vendures_stock_and_a_vendure_order_reaches_every_storefront(ctx: Ctx) {
    let seller = ctx.api.new_account("Vendure Round Trip").await;
    let vendure = Vendure::start().await;
    let sandbox = Sandbox::start(&[(Kind::Shopify, SHOPIFY_TOKEN)]).await;
    let variant = vendure.products(&[("VEN-MUG", 3)]).await.remove(0);
    let mug = seller.synced_product("VEN-MUG", 12).await;

    // Saving the connection points Tally's plugin in Vendure at the connection's address.
    let store = connect_vendure(&seller, &vendure).await;
    assert!(
        !store.webhooks.is_empty() && store.webhooks.iter().all(|t| t.ok),
        "{:?}",
        store.webhooks
    );
    assert_eq!(
        vendure.webhook_url().await.as_deref(),
        Some(store.webhook_url.as_str())
    );

    // The link form's search finds the variant by part of its SKU, and a link the app would
    // send (checked with Vendure first) to a variant Vendure does not have is refused.
    let found = seller
        .get(&format!("/api/v1/storefronts/{}/items?q=ven-m", store.id))
        .await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(
        found.body["items"][0]["external_id"],
        variant.as_str(),
        "{}",
        found.body
    );
    assert_eq!(found.body["items"][0]["sku"], "VEN-MUG", "{}", found.body);
    let missing = seller
        .send_json(
            "POST",
            &format!("/api/v1/products/{}/listings", mug.id.0),
            &json!({ "storefront_id": store.id, "external_id": "987654", "check": true }),
        )
        .await;
    assert_eq!(missing.status, 422, "{}", missing.body);
    assert_eq!(missing.error_field(), Some("external_id"));

    // Linking pushes Tally's 12; Vendure's Admin API reads it back.
    let checked = seller
        .send_json(
            "POST",
            &format!("/api/v1/products/{}/listings", mug.id.0),
            &json!({ "storefront_id": store.id, "external_id": variant, "check": true }),
        )
        .await;
    assert_eq!(checked.status, 201, "{}", checked.body);
    let fresh = Stock {
        on_hand: 12,
        allocated: 0,
    };
    vendure.stock_becomes(&variant, fresh, WAIT).await;
    let shopify = connect_shopify(&seller, &sandbox).await;
    sandbox.set_items(Kind::Shopify, [("9301@1", 0)]).await;
    seller.link(&mug, shopify.id, "9301", Some("1")).await;
    shopify_shows(&sandbox, "9301@1", 12).await;

    // A change in Tally reaches Vendure.
    let answer = seller.adjust(mug.id.0, "set", 9).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let nine = Stock {
        on_hand: 9,
        allocated: 0,
    };
    vendure.stock_becomes(&variant, nine, WAIT).await;
    shopify_shows(&sandbox, "9301@1", 9).await;

    // A shopper buys 2 on Vendure: Vendure holds them (allocated) and its plugin tells Tally.
    let code = vendure.place_order(&[(&variant, 2)]).await;
    tally_hears(&seller, &mug, 7).await;
    shopify_shows(&sandbox, "9301@1", 7).await;
    // Tally pushes 7 back to Vendure too, on top of the 2 it holds for the order: the sale is
    // taken off once, so Vendure still sells 7 (stock on hand 7 would sell only 5).
    let (sale_push, answer) = pushed_after(&seller, &mug, store.id, 7, 0).await;
    assert_eq!(answer, "200: on hand 9, allocated 2");
    let held = vendure.stock(&variant).await;
    assert_eq!(
        held,
        Stock {
            on_hand: 9,
            allocated: 2
        }
    );
    assert_eq!(held.saleable(), 7);

    // The order is once in Tally, named by Vendure's order code, heard by webhook; reading
    // Vendure's orders now finds nothing new.
    let list = orders(&seller).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["order_id"], code.as_str(), "{list:?}");
    assert_eq!(list[0]["source"], "webhook", "{list:?}");
    assert!(poll_now(&seller, store.id).await.contains("none new"));
    assert_eq!(orders(&seller).await.len(), 1);

    // Cancelled in Vendure's admin: the units come back in Tally and on every storefront, and
    // Tally's next push (after the cancel's) finds nothing held any more.
    vendure.cancel_order(&code).await;
    tally_hears(&seller, &mug, 9).await;
    shopify_shows(&sandbox, "9301@1", 9).await;
    let (_, answer) = pushed_after(&seller, &mug, store.id, 9, sale_push).await;
    assert_eq!(answer, "200: on hand 9, allocated 0");
    vendure.stock_becomes(&variant, nine, WAIT).await;
}

async fn a_vendure_order_whose_webhook_is_lost_is_found_by_polling(ctx: Ctx) {
    let seller = ctx.api.new_account("Vendure Poll").await;
    let vendure = Vendure::start().await;
    let variant = vendure.products(&[("VEN-CAP", 0)]).await.remove(0);
    let cap = seller.synced_product("VEN-CAP", 10).await;
    let store = connect_vendure(&seller, &vendure).await;
    seller.link(&cap, store.id, &variant, None).await;
    let ten = Stock {
        on_hand: 10,
        allocated: 0,
    };
    vendure.stock_becomes(&variant, ten, WAIT).await;

    // The plugin's address goes nowhere (a misconfigured relay, a firewall): its webhooks fail.
    vendure
        .admin(
            "mutation { setTallyWebhook(url: \"http://127.0.0.1:9/nowhere\") { url } }",
            json!({}),
        )
        .await;
    let code = vendure.place_order(&[(&variant, 3)]).await;
    // Tally reads Vendure's recent orders at the poll and takes the sale once.
    tally_shows(&seller, &cap, 7).await;
    let answer = pushed(&seller, &cap, store.id, 7).await;
    assert_eq!(answer, "200: on hand 10, allocated 3");
    let list = orders(&seller).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["order_id"], code.as_str());
    assert_eq!(list[0]["source"], "poll", "{list:?}");
    // Read again: the order is not taken twice.
    assert!(poll_now(&seller, store.id).await.contains("none new"));
    assert_eq!(seller.product(cap.id.0).await.quantity.get(), 7);
    assert_eq!(orders(&seller).await.len(), 1);
}

async fn vendure_variants_are_imported_and_a_difference_is_found_and_fixed(ctx: Ctx) {
    let seller = ctx.api.new_account("Vendure Import").await;
    let vendure = Vendure::start().await;
    let ids = vendure
        .products(&[("VEN-TEE", 4), ("VEN-HAT", 6), ("", 1)])
        .await;
    let tee = seller.synced_product("VEN-TEE", 4).await;
    let store = connect_vendure(&seller, &vendure).await;

    // The import reads every variant: VEN-TEE matches Tally's product, VEN-HAT is new, the
    // variant without a SKU is skipped.
    let started = seller
        .send_json(
            "POST",
            &format!("/api/v1/storefronts/{}/imports", store.id),
            &json!({}),
        )
        .await;
    assert_eq!(started.status, 202, "{}", started.body);
    let started: ListingImport = started.json();
    let import = eventually("the import to be read", WAIT, || async {
        seller.run_cron().await;
        let import: ListingImport = seller
            .get(&format!("/api/v1/imports/{}", started.id))
            .await
            .json();
        assert_ne!(import.status, ImportStatus::Failed, "{import:?}");
        (import.status == ImportStatus::Ready).then_some(import)
    })
    .await;
    let c = &import.counts;
    assert_eq!((c.matched, c.new, c.skipped), (1, 1, 1), "{import:?}");
    let applied = seller
        .send_json(
            "POST",
            &format!("/api/v1/imports/{}/apply", import.id),
            &json!({}),
        )
        .await;
    assert!(matches!(applied.status, 200 | 202), "{}", applied.body);
    eventually("the import to be applied", WAIT, || async {
        seller.run_cron().await;
        let import: ListingImport = seller
            .get(&format!("/api/v1/imports/{}", import.id))
            .await
            .json();
        (import.status == ImportStatus::Applied).then_some(())
    })
    .await;
    let listings = seller
        .get(&format!("/api/v1/products/{}/listings", tee.id))
        .await;
    assert_eq!(
        listings.body["listings"][0]["external_id"],
        ids[0].as_str(),
        "{}",
        listings.body
    );
    let hats = seller.get("/api/v1/products?q=VEN-HAT").await;
    assert_eq!(hats.body["items"][0]["quantity"], 6, "{}", hats.body);

    // Applying pushed Tally's count to the matched Auto Sync product. A shopper then buys one
    // VEN-TEE: Vendure holds it, Tally hears of it and sets 3 on top of it.
    pushed(&seller, &tee, store.id, 4).await;
    vendure.place_order(&[(&ids[0], 1)]).await;
    tally_hears(&seller, &tee, 3).await;
    let held = Stock {
        on_hand: 4,
        allocated: 1,
    };
    assert_eq!(
        pushed(&seller, &tee, store.id, 3).await,
        "200: on hand 4, allocated 1"
    );
    vendure.stock_becomes(&ids[0], held, WAIT).await;

    // Someone sets VEN-TEE's stock to 9 in Vendure's admin: Vendure now sells 8 (9 less the 1
    // held), and the drift check finds exactly that.
    vendure
        .admin(
            "mutation($id: ID!) { updateProductVariants(input: [{id: $id, stockOnHand: 9}]) { id } }",
            json!({ "id": ids[0] }),
        )
        .await;
    let check = seller
        .send_json(
            "POST",
            &format!("/api/v1/storefronts/{}/drift-checks", store.id),
            &json!({}),
        )
        .await;
    assert_eq!(check.status, 202, "{}", check.body);
    let check_id = check.body["id"].as_i64().expect("an id");
    let report = eventually("the drift check to finish", WAIT, || async {
        seller.run_cron().await;
        let report: DriftReport = seller.get("/api/v1/drift").await.json();
        let done = report
            .checks
            .iter()
            .any(|c| c.id == check_id && c.status == ImportStatus::Ready);
        done.then_some(report)
    })
    .await;
    let found: Vec<(&str, i64, Option<i64>, DriftCause)> = report
        .items
        .iter()
        .map(|i| (i.sku.as_str(), i.expected, i.found, i.cause))
        .collect();
    assert_eq!(found, [("VEN-TEE", 3, Some(8), DriftCause::Higher)]);
    let fix = seller
        .send_json(
            "POST",
            "/api/v1/drift/fix",
            &json!({ "listing_ids": [report.items[0].listing_id] }),
        )
        .await;
    assert_eq!(fix.status, 200, "{}", fix.body);
    vendure.stock_becomes(&ids[0], held, WAIT).await;
}
