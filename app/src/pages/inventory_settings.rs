//! Settings > Inventory: Auto Sync Rules, per creation method. Read-only on the free plan, with
//! the reason; turning on order imports warns that 0 is pushed at once.

use crate::api;
use crate::components::loading::{failed, loaded, loading_line};
use crate::components::toast::{use_toaster, Tone};
use crate::reactive::show_when;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tally_domain::api::AutoSyncRulesView;
use tally_domain::rules::{AutoSyncRules, Rule};
use tally_domain::CreatedVia;

/// `/settings/inventory`.
#[component]
pub fn InventorySettings() -> impl IntoView {
    let rules = api::auto_sync_rules();
    view! {
        <section class="page-header tab-intro">
            <p class="muted">"How Tally treats your inventory."</p>
        </section>
        {loaded(rules, || loading_line("Loading rules…"), |result| match result {
            Ok(view) => view! { <RulesForm loaded=view /> }.into_any(),
            Err(e) => failed("Auto Sync Rules", e),
        })}
        <WipeGuard />
    }
}

/// The upload wipe guard's share: above it, applying a file that zeroes stock needs a tick.
#[component]
fn WipeGuard() -> impl IntoView {
    let toaster = use_toaster();
    let loaded = api::inventory_settings();
    let percent = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(s)) = loaded.get() {
            percent.set(s.wipe_guard_percent.to_string());
        }
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(value) = percent.get_untracked().trim().parse::<u64>() else {
            error.set(Some("Enter a whole percentage from 1 to 100.".to_owned()));
            return;
        };
        spawn_local(async move {
            match api::save_inventory_settings(value).await {
                Ok(s) => {
                    error.set(None);
                    toaster.show(
                        Tone::Success,
                        format!("Saved: files zeroing more than {}% of stocked products need a confirmation", s.wipe_guard_percent),
                    );
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    };
    view! {
        <h2>"Inventory files"</h2>
        <form class="card card-padded inline-form" on:submit=save data-testid="wipe-guard-form">
            <label class="field">
                <span>"Wipe guard (%)"</span>
                <input type="number" min="1" max="100" data-testid="wipe-guard-percent"
                    prop:value=move || percent.get()
                    on:input=move |ev| percent.set(event_target_value(&ev)) />
                {move || error.get().map(|e| view! { <span class="field-error" role="alert">{e}</span> })}
            </label>
            <p class="hint muted">
                "A file that would set more than this share of your stocked products to 0 is only applied after you confirm it (a cut-off export cannot wipe your catalogue). 100 turns the guard off."
            </p>
            <button type="submit" class="button button-primary" data-testid="wipe-guard-save">"Save"</button>
        </form>
    }
}

fn help(via: CreatedVia) -> &'static str {
    match via {
        CreatedVia::Manual => "Products you add by hand in Inventory.",
        CreatedVia::FileUpload => "New SKUs in an inventory file you upload.",
        CreatedVia::OrderImport => {
            "SKUs Tally first sees on a sales order. They start at quantity 0."
        }
        CreatedVia::ListingImport => "Products imported from a storefront's listings.",
        CreatedVia::Api => "Products an integration creates with an API key.",
    }
}

#[component]
fn RulesForm(loaded: AutoSyncRulesView) -> impl IntoView {
    let toaster = use_toaster();
    let saved = RwSignal::new(loaded.rules.clone());
    let draft = RwSignal::new(loaded.rules);
    let editable = loaded.editable;
    let saving = RwSignal::new(false);
    let changed = move || draft.get() != saved.get();
    let warning = move || AutoSyncRules(draft.get()).warning();
    let set = move |via: CreatedVia, on: bool| {
        draft.update(|rules| {
            if let Some(rule) = rules.iter_mut().find(|r| r.created_via == via) {
                rule.auto_sync = on;
            }
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saving.set(true);
        spawn_local(async move {
            match api::save_auto_sync_rules(draft.get_untracked()).await {
                Ok(view) => {
                    saved.set(view.rules.clone());
                    draft.set(view.rules);
                    toaster.show(Tone::Success, "Auto Sync Rules saved");
                }
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
            saving.set(false);
        });
    };
    view! {
        <form class="card card-padded settings-form" on:submit=save data-testid="rules-form">
            <h2>"Auto Sync Rules"</h2>
            <p class="muted">
                "Choose which new products start with Auto Sync on. Turning Auto Sync on pushes nothing by itself; the next change to the product's quantity does."
            </p>
            {loaded.explanation.map(|text| view! {
                <div class="banner banner-info" data-testid="rules-readonly">{text}</div>
            })}
            <fieldset class="rule-list" disabled=!editable>
                <legend class="visually-hidden">"New products start with Auto Sync on when created by"</legend>
                {CreatedVia::ALL
                    .into_iter()
                    .map(|via| {
                        let checked = move || draft.get().iter().any(|r: &Rule| r.created_via == via && r.auto_sync);
                        view! {
                            <label class="rule">
                                <input
                                    type="checkbox"
                                    data-testid=format!("rule-{}", via.as_str())
                                    prop:checked=checked
                                    on:change=move |ev| set(via, event_target_checked(&ev))
                                />
                                <span>
                                    <strong>{via.label()}</strong>
                                    <span class="muted">{help(via)}</span>
                                </span>
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            {show_when(move || warning().is_some(), move || view! {
                <div class="banner banner-warning" role="alert" data-testid="rules-warning">
                    {move || warning().unwrap_or_default()}
                </div>
            }.into_any())}
            <div class="form-actions">
                <button
                    type="submit"
                    class="button button-primary"
                    data-testid="rules-save"
                    disabled=move || !editable || !changed() || saving.get()
                >
                    {move || if saving.get() { "Saving…" } else { "Save" }}
                </button>
            </div>
        </form>
    }
}
