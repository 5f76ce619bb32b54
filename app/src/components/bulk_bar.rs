//! The bulk-actions bar: appears when rows are selected and says exactly what "all" means.

use crate::api::{self, Loaded};
use crate::components::sync_now_follow::follow;
use crate::components::toast::{use_toaster, Toaster, Tone};
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

/// Undo for a bulk Auto Sync change: sets `ids` back to `on`, then reloads `products`.
fn undo(
    ids: Vec<ProductId>,
    on: bool,
    products: Loaded<ProductPage>,
    toaster: Toaster,
) -> Callback<()> {
    Callback::new(move |_| {
        let ids = ids.clone();
        spawn_local(async move {
            match api::bulk_auto_sync(&ids, on).await {
                Ok(r) => {
                    let word = if on { "on" } else { "off" };
                    toaster.show(
                        Tone::Success,
                        format!(
                            "Undone: Auto Sync is {word} again for {} products.",
                            thousands(r.updated)
                        ),
                    );
                    products.refetch();
                }
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
        });
    })
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
        // The rows this action really changes, from the page as shown: Undo puts back
        // exactly those, leaving the rows that were already as asked.
        let target = action == Action::On;
        let changing: Vec<ProductId> = products
            .get_untracked()
            .and_then(Result::ok)
            .map(|page| {
                page.items
                    .iter()
                    .filter(|p| ids.contains(&p.id) && p.auto_sync != target)
                    .map(|p| p.id)
                    .collect()
            })
            .unwrap_or_default();
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
                    match action {
                        Action::On | Action::Off if !changing.is_empty() => toaster.show_with_undo(
                            action.done(&r),
                            undo(changing, !target, products, toaster),
                        ),
                        // The toast follows the pushes until each has landed or failed; the
                        // page is drawn again then, with each product's freshness.
                        Action::SyncNow => {
                            follow(r, ids, toaster, Callback::new(move |_| products.refetch()))
                        }
                        _ => toaster.show(Tone::Success, action.done(&r)),
                    }
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
