//! eBay Sell Inventory `bulk_update_price_quantity`. Item keys: the SKU. Offer ids are accepted
//! as sent and echoed back; the quantity is the SKU's. Each entry succeeds or fails on its own.

use crate::api::ApiRequest;
use crate::platform::{Platform, Reply};
use crate::store::State;
use serde_json::{json, Value};

pub struct Ebay;

const PATH: &str = "/sell/inventory/v1/bulk_update_price_quantity";
const MAX_REQUESTS: usize = 25;

impl Platform for Ebay {
    fn authorized(&self, request: &ApiRequest, credential: &str) -> bool {
        request
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            == Some(credential)
    }

    fn token(&self, request: &ApiRequest, credential: &str) -> Option<Reply> {
        let granted = request.renews("/identity/v1/oauth2/token", credential)?
            && request
                .header("authorization")
                .is_some_and(|h| h.starts_with("Basic "));
        Some(if granted {
            Reply::json(
                200,
                json!({
                    "access_token": credential,
                    "expires_in": 7200,
                    "token_type": "User Access Token",
                }),
            )
        } else {
            Reply::json(
                400,
                json!({
                    "error": "invalid_grant",
                    "error_description": "the provided authorization refresh token is invalid or was issued to another client",
                }),
            )
        })
    }

    fn unauthorized(&self) -> Reply {
        errors(
            401,
            1001,
            "OAuth",
            "Invalid access token",
            "Invalid access token. Check the value of the Authorization HTTP request header.",
        )
    }

    fn server_error(&self, status: u16) -> Reply {
        errors(
            status,
            25001,
            "API_INVENTORY",
            "A system error has occurred.",
            "A system error has occurred. Try again later.",
        )
    }

    fn throttled(&self, retry_after_s: u64) -> Reply {
        errors(
            429,
            2001,
            "ACCESS",
            "Too many requests",
            "The request limit has been reached for the resource.",
        )
        .header("Retry-After", retry_after_s)
    }

    fn handle(&self, request: &ApiRequest, state: &mut State) -> Reply {
        if request.method != "POST" || request.path != PATH {
            return errors(
                404,
                2002,
                "ACCESS",
                "Resource not found",
                "No resource answers this method and path.",
            );
        }
        let Ok(body) = request.json() else {
            return invalid_request("The request body is not valid JSON.");
        };
        let Some(entries) = body["requests"].as_array() else {
            return invalid_request("The 'requests' array is required.");
        };
        if entries.len() > MAX_REQUESTS {
            return invalid_request(&format!(
                "The number of requests exceeds the maximum of {MAX_REQUESTS}."
            ));
        }
        let responses: Vec<Value> = entries.iter().map(|e| update(e, state)).collect();
        // 207 as soon as one entry failed; 200 only when every entry succeeded.
        let status = if responses.iter().all(|r| r["statusCode"] == 200) {
            200
        } else {
            207
        };
        Reply::json(status, json!({ "responses": responses }))
    }

    fn valid_key(&self, key: &str) -> bool {
        !key.is_empty()
    }
}

/// eBay's error body: `{"errors": [...]}` with one error.
fn errors(status: u16, id: u32, domain: &str, message: &str, long: &str) -> Reply {
    Reply::json(
        status,
        json!({"errors": [{
            "errorId": id, "domain": domain, "category": "REQUEST",
            "message": message, "longMessage": long,
        }]}),
    )
}

fn invalid_request(long: &str) -> Reply {
    errors(400, 2004, "ACCESS", "Invalid request", long)
}

/// One entry: the new quantity is `shipToLocationAvailability.quantity`, else the first
/// offer's `availableQuantity`.
fn update(entry: &Value, state: &mut State) -> Value {
    let sku = entry["sku"].as_str().unwrap_or_default();
    let offer = entry["offers"][0]["offerId"].as_str();
    let mut response = json!({"statusCode": 200, "sku": sku, "errors": [], "warnings": []});
    if let Some(offer) = offer {
        response["offerId"] = json!(offer);
    }
    let quantity = entry["shipToLocationAvailability"]["quantity"]
        .as_i64()
        .or_else(|| entry["offers"][0]["availableQuantity"].as_i64());
    let failure = match (state.items.get_mut(sku), quantity) {
        (None, _) => (
            404,
            25702,
            format!("SKU {sku} is not available in the system"),
        ),
        (Some(_), Some(q)) if q < 0 => (400, 25709, "Invalid value for quantity".into()),
        (Some(current), Some(q)) => {
            *current = q;
            return response;
        }
        (Some(_), None) => (400, 25709, "Invalid value for quantity".into()),
    };
    let (status, id, message) = failure;
    response["statusCode"] = json!(status);
    response["errors"] = json!([{
        "errorId": id, "domain": "API_INVENTORY", "category": "REQUEST", "message": message,
    }]);
    response
}
