//! Reading storefront answers the same way on every platform: which failure class a status or
//! error code means, how the seller's message and the short history answer are worded, and
//! how long a storefront asked Tally to wait.
//!
//! Platforms differ in where they put their error codes, so each connector finds the code and
//! the storefront's own words, and this module turns them into a [`Failure`] and an answer.

use super::{Failure, HttpRequest, HttpResponse, ItemResult};
use crate::storefront::StorefrontKind;
use serde_json::Value;

/// Most characters of the storefront's own words kept in a seller-facing message.
pub(super) const DETAIL_CHARS: usize = 160;
/// Most characters of an answer kept in the sync history.
pub(super) const ANSWER_CHARS: usize = 200;

/// What a refusal means for the seller, before it is worded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    Auth,
    NotFound,
    Validation,
    RateLimited,
    Unavailable,
    /// The idempotency key cannot be used again: retry under a new one.
    KeyRefused,
    /// The item's stock is the storefront's own to keep.
    NotSettable,
    /// The storefront does not manage the item's stock (WooCommerce).
    StockUnmanaged,
    /// The listing's daily revision cap is used up (eBay): wait for the next day.
    CapReached,
}

impl Class {
    /// The class an HTTP status means when the body says nothing more precise. A request
    /// timeout (408) is the storefront's trouble, so it is retried like a 5xx.
    pub(super) fn of_status(status: u16) -> Class {
        match status {
            401 | 403 => Class::Auth,
            404 => Class::NotFound,
            429 => Class::RateLimited,
            408 | 500..=599 => Class::Unavailable,
            _ => Class::Validation,
        }
    }
}

/// One refusal read from an answer: its class, the status it came with (the HTTP status, or
/// an item's own status), the platform's error code and the storefront's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    pub class: Class,
    pub status: u16,
    pub code: Option<String>,
    pub detail: String,
}

impl Refusal {
    /// A refusal whose class follows from `status`.
    pub(super) fn of_status(status: u16, code: Option<String>, detail: String) -> Refusal {
        Refusal {
            class: Class::of_status(status),
            status,
            code,
            detail,
        }
    }

    /// The failure shown to the seller, e.g. "eBay does not know this listing (404): SKU MUG
    /// is not available in the system (25702)". `retry_after_ms` only counts when rate limited.
    pub(super) fn failure(&self, kind: StorefrontKind, retry_after_ms: Option<u64>) -> Failure {
        let mut message = format!("{} {}", kind.label(), phrase(self.class, kind));
        if !(200..300).contains(&self.status) {
            message.push_str(&format!(" ({})", self.status));
        }
        let said = self.said(DETAIL_CHARS);
        if !said.is_empty() {
            message.push_str(": ");
            message.push_str(&said);
        }
        match self.class {
            Class::Auth => Failure::Auth { message },
            Class::NotFound => Failure::NotFound { message },
            Class::Validation => Failure::Validation { message },
            Class::RateLimited => Failure::RateLimited {
                message,
                retry_after_ms,
            },
            Class::Unavailable => Failure::Unavailable { message },
            Class::KeyRefused => Failure::KeyRefused { message },
            Class::NotSettable => Failure::NotSettable { message },
            Class::StockUnmanaged => Failure::StockUnmanaged { message },
            Class::CapReached => Failure::CapReached { message },
        }
    }

    /// The short answer for the sync history, e.g. "207: SKU MUG is not available in the
    /// system (25702)", or "502 Bad Gateway" when the storefront said nothing readable.
    pub(super) fn answer(&self, http_status: u16) -> String {
        let said = self.said(ANSWER_CHARS);
        if said.is_empty() {
            return status_line(http_status);
        }
        clip(&format!("{http_status}: {said}"), ANSWER_CHARS)
    }

    /// The storefront's words followed by its code, clipped to `max` characters.
    fn said(&self, max: usize) -> String {
        let detail = clip(self.detail.trim(), max);
        match (&self.code, detail.is_empty()) {
            (Some(code), true) => code.clone(),
            (Some(code), false) => format!("{detail} ({code})"),
            (None, _) => detail,
        }
    }
}

/// The verb phrase for a class, naming what the platform calls its credential.
fn phrase(class: Class, kind: StorefrontKind) -> &'static str {
    match (class, kind) {
        (Class::Auth, StorefrontKind::Woocommerce) => "refused the consumer key",
        (Class::Auth, _) => "refused the access token",
        (Class::NotFound, _) => "does not know this listing",
        (Class::Validation, _) => "refused the update",
        (Class::RateLimited, _) => "asked Tally to slow down",
        (Class::Unavailable, _) => "is unavailable",
        (Class::KeyRefused, _) => "would not repeat an earlier attempt of this update",
        (Class::NotSettable, _) => "keeps this item's stock itself",
        (Class::StockUnmanaged, _) => "is not managing this item's stock",
        (Class::CapReached, _) => "allows no more quantity changes to this listing today",
    }
}

/// "200 OK", "429 Too Many Requests": the status with its reason, for answers with no words.
pub(super) fn status_line(status: u16) -> String {
    let reason = match status {
        200 => "OK",
        201 => "Created",
        207 => "Multi-Status",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => return status.to_string(),
    };
    format!("{status} {reason}")
}

/// Whether the HTTP status says the request was handled (the body may still refuse items).
pub(super) fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// The body as JSON, or `None` when it is not JSON at all.
pub(super) fn json(response: &HttpResponse) -> Option<Value> {
    serde_json::from_str(&response.body).ok()
}

/// A plain-text body (a proxy's "upstream connect error") as detail; HTML pages say nothing
/// a seller can use, so they are left out.
pub(super) fn plain_text(body: &str) -> String {
    let first_line = body.trim().lines().next().unwrap_or_default();
    if first_line.starts_with('<') {
        return String::new();
    }
    clip(first_line, 80)
}

/// How long the storefront asked Tally to wait: `Retry-After` in seconds, else BigCommerce's
/// `X-Rate-Limit-Time-Reset-Ms`. A date form of `Retry-After` is ignored (the caller's backoff
/// applies then).
pub(super) fn retry_after_ms(response: &HttpResponse) -> Option<u64> {
    let from_retry_after = response
        .header("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| (s * 1000.0).ceil() as u64);
    from_retry_after.or_else(|| header_u64(response, "x-rate-limit-time-reset-ms"))
}

/// A header holding a whole number.
pub(super) fn header_u64(response: &HttpResponse, name: &str) -> Option<u64> {
    response.header(name).and_then(|v| v.trim().parse().ok())
}

/// A successful result.
pub(super) fn ok(listing_id: i64, http_status: u16) -> ItemResult {
    ItemResult {
        listing_id,
        outcome: Ok(()),
        answer: status_line(http_status),
    }
}

/// The result of one listing the storefront refused; a rate limit waits as the answer's
/// headers say.
pub(super) fn refused(
    kind: StorefrontKind,
    listing_id: i64,
    refusal: &Refusal,
    response: &HttpResponse,
) -> ItemResult {
    ItemResult {
        listing_id,
        outcome: Err(refusal.failure(kind, retry_after_ms(response))),
        answer: refusal.answer(response.status),
    }
}

/// A whole-request refusal applies to every listing of the request.
pub(super) fn all_refused(
    kind: StorefrontKind,
    request: &HttpRequest,
    response: &HttpResponse,
    refusal: &Refusal,
) -> Vec<ItemResult> {
    all_refused_after(kind, request, response, refusal, retry_after_ms(response))
}

/// [`all_refused`] with a wait the platform worked out from its body rather than headers.
pub(super) fn all_refused_after(
    kind: StorefrontKind,
    request: &HttpRequest,
    response: &HttpResponse,
    refusal: &Refusal,
    retry_after_ms: Option<u64>,
) -> Vec<ItemResult> {
    let outcome = Err(refusal.failure(kind, retry_after_ms));
    same_for_all(request, &outcome, &refusal.answer(response.status))
}

/// The same outcome and answer for every listing of the request.
pub(super) fn same_for_all(
    request: &HttpRequest,
    outcome: &Result<(), Failure>,
    answer: &str,
) -> Vec<ItemResult> {
    request
        .listing_ids
        .iter()
        .map(|&listing_id| ItemResult {
            listing_id,
            outcome: outcome.clone(),
            answer: answer.to_owned(),
        })
        .collect()
}

/// A 2xx answer whose body Tally cannot read: whether anything was applied is unknown, and
/// retrying the same unreadable exchange would not help, so the seller is told.
pub(super) fn unreadable(
    kind: StorefrontKind,
    request: &HttpRequest,
    response: &HttpResponse,
) -> Vec<ItemResult> {
    let message = format!("{} sent an answer Tally could not read", kind.label());
    let mut answer = format!("{}: unreadable answer", response.status);
    let text = plain_text(&response.body);
    if !text.is_empty() {
        answer = clip(&format!("{answer}: {text}"), ANSWER_CHARS);
    }
    same_for_all(request, &Err(Failure::Validation { message }), &answer)
}

/// The result of a listing the storefront did not apply only because another listing of the
/// same call was refused (Shopify and BigCommerce apply a call all or nothing). After a stale
/// compare it is re-read and retried like the stale one; otherwise it is simply retried.
pub(super) fn not_applied(
    kind: StorefrontKind,
    listing_id: i64,
    stale: bool,
    http_status: u16,
) -> ItemResult {
    let message = format!(
        "{} applied nothing in this call because another listing in it was refused",
        kind.label()
    );
    let outcome = if stale {
        Failure::Stale {
            message,
            current: None,
        }
    } else {
        Failure::Unavailable { message }
    };
    ItemResult {
        listing_id,
        outcome: Err(outcome),
        answer: format!("{http_status}: not applied (another listing in the call was refused)"),
    }
}

/// `text` cut to at most `max` characters (not bytes), marked with "…" when cut.
pub(super) fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{kept}…")
}

/// A JSON string field, or "".
pub(super) fn text<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response_with(headers: &[(&str, &str)]) -> HttpResponse {
        HttpResponse {
            status: 429,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: String::new(),
        }
    }

    #[test]
    fn statuses_map_to_what_the_seller_should_do() {
        let table = [
            (401, Class::Auth),
            (403, Class::Auth),
            (404, Class::NotFound),
            (400, Class::Validation),
            (422, Class::Validation),
            (429, Class::RateLimited),
            (408, Class::Unavailable),
            (500, Class::Unavailable),
            (503, Class::Unavailable),
        ];
        for (status, class) in table {
            assert_eq!(Class::of_status(status), class, "{status}");
        }
    }

    #[test]
    fn refusals_name_the_platform_status_and_the_storefronts_words() {
        let r = Refusal::of_status(401, Some("1001".to_owned()), "Invalid access token".into());
        assert_eq!(
            r.failure(StorefrontKind::Ebay, None),
            Failure::Auth {
                message: "eBay refused the access token (401): Invalid access token (1001)"
                    .to_owned()
            }
        );
        assert_eq!(r.answer(401), "401: Invalid access token (1001)");
        let silent = Refusal::of_status(502, None, String::new());
        assert_eq!(silent.answer(502), "502 Bad Gateway");
    }

    #[test]
    fn retry_after_reads_seconds_then_bigcommerces_reset() {
        assert_eq!(
            retry_after_ms(&response_with(&[("retry-after", "2")])),
            Some(2000)
        );
        assert_eq!(
            retry_after_ms(&response_with(&[("Retry-After", "0.5")])),
            Some(500)
        );
        let date = [("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")];
        assert_eq!(retry_after_ms(&response_with(&date)), None);
        let reset = [("x-rate-limit-time-reset-ms", "1500")];
        assert_eq!(retry_after_ms(&response_with(&reset)), Some(1500));
        assert_eq!(retry_after_ms(&response_with(&[])), None);
    }

    #[test]
    fn clipping_counts_characters_not_bytes() {
        assert_eq!(clip("ééééé", 5), "ééééé");
        assert_eq!(clip("éééééé", 5), "éééé…");
        assert_eq!(
            clip(&"x".repeat(500), ANSWER_CHARS).chars().count(),
            ANSWER_CHARS
        );
    }

    #[test]
    fn plain_text_bodies_are_kept_and_html_pages_dropped() {
        assert_eq!(
            plain_text("upstream connect error\nmore"),
            "upstream connect error"
        );
        assert_eq!(plain_text("<html><body>502</body></html>"), "");
    }
}
