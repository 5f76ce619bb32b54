//! The app shell: top bar, navigation, routes and the toast area.

use crate::components::toast::{provide_toaster, ToastArea};
use crate::pages::{inventory::Inventory, sync_history::SyncHistory};
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::path;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    provide_toaster();
    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/">
                    <span class="brand-mark" aria-hidden="true">"T"</span>
                    "Tally"
                </a>
                <nav class="nav" aria-label="Main">
                    <A href="/" exact=true>"Inventory"</A>
                    <A href="/history">"Sync history"</A>
                </nav>
                <span class="account" title="Demo account">"Demo Outfitters"</span>
            </header>
            <main id="main" class="page">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=Inventory />
                    <Route path=path!("/history") view=SyncHistory />
                </Routes>
            </main>
            <ToastArea />
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="empty-state">
            <h1>"Page not found"</h1>
            <p>"That page does not exist. " <a href="/">"Go to Inventory"</a></p>
        </section>
    }
}
