//! The test harness: starts the real parts (`wrangler dev` with local D1/KV/Queues, chromedriver)
//! on free ports with fresh state, waits until they answer, and stops everything it started by
//! process group when dropped, whether the tests passed or not.
//!
//! Test binaries use `harness = false` with libtest-mimic, so one `main` owns the services'
//! lifetime: start → run every test → stop → exit with the tests' verdict.

pub mod accounts;
pub mod bench;
pub mod browser;
pub mod client;
pub mod process;
pub mod sandbox;
pub mod schema;
pub mod suite;
pub mod vendure;
pub mod worker;

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The repository root (the workspace that holds this crate).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace root")
        .to_path_buf()
}

/// Polls `check` until it returns `Some`, or panics with `what` after `timeout`.
/// Every wait in the tests goes through here: a deadline, never a bare sleep.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}
