//! The app shell: routes, the top bar for signed-in pages, and the toast area.

use crate::api;
use crate::components::loading::{failed, loaded};
use crate::components::toast::{provide_toaster, use_toaster, ToastArea, Tone};
use crate::pages::api_keys::ApiKeys;
use crate::pages::inventory_settings::InventorySettings;
use crate::pages::orders::Orders;
use crate::pages::product_details::ProductDetails;
use crate::pages::sign_in::{SignInPage, SignUpPage};
use crate::pages::storefronts::Storefronts;
use crate::pages::upload::Upload;
use crate::pages::{inventory::Inventory, sync_history::SyncHistory};
use crate::reactive::dynamic;
use crate::session::{provide_session, use_session};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Redirect, Router, A};
use leptos_router::hooks::use_location;
use leptos_router::location::{BrowserUrl, LocationProvider};
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
            <Pages />
            <ToastArea />
        </Router>
    }
}

/// The screen the address points at.
///
/// Matched here rather than with the router's `<Routes>`: its per-route generic code was a
/// large share of the app's wasm, and the app's few fixed paths need none of its features.
/// The router still provides the location, navigation, query parameters and `<A>` links.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    SignIn,
    SignUp,
    Inventory,
    History,
    /// `None` when the address's id is not a number.
    Product(Option<ProductId>),
    Uploads,
    Orders,
    ApiKeys,
    Storefronts,
    InventorySettings,
    NotFound,
}

impl Page {
    fn at(path: &str) -> Page {
        match path.trim_end_matches('/') {
            "" => Page::Inventory,
            "/login" => Page::SignIn,
            "/signup" => Page::SignUp,
            "/history" => Page::History,
            "/uploads" => Page::Uploads,
            "/orders" => Page::Orders,
            "/settings/api-keys" => Page::ApiKeys,
            "/settings/storefronts" => Page::Storefronts,
            "/settings/inventory" | "/settings" => Page::InventorySettings,
            other => match other.strip_prefix("/products/") {
                Some(id) if !id.contains('/') => Page::Product(id.parse().ok().map(ProductId)),
                _ => Page::NotFound,
            },
        }
    }

    /// Pages shown without signing in: the pages themselves, not the signed-in frame.
    fn public(self) -> Option<Page> {
        matches!(self, Page::SignIn | Page::SignUp | Page::NotFound).then_some(self)
    }

    /// A page behind sign-in.
    fn view(self) -> AnyView {
        match self {
            Page::Inventory => view! { <Inventory /> }.into_any(),
            Page::History => view! { <SyncHistory /> }.into_any(),
            Page::Product(id) => view! { <ProductDetails id=id /> }.into_any(),
            Page::Uploads => view! { <Upload /> }.into_any(),
            Page::Orders => view! { <Orders /> }.into_any(),
            Page::ApiKeys => view! { <ApiKeys /> }.into_any(),
            Page::Storefronts => view! { <Storefronts /> }.into_any(),
            Page::InventorySettings => view! { <InventorySettings /> }.into_any(),
            Page::SignIn | Page::SignUp | Page::NotFound => ().into_any(),
        }
    }
}

/// The current page; the signed-in frame stays in place while moving between its pages.
#[component]
fn Pages() -> impl IntoView {
    let location = use_location();
    let page = Memo::new(move |_| Page::at(&location.pathname.get()));
    let public = Memo::new(move |_| page.get().public());
    // The router writes a new path to the address bar (and scrolls) once the routes say the new
    // page is in place; with no `<Routes>`, that is said here, after each render for a path.
    if let Some(browser) = use_context::<BrowserUrl>() {
        Effect::new(move |_| {
            location.pathname.track();
            browser.ready_to_complete();
        });
    }
    dynamic(move || match public.get() {
        Some(Page::SignIn) => view! { <SignInPage /> }.into_any(),
        Some(Page::SignUp) => view! { <SignUpPage /> }.into_any(),
        Some(_) => view! { <NotFound /> }.into_any(),
        None => view! { <SignedIn page=page /> }.into_any(),
    })
}

/// Pages behind sign-in: the top bar and the page, or a redirect to the sign-in page.
#[component]
fn SignedIn(page: Memo<Page>) -> impl IntoView {
    let session = use_session();
    let location = use_location();
    loaded(
        session.me,
        || view! { <header class="topbar"></header> }.into_any(),
        move |me| match me {
            Ok(me) => view! {
                <TopBar me=me />
                <main id="main" class="page">{dynamic(move || page.get().view())}</main>
            }
            .into_any(),
            Err(e) if e.is_unauthenticated() => {
                let search = location.search.get_untracked();
                let query = if search.is_empty() || search.starts_with('?') {
                    search
                } else {
                    format!("?{search}")
                };
                let here = format!("{}{query}", location.pathname.get_untracked());
                let path = format!("/login?next={}", js_sys::encode_uri_component(&here));
                view! { <Redirect path=path /> }.into_any()
            }
            Err(e) => view! {
                <main class="page">{failed("Your account", e)}</main>
            }
            .into_any(),
        },
    )
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
            <section class="empty-state" data-testid="page-not-found">
                <h1>"Page not found"</h1>
                <p>"That page does not exist. " <a href="/">"Go to Inventory"</a></p>
            </section>
        </main>
    }
}
