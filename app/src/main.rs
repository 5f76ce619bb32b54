//! Tally's single-page app: a Leptos (CSR) shell over the `/api/v1` JSON API.
//!
//! `api` is the only module that speaks HTTP; `pages` own their data; `components` take props
//! and render.

mod address;
mod api;
mod app;
mod components;
mod fetch;
mod format;
mod list_query;
mod pages;
mod reactive;
mod session;

fn main() {
    // Only a debug build has a panic message to show: the release build stops at once on a
    // panic (panic=immediate-abort, scripts/build.sh).
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
