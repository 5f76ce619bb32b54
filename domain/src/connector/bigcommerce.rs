//! BigCommerce: v3 Inventory absolute adjustments, up to 2,000 item-and-location quantities a
//! call, each item a variant or (for a product "tracked by product") the product itself. A call
//! is applied all or nothing: a 422 names the items it refused, and the rest of the call is
//! retried. A 422 that names none (BigCommerce's "tracked by product" refusal has an empty
//! `errors` and its words in `title`) is sent again in halves until the item is found
//! ([`refused_without_naming`]), so one wrong listing does not fail 1,999 others.
//!
//! BigCommerce meters requests per time window and says in every answer how many are left and
//! when the window resets, which [`pause_after`] turns into a wait.

use super::answer::{self, Class, Refusal};
use super::{
    base_url, json_id, json_request, HttpRequest, HttpResponse, ItemResult, Limits, Method, Push,
    Target,
};
use crate::storefront::{StorefrontKind, BIGCOMMERCE_PRODUCT};
use serde_json::{json, Value};

const KIND: StorefrontKind = StorefrontKind::Bigcommerce;

pub(super) const LIMITS: Limits = Limits {
    batch: 2000,
    min_interval_ms: 0,
    daily_revisions: None,
    // 150 requests per 30 s window on standard plans; one batch call carries 2,000 items.
    push_spacing_ms: 1_000,
};

/// One absolute adjustment per 2,000 pushes, the items grouped by location.
pub(super) fn build(target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
    let mut by_location: Vec<&Push> = pushes.iter().collect();
    by_location.sort_by_key(|p| location_id(p));
    by_location
        .chunks(LIMITS.batch)
        .map(|chunk| adjust(target, chunk))
        .collect()
}

fn adjust(target: &Target, chunk: &[&Push]) -> HttpRequest {
    let items: Vec<Value> = chunk.iter().map(|p| item(p)).collect();
    json_request(
        Method::Put,
        format!("{}/v3/inventory/adjustments/absolute", base_url(target)),
        &[
            ("X-Auth-Token", &target.credential),
            ("Accept", "application/json"),
        ],
        &json!({ "reason": "Tally Auto Sync", "items": items }),
        chunk.iter().map(|p| p.listing_id).collect(),
    )
}

/// The location as BigCommerce numbers it (ids are checked digits when linked).
fn location_id(push: &Push) -> u64 {
    push.external_sub_id
        .as_deref()
        .and_then(|l| l.parse().ok())
        .unwrap_or(0)
}

/// A variant's item, or a product's when the listing names `product:<id>`.
fn item(push: &Push) -> Value {
    let location = json_id(push.external_sub_id.as_deref().unwrap_or_default());
    match push.external_id.strip_prefix(BIGCOMMERCE_PRODUCT) {
        Some(product) => json!({
            "location_id": location,
            "product_id": json_id(product),
            "quantity": push.quantity,
        }),
        None => json!({
            "location_id": location,
            "variant_id": json_id(&push.external_id),
            "quantity": push.quantity,
        }),
    }
}

/// Whether BigCommerce refused the whole call for an item it did not name (a 422 with no
/// per-item error): with more than one item, the call is sent again in halves.
pub(super) fn refused_without_naming(request: &HttpRequest, response: &HttpResponse) -> bool {
    response.status == 422
        && request.listing_ids.len() > 1
        && answer::json(response)
            .is_some_and(|body| error_entries(&body).iter().all(|e| e.index.is_none()))
}

/// One result per listing: all applied on 2xx; on a 422 naming items, those items get their
/// refusal and the others (not applied) are retried.
pub(super) fn parse(request: &HttpRequest, response: &HttpResponse) -> Vec<ItemResult> {
    let body = answer::json(response);
    if answer::is_success(response.status) {
        if body.is_none() {
            return answer::unreadable(KIND, request, response);
        }
        return request
            .listing_ids
            .iter()
            .map(|&id| answer::ok(id, response.status))
            .collect();
    }
    let errors = body.as_ref().map(error_entries).unwrap_or_default();
    let count = request.listing_ids.len();
    let per_item = response.status == 422
        && !errors.is_empty()
        && errors.iter().all(|e| e.index.is_some_and(|i| i < count));
    if !per_item {
        let refusal = status_refusal(response, body.as_ref(), errors.first());
        return answer::all_refused(KIND, request, response, &refusal);
    }
    request
        .listing_ids
        .iter()
        .enumerate()
        .map(
            |(i, &id)| match errors.iter().find(|e| e.index == Some(i)) {
                Some(error) => answer::refused(KIND, id, &error.refusal(response.status), response),
                None => answer::not_applied(KIND, id, false, response.status),
            },
        )
        .collect()
}

/// One entry of a 422's `errors` map: `"items.<index>.<field>": "message"`.
struct ErrorEntry {
    index: Option<usize>,
    field: String,
    message: String,
}

impl ErrorEntry {
    /// A refusal about this entry's item; a variant or location BigCommerce cannot find means
    /// the listing's ids are wrong.
    fn refusal(&self, status: u16) -> Refusal {
        let lower = self.message.to_lowercase();
        let unknown = ["not found", "does not exist", "doesn't exist"]
            .iter()
            .any(|words| lower.contains(words));
        Refusal {
            class: if unknown {
                Class::NotFound
            } else {
                Class::Validation
            },
            status,
            code: Some(self.field.clone()).filter(|f| !f.is_empty()),
            detail: self.message.clone(),
        }
    }
}

fn error_entries(body: &Value) -> Vec<ErrorEntry> {
    let Some(map) = body.get("errors").and_then(Value::as_object) else {
        return Vec::new();
    };
    map.iter()
        .map(|(key, message)| {
            let mut parts = key.split('.');
            let index = match (parts.next(), parts.next()) {
                (Some("items"), Some(n)) => n.parse().ok(),
                _ => None,
            };
            let message = match message {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            ErrorEntry {
                index,
                field: parts.next_back().unwrap_or(key).to_owned(),
                message,
            }
        })
        .collect()
}

/// What BigCommerce says when a product's stock is kept at product level and Tally named one
/// of its variants ("...tracked by product, please update stock by product id").
const TRACKED_BY_PRODUCT: &str = "tracked by product";

/// A whole-call refusal: its status decides; the first error (else `detail`, else `title`)
/// gives the words.
fn status_refusal(
    response: &HttpResponse,
    body: Option<&Value>,
    first: Option<&ErrorEntry>,
) -> Refusal {
    let Some(body) = body else {
        return Refusal::of_status(response.status, None, answer::plain_text(&response.body));
    };
    if let Some(entry) = first {
        let mut refusal = entry.refusal(response.status);
        refusal.class = Class::of_status(response.status);
        return refusal;
    }
    let detail = match answer::text(body, "detail") {
        "" => answer::text(body, "title"),
        detail => detail,
    };
    if detail.to_lowercase().contains(TRACKED_BY_PRODUCT) {
        let detail = format!(
            "{detail}. Link the listing as {BIGCOMMERCE_PRODUCT}<product id> (the product's own \
             id in BigCommerce) instead of its variant"
        );
        return Refusal::of_status(response.status, None, detail);
    }
    Refusal::of_status(response.status, None, detail.to_owned())
}

/// The window's reset time once no requests are left in it.
pub(super) fn pause_after(response: &HttpResponse) -> Option<u64> {
    if answer::header_u64(response, "x-rate-limit-requests-left")? > 0 {
        return None;
    }
    answer::header_u64(response, "x-rate-limit-time-reset-ms")
}

/// Bigcommerce as a [`Connector`](super::platform::Connector): the push path's entry points.
pub struct Bigcommerce;

impl super::platform::Connector for Bigcommerce {
    fn limits(&self) -> Limits {
        LIMITS
    }
    fn build(&self, target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
        build(target, pushes)
    }
    fn parse(&self, request: &HttpRequest, response: &HttpResponse) -> Vec<ItemResult> {
        parse(request, response)
    }
    fn refused_without_naming(&self, request: &HttpRequest, response: &HttpResponse) -> bool {
        refused_without_naming(request, response)
    }
    fn pause_after(&self, response: &HttpResponse) -> Option<u64> {
        pause_after(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::fixtures::{
        body, classes, failure, headers, many, push, response, target, with_header,
    };
    use crate::connector::{build_requests, parse_response, Failure};

    fn bc() -> Target {
        target(StorefrontKind::Bigcommerce)
    }

    fn two() -> HttpRequest {
        let pushes = [push(1, 4, "1001", Some("1")), push(2, 0, "1002", Some("2"))];
        build_requests(&bc(), &pushes).remove(0)
    }

    #[test]
    fn a_batch_is_one_absolute_adjustment() {
        let request = two();
        assert_eq!(request.method, Method::Put);
        assert_eq!(
            request.url,
            "https://api.bigcommerce.com/stores/abc123/v3/inventory/adjustments/absolute"
        );
        assert_eq!(
            headers(&request),
            [
                ("X-Auth-Token", "bc_token"),
                ("Accept", "application/json"),
                ("Content-Type", "application/json")
            ]
        );
        assert_eq!(request.listing_ids, [1, 2]);
        assert_eq!(
            body(&request),
            json!({ "reason": "Tally Auto Sync", "items": [
                { "location_id": 1, "variant_id": 1001, "quantity": 4 },
                { "location_id": 2, "variant_id": 1002, "quantity": 0 },
            ]})
        );
    }

    #[test]
    fn products_tracked_by_product_are_named_by_product_and_items_group_by_location() {
        let pushes = [
            push(1, 4, "1001", Some("2")),
            push(2, 3, "product:55", Some("1")),
            push(3, 0, "1003", Some("2")),
        ];
        let request = build_requests(&bc(), &pushes).remove(0);
        assert_eq!(request.listing_ids, [2, 1, 3]);
        assert_eq!(
            body(&request)["items"],
            json!([
                { "location_id": 1, "product_id": 55, "quantity": 3 },
                { "location_id": 2, "variant_id": 1001, "quantity": 4 },
                { "location_id": 2, "variant_id": 1003, "quantity": 0 },
            ])
        );
    }

    #[test]
    fn a_422_naming_no_item_is_sent_again_in_halves_and_read_from_its_title() {
        let tracked = json!({ "status": 422,
            "title": "The inventory of this product is tracked by product, please update stock by product id",
            "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            "errors": {} });
        let answer = response(422, &tracked.to_string());
        assert!(refused_without_naming(&two(), &answer));
        let single = build_requests(&bc(), &[push(1, 4, "1001", Some("1"))]).remove(0);
        assert!(
            !refused_without_naming(&single, &answer),
            "one item is the one"
        );
        let results = parse_response(&bc(), &single, &answer);
        let Failure::Validation { message } = failure(&results[0]) else {
            panic!("{results:?}");
        };
        assert!(message.contains("tracked by product"), "{message}");
        assert!(message.contains("product:<product id>"), "{message}");
        // A 422 that names its items is read per item, never split.
        let named = json!({ "status": 422, "title": "Input is invalid",
            "errors": { "items.1.variant_id": "Variant 1002 not found" } });
        assert!(!refused_without_naming(
            &two(),
            &response(422, &named.to_string())
        ));
    }

    #[test]
    fn pushes_past_2000_start_a_second_call() {
        let requests = build_requests(&bc(), &many(2001, Some("1")));
        let sizes: Vec<usize> = requests.iter().map(|r| r.listing_ids.len()).collect();
        assert_eq!(sizes, [2000, 1]);
    }

    #[test]
    fn an_applied_call_succeeds_for_every_listing() {
        let results = parse_response(&bc(), &two(), &response(200, r#"{"transaction_id": "t1"}"#));
        assert_eq!(classes(&results), [(1, "ok"), (2, "ok")]);
        assert_eq!(results[1].answer, "200 OK");
    }

    #[test]
    fn a_422_refuses_the_named_items_and_retries_the_rest() {
        let body = json!({ "status": 422, "title": "Input is invalid",
            "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
            "errors": { "items.1.variant_id": "Variant 1002 not found" } });
        let results = parse_response(&bc(), &two(), &response(422, &body.to_string()));
        assert_eq!(classes(&results), [(1, "unavailable"), (2, "not_found")]);
        assert_eq!(
            failure(&results[1]),
            &Failure::NotFound {
                message: "BigCommerce does not know this listing (422): Variant 1002 not found \
                          (variant_id)"
                    .to_owned()
            }
        );
        assert_eq!(
            results[1].answer,
            "422: Variant 1002 not found (variant_id)"
        );
        let bad = json!({ "status": 422, "title": "Input is invalid",
            "errors": { "items.0.quantity": "must be at least 0" } });
        let results = parse_response(&bc(), &two(), &response(422, &bad.to_string()));
        assert_eq!(classes(&results), [(1, "validation"), (2, "unavailable")]);
    }

    #[test]
    fn whole_call_errors_apply_to_every_listing() {
        let unauthorized = r#"{"status": 401, "title": "You are not authorized", "type": "x"}"#;
        let results = parse_response(&bc(), &two(), &response(401, unauthorized));
        assert_eq!(
            failure(&results[0]),
            &Failure::Auth {
                message: "BigCommerce refused the access token (401): You are not authorized"
                    .to_owned()
            }
        );
        let limited = with_header(response(429, "{}"), "x-rate-limit-time-reset-ms", "1500");
        let results = parse_response(&bc(), &two(), &limited);
        assert!(matches!(
            failure(&results[1]),
            Failure::RateLimited {
                retry_after_ms: Some(1500),
                ..
            }
        ));
        let table = [
            (500, "Internal error", "unavailable"),
            (200, "not json", "validation"),
            (
                422,
                r#"{"title": "Bad", "errors": {"reason": "too long"}}"#,
                "validation",
            ),
        ];
        for (status, text, class) in table {
            let results = parse_response(&bc(), &two(), &response(status, text));
            assert_eq!(
                classes(&results),
                [(1, class), (2, class)],
                "{status} {text}"
            );
        }
    }

    #[test]
    fn an_empty_quota_pauses_until_the_window_resets() {
        let pause = |left: &str| {
            let r = with_header(response(200, "{}"), "x-rate-limit-requests-left", left);
            crate::connector::pause_after(
                &bc(),
                &with_header(r, "x-rate-limit-time-reset-ms", "2500"),
            )
        };
        assert_eq!(pause("0"), Some(2500));
        assert_eq!(pause("12"), None);
        assert_eq!(
            crate::connector::pause_after(&bc(), &response(200, "{}")),
            None
        );
    }
}
