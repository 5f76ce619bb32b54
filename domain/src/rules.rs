//! Auto Sync Rules: for each way a product can be created, whether it starts with Auto Sync on.
//! A subscriber feature (Settings > Inventory).

use crate::account::Plan;
use crate::created_via::CreatedVia;
use serde::{Deserialize, Serialize};

/// One rule: products created this way start with Auto Sync on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub created_via: CreatedVia,
    pub auto_sync: bool,
}

/// Every creation method's rule. Methods without a stored rule start with Auto Sync off: a
/// product never pushes until the seller has said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoSyncRules(pub Vec<Rule>);

impl AutoSyncRules {
    /// The full set from whatever rules are stored (missing ones off, in [`CreatedVia::ALL`]
    /// order; a method listed twice takes its last value).
    pub fn from_stored(stored: &[Rule]) -> Self {
        Self(
            CreatedVia::ALL
                .into_iter()
                .map(|via| Rule {
                    created_via: via,
                    auto_sync: stored
                        .iter()
                        .rev()
                        .find(|r| r.created_via == via)
                        .is_some_and(|r| r.auto_sync),
                })
                .collect(),
        )
    }

    /// Whether a product created `via` starts with Auto Sync on.
    pub fn starts_on(&self, via: CreatedVia) -> bool {
        self.0.iter().any(|r| r.created_via == via && r.auto_sync)
    }

    /// What the seller should know before saving these rules.
    pub fn warning(&self) -> Option<&'static str> {
        self.starts_on(CreatedVia::OrderImport)
            .then_some(ORDER_IMPORT_WARNING)
    }
}

/// Order-import products are created at quantity 0: with Auto Sync on, 0 is pushed at once.
pub const ORDER_IMPORT_WARNING: &str = "Products created by an order import start at quantity 0. \
With Auto Sync on for order imports, 0 is pushed to their listings as soon as they are created, \
which marks them sold out until you set the real quantity.";

/// Why a free account cannot change its rules.
pub const SUBSCRIBER_ONLY: &str = "Auto Sync Rules are a subscriber feature. Subscribe to choose \
which new products start with Auto Sync on; until then every new product starts with it off.";

/// Whether an account on `plan` may change its rules.
pub fn may_edit(plan: Plan) -> bool {
    plan == Plan::Subscriber
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_starts_off_unless_a_rule_says_on() {
        let rules = AutoSyncRules::from_stored(&[Rule {
            created_via: CreatedVia::FileUpload,
            auto_sync: true,
        }]);
        assert_eq!(rules.0.len(), 5);
        assert!(rules.starts_on(CreatedVia::FileUpload));
        assert!(!rules.starts_on(CreatedVia::Manual));
        assert!(!rules.starts_on(CreatedVia::Api));
    }

    #[test]
    fn the_last_value_for_a_method_wins() {
        let on = Rule {
            created_via: CreatedVia::Api,
            auto_sync: true,
        };
        let off = Rule {
            auto_sync: false,
            ..on
        };
        assert!(!AutoSyncRules::from_stored(&[on, off]).starts_on(CreatedVia::Api));
    }

    #[test]
    fn order_import_on_warns_that_zero_is_pushed() {
        let rules = AutoSyncRules::from_stored(&[Rule {
            created_via: CreatedVia::OrderImport,
            auto_sync: true,
        }]);
        assert!(rules.warning().unwrap().contains("quantity 0"));
        assert_eq!(AutoSyncRules::from_stored(&[]).warning(), None);
    }

    #[test]
    fn only_subscribers_edit_rules() {
        assert!(may_edit(Plan::Subscriber));
        assert!(!may_edit(Plan::Free));
    }
}
