//! The SKU: a seller's own identifier for a product, unique within an account.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest SKU we accept. Storefronts differ (eBay 50, Amazon 40, Shopify 255); 64 covers
/// what sellers use in practice while keeping rows and URLs readable.
pub const MAX_SKU_LEN: usize = 64;

/// Why a SKU was refused; each message tells the seller what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkuError {
    #[error("SKU is empty: give each product a SKU")]
    Empty,
    #[error("SKU is {0} characters long; the limit is {MAX_SKU_LEN}")]
    TooLong(usize),
    #[error("SKU contains a control character (such as a tab or line break); remove it")]
    ControlCharacter,
}

/// A validated SKU: trimmed, 1..=64 characters, no control characters.
///
/// The field is private so the only way to get one is [`Sku::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Sku(String);

impl Sku {
    /// Parses a SKU as a seller typed it. Surrounding whitespace is dropped: it is never
    /// intended, and storefronts compare SKUs without it.
    pub fn parse(raw: &str) -> Result<Self, SkuError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(SkuError::Empty);
        }
        let len = trimmed.chars().count();
        if len > MAX_SKU_LEN {
            return Err(SkuError::TooLong(len));
        }
        if trimmed.chars().any(char::is_control) {
            return Err(SkuError::ControlCharacter);
        }
        Ok(Self(trimmed.to_owned()))
    }

    /// The SKU as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Sku {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Sku::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_sku_is_accepted_and_trimmed() {
        assert_eq!(
            Sku::parse("  TSHIRT-RED-M ").unwrap().as_str(),
            "TSHIRT-RED-M"
        );
    }

    #[test]
    fn an_empty_or_blank_sku_is_refused() {
        assert_eq!(Sku::parse(""), Err(SkuError::Empty));
        assert_eq!(Sku::parse("   "), Err(SkuError::Empty));
    }

    #[test]
    fn a_sku_over_the_limit_is_refused_with_its_length() {
        let long = "A".repeat(MAX_SKU_LEN + 1);
        assert_eq!(Sku::parse(&long), Err(SkuError::TooLong(65)));
        assert!(Sku::parse(&"A".repeat(MAX_SKU_LEN)).is_ok());
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        assert!(Sku::parse(&"é".repeat(MAX_SKU_LEN)).is_ok());
    }

    #[test]
    fn a_sku_with_a_control_character_is_refused() {
        assert_eq!(Sku::parse("AB\tC"), Err(SkuError::ControlCharacter));
        assert_eq!(Sku::parse("AB\u{0}C"), Err(SkuError::ControlCharacter));
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<Sku>("\"OK-1\"").is_ok());
        let err = serde_json::from_str::<Sku>("\"\"").unwrap_err();
        assert!(err.to_string().contains("SKU is empty"));
    }
}
