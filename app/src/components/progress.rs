//! The bar and note every server-side job shows (bulk Auto Sync, a file being applied).

use leptos::prelude::*;

/// A progress bar at `percent` (0–100), announced to screen readers as `label`, with the note
/// that the work does not need the page.
#[component]
pub fn ServerProgress(percent: u8, label: &'static str) -> impl IntoView {
    let percent = percent.min(100);
    view! {
        <div
            class="progress"
            role="progressbar"
            aria-valuemin="0"
            aria-valuemax="100"
            aria-valuenow=percent.to_string()
            aria-label=label
        >
            <div class="progress-fill" style=format!("width: {percent}%")></div>
        </div>
        <p class="muted job-note">"This runs on Tally's servers: you can leave this page or close the tab."</p>
    }
}
