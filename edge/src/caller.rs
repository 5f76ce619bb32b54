//! Who is calling. Every query is scoped to the caller's account.
//!
//! Until sign-in exists every request acts for the demo account; sessions and API keys will
//! resolve the account here, and nowhere else.

use tally_domain::AccountId;
use worker::Request;

/// The demo account created by `edge/seed/demo.sql`.
pub const DEMO_ACCOUNT: AccountId = AccountId(1);

/// The account a request acts for.
pub fn account(_req: &Request) -> AccountId {
    DEMO_ACCOUNT
}
