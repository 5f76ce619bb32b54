//! Storefronts talk back, end to end: `wrangler dev` with the sandbox storefronts, which take
//! Tally's webhook subscriptions, sell, send the signed webhooks and list their orders.
//!
//! Each test works in its own new account and starts its own sandbox storefronts: a
//! storefront's orders belong to one seller, and polling would rightly read them all.

use serde_json::{json, Value};
use std::time::Duration;
use tally_domain::api::{Product, Storefront};
use tally_tests::client::Api;
use tally_tests::eventually;
use tally_tests::sandbox::{FaultKind, Faults, Kind, Sandbox, SHOPIFY_APP_SECRET};
use tally_tests::suite::{arguments, runtime};
use tally_tests::worker::TestWorker;

/// A sale reaches Tally and the other storefronts in seconds; polling waits for the cron,
/// which the tests run every second while they wait.
const WAIT: Duration = Duration::from_secs(60);

fn credential(kind: Kind) -> &'static str {
    match kind {
        Kind::Shopify => "shpat_talkback_token",
        Kind::Woocommerce => "ck_talkback:cs_talkback_secret",
        Kind::Ebay => "v^1.1#talkback_ebay",
        Kind::Amazon => "Atza|talkback_amazon",
        Kind::Bigcommerce => "bc_talkback_token",
    }
}

#[derive(Clone)]
struct Ctx {
    api: Api,
}

/// Sandbox storefronts of `kinds` for one test.
async fn sandbox(kinds: &[Kind]) -> Sandbox {
    let stores: Vec<(Kind, &str)> = kinds.iter().map(|k| (*k, credential(*k))).collect();
    Sandbox::start(&stores).await
}

fn main() {
    let args = arguments();
    let worker = TestWorker::start();
    let rt = runtime();
    let ctx = Ctx {
        api: Api::new(&worker.base_url),
    };
    let tests = tally_tests::cases![&rt, &ctx;
        saving_a_connection_subscribes_it_and_a_sale_anywhere_reaches_every_storefront,
        a_dropped_webhook_and_sales_on_ebay_and_amazon_are_found_by_polling,
        a_sale_tally_has_not_heard_of_is_not_erased_by_the_next_push,
        a_shopify_refund_is_heard_by_poll_or_webhook_once_and_restocks_only_its_restock_lines,
        a_shopify_webhook_names_variants_and_still_reaches_the_linked_product,
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

/// Connects the sandbox storefront of `kind` (Shopify with the app's client secret, which
/// signs its webhooks).
async fn connect(seller: &Api, sandbox: &Sandbox, kind: Kind) -> Storefront {
    let mut body = json!({ "name": format!("My {kind}"), "kind": kind.as_str(),
        "base_url": sandbox.base_url(kind), "credential": credential(kind) });
    match kind {
        Kind::Shopify => body["webhook_secret"] = json!(SHOPIFY_APP_SECRET),
        Kind::Amazon => body["store_ref"] = json!("A1SELLER"),
        _ => {}
    }
    seller.connect(&body).await
}

async fn quantity(seller: &Api, product: &Product) -> i64 {
    seller.product(product.id.0).await.quantity.get()
}

/// Waits until the sandbox of `kind` holds `expected` for `key`.
async fn storefront_shows(sandbox: &Sandbox, kind: Kind, key: &str, expected: i64) {
    eventually(
        &format!("{kind} item {key} to show {expected}"),
        WAIT,
        || async move { (sandbox.items(kind).await.get(key) == Some(&expected)).then_some(()) },
    )
    .await;
}

/// Waits until Tally's quantity is `expected`, running the cron (which asks for polls) as it
/// waits.
async fn tally_shows(seller: &Api, product: &Product, expected: i64) {
    eventually(
        &format!("{} to be {expected} in Tally", product.sku),
        WAIT,
        || async move {
            seller.run_cron().await;
            (quantity(seller, product).await == expected).then_some(())
        },
    )
    .await;
}

/// The account's orders as the Orders page gets them.
async fn orders(seller: &Api) -> Vec<Value> {
    let answer = seller.get("/api/v1/orders").await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.body.as_array().expect("a list").clone()
}

// ---- tests --------------------------------------------------------------------------------

async fn saving_a_connection_subscribes_it_and_a_sale_anywhere_reaches_every_storefront(ctx: Ctx) {
    let seller = ctx.api.new_account("Talkback Traders").await;
    let sb = &sandbox(&[Kind::Shopify, Kind::Woocommerce, Kind::Bigcommerce]).await;
    // (kind, listing id, sub id, the sandbox's key for the item)
    let items = [
        (Kind::Shopify, "8101", Some("1"), "8101@1"),
        (Kind::Woocommerce, "8102", None, "8102"),
        (Kind::Bigcommerce, "8103", Some("1"), "8103@1"),
    ];
    let scarf = seller.synced_product("TALK-SCARF", 20).await;
    let mut connected = Vec::new();
    for (kind, id, sub, key) in items {
        sb.set_items(kind, [(key, 0)]).await;
        let storefront = connect(&seller, sb, kind).await;
        // Subscribed on save, every topic, at the connection's own address.
        assert!(!storefront.webhooks.is_empty(), "{kind}: {storefront:?}");
        assert!(
            storefront.webhooks.iter().all(|t| t.ok),
            "{kind}: {:?}",
            storefront.webhooks
        );
        let subscribed = sb.subscriptions(kind).await;
        let mine = subscribed
            .iter()
            .filter(|s| s.url == storefront.webhook_url)
            .count();
        assert_eq!(
            mine,
            storefront.webhooks.len(),
            "{kind}: {subscribed:?} for {}",
            storefront.webhook_url
        );
        seller.link(&scarf, storefront.id, id, sub).await;
        storefront_shows(sb, kind, key, 20).await;
        connected.push((kind, key, storefront));
    }

    // A sale on each storefront in turn: Tally hears it by webhook and every storefront,
    // the selling one included, ends at the new quantity.
    let mut expected = 20;
    for (n, (kind, key, _)) in connected.iter().enumerate() {
        let sold = n as i64 + 1;
        // No SKU on the line: the storefront's item id finds the listing, and so the product.
        let placed = sb.place_order(*kind, &[(key, "", sold)], true).await;
        assert!(
            placed.webhooks.iter().all(|w| w.status == 200),
            "{kind}: {placed:?}"
        );
        expected -= sold;
        tally_shows(&seller, &scarf, expected).await;
    }
    for (kind, key, _) in &connected {
        storefront_shows(sb, *kind, key, expected).await;
    }
    let orders = orders(&seller).await;
    assert_eq!(orders.len(), 3, "each sale once: {orders:?}");
    // Each webhook arrived and was applied (or found its order already applied by a poll
    // that came first: both paths lead to the same order, once).
    for (kind, _, storefront) in &connected {
        let log = seller
            .get(&format!("/api/v1/storefronts/{}/deliveries", storefront.id))
            .await;
        let log: tally_domain::api::DeliveryList = log.json();
        assert!(
            log.deliveries.iter().any(|d| d.status == "applied"),
            "{kind}: {:?}",
            log.deliveries
        );
    }
    let mut names: Vec<&str> = orders
        .iter()
        .filter_map(|o| o["storefront_name"].as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["My bigcommerce", "My shopify", "My woocommerce"]);

    // The health panel counts the orders each storefront reported this hour.
    let health: tally_domain::api::SyncHealth = seller.get("/api/v1/sync-health").await.json();
    for (kind, _, storefront) in &connected {
        let row = health
            .storefronts
            .iter()
            .find(|s| s.storefront_id == storefront.id)
            .unwrap_or_else(|| panic!("{kind} in the health panel: {health:?}"));
        assert_eq!(row.orders_heard, 1, "{kind}: {row:?}");
    }

    // Cancelling on the storefront puts the units back, once.
    let (kind, key, _) = &connected[1];
    let woo_order = sb.orders(*kind).await;
    let first = woo_order.first().expect("the WooCommerce order");
    sb.cancel_order(*kind, &first.order_id, true).await;
    tally_shows(&seller, &scarf, expected + 2).await;
    storefront_shows(sb, *kind, key, expected + 2).await;
}

async fn a_dropped_webhook_and_sales_on_ebay_and_amazon_are_found_by_polling(ctx: Ctx) {
    let seller = ctx.api.new_account("Poll Position").await;
    let sb = &sandbox(&[Kind::Shopify, Kind::Ebay, Kind::Amazon]).await;
    let items = [
        (Kind::Shopify, "8201", Some("1"), "8201@1"),
        (Kind::Ebay, "POLL-8202", None, "POLL-8202"),
        (Kind::Amazon, "POLL-8203", None, "A1SELLER/POLL-8203"),
    ];
    let cap = seller.synced_product("POLL-CAP", 30).await;
    let mut keys = Vec::new();
    for (kind, id, sub, key) in items {
        sb.set_items(kind, [(key, 0)]).await;
        let storefront = connect(&seller, sb, kind).await;
        seller.link(&cap, storefront.id, id, sub).await;
        storefront_shows(sb, kind, key, 30).await;
        keys.push((kind, key));
    }
    // Shopify is told to drop its webhook; eBay and Amazon have none to send.
    let dropped = sb
        .place_order(Kind::Shopify, &[("8201@1", "", 2)], false)
        .await;
    assert!(dropped.webhooks.is_empty(), "{dropped:?}");
    sb.place_order(Kind::Ebay, &[("POLL-8202", "POLL-CAP", 3)], true)
        .await;
    sb.place_order(Kind::Amazon, &[("A1SELLER/POLL-8203", "POLL-CAP", 4)], true)
        .await;
    tally_shows(&seller, &cap, 21).await;
    for (kind, key) in keys {
        storefront_shows(sb, kind, key, 21).await;
    }
    let orders = orders(&seller).await;
    assert_eq!(orders.len(), 3, "each sale once: {orders:?}");
    assert!(orders.iter().all(|o| o["source"] == "poll"), "{orders:?}");
}

async fn a_sale_tally_has_not_heard_of_is_not_erased_by_the_next_push(ctx: Ctx) {
    let seller = ctx.api.new_account("Never Erase").await;
    let sb = &sandbox(&[Kind::Shopify]).await;
    let key = "8301@1";
    sb.set_items(Kind::Shopify, [(key, 0)]).await;
    let mug = seller.synced_product("ERASE-MUG", 20).await;
    let shop = connect(&seller, sb, Kind::Shopify).await;
    seller.link(&mug, shop.id, "8301", Some("1")).await;
    storefront_shows(sb, Kind::Shopify, key, 20).await;
    // Read its orders now (none yet): the cron then leaves this connection alone for a few
    // seconds, so what finds the sale below is the push itself.
    let polled = seller
        .send_json(
            "POST",
            &format!("/api/v1/storefronts/{}/poll", shop.id),
            &json!({}),
        )
        .await;
    assert_eq!(polled.status, 200, "{}", polled.body);
    assert_eq!(polled.body["poll_status"], "0 orders read; none new.");

    // A sale on Shopify whose webhook never comes: Shopify holds 17, Tally still 20.
    sb.place_order(Kind::Shopify, &[(key, "ERASE-MUG", 3)], false)
        .await;
    assert_eq!(sb.items(Kind::Shopify).await[key], 17);
    let before = sb.calls(Kind::Shopify).await.len();
    // One unit found damaged in the warehouse: 20 - 1 would erase the sale on Shopify.
    let adjusted = seller.adjust(mug.id.0, "add", -1).await;
    assert_eq!(adjusted.status, 200, "{}", adjusted.body);

    // The push of 19 finds Shopify at 17, not the 20 it was sent: Tally reads Shopify's
    // orders first, applies the sale and pushes 16.
    storefront_shows(sb, Kind::Shopify, key, 16).await;
    assert_eq!(quantity(&seller, &mug).await, 16);
    let history = seller.history_of(mug.id.0).await.items;
    assert!(
        history
            .iter()
            .any(|e| e.message.contains("read its recent orders first")),
        "the history says what happened: {:?}",
        history.iter().map(|e| &e.message).collect::<Vec<_>>()
    );
    // (quantity, changeFromQuantity) of every push since: a push of 19 compared against the
    // 17 Shopify held would have erased the sale; against 20 Shopify refuses it as stale.
    let pushed: Vec<(Value, Value)> = sb.calls(Kind::Shopify).await[before..]
        .iter()
        .filter(|c| c.body.to_string().contains("InventoryItem/8301"))
        .map(|c| &c.body["variables"]["input"]["quantities"][0])
        .filter(|q| !q.is_null())
        .map(|q| (q["quantity"].clone(), q["changeFromQuantity"].clone()))
        .collect();
    assert!(
        !pushed.contains(&(json!(19), json!(17))),
        "Tally never overwrote the sale: {pushed:?}"
    );
    assert_eq!(pushed.last(), Some(&(json!(16), json!(17))), "{pushed:?}");
    let orders = orders(&seller).await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["source"], "poll");
}

async fn a_shopify_refund_is_heard_by_poll_or_webhook_once_and_restocks_only_its_restock_lines(
    ctx: Ctx,
) {
    let seller = ctx.api.new_account("Refund Rally").await;
    let sb = &sandbox(&[Kind::Shopify]).await;
    let (tee_key, cap_key) = ("8401@1", "8402@1");
    sb.set_items(Kind::Shopify, [(tee_key, 0), (cap_key, 0)])
        .await;
    let tee = seller.synced_product("REFUND-TEE", 10).await;
    let cap = seller.synced_product("REFUND-CAP", 10).await;
    let shop = connect(&seller, sb, Kind::Shopify).await;
    seller.link(&tee, shop.id, "8401", Some("1")).await;
    seller.link(&cap, shop.id, "8402", Some("1")).await;
    storefront_shows(sb, Kind::Shopify, tee_key, 10).await;
    storefront_shows(sb, Kind::Shopify, cap_key, 10).await;

    let sold = sb
        .place_order(
            Kind::Shopify,
            &[(tee_key, "REFUND-TEE", 3), (cap_key, "REFUND-CAP", 2)],
            true,
        )
        .await;
    tally_shows(&seller, &tee, 7).await;
    tally_shows(&seller, &cap, 8).await;

    // A refund whose webhook is lost: two tees come back, one cap is refunded but not
    // restocked. Only polling can hear it.
    let lost = sb
        .refund_order(
            &sold.order_id,
            &[(tee_key, 2, true), (cap_key, 1, false)],
            false,
        )
        .await;
    assert!(lost.webhooks.is_empty(), "{lost:?}");
    tally_shows(&seller, &tee, 9).await;

    // A second refund, delivered by webhook; the polls that follow list both refunds again.
    let told = sb
        .refund_order(&sold.order_id, &[(tee_key, 1, true)], true)
        .await;
    assert_eq!(told.webhooks.len(), 1, "{told:?}");
    assert_eq!(told.webhooks[0].status, 200, "{told:?}");
    tally_shows(&seller, &tee, 10).await;
    for _ in 0..2 {
        let polled = seller
            .send_json(
                "POST",
                &format!("/api/v1/storefronts/{}/poll", shop.id),
                &json!({}),
            )
            .await;
        assert_eq!(polled.status, 200, "{}", polled.body);
    }
    assert_eq!(
        quantity(&seller, &tee).await,
        10,
        "each refund restocks once"
    );
    assert_eq!(
        quantity(&seller, &cap).await,
        8,
        "a refund without restock keeps units off"
    );
    storefront_shows(sb, Kind::Shopify, tee_key, 10).await;

    let ledger = seller
        .get(&format!("/api/v1/products/{}/ledger", tee.id.0))
        .await;
    assert_eq!(ledger.status, 200, "{}", ledger.body);
    let refunds = ledger.body.to_string().matches("back in stock").count();
    assert_eq!(refunds, 2, "one ledger line per refund: {}", ledger.body);
}

async fn a_shopify_webhook_names_variants_and_still_reaches_the_linked_product(ctx: Ctx) {
    let seller = ctx.api.new_account("Variant Vale").await;
    let sb = &sandbox(&[Kind::Shopify]).await;
    let key = "8501@1";
    sb.set_items(Kind::Shopify, [(key, 0)]).await;
    let vase = seller.synced_product("VALE-VASE", 10).await;
    let shop = connect(&seller, sb, Kind::Shopify).await;
    seller.link(&vase, shop.id, "8501", Some("1")).await;
    storefront_shows(sb, Kind::Shopify, key, 10).await;

    // The shop's order query fails while the sale is made, so only the webhook can bring it:
    // the cron is shared by every test, and a poll another runs could otherwise find the order
    // between the shop recording it and sending the webhook.
    let no_order_reads =
        Faults::failing(1.0, &[FaultKind::ServerError]).only_matching(&["TallyOrders"]);
    sb.set_faults(Kind::Shopify, &no_order_reads).await;
    // The shop shows another SKU on the line, and its webhook names the variant (not the
    // inventory item the listing is): only the variant's lookup finds the listing.
    let sold = sb
        .place_order(Kind::Shopify, &[(key, "SHOP-OWN-SKU", 2)], true)
        .await;
    assert_eq!(sold.webhooks.len(), 1, "{sold:?}");
    assert_eq!(sold.webhooks[0].status, 200, "{sold:?}");
    let (seller, vase) = (&seller, &vase);
    eventually(
        "the webhook's sale to reach the product",
        WAIT,
        || async move { (quantity(seller, vase).await == 8).then_some(()) },
    )
    .await;
    let orders = orders(seller).await;
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["source"], "webhook", "{orders:?}");
    sb.set_faults(Kind::Shopify, &Faults::none()).await;
    let unknown = seller.get("/api/v1/products?q=SHOP-OWN-SKU").await;
    assert_eq!(unknown.status, 200, "{}", unknown.body);
    assert_eq!(
        unknown.body["total"], 0,
        "no product made from the shop's SKU: {}",
        unknown.body
    );
    storefront_shows(sb, Kind::Shopify, key, 8).await;
}
