//! Tally's single-page app: a Leptos (CSR) shell over the `/api/v1` JSON API.
//!
//! `app` declares the routes; `api` is the only module that speaks HTTP; `pages` own their
//! data; `components` take props and render.

mod api;
mod app;
mod components;
mod format;
mod list_query;
mod pages;
mod reactive;
mod session;

fn main() {
    // A panic prints its message and where it happened in the browser console, release too.
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
