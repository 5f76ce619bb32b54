//! Settings › Storefronts: the connections Auto Sync pushes to. Credentials are write-only: the
//! form never shows a stored one, and leaving the field empty on an edit keeps it.

use crate::api::{self, ApiError};
use crate::components::cell_errors::CellErrors;
use crate::components::import_panel::ImportPanel;
use crate::components::loading::{failed, loaded, loading_line};
use crate::components::toast::{use_toaster, Tone};
use crate::format::{exact, now_ms, relative};
use crate::pages::upload::read_file;
use crate::reactive::{arm, show_when};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tally_domain::api::{Storefront, StorefrontInput};
use tally_domain::channel::ChannelRules;
use tally_domain::storefront::StorefrontKind;
use wasm_bindgen::JsCast;

/// `/settings/storefronts`.
#[component]
pub fn Storefronts() -> impl IntoView {
    let list = api::storefronts();
    // `None`: no form open; `Some(None)`: adding; `Some(Some(s))`: editing `s`.
    let editing = RwSignal::new(None::<Option<Storefront>>);
    // The connection whose listing import is open (here, so a table refresh keeps it open).
    let importing = RwSignal::new(None::<Storefront>);
    view! {
        <section class="page-header tab-intro">
            <p class="muted">
                "Connect each storefront once: Auto Sync keeps every linked listing at the right quantity."
            </p>
            <button class="button button-primary" data-testid="storefront-add" on:click=move |_| editing.set(Some(None))>
                "Add storefront"
            </button>
        </section>
        <h2>"Storefronts"</h2>
        {move || editing.get().map(|current| view! {
            <StorefrontForm current=current on_done=move |changed| {
                editing.set(None);
                if changed { list.refetch(); }
            } />
        })}
        {loaded(list, || loading_line("Loading storefronts…"), move |result| match result {
                Ok(l) if l.storefronts.is_empty() => view! {
                    <div class="empty-state" data-testid="storefronts-empty">
                        <h2>"No storefronts yet"</h2>
                        <p>"Add your Shopify, WooCommerce, eBay, Amazon, BigCommerce or Vendure store to start pushing quantities."</p>
                    </div>
                }.into_any(),
                Ok(l) => view! { <StorefrontTable storefronts=l.storefronts editing=editing importing=importing on_change=move || list.refetch() /> }.into_any(),
                Err(e) => failed("Storefronts", e),
            })}
        {move || importing.get().map(|s| view! {
            <ImportPanel storefront=s on_close=move || importing.set(None) on_applied=move || list.refetch() />
        })}
        <ListingImport on_done=move || list.refetch() />
    }
}

#[component]
fn StorefrontTable(
    storefronts: Vec<Storefront>,
    editing: RwSignal<Option<Option<Storefront>>>,
    importing: RwSignal<Option<Storefront>>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let toaster = use_toaster();
    // The connection whose Incoming log is open.
    let incoming = RwSignal::new(None::<Storefront>);
    // Deactivating stops every push to the storefront: the first press asks, the second acts.
    // Activating again acts at once.
    let arming = RwSignal::new(None::<i64>);
    let set_active = move |id: i64, active: bool| {
        if !active && arming.get_untracked() != Some(id) {
            arm(arming, id);
            return;
        }
        arming.set(None);
        spawn_local(async move {
            let body = StorefrontInput {
                active: Some(active),
                ..StorefrontInput::default()
            };
            match api::update_storefront(id, &body).await {
                Ok(s) => {
                    let word = if active {
                        "active again"
                    } else {
                        "deactivated: nothing is pushed to it"
                    };
                    toaster.show(Tone::Success, format!("{} is {word}", s.name));
                    on_change();
                }
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
        });
    };
    view! {
        <div class="card scroll-x">
            <table class="table" data-testid="storefront-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Platform"</th>
                        <th scope="col">"API address"</th>
                        <th scope="col" class="num">"Listings"</th>
                        <th scope="col">"Channel rules"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="num">"Orders heard (24 h)"</th>
                        <th scope="col" class="actions-col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {storefronts.into_iter().map(|s| {
                        let id = s.id;
                        let active = s.active;
                        let edit = s.clone();
                        let shown = s.clone();
                        let imported = s.clone();
                        view! {
                            <tr data-testid="storefront-row">
                                <td><strong>{s.name.clone()}</strong></td>
                                <td>{s.kind.label()}</td>
                                <td><code class="small">{s.base_url.clone()}</code></td>
                                <td class="num" data-testid="storefront-listings">{s.listings}</td>
                                <td class="muted">{rules_summary(&s.rules)}</td>
                                <td data-testid="storefront-status">
                                    {match (active, s.failing.clone()) {
                                        (false, _) => view! { <span class="badge badge-neutral">"Inactive"</span> }.into_any(),
                                        (true, None) => view! { <span class="badge badge-success">"Active"</span> }.into_any(),
                                        (true, Some(why)) => view! {
                                            <span class="badge badge-critical">"Failing"</span>
                                            <span class="small block">{why}</span>
                                            <a class="small" href="/history">"Sync history"</a>
                                        }.into_any(),
                                    }}
                                </td>
                                <td class="num" data-testid="orders-heard">{s.orders_heard_24h}</td>
                                <td class="actions-col">
                                    <div class="row-actions">
                                        <button class="button button-small" data-testid="storefront-import"
                                            on:click=move |_| importing.set(Some(imported.clone()))>"Import listings"</button>
                                        <button class="button button-small" data-testid="storefront-incoming"
                                            on:click=move |_| incoming.set(Some(shown.clone()))>"Incoming"</button>
                                        <button class="button button-small" data-testid="storefront-edit" on:click=move |_| editing.set(Some(Some(edit.clone())))>"Edit"</button>
                                        <button class="button button-small" data-testid="storefront-active" on:click=move |_| set_active(id, !active)>
                                            {move || match (active, arming.get() == Some(id)) {
                                                (false, _) => "Activate",
                                                (true, false) => "Deactivate…",
                                                (true, true) => "Yes: stop every push to it",
                                            }}
                                        </button>
                                    </div>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {move || incoming.get().map(|s| view! { <Incoming storefront=s on_close=move || incoming.set(None) /> })}

    }
}

/// A connection's webhook address and the deliveries it received, refused ones with why.
#[component]
fn Incoming(
    storefront: Storefront,
    on_close: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let deliveries = api::deliveries(storefront.id);
    let secret_hint = match (storefront.kind, storefront.has_webhook_secret) {
        (StorefrontKind::Shopify, false) => Some(
            "Shopify signs its webhooks with your app's client secret: add it (Edit › Webhook secret) or every delivery is refused.",
        ),
        _ => None,
    };
    view! {
        <section class="card card-padded" data-testid="incoming" aria-labelledby="incoming-title">
            <div class="page-header">
                <h3 id="incoming-title">"Incoming: " {storefront.name.clone()}</h3>
                <button class="button button-small" on:click=move |_| on_close()>"Close"</button>
            </div>
            <label class="field">
                <span>"Webhook address (orders created, cancelled, refunded)"</span>
                <input type="text" readonly data-testid="webhook-url" prop:value=storefront.webhook_url.clone() />
                <span class="hint muted">"Tally applies each order once, however often it arrives, and also reads recent orders as a safety net."</span>
            </label>
            {secret_hint.map(|h| view! { <div class="banner banner-warning" role="status">{h}</div> })}
            <Subscriptions storefront=storefront />
            {loaded(deliveries, || loading_line("Loading deliveries…"), move |result| match result {
                Ok(list) if list.deliveries.is_empty() => view! {
                    <p class="muted" data-testid="incoming-empty">"No deliveries yet. Orders placed on this storefront show up here within seconds."</p>
                }.into_any(),
                Ok(list) => view! {
                    <table class="table" data-testid="incoming-table">
                        <thead><tr>
                            <th scope="col">"Received"</th><th scope="col">"Topic"</th>
                            <th scope="col">"Status"</th><th scope="col">"What happened"</th>
                        </tr></thead>
                        <tbody>
                            {list.deliveries.into_iter().map(|d| {
                                let badge = match d.status.as_str() {
                                    "applied" => "badge badge-success",
                                    "refused" | "failed" => "badge badge-critical",
                                    "received" => "badge badge-info",
                                    _ => "badge badge-neutral",
                                };
                                view! {
                                    <tr data-testid="delivery-row">
                                        <td><time title=exact(d.received_at)>{relative(d.received_at, now_ms())}</time></td>
                                        <td><code class="small">{d.topic.clone()}</code></td>
                                        <td><span class=badge>{status_label(&d.status)}</span></td>
                                        <td>{d.message.clone()}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any(),
                Err(e) => failed("Deliveries", e),
            })}
        </section>
    }
}

/// Per topic, whether the storefront sends it to Tally (and what to do when not); then when
/// Tally last read the storefront's orders itself. Both can be done again from here.
#[component]
fn Subscriptions(storefront: Storefront) -> impl IntoView {
    let toaster = use_toaster();
    let id = storefront.id;
    let kind = storefront.kind;
    let current = RwSignal::new(storefront);
    let busy = RwSignal::new(false);
    let run = move |poll: bool| {
        busy.set(true);
        spawn_local(async move {
            let result = if poll {
                api::poll_storefront(id).await
            } else {
                api::subscribe_storefront(id).await
            };
            busy.set(false);
            match result {
                Ok(s) => {
                    let said = if poll {
                        s.poll_status.clone()
                    } else {
                        let failed = s.webhooks.iter().filter(|t| !t.ok).count();
                        match failed {
                            0 => format!("Subscribed to {} topics", s.webhooks.len()),
                            n => format!(
                                "{n} of {} topics not subscribed: see why below",
                                s.webhooks.len()
                            ),
                        }
                    };
                    toaster.show(Tone::Success, said);
                    current.set(s);
                }
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
        });
    };
    let can_subscribe = !matches!(kind, StorefrontKind::Ebay | StorefrontKind::Amazon);
    let topics = move || {
        let s = current.get();
        if s.webhooks.is_empty() {
            let line = if can_subscribe {
                "Not subscribed yet: press Subscribe again.".to_owned()
            } else {
                format!(
                    "{} cannot send webhooks to Tally: its orders are read every few minutes.",
                    s.kind.label()
                )
            };
            return view! { <p class="muted" data-testid="subscriptions-none">{line}</p> }
                .into_any();
        }
        view! {
            <ul class="plain-list" data-testid="subscriptions">
                {s.webhooks.into_iter().map(|t| {
                    let (badge, label) = if t.ok { ("badge badge-success", "Subscribed") } else { ("badge badge-critical", "Not subscribed") };
                    let topic = t.topic.clone();
                    view! {
                        <li data-testid="subscription" data-topic=topic>
                            <code class="small">{t.topic}</code>" "
                            <span class=badge>{label}</span>" "
                            <span class="muted">{t.message}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }.into_any()
    };
    let polled = move || {
        let s = current.get();
        match s.polled_at {
            Some(at) => view! {
                <p class="muted small" data-testid="last-poll">
                    "Orders last read " <time title=exact(at)>{relative(at, now_ms())}</time> ": " {s.poll_status}
                </p>
            }.into_any(),
            None => view! { <p class="muted small" data-testid="last-poll">"Orders not read yet: Tally reads them every few minutes."</p> }.into_any(),
        }
    };
    view! {
        {topics}
        {polled}
        <div class="form-actions">
            {can_subscribe.then(|| view! {
                <button class="button button-small" data-testid="subscribe-again"
                    prop:disabled=move || busy.get() on:click=move |_| run(false)>"Subscribe again"</button>
            })}
            <button class="button button-small" data-testid="poll-now"
                prop:disabled=move || busy.get() on:click=move |_| run(true)>"Read orders now"</button>
        </div>
    }
}

fn status_label(status: &str) -> &'static str {
    match status {
        "applied" => "Applied",
        "ignored" => "Nothing to do",
        "refused" => "Refused",
        "failed" => "Not applied",
        _ => "Waiting",
    }
}

/// Link many listings at once from a CSV file.
#[component]
fn ListingImport(on_done: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let toaster = use_toaster();
    let refused = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let input_ref = NodeRef::<leptos::html::Input>::new();
    let choose = move |_| {
        let Some(input) = input_ref.get_untracked() else {
            return;
        };
        let input: web_sys::HtmlInputElement = input.unchecked_into();
        busy.set(true);
        refused.set(None);
        spawn_local(async move {
            let result = match read_file(input).await {
                Ok(text) => api::import_listings(text).await,
                Err(message) => Err(ApiError::said(0, message)),
            };
            match result {
                Ok(done) => {
                    toaster.show(Tone::Success, format!("Linked {} listings", done.linked));
                    on_done();
                }
                Err(r) => refused.set(Some(r)),
            }
            busy.set(false);
        });
    };
    view! {
        <h2>"Link listings from a file"</h2>
        <div class="card card-padded inline-form">
            <label class="field">
                <span>"CSV with " <code>"sku,storefront,external_id,external_sub_id"</code></span>
                <input type="file" accept=".csv,text/csv" node_ref=input_ref data-testid="listing-import-file" on:change=choose />
            </label>
            <span class="hint muted">"Storefront is its name here or its ID. Every row is linked, or none is."</span>
            {show_when(move || busy.get(), move || view! {<span class="muted">"Linking…"</span>}.into_any())}
        </div>
        {move || refused.get().map(|r| view! {
            <div class="banner banner-critical" role="alert" data-testid="listing-import-refused">{r.message.clone()}</div>
            <CellErrors rows=r.rows testid="listing-import-errors" />
        })}
    }
}

/// The rules in a few words, e.g. "Reserve 2 · Max 50".
fn rules_summary(r: &ChannelRules) -> String {
    let mut parts = Vec::new();
    if let Some(v) = r.reserve {
        parts.push(format!("Reserve {v}"));
    }
    if let Some(v) = r.percentage {
        parts.push(format!("{v}%"));
    }
    if let Some(v) = r.maximum {
        parts.push(format!("Max {v}"));
    }
    if let Some(v) = r.zero_at_or_below {
        parts.push(format!("0 at ≤ {v}"));
    }
    if parts.is_empty() {
        "Full quantity".to_owned()
    } else {
        parts.join(" · ")
    }
}

fn number(text: &str) -> Option<i64> {
    text.trim().parse().ok()
}

fn shown(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// Add or edit one connection.
#[component]
fn StorefrontForm(
    current: Option<Storefront>,
    on_done: impl Fn(bool) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let toaster = use_toaster();
    let editing_id = current.as_ref().map(|s| s.id);
    let kind = RwSignal::new(current.as_ref().map_or(StorefrontKind::Shopify, |s| s.kind));
    let name = RwSignal::new(current.as_ref().map(|s| s.name.clone()).unwrap_or_default());
    let base_url = RwSignal::new(
        current
            .as_ref()
            .map(|s| s.base_url.clone())
            .unwrap_or_default(),
    );
    let credential = RwSignal::new(String::new());
    let webhook_secret = RwSignal::new(String::new());
    let store_ref = RwSignal::new(
        current
            .as_ref()
            .and_then(|s| s.store_ref.clone())
            .unwrap_or_default(),
    );
    let keys_in_query = RwSignal::new(current.as_ref().is_some_and(|s| s.keys_in_query));
    let rules = current.as_ref().map(|s| s.rules).unwrap_or_default();
    let reserve = RwSignal::new(shown(rules.reserve));
    let maximum = RwSignal::new(shown(rules.maximum));
    let percentage = RwSignal::new(shown(rules.percentage));
    let zero = RwSignal::new(shown(rules.zero_at_or_below));
    let error = RwSignal::new(None::<api::ApiError>);
    let saving = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = StorefrontInput {
            name: Some(name.get_untracked()),
            kind: Some(kind.get_untracked()),
            base_url: Some(base_url.get_untracked()),
            credential: Some(credential.get_untracked()).filter(|c| !c.trim().is_empty()),
            store_ref: Some(store_ref.get_untracked()),
            rules: Some(ChannelRules {
                reserve: number(&reserve.get_untracked()),
                maximum: number(&maximum.get_untracked()),
                percentage: number(&percentage.get_untracked()),
                zero_at_or_below: number(&zero.get_untracked()),
            }),
            active: None,
            webhook_secret: Some(webhook_secret.get_untracked()).filter(|c| !c.trim().is_empty()),
            keys_in_query: (kind.get_untracked() == StorefrontKind::Woocommerce)
                .then(|| keys_in_query.get_untracked()),
            // Tally reads the storefront once before saving, so a wrong credential or
            // address is said here rather than by every push after.
            check: Some(true),
        };
        saving.set(true);
        spawn_local(async move {
            let result = match editing_id {
                Some(id) => api::update_storefront(id, &body).await,
                None => api::create_storefront(&body).await,
            };
            saving.set(false);
            match result {
                Ok(s) => {
                    toaster.show(Tone::Success, format!("{} saved", s.name));
                    on_done(true);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let field_error = move |field: &'static str| {
        move || {
            error
                .get()
                .filter(|e| {
                    e.field
                        .as_deref()
                        .is_some_and(|f| f == field || f.ends_with(&format!(".{field}")))
                })
                .map(|e| view! { <span class="field-error" role="alert">{e.message}</span> })
        }
    };
    let text_field = move |label: &'static str,
                           field: &'static str,
                           signal: RwSignal<String>,
                           kind_of: &'static str| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input type=kind_of data-testid=format!("storefront-{field}") prop:value=move || signal.get()
                    on:input=move |ev| signal.set(event_target_value(&ev)) />
                {field_error(field)}
            </label>
        }
    };
    view! {
        <form class="card card-padded form-grid" data-testid="storefront-form" on:submit=submit>
            <h3>{if editing_id.is_some() { "Edit storefront" } else { "Add a storefront" }}</h3>
            <label class="field">
                <span>"Platform"</span>
                <select data-testid="storefront-kind" disabled=editing_id.is_some()
                    on:change=move |ev| if let Some(k) = StorefrontKind::parse(&event_target_value(&ev)) { kind.set(k) }>
                    {StorefrontKind::ALL.map(|k| view! {
                        <option value=k.as_str() selected=move || kind.get() == k>{k.label()}</option>
                    }).collect_view()}
                </select>
            </label>
            {text_field("Name", "name", name, "text")}
            <label class="field">
                <span>"API address"</span>
                <input type="url" data-testid="storefront-base_url" prop:value=move || base_url.get()
                    placeholder=move || kind.get().base_url_example()
                    on:input=move |ev| base_url.set(event_target_value(&ev)) />
                <span class="hint muted">{move || if kind.get().default_base_url().is_some() { "Leave empty for the platform's own address." } else { "Your store's address." }}</span>
                {field_error("base_url")}
            </label>
            <label class="field">
                <span>"Credential"</span>
                <input type="password" autocomplete="off" data-testid="storefront-credential" prop:value=move || credential.get()
                    placeholder=move || if editing_id.is_some() { "Stored: leave empty to keep it".to_owned() } else { kind.get().credential_hint().to_owned() }
                    on:input=move |ev| credential.set(event_target_value(&ev)) />
                <span class="hint muted">"Stored encrypted; Tally never shows it again."</span>
                {field_error("credential")}
            </label>
            <label class="field">
                <span>{move || if kind.get() == StorefrontKind::Shopify { "App client secret (for order webhooks)" } else { "Webhook secret (optional)" }}</span>
                <input type="password" autocomplete="off" data-testid="storefront-webhook_secret" prop:value=move || webhook_secret.get()
                    on:input=move |ev| webhook_secret.set(event_target_value(&ev)) />
                <span class="hint muted">{move || if kind.get() == StorefrontKind::Shopify {
                    "Shopify signs webhooks with it. Stored encrypted; leave empty on an edit to keep it."
                } else {
                    "Tally sets one itself; give your own only if a relay signs Tally's order format with it."
                }}</span>
                {field_error("webhook_secret")}
            </label>
            {show_when(move || kind.get().store_ref_label().is_some(), move || view! {
                {text_field("Seller ID", "store_ref", store_ref, "text")}
            }.into_any())}
            {show_when(move || kind.get() == StorefrontKind::Woocommerce, move || view! {
                <label class="checkbox">
                    <input type="checkbox" data-testid="storefront-keys_in_query"
                        prop:checked=move || keys_in_query.get()
                        on:change=move |ev| keys_in_query.set(event_target_checked(&ev)) />
                    <span>
                        <strong>"Send the keys in the address"</strong>
                        <span class="hint muted">"Only if WooCommerce refuses keys you know are right: some hosts drop the Authorization header, and WooCommerce then reads the keys from the address (over https)."</span>
                        {field_error("keys_in_query")}
                    </span>
                </label>
            }.into_any())}
            <fieldset class="rules">
                <legend>"Channel quantity rules " <span class="muted">"(optional; listings can override)"</span></legend>
                {text_field("Reserve (units held back)", "reserve", reserve, "number")}
                {text_field("Maximum shown", "maximum", maximum, "number")}
                {text_field("Percentage of stock (1–100)", "percentage", percentage, "number")}
                {text_field("Send 0 at or below", "zero_at_or_below", zero, "number")}
            </fieldset>
            {move || error.get().filter(|e| e.field.is_none()).map(|e| view! { <div class="banner banner-critical" role="alert">{e.message}</div> })}
            <div class="form-actions">
                <button type="submit" class="button button-primary" data-testid="storefront-save" disabled=move || saving.get()>
                    {move || if saving.get() { "Checking the storefront…" } else { "Save storefront" }}
                </button>
                <button type="button" class="button" on:click=move |_| on_done(false)>"Cancel"</button>
            </div>
        </form>
    }
}
