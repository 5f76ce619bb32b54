//! Status badges: a word and a colour, never colour alone.

use leptos::prelude::*;
use tally_domain::sync::SyncStatus;

/// The badge for a sync status.
#[component]
pub fn StatusBadge(status: SyncStatus) -> impl IntoView {
    let tone = match status {
        SyncStatus::Succeeded => "badge-success",
        SyncStatus::Failed => "badge-critical",
        SyncStatus::Retrying => "badge-warning",
        SyncStatus::Queued | SyncStatus::Sent => "badge-info",
        SyncStatus::Skipped => "badge-neutral",
    };
    view! { <span class=format!("badge {tone}") data-testid="status-badge">{status.label()}</span> }
}
