//! Small builders the connector tests share: a connection per platform, pushes, answers.

use super::{Failure, HttpRequest, HttpResponse, ItemResult, Push, Target};
use crate::storefront::StorefrontKind;
use serde_json::Value;

/// A connection to `kind` with a trailing slash on its address, as sellers paste them.
pub fn target(kind: StorefrontKind) -> Target {
    let (base_url, credential, store_ref) = match kind {
        StorefrontKind::Shopify => ("https://mugs.myshopify.com/", "shpat_abc", None),
        StorefrontKind::Woocommerce => ("https://mugs.example/", "ck_1:cs_2", None),
        StorefrontKind::Ebay => ("https://api.ebay.com/", "v^1.1#token", None),
        StorefrontKind::Amazon => (
            "https://sellingpartnerapi-na.amazon.com/",
            "Atza|token",
            Some("A1SELLER"),
        ),
        StorefrontKind::Bigcommerce => (
            "https://api.bigcommerce.com/stores/abc123/",
            "bc_token",
            None,
        ),
        StorefrontKind::Vendure => ("https://shop.example/", "vendure_token", None),
    };
    Target {
        kind,
        base_url: base_url.to_owned(),
        credential: credential.to_owned(),
        store_ref: store_ref.map(str::to_owned),
        keys_in_query: false,
    }
}

/// A push of `quantity` for listing `listing_id` at version 7, with nothing expected.
pub fn push(listing_id: i64, quantity: i64, external_id: &str, sub: Option<&str>) -> Push {
    Push {
        listing_id,
        version: 7,
        quantity,
        external_id: external_id.to_owned(),
        external_sub_id: sub.map(str::to_owned),
        expected_current: None,
        key_round: 0,
        manage_stock: false,
        held: 0,
    }
}

/// `count` pushes with listing ids from 1 and external ids from 1001.
pub fn many(count: i64, sub: Option<&str>) -> Vec<Push> {
    (1..=count)
        .map(|i| push(i, i, &(1000 + i).to_string(), sub))
        .collect()
}

/// An answer with lower-case header names, as the worker hands them over.
pub fn response(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: Vec::new(),
        body: body.to_owned(),
    }
}

/// `response` with one more header.
pub fn with_header(mut response: HttpResponse, name: &str, value: &str) -> HttpResponse {
    response.headers.push((name.to_owned(), value.to_owned()));
    response
}

/// The request's JSON body.
pub fn body(request: &HttpRequest) -> Value {
    let text = request.body.as_deref().expect("request has a body");
    serde_json::from_str(text).expect("body is JSON")
}

/// Header pairs as `(&str, &str)`, for exact comparisons.
pub fn headers(request: &HttpRequest) -> Vec<(&str, &str)> {
    request
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect()
}

/// The failure of a result, failing the test when it succeeded.
pub fn failure(result: &ItemResult) -> &Failure {
    match &result.outcome {
        Err(failure) => failure,
        Ok(()) => panic!("listing {} succeeded", result.listing_id),
    }
}

/// The failure class name of each result ("ok" for success), for table assertions.
pub fn classes(results: &[ItemResult]) -> Vec<(i64, &'static str)> {
    results
        .iter()
        .map(|r| {
            let class = match &r.outcome {
                Ok(()) => "ok",
                Err(Failure::Auth { .. }) => "auth",
                Err(Failure::NotFound { .. }) => "not_found",
                Err(Failure::Validation { .. }) => "validation",
                Err(Failure::RateLimited { .. }) => "rate_limited",
                Err(Failure::Unavailable { .. }) => "unavailable",
                Err(Failure::Stale { .. }) => "stale",
                Err(Failure::KeyRefused { .. }) => "key_refused",
                Err(Failure::NotSettable { .. }) => "not_settable",
                Err(Failure::StockUnmanaged { .. }) => "stock_unmanaged",
                Err(Failure::CapReached { .. }) => "cap_reached",
            };
            (r.listing_id, class)
        })
        .collect()
}
