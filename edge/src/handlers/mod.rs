//! One module per resource; each handler is a short sequence: parse → domain → store → respond.

pub mod health;
pub mod history;
pub mod products;
