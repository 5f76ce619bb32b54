//! What an API key may do. A seller gives each integration the least it needs: a dashboard
//! that only reads stock gets `read`, an order importer `write`, and only a key that manages
//! the account itself (its storefront credentials, settings and other keys) gets `admin`.
//!
//! Scopes are ordered: each includes the ones before it. A signed-in seller has `admin`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Reads products, listings, history, orders and jobs; changes nothing.
    Read,
    /// Also changes stock and products: adjustments, orders, uploads, listings, Auto Sync.
    Write,
    /// Also manages the account: storefront connections and their credentials, settings,
    /// and API keys.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    /// The stored and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    /// Reads the stored form. The column's CHECK constraint admits only the three names, so
    /// anything else means a damaged row: it gets the least power.
    pub fn from_stored(stored: &str) -> Self {
        match stored {
            "admin" => Scope::Admin,
            "write" => Scope::Write,
            _ => Scope::Read,
        }
    }

    /// How the scope reads in the UI.
    pub fn label(self) -> &'static str {
        match self {
            Scope::Read => "Read only",
            Scope::Write => "Read and write",
            Scope::Admin => "Admin",
        }
    }

    /// What `needed` lets a caller with this scope do, or the refusal a seller can act on.
    pub fn check(self, needed: Scope) -> Result<(), ScopeRefused> {
        if self >= needed {
            Ok(())
        } else {
            Err(ScopeRefused { has: self, needed })
        }
    }
}

/// A key asked for more than its scope allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "this API key has the `{}` scope and this request needs `{}`: create a key with the `{}` \
     scope in Settings › API keys",
    has.as_str(),
    needed.as_str(),
    needed.as_str()
)]
pub struct ScopeRefused {
    pub has: Scope,
    pub needed: Scope,
}

/// The scope a request needs: `admin` for the endpoints that manage the account, `read` for any
/// other that only reads, `write` for the rest. `path` is the URL path split at `/`.
pub fn needed(method: &str, path: &[&str]) -> Scope {
    if manages_account(method, path) {
        Scope::Admin
    } else if matches!(method, "GET" | "HEAD") {
        Scope::Read
    } else {
        Scope::Write
    }
}

/// The endpoints that manage the account rather than its stock: storefront connections (they
/// carry credentials and register webhooks), settings, and API keys themselves (so a key can
/// never mint a stronger one), even to read.
fn manages_account(method: &str, path: &[&str]) -> bool {
    matches!(
        (method, path),
        (_, ["api", "v1", "api-keys", ..])
            | ("POST", ["api", "v1", "storefronts"])
            | ("PATCH", ["api", "v1", "storefronts", _])
            | ("POST", ["api", "v1", "storefronts", _, "subscribe"])
            | ("PUT", ["api", "v1", "settings", ..])
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scope_includes_the_ones_before_it() {
        assert!(Scope::Admin.check(Scope::Write).is_ok());
        assert!(Scope::Admin.check(Scope::Read).is_ok());
        assert!(Scope::Write.check(Scope::Read).is_ok());
        assert!(Scope::Write.check(Scope::Write).is_ok());
        assert!(Scope::Read.check(Scope::Write).is_err());
        assert!(Scope::Write.check(Scope::Admin).is_err());
    }

    #[test]
    fn a_refusal_names_both_scopes_and_where_to_get_the_right_key() {
        let refused = Scope::Read.check(Scope::Write).unwrap_err();
        let message = refused.to_string();
        assert!(message.contains("`read` scope"), "{message}");
        assert!(message.contains("needs `write`"), "{message}");
        assert!(message.contains("Settings › API keys"), "{message}");
    }

    fn path(p: &str) -> Vec<&str> {
        p.trim_matches('/').split('/').collect()
    }

    #[test]
    fn managing_the_account_needs_admin_even_to_read() {
        for (method, p) in [
            ("GET", "/api/v1/api-keys"),
            ("POST", "/api/v1/api-keys"),
            ("DELETE", "/api/v1/api-keys/4"),
            ("POST", "/api/v1/storefronts"),
            ("PATCH", "/api/v1/storefronts/7"),
            ("POST", "/api/v1/storefronts/7/subscribe"),
            ("PUT", "/api/v1/settings/inventory"),
            ("PUT", "/api/v1/settings/auto-sync-rules"),
        ] {
            assert_eq!(needed(method, &path(p)), Scope::Admin, "{method} {p}");
        }
    }

    #[test]
    fn reading_needs_read_and_changing_stock_needs_write() {
        for p in [
            "/api/v1/products",
            "/api/v1/storefronts/7",
            "/api/v1/settings/inventory",
            "/api/v1/products/export.csv",
        ] {
            assert_eq!(needed("GET", &path(p)), Scope::Read, "GET {p}");
        }
        for (method, p) in [
            ("POST", "/api/v1/products/3/adjustments"),
            ("POST", "/api/v1/orders"),
            ("POST", "/api/v1/uploads"),
            ("POST", "/api/v1/storefronts/7/poll"),
            ("PATCH", "/api/v1/listings/9"),
        ] {
            assert_eq!(needed(method, &path(p)), Scope::Write, "{method} {p}");
        }
    }

    #[test]
    fn stored_forms_round_trip_and_damage_gets_least_power() {
        for scope in Scope::ALL {
            assert_eq!(Scope::from_stored(scope.as_str()), scope);
            let wire = serde_json::to_string(&scope).unwrap();
            assert_eq!(wire, format!("\"{}\"", scope.as_str()));
        }
        assert_eq!(Scope::from_stored("root"), Scope::Read);
    }
}
