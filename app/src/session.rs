//! Who is signed in, shared by every page. Pages behind sign-in render inside [`SignedIn`],
//! which sends a signed-out visitor to the sign-in page and back afterwards.

use crate::api::{self, Loaded};
use leptos::prelude::*;
use tally_domain::api::Me;

/// The signed-in seller, loaded once and refreshed after sign-in and sign-out.
#[derive(Clone, Copy)]
pub struct Session {
    pub me: Loaded<Me>,
}

impl Session {
    /// Loads `/api/v1/auth/me` again.
    pub fn refresh(self) {
        self.me.refetch();
    }
}

/// Makes the [`Session`] available to every page.
pub fn provide_session() {
    provide_context(Session { me: api::me() });
}

/// The app's session.
pub fn use_session() -> Session {
    expect_context::<Session>()
}

/// The path to come back to after signing in: only our own paths, never another site.
pub fn safe_next(next: Option<String>) -> String {
    tally_domain::account::after_sign_in(next.as_deref()).to_owned()
}
