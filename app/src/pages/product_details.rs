//! A product's Details tab: its Auto Sync checkbox with Save (the seed's second way to turn it
//! on), its quantity with Adjust, and its ledger with a chart of quantity over time.

use crate::api;
use crate::components::adjust_dialog::AdjustDialog;
use crate::components::listings_panel::ListingsPanel;
use crate::components::loading::{failed, loaded, loading_line};
use crate::components::product_dialog::ProductDialog;
use crate::components::quantity_chart::QuantityChart;
use crate::components::sync_now_follow::follow;
use crate::components::toast::{use_toaster, Tone};
use crate::format::{exact, now_ms, relative, thousands};
use crate::reactive::{arm, show_when};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tally_domain::api::{LedgerEntry, Product, ProductChanges};
use tally_domain::ProductId;

/// `/products/:id`.
#[component]
pub fn ProductDetails(id: Option<ProductId>) -> impl IntoView {
    let product = api::product(id);
    view! {
        <p class="breadcrumb"><a href="/">"‹ Inventory"</a></p>
        {loaded(product, || loading_line("Loading product…"), move |result| match result {
            Ok(p) => view! { <Details product=p /> }.into_any(),
            Err(e) => view! {
                <div class="empty-state" data-testid="product-missing">
                    <h1>"Product not found"</h1>
                    <p>{e.message} ". " <a href="/">"Back to Inventory"</a></p>
                </div>
            }.into_any(),
        })}
    }
}

/// Which of the product page's one-press-then-confirm actions is waiting for its second press.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Confirming {
    SyncNow,
    Archive,
}

#[component]
fn Details(product: Product) -> impl IntoView {
    let toaster = use_toaster();
    let id = product.id;
    let editing = RwSignal::new(false);
    let confirming = RwSignal::new(None::<Confirming>);
    let busy = RwSignal::new(false);
    // The details as last saved. Every action here updates them in place rather than loading
    // the page again, so nothing is drawn anew and focus stays where the seller is.
    let current = RwSignal::new(product.clone());
    let archived = RwSignal::new(product.archived);
    let quantity = RwSignal::new(product.quantity.get());
    let saved_sync = RwSignal::new(product.auto_sync);
    let draft_sync = RwSignal::new(product.auto_sync);
    let live_sync = RwSignal::new(product.auto_sync);
    // Counts Sync Nows whose pushes have landed, so the listings show what they sent.
    let landed = RwSignal::new(0u32);
    let auto_sync_is = move |on: bool| {
        saved_sync.set(on);
        draft_sync.set(on);
        live_sync.set(on);
    };
    // Archiving swaps Archive for the banner's Unarchive and back: focus follows to the
    // button that takes the change back.
    let archive_button = NodeRef::<leptos::html::Button>::new();
    let unarchive_button = NodeRef::<leptos::html::Button>::new();
    let set_archived = move |yes: bool| {
        archived.set(yes);
        auto_sync_is(false);
        let target = if yes {
            unarchive_button
        } else {
            archive_button
        };
        request_animation_frame(move || {
            if let Some(button) = target.get_untracked() {
                let _ = button.focus();
            }
        });
    };
    // Sync Now and Archive ask once ("Yes: …") before acting; Unarchive acts at once.
    let press = move |what: Confirming| {
        if busy.get_untracked() {
            return;
        }
        if confirming.get_untracked() != Some(what) {
            arm(confirming, what);
            return;
        }
        confirming.set(None);
        busy.set(true);
        spawn_local(async move {
            match what {
                Confirming::SyncNow => match api::sync_now(&[id]).await {
                    Ok(result) => {
                        auto_sync_is(true);
                        let after = Callback::new(move |_| landed.update(|n| *n += 1));
                        follow(result, vec![id], toaster, after);
                    }
                    Err(e) => toaster.show(Tone::Critical, e.message),
                },
                Confirming::Archive => match api::edit_product(id, &archive(true)).await {
                    Ok(p) => {
                        toaster.show(
                            Tone::Success,
                            format!(
                                "{} archived: hidden from the inventory, Auto Sync off",
                                p.sku
                            ),
                        );
                        set_archived(true);
                    }
                    Err(e) => toaster.show(Tone::Critical, e.message),
                },
            }
            busy.set(false);
        });
    };
    let unarchive = move |_| {
        spawn_local(async move {
            match api::edit_product(id, &archive(false)).await {
                Ok(p) => {
                    toaster.show(
                        Tone::Success,
                        format!("{} is back in the inventory (Auto Sync is off)", p.sku),
                    );
                    set_archived(false);
                }
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
        });
    };
    let saving = RwSignal::new(false);
    let adjusting = RwSignal::new(false);
    let ledger = api::ledger(id, quantity);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saving.set(true);
        let wanted = draft_sync.get_untracked();
        spawn_local(async move {
            match api::set_auto_sync(id, wanted).await {
                Ok(p) => {
                    saved_sync.set(p.auto_sync);
                    live_sync.set(p.auto_sync);
                    let word = if p.auto_sync { "on" } else { "off" };
                    toaster.show(
                        Tone::Success,
                        format!("Saved: Auto Sync is {word} for {}", p.sku),
                    );
                }
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
            saving.set(false);
        });
    };
    view! {
        <section class="page-header">
            <div>
                <h1>{move || current.with(|p| p.name.clone())}</h1>
                <p class="muted"><code class="sku">{move || current.with(|p| p.sku.to_string())}</code></p>
            </div>
            <div class="header-actions">
                <button class="button button-primary" data-testid="details-adjust" on:click=move |_| adjusting.set(true)>
                    "Adjust quantity"
                </button>
                // Busy is said, not `disabled`: a disabled button drops focus to the page.
                <button class="button" data-testid="details-sync-now" disabled=move || archived.get()
                    aria-disabled=move || busy.get().to_string()
                    on:click=move |_| press(Confirming::SyncNow)>
                    {move || if confirming.get() == Some(Confirming::SyncNow) { "Yes: push it now and turn Auto Sync on" } else { "Sync Now…" }}
                </button>
                <button class="button" data-testid="details-edit" on:click=move |_| editing.set(true)>"Edit details"</button>
                <button class="button" data-testid="details-archive" node_ref=archive_button
                    aria-disabled=move || busy.get().to_string() hidden=move || archived.get()
                    on:click=move |_| press(Confirming::Archive)>
                    {move || if confirming.get() == Some(Confirming::Archive) { "Yes: archive it and turn Auto Sync off" } else { "Archive…" }}
                </button>
                <a class="button button-plain" data-testid="details-history" href=format!("/history?product_id={id}")>"Sync history"</a>
            </div>
        </section>
        <div class="banner banner-warning" role="status" data-testid="details-archived" hidden=move || !archived.get()>
            <span>"Archived: hidden from the inventory, exports and bulk actions, and Auto Sync is off. Its history, orders and listings are kept."</span>
            <button class="button button-small" data-testid="details-unarchive" node_ref=unarchive_button on:click=unarchive>"Unarchive"</button>
        </div>
        {show_when(move || editing.get(), move || view! {
            <ProductDialog open=editing editing=Some(current.get_untracked()) on_saved=Callback::new(move |p| current.set(p)) />
        }.into_any())}
        {show_when(move || adjusting.get(), move || view! {
            <AdjustDialog id=id sku=current.with_untracked(|p| p.sku.to_string()) quantity=quantity auto_sync=live_sync open=adjusting />
        }.into_any())}
        <nav class="tabs" aria-label="Product"><a aria-current="page" href="#">"Details"</a></nav>
        <div class="details-grid">
            <form class="card card-padded" on:submit=save data-testid="details-form">
                <div class="stat">
                    <span class="muted">"On hand"</span>
                    <strong class="stat-value" class:zero=move || quantity.get() == 0 data-testid="details-quantity">
                        {move || thousands(quantity.get() as u64)}
                    </strong>
                </div>
                <label class="checkbox">
                    <input
                        type="checkbox"
                        data-testid="details-auto-sync"
                        prop:checked=move || draft_sync.get()
                        on:change=move |ev| draft_sync.set(event_target_checked(&ev))
                    />
                    <span>
                        <strong>"Auto Sync"</strong>
                        <span class="muted">
                            "Push this product's quantity to all its listings whenever it changes. Saving pushes nothing by itself."
                        </span>
                    </span>
                </label>
                <div class="form-actions">
                    <button
                        type="submit"
                        class="button button-primary"
                        data-testid="details-save"
                        disabled=move || draft_sync.get() == saved_sync.get() || saving.get()
                    >
                        {move || if saving.get() { "Saving…" } else { "Save" }}
                    </button>
                </div>
            </form>
            <dl class="card card-padded facts">
                {move || current.with(facts).into_iter().map(|(k, v)| view! {
                    <dt>{k}</dt>
                    <dd>{if v.is_empty() { "—".to_owned() } else { v }}</dd>
                }).collect_view()}
            </dl>
        </div>
        <ListingsPanel product=id reload=Signal::derive(move || (quantity.get(), landed.get())) />
        <h2>"Quantity history"</h2>
        {loaded(ledger, || loading_line("Loading history…"), |result| match result {
                Ok(entries) if entries.is_empty() => view! {
                    <div class="empty-state"><p>"No changes recorded yet."</p></div>
                }.into_any(),
                Ok(entries) => view! {
                    <div class="card card-padded"><QuantityChart entries=entries.clone() /></div>
                    <LedgerTable entries=entries />
                }.into_any(),
                Err(e) => failed("The quantity history", e),
            })}
    }
}

/// The details the page lists beside the quantity.
fn facts(p: &Product) -> [(&'static str, String); 4] {
    [
        ("Brand", p.brand.clone()),
        ("Supplier", p.supplier.clone()),
        ("Tags", p.tags.join(", ")),
        ("Created via", p.created_via.label().to_owned()),
    ]
}

/// The changes that archive (`true`) or unarchive a product.
fn archive(yes: bool) -> ProductChanges {
    ProductChanges {
        archived: Some(yes),
        ..ProductChanges::default()
    }
}

fn source_label(e: &LedgerEntry) -> String {
    match e.source.as_str() {
        "order" => format!("Order {}", e.reference.clone().unwrap_or_default()),
        "upload" => "File upload".to_owned(),
        _ => "Manual adjustment".to_owned(),
    }
}

#[component]
fn LedgerTable(entries: Vec<LedgerEntry>) -> impl IntoView {
    let now = now_ms();
    view! {
        <div class="card">
            <table class="table" data-testid="ledger-table">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Source"</th>
                        <th scope="col">"By"</th>
                        <th scope="col">"Reason"</th>
                        <th scope="col" class="num">"Change"</th>
                        <th scope="col" class="num">"On hand"</th>
                    </tr>
                </thead>
                <tbody>
                    {entries.into_iter().map(|e| {
                        let change = if e.delta > 0 { format!("+{}", e.delta) } else { e.delta.to_string() };
                        view! {
                            <tr data-testid="ledger-row">
                                <td><time title=exact(e.created_at)>{relative(e.created_at, now)}</time></td>
                                <td>{source_label(&e)}</td>
                                <td data-testid="ledger-actor">{if e.actor.is_empty() { "—".to_owned() } else { e.actor.clone() }}</td>
                                <td class="muted">{if e.reason.is_empty() { "—".to_owned() } else { e.reason.clone() }}</td>
                                <td class="num">{change}</td>
                                <td class="num">{format!("{} → {}", e.before, e.after)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
