//! Settings > API keys: keys for integrations that import orders or products. A new key is
//! shown once; afterwards only its first characters.

use crate::api;
use crate::components::loading::{failed, loaded, loading_line};
use crate::components::toast::{use_toaster, Tone};
use crate::format::{exact, now_ms, relative};
use crate::reactive::show_when;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tally_domain::api::ApiKeySummary;
use tally_domain::scope::Scope;

/// `/settings/api-keys`.
#[component]
pub fn ApiKeys() -> impl IntoView {
    let toaster = use_toaster();
    let keys = api::api_keys();
    let name = RwSignal::new(String::new());
    // The least an integration usually needs; admin is a deliberate choice.
    let scope = RwSignal::new(Scope::Write);
    let created = RwSignal::new(None::<String>);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let wanted = name.get_untracked();
        let power = scope.get_untracked();
        spawn_local(async move {
            match api::create_api_key(wanted, power).await {
                Ok(key) => {
                    created.set(Some(key.key));
                    name.set(String::new());
                    keys.refetch();
                }
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
        });
    };
    let revoke = move |id: i64| {
        spawn_local(async move {
            match api::revoke_api_key(id).await {
                Ok(_) => {
                    toaster.show(Tone::Success, "API key revoked: it stops working at once");
                    keys.refetch();
                }
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
        });
    };
    view! {
        <section class="page-header tab-intro">
            <p class="muted">
                "Integrations send a key as " <code>"Authorization: Bearer tally_…"</code>
                " to import orders and products. Treat keys like passwords."
            </p>
            <p class="muted">
                <strong>"Read only"</strong>" keys read stock, orders and history. "
                <strong>"Read and write"</strong>" keys also change stock, products and orders. "
                <strong>"Admin"</strong>" keys also connect storefronts, change settings and manage keys."
            </p>
        </section>
        <h2>"API keys"</h2>
        <form class="card card-padded inline-form" on:submit=create>
            <label class="field">
                <span>"Name"</span>
                <input
                    type="text"
                    placeholder="e.g. Order import"
                    data-testid="api-key-name"
                    prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                />
            </label>
            <label class="field">
                <span>"Access"</span>
                <select
                    data-testid="api-key-scope"
                    on:change=move |ev| scope.set(Scope::from_stored(&event_target_value(&ev)))
                >
                    {Scope::ALL.map(|s| view! {
                        <option value=s.as_str() selected=move || scope.get() == s>{s.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            <button
                type="submit"
                class="button button-primary"
                data-testid="api-key-create"
                disabled=move || name.get().trim().is_empty()
            >
                "Create key"
            </button>
        </form>
        {show_when(move || created.get().is_some(), move || view! {
            <div class="banner banner-success" role="status" data-testid="api-key-created">
                <div>
                    <strong>"Copy this key now: it will not be shown again."</strong>
                    <code class="secret">{move || created.get().unwrap_or_default()}</code>
                </div>
                <button class="button" on:click=move |_| created.set(None)>"Done"</button>
            </div>
        }.into_any())}
        {loaded(keys, || loading_line("Loading keys…"), move |result| match result {
                        Ok(list) if list.is_empty() => {
                            view! {
                                <div class="empty-state">
                                    <h2>"No API keys"</h2>
                                    <p>"Create one for each integration, so you can revoke it alone."</p>
                                </div>
                            }
                                .into_any()
                        }
                        Ok(list) => view! { <KeyTable keys=list revoke=revoke /> }.into_any(),
                        Err(e) => failed("API keys", e),
        })}
    }
}

#[component]
fn KeyTable(keys: Vec<ApiKeySummary>, revoke: impl Fn(i64) + Copy + 'static) -> impl IntoView {
    let now = now_ms();
    view! {
        <div class="card">
            <table class="table" data-testid="api-key-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Key"</th>
                        <th scope="col">"Access"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col" class="actions-col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {keys
                        .into_iter()
                        .map(|k| {
                            let id = k.id;
                            view! {
                                <tr>
                                    <td>{k.name}</td>
                                    <td><code>{format!("{}…", k.hint)}</code></td>
                                    <td>{k.scope.label()}</td>
                                    <td><time title=exact(k.created_at)>{relative(k.created_at, now)}</time></td>
                                    <td>
                                        {k.last_used_at.map_or_else(|| "Never".to_owned(), |t| relative(t, now))}
                                    </td>
                                    <td class="actions-col">
                                        {match k.revoked_at {
                                            Some(_) => view! { <span class="badge badge-neutral">"Revoked"</span> }.into_any(),
                                            None => view! {
                                                <button class="button button-small" on:click=move |_| revoke(id)>
                                                    "Revoke"
                                                </button>
                                            }.into_any(),
                                        }}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
