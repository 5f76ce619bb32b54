//! Sales orders: each line takes units off a product's quantity on hand, once per order id.
//!
//! An order that sells more than is on hand (an oversell: the storefront showed a stale
//! quantity) takes the quantity to 0, never below, and says how many units were oversold. A
//! cancellation puts back exactly what the order took.

use crate::api::FieldError;
use crate::quantity::Quantity;
use crate::sku::Sku;
use serde::{Deserialize, Serialize};

/// The most lines one order may have.
pub const MAX_LINES: usize = 100;
/// The longest order id or storefront name we keep.
pub const MAX_REFERENCE_LEN: usize = 100;

/// One line as it arrives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLineIn {
    pub sku: Sku,
    pub quantity: Quantity,
}

/// `POST /api/v1/orders`: an order entered by hand or imported by an integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderIn {
    /// Where the order was placed (`shopify`, `ebay`, `manual`, ...). With `order_id` it names
    /// the order: the same pair is never applied twice.
    #[serde(default = "manual")]
    pub storefront: String,
    /// The storefront's order number.
    pub order_id: String,
    pub lines: Vec<OrderLineIn>,
    /// What to do with a SKU that is not in the inventory. Left out or `true`: it is created at
    /// quantity 0, as an order import does. `false` (the app, for an order entered by hand):
    /// the order is refused with a 422 naming the line, so the seller is asked first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_missing: Option<bool>,
}

fn manual() -> String {
    "manual".to_owned()
}

/// `POST /api/v1/orders/cancel`: which order to cancel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelOrder {
    #[serde(default = "manual")]
    pub storefront: String,
    pub order_id: String,
}

impl CancelOrder {
    /// The storefront name as orders store it.
    pub fn storefront_key(&self) -> String {
        storefront_key(&self.storefront)
    }
}

/// The storefront half of an order's key, lower-cased by Unicode rules: with the order id it
/// is what stops an order applying twice, so "ÉTSY" and "étsy" must be one storefront.
fn storefront_key(raw: &str) -> String {
    raw.trim().to_lowercase()
}

/// A checked order: lines with the same SKU summed, every quantity at least 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub storefront: String,
    pub order_id: String,
    pub lines: Vec<(Sku, i64)>,
}

impl Order {
    /// What the order asks, kept with an `Idempotency-Key` so a repeat under that key can be
    /// told from another order sent under it: JSON, so no SKU or order id can make two orders
    /// read alike, with the lines sorted, so the same order in other words (lines in another
    /// order, a SKU split over two lines) reads the same.
    pub fn request_text(&self) -> String {
        let mut lines: Vec<(String, i64)> = self
            .lines
            .iter()
            .map(|(sku, units)| (sku.to_string(), *units))
            .collect();
        lines.sort();
        serde_json::json!({ "storefront": self.storefront, "order_id": self.order_id, "lines": lines })
            .to_string()
    }
}

/// A stored [`Order::request_text`] in words, for a message: "order 77 from manual: A × 2".
pub fn describe_request(stored: &str) -> String {
    #[derive(Deserialize)]
    struct Stored {
        storefront: String,
        order_id: String,
        lines: Vec<(String, i64)>,
    }
    match serde_json::from_str::<Stored>(stored) {
        Ok(s) => {
            let lines: Vec<String> = s
                .lines
                .iter()
                .map(|(sku, units)| format!("{sku} × {units}"))
                .collect();
            format!(
                "order {} from {}: {}",
                s.order_id,
                s.storefront,
                lines.join(", ")
            )
        }
        Err(_) => stored.to_owned(),
    }
}

fn reference_part(field: &str, raw: &str) -> Result<String, FieldError> {
    let t = raw.trim();
    if t.is_empty() {
        return Err(FieldError::new(field, format!("{field} is empty")));
    }
    if t.chars().count() > MAX_REFERENCE_LEN || t.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!("{field} is over {MAX_REFERENCE_LEN} characters or has a control character"),
        ));
    }
    Ok(t.to_owned())
}

impl OrderIn {
    /// Checks the order, naming the field (or `lines[i].quantity`) at fault; the storefront
    /// name becomes its key (lower case).
    pub fn check(&self) -> Result<Order, FieldError> {
        let mut order = self.checked()?;
        order.storefront = storefront_key(&order.storefront);
        Ok(order)
    }

    /// Whether [`OrderIn::check`] would accept the order: what the order form asks as the
    /// seller types. It skips working out the storefront key, so the SPA does not carry
    /// Unicode case tables (about 10 kB of its wasm) for a form that always says "manual".
    pub fn validate(&self) -> Result<(), FieldError> {
        self.checked().map(|_| ())
    }

    fn checked(&self) -> Result<Order, FieldError> {
        let storefront = reference_part("storefront", &self.storefront)?;
        let order_id = reference_part("order_id", &self.order_id)?;
        if self.lines.is_empty() {
            return Err(FieldError::new("lines", "an order needs at least one line"));
        }
        if self.lines.len() > MAX_LINES {
            return Err(FieldError::new(
                "lines",
                format!(
                    "an order can have at most {MAX_LINES} lines, not {}",
                    self.lines.len()
                ),
            ));
        }
        let mut lines: Vec<(Sku, i64)> = Vec::new();
        for (i, line) in self.lines.iter().enumerate() {
            let units = line.quantity.get();
            if units == 0 {
                return Err(FieldError::new(
                    format!("lines[{i}].quantity"),
                    "a line sells at least 1 unit",
                ));
            }
            match lines.iter_mut().find(|(sku, _)| *sku == line.sku) {
                Some((_, total)) => *total += units,
                None => lines.push((line.sku.clone(), units)),
            }
        }
        Ok(Order {
            storefront,
            order_id,
            lines,
        })
    }
}

impl Order {
    /// The ledger reference of this order ([`order_reference`]).
    pub fn reference(&self) -> String {
        order_reference(&self.storefront, &self.order_id)
    }

    /// The order as sellers name it: `storefront:order_id`.
    pub fn readable(&self) -> String {
        format!("{}:{}", self.storefront, self.order_id)
    }
}

/// The ledger reference of an order's lines: `storefront:order_id`, with `%`, `:` and `#` in
/// either part written `%25`, `%3A` and `%23`. So no two orders share one (storefront `a:b`
/// with order `c` is not storefront `a` with order `b:c`), and the `#cancelled` and
/// `#refund:<id>` lines that follow an order can never be mistaken for another order's.
pub fn order_reference(storefront: &str, order_id: &str) -> String {
    fn escaped(part: &str) -> String {
        part.replace('%', "%25")
            .replace(':', "%3A")
            .replace('#', "%23")
    }
    format!("{}:{}", escaped(storefront), escaped(order_id))
}

/// A ledger reference as sellers read it: an order's escapes undone (other references have
/// none).
pub fn readable_reference(reference: &str) -> String {
    reference
        .replace("%3A", ":")
        .replace("%23", "#")
        .replace("%25", "%")
}

/// What selling `units` does to `on_hand`: the quantity after (never below 0) and the units
/// oversold.
pub fn sell(on_hand: i64, units: i64) -> (i64, i64) {
    let after = (on_hand - units).max(0);
    (after, units - (on_hand - after))
}

/// One line of an applied order, as the API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLineOut {
    pub sku: String,
    pub product_id: i64,
    pub before: i64,
    pub after: i64,
    /// Units sold that were not on hand.
    pub oversold: i64,
}

/// The answer to an order or a cancellation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderOut {
    pub storefront: String,
    pub order_id: String,
    /// `placed` or `cancelled`.
    pub status: String,
    pub lines: Vec<OrderLineOut>,
    /// True when this order id had been applied before: nothing changed this time.
    pub already_applied: bool,
    pub created_at: i64,
    /// How Tally heard of it.
    #[serde(default)]
    pub source: OrderSource,
    /// The connection it was placed on, when it came from one (webhook or poll).
    #[serde(default)]
    pub storefront_id: Option<i64>,
    /// The connection's name, for the Orders page.
    #[serde(default)]
    pub storefront_name: Option<String>,
}

/// How an order reached Tally: what the Orders page shows beside it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderSource {
    /// Entered in the app by a signed-in person.
    Manual,
    /// Sent by an integration with an API key.
    #[default]
    Api,
    /// The storefront's own webhook.
    Webhook,
    /// Found by Tally reading the storefront's recent orders.
    Poll,
}

impl OrderSource {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderSource::Manual => "manual",
            OrderSource::Api => "api",
            OrderSource::Webhook => "webhook",
            OrderSource::Poll => "poll",
        }
    }

    /// A stored name back; anything unknown reads as `api` (what rows before sources were).
    pub fn parse(name: &str) -> OrderSource {
        [OrderSource::Manual, OrderSource::Webhook, OrderSource::Poll]
            .into_iter()
            .find(|s| s.as_str() == name)
            .unwrap_or(OrderSource::Api)
    }

    /// What the seller reads.
    pub fn label(self) -> &'static str {
        match self {
            OrderSource::Manual => "By hand",
            OrderSource::Api => "API",
            OrderSource::Webhook => "Webhook",
            OrderSource::Poll => "Found by polling",
        }
    }
}

/// What a refund or cancellation puts back, per SKU: what the order really took (`taken`, its
/// oversold units were never on the shelf), less what earlier refunds put back (`restored`),
/// and for a refund no more than it restocks (`asked`; `None` for a cancellation: all the
/// rest). SKUs with nothing to put back are left out.
pub fn to_restore(
    taken: &[(String, i64)],
    restored: &[(String, i64)],
    asked: Option<&[(String, i64)]>,
) -> Vec<(String, i64)> {
    let units = |lines: &[(String, i64)], sku: &str| -> i64 {
        lines
            .iter()
            .filter(|(s, _)| s == sku)
            .map(|(_, n)| *n)
            .sum()
    };
    let mut out: Vec<(String, i64)> = Vec::new();
    for (sku, _) in taken {
        if out.iter().any(|(s, _)| s == sku) {
            continue;
        }
        let left = units(taken, sku) - units(restored, sku);
        let back = match asked {
            Some(asked) => left.min(units(asked, sku)),
            None => left,
        };
        if back > 0 {
            out.push((sku.clone(), back));
        }
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_same_order_in_other_words_reads_the_same_and_another_does_not() {
        let order = |json: &str| {
            serde_json::from_str::<OrderIn>(json)
                .unwrap()
                .check()
                .unwrap()
        };
        let first = order(
            r#"{"order_id": "77", "lines": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}]}"#,
        );
        let same = order(
            r#"{"order_id": "77", "lines": [{"sku": "B", "quantity": 1}, {"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 1}]}"#,
        );
        let other = order(r#"{"order_id": "77", "lines": [{"sku": "A", "quantity": 3}]}"#);
        assert_eq!(first.request_text(), same.request_text());
        assert_eq!(
            describe_request(&first.request_text()),
            "order 77 from manual: A × 2, B × 1"
        );
        assert_ne!(first.request_text(), other.request_text());
        // Text that would read alike joined in words does not collide.
        let tricky = order(
            r#"{"storefront": "a from b", "order_id": "1", "lines": [{"sku": "A", "quantity": 1}]}"#,
        );
        let plain = order(
            r#"{"storefront": "b", "order_id": "1 from a", "lines": [{"sku": "A", "quantity": 1}]}"#,
        );
        assert_ne!(tricky.request_text(), plain.request_text());
    }

    #[test]
    fn a_cancellation_names_the_order_as_orders_store_it() {
        let c: CancelOrder = serde_json::from_str(r#"{"order_id": "1001"}"#).unwrap();
        assert_eq!(c.storefront_key(), "manual");
        let c: CancelOrder =
            serde_json::from_str(r#"{"storefront": " Shopify ", "order_id": "1001"}"#).unwrap();
        assert_eq!(c.storefront_key(), "shopify");
        let c: CancelOrder =
            serde_json::from_str(r#"{"storefront": "ÉTSY", "order_id": "7"}"#).unwrap();
        assert_eq!(
            c.storefront_key(),
            "étsy",
            "the same key OrderIn::check gives"
        );
        assert!(serde_json::from_str::<CancelOrder>(r#"{"order_id": "1", "x": 1}"#).is_err());
    }

    use super::*;

    fn order(json: &str) -> Result<Order, FieldError> {
        serde_json::from_str::<OrderIn>(json)
            .map_err(|e| FieldError::new("json", e.to_string()))?
            .check()
    }

    #[test]
    fn the_storefront_key_is_lower_case_by_unicode_rules_and_validate_agrees_with_check() {
        let json = r#"{"storefront":" ÉTSY ","order_id":"9","lines":[{"sku":"A","quantity":1}]}"#;
        assert_eq!(order(json).unwrap().storefront, "étsy");
        let typed: OrderIn = serde_json::from_str(json).unwrap();
        assert!(typed.validate().is_ok());
        let empty: OrderIn = serde_json::from_str(r#"{"order_id":"1","lines":[]}"#).unwrap();
        assert_eq!(empty.validate(), empty.check().map(|_| ()));
        assert!(empty.validate().is_err());
    }

    #[test]
    fn lines_with_the_same_sku_are_summed() {
        let o = order(r#"{"order_id":"1001","lines":[{"sku":"A","quantity":2},{"sku":"B","quantity":1},{"sku":"A","quantity":3}]}"#).unwrap();
        assert_eq!(o.storefront, "manual");
        assert_eq!(o.lines.len(), 2);
        assert_eq!(o.lines[0].1, 5);
        assert_eq!(o.reference(), "manual:1001");
    }

    #[test]
    fn bad_orders_name_the_field() {
        let cases = [
            (
                r#"{"order_id":" ","lines":[{"sku":"A","quantity":1}]}"#,
                "order_id",
            ),
            (r#"{"order_id":"1","lines":[]}"#, "lines"),
            (
                r#"{"order_id":"1","lines":[{"sku":"A","quantity":0}]}"#,
                "lines[0].quantity",
            ),
            (
                r#"{"order_id":"1","storefront":"","lines":[{"sku":"A","quantity":1}]}"#,
                "storefront",
            ),
        ];
        for (json, field) in cases {
            assert_eq!(order(json).unwrap_err().field, field, "{json}");
        }
    }

    #[test]
    fn selling_never_goes_below_zero_and_counts_the_oversell() {
        assert_eq!(sell(10, 3), (7, 0));
        assert_eq!(sell(3, 3), (0, 0));
        assert_eq!(sell(2, 5), (0, 3));
        assert_eq!(sell(0, 1), (0, 1));
    }

    fn lines(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
        pairs.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect()
    }

    #[test]
    fn a_refund_puts_back_only_what_it_restocks_and_the_order_took() {
        let taken = lines(&[("A", 3), ("B", 1)]);
        // Restock 2 of A and 5 of B: B only took 1 (the rest was oversold).
        let back = to_restore(&taken, &[], Some(&lines(&[("A", 2), ("B", 5)])));
        assert_eq!(back, lines(&[("A", 2), ("B", 1)]));
        // A later refund of 2 more A finds only 1 left to put back.
        let back = to_restore(&taken, &back, Some(&lines(&[("A", 2)])));
        assert_eq!(back, lines(&[("A", 1)]));
        // A SKU the order never took is not put back.
        assert_eq!(to_restore(&taken, &[], Some(&lines(&[("C", 4)]))), vec![]);
    }

    #[test]
    fn a_cancellation_after_a_refund_puts_back_the_rest() {
        let taken = lines(&[("A", 3), ("B", 1)]);
        let refunded = lines(&[("A", 2)]);
        assert_eq!(
            to_restore(&taken, &refunded, None),
            lines(&[("A", 1), ("B", 1)])
        );
        let all = lines(&[("A", 3), ("B", 1)]);
        assert_eq!(to_restore(&taken, &all, None), vec![]);
    }

    #[test]
    fn sources_read_back_and_old_rows_are_api() {
        for s in [
            OrderSource::Manual,
            OrderSource::Api,
            OrderSource::Webhook,
            OrderSource::Poll,
        ] {
            assert_eq!(OrderSource::parse(s.as_str()), s);
        }
        assert_eq!(OrderSource::parse(""), OrderSource::Api);
    }

    #[test]
    fn order_references_never_collide_and_read_back_as_typed() {
        assert_eq!(order_reference("shopify", "1001"), "shopify:1001");
        assert_ne!(order_reference("a:b", "c"), order_reference("a", "b:c"));
        // An order id cannot pose as another order's cancel or refund line.
        assert_ne!(
            order_reference("web", "7#cancelled"),
            format!("{}#cancelled", order_reference("web", "7"))
        );
        let odd = order_reference("Shop: EU", "#10%");
        assert_eq!(odd, "Shop%3A EU:%2310%25");
        assert_eq!(readable_reference(&odd), "Shop: EU:#10%");
        assert_eq!(readable_reference("upload:12"), "upload:12");
    }
}
