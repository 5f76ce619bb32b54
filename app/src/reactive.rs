//! Reactive parts of views, each kind through one boxed closure type.
//!
//! Leptos compiles its render-effect code once for every distinct closure type it renders, and
//! its `<Show>`, `<Transition>` and `<For>` once for every place they are used; those copies were
//! a large share of the app's wasm. These helpers box the closure, so the whole app shares one
//! copy of each.

use leptos::prelude::*;

/// A part of a view drawn again whenever a signal `render` reads changes.
pub fn dynamic(render: impl Fn() -> AnyView + Send + Sync + 'static) -> impl IntoView {
    erased_view(Box::new(render))
}

fn erased_view(render: Box<dyn Fn() -> AnyView + Send + Sync>) -> impl IntoView {
    move || render()
}

/// `children` while `when` holds, nothing otherwise. Like `<Show>`, it is drawn again only when
/// `when` flips, so typing into a field inside never rebuilds it.
pub fn show_when(
    when: impl Fn() -> bool + Send + Sync + 'static,
    children: impl Fn() -> AnyView + Send + Sync + 'static,
) -> impl IntoView {
    erased_shown(Box::new(when), Box::new(children))
}

fn erased_shown(
    when: Box<dyn Fn() -> bool + Send + Sync>,
    children: Box<dyn Fn() -> AnyView + Send + Sync>,
) -> impl IntoView {
    let when = Memo::new(move |_| when());
    erased_view(Box::new(move || {
        if when.get() {
            children()
        } else {
            ().into_any()
        }
    }))
}

/// How long a two-press button waits for its second press.
const ARMED_FOR: std::time::Duration = std::time::Duration::from_secs(6);

/// A two-press button's first press ("Deactivate…" → "Yes: …"): arms `signal` with `value`,
/// and disarms it again after a few seconds, so a press much later asks again.
pub fn arm<T: Clone + PartialEq + Send + Sync + 'static>(signal: RwSignal<Option<T>>, value: T) {
    signal.set(Some(value.clone()));
    set_timeout(
        move || {
            if signal.try_get_untracked().flatten().as_ref() == Some(&value) {
                signal.set(None);
            }
        },
        ARMED_FOR,
    );
}

/// Waits `delay` without blocking the page (for loops that poll the worker).
pub async fn pause(delay: std::time::Duration) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        set_timeout(
            move || {
                let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
            },
            delay,
        );
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
