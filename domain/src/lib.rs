//! Tally's domain: the rules of inventory and Auto Sync, with no I/O and no clock.
//!
//! Everything here takes plain values (and an explicit `now` where time matters) and returns
//! decisions as data. The worker (`edge`) and the single-page app (`app`) both depend on this
//! crate, so the wire types in [`api`] are shared by both sides of every request.

pub mod account;
pub mod actor;
pub mod address;
pub mod api;
pub mod bulk_job;
pub mod channel;
pub mod connector;
pub mod constraint;
pub mod created_via;
pub mod csv_export;
pub mod csv_import;
pub mod drift;
pub mod filter;
pub mod listing_csv;
pub mod listing_import;
pub mod order;
pub mod paging;
pub mod product;
pub mod quantity;
pub mod quota;
pub mod retry;
pub mod round;
pub mod rules;
pub mod scope;
pub mod secret;
pub mod selection;
pub mod sku;
pub mod storefront;
pub mod sync;
pub mod sync_health;
pub mod throttle;
pub mod webhook;

pub use created_via::CreatedVia;
pub use paging::{PageRequest, PageSize};
pub use product::{AccountId, ProductId};
pub use quantity::{Adjustment, AdjustmentError, Quantity, QuantityError};
pub use sku::{Sku, SkuError};
