//! Quantity on hand and the adjustments that change it.
//!
//! Quantities travel through JSON (where JavaScript numbers lose precision past 2^53) and through
//! storefront APIs (which mostly take 32-bit integers), so Tally caps them well below both.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The largest quantity on hand Tally stores or pushes.
pub const MAX_QUANTITY: i64 = 999_999_999;

/// Why a number was refused as a quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("must be a whole number, not {0}")]
    NotWhole(String),
    #[error("cannot be negative ({0})")]
    Negative(i64),
    #[error("is {0}, above the limit of {MAX_QUANTITY}")]
    TooLarge(String),
    #[error("is empty; give a whole number such as 12")]
    Empty,
}

/// A quantity on hand: a whole number from 0 to [`MAX_QUANTITY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Default)]
#[serde(transparent)]
pub struct Quantity(i64);

impl Quantity {
    /// Zero on hand.
    pub const ZERO: Quantity = Quantity(0);

    /// A quantity from a whole number, refusing negatives and values over the cap.
    pub fn new(value: i64) -> Result<Self, QuantityError> {
        if value < 0 {
            Err(QuantityError::Negative(value))
        } else if value > MAX_QUANTITY {
            Err(QuantityError::TooLarge(value.to_string()))
        } else {
            Ok(Self(value))
        }
    }

    /// Parses a quantity from text as it appears in a CSV cell or a form field.
    pub fn parse(raw: &str) -> Result<Self, QuantityError> {
        Self::new(parse_whole_number(raw)?)
    }

    /// The number of units.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let whole = WholeNumber::deserialize(d)?;
        Quantity::new(whole.0).map_err(serde::de::Error::custom)
    }
}

/// Parses text as a whole number, naming what is wrong with it.
pub fn parse_whole_number(raw: &str) -> Result<i64, QuantityError> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(QuantityError::Empty);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QuantityError::NotWhole(format!("`{text}`")));
    }
    match text.parse::<i64>() {
        Ok(n) if n.abs() <= MAX_QUANTITY => Ok(n),
        _ => Err(QuantityError::TooLarge(text.to_owned())),
    }
}

/// A JSON number that must be whole and within ±[`MAX_QUANTITY`]; used for every count on the
/// wire so `1.5`, `"3"` and `1e12` get a message a seller understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct WholeNumber(pub i64);

impl<'de> Deserialize<'de> for WholeNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = WholeNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a whole number")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<WholeNumber, E> {
                if v.abs() > MAX_QUANTITY {
                    return Err(E::custom(QuantityError::TooLarge(v.to_string())));
                }
                Ok(WholeNumber(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<WholeNumber, E> {
                match i64::try_from(v) {
                    Ok(v) => self.visit_i64(v),
                    Err(_) => Err(E::custom(QuantityError::TooLarge(v.to_string()))),
                }
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<WholeNumber, E> {
                if v.fract() == 0.0 && v.abs() <= MAX_QUANTITY as f64 {
                    // `5.0` is whole; JavaScript clients send it that way.
                    return Ok(WholeNumber(v as i64));
                }
                // Printed without Rust's float formatting: the SPA shares this code, and that
                // printer was 6 kB of its wasm. serde_json's number writer is linked anyway.
                let written = if v.is_nan() {
                    "NaN".to_owned()
                } else if v.is_infinite() {
                    (if v > 0.0 { "infinity" } else { "-infinity" }).to_owned()
                } else if v.fract() == 0.0 && v.abs() < 1e18 {
                    (v as i64).to_string()
                } else {
                    serde_json::Number::from_f64(v).map_or_else(String::new, |n| n.to_string())
                };
                if v.fract() == 0.0 {
                    return Err(E::custom(QuantityError::TooLarge(written)));
                }
                Err(E::custom(QuantityError::NotWhole(written)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<WholeNumber, E> {
                Err(E::custom(format!(
                    "must be a number, not the text \"{v}\" (remove the quotes)"
                )))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// How a seller (or an order, or a file) changes a product's quantity on hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", content = "amount", rename_all = "snake_case")]
pub enum Adjustment {
    /// Set the quantity to exactly this (a stock count).
    Set(Quantity),
    /// Add (or, when negative, subtract) this many units.
    Add(WholeNumber),
}

/// Why an adjustment cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdjustmentError {
    #[error("subtracting {removed} would take the quantity below zero (only {on_hand} on hand)")]
    BelowZero { on_hand: i64, removed: i64 },
    #[error("adding {added} to {on_hand} would exceed the limit of {MAX_QUANTITY}")]
    AboveLimit { on_hand: i64, added: i64 },
    #[error("an adjustment of 0 changes nothing; give a positive or negative amount")]
    NoChange,
}

impl Adjustment {
    /// The quantity after applying this adjustment to `on_hand`.
    pub fn apply(self, on_hand: Quantity) -> Result<Quantity, AdjustmentError> {
        match self {
            Adjustment::Set(target) => Ok(target),
            Adjustment::Add(WholeNumber(0)) => Err(AdjustmentError::NoChange),
            Adjustment::Add(WholeNumber(delta)) => {
                let after = on_hand.get() + delta;
                if after < 0 {
                    Err(AdjustmentError::BelowZero {
                        on_hand: on_hand.get(),
                        removed: -delta,
                    })
                } else if after > MAX_QUANTITY {
                    Err(AdjustmentError::AboveLimit {
                        on_hand: on_hand.get(),
                        added: delta,
                    })
                } else {
                    Ok(Quantity(after))
                }
            }
        }
    }
}

/// The ledger reference of an adjustment sent with an `Idempotency-Key` header: one key
/// applies once per account, however often the request is repeated. A key is 1 to 255
/// printable ASCII characters (a UUID fits).
pub fn idempotency_reference(key: &str) -> Result<String, &'static str> {
    let printable = key.bytes().all(|b| b.is_ascii_graphic());
    if key.is_empty() || key.len() > 255 || !printable {
        return Err("Idempotency-Key must be 1 to 255 printable ASCII characters, without spaces (a UUID fits).");
    }
    Ok(format!("idempotency:{key}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64) -> Quantity {
        Quantity::new(n).unwrap()
    }

    #[test]
    fn quantities_from_zero_to_the_cap_are_accepted() {
        assert_eq!(Quantity::new(0), Ok(Quantity::ZERO));
        assert_eq!(Quantity::new(MAX_QUANTITY).unwrap().get(), MAX_QUANTITY);
    }

    #[test]
    fn negative_and_oversized_quantities_are_refused() {
        assert_eq!(Quantity::new(-1), Err(QuantityError::Negative(-1)));
        assert!(matches!(
            Quantity::new(MAX_QUANTITY + 1),
            Err(QuantityError::TooLarge(_))
        ));
    }

    #[test]
    fn text_quantities_parse_like_a_seller_writes_them() {
        let cases = [
            ("12", Ok(12)),
            (" 7 ", Ok(7)),
            ("+3", Ok(3)),
            ("0", Ok(0)),
            ("", Err(QuantityError::Empty)),
            ("1.5", Err(QuantityError::NotWhole("`1.5`".into()))),
            ("ten", Err(QuantityError::NotWhole("`ten`".into()))),
            ("-", Err(QuantityError::NotWhole("`-`".into()))),
            ("-4", Err(QuantityError::Negative(-4))),
            (
                "99999999999999999999",
                Err(QuantityError::TooLarge("99999999999999999999".into())),
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(Quantity::parse(raw).map(Quantity::get), expected, "{raw:?}");
        }
    }

    #[test]
    fn json_quantities_must_be_whole_non_negative_numbers() {
        let parse = |s: &str| serde_json::from_str::<Quantity>(s).map_err(|e| e.to_string());
        assert_eq!(parse("5").unwrap().get(), 5);
        assert_eq!(parse("5.0").unwrap().get(), 5);
        assert_eq!(
            parse("1.5").unwrap_err(),
            "must be a whole number, not 1.5 at line 1 column 3"
        );
        assert_eq!(
            parse("-0.5").unwrap_err(),
            "must be a whole number, not -0.5 at line 1 column 4"
        );
        assert!(parse("-2").unwrap_err().contains("negative"));
        assert_eq!(
            parse("1e12").unwrap_err(),
            "is 1000000000000, above the limit of 999999999 at line 1 column 4"
        );
        assert_eq!(
            parse("1e300").unwrap_err(),
            "is 1e+300, above the limit of 999999999 at line 1 column 5"
        );
        assert!(parse("\"3\"").unwrap_err().contains("remove the quotes"));
        assert!(parse("18446744073709551615").unwrap_err().contains("limit"));
    }

    #[test]
    fn set_replaces_the_quantity() {
        assert_eq!(Adjustment::Set(q(40)).apply(q(3)), Ok(q(40)));
    }

    #[test]
    fn add_and_subtract_move_from_the_current_quantity() {
        assert_eq!(Adjustment::Add(WholeNumber(5)).apply(q(3)), Ok(q(8)));
        assert_eq!(Adjustment::Add(WholeNumber(-3)).apply(q(3)), Ok(q(0)));
    }

    #[test]
    fn subtracting_below_zero_is_refused_with_the_numbers() {
        let err = Adjustment::Add(WholeNumber(-4)).apply(q(3)).unwrap_err();
        assert_eq!(
            err,
            AdjustmentError::BelowZero {
                on_hand: 3,
                removed: 4
            }
        );
        assert!(err.to_string().contains("only 3 on hand"));
    }

    #[test]
    fn adding_past_the_cap_or_adding_zero_is_refused() {
        assert!(matches!(
            Adjustment::Add(WholeNumber(2)).apply(q(MAX_QUANTITY - 1)),
            Err(AdjustmentError::AboveLimit { .. })
        ));
        assert_eq!(
            Adjustment::Add(WholeNumber(0)).apply(q(1)),
            Err(AdjustmentError::NoChange)
        );
    }

    #[test]
    fn adjustments_travel_as_mode_and_amount() {
        let set: Adjustment = serde_json::from_str(r#"{"mode":"set","amount":9}"#).unwrap();
        assert_eq!(set, Adjustment::Set(q(9)));
        let add: Adjustment = serde_json::from_str(r#"{"mode":"add","amount":-2}"#).unwrap();
        assert_eq!(add, Adjustment::Add(WholeNumber(-2)));
        assert!(serde_json::from_str::<Adjustment>(r#"{"mode":"set","amount":-2}"#).is_err());
    }

    #[test]
    fn idempotency_keys_become_references_and_odd_ones_are_refused() {
        assert_eq!(
            idempotency_reference("7f9c2ba4-e88f-11ee-a3d1-0242ac120002"),
            Ok("idempotency:7f9c2ba4-e88f-11ee-a3d1-0242ac120002".to_owned())
        );
        for bad in ["", "two words", "tab\there", "é", &"k".repeat(256)] {
            assert!(idempotency_reference(bad).is_err(), "{bad:?}");
        }
    }
}
