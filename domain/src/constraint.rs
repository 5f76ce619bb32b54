//! Telling a write the database refused by one of its constraints from a write that failed.
//!
//! Only a refusal may be read as "already done" or "taken" (a UNIQUE index on an order's
//! reference, a CHECK such as the write guards); a database that is down, a statement that is
//! wrong, or a limit reached is an error and is answered as one. D1 passes SQLite's message on,
//! prefixed (`D1_ERROR: UNIQUE constraint failed: users.email: SQLITE_CONSTRAINT`).

/// SQLite's words for the constraints Tally's schema declares.
const REFUSALS: [&str; 4] = [
    "UNIQUE constraint failed",
    "CHECK constraint failed",
    "NOT NULL constraint failed",
    "FOREIGN KEY constraint failed",
];

/// Whether a failed write's `message` is a constraint's refusal.
pub fn refused_by_constraint(message: &str) -> bool {
    REFUSALS.iter().any(|refusal| message.contains(refusal))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_constraints_refusal_is_told_apart_from_a_failure() {
        for refused in [
            "D1_ERROR: UNIQUE constraint failed: users.email: SQLITE_CONSTRAINT",
            "D1_ERROR: UNIQUE constraint failed: orders.account_id, orders.reference: SQLITE_CONSTRAINT",
            "D1_ERROR: CHECK constraint failed: quantity >= 0: SQLITE_CONSTRAINT",
            "JsError: D1_ERROR: NOT NULL constraint failed: products.sku",
            "FOREIGN KEY constraint failed",
        ] {
            assert!(refused_by_constraint(refused), "{refused}");
        }
        for failed in [
            "D1_ERROR: no such table: prodcts: SQLITE_ERROR",
            "D1_ERROR: too many SQL variables: SQLITE_ERROR",
            "D1_ERROR: Network connection lost.",
            "D1 DB storage operation exceeded timeout which caused object to be reset.",
            "D1_ERROR: database is locked: SQLITE_BUSY",
            "",
        ] {
            assert!(!refused_by_constraint(failed), "{failed}");
        }
    }
}
