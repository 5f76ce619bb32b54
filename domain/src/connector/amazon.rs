//! Amazon: Selling Partner API Listings Items 2021-08-01, one `PATCH` per listing that merges
//! the `fulfillment_availability` attribute. The API has no batch form for this, and allows
//! 5 requests a second per account, hence one listing per request 200 ms apart.
//!
//! Before pushing, Tally reads the listing's fulfilment channels ([`build_preflight`]): a
//! listing Amazon fulfils (FBA: a channel other than `DEFAULT`) counts Amazon's warehouse
//! stock, which is not Tally's to set; writing a `DEFAULT` quantity would open a second,
//! merchant-fulfilled offer that Amazon could oversell.

use super::answer::{self, Class, Refusal};
use super::{
    base_url, encode_component, get_request, json_request, Failure, HttpRequest, HttpResponse,
    ItemResult, Limits, Method, Preflight, Push, Target, Verified,
};
use crate::storefront::StorefrontKind;
use serde_json::{json, Value};

const KIND: StorefrontKind = StorefrontKind::Amazon;

pub(super) const LIMITS: Limits = Limits {
    batch: 1,
    min_interval_ms: 200,
    daily_revisions: None,
    // 5 requests a second per seller across all listings, and a push takes two (a read and
    // the patch).
    push_spacing_ms: 2_000,
};

/// Amazon.com, used when the store reference names no marketplace.
const DEFAULT_MARKETPLACE: &str = "ATVPDKIKX0DER";

/// The seller id and marketplace from `SELLERID` or `SELLERID:MARKETPLACEID`. A missing
/// reference leaves the seller empty, and Amazon's refusal then reaches the seller.
pub(super) fn account(target: &Target) -> (&str, &str) {
    let store_ref = target.store_ref.as_deref().unwrap_or_default().trim();
    match store_ref.split_once(':') {
        Some((seller, market)) if !market.trim().is_empty() => (seller.trim(), market.trim()),
        Some((seller, _)) => (seller.trim(), DEFAULT_MARKETPLACE),
        None => (store_ref, DEFAULT_MARKETPLACE),
    }
}

/// One `PATCH` per push.
pub(super) fn build(target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
    pushes.iter().map(|push| patch(target, push)).collect()
}

/// The listing's address: `.../items/<seller>/<sku>?marketplaceIds=<marketplace>`.
fn listing_url(target: &Target, push: &Push) -> String {
    let (seller, marketplace) = account(target);
    format!(
        "{}/listings/2021-08-01/items/{}/{}?marketplaceIds={}",
        base_url(target),
        encode_component(seller),
        encode_component(&push.external_id),
        encode_component(marketplace)
    )
}

/// A `getListingsItem` of the push's listing with `included` data.
fn read_listing(target: &Target, push: &Push, included: &str) -> HttpRequest {
    let url = format!("{}&includedData={included}", listing_url(target, push));
    let mut request = get_request(target, url);
    request.listing_ids = vec![push.listing_id];
    request
}

fn patch(target: &Target, push: &Push) -> HttpRequest {
    let url = listing_url(target, push);
    let body = json!({
        "productType": "PRODUCT",
        "patches": [{
            "op": "merge",
            "path": "/attributes/fulfillment_availability",
            "value": [{ "fulfillment_channel_code": "DEFAULT", "quantity": push.quantity }],
        }],
    });
    json_request(
        Method::Patch,
        url,
        &[("x-amz-access-token", &target.credential)],
        &body,
        vec![push.listing_id],
    )
}

/// The merchant-fulfilled channel, the only one Tally sets.
const MERCHANT_CHANNEL: &str = "DEFAULT";

/// One `GET` per push: the listing's fulfilment channels.
pub(super) fn build_preflight(target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
    pushes
        .iter()
        .map(|push| read_listing(target, push, "fulfillmentAvailability"))
        .collect()
}

/// Whether each listing of a preflight may be pushed.
pub(super) fn parse_preflight(
    request: &HttpRequest,
    response: &HttpResponse,
) -> Vec<(i64, Preflight)> {
    let verdict = match preflight_verdict(response) {
        Some(failure) => Preflight::Skip(failure),
        None => Preflight::Push { held: 0 },
    };
    request
        .listing_ids
        .iter()
        .map(|&id| (id, verdict.clone()))
        .collect()
}

fn preflight_verdict(response: &HttpResponse) -> Option<Failure> {
    let body = answer::json(response);
    if !answer::is_success(response.status) {
        let refusal = errors_refusal(response, body.as_ref());
        return Some(refusal.failure(KIND, answer::retry_after_ms(response)));
    }
    let channels: Vec<String> = body
        .as_ref()
        .and_then(|b| b.get("fulfillmentAvailability"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|c| answer::text(c, "fulfillmentChannelCode").to_owned())
                .collect()
        })
        .unwrap_or_default();
    let amazons = channels.iter().any(|c| c != MERCHANT_CHANNEL)
        && !channels.iter().any(|c| c == MERCHANT_CHANNEL);
    amazons.then(|| Failure::NotSettable {
        message: format!(
            "Amazon fulfils this listing ({}): its stock is what Amazon's warehouses hold",
            channels.join(", ")
        ),
    })
}

/// How long after an `ACCEPTED` update Tally reads the listing's issues: `ACCEPTED` means
/// accepted for processing, and Amazon processes a submission within minutes.
pub const VERIFY_AFTER_MS: i64 = 120_000;

/// The read of a listing's issues, after Amazon accepted an update for processing.
pub(super) fn build_verify(target: &Target, push: &Push) -> HttpRequest {
    read_listing(target, push, "issues")
}

/// What the read found: a refusal of the quantity among the listing's issues (severity
/// `ERROR` on `fulfillment_availability`), none, or an answer to try again later.
pub(super) fn parse_verify(response: &HttpResponse) -> Verified {
    let body = answer::json(response);
    if !answer::is_success(response.status) {
        let refusal = errors_refusal(response, body.as_ref());
        return Verified::Unknown(refusal.failure(KIND, None).message().to_owned());
    }
    let Some(body) = body else {
        return Verified::Unknown("Amazon's answer was not JSON".to_owned());
    };
    let refused = body
        .get("issues")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|issue| {
            answer::text(issue, "severity") == "ERROR"
                && issue
                    .get("attributeNames")
                    .and_then(Value::as_array)
                    .is_some_and(|names| names.iter().any(|n| n == "fulfillment_availability"))
        });
    match refused {
        None => Verified::Accepted,
        Some(issue) => {
            let code = answer::text(issue, "code");
            let message = answer::text(issue, "message");
            Verified::Refused(if code.is_empty() {
                message.to_owned()
            } else {
                format!("{message} ({code})")
            })
        }
    }
}

/// The result of a `PATCH`: accepted, refused with issues, or an `errors` answer.
pub(super) fn parse(request: &HttpRequest, response: &HttpResponse) -> Vec<ItemResult> {
    let body = answer::json(response);
    if !answer::is_success(response.status) {
        let refusal = errors_refusal(response, body.as_ref());
        return answer::all_refused(KIND, request, response, &refusal);
    }
    let Some(body) = body else {
        return answer::unreadable(KIND, request, response);
    };
    match answer::text(&body, "status") {
        "ACCEPTED" => request
            .listing_ids
            .iter()
            .map(|&id| answer::ok(id, response.status))
            .collect(),
        "INVALID" => answer::all_refused(
            KIND,
            request,
            response,
            &issues_refusal(response.status, &body),
        ),
        _ => answer::unreadable(KIND, request, response),
    }
}

/// An `errors` answer; Amazon's code is more precise than the status when it is one we know.
fn errors_refusal(response: &HttpResponse, body: Option<&Value>) -> Refusal {
    let first = body
        .and_then(|b| b.get("errors"))
        .and_then(Value::as_array)
        .and_then(|list| list.first());
    let Some(first) = first else {
        return Refusal::of_status(response.status, None, answer::plain_text(&response.body));
    };
    let code = answer::text(first, "code");
    let mut refusal = Refusal::of_status(
        response.status,
        Some(code.to_owned()).filter(|c| !c.is_empty()),
        answer::text(first, "message").to_owned(),
    );
    if let Some(class) = class_of_code(code) {
        refusal.class = class;
    }
    refusal
}

fn class_of_code(code: &str) -> Option<Class> {
    match code {
        "Unauthorized" | "Forbidden" => Some(Class::Auth),
        "NotFound" => Some(Class::NotFound),
        "InvalidInput" => Some(Class::Validation),
        "QuotaExceeded" => Some(Class::RateLimited),
        "InternalFailure" | "ServiceUnavailable" => Some(Class::Unavailable),
        _ => None,
    }
}

/// An `INVALID` submission: the first issue of severity ERROR says why.
fn issues_refusal(status: u16, body: &Value) -> Refusal {
    let issues = body
        .get("issues")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let issue = issues
        .iter()
        .find(|i| answer::text(i, "severity") == "ERROR")
        .or_else(|| issues.first());
    let code = issue.map(|i| answer::text(i, "code")).unwrap_or_default();
    Refusal {
        class: class_of_code(code).unwrap_or(Class::Validation),
        status,
        code: Some(code.to_owned()).filter(|c| !c.is_empty()),
        detail: issue
            .map(|i| answer::text(i, "message"))
            .unwrap_or("Amazon marked the submission INVALID")
            .to_owned(),
    }
}

/// Amazon as a [`Connector`](super::platform::Connector): the push path's entry points.
pub struct Amazon;

impl super::platform::Connector for Amazon {
    fn limits(&self) -> Limits {
        LIMITS
    }
    fn build(&self, target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
        build(target, pushes)
    }
    fn parse(&self, request: &HttpRequest, response: &HttpResponse) -> Vec<ItemResult> {
        parse(request, response)
    }
    fn build_preflight(&self, target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
        build_preflight(target, pushes)
    }
    fn parse_preflight(
        &self,
        request: &HttpRequest,
        response: &HttpResponse,
    ) -> Vec<(i64, Preflight)> {
        parse_preflight(request, response)
    }
    fn verify_after_ms(&self) -> Option<i64> {
        Some(VERIFY_AFTER_MS)
    }
    fn build_verify(&self, target: &Target, push: &Push) -> Option<HttpRequest> {
        Some(build_verify(target, push))
    }
    fn parse_verify(&self, response: &HttpResponse) -> Verified {
        parse_verify(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::fixtures::{
        body, classes, failure, headers, push, response, target, with_header,
    };
    use crate::connector::{build_requests, parse_response, Failure};

    fn amazon() -> Target {
        target(StorefrontKind::Amazon)
    }

    fn one() -> HttpRequest {
        build_requests(&amazon(), &[push(5, 2, "MUG", None)]).remove(0)
    }

    #[test]
    fn each_push_is_one_patch_with_an_encoded_sku() {
        let pushes = [push(5, 2, "MUG/RED 01", None), push(6, 0, "CUP", None)];
        let requests = build_requests(&amazon(), &pushes);
        assert_eq!(requests.len(), 2);
        let request = &requests[0];
        assert_eq!(request.method, Method::Patch);
        assert_eq!(
            request.url,
            "https://sellingpartnerapi-na.amazon.com/listings/2021-08-01/items/A1SELLER/\
             MUG%2FRED%2001?marketplaceIds=ATVPDKIKX0DER"
        );
        assert_eq!(
            headers(request),
            [
                ("x-amz-access-token", "Atza|token"),
                ("Content-Type", "application/json")
            ]
        );
        assert_eq!(request.listing_ids, [5]);
        assert_eq!(requests[1].listing_ids, [6]);
        assert_eq!(
            body(request),
            json!({
                "productType": "PRODUCT",
                "patches": [{
                    "op": "merge",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{ "fulfillment_channel_code": "DEFAULT", "quantity": 2 }],
                }],
            })
        );
    }

    #[test]
    fn a_store_ref_may_name_the_marketplace() {
        let mut t = amazon();
        t.store_ref = Some("A1SELLER:A1F83G8C2ARO7P".to_owned());
        let request = &build_requests(&t, &[push(5, 2, "MUG", None)])[0];
        assert!(
            request
                .url
                .ends_with("/items/A1SELLER/MUG?marketplaceIds=A1F83G8C2ARO7P"),
            "{}",
            request.url
        );
    }

    #[test]
    fn accepted_and_invalid_submissions() {
        let accepted =
            r#"{"sku": "MUG", "status": "ACCEPTED", "submissionId": "s1", "issues": []}"#;
        let results = parse_response(&amazon(), &one(), &response(200, accepted));
        assert_eq!(classes(&results), [(5, "ok")]);
        assert_eq!(results[0].answer, "200 OK");
        let invalid = json!({ "sku": "MUG", "status": "INVALID", "submissionId": "s2",
            "issues": [{ "code": "90220", "message": "'quantity' must be 0 or more",
                "severity": "ERROR" }] });
        let results = parse_response(&amazon(), &one(), &response(200, &invalid.to_string()));
        assert_eq!(
            failure(&results[0]),
            &Failure::Validation {
                message: "Amazon refused the update: 'quantity' must be 0 or more (90220)"
                    .to_owned()
            }
        );
        assert_eq!(
            results[0].answer,
            "200: 'quantity' must be 0 or more (90220)"
        );
    }

    #[test]
    fn error_codes_decide_the_class() {
        let error = |code: &str, message: &str| {
            json!({ "errors": [{ "code": code, "message": message, "details": "" }] }).to_string()
        };
        let table = [
            (
                403,
                error("Unauthorized", "Access to requested resource is denied."),
                "auth",
            ),
            (404, error("NotFound", "Resource not found."), "not_found"),
            (400, error("InvalidInput", "Invalid input."), "validation"),
            (
                429,
                error("QuotaExceeded", "You exceeded your quota."),
                "rate_limited",
            ),
            (503, "Service Unavailable".to_owned(), "unavailable"),
            (200, "{\"status\": \"PENDING?\"}".to_owned(), "validation"),
            (200, "not json".to_owned(), "validation"),
        ];
        for (status, text, class) in &table {
            let results = parse_response(&amazon(), &one(), &response(*status, text));
            assert_eq!(classes(&results), [(5, *class)], "{status} {text}");
        }
        let results = parse_response(&amazon(), &one(), &response(403, &table[0].1));
        assert_eq!(
            failure(&results[0]),
            &Failure::Auth {
                message: "Amazon refused the access token (403): Access to requested resource \
                          is denied. (Unauthorized)"
                    .to_owned()
            }
        );
    }

    #[test]
    fn a_listing_amazon_fulfils_is_not_pushed() {
        let t = amazon();
        let request = crate::connector::build_preflight(&t, &[push(5, 2, "MUG/1", None)]).remove(0);
        assert_eq!(request.method, Method::Get);
        assert_eq!(
            request.url,
            "https://sellingpartnerapi-na.amazon.com/listings/2021-08-01/items/A1SELLER/MUG%2F1\
             ?marketplaceIds=ATVPDKIKX0DER&includedData=fulfillmentAvailability"
        );
        assert_eq!(request.listing_ids, [5]);
        let verdict = |status: u16, body: &str| match crate::connector::parse_preflight(
            &t,
            &request,
            &response(status, body),
        )
        .remove(0)
        .1
        {
            Preflight::Skip(failure) => Some(failure),
            Preflight::Push { held } => {
                assert_eq!(held, 0, "Amazon holds nothing back");
                None
            }
        };
        let merchant = r#"{"sku": "MUG/1", "fulfillmentAvailability": [{"fulfillmentChannelCode": "DEFAULT", "quantity": 3}]}"#;
        assert_eq!(verdict(200, merchant), None);
        assert_eq!(verdict(200, r#"{"sku": "MUG/1"}"#), None, "no channel yet");
        let fba = r#"{"sku": "MUG/1", "fulfillmentAvailability": [{"fulfillmentChannelCode": "AMAZON_NA"}]}"#;
        assert_eq!(
            verdict(200, fba),
            Some(Failure::NotSettable {
                message: "Amazon fulfils this listing (AMAZON_NA): its stock is what Amazon's \
                          warehouses hold"
                    .to_owned()
            })
        );
        let gone = r#"{"errors": [{"code": "NotFound", "message": "Resource not found.", "details": ""}]}"#;
        assert!(matches!(verdict(404, gone), Some(Failure::NotFound { .. })));
        assert!(matches!(
            verdict(503, "down"),
            Some(Failure::Unavailable { .. })
        ));
    }

    #[test]
    fn an_accepted_update_is_read_back_for_a_later_refusal() {
        let t = amazon();
        let check = crate::connector::build_verify(&t, &push(5, 2, "MUG", None)).unwrap();
        assert_eq!(check.method, Method::Get);
        assert!(
            check
                .url
                .ends_with("/items/A1SELLER/MUG?marketplaceIds=ATVPDKIKX0DER&includedData=issues"),
            "{}",
            check.url
        );
        assert_eq!(check.listing_ids, [5]);
        let read =
            |status: u16, body: &str| crate::connector::parse_verify(&t, &response(status, body));
        assert_eq!(
            read(200, r#"{"sku": "MUG", "issues": []}"#),
            Verified::Accepted
        );
        // An issue about another attribute is not about the quantity Tally sent.
        let other = r#"{"sku": "MUG", "issues": [{"code": "18027", "message": "Image too small", "severity": "ERROR", "attributeNames": ["main_product_image_locator"]}]}"#;
        assert_eq!(read(200, other), Verified::Accepted);
        let refused = r#"{"sku": "MUG", "issues": [{"code": "90220", "message": "'fulfillment_availability' is not valid for this offer", "severity": "ERROR", "attributeNames": ["fulfillment_availability"]}]}"#;
        assert_eq!(
            read(200, refused),
            Verified::Refused(
                "'fulfillment_availability' is not valid for this offer (90220)".into()
            )
        );
        assert!(matches!(read(503, "down"), Verified::Unknown(_)));
        assert_eq!(
            crate::connector::verify_after_ms(StorefrontKind::Amazon),
            Some(VERIFY_AFTER_MS)
        );
        assert_eq!(
            crate::connector::verify_after_ms(StorefrontKind::Shopify),
            None
        );
    }

    #[test]
    fn quota_answers_wait_as_retry_after_says() {
        let body = r#"{"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource.", "details": ""}]}"#;
        let limited = with_header(response(429, body), "retry-after", "1");
        let results = parse_response(&amazon(), &one(), &limited);
        assert_eq!(
            failure(&results[0]),
            &Failure::RateLimited {
                message: "Amazon asked Tally to slow down (429): You exceeded your quota for \
                          the requested resource. (QuotaExceeded)"
                    .to_owned(),
                retry_after_ms: Some(1000),
            }
        );
    }
}
