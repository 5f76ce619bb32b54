//! One module per screen; each owns its data.

pub mod inventory;
pub mod sync_history;
