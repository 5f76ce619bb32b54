//! The app shell: routes, the top bar for signed-in pages, and the toast area.

use crate::address::{provide_address, use_address};
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
use tally_domain::account::Plan;
use tally_domain::api::Me;
use tally_domain::ProductId;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    provide_address();
    provide_toaster();
    provide_session();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Pages />
        <ToastArea />
    }
}

/// The screen the address points at.
///
/// One `match` on the path: the app's few fixed paths need nothing more (see `address`).
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
    let address = use_address();
    let page = Memo::new(move |_| Page::at(&address.path()));
    let public = Memo::new(move |_| page.get().public());
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
    let address = use_address();
    loaded(
        session.me,
        || view! { <header class="topbar"></header> }.into_any(),
        move |me| match me {
            Ok(me) => view! {
                <TopBar me=me page=page />
                <main id="main" class="page">{dynamic(move || page.get().view())}</main>
            }
            .into_any(),
            Err(e) if e.is_unauthenticated() => {
                let here = address.href_untracked();
                let login = format!("/login?next={}", js_sys::encode_uri_component(&here));
                // After this render: the address changes the page, which replaces this view.
                Effect::new(move |_| address.replace(&login));
                ().into_any()
            }
            Err(e) => view! {
                <main class="page">{failed("Your account", e)}</main>
            }
            .into_any(),
        },
    )
}

#[component]
fn TopBar(me: Me, page: Memo<Page>) -> impl IntoView {
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
    // The section of the app the page belongs to is marked in the bar.
    let marked_when =
        move |section: fn(Page) -> bool| move || section(page.get()).then_some("page");
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
                <a
                    href="/"
                    aria-current=marked_when(|p| {
                        matches!(p, Page::Inventory | Page::Product(_) | Page::Uploads)
                    })
                >
                    "Inventory"
                </a>
                <a href="/orders" aria-current=marked_when(|p| p == Page::Orders)>"Orders"</a>
                <a href="/history" aria-current=marked_when(|p| p == Page::History)>"Sync history"</a>
                <a
                    href="/settings/inventory"
                    aria-current=marked_when(|p| {
                        matches!(p, Page::InventorySettings | Page::Storefronts | Page::ApiKeys)
                    })
                >
                    "Settings"
                </a>
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
