//! The tabs at the top of every settings page.

use crate::address::use_address;
use leptos::prelude::*;

/// Settings sub-navigation.
#[component]
pub fn SettingsNav() -> impl IntoView {
    let here = use_address();
    view! {
        <nav class="tabs" aria-label="Settings">
            <a href="/settings/inventory" aria-current=here.current("/settings/inventory")>
                "Inventory"
            </a>
            <a href="/settings/storefronts" aria-current=here.current("/settings/storefronts")>
                "Storefronts"
            </a>
            <a href="/settings/api-keys" aria-current=here.current("/settings/api-keys")>
                "API keys"
            </a>
        </nav>
    }
}
