//! When a failed push is tried again, and what the seller is told when it is not.
//!
//! Failures split two ways. Some will not get better by waiting (a refused credential, an
//! unknown listing, a value the storefront rejects): those fail at once with the storefront's
//! message and what to do. The rest (rate limits, 5xx, timeouts) are retried with exponential
//! backoff and jitter, honouring the storefront's `Retry-After`, and after the last attempt the
//! push goes to the dead-letter queue and the seller is told.

use crate::connector::Failure;
use crate::storefront::StorefrontKind;

/// How many times a push is tried and how long the first retry waits (each later one doubles).
/// Eight attempts starting a second apart span about two minutes of outage before the seller is
/// told; a deployment can tune both (`SYNC_MAX_ATTEMPTS`, `SYNC_RETRY_BASE_MS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            base_delay_ms: 1_000,
        }
    }
}

/// No retry waits longer than this (a queue message can be delayed at most 12 hours; a seller
/// should hear within minutes).
const MAX_DELAY_MS: u64 = 120_000;

/// The longest `Retry-After` honoured; a storefront asking for more gets its push retried
/// after an hour (and a bad header cannot park a push for days).
const MAX_RETRY_AFTER_MS: u64 = 3_600_000;

/// What to do after a push failed on attempt `attempt` (1 = the first try).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Try again after this many milliseconds.
    RetryAfter(u64),
    /// Retrying cannot help: record the failure and tell the seller.
    FailNow,
    /// Retries are used up: dead-letter the push and tell the seller.
    GiveUp,
}

impl RetryPolicy {
    /// Decides whether a failed push is retried, and when. `jitter` is a number in `[0, 1)`
    /// from the caller's randomness, so that pushes failing together do not retry together.
    pub fn decide(&self, failure: &Failure, attempt: u32, jitter: f64) -> RetryDecision {
        let retry_after = match failure {
            Failure::Auth { .. }
            | Failure::NotFound { .. }
            | Failure::Validation { .. }
            | Failure::NotSettable { .. }
            | Failure::StockUnmanaged { .. } => return RetryDecision::FailNow,
            Failure::RateLimited { retry_after_ms, .. } => *retry_after_ms,
            Failure::Unavailable { .. } | Failure::Stale { .. } | Failure::KeyRefused { .. } => {
                None
            }
            // The engine marks the listing's cap used up, so the next try waits for the new
            // day without spending attempts.
            Failure::CapReached { .. } => return RetryDecision::RetryAfter(1_000),
        };
        if attempt >= self.max_attempts {
            return RetryDecision::GiveUp;
        }
        RetryDecision::RetryAfter(self.backoff_ms(attempt, jitter, retry_after))
    }

    /// "Full jitter" backoff: a random wait up to `base · 2^(attempt-1)`, never shorter than
    /// half of it (so retries do spread out) and never shorter than the storefront asked.
    pub fn backoff_ms(&self, attempt: u32, jitter: f64, retry_after_ms: Option<u64>) -> u64 {
        let ceiling = self
            .base_delay_ms
            .saturating_mul(1u64 << attempt.saturating_sub(1).min(16))
            .min(MAX_DELAY_MS);
        let jitter = jitter.clamp(0.0, 1.0);
        let spread = (ceiling as f64 * (0.5 + jitter / 2.0)) as u64;
        // A storefront may ask for anything; an hour is the most a push is held back for it.
        let asked = retry_after_ms.unwrap_or(0).min(MAX_RETRY_AFTER_MS);
        spread.max(asked).min(MAX_DELAY_MS.max(asked))
    }
}

/// The plain-language cause and fix the sync history shows for a failure.
pub fn advice(kind: StorefrontKind, failure: &Failure) -> (String, String) {
    let store = kind.label();
    match failure {
        Failure::Auth { message } => (
            format!("{store} refused Tally's credentials: {message}"),
            format!(
                "Open Settings › Storefronts, edit this {store} connection and paste a new \
                 credential with inventory write access. Then press Sync Now on the product."
            ),
        ),
        Failure::NotFound { message } => (
            format!("{store} does not know this listing: {message}"),
            "Check the listing's IDs on the product's Details page (they may have changed on the \
             storefront), or pause the listing."
                .to_owned(),
        ),
        Failure::Validation { message } => (
            format!("{store} rejected the update: {message}"),
            "Check the listing on the storefront and its IDs in Tally, then press Sync Now."
                .to_owned(),
        ),
        Failure::RateLimited { message, .. } => (
            format!("{store} kept asking Tally to slow down: {message}"),
            "Nothing to fix on your side. Press Sync Now later, or lower how many apps use this \
             store's API."
                .to_owned(),
        ),
        Failure::Unavailable { message } => (
            format!("{store} could not take the update just now: {message}"),
            format!("Check {store}'s status page; once it is back, press Sync Now on the product."),
        ),
        Failure::Stale { message, .. } => (
            format!("{store} kept changing the quantity while Tally pushed: {message}"),
            "Press Sync Now on the product to push its current quantity.".to_owned(),
        ),
        Failure::KeyRefused { message } => (
            format!("{store} would not repeat an earlier attempt of this update: {message}"),
            "Nothing to fix on your side: each try goes under a new key. If it keeps failing, \
             press Sync Now on the product."
                .to_owned(),
        ),
        Failure::StockUnmanaged { message } => (
            format!("{store} is not managing this item's stock, so it ignores the quantity and keeps selling: {message}"),
            "Press \"Let Tally manage stock\" on the product's listing (Tally then turns stock \
             management on with the next push), or turn on Manage stock for the item in \
             WooCommerce and press Sync Now."
                .to_owned(),
        ),
        Failure::CapReached { message } => (
            format!("{store} says this listing's quantity changes for today are used up: {message}"),
            format!(
                "Nothing to fix: Tally waits until midnight UTC, when {store} counts again, and \
                 then pushes the quantity current then."
            ),
        ),
        Failure::NotSettable { message } => (
            format!("{store} keeps this item's stock itself, so Tally cannot set it: {message}"),
            format!(
                "Link the items {store} counts from instead (a bundle's components), or pause \
                 this listing on the product's Details page."
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: RetryPolicy = RetryPolicy {
        max_attempts: 8,
        base_delay_ms: 1_000,
    };

    fn unavailable() -> Failure {
        Failure::Unavailable {
            message: "500".into(),
        }
    }

    #[test]
    fn permanent_failures_fail_at_once() {
        for f in [
            Failure::Auth {
                message: "x".into(),
            },
            Failure::NotFound {
                message: "x".into(),
            },
            Failure::Validation {
                message: "x".into(),
            },
            Failure::NotSettable {
                message: "x".into(),
            },
        ] {
            assert_eq!(P.decide(&f, 1, 0.5), RetryDecision::FailNow);
        }
    }

    #[test]
    fn a_refused_idempotency_key_is_retried_under_a_new_one() {
        let f = Failure::KeyRefused {
            message: "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED".into(),
        };
        assert!(matches!(P.decide(&f, 1, 0.5), RetryDecision::RetryAfter(_)));
        assert_eq!(P.decide(&f, P.max_attempts, 0.5), RetryDecision::GiveUp);
    }

    #[test]
    fn transient_failures_retry_until_the_last_attempt() {
        for attempt in 1..P.max_attempts {
            assert!(matches!(
                P.decide(&unavailable(), attempt, 0.3),
                RetryDecision::RetryAfter(_)
            ));
        }
        assert_eq!(
            P.decide(&unavailable(), P.max_attempts, 0.3),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn backoff_grows_and_stays_within_its_window() {
        for attempt in 1..12 {
            let ceiling = (P.base_delay_ms << (attempt - 1)).min(MAX_DELAY_MS);
            for jitter in [0.0, 0.25, 0.5, 0.999] {
                let d = P.backoff_ms(attempt, jitter, None);
                assert!(d >= ceiling / 2 && d <= ceiling, "attempt {attempt}: {d}");
            }
        }
        assert!(P.backoff_ms(4, 0.0, None) > P.backoff_ms(2, 0.999, None));
    }

    #[test]
    fn retry_after_is_honoured() {
        let f = Failure::RateLimited {
            message: "429".into(),
            retry_after_ms: Some(7_000),
        };
        assert_eq!(P.decide(&f, 1, 0.0), RetryDecision::RetryAfter(7_000));
        assert!(P.backoff_ms(1, 0.9, Some(300_000)) >= 300_000);
        assert_eq!(P.backoff_ms(1, 0.5, Some(u64::MAX)), MAX_RETRY_AFTER_MS);
    }

    #[test]
    fn advice_names_the_store_and_a_next_step() {
        let (cause, fix) = advice(
            StorefrontKind::Shopify,
            &Failure::Auth {
                message: "401".into(),
            },
        );
        assert!(cause.starts_with("Shopify refused"));
        assert!(fix.contains("Settings › Storefronts"));
    }
}
