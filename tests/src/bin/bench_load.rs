//! `scripts/bench.sh`: a seller's first load, measured in headless Chromium against the real
//! worker under `wrangler dev`. Prints figures; asserts nothing about speed.
//!
//! The time runs from the start of navigation (the page's own clock, `performance.now()`) to
//! the moment the inventory table shows 250 rows, for a signed-in seller opening
//! `/?page=1&per_page=250`: the HTML, the SPA's JS and wasm, the session check and the first
//! page of products, drawn. A cold browser cache (a new profile per visit) and a warm one (the
//! same profile again) are both printed.

use fantoccini::wd::TimeoutConfiguration;
use std::time::Duration;
use tally_tests::browser::{by_testid, sign_in, Chromedriver, UI_WAIT};
use tally_tests::client::{DEMO_EMAIL, DEMO_PASSWORD};
use tally_tests::worker::TestWorker;

const VISITS: usize = 7;
const ROWS: usize = 250;

/// Resolves with `performance.now()` once the inventory table has `rows` rows, watching the
/// page's DOM from inside so WebDriver's round trips never count.
const WAIT_FOR_ROWS: &str = r#"
const [rows, done] = [arguments[0], arguments[arguments.length - 1]];
const count = () => document.querySelectorAll('[data-testid=inventory-table] tbody tr').length;
if (count() >= rows) { done(performance.now()); return; }
const observer = new MutationObserver(() => {
  if (count() >= rows) { observer.disconnect(); done(performance.now()); }
});
observer.observe(document.body, { childList: true, subtree: true });
"#;

fn main() {
    let worker = TestWorker::start();
    let driver = Chromedriver::start();
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    rt.block_on(async {
        let url = format!("{}/?page=1&per_page={ROWS}", worker.base_url);
        println!("First load: navigation → {ROWS}-row inventory page drawn ({VISITS} visits each)");
        // Cold: a new browser profile each visit (nothing cached), signed in without the app.
        let mut cold = Vec::new();
        for _ in 0..VISITS {
            let client = driver.session().await;
            sign_in_without_the_app(&client, &worker.base_url).await;
            cold.push(first_load(&client, &url).await);
            client.close().await.ok();
        }
        // Warm: the same profile again, as a seller's next visit is.
        let client = driver.session().await;
        client.goto(&url).await.expect("the page opens");
        sign_in(&client, DEMO_EMAIL, DEMO_PASSWORD).await;
        by_testid(&client, "inventory-table", UI_WAIT).await;
        let mut warm = Vec::new();
        for _ in 0..VISITS {
            warm.push(first_load(&client, &url).await);
        }
        client.close().await.ok();
        report("cold cache (new profile)", &mut cold);
        report("warm cache (same profile)", &mut warm);
    });
    drop(driver);
    drop(worker);
}

/// Signs the browser in as the demo seller from a page of the worker's that is not the SPA
/// (its health answer), so the SPA's files stay out of the browser's cache.
async fn sign_in_without_the_app(client: &fantoccini::Client, base: &str) {
    client
        .goto(&format!("{base}/api/v1/health"))
        .await
        .expect("the worker answers");
    let status = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
               fetch('/api/v1/auth/login', {
                 method: 'POST',
                 headers: { 'content-type': 'application/json' },
                 body: JSON.stringify({ email: arguments[0], password: arguments[1] }),
               }).then(r => done(r.status), e => done(String(e)));"#,
            vec![
                serde_json::json!(DEMO_EMAIL),
                serde_json::json!(DEMO_PASSWORD),
            ],
        )
        .await
        .expect("the sign-in request runs");
    assert_eq!(status, serde_json::json!(200), "signing in failed");
}

/// Opens `url` and returns the milliseconds from navigation to the drawn rows.
async fn first_load(client: &fantoccini::Client, url: &str) -> f64 {
    client.goto(url).await.expect("the page opens");
    let script_timeout = TimeoutConfiguration::new(Some(Duration::from_secs(30)), None, None);
    client
        .update_timeouts(script_timeout)
        .await
        .expect("script timeout set");
    let value = client
        .execute_async(WAIT_FOR_ROWS, vec![serde_json::json!(ROWS)])
        .await
        .expect("the rows appear");
    value.as_f64().expect("a time in milliseconds")
}

fn report(what: &str, times: &mut [f64]) {
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!(
        "  {what:<28} median {median:>6.0} ms   best {:>6.0} ms   worst {:>6.0} ms",
        times[0],
        times[times.len() - 1]
    );
}
