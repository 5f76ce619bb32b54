//! One module per resource; each handler is a short sequence: parse → domain → store → respond.

pub mod api_keys;
pub mod auth;
pub mod bulk;
pub mod bulk_jobs;
pub mod drift;
pub mod health;
pub mod history;
pub mod imports;
pub mod inventory_settings;
pub mod listings;
pub mod orders;
pub mod products;
pub mod rules;
pub mod setup;
pub mod storefronts;
pub mod uploads;
pub mod webhooks;
