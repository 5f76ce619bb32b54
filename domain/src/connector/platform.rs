//! What a storefront platform must provide to take Tally's pushes: the production side of the
//! sandbox's `Platform`. Each platform's module implements [`Connector`] for its unit struct,
//! and [`of`] is the one place kinds are matched to them, so a new storefront kind is its
//! module, a line here, and its sandbox. (Catalogue reads, order polls, webhook subscriptions
//! and token renewals are capabilities some platforms lack; they stay matched by kind in their
//! own modules.)

use super::{HttpRequest, HttpResponse, ItemResult, Limits, Preflight, Push, Target, Verified};
use crate::storefront::StorefrontKind;

pub trait Connector: Sync {
    /// Batch size, request pacing, daily caps and push spacing.
    fn limits(&self) -> Limits;
    /// The requests that push `pushes`, split to the platform's batch limit: every push in
    /// exactly one request.
    fn build(&self, target: &Target, pushes: &[Push]) -> Vec<HttpRequest>;
    /// Exactly one result per `request.listing_ids`, in order, whatever the answer was.
    fn parse(&self, request: &HttpRequest, response: &HttpResponse) -> Vec<ItemResult>;
    /// Whether the platform refused the whole request for an item it did not name (the caller
    /// then sends it again in halves).
    fn refused_without_naming(&self, _request: &HttpRequest, _response: &HttpResponse) -> bool {
        false
    }
    /// How long to wait before the next request when the answer says the allowance is spent.
    fn pause_after(&self, _response: &HttpResponse) -> Option<u64> {
        None
    }
    /// Reads of what the storefront holds, for pushes whose compare-and-set missed.
    fn build_reread(&self, _target: &Target, _pushes: &[Push]) -> Vec<HttpRequest> {
        Vec::new()
    }
    /// `(listing_id, current quantity)` per listing a re-read could tell.
    fn parse_reread(&self, _request: &HttpRequest, _response: &HttpResponse) -> Vec<(i64, i64)> {
        Vec::new()
    }
    /// Reads a platform needs before pushing (is the listing Tally's to set, what does it hold
    /// for placed orders).
    fn build_preflight(&self, _target: &Target, _pushes: &[Push]) -> Vec<HttpRequest> {
        Vec::new()
    }
    /// What a preflight read found per listing; without one, every listing is pushed as is.
    fn parse_preflight(
        &self,
        request: &HttpRequest,
        _response: &HttpResponse,
    ) -> Vec<(i64, Preflight)> {
        request
            .listing_ids
            .iter()
            .map(|&id| (id, Preflight::Push { held: 0 }))
            .collect()
    }
    /// For a platform that accepts updates only for processing: how long after a push its
    /// verdict is read back.
    fn verify_after_ms(&self) -> Option<i64> {
        None
    }
    /// The read that tells whether such a push landed.
    fn build_verify(&self, _target: &Target, _push: &Push) -> Option<HttpRequest> {
        None
    }
    fn parse_verify(&self, _response: &HttpResponse) -> Verified {
        Verified::Accepted
    }
}

/// The connector behind `kind`.
pub fn of(kind: StorefrontKind) -> &'static dyn Connector {
    match kind {
        StorefrontKind::Shopify => &super::shopify::Shopify,
        StorefrontKind::Woocommerce => &super::woocommerce::Woocommerce,
        StorefrontKind::Ebay => &super::ebay::Ebay,
        StorefrontKind::Amazon => &super::amazon::Amazon,
        StorefrontKind::Bigcommerce => &super::bigcommerce::Bigcommerce,
        StorefrontKind::Vendure => &super::vendure::Vendure,
    }
}
