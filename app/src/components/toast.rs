//! Toasts: a short confirmation (or failure) after an action, dismissed after a few seconds.
//! A toast for a change that can be taken back offers Undo while it shows.

use leptos::prelude::*;
use std::time::Duration;

/// Success or failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Success,
    Critical,
}

/// One toast: its tone, words, an id (so a timer only hides its own toast) and what Undo does.
#[derive(Debug, Clone)]
struct Toast {
    tone: Tone,
    message: String,
    id: u64,
    undo: Option<Callback<()>>,
}

/// The toast being shown, shared through context.
#[derive(Debug, Clone, Copy)]
pub struct Toaster(RwSignal<Option<Toast>>);

impl Toaster {
    /// Shows `message`; it hides itself after five seconds unless replaced.
    pub fn show(self, tone: Tone, message: impl Into<String>) {
        self.put(tone, message.into(), None, Duration::from_secs(5));
    }

    /// Shows `message` with an Undo button running `undo`, for ten seconds.
    pub fn show_with_undo(self, message: impl Into<String>, undo: Callback<()>) {
        self.put(
            Tone::Success,
            message.into(),
            Some(undo),
            Duration::from_secs(10),
        );
    }

    fn put(self, tone: Tone, message: String, undo: Option<Callback<()>>, shown_for: Duration) {
        let id = js_sys::Date::now() as u64;
        self.0.set(Some(Toast {
            tone,
            message,
            id,
            undo,
        }));
        let signal = self.0;
        set_timeout(
            move || {
                if signal.with_untracked(|t| t.as_ref().map(|t| t.id)) == Some(id) {
                    signal.set(None);
                }
            },
            shown_for,
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
                toaster.0.get().map(|toast| {
                    let class = match toast.tone {
                        Tone::Success => "toast toast-success",
                        Tone::Critical => "toast toast-critical",
                    };
                    view! {
                        <div class=class data-testid="toast">
                            <span>{toast.message}</span>
                            {toast.undo.map(|undo| view! {
                                <button class="toast-undo" data-testid="toast-undo" on:click=move |_| {
                                    toaster.0.set(None);
                                    undo.run(());
                                }>"Undo"</button>
                            })}
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
