//! The app shell: routes, the top bar for signed-in pages, and the toast area.

use crate::api;
use crate::components::toast::{provide_toaster, use_toaster, ToastArea, Tone};
use crate::pages::api_keys::ApiKeys;
use crate::pages::inventory_settings::InventorySettings;
use crate::pages::orders::Orders;
use crate::pages::product_details::ProductDetails;
use crate::pages::sign_in::{SignInPage, SignUpPage};
use crate::pages::storefronts::Storefronts;
use crate::pages::upload::Upload;
use crate::pages::{inventory::Inventory, sync_history::SyncHistory};
use crate::session::{provide_session, use_session};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Outlet, ParentRoute, Redirect, Route, Router, Routes, A};
use leptos_router::hooks::use_location;
use leptos_router::path;
use tally_domain::account::Plan;
use tally_domain::api::Me;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    provide_toaster();
    provide_session();
    view! {
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=SignInPage />
                <Route path=path!("/signup") view=SignUpPage />
                <ParentRoute path=path!("") view=SignedIn>
                    <Route path=path!("/") view=Inventory />
                    <Route path=path!("/history") view=SyncHistory />
                    <Route path=path!("/products/:id") view=ProductDetails />
                    <Route path=path!("/uploads") view=Upload />
                    <Route path=path!("/orders") view=Orders />
                    <Route path=path!("/settings/api-keys") view=ApiKeys />
                    <Route path=path!("/settings/storefronts") view=Storefronts />
                    <Route path=path!("/settings/inventory") view=InventorySettings />
                    <Route path=path!("/settings") view=InventorySettings />
                </ParentRoute>
            </Routes>
            <ToastArea />
        </Router>
    }
}

/// Pages behind sign-in: the top bar and the page, or a redirect to the sign-in page.
#[component]
fn SignedIn() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    view! {
        <Transition fallback=|| view! { <header class="topbar"></header> }>
            {move || {
                session
                    .me
                    .get()
                    .map(|me| match me {
                        Ok(me) => view! { <TopBar me=me /> <main id="main" class="page"><Outlet /></main> }.into_any(),
                        Err(e) if e.is_unauthenticated() => {
                            let search = location.search.get_untracked();
                            let query = if search.is_empty() || search.starts_with('?') { search } else { format!("?{search}") };
                            let here = format!("{}{query}", location.pathname.get_untracked());
                            let path = format!("/login?next={}", js_sys::encode_uri_component(&here));
                            view! { <Redirect path=path /> }.into_any()
                        }
                        Err(e) => view! {
                            <main class="page">
                                <div class="banner banner-critical" role="alert">
                                    <strong>"Tally could not load your account. "</strong>{e.message}
                                </div>
                            </main>
                        }.into_any(),
                    })
            }}
        </Transition>
    }
}

#[component]
fn TopBar(me: Me) -> impl IntoView {
    let session = use_session();
    let toaster = use_toaster();
    let sign_out = move |_| {
        spawn_local(async move {
            match api::sign_out().await {
                Ok(_) => session.refresh(),
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
        });
    };
    let plan = match me.plan {
        Plan::Subscriber => "Subscriber",
        Plan::Free => "Free plan",
    };
    view! {
        <header class="topbar">
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"T"</span>
                "Tally"
            </a>
            <nav class="nav" aria-label="Main">
                <A href="/" exact=true>"Inventory"</A>
                <A href="/orders">"Orders"</A>
                <A href="/history">"Sync history"</A>
                <A href="/settings/inventory">"Settings"</A>
            </nav>
            <span class="account" data-testid="account-name" title=me.email.unwrap_or_default()>
                {me.account_name}
                <span class="plan">{plan}</span>
            </span>
            <button class="button button-dark button-small" data-testid="sign-out" on:click=sign_out>
                "Sign out"
            </button>
        </header>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <main class="page">
            <section class="empty-state">
                <h1>"Page not found"</h1>
                <p>"That page does not exist. " <a href="/">"Go to Inventory"</a></p>
            </section>
        </main>
    }
}
