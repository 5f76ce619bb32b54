//! Toasts: a short confirmation (or failure) after an action, dismissed after a few seconds.
//! A toast for a change that can be taken back offers Undo while it shows; one that follows
//! work to its end (Sync Now's pushes) shows a bar and stays until the work is done.

use leptos::prelude::*;
use std::time::Duration;

/// Success or failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Success,
    Critical,
}

/// One toast: its tone, words, an id (so a timer only hides its own toast), what Undo does,
/// how far the work it follows has got (done, of) and where to look next (label, address).
#[derive(Debug, Clone)]
struct Toast {
    tone: Tone,
    message: String,
    id: u64,
    undo: Option<Callback<()>>,
    progress: Option<(u64, u64)>,
    link: Option<(&'static str, String)>,
}

/// A toast that follows work: updated in place while it shows (see [`Toaster::follow`]).
#[derive(Debug, Clone, Copy)]
pub struct Following {
    toaster: Toaster,
    id: u64,
}

impl Following {
    /// Shows how far the work has got; false once the seller dismissed the toast or another
    /// took its place, so the follower can stop.
    pub fn update(self, message: impl Into<String>, done: u64, of: u64) -> bool {
        let message = message.into();
        let mut shown = false;
        self.toaster.0.update(|t| {
            if let Some(t) = t.as_mut().filter(|t| t.id == self.id) {
                t.message = message;
                t.progress = Some((done, of));
                shown = true;
            }
        });
        shown
    }

    /// Ends with the outcome (and a link, such as to the history when something failed),
    /// unless the toast is gone already: shown for ten seconds, or until dismissed when
    /// something failed, so the way to the fix cannot slip away.
    pub fn finish(
        self,
        tone: Tone,
        message: impl Into<String>,
        link: Option<(&'static str, String)>,
    ) {
        if self.toaster.0.with_untracked(|t| t.as_ref().map(|t| t.id)) == Some(self.id) {
            let shown_for = match tone {
                Tone::Critical => Duration::ZERO,
                Tone::Success => Duration::from_secs(10),
            };
            self.toaster
                .put(tone, message.into(), None, link, shown_for);
        }
    }
}

/// The toast being shown, shared through context.
#[derive(Debug, Clone, Copy)]
pub struct Toaster(RwSignal<Option<Toast>>);

impl Toaster {
    /// Shows `message`; it hides itself after five seconds unless replaced.
    pub fn show(self, tone: Tone, message: impl Into<String>) {
        self.put(tone, message.into(), None, None, Duration::from_secs(5));
    }

    /// Shows `message` with an empty bar until [`Following::finish`]: for work that lands
    /// after the request that started it answered.
    pub fn follow(self, message: impl Into<String>, of: u64) -> Following {
        // Work under way is not a failure: it shows as a success would until it ends.
        let id = self.put(Tone::Success, message.into(), None, None, Duration::ZERO);
        self.0.update(|t| {
            if let Some(t) = t.as_mut() {
                t.progress = Some((0, of));
            }
        });
        Following { toaster: self, id }
    }

    /// Shows `message` with an Undo button running `undo`, for ten seconds.
    pub fn show_with_undo(self, message: impl Into<String>, undo: Callback<()>) {
        self.put(
            Tone::Success,
            message.into(),
            Some(undo),
            None,
            Duration::from_secs(10),
        );
    }

    /// Shows a toast; it hides itself after `shown_for` unless replaced (never, for zero).
    fn put(
        self,
        tone: Tone,
        message: String,
        undo: Option<Callback<()>>,
        link: Option<(&'static str, String)>,
        shown_for: Duration,
    ) -> u64 {
        // Ids only need to differ from the toast before: a follow finished within the same
        // millisecond it started must still count as a new toast.
        let before = self.0.with_untracked(|t| t.as_ref().map_or(0, |t| t.id));
        let id = (js_sys::Date::now() as u64).max(before + 1);
        self.0.set(Some(Toast {
            tone,
            message,
            id,
            undo,
            progress: None,
            link,
        }));
        if shown_for.is_zero() {
            return id;
        }
        let signal = self.0;
        set_timeout(
            move || {
                if signal.with_untracked(|t| t.as_ref().map(|t| t.id)) == Some(id) {
                    signal.set(None);
                }
            },
            shown_for,
        );
        id
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
    // The toast is drawn again only when another takes its place: a followed toast's words
    // and bar change in place, so focus on its buttons survives and it is announced once
    // more only at its end (while it follows work, the region is busy).
    let shown = Memo::new(move |_| toaster.0.with(|t| t.as_ref().map(|t| t.id)));
    let busy = move || {
        toaster
            .0
            .with(|t| t.as_ref().is_some_and(|t| t.progress.is_some()))
    };
    view! {
        <div class="toast-area" role="status" aria-live="polite" aria-busy=move || busy().to_string()>
            {move || {
                shown.get()?;
                let toast = toaster.0.get_untracked()?;
                let class = match toast.tone {
                    Tone::Success => "toast toast-success",
                    Tone::Critical => "toast toast-critical",
                };
                let message = move || toaster.0.with(|t| t.as_ref().map(|t| t.message.clone()));
                let progress = move || toaster.0.with(|t| t.as_ref().and_then(|t| t.progress));
                Some(view! {
                    <div class=class data-testid="toast">
                        <div class="toast-body">
                            <span>{message}</span>
                            {move || progress().map(|(done, of)| {
                                let percent = (done * 100).checked_div(of).unwrap_or(100).min(100);
                                view! {
                                    <div class="progress toast-progress" role="progressbar"
                                        aria-label="Pushes landed" aria-valuemin="0"
                                        aria-valuemax="100" aria-valuenow=percent.to_string()>
                                        <div class="progress-fill" style=format!("width: {percent}%")></div>
                                    </div>
                                }
                            })}
                        </div>
                        {toast.link.map(|(label, href)| view! {
                            <a class="toast-link" data-testid="toast-link" href=href>{label}</a>
                        })}
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
                })
            }}
        </div>
    }
}
