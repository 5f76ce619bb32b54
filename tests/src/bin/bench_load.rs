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
use tally_tests::client::{Api, DEMO_EMAIL, DEMO_PASSWORD};
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
        let session = session_cookie(&worker.base_url).await;
        println!("First load: navigation → {ROWS}-row inventory page drawn ({VISITS} visits each)");
        // Cold: a new browser profile each visit (nothing cached), signed in by its cookie.
        let mut cold = Vec::new();
        for _ in 0..VISITS {
            let client = driver.session().await;
            // On the origin without loading the SPA, so the cookie can be set for it.
            client
                .goto(&format!("{}/api/v1/health", worker.base_url))
                .await
                .expect("the worker answers");
            client
                .add_cookie(session.clone())
                .await
                .expect("the session cookie is set");
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

/// The demo seller's session cookie, from signing in through the API.
async fn session_cookie(base: &str) -> fantoccini::cookies::Cookie<'static> {
    let (answer, cookie) = Api::new(base)
        .session_call(
            "/api/v1/auth/login",
            &serde_json::json!({ "email": DEMO_EMAIL, "password": DEMO_PASSWORD }),
        )
        .await;
    assert_eq!(answer.status, 200, "sign-in failed: {}", answer.body);
    let header = cookie.expect("sign-in sets the session cookie");
    fantoccini::cookies::Cookie::parse(header).expect("a readable Set-Cookie")
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
