//! Sign in and create an account.

use crate::api;
use crate::reactive::show_when;
use crate::session::safe_next;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use tally_domain::api::{SignIn, SignUp};

/// Which form the page shows.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    SignIn,
    SignUp,
}

/// `/login`.
#[component]
pub fn SignInPage() -> impl IntoView {
    view! { <AuthForm mode=Mode::SignIn /> }
}

/// `/signup`.
#[component]
pub fn SignUpPage() -> impl IntoView {
    view! { <AuthForm mode=Mode::SignUp /> }
}

#[component]
fn AuthForm(mode: Mode) -> impl IntoView {
    let query = use_query_map();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let store_name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<(Option<String>, String)>);
    let busy = RwSignal::new(false);
    let field_error = move |field: &'static str| {
        move || {
            error
                .get()
                .filter(|(f, _)| f.as_deref() == Some(field))
                .map(|(_, m)| m)
        }
    };
    let general_error = move || error.get().filter(|(f, _)| f.is_none()).map(|(_, m)| m);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let next = safe_next(query.with_untracked(|q| q.get("next")));
        spawn_local(async move {
            let result = match mode {
                Mode::SignIn => {
                    api::sign_in(&SignIn {
                        email: email.get_untracked(),
                        password: password.get_untracked(),
                    })
                    .await
                }
                Mode::SignUp => {
                    api::sign_up(&SignUp {
                        email: email.get_untracked(),
                        password: password.get_untracked(),
                        store_name: store_name.get_untracked(),
                    })
                    .await
                }
            };
            busy.set(false);
            match result {
                Ok(_) => {
                    // A full load: every page starts from the new session, with nothing cached
                    // from the signed-out visit.
                    let _ = window().location().assign(&next);
                }
                Err(e) => error.set(Some((e.field, e.message))),
            }
        });
    };
    let (title, button, switch) = match mode {
        Mode::SignIn => (
            "Sign in to Tally",
            "Sign in",
            view! {
                <p class="muted">"New to Tally? " <a href="/signup">"Create an account"</a></p>
            }
            .into_any(),
        ),
        Mode::SignUp => (
            "Create your Tally account",
            "Create account",
            view! {
                <p class="muted">"Have an account? " <a href="/login">"Sign in"</a></p>
            }
            .into_any(),
        ),
    };
    view! {
        <main class="auth-page" id="main">
            <form class="auth-card" on:submit=submit novalidate=true data-testid="auth-form">
                <div class="brand brand-dark">
                    <span class="brand-mark" aria-hidden="true">"T"</span>
                    "Tally"
                </div>
                <h1>{title}</h1>
                {show_when(move || general_error().is_some(), move || view! {
                    <div class="banner banner-critical" role="alert" data-testid="auth-error">
                        {general_error}
                    </div>
                }.into_any())}
                {(mode == Mode::SignUp).then(|| view! {
                    <label class="field">
                        <span>"Store name"</span>
                        <input
                            type="text"
                            autocomplete="organization"
                            data-testid="store-name"
                            prop:value=move || store_name.get()
                            on:input=move |ev| store_name.set(event_target_value(&ev))
                        />
                        <span class="field-error">{field_error("store_name")}</span>
                    </label>
                })}
                <label class="field">
                    <span>"Email"</span>
                    <input
                        type="email"
                        autocomplete="email"
                        autofocus=true
                        data-testid="email"
                        prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev))
                    />
                    <span class="field-error">{field_error("email")}</span>
                </label>
                <label class="field">
                    <span>"Password"</span>
                    <input
                        type="password"
                        autocomplete=if mode == Mode::SignIn { "current-password" } else { "new-password" }
                        data-testid="password"
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))
                    />
                    <span class="field-error">{field_error("password")}</span>
                </label>
                <button
                    type="submit"
                    class="button button-primary button-block"
                    data-testid="auth-submit"
                    disabled=move || busy.get()
                >
                    {move || if busy.get() { "Please wait…" } else { button }}
                </button>
                {switch}
            </form>
        </main>
    }
}
