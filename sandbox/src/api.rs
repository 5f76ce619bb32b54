//! API calls: the request as the platforms see it, and the path every call takes
//! (latency → fault or answer → record → injected timeout).

use crate::platform::Reply;
use crate::store::Store;
use axum::body::Bytes;
use axum::extract::Request;
use axum::response::Response;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;
use tally_sandbox::FaultKind;

/// Request bodies beyond this are refused (the largest real batch, 2,000 BigCommerce items,
/// is well under 1 MiB).
const MAX_BODY: usize = 32 * 1024 * 1024;

/// A request read whole, in the form the call log keeps.
pub struct ApiRequest {
    pub method: String,
    /// As sent, still percent-encoded.
    pub path: String,
    /// Without `?`; empty when there was none.
    pub query: String,
    /// Lowercased names; repeated headers joined with ", ".
    pub headers: BTreeMap<String, String>,
    pub body: Bytes,
}

impl ApiRequest {
    /// Reads the head and the whole body.
    pub async fn read(request: Request) -> Result<Self, Reply> {
        let (parts, body) = request.into_parts();
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in &parts.headers {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            headers
                .entry(name.as_str().to_owned())
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert(value);
        }
        let body = axum::body::to_bytes(body, MAX_BODY).await.map_err(|e| {
            Reply::json(
                413,
                json!({"error": format!("the body could not be read: {e}")}),
            )
        })?;
        Ok(Self {
            method: parts.method.as_str().to_owned(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            headers,
            body,
        })
    }

    /// A header by lowercase name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    /// The same request without header `name` (lowercase).
    pub fn without_header(&self, name: &str) -> ApiRequest {
        let mut headers = self.headers.clone();
        headers.remove(name);
        ApiRequest {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            headers,
            body: self.body.clone(),
        }
    }

    /// The body as JSON, or why it is not.
    pub fn json(&self) -> Result<Value, serde_json::Error> {
        serde_json::from_slice(&self.body)
    }

    /// The first value of a query parameter, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key) == name).then(|| decode(value))
        })
    }

    /// The first value of a form field in an `application/x-www-form-urlencoded` body.
    pub fn form_param(&self, name: &str) -> Option<String> {
        let body = String::from_utf8_lossy(&self.body);
        body.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(key) == name).then(|| decode(value))
        })
    }

    /// Whether the request renews a token at `path` with a refresh token issued for `credential`.
    pub fn renews(&self, path: &str, credential: &str) -> Option<bool> {
        (self.method == "POST" && self.path == path).then(|| {
            self.form_param("grant_type").as_deref() == Some("refresh_token")
                && self.form_param("refresh_token") == Some(format!("refresh-{credential}"))
        })
    }

    /// The body for the call log: JSON when it parses, else text, `null` when empty.
    pub fn body_for_log(&self) -> Value {
        if self.body.is_empty() {
            return Value::Null;
        }
        self.json()
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.body).into_owned()))
    }
}

/// Percent-decodes a query component (`+` is a space there).
pub fn decode(component: &str) -> String {
    let spaced = component.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8_lossy()
        .into_owned()
}

/// Serves one API call with the store's latency and failure injection.
pub async fn handle(store: &Store, request: ApiRequest) -> Response {
    let faults = store.faults();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let (reply, injected) = store.answer(&request);
    log(store, &request, &reply, injected);
    if injected == Some(FaultKind::Timeout) {
        // The client gives up long before this; the 504 is for one that waits.
        tokio::time::sleep(Duration::from_secs(faults.timeout_s)).await;
    }
    reply.into_response()
}

/// One line per call on stderr, for the demo's console and test failure messages.
fn log(store: &Store, request: &ApiRequest, reply: &Reply, injected: Option<FaultKind>) {
    let injected = match injected {
        Some(FaultKind::ServerError) => " (injected 500)",
        Some(FaultKind::Throttled) => " (injected 429)",
        Some(FaultKind::Timeout) => " (injected timeout)",
        None => "",
    };
    eprintln!(
        "{} {} {} -> {}{injected}",
        store.kind, request.method, request.path, reply.status
    );
}
