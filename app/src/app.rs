//! The app shell: every route in one place, the signed-in frame with its top bar, and the
//! toast area.

use crate::api;
use crate::components::loading::{failed, loaded};
use crate::components::settings_nav::SettingsNav;
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
use leptos_router::hooks::{use_location, use_params};
use leptos_router::params::Params;
use leptos_router::{path, NavigateOptions};
use tally_domain::account::Plan;
use tally_domain::api::Me;
use tally_domain::ProductId;

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
                    <Route path=path!("") view=Inventory />
                    <Route path=path!("/products/:id") view=ProductPage />
                    <Route path=path!("/uploads") view=Upload />
                    <Route path=path!("/orders") view=Orders />
                    <Route path=path!("/history") view=SyncHistory />
                    <ParentRoute path=path!("/settings") view=Settings>
                        <Route path=path!("") view=|| view! { <Redirect path="/settings/inventory" options=in_place() /> } />
                        <Route path=path!("/inventory") view=InventorySettings />
                        <Route path=path!("/storefronts") view=Storefronts />
                        <Route path=path!("/api-keys") view=ApiKeys />
                    </ParentRoute>
                </ParentRoute>
            </Routes>
            <ToastArea />
        </Router>
    }
}

/// A redirect that takes the place of the address it leaves, so Back never returns to it.
fn in_place() -> NavigateOptions {
    NavigateOptions {
        replace: true,
        ..NavigateOptions::default()
    }
}

/// Pages behind sign-in: the top bar and the page, or a redirect to the sign-in page that
/// brings the seller back here afterwards.
#[component]
fn SignedIn() -> impl IntoView {
    let session = use_session();
    let location = use_location();
    loaded(
        session.me,
        || view! { <header class="topbar"></header> }.into_any(),
        move |me| match me {
            Ok(me) => view! {
                <TopBar me=me />
                <main id="main" class="page"><Outlet /></main>
            }
            .into_any(),
            Err(e) if e.is_unauthenticated() => {
                let path = location.pathname.get_untracked();
                let search = location.search.get_untracked();
                let here = if search.is_empty() {
                    path
                } else {
                    format!("{path}?{search}")
                };
                let login = format!("/login?next={}", js_sys::encode_uri_component(&here));
                view! { <Redirect path=login options=in_place() /> }.into_any()
            }
            Err(e) => view! {
                <main class="page">{failed("Your account", e)}</main>
            }
            .into_any(),
        },
    )
}

/// The address's product id; not a number reads as no product.
#[derive(Params, Clone, PartialEq)]
struct ProductAddress {
    id: Option<i64>,
}

/// `/products/:id`: one product, shown again from scratch when the id changes.
#[component]
fn ProductPage() -> impl IntoView {
    let params = use_params::<ProductAddress>();
    let id = Memo::new(move |_| params.get().ok().and_then(|p| p.id).map(ProductId));
    move || view! { <ProductDetails id=id.get() /> }
}

/// Every settings tab: the title and tabs, then the tab.
#[component]
fn Settings() -> impl IntoView {
    view! {
        <section class="page-header">
            <h1>"Settings"</h1>
        </section>
        <SettingsNav />
        <Outlet />
    }
}

/// Sections of the app, each marked in the top bar while the seller is anywhere inside it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Inventory,
    Orders,
    History,
    Settings,
}

impl Section {
    /// Product and upload pages belong to the inventory: `<A>`'s prefix match would mark
    /// `/` on every page, so the section is read from the path here.
    fn of(path: &str) -> Option<Section> {
        let first = path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or_default();
        match first {
            "" | "products" | "uploads" => Some(Section::Inventory),
            "orders" => Some(Section::Orders),
            "history" => Some(Section::History),
            "settings" => Some(Section::Settings),
            _ => None,
        }
    }
}

#[component]
fn TopBar(me: Me) -> impl IntoView {
    let session = use_session();
    let toaster = use_toaster();
    let location = use_location();
    let section = Memo::new(move |_| location.pathname.with(|p| Section::of(p)));
    let marked = move |which: Section| move || (section.get() == Some(which)).then_some("page");
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
    // On a phone the links, the account and Sign out fold behind a Menu button (the CSS shows
    // the button only below 720 px); choosing anything in the menu folds it again.
    let menu_open = RwSignal::new(false);
    // Active storefronts whose newest push failed, read again on every move between pages.
    let storefronts = api::storefronts();
    Effect::watch(
        move || location.pathname.get(),
        move |_, _, _| storefronts.refetch(),
        false,
    );
    let failing = move || {
        storefronts.get().and_then(Result::ok).map_or(0, |l| {
            l.storefronts
                .iter()
                .filter(|s| s.active && s.failing.is_some())
                .count()
        })
    };
    view! {
        <header class="topbar" class:menu-open=move || menu_open.get()>
            <a class="brand" href="/">
                <span class="brand-mark" aria-hidden="true">"T"</span>
                "Tally"
            </a>
            {move || match failing() {
                0 => None,
                n => Some(view! {
                    <a class="topbar-alert" href="/settings/storefronts" data-testid="failing-connections">
                        {if n == 1 { "1 storefront failing".to_owned() } else { format!("{n} storefronts failing") }}
                    </a>
                }),
            }}
            <button class="button button-dark button-small menu-button" data-testid="menu-button"
                aria-controls="topbar-menu" aria-expanded=move || menu_open.get().to_string()
                on:click=move |_| menu_open.update(|open| *open = !*open)>
                "Menu"
            </button>
            <div class="topbar-menu" id="topbar-menu" on:click=move |_| menu_open.set(false)>
                <nav class="nav" aria-label="Main">
                    <a href="/" aria-current=marked(Section::Inventory)>"Inventory"</a>
                    <a href="/orders" aria-current=marked(Section::Orders)>"Orders"</a>
                    <a href="/history" aria-current=marked(Section::History)>"Sync history"</a>
                    <a href="/settings/inventory" aria-current=marked(Section::Settings)>"Settings"</a>
                </nav>
                <span class="account" data-testid="account-name" title=me.email.unwrap_or_default()>
                    {me.account_name}
                    <span class="plan">{plan}</span>
                </span>
                <button class="button button-dark button-small" data-testid="sign-out" on:click=sign_out>
                    "Sign out"
                </button>
            </div>
        </header>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <main class="page">
            <section class="empty-state" data-testid="page-not-found">
                <h1>"Page not found"</h1>
                <p>"That page does not exist. " <A href="/">"Go to Inventory"</A></p>
            </section>
        </main>
    }
}
