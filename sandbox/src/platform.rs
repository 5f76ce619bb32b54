//! What every imitated platform provides, and the answer type they share.

use crate::api::ApiRequest;
use crate::store::State;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::Value;
use tally_sandbox::Kind;

/// One platform's side of an API call. Every method answers in that platform's own shapes,
/// so a connector sees the sandbox exactly as it would see the real storefront.
pub trait Platform: Sync {
    /// Whether the request carries the credential the way the platform expects it.
    fn authorized(&self, request: &ApiRequest, credential: &str) -> bool;
    /// The answer to a missing or wrong credential.
    fn unauthorized(&self) -> Reply;
    /// The answer to an injected 500, or to an injected timeout once it gives up (504).
    fn server_error(&self, status: u16) -> Reply;
    /// The answer to an injected rate limit, asking the client to wait `retry_after_s`.
    fn throttled(&self, retry_after_s: u64) -> Reply;
    /// Serves an authorized API call against the store's inventory.
    fn handle(&self, request: &ApiRequest, state: &mut State) -> Reply;
    /// Whether `key` names an item the way this platform's requests do (for seeds and
    /// `PUT /_sandbox/items`, so a mistyped key fails loudly instead of never matching).
    fn valid_key(&self, key: &str) -> bool;
    /// The answer to a token renewal, when `request` is one (eBay's and Amazon's OAuth
    /// endpoints). The sandbox hands out its own credential for the refresh token
    /// `refresh-<credential>`, so a renewed token is the one its API accepts.
    fn token(&self, _request: &ApiRequest, _credential: &str) -> Option<Reply> {
        None
    }
    /// Adds what the platform puts on every answer (BigCommerce's rate-limit headers).
    fn finish(&self, _reply: &mut Reply, _state: &mut State) {}
    /// Remembers a call that failed with a 5xx (Shopify refuses to repeat an attempt that
    /// failed under the same idempotency key).
    fn failed(&self, _request: &ApiRequest, _state: &mut State) {}
}

/// The platform behind `kind`.
pub fn of(kind: Kind) -> &'static dyn Platform {
    match kind {
        Kind::Shopify => &crate::shopify::Shopify,
        Kind::Woocommerce => &crate::woocommerce::Woocommerce,
        Kind::Ebay => &crate::ebay::Ebay,
        Kind::Amazon => &crate::amazon::Amazon,
        Kind::Bigcommerce => &crate::bigcommerce::Bigcommerce,
    }
}

/// A JSON answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl ToString) -> Self {
        self.headers.push((name.to_owned(), value.to_string()));
        self
    }

    /// Adds a header unless the answer already has one of that name.
    pub fn default_header(&mut self, name: &str, value: impl ToString) {
        if !self
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            self.headers.push((name.to_owned(), value.to_string()));
        }
    }

    pub fn into_response(self) -> Response {
        let mut response = Response::new(self.body.to_string().into());
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) {
                headers.insert(name, value);
            }
        }
        response
    }
}

/// An integer field, also when sent as a string of digits (PHP-backed APIs accept both).
pub fn integer(value: &Value) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
}

/// `A@B` with both parts numeric: Shopify's and BigCommerce's item keys.
pub fn numeric_pair(key: &str) -> bool {
    key.split_once('@')
        .is_some_and(|(a, b)| is_digits(a) && is_digits(b))
}

pub fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}
