//! A product's listings on its Details page: where it is sold, what each storefront is sent and
//! why, a form to link another storefront item (checked with the storefront, which can also
//! be searched by SKU or title), and pause/resume.

use crate::api;
use crate::components::loading::{failed, loaded, loading_line};
use crate::components::toast::{use_toaster, Tone};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tally_domain::api::{Listing, ListingUpdate, NewListing, Storefront, StorefrontItems};
use tally_domain::channel::ChannelRules;
use tally_domain::storefront::StorefrontKind;
use tally_domain::ProductId;

/// The listings section. `reload` is read so the section refreshes when it changes (after an
/// adjustment, or once Sync Now's pushes have landed).
#[component]
pub fn ListingsPanel(product: ProductId, reload: Signal<(i64, u32)>) -> impl IntoView {
    let listings = api::listings(product, reload);
    let storefronts = api::storefronts();
    view! {
        <h2>"Listings"</h2>
        <p class="muted">"Auto Sync pushes this product's quantity to every active listing, after each storefront's channel rules."</p>
        {loaded(listings, || loading_line("Loading listings…"), move |result| match result {
                Ok(l) if l.listings.is_empty() => view! {
                    <div class="empty-state" data-testid="listings-empty">
                        <p>"Not listed anywhere yet: link it to a storefront item below."</p>
                    </div>
                }.into_any(),
                Ok(l) => view! { <ListingTable listings=l.listings on_change=move || listings.refetch() /> }.into_any(),
                Err(e) => failed("Listings", e),
            })}
        {loaded(storefronts, || ().into_any(), move |result| match result {
                Ok(l) if l.storefronts.is_empty() => view! {
                    <p class="muted">"Connect a storefront in " <a href="/settings/storefronts">"Settings › Storefronts"</a> " to list this product."</p>
                }.into_any(),
                Ok(l) => view! { <LinkForm product=product storefronts=l.storefronts on_linked=move || listings.refetch() /> }.into_any(),
                Err(_) => ().into_any(),
            })}
    }
}

#[component]
fn ListingTable(
    listings: Vec<Listing>,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let toaster = use_toaster();
    let update = move |id: i64, body: ListingUpdate, done: &'static str| {
        spawn_local(async move {
            match api::update_listing(id, &body).await {
                Ok(_) => {
                    toaster.show(Tone::Success, done);
                    on_change();
                }
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
        });
    };
    let set_active = move |id: i64, active: bool| {
        let body = ListingUpdate {
            active: Some(active),
            rules: None,
            manage_stock: None,
        };
        let done = if active {
            "Listing resumed"
        } else {
            "Listing paused: Auto Sync skips it"
        };
        update(id, body, done);
    };
    // WooCommerce ignores the quantity of an item whose stock it does not manage; Tally turns
    // management on only with the seller's yes, asked here once per listing.
    let allow_stock = move |id: i64| {
        let body = ListingUpdate {
            active: None,
            rules: None,
            manage_stock: Some(true),
        };
        update(
            id,
            body,
            "Tally turns on stock management for this item with the push it just queued",
        );
    };
    view! {
        <div class="card">
            <table class="table" data-testid="listing-table">
                <thead>
                    <tr>
                        <th scope="col">"Storefront"</th>
                        <th scope="col">"Item"</th>
                        <th scope="col" class="num">"Sends"</th>
                        <th scope="col" class="num">"Last pushed"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="actions-col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {listings.into_iter().map(|l| {
                        let id = l.id;
                        let active = l.active;
                        let ids = match &l.external_sub_id {
                            Some(sub) => format!("{} · {sub}", l.external_id),
                            None => l.external_id.clone(),
                        };
                        view! {
                            <tr data-testid="listing-row">
                                <td>{l.storefront_name.clone()} <span class="muted small">" " {l.kind.label()}</span></td>
                                <td><code>{ids}</code></td>
                                <td class="num" title=l.channel_quantity.breakdown()>
                                    <span data-testid="listing-sends">{l.channel_quantity.quantity}</span>
                                    <span class="muted small block">{l.channel_quantity.breakdown()}</span>
                                </td>
                                <td class="num" data-testid="listing-pushed">{l.pushed_quantity.map_or_else(|| "—".to_owned(), |q| q.to_string())}</td>
                                <td>
                                    {if active {
                                        view! { <span class="badge badge-success">"Active"</span> }.into_any()
                                    } else {
                                        view! { <span class="badge badge-neutral">"Paused"</span> }.into_any()
                                    }}
                                </td>
                                <td class="actions-col">
                                    // Asked while no push has landed (an unmanaged item refuses every one).
                                    {(l.kind == StorefrontKind::Woocommerce && !l.manage_stock && l.pushed_quantity.is_none()).then(|| view! {
                                        <button class="button button-small" data-testid="listing-manage-stock"
                                            title="WooCommerce ignores the quantity of an item whose stock it does not manage"
                                            on:click=move |_| allow_stock(id)>
                                            "Let Tally manage stock"
                                        </button>
                                    })}
                                    <button class="button button-small" on:click=move |_| set_active(id, !active)>
                                        {if active { "Pause" } else { "Resume" }}
                                    </button>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn LinkForm(
    product: ProductId,
    storefronts: Vec<Storefront>,
    on_linked: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let toaster = use_toaster();
    let first = storefronts.first().map_or(0, |s| s.id);
    let chosen = RwSignal::new(first);
    let external_id = RwSignal::new(String::new());
    let sub_id = RwSignal::new(String::new());
    let error = RwSignal::new(None::<api::ApiError>);
    // The chosen storefront's kind (for the id labels) and name (for the search).
    let list = storefronts.clone();
    let picked = Memo::new(move |_| {
        list.iter()
            .find(|s| s.id == chosen.get())
            .map(|s| (s.kind, s.name.clone()))
    });
    let kind = move || picked.get().map(|(kind, _)| kind);
    let store_name = Signal::derive(move || picked.get().map(|(_, name)| name).unwrap_or_default());
    let link_button = NodeRef::<leptos::html::Button>::new();
    // "Use" on a search result fills the ids and hands focus to Link listing.
    let pick = Callback::new(move |(id, sub): (String, Option<String>)| {
        external_id.set(id);
        sub_id.set(sub.unwrap_or_default());
        error.set(None);
        if let Some(button) = link_button.get_untracked() {
            let _ = button.focus();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = NewListing {
            storefront_id: chosen.get_untracked(),
            external_id: external_id.get_untracked(),
            external_sub_id: Some(sub_id.get_untracked()).filter(|s| !s.trim().is_empty()),
            rules: ChannelRules::default(),
            // The storefront is asked whether it has the item before anything is linked.
            check: true,
        };
        spawn_local(async move {
            match api::create_listing(product, &body).await {
                Ok(l) => {
                    toaster.show(Tone::Success, format!("Linked to {}", l.storefront_name));
                    external_id.set(String::new());
                    sub_id.set(String::new());
                    error.set(None);
                    on_linked();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let error_for = move |field: &'static str| {
        move || {
            error
                .get()
                .filter(|e| e.field.as_deref() == Some(field))
                .map(|e| view! { <span class="field-error" role="alert">{e.message}</span> })
        }
    };
    view! {
        <form class="card card-padded inline-form" data-testid="listing-form" on:submit=submit>
            <label class="field">
                <span>"Storefront"</span>
                <select data-testid="listing-storefront" on:change=move |ev| chosen.set(event_target_value(&ev).parse().unwrap_or(0))>
                    {storefronts.into_iter().map(|s| view! { <option value=s.id.to_string()>{s.name}</option> }).collect_view()}
                </select>
            </label>
            <label class="field">
                <span>{move || kind().map_or("Item ID", |k| k.external_id_label())}</span>
                <input type="text" data-testid="listing-external-id" prop:value=move || external_id.get()
                    on:input=move |ev| external_id.set(event_target_value(&ev)) />
                {error_for("external_id")}
            </label>
            {move || kind().and_then(|k| k.external_sub_id_label()).map(|(label, required)| view! {
                <label class="field">
                    <span>{label} {(!required).then_some(" (optional)")}</span>
                    <input type="text" data-testid="listing-sub-id" prop:value=move || sub_id.get()
                        on:input=move |ev| sub_id.set(event_target_value(&ev)) />
                    {error_for("external_sub_id")}
                </label>
            })}
            <button type="submit" class="button button-primary" data-testid="listing-link" node_ref=link_button
                disabled=move || external_id.get().trim().is_empty()>"Link listing"</button>
            {move || error.get().filter(|e| e.field.as_deref().is_none_or(|f| f != "external_id" && f != "external_sub_id")).map(|e| view! { <div class="banner banner-critical" role="alert">{e.message}</div> })}
        </form>
        <ItemSearch storefront=chosen.into() store_name=store_name on_pick=pick />
    }
}

/// Searches the chosen storefront by SKU or title, so a seller picks an item rather than
/// copying its ids; `on_pick` gets the item's ids.
#[component]
fn ItemSearch(
    storefront: Signal<i64>,
    store_name: Signal<String>,
    on_pick: Callback<(String, Option<String>)>,
) -> impl IntoView {
    let words = RwSignal::new(String::new());
    let searching = RwSignal::new(false);
    let found = RwSignal::new(None::<Result<StorefrontItems, api::ApiError>>);
    // Each search (and each change of storefront) gets a number; only the latest one's answer
    // is shown, so a slow answer never puts another storefront's ids under "Use".
    let latest = StoredValue::new(0u64);
    Effect::new(move |_| {
        storefront.track();
        latest.update_value(|n| *n += 1);
        found.set(None);
        searching.set(false);
    });
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (id, q) = (storefront.get_untracked(), words.get_untracked());
        latest.update_value(|n| *n += 1);
        let asked = latest.get_value();
        searching.set(true);
        spawn_local(async move {
            let answer = api::search_items(id, &q).await;
            if latest.try_get_value() == Some(asked) {
                found.set(Some(answer));
                searching.set(false);
            }
        });
    };
    // What the polite region announces: a short line, not the table.
    let status = move || match found.get() {
        _ if searching.get() => "Searching…".to_owned(),
        Some(Ok(a)) if a.searchable && a.problem.is_none() => match a.items.len() {
            0 => "Nothing there has that in its SKU or title.".to_owned(),
            1 => "1 item found.".to_owned(),
            n => format!("{n} items found."),
        },
        _ => String::new(),
    };
    view! {
        <form class="card card-padded inline-form item-search" role="search" data-testid="item-search" on:submit=search>
            <label class="field">
                <span>{move || format!("Find it on {}", store_name.get())}</span>
                <input type="search" data-testid="item-search-words" placeholder="SKU or title"
                    prop:value=move || words.get() on:input=move |ev| words.set(event_target_value(&ev)) />
            </label>
            <button type="submit" class="button" data-testid="item-search-go"
                disabled=move || words.get().trim().is_empty() || searching.get()>
                {move || if searching.get() { "Searching…" } else { "Search" }}
            </button>
        </form>
        <p class="muted small" aria-live="polite" data-testid="item-search-status">{status}</p>
        {move || found.get().map(|answer| match answer {
            Err(e) => view! { <div class="banner banner-critical" role="alert">{e.message}</div> }.into_any(),
            Ok(a) if !a.searchable => view! {
                <div class="banner banner-warning" role="alert">{format!("{} cannot be searched from Tally: type the item's ID above.", store_name.get_untracked())}</div>
            }.into_any(),
            Ok(StorefrontItems { problem: Some(problem), .. }) => view! {
                <div class="banner banner-warning" role="alert">{problem}</div>
            }.into_any(),
            Ok(a) if a.items.is_empty() => ().into_any(),
            Ok(a) => view! { <FoundItems items=a.items on_pick=on_pick /> }.into_any(),
        })}
    }
}

/// The items a search found, each with Use (or why Tally must leave it alone).
#[component]
fn FoundItems(
    items: Vec<tally_domain::connector::catalogue::CatalogueItem>,
    on_pick: Callback<(String, Option<String>)>,
) -> impl IntoView {
    view! {
        <div class="card">
            <table class="table" data-testid="item-search-table">
                <thead>
                    <tr>
                        <th scope="col">"SKU"</th>
                        <th scope="col">"Title"</th>
                        <th scope="col">"ID"</th>
                        <th scope="col" class="num">"On the storefront"</th>
                        <th scope="col"><span class="visually-hidden">"Action"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {items.into_iter().map(|item| {
                        let ids = match &item.external_sub_id {
                            Some(sub) => format!("{} · {sub}", item.external_id),
                            None => item.external_id.clone(),
                        };
                        let pick = (item.external_id.clone(), item.external_sub_id.clone());
                        // Named by its ids too: one SKU at two locations is two items.
                        let label = format!("Use {} ({ids})", if item.sku.is_empty() { &item.title } else { &item.sku });
                        view! {
                            <tr>
                                <td><code class="sku">{if item.sku.is_empty() { "—".to_owned() } else { item.sku.clone() }}</code></td>
                                <td>{item.title.clone()}</td>
                                <td>{ids}</td>
                                <td class="num">{item.quantity.map_or_else(|| "—".to_owned(), |q| q.to_string())}</td>
                                <td>{match item.not_settable {
                                    Some(why) => view! { <span class="muted small">{why}</span> }.into_any(),
                                    None => view! {
                                        <button type="button" class="button button-small" data-testid="item-search-use"
                                            aria-label=label on:click=move |_| on_pick.run(pick.clone())>"Use"</button>
                                    }.into_any(),
                                }}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
