//! eBay: the Sell Inventory API's `bulk_update_price_quantity`, 25 SKUs a call, answered per
//! SKU (HTTP 207 when some succeeded and some did not).
//!
//! eBay also caps quantity revisions at 250 per listing per day, which [`LIMITS`] reports so
//! the engine can hold back a listing rather than have eBay refuse it.

use super::answer::{self, Class, Refusal};
use super::{
    base_url, json_request, HttpRequest, HttpResponse, ItemResult, Limits, Method, Push, Target,
};
use crate::storefront::StorefrontKind;
use serde_json::{json, Value};

const KIND: StorefrontKind = StorefrontKind::Ebay;

pub(super) const LIMITS: Limits = Limits {
    batch: 25,
    min_interval_ms: 0,
    daily_revisions: Some(250),
};

/// eBay error ids that mean the SKU or offer does not exist: 25702 "SKU … is not available",
/// 25710 "resource not found", 25713 "offer is not available".
const NOT_FOUND_ERRORS: [u64; 3] = [25702, 25710, 25713];

/// One bulk update per 25 pushes.
pub(super) fn build(target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
    pushes
        .chunks(LIMITS.batch)
        .map(|chunk| bulk_update(target, chunk))
        .collect()
}

fn bulk_update(target: &Target, chunk: &[Push]) -> HttpRequest {
    let requests: Vec<Value> = chunk.iter().map(sku_update).collect();
    let bearer = format!("Bearer {}", target.credential);
    json_request(
        Method::Post,
        format!(
            "{}/sell/inventory/v1/bulk_update_price_quantity",
            base_url(target)
        ),
        &[("Authorization", &bearer)],
        &json!({ "requests": requests }),
        chunk.iter().map(|p| p.listing_id).collect(),
    )
}

/// The SKU's ship-to-home quantity, and its offer's quantity when the listing names an offer
/// (otherwise eBay spreads the SKU quantity over its offers itself).
fn sku_update(push: &Push) -> Value {
    let mut update = json!({
        "sku": push.external_id,
        "shipToLocationAvailability": { "quantity": push.quantity },
    });
    if let (Some(offer_id), Some(fields)) = (&push.external_sub_id, update.as_object_mut()) {
        fields.insert(
            "offers".to_owned(),
            json!([{ "offerId": offer_id, "availableQuantity": push.quantity }]),
        );
    }
    update
}

/// One result per listing, matched to eBay's `responses` by SKU and offer id.
pub(super) fn parse(request: &HttpRequest, response: &HttpResponse) -> Vec<ItemResult> {
    let body = answer::json(response);
    if !answer::is_success(response.status) {
        let refusal = status_refusal(response, body.as_ref());
        return answer::all_refused(KIND, request, response, &refusal);
    }
    let Some(responses) = body
        .as_ref()
        .and_then(|b| b.get("responses"))
        .and_then(Value::as_array)
    else {
        return answer::unreadable(KIND, request, response);
    };
    let sent = sent_keys(request);
    let mut taken = vec![false; responses.len()];
    request
        .listing_ids
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let found = match_response(responses, sent.get(i), i, &mut taken);
            item_result(id, found, response)
        })
        .collect()
}

/// A non-2xx answer: its status decides; the first of `errors` gives the words and id.
fn status_refusal(response: &HttpResponse, body: Option<&Value>) -> Refusal {
    match body.and_then(first_error) {
        Some((code, detail)) => Refusal::of_status(response.status, code, detail),
        None => Refusal::of_status(response.status, None, answer::plain_text(&response.body)),
    }
}

/// The `errorId` and message of the first entry of a value's `errors`.
fn first_error(value: &Value) -> Option<(Option<String>, String)> {
    let error = value.get("errors")?.as_array()?.first()?;
    let id = error.get("errorId").map(|id| match id {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    });
    Some((id, answer::text(error, "message").to_owned()))
}

/// The `(sku, offerId)` of each update sent, in order, read back from the request body.
fn sent_keys(request: &HttpRequest) -> Vec<(String, Option<String>)> {
    let body: Option<Value> = request
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok());
    let Some(updates) = body
        .as_ref()
        .and_then(|b| b.get("requests"))
        .and_then(Value::as_array)
    else {
        return Vec::new();
    };
    updates
        .iter()
        .map(|u| {
            let offer = u
                .pointer("/offers/0/offerId")
                .and_then(Value::as_str)
                .map(str::to_owned);
            (answer::text(u, "sku").to_owned(), offer)
        })
        .collect()
}

/// The response for the `index`th update: the one at the same place when it is for the same
/// SKU, else the first unclaimed one for it. eBay does not promise to keep request order.
fn match_response<'a>(
    responses: &'a [Value],
    sent: Option<&(String, Option<String>)>,
    index: usize,
    taken: &mut [bool],
) -> Option<&'a Value> {
    let fits = |r: &Value| match sent {
        None => true,
        Some((sku, offer)) => {
            let their_offer = r.get("offerId").and_then(Value::as_str);
            answer::text(r, "sku") == sku
                && match (offer.as_deref(), their_offer) {
                    (Some(ours), Some(theirs)) => ours == theirs,
                    _ => true,
                }
        }
    };
    let at = if responses.get(index).is_some_and(&fits) && !taken[index] {
        index
    } else {
        (0..responses.len()).find(|&j| !taken[j] && fits(&responses[j]))?
    };
    taken[at] = true;
    responses.get(at)
}

fn item_result(listing_id: i64, found: Option<&Value>, response: &HttpResponse) -> ItemResult {
    let Some(item) = found else {
        let missing = Refusal {
            class: Class::Validation,
            status: response.status,
            code: None,
            detail: "its answer did not mention this listing".to_owned(),
        };
        return answer::refused(KIND, listing_id, &missing, response);
    };
    let status = item
        .get("statusCode")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok())
        .unwrap_or(response.status);
    match first_error(item) {
        None if answer::is_success(status) => answer::ok(listing_id, status),
        found => {
            let (code, detail) = found.unwrap_or_default();
            answer::refused(
                KIND,
                listing_id,
                &item_refusal(status, code, detail),
                response,
            )
        }
    }
}

/// An item's own refusal; a 404 or an unknown-SKU error id means eBay has no such listing.
fn item_refusal(status: u16, code: Option<String>, detail: String) -> Refusal {
    let unknown = code
        .as_deref()
        .and_then(|c| c.parse::<u64>().ok())
        .is_some_and(|id| NOT_FOUND_ERRORS.contains(&id));
    let mut refusal = Refusal::of_status(status, code, detail);
    if unknown || status == 404 {
        refusal.class = Class::NotFound;
    } else if answer::is_success(status) {
        // An error beside a success status: eBay did not take the quantity as sent.
        refusal.class = Class::Validation;
    }
    refusal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::fixtures::{
        body, classes, failure, headers, many, push, response, target, with_header,
    };
    use crate::connector::{build_requests, parse_response, Failure};

    fn ebay() -> Target {
        target(StorefrontKind::Ebay)
    }

    fn pushes() -> Vec<Push> {
        vec![push(1, 3, "MUG", Some("9001")), push(2, 0, "CUP", None)]
    }

    #[test]
    fn a_batch_is_one_bulk_update_with_a_bearer_token() {
        let requests = build_requests(&ebay(), &pushes());
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(request.method, Method::Post);
        assert_eq!(
            request.url,
            "https://api.ebay.com/sell/inventory/v1/bulk_update_price_quantity"
        );
        assert_eq!(
            headers(request),
            [
                ("Authorization", "Bearer v^1.1#token"),
                ("Content-Type", "application/json")
            ]
        );
        assert_eq!(request.listing_ids, [1, 2]);
        assert_eq!(
            body(request),
            json!({ "requests": [
                { "sku": "MUG", "shipToLocationAvailability": { "quantity": 3 },
                  "offers": [{ "offerId": "9001", "availableQuantity": 3 }] },
                { "sku": "CUP", "shipToLocationAvailability": { "quantity": 0 } },
            ]})
        );
    }

    #[test]
    fn pushes_past_25_start_a_second_call() {
        let requests = build_requests(&ebay(), &many(26, None));
        let sizes: Vec<usize> = requests.iter().map(|r| r.listing_ids.len()).collect();
        assert_eq!(sizes, [25, 1]);
        assert_eq!(requests[1].listing_ids, [26]);
    }

    #[test]
    fn a_mixed_answer_is_read_per_sku_whatever_its_order() {
        let request = &build_requests(&ebay(), &pushes())[0];
        let answer = json!({ "responses": [
            { "statusCode": 404, "sku": "CUP", "errors": [{ "errorId": 25702,
                "domain": "API_INVENTORY", "category": "REQUEST",
                "message": "SKU CUP is not available in the system" }] },
            { "statusCode": 200, "sku": "MUG", "offerId": "9001", "errors": [], "warnings": [] },
        ]});
        let results = parse_response(&ebay(), request, &response(207, &answer.to_string()));
        assert_eq!(classes(&results), [(1, "ok"), (2, "not_found")]);
        assert_eq!(results[0].answer, "200 OK");
        assert_eq!(
            failure(&results[1]),
            &Failure::NotFound {
                message: "eBay does not know this listing (404): SKU CUP is not available in \
                          the system (25702)"
                    .to_owned()
            }
        );
        assert_eq!(
            results[1].answer,
            "207: SKU CUP is not available in the system (25702)"
        );
    }

    #[test]
    fn item_errors_that_are_not_about_existence_are_validation() {
        let request = &build_requests(&ebay(), &pushes())[0];
        let answer = json!({ "responses": [
            { "statusCode": 400, "sku": "MUG", "offerId": "9001", "errors": [{
                "errorId": 25017, "message": "Invalid quantity" }] },
        ]});
        let results = parse_response(&ebay(), request, &response(207, &answer.to_string()));
        assert_eq!(classes(&results), [(1, "validation"), (2, "validation")]);
        assert_eq!(
            failure(&results[0]),
            &Failure::Validation {
                message: "eBay refused the update (400): Invalid quantity (25017)".to_owned()
            }
        );
        assert_eq!(
            failure(&results[1]),
            &Failure::Validation {
                message: "eBay refused the update: its answer did not mention this listing"
                    .to_owned()
            }
        );
    }

    #[test]
    fn a_refused_token_fails_every_listing() {
        let request = &build_requests(&ebay(), &pushes())[0];
        let body = json!({ "errors": [{ "errorId": 1001, "domain": "OAuth",
            "category": "REQUEST", "message": "Invalid access token",
            "longMessage": "Invalid access token. Check the value of the Authorization header." }]});
        let results = parse_response(&ebay(), request, &response(401, &body.to_string()));
        assert_eq!(classes(&results), [(1, "auth"), (2, "auth")]);
        assert_eq!(
            failure(&results[0]),
            &Failure::Auth {
                message: "eBay refused the access token (401): Invalid access token (1001)"
                    .to_owned()
            }
        );
        assert_eq!(results[0].answer, "401: Invalid access token (1001)");
    }

    #[test]
    fn rate_limits_server_errors_and_garbage() {
        let request = &build_requests(&ebay(), &pushes())[0];
        let body = r#"{"errors": [{"errorId": 2001, "message": "Too many requests"}]}"#;
        let limited = with_header(response(429, body), "retry-after", "60");
        let results = parse_response(&ebay(), request, &limited);
        assert_eq!(
            failure(&results[0]),
            &Failure::RateLimited {
                message: "eBay asked Tally to slow down (429): Too many requests (2001)".to_owned(),
                retry_after_ms: Some(60_000),
            }
        );
        let results = parse_response(&ebay(), request, &response(500, "{not json"));
        assert_eq!(classes(&results), [(1, "unavailable"), (2, "unavailable")]);
        let results = parse_response(&ebay(), request, &response(200, "{not json"));
        assert_eq!(classes(&results), [(1, "validation"), (2, "validation")]);
    }
}
