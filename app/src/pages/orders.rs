//! Sales orders: enter one by hand (each line takes units off its product, once per order
//! number), see the newest, cancel one to put its units back.

use crate::api;
use crate::components::loading::{failed, loaded, loading_line};
use crate::components::toast::{use_toaster, Tone};
use crate::format::{exact, now_ms, relative};
use crate::reactive::arm;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tally_domain::order::{OrderIn, OrderLineIn, OrderOut};
use tally_domain::{Quantity, Sku};

/// The lines as typed: SKU and quantity text.
type Draft = Vec<(String, String)>;

/// Checks the typed order with the domain's own parsers.
fn check(order_id: &str, lines: &Draft) -> Result<OrderIn, String> {
    let lines = lines
        .iter()
        .filter(|(sku, qty)| !(sku.trim().is_empty() && qty.trim().is_empty()))
        .enumerate()
        .map(|(i, (sku, qty))| {
            let sku = Sku::parse(sku).map_err(|e| format!("Line {}: {e}", i + 1))?;
            let quantity =
                Quantity::parse(qty).map_err(|e| format!("Line {}: quantity {e}", i + 1))?;
            Ok(OrderLineIn { sku, quantity })
        })
        .collect::<Result<Vec<_>, String>>()?;
    // A SKU not in the inventory is refused at first, so the seller is asked before a typo
    // becomes a product (`missing` below).
    let order = OrderIn {
        storefront: "manual".into(),
        order_id: order_id.to_owned(),
        lines,
        create_missing: Some(false),
    };
    order.validate().map_err(|e| e.message)?;
    Ok(order)
}

/// `/orders`.
#[component]
pub fn Orders() -> impl IntoView {
    let toaster = use_toaster();
    let orders = api::orders();
    let order_id = RwSignal::new(String::new());
    let lines = RwSignal::new(vec![(String::new(), "1".to_owned())]);
    let saving = RwSignal::new(false);
    let checked = Memo::new(move |_| check(&order_id.get(), &lines.get()));
    // The worker's word that a line's SKU is not in the inventory, while the seller decides.
    let missing = RwSignal::new(None::<String>);
    let place = move |create_missing: bool| {
        let Ok(mut order) = checked.get_untracked() else {
            return;
        };
        order.create_missing = Some(create_missing);
        missing.set(None);
        saving.set(true);
        spawn_local(async move {
            match api::place_order(&order).await {
                Ok(out) if out.already_applied => {
                    toaster.show(
                        Tone::Critical,
                        format!("Order {} was entered before: nothing changed", out.order_id),
                    );
                }
                Ok(out) => {
                    let oversold: i64 = out.lines.iter().map(|l| l.oversold).sum();
                    let note = if oversold > 0 {
                        format!(" ({oversold} units oversold)")
                    } else {
                        String::new()
                    };
                    toaster.show(
                        Tone::Success,
                        format!("Order {} entered{note}", out.order_id),
                    );
                    order_id.set(String::new());
                    lines.set(vec![(String::new(), "1".to_owned())]);
                    orders.refetch();
                }
                Err(e) if e.field.as_deref().is_some_and(|f| f.ends_with("].sku")) => {
                    missing.set(Some(e.message));
                }
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
            saving.set(false);
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        place(false);
    };
    // Cancelling puts stock back and pushes it: the first press asks, the second cancels.
    let armed = RwSignal::new(None::<(String, String)>);
    let cancel = move |order: OrderOut| {
        let key = (order.storefront.clone(), order.order_id.clone());
        if armed.get_untracked().as_ref() != Some(&key) {
            arm(armed, key);
            return;
        }
        armed.set(None);
        spawn_local(async move {
            match api::cancel_order(&order.storefront, &order.order_id).await {
                Ok(_) => {
                    toaster.show(
                        Tone::Success,
                        format!(
                            "Order {} cancelled: its units are back in stock",
                            order.order_id
                        ),
                    );
                    orders.refetch();
                }
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
        });
    };
    view! {
        <section class="page-header">
            <div>
                <h1>"Orders"</h1>
                <p class="muted">
                    "Each order takes its units off the products' quantities once, however often it arrives. Connected storefronts report their sales within seconds (by webhook, or read every few minutes); integrations use the API; enter others here."
                </p>
            </div>
        </section>
        <form class="card card-padded order-form" on:submit=save data-testid="order-form">
            <h2>"Enter an order"</h2>
            <label class="field">
                <span>"Order number"</span>
                <input type="text" data-testid="order-id" prop:value=move || order_id.get() on:input=move |ev| order_id.set(event_target_value(&ev)) />
            </label>
            {move || {
                lines.get().into_iter().enumerate().map(|(i, (sku, qty))| view! {
                    <div class="order-line">
                        <label class="field">
                            <span>"SKU"</span>
                            <input type="text" data-testid=format!("line-sku-{i}") prop:value=sku
                                on:change=move |ev| { missing.set(None); lines.update(|l| l[i].0 = event_target_value(&ev)) } />
                        </label>
                        <label class="field">
                            <span>"Quantity"</span>
                            <input type="text" inputmode="numeric" data-testid=format!("line-qty-{i}") prop:value=qty
                                on:change=move |ev| lines.update(|l| l[i].1 = event_target_value(&ev)) />
                        </label>
                    </div>
                }).collect_view()
            }}
            {move || missing.get().map(|message| view! {
                <div class="banner banner-warning" role="alert" data-testid="order-unknown-sku">
                    <span>{message}</span>
                    <button type="button" class="button button-small" data-testid="order-create-missing"
                        on:click=move |_| place(true)>"Add and enter the order"</button>
                    <button type="button" class="button button-small"
                        on:click=move |_| missing.set(None)>"Fix the SKU"</button>
                </div>
            })}
            <div class="form-actions">
                <span class="field-error" data-testid="order-error">
                    {move || checked.get().err().filter(|_| !order_id.get().is_empty())}
                </span>
                <button type="button" class="button" on:click=move |_| lines.update(|l| l.push((String::new(), "1".into())))>
                    "Add line"
                </button>
                <button type="submit" class="button button-primary" data-testid="order-save" disabled=move || checked.get().is_err() || saving.get()>
                    "Enter order"
                </button>
            </div>
        </form>
        <h2>"Newest orders"</h2>
        {loaded(orders, || loading_line("Loading orders…"), move |result| match result {
                Ok(list) if list.is_empty() => view! {
                    <div class="empty-state"><p>"No orders yet."</p></div>
                }.into_any(),
                Ok(list) => {
                    let now = now_ms();
                    view! {
                        <div class="card">
                            <table class="table" data-testid="orders-table">
                                <thead><tr>
                                    <th scope="col">"Order"</th><th scope="col">"From"</th><th scope="col">"Lines"</th>
                                    <th scope="col">"When"</th><th scope="col">"Status"</th>
                                    <th scope="col" class="actions-col"><span class="visually-hidden">"Actions"</span></th>
                                </tr></thead>
                                <tbody>
                                    {list.into_iter().map(|o| {
                                        let summary = o.lines.iter().map(|l| format!("{} {}→{}", l.sku, l.before, l.after)).collect::<Vec<_>>().join(", ");
                                        let placed = o.status == "placed";
                                        let for_cancel = o.clone();
                                        view! {
                                            <tr data-testid="order-row">
                                                <td><strong>{o.order_id.clone()}</strong></td>
                                                <td>
                                                    {o.storefront_name.clone().unwrap_or_else(|| o.storefront.clone())}
                                                    <br/><span class="small muted" data-testid="order-source">{o.source.label()}</span>
                                                </td>
                                                <td class="muted">{summary}</td>
                                                <td><time title=exact(o.created_at)>{relative(o.created_at, now)}</time></td>
                                                <td>{if placed {
                                                    view! { <span class="badge badge-success">"Placed"</span> }.into_any()
                                                } else {
                                                    view! { <span class="badge badge-neutral">"Cancelled"</span> }.into_any()
                                                }}</td>
                                                <td class="actions-col">{placed.then(|| {
                                                    let key = (o.storefront.clone(), o.order_id.clone());
                                                    let units: i64 = o.lines.iter().map(|l| l.before - l.after).sum();
                                                    let is_armed = move || armed.get().as_ref() == Some(&key);
                                                    view! {
                                                        <button class="button button-small" data-testid="cancel-order"
                                                            on:click=move |_| cancel(for_cancel.clone())>
                                                            {move || if is_armed() { format!("Yes: cancel it and put {units} back in stock") } else { "Cancel order…".to_owned() }}
                                                        </button>
                                                    }
                                                })}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()
                }
                Err(e) => failed("Orders", e),
            })}
    }
}
