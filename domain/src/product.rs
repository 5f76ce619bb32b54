//! Identifiers of the things a seller owns. Every stored row carries an [`AccountId`], and every
//! query is scoped by one.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A seller's account. The demo account has id 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub i64);

/// A product within an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ProductId(pub i64);

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// The longest product name we store.
pub const MAX_NAME_LEN: usize = 200;

/// A product name that cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("name is empty")]
    Empty,
    #[error("name is {0} characters long; the limit is {MAX_NAME_LEN}")]
    TooLong(usize),
}

/// Checks a product name: trimmed, non-empty, at most [`MAX_NAME_LEN`] characters, with control
/// characters (pasted tabs and line breaks) turned into spaces.
pub fn clean_name(raw: &str) -> Result<String, NameError> {
    let cleaned: String = raw
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let len = cleaned.chars().count();
    if len == 0 {
        Err(NameError::Empty)
    } else if len > MAX_NAME_LEN {
        Err(NameError::TooLong(len))
    } else {
        Ok(cleaned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_control_characters_become_spaces() {
        assert_eq!(clean_name("  Red\tShirt \n").unwrap(), "Red Shirt");
    }

    #[test]
    fn empty_and_overlong_names_are_refused() {
        assert_eq!(clean_name("  "), Err(NameError::Empty));
        assert_eq!(clean_name(&"n".repeat(201)), Err(NameError::TooLong(201)));
    }
}
