//! The address bar: which path and query the app shows, and moving to another address without
//! reloading the page.
//!
//! This is all the app needs of a router: it has a few fixed paths (matched in `app::Page`),
//! reads filters and paging from the query, and follows its own links in place. Doing it here
//! instead of with `leptos_router` saves about a tenth of the SPA's size, which has a budget.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The current address, shared by every page.
#[derive(Clone, Copy)]
pub struct Address {
    path: RwSignal<String>,
    /// The query without its `?`.
    search: RwSignal<String>,
    /// `search` read once per change, for every page that reads the query.
    query: Memo<Query>,
}

/// Makes the [`Address`] available, follows Back and Forward, and turns clicks on the app's
/// own links into in-place moves.
pub fn provide_address() {
    let search = RwSignal::new(String::new());
    let address = Address {
        path: RwSignal::new(String::new()),
        search,
        query: Memo::new(move |_| search.with(|s| Query::parse(s))),
    };
    address.read_from_browser();
    provide_context(address);
    // Back and Forward: the browser has already changed the address and restores the scroll.
    // Both listeners stay for the app's lifetime (their handles are dropped, not removed).
    let _ = window_event_listener(ev::popstate, move |_| address.read_from_browser());
    let _ = window_event_listener(ev::click, move |ev| {
        if let Some(href) = own_link(&ev) {
            ev.prevent_default();
            address.go(&href);
        }
    });
}

/// The app's address.
pub fn use_address() -> Address {
    expect_context::<Address>()
}

impl Address {
    /// The path, e.g. `/products/12` (tracked).
    pub fn path(self) -> String {
        self.path.get()
    }

    /// The query's parameters now, for a page that reads them once when it opens.
    pub fn query_untracked(self) -> Query {
        self.query.get_untracked()
    }

    /// The query's parameters, updated as the address changes.
    pub fn query(self) -> Memo<Query> {
        self.query
    }

    /// `aria-current` for a link to `href`: `page` while the address is exactly there.
    pub fn current(self, href: &'static str) -> impl Fn() -> Option<&'static str> + Copy {
        move || self.path.with(|p| p == href).then_some("page")
    }

    /// Moves to `href` (a path with an optional query), as a new history entry, at the top of
    /// the new page. A link to where the seller already is only scrolls up: another entry for
    /// the same address would make the next Back seem to do nothing.
    pub fn go(self, href: &str) {
        if href != self.href_untracked() {
            if let Ok(history) = window().history() {
                let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href));
            }
            self.show(href);
        }
        window().scroll_to_with_x_and_y(0.0, 0.0);
    }

    /// Where the seller is, path and query, as a link would write it (e.g. to come back to
    /// after signing in). Untracked: reading it never re-renders anything.
    pub fn href_untracked(self) -> String {
        let search = self.search.get_untracked();
        let path = self.path.get_untracked();
        if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        }
    }

    /// Changes the address to `href` in place: Back skips the address it replaces.
    pub fn replace(self, href: &str) {
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(href));
        }
        self.show(href);
    }

    fn read_from_browser(self) {
        let location = window().location();
        let path = location.pathname().unwrap_or_default();
        let search = location.search().unwrap_or_default();
        self.show(&format!("{path}{search}"));
    }

    /// Points the signals at `href`; each only notifies when it really changed.
    fn show(self, href: &str) {
        let href = href.split('#').next().unwrap_or_default();
        let (path, search) = href.split_once('?').unwrap_or((href, ""));
        if self.path.with_untracked(|p| p != path) {
            self.path.set(path.to_owned());
        }
        if self.search.with_untracked(|s| s != search) {
            self.search.set(search.to_owned());
        }
    }
}

/// The target of a plain click on one of the app's own links, which the app opens in place.
///
/// Left alone: clicks with a modifier or another button (new tab or window), links that
/// download, open elsewhere or lead outside the app (the API, other sites, `#fragments`).
fn own_link(ev: &ev::MouseEvent) -> Option<String> {
    if ev.default_prevented()
        || ev.button() != 0
        || ev.meta_key()
        || ev.ctrl_key()
        || ev.shift_key()
        || ev.alt_key()
    {
        return None;
    }
    let link = ev
        .target()?
        .dyn_into::<web_sys::Element>()
        .ok()?
        .closest("a[href]")
        .ok()??;
    let elsewhere = link.has_attribute("download")
        || link
            .get_attribute("target")
            .is_some_and(|t| !t.is_empty() && t != "_self");
    let href = link.get_attribute("href")?;
    let in_app = href.starts_with('/') && !href.starts_with("//") && !href.starts_with("/api/");
    (in_app && !elsewhere).then_some(href)
}

/// A query's parameters, decoded, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Reads `a=1&b=two%20words` (`+` is a space, as in forms); unreadable escapes are kept
    /// as they are.
    pub fn parse(search: &str) -> Query {
        let decode = |s: &str| {
            let s = s.replace('+', " ");
            js_sys::decode_uri_component(&s)
                .map(String::from)
                .unwrap_or(s)
        };
        Query(
            search
                .split('&')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode(key), decode(value))
                })
                .collect(),
        )
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}
