//! Toasts: a short confirmation (or failure) after an action, dismissed after a few seconds.

use leptos::prelude::*;
use std::time::Duration;

/// Success or failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Success,
    Critical,
}

/// The toast being shown, shared through context.
#[derive(Debug, Clone, Copy)]
pub struct Toaster(RwSignal<Option<(Tone, String, u64)>>);

impl Toaster {
    /// Shows `message`; it hides itself after five seconds unless replaced.
    pub fn show(self, tone: Tone, message: impl Into<String>) {
        let id = js_sys::Date::now() as u64;
        self.0.set(Some((tone, message.into(), id)));
        let signal = self.0;
        set_timeout(
            move || {
                if signal.with_untracked(|t| t.as_ref().map(|t| t.2)) == Some(id) {
                    signal.set(None);
                }
            },
            Duration::from_secs(5),
        );
    }
}

/// Makes a [`Toaster`] available to every page.
pub fn provide_toaster() {
    provide_context(Toaster(RwSignal::new(None)));
}

/// The toaster of the app.
pub fn use_toaster() -> Toaster {
    expect_context::<Toaster>()
}

/// Where toasts appear (announced to screen readers).
#[component]
pub fn ToastArea() -> impl IntoView {
    let toaster = use_toaster();
    view! {
        <div class="toast-area" role="status" aria-live="polite">
            {move || {
                toaster
                    .0
                    .get()
                    .map(|(tone, message, _)| {
                        let class = match tone {
                            Tone::Success => "toast toast-success",
                            Tone::Critical => "toast toast-critical",
                        };
                        view! {
                            <div class=class data-testid="toast">
                                <span>{message}</span>
                                <button
                                    class="toast-close"
                                    aria-label="Dismiss"
                                    on:click=move |_| toaster.0.set(None)
                                >
                                    "×"
                                </button>
                            </div>
                        }
                    })
            }}
        </div>
    }
}
