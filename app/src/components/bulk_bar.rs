//! The bulk-actions bar: appears when rows are selected and says exactly what "all" means.

use crate::api::{self, Loaded};
use crate::components::toast::{use_toaster, Tone};
use crate::format::thousands;
use crate::reactive::show_when;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tally_domain::api::{BulkResult, ProductPage};
use tally_domain::ProductId;

/// Which bulk action to run.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Action {
    On,
    Off,
    SyncNow,
}

impl Action {
    fn done(self, r: &BulkResult) -> String {
        let n = thousands(r.updated);
        match self {
            Action::On => format!(
                "Auto Sync turned on for {n} products. Nothing is pushed until a quantity changes."
            ),
            Action::Off => format!("Auto Sync turned off for {n} products."),
            Action::SyncNow => r.message.clone(),
        }
    }
}

/// Actions for the selected rows of the current page.
#[component]
pub fn BulkBar(selected: RwSignal<Vec<ProductId>>, products: Loaded<ProductPage>) -> impl IntoView {
    let toaster = use_toaster();
    let busy = RwSignal::new(false);
    // Sync Now also turns Auto Sync on, so it asks first and says so.
    let confirming = RwSignal::new(false);
    let run = move |action: Action| {
        confirming.set(false);
        let ids = selected.get_untracked();
        busy.set(true);
        spawn_local(async move {
            let result = match action {
                Action::On => api::bulk_auto_sync(&ids, true).await,
                Action::Off => api::bulk_auto_sync(&ids, false).await,
                Action::SyncNow => api::sync_now(&ids).await,
            };
            busy.set(false);
            match result {
                Ok(r) => {
                    toaster.show(Tone::Success, action.done(&r));
                    selected.set(Vec::new());
                    products.refetch();
                }
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
        });
    };
    view! {
        {show_when(move || !selected.get().is_empty(), move || view! {
            <div class="bulk-bar" role="region" aria-label="Bulk actions" data-testid="bulk-bar">
                <strong data-testid="selected-count">
                    {move || format!("{} selected on this page", selected.get().len())}
                </strong>
                <button class="button" data-testid="bulk-on" disabled=move || busy.get() on:click=move |_| run(Action::On)>
                    "Turn on Auto Sync"
                </button>
                <button class="button" data-testid="bulk-off" disabled=move || busy.get() on:click=move |_| run(Action::Off)>
                    "Turn off Auto Sync"
                </button>
                // Two steps: the first press says what Sync Now does (it turns Auto Sync on
                // too), the second does it.
                <button
                    class="button button-primary"
                    data-testid="bulk-sync-now"
                    disabled=move || busy.get()
                    on:click=move |_| if confirming.get_untracked() { run(Action::SyncNow) } else { confirming.set(true) }
                >
                    {move || if confirming.get() { "Yes: push them now and turn Auto Sync on" } else { "Sync Now…" }}
                </button>
                <button class="button button-plain" on:click=move |_| selected.set(Vec::new())>
                    "Clear selection"
                </button>
            </div>
        }.into_any())}
    }
}
