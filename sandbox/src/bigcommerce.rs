//! BigCommerce v3 absolute inventory adjustments. Item keys: `<variant id>@<location id>`, or
//! `product:<product id>@<location id>` for a product whose stock is kept at product level.
//! A batch applies whole or not at all. A variant marked `tracked_by_product` refuses the whole
//! call with BigCommerce's 422 that names no item (empty `errors`, the words in `title`). Served at `/v3/...` and under any `/stores/<hash>`, so
//! the connection's base URL may be the listener's root or look like a real store's.

use crate::api::ApiRequest;
use crate::platform::{numeric_pair, Platform, Reply};
use crate::store::State;
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

pub struct Bigcommerce;

const PATH: &str = "/v3/inventory/adjustments/absolute";
const MAX_ITEMS: usize = 2000;
/// The key prefix of a product's own stock.
const PRODUCT: &str = "product:";
/// BigCommerce's words when a variant of a product tracked by product is named.
const TRACKED_BY_PRODUCT: &str =
    "The inventory of this product is tracked by product, please update stock by product id";
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
        let keys: Vec<String> = items.iter().filter_map(item_key).collect();
        if keys
            .iter()
            .any(|k| state.traits.get(k).is_some_and(|t| t.tracked_by_product))
        {
            return Reply::json(
                422,
                json!({ "status": 422, "title": TRACKED_BY_PRODUCT, "type": ERROR_TYPE,
                        "errors": {} }),
            );
        }
        for (key, item) in keys.into_iter().zip(items) {
            state
                .items
                .insert(key, item["quantity"].as_i64().unwrap_or(0));
        }
        let id = uuid(state);
        Reply::json(200, json!({ "transaction_id": id }))
    }

    fn valid_key(&self, key: &str) -> bool {
        numeric_pair(key.strip_prefix(PRODUCT).unwrap_or(key))
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

/// The item an entry names: `<variant>@<location>` or `product:<product>@<location>`.
fn item_key(item: &Value) -> Option<String> {
    let location = item["location_id"].as_u64()?;
    match item.get("product_id") {
        Some(product) => Some(format!("{PRODUCT}{}@{location}", product.as_u64()?)),
        None => Some(format!("{}@{location}", item["variant_id"].as_u64()?)),
    }
}

/// The first problem with one entry: a field of the wrong type, or an unknown item or
/// location.
fn problem_with(item: &Value, state: &State) -> Option<(&'static str, String)> {
    let (field, id, noun) = match item.get("product_id") {
        Some(product) => ("product_id", product, "Product"),
        None => ("variant_id", &item["variant_id"], "Variant"),
    };
    let Some(id) = id.as_u64() else {
        return Some((field, format!("{field} must be an integer")));
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
    let prefix = if noun == "Product" {
        format!("{PRODUCT}{id}@")
    } else {
        format!("{id}@")
    };
    if state.items.contains_key(&format!("{prefix}{location}")) {
        return None;
    }
    if state.items.keys().any(|key| key.starts_with(&prefix)) {
        return Some((
            "location_id",
            format!("{noun} {id} is not assigned to location {location}"),
        ));
    }
    Some((field, format!("{noun} {id} does not exist")))
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
