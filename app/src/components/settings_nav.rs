//! The tabs at the top of every settings page; the current tab marks itself.

use leptos::prelude::*;
use leptos_router::components::A;

/// Settings sub-navigation.
#[component]
pub fn SettingsNav() -> impl IntoView {
    view! {
        <nav class="tabs" aria-label="Settings">
            <A href="/settings/inventory">"Inventory"</A>
            <A href="/settings/storefronts">"Storefronts"</A>
            <A href="/settings/api-keys">"API keys"</A>
        </nav>
    }
}
