//! Shopify: the Admin GraphQL `inventorySetQuantities` mutation, with compare-and-set
//! (`changeFromQuantity`) and an idempotency key, plus the re-read Tally makes after a
//! compare-and-set miss.
//!
//! Shopify applies a call all or nothing: one refused quantity means none of the call landed,
//! so the other listings of that call are retried too.

use super::answer::{self, Class, Refusal};
use super::{
    base_url, json_request, HttpRequest, HttpResponse, ItemResult, Limits, Method, Push, Target,
};
use crate::connector::Failure;
use crate::storefront::StorefrontKind;
use serde_json::{json, Value};

const KIND: StorefrontKind = StorefrontKind::Shopify;

/// 250 quantities per call; pacing follows the cost bucket ([`pause_after`]), not a timer.
pub(super) const LIMITS: Limits = Limits {
    batch: 250,
    min_interval_ms: 0,
    daily_revisions: None,
    // The cost bucket refills 50 points a second (standard plans); a push costs about 10, so
    // a listing a second leaves room for the rest of the store's pushes and reads.
    push_spacing_ms: 1_000,
};

/// The Admin API version every Shopify call names (pushes, re-reads, polls, webhook
/// subscriptions). Shopify supports a stable version for at least twelve months: 2026-04 is
/// served until April 2027, after which Shopify answers with the oldest version it still
/// supports. Move it forward (with the sandbox's `PATH`) once a year, after reading that
/// version's changelog for the mutations above.
pub const API_VERSION: &str = "2026-04";

/// Reads the "available" quantity of many items at one location.
const LEVELS_QUERY: &str = "query Levels($ids: [ID!]!, $location: ID!) { nodes(ids: $ids) { ... on InventoryItem { id inventoryLevel(locationId: $location) { quantities(names: [\"available\"]) { name quantity } } } } }";

/// The user error code of a compare-and-set miss.
const STALE: &str = "CHANGE_FROM_QUANTITY_STALE";

fn url(target: &Target) -> String {
    format!("{}/admin/api/{API_VERSION}/graphql.json", base_url(target))
}

fn gid(resource: &str, id: &str) -> String {
    format!("gid://shopify/{resource}/{id}")
}

fn post(target: &Target, body: &Value, listing_ids: Vec<i64>) -> HttpRequest {
    let token = [("X-Shopify-Access-Token", target.credential.as_str())];
    json_request(Method::Post, url(target), &token, body, listing_ids)
}

/// One `inventorySetQuantities` call per 250 pushes. Shopify refuses a call that names one
/// item at one location twice, so a repeat (two links to one item, or a listing queued twice)
/// goes in the next call, after the first has landed.
pub(super) fn build(target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
    calls(pushes)
        .iter()
        .map(|call| set_quantities(target, call))
        .collect()
}

/// Pushes split into calls of at most 250, none naming one item at one location twice;
/// the pushes keep their order within and across calls.
fn calls(pushes: &[Push]) -> Vec<Vec<Push>> {
    let mut calls: Vec<Vec<Push>> = Vec::new();
    let mut current: Vec<Push> = Vec::new();
    for push in pushes {
        let repeats = current.iter().any(|p| {
            p.external_id == push.external_id && p.external_sub_id == push.external_sub_id
        });
        if repeats || current.len() == LIMITS.batch {
            calls.push(std::mem::take(&mut current));
        }
        current.push(push.clone());
    }
    if !current.is_empty() {
        calls.push(current);
    }
    calls
}

/// The idempotency key of a call. A plain retry of the same pushes sends the same key, so
/// Shopify recognises it; anything that makes it a different request makes a different key:
/// another quantity or compare-and-set value (after a stale answer or a rules change), other
/// item or location ids (a listing fixed by the seller), or a new key round (Shopify refused
/// to repeat the last attempt). A single push is named by its listing and version, for
/// reading the history; the rest is hashed.
fn idempotency_key(call: &[Push]) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for p in call {
        let expected = p.expected_current.map_or("n".to_owned(), |e| e.to_string());
        let location = p.external_sub_id.as_deref().unwrap_or_default();
        hash.update(format!(
            "{}:{}:{}:{}:{location}:{}:{expected};",
            p.listing_id, p.version, p.key_round, p.external_id, p.quantity
        ));
    }
    let hex: String = hash
        .finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect();
    match call {
        [only] => format!("tally-{}-{}-{hex}", only.listing_id, only.version),
        _ => format!("tally-batch-{hex}"),
    }
}

/// The mutation text. Shopify takes `@idempotent` on the mutation field (the key is made of
/// digits, letters and dashes, so it needs no escaping inside the GraphQL string).
fn mutation(key: &str) -> String {
    format!(
        "mutation SetQuantities($input: InventorySetQuantitiesInput!) {{ \
         inventorySetQuantities(input: $input) @idempotent(key: \"{key}\") {{ \
         inventoryAdjustmentGroup {{ id }} userErrors {{ code field message }} }} }}"
    )
}

fn set_quantities(target: &Target, chunk: &[Push]) -> HttpRequest {
    let key = idempotency_key(chunk);
    let quantities: Vec<Value> = chunk.iter().map(quantity_input).collect();
    let body = json!({
        "query": mutation(&key),
        "variables": {
            "input": {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": format!("tally://sync/{key}"),
                "quantities": quantities,
            }
        }
    });
    post(target, &body, chunk.iter().map(|p| p.listing_id).collect())
}

/// One quantity; `changeFromQuantity` is always sent (null skips the compare), as 2026-04
/// requires.
fn quantity_input(push: &Push) -> Value {
    json!({
        "inventoryItemId": gid("InventoryItem", &push.external_id),
        "locationId": gid("Location", push.external_sub_id.as_deref().unwrap_or_default()),
        "quantity": push.quantity,
        "changeFromQuantity": push.expected_current,
    })
}

/// One result per listing of a set-quantities call.
pub(super) fn parse(request: &HttpRequest, response: &HttpResponse) -> Vec<ItemResult> {
    let body = answer::json(response);
    if !answer::is_success(response.status) {
        let refusal = status_refusal(response, body.as_ref());
        return answer::all_refused(KIND, request, response, &refusal);
    }
    let Some(body) = body else {
        return answer::unreadable(KIND, request, response);
    };
    if let Some(refusal) = errors_refusal(response.status, &body) {
        // A throttled call without `Retry-After` waits for the bucket to refill.
        let wait = answer::retry_after_ms(response).or_else(|| bucket_wait(&body));
        return answer::all_refused_after(KIND, request, response, &refusal, wait);
    }
    match body.pointer("/data/inventorySetQuantities") {
        Some(payload) if payload.is_object() => payload_results(request, response, payload),
        _ => answer::unreadable(KIND, request, response),
    }
}

/// A non-2xx answer: its status decides; the body's `errors` (text or list) gives the words.
fn status_refusal(response: &HttpResponse, body: Option<&Value>) -> Refusal {
    let detail = match body.and_then(|b| b.get("errors")) {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(list)) => list
            .first()
            .map(|e| answer::text(e, "message").to_owned())
            .unwrap_or_default(),
        _ => answer::plain_text(&response.body),
    };
    Refusal::of_status(response.status, None, detail)
}

/// Top-level GraphQL `errors` in a 200: the whole call failed (throttled, denied, or a query
/// Shopify could not run).
fn errors_refusal(status: u16, body: &Value) -> Option<Refusal> {
    let first = match body.get("errors")? {
        Value::Array(list) => list.first()?.clone(),
        Value::String(text) => json!({ "message": text }),
        _ => return None,
    };
    let code = first
        .pointer("/extensions/code")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let class = match code.as_deref() {
        Some("THROTTLED") => Class::RateLimited,
        Some("ACCESS_DENIED") => Class::Auth,
        Some("INTERNAL_SERVER_ERROR") => Class::Unavailable,
        _ => Class::Validation,
    };
    Some(Refusal {
        class,
        status,
        code,
        detail: answer::text(&first, "message").to_owned(),
    })
}

/// A `userErrors` entry, with the index of the quantity it names when it names one.
struct UserError {
    code: String,
    message: String,
    index: Option<usize>,
}

impl UserError {
    fn read(value: &Value) -> UserError {
        UserError {
            code: answer::text(value, "code").to_owned(),
            message: answer::text(value, "message").to_owned(),
            index: quantity_index(value.get("field")),
        }
    }

    fn is_stale(&self) -> bool {
        self.code == STALE
    }

    fn refusal(&self, status: u16) -> Refusal {
        let class = match self.code.as_str() {
            "INVALID_INVENTORY_ITEM" | "INVALID_LOCATION" | "ITEM_NOT_STOCKED_AT_LOCATION" => {
                Class::NotFound
            }
            // Another request under this key is still running: the same key, a little later.
            "IDEMPOTENCY_CONCURRENT_REQUEST" => Class::Unavailable,
            // The key's earlier attempt failed, or was made with other values: a new key.
            "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED" | "IDEMPOTENCY_KEY_PARAMETER_MISMATCH" => {
                Class::KeyRefused
            }
            // A bundle: Shopify counts it from its components.
            "NON_MUTABLE_INVENTORY_ITEM" => Class::NotSettable,
            _ => Class::Validation,
        };
        Refusal {
            class,
            status,
            code: Some(self.code.clone()).filter(|c| !c.is_empty()),
            detail: self.message.clone(),
        }
    }

    /// The result for the listing this error names. A stale compare carries no current
    /// quantity, so the engine re-reads it.
    fn result(&self, listing_id: i64, response: &HttpResponse) -> ItemResult {
        let refusal = self.refusal(response.status);
        if !self.is_stale() {
            return answer::refused(KIND, listing_id, &refusal, response);
        }
        let detail = answer::clip(&self.message, answer::DETAIL_CHARS);
        ItemResult {
            listing_id,
            outcome: Err(Failure::Stale {
                message: format!(
                    "Shopify holds a different quantity than Tally expected: {detail}"
                ),
                current: None,
            }),
            answer: refusal.answer(response.status),
        }
    }
}

/// The quantity index in a user error's `field`, e.g. `["input", "quantities", "3", ...]`.
fn quantity_index(field: Option<&Value>) -> Option<usize> {
    let parts = field?.as_array()?;
    let at = parts
        .iter()
        .position(|p| p.as_str() == Some("quantities"))?;
    parts.get(at + 1)?.as_str()?.parse().ok()
}

/// Results from the mutation's payload: named listings get their error; the others landed
/// only if Shopify made an adjustment group.
fn payload_results(
    request: &HttpRequest,
    response: &HttpResponse,
    payload: &Value,
) -> Vec<ItemResult> {
    let applied = payload
        .get("inventoryAdjustmentGroup")
        .is_some_and(|group| !group.is_null());
    let errors: Vec<UserError> = payload
        .get("userErrors")
        .and_then(Value::as_array)
        .map(|list| list.iter().map(UserError::read).collect())
        .unwrap_or_default();
    if errors.is_empty() && !applied {
        return answer::unreadable(KIND, request, response);
    }
    let count = request.listing_ids.len();
    // An error that names no listing of this call is about the call itself.
    if let Some(general) = errors.iter().find(|e| e.index.is_none_or(|i| i >= count)) {
        return request
            .listing_ids
            .iter()
            .map(|&id| general.result(id, response))
            .collect();
    }
    let stale = errors.iter().any(UserError::is_stale);
    request
        .listing_ids
        .iter()
        .enumerate()
        .map(
            |(i, &id)| match errors.iter().find(|e| e.index == Some(i)) {
                Some(error) => error.result(id, response),
                None if applied => answer::ok(id, response.status),
                None => answer::not_applied(KIND, id, stale, response.status),
            },
        )
        .collect()
}

/// Milliseconds until the cost bucket holds what the last call cost, when it holds less.
pub(super) fn pause_after(response: &HttpResponse) -> Option<u64> {
    answer::json(response).and_then(|body| bucket_wait(&body))
}

fn bucket_wait(body: &Value) -> Option<u64> {
    let cost = body.pointer("/extensions/cost")?;
    let requested = cost.get("requestedQueryCost")?.as_f64()?;
    let available = cost
        .pointer("/throttleStatus/currentlyAvailable")?
        .as_f64()?;
    let restore_rate = cost.pointer("/throttleStatus/restoreRate")?.as_f64()?;
    if available >= requested || restore_rate <= 0.0 {
        return None;
    }
    Some(((requested - available) / restore_rate * 1000.0).ceil() as u64)
}

/// One `nodes` query per location (and per 250 items) for the stale pushes. Pushes without a
/// location cannot be read and are left out.
pub(super) fn build_reread(target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
    let mut requests = Vec::new();
    for (location, group) in by_location(pushes) {
        for chunk in group.chunks(LIMITS.batch) {
            requests.push(levels_request(target, location, chunk));
        }
    }
    requests
}

/// Pushes grouped by location, locations in first-seen order.
fn by_location(pushes: &[Push]) -> Vec<(&str, Vec<&Push>)> {
    let mut groups: Vec<(&str, Vec<&Push>)> = Vec::new();
    for push in pushes {
        let Some(location) = push.external_sub_id.as_deref() else {
            continue;
        };
        match groups.iter_mut().find(|(l, _)| *l == location) {
            Some((_, group)) => group.push(push),
            None => groups.push((location, vec![push])),
        }
    }
    groups
}

fn levels_request(target: &Target, location: &str, chunk: &[&Push]) -> HttpRequest {
    let ids: Vec<String> = chunk
        .iter()
        .map(|p| gid("InventoryItem", &p.external_id))
        .collect();
    let body = json!({
        "query": LEVELS_QUERY,
        "variables": { "ids": ids, "location": gid("Location", location) },
    });
    post(target, &body, chunk.iter().map(|p| p.listing_id).collect())
}

/// `(listing_id, available)` for each node Shopify answered with the item asked for; null
/// nodes (unknown items) and items not stocked at the location are left out.
pub(super) fn parse_reread(request: &HttpRequest, response: &HttpResponse) -> Vec<(i64, i64)> {
    if !answer::is_success(response.status) {
        return Vec::new();
    }
    let Some(body) = answer::json(response) else {
        return Vec::new();
    };
    let Some(nodes) = body.pointer("/data/nodes").and_then(Value::as_array) else {
        return Vec::new();
    };
    let sent: Option<Value> = request
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok());
    let asked = sent.as_ref().and_then(|s| s.pointer("/variables/ids"));
    request
        .listing_ids
        .iter()
        .zip(nodes)
        .enumerate()
        .filter_map(|(i, (&listing_id, node))| {
            let expected = asked.and_then(|ids| ids.get(i)).and_then(Value::as_str);
            available(node, expected).map(|quantity| (listing_id, quantity))
        })
        .collect()
}

/// The "available" quantity of one node, if it is the item that was asked for.
fn available(node: &Value, expected_id: Option<&str>) -> Option<i64> {
    let id = node.get("id").and_then(Value::as_str);
    if let (Some(id), Some(expected)) = (id, expected_id) {
        if id != expected {
            return None;
        }
    }
    node.pointer("/inventoryLevel/quantities")?
        .as_array()?
        .iter()
        .find(|q| answer::text(q, "name") == "available")?
        .get("quantity")?
        .as_i64()
}

/// Shopify as a [`Connector`](super::platform::Connector): the push path's entry points.
pub struct Shopify;

impl super::platform::Connector for Shopify {
    fn limits(&self) -> Limits {
        LIMITS
    }
    fn build(&self, target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
        build(target, pushes)
    }
    fn parse(&self, request: &HttpRequest, response: &HttpResponse) -> Vec<ItemResult> {
        parse(request, response)
    }
    fn pause_after(&self, response: &HttpResponse) -> Option<u64> {
        pause_after(response)
    }
    fn build_reread(&self, target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
        build_reread(target, pushes)
    }
    fn parse_reread(&self, request: &HttpRequest, response: &HttpResponse) -> Vec<(i64, i64)> {
        parse_reread(request, response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::fixtures::{
        body, classes, failure, headers, many, push, response, target, with_header,
    };
    use crate::connector::{build_requests, build_reread, parse_reread, parse_response};

    const URL: &str = "https://mugs.myshopify.com/admin/api/2026-04/graphql.json";

    fn shop() -> Target {
        target(StorefrontKind::Shopify)
    }

    fn two_pushes() -> Vec<Push> {
        let mut first = push(11, 5, "4031", Some("77"));
        first.expected_current = Some(8);
        vec![first, push(12, 0, "4032", Some("77"))]
    }

    fn user_error(code: &str, index: usize, message: &str) -> String {
        json!({
            "data": { "inventorySetQuantities": {
                "inventoryAdjustmentGroup": null,
                "userErrors": [{
                    "code": code,
                    "field": ["input", "quantities", index.to_string(), "changeFromQuantity"],
                    "message": message,
                }],
            }}
        })
        .to_string()
    }

    #[test]
    fn a_batch_is_one_mutation_with_ids_compare_quantities_and_a_batch_key() {
        let requests = build_requests(&shop(), &two_pushes());
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(request.method, Method::Post);
        assert_eq!(request.url, URL);
        assert_eq!(
            headers(request),
            [
                ("X-Shopify-Access-Token", "shpat_abc"),
                ("Content-Type", "application/json")
            ]
        );
        assert_eq!(request.listing_ids, [11, 12]);
        let key = idempotency_key(&two_pushes());
        assert!(
            key.starts_with("tally-batch-") && key.len() == 12 + 24,
            "{key}"
        );
        let expected = json!({
            "query": format!("mutation SetQuantities($input: InventorySetQuantitiesInput!) {{ inventorySetQuantities(input: $input) @idempotent(key: \"{key}\") {{ inventoryAdjustmentGroup {{ id }} userErrors {{ code field message }} }} }}"),
            "variables": { "input": {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": format!("tally://sync/{key}"),
                "quantities": [
                    { "inventoryItemId": "gid://shopify/InventoryItem/4031",
                      "locationId": "gid://shopify/Location/77",
                      "quantity": 5, "changeFromQuantity": 8 },
                    { "inventoryItemId": "gid://shopify/InventoryItem/4032",
                      "locationId": "gid://shopify/Location/77",
                      "quantity": 0, "changeFromQuantity": null },
                ],
            }},
        });
        assert_eq!(body(request), expected);
    }

    #[test]
    fn a_single_push_keeps_its_own_idempotency_key() {
        let requests = build_requests(&shop(), &[push(3, 1, "9", Some("2"))]);
        let sent = body(&requests[0]);
        let query = sent["query"].as_str().unwrap_or_default();
        let key = idempotency_key(&[push(3, 1, "9", Some("2"))]);
        assert!(key.starts_with("tally-3-7-"), "{key}");
        assert!(
            query.contains(&format!("@idempotent(key: \"{key}\")")),
            "{query}"
        );
        assert_eq!(
            sent["variables"]["input"]["referenceDocumentUri"],
            format!("tally://sync/{key}")
        );
    }

    #[test]
    fn a_plain_retry_keeps_its_key_and_anything_that_makes_a_new_request_changes_it() {
        let pushes = two_pushes();
        let first = idempotency_key(&pushes);
        assert_eq!(idempotency_key(&pushes), first, "a plain retry");
        let changes: [fn(&mut Push); 6] = [
            |p| p.expected_current = Some(4),          // after a stale answer
            |p| p.quantity += 1,                       // the channel rules changed
            |p| p.external_id.push('0'),               // the seller fixed the item id
            |p| p.external_sub_id = Some("78".into()), // ...or the location
            |p| p.key_round += 1,                      // Shopify refused the last key
            |p| p.version += 1,                        // a new change
        ];
        for change in changes {
            for call in [pushes.clone(), pushes[..1].to_vec()] {
                let before = idempotency_key(&call);
                let mut changed = call.clone();
                change(&mut changed[0]);
                assert_ne!(idempotency_key(&changed), before);
            }
        }
    }

    #[test]
    fn one_item_at_one_location_is_named_once_per_call() {
        let mut pushes = many(3, Some("77"));
        let mut repeat = pushes[0].clone();
        repeat.listing_id = 9;
        pushes.insert(2, repeat);
        let requests = build_requests(&shop(), &pushes);
        let ids: Vec<Vec<i64>> = requests.iter().map(|r| r.listing_ids.clone()).collect();
        assert_eq!(ids, [vec![1, 2], vec![9, 3]]);
        // The same item at another location is another inventory level: one call.
        let mut elsewhere = many(1, Some("77"));
        let mut other = elsewhere[0].clone();
        other.listing_id = 2;
        other.external_sub_id = Some("78".into());
        elsewhere.push(other);
        assert_eq!(build_requests(&shop(), &elsewhere).len(), 1);
    }

    #[test]
    fn idempotency_and_bundle_errors_have_their_own_classes() {
        let request = &build_requests(&shop(), &two_pushes())[0];
        let refused = |code: &str, field: Value| {
            let body = json!({ "data": { "inventorySetQuantities": {
                "inventoryAdjustmentGroup": null,
                "userErrors": [{ "code": code, "field": field, "message": "said" }] } } });
            parse(request, &response(200, &body.to_string()))
        };
        let whole_call = Value::Null;
        assert_eq!(
            classes(&refused(
                "IDEMPOTENCY_CONCURRENT_REQUEST",
                whole_call.clone()
            )),
            [(11, "unavailable"), (12, "unavailable")]
        );
        for code in [
            "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
            "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
        ] {
            assert_eq!(
                classes(&refused(code, whole_call.clone())),
                [(11, "key_refused"), (12, "key_refused")]
            );
        }
        // A bundle is refused for itself; the other quantity did not land (all or nothing).
        let bundle = refused(
            "NON_MUTABLE_INVENTORY_ITEM",
            json!(["input", "quantities", "1", "inventoryItemId"]),
        );
        assert_eq!(classes(&bundle)[1], (12, "not_settable"));
        assert!(bundle[0].outcome.is_err());
    }

    #[test]
    fn pushes_past_250_start_a_second_call() {
        let requests = build_requests(&shop(), &many(251, Some("77")));
        let sizes: Vec<usize> = requests.iter().map(|r| r.listing_ids.len()).collect();
        assert_eq!(sizes, [250, 1]);
        assert_eq!(requests[1].listing_ids, [251]);
        assert!(body(&requests[0])["query"]
            .as_str()
            .is_some_and(|q| q.contains("@idempotent(key: \"tally-batch-")));
    }

    #[test]
    fn an_applied_call_succeeds_for_every_listing() {
        let request = &build_requests(&shop(), &two_pushes())[0];
        let ok = json!({
            "data": { "inventorySetQuantities": {
                "inventoryAdjustmentGroup": { "id": "gid://shopify/InventoryAdjustmentGroup/1" },
                "userErrors": [],
            }},
            "extensions": { "cost": { "requestedQueryCost": 10, "actualQueryCost": 10,
                "throttleStatus": { "maximumAvailable": 2000.0, "currentlyAvailable": 1990,
                    "restoreRate": 100.0 } } },
        });
        let results = parse_response(&shop(), request, &response(200, &ok.to_string()));
        assert_eq!(classes(&results), [(11, "ok"), (12, "ok")]);
        assert_eq!(results[0].answer, "200 OK");
    }

    #[test]
    fn a_stale_compare_marks_its_listing_and_the_unapplied_rest_stale() {
        let pushes = many(3, Some("77"));
        let request = &build_requests(&shop(), &pushes)[0];
        let msg = "The specified compare quantity does not match the current quantity.";
        let results = parse_response(&shop(), request, &response(200, &user_error(STALE, 1, msg)));
        assert_eq!(
            classes(&results),
            [(1, "stale"), (2, "stale"), (3, "stale")]
        );
        assert_eq!(
            failure(&results[1]),
            &Failure::Stale {
                message: format!("Shopify holds a different quantity than Tally expected: {msg}"),
                current: None,
            }
        );
        assert_eq!(
            results[1].answer,
            format!("200: {msg} (CHANGE_FROM_QUANTITY_STALE)")
        );
        assert_eq!(
            failure(&results[0]),
            &Failure::Stale {
                message: "Shopify applied nothing in this call because another listing in it \
                          was refused"
                    .to_owned(),
                current: None,
            }
        );
    }

    #[test]
    fn an_unstocked_location_is_not_found_and_the_rest_is_retried() {
        let request = &build_requests(&shop(), &two_pushes())[0];
        let body = user_error(
            "ITEM_NOT_STOCKED_AT_LOCATION",
            0,
            "The item is not stocked at the location.",
        );
        let results = parse_response(&shop(), request, &response(200, &body));
        assert_eq!(classes(&results), [(11, "not_found"), (12, "unavailable")]);
        assert_eq!(
            failure(&results[0]),
            &Failure::NotFound {
                message: "Shopify does not know this listing: The item is not stocked at the \
                          location. (ITEM_NOT_STOCKED_AT_LOCATION)"
                    .to_owned()
            }
        );
    }

    #[test]
    fn a_refused_token_fails_every_listing_with_shopifys_words() {
        let request = &build_requests(&shop(), &two_pushes())[0];
        let body = r#"{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}"#;
        let results = parse_response(&shop(), request, &response(401, body));
        assert_eq!(classes(&results), [(11, "auth"), (12, "auth")]);
        assert_eq!(
            failure(&results[0]),
            &Failure::Auth {
                message: "Shopify refused the access token (401): [API] Invalid API key or \
                          access token (unrecognized login or wrong password)"
                    .to_owned()
            }
        );
        assert!(results[0].answer.starts_with("401: [API] Invalid API key"));
    }

    #[test]
    fn throttled_calls_wait_for_retry_after_or_the_bucket() {
        let request = &build_requests(&shop(), &two_pushes())[0];
        let throttled = json!({
            "errors": [{ "message": "Throttled", "extensions": { "code": "THROTTLED" } }],
            "extensions": { "cost": { "requestedQueryCost": 10,
                "throttleStatus": { "maximumAvailable": 2000.0, "currentlyAvailable": 5,
                    "restoreRate": 100.0 } } },
        })
        .to_string();
        let results = parse_response(&shop(), request, &response(200, &throttled));
        assert_eq!(
            failure(&results[1]),
            &Failure::RateLimited {
                message: "Shopify asked Tally to slow down: Throttled (THROTTLED)".to_owned(),
                retry_after_ms: Some(50),
            }
        );
        let told = with_header(response(429, "{}"), "retry-after", "2");
        let results = parse_response(&shop(), request, &told);
        assert_eq!(
            classes(&results),
            [(11, "rate_limited"), (12, "rate_limited")]
        );
        assert!(matches!(
            failure(&results[0]),
            Failure::RateLimited {
                retry_after_ms: Some(2000),
                ..
            }
        ));
    }

    #[test]
    fn server_errors_are_retried_and_unreadable_successes_are_not() {
        let request = &build_requests(&shop(), &two_pushes())[0];
        let results = parse_response(&shop(), request, &response(500, "oops {"));
        assert_eq!(
            failure(&results[0]),
            &Failure::Unavailable {
                message: "Shopify is unavailable (500): oops {".to_owned()
            }
        );
        let results = parse_response(&shop(), request, &response(200, "<html>"));
        assert_eq!(classes(&results), [(11, "validation"), (12, "validation")]);
        assert_eq!(results[0].answer, "200: unreadable answer");
    }

    #[test]
    fn a_short_bucket_pauses_until_it_refills() {
        let cost = |available: f64| {
            json!({ "extensions": { "cost": { "requestedQueryCost": 502,
                "throttleStatus": { "currentlyAvailable": available, "restoreRate": 100.0 } } } })
            .to_string()
        };
        let t = shop();
        let pause = crate::connector::pause_after;
        assert_eq!(pause(&t, &response(200, &cost(0.0))), Some(5020));
        assert_eq!(pause(&t, &response(200, &cost(1990.0))), None);
        assert_eq!(pause(&t, &response(200, "not json")), None);
    }

    #[test]
    fn rereads_ask_one_location_at_a_time() {
        let pushes = [
            push(1, 0, "10", Some("77")),
            push(2, 0, "20", Some("88")),
            push(3, 0, "30", Some("77")),
            push(4, 0, "40", None),
        ];
        let requests = build_reread(&shop(), &pushes);
        assert_eq!(requests.len(), 2);
        assert_eq!(requests[0].url, URL);
        assert_eq!(requests[0].method, Method::Post);
        assert_eq!(requests[0].listing_ids, [1, 3]);
        assert_eq!(requests[1].listing_ids, [2]);
        assert_eq!(
            headers(&requests[0]),
            headers(&build_requests(&shop(), &pushes)[0])
        );
        assert_eq!(
            body(&requests[0]),
            json!({
                "query": LEVELS_QUERY,
                "variables": {
                    "ids": ["gid://shopify/InventoryItem/10", "gid://shopify/InventoryItem/30"],
                    "location": "gid://shopify/Location/77",
                },
            })
        );
    }

    #[test]
    fn reread_answers_give_the_available_quantity_of_known_items() {
        let pushes = [
            push(1, 0, "10", Some("77")),
            push(2, 0, "20", Some("77")),
            push(3, 0, "30", Some("77")),
            push(4, 0, "40", Some("77")),
        ];
        let request = &build_reread(&shop(), &pushes)[0];
        let level = |id: &str, q: i64| {
            json!({ "id": id, "inventoryLevel": { "quantities": [
                { "name": "available", "quantity": q } ] } })
        };
        let answer = json!({ "data": { "nodes": [
            level("gid://shopify/InventoryItem/10", 5),
            null,
            level("gid://shopify/InventoryItem/999", 9),
            { "id": "gid://shopify/InventoryItem/40", "inventoryLevel": null },
        ]}});
        let read = parse_reread(&shop(), request, &response(200, &answer.to_string()));
        assert_eq!(read, [(1, 5)]);
        assert!(parse_reread(&shop(), request, &response(401, "{}")).is_empty());
        assert!(parse_reread(&shop(), request, &response(200, "nope")).is_empty());
    }
}
