//! Who made a change to a quantity: a person signed in to the app, an integration's API key, or
//! Tally itself. Each ledger line stores its actor as text (`quantity_changes.actor`) and the
//! ledger shows the seller a label made from it.
//!
//! The stored text is a snapshot taken when the change was made, so a revoked key still names
//! the key that made its changes. Lines written before actors were recorded store `''`
//! (unknown), which has an empty label.

use std::fmt;

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person signed in to the app (session cookie), by email.
    User { email: String },
    /// An integration calling with an API key, by the key's name and hint (its first
    /// characters, e.g. `tally_demo_l`; never enough to use).
    ApiKey { name: String, hint: String },
    /// Tally itself: a change no person or key asked for (e.g. a storefront's webhook).
    System,
}

const USER: &str = "user:";
const API_KEY: &str = "api_key:";
const SYSTEM: &str = "system";

impl Actor {
    /// The stored text: `user:<email>`, `api_key:<hint>:<name>` or `system`. The hint comes
    /// first because it is base64url and never holds a `:`, while a name may.
    pub fn stored(&self) -> String {
        match self {
            Actor::User { email } => format!("{USER}{email}"),
            Actor::ApiKey { name, hint } => format!("{API_KEY}{hint}:{name}"),
            Actor::System => SYSTEM.to_owned(),
        }
    }

    /// The actor a stored text names; `None` for `''` (recorded before actors were) or
    /// anything else this version does not know.
    pub fn from_stored(stored: &str) -> Option<Actor> {
        if stored == SYSTEM {
            return Some(Actor::System);
        }
        if let Some(email) = stored.strip_prefix(USER) {
            return (!email.is_empty()).then(|| Actor::User {
                email: email.to_owned(),
            });
        }
        let (hint, name) = stored.strip_prefix(API_KEY)?.split_once(':')?;
        (!hint.is_empty() && !name.is_empty()).then(|| Actor::ApiKey {
            name: name.to_owned(),
            hint: hint.to_owned(),
        })
    }

    /// What the seller reads: the email, `API key “Order import” (tally_demo_l…)`, or `Tally`.
    pub fn label(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::User { email } => f.write_str(email),
            Actor::ApiKey { name, hint } => write!(f, "API key “{name}” ({hint}…)"),
            Actor::System => f.write_str("Tally"),
        }
    }
}

/// The label of a stored actor, or `""` when it is unknown.
pub fn label_of(stored: &str) -> String {
    Actor::from_stored(stored).map_or_else(String::new, |a| a.label())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> Actor {
        Actor::User {
            email: "demo@tally.example".into(),
        }
    }

    fn key(name: &str) -> Actor {
        Actor::ApiKey {
            name: name.into(),
            hint: "tally_demo_l".into(),
        }
    }

    #[test]
    fn a_user_is_stored_with_a_prefix_and_shown_as_the_email() {
        assert_eq!(user().stored(), "user:demo@tally.example");
        assert_eq!(label_of("user:demo@tally.example"), "demo@tally.example");
    }

    #[test]
    fn an_api_key_is_shown_by_its_name_and_hint() {
        let stored = key("Order import").stored();
        assert_eq!(stored, "api_key:tally_demo_l:Order import");
        assert_eq!(label_of(&stored), "API key “Order import” (tally_demo_l…)");
    }

    #[test]
    fn a_key_name_with_colons_survives_the_round_trip() {
        let actor = key("ERP: nightly: 2");
        assert_eq!(Actor::from_stored(&actor.stored()), Some(actor));
    }

    #[test]
    fn every_actor_round_trips_through_its_stored_text() {
        for actor in [user(), key("Order import"), Actor::System] {
            assert_eq!(Actor::from_stored(&actor.stored()), Some(actor));
        }
        assert_eq!(label_of("system"), "Tally");
    }

    #[test]
    fn unknown_or_malformed_actors_have_an_empty_label() {
        for stored in [
            "",
            "user:",
            "api_key:",
            "api_key:tally_x",
            "api_key::name",
            "robot:1",
        ] {
            assert_eq!(Actor::from_stored(stored), None, "{stored}");
            assert_eq!(label_of(stored), "", "{stored}");
        }
    }
}
