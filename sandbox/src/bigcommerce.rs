//! BigCommerce v3 absolute inventory adjustments. Item keys: `<variant id>@<location id>`.
//! A batch applies whole or not at all. Served at `/v3/...` and under any `/stores/<hash>`, so
//! the connection's base URL may be the listener's root or look like a real store's.

use crate::api::ApiRequest;
use crate::platform::{numeric_pair, Platform, Reply};
use crate::store::State;
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

pub struct Bigcommerce;

const PATH: &str = "/v3/inventory/adjustments/absolute";
const MAX_ITEMS: usize = 2000;
const ERROR_TYPE: &str =
    "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes";
/// The rate-limit window and quota the headers report (a Standard plan's). Not enforced: the
/// headers are there for a connector that paces itself by them.
const WINDOW: Duration = Duration::from_secs(30);
const QUOTA: u64 = 150;

impl Platform for Bigcommerce {
    fn authorized(&self, request: &ApiRequest, credential: &str) -> bool {
        request.header("x-auth-token") == Some(credential)
    }

    fn unauthorized(&self) -> Reply {
        problem(401, "Unauthorized")
    }

    fn server_error(&self, status: u16) -> Reply {
        problem(status, "Internal Server Error")
    }

    fn throttled(&self, retry_after_s: u64) -> Reply {
        problem(429, "Too many requests")
            .header("Retry-After", retry_after_s)
            .header("X-Rate-Limit-Time-Reset-Ms", retry_after_s * 1000)
            .header("X-Rate-Limit-Requests-Left", 0)
    }

    fn handle(&self, request: &ApiRequest, state: &mut State) -> Reply {
        if request.method != "PUT" || !is_adjustment_path(&request.path) {
            return problem(404, "Not Found");
        }
        let Ok(body) = request.json() else {
            return problem(400, "Input is invalid");
        };
        let Some(items) = body["items"].as_array() else {
            return unprocessable(Map::from_iter([(
                "items".into(),
                json!("items is required"),
            )]));
        };
        if items.len() > MAX_ITEMS {
            let message = format!("items must hold at most {MAX_ITEMS} entries");
            return unprocessable(Map::from_iter([("items".into(), json!(message))]));
        }
        let errors = check(items, state);
        if !errors.is_empty() {
            return unprocessable(errors);
        }
        for item in items {
            let key = format!("{}@{}", item["variant_id"], item["location_id"]);
            state
                .items
                .insert(key, item["quantity"].as_i64().unwrap_or(0));
        }
        let id = uuid(state);
        Reply::json(200, json!({ "transaction_id": id }))
    }

    fn valid_key(&self, key: &str) -> bool {
        numeric_pair(key)
    }

    /// Every answer reports the rate-limit window, as BigCommerce's do.
    fn finish(&self, reply: &mut Reply, state: &mut State) {
        let (started, used) = &mut state.window;
        if started.elapsed() >= WINDOW {
            *started = Instant::now();
            *used = 0;
        }
        *used += 1;
        let reset = WINDOW.saturating_sub(started.elapsed()).as_millis();
        reply.default_header("X-Rate-Limit-Requests-Left", QUOTA.saturating_sub(*used));
        reply.default_header("X-Rate-Limit-Requests-Quota", QUOTA);
        reply.default_header("X-Rate-Limit-Time-Reset-Ms", reset);
        reply.default_header("X-Rate-Limit-Time-Window-Ms", WINDOW.as_millis());
    }
}

/// `/v3/...` or `/stores/<hash>/v3/...`.
fn is_adjustment_path(path: &str) -> bool {
    if path == PATH {
        return true;
    }
    path.strip_prefix("/stores/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(hash, rest)| !hash.is_empty() && format!("/{rest}") == PATH)
}

/// BigCommerce's problem body.
fn problem(status: u16, title: &str) -> Reply {
    Reply::json(
        status,
        json!({"status": status, "title": title, "type": ERROR_TYPE}),
    )
}

fn unprocessable(errors: Map<String, Value>) -> Reply {
    Reply::json(
        422,
        json!({
            "status": 422, "title": "JSON data is missing or invalid", "type": ERROR_TYPE,
            "errors": errors,
        }),
    )
}

/// Every entry's problems, keyed `items.<index>.<field>`.
fn check(items: &[Value], state: &State) -> Map<String, Value> {
    let mut errors = Map::new();
    for (index, item) in items.iter().enumerate() {
        if let Some((field, message)) = problem_with(item, state) {
            errors.insert(format!("items.{index}.{field}"), json!(message));
        }
    }
    errors
}

/// The first problem with one entry: a field of the wrong type, or an unknown variant or
/// location.
fn problem_with(item: &Value, state: &State) -> Option<(&'static str, String)> {
    let Some(variant) = item["variant_id"].as_u64() else {
        return Some(("variant_id", "variant_id must be an integer".into()));
    };
    let Some(location) = item["location_id"].as_u64() else {
        return Some(("location_id", "location_id must be an integer".into()));
    };
    if item["quantity"].as_i64().is_none_or(|q| q < 0) {
        return Some((
            "quantity",
            "quantity must be an integer of 0 or more".into(),
        ));
    }
    if state.items.contains_key(&format!("{variant}@{location}")) {
        return None;
    }
    let prefix = format!("{variant}@");
    if state.items.keys().any(|key| key.starts_with(&prefix)) {
        return Some((
            "location_id",
            format!("Variant {variant} is not assigned to location {location}"),
        ));
    }
    Some(("variant_id", format!("Variant {variant} does not exist")))
}

/// A version-4-looking UUID, as BigCommerce's transaction ids are.
fn uuid(state: &mut State) -> String {
    let hex = state.rng.hex(32);
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}
