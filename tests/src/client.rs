//! A small typed client for the API under test: what a storefront integration or the SPA sends.

use serde::de::DeserializeOwned;
use serde_json::Value;
use tally_domain::api::{Product, ProductPage, SyncHistoryPage};

/// The demo sign-in seeded by `edge/seed/demo.sql`.
pub const DEMO_EMAIL: &str = "demo@tally.example";
/// The demo password.
pub const DEMO_PASSWORD: &str = "tally-demo-password";
/// The second test account (`tests/fixtures/large-account.sql`): 5,000 products.
pub const BULK_EMAIL: &str = "bulk@tally.example";

/// The demo API key.
pub const DEMO_API_KEY: &str = "tally_demo_local_only_8d2f6c1a9e7b4d3c5f0a1b2c3d4e";

/// How a client authenticates.
#[derive(Clone, Debug)]
pub enum Auth {
    None,
    /// The SPA's way: the session cookie plus the CSRF header on writes.
    Session(String),
    /// An integration's way: `Authorization: Bearer <key>`.
    Key(String),
}

/// An HTTP client pointed at one worker.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub auth: Auth,
    http: reqwest::Client,
    /// The network address sign-in and sign-up calls come from (`CF-Connecting-IP`, which
    /// `wrangler dev` passes through); `None`: a fresh one per call, as if every test were its
    /// own visitor, so the per-address limits meet only the tests about them.
    address: Option<String>,
}

/// A response's status and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub set_cookie: Option<String>,
}

/// The worker's session cookie.
pub const SESSION_COOKIE: &str = "__Host-tally_session";

static NEXT_ACCOUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
static NEXT_ADDRESS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

/// A documentation-range address (198.18.0.0/15, for benchmarking) no other call uses.
fn fresh_address() -> String {
    let n = NEXT_ADDRESS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!(
        "198.{}.{}.{}",
        18 + (n >> 16) % 2,
        (n >> 8) & 0xff,
        n & 0xff
    )
}

impl Answer {
    /// The body as `T`, panicking with the body if it does not fit.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("unexpected body ({e}): {}", self.body))
    }

    /// The `error.field` of an error body.
    pub fn error_field(&self) -> Option<&str> {
        self.body["error"]["field"].as_str()
    }

    /// The `error.message` of an error body.
    pub fn error_message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
}

impl Api {
    /// A client for the worker at `base` (e.g. `http://127.0.0.1:8787`).
    pub fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            auth: Auth::None,
            // No idle connections: a pooled connection the dev server has just timed out
            // would reset the next request (a client-side keep-alive race, not a worker fault).
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .expect("a plain HTTP client"),
            address: None,
        }
    }

    /// The same worker, with sign-in and sign-up calls coming from `address`.
    pub fn from_address(&self, address: &str) -> Self {
        Self {
            address: Some(address.to_owned()),
            ..self.clone()
        }
    }

    /// The same worker with other credentials.
    pub fn with_auth(&self, auth: Auth) -> Self {
        Self {
            auth,
            ..self.clone()
        }
    }

    /// Signs in and returns a client carrying the session, asserting success.
    pub async fn signed_in(&self, email: &str, password: &str) -> Self {
        let (answer, cookie) = self
            .session_call(
                "/api/v1/auth/login",
                &serde_json::json!({ "email": email, "password": password }),
            )
            .await;
        assert_eq!(answer.status, 200, "sign-in failed: {}", answer.body);
        self.with_auth(Auth::Session(
            cookie.expect("sign-in sets the session cookie"),
        ))
    }

    /// Creates a new (free) account with a unique email and returns a client signed in to it.
    pub async fn new_account(&self, store_name: &str) -> Self {
        let email = format!(
            "seller-{}-{}@example.com",
            std::process::id(),
            NEXT_ACCOUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let body = serde_json::json!({ "email": email, "password": "a long enough password", "store_name": store_name });
        let (answer, cookie) = self.session_call("/api/v1/auth/signup", &body).await;
        assert_eq!(answer.status, 201, "sign-up failed: {}", answer.body);
        self.with_auth(Auth::Session(
            cookie.expect("sign-up sets the session cookie"),
        ))
    }

    /// Posts to a sign-in endpoint and returns the answer and the session cookie it set.
    pub async fn session_call(&self, path: &str, body: &Value) -> (Answer, Option<String>) {
        let address = self.address.clone().unwrap_or_else(fresh_address);
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cf-connecting-ip", address)
            .json(body)
            .send()
            .await
            .expect("the worker answers");
        let cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let status = response.status().as_u16();
        let text = response.text().await.expect("the worker's answer is read");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{path} answered {status} with no JSON body ({e}): {text}"));
        let session = cookie
            .as_deref()
            .and_then(|c| c.split(';').next())
            .and_then(|kv| kv.strip_prefix(&format!("{SESSION_COOKIE}=")))
            .filter(|v| !v.is_empty())
            .map(str::to_owned);
        (
            Answer {
                status,
                body,
                set_cookie: cookie,
            },
            session,
        )
    }

    fn authorise(&self, request: reqwest::RequestBuilder, write: bool) -> reqwest::RequestBuilder {
        match &self.auth {
            Auth::None => request,
            Auth::Session(token) => {
                let request = request.header("cookie", format!("{SESSION_COOKIE}={token}"));
                if write {
                    request.header("x-tally-csrf", "1")
                } else {
                    request
                }
            }
            Auth::Key(key) => request.header("authorization", format!("Bearer {key}")),
        }
    }

    async fn answer(&self, mut request: reqwest::RequestBuilder) -> Answer {
        let mut attempt = 0;
        let response = loop {
            let retry = request.try_clone();
            let response = request.send().await.expect("the worker answers");
            // wrangler dev's proxy sometimes loses a request on its way to the worker and says
            // so with this 503 (cloudflare/workers-sdk#14641: a keep-alive race inside the dev
            // server; the worker never saw the request). Send it again, as the message asks.
            // Our own 503 is JSON and is never retried.
            if response.status() == 503 && attempt < 3 {
                if let (Some(again), Some(hint)) = (retry, response.headers().get("retry-after")) {
                    let json = response.headers().get("content-type").is_some_and(|ct| {
                        ct.to_str().unwrap_or("").starts_with("application/json")
                    });
                    if hint == "0" && !json {
                        attempt += 1;
                        request = again;
                        continue;
                    }
                }
            }
            break response;
        };
        let status = response.status().as_u16();
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.expect("a body arrives");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("HTTP {status} with a non-JSON body: {text:?}"));
        Answer {
            status,
            body,
            set_cookie,
        }
    }

    /// Runs the worker's cron once, as production does every minute: it re-sends work the
    /// local queue dropped or stalled on (a known `wrangler dev` weakness), asks for due polls
    /// and read-backs. Waits that depend on background work run it as they wait. A cron that
    /// does not answer is left to the wait's deadline.
    pub async fn run_cron(&self) {
        let _ = reqwest::get(format!("{}/__scheduled?cron=*+*+*+*+*", self.base)).await;
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> Answer {
        let request = self.authorise(self.http.get(format!("{}{path}", self.base)), false);
        self.answer(request).await
    }

    /// Sends `body` as raw bytes with a content type (for malformed-input tests).
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .expect("a valid method");
        let request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        self.answer(self.authorise(request, true)).await
    }

    /// Sends `body` as JSON.
    pub async fn send_json(&self, method: &str, path: &str, body: &Value) -> Answer {
        self.send_raw(
            method,
            path,
            "application/json",
            body.to_string().into_bytes(),
        )
        .await
    }

    /// One page of products, asserting success.
    pub async fn products(&self, page: u32, per_page: u32) -> ProductPage {
        let answer = self
            .get(&format!("/api/v1/products?page={page}&per_page={per_page}"))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()
    }

    /// One product, asserting success.
    pub async fn product(&self, id: i64) -> Product {
        let answer = self.get(&format!("/api/v1/products/{id}")).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()
    }

    /// A new product with Auto Sync on, asserting success (the rules decide nothing then).
    pub async fn synced_product(&self, sku: &str, quantity: i64) -> Product {
        let answer = self
            .send_json(
                "POST",
                "/api/v1/products",
                &serde_json::json!({ "sku": sku, "name": format!("Product {sku}"), "quantity": quantity }),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        let p: Product = answer.json();
        self.set_auto_sync(p.id.0, true).await
    }

    /// Connects a storefront described by `body`, asserting success.
    pub async fn connect(&self, body: &Value) -> tally_domain::api::Storefront {
        let answer = self.send_json("POST", "/api/v1/storefronts", body).await;
        assert_eq!(answer.status, 201, "{}", answer.body);
        answer.json()
    }

    /// Links `product` to item `id` (and `sub`) of `storefront`, asserting success.
    pub async fn link(&self, product: &Product, storefront: i64, id: &str, sub: Option<&str>) {
        let answer = self
            .send_json(
                "POST",
                &format!("/api/v1/products/{}/listings", product.id),
                &serde_json::json!({ "storefront_id": storefront, "external_id": id, "external_sub_id": sub }),
            )
            .await;
        assert_eq!(answer.status, 201, "{}", answer.body);
    }

    /// Turns Auto Sync on or off, asserting success.
    pub async fn set_auto_sync(&self, id: i64, on: bool) -> Product {
        let answer = self
            .send_json(
                "PATCH",
                &format!("/api/v1/products/{id}/auto-sync"),
                &serde_json::json!({ "auto_sync": on }),
            )
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()
    }

    /// Posts an adjustment and returns the raw answer.
    pub async fn adjust(&self, id: i64, mode: &str, amount: i64) -> Answer {
        self.send_json(
            "POST",
            &format!("/api/v1/products/{id}/adjustments"),
            &serde_json::json!({ "mode": mode, "amount": amount, "reason": "test" }),
        )
        .await
    }

    /// Uploads an inventory file and applies it, waiting (at most `within`) until every row has
    /// landed; the upload's id.
    pub async fn apply_file(&self, csv: &str, within: std::time::Duration) -> i64 {
        let id = self.stage_file(csv).await;
        let apply = self
            .send_json(
                "POST",
                &format!("/api/v1/uploads/{id}/apply"),
                &serde_json::json!({}),
            )
            .await;
        assert!(apply.status == 200 || apply.status == 202, "{}", apply.body);
        self.file_applied(id, within).await;
        id
    }

    /// Uploads an inventory file (checked and staged, not applied); the upload's id.
    pub async fn stage_file(&self, csv: &str) -> i64 {
        let staged = self
            .send_raw(
                "POST",
                "/api/v1/uploads",
                "text/csv",
                csv.as_bytes().to_vec(),
            )
            .await;
        assert_eq!(staged.status, 201, "{}", staged.body);
        staged.body["id"].as_i64().expect("an upload id")
    }

    /// Waits (at most `within`) until upload `id` has been applied: the job runs on the queue.
    pub async fn file_applied(&self, id: i64, within: std::time::Duration) {
        crate::eventually("the file to be applied", within, || async {
            let upload = self.get(&format!("/api/v1/uploads/{id}")).await;
            (upload.body["status"] == "applied").then_some(())
        })
        .await;
    }

    /// Starts a bulk job (`body`: its action and filter) and waits (at most `within`) until it
    /// has finished; its id.
    pub async fn finish_bulk_job(&self, body: &Value, within: std::time::Duration) -> i64 {
        let job = self.send_json("POST", "/api/v1/bulk-jobs", body).await;
        assert_eq!(job.status, 202, "{}", job.body);
        let id = job.body["id"].as_i64().expect("a job id");
        crate::eventually("the bulk job to finish", within, || async {
            let now = self.get(&format!("/api/v1/bulk-jobs/{id}")).await;
            (now.body["status"] == "finished").then_some(())
        })
        .await;
        id
    }

    /// The sync history of one product.
    pub async fn history_of(&self, id: i64) -> SyncHistoryPage {
        let answer = self
            .get(&format!(
                "/api/v1/sync-history?product_id={id}&per_page=250"
            ))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()
    }
}
