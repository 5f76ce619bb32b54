//! Data a page loads, on screen: a placeholder until the first answer, then the answer. The
//! last answer stays up while the data reloads (as with `<Transition>`), so refreshes never
//! flash.
//! No suspense boundary: see [`crate::reactive`] for why.

use crate::api::{ApiError, Loaded};
use crate::reactive::dynamic;
use leptos::prelude::*;
use serde::de::DeserializeOwned;

/// `loading` until `data` has answered, then `show` with the answer.
pub fn loaded<T: DeserializeOwned + Clone + 'static>(
    data: Loaded<T>,
    loading: fn() -> AnyView,
    show: impl Fn(Result<T, ApiError>) -> AnyView + Send + Sync + 'static,
) -> impl IntoView {
    dynamic(move || match data.get() {
        None => loading(),
        Some(answer) => show(answer),
    })
}

/// A failed load, as a banner: `what` could not be loaded, and why.
pub fn failed(what: &'static str, e: ApiError) -> AnyView {
    view! {
        <div class="banner banner-critical" role="alert">
            <strong>{what} " could not be loaded. "</strong>
            {e.message}
        </div>
    }
    .into_any()
}

/// A line saying what is loading.
pub fn loading_line(text: &'static str) -> AnyView {
    view! { <p class="muted" data-testid="loading">{text}</p> }.into_any()
}
