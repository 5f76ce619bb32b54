//! `/_sandbox/...`: what tests and the demo use to look into a storefront and steer it. These
//! calls need no credential, are never failed or delayed, and are not in the call log.
//!
//! - `GET /_sandbox/calls` → every API call received (`tally_sandbox::Call`)
//! - `DELETE /_sandbox/calls` → forgets them
//! - `GET /_sandbox/items` → `{"<key>": quantity}`
//! - `PUT /_sandbox/items` with `{"<key>": quantity}` → creates or sets those items
//! - `DELETE /_sandbox/items` → removes every item
//! - `GET /_sandbox/traits`, `PUT /_sandbox/traits` with `{"<key>": tally_sandbox::ItemTraits}`
//!   → what the platform knows of an item beyond its count (a Shopify bundle)
//! - `GET /_sandbox/faults`, `PUT /_sandbox/faults` → failure injection
//!   (`tally_sandbox::Faults`)

use crate::api::ApiRequest;
use crate::platform::Reply;
use crate::store::Store;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const PREFIX: &str = "/_sandbox/";

/// Serves one control request.
pub fn handle(store: &Store, request: &ApiRequest) -> Reply {
    let what = &request.path[PREFIX.len()..];
    match (request.method.as_str(), what) {
        ("GET", "calls") => ok(json!(store.calls())),
        ("DELETE", "calls") => {
            store.clear_calls();
            ok(json!({}))
        }
        ("GET", "items") => ok(json!(store.items())),
        ("PUT", "items") => put_items(store, request),
        ("DELETE", "items") => {
            store.clear_items();
            ok(json!({}))
        }
        ("GET", "traits") => ok(json!(store.traits())),
        ("PUT", "traits") => put_traits(store, request),
        ("GET", "faults") => ok(json!(store.faults())),
        ("PUT", "faults") => put_faults(store, request),
        _ => refuse(
            404,
            format!("no control endpoint {} {}", request.method, request.path),
        ),
    }
}

fn put_items(store: &Store, request: &ApiRequest) -> Reply {
    let items: BTreeMap<String, i64> = match parse(request) {
        Ok(items) => items,
        Err(reply) => return reply,
    };
    match store.set_items(items) {
        Ok(()) => ok(json!(store.items())),
        Err(message) => refuse(400, message),
    }
}

fn put_traits(store: &Store, request: &ApiRequest) -> Reply {
    let traits = match parse(request) {
        Ok(traits) => traits,
        Err(reply) => return reply,
    };
    match store.set_traits(traits) {
        Ok(()) => ok(json!(store.traits())),
        Err(message) => refuse(400, message),
    }
}

fn put_faults(store: &Store, request: &ApiRequest) -> Reply {
    let faults = match parse(request) {
        Ok(faults) => faults,
        Err(reply) => return reply,
    };
    match store.set_faults(faults) {
        Ok(()) => ok(json!(store.faults())),
        Err(message) => refuse(400, message),
    }
}

fn parse<T: DeserializeOwned>(request: &ApiRequest) -> Result<T, Reply> {
    serde_json::from_slice(&request.body).map_err(|e| refuse(400, format!("bad body: {e}")))
}

fn ok(body: Value) -> Reply {
    Reply::json(200, body)
}

fn refuse(status: u16, message: String) -> Reply {
    Reply::json(status, json!({ "error": message }))
}
