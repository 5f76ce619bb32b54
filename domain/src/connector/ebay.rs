//! eBay: the Sell Inventory API's `bulk_update_price_quantity`, one SKU (with up to 25 of its
//! offers) a call, answered per SKU and offer (HTTP 207 when some succeeded and some did not).
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
    // The base spacing; once half the day's 250 revisions are used, `round::spacing_ms` spreads
    // the rest over the rest of the day.
    push_spacing_ms: 2_000,
};

/// eBay error ids that mean the SKU or offer does not exist: 25702 "SKU … is not available",
/// 25710 "resource not found", 25713 "offer is not available".
const NOT_FOUND_ERRORS: [u64; 3] = [25702, 25710, 25713];

/// Whether eBay's words refuse a revision for the listing's daily cap. eBay documents the cap
/// (250 revisions per listing per calendar day) but no error id for it, so the refusal is told
/// by what it says: a revision, and a limit reached.
fn is_cap_refusal(detail: &str) -> bool {
    let words = detail.to_ascii_lowercase();
    words.contains("revis")
        && ["limit", "maximum", "exceed", "per day", "calendar day"]
            .iter()
            .any(|w| words.contains(w))
}

/// SKUs in one call. eBay's method reference says one SKU (a product or variation) per call,
/// its bulk-updates guide up to 25 inventory items; until a real account shows the guide is
/// right, Tally sends one. The 25-SKU form stays behind this setting ([`build_with`]).
pub(super) const SKUS_PER_CALL: usize = 1;

/// The most SKUs one call may carry in either reading of eBay's documents.
const MAX_SKUS_PER_CALL: usize = 25;

/// Offers of one SKU in one update (eBay: up to 25).
const OFFERS_PER_SKU: usize = 25;

pub(super) fn build(target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
    build_with(target, pushes, SKUS_PER_CALL)
}

/// Calls of `skus_per_call` SKU updates each (1 to 25).
fn build_with(target: &Target, pushes: &[Push], skus_per_call: usize) -> Vec<HttpRequest> {
    sku_updates(pushes)
        .chunks(skus_per_call.clamp(1, MAX_SKUS_PER_CALL))
        .map(|updates| bulk_update(target, updates))
        .collect()
}

/// The pushes as eBay's per-SKU updates: the listings that name offers of one SKU together
/// (up to [`OFFERS_PER_SKU`]); a listing without an offer id alone, as the SKU's total.
fn sku_updates(pushes: &[Push]) -> Vec<Vec<&Push>> {
    let mut updates: Vec<Vec<&Push>> = Vec::new();
    for push in pushes {
        let joins = |update: &&mut Vec<&Push>| {
            push.external_sub_id.is_some()
                && update[0].external_sub_id.is_some()
                && update[0].external_id == push.external_id
                && update.len() < OFFERS_PER_SKU
        };
        match updates.iter_mut().find(joins) {
            Some(update) => update.push(push),
            None => updates.push(vec![push]),
        }
    }
    updates
}

fn bulk_update(target: &Target, updates: &[Vec<&Push>]) -> HttpRequest {
    let requests: Vec<Value> = updates.iter().map(|u| sku_update(u)).collect();
    let bearer = format!("Bearer {}", target.credential);
    json_request(
        Method::Post,
        format!(
            "{}/sell/inventory/v1/bulk_update_price_quantity",
            base_url(target)
        ),
        &[("Authorization", &bearer)],
        &json!({ "requests": requests }),
        updates.iter().flatten().map(|p| p.listing_id).collect(),
    )
}

/// A SKU's update: its ship-to-home total, and each named offer's own quantity (an eBay
/// listing shows the lower of the two, so the total is the largest an offer needs).
fn sku_update(pushes: &[&Push]) -> Value {
    let total = pushes.iter().map(|p| p.quantity).max().unwrap_or(0);
    let mut update = json!({
        "sku": pushes[0].external_id,
        "shipToLocationAvailability": { "quantity": total },
    });
    let offers: Vec<Value> = pushes
        .iter()
        .filter_map(|p| {
            let offer_id = p.external_sub_id.as_ref()?;
            Some(json!({ "offerId": offer_id, "availableQuantity": p.quantity }))
        })
        .collect();
    if let (false, Some(fields)) = (offers.is_empty(), update.as_object_mut()) {
        fields.insert("offers".to_owned(), Value::Array(offers));
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

/// The `(sku, offerId)` of each listing sent, in order, read back from the request body: one
/// per offer of an update, or the SKU alone for an update without offers.
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
    let mut keys = Vec::new();
    for update in updates {
        let sku = answer::text(update, "sku").to_owned();
        match update.get("offers").and_then(Value::as_array) {
            Some(offers) if !offers.is_empty() => keys.extend(offers.iter().map(|o| {
                let offer = o.get("offerId").and_then(Value::as_str).map(str::to_owned);
                (sku.clone(), offer)
            })),
            _ => keys.push((sku, None)),
        }
    }
    keys
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
    let cap = is_cap_refusal(&detail);
    let mut refusal = Refusal::of_status(status, code, detail);
    if cap {
        refusal.class = Class::CapReached;
    } else if unknown || status == 404 {
        refusal.class = Class::NotFound;
    } else if answer::is_success(status) {
        // An error beside a success status: eBay did not take the quantity as sent.
        refusal.class = Class::Validation;
    }
    refusal
}

/// Ebay as a [`Connector`](super::platform::Connector): the push path's entry points.
pub struct Ebay;

impl super::platform::Connector for Ebay {
    fn limits(&self) -> Limits {
        LIMITS
    }
    fn build(&self, target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
        build(target, pushes)
    }
    fn parse(&self, request: &HttpRequest, response: &HttpResponse) -> Vec<ItemResult> {
        parse(request, response)
    }
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

    /// Both pushes in one call (the 25-SKU form), to read answers about several SKUs.
    fn both() -> HttpRequest {
        build_with(&ebay(), &pushes(), MAX_SKUS_PER_CALL).remove(0)
    }

    #[test]
    fn each_sku_is_its_own_bulk_update_with_a_bearer_token() {
        let requests = build_requests(&ebay(), &pushes());
        assert_eq!(requests.len(), 2, "one SKU per call");
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
        assert_eq!(request.listing_ids, [1]);
        assert_eq!(
            body(request),
            json!({ "requests": [
                { "sku": "MUG", "shipToLocationAvailability": { "quantity": 3 },
                  "offers": [{ "offerId": "9001", "availableQuantity": 3 }] },
            ]})
        );
        assert_eq!(requests[1].listing_ids, [2]);
        assert_eq!(
            body(&requests[1]),
            json!({ "requests": [
                { "sku": "CUP", "shipToLocationAvailability": { "quantity": 0 } },
            ]})
        );
    }

    #[test]
    fn a_skus_offers_travel_together_each_with_its_own_quantity() {
        let pushes = [
            push(1, 3, "MUG", Some("9001")),
            push(2, 9, "CUP", Some("9100")),
            push(3, 5, "MUG", Some("9002")),
        ];
        let requests = build_requests(&ebay(), &pushes);
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].listing_ids, [1, 3]);
        assert_eq!(
            body(&requests[0]),
            json!({ "requests": [
                { "sku": "MUG", "shipToLocationAvailability": { "quantity": 5 },
                  "offers": [{ "offerId": "9001", "availableQuantity": 3 },
                             { "offerId": "9002", "availableQuantity": 5 }] },
            ]})
        );
        let answer = json!({ "responses": [
            { "statusCode": 200, "sku": "MUG", "offerId": "9002" },
            { "statusCode": 400, "sku": "MUG", "offerId": "9001",
              "errors": [{ "errorId": 25017, "message": "Invalid quantity" }] },
        ]});
        let results = parse_response(&ebay(), &requests[0], &response(207, &answer.to_string()));
        assert_eq!(classes(&results), [(1, "validation"), (3, "ok")]);
        // More than 25 offers of one SKU: a second update.
        let offers: Vec<Push> = (1..=26)
            .map(|i| push(i, 1, "MUG", Some(&format!("O{i}"))))
            .collect();
        let sizes: Vec<usize> = build_requests(&ebay(), &offers)
            .iter()
            .map(|r| r.listing_ids.len())
            .collect();
        assert_eq!(sizes, [25, 1]);
    }

    #[test]
    fn the_25_sku_form_stays_behind_its_setting() {
        let requests = build_with(&ebay(), &many(26, None), MAX_SKUS_PER_CALL);
        let sizes: Vec<usize> = requests.iter().map(|r| r.listing_ids.len()).collect();
        assert_eq!(sizes, [25, 1]);
        assert_eq!(requests[1].listing_ids, [26]);
        assert_eq!(build_requests(&ebay(), &many(3, None)).len(), 3);
    }

    #[test]
    fn a_mixed_answer_is_read_per_sku_whatever_its_order() {
        let request = &both();
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
        let request = &both();
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
        let request = &both();
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
        let request = &both();
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

    #[test]
    fn the_daily_revision_cap_refusal_is_a_wait_not_a_failure() {
        let t = ebay();
        let pushes = [push(7, 3, "MUG", None)];
        let request = &build_requests(&t, &pushes)[0];
        let answer = response(
            207,
            r#"{"responses": [{"statusCode": 400, "sku": "MUG", "errors": [{"errorId": 25002,
                "domain": "API_INVENTORY", "category": "REQUEST",
                "message": "This listing has reached the maximum of 250 revisions for this calendar day."}]}]}"#,
        );
        let results = parse_response(&t, request, &answer);
        assert!(
            matches!(&results[0].outcome, Err(Failure::CapReached { message }) if message.contains("250 revisions")),
            "{:?}",
            results[0].outcome
        );
        assert!(!is_cap_refusal("Invalid value for quantity"));
        assert!(is_cap_refusal(
            "You have exceeded the number of revisions allowed"
        ));
    }
}
