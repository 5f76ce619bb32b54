//! The Auto Sync switch next to each SKU. Turning it on pushes nothing by itself; the tooltip
//! says so, because sellers expect otherwise.

use crate::api;
use crate::components::toast::{use_toaster, Tone};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tally_domain::ProductId;

/// A switch bound to one product's Auto Sync flag. It flips at once and flips back, with a
/// toast saying why, if the change could not be saved.
#[component]
pub fn AutoSyncToggle(id: ProductId, sku: String, on: RwSignal<bool>) -> impl IntoView {
    let toaster = use_toaster();
    let saving = RwSignal::new(false);
    let label = format!("Auto Sync for {sku}");
    let testid = format!("auto-sync-{sku}");
    let flip = move |_| {
        if saving.get_untracked() {
            return;
        }
        let wanted = !on.get_untracked();
        on.set(wanted);
        saving.set(true);
        let sku = sku.clone();
        spawn_local(async move {
            match api::set_auto_sync(id, wanted).await {
                Ok(product) => {
                    on.set(product.auto_sync);
                    let word = if product.auto_sync { "on" } else { "off" };
                    toaster.show(Tone::Success, format!("Auto Sync turned {word} for {sku}"));
                }
                Err(e) => {
                    on.set(!wanted);
                    toaster.show(
                        Tone::Critical,
                        format!("Auto Sync for {sku} was not changed: {e}"),
                    );
                }
            }
            saving.set(false);
        });
    };
    view! {
        <button
            type="button"
            role="switch"
            class="switch"
            class:switch-on=move || on.get()
            aria-checked=move || if on.get() { "true" } else { "false" }
            aria-label=label
            aria-busy=move || saving.get().to_string()
            title="Auto Sync pushes this product's quantity to its listings whenever it changes. Turning it on pushes nothing by itself."
            data-testid=testid
            on:click=flip
        >
            <span class="switch-knob" aria-hidden="true"></span>
        </button>
    }
}
