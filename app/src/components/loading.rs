//! Data a page loads, on screen: a placeholder until the first answer, then the answer. The
//! last answer stays up while the data reloads (as with `<Transition>`), so refreshes never
//! flash.
//!
//! Size note: Leptos copies its render-effect and suspense code for every distinct closure and
//! view type. Going through one boxed closure type here, without a suspense boundary, keeps one
//! copy for the whole app.

use crate::api::{ApiError, Loaded};
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

/// A part of a view drawn again whenever a signal `render` reads changes.
pub fn dynamic(render: impl Fn() -> AnyView + Send + Sync + 'static) -> impl IntoView {
    erased(Box::new(render))
}

fn erased(render: Box<dyn Fn() -> AnyView + Send + Sync>) -> impl IntoView {
    move || render()
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
