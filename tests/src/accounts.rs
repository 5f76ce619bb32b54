//! Accounts of their own for tests, so no test sees another's changes whatever the order or the
//! number of test threads.
//!
//! A test that needs the demo data (1,200 seeded products, the subscriber plan) takes a copy of
//! the demo account made by `tests/fixtures/demo-copies.sql`, which [`TestWorker::start`] loads
//! before any test runs: each copy is the demo account exactly as seeded, under its own sign-in.
//! No test changes the demo account itself, so it stays as seeded too.
//! A test that needs no data signs up a new account ([`Api::new_account`]).
//!
//! Copies are counted per test binary (one worker): each is taken by one test only.
//!
//! [`TestWorker::start`]: crate::worker::TestWorker::start

use crate::client::{Api, Auth, DEMO_PASSWORD};
use std::sync::atomic::{AtomicU32, Ordering};

/// How many copies of the demo account `tests/fixtures/demo-copies.sql` makes (it must say the
/// same number).
pub const DEMO_COPIES: u32 = 32;

/// The demo account's name, which its copies share.
pub const DEMO_ACCOUNT_NAME: &str = "Demo Outfitters";

/// The next copy to hand out (copies are numbered from 1).
static NEXT_COPY: AtomicU32 = AtomicU32::new(1);

/// A copy of the demo account that no other test uses: its sign-in email (the password is
/// [`DEMO_PASSWORD`]) and a client signed in to it.
#[derive(Clone)]
pub struct DemoCopy {
    pub email: String,
    pub api: Api,
}

/// The sign-in email of copy `n` (1 to [`DEMO_COPIES`]).
pub fn demo_copy_email(n: u32) -> String {
    format!("demo-copy-{n}@tally.example")
}

/// Takes the next copy no test has taken yet and returns its sign-in email.
/// Panics once every copy is taken.
pub fn take_demo_copy_email() -> String {
    let n = NEXT_COPY.fetch_add(1, Ordering::Relaxed);
    assert!(
        n <= DEMO_COPIES,
        "all {DEMO_COPIES} copies of the demo account made by tests/fixtures/demo-copies.sql are \
         taken: make more there and raise DEMO_COPIES in tests/src/accounts.rs to match"
    );
    demo_copy_email(n)
}

/// Takes the next copy no test has taken yet and signs in to it through the API.
pub async fn take_demo_copy(worker: &Api) -> DemoCopy {
    let email = take_demo_copy_email();
    let (answer, cookie) = worker
        .session_call(
            "/api/v1/auth/login",
            &serde_json::json!({ "email": email, "password": DEMO_PASSWORD }),
        )
        .await;
    assert_eq!(
        answer.status, 200,
        "signing in to the demo copy {email} failed (does tests/fixtures/demo-copies.sql make \
         {DEMO_COPIES} copies, and did the worker load it?): {}",
        answer.body
    );
    let session = cookie.expect("sign-in sets the session cookie");
    DemoCopy {
        api: worker.with_auth(Auth::Session(session)),
        email,
    }
}

impl Api {
    /// A client signed in to a copy of the demo account that no other test uses (see
    /// [`take_demo_copy`]).
    pub async fn demo_copy(&self) -> Self {
        take_demo_copy(self).await.api
    }
}
