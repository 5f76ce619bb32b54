//! Channel quantity rules: what a storefront is told, given what is on hand.
//!
//! A seller rarely wants every storefront to show the whole stock: a buffer protects against
//! overselling while a sale is still on its way to Tally, a cap keeps a marketplace from showing
//! a flood, a percentage splits stock between channels, and "send 0 at or below N" stops a
//! channel from selling the last few units. Rules are set per connection and any of them can be
//! overridden per listing.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The rules of one connection, or one listing's overrides (`None` = not set).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelRules {
    /// Units held back from this channel.
    #[serde(default)]
    pub reserve: Option<i64>,
    /// The most this channel is ever shown.
    #[serde(default)]
    pub maximum: Option<i64>,
    /// The share of stock this channel is shown, 1–100, rounded down.
    #[serde(default)]
    pub percentage: Option<i64>,
    /// When stock on hand is at or below this, the channel is sent 0.
    #[serde(default)]
    pub zero_at_or_below: Option<i64>,
}

/// A rule value out of range, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct RuleError {
    pub field: &'static str,
    pub message: &'static str,
}

const MAX_UNITS: i64 = 999_999_999;

impl ChannelRules {
    /// Checks every value a seller set.
    pub fn validate(&self) -> Result<(), RuleError> {
        let units = |field, value: Option<i64>, message| match value {
            Some(v) if !(0..=MAX_UNITS).contains(&v) => Err(RuleError { field, message }),
            _ => Ok(()),
        };
        units("reserve", self.reserve, "Reserve must be 0 or more units.")?;
        units("maximum", self.maximum, "Maximum must be 0 or more units.")?;
        units(
            "zero_at_or_below",
            self.zero_at_or_below,
            "“Send 0 at or below” must be 0 or more units.",
        )?;
        match self.percentage {
            Some(p) if !(1..=100).contains(&p) => Err(RuleError {
                field: "percentage",
                message: "Percentage must be between 1 and 100.",
            }),
            _ => Ok(()),
        }
    }

    /// These rules with each value the listing sets taking the connection's place.
    pub fn overridden_by(self, listing: &ChannelRules) -> ChannelRules {
        ChannelRules {
            reserve: listing.reserve.or(self.reserve),
            maximum: listing.maximum.or(self.maximum),
            percentage: listing.percentage.or(self.percentage),
            zero_at_or_below: listing.zero_at_or_below.or(self.zero_at_or_below),
        }
    }

    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == ChannelRules::default()
    }

    /// The quantity for the channel and each step that led to it. The order is fixed and
    /// shown to the seller: the zero threshold looks at stock on hand, then the reserve is held
    /// back, the percentage taken of what is left (rounded down), and the maximum caps it.
    pub fn apply(&self, on_hand: i64) -> ChannelQuantity {
        let on_hand = on_hand.max(0);
        let mut steps = Vec::new();
        if let Some(n) = self.zero_at_or_below {
            if on_hand <= n {
                steps.push(RuleStep::ZeroAtOrBelow { threshold: n });
                return ChannelQuantity {
                    on_hand,
                    quantity: 0,
                    steps,
                };
            }
        }
        let mut quantity = on_hand;
        if let Some(reserve) = self.reserve.filter(|r| *r > 0) {
            quantity = (quantity - reserve).max(0);
            steps.push(RuleStep::Reserve {
                units: reserve,
                after: quantity,
            });
        }
        if let Some(percent) = self.percentage.filter(|p| *p < 100) {
            quantity = quantity * percent / 100;
            steps.push(RuleStep::Percentage {
                percent,
                after: quantity,
            });
        }
        if let Some(max) = self.maximum {
            if quantity > max {
                quantity = max;
                steps.push(RuleStep::Maximum { units: max });
            }
        }
        ChannelQuantity {
            on_hand,
            quantity,
            steps,
        }
    }
}

/// One rule that changed the quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case", try_from = "RuleStepFields")]
pub enum RuleStep {
    ZeroAtOrBelow { threshold: i64 },
    Reserve { units: i64, after: i64 },
    Percentage { percent: i64, after: i64 },
    Maximum { units: i64 },
}

/// A [`RuleStep`] as it arrives: `{"rule": "reserve", "units": 2, "after": 10}`. Read through
/// this flat struct because serde reads an internally tagged enum by first buffering every
/// field in a generic form, code that made up a noticeable share of the app's wasm.
#[derive(Deserialize)]
struct RuleStepFields {
    rule: RuleName,
    threshold: Option<i64>,
    units: Option<i64>,
    percent: Option<i64>,
    after: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum RuleName {
    ZeroAtOrBelow,
    Reserve,
    Percentage,
    Maximum,
}

impl TryFrom<RuleStepFields> for RuleStep {
    type Error = String;

    fn try_from(f: RuleStepFields) -> Result<Self, String> {
        let need = |value: Option<i64>, name: &str| value.ok_or(format!("missing field `{name}`"));
        Ok(match f.rule {
            RuleName::ZeroAtOrBelow => RuleStep::ZeroAtOrBelow {
                threshold: need(f.threshold, "threshold")?,
            },
            RuleName::Reserve => RuleStep::Reserve {
                units: need(f.units, "units")?,
                after: need(f.after, "after")?,
            },
            RuleName::Percentage => RuleStep::Percentage {
                percent: need(f.percent, "percent")?,
                after: need(f.after, "after")?,
            },
            RuleName::Maximum => RuleStep::Maximum {
                units: need(f.units, "units")?,
            },
        })
    }
}

/// The quantity a channel is sent, and how it was derived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelQuantity {
    pub on_hand: i64,
    pub quantity: i64,
    pub steps: Vec<RuleStep>,
}

impl ChannelQuantity {
    /// The derivation in words, as the sync history shows it:
    /// "12 on hand − 2 reserve = 10 → 50% = 5 → max 4".
    pub fn breakdown(&self) -> String {
        let mut text = format!("{} on hand", self.on_hand);
        for step in &self.steps {
            let part = match step {
                RuleStep::ZeroAtOrBelow { threshold } => format!(" ≤ {threshold}: send 0"),
                RuleStep::Reserve { units, after } => format!(" − {units} reserve = {after}"),
                RuleStep::Percentage { percent, after } => format!(" → {percent}% = {after}"),
                RuleStep::Maximum { units } => format!(" → max {units}"),
            };
            text.push_str(&part);
        }
        text
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn rule_steps_read_back_what_they_write() {
        let steps = vec![
            RuleStep::ZeroAtOrBelow { threshold: 2 },
            RuleStep::Reserve {
                units: 2,
                after: 10,
            },
            RuleStep::Percentage {
                percent: 50,
                after: 5,
            },
            RuleStep::Maximum { units: 4 },
        ];
        let json = serde_json::to_string(&steps).unwrap();
        assert!(
            json.contains(r#"{"rule":"reserve","units":2,"after":10}"#),
            "{json}"
        );
        assert_eq!(serde_json::from_str::<Vec<RuleStep>>(&json).unwrap(), steps);
    }

    #[test]
    fn a_rule_step_missing_its_number_is_refused_by_name() {
        let err = serde_json::from_str::<RuleStep>(r#"{"rule":"percentage","after":5}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("percent"), "{err}");
        assert!(serde_json::from_str::<RuleStep>(r#"{"rule":"bogus","units":1}"#).is_err());
    }

    use super::*;

    fn rules(reserve: i64, maximum: i64, percentage: i64, zero: i64) -> ChannelRules {
        let some = |v: i64| (v >= 0).then_some(v);
        ChannelRules {
            reserve: some(reserve),
            maximum: some(maximum),
            percentage: some(percentage),
            zero_at_or_below: some(zero),
        }
    }

    #[test]
    fn no_rules_send_stock_on_hand() {
        let q = ChannelRules::default().apply(17);
        assert_eq!(q.quantity, 17);
        assert_eq!(q.breakdown(), "17 on hand");
    }

    #[test]
    fn rules_apply_in_the_documented_order() {
        let q = rules(2, 4, 50, -1).apply(12);
        assert_eq!(q.quantity, 4);
        assert_eq!(
            q.breakdown(),
            "12 on hand − 2 reserve = 10 → 50% = 5 → max 4"
        );
    }

    #[test]
    fn percentage_rounds_down() {
        assert_eq!(rules(-1, -1, 33, -1).apply(10).quantity, 3);
        assert_eq!(rules(-1, -1, 50, -1).apply(1).quantity, 0);
    }

    #[test]
    fn the_zero_threshold_looks_at_stock_on_hand() {
        let q = rules(-1, -1, -1, 3).apply(3);
        assert_eq!(q.quantity, 0);
        assert_eq!(q.breakdown(), "3 on hand ≤ 3: send 0");
        assert_eq!(rules(-1, -1, -1, 3).apply(4).quantity, 4);
    }

    #[test]
    fn a_reserve_larger_than_stock_sends_zero_not_a_negative() {
        assert_eq!(rules(10, -1, -1, -1).apply(4).quantity, 0);
    }

    #[test]
    fn listing_overrides_replace_only_what_they_set() {
        let connection = rules(2, 100, -1, -1);
        let listing = ChannelRules {
            maximum: Some(5),
            ..ChannelRules::default()
        };
        let merged = connection.overridden_by(&listing);
        assert_eq!(merged, rules(2, 5, -1, -1));
    }

    #[test]
    fn out_of_range_values_name_their_field() {
        assert_eq!(
            rules(-1, -1, 0, -1).validate().unwrap_err().field,
            "percentage"
        );
        assert_eq!(
            rules(-1, -1, 101, -1).validate().unwrap_err().field,
            "percentage"
        );
        let negative = ChannelRules {
            reserve: Some(-1),
            ..ChannelRules::default()
        };
        assert_eq!(negative.validate().unwrap_err().field, "reserve");
        assert!(rules(0, 0, 100, 0).validate().is_ok());
    }

    /// Every combination of small rules on every small stock level: the channel is never shown
    /// more than is on hand, never less than 0, never more than its maximum, and the breakdown
    /// ends at the sent quantity.
    #[test]
    fn property_channel_quantity_stays_within_bounds() {
        for on_hand in 0..40 {
            for reserve in -1..6 {
                for maximum in [-1, 0, 3, 20] {
                    for percentage in [-1, 1, 33, 50, 100] {
                        for zero in [-1, 0, 2, 10] {
                            let r = rules(reserve, maximum, percentage, zero);
                            let q = r.apply(on_hand);
                            assert!((0..=on_hand).contains(&q.quantity), "{r:?} {on_hand}");
                            if maximum >= 0 {
                                assert!(q.quantity <= maximum);
                            }
                            if zero >= 0 && on_hand <= zero {
                                assert_eq!(q.quantity, 0);
                            }
                            let more = r.apply(on_hand + 1).quantity;
                            assert!(more >= q.quantity, "not monotonic: {r:?} at {on_hand}");
                        }
                    }
                }
            }
        }
    }
}
