//! Storefront webhooks: whether a delivery is genuine, and which sale it tells of.
//!
//! Each platform signs differently (see issue 12 and the platforms' references):
//! - Shopify: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body, keyed with the
//!   app's client secret.
//! - WooCommerce: `X-WC-Webhook-Signature` is the base64 HMAC-SHA256 of the raw body, keyed with
//!   the secret set when the webhook was created (Tally sets it).
//! - BigCommerce signs nothing: Tally registers its hook with a secret custom header and checks
//!   that header.
//! - Anything else: Tally's own format ([`GenericEvent`]), signed like GitHub's webhooks,
//!   `X-Tally-Signature: sha256=<hex HMAC-SHA256 of the raw body>`.
//!
//! Every comparison is constant-time (the `hmac` crate's `verify_slice`, `subtle` for the
//! shared header). Reading a payload turns it into an [`OrderEvent`]: what the one order path
//! then applies, once per (connection, order id).

use crate::api::FieldError;
use crate::order::{Order, OrderIn, OrderLineIn};
use crate::quantity::Quantity;
use crate::sku::Sku;
use crate::storefront::StorefrontKind;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Why a delivery is not taken as genuine. Worded for the Incoming log of a connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the delivery has no {0} header")]
    Missing(&'static str),
    #[error("the {0} header is not a signature this platform sends")]
    Malformed(&'static str),
    #[error(
        "the {0} header does not match the body: it was not signed with this connection's secret"
    )]
    Mismatch(&'static str),
    #[error(
        "this connection has no webhook secret to check deliveries with: add the app's client \
         secret in Settings > Storefronts"
    )]
    NoSecret,
}

impl SignatureError {
    /// The header at fault.
    pub fn header(&self) -> &'static str {
        match self {
            SignatureError::Missing(h)
            | SignatureError::Malformed(h)
            | SignatureError::Mismatch(h) => h,
            SignatureError::NoSecret => "webhook_secret",
        }
    }
}

/// Shopify's signature header.
pub const SHOPIFY_HEADER: &str = "X-Shopify-Hmac-Sha256";
/// WooCommerce's signature header.
pub const WOOCOMMERCE_HEADER: &str = "X-WC-Webhook-Signature";
/// The secret header Tally registers BigCommerce hooks with.
pub const BIGCOMMERCE_HEADER: &str = "X-Tally-Hook-Secret";
/// The signature header of Tally's own format.
pub const GENERIC_HEADER: &str = "X-Tally-Signature";

fn mac(secret: &[u8], body: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length: new_from_slice cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(body);
    mac
}

/// The base64 HMAC-SHA256 Shopify and WooCommerce send (also what their sandboxes sign with).
pub fn base64_signature(secret: &[u8], body: &[u8]) -> String {
    STANDARD.encode(mac(secret, body).finalize().into_bytes())
}

/// The `sha256=<hex>` value of Tally's own format.
pub fn generic_signature(secret: &[u8], body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(secret, body).finalize().into_bytes())
    )
}

/// Checks a base64 HMAC-SHA256 header (Shopify: [`SHOPIFY_HEADER`], WooCommerce:
/// [`WOOCOMMERCE_HEADER`]) against the raw body.
pub fn verify_base64(
    header_name: &'static str,
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    verify(header_name, secret, body, header, |h| {
        STANDARD.decode(h).ok()
    })
}

/// Checks Tally's own `sha256=<hex>` header against the raw body.
pub fn verify_generic(
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
) -> Result<(), SignatureError> {
    verify(GENERIC_HEADER, secret, body, header, |h| {
        hex::decode(h.strip_prefix("sha256=")?).ok()
    })
}

/// The header's HMAC, read by `decode`, checked against the body's in constant time.
fn verify(
    header_name: &'static str,
    secret: &[u8],
    body: &[u8],
    header: Option<&str>,
    decode: impl Fn(&str) -> Option<Vec<u8>>,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing(header_name))?;
    let claimed = decode(header.trim()).ok_or(SignatureError::Malformed(header_name))?;
    mac(secret, body)
        .verify_slice(&claimed)
        .map_err(|_| SignatureError::Mismatch(header_name))
}

/// Checks BigCommerce's secret header: the value Tally registered the hook with.
pub fn verify_shared_header(expected: &str, header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing(BIGCOMMERCE_HEADER))?;
    if bool::from(header.trim().as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch(BIGCOMMERCE_HEADER))
    }
}

/// One line of a sale as the storefront names it. The order path matches the listing by
/// `external_id` first, then by `sku`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleLine {
    /// The platform's own id of what was sold, as listings name it (Shopify inventory item,
    /// WooCommerce variation or product), when it sends one. A Shopify webhook names the
    /// variant instead: [`SHOPIFY_VARIANT`]`<id>`, which the order path turns into its
    /// inventory item before matching.
    pub external_id: Option<String>,
    pub sku: Option<String>,
    /// Units, at least 1.
    pub quantity: i64,
}

/// The prefix of a sale line's id that is a Shopify variant, not yet its inventory item.
pub const SHOPIFY_VARIANT: &str = "variant:";

/// What a delivery asks of Tally.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderEvent {
    /// A sale: take the lines' units, once per order id.
    Placed {
        order_id: String,
        lines: Vec<SaleLine>,
    },
    /// The order is off: put back exactly what it took.
    Cancelled { order_id: String },
    /// A refund that puts these units back on the shelf, once per refund id.
    Restocked {
        order_id: String,
        refund_id: String,
        lines: Vec<SaleLine>,
    },
    /// The payload names the order only (BigCommerce): read its lines from the API, then act.
    FetchOrder { order_id: String, cancelled: bool },
    /// A genuine delivery that moves no stock (a status change, WooCommerce's ping).
    Nothing { why: &'static str },
}

/// Why a genuine delivery could not be read. Names the field, for the Incoming log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    #[error("the body is not a {what}: {detail}")]
    Unreadable { what: &'static str, detail: String },
    #[error("line {line}: quantity {quantity} is not a whole number of at least 1")]
    Quantity { line: usize, quantity: i64 },
    #[error("the topic {0:?} is not one Tally subscribes to")]
    Topic(String),
}

fn read<'a, T: Deserialize<'a>>(what: &'static str, body: &'a [u8]) -> Result<T, PayloadError> {
    serde_json::from_slice(body).map_err(|e| PayloadError::Unreadable {
        what,
        detail: e.to_string(),
    })
}

/// Lines with their quantities checked; lines of 0 units (Shopify sends them for removed
/// items) are dropped.
pub(crate) fn checked(lines: Vec<SaleLine>) -> Result<Vec<SaleLine>, PayloadError> {
    let mut kept = Vec::with_capacity(lines.len());
    for (i, line) in lines.into_iter().enumerate() {
        match line.quantity {
            0 => {}
            q if q < 0 => {
                return Err(PayloadError::Quantity {
                    line: i + 1,
                    quantity: q,
                })
            }
            _ => kept.push(line),
        }
    }
    Ok(kept)
}

pub(crate) fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn id_if_set(id: Option<u64>) -> Option<String> {
    id.filter(|id| *id != 0).map(|id| id.to_string())
}

#[derive(Deserialize)]
struct ShopifyOrder {
    id: u64,
    #[serde(default)]
    line_items: Vec<ShopifyLine>,
}

#[derive(Deserialize)]
struct ShopifyLine {
    #[serde(default)]
    sku: Option<String>,
    #[serde(default)]
    variant_id: Option<u64>,
    quantity: i64,
}

impl ShopifyLine {
    /// The line as ordered.
    fn sold(self) -> SaleLine {
        let quantity = self.quantity;
        self.sale(quantity)
    }

    /// The line with `quantity` units (a refund's, which may be fewer than were ordered).
    /// Shopify's REST body names the variant, not the inventory item a listing is: marked so.
    fn sale(self, quantity: i64) -> SaleLine {
        SaleLine {
            external_id: id_if_set(self.variant_id).map(|v| format!("{SHOPIFY_VARIANT}{v}")),
            sku: non_empty(self.sku),
            quantity,
        }
    }
}

#[derive(Deserialize)]
struct ShopifyRefund {
    id: u64,
    order_id: u64,
    #[serde(default)]
    refund_line_items: Vec<ShopifyRefundLine>,
}

#[derive(Deserialize)]
struct ShopifyRefundLine {
    quantity: i64,
    #[serde(default)]
    restock_type: Option<String>,
    line_item: ShopifyLine,
}

/// Whether a Shopify refund line of this restock type puts its units back on the shelf:
/// `return`, `cancel` and the old `legacy_restock` do, `no_restock` does not. Webhooks spell
/// it in lower case, the GraphQL API in upper.
pub(crate) fn shopify_restocks(restock_type: Option<&str>) -> bool {
    restock_type.is_some_and(|t| {
        ["return", "cancel", "legacy_restock"]
            .iter()
            .any(|r| t.eq_ignore_ascii_case(r))
    })
}

/// A Shopify delivery of `topic` (`X-Shopify-Topic`).
pub fn shopify(topic: &str, body: &[u8]) -> Result<OrderEvent, PayloadError> {
    match topic {
        "orders/create" => {
            let order: ShopifyOrder = read("Shopify order", body)?;
            let lines = order
                .line_items
                .into_iter()
                .map(ShopifyLine::sold)
                .collect();
            Ok(OrderEvent::Placed {
                order_id: order.id.to_string(),
                lines: checked(lines)?,
            })
        }
        "orders/cancelled" => {
            let order: ShopifyOrder = read("Shopify order", body)?;
            Ok(OrderEvent::Cancelled {
                order_id: order.id.to_string(),
            })
        }
        "refunds/create" => {
            let refund: ShopifyRefund = read("Shopify refund", body)?;
            let lines = refund
                .refund_line_items
                .into_iter()
                .filter(|l| shopify_restocks(l.restock_type.as_deref()))
                .map(|l| l.line_item.sale(l.quantity))
                .collect();
            Ok(OrderEvent::Restocked {
                order_id: refund.order_id.to_string(),
                refund_id: refund.id.to_string(),
                lines: checked(lines)?,
            })
        }
        other => Err(PayloadError::Topic(other.to_owned())),
    }
}

/// A WooCommerce order, as its webhooks send it and its REST API lists it.
#[derive(Deserialize)]
pub(crate) struct WooOrder {
    pub(crate) id: u64,
    #[serde(default)]
    pub(crate) status: String,
    /// When it last changed, in GMT without a zone (`2026-12-03T10:00:05`).
    #[serde(default)]
    pub(crate) date_modified_gmt: Option<String>,
    #[serde(default)]
    line_items: Vec<WooLine>,
}

impl WooOrder {
    /// Its lines: a variation is the listing when there is one, else the product.
    pub(crate) fn sale_lines(self) -> Result<Vec<SaleLine>, PayloadError> {
        let lines = self
            .line_items
            .into_iter()
            .map(|l| SaleLine {
                external_id: id_if_set(l.variation_id).or(id_if_set(l.product_id)),
                sku: non_empty(l.sku),
                quantity: l.quantity,
            })
            .collect();
        checked(lines)
    }
}

#[derive(Deserialize)]
struct WooLine {
    #[serde(default)]
    product_id: Option<u64>,
    #[serde(default)]
    variation_id: Option<u64>,
    #[serde(default)]
    sku: Option<String>,
    quantity: i64,
}

/// A WooCommerce delivery of `topic` (`X-WC-Webhook-Topic`). WooCommerce pings a new
/// webhook's address with a form body (`webhook_id=...`), which moves nothing.
pub fn woocommerce(topic: &str, body: &[u8]) -> Result<OrderEvent, PayloadError> {
    if body.starts_with(b"webhook_id=") {
        return Ok(OrderEvent::Nothing {
            why: "WooCommerce checked the webhook's address",
        });
    }
    let order: WooOrder = match topic {
        "order.created" | "order.updated" => read("WooCommerce order", body)?,
        other => return Err(PayloadError::Topic(other.to_owned())),
    };
    let order_id = order.id.to_string();
    match (topic, order.status.as_str()) {
        (_, "cancelled" | "refunded") => Ok(OrderEvent::Cancelled { order_id }),
        ("order.created", _) => Ok(OrderEvent::Placed {
            order_id,
            lines: order.sale_lines()?,
        }),
        _ => Ok(OrderEvent::Nothing {
            why: "an order update that moves no stock",
        }),
    }
}

#[derive(Deserialize)]
struct BigCommerceHook {
    scope: String,
    data: BigCommerceData,
}

#[derive(Deserialize)]
struct BigCommerceData {
    id: u64,
    #[serde(default)]
    status: Option<BigCommerceStatus>,
}

#[derive(Deserialize)]
struct BigCommerceStatus {
    new_status_id: u32,
}

/// BigCommerce's order statuses that put stock back: Refunded (4), Cancelled (5), Declined (6).
pub(crate) const BIGCOMMERCE_RESTORING: [u32; 3] = [4, 5, 6];

/// A BigCommerce delivery: it names the order only.
pub fn bigcommerce(body: &[u8]) -> Result<OrderEvent, PayloadError> {
    let hook: BigCommerceHook = read("BigCommerce hook", body)?;
    let order_id = hook.data.id.to_string();
    match hook.scope.as_str() {
        "store/order/created" => Ok(OrderEvent::FetchOrder {
            order_id,
            cancelled: false,
        }),
        "store/order/statusUpdated" => match hook.data.status {
            Some(s) if BIGCOMMERCE_RESTORING.contains(&s.new_status_id) => {
                Ok(OrderEvent::Cancelled { order_id })
            }
            _ => Ok(OrderEvent::Nothing {
                why: "an order status that moves no stock",
            }),
        },
        other => Err(PayloadError::Topic(other.to_owned())),
    }
}

/// Tally's own webhook format, for any storefront without a connector:
/// `{"event": "order.placed" | "order.cancelled", "order_id": "...", "lines": [{"sku": "...",
/// "external_id": "...", "quantity": 2}]}`, signed with [`GENERIC_HEADER`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenericEvent {
    pub event: String,
    pub order_id: String,
    #[serde(default)]
    pub lines: Vec<SaleLine>,
}

/// A delivery in Tally's own format.
pub fn generic(body: &[u8]) -> Result<OrderEvent, PayloadError> {
    let event: GenericEvent = read("Tally order event", body)?;
    match event.event.as_str() {
        "order.placed" => Ok(OrderEvent::Placed {
            order_id: event.order_id,
            lines: checked(event.lines)?,
        }),
        "order.cancelled" => Ok(OrderEvent::Cancelled {
            order_id: event.order_id,
        }),
        other => Err(PayloadError::Topic(other.to_owned())),
    }
}

/// A sale line Tally cannot take units for: neither a linked listing nor a readable SKU
/// names a product. Reported in the connection's Incoming log; the order's other lines apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnmatchedLine {
    /// 1-based, as the storefront listed it.
    pub line: usize,
    pub why: String,
}

/// Turns a storefront's sale into an order of Tally SKUs, the one shape the order path takes.
///
/// Each line names its product by the connection's listing for its external id first (what
/// the seller linked is the truth, whatever SKU the storefront shows), then by its own SKU (an
/// unknown SKU becomes a product at 0 via order import, as for every order). `listing_sku`
/// looks a listing up by external id on this connection. `None` when no line can be taken:
/// there is nothing to apply.
pub fn sale_to_order(
    storefront: &str,
    order_id: &str,
    lines: &[SaleLine],
    listing_sku: impl Fn(&str) -> Option<Sku>,
) -> Result<(Option<Order>, Vec<UnmatchedLine>), FieldError> {
    let mut taken = Vec::new();
    let mut unmatched = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let linked = line.external_id.as_deref().and_then(&listing_sku);
        let named = line.sku.as_deref().map(Sku::parse);
        let sku = match (linked, named) {
            (Some(sku), _) | (None, Some(Ok(sku))) => sku,
            (None, Some(Err(e))) => {
                unmatched.push(UnmatchedLine {
                    line: i + 1,
                    why: format!("its SKU {e}"),
                });
                continue;
            }
            (None, None) => {
                unmatched.push(UnmatchedLine {
                    line: i + 1,
                    why: "it has no SKU and is not linked to a product: link its listing".into(),
                });
                continue;
            }
        };
        let quantity = Quantity::new(line.quantity)
            .map_err(|e| FieldError::new(format!("lines[{i}].quantity"), e.to_string()))?;
        taken.push(OrderLineIn { sku, quantity });
    }
    if taken.is_empty() {
        return Ok((None, unmatched));
    }
    let order = OrderIn {
        storefront: storefront.to_owned(),
        order_id: order_id.to_owned(),
        lines: taken,
        create_missing: None,
    }
    .check()?;
    Ok((Some(order), unmatched))
}

/// The largest delivery Tally takes. Shopify's biggest order payloads (250 lines with
/// customer, tax and fulfilment details) stay well under it.
pub const MAX_DELIVERY_BYTES: usize = 256 * 1024;

/// How a delivery is written: the platform's own format, or Tally's ([`GenericEvent`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Shopify,
    Woocommerce,
    Bigcommerce,
    Tally,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Shopify => "shopify",
            Format::Woocommerce => "woocommerce",
            Format::Bigcommerce => "bigcommerce",
            Format::Tally => "tally",
        }
    }

    pub fn parse(name: &str) -> Option<Format> {
        [
            Format::Shopify,
            Format::Woocommerce,
            Format::Bigcommerce,
            Format::Tally,
        ]
        .into_iter()
        .find(|f| f.as_str() == name)
    }
}

/// A delivery as it reached a connection's address: its headers (names in any case) and raw
/// body. Everything the receiver decides before storing it is decided here.
pub struct Received<'a> {
    pub kind: StorefrontKind,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl Received<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Tally's own format when it carries Tally's signature header (any connection may send
    /// it: eBay and Amazon cannot call Tally themselves, a relay can); else the platform's.
    pub fn format(&self) -> Format {
        if self.header(GENERIC_HEADER).is_some() {
            return Format::Tally;
        }
        match self.kind {
            StorefrontKind::Shopify => Format::Shopify,
            StorefrontKind::Woocommerce => Format::Woocommerce,
            StorefrontKind::Bigcommerce => Format::Bigcommerce,
            StorefrontKind::Ebay | StorefrontKind::Amazon | StorefrontKind::Vendure => {
                Format::Tally
            }
        }
    }

    /// WooCommerce's check of a new webhook's address: an unsigned form body naming the
    /// webhook. It must be answered 200 or WooCommerce will not save the webhook; it moves
    /// nothing and is not stored.
    pub fn is_woocommerce_ping(&self) -> bool {
        self.format() == Format::Woocommerce
            && self.header(WOOCOMMERCE_HEADER).is_none()
            && self.body.len() < 64
            && self
                .body
                .strip_prefix(b"webhook_id=")
                .is_some_and(|id| !id.is_empty() && id.iter().all(u8::is_ascii_digit))
    }

    /// Whether the delivery was signed with this connection's `secret` (for BigCommerce, the
    /// secret header Tally registered its hook with).
    pub fn verify(&self, secret: &str) -> Result<(), SignatureError> {
        let secret_bytes = secret.as_bytes();
        match self.format() {
            Format::Shopify => verify_base64(
                SHOPIFY_HEADER,
                secret_bytes,
                self.body,
                self.header(SHOPIFY_HEADER),
            ),
            Format::Woocommerce => verify_base64(
                WOOCOMMERCE_HEADER,
                secret_bytes,
                self.body,
                self.header(WOOCOMMERCE_HEADER),
            ),
            Format::Bigcommerce => verify_shared_header(secret, self.header(BIGCOMMERCE_HEADER)),
            Format::Tally => verify_generic(secret_bytes, self.body, self.header(GENERIC_HEADER)),
        }
    }

    /// What the platform calls this delivery, so a retry of it is recognised: its delivery
    /// id header where it sends one, else the SHA-256 of the body (the same event, byte for
    /// byte). A retry with another body is another delivery, and the order id still stops
    /// it applying twice.
    pub fn delivery_id(&self) -> String {
        let header = match self.format() {
            Format::Shopify => self.header("X-Shopify-Webhook-Id"),
            Format::Woocommerce => self.header("X-WC-Webhook-Delivery-ID"),
            Format::Bigcommerce => None,
            Format::Tally => self.header("X-Tally-Delivery-Id"),
        };
        match header
            .map(str::trim)
            .filter(|h| !h.is_empty() && h.len() <= 200)
        {
            Some(id) => id.to_owned(),
            None => format!("sha256:{}", hex::encode(Sha256::digest(self.body))),
        }
    }

    /// The topic as the platform names it (`orders/create`, `order.created`,
    /// `store/order/created`, `order.placed`), for the Incoming log; the body decides for
    /// BigCommerce and Tally's format.
    pub fn topic(&self) -> String {
        let header = match self.format() {
            Format::Shopify => self.header("X-Shopify-Topic"),
            Format::Woocommerce => self.header("X-WC-Webhook-Topic"),
            Format::Bigcommerce | Format::Tally => None,
        };
        if let Some(topic) = header {
            return topic.trim().chars().take(100).collect();
        }
        #[derive(Deserialize)]
        struct Named {
            #[serde(default)]
            scope: Option<String>,
            #[serde(default)]
            event: Option<String>,
        }
        serde_json::from_slice::<Named>(self.body)
            .ok()
            .and_then(|n| n.scope.or(n.event))
            .map(|t| t.chars().take(100).collect())
            .unwrap_or_default()
    }
}

/// What a stored delivery asks of Tally, read by its format.
pub fn read_event(format: Format, topic: &str, body: &[u8]) -> Result<OrderEvent, PayloadError> {
    match format {
        Format::Shopify => shopify(topic, body),
        Format::Woocommerce => woocommerce(topic, body),
        Format::Bigcommerce => bigcommerce(body),
        Format::Tally => generic(body),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"shpss_client_secret";

    #[test]
    fn shopify_signature_matches_the_published_recipe() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), base64: the
        // RFC 4231-style vector every HMAC library agrees on.
        let body = b"The quick brown fox jumps over the lazy dog";
        assert_eq!(
            base64_signature(b"key", body),
            "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="
        );
        assert_eq!(
            generic_signature(b"key", body),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }

    #[test]
    fn a_genuine_delivery_verifies_and_any_change_does_not() {
        let body = br#"{"id":1,"line_items":[]}"#;
        let sig = base64_signature(SECRET, body);
        assert_eq!(
            verify_base64(SHOPIFY_HEADER, SECRET, body, Some(&sig)),
            Ok(())
        );
        let tampered = br#"{"id":2,"line_items":[]}"#;
        assert_eq!(
            verify_base64(SHOPIFY_HEADER, SECRET, tampered, Some(&sig)),
            Err(SignatureError::Mismatch(SHOPIFY_HEADER))
        );
        assert_eq!(
            verify_base64(SHOPIFY_HEADER, b"another secret", body, Some(&sig)),
            Err(SignatureError::Mismatch(SHOPIFY_HEADER))
        );
        assert_eq!(
            verify_base64(SHOPIFY_HEADER, SECRET, body, None),
            Err(SignatureError::Missing(SHOPIFY_HEADER))
        );
        assert_eq!(
            verify_base64(WOOCOMMERCE_HEADER, SECRET, body, Some("not base64!")),
            Err(SignatureError::Malformed(WOOCOMMERCE_HEADER))
        );
        // A truncated signature is refused, not compared as a prefix.
        assert_eq!(
            verify_base64(SHOPIFY_HEADER, SECRET, body, Some(&sig[..12])),
            Err(SignatureError::Mismatch(SHOPIFY_HEADER))
        );
    }

    #[test]
    fn the_generic_signature_needs_its_prefix_and_whole_hex() {
        let body = br#"{"event":"order.cancelled","order_id":"A1"}"#;
        let sig = generic_signature(SECRET, body);
        assert_eq!(verify_generic(SECRET, body, Some(&sig)), Ok(()));
        assert_eq!(
            verify_generic(SECRET, body, Some(&sig["sha256=".len()..])),
            Err(SignatureError::Malformed(GENERIC_HEADER))
        );
        assert_eq!(
            verify_generic(SECRET, body, Some("sha256=abc")),
            Err(SignatureError::Malformed(GENERIC_HEADER))
        );
        let other = generic_signature(b"other", body);
        assert_eq!(
            verify_generic(SECRET, body, Some(&other)),
            Err(SignatureError::Mismatch(GENERIC_HEADER))
        );
    }

    #[test]
    fn bigcommerce_is_checked_by_its_secret_header() {
        assert_eq!(verify_shared_header("s3cret", Some("s3cret")), Ok(()));
        assert_eq!(
            verify_shared_header("s3cret", Some("s3cre")),
            Err(SignatureError::Mismatch(BIGCOMMERCE_HEADER))
        );
        assert_eq!(
            verify_shared_header("s3cret", None),
            Err(SignatureError::Missing(BIGCOMMERCE_HEADER))
        );
    }

    #[test]
    fn a_shopify_order_names_each_line_by_variant_and_sku() {
        let body = br##"{"id":820982911946154508,"name":"#1001","line_items":[
            {"id":1,"variant_id":4476,"sku":"TEE-0001","quantity":2,"title":"Tee"},
            {"id":2,"variant_id":null,"sku":"","quantity":1},
            {"id":3,"variant_id":99,"sku":"MUG-0005","quantity":0}]}"##;
        assert_eq!(
            shopify("orders/create", body),
            Ok(OrderEvent::Placed {
                order_id: "820982911946154508".into(),
                // The variant is marked: a listing is an inventory item, which the order path
                // looks up before matching.
                lines: vec![
                    line(Some("variant:4476"), Some("TEE-0001"), 2),
                    line(None, None, 1),
                ],
            })
        );
        assert_eq!(
            shopify("orders/cancelled", br#"{"id":7,"line_items":[]}"#),
            Ok(OrderEvent::Cancelled {
                order_id: "7".into()
            })
        );
    }

    #[test]
    fn a_shopify_refund_restocks_only_its_restock_lines() {
        let body = br#"{"id":509562969,"order_id":450789469,"refund_line_items":[
            {"quantity":1,"restock_type":"return","line_item":{"variant_id":4476,"sku":"TEE-0001","quantity":2}},
            {"quantity":1,"restock_type":"no_restock","line_item":{"variant_id":77,"sku":"CAP-0002","quantity":1}},
            {"quantity":2,"restock_type":"cancel","line_item":{"variant_id":78,"sku":"SOCK-0003","quantity":2}}]}"#;
        let OrderEvent::Restocked {
            order_id,
            refund_id,
            lines,
        } = shopify("refunds/create", body).unwrap()
        else {
            panic!("a refund restocks");
        };
        assert_eq!(
            (order_id.as_str(), refund_id.as_str()),
            ("450789469", "509562969")
        );
        let skus: Vec<_> = lines
            .iter()
            .map(|l| (l.sku.as_deref().unwrap(), l.quantity))
            .collect();
        assert_eq!(skus, [("TEE-0001", 1), ("SOCK-0003", 2)]);
    }

    #[test]
    fn woocommerce_orders_ping_and_status_changes() {
        let created = br#"{"id":727,"status":"processing","line_items":[
            {"product_id":93,"variation_id":0,"sku":"TEE-0001","quantity":3},
            {"product_id":22,"variation_id":23,"sku":"","quantity":1}]}"#;
        assert_eq!(
            woocommerce("order.created", created),
            Ok(OrderEvent::Placed {
                order_id: "727".into(),
                lines: vec![
                    line(Some("93"), Some("TEE-0001"), 3),
                    line(Some("23"), None, 1),
                ],
            })
        );
        let cancelled = br#"{"id":727,"status":"cancelled","line_items":[]}"#;
        assert_eq!(
            woocommerce("order.updated", cancelled),
            Ok(OrderEvent::Cancelled {
                order_id: "727".into()
            })
        );
        let shipped = br#"{"id":727,"status":"completed","line_items":[]}"#;
        assert!(matches!(
            woocommerce("order.updated", shipped),
            Ok(OrderEvent::Nothing { .. })
        ));
        assert!(matches!(
            woocommerce("order.created", b"webhook_id=15"),
            Ok(OrderEvent::Nothing { .. })
        ));
        assert_eq!(
            woocommerce("product.updated", created),
            Err(PayloadError::Topic("product.updated".into()))
        );
    }

    #[test]
    fn bigcommerce_names_the_order_and_restores_on_cancel_refund_decline() {
        let created = br#"{"scope":"store/order/created","store_id":"1","data":{"type":"order","id":250},"hash":"x","created_at":1,"producer":"stores/abc"}"#;
        assert_eq!(
            bigcommerce(created),
            Ok(OrderEvent::FetchOrder {
                order_id: "250".into(),
                cancelled: false
            })
        );
        for (status, restores) in [(5, true), (4, true), (6, true), (11, false), (2, false)] {
            let body = format!(
                r#"{{"scope":"store/order/statusUpdated","data":{{"type":"order","id":250,"status":{{"previous_status_id":11,"new_status_id":{status}}}}}}}"#
            );
            let event = bigcommerce(body.as_bytes()).unwrap();
            assert_eq!(
                matches!(event, OrderEvent::Cancelled { .. }),
                restores,
                "status {status}"
            );
        }
    }

    #[test]
    fn bad_payloads_name_what_is_wrong() {
        assert!(matches!(
            shopify("orders/create", b"{not json"),
            Err(PayloadError::Unreadable {
                what: "Shopify order",
                ..
            })
        ));
        assert_eq!(
            generic(
                br#"{"event":"order.placed","order_id":"A","lines":[{"sku":"X","quantity":-2}]}"#
            ),
            Err(PayloadError::Quantity {
                line: 1,
                quantity: -2
            })
        );
        assert!(matches!(
            generic(br#"{"event":"order.placed","order_id":"A","lines":[],"extra":1}"#),
            Err(PayloadError::Unreadable { .. })
        ));
        assert_eq!(
            generic(br#"{"event":"order.shipped","order_id":"A"}"#),
            Err(PayloadError::Topic("order.shipped".into()))
        );
    }

    fn line(external_id: Option<&str>, sku: Option<&str>, quantity: i64) -> SaleLine {
        SaleLine {
            external_id: external_id.map(str::to_owned),
            sku: sku.map(str::to_owned),
            quantity,
        }
    }

    fn linked(external_id: &str) -> Option<Sku> {
        (external_id == "4476").then(|| Sku::parse("TEE-0001").unwrap())
    }

    #[test]
    fn a_linked_listing_names_the_product_before_the_storefronts_sku() {
        let lines = [
            line(Some("4476"), Some("OLD-SKU"), 2),
            line(Some("999"), Some("MUG-0005"), 1),
            line(None, Some("TEE-0001"), 1),
        ];
        let (order, unmatched) = sale_to_order("shopify", "1001", &lines, linked).unwrap();
        let order = order.expect("lines to take");
        assert!(unmatched.is_empty());
        let skus: Vec<_> = order
            .lines
            .iter()
            .map(|(sku, units)| (sku.as_str(), *units))
            .collect();
        // The linked line and the plain TEE line are one product: summed, once.
        assert_eq!(skus, [("TEE-0001", 3), ("MUG-0005", 1)]);
        assert_eq!(order.reference(), "shopify:1001");
    }

    #[test]
    fn lines_nothing_names_are_reported_and_the_rest_apply() {
        let lines = [line(Some("555"), None, 1), line(None, Some("CAP-0002"), 2)];
        let (order, unmatched) = sale_to_order("woocommerce", "727", &lines, linked).unwrap();
        assert_eq!(order.unwrap().lines.len(), 1);
        assert_eq!(unmatched.len(), 1);
        assert_eq!(unmatched[0].line, 1);
        assert!(
            unmatched[0].why.contains("link its listing"),
            "{:?}",
            unmatched[0]
        );

        let (none, unmatched) =
            sale_to_order("woocommerce", "728", &[line(None, None, 1)], linked).unwrap();
        assert!(none.is_none(), "nothing to apply");
        assert_eq!(unmatched.len(), 1);
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_delivery_is_checked_in_its_platforms_way_or_in_tallys() {
        let body = br#"{"id":1,"line_items":[]}"#;
        let sig = base64_signature(SECRET, body);
        let secret = std::str::from_utf8(SECRET).unwrap();
        let h = headers(&[
            ("x-shopify-hmac-sha256", &sig),
            ("X-Shopify-Topic", "orders/create"),
        ]);
        let shopify = Received {
            kind: StorefrontKind::Shopify,
            headers: &h,
            body,
        };
        assert_eq!(shopify.format(), Format::Shopify);
        assert_eq!(shopify.verify(secret), Ok(()));
        assert_eq!(shopify.topic(), "orders/create");
        // The same signature on a WooCommerce connection is looked for in Woo's header.
        let woo = Received {
            kind: StorefrontKind::Woocommerce,
            headers: &h,
            body,
        };
        assert_eq!(
            woo.verify(secret),
            Err(SignatureError::Missing(WOOCOMMERCE_HEADER))
        );

        let event = br#"{"event":"order.placed","order_id":"A1","lines":[]}"#;
        let h = headers(&[(GENERIC_HEADER, &generic_signature(SECRET, event))]);
        let ebay = Received {
            kind: StorefrontKind::Ebay,
            headers: &h,
            body: event,
        };
        assert_eq!(ebay.format(), Format::Tally);
        assert_eq!(ebay.verify(secret), Ok(()));
        assert_eq!(ebay.topic(), "order.placed");
        // eBay and Amazon only ever speak Tally's format: unsigned is missing its header.
        let unsigned = Received {
            kind: StorefrontKind::Amazon,
            headers: &[],
            body: event,
        };
        assert_eq!(
            unsigned.verify(secret),
            Err(SignatureError::Missing(GENERIC_HEADER))
        );
    }

    #[test]
    fn a_retry_is_recognised_by_its_delivery_id_or_its_body() {
        let h = headers(&[(
            "X-Shopify-Webhook-Id",
            "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        )]);
        let a = Received {
            kind: StorefrontKind::Shopify,
            headers: &h,
            body: b"{}",
        };
        assert_eq!(a.delivery_id(), "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043");
        let hook = br#"{"scope":"store/order/created","data":{"type":"order","id":250}}"#;
        let b1 = Received {
            kind: StorefrontKind::Bigcommerce,
            headers: &[],
            body: hook,
        };
        let b2 = Received {
            kind: StorefrontKind::Bigcommerce,
            headers: &[],
            body: hook,
        };
        assert_eq!(b1.delivery_id(), b2.delivery_id());
        assert!(b1.delivery_id().starts_with("sha256:"));
        assert_eq!(b1.topic(), "store/order/created");
        let other = Received {
            kind: StorefrontKind::Bigcommerce,
            headers: &[],
            body: b"{}",
        };
        assert_ne!(b1.delivery_id(), other.delivery_id());
    }

    #[test]
    fn only_woocommerces_own_ping_passes_unsigned() {
        let ping = Received {
            kind: StorefrontKind::Woocommerce,
            headers: &[],
            body: b"webhook_id=17",
        };
        assert!(ping.is_woocommerce_ping());
        let not_digits = Received {
            kind: StorefrontKind::Woocommerce,
            headers: &[],
            body: b"webhook_id=1&x=2",
        };
        assert!(!not_digits.is_woocommerce_ping());
        let shopify = Received {
            kind: StorefrontKind::Shopify,
            headers: &[],
            body: b"webhook_id=17",
        };
        assert!(!shopify.is_woocommerce_ping());
    }

    #[test]
    fn a_stored_delivery_is_read_by_its_format() {
        let body = br#"{"event":"order.cancelled","order_id":"A1"}"#;
        assert_eq!(
            read_event(Format::Tally, "", body),
            Ok(OrderEvent::Cancelled {
                order_id: "A1".into()
            })
        );
        assert_eq!(
            Format::parse(Format::Woocommerce.as_str()),
            Some(Format::Woocommerce)
        );
        assert_eq!(Format::parse("magento"), None);
    }
}
