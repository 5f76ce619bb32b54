//! One module per screen; each owns its data.

pub mod api_keys;
pub mod inventory;
pub mod inventory_settings;
pub mod orders;
pub mod product_details;
pub mod sign_in;
pub mod storefronts;
pub mod sync_history;
pub mod upload;
