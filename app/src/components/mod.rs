//! Reusable pieces: they take props and render.

pub mod adjust_dialog;
pub mod auto_sync_toggle;
pub mod badge;
pub mod bulk_bar;
pub mod cell_errors;
pub mod drift_panel;
pub mod filter_actions;
pub mod filter_bar;
pub mod import_panel;
pub mod listings_panel;
pub mod loading;
pub mod modal;
pub mod pagination;
pub mod product_dialog;
pub mod progress;
pub mod quantity_chart;
pub mod settings_nav;
pub mod setup_checklist;
pub mod sync_now_follow;
pub mod toast;
