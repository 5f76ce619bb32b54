//! `scripts/bench.sh`: the figures in the README, measured on the real worker under
//! `wrangler dev` (local D1/KV/Queues). Prints figures; asserts nothing about speed.
//!
//! 1. An inventory file of 100,000 rows: upload (check + stage) and apply (a background job),
//!    wall time, and the peak resident memory of the worker runtime (workerd) while it ran.
//! 2. "Turn on Auto Sync for all in filter" over 100,000 products, next to a raw `sqlite3`
//!    UPDATE of the same rows on the same machine.
//! 3. Pushes at file scale: with Auto Sync on for all 100,000 and each listed on a sandbox
//!    WooCommerce, a second 100,000-row file that changes every quantity; the time from
//!    applying it until the storefront holds every quantity in the file, and the calls it took.

use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant};
use tally_tests::client::{Api, DEMO_PASSWORD};
use tally_tests::process::TempDir;
use tally_tests::sandbox::{Kind, Sandbox};
use tally_tests::worker::TestWorker;

const PRODUCTS: u32 = 100_000;

/// The longest a 100,000-row file may take to apply before the bench gives up.
const FILE_WAIT: Duration = Duration::from_secs(600);

fn main() {
    let worker = TestWorker::start();
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    rt.block_on(run(&worker));
}

/// SQL that creates account 90 (clear of the tests' fixtures) with `PRODUCTS` products (half of them brand "Even").
fn fixture_sql() -> String {
    format!(
        "INSERT OR IGNORE INTO accounts (id, name, plan, created_at) VALUES (90, 'Bench', 'subscriber', 0);
         INSERT OR IGNORE INTO users (id, account_id, email, password_hash, created_at)
           SELECT 90, 90, 'bench@tally.example', password_hash, 0 FROM users WHERE id = 1;
         INSERT OR IGNORE INTO products (account_id, sku, name, quantity, auto_sync, created_via, version, created_at, updated_at, brand)
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {PRODUCTS})
         SELECT 90, printf('B-%06d', i), printf('Bench item %d', i), i % 90, 0, 'manual', 1, 0, 0,
                CASE WHEN i % 2 = 0 THEN 'Even' ELSE 'Odd' END FROM n;"
    )
}

/// SQL that lists every bench product on WooCommerce connection `storefront` as item number
/// n for SKU `B-n` (already managing its stock, as a listing import would leave it).
fn listings_sql(storefront: i64) -> String {
    format!(
        "INSERT INTO listings (account_id, product_id, storefront_id, active, created_at, external_id, manage_stock)
         SELECT 90, id, {storefront}, 1, 0, CAST(CAST(substr(sku, 3) AS INTEGER) AS TEXT), 1
         FROM products WHERE account_id = 90;"
    )
}

fn load_fixture(worker: &TestWorker, dir: &TempDir) {
    execute_sql(worker, dir, &fixture_sql());
}

/// Runs `sql` on the worker's local D1 with `wrangler d1 execute`.
fn execute_sql(worker: &TestWorker, dir: &TempDir, sql: &str) {
    let file = dir.path().join("bench.sql");
    std::fs::write(&file, sql).expect("write the fixture");
    let status = Command::new(tally_tests::repo_root().join("node_modules/.bin/wrangler"))
        .current_dir(tally_tests::repo_root().join("edge"))
        .args(["d1", "execute", "tally", "--local", "--persist-to"])
        .arg(worker.state_dir())
        .arg("--file")
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("wrangler d1 execute");
    assert!(status.success(), "running the bench's SQL failed");
}

/// The same UPDATE in a plain SQLite database of the same shape, timed by `sqlite3` itself.
fn raw_sqlite(dir: &TempDir) -> Duration {
    let db = dir.path().join("raw.db");
    let migrations = tally_tests::repo_root().join("edge/migrations");
    let mut files: Vec<_> = std::fs::read_dir(&migrations)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut sql: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    sql.push_str(&fixture_sql().replace(
        "SELECT 90, 90, 'bench@tally.example', password_hash, 0 FROM users WHERE id = 1",
        "SELECT 90, 90, 'bench@tally.example', 'x', 0",
    ));
    // Through stdin: the schema starts with a `--` comment, which sqlite3 would read as an option.
    let schema = dir.path().join("raw.sql");
    std::fs::write(&schema, sql).expect("write the raw schema");
    let load = Command::new("sqlite3")
        .arg(&db)
        .stdin(std::fs::File::open(&schema).expect("read it back"))
        .status()
        .expect("sqlite3 runs");
    assert!(load.success());
    let started = Instant::now();
    let update = Command::new("sqlite3")
        .arg(&db)
        .arg("UPDATE products SET auto_sync = 1, updated_at = 1 WHERE account_id = 90 AND lower(brand) = 'even';")
        .status()
        .expect("sqlite3 runs");
    assert!(update.success());
    started.elapsed()
}

/// Peak resident memory of every workerd process, sampled every 50 ms until `done` is set.
fn watch_rss(done: std::sync::Arc<std::sync::atomic::AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while !done.load(std::sync::atomic::Ordering::Relaxed) {
            let out = Command::new("ps")
                .args(["-C", "workerd", "-o", "rss="])
                .output();
            if let Ok(out) = out {
                let kb: u64 = String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .filter_map(|s| s.parse::<u64>().ok())
                    .sum();
                peak = peak.max(kb);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        peak
    })
}

async fn run(worker: &TestWorker) {
    let dir = TempDir::new("bench");
    load_fixture(worker, &dir);
    let api = Api::new(&worker.base_url)
        .signed_in("bench@tally.example", DEMO_PASSWORD)
        .await;

    // The file goes first, while every product has Auto Sync off: it measures applying the
    // file alone. Part 3 applies one with Auto Sync on and measures the pushes.
    // 1. A 100,000-row inventory file.
    let csv = inventory_file(|i| (i * 7) % 500);
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = watch_rss(done.clone());
    let started = Instant::now();
    let id = api.stage_file(&csv).await;
    let uploaded = started.elapsed();
    let started = Instant::now();
    apply(&api, id).await;
    let answered = started.elapsed();
    api.file_applied(id, FILE_WAIT).await;
    let apply = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak_kb = watcher.join().unwrap_or(0);
    println!(
        "CSV upload of 100,000 rows ({:.1} MB): check + stage {:.2} s; apply answered in {:.2} s, \
         background job done after {:.2} s; workerd peak RSS {} MB",
        csv.len() as f64 / 1e6,
        uploaded.as_secs_f64(),
        answered.as_secs_f64(),
        apply.as_secs_f64(),
        peak_kb / 1024
    );

    // 2. Bulk Auto Sync over the filtered half, then over all 100,000.
    for (label, filter) in [
        ("50,000 (brand=Even)", json!({ "brand": "Even" })),
        ("100,000 (no filter)", json!({})),
    ] {
        let started = Instant::now();
        let job = api
            .send_json(
                "POST",
                "/api/v1/bulk-jobs",
                &json!({ "action": "auto_sync_on", "filter": filter }),
            )
            .await;
        assert_eq!(job.status, 202, "{}", job.body);
        let id = job.body["id"].as_i64().unwrap();
        loop {
            let now = api.get(&format!("/api/v1/bulk-jobs/{id}")).await;
            if now.body["status"] != "running" {
                println!(
                    "bulk Auto Sync on {label}: {:.2} s wall ({} products)",
                    started.elapsed().as_secs_f64(),
                    now.body["done"]
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let raw = raw_sqlite(&dir);
    println!(
        "raw sqlite3 UPDATE of the same 50,000 rows: {:.3} s (process start included)",
        raw.as_secs_f64()
    );

    pushes_at_file_scale(worker, &dir, &api).await;
}

/// Part 3: every product listed on a sandbox WooCommerce holding its current quantity, Auto
/// Sync on for all (part 2 turned it on), then a file that changes every quantity.
async fn pushes_at_file_scale(worker: &TestWorker, dir: &TempDir, api: &Api) {
    const WOO: &str = "ck_bench:cs_bench";
    let sandbox = Sandbox::start(&[(Kind::Woocommerce, WOO)]).await;
    let woo = api
        .connect(
            &json!({ "name": "Woo", "kind": "woocommerce", "credential": WOO,
                          "base_url": sandbox.base_url(Kind::Woocommerce) }),
        )
        .await;
    execute_sql(worker, dir, &listings_sql(woo.id));
    sandbox
        .set_items(
            Kind::Woocommerce,
            (1..=PRODUCTS).map(|i| (i.to_string(), i64::from((i * 7) % 500))),
        )
        .await;
    sandbox.clear_calls(Kind::Woocommerce).await;

    let wanted = |i: u32| i64::from(1_000 + (i * 11) % 500);
    let id = api
        .stage_file(&inventory_file(|i| 1_000 + (i * 11) % 500))
        .await;
    let started = Instant::now();
    apply(api, id).await;
    api.file_applied(id, FILE_WAIT).await;
    let file_applied = started.elapsed();
    // The storefront, read every second until it holds the whole file (the cron runs as it
    // would every minute in production, to re-send anything a restart left behind).
    let deadline = Instant::now() + Duration::from_secs(900);
    let mut behind = PRODUCTS as usize;
    while Instant::now() < deadline {
        let items = sandbox.items(Kind::Woocommerce).await;
        behind = (1..=PRODUCTS)
            .filter(|i| items.get(&i.to_string()) != Some(&wanted(*i)))
            .count();
        if behind == 0 {
            break;
        }
        api.run_cron().await;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let calls = sandbox.calls(Kind::Woocommerce).await;
    let pushes: usize = calls
        .iter()
        .map(|c| c.body["update"].as_array().map_or(0, Vec::len))
        .sum();
    if behind == 0 {
        println!(
            "100,000-row file with Auto Sync on, each product listed on WooCommerce: file applied \
             after {:.1} s, the storefront held every quantity after {:.1} s ({} calls, {pushes} \
             listing updates)",
            file_applied.as_secs_f64(),
            started.elapsed().as_secs_f64(),
            calls.len()
        );
    } else {
        println!(
            "100,000-row file with Auto Sync on: after {:.0} s, {behind} listings still behind \
             ({} calls, {pushes} listing updates)",
            started.elapsed().as_secs_f64(),
            calls.len()
        );
    }
}

/// An inventory file setting `B-i` to `quantity(i)` for every bench product.
fn inventory_file(quantity: impl Fn(u32) -> u32) -> String {
    let mut csv = String::from("sku,quantity\n");
    for i in 1..=PRODUCTS {
        csv.push_str(&format!("B-{i:06},{}\n", quantity(i)));
    }
    csv
}

/// Starts applying upload `id`.
async fn apply(api: &Api, id: i64) {
    let applied = api
        .send_json(
            "POST",
            &format!("/api/v1/uploads/{id}/apply"),
            &json!({ "confirm_wipe": true }),
        )
        .await;
    assert_eq!(
        applied.status, 202,
        "a big file applies in the background: {}",
        applied.body
    );
}
