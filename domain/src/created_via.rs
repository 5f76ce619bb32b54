//! How a product came into Tally. Auto Sync Rules decide, per creation method, whether a new
//! product starts with Auto Sync on.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The ways a product can be created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CreatedVia {
    /// Added by hand in the inventory screen.
    Manual,
    /// A new SKU in an inventory file upload.
    FileUpload,
    /// An order line with a SKU Tally did not know; such products start at quantity 0.
    OrderImport,
    /// Imported from a storefront's listings.
    ListingImport,
    /// Created through the JSON API by an integration.
    Api,
}

impl CreatedVia {
    /// Every creation method, in the order the settings screen lists them.
    pub const ALL: [CreatedVia; 5] = [
        CreatedVia::Manual,
        CreatedVia::FileUpload,
        CreatedVia::OrderImport,
        CreatedVia::ListingImport,
        CreatedVia::Api,
    ];

    /// The stored and wire name, e.g. `file_upload`.
    pub fn as_str(self) -> &'static str {
        match self {
            CreatedVia::Manual => "manual",
            CreatedVia::FileUpload => "file_upload",
            CreatedVia::OrderImport => "order_import",
            CreatedVia::ListingImport => "listing_import",
            CreatedVia::Api => "api",
        }
    }

    /// The name a seller reads.
    pub fn label(self) -> &'static str {
        match self {
            CreatedVia::Manual => "Added manually",
            CreatedVia::FileUpload => "Inventory file upload",
            CreatedVia::OrderImport => "Order import",
            CreatedVia::ListingImport => "Listing import",
            CreatedVia::Api => "API",
        }
    }
}

impl fmt::Display for CreatedVia {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A creation method name that is not one of [`CreatedVia::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown creation method `{0}`; use manual, file_upload, order_import, listing_import or api"
)]
pub struct UnknownCreatedVia(pub String);

impl FromStr for CreatedVia {
    type Err = UnknownCreatedVia;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CreatedVia::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownCreatedVia(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_round_trips_through_its_name() {
        for via in CreatedVia::ALL {
            assert_eq!(via.as_str().parse::<CreatedVia>(), Ok(via));
            let json = serde_json::to_string(&via).unwrap();
            assert_eq!(json, format!("\"{}\"", via.as_str()));
        }
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_choices() {
        let err = "spreadsheet".parse::<CreatedVia>().unwrap_err();
        assert!(err.to_string().contains("file_upload"));
    }
}
