//! eBay Sell Inventory `bulk_update_price_quantity`. Item keys: the SKU. As the method reference
//! says, a call updates one SKU, with up to 25 of its offers; a second SKU is refused. Offer ids
//! are accepted as sent and answered one response each; the item keeps the SKU's ship-to-home
//! quantity. Each offer succeeds or fails on its own.

use crate::api::ApiRequest;
use crate::platform::{Platform, Reply};
use crate::store::State;
use serde_json::{json, Value};

pub struct Ebay;

const PATH: &str = "/sell/inventory/v1/bulk_update_price_quantity";
const MAX_OFFERS: usize = 25;

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
        let mut skus: Vec<&str> = entries.iter().filter_map(|e| e["sku"].as_str()).collect();
        skus.sort_unstable();
        skus.dedup();
        if skus.len() > 1 {
            return invalid_request("Only one SKU can be updated per call.");
        }
        let offers = entries
            .iter()
            .map(|e| e["offers"].as_array().map_or(0, Vec::len))
            .sum::<usize>();
        if offers > MAX_OFFERS {
            return invalid_request(&format!(
                "The number of offers exceeds the maximum of {MAX_OFFERS}."
            ));
        }
        let responses: Vec<Value> = entries.iter().flat_map(|e| update(e, state)).collect();
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

/// eBay's revisions per listing per calendar day.
const DAILY_REVISIONS: u32 = 250;

/// The eBay listing an item's revisions count against: its group's, else its own.
fn listing_of(sku: &str, state: &State) -> String {
    state
        .traits
        .get(sku)
        .and_then(|t| t.group.clone())
        .unwrap_or_else(|| sku.to_owned())
}

/// Revisions today of the item's listing: the most any of its items was told it had
/// (`revisions_today`), or counted since.
fn revisions_used_up(sku: &str, state: &State) -> bool {
    let listing = listing_of(sku, state);
    let preset = state
        .traits
        .iter()
        .filter(|(key, t)| t.group.as_deref() == Some(listing.as_str()) || key.as_str() == listing)
        .filter_map(|(_, t)| t.revisions_today)
        .max()
        .unwrap_or(0);
    let counted = state.revisions.get(&listing).copied().unwrap_or(0);
    preset.max(counted) >= DAILY_REVISIONS
}

fn count_revision(sku: &str, state: &mut State) {
    let listing = listing_of(sku, state);
    *state.revisions.entry(listing).or_default() += 1;
}

fn invalid_request(long: &str) -> Reply {
    errors(400, 2004, "ACCESS", "Invalid request", long)
}

/// One entry: the new quantity is `shipToLocationAvailability.quantity`, else the first
/// offer's `availableQuantity`; one response per offer, or one for the SKU without offers.
fn update(entry: &Value, state: &mut State) -> Vec<Value> {
    let sku = entry["sku"].as_str().unwrap_or_default();
    let offers: Vec<&Value> = entry["offers"]
        .as_array()
        .map(|o| o.iter().collect())
        .unwrap_or_default();
    let quantity = entry["shipToLocationAvailability"]["quantity"]
        .as_i64()
        .or_else(|| offers.first().and_then(|o| o["availableQuantity"].as_i64()));
    let used_up = revisions_used_up(sku, state);
    let failure = match (state.items.get_mut(sku), quantity) {
        (None, _) => Some((
            404,
            25702,
            format!("SKU {sku} is not available in the system"),
        )),
        (Some(_), Some(q)) if q < 0 => Some((400, 25709, "Invalid value for quantity".into())),
        (Some(_), Some(_)) if used_up => Some((
            400,
            25002,
            format!(
                "This listing has reached the maximum of {DAILY_REVISIONS} revisions for this \
                 calendar day."
            ),
        )),
        (Some(current), Some(q)) => {
            *current = q;
            None
        }
        (Some(_), None) => Some((400, 25709, "Invalid value for quantity".into())),
    };
    if failure.is_none() {
        count_revision(sku, state);
    }
    let response = |offer: Option<&Value>| {
        let mut response = json!({"statusCode": 200, "sku": sku, "errors": [], "warnings": []});
        if let Some(offer_id) = offer.and_then(|o| o["offerId"].as_str()) {
            response["offerId"] = json!(offer_id);
        }
        let offer_quantity = offer.and_then(|o| o["availableQuantity"].as_i64());
        let failure = failure.clone().or_else(|| {
            offer_quantity
                .filter(|q| *q < 0)
                .map(|_| (400, 25709, "Invalid value for availableQuantity".to_owned()))
        });
        if let Some((status, id, message)) = failure {
            response["statusCode"] = json!(status);
            response["errors"] = json!([{
                "errorId": id, "domain": "API_INVENTORY", "category": "REQUEST", "message": message,
            }]);
        }
        response
    };
    if offers.is_empty() {
        vec![response(None)]
    } else {
        offers.into_iter().map(|o| response(Some(o))).collect()
    }
}
