//! WooCommerce REST v3 batch updates of products and variations. Item keys: `<product id>` for
//! simple products, `<parent id>/<variation id>` for variations. Each entry of a batch succeeds
//! or fails on its own, as on a real store. An item with the `unmanaged` trait ignores the
//! quantity (answering `"manage_stock": false`) until an update sends `"manage_stock": true`.

use crate::api::ApiRequest;
use crate::platform::{integer, is_digits, Platform, Reply};
use crate::store::State;
use base64::Engine;
use serde_json::{json, Value};

pub struct Woocommerce;

const PREFIX: &str = "/wp-json/wc/v3/products/";
/// WooCommerce's default batch limit (`woocommerce_rest_batch_items_limit`).
const MAX_ITEMS: usize = 100;

impl Platform for Woocommerce {
    /// The credential `ck_…:cs_…` sent as HTTP Basic user and password, or (WooCommerce's
    /// fallback for hosts that drop `Authorization`) as `consumer_key` and `consumer_secret`
    /// in the query string.
    fn authorized(&self, request: &ApiRequest, credential: &str) -> bool {
        if let (Some(key), Some(secret)) = (
            request.query_param("consumer_key"),
            request.query_param("consumer_secret"),
        ) {
            return format!("{key}:{secret}") == credential;
        }
        let Some(encoded) = request
            .header("authorization")
            .and_then(|h| h.strip_prefix("Basic "))
        else {
            return false;
        };
        base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .is_ok_and(|decoded| decoded == credential.as_bytes())
    }

    fn unauthorized(&self) -> Reply {
        error(
            401,
            "woocommerce_rest_cannot_edit",
            "Sorry, you are not allowed to edit this resource.",
        )
    }

    fn server_error(&self, status: u16) -> Reply {
        error(
            status,
            "internal_server_error",
            "There has been a critical error on this website.",
        )
    }

    fn throttled(&self, retry_after_s: u64) -> Reply {
        error(
            429,
            "woocommerce_rest_too_many_requests",
            "Too many requests. Please wait and try again.",
        )
        .header("Retry-After", retry_after_s)
    }

    fn handle(&self, request: &ApiRequest, state: &mut State) -> Reply {
        let Some(parent) = route(request) else {
            return error(
                404,
                "rest_no_route",
                "No route was found matching the URL and request method.",
            );
        };
        let Ok(body) = request.json() else {
            return error(400, "rest_invalid_json", "Invalid JSON body passed.");
        };
        let updates = match batch(&body) {
            Ok(updates) => updates,
            Err(reply) => return reply,
        };
        let answers: Vec<Value> = updates
            .iter()
            .map(|entry| update(entry, parent, state))
            .collect();
        Reply::json(200, json!({ "update": answers }))
    }

    fn valid_key(&self, key: &str) -> bool {
        match key.split_once('/') {
            Some((parent, variation)) => is_digits(parent) && is_digits(variation),
            None => is_digits(key),
        }
    }
}

/// WordPress's error body.
fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"code": code, "message": message, "data": {"status": status}}),
    )
}

/// `Some(None)` for the products batch, `Some(Some(parent))` for a variations batch, `None`
/// for any other route. WordPress takes batches as POST, PUT or PATCH.
fn route(request: &ApiRequest) -> Option<Option<u64>> {
    if !matches!(request.method.as_str(), "POST" | "PUT" | "PATCH") {
        return None;
    }
    let rest = request.path.strip_prefix(PREFIX)?;
    if rest == "batch" {
        return Some(None);
    }
    let parent = rest.strip_suffix("/variations/batch")?;
    Some(Some(parent.parse().ok()?))
}

/// The `update` entries, after WooCommerce's checks on the batch as a whole.
fn batch(body: &Value) -> Result<&[Value], Reply> {
    if !body.is_object() {
        return Err(error(
            400,
            "rest_invalid_param",
            "Invalid parameter(s): update",
        ));
    }
    let size: usize = ["create", "update", "delete"]
        .iter()
        .filter_map(|action| body[action].as_array().map(Vec::len))
        .sum();
    if size > MAX_ITEMS {
        return Err(error(
            413,
            "woocommerce_rest_request_entity_too_large",
            &format!("Unable to accept more than {MAX_ITEMS} items for this request."),
        ));
    }
    match &body["update"] {
        Value::Null => Ok(&[]),
        Value::Array(entries) => Ok(entries),
        _ => Err(error(
            400,
            "rest_invalid_param",
            "Invalid parameter(s): update",
        )),
    }
}

/// One `update` entry: the product as it now is, or its own error.
fn update(entry: &Value, parent: Option<u64>, state: &mut State) -> Value {
    let id = integer(&entry["id"]).unwrap_or(0);
    let key = match parent {
        Some(parent) => format!("{parent}/{id}"),
        None => id.to_string(),
    };
    if !state.items.contains_key(&key) {
        return item_error(
            id,
            404,
            "woocommerce_rest_product_invalid_id",
            "Invalid ID.",
        );
    }
    if entry["manage_stock"] == json!(true) {
        state.traits.remove(&key);
    }
    if state.traits.get(&key).is_some_and(|t| t.unmanaged) {
        return json!({"id": id, "stock_quantity": null, "manage_stock": false,
                      "stock_status": "instock"});
    }
    let Some(current) = state.items.get_mut(&key) else {
        return item_error(
            id,
            404,
            "woocommerce_rest_product_invalid_id",
            "Invalid ID.",
        );
    };
    match &entry["stock_quantity"] {
        Value::Null => {}
        value => match value.as_i64() {
            Some(quantity) => *current = quantity,
            None => {
                return item_error(
                    id,
                    400,
                    "rest_invalid_param",
                    "Invalid parameter(s): stock_quantity",
                )
            }
        },
    }
    let quantity = *current;
    let stock_status = if quantity > 0 {
        "instock"
    } else {
        "outofstock"
    };
    json!({"id": id, "stock_quantity": quantity, "manage_stock": true, "stock_status": stock_status})
}

fn item_error(id: i64, status: u16, code: &str, message: &str) -> Value {
    json!({"id": id, "error": {"code": code, "message": message, "data": {"status": status}}})
}
