//! The sync engine through the real parts: `wrangler dev` (local D1, KV, Queues) pushing to the
//! sandbox storefronts, which speak each platform's API shape and record every call.
//!
//! Each test works in its own new account, with storefront item ids no other test uses.
//! Tests that inject faults start a sandbox of their own, so no other test sees the faults.

use futures::future::join_all;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tally_domain::api::{
    Listing, ListingList, Product, SyncHealth, SyncHistoryEntry, SyncHistoryPage,
};
use tally_domain::sync::{SyncStatus, SyncTrigger};
use tally_tests::client::Api;
use tally_tests::eventually;
use tally_tests::sandbox::{FaultKind, Faults, Kind, Sandbox};
use tally_tests::suite::{arguments, runtime};
use tally_tests::worker::TestWorker;

/// A push lands about a second after the change; retries with the tests' short backoff
/// (200 ms doubling, 8 attempts) finish within half a minute.
const SYNC_WAIT: Duration = Duration::from_secs(60);

const SHOPIFY_TOKEN: &str = "shpat_sync_test_secret_1f2e3d";
const WOO_KEYS: &str = "ck_sync_test:cs_sync_test_secret";
const EBAY_TOKEN: &str = "v^1.1#i^1#ebay_sync_test_secret";
const AMAZON_TOKEN: &str = "Atza|amazon_sync_test_secret";
const BIGCOMMERCE_TOKEN: &str = "bc_sync_test_secret_9a8b";

fn credential(kind: Kind) -> &'static str {
    match kind {
        Kind::Shopify => SHOPIFY_TOKEN,
        Kind::Woocommerce => WOO_KEYS,
        Kind::Ebay => EBAY_TOKEN,
        Kind::Amazon => AMAZON_TOKEN,
        Kind::Bigcommerce => BIGCOMMERCE_TOKEN,
    }
}

fn all_stores() -> Vec<(Kind, &'static str)> {
    Kind::ALL.iter().map(|k| (*k, credential(*k))).collect()
}

#[derive(Clone)]
struct Ctx {
    /// The worker, signed in to nothing: each test signs up an account of its own.
    api: Api,
    sandbox: Arc<Sandbox>,
}

fn main() {
    let args = arguments();
    let worker = TestWorker::start();
    let rt = runtime();
    let api = Api::new(&worker.base_url);
    let sandbox = Arc::new(rt.block_on(Sandbox::start(&all_stores())));
    let ctx = Ctx { api, sandbox };
    let tests = tally_tests::cases![&rt, &ctx;
        each_connector_delivers_a_change_in_its_platforms_request_shape,
        channel_rules_and_listing_overrides_decide_the_quantity_sent,
        credentials_are_write_only_and_never_in_any_answer,
        refused_credentials_and_unknown_listings_fail_at_once_with_what_to_do,
        failed_pushes_are_retried_then_dead_lettered_with_what_to_do,
        sync_now_pushes_an_up_to_date_listing_again_and_a_paused_listing_is_left_alone,
        a_thousand_orders_on_ten_skus_coalesce_into_far_fewer_pushes,
        bad_storefront_and_listing_input_gets_a_4xx_naming_the_field,
        a_listings_file_links_every_row_or_none_with_each_problem_by_row,
        a_shopify_compare_and_set_miss_is_re_read_and_pushed_again,
        a_push_shows_as_sent_until_answered_and_a_change_behind_it_as_queued,
        refresh_credentials_renew_tokens_once_and_a_refused_renewal_fails_fast,
        shopify_spent_keys_are_retried_under_a_new_key_and_bundles_say_what_to_do,
        ebay_gets_one_sku_per_call_with_each_offers_own_quantity,
        bigcommerce_stocks_products_by_product_and_a_wrong_variant_fails_alone,
        amazon_listings_amazon_fulfils_are_never_pushed_and_say_why,
        woocommerce_stock_management_is_turned_on_only_with_the_sellers_yes,
        an_amazon_update_refused_after_processing_turns_its_success_into_a_failure,
        woocommerce_keys_go_in_the_query_string_for_hosts_that_drop_authorization,
        a_credential_goes_only_to_the_address_it_was_given_for,
        a_connection_saved_with_a_check_is_read_first_and_refused_when_it_cannot_be,
        the_inventory_shows_each_products_listings_and_newest_push_and_finds_the_not_synced,
    ];
    let conclusion = libtest_mimic::run(&args, tests);
    if conclusion.has_failed() {
        eprintln!("--- wrangler dev log (tail) ---\n{}", worker.log_tail());
        eprintln!("--- sandbox log (tail) ---\n{}", ctx.sandbox.log_tail());
    }
    drop(ctx);
    drop(worker);
    conclusion.exit();
}

// ---- helpers ------------------------------------------------------------------------------

/// A product with Auto Sync on in `seller`'s account.
async fn product(seller: &Api, sku: &str, quantity: i64) -> Product {
    let answer = seller
        .send_json(
            "POST",
            "/api/v1/products",
            &json!({ "sku": sku, "name": format!("Product {sku}"), "quantity": quantity }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let p: Product = answer.json();
    seller.set_auto_sync(p.id.0, true).await
}

/// Connects a storefront of `kind` at `base_url`; returns its id.
async fn connect(seller: &Api, kind: Kind, base_url: &str, extra: Value) -> i64 {
    let mut body = json!({
        "name": format!("My {kind}"),
        "kind": kind.as_str(),
        "base_url": base_url,
        "credential": credential(kind),
    });
    if kind == Kind::Amazon {
        body["store_ref"] = json!("A1SELLER");
    }
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    let answer = seller.send_json("POST", "/api/v1/storefronts", &body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body["id"].as_i64().expect("an id")
}

/// Links `product` to a storefront item; returns the listing.
async fn link(
    seller: &Api,
    product: &Product,
    storefront: i64,
    id: &str,
    sub: Option<&str>,
) -> Listing {
    let answer = seller
        .send_json(
            "POST",
            &format!("/api/v1/products/{}/listings", product.id),
            &json!({ "storefront_id": storefront, "external_id": id, "external_sub_id": sub }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.json()
}

async fn listings(seller: &Api, product: &Product) -> Vec<Listing> {
    let answer = seller
        .get(&format!("/api/v1/products/{}/listings", product.id))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json::<ListingList>().listings
}

async fn set_quantity(seller: &Api, product: &Product, quantity: i64) {
    let answer = seller.adjust(product.id.0, "set", quantity).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

/// Waits until the sandbox of `kind` holds `expected` for `key`.
async fn storefront_shows(sandbox: &Sandbox, kind: Kind, key: &str, expected: i64) {
    eventually(
        &format!("{kind} item {key} to show {expected}"),
        SYNC_WAIT,
        || async move { (sandbox.items(kind).await.get(key) == Some(&expected)).then_some(()) },
    )
    .await;
}

/// Waits until no change of the seller's account is waiting, in flight or retrying.
async fn settled(seller: &Api) {
    eventually(
        "every change to be settled",
        Duration::from_secs(240),
        || async {
            let health: SyncHealth = seller.get("/api/v1/sync-health").await.json();
            (health.in_flight == 0).then_some(())
        },
    )
    .await;
}

async fn history(seller: &Api, product: &Product) -> Vec<SyncHistoryEntry> {
    seller.history_of(product.id.0).await.items
}

/// Waits until the product's history has an entry matching `pred`; on timeout, says what the
/// history held instead (the one clue a flake leaves).
async fn history_entry<F>(seller: &Api, product: &Product, what: &str, pred: F) -> SyncHistoryEntry
where
    F: Fn(&SyncHistoryEntry) -> bool,
{
    let deadline = std::time::Instant::now() + SYNC_WAIT;
    loop {
        let rows = history(seller, product).await;
        if let Some(found) = rows.iter().find(|e| pred(e)) {
            return found.clone();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after {SYNC_WAIT:?} waiting for {what}; {} holds: {rows:#?}",
            product.sku
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

// ---- tests --------------------------------------------------------------------------------

async fn each_connector_delivers_a_change_in_its_platforms_request_shape(ctx: Ctx) {
    let seller = ctx.api.new_account("Shape Check").await;
    let sb = &ctx.sandbox;
    // (kind, external id, sub id, the sandbox's key for the item)
    let items = [
        (Kind::Shopify, "4101", Some("77"), "4101@77"),
        (Kind::Woocommerce, "5101", None, "5101"),
        (Kind::Ebay, "EB-5101", Some("OFFER-9"), "EB-5101"),
        (Kind::Amazon, "AMZ 5101/red", None, "A1SELLER/AMZ 5101/red"),
        (Kind::Bigcommerce, "6101", Some("1"), "6101@1"),
    ];
    for (i, (kind, id, sub, key)) in items.into_iter().enumerate() {
        sb.set_items(kind, [(key, 3)]).await;
        let p = product(&seller, &format!("SHAPE-{i}"), 10).await;
        let storefront = connect(&seller, kind, &sb.base_url(kind), json!({})).await;
        link(&seller, &p, storefront, id, sub).await;
        let answer = seller.adjust(p.id.0, "set", 7).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        assert_eq!(
            (
                answer.body["sync_queued"].clone(),
                answer.body["listings"].clone()
            ),
            (json!(true), json!(1)),
            "{kind}: the adjustment says it is pushing to its one listing"
        );
        storefront_shows(sb, kind, key, 7).await;

        let calls = sb.calls(kind).await;
        let call = calls
            .iter()
            .rev()
            .find(|c| {
                c.body
                    .to_string()
                    .contains(id.split('/').next().unwrap_or(id))
                    || c.path.contains("AMZ")
            })
            .unwrap_or_else(|| panic!("{kind}: no call for {id} in {calls:?}"));
        let b = &call.body;
        match kind {
            Kind::Shopify => {
                assert_eq!(
                    (call.method.as_str(), call.path.as_str()),
                    ("POST", "/admin/api/2026-04/graphql.json")
                );
                assert_eq!(call.header("x-shopify-access-token"), Some(SHOPIFY_TOKEN));
                let query = b["query"].as_str().unwrap_or_default();
                assert!(
                    query.contains("inventorySetQuantities") && query.contains("@idempotent(key:"),
                    "{query}"
                );
                let input = &b["variables"]["input"];
                assert_eq!(input["name"], "available");
                // Linking pushes the current 10 unless the change to 7 came in the same round;
                // the compare-and-set value is what Tally last sent (none before a first push).
                let mut sent = input["quantities"][0].clone();
                let from = sent["changeFromQuantity"].take();
                assert!(from == json!(10) || from.is_null(), "{from}");
                assert_eq!(
                    sent,
                    json!({ "inventoryItemId": "gid://shopify/InventoryItem/4101",
                            "locationId": "gid://shopify/Location/77",
                            "quantity": 7, "changeFromQuantity": null })
                );
            }
            Kind::Woocommerce => {
                assert_eq!(
                    (call.method.as_str(), call.path.as_str()),
                    ("POST", "/wp-json/wc/v3/products/batch")
                );
                use base64::Engine as _;
                let basic = base64::engine::general_purpose::STANDARD.encode(WOO_KEYS);
                assert_eq!(
                    call.header("authorization"),
                    Some(format!("Basic {basic}").as_str())
                );
                let update = &b["update"][0];
                assert_eq!(update["id"].to_string().trim_matches('"'), "5101");
                assert_eq!(
                    (
                        update["stock_quantity"].clone(),
                        update["manage_stock"].clone()
                    ),
                    // Stock management is the merchant's: Tally leaves it as it is.
                    (json!(7), Value::Null)
                );
            }
            Kind::Ebay => {
                assert_eq!(
                    (call.method.as_str(), call.path.as_str()),
                    ("POST", "/sell/inventory/v1/bulk_update_price_quantity")
                );
                assert_eq!(
                    call.header("authorization"),
                    Some(format!("Bearer {EBAY_TOKEN}").as_str())
                );
                assert_eq!(
                    b["requests"][0],
                    json!({ "sku": "EB-5101", "shipToLocationAvailability": { "quantity": 7 },
                            "offers": [{ "offerId": "OFFER-9", "availableQuantity": 7 }] })
                );
            }
            Kind::Amazon => {
                assert_eq!(call.method, "PATCH");
                assert_eq!(
                    call.path,
                    "/listings/2021-08-01/items/A1SELLER/AMZ%205101%2Fred"
                );
                assert!(
                    call.query.contains("marketplaceIds=ATVPDKIKX0DER"),
                    "{}",
                    call.query
                );
                assert_eq!(call.header("x-amz-access-token"), Some(AMAZON_TOKEN));
                assert_eq!(
                    b["patches"][0],
                    json!({ "op": "merge", "path": "/attributes/fulfillment_availability",
                            "value": [{ "fulfillment_channel_code": "DEFAULT", "quantity": 7 }] })
                );
            }
            Kind::Bigcommerce => {
                assert_eq!(call.method, "PUT");
                assert!(
                    call.path.ends_with("/v3/inventory/adjustments/absolute"),
                    "{}",
                    call.path
                );
                assert_eq!(call.header("x-auth-token"), Some(BIGCOMMERCE_TOKEN));
                assert_eq!(
                    b["items"][0],
                    json!({ "location_id": 1, "variant_id": 6101, "quantity": 7 })
                );
            }
        }
        // The push of 7 is the adjustment's, unless linking's own push (queued just before)
        // read the quantity after the adjustment landed: then that push carried the 7, and the
        // adjustment's round found the listing up to date.
        let what = format!("{kind}: the push of 7");
        let entry = history_entry(&seller, &p, &what, |e| {
            e.status == SyncStatus::Succeeded && e.quantity == 7
        })
        .await;
        if entry.trigger != SyncTrigger::Adjustment {
            assert_eq!(entry.trigger, SyncTrigger::Settings, "{entry:?}");
            let what = format!("{kind}: the adjustment found up to date");
            history_entry(&seller, &p, &what, |e| {
                e.status == SyncStatus::Skipped && e.trigger == SyncTrigger::Adjustment
            })
            .await;
        }
        assert_eq!(entry.storefront_id, Some(storefront));
        assert!(entry.changed_at.is_some_and(|t| t <= entry.created_at));
    }
}

async fn channel_rules_and_listing_overrides_decide_the_quantity_sent(ctx: Ctx) {
    let seller = ctx.api.new_account("Rules Shop").await;
    let sb = &ctx.sandbox;
    sb.set_items(Kind::Woocommerce, [("5201", 0), ("5202", 0)])
        .await;
    let rules = json!({ "rules": { "reserve": 2, "percentage": 50 } });
    let woo = connect(
        &seller,
        Kind::Woocommerce,
        &sb.base_url(Kind::Woocommerce),
        rules,
    )
    .await;
    let plain = product(&seller, "RULE-1", 0).await;
    let capped = product(&seller, "RULE-2", 0).await;
    link(&seller, &plain, woo, "5201", None).await;
    let override_max = seller
        .send_json(
            "POST",
            &format!("/api/v1/products/{}/listings", capped.id),
            &json!({ "storefront_id": woo, "external_id": "5202", "rules": { "maximum": 3 } }),
        )
        .await;
    assert_eq!(override_max.status, 201, "{}", override_max.body);
    set_quantity(&seller, &plain, 12).await;
    set_quantity(&seller, &capped, 12).await;
    // 12 on hand − 2 reserve = 10 → 50% = 5; the override also caps at 3.
    storefront_shows(sb, Kind::Woocommerce, "5201", 5).await;
    storefront_shows(sb, Kind::Woocommerce, "5202", 3).await;
    let entry = history_entry(&seller, &plain, "the pushed row", |e| {
        e.status == SyncStatus::Succeeded && e.quantity == 5
    })
    .await;
    assert_eq!(
        entry.breakdown.as_deref(),
        Some("12 on hand − 2 reserve = 10 → 50% = 5")
    );
    let listing = &listings(&seller, &capped).await[0];
    assert_eq!(listing.channel_quantity.quantity, 3);
    assert_eq!(listing.pushed_quantity, Some(3));
}

async fn credentials_are_write_only_and_never_in_any_answer(ctx: Ctx) {
    let seller = ctx.api.new_account("Secret Keeper").await;
    let sb = &ctx.sandbox;
    sb.set_items(Kind::Shopify, [("4301@77", 0)]).await;
    let id = connect(
        &seller,
        Kind::Shopify,
        &sb.base_url(Kind::Shopify),
        json!({}),
    )
    .await;
    let p = product(&seller, "SECRET-1", 4).await;
    link(&seller, &p, id, "4301", Some("77")).await;
    set_quantity(&seller, &p, 5).await;
    storefront_shows(sb, Kind::Shopify, "4301@77", 5).await;
    // An edit without a credential keeps the stored one (the push after it still lands).
    let renamed = seller
        .send_json(
            "PATCH",
            &format!("/api/v1/storefronts/{id}"),
            &json!({ "name": "Main store" }),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.body["has_credential"], true);
    set_quantity(&seller, &p, 6).await;
    storefront_shows(sb, Kind::Shopify, "4301@77", 6).await;
    let answers = [
        renamed.body.to_string(),
        seller.get("/api/v1/storefronts").await.body.to_string(),
        seller
            .get(&format!("/api/v1/storefronts/{id}"))
            .await
            .body
            .to_string(),
        seller
            .get(&format!("/api/v1/products/{}/listings", p.id))
            .await
            .body
            .to_string(),
        seller
            .get("/api/v1/sync-history?per_page=250")
            .await
            .body
            .to_string(),
        seller.get("/api/v1/sync-health").await.body.to_string(),
    ];
    for answer in answers {
        assert!(
            !answer.contains("shpat_sync_test_secret"),
            "a credential leaked: {answer}"
        );
        assert!(!answer.contains("credential_enc"), "{answer}");
    }
    // Another account cannot see or edit the connection.
    let other = ctx.api.new_account("Snooper").await;
    assert_eq!(
        other.get(&format!("/api/v1/storefronts/{id}")).await.status,
        404
    );
    let edit = other
        .send_json(
            "PATCH",
            &format!("/api/v1/storefronts/{id}"),
            &json!({ "active": false }),
        )
        .await;
    assert_eq!(edit.status, 404);
    let steal = other
        .send_json(
            "POST",
            &format!("/api/v1/products/{}/listings", p.id),
            &json!({ "storefront_id": id, "external_id": "1", "external_sub_id": "2" }),
        )
        .await;
    assert_eq!(steal.status, 404);
}

async fn refused_credentials_and_unknown_listings_fail_at_once_with_what_to_do(ctx: Ctx) {
    let seller = ctx.api.new_account("Broken Links").await;
    let sb = &ctx.sandbox;
    let bad_key = seller
        .send_json(
            "POST",
            "/api/v1/storefronts",
            &json!({ "name": "Old token", "kind": "bigcommerce",
                     "base_url": sb.base_url(Kind::Bigcommerce), "credential": "revoked_token" }),
        )
        .await;
    assert_eq!(bad_key.status, 201, "{}", bad_key.body);
    let bc = bad_key.body["id"].as_i64().unwrap_or_default();
    let woo = connect(
        &seller,
        Kind::Woocommerce,
        &sb.base_url(Kind::Woocommerce),
        json!({}),
    )
    .await;
    sb.set_items(Kind::Bigcommerce, [("6401@1", 0)]).await;
    let refused = product(&seller, "FAIL-1", 3).await;
    let unknown = product(&seller, "FAIL-2", 3).await;
    link(&seller, &refused, bc, "6401", Some("1")).await;
    link(&seller, &unknown, woo, "999401", None).await;
    set_quantity(&seller, &refused, 4).await;
    set_quantity(&seller, &unknown, 4).await;

    let auth = history_entry(&seller, &refused, "a failed row", |e| {
        e.status == SyncStatus::Failed
    })
    .await;
    assert_eq!(auth.attempt, 1, "an auth failure is not retried: {auth:?}");
    assert!(auth.message.contains("refused"), "{}", auth.message);
    assert!(
        auth.action
            .as_deref()
            .is_some_and(|a| a.contains("Settings › Storefronts")),
        "{auth:?}"
    );
    assert!(
        auth.answer
            .as_deref()
            .is_some_and(|a| a.contains("401") || a.contains("403")),
        "{auth:?}"
    );

    let missing = history_entry(&seller, &unknown, "a failed row", |e| {
        e.status == SyncStatus::Failed
    })
    .await;
    assert_eq!(missing.attempt, 1);
    assert!(
        missing.message.contains("does not know this listing"),
        "{}",
        missing.message
    );
    assert!(
        missing
            .action
            .as_deref()
            .is_some_and(|a| a.contains("Details page")),
        "{missing:?}"
    );
    settled(&seller).await;
    assert!(history(&seller, &refused)
        .await
        .iter()
        .all(|e| e.status != SyncStatus::Retrying));
    assert_eq!(sb.items(Kind::Bigcommerce).await.get("6401@1"), Some(&0));
}

async fn failed_pushes_are_retried_then_dead_lettered_with_what_to_do(ctx: Ctx) {
    let seller = ctx.api.new_account("Outage Co").await;
    let down = Sandbox::start(&[(Kind::Ebay, EBAY_TOKEN)]).await;
    down.set_items(Kind::Ebay, [("EB-7001", 1), ("EB-7002", 1)])
        .await;
    let ebay = connect(&seller, Kind::Ebay, &down.base_url(Kind::Ebay), json!({})).await;
    let lost = product(&seller, "DOWN-1", 1).await;
    link(&seller, &lost, ebay, "EB-7001", None).await;
    // Linking pushes the current quantity (1) while the storefront is still up.
    settled(&seller).await;
    assert_eq!(down.calls(Kind::Ebay).await.len(), 1, "linking pushed once");
    down.clear_calls(Kind::Ebay).await;
    down.set_faults(Kind::Ebay, &Faults::failing(1.0, &[FaultKind::ServerError]))
        .await;
    set_quantity(&seller, &lost, 9).await;
    let gave_up = history_entry(&seller, &lost, "the dead-letter row", |e| {
        e.status == SyncStatus::Failed
    })
    .await;
    assert!(
        gave_up.message.starts_with("Gave up after 8 tries"),
        "{}",
        gave_up.message
    );
    assert!(
        gave_up
            .action
            .as_deref()
            .is_some_and(|a| a.contains("Sync Now")),
        "{gave_up:?}"
    );
    let rows = history(&seller, &lost).await;
    let retries = rows
        .iter()
        .filter(|e| e.status == SyncStatus::Retrying)
        .count();
    assert_eq!(retries, 8, "one retrying row per attempt: {rows:?}");
    let calls = down.calls(Kind::Ebay).await;
    assert_eq!(calls.len(), 8, "8 attempts reached the storefront");
    // Backoff: every wait is longer than the one before (200 ms doubling, whole seconds).
    let gaps: Vec<u64> = calls.windows(2).map(|w| w[1].at_ms - w[0].at_ms).collect();
    assert!(gaps.last() > gaps.first(), "waits should grow: {gaps:?}");
    settled(&seller).await;

    // Once the storefront is back, Sync Now pushes the current quantity.
    down.set_faults(Kind::Ebay, &Faults::none()).await;
    let now = seller
        .send_json(
            "POST",
            "/api/v1/products/sync-now",
            &json!({ "ids": [lost.id] }),
        )
        .await;
    assert_eq!(now.status, 200, "{}", now.body);
    storefront_shows(&down, Kind::Ebay, "EB-7001", 9).await;
}

async fn sync_now_pushes_an_up_to_date_listing_again_and_a_paused_listing_is_left_alone(ctx: Ctx) {
    let seller = ctx.api.new_account("Sync Now Shop").await;
    let sb = &ctx.sandbox;
    sb.set_items(Kind::Woocommerce, [("5501", 0), ("5502", 0)])
        .await;
    let woo = connect(
        &seller,
        Kind::Woocommerce,
        &sb.base_url(Kind::Woocommerce),
        json!({}),
    )
    .await;
    let p = product(&seller, "NOW-1", 0).await;
    link(&seller, &p, woo, "5501", None).await;
    let paused = link(&seller, &p, woo, "5502", None).await;
    let pause = seller
        .send_json(
            "PATCH",
            &format!("/api/v1/listings/{}", paused.id),
            &json!({ "active": false }),
        )
        .await;
    assert_eq!(pause.status, 200, "{}", pause.body);
    assert_eq!(pause.body["active"], false);
    settled(&seller).await;
    let paused_at = sb.calls(Kind::Woocommerce).await.len();
    set_quantity(&seller, &p, 8).await;
    storefront_shows(sb, Kind::Woocommerce, "5501", 8).await;
    settled(&seller).await;
    // The storefront drifts (someone edits it by hand); Sync Now puts it right even though
    // Tally's quantity did not change.
    sb.set_items(Kind::Woocommerce, [("5501", 2)]).await;
    let now = seller
        .send_json(
            "POST",
            "/api/v1/products/sync-now",
            &json!({ "ids": [p.id] }),
        )
        .await;
    assert_eq!(now.status, 200, "{}", now.body);
    storefront_shows(sb, Kind::Woocommerce, "5501", 8).await;
    let entry = history_entry(&seller, &p, "the Sync Now row", |e| {
        e.trigger == SyncTrigger::SyncNow && e.status == SyncStatus::Succeeded && e.quantity == 8
    })
    .await;
    assert_eq!(entry.quantity, 8);
    settled(&seller).await;
    let since_pause = sb.calls(Kind::Woocommerce).await[paused_at..].to_vec();
    assert!(
        since_pause
            .iter()
            .all(|c| !c.body.to_string().contains("5502")),
        "nothing was pushed to the paused listing: {since_pause:?}"
    );
    // Resuming it brings it up to date at once.
    let resume = seller
        .send_json(
            "PATCH",
            &format!("/api/v1/listings/{}", paused.id),
            &json!({ "active": true }),
        )
        .await;
    assert_eq!(resume.status, 200, "{}", resume.body);
    storefront_shows(sb, Kind::Woocommerce, "5502", 8).await;
}

async fn a_thousand_orders_on_ten_skus_coalesce_into_far_fewer_pushes(ctx: Ctx) {
    let seller = ctx.api.new_account("Flash Sale").await;
    let sb = &ctx.sandbox;
    let woo = connect(
        &seller,
        Kind::Woocommerce,
        &sb.base_url(Kind::Woocommerce),
        json!({}),
    )
    .await;
    let mut products = Vec::new();
    for i in 0..10 {
        let key = format!("58{i:02}");
        sb.set_items(Kind::Woocommerce, [(key.as_str(), 0)]).await;
        let p = product(&seller, &format!("FLASH-{i}"), 500).await;
        link(&seller, &p, woo, &key, None).await;
        products.push((p, key));
    }
    let before = sb.calls(Kind::Woocommerce).await.len();
    let started = std::time::Instant::now();
    // 1,000 orders, 20 at a time, each selling one unit of one of the ten SKUs.
    let orders: Vec<_> = (0..1000).collect();
    for wave in orders.chunks(20) {
        let sent = wave.iter().map(|i| {
            let seller = seller.clone();
            async move {
                let body = json!({ "order_id": format!("FLASH-{i}"),
                                   "lines": [{ "sku": format!("FLASH-{}", i % 10), "quantity": 1 }] });
                seller.send_json("POST", "/api/v1/orders", &body).await.status
            }
        });
        assert!(join_all(sent).await.iter().all(|s| *s == 201 || *s == 200));
    }
    let selling = started.elapsed();
    settled(&seller).await;
    for (p, key) in &products {
        assert_eq!(seller.product(p.id.0).await.quantity.get(), 400);
        storefront_shows(sb, Kind::Woocommerce, key, 400).await;
    }
    let keys: Vec<&str> = products.iter().map(|(_, k)| k.as_str()).collect();
    let pushes: usize = sb.calls(Kind::Woocommerce).await[before..]
        .iter()
        .flat_map(|c| c.body["update"].as_array().cloned().unwrap_or_default())
        .filter(|u| keys.contains(&u["id"].to_string().trim_matches('"')))
        .count();
    println!("1,000 orders on 10 SKUs in {selling:?}: {pushes} listing pushes");
    assert!(pushes >= 10, "every listing was pushed at least once");
    // A listing is pushed at most once per spacing interval (WooCommerce's, from the domain)
    // while its product keeps selling (the queue's whole-second delays and the round itself
    // add about a second more), plus the last push after the burst.
    let spacing_s =
        tally_domain::connector::limits(tally_domain::storefront::StorefrontKind::Woocommerce)
            .push_spacing_ms as f64
            / 1000.0;
    let per_listing_bound = selling.as_secs_f64() / spacing_s + 2.0;
    assert!(
        (pushes as f64) <= 10.0 * per_listing_bound,
        "{pushes} pushes in {selling:?} is more than one per listing per interval"
    );
    assert!(
        pushes * 3 < 1000,
        "bursts should coalesce: {pushes} pushes for 1,000 changes"
    );
    // Waiting out the spacing is not a failed attempt: a listing's push only ever goes out at
    // attempt n after n - 1 attempts that failed (a retrying row each), however often its
    // listing made it wait. (Nothing fails on purpose here; a timeout on a loaded machine
    // would show as a retrying row, and is allowed for.)
    let mut rows = Vec::new();
    let mut page: u64 = 1;
    loop {
        let answer = seller
            .get(&format!("/api/v1/sync-history?per_page=250&page={page}"))
            .await;
        let found: SyncHistoryPage = answer.json();
        let total = found.total;
        rows.extend(found.items);
        if page * 250 >= total {
            break;
        }
        page += 1;
    }
    let mut per_listing: BTreeMap<i64, (u32, usize)> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.listing_id.is_some()) {
        let (most, failed) = per_listing
            .entry(row.listing_id.unwrap_or_default())
            .or_default();
        *most = (*most).max(row.attempt);
        *failed += usize::from(row.status == SyncStatus::Retrying);
    }
    for (listing, (most, failed)) in &per_listing {
        assert!(
            (*most as usize) <= failed + 1,
            "listing {listing} reached attempt {most} after {failed} failed attempts: a wait \
             spent a retry"
        );
    }
    assert_eq!(
        per_listing.len(),
        10,
        "every listing was pushed: {per_listing:?}"
    );
}

async fn bad_storefront_and_listing_input_gets_a_4xx_naming_the_field(ctx: Ctx) {
    let seller = ctx.api.new_account("Typo Shop").await;
    let base = ctx.sandbox.base_url(Kind::Shopify);
    let cases = [
        (
            json!({ "name": "x", "kind": "etsy", "credential": "t" }),
            400,
            "kind",
        ),
        (
            json!({ "name": "x", "kind": "shopify", "credential": "t" }),
            422,
            "base_url",
        ),
        (
            json!({ "name": "x", "kind": "shopify", "base_url": "http://shop.example", "credential": "t" }),
            422,
            "base_url",
        ),
        (
            json!({ "name": "x", "kind": "shopify", "base_url": base }),
            422,
            "credential",
        ),
        (
            json!({ "name": "x", "kind": "woocommerce", "base_url": base, "credential": "nocolon" }),
            422,
            "credential",
        ),
        (
            json!({ "name": "x", "kind": "amazon", "credential": "t" }),
            422,
            "store_ref",
        ),
        (
            json!({ "name": "", "kind": "ebay", "credential": "t" }),
            422,
            "name",
        ),
        (
            json!({ "name": "x", "kind": "ebay", "credential": "t", "rules": { "percentage": 0 } }),
            422,
            "percentage",
        ),
        (
            json!({ "name": "x", "kind": "ebay", "credential": "t", "rules": { "reserve": -1 } }),
            422,
            "reserve",
        ),
        (
            json!({ "name": "x", "kind": "ebay", "credential": "t", "secret": 1 }),
            400,
            "secret",
        ),
    ];
    for (body, status, field) in cases {
        let answer = seller.send_json("POST", "/api/v1/storefronts", &body).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
        assert!(
            answer.error_field().is_some_and(|f| f.contains(field)),
            "{body}: {}",
            answer.body
        );
    }
    assert!(seller.get("/api/v1/storefronts").await.body["storefronts"]
        .as_array()
        .is_some_and(Vec::is_empty));

    let shop = connect(&seller, Kind::Shopify, &base, json!({})).await;
    let p = product(&seller, "TYPO-1", 1).await;
    let path = format!("/api/v1/products/{}/listings", p.id);
    let cases = [
        (
            json!({ "storefront_id": shop, "external_id": "abc", "external_sub_id": "1" }),
            422,
            "external_id",
        ),
        (
            json!({ "storefront_id": shop, "external_id": "12" }),
            422,
            "external_sub_id",
        ),
        (
            json!({ "storefront_id": 999999, "external_id": "12", "external_sub_id": "1" }),
            422,
            "storefront_id",
        ),
        (
            json!({ "storefront_id": shop, "external_id": "12", "external_sub_id": "1", "rules": { "maximum": -5 } }),
            422,
            "maximum",
        ),
    ];
    for (body, status, field) in cases {
        let answer = seller.send_json("POST", &path, &body).await;
        assert_eq!(answer.status, status, "{body}: {}", answer.body);
        assert!(
            answer.error_field().is_some_and(|f| f.contains(field)),
            "{body}: {}",
            answer.body
        );
    }
    link(&seller, &p, shop, "12", Some("1")).await;
    let twice = seller
        .send_json(
            "POST",
            &path,
            &json!({ "storefront_id": shop, "external_id": "12", "external_sub_id": "1" }),
        )
        .await;
    assert_eq!(twice.status, 409, "{}", twice.body);
    assert_eq!(listings(&seller, &p).await.len(), 1);
}

async fn import(seller: &Api, csv: &str) -> tally_tests::client::Answer {
    seller
        .send_raw(
            "POST",
            "/api/v1/listings/import",
            "text/csv",
            csv.as_bytes().to_vec(),
        )
        .await
}

async fn a_listings_file_links_every_row_or_none_with_each_problem_by_row(ctx: Ctx) {
    let seller = ctx.api.new_account("Bulk Lister").await;
    let sb = &ctx.sandbox;
    let woo = connect(
        &seller,
        Kind::Woocommerce,
        &sb.base_url(Kind::Woocommerce),
        json!({}),
    )
    .await;
    let a = product(&seller, "FILE-A", 3).await;
    let b = product(&seller, "FILE-B", 4).await;
    link(&seller, &b, woo, "5902", None).await;

    let bad = "sku,storefront,external_id\nFILE-A,My woocommerce,5901\nNOPE,My woocommerce,5903\nFILE-A,Etsy,5904\nFILE-A,My woocommerce,x\nFILE-B,My woocommerce,5902\n";
    let answer = import(&seller, bad).await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    let rows: Vec<(u64, String)> = answer.body["error"]["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            (
                r["row"].as_u64().unwrap_or(0),
                r["column"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(u64, String)> = [(3, "sku"), (4, "storefront"), (5, "external_id")]
        .map(|(r, c)| (r, c.to_owned()))
        .into();
    assert_eq!(rows, expected, "{}", answer.body);
    assert!(listings(&seller, &a).await.is_empty(), "nothing was linked");

    // The item already linked to FILE-B is caught before anything is written.
    let taken = import(
        &seller,
        "sku,storefront,external_id\nFILE-A,My woocommerce,5901\nFILE-A,My woocommerce,5902\n",
    )
    .await;
    assert_eq!(taken.status, 422, "{}", taken.body);
    assert_eq!(taken.body["error"]["rows"][0]["row"], 3);
    assert!(listings(&seller, &a).await.is_empty(), "nothing was linked");

    sb.set_items(Kind::Woocommerce, [("5901", 0)]).await;
    let good = format!("SKU,Storefront,External_ID\nFILE-A,{woo},5901\n");
    let answer = import(&seller, &good).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(answer.body["linked"], 1);
    assert_eq!(listings(&seller, &a).await[0].external_id, "5901");
    set_quantity(&seller, &a, 6).await;
    storefront_shows(sb, Kind::Woocommerce, "5901", 6).await;
    let not_csv = seller
        .send_json(
            "POST",
            "/api/v1/listings/import",
            &json!({ "sku": "FILE-A" }),
        )
        .await;
    assert_eq!(not_csv.status, 415, "{}", not_csv.body);
}

async fn a_shopify_compare_and_set_miss_is_re_read_and_pushed_again(ctx: Ctx) {
    let seller = ctx.api.new_account("Stale Shop").await;
    let sb = &ctx.sandbox;
    sb.set_items(Kind::Shopify, [("4701@77", 0)]).await;
    let shop = connect(
        &seller,
        Kind::Shopify,
        &sb.base_url(Kind::Shopify),
        json!({}),
    )
    .await;
    let p = product(&seller, "STALE-1", 5).await;
    link(&seller, &p, shop, "4701", Some("77")).await;
    set_quantity(&seller, &p, 6).await;
    storefront_shows(sb, Kind::Shopify, "4701@77", 6).await;
    // A sale on Shopify itself: the storefront now holds 5, not the 6 Tally last sent, so the
    // next push's changeFromQuantity (6) is stale.
    sb.set_items(Kind::Shopify, [("4701@77", 5)]).await;
    let before = sb.calls(Kind::Shopify).await.len();
    set_quantity(&seller, &p, 9).await;
    storefront_shows(sb, Kind::Shopify, "4701@77", 9).await;
    let calls = sb.calls(Kind::Shopify).await;
    let mine: Vec<_> = calls[before..]
        .iter()
        .filter(|c| c.body.to_string().contains("4701"))
        .collect();
    let queries: Vec<String> = mine
        .iter()
        .map(|c| {
            c.body["query"]
                .as_str()
                .unwrap_or_default()
                .split('(')
                .next()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        queries,
        [
            "mutation SetQuantities",
            "query Levels",
            "mutation SetQuantities"
        ],
        "stale push, re-read, push again: {mine:?}"
    );
    let retried = &mine[2].body["variables"]["input"]["quantities"][0];
    assert_eq!(
        retried["changeFromQuantity"], 5,
        "the retry compares against what was read"
    );
    assert_eq!(retried["quantity"], 9);
    let row = history_entry(&seller, &p, "the second push", |e| {
        e.quantity == 9 && e.status == SyncStatus::Succeeded
    })
    .await;
    assert_eq!(
        row.attempt, 1,
        "re-read and retried within the same attempt"
    );
}

async fn a_push_shows_as_sent_until_answered_and_a_change_behind_it_as_queued(ctx: Ctx) {
    let seller = ctx.api.new_account("Slow Store").await;
    let slow = Sandbox::start(&[(Kind::Woocommerce, WOO_KEYS)]).await;
    slow.set_items(Kind::Woocommerce, [("5901", 1)]).await;
    let woo = connect(
        &seller,
        Kind::Woocommerce,
        &slow.base_url(Kind::Woocommerce),
        json!({}),
    )
    .await;
    let p = product(&seller, "SLOW-1", 1).await;
    link(&seller, &p, woo, "5901", None).await;
    settled(&seller).await;
    let linked = history(&seller, &p).await;
    assert!(
        linked
            .iter()
            .any(|e| e.trigger == SyncTrigger::Settings && e.status == SyncStatus::Succeeded),
        "linking pushed the quantity, labelled as a settings change: {linked:#?}"
    );
    // Each answer now takes 2.5 s (under the test worker's 3 s fetch timeout).
    let slow_answers = Faults {
        latency_ms: 2_500,
        ..Faults::none()
    };
    slow.set_faults(Kind::Woocommerce, &slow_answers).await;

    set_quantity(&seller, &p, 5).await;
    let sent = history_entry(&seller, &p, "the push as sent", |e| {
        e.status == SyncStatus::Sent && e.quantity == 5
    })
    .await;
    assert!(sent.message.contains("waiting for its answer"), "{sent:?}");
    // A change made while that push is on its way waits behind it.
    set_quantity(&seller, &p, 6).await;
    let waiting = history_entry(&seller, &p, "the next change as queued", |e| {
        e.status == SyncStatus::Queued
    })
    .await;
    assert!(waiting.message.starts_with("Queued"), "{waiting:?}");
    let answered = history_entry(&seller, &p, "the sent row's outcome", |e| {
        e.id == sent.id && e.status != SyncStatus::Sent
    })
    .await;
    assert_eq!(
        (answered.status, answered.quantity),
        (SyncStatus::Succeeded, 5),
        "the same row now holds the answer: {answered:?}"
    );
    storefront_shows(&slow, Kind::Woocommerce, "5901", 6).await;
    settled(&seller).await;
    let rows = history(&seller, &p).await;
    assert!(
        rows.iter()
            .all(|e| !matches!(e.status, SyncStatus::Queued | SyncStatus::Sent)),
        "at rest no row is left waiting: {rows:#?}"
    );
    assert!(
        rows.iter()
            .any(|e| e.status == SyncStatus::Succeeded && e.quantity == 6),
        "{rows:#?}"
    );
}

async fn refresh_credentials_renew_tokens_once_and_a_refused_renewal_fails_fast(ctx: Ctx) {
    let seller = ctx.api.new_account("Token Renewer").await;
    let sb = Sandbox::start(&[(Kind::Ebay, EBAY_TOKEN), (Kind::Amazon, AMAZON_TOKEN)]).await;
    sb.set_items(Kind::Ebay, [("EB-8801", 0)]).await;
    sb.set_items(Kind::Amazon, [("A1SELLER/AMZ-8801", 0)]).await;
    // eBay: the app's client and a refresh token instead of an access token.
    let grant = json!({
        "client_id": "Tally-App-PRD",
        "client_secret": "PRD-client-secret",
        "refresh_token": format!("refresh-{EBAY_TOKEN}"),
        "token_url": format!("{}/identity/v1/oauth2/token", sb.base_url(Kind::Ebay)),
    });
    let ebay = connect(
        &seller,
        Kind::Ebay,
        &sb.base_url(Kind::Ebay),
        json!({ "credential": grant.to_string() }),
    )
    .await;
    let p = product(&seller, "RENEW-1", 4).await;
    link(&seller, &p, ebay, "EB-8801", None).await;
    storefront_shows(&sb, Kind::Ebay, "EB-8801", 4).await;
    settled(&seller).await;
    set_quantity(&seller, &p, 6).await;
    storefront_shows(&sb, Kind::Ebay, "EB-8801", 6).await;
    let calls = sb.calls(Kind::Ebay).await;
    let paths: Vec<&str> = calls.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "/identity/v1/oauth2/token",
            "/sell/inventory/v1/bulk_update_price_quantity",
            "/sell/inventory/v1/bulk_update_price_quantity",
        ],
        "one renewal, then the renewed token is reused"
    );
    assert!(
        calls[0].headers["authorization"].starts_with("Basic "),
        "eBay renews with the client's Basic credentials"
    );
    let listed = seller.get("/api/v1/storefronts").await;
    assert!(
        !listed.body.to_string().contains("refresh-"),
        "the refresh token is never returned: {}",
        listed.body
    );

    // Amazon with a refresh token the platform refuses: the push fails at once, saying why.
    let refused = json!({
        "client_id": "amzn1.application-oa2-client.tally",
        "client_secret": "amzn-secret",
        "refresh_token": "Atzr|revoked",
        "token_url": format!("{}/auth/o2/token", sb.base_url(Kind::Amazon)),
    });
    let amazon = connect(
        &seller,
        Kind::Amazon,
        &sb.base_url(Kind::Amazon),
        json!({ "credential": refused.to_string() }),
    )
    .await;
    let q = product(&seller, "AMZ-8801", 3).await;
    link(&seller, &q, amazon, "AMZ-8801", None).await;
    let failed = history_entry(&seller, &q, "the refused renewal", |e| {
        e.status == SyncStatus::Failed
    })
    .await;
    assert!(
        failed.message.contains("refused to renew"),
        "{}",
        failed.message
    );
    assert_eq!(failed.attempt, 1, "an auth failure is not retried");
    let amazon_calls = sb.calls(Kind::Amazon).await;
    assert!(
        amazon_calls.iter().all(|c| c.path == "/auth/o2/token"),
        "no API call without a token: {amazon_calls:?}"
    );

    // A credential that is neither a token nor a refresh credential is refused by field.
    let bad = seller
        .send_json(
            "POST",
            "/api/v1/storefronts",
            &json!({ "name": "Broken", "kind": "ebay", "credential": "{\"client_id\": \"x\"}" }),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert_eq!(bad.error_field(), Some("credential"));
}

async fn shopify_spent_keys_are_retried_under_a_new_key_and_bundles_say_what_to_do(ctx: Ctx) {
    let seller = ctx.api.new_account("Key Ring").await;
    let shop = Sandbox::start(&[(Kind::Shopify, SHOPIFY_TOKEN)]).await;
    let (plain, bundle) = ("8601@1", "8602@1");
    shop.set_items(Kind::Shopify, [(plain, 0), (bundle, 0)])
        .await;
    shop.set_traits(Kind::Shopify, json!({ bundle: { "bundle": true } }))
        .await;
    let store = connect(
        &seller,
        Kind::Shopify,
        &shop.base_url(Kind::Shopify),
        json!({}),
    )
    .await;
    let tote = product(&seller, "KEY-TOTE", 4).await;
    link(&seller, &tote, store, "8601", Some("1")).await;
    storefront_shows(&shop, Kind::Shopify, plain, 4).await;
    settled(&seller).await;

    // The push fails with a 500 once: Shopify then refuses every repeat of that key
    // (IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED), so only a new key can land it.
    shop.set_faults(
        Kind::Shopify,
        &Faults::failing(1.0, &[FaultKind::ServerError]),
    )
    .await;
    set_quantity(&seller, &tote, 9).await;
    eventually("a push to fail with a 500", SYNC_WAIT, || async {
        let calls = shop.calls(Kind::Shopify).await;
        let push = |c: &&tally_tests::sandbox::Call| {
            c.body["query"]
                .as_str()
                .is_some_and(|q| q.contains("inventorySetQuantities"))
        };
        calls
            .iter()
            .filter(push)
            .any(|c| c.status == 500)
            .then_some(())
    })
    .await;
    shop.set_faults(Kind::Shopify, &Faults::none()).await;
    storefront_shows(&shop, Kind::Shopify, plain, 9).await;
    settled(&seller).await;
    let rows = history(&seller, &tote).await;
    assert!(
        rows.iter().any(|e| e.status == SyncStatus::Retrying
            && e.message.contains("would not repeat an earlier attempt")),
        "the refused key is in the history: {rows:?}"
    );
    let keys: Vec<String> = shop
        .calls(Kind::Shopify)
        .await
        .iter()
        .filter_map(|c| c.body["query"].as_str())
        .filter(|q| q.contains("inventorySetQuantities"))
        .filter_map(|q| {
            q.split("key: \"")
                .nth(1)?
                .split('"')
                .next()
                .map(str::to_owned)
        })
        .collect();
    assert!(
        keys.len() >= 3 && keys.first() != keys.last(),
        "the last try went under a new key: {keys:?}"
    );

    // A bundle's stock is Shopify's to count: refused at once, with what to do.
    let kit = product(&seller, "KEY-KIT", 3).await;
    link(&seller, &kit, store, "8602", Some("1")).await;
    let refused = history_entry(&seller, &kit, "the bundle's refusal", |e| {
        e.status == SyncStatus::Failed
    })
    .await;
    assert!(
        refused.message.contains("keeps this item's stock itself"),
        "{refused:?}"
    );
    assert!(
        refused
            .action
            .as_deref()
            .is_some_and(|a| a.contains("components")),
        "{refused:?}"
    );
    assert_eq!(shop.items(Kind::Shopify).await.get(bundle), Some(&0));
}

async fn ebay_gets_one_sku_per_call_with_each_offers_own_quantity(ctx: Ctx) {
    let seller = ctx.api.new_account("One Sku Co").await;
    let sb = &ctx.sandbox;
    sb.set_items(Kind::Ebay, [("EB-8701", 0), ("EB-8702", 0)])
        .await;
    let ebay = connect(&seller, Kind::Ebay, &sb.base_url(Kind::Ebay), json!({})).await;
    let scarf = product(&seller, "ONE-SCARF", 4).await;
    let hat = product(&seller, "ONE-HAT", 6).await;
    // The scarf is offered twice (two marketplaces), the hat once without an offer id.
    link(&seller, &scarf, ebay, "EB-8701", Some("OFFER-1")).await;
    link(&seller, &scarf, ebay, "EB-8701", Some("OFFER-2")).await;
    link(&seller, &hat, ebay, "EB-8702", None).await;
    settled(&seller).await;

    // Both products at once: eBay's method reference takes one SKU per call.
    set_quantity(&seller, &scarf, 5).await;
    set_quantity(&seller, &hat, 7).await;
    let now = seller
        .send_json(
            "POST",
            "/api/v1/products/sync-now",
            &json!({ "ids": [scarf.id, hat.id] }),
        )
        .await;
    assert_eq!(now.status, 200, "{}", now.body);
    storefront_shows(sb, Kind::Ebay, "EB-8701", 5).await;
    storefront_shows(sb, Kind::Ebay, "EB-8702", 7).await;
    settled(&seller).await;
    let ours: Vec<Value> = sb
        .calls(Kind::Ebay)
        .await
        .into_iter()
        .filter(|c| c.body.to_string().contains("EB-87"))
        .map(|c| c.body)
        .collect();
    for body in &ours {
        let requests = body["requests"].as_array().cloned().unwrap_or_default();
        assert_eq!(requests.len(), 1, "one SKU per call: {body}");
    }
    assert!(
        ours.iter().any(|b| b["requests"][0]["offers"]
            == json!([{ "offerId": "OFFER-1", "availableQuantity": 5 },
                      { "offerId": "OFFER-2", "availableQuantity": 5 }])),
        "the SKU's offers travel together: {ours:?}"
    );
    for product in [&scarf, &hat] {
        let rows = history(&seller, product).await;
        assert!(
            rows.iter().all(|e| e.status != SyncStatus::Failed),
            "{rows:?}"
        );
    }
}

async fn bigcommerce_stocks_products_by_product_and_a_wrong_variant_fails_alone(ctx: Ctx) {
    let seller = ctx.api.new_account("Tracked By Co").await;
    let sb = &ctx.sandbox;
    let kind = Kind::Bigcommerce;
    sb.set_items(
        kind,
        [
            ("8801@1", 0),
            ("8802@1", 0),
            ("product:88@1", 0),
            ("8803@1", 0),
        ],
    )
    .await;
    // 8802 is a variant of a product BigCommerce stocks at product level.
    sb.set_traits(kind, json!({ "8802@1": { "tracked_by_product": true } }))
        .await;
    let store = connect(&seller, kind, &sb.base_url(kind), json!({})).await;
    let cup = product(&seller, "TRACK-CUP", 2).await;
    let wrong = product(&seller, "TRACK-WRONG", 3).await;
    let whole = product(&seller, "TRACK-WHOLE", 4).await;
    let bowl = product(&seller, "TRACK-BOWL", 5).await;
    link(&seller, &cup, store, "8801", Some("1")).await;
    link(&seller, &wrong, store, "8802", Some("1")).await;
    let by_product = link(&seller, &whole, store, "Product: 88", Some("1")).await;
    assert_eq!(by_product.external_id, "product:88");
    link(&seller, &bowl, store, "8803", Some("1")).await;
    settled(&seller).await;

    // All four in one call: BigCommerce refuses it whole, naming no item; Tally halves it
    // until the wrong listing is alone, and the other three land.
    sb.clear_calls(kind).await;
    let now = seller
        .send_json(
            "POST",
            "/api/v1/products/sync-now",
            &json!({ "ids": [cup.id, wrong.id, whole.id, bowl.id] }),
        )
        .await;
    assert_eq!(now.status, 200, "{}", now.body);
    settled(&seller).await;
    let items = sb.items(kind).await;
    for (key, expected) in [
        ("8801@1", 2),
        ("product:88@1", 4),
        ("8803@1", 5),
        ("8802@1", 0),
    ] {
        assert_eq!(items.get(key), Some(&expected), "{key}: {items:?}");
    }
    let calls = sb.calls(kind).await;
    assert!(
        calls
            .iter()
            .any(|c| c.status == 422 && c.body["items"].as_array().is_some_and(|i| i.len() > 1)),
        "a whole call was refused and split: {calls:?}"
    );
    let refused = history_entry(&seller, &wrong, "the tracked-by-product refusal", |e| {
        e.status == SyncStatus::Failed && e.trigger == SyncTrigger::SyncNow
    })
    .await;
    assert!(
        refused.message.contains("tracked by product")
            && refused.message.contains("product:<product id>"),
        "{refused:?}"
    );
    for fine in [&cup, &whole, &bowl] {
        let rows = history(&seller, fine).await;
        assert!(
            rows.iter()
                .any(|e| e.trigger == SyncTrigger::SyncNow && e.status == SyncStatus::Succeeded),
            "{rows:?}"
        );
        assert!(
            rows.iter().all(|e| e.status != SyncStatus::Failed),
            "{rows:?}"
        );
    }
}

async fn amazon_listings_amazon_fulfils_are_never_pushed_and_say_why(ctx: Ctx) {
    let seller = ctx.api.new_account("Warehouse Co").await;
    let sb = &ctx.sandbox;
    let (fba, mfn) = ("A1SELLER/FBA-8901", "A1SELLER/MFN-8902");
    sb.set_items(Kind::Amazon, [(fba, 7), (mfn, 0)]).await;
    sb.set_traits(Kind::Amazon, json!({ fba: { "fba": true } }))
        .await;
    let amazon = connect(&seller, Kind::Amazon, &sb.base_url(Kind::Amazon), json!({})).await;
    let kept = product(&seller, "FBA-8901", 3).await;
    let ours = product(&seller, "MFN-8902", 4).await;
    link(&seller, &kept, amazon, "FBA-8901", None).await;
    link(&seller, &ours, amazon, "MFN-8902", None).await;
    storefront_shows(sb, Kind::Amazon, mfn, 4).await;
    let refused = history_entry(&seller, &kept, "the FBA refusal", |e| {
        e.status == SyncStatus::Failed
    })
    .await;
    assert!(
        refused
            .message
            .contains("Amazon fulfils this listing (AMAZON_NA)"),
        "{refused:?}"
    );
    assert!(
        refused
            .action
            .as_deref()
            .is_some_and(|a| a.contains("pause")),
        "{refused:?}"
    );
    assert_eq!(refused.attempt, 1, "not retried: {refused:?}");
    assert_eq!(
        sb.items(Kind::Amazon).await.get(fba),
        Some(&7),
        "Amazon's count stands"
    );
    let patched: Vec<_> = sb
        .calls(Kind::Amazon)
        .await
        .into_iter()
        .filter(|c| c.method == "PATCH" && c.path.contains("FBA-8901"))
        .collect();
    assert!(patched.is_empty(), "never written: {patched:?}");
}

async fn woocommerce_stock_management_is_turned_on_only_with_the_sellers_yes(ctx: Ctx) {
    let seller = ctx.api.new_account("Unmanaged Co").await;
    let sb = &ctx.sandbox;
    let kind = Kind::Woocommerce;
    sb.set_items(kind, [("5901", 0)]).await;
    sb.set_traits(kind, json!({ "5901": { "unmanaged": true } }))
        .await;
    let store = connect(&seller, kind, &sb.base_url(kind), json!({})).await;
    let jar = product(&seller, "MANAGE-JAR", 6).await;
    let listing = link(&seller, &jar, store, "5901", None).await;
    assert!(!listing.manage_stock);
    let asked = history_entry(&seller, &jar, "the unmanaged refusal", |e| {
        e.status == SyncStatus::Failed
    })
    .await;
    assert!(
        asked.message.contains("not managing this item's stock"),
        "{asked:?}"
    );
    assert!(
        asked
            .action
            .as_deref()
            .is_some_and(|a| a.contains("Let Tally manage stock")),
        "{asked:?}"
    );
    let traits = sb.traits(kind).await;
    assert_eq!(
        traits["5901"]["unmanaged"],
        json!(true),
        "left as the merchant set it"
    );

    // The seller says yes once: the next push turns management on and the quantity lands.
    let yes = seller
        .send_json(
            "PATCH",
            &format!("/api/v1/listings/{}", listing.id),
            &json!({ "manage_stock": true }),
        )
        .await;
    assert_eq!(yes.status, 200, "{}", yes.body);
    assert_eq!(yes.body["manage_stock"], json!(true));
    storefront_shows(sb, kind, "5901", 6).await;
    assert!(sb.traits(kind).await.get("5901").is_none(), "now managed");
}

async fn an_amazon_update_refused_after_processing_turns_its_success_into_a_failure(ctx: Ctx) {
    let seller = ctx.api.new_account("Later Co").await;
    let sb = &ctx.sandbox;
    let (refused, fine) = ("A1SELLER/LATER-9101", "A1SELLER/LATER-9102");
    sb.set_items(Kind::Amazon, [(refused, 0), (fine, 0)]).await;
    sb.set_traits(Kind::Amazon, json!({ refused: { "refuses_later": true } }))
        .await;
    let amazon = connect(&seller, Kind::Amazon, &sb.base_url(Kind::Amazon), json!({})).await;
    let kettle = product(&seller, "LATER-9101", 3).await;
    let pot = product(&seller, "LATER-9102", 4).await;
    link(&seller, &kettle, amazon, "LATER-9101", None).await;
    link(&seller, &pot, amazon, "LATER-9102", None).await;
    storefront_shows(sb, Kind::Amazon, fine, 4).await;
    // Both were ACCEPTED: the history says so until Amazon's own verdict is read back.
    history_entry(&seller, &kettle, "the accepted push", |e| {
        e.status == SyncStatus::Succeeded
    })
    .await;

    // The cron reads back what Amazon accepted; the refusal replaces the success.
    let (seller, kettle) = (&seller, &kettle);
    let failed = eventually("the later refusal", SYNC_WAIT, || async move {
        seller.run_cron().await;
        history(seller, kettle)
            .await
            .into_iter()
            .find(|e| e.status == SyncStatus::Failed)
    })
    .await;
    assert!(
        failed
            .message
            .contains("accepted the quantity 3 for processing, then refused it"),
        "{failed:?}"
    );
    assert!(
        failed.message.contains("not valid for this offer"),
        "{failed:?}"
    );
    assert!(failed.action.is_some(), "{failed:?}");
    let rows = history(seller, kettle).await;
    assert!(
        rows.iter().all(|e| e.status != SyncStatus::Succeeded),
        "no success is left standing: {rows:?}"
    );
    // The listing is no longer taken as up to date.
    let listed = listings(seller, kettle).await;
    assert_eq!(listed[0].pushed_quantity, None, "{listed:?}");
    // The update Amazon kept stays a success.
    seller.run_cron().await;
    let rows = history(seller, &pot).await;
    assert!(
        rows.iter().any(|e| e.status == SyncStatus::Succeeded)
            && rows.iter().all(|e| e.status != SyncStatus::Failed),
        "{rows:?}"
    );
}

async fn woocommerce_keys_go_in_the_query_string_for_hosts_that_drop_authorization(ctx: Ctx) {
    let seller = ctx.api.new_account("Shared Host Co").await;
    let host = Sandbox::start(&[(Kind::Woocommerce, WOO_KEYS)]).await;
    let kind = Kind::Woocommerce;
    host.set_items(kind, [("6301", 0)]).await;
    let drops = Faults {
        drops_authorization: true,
        ..Faults::none()
    };
    host.set_faults(kind, &drops).await;
    let store = connect(&seller, kind, &host.base_url(kind), json!({})).await;
    let honey = product(&seller, "QUERY-HONEY", 5).await;
    link(&seller, &honey, store, "6301", None).await;
    // The header never reaches WooCommerce: the keys look refused.
    let refused = history_entry(&seller, &honey, "the refusal", |e| {
        e.status == SyncStatus::Failed
    })
    .await;
    assert!(refused.message.contains("refused"), "{refused:?}");

    let switched = seller
        .send_json(
            "PATCH",
            &format!("/api/v1/storefronts/{store}"),
            &json!({ "keys_in_query": true }),
        )
        .await;
    assert_eq!(switched.status, 200, "{}", switched.body);
    assert_eq!(switched.body["keys_in_query"], json!(true));
    storefront_shows(&host, kind, "6301", 5).await;
    let calls = host.calls(kind).await;
    let last = calls
        .iter()
        .rev()
        .find(|c| c.path.ends_with("/products/batch"))
        .expect("a batch call");
    assert!(last.query.contains("consumer_key="), "{last:?}");
    // Tally shows the keys nowhere: not in the connection, not in the history.
    let secret = WOO_KEYS.split_once(':').map(|(_, s)| s).unwrap_or(WOO_KEYS);
    for path in [
        format!("/api/v1/storefronts/{store}"),
        format!("/api/v1/sync-history?product_id={}", honey.id),
    ] {
        let answer = seller.get(&path).await;
        assert!(
            !answer.body.to_string().contains(secret),
            "{path}: {}",
            answer.body
        );
    }
    // Only WooCommerce takes its keys there.
    let shopify = seller
        .send_json(
            "POST",
            "/api/v1/storefronts",
            &json!({ "name": "Not Woo", "kind": "shopify", "base_url": "http://127.0.0.1:9",
                     "credential": "shpat_x", "keys_in_query": true }),
        )
        .await;
    assert_eq!(shopify.status, 422, "{}", shopify.body);
    assert_eq!(shopify.error_field(), Some("keys_in_query"));
}

/// A credential is sent only where it was given: platform hosts only, no user info, a changed
/// address needs the credential again, a renewal only to the platform's token host, and a
/// storefront's redirect is never followed.
async fn a_credential_goes_only_to_the_address_it_was_given_for(ctx: Ctx) {
    let seller = ctx.api.new_account("Secret Keepers").await;
    let refused = [
        (
            json!({ "name": "x", "kind": "shopify", "base_url": "https://shop.evil.example",
                    "credential": "shpat_x" }),
            "base_url",
            "Shopify is reached at your-store.myshopify.com",
        ),
        (
            json!({ "name": "x", "kind": "woocommerce", "base_url": "https://ck:cs@shop.example",
                    "credential": "ck_1:cs_2" }),
            "base_url",
            "user name or password",
        ),
        (
            json!({ "name": "x", "kind": "woocommerce", "base_url": "https://192.168.1.20",
                    "credential": "ck_1:cs_2" }),
            "base_url",
            "private network",
        ),
        (
            json!({ "name": "x", "kind": "ebay", "credential": json!({
                "client_id": "c", "client_secret": "s", "refresh_token": "r",
                "token_url": "https://collector.example/token" }).to_string() }),
            "credential",
            "token_url: eBay is reached at api.ebay.com",
        ),
    ];
    for (body, field, words) in refused {
        let answer = seller.send_json("POST", "/api/v1/storefronts", &body).await;
        assert_eq!(answer.status, 422, "{body}: {}", answer.body);
        assert_eq!(answer.error_field(), Some(field), "{body}: {}", answer.body);
        assert!(
            answer.error_message().contains(words),
            "{body}: {}",
            answer.body
        );
    }

    // A WooCommerce host that answers every call with a redirect to somewhere else.
    let host = Sandbox::start(&[
        (Kind::Woocommerce, WOO_KEYS),
        (Kind::Shopify, SHOPIFY_TOKEN),
    ])
    .await;
    let elsewhere = format!("{}/collect", host.base_url(Kind::Shopify));
    let moved = Faults {
        redirect_to: Some(elsewhere),
        ..Faults::none()
    };
    host.set_faults(Kind::Woocommerce, &moved).await;
    let store = connect(
        &seller,
        Kind::Woocommerce,
        &host.base_url(Kind::Woocommerce),
        json!({}),
    )
    .await;
    let jar = product(&seller, "MOVED-JAR", 4).await;
    link(&seller, &jar, store, "6401", None).await;
    let failed = history_entry(&seller, &jar, "the redirected push to fail", |e| {
        e.status == SyncStatus::Failed
    })
    .await;
    assert!(
        failed.message.contains("redirect to 127.0.0.1") && failed.message.contains("API address"),
        "{failed:?}"
    );
    assert!(
        host.calls(Kind::Shopify).await.is_empty(),
        "the redirect was followed with the credential"
    );

    // The address cannot change without the credential being given again.
    let path = format!("/api/v1/storefronts/{store}");
    let other = host.base_url(Kind::Shopify);
    let answer = seller
        .send_json("PATCH", &path, &json!({ "base_url": other }))
        .await;
    assert_eq!(answer.status, 422, "{}", answer.body);
    assert_eq!(answer.error_field(), Some("credential"));
    assert!(answer.error_message().contains("again"), "{}", answer.body);
    let kept = seller.get(&path).await;
    assert_eq!(
        kept.body["base_url"],
        host.base_url(Kind::Woocommerce).as_str()
    );
    let answer = seller
        .send_json(
            "PATCH",
            &path,
            &json!({ "base_url": other, "credential": WOO_KEYS }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["base_url"], other.as_str());
}

/// `check: true` (what the app sends): the storefront is read once before saving. Every
/// platform refuses a made-up credential, which is then not saved (422 at `credential`); an
/// address nothing answers at is refused at `base_url`; the right credential saves. On an
/// edit the read happens only when the way the store is reached changes.
async fn a_connection_saved_with_a_check_is_read_first_and_refused_when_it_cannot_be(ctx: Ctx) {
    let seller = ctx.api.new_account("Checked Connections").await;
    let sb = &ctx.sandbox;
    for kind in Kind::ALL {
        let wrong = json!({ "check": true, "credential": "made-up-credential:made-up" });
        let mut body = json!({
            "name": format!("Checked {kind}"), "kind": kind.as_str(),
            "base_url": sb.base_url(kind), "credential": "made-up-credential:made-up",
            "check": true,
        });
        if kind == Kind::Amazon {
            body["store_ref"] = json!("A1SELLER");
        }
        let refused = seller.send_json("POST", "/api/v1/storefronts", &body).await;
        assert_eq!(refused.status, 422, "{kind} {wrong}: {}", refused.body);
        assert_eq!(
            refused.error_field(),
            Some("credential"),
            "{kind}: {}",
            refused.body
        );
        assert!(
            refused.error_message().contains("refused this credential"),
            "{kind}: {}",
            refused.body
        );
        body["credential"] = json!(credential(kind));
        let saved = seller.send_json("POST", "/api/v1/storefronts", &body).await;
        assert_eq!(saved.status, 201, "{kind}: {}", saved.body);
    }
    let listed = seller.get("/api/v1/storefronts").await.body["storefronts"]
        .as_array()
        .map(Vec::len);
    assert_eq!(
        listed,
        Some(Kind::ALL.len()),
        "only the right credentials were saved"
    );

    let nowhere = seller
        .send_json(
            "POST",
            "/api/v1/storefronts",
            &json!({ "name": "Nowhere", "kind": "woocommerce", "base_url": "http://127.0.0.1:9",
                     "credential": WOO_KEYS, "check": true }),
        )
        .await;
    assert_eq!(nowhere.status, 422, "{}", nowhere.body);
    assert_eq!(nowhere.error_field(), Some("base_url"), "{}", nowhere.body);

    // An edit reads the store again only when it is reached differently. (Another account:
    // this one holds the free plan's five connections.)
    let seller = ctx.api.new_account("Checked Edits").await;
    let own = Sandbox::start(&[(Kind::Woocommerce, WOO_KEYS)]).await;
    let id = connect(
        &seller,
        Kind::Woocommerce,
        &own.base_url(Kind::Woocommerce),
        json!({}),
    )
    .await;
    own.clear_calls(Kind::Woocommerce).await;
    // Product reads only: the cron's order polls reach the same sandbox at any moment.
    let reads = || async {
        own.calls(Kind::Woocommerce)
            .await
            .iter()
            .filter(|c| c.path.starts_with("/wp-json/wc/v3/products"))
            .count()
    };
    let path = format!("/api/v1/storefronts/{id}");
    let renamed = seller
        .send_json("PATCH", &path, &json!({ "name": "Renamed", "check": true }))
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(reads().await, 0, "a new name reads nothing");
    let rekeyed = seller
        .send_json(
            "PATCH",
            &path,
            &json!({ "credential": "ck_other:cs_other", "check": true }),
        )
        .await;
    assert_eq!(rekeyed.status, 422, "{}", rekeyed.body);
    assert_eq!(rekeyed.error_field(), Some("credential"));
    assert_eq!(reads().await, 1, "one read, refused");
    let kept = seller
        .send_json(
            "PATCH",
            &path,
            &json!({ "credential": WOO_KEYS, "check": true }),
        )
        .await;
    assert_eq!(kept.status, 200, "{}", kept.body);
}

/// Each product says how many listings a push reaches and how its newest push went; the
/// `synced=no` filter finds exactly those whose storefronts may be behind: Auto Sync off, or a
/// failing push. A product in sync, or with no listing at all, is not among them.
async fn the_inventory_shows_each_products_listings_and_newest_push_and_finds_the_not_synced(
    ctx: Ctx,
) {
    let seller = ctx.api.new_account("Freshness").await;
    let sb = &ctx.sandbox;
    sb.set_items(Kind::Woocommerce, [("8801", 0), ("8802", 0)])
        .await;
    let woo = connect(
        &seller,
        Kind::Woocommerce,
        &sb.base_url(Kind::Woocommerce),
        json!({}),
    )
    .await;
    let broken = connect(
        &seller,
        Kind::Woocommerce,
        &sb.base_url(Kind::Woocommerce),
        json!({ "name": "Revoked keys", "credential": "ck_revoked:cs_revoked" }),
    )
    .await;
    let fresh = product(&seller, "FRESH-1", 5).await;
    let paused = product(&seller, "FRESH-2", 5).await;
    let failing = product(&seller, "FRESH-3", 5).await;
    product(&seller, "FRESH-4", 5).await;
    link(&seller, &fresh, woo, "8801", None).await;
    link(&seller, &paused, woo, "8802", None).await;
    link(&seller, &failing, broken, "8803", None).await;
    storefront_shows(sb, Kind::Woocommerce, "8801", 5).await;
    seller.set_auto_sync(paused.id.0, false).await;
    let shown = eventually("the newest pushes", SYNC_WAIT, || {
        let seller = seller.clone();
        async move {
            let page: tally_domain::api::ProductPage =
                seller.get("/api/v1/products?q=FRESH").await.json();
            let failed = page
                .items
                .iter()
                .any(|p| p.last_push.is_some_and(|l| l.status == SyncStatus::Failed));
            failed.then_some(page)
        }
    })
    .await;
    let by_sku = |sku: &str| {
        shown
            .items
            .iter()
            .find(|p| p.sku.to_string() == sku)
            .cloned()
            .expect("listed")
    };
    let fresh = by_sku("FRESH-1");
    assert_eq!(fresh.listings, 1);
    assert_eq!(
        fresh.last_push.map(|l| l.status),
        Some(SyncStatus::Succeeded),
        "{fresh:?}"
    );
    assert_eq!(by_sku("FRESH-4").listings, 0);
    assert_eq!(by_sku("FRESH-4").last_push, None);
    assert_eq!(by_sku("FRESH-3").listings, 1);

    let behind: tally_domain::api::ProductPage = seller
        .get("/api/v1/products?q=FRESH&synced=no")
        .await
        .json();
    let skus: Vec<String> = behind.items.iter().map(|p| p.sku.to_string()).collect();
    assert_eq!(
        skus,
        ["FRESH-2", "FRESH-3"],
        "Auto Sync off, and the failing push"
    );
}
