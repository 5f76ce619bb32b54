//! Connectors: each platform's real request shape, limits and answers, as pure functions.
//!
//! The worker hands a connector the pushes for one storefront; the connector returns the HTTP
//! requests to make (already split to the platform's batch limit). The worker makes them and
//! hands each answer back; the connector says what happened to every listing in it. No I/O
//! happens here, so every shape is unit-tested on the host.

use crate::storefront::StorefrontKind;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod amazon;
mod answer;
mod bigcommerce;
pub mod catalogue;
mod ebay;
#[cfg(test)]
mod fixtures;
pub mod lookup;
pub mod oauth;
pub mod orders;
pub mod platform;
mod shopify;
pub mod subscribe;
mod vendure;
mod woocommerce;

/// The storefront connection a push goes to, with its credential already decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub kind: StorefrontKind,
    /// The API address without a trailing slash, e.g. `https://shop.myshopify.com`.
    pub base_url: String,
    /// The secret: an access token, or `key:secret` for WooCommerce.
    pub credential: String,
    /// Platform account reference where one is needed (Amazon: `SELLERID` or
    /// `SELLERID:MARKETPLACEID`).
    pub store_ref: Option<String>,
    /// WooCommerce: the keys go in the query string, for hosts that drop `Authorization`.
    pub keys_in_query: bool,
}

/// One listing's quantity to set on its storefront.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Push {
    pub listing_id: i64,
    /// The product version the quantity was read at: with `listing_id` it names the push in
    /// idempotency keys, so a retried push is the same push.
    pub version: i64,
    /// The quantity to set (channel rules already applied).
    pub quantity: i64,
    /// Checked ids from [`crate::storefront::ListingRef`].
    pub external_id: String,
    pub external_sub_id: Option<String>,
    /// What the storefront is believed to hold now (Shopify's `changeFromQuantity`); `None`
    /// when unknown.
    pub expected_current: Option<i64>,
    /// Bumped each time a storefront refuses to repeat an attempt under its idempotency key
    /// ([`Failure::KeyRefused`]), so the next try goes under a new one.
    pub key_round: i64,
    /// WooCommerce: the seller lets Tally turn the item's stock management on.
    pub manage_stock: bool,
    /// Units the storefront holds for placed orders it has not shipped, read just before the
    /// push (Vendure's `stockAllocated`): sent on top of `quantity`, so what the storefront
    /// sells is `quantity`. 0 elsewhere.
    pub held: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
        }
    }
}

/// A request for the worker to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// JSON text.
    pub body: Option<String>,
    /// The listings this request pushes, in the order the platform answers for them.
    pub listing_ids: Vec<i64>,
}

/// The storefront's answer, as the worker received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a push did not land, by what the seller or Tally should do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "class", rename_all = "snake_case")]
pub enum Failure {
    /// The credential was refused or lacks a permission: retrying will not help.
    Auth { message: String },
    /// The storefront does not know this listing: retrying will not help.
    NotFound { message: String },
    /// The storefront refused the value or request: retrying will not help.
    Validation { message: String },
    /// Too many requests; try again after `retry_after_ms` if the storefront said.
    RateLimited {
        message: String,
        retry_after_ms: Option<u64>,
    },
    /// 5xx, a timeout or a dropped connection: retry.
    Unavailable { message: String },
    /// Shopify's compare-and-set missed: the storefront holds `current`, not what we expected.
    Stale {
        message: String,
        current: Option<i64>,
    },
    /// The storefront will not repeat an earlier attempt under this idempotency key (it failed,
    /// or was made with other values): retry under a new key.
    KeyRefused { message: String },
    /// The storefront keeps this item's stock itself (a Shopify bundle, an Amazon FBA offer):
    /// it is not Tally's to set, and retrying will not help.
    NotSettable { message: String },
    /// WooCommerce does not manage this item's stock, so it ignores the quantity and keeps
    /// selling; Tally turns management on only once the seller says so.
    StockUnmanaged { message: String },
    /// The listing's daily revision cap is used up (eBay: 250 per listing per day, its
    /// variations together): not a failure, a wait until the cap starts again.
    CapReached { message: String },
}

impl Failure {
    /// What went wrong, in the storefront's (or Tally's) words.
    pub fn message(&self) -> &str {
        match self {
            Failure::Auth { message }
            | Failure::NotFound { message }
            | Failure::Validation { message }
            | Failure::RateLimited { message, .. }
            | Failure::Unavailable { message }
            | Failure::Stale { message, .. }
            | Failure::KeyRefused { message }
            | Failure::NotSettable { message }
            | Failure::StockUnmanaged { message }
            | Failure::CapReached { message } => message,
        }
    }
}

/// What happened to one listing of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemResult {
    pub listing_id: i64,
    pub outcome: Result<(), Failure>,
    /// The storefront's answer in short, for the sync history (at most ~200 characters).
    pub answer: String,
}

/// How often a storefront may be called, per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Listings per request.
    pub batch: usize,
    /// Least time between two requests to one connection, in milliseconds.
    pub min_interval_ms: u64,
    /// Quantity revisions a listing may take per day (eBay: 250), if the platform caps it.
    pub daily_revisions: Option<u32>,
    /// Least time between two pushes to one listing while its product keeps selling: a burst
    /// becomes a push of the latest quantity every so often, not one per sale. Set from what
    /// each platform's request budget has room for (see `round::spacing_ms` for the capped
    /// ones).
    pub push_spacing_ms: i64,
}

/// A day in milliseconds: daily revision caps count per UTC day.
pub const DAY_MS: i64 = 86_400_000;

/// Seconds from `now_ms` until a little after the next midnight UTC, when daily revision caps
/// start again (the margin covers clocks a few seconds apart).
pub fn seconds_until_caps_reset(now_ms: i64) -> u32 {
    let left_ms = DAY_MS - now_ms.rem_euclid(DAY_MS);
    u32::try_from((left_ms + 999) / 1000 + 60).unwrap_or(u32::MAX)
}

/// How often `kind` may be called and how many listings one request may carry.
pub fn limits(kind: StorefrontKind) -> Limits {
    platform::of(kind).limits()
}

/// Whether the storefront refused the whole of `request` for an item it did not name
/// (BigCommerce's "tracked by product" 422, Vendure's all-or-nothing mutation): the caller sends its pushes again in halves, so
/// only the wrong listing fails.
pub fn refused_without_naming(
    target: &Target,
    request: &HttpRequest,
    response: &HttpResponse,
) -> bool {
    platform::of(target.kind).refused_without_naming(request, response)
}

/// The requests that push `pushes` to `target`, split to the platform's batch limit. Every
/// push is in exactly one request; an empty slice makes no requests.
pub fn build_requests(target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
    platform::of(target.kind).build(target, pushes)
}

/// What happened to each listing of `request`: exactly one result per `request.listing_ids`,
/// in the same order, whatever the storefront sent back.
pub fn parse_response(
    target: &Target,
    request: &HttpRequest,
    response: &HttpResponse,
) -> Vec<ItemResult> {
    if let Some(failure) = redirected(target, response) {
        let answer = answer::clip(
            &format!("{}: redirect not followed", response.status),
            answer::ANSWER_CHARS,
        );
        return answer::same_for_all(request, &Err(failure), &answer);
    }
    platform::of(target.kind).parse(request, response)
}

/// A redirect answer: Tally never follows one (the credential goes only to the address it was
/// given for), so the seller is told where the storefront pointed and what to check.
fn redirected(target: &Target, response: &HttpResponse) -> Option<Failure> {
    if !(300..400).contains(&response.status) || response.status == 304 {
        return None;
    }
    let to = response.header("location").unwrap_or("another address");
    // Only the host is named: the rest of the address may hold tokens.
    let host = to
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', '?', '#']).next())
        .unwrap_or(to);
    Some(Failure::Validation {
        message: format!(
            "{} answered with a redirect to {} ({}); Tally does not follow redirects, so the \
             credential stays with the address it was given for. Check the connection's API \
             address (Settings › Storefronts › Edit).",
            target.kind.label(),
            answer::clip(host, 80),
            response.status
        ),
    })
}

/// The results when no answer came at all (timeout, refused connection): every listing of the
/// request is retried, because the storefront may never have seen it.
pub fn unreachable(request: &HttpRequest, message: &str) -> Vec<ItemResult> {
    let detail = answer::clip(message, answer::DETAIL_CHARS);
    answer::same_for_all(
        request,
        &Err(Failure::Unavailable {
            message: format!("The storefront did not answer: {detail}"),
        }),
        &answer::clip(&format!("no answer: {detail}"), answer::ANSWER_CHARS),
    )
}

/// How long to wait before the next request to this connection, in milliseconds, when the
/// answer says the platform's allowance is spent (Shopify's cost bucket, BigCommerce's
/// request quota). `None` means the next request may go at the usual pace.
pub fn pause_after(target: &Target, response: &HttpResponse) -> Option<u64> {
    platform::of(target.kind).pause_after(response)
}

/// Requests that read what the storefront holds now for pushes whose compare-and-set missed.
/// Only Shopify has compare-and-set, so other platforms need no re-read.
pub fn build_reread(target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
    platform::of(target.kind).build_reread(target, pushes)
}

/// What a read before pushing found for one listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Preflight {
    /// Push it, with [`Push::held`] set to `held`.
    Push { held: i64 },
    /// Do not push it: it gets this failure instead (a read that failed is retried like a
    /// push that did).
    Skip(Failure),
}

/// The reads a platform needs before pushing: whether each listing is Tally's to set (Amazon:
/// a listing Amazon fulfils is not), and what the storefront holds for placed orders
/// (Vendure). Empty for the others.
pub fn build_preflight(target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
    platform::of(target.kind).build_preflight(target, pushes)
}

/// What a preflight read found for each listing of `request`.
pub fn parse_preflight(
    target: &Target,
    request: &HttpRequest,
    response: &HttpResponse,
) -> Vec<(i64, Preflight)> {
    if let Some(failure) = redirected(target, response) {
        return request
            .listing_ids
            .iter()
            .map(|&id| (id, Preflight::Skip(failure.clone())))
            .collect();
    }
    platform::of(target.kind).parse_preflight(request, response)
}

/// What reading back an update accepted only for processing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Nothing against the quantity sent.
    Accepted,
    /// The storefront refused it after all, in its words.
    Refused(String),
    /// The read did not tell (the storefront did not answer, or not readably): read again later.
    Unknown(String),
}

/// How long after a successful push the storefront's own verdict is read back, for platforms
/// that accept an update only for processing (Amazon); `None` for the rest.
pub fn verify_after_ms(kind: StorefrontKind) -> Option<i64> {
    platform::of(kind).verify_after_ms()
}

/// The read that tells whether a push the storefront accepted for processing landed.
pub fn build_verify(target: &Target, push: &Push) -> Option<HttpRequest> {
    platform::of(target.kind).build_verify(target, push)
}

pub fn parse_verify(target: &Target, response: &HttpResponse) -> Verified {
    platform::of(target.kind).parse_verify(response)
}

/// `(listing_id, current quantity)` for each listing of a re-read the answer could tell;
/// listings it could not read are left out.
pub fn parse_reread(
    target: &Target,
    request: &HttpRequest,
    response: &HttpResponse,
) -> Vec<(i64, i64)> {
    platform::of(target.kind).parse_reread(request, response)
}

/// The connection's API address without trailing slashes, so paths join with one `/`.
fn base_url(target: &Target) -> &str {
    target.base_url.trim_end_matches('/')
}

/// The headers that carry the connection's credential, the way each platform wants it.
fn auth_headers(target: &Target) -> Vec<(String, String)> {
    use base64::{engine::general_purpose::STANDARD, Engine as _};
    let accept = ("Accept".to_owned(), "application/json".to_owned());
    if woocommerce_keys_in_query(target) {
        return vec![accept];
    }
    let (name, value) = match target.kind {
        StorefrontKind::Shopify => ("X-Shopify-Access-Token", target.credential.clone()),
        StorefrontKind::Woocommerce => (
            "Authorization",
            format!("Basic {}", STANDARD.encode(&target.credential)),
        ),
        StorefrontKind::Ebay => ("Authorization", format!("Bearer {}", target.credential)),
        StorefrontKind::Amazon => ("x-amz-access-token", target.credential.clone()),
        StorefrontKind::Bigcommerce => ("X-Auth-Token", target.credential.clone()),
        StorefrontKind::Vendure => ("Authorization", format!("Bearer {}", target.credential)),
    };
    vec![(name.to_owned(), value), accept]
}

fn woocommerce_keys_in_query(target: &Target) -> bool {
    target.kind == StorefrontKind::Woocommerce && target.keys_in_query
}

/// `url` with the connection's credential where it goes in the address: WooCommerce keys,
/// when the host drops the `Authorization` header (WooCommerce's documented fallback; the
/// address is https, and Tally never shows it). Other URLs are returned as they are.
fn credentialed_url(target: &Target, url: String) -> String {
    if !woocommerce_keys_in_query(target) {
        return url;
    }
    let (key, secret) = target
        .credential
        .split_once(':')
        .unwrap_or((target.credential.as_str(), ""));
    let joint = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{joint}consumer_key={}&consumer_secret={}",
        encode_component(key),
        encode_component(secret)
    )
}

/// A `GET` with the connection's credential.
fn get_request(target: &Target, url: String) -> HttpRequest {
    HttpRequest {
        method: Method::Get,
        url: credentialed_url(target, url),
        headers: auth_headers(target),
        body: None,
        listing_ids: Vec::new(),
    }
}

/// A `POST` of JSON with the connection's credential.
fn post_json(target: &Target, url: String, body: &Value) -> HttpRequest {
    let mut request = get_request(target, url);
    request.method = Method::Post;
    request
        .headers
        .push(("Content-Type".to_owned(), "application/json".to_owned()));
    request.body = Some(body.to_string());
    request
}

/// A request with a JSON body: `headers` first, then `Content-Type: application/json`.
fn json_request(
    method: Method,
    url: String,
    headers: &[(&str, &str)],
    body: &Value,
    listing_ids: Vec<i64>,
) -> HttpRequest {
    let mut headers: Vec<(String, String)> = headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
    HttpRequest {
        method,
        url,
        headers,
        body: Some(body.to_string()),
        listing_ids,
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so a seller's SKU (which
/// may hold `/`, `?` or spaces) stays one path segment or query value.
fn encode_component(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

/// A platform id as JSON: a number when it is one (as the numeric platforms expect), else the
/// text itself, so an unexpected id is refused by the storefront rather than lost here.
fn json_id(id: &str) -> Value {
    id.parse::<u64>()
        .map_or_else(|_| Value::String(id.to_owned()), Value::from)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_redirect_is_a_failure_naming_only_the_host() {
        let t = target(StorefrontKind::Woocommerce);
        let request = build_requests(&t, &[push(1, 3, "40", None)]).remove(0);
        let moved = HttpResponse {
            status: 307,
            headers: vec![(
                "location".into(),
                "https://collector.example/steal?token=abc".into(),
            )],
            body: String::new(),
        };
        let result = parse_response(&t, &request, &moved).remove(0);
        let Err(Failure::Validation { message }) = result.outcome else {
            panic!("{result:?}");
        };
        assert!(
            message.contains("redirect to collector.example (307)"),
            "{message}"
        );
        assert!(!message.contains("token=abc"), "{message}");
        assert_eq!(result.answer, "307: redirect not followed");
    }

    #[test]
    fn daily_caps_reset_a_minute_after_midnight_utc() {
        // 2026-11-27 23:59:30 UTC.
        let late = 1_796_169_570_000;
        assert_eq!(late % DAY_MS, DAY_MS - 30_000);
        assert_eq!(seconds_until_caps_reset(late), 30 + 60);
        assert_eq!(
            seconds_until_caps_reset(late + 30_000),
            86_400 + 60,
            "at midnight: the next one"
        );
        assert_eq!(seconds_until_caps_reset(late + 30_001), 86_400 + 60);
    }

    use super::fixtures::{push, target};
    use super::*;

    #[test]
    fn limits_follow_each_platforms_published_caps() {
        let table = [
            (StorefrontKind::Shopify, 250, 0, None, 1_000),
            (StorefrontKind::Woocommerce, 100, 0, None, 1_000),
            (StorefrontKind::Ebay, 25, 0, Some(250), 2_000),
            (StorefrontKind::Amazon, 1, 200, None, 2_000),
            (StorefrontKind::Bigcommerce, 2000, 0, None, 1_000),
            (StorefrontKind::Vendure, 50, 100, None, 1_000),
        ];
        for (kind, batch, min_interval_ms, daily_revisions, push_spacing_ms) in table {
            let expected = Limits {
                batch,
                min_interval_ms,
                daily_revisions,
                push_spacing_ms,
            };
            assert_eq!(limits(kind), expected, "{kind:?}");
        }
    }

    #[test]
    fn every_platform_puts_every_push_in_exactly_one_request() {
        for kind in StorefrontKind::ALL {
            let pushes: Vec<Push> = (1..=7)
                .map(|i| push(i, i * 2, &format!("{}", 100 + i), Some("9")))
                .collect();
            let requests = build_requests(&target(kind), &pushes);
            let mut ids: Vec<i64> = requests
                .iter()
                .flat_map(|r| r.listing_ids.clone())
                .collect();
            ids.sort_unstable();
            assert_eq!(ids, (1..=7).collect::<Vec<i64>>(), "{kind:?}");
            assert!(build_requests(&target(kind), &[]).is_empty(), "{kind:?}");
        }
    }

    #[test]
    fn an_unreachable_storefront_leaves_every_listing_to_retry() {
        let request = HttpRequest {
            method: Method::Post,
            url: "https://x.example".to_owned(),
            headers: Vec::new(),
            body: None,
            listing_ids: vec![4, 2],
        };
        let results = unreachable(&request, "timed out after 30 s");
        let expected: Vec<ItemResult> = [4, 2]
            .into_iter()
            .map(|listing_id| ItemResult {
                listing_id,
                outcome: Err(Failure::Unavailable {
                    message: "The storefront did not answer: timed out after 30 s".to_owned(),
                }),
                answer: "no answer: timed out after 30 s".to_owned(),
            })
            .collect();
        assert_eq!(results, expected);
    }

    #[test]
    fn platforms_without_compare_and_set_need_no_reread_or_pause() {
        let pushes = [push(1, 3, "5", Some("6"))];
        let response = HttpResponse {
            status: 200,
            headers: vec![("x-rate-limit-requests-left".to_owned(), "0".to_owned())],
            body: "{}".to_owned(),
        };
        for kind in [
            StorefrontKind::Woocommerce,
            StorefrontKind::Ebay,
            StorefrontKind::Amazon,
        ] {
            let t = target(kind);
            assert!(build_reread(&t, &pushes).is_empty(), "{kind:?}");
            assert_eq!(pause_after(&t, &response), None, "{kind:?}");
        }
    }

    #[test]
    fn components_keep_only_unreserved_characters() {
        assert_eq!(encode_component("MUG-red_01.v~2"), "MUG-red_01.v~2");
        assert_eq!(encode_component("a/b c?d&é"), "a%2Fb%20c%3Fd%26%C3%A9");
    }

    #[test]
    fn base_urls_lose_their_trailing_slash() {
        let mut t = target(StorefrontKind::Ebay);
        t.base_url = "https://api.ebay.com/".to_owned();
        assert_eq!(base_url(&t), "https://api.ebay.com");
    }

    #[test]
    fn numeric_ids_become_json_numbers_and_others_stay_text() {
        assert_eq!(json_id("40318"), serde_json::json!(40318));
        assert_eq!(json_id("12a"), serde_json::json!("12a"));
    }
}
