//! A small typed client for the API under test: what a storefront integration or the SPA sends.

use serde::de::DeserializeOwned;
use serde_json::Value;
use tally_domain::api::{Product, ProductPage, SyncHistoryPage};

/// An HTTP client pointed at one worker.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    http: reqwest::Client,
}

/// A response's status and JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
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
            http: reqwest::Client::new(),
        }
    }

    async fn answer(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.expect("the worker answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body arrives");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("HTTP {status} with a non-JSON body: {text:?}"));
        Answer { status, body }
    }

    /// GET a path.
    pub async fn get(&self, path: &str) -> Answer {
        self.answer(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// Sends `body` as raw bytes with a content type (for malformed-input tests).
    pub async fn send_raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a valid method");
        let request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        self.answer(request).await
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
