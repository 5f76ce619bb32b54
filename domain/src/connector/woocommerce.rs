//! WooCommerce: REST API v3 batch updates. Simple products go to `products/batch`; variations
//! go to their parent's `variations/batch`, because WooCommerce batches one parent at a time.
//!
//! A batch answer lists every item in request order, each either updated or with its own
//! error, so one bad id does not hold back the rest.

use super::answer::{self, Class, Refusal};
use super::{
    base_url, credentialed_url, encode_component, json_id, json_request, HttpRequest, HttpResponse,
    ItemResult, Limits, Method, Push, Target,
};
use crate::storefront::StorefrontKind;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

const KIND: StorefrontKind = StorefrontKind::Woocommerce;

/// WooCommerce caps a batch at 100 items; it has no published rate limit of its own.
pub(super) const LIMITS: Limits = Limits {
    batch: 100,
    min_interval_ms: 0,
    daily_revisions: None,
    // Self-hosted with no published limit; a batch call a second per listing is gentle.
    push_spacing_ms: 1_000,
};

/// Batch requests: simple products first, then each parent's variations.
pub(super) fn build(target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
    let (simple, by_parent) = split(pushes);
    let mut requests = Vec::new();
    for chunk in simple.chunks(LIMITS.batch) {
        requests.push(batch(target, "products/batch", chunk));
    }
    for (parent, group) in by_parent {
        let path = format!("products/{}/variations/batch", encode_component(parent));
        for chunk in group.chunks(LIMITS.batch) {
            requests.push(batch(target, &path, chunk));
        }
    }
    requests
}

/// Simple products (no variation id), and variations grouped by parent in first-seen order.
fn split(pushes: &[Push]) -> (Vec<&Push>, Vec<(&str, Vec<&Push>)>) {
    let mut simple = Vec::new();
    let mut by_parent: Vec<(&str, Vec<&Push>)> = Vec::new();
    for push in pushes {
        if push.external_sub_id.is_none() {
            simple.push(push);
            continue;
        }
        let parent = push.external_id.as_str();
        match by_parent.iter_mut().find(|(p, _)| *p == parent) {
            Some((_, group)) => group.push(push),
            None => by_parent.push((parent, vec![push])),
        }
    }
    (simple, by_parent)
}

fn batch(target: &Target, path: &str, chunk: &[&Push]) -> HttpRequest {
    let update: Vec<Value> = chunk.iter().map(|p| update_item(p)).collect();
    let url = format!("{}/wp-json/wc/v3/{path}", base_url(target));
    let auth = format!("Basic {}", STANDARD.encode(&target.credential));
    // A host that drops `Authorization` gets the keys in the query string instead.
    let headers: &[(&str, &str)] = if target.keys_in_query {
        &[]
    } else {
        &[("Authorization", &auth)]
    };
    json_request(
        Method::Post,
        credentialed_url(target, url),
        headers,
        &json!({ "update": update }),
        chunk.iter().map(|p| p.listing_id).collect(),
    )
}

/// One update. `manage_stock` is sent only when the seller let Tally turn it on: an item the
/// merchant left unmanaged is theirs to decide about (the answer tells, see [`item_result`]).
fn update_item(push: &Push) -> Value {
    let id = push.external_sub_id.as_deref().unwrap_or(&push.external_id);
    let mut update = json!({ "id": json_id(id), "stock_quantity": push.quantity });
    if push.manage_stock {
        update["manage_stock"] = json!(true);
    }
    update
}

/// One result per listing of a batch, from the `update` list in request order.
pub(super) fn parse(request: &HttpRequest, response: &HttpResponse) -> Vec<ItemResult> {
    let body = answer::json(response);
    if !answer::is_success(response.status) {
        let refusal = status_refusal(response, body.as_ref());
        return answer::all_refused(KIND, request, response, &refusal);
    }
    let Some(items) = body
        .as_ref()
        .and_then(|b| b.get("update"))
        .and_then(Value::as_array)
    else {
        return answer::unreadable(KIND, request, response);
    };
    request
        .listing_ids
        .iter()
        .enumerate()
        .map(|(i, &id)| item_result(id, items.get(i), response))
        .collect()
}

/// A non-2xx answer: `{"code", "message", "data": {"status"}}`, or a body that is not JSON.
fn status_refusal(response: &HttpResponse, body: Option<&Value>) -> Refusal {
    let Some(body) = body else {
        return Refusal::of_status(response.status, None, answer::plain_text(&response.body));
    };
    let code = Some(answer::text(body, "code").to_owned()).filter(|c| !c.is_empty());
    Refusal::of_status(
        response.status,
        code,
        answer::text(body, "message").to_owned(),
    )
}

fn item_result(listing_id: i64, item: Option<&Value>, response: &HttpResponse) -> ItemResult {
    let Some(item) = item else {
        let missing = Refusal {
            class: Class::Validation,
            status: response.status,
            code: None,
            detail: "its answer did not mention this listing".to_owned(),
        };
        return answer::refused(KIND, listing_id, &missing, response);
    };
    match item.get("error") {
        Some(error) if !error.is_null() => answer::refused(
            KIND,
            listing_id,
            &item_refusal(error, response.status),
            response,
        ),
        // `false`, or "parent" for a variation whose parent keeps the count: the quantity sent
        // is not the one WooCommerce sells from.
        _ if item
            .get("manage_stock")
            .is_some_and(|m| m != &Value::Bool(true)) =>
        {
            let refusal = Refusal {
                class: Class::StockUnmanaged,
                status: response.status,
                code: None,
                detail: format!("manage_stock is {}", item["manage_stock"]),
            };
            answer::refused(KIND, listing_id, &refusal, response)
        }
        _ => answer::ok(listing_id, response.status),
    }
}

/// An item's own error. An invalid id (or a 404 in its data) means WooCommerce does not have
/// the product or variation.
fn item_refusal(error: &Value, http_status: u16) -> Refusal {
    let code = answer::text(error, "code");
    let status = error
        .pointer("/data/status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok());
    let class = if code.ends_with("invalid_id") || status == Some(404) {
        Class::NotFound
    } else {
        status.map_or(Class::Validation, Class::of_status)
    };
    Refusal {
        class,
        status: status.unwrap_or(http_status),
        code: Some(code.to_owned()).filter(|c| !c.is_empty()),
        detail: answer::text(error, "message").to_owned(),
    }
}

/// Woocommerce as a [`Connector`](super::platform::Connector): the push path's entry points.
pub struct Woocommerce;

impl super::platform::Connector for Woocommerce {
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

    fn woo() -> Target {
        target(StorefrontKind::Woocommerce)
    }

    #[test]
    fn simple_products_go_to_the_products_batch_with_basic_auth() {
        let requests = build_requests(
            &woo(),
            &[push(1, 4, "1001", None), push(2, 0, "1002", None)],
        );
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        assert_eq!(request.method, Method::Post);
        assert_eq!(
            request.url,
            "https://mugs.example/wp-json/wc/v3/products/batch"
        );
        assert_eq!(
            headers(request),
            [
                ("Authorization", "Basic Y2tfMTpjc18y"),
                ("Content-Type", "application/json")
            ]
        );
        assert_eq!(request.listing_ids, [1, 2]);
        assert_eq!(
            body(request),
            json!({ "update": [
                { "id": 1001, "stock_quantity": 4 },
                { "id": 1002, "stock_quantity": 0 },
            ]})
        );
    }

    #[test]
    fn variations_are_batched_under_their_parent() {
        let pushes = [
            push(1, 1, "10", None),
            push(2, 2, "50", Some("501")),
            push(3, 3, "11", None),
            push(4, 4, "60", Some("601")),
            push(5, 5, "50", Some("502")),
        ];
        let requests = build_requests(&woo(), &pushes);
        let shape: Vec<(&str, Vec<i64>)> = requests
            .iter()
            .map(|r| (r.url.as_str(), r.listing_ids.clone()))
            .collect();
        assert_eq!(
            shape,
            [
                (
                    "https://mugs.example/wp-json/wc/v3/products/batch",
                    vec![1, 3]
                ),
                (
                    "https://mugs.example/wp-json/wc/v3/products/50/variations/batch",
                    vec![2, 5]
                ),
                (
                    "https://mugs.example/wp-json/wc/v3/products/60/variations/batch",
                    vec![4]
                ),
            ]
        );
        assert_eq!(
            body(&requests[1]),
            json!({ "update": [
                { "id": 501, "stock_quantity": 2 },
                { "id": 502, "stock_quantity": 5 },
            ]})
        );
    }

    #[test]
    fn stock_management_is_turned_on_only_with_the_sellers_yes() {
        let mut pushes = many(2, None);
        pushes[1].manage_stock = true;
        let request = &build_requests(&woo(), &pushes)[0];
        assert_eq!(
            body(request)["update"],
            json!([
                { "id": 1001, "stock_quantity": 1 },
                { "id": 1002, "manage_stock": true, "stock_quantity": 2 },
            ])
        );
        // WooCommerce answers an unmanaged item with the quantity unused: not a success.
        let answer = json!({ "update": [
            { "id": 1001, "stock_quantity": null, "manage_stock": false },
            { "id": 1002, "stock_quantity": 1, "manage_stock": true },
        ]});
        let results = parse_response(&woo(), request, &response(200, &answer.to_string()));
        assert_eq!(classes(&results), [(1, "stock_unmanaged"), (2, "ok")]);
        let parent = json!({ "update": [
            { "id": 1001, "manage_stock": "parent" }, { "id": 1002, "manage_stock": true } ]});
        let results = parse_response(&woo(), request, &response(200, &parent.to_string()));
        assert_eq!(classes(&results)[0], (1, "stock_unmanaged"));
    }

    #[test]
    fn keys_go_in_the_query_string_for_hosts_that_drop_authorization() {
        let mut t = woo();
        t.keys_in_query = true;
        let request = &build_requests(&t, &many(1, None))[0];
        assert_eq!(
            request.url,
            "https://mugs.example/wp-json/wc/v3/products/batch?consumer_key=ck_1&consumer_secret=cs_2"
        );
        assert_eq!(headers(request), [("Content-Type", "application/json")]);
        // Polls and webhook registration go the same way.
        let poll =
            crate::connector::orders::poll_request(&t, 0, &crate::connector::orders::Page::First);
        assert!(
            poll.url
                .ends_with("&consumer_key=ck_1&consumer_secret=cs_2"),
            "{}",
            poll.url
        );
        assert!(poll.headers.iter().all(|(name, _)| name != "Authorization"));
    }

    #[test]
    fn pushes_past_100_start_a_second_batch() {
        let requests = build_requests(&woo(), &many(101, None));
        let sizes: Vec<usize> = requests.iter().map(|r| r.listing_ids.len()).collect();
        assert_eq!(sizes, [100, 1]);
        let variations: Vec<Push> = (1..=101)
            .map(|i| push(i, 1, "50", Some(&(500 + i).to_string())))
            .collect();
        let requests = build_requests(&woo(), &variations);
        let sizes: Vec<usize> = requests.iter().map(|r| r.listing_ids.len()).collect();
        assert_eq!(sizes, [100, 1]);
        assert!(requests[1].url.ends_with("/products/50/variations/batch"));
    }

    #[test]
    fn each_item_gets_its_own_answer_in_request_order() {
        let pushes = many(3, None);
        let request = &build_requests(&woo(), &pushes)[0];
        let answer = json!({ "update": [
            { "id": 1001, "stock_quantity": 1, "manage_stock": true },
            { "id": 1002, "error": { "code": "woocommerce_rest_product_invalid_id",
                "message": "Invalid ID.", "data": { "status": 404 } } },
        ]});
        let results = parse_response(&woo(), request, &response(200, &answer.to_string()));
        assert_eq!(
            classes(&results),
            [(1, "ok"), (2, "not_found"), (3, "validation")]
        );
        assert_eq!(results[0].answer, "200 OK");
        assert_eq!(
            failure(&results[1]),
            &Failure::NotFound {
                message: "WooCommerce does not know this listing (404): Invalid ID. \
                          (woocommerce_rest_product_invalid_id)"
                    .to_owned()
            }
        );
        assert_eq!(
            results[1].answer,
            "200: Invalid ID. (woocommerce_rest_product_invalid_id)"
        );
    }

    #[test]
    fn a_refused_key_fails_the_whole_batch() {
        let request = &build_requests(&woo(), &many(2, None))[0];
        let body = json!({ "code": "woocommerce_rest_cannot_edit",
            "message": "Sorry, you are not allowed to edit this resource.",
            "data": { "status": 401 } });
        let results = parse_response(&woo(), request, &response(401, &body.to_string()));
        assert_eq!(classes(&results), [(1, "auth"), (2, "auth")]);
        assert_eq!(
            failure(&results[1]),
            &Failure::Auth {
                message: "WooCommerce refused the consumer key (401): Sorry, you are not \
                          allowed to edit this resource. (woocommerce_rest_cannot_edit)"
                    .to_owned()
            }
        );
    }

    #[test]
    fn limits_errors_and_garbage_are_classified_by_status() {
        let request = &build_requests(&woo(), &many(1, None))[0];
        let limited = with_header(response(429, ""), "retry-after", "3");
        let results = parse_response(&woo(), request, &limited);
        assert!(matches!(
            failure(&results[0]),
            Failure::RateLimited {
                retry_after_ms: Some(3000),
                ..
            }
        ));
        assert_eq!(results[0].answer, "429 Too Many Requests");
        let bad = r#"{"code": "rest_invalid_param", "message": "Invalid parameter(s): update"}"#;
        let table = [
            (400, bad, "validation"),
            (503, "<html>down</html>", "unavailable"),
            (200, "{\"update\": 3", "validation"),
            (200, "{}", "validation"),
        ];
        for (status, text, class) in table {
            let results = parse_response(&woo(), request, &response(status, text));
            assert_eq!(classes(&results), [(1, class)], "{status} {text}");
        }
    }
}
