//! The sandbox storefronts: local servers that speak the APIs of Shopify, WooCommerce, eBay,
//! Amazon and BigCommerce (see `docs/storefronts.md`), with injectable faults and a record of
//! every call. The binary (`src/main.rs`) serves them; this library holds the control
//! endpoints' wire types, shared with the test harness (`tests/src/sandbox.rs`).

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use tally_domain::storefront::StorefrontKind;

/// The storefront platforms the sandbox imitates: the domain's [`StorefrontKind`] (convertible
/// both ways), kept here so the control endpoints' JSON is defined next to the harness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Shopify,
    Woocommerce,
    Ebay,
    Amazon,
    Bigcommerce,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Shopify,
        Kind::Woocommerce,
        Kind::Ebay,
        Kind::Amazon,
        Kind::Bigcommerce,
    ];

    /// The name used on the command line, in seeds and in the domain.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Shopify => "shopify",
            Kind::Woocommerce => "woocommerce",
            Kind::Ebay => "ebay",
            Kind::Amazon => "amazon",
            Kind::Bigcommerce => "bigcommerce",
        }
    }

    /// A name back into a kind.
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// The sandbox speaks every platform the domain knows except Vendure, which is open source and
/// runs for real in the tests (`vendure/`).
impl TryFrom<StorefrontKind> for Kind {
    type Error = StorefrontKind;

    fn try_from(kind: StorefrontKind) -> Result<Self, StorefrontKind> {
        match kind {
            StorefrontKind::Shopify => Ok(Kind::Shopify),
            StorefrontKind::Woocommerce => Ok(Kind::Woocommerce),
            StorefrontKind::Ebay => Ok(Kind::Ebay),
            StorefrontKind::Amazon => Ok(Kind::Amazon),
            StorefrontKind::Bigcommerce => Ok(Kind::Bigcommerce),
            StorefrontKind::Vendure => Err(kind),
        }
    }
}

impl From<Kind> for StorefrontKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Shopify => StorefrontKind::Shopify,
            Kind::Woocommerce => StorefrontKind::Woocommerce,
            Kind::Ebay => StorefrontKind::Ebay,
            Kind::Amazon => StorefrontKind::Amazon,
            Kind::Bigcommerce => StorefrontKind::Bigcommerce,
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an injected failure looks on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FaultKind {
    /// HTTP 500 with the platform's error body.
    #[serde(rename = "500")]
    ServerError,
    /// HTTP 429 with `Retry-After` (Shopify: HTTP 200 with a `THROTTLED` body).
    #[serde(rename = "429")]
    Throttled,
    /// No answer for `timeout_s` seconds, then 504: the client will have given up.
    #[serde(rename = "timeout")]
    Timeout,
}

/// What `PUT /_sandbox/faults` takes. Faults are drawn before a call is applied, so a failed
/// call changes nothing on the storefront.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// The chance (0.0–1.0) that an API call fails.
    pub failure_rate: f64,
    /// The failures to choose from, uniformly. Timeouts are opt-in because each one holds a call
    /// for `timeout_s`.
    pub kinds: Vec<FaultKind>,
    /// Added before every API call is answered, failed or not.
    pub latency_ms: u64,
    /// The `Retry-After` (seconds) of injected 429s.
    pub retry_after_s: u64,
    /// How long an injected timeout holds the call before answering 504.
    pub timeout_s: u64,
    /// The host drops the `Authorization` header before the store sees it, as some shared
    /// hosts do (WooCommerce then needs its keys in the query string).
    pub drops_authorization: bool,
    /// Every API call is answered `307 Temporary Redirect` to this address, as a moved store
    /// (or a host that wants the credential sent elsewhere) would answer.
    pub redirect_to: Option<String>,
    /// When not empty, only calls whose path or body contains one of these can fail (for
    /// example `TallyOrders`, Shopify's order query, so a test can keep polls from finding a
    /// sale while its webhook still brings it).
    pub matching: Vec<String>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            failure_rate: 0.0,
            kinds: vec![FaultKind::ServerError, FaultKind::Throttled],
            latency_ms: 0,
            retry_after_s: 1,
            timeout_s: 15,
            drops_authorization: false,
            redirect_to: None,
            matching: Vec::new(),
        }
    }
}

impl Faults {
    /// No failures, no latency.
    pub fn none() -> Self {
        Self::default()
    }

    /// Fails calls with probability `rate`, choosing among `kinds`.
    pub fn failing(rate: f64, kinds: &[FaultKind]) -> Self {
        Self {
            failure_rate: rate,
            kinds: kinds.to_vec(),
            ..Self::default()
        }
    }

    /// The same faults, drawn only for calls whose path or body contains one of `texts`.
    pub fn only_matching(self, texts: &[&str]) -> Self {
        Self {
            matching: texts.iter().map(|t| (*t).to_owned()).collect(),
            ..self
        }
    }

    /// Whether a call to `path` with `body` can be failed.
    pub fn apply_to(&self, path: &str, body: &[u8]) -> bool {
        let body = String::from_utf8_lossy(body);
        self.matching.is_empty()
            || self
                .matching
                .iter()
                .any(|t| path.contains(t.as_str()) || body.contains(t.as_str()))
    }

    /// Why these faults cannot be used, if they cannot.
    pub fn problem(&self) -> Option<&'static str> {
        if !(0.0..=1.0).contains(&self.failure_rate) {
            return Some("failure_rate must be between 0 and 1");
        }
        if self.failure_rate > 0.0 && self.kinds.is_empty() {
            return Some("kinds must name at least one failure when failure_rate > 0");
        }
        None
    }
}

/// One API call as the sandbox received and answered it (`GET /_sandbox/calls`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// 1, 2, 3... in the order the calls were answered.
    pub seq: u64,
    /// When the call was answered, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    pub method: String,
    /// The path as sent (still percent-encoded).
    pub path: String,
    /// The query string without `?`, empty when there was none.
    pub query: String,
    /// Header names lowercased; repeated headers joined with ", ".
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON, else as a string; `null` when empty.
    pub body: Value,
    pub status: u16,
    /// The injected failure, if the call was failed on purpose.
    pub injected: Option<FaultKind>,
}

impl Call {
    /// A request header by (any-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// The Shopify app's client secret the sandbox signs Shopify webhooks with, unless
/// `--app-secret shopify=...` gives another (a real shop signs with the app's own secret;
/// the seller gives Tally the same one).
pub const SHOPIFY_APP_SECRET: &str = "sandbox-app-client-secret";

/// One line of `POST /_sandbox/orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// The item key, as in `/_sandbox/items`.
    pub key: String,
    /// The SKU the storefront shows on the line (Tally matches by listing first, then SKU).
    #[serde(default)]
    pub sku: String,
    pub quantity: i64,
}

fn yes() -> bool {
    true
}

/// `POST /_sandbox/orders`: a sale made on the storefront itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    pub lines: Vec<OrderLine>,
    /// Whether to send the webhook to the storefront's subscriptions (false: the webhook is
    /// lost, as the platforms say one can be; only polling finds the order).
    #[serde(default = "yes")]
    pub webhook: bool,
}

/// `POST /_sandbox/orders/{id}/cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelOrder {
    #[serde(default = "yes")]
    pub webhook: bool,
}

impl Default for CancelOrder {
    fn default() -> Self {
        Self { webhook: true }
    }
}

/// What a storefront knows of an item beyond its count (`PUT /_sandbox/traits` with
/// `{"<key>": {...}}`); an item without traits is a plain, stock-tracked one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ItemTraits {
    /// Shopify: a bundle, whose stock Shopify counts from its components; setting it is
    /// refused with `NON_MUTABLE_INVENTORY_ITEM`.
    pub bundle: bool,
    /// BigCommerce: a variant of a product whose stock is kept at product level; setting it by
    /// `variant_id` refuses the whole call with a 422 naming no item ("tracked by product").
    /// Its product's stock is the item `product:<product id>@<location>`.
    pub tracked_by_product: bool,
    /// Amazon: fulfilled by Amazon (channel `AMAZON_NA`); the listing's read shows no
    /// `DEFAULT` channel.
    pub fba: bool,
    /// Amazon: answers a quantity update `ACCEPTED` but does not apply it, and lists an
    /// `ERROR` issue on `fulfillment_availability` when the listing is read with
    /// `includedData=issues` (a refusal after processing).
    pub refuses_later: bool,
    /// WooCommerce: the merchant left stock management off; a quantity is ignored (the answer
    /// says `"manage_stock": false`) unless the update turns management on.
    pub unmanaged: bool,
    /// The item's SKU in catalogue reads (eBay and Amazon items are keyed by theirs); none
    /// when unset, as on a store whose seller never gave it one.
    pub sku: Option<String>,
    /// The item's title in catalogue reads.
    pub title: Option<String>,
    /// eBay: the multi-variation listing (inventory item group) the item is a variation of;
    /// its variations share one daily revision cap.
    pub group: Option<String>,
    /// eBay: revisions the item's listing (its group, else the SKU) has had today; at 250,
    /// eBay refuses further quantity changes until the next day.
    pub revisions_today: Option<u32>,
}

/// `POST /_sandbox/orders/{id}/refund` (Shopify): a refund of some of the order's units;
/// the lines with `restock` go back on the shelf, as a Shopify refund with a `RETURN` or
/// `CANCEL` restock type does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundOrder {
    pub lines: Vec<RefundLine>,
    #[serde(default = "yes")]
    pub webhook: bool,
}

/// One refunded line: the item key, the units, and whether they are restocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundLine {
    pub key: String,
    pub quantity: i64,
    pub restock: bool,
}

/// A refund recorded on a sandbox order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxRefund {
    pub refund_id: String,
    pub lines: Vec<RefundLine>,
}

/// A webhook the sandbox sent, and the status it got (0: no answer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentWebhook {
    pub url: String,
    pub topic: String,
    pub status: u16,
}

/// The answer to placing or cancelling an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacedOrder {
    pub order_id: String,
    pub webhooks: Vec<SentWebhook>,
}

/// An order on the storefront (`GET /_sandbox/orders`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxOrder {
    pub order_id: String,
    pub lines: Vec<OrderLine>,
    pub cancelled: bool,
    pub created_ms: u64,
    pub updated_ms: u64,
    /// Refunds, oldest first (Shopify).
    #[serde(default)]
    pub refunds: Vec<SandboxRefund>,
}

/// A webhook subscription made through the platform's API (`GET /_sandbox/subscriptions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: u64,
    /// The platform's topic name (`ORDERS_CREATE`, `order.created`, `store/order/created`).
    pub topic: String,
    pub url: String,
    /// WooCommerce: what it signs with.
    #[serde(default)]
    pub secret: String,
    /// BigCommerce: the custom headers sent with every delivery.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_matching_texts_reach_only_the_calls_that_contain_them() {
        let orders_only =
            Faults::failing(1.0, &[FaultKind::ServerError]).only_matching(&["TallyOrders"]);
        let graphql = "/admin/api/2026-04/graphql.json";
        assert!(orders_only.apply_to(graphql, b"{\"query\":\"query TallyOrders($first: Int!)\"}"));
        assert!(!orders_only.apply_to(
            graphql,
            b"{\"query\":\"query TallyVariants($ids: [ID!]!)\"}"
        ));
        assert!(orders_only.apply_to("/x/TallyOrders", b""));
        assert!(Faults::failing(1.0, &[FaultKind::ServerError]).apply_to(graphql, b""));
    }
}
