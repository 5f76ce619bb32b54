//! Amazon SP-API Listings Items 2021-08-01 `patchListingsItem`, one listing per call, and
//! `getListingsItem` with `includedData=fulfillmentAvailability` (an item with the `fba` trait
//! shows channel `AMAZON_NA` only). Item keys: `<sellerId>/<sku>` with the SKU decoded.

use crate::api::ApiRequest;
use crate::platform::{Platform, Reply};
use crate::store::State;
use serde_json::{json, Value};

pub struct Amazon;

const PREFIX: &str = "/listings/2021-08-01/items/";

impl Platform for Amazon {
    fn authorized(&self, request: &ApiRequest, credential: &str) -> bool {
        request.header("x-amz-access-token") == Some(credential)
    }

    /// Login with Amazon, at the same address in the sandbox (`token_url` points there).
    fn token(&self, request: &ApiRequest, credential: &str) -> Option<Reply> {
        let client = ["client_id", "client_secret"]
            .iter()
            .all(|f| request.form_param(f).is_some_and(|v| !v.is_empty()));
        let granted = request.renews("/auth/o2/token", credential)? && client;
        Some(if granted {
            Reply::json(
                200,
                json!({
                    "access_token": credential,
                    "refresh_token": format!("refresh-{credential}"),
                    "token_type": "bearer",
                    "expires_in": 3600,
                }),
            )
        } else {
            Reply::json(
                400,
                json!({
                    "error": "invalid_grant",
                    "error_description": "The request has an invalid grant parameter : refresh_token",
                }),
            )
        })
    }

    /// SP-API refuses a bad token with 403, not 401.
    fn unauthorized(&self) -> Reply {
        errors(
            403,
            "Unauthorized",
            "Access to requested resource is denied.",
        )
    }

    fn server_error(&self, status: u16) -> Reply {
        errors(
            status,
            "InternalFailure",
            "We encountered an internal error. Please try again.",
        )
    }

    fn throttled(&self, retry_after_s: u64) -> Reply {
        errors(
            429,
            "QuotaExceeded",
            "You exceeded your quota for the requested resource.",
        )
        .header("Retry-After", retry_after_s)
    }

    fn handle(&self, request: &ApiRequest, state: &mut State) -> Reply {
        if request.method == "GET" {
            return read(request, state);
        }
        let Some((seller, sku)) = listing(request) else {
            return errors(404, "NotFound", "Resource not found.");
        };
        if request
            .query_param("marketplaceIds")
            .is_none_or(|m| m.is_empty())
        {
            return errors(400, "InvalidInput", "Missing required 'marketplaceIds'.");
        }
        let Ok(body) = request.json() else {
            return errors(400, "InvalidInput", "The request body is not valid JSON.");
        };
        if !body["productType"].is_string() || !body["patches"].is_array() {
            return errors(
                400,
                "InvalidInput",
                "'productType' and 'patches' are required.",
            );
        }
        let key = format!("{seller}/{sku}");
        let refuses_later = state.traits.get(&key).is_some_and(|t| t.refuses_later);
        let Some(current) = state.items.get_mut(&key) else {
            return errors(
                404,
                "NotFound",
                &format!("No listing with SKU '{sku}' for seller {seller}."),
            );
        };
        match fulfillment_quantity(&body["patches"]) {
            Some(quantity) => {
                if !refuses_later {
                    *current = quantity;
                }
                let submission = state.rng.hex(32);
                Reply::json(
                    200,
                    json!({"sku": sku, "status": "ACCEPTED", "submissionId": submission, "issues": []}),
                )
            }
            None => invalid(&sku, state),
        }
    }

    fn valid_key(&self, key: &str) -> bool {
        key.split_once('/')
            .is_some_and(|(seller, sku)| !seller.is_empty() && !sku.is_empty())
    }
}

/// SP-API's error body.
fn errors(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        json!({"errors": [{"code": code, "message": message, "details": ""}]}),
    )
}

/// `getListingsItem`: the SKU and, when asked for, its fulfilment channels.
fn read(request: &ApiRequest, state: &State) -> Reply {
    let Some((seller, sku)) = listing(request) else {
        return errors(404, "NotFound", "Resource not found.");
    };
    if request
        .query_param("marketplaceIds")
        .is_none_or(|m| m.is_empty())
    {
        return errors(400, "InvalidInput", "Missing required 'marketplaceIds'.");
    }
    let key = format!("{seller}/{sku}");
    let Some(quantity) = state.items.get(&key) else {
        return errors(
            404,
            "NotFound",
            &format!("No listing with SKU '{sku}' for seller {seller}."),
        );
    };
    let mut body = json!({ "sku": sku, "summaries": [] });
    let included = request.query_param("includedData").unwrap_or_default();
    if included.split(',').any(|d| d == "issues") {
        body["issues"] = if state.traits.get(&key).is_some_and(|t| t.refuses_later) {
            json!([{ "code": "90220", "severity": "ERROR",
                     "message": "'fulfillment_availability' is not valid for this offer",
                     "attributeNames": ["fulfillment_availability"] }])
        } else {
            json!([])
        };
    }
    if included.split(',').any(|d| d == "fulfillmentAvailability") {
        body["fulfillmentAvailability"] = if state.traits.get(&key).is_some_and(|t| t.fba) {
            json!([{ "fulfillmentChannelCode": "AMAZON_NA" }])
        } else {
            json!([{ "fulfillmentChannelCode": "DEFAULT", "quantity": quantity }])
        };
    }
    Reply::json(200, body)
}

/// `.../items/<sellerId>/<sku>` of a `PATCH` or `GET`, both decoded. The SKU is one path
/// segment: a `/` in it arrives as `%2F`.
fn listing(request: &ApiRequest) -> Option<(String, String)> {
    if request.method != "PATCH" && request.method != "GET" {
        return None;
    }
    let (seller, sku) = request.path.strip_prefix(PREFIX)?.split_once('/')?;
    if seller.is_empty() || sku.is_empty() || sku.contains('/') {
        return None;
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .ok()
            .map(|d| d.into_owned())
    };
    Some((decode(seller)?, decode(sku)?))
}

/// The quantity set by a `merge`/`replace` of `/attributes/fulfillment_availability`.
fn fulfillment_quantity(patches: &Value) -> Option<i64> {
    let patch = patches.as_array()?.iter().find(|p| {
        matches!(p["op"].as_str(), Some("merge" | "replace"))
            && p["path"] == "/attributes/fulfillment_availability"
    })?;
    patch["value"][0]["quantity"].as_i64().filter(|q| *q >= 0)
}

/// A 200 that refuses the submission: the body was well formed but not a valid quantity patch.
fn invalid(sku: &str, state: &mut State) -> Reply {
    let submission = state.rng.hex(32);
    Reply::json(
        200,
        json!({"sku": sku, "status": "INVALID", "submissionId": submission, "issues": [{
            "code": "90220",
            "message": "'fulfillment_availability' needs a merge or replace with a quantity of 0 or more.",
            "severity": "ERROR",
            "attributeNames": ["fulfillment_availability"],
        }]}),
    )
}
