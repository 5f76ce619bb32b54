//! Browser tests: a seller's journeys through the real UI in headless Chromium, served by the
//! real worker under `wrangler dev`.
//!
//! Each journey signs in to an account no other test uses: a copy of the demo account
//! (`take_demo_copy`) or an account it signs up itself. So any order, filter or number of test
//! threads gives the same result.

use std::sync::Arc;
use std::time::Duration;
use tally_tests::accounts::{take_demo_copy, DemoCopy};
use tally_tests::browser::{
    accessibility_report, assert_accessible, by_testid, click, cut_off, screenshot, sign_in,
    text_of, Chromedriver, UI_WAIT,
};
use tally_tests::client::{Api, DEMO_PASSWORD};
use tally_tests::eventually;
use tally_tests::sandbox::{Kind, Sandbox};
use tally_tests::suite::{arguments, runtime};
use tally_tests::worker::TestWorker;

const WOO_KEYS: &str = "ck_browser:cs_browser_secret";

#[derive(Clone)]
struct Ctx {
    /// The worker, signed in to nothing: each journey takes an account of its own.
    api: Api,
    driver: Arc<Chromedriver>,
    sandbox: Arc<Sandbox>,
}

fn main() {
    let args = arguments();
    let worker = TestWorker::start();
    let driver = Arc::new(Chromedriver::start());
    let rt = runtime();
    let ctx = Ctx {
        api: Api::new(&worker.base_url),
        driver: Arc::clone(&driver),
        sandbox: Arc::new(rt.block_on(Sandbox::start(&[(Kind::Woocommerce, WOO_KEYS)]))),
    };
    let tests = tally_tests::cases![&rt, &ctx;
        every_screen_passes_axe_core_with_no_violations,
        a_seller_turns_on_auto_sync_for_a_row_and_it_survives_a_reload,
        a_seller_adjusts_a_quantity_and_sees_the_sync_history_entry,
        a_seller_pages_through_inventory_with_the_page_in_the_url,
        a_subscriber_turns_on_auto_sync_for_order_imports_after_reading_the_warning,
        a_seller_selects_three_rows_and_presses_sync_now,
        a_seller_selects_a_whole_page_and_turns_auto_sync_on,
        a_seller_filters_the_inventory_and_the_filter_lives_in_the_url,
        a_seller_adds_a_product_by_hand,
        a_seller_turns_on_auto_sync_for_all_in_a_filter_and_watches_it_finish,
        a_seller_turns_on_auto_sync_on_the_details_tab_and_sees_the_quantity_history,
        a_seller_uploads_a_file_with_an_error_then_a_good_file_and_applies_it,
        a_large_file_applies_in_the_background_and_a_reload_finds_it,
        a_seller_enters_an_order_by_hand_and_cancels_it,
        a_seller_connects_a_storefront_links_a_listing_and_watches_the_push_succeed,
        a_sale_on_a_storefront_shows_on_the_orders_page_and_reaches_the_other_storefront,
        the_address_picks_the_page_and_back_returns_to_the_last_one,
        a_woocommerce_item_left_unmanaged_is_asked_about_once_and_the_yes_lands_the_quantity,
        a_seller_imports_a_storefronts_listings_from_a_preview,
        a_seller_checks_for_drift_and_fixes_the_listing_that_differs,
        on_a_phone_a_seller_adjusts_a_quantity_and_edits_a_storefront_through_the_menu,
        the_adjust_dialog_takes_focus_keeps_tab_inside_and_gives_focus_back,
        a_seller_renames_a_product_archives_it_finds_it_among_archived_and_brings_it_back,
        a_failing_connection_shows_in_the_top_bar_and_on_its_row_until_fixed,
        sync_now_says_what_was_pushed_once_the_pushes_land_and_links_to_what_failed,
        a_new_seller_follows_the_first_run_checklist_to_the_end,
    ];
    let conclusion = libtest_mimic::run(&args, tests);
    drop(ctx);
    drop(driver);
    drop(worker);
    conclusion.exit();
}

/// Opens `path` as a signed-out visitor would (landing on the sign-in page) and signs in as
/// `seller` (a copy of the demo seller), which brings the browser back to `path`.
async fn open_signed_in(client: &fantoccini::Client, seller: &DemoCopy, path: &str) {
    client
        .goto(&format!("{}{path}", seller.api.base))
        .await
        .expect("the page opens");
    sign_in(client, &seller.email, DEMO_PASSWORD).await;
}

/// A new seller of the test's own, signed up through the API (so the demo account's
/// storefronts stay empty for other tests): the session, the email and the password.
async fn own_seller(api: &Api, prefix: &str, store: &str) -> (Api, String, &'static str) {
    let email = format!("{prefix}-{}@example.com", std::process::id());
    let password = "a long enough password";
    let body = serde_json::json!({ "email": email, "password": password, "store_name": store });
    let (answer, cookie) = api.session_call("/api/v1/auth/signup", &body).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let seller = api.with_auth(tally_tests::client::Auth::Session(
        cookie.expect("a session"),
    ));
    (seller, email, password)
}

/// A product with Auto Sync on, created through the API.
async fn product_with_auto_sync(
    seller: &Api,
    sku: &str,
    name: &str,
    quantity: i64,
) -> tally_domain::api::Product {
    let created = seller
        .send_json(
            "POST",
            "/api/v1/products",
            &serde_json::json!({ "sku": sku, "name": name, "quantity": quantity }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    seller
        .set_auto_sync(created.body["id"].as_i64().unwrap_or_default(), true)
        .await
}

/// Waits until the address ends with `tail`.
async fn address_ends_with(client: &fantoccini::Client, tail: &str) {
    eventually(&format!("the address to end with {tail}"), UI_WAIT, || {
        let client = client.clone();
        async move {
            let url = client.current_url().await.ok()?;
            url.as_str().ends_with(tail).then_some(())
        }
    })
    .await;
}

async fn attr(client: &fantoccini::Client, testid: &str, name: &str) -> Option<String> {
    by_testid(client, testid, UI_WAIT)
        .await
        .attr(name)
        .await
        .expect("attribute read")
}

/// The accessibility gate: axe-core finds no violation on any screen, signed out (sign-in,
/// sign-up) or in (inventory, the adjust dialog, a product's page, upload, orders, sync
/// history, every settings tab), each waited for until its content is drawn.
async fn every_screen_passes_axe_core_with_no_violations(ctx: Ctx) {
    let seller = take_demo_copy(&ctx.api).await;
    let client = ctx.driver.session().await;
    let base = seller.api.base.clone();
    let mut found: Vec<String> = Vec::new();
    client.goto(&format!("{base}/signup")).await.unwrap();
    by_testid(&client, "auth-form", UI_WAIT).await;
    found.extend(accessibility_report(&client, "sign-up").await);
    client.goto(&format!("{base}/login")).await.unwrap();
    by_testid(&client, "auth-form", UI_WAIT).await;
    found.extend(accessibility_report(&client, "sign-in").await);

    let product = seller.api.products(1, 25).await.items[0].clone();
    open_signed_in(&client, &seller, "/").await;
    by_testid(&client, "inventory-table", UI_WAIT).await;
    found.extend(accessibility_report(&client, "inventory").await);
    // A wide window shows the links themselves: the phone's Menu button is not there.
    assert!(
        !by_testid(&client, "menu-button", UI_WAIT)
            .await
            .is_displayed()
            .await
            .unwrap(),
        "no Menu button at 1280 px"
    );
    assert!(by_testid(&client, "sign-out", UI_WAIT)
        .await
        .is_displayed()
        .await
        .unwrap());
    click(&client, &format!("adjust-{}", product.sku)).await;
    by_testid(&client, "adjust-amount", UI_WAIT).await;
    found.extend(accessibility_report(&client, "the adjust dialog").await);

    let screens = [
        (
            format!("/products/{}", product.id.0),
            "details-auto-sync",
            "a product's page",
        ),
        ("/uploads".to_owned(), "upload-file", "upload"),
        ("/orders".to_owned(), "order-form", "orders"),
        ("/history".to_owned(), "sync-health", "sync history"),
        (
            "/settings/inventory".to_owned(),
            "rules-form",
            "settings: inventory",
        ),
        (
            "/settings/storefronts".to_owned(),
            "storefronts-empty",
            "settings: storefronts",
        ),
        (
            "/settings/api-keys".to_owned(),
            "api-key-create",
            "settings: API keys",
        ),
    ];
    for (path, drawn, screen) in screens {
        client.goto(&format!("{base}{path}")).await.unwrap();
        by_testid(&client, drawn, UI_WAIT).await;
        found.extend(accessibility_report(&client, screen).await);
    }
    assert!(
        found.is_empty(),
        "axe-core finds {} violation(s):\n{}",
        found.len(),
        found.join("\n")
    );
}

async fn a_seller_turns_on_auto_sync_for_a_row_and_it_survives_a_reload(ctx: Ctx) {
    let seller = take_demo_copy(&ctx.api).await;
    let client = ctx.driver.session().await;
    // Signed out, the inventory sends the seller to sign in, then back to the same page.
    client
        .goto(&format!("{}/?page=1&per_page=25", ctx.api.base))
        .await
        .unwrap();
    by_testid(&client, "auth-form", UI_WAIT).await;
    let login_url = client.current_url().await.unwrap();
    assert!(login_url.as_str().contains("/login?next="), "{login_url}");
    sign_in(&client, &seller.email, DEMO_PASSWORD).await;
    let back = client.current_url().await.unwrap();
    assert!(
        back.as_str().ends_with("/?page=1&per_page=25"),
        "back where the seller was: {back}"
    );
    // Only every third product starts with Auto Sync on.
    let page = seller.api.products(1, 25).await;
    let product = page
        .items
        .iter()
        .find(|p| !p.auto_sync)
        .expect("a row with Auto Sync off");
    let toggle = format!("auto-sync-{}", product.sku);
    assert_eq!(
        attr(&client, &toggle, "aria-checked").await.as_deref(),
        Some("false")
    );
    click(&client, &toggle).await;
    let toast = text_of(&client, "toast").await;
    assert!(
        toast.contains(&format!("Auto Sync turned on for {}", product.sku)),
        "{toast}"
    );
    screenshot(&client, "inventory").await;

    client.refresh().await.unwrap();
    let after = eventually("the toggle to render after reload", UI_WAIT, || {
        let client = client.clone();
        let toggle = toggle.clone();
        async move { attr(&client, &toggle, "aria-checked").await }
    })
    .await;
    assert_eq!(after, "true", "Auto Sync stayed on after a reload");
    assert!(
        seller.api.product(product.id.0).await.auto_sync,
        "and it is on in D1"
    );
    client.close().await.unwrap();
}

async fn a_seller_adjusts_a_quantity_and_sees_the_sync_history_entry(ctx: Ctx) {
    let seller = take_demo_copy(&ctx.api).await;
    let client = ctx.driver.session().await;
    let page = seller.api.products(2, 25).await;
    let product = page
        .items
        .iter()
        .find(|p| p.auto_sync)
        .expect("a row with Auto Sync on")
        .clone();
    let sku = product.sku.to_string();
    open_signed_in(&client, &seller, "/?page=2&per_page=25").await;
    by_testid(&client, &format!("adjust-{sku}"), UI_WAIT)
        .await
        .click()
        .await
        .unwrap();
    let amount = by_testid(&client, "adjust-amount", UI_WAIT).await;
    amount.send_keys("-99999").await.unwrap();
    let error = text_of(&client, "adjust-error").await;
    assert!(
        error.contains("Amount cannot be negative"),
        "set mode refuses negatives: {error}"
    );
    assert_eq!(
        attr(&client, "adjust-save", "disabled").await.as_deref(),
        Some("true")
    );

    amount.clear().await.unwrap();
    amount.send_keys("42").await.unwrap();
    let preview = text_of(&client, "adjust-preview").await;
    assert!(preview.contains("New quantity: 42"), "{preview}");
    screenshot(&client, "adjust-dialog").await;
    click(&client, "adjust-save").await;
    let toast = text_of(&client, "toast").await;
    assert!(
        toast.contains(&format!("{sku}: {} → 42", product.quantity)),
        "{toast}"
    );
    // The demo product has no listings: the toast says so instead of "push queued".
    assert!(
        toast.contains("no listing to push to yet: link one on the product's page"),
        "{toast}"
    );
    let shown = by_testid(&client, &format!("quantity-{sku}"), UI_WAIT)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(shown, "42");
    assert_eq!(seller.api.product(product.id.0).await.quantity.get(), 42);

    client
        .goto(&format!("{}/history", ctx.api.base))
        .await
        .unwrap();
    let message = eventually("the history row for the adjustment", UI_WAIT, || {
        let client = client.clone();
        let sku = sku.clone();
        async move {
            let table = client
                .find(fantoccini::Locator::Css("[data-testid=history-table]"))
                .await
                .ok()?;
            let text = table.text().await.ok()?;
            text.contains(&sku).then_some(text)
        }
    })
    .await;
    assert!(message.contains("No active listings"), "{message}");
    assert!(
        message.contains("Skipped"),
        "the badge says the word: {message}"
    );
    screenshot(&client, "sync-history").await;
    client.close().await.unwrap();
}

async fn a_seller_pages_through_inventory_with_the_page_in_the_url(ctx: Ctx) {
    let seller = take_demo_copy(&ctx.api).await;
    let client = ctx.driver.session().await;
    open_signed_in(&client, &seller, "/").await;
    let range = text_of(&client, "page-range").await;
    assert_eq!(range, "1–25 of 1,200");
    click(&client, "next-page").await;
    let range = eventually("page 2", UI_WAIT, || {
        let client = client.clone();
        async move {
            let text = by_testid(&client, "page-range", UI_WAIT)
                .await
                .text()
                .await
                .ok()?;
            (text == "26–50 of 1,200").then_some(text)
        }
    })
    .await;
    assert_eq!(range, "26–50 of 1,200");
    let url = client.current_url().await.unwrap();
    assert!(url.as_str().ends_with("?page=2&per_page=25"), "{url}");

    client
        .goto(&format!("{}/?page=5&per_page=250", ctx.api.base))
        .await
        .unwrap();
    let range = text_of(&client, "page-range").await;
    assert_eq!(range, "1,001–1,200 of 1,200");
    let rows = client
        .find_all(fantoccini::Locator::Css(
            "[data-testid=inventory-table] tbody tr",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 200);
    client.close().await.unwrap();
}

async fn a_subscriber_turns_on_auto_sync_for_order_imports_after_reading_the_warning(ctx: Ctx) {
    let seller = take_demo_copy(&ctx.api).await;
    let client = ctx.driver.session().await;
    open_signed_in(&client, &seller, "/settings/inventory").await;
    let save = "rules-save";
    assert_eq!(
        attr(&client, save, "disabled").await.as_deref(),
        Some("true"),
        "nothing changed yet"
    );
    click(&client, "rule-order_import").await;
    let warning = text_of(&client, "rules-warning").await;
    assert!(warning.contains("start at quantity 0"), "{warning}");
    screenshot(&client, "auto-sync-rules").await;
    click(&client, save).await;
    let toast = text_of(&client, "toast").await;
    assert!(toast.contains("Auto Sync Rules saved"), "{toast}");
    let stored = seller.api.get("/api/v1/settings/auto-sync-rules").await;
    let on = stored.body["rules"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["created_via"] == "order_import" && r["auto_sync"] == true);
    assert!(on, "saved in D1: {}", stored.body);
    client.refresh().await.unwrap();
    let checked = eventually("the rules to load after reload", UI_WAIT, || {
        let client = client.clone();
        async move {
            by_testid(&client, "rule-order_import", UI_WAIT)
                .await
                .prop("checked")
                .await
                .ok()
                .flatten()
        }
    })
    .await;
    assert_eq!(checked, "true");

    // The wipe guard's share on the same page: a bad value is refused, a good one kept.
    let percent = by_testid(&client, "wipe-guard-percent", UI_WAIT).await;
    percent.clear().await.unwrap();
    percent.send_keys("0").await.unwrap();
    click(&client, "wipe-guard-save").await;
    // The browser holds the form back (the field allows 1–100) and nothing is saved.
    client
        .find(fantoccini::Locator::Css(
            "[data-testid=wipe-guard-percent]:invalid",
        ))
        .await
        .expect("0 is marked invalid");
    assert_eq!(
        seller.api.get("/api/v1/settings/inventory").await.body["wipe_guard_percent"],
        20
    );
    let percent = by_testid(&client, "wipe-guard-percent", UI_WAIT).await;
    percent.clear().await.unwrap();
    percent.send_keys("35").await.unwrap();
    click(&client, "wipe-guard-save").await;
    eventually("the wipe guard saved", UI_WAIT, || async {
        let settings = seller.api.get("/api/v1/settings/inventory").await;
        (settings.body["wipe_guard_percent"] == 35).then_some(())
    })
    .await;
    client.refresh().await.unwrap();
    let shown = eventually("the saved share after a reload", UI_WAIT, || {
        let client = client.clone();
        async move {
            let value = by_testid(&client, "wipe-guard-percent", UI_WAIT)
                .await
                .prop("value")
                .await
                .ok()
                .flatten()?;
            (!value.is_empty()).then_some(value)
        }
    })
    .await;
    assert_eq!(shown, "35");
    client.close().await.unwrap();
}

async fn a_seller_selects_three_rows_and_presses_sync_now(ctx: Ctx) {
    let seller = take_demo_copy(&ctx.api).await;
    let client = ctx.driver.session().await;
    let page = seller.api.products(4, 25).await;
    let chosen: Vec<_> = page.items[..3].to_vec();
    open_signed_in(&client, &seller, "/?page=4&per_page=25").await;
    for p in &chosen {
        by_testid(&client, &format!("select-{}", p.sku), UI_WAIT)
            .await
            .click()
            .await
            .unwrap();
    }
    let count = text_of(&client, "selected-count").await;
    assert_eq!(count, "3 selected on this page");
    screenshot(&client, "bulk-actions").await;
    // Sync Now asks first, saying it turns Auto Sync on.
    click(&client, "bulk-sync-now").await;
    let confirm = text_of(&client, "bulk-sync-now").await;
    assert_eq!(confirm, "Yes: push them now and turn Auto Sync on");
    assert_accessible(&client, "the Sync Now confirmation").await;
    click(&client, "bulk-sync-now").await;
    // The demo products have no listings: the toast says nothing was pushed, not "queued".
    let toast = text_of(&client, "toast").await;
    assert!(
        toast.contains("none of these 3 products has a listing yet, so nothing was pushed")
            && toast.contains("Auto Sync is now on for all 3"),
        "{toast}"
    );
    for p in &chosen {
        let on = eventually("the row to show Auto Sync on", UI_WAIT, || {
            let client = client.clone();
            let testid = format!("auto-sync-{}", p.sku);
            async move {
                attr(&client, &testid, "aria-checked")
                    .await
                    .filter(|v| v == "true")
            }
        })
        .await;
        assert_eq!(on, "true");
        assert!(seller.api.product(p.id.0).await.auto_sync);
    }
    client
        .goto(&format!("{}/history", ctx.api.base))
        .await
        .unwrap();
    let text = eventually("three Sync Now rows in the history", UI_WAIT, || {
        let client = client.clone();
        let skus: Vec<String> = chosen.iter().map(|p| p.sku.to_string()).collect();
        async move {
            let table = client
                .find(fantoccini::Locator::Css("[data-testid=history-table]"))
                .await
                .ok()?;
            let text = table.text().await.ok()?;
            skus.iter()
                .all(|s| text.contains(s.as_str()))
                .then_some(text)
        }
    })
    .await;
    assert!(text.matches("Sync Now").count() >= 3, "{text}");
    client.close().await.unwrap();
}

async fn a_seller_selects_a_whole_page_and_turns_auto_sync_on(ctx: Ctx) {
    let seller = take_demo_copy(&ctx.api).await;
    let before = seller.api.products(3, 250).await;
    let were_off: Vec<i64> = before
        .items
        .iter()
        .filter(|p| !p.auto_sync)
        .map(|p| p.id.0)
        .collect();
    assert!(!were_off.is_empty() && were_off.len() < 250);
    let client = ctx.driver.session().await;
    open_signed_in(&client, &seller, "/?page=3&per_page=250").await;
    click(&client, "select-page").await;
    let count = text_of(&client, "selected-count").await;
    assert_eq!(count, "250 selected on this page");
    click(&client, "bulk-on").await;
    let toast = text_of(&client, "toast").await;
    assert!(
        toast.contains("Auto Sync turned on for 250 products"),
        "{toast}"
    );
    let page = seller.api.products(3, 250).await;
    assert!(page.items.iter().all(|p| p.auto_sync), "all 250 on in D1");
    client.refresh().await.unwrap();
    let first = format!("auto-sync-{}", page.items[0].sku);
    let last = format!("auto-sync-{}", page.items[249].sku);
    assert_eq!(
        attr(&client, &first, "aria-checked").await.as_deref(),
        Some("true")
    );
    assert_eq!(
        attr(&client, &last, "aria-checked").await.as_deref(),
        Some("true")
    );

    // Turning them off again offers Undo, which puts back exactly the rows it changed.
    click(&client, "select-page").await;
    click(&client, "bulk-off").await;
    click(&client, "toast-undo").await;
    eventually("the undo's toast", UI_WAIT, || {
        let client = client.clone();
        async move {
            let toast = text_of(&client, "toast").await;
            toast
                .contains("Undone: Auto Sync is on again for 250 products")
                .then_some(())
        }
    })
    .await;
    assert!(
        seller
            .api
            .products(3, 250)
            .await
            .items
            .iter()
            .all(|p| p.auto_sync),
        "all 250 back on"
    );
    client.close().await.unwrap();
}

async fn a_seller_filters_the_inventory_and_the_filter_lives_in_the_url(ctx: Ctx) {
    let seller = take_demo_copy(&ctx.api).await;
    let client = ctx.driver.session().await;
    open_signed_in(&client, &seller, "/").await;
    let search = by_testid(&client, "filter-q", UI_WAIT).await;
    search.send_keys("SCRF\n").await.unwrap();
    let url = eventually("the search to reach the URL", UI_WAIT, || {
        let client = client.clone();
        async move {
            let url = client.current_url().await.ok()?;
            url.as_str().contains("q=SCRF").then_some(url)
        }
    })
    .await;
    let expected = seller
        .api
        .get("/api/v1/products?q=SCRF")
        .await
        .json::<tally_domain::api::ProductPage>()
        .total;
    let range = eventually("the filtered count", UI_WAIT, || {
        let client = client.clone();
        async move {
            let text = by_testid(&client, "page-range", UI_WAIT)
                .await
                .text()
                .await
                .ok()?;
            text.ends_with(&format!("of {expected}")).then_some(text)
        }
    })
    .await;
    assert!(range.starts_with("1–25"), "{range}");
    let chips = text_of(&client, "filter-chips").await;
    assert!(chips.contains("Search: SCRF"), "{chips}");
    screenshot(&client, "filters").await;

    // The filter is in the URL: a reload shows the same list.
    client.goto(url.as_str()).await.unwrap();
    let again = text_of(&client, "page-range").await;
    assert_eq!(again, range);
    // A quantity range from the filter bar reaches the URL too.
    let to = by_testid(&client, "filter-qty_max", UI_WAIT).await;
    to.send_keys("0\n").await.unwrap();
    let chips = eventually("the out-of-stock chip", UI_WAIT, || {
        let client = client.clone();
        async move {
            let text = by_testid(&client, "filter-chips", UI_WAIT)
                .await
                .text()
                .await
                .ok()?;
            text.contains("Out of stock").then_some(text)
        }
    })
    .await;
    assert!(
        chips.contains("Search: SCRF"),
        "both filters apply: {chips}"
    );
    assert!(client
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains("qty_max=0"));
    click(&client, "clear-filters").await;
    eventually("all products again", UI_WAIT, || {
        let client = client.clone();
        async move {
            let text = by_testid(&client, "page-range", UI_WAIT)
                .await
                .text()
                .await
                .ok()?;
            text.ends_with("of 1,200").then_some(())
        }
    })
    .await;

    // The brand field offers the account's brands.
    let offered = client
        .find_all(fantoccini::Locator::Css(
            "[data-testid=values-brand] option",
        ))
        .await
        .unwrap();
    let mut brands = Vec::new();
    for option in offered {
        brands.push(option.attr("value").await.unwrap().unwrap_or_default());
    }
    assert_eq!(brands, ["Fern & Field", "Harbor Goods", "Northwind"]);

    // Typing is enough: no Enter, no leaving the field. Part of a brand, in any case, finds it.
    by_testid(&client, "filter-brand", UI_WAIT)
        .await
        .send_keys("north")
        .await
        .unwrap();
    let northwind = seller
        .api
        .get("/api/v1/products?brand=Northwind")
        .await
        .json::<tally_domain::api::ProductPage>()
        .total;
    assert!(northwind > 0 && northwind < 1200, "{northwind}");
    eventually("the brand typed to filter the list", UI_WAIT, || {
        let client = client.clone();
        async move {
            let text = by_testid(&client, "page-range", UI_WAIT)
                .await
                .text()
                .await
                .ok()?;
            text.ends_with(&format!("of {northwind}")).then_some(())
        }
    })
    .await;
    let url = client.current_url().await.unwrap();
    assert!(
        url.as_str().contains("brand=north"),
        "the URL follows: {url}"
    );
    client.close().await.unwrap();
}

async fn a_seller_adds_a_product_by_hand(ctx: Ctx) {
    let seller = take_demo_copy(&ctx.api).await;
    let client = ctx.driver.session().await;
    open_signed_in(&client, &seller, "/").await;
    click(&client, "add-product").await;
    by_testid(&client, "new-sku", UI_WAIT)
        .await
        .send_keys("LAMP-1")
        .await
        .unwrap();
    let quantity = by_testid(&client, "new-quantity", UI_WAIT).await;
    quantity.clear().await.unwrap();
    quantity.send_keys("-3").await.unwrap();
    by_testid(&client, "new-name", UI_WAIT)
        .await
        .send_keys("Desk lamp")
        .await
        .unwrap();
    assert_eq!(
        attr(&client, "new-save", "disabled").await.as_deref(),
        Some("true"),
        "a negative quantity cannot be saved"
    );
    quantity.clear().await.unwrap();
    quantity.send_keys("8").await.unwrap();
    click(&client, "new-save").await;
    let toast = text_of(&client, "toast").await;
    assert!(toast.contains("LAMP-1 added with 8 on hand"), "{toast}");
    let found = seller
        .api
        .get("/api/v1/products?q=LAMP-1")
        .await
        .json::<tally_domain::api::ProductPage>();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].quantity.get(), 8);
    assert_eq!(found.items[0].created_via, tally_domain::CreatedVia::Manual);
    client.close().await.unwrap();
}

async fn a_seller_turns_on_auto_sync_for_all_in_a_filter_and_watches_it_finish(ctx: Ctx) {
    let seller = take_demo_copy(&ctx.api).await;
    let client = ctx.driver.session().await;
    let matching = seller
        .api
        .get("/api/v1/products?tag=winter&per_page=250")
        .await
        .json::<tally_domain::api::ProductPage>();
    assert!(
        matching.items.iter().any(|p| !p.auto_sync),
        "some start off"
    );
    open_signed_in(&client, &seller, "/?tag=winter&page=1&per_page=250").await;
    click(&client, "select-page").await;
    let selected = text_of(&client, "selected-count").await;
    assert_eq!(
        selected,
        format!("{} selected on this page", matching.total.min(250))
    );
    click(&client, "all-on").await;
    let confirm = text_of(&client, "confirm-all").await;
    assert!(
        confirm.contains(&format!(
            "Turn Auto Sync on for {} products",
            matching.total
        )),
        "{confirm}"
    );
    assert!(confirm.contains("matching these filters"), "{confirm}");
    click(&client, "confirm-all-yes").await;
    let job = by_testid(&client, "bulk-job", UI_WAIT).await;
    assert!(job.text().await.unwrap().contains("products"));
    let counts = eventually("the job to finish on screen", UI_WAIT, || {
        let client = client.clone();
        async move {
            let job = by_testid(&client, "bulk-job", UI_WAIT).await;
            (job.attr("data-status").await.ok()?? == "finished").then_some(())?;
            by_testid(&client, "bulk-job-counts", UI_WAIT)
                .await
                .text()
                .await
                .ok()
        }
    })
    .await;
    assert_eq!(counts, format!("{0} of {0} products", matching.total));
    screenshot(&client, "bulk-job").await;
    let toast = text_of(&client, "toast").await;
    assert!(
        toast.contains(&format!(
            "Auto Sync turned on for {} products",
            matching.total
        )),
        "{toast}"
    );

    client.refresh().await.unwrap();
    for p in matching.items.iter().take(5) {
        let on = attr(&client, &format!("auto-sync-{}", p.sku), "aria-checked").await;
        assert_eq!(on.as_deref(), Some("true"), "{} after reload", p.sku);
    }
    let after = seller
        .api
        .get("/api/v1/products?tag=winter&auto_sync=off")
        .await;
    assert_eq!(after.body["total"], 0, "every product in the filter is on");
    let outside = seller
        .api
        .get("/api/v1/products?tag=core&auto_sync=off")
        .await;
    assert!(
        outside.body["total"].as_u64().unwrap() > 0,
        "products outside the filter untouched"
    );
    client.close().await.unwrap();
}

async fn a_seller_turns_on_auto_sync_on_the_details_tab_and_sees_the_quantity_history(ctx: Ctx) {
    let seller = take_demo_copy(&ctx.api).await;
    let client = ctx.driver.session().await;
    let page = seller.api.products(5, 25).await;
    let product = page
        .items
        .iter()
        .find(|p| !p.auto_sync)
        .expect("one with Auto Sync off")
        .clone();
    // Two changes before the visit, so the history has a shape.
    for (mode, amount) in [("add", 10), ("add", -4)] {
        assert_eq!(
            seller.api.adjust(product.id.0, mode, amount).await.status,
            200
        );
    }
    open_signed_in(&client, &seller, "/?page=5&per_page=25").await;
    by_testid(&client, &format!("open-{}", product.sku), UI_WAIT)
        .await
        .click()
        .await
        .unwrap();
    let checkbox = by_testid(&client, "details-auto-sync", UI_WAIT).await;
    assert_eq!(
        checkbox.prop("checked").await.unwrap().as_deref(),
        Some("false")
    );
    assert_eq!(
        attr(&client, "details-save", "disabled").await.as_deref(),
        Some("true"),
        "nothing to save yet"
    );
    checkbox.click().await.unwrap();
    click(&client, "details-save").await;
    let toast = text_of(&client, "toast").await;
    assert!(
        toast.contains(&format!("Auto Sync is on for {}", product.sku)),
        "{toast}"
    );
    assert!(
        seller.api.product(product.id.0).await.auto_sync,
        "saved in D1"
    );
    assert_eq!(
        seller.api.history_of(product.id.0).await.total,
        0,
        "saving pushed nothing"
    );

    let rows = client
        .find_all(fantoccini::Locator::Css("[data-testid=ledger-row]"))
        .await
        .unwrap();
    assert_eq!(rows.len(), 2, "two changes in the ledger");
    let newest = rows[0].text().await.unwrap();
    let q = product.quantity.get();
    assert!(
        newest.contains(&format!("{} → {}", q + 10, q + 6)),
        "{newest}"
    );
    // Who made each change: this copy's seller, signed in for the API calls above.
    let by = rows[0]
        .find(fantoccini::Locator::Css("[data-testid=ledger-actor]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(by, seller.email, "the ledger's By column");
    by_testid(&client, "quantity-chart", UI_WAIT).await;
    screenshot(&client, "product-details").await;
    assert_accessible(&client, "a product's page with its ledger and chart").await;

    client.refresh().await.unwrap();
    let again = by_testid(&client, "details-auto-sync", UI_WAIT).await;
    assert_eq!(
        again.prop("checked").await.unwrap().as_deref(),
        Some("true"),
        "after a reload"
    );
    client.close().await.unwrap();
}

async fn a_seller_uploads_a_file_with_an_error_then_a_good_file_and_applies_it(ctx: Ctx) {
    let seller = take_demo_copy(&ctx.api).await;
    let dir = tally_tests::process::TempDir::new("upload");
    let bad = dir.path().join("bad.csv");
    let good = dir.path().join("good.csv");
    std::fs::write(&bad, "sku,quantity\nTEE-0008,5\nTEE-0016,lots\n").unwrap();
    std::fs::write(
        &good,
        "sku,quantity,name\nTEE-0008,41\nUPLOADED-1,6,Uploaded thing\n",
    )
    .unwrap();
    let before = seller
        .api
        .get("/api/v1/products?q=TEE-0008")
        .await
        .json::<tally_domain::api::ProductPage>()
        .items[0]
        .clone();

    let client = ctx.driver.session().await;
    open_signed_in(&client, &seller, "/uploads").await;
    by_testid(&client, "upload-file", UI_WAIT)
        .await
        .send_keys(bad.to_str().unwrap())
        .await
        .unwrap();
    let refused = text_of(&client, "upload-refused").await;
    assert!(refused.contains("nothing was changed"), "{refused}");
    let errors = text_of(&client, "upload-errors").await;
    assert!(
        errors.contains('3') && errors.contains("quantity"),
        "row 3, column quantity: {errors}"
    );
    screenshot(&client, "upload-errors").await;
    assert_eq!(
        seller.api.product(before.id.0).await.quantity,
        before.quantity,
        "nothing applied"
    );

    by_testid(&client, "upload-file", UI_WAIT)
        .await
        .send_keys(good.to_str().unwrap())
        .await
        .unwrap();
    let preview = by_testid(&client, "upload-preview", UI_WAIT).await;
    assert_accessible(&client, "an upload's preview").await;
    assert_eq!(text_of(&client, "to-update").await, "1");
    assert_eq!(text_of(&client, "to-create").await, "1");
    assert_eq!(
        preview.attr("data-status").await.unwrap().as_deref(),
        Some("ready")
    );
    click(&client, "apply-upload").await;
    let toast = text_of(&client, "toast").await;
    assert!(
        toast.contains("File applied: 1 updated, 1 created"),
        "{toast}"
    );
    assert_eq!(seller.api.product(before.id.0).await.quantity.get(), 41);
    let created = seller
        .api
        .get("/api/v1/products?q=UPLOADED-1")
        .await
        .json::<tally_domain::api::ProductPage>();
    assert_eq!(created.items[0].name, "Uploaded thing");
    client.close().await.unwrap();
}

async fn a_large_file_applies_in_the_background_and_a_reload_finds_it(ctx: Ctx) {
    // Its own account: 12,000 new products would crowd the demo seller's other journeys.
    let email = format!("big-file-{}@example.com", std::process::id());
    let password = "a long enough password";
    let (answer, _) = ctx
        .api
        .session_call(
            "/api/v1/auth/signup",
            &serde_json::json!({ "email": email, "password": password, "store_name": "Big File" }),
        )
        .await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let dir = tally_tests::process::TempDir::new("big-upload");
    let file = dir.path().join("big.csv");
    let mut csv = String::from("sku,quantity\n");
    for i in 0..12_000 {
        csv.push_str(&format!("BULK-{i:05},{}\n", i % 9));
    }
    std::fs::write(&file, csv).unwrap();

    let client = ctx.driver.session().await;
    client
        .goto(&format!("{}/uploads", ctx.api.base))
        .await
        .unwrap();
    sign_in(&client, &email, password).await;
    by_testid(&client, "upload-file", UI_WAIT)
        .await
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    assert_eq!(text_of(&client, "to-create").await, "12,000");
    click(&client, "apply-upload").await;
    // Only a file that goes on in the background puts its id in the address.
    let url = eventually("the upload's id in the address", UI_WAIT, || {
        let client = client.clone();
        async move {
            let url = client.current_url().await.ok()?;
            url.as_str().contains("/uploads?upload=").then_some(url)
        }
    })
    .await;
    screenshot(&client, "upload-applying").await;
    let toast = text_of(&client, "toast").await;
    assert!(
        toast.contains("File applied: 0 updated, 12,000 created"),
        "{toast}"
    );

    // Coming back later shows the finished file.
    client.goto(url.as_str()).await.unwrap();
    let preview = by_testid(&client, "upload-preview", UI_WAIT).await;
    assert_eq!(
        preview.attr("data-status").await.unwrap().as_deref(),
        Some("applied")
    );
    assert!(preview.text().await.unwrap().contains("12,000"));
    client.close().await.unwrap();
}

async fn a_seller_enters_an_order_by_hand_and_cancels_it(ctx: Ctx) {
    let seller = take_demo_copy(&ctx.api).await;
    let product = seller
        .api
        .get("/api/v1/products?q=HOOD-0041")
        .await
        .json::<tally_domain::api::ProductPage>()
        .items[0]
        .clone();
    let client = ctx.driver.session().await;
    open_signed_in(&client, &seller, "/orders").await;
    by_testid(&client, "order-id", UI_WAIT)
        .await
        .send_keys("PHONE-1")
        .await
        .unwrap();
    by_testid(&client, "line-sku-0", UI_WAIT)
        .await
        .send_keys("HOOD-0041")
        .await
        .unwrap();
    let qty = by_testid(&client, "line-qty-0", UI_WAIT).await;
    qty.clear().await.unwrap();
    qty.send_keys("2\t").await.unwrap();
    click(&client, "order-save").await;
    let toast = text_of(&client, "toast").await;
    assert!(toast.contains("Order PHONE-1 entered"), "{toast}");
    assert_eq!(
        seller.api.product(product.id.0).await.quantity.get(),
        product.quantity.get() - 2
    );
    let table = text_of(&client, "orders-table").await;
    assert!(
        table.contains("PHONE-1") && table.contains("Placed"),
        "{table}"
    );
    screenshot(&client, "orders").await;
    // The first press asks, saying what it will do; only the second cancels.
    click(&client, "cancel-order").await;
    let asked = text_of(&client, "cancel-order").await;
    assert_eq!(asked, "Yes: cancel it and put 2 back in stock");
    assert_eq!(
        seller.api.product(product.id.0).await.quantity.get(),
        product.quantity.get() - 2,
        "nothing is cancelled on the first press"
    );
    click(&client, "cancel-order").await;
    eventually("the cancellation", UI_WAIT, || {
        let client = client.clone();
        async move {
            let text = by_testid(&client, "orders-table", UI_WAIT)
                .await
                .text()
                .await
                .ok()?;
            text.contains("Cancelled").then_some(())
        }
    })
    .await;
    assert_accessible(&client, "orders with a cancelled order").await;
    assert_eq!(
        seller.api.product(product.id.0).await.quantity,
        product.quantity,
        "units back in stock"
    );

    // A typo'd SKU is asked about before it becomes a product.
    by_testid(&client, "order-id", UI_WAIT)
        .await
        .send_keys("PHONE-2")
        .await
        .unwrap();
    by_testid(&client, "line-sku-0", UI_WAIT)
        .await
        .send_keys("NOPE-999\t")
        .await
        .unwrap();
    click(&client, "order-save").await;
    let asked = text_of(&client, "order-unknown-sku").await;
    assert!(
        asked.contains("NOPE-999 is not in your inventory"),
        "{asked}"
    );
    let none = seller.api.get("/api/v1/products?q=NOPE-999").await;
    assert_eq!(
        none.body["total"], 0,
        "not created before the seller says so"
    );
    assert_accessible(&client, "orders asking about an unknown SKU").await;
    click(&client, "order-create-missing").await;
    eventually("the order's toast", UI_WAIT, || {
        let client = client.clone();
        async move {
            let toast = text_of(&client, "toast").await;
            toast.contains("Order PHONE-2 entered").then_some(())
        }
    })
    .await;
    let made = seller.api.get("/api/v1/products?q=NOPE-999").await;
    assert_eq!(made.body["total"], 1, "{}", made.body);
    client.close().await.unwrap();
}

async fn a_seller_connects_a_storefront_links_a_listing_and_watches_the_push_succeed(ctx: Ctx) {
    // A seller of their own, so the demo account's storefronts stay empty for other tests.
    let (seller, email, password) = own_seller(&ctx.api, "storefronts", "Wool & Co").await;
    let product = product_with_auto_sync(&seller, "WOOL-1", "Wool Scarf", 9).await;
    ctx.sandbox
        .set_items(Kind::Woocommerce, [("7001", 0)])
        .await;
    ctx.sandbox
        .set_traits(
            Kind::Woocommerce,
            serde_json::json!({ "7001": { "sku": "WS-WOOL-1", "title": "Wool scarf, grey" } }),
        )
        .await;

    let client = ctx.driver.session().await;
    client
        .goto(&format!("{}/settings/storefronts", ctx.api.base))
        .await
        .unwrap();
    sign_in(&client, &email, password).await;
    by_testid(&client, "storefronts-empty", UI_WAIT).await;
    click(&client, "storefront-add").await;
    by_testid(&client, "storefront-kind", UI_WAIT)
        .await
        .select_by_value("woocommerce")
        .await
        .unwrap();
    by_testid(&client, "storefront-name", UI_WAIT)
        .await
        .send_keys("Wool shop")
        .await
        .unwrap();
    by_testid(&client, "storefront-base_url", UI_WAIT)
        .await
        .send_keys(&ctx.sandbox.base_url(Kind::Woocommerce))
        .await
        .unwrap();
    // A made-up credential: the storefront is read before saving and refuses it.
    let credential = by_testid(&client, "storefront-credential", UI_WAIT).await;
    credential.send_keys("ck_made_up:cs_made_up").await.unwrap();
    click(&client, "storefront-save").await;
    let refused = eventually("the credential to be refused", UI_WAIT, || {
        let client = client.clone();
        async move {
            let form = text_of(&client, "storefront-form").await;
            form.contains("refused this credential").then_some(form)
        }
    })
    .await;
    assert!(
        refused.contains("WooCommerce refused this credential (HTTP 401)"),
        "{refused}"
    );
    assert_eq!(
        seller.get("/api/v1/storefronts").await.body["storefronts"]
            .as_array()
            .map(Vec::len),
        Some(0),
        "nothing saved"
    );
    credential.clear().await.unwrap();
    credential.send_keys(WOO_KEYS).await.unwrap();
    screenshot(&client, "storefront-form").await;
    click(&client, "storefront-save").await;
    let row = text_of(&client, "storefront-row").await;
    assert!(
        row.contains("Wool shop") && row.contains("WooCommerce") && row.contains("Active"),
        "{row}"
    );
    let page = client.source().await.unwrap();
    assert!(
        !page.contains("cs_browser_secret"),
        "the credential is never shown again"
    );

    client
        .goto(&format!("{}/products/{}", ctx.api.base, product.id))
        .await
        .unwrap();
    by_testid(&client, "listings-empty", UI_WAIT).await;
    // An id the store does not have is refused at the field, before anything is linked.
    let external_id = by_testid(&client, "listing-external-id", UI_WAIT).await;
    external_id.send_keys("7009").await.unwrap();
    click(&client, "listing-link").await;
    let refused = eventually("the wrong id to be refused", UI_WAIT, || {
        let client = client.clone();
        async move {
            let form = text_of(&client, "listing-form").await;
            form.contains("has no").then_some(form)
        }
    })
    .await;
    assert!(
        refused.contains("Wool shop has no Product ID 7009"),
        "{refused}"
    );
    external_id.clear().await.unwrap();
    // The search finds the item by part of its title; Use fills the id and moves on to Link.
    by_testid(&client, "item-search-words", UI_WAIT)
        .await
        .send_keys("scarf")
        .await
        .unwrap();
    click(&client, "item-search-go").await;
    let results = text_of(&client, "item-search-table").await;
    assert!(
        results.contains("WS-WOOL-1") && results.contains("Wool scarf, grey"),
        "{results}"
    );
    assert_accessible(&client, "the link form's search results").await;
    screenshot(&client, "link-search").await;
    click(&client, "item-search-use").await;
    assert_eq!(
        external_id.prop("value").await.unwrap().as_deref(),
        Some("7001")
    );
    assert_eq!(focus(&client, "listing-link").await.0, "listing-link");
    click(&client, "listing-link").await;
    let listing = text_of(&client, "listing-row").await;
    assert!(
        listing.contains("Wool shop") && listing.contains("7001"),
        "{listing}"
    );

    click(&client, "details-adjust").await;
    by_testid(&client, "adjust-amount", UI_WAIT)
        .await
        .send_keys("14")
        .await
        .unwrap();
    click(&client, "adjust-save").await;
    by_testid(&client, "toast", UI_WAIT).await;

    client
        .goto(&format!("{}/history", ctx.api.base))
        .await
        .unwrap();
    let client = &client;
    let status = eventually(
        "the push to show as succeeded",
        Duration::from_secs(30),
        || async move {
            // The page refreshes itself while the push is in flight, so the badge and the
            // row's text are two reads of a changing row: both must say it succeeded.
            let row = by_testid(client, "history-row", UI_WAIT).await;
            let badge = row
                .find(fantoccini::Locator::Css("[data-testid=status-badge]"))
                .await
                .ok()?;
            let class = badge.attr("class").await.ok()??;
            let text = row.text().await.ok()?;
            (text.contains("Wool shop")
                && text.contains("14")
                && text.contains("Succeeded")
                && class.contains("badge-success"))
            .then_some(text)
        },
    )
    .await;
    assert!(
        status.contains("Succeeded") && status.contains("14"),
        "{status}"
    );
    // The health panel counts the push and gives its latency as an upper limit (the rollups
    // know its bucket, not the exact figure).
    let panel = eventually("the health panel to time the push", UI_WAIT, || async {
        let text = text_of(client, "sync-health").await;
        (text.contains("Wool shop") && text.contains("≤ ")).then_some(text)
    })
    .await;
    let pushes: u64 = text_of(client, "health-pushes")
        .await
        .parse()
        .unwrap_or_default();
    assert!(pushes >= 1, "the push is counted: {panel}");
    screenshot(client, "sync-history-succeeded").await;
    assert_accessible(client, "sync history with a push and the health panel").await;
    assert_eq!(
        ctx.sandbox.items(Kind::Woocommerce).await.get("7001"),
        Some(&14)
    );

    // The filters narrow the list: no failures yet, and the push is found by its SKU prefix.
    by_testid(client, "history-status", UI_WAIT)
        .await
        .select_by_value("failed")
        .await
        .unwrap();
    by_testid(client, "history-empty", UI_WAIT).await;
    by_testid(client, "history-status", UI_WAIT)
        .await
        .select_by_value("succeeded")
        .await
        .unwrap();
    let sku = by_testid(client, "history-sku", UI_WAIT).await;
    sku.send_keys("WOOL\n").await.unwrap();
    let row = by_testid(client, "history-row", UI_WAIT)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        row.contains("WOOL-1") && row.contains("Item 7001"),
        "the storefront's own item id: {row}"
    );

    // A full re-sync pushes every listing of the storefront: it asks once, then runs.
    click(client, "drift-resync").await;
    assert_eq!(
        text_of(client, "drift-resync").await,
        "Yes: push every Auto Sync listing again"
    );
    // Long enough for a re-sync the first press had started to be on record.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let drift = seller.get("/api/v1/drift").await;
    assert_eq!(
        drift.body["resyncs"],
        serde_json::json!([]),
        "nothing started on the first press"
    );
    click(client, "drift-resync").await;
    let progress = text_of(client, "resync-progress").await;
    assert!(progress.contains("pushed"), "{progress}");

    // Deactivating the storefront from Settings asks once (it stops every push), then shows
    // it at once.
    client
        .goto(&format!("{}/settings/storefronts", ctx.api.base))
        .await
        .unwrap();
    by_testid(client, "storefront-row", UI_WAIT).await;
    assert_accessible(client, "settings: a connected storefront").await;
    click(client, "storefront-active").await;
    assert_eq!(
        text_of(client, "storefront-active").await,
        "Yes: stop every push to it"
    );
    let row = text_of(client, "storefront-row").await;
    assert!(row.contains("Active"), "not yet: {row}");
    click(client, "storefront-active").await;
    eventually(
        "the storefront to show as inactive",
        UI_WAIT,
        || async move {
            let text = by_testid(client, "storefront-row", UI_WAIT)
                .await
                .text()
                .await
                .ok()?;
            text.contains("Inactive").then_some(())
        },
    )
    .await;
}

/// The main navigation's link that marks itself as the current section.
async fn current_section(client: &fantoccini::Client) -> String {
    client
        .find(fantoccini::Locator::Css("nav.nav a[aria-current=page]"))
        .await
        .expect("one section is current")
        .text()
        .await
        .unwrap()
}

/// Clicks the link that reads `text`, as a seller would.
async fn follow_link(client: &fantoccini::Client, text: &str) {
    client
        .find(fantoccini::Locator::LinkText(text))
        .await
        .unwrap_or_else(|_| panic!("a link that reads {text:?}"))
        .click()
        .await
        .unwrap();
}

/// Whether the page is still the one loaded when `mark_page_load` ran: in-app links and Back
/// change the page without loading the app again.
async fn same_page_load(client: &fantoccini::Client) -> bool {
    client
        .execute("return window.tallyTestMark === true;", vec![])
        .await
        .unwrap()
        .as_bool()
        .unwrap_or(false)
}

async fn mark_page_load(client: &fantoccini::Client) {
    client
        .execute("window.tallyTestMark = true;", vec![])
        .await
        .unwrap();
}

/// The app matches the address to a page itself: a link changes page and address in place,
/// the navigation marks the section, Back returns to the page and query it came from, and
/// unknown addresses or products say so.
async fn the_address_picks_the_page_and_back_returns_to_the_last_one(ctx: Ctx) {
    let seller = take_demo_copy(&ctx.api).await;
    let client = ctx.driver.session().await;
    open_signed_in(&client, &seller, "/?page=2&per_page=25").await;
    by_testid(&client, "inventory-table", UI_WAIT).await;
    assert_eq!(current_section(&client).await, "Inventory");
    mark_page_load(&client).await;
    follow_link(&client, "Orders").await;
    by_testid(&client, "order-form", UI_WAIT).await;
    address_ends_with(&client, "/orders").await;
    assert_eq!(current_section(&client).await, "Orders");
    // A settings tab belongs to the Settings section, and is itself marked among the tabs.
    follow_link(&client, "Settings").await;
    by_testid(&client, "rules-form", UI_WAIT).await;
    follow_link(&client, "API keys").await;
    by_testid(&client, "api-key-create", UI_WAIT).await;
    address_ends_with(&client, "/settings/api-keys").await;
    assert_eq!(current_section(&client).await, "Settings");
    let tab = client
        .find(fantoccini::Locator::Css("nav.tabs a[aria-current=page]"))
        .await
        .expect("the current tab is marked");
    assert_eq!(tab.text().await.unwrap(), "API keys");
    assert!(same_page_load(&client).await, "links move in place");
    // A link to where the seller already is adds no history entry: Back still goes back.
    tab.click().await.unwrap();
    by_testid(&client, "api-key-create", UI_WAIT).await;
    client.back().await.unwrap();
    client.back().await.unwrap();
    client.back().await.unwrap();
    by_testid(&client, "inventory-table", UI_WAIT).await;
    address_ends_with(&client, "/?page=2&per_page=25").await;
    assert_eq!(current_section(&client).await, "Inventory");
    assert!(same_page_load(&client).await, "Back moves in place");
    assert!(
        client
            .find(fantoccini::Locator::Css("[data-testid=order-form]"))
            .await
            .is_err(),
        "the orders page is gone"
    );

    for path in ["/products/not-a-number", "/products/999999999"] {
        client
            .goto(&format!("{}{path}", ctx.api.base))
            .await
            .unwrap();
        by_testid(&client, "product-missing", UI_WAIT).await;
    }
    client
        .goto(&format!("{}/no-such-page", ctx.api.base))
        .await
        .unwrap();
    by_testid(&client, "page-not-found", UI_WAIT).await;

    // /settings is its first tab, in place of the address: Back leaves Settings at once.
    client
        .goto(&format!("{}/settings", ctx.api.base))
        .await
        .unwrap();
    by_testid(&client, "rules-form", UI_WAIT).await;
    address_ends_with(&client, "/settings/inventory").await;
    client.back().await.unwrap();
    by_testid(&client, "page-not-found", UI_WAIT).await;
}

async fn a_sale_on_a_storefront_shows_on_the_orders_page_and_reaches_the_other_storefront(
    ctx: Ctx,
) {
    // A seller of their own with a sandbox of their own: a storefront's orders are one
    // seller's, and polling would rightly read them all.
    let sandbox = Sandbox::start(&[
        (Kind::Shopify, "shpat_browser_sale"),
        (Kind::Woocommerce, WOO_KEYS),
    ])
    .await;
    let (seller, email, password) = own_seller(&ctx.api, "sale", "Fern & Field").await;
    let product = product_with_auto_sync(&seller, "FERN-1", "Fern Planter", 10).await;
    sandbox.set_items(Kind::Shopify, [("9101@1", 0)]).await;
    sandbox.set_items(Kind::Woocommerce, [("9102", 0)]).await;
    for (kind, credential, id, sub) in [
        (Kind::Shopify, "shpat_browser_sale", "9101", Some("1")),
        (Kind::Woocommerce, WOO_KEYS, "9102", None),
    ] {
        let connected = seller
            .send_json(
                "POST",
                "/api/v1/storefronts",
                &serde_json::json!({ "name": format!("Fern {kind}"), "kind": kind.as_str(),
                    "base_url": sandbox.base_url(kind), "credential": credential,
                    "webhook_secret": tally_tests::sandbox::SHOPIFY_APP_SECRET }),
            )
            .await;
        assert_eq!(connected.status, 201, "{}", connected.body);
        let linked = seller
            .send_json(
                "POST",
                &format!("/api/v1/products/{}/listings", product.id),
                &serde_json::json!({ "storefront_id": connected.body["id"],
                    "external_id": id, "external_sub_id": sub }),
            )
            .await;
        assert_eq!(linked.status, 201, "{}", linked.body);
    }
    let sandbox = &sandbox;
    eventually(
        "both storefronts to hold 10",
        Duration::from_secs(30),
        || async move {
            let shopify = sandbox.items(Kind::Shopify).await.get("9101@1") == Some(&10);
            let woo = sandbox.items(Kind::Woocommerce).await.get("9102") == Some(&10);
            (shopify && woo).then_some(())
        },
    )
    .await;

    let client = ctx.driver.session().await;
    client
        .goto(&format!("{}/orders", ctx.api.base))
        .await
        .unwrap();
    sign_in(&client, &email, password).await;
    // Three planters sold on Shopify: its webhook reaches Tally.
    let placed = sandbox
        .place_order(Kind::Shopify, &[("9101@1", "FERN-1", 3)], true)
        .await;
    let client = &client;
    let base = &ctx.api.base;
    let order_id = &placed.order_id;
    let row = eventually(
        "the sale on the Orders page",
        Duration::from_secs(30),
        || async move {
            // The page lists orders as they were when it loaded: look again until it is there.
            client.goto(&format!("{base}/orders")).await.ok()?;
            let row = client
                .wait()
                .at_most(Duration::from_secs(3))
                .for_element(fantoccini::Locator::Css("[data-testid=order-row]"))
                .await
                .ok()?;
            let text = row.text().await.ok()?;
            text.contains(order_id.as_str()).then_some(text)
        },
    )
    .await;
    assert!(
        row.contains("Fern shopify") && row.contains("FERN-1 10→7"),
        "where it came from and what it changed: {row}"
    );
    screenshot(client, "orders-from-storefront").await;

    // The other storefront's push turns green in the sync history.
    let pushed = eventually(
        "WooCommerce's push to succeed",
        Duration::from_secs(30),
        || async move {
            client.goto(&format!("{base}/history")).await.ok()?;
            client
                .wait()
                .at_most(Duration::from_secs(3))
                .for_element(fantoccini::Locator::Css("[data-testid=history-row]"))
                .await
                .ok()?;
            let rows = client
                .find_all(fantoccini::Locator::Css("[data-testid=history-row]"))
                .await
                .ok()?;
            for row in rows {
                let text = row.text().await.ok()?;
                let badge = row
                    .find(fantoccini::Locator::Css("[data-testid=status-badge]"))
                    .await
                    .ok()?;
                let class = badge.attr("class").await.ok()??;
                if text.contains("Fern woocommerce")
                    && text.contains('7')
                    && class.contains("badge-success")
                {
                    return Some(text);
                }
            }
            None
        },
    )
    .await;
    assert!(pushed.contains("Succeeded"), "{pushed}");
    assert_eq!(sandbox.items(Kind::Woocommerce).await.get("9102"), Some(&7));
    client.clone().close().await.unwrap();
}

async fn a_woocommerce_item_left_unmanaged_is_asked_about_once_and_the_yes_lands_the_quantity(
    ctx: Ctx,
) {
    let (seller, email, password) = own_seller(&ctx.api, "unmanaged", "Jam & Jar").await;
    let product = product_with_auto_sync(&seller, "JAM-1", "Fig Jam", 8).await;
    ctx.sandbox
        .set_items(Kind::Woocommerce, [("7201", 0)])
        .await;
    ctx.sandbox
        .set_traits(
            Kind::Woocommerce,
            serde_json::json!({ "7201": { "unmanaged": true } }),
        )
        .await;
    let connected = seller
        .send_json(
            "POST",
            "/api/v1/storefronts",
            &serde_json::json!({ "name": "Jam shop", "kind": "woocommerce",
                "base_url": ctx.sandbox.base_url(Kind::Woocommerce), "credential": WOO_KEYS }),
        )
        .await;
    assert_eq!(connected.status, 201, "{}", connected.body);
    let linked = seller
        .send_json(
            "POST",
            &format!("/api/v1/products/{}/listings", product.id),
            &serde_json::json!({ "storefront_id": connected.body["id"], "external_id": "7201" }),
        )
        .await;
    assert_eq!(linked.status, 201, "{}", linked.body);
    let (seller, pid) = (&seller, product.id.0);
    eventually("the push to fail as unmanaged", UI_WAIT, || async move {
        let page = seller.history_of(pid).await;
        page.items
            .iter()
            .any(|e| {
                e.action
                    .as_deref()
                    .is_some_and(|a| a.contains("Let Tally manage stock"))
            })
            .then_some(())
    })
    .await;

    let client = ctx.driver.session().await;
    client
        .goto(&format!("{}/products/{}", ctx.api.base, product.id))
        .await
        .unwrap();
    sign_in(&client, &email, password).await;
    click(&client, "listing-manage-stock").await;
    let toast = text_of(&client, "toast").await;
    assert!(toast.contains("turns on stock management"), "{toast}");
    let sandbox = &ctx.sandbox;
    eventually("the quantity to land", UI_WAIT, || async move {
        (sandbox.items(Kind::Woocommerce).await.get("7201") == Some(&8)).then_some(())
    })
    .await;
    let client = &client;
    eventually("the question to go once answered", UI_WAIT, || async move {
        client.refresh().await.ok()?;
        let row = by_testid(client, "listing-row", UI_WAIT).await;
        let text = row.text().await.ok()?;
        (!text.contains("Let Tally manage stock") && text.contains('8')).then_some(())
    })
    .await;
    screenshot(client, "listing-stock-managed").await;
}

/// Listing import from Settings › Storefronts: the seller reads an eBay catalogue, sees one
/// item matched and two new in the preview, links them, and the new products exist at eBay's
/// counts. The test starts its own eBay sandbox, so no other journey's items are in it.
async fn a_seller_imports_a_storefronts_listings_from_a_preview(ctx: Ctx) {
    let (seller, email, password) = own_seller(&ctx.api, "import", "Import & Co").await;
    let sandbox = Sandbox::start(&[(Kind::Ebay, "v^1.1#browser_import")]).await;
    sandbox
        .set_items(Kind::Ebay, [("IMPB-1", 4), ("IMPB-2", 6), ("IMPB-3", 0)])
        .await;
    product_with_auto_sync(&seller, "IMPB-1", "Linen towel", 9).await;
    let connected = seller
        .send_json(
            "POST",
            "/api/v1/storefronts",
            &serde_json::json!({ "name": "My eBay", "kind": "ebay",
                "base_url": sandbox.base_url(Kind::Ebay), "credential": "v^1.1#browser_import" }),
        )
        .await;
    assert_eq!(connected.status, 201, "{}", connected.body);

    let client = ctx.driver.session().await;
    client
        .goto(&format!("{}/settings/storefronts", ctx.api.base))
        .await
        .unwrap();
    sign_in(&client, &email, password).await;
    click(&client, "storefront-import").await;
    click(&client, "import-start").await;
    let matched = text_of(&client, "import-count-matched").await;
    assert!(matched.contains('1'), "{matched}");
    let new = text_of(&client, "import-count-new").await;
    assert!(new.contains('2'), "{new}");
    click(&client, "import-tab-new").await;
    let client_ref = &client;
    eventually("the new items to be listed", UI_WAIT, || async move {
        let table = by_testid(client_ref, "import-items", UI_WAIT).await;
        let text = table.text().await.ok()?;
        (text.contains("IMPB-2") && text.contains("IMPB-3") && !text.contains("IMPB-1"))
            .then_some(())
    })
    .await;
    screenshot(&client, "listing-import-preview").await;
    let button = text_of(&client, "import-apply").await;
    assert_eq!(button, "Link 3 listings");
    click(&client, "import-apply").await;
    let applied = text_of(&client, "import-applied").await;
    assert_eq!(
        applied,
        "Linked 3 listings: 1 to your products, 2 new products."
    );
    let page = seller.products(1, 50).await;
    let created = page
        .items
        .iter()
        .find(|p| p.sku.as_str() == "IMPB-2")
        .expect("IMPB-2 created by the import");
    assert_eq!(created.quantity.get(), 6);
    // The table's listing count follows.
    let client_ref = &client;
    eventually(
        "the storefront row to count 3 listings",
        UI_WAIT,
        || async move {
            let cell = by_testid(client_ref, "storefront-listings", UI_WAIT).await;
            (cell.text().await.ok()?.trim() == "3").then_some(())
        },
    )
    .await;
}

/// Drift on Sync history: eBay shows fewer than Tally gives a listing (changed there); the
/// seller checks now, reads the likely cause, presses Fix, and eBay shows Tally's count again.
async fn a_seller_checks_for_drift_and_fixes_the_listing_that_differs(ctx: Ctx) {
    let (seller, email, password) = own_seller(&ctx.api, "drift", "Drift & Co").await;
    let sandbox = Sandbox::start(&[(Kind::Ebay, "v^1.1#browser_drift")]).await;
    sandbox.set_items(Kind::Ebay, [("DRB-1", 0)]).await;
    let product = product_with_auto_sync(&seller, "DRB-1", "Wool socks", 6).await;
    let connected = seller
        .send_json(
            "POST",
            "/api/v1/storefronts",
            &serde_json::json!({ "name": "Socks on eBay", "kind": "ebay",
                "base_url": sandbox.base_url(Kind::Ebay), "credential": "v^1.1#browser_drift" }),
        )
        .await;
    assert_eq!(connected.status, 201, "{}", connected.body);
    let linked = seller
        .send_json(
            "POST",
            &format!("/api/v1/products/{}/listings", product.id),
            &serde_json::json!({ "storefront_id": connected.body["id"], "external_id": "DRB-1" }),
        )
        .await;
    assert_eq!(linked.status, 201, "{}", linked.body);
    let sandbox_ref = &sandbox;
    eventually("the first push to land", UI_WAIT, || async move {
        (sandbox_ref.items(Kind::Ebay).await.get("DRB-1") == Some(&6)).then_some(())
    })
    .await;
    // Someone lowers the count on eBay itself.
    sandbox.set_items(Kind::Ebay, [("DRB-1", 2)]).await;

    let client = ctx.driver.session().await;
    client
        .goto(&format!("{}/history", ctx.api.base))
        .await
        .unwrap();
    sign_in(&client, &email, password).await;
    by_testid(&client, "drift-panel", UI_WAIT).await;
    click(&client, "drift-check").await;
    let row = text_of(&client, "drift-item").await;
    assert!(
        row.contains("DRB-1") && row.contains("shows fewer"),
        "{row}"
    );
    assert_accessible(&client, "the drift panel with a listing that differs").await;
    assert_eq!(text_of(&client, "health-drift").await, "1");
    screenshot(&client, "drift-found").await;
    click(&client, "drift-fix").await;
    let toast = text_of(&client, "toast").await;
    assert!(
        toast.contains("Sending Tally's count to 1 listing"),
        "{toast}"
    );
    eventually("eBay to show Tally's count again", UI_WAIT, || async move {
        (sandbox_ref.items(Kind::Ebay).await.get("DRB-1") == Some(&6)).then_some(())
    })
    .await;
    by_testid(&client, "drift-none", UI_WAIT).await;
}

/// Asserts nothing on the screen is cut off or off the side of the window (see `cut_off`).
async fn assert_fits(client: &fantoccini::Client, screen: &str) {
    let found = cut_off(client).await;
    if !found.is_empty() {
        screenshot(client, &format!("cut-off-{}", screen.replace(' ', "-"))).await;
    }
    assert!(
        found.is_empty(),
        "{screen} does not fit a phone's width:\n{}",
        found.join("\n")
    );
}

/// At 360 px wide (a small phone): every screen on the way fits the window, the top bar's links
/// are behind Menu, and a seller can still reach a row's Adjust (the table scrolls inside its
/// card) and a storefront's Edit.
async fn on_a_phone_a_seller_adjusts_a_quantity_and_edits_a_storefront_through_the_menu(ctx: Ctx) {
    let seller = take_demo_copy(&ctx.api).await;
    let storefront = seller
        .api
        .connect(&serde_json::json!({
            "kind": "woocommerce", "name": "Pocket shop",
            "base_url": ctx.sandbox.base_url(Kind::Woocommerce), "credential": WOO_KEYS,
        }))
        .await;
    let product = seller.api.products(1, 25).await.items[0].clone();
    let sku = product.sku.to_string();
    let client = ctx.driver.phone_session().await;
    client.goto(&format!("{}/", seller.api.base)).await.unwrap();
    by_testid(&client, "auth-form", UI_WAIT).await;
    let width: i64 = client
        .execute("return document.documentElement.clientWidth", vec![])
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert!(
        width <= 360,
        "the page is laid out a phone's width: {width} px"
    );
    assert_fits(&client, "sign in").await;
    sign_in(&client, &seller.email, DEMO_PASSWORD).await;
    by_testid(&client, "inventory-table", UI_WAIT).await;
    assert_fits(&client, "inventory").await;
    assert!(
        !by_testid(&client, "sign-out", UI_WAIT)
            .await
            .is_displayed()
            .await
            .unwrap(),
        "the top bar's links wait behind Menu"
    );
    assert_accessible(&client, "inventory at phone width").await;

    // Adjust is in the table's last column, reached by scrolling the table inside its card.
    click(&client, &format!("adjust-{sku}")).await;
    let amount = by_testid(&client, "adjust-amount", UI_WAIT).await;
    assert_fits(&client, "the adjust dialog").await;
    amount.send_keys("42").await.unwrap();
    click(&client, "adjust-save").await;
    let toast = text_of(&client, "toast").await;
    assert!(
        toast.contains(&format!("{sku}: {} → 42", product.quantity)),
        "{toast}"
    );
    assert_eq!(seller.api.product(product.id.0).await.quantity.get(), 42);

    // Settings through the menu, which folds again once a link is chosen.
    click(&client, "menu-button").await;
    assert_eq!(
        attr(&client, "menu-button", "aria-expanded")
            .await
            .as_deref(),
        Some("true")
    );
    assert_fits(&client, "the open menu").await;
    client
        .find(fantoccini::Locator::LinkText("Settings"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    by_testid(&client, "rules-form", UI_WAIT).await;
    assert_eq!(
        attr(&client, "menu-button", "aria-expanded")
            .await
            .as_deref(),
        Some("false")
    );
    assert_fits(&client, "settings: inventory").await;

    client
        .goto(&format!("{}/settings/storefronts", seller.api.base))
        .await
        .unwrap();
    by_testid(&client, "storefront-row", UI_WAIT).await;
    assert_fits(&client, "settings: storefronts").await;
    click(&client, "storefront-edit").await;
    let name = by_testid(&client, "storefront-name", UI_WAIT).await;
    assert_fits(&client, "the storefront form").await;
    name.clear().await.unwrap();
    name.send_keys("Pocket shop EU").await.unwrap();
    click(&client, "storefront-save").await;
    let toast = text_of(&client, "toast").await;
    assert!(toast.contains("Pocket shop EU saved"), "{toast}");
    let row = text_of(&client, "storefront-row").await;
    assert!(row.contains("Pocket shop EU"), "{row}");
    let stored: tally_domain::api::Storefront = seller
        .api
        .get(&format!("/api/v1/storefronts/{}", storefront.id))
        .await
        .json();
    assert_eq!(stored.name, "Pocket shop EU");
    screenshot(&client, "phone-storefronts").await;

    for (path, drawn, screen) in [
        (
            format!("/products/{}", product.id.0),
            "details-auto-sync",
            "a product's page",
        ),
        ("/uploads".to_owned(), "upload-file", "upload"),
        ("/orders".to_owned(), "order-form", "orders"),
        ("/history".to_owned(), "history-table", "sync history"),
        (
            "/settings/api-keys".to_owned(),
            "api-key-create",
            "settings: API keys",
        ),
    ] {
        client
            .goto(&format!("{}{path}", seller.api.base))
            .await
            .unwrap();
        by_testid(&client, drawn, UI_WAIT).await;
        assert_fits(&client, screen).await;
    }
    client.close().await.unwrap();
}

/// Where keyboard focus is: the focused element's `data-testid` (else its tag), and whether it
/// is inside the element with `data-testid=within`.
async fn focus(client: &fantoccini::Client, within: &str) -> (String, bool) {
    let found = client
        .execute(
            "const a = document.activeElement; \
             return [a.dataset.testid || a.tagName.toLowerCase(), \
                     a.closest(`[data-testid=${arguments[0]}]`) !== null];",
            vec![serde_json::json!(within)],
        )
        .await
        .expect("the focus check runs");
    serde_json::from_value(found).expect("a name and a flag")
}

/// Presses `key` on whatever has focus.
async fn press(client: &fantoccini::Client, key: fantoccini::key::Key) {
    client
        .active_element()
        .await
        .unwrap()
        .send_keys(&char::from(key).to_string())
        .await
        .unwrap();
}

/// A keyboard user: the dialog takes focus (its amount field), Tab goes round inside it and
/// never reaches the page behind, Esc closes it and focus is back on the row's Adjust; Enter
/// there opens it again, and saving with Enter also gives focus back to Adjust.
async fn the_adjust_dialog_takes_focus_keeps_tab_inside_and_gives_focus_back(ctx: Ctx) {
    use fantoccini::key::Key;
    let seller = take_demo_copy(&ctx.api).await;
    let product = seller.api.products(1, 25).await.items[3].clone();
    let sku = product.sku.to_string();
    let adjust = format!("adjust-{sku}");
    let client = ctx.driver.session().await;
    open_signed_in(&client, &seller, "/").await;
    click(&client, &adjust).await;
    by_testid(&client, "adjust-amount", UI_WAIT).await;
    assert_eq!(
        focus(&client, "adjust-dialog").await,
        ("adjust-amount".to_owned(), true),
        "focus moves into the dialog, to the amount"
    );
    press(&client, Key::Tab).await;
    // Round the dialog twice over: every stop is inside it (or, between rounds, the browser's
    // own toolbar, which a headless window reports as the page's body).
    let mut stops = Vec::new();
    for _ in 0..16 {
        press(&client, Key::Tab).await;
        let (name, inside) = focus(&client, "adjust-dialog").await;
        assert!(
            inside || name == "body",
            "Tab left the dialog for {name}; stops so far: {stops:?}"
        );
        stops.push(name);
    }
    assert!(
        stops.iter().filter(|s| *s == "adjust-amount").count() >= 2,
        "Tab comes round to the amount again: {stops:?}"
    );

    press(&client, Key::Escape).await;
    eventually("the dialog to close on Esc", UI_WAIT, || {
        let client = client.clone();
        async move {
            let gone = client
                .find(fantoccini::Locator::Css("[data-testid=adjust-dialog]"))
                .await
                .is_err();
            gone.then_some(())
        }
    })
    .await;
    assert_eq!(
        focus(&client, "inventory-table").await,
        (adjust.clone(), true),
        "Esc gives focus back to the row's Adjust"
    );

    press(&client, Key::Enter).await;
    by_testid(&client, "adjust-amount", UI_WAIT).await;
    assert_eq!(focus(&client, "adjust-dialog").await.0, "adjust-amount");
    press(&client, Key::Backspace).await;
    client
        .active_element()
        .await
        .unwrap()
        .send_keys("7\n")
        .await
        .unwrap();
    let toast = text_of(&client, "toast").await;
    assert!(
        toast.contains(&format!("{sku}: {} → 7", product.quantity)),
        "{toast}"
    );
    assert_eq!(
        focus(&client, "inventory-table").await,
        (adjust, true),
        "saving gives focus back to the row's Adjust"
    );
    assert_eq!(seller.api.product(product.id.0).await.quantity.get(), 7);
    client.close().await.unwrap();
}

/// A product's page: Edit details renames it (SKU and name), Sync Now asks once and then says
/// what it did, Sync history opens that product's pushes only; Archive asks once, hides it
/// from the inventory (found again under Products: Archived) and Unarchive brings it back.
async fn a_seller_renames_a_product_archives_it_finds_it_among_archived_and_brings_it_back(
    ctx: Ctx,
) {
    let seller = take_demo_copy(&ctx.api).await;
    let product = seller.api.products(1, 25).await.items[5].clone();
    let client = ctx.driver.session().await;
    let page = format!("/products/{}", product.id.0);
    open_signed_in(&client, &seller, &page).await;
    click(&client, "details-edit").await;
    let sku = by_testid(&client, "edit-sku", UI_WAIT).await;
    assert_eq!(
        sku.prop("value").await.unwrap().as_deref(),
        Some(product.sku.to_string().as_str()),
        "the form starts from the product"
    );
    sku.clear().await.unwrap();
    sku.send_keys("RENAMED-1").await.unwrap();
    let name = by_testid(&client, "edit-name", UI_WAIT).await;
    name.clear().await.unwrap();
    name.send_keys("Renamed tote").await.unwrap();
    assert_accessible(&client, "the edit dialog").await;
    click(&client, "edit-save").await;
    let toast = text_of(&client, "toast").await;
    assert!(toast.contains("RENAMED-1 saved"), "{toast}");
    eventually("the page to show the new name", UI_WAIT, || {
        let client = client.clone();
        async move {
            let h1 = client.find(fantoccini::Locator::Css("h1")).await.ok()?;
            (h1.text().await.ok()? == "Renamed tote").then_some(())
        }
    })
    .await;
    let stored = seller.api.product(product.id.0).await;
    assert_eq!(
        (stored.sku.to_string().as_str(), stored.name.as_str()),
        ("RENAMED-1", "Renamed tote")
    );
    assert_eq!(
        focus(&client, "details-edit").await,
        ("details-edit".to_owned(), true),
        "saving gives focus back to Edit details"
    );

    // Sync Now asks first (it turns Auto Sync on), then reports what really happened.
    click(&client, "details-sync-now").await;
    assert_eq!(
        text_of(&client, "details-sync-now").await,
        "Yes: push it now and turn Auto Sync on"
    );
    click(&client, "details-sync-now").await;
    let toast = eventually("Sync Now's report", UI_WAIT, || {
        let client = client.clone();
        async move {
            let text = client
                .find(fantoccini::Locator::Css("[data-testid=toast]"))
                .await
                .ok()?
                .text()
                .await
                .ok()?;
            (!text.contains("saved")).then_some(text)
        }
    })
    .await;
    assert!(
        toast.contains("no listing"),
        "the demo product has none: {toast}"
    );
    assert!(seller.api.product(product.id.0).await.auto_sync);
    assert_eq!(
        focus(&client, "details-sync-now").await,
        ("details-sync-now".to_owned(), true),
        "the page is updated in place, so focus stays on Sync Now"
    );
    click(&client, "details-history").await;
    by_testid(&client, "history-one-product", UI_WAIT).await;
    let rows = text_of(&client, "history-table").await;
    assert!(rows.contains("RENAMED-1"), "{rows}");
    for link in client
        .find_all(fantoccini::Locator::Css("[data-testid=history-product]"))
        .await
        .unwrap()
    {
        assert_eq!(link.text().await.unwrap(), "RENAMED-1", "this product only");
    }

    // Archive asks once; then the product is out of the inventory until brought back.
    client
        .goto(&format!("{}{page}", seller.api.base))
        .await
        .unwrap();
    click(&client, "details-archive").await;
    assert_eq!(
        text_of(&client, "details-archive").await,
        "Yes: archive it and turn Auto Sync off"
    );
    click(&client, "details-archive").await;
    shown(&client, "details-archived", true).await;
    focused(
        &client,
        "details-unarchive",
        "focus moves to Unarchive, which takes it back",
    )
    .await;
    let archived = seller.api.product(product.id.0).await;
    assert!(archived.archived && !archived.auto_sync);
    client
        .goto(&format!("{}/?q=RENAMED", seller.api.base))
        .await
        .unwrap();
    by_testid(&client, "inventory-no-match", UI_WAIT).await;
    by_testid(&client, "filter-archived", UI_WAIT)
        .await
        .select_by_value("only")
        .await
        .unwrap();
    let link = format!("a[href='/products/{}']", product.id.0);
    eventually(
        "the archived product under Products: Archived",
        UI_WAIT,
        || {
            let client = client.clone();
            let link = link.clone();
            async move { client.find(fantoccini::Locator::Css(&link)).await.ok() }
        },
    )
    .await
    .click()
    .await
    .unwrap();
    click(&client, "details-unarchive").await;
    let toast = text_of(&client, "toast").await;
    assert!(
        toast.contains("RENAMED-1 is back in the inventory"),
        "{toast}"
    );
    shown(&client, "details-archived", false).await;
    focused(&client, "details-archive", "focus moves back to Archive").await;
    assert!(!seller.api.product(product.id.0).await.archived);
    client.close().await.unwrap();
}

/// Waits until the element `testid` is shown (`true`) or hidden.
async fn shown(client: &fantoccini::Client, testid: &str, wanted: bool) {
    let what = format!("{testid} to be {}", if wanted { "shown" } else { "hidden" });
    eventually(&what, UI_WAIT, || {
        let client = client.clone();
        async move {
            let element = by_testid(&client, testid, UI_WAIT).await;
            (element.is_displayed().await.ok()? == wanted).then_some(())
        }
    })
    .await;
}

/// Waits until focus is on `testid` (`why` says why it should be).
async fn focused(client: &fantoccini::Client, testid: &str, why: &str) {
    eventually(&format!("focus on {testid} ({why})"), UI_WAIT, || {
        let client = client.clone();
        async move { (focus(&client, testid).await.0 == testid).then_some(()) }
    })
    .await;
}

/// Sync Now on three products: one listed on an item the store has, one on an item it no
/// longer has, one not listed. The toast follows the pushes and ends with what happened, not
/// what was asked; its link opens the failed pushes.
async fn sync_now_says_what_was_pushed_once_the_pushes_land_and_links_to_what_failed(ctx: Ctx) {
    let (seller, email, password) = own_seller(&ctx.api, "syncnow", "Sync Now Shop").await;
    let listed = product_with_auto_sync(&seller, "SN-LISTED", "Listed jug", 4).await;
    let gone = product_with_auto_sync(&seller, "SN-GONE", "Gone jug", 5).await;
    product_with_auto_sync(&seller, "SN-LONE", "Lone jug", 6).await;
    ctx.sandbox
        .set_items(Kind::Woocommerce, [("7601", 0)])
        .await;
    let storefront = seller
        .connect(&serde_json::json!({
            "kind": "woocommerce", "name": "Jug shop",
            "base_url": ctx.sandbox.base_url(Kind::Woocommerce),
            "credential": WOO_KEYS,
        }))
        .await;
    seller.link(&listed, storefront.id, "7601", None).await;
    seller.link(&gone, storefront.id, "7699", None).await;
    // The pushes linking made land first, so Sync Now's are the only ones in flight.
    eventually(
        "the linking pushes to land",
        Duration::from_secs(30),
        || {
            let (seller, sandbox) = (seller.clone(), ctx.sandbox.clone());
            async move {
                let failed = seller
                    .history_of(gone.id.0)
                    .await
                    .items
                    .iter()
                    .any(|h| h.status == tally_domain::sync::SyncStatus::Failed);
                let shown = sandbox.items(Kind::Woocommerce).await.get("7601") == Some(&4);
                (failed && shown).then_some(())
            }
        },
    )
    .await;

    let client = ctx.driver.session().await;
    client
        .goto(&format!("{}/?q=SN-", ctx.api.base))
        .await
        .unwrap();
    sign_in(&client, &email, password).await;
    for sku in ["SN-LISTED", "SN-GONE", "SN-LONE"] {
        click(&client, &format!("select-{sku}")).await;
    }
    click(&client, "bulk-sync-now").await;
    click(&client, "bulk-sync-now").await;
    let toast = eventually("Sync Now's outcome", Duration::from_secs(30), || {
        let client = client.clone();
        async move {
            let toast = client
                .find(fantoccini::Locator::Css("[data-testid=toast]"))
                .await
                .ok()?;
            let text = toast.text().await.ok()?;
            // The first words are what was asked ("pushing 2 products"); the last, what happened.
            (text.contains("Auto Sync is now on for all 3") && !text.contains("pushing"))
                .then_some(text)
        }
    })
    .await;
    assert!(
        toast.contains("1 product pushed to 1 listing; 1 failed on 1 listing (Sync history says why); 1 with no listing yet got nothing"),
        "{toast}"
    );
    assert_accessible(&client, "Sync Now's outcome").await;
    let link = by_testid(&client, "toast-link", UI_WAIT).await;
    assert_eq!(link.text().await.unwrap(), "See what failed");
    link.click().await.unwrap();
    address_ends_with(&client, "/history?status=failed").await;
    let status = by_testid(&client, "history-status", UI_WAIT).await;
    assert_eq!(
        status.prop("value").await.unwrap().as_deref(),
        Some("failed")
    );
    let rows = eventually("the failed push in the history", UI_WAIT, || {
        let client = client.clone();
        async move {
            let rows = text_of(&client, "history-table").await;
            rows.contains("SN-GONE").then_some(rows)
        }
    })
    .await;
    assert!(!rows.contains("SN-LISTED"), "failed pushes only: {rows}");
    client.close().await.unwrap();
}

/// A connection whose credential the storefront refuses (saved through the API without a
/// check): its push fails, the top bar says so on every page and links to the storefronts,
/// whose row shows Failing with what the push said. A right credential saved in the form
/// pushes again, and the row is Active.
async fn a_failing_connection_shows_in_the_top_bar_and_on_its_row_until_fixed(ctx: Ctx) {
    let (seller, email, password) = own_seller(&ctx.api, "failing", "Fail & Fix").await;
    let product = product_with_auto_sync(&seller, "FAIL-1", "Failing Mug", 6).await;
    ctx.sandbox
        .set_items(Kind::Woocommerce, [("7301", 0)])
        .await;
    let storefront = seller
        .connect(&serde_json::json!({
            "kind": "woocommerce", "name": "Broken keys",
            "base_url": ctx.sandbox.base_url(Kind::Woocommerce),
            "credential": "ck_revoked:cs_revoked",
        }))
        .await;
    seller.link(&product, storefront.id, "7301", None).await;
    eventually("the push to fail", Duration::from_secs(30), || {
        let seller = seller.clone();
        async move {
            let page = seller.history_of(product.id.0).await;
            page.items
                .iter()
                .any(|h| h.status == tally_domain::sync::SyncStatus::Failed)
                .then_some(())
        }
    })
    .await;

    let client = ctx.driver.session().await;
    client
        .goto(&format!("{}/orders", ctx.api.base))
        .await
        .unwrap();
    sign_in(&client, &email, password).await;
    let alert = text_of(&client, "failing-connections").await;
    assert_eq!(alert, "1 storefront failing");
    click(&client, "failing-connections").await;
    let status = text_of(&client, "storefront-status").await;
    assert!(status.contains("Failing"), "{status}");
    assert!(
        status.to_lowercase().contains("credential"),
        "what to do: {status}"
    );
    assert_accessible(&client, "settings: a failing storefront").await;

    // The history row's fix is two links away from done.
    client
        .goto(&format!("{}/history", ctx.api.base))
        .await
        .unwrap();
    let fixes: Vec<(String, Option<String>)> = {
        by_testid(&client, "history-fix", UI_WAIT).await;
        let mut found = Vec::new();
        for link in client
            .find_all(fantoccini::Locator::Css("[data-testid=history-fix]"))
            .await
            .unwrap()
        {
            found.push((link.text().await.unwrap(), link.attr("href").await.unwrap()));
        }
        found
    };
    assert!(
        fixes.contains(&(
            "Open Settings › Storefronts".to_owned(),
            Some("/settings/storefronts".to_owned())
        )) && fixes.contains(&(
            "Open the product".to_owned(),
            Some(format!("/products/{}", product.id.0))
        )),
        "{fixes:?}"
    );

    // The inventory says it too, and "Not synced" finds the product.
    client
        .goto(&format!("{}/?synced=no", ctx.api.base))
        .await
        .unwrap();
    let cell = text_of(&client, "sync-FAIL-1").await;
    assert!(
        cell.contains("1 listing") && cell.contains("Failing"),
        "{cell}"
    );
    let chips = text_of(&client, "filter-chips").await;
    assert!(chips.contains("Not synced"), "{chips}");
    client
        .goto(&format!("{}/settings/storefronts", ctx.api.base))
        .await
        .unwrap();
    click(&client, "storefront-edit").await;
    by_testid(&client, "storefront-credential", UI_WAIT)
        .await
        .send_keys(WOO_KEYS)
        .await
        .unwrap();
    click(&client, "storefront-save").await;
    eventually("the storefront at 6 again", Duration::from_secs(30), || {
        let sandbox = ctx.sandbox.clone();
        async move {
            let items = sandbox.items(Kind::Woocommerce).await;
            (items.get("7301").copied() == Some(6)).then_some(())
        }
    })
    .await;
    eventually("the row to be Active again", UI_WAIT, || {
        let client = client.clone();
        async move {
            client.refresh().await.ok()?;
            let status = text_of(&client, "storefront-status").await;
            (status.contains("Active")).then_some(())
        }
    })
    .await;
    assert!(
        client
            .find(fantoccini::Locator::Css(
                "[data-testid=failing-connections]"
            ))
            .await
            .is_err(),
        "the top bar has nothing to say"
    );
    client.close().await.unwrap();
}

/// The setup checklist's "n of 4 done", read after a reload.
async fn setup_progress(client: &fantoccini::Client) -> String {
    client.refresh().await.unwrap();
    by_testid(client, "inventory-table", UI_WAIT).await;
    text_of(client, "setup-progress").await
}

/// A new account's inventory shows the four first steps, each with the link that does it,
/// and ticks them off as they are done; the last one (Auto Sync on, from the list) ends it.
async fn a_new_seller_follows_the_first_run_checklist_to_the_end(ctx: Ctx) {
    let (seller, email, password) = own_seller(&ctx.api, "first-run", "First Run Goods").await;
    let client = ctx.driver.session().await;
    client.goto(&format!("{}/", ctx.api.base)).await.unwrap();
    sign_in(&client, &email, password).await;
    let empty = text_of(&client, "inventory-empty").await;
    assert!(
        empty.contains("Upload an inventory file") && empty.contains("connect a storefront"),
        "{empty}"
    );
    assert_eq!(text_of(&client, "setup-progress").await, "0 of 4 done");
    let first = by_testid(&client, "setup-step", UI_WAIT).await;
    let link = first
        .find(fantoccini::Locator::Css("a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap();
    assert_eq!(link.as_deref(), Some("/settings/storefronts"));
    assert_accessible(&client, "the first-run checklist").await;

    let product = seller
        .send_json(
            "POST",
            "/api/v1/products",
            &serde_json::json!({ "sku": "FIRST-1", "name": "First thing", "quantity": 3 }),
        )
        .await
        .json::<tally_domain::api::Product>();
    let storefront = seller
        .connect(&serde_json::json!({
            "kind": "woocommerce", "name": "First shop",
            "base_url": ctx.sandbox.base_url(Kind::Woocommerce), "credential": WOO_KEYS,
        }))
        .await;
    assert_eq!(setup_progress(&client).await, "2 of 4 done");
    ctx.sandbox
        .set_items(Kind::Woocommerce, [("7401", 0)])
        .await;
    seller.link(&product, storefront.id, "7401", None).await;
    assert_eq!(setup_progress(&client).await, "3 of 4 done");

    click(&client, "auto-sync-FIRST-1").await;
    by_testid(&client, "toast", UI_WAIT).await;
    client.refresh().await.unwrap();
    by_testid(&client, "inventory-table", UI_WAIT).await;
    assert!(
        client
            .find(fantoccini::Locator::Css("[data-testid=setup-checklist]"))
            .await
            .is_err(),
        "all four done: the checklist is gone"
    );
    client.close().await.unwrap();
}
