//! Inventory Sync History: what Auto Sync did with every change, newest first. Refreshes itself
//! every few seconds, so a push can be watched landing.

use crate::api;
use crate::components::badge::StatusBadge;
use crate::components::drift_panel::DriftPanel;
use crate::components::loading::{failed, loaded, loading_line};
use crate::components::pagination::Pagination;
use crate::format::{exact, now_ms, relative};
use crate::reactive::show_when;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use std::time::Duration;
use tally_domain::api::{StorefrontList, SyncHealth, SyncHistoryEntry, SyncHistoryPage};
use tally_domain::sync::SyncTrigger;
use tally_domain::sync_health::latency_label;
use tally_domain::{PageRequest, ProductId};

const REFRESH: Duration = Duration::from_secs(3);

/// `/history`.
#[component]
pub fn SyncHistory() -> impl IntoView {
    let query = use_query_map();
    let paging = Memo::new(move |_| {
        query
            .with(|q| PageRequest::parse(q.get_str("page"), q.get_str("per_page")))
            .unwrap_or_default()
    });
    // `?product_id=` (from a product's page) shows that product's pushes only; `?status=`
    // (from Sync Now's "See what failed") one status.
    let filter = RwSignal::new(api::HistoryFilter {
        product_id: query
            .with_untracked(|q| q.get("product_id"))
            .unwrap_or_default(),
        status: query
            .with_untracked(|q| q.get("status"))
            .unwrap_or_default(),
        ..api::HistoryFilter::default()
    });
    let history = api::sync_history(paging, filter);
    let health = api::sync_health();
    let storefronts = api::storefronts();
    // The list refreshes every few seconds while changes are in flight and every half
    // minute otherwise, so a push can be watched landing without a restless page.
    let ticks = StoredValue::new(0u32);
    // Also once more after the last change settles (and on the first tick after loading).
    let was_busy = StoredValue::new(true);
    if let Ok(handle) = set_interval_with_handle(
        move || {
            let busy = health
                .get_untracked()
                .and_then(Result::ok)
                .is_some_and(|h| h.in_flight > 0);
            ticks.update_value(|t| *t += 1);
            if busy || was_busy.get_value() || ticks.get_value().is_multiple_of(10) {
                history.refetch();
            }
            was_busy.set_value(busy);
            health.refetch();
        },
        REFRESH,
    ) {
        on_cleanup(move || handle.clear());
    }
    view! {
        <section class="page-header">
            <div>
                <h1>"Inventory sync history"</h1>
                <p class="muted">
                    "Every push Auto Sync made or decided against, with what to do when one fails."
                </p>
            </div>
        </section>
        {loaded(health, || ().into_any(), |result| match result {
            Ok(h) => view! { <HealthPanel health=h /> }.into_any(),
            Err(_) => ().into_any(),
        })}
        <DriftPanel on_change=move || health.refetch() />
        <HistoryFilters filter=filter storefronts=storefronts />
        {show_when(move || !filter.with(|f| f.product_id.is_empty()), move || view! {
            <div class="chips" data-testid="history-one-product">
                <span class="chip">"One product only"</span>
                <a class="chip-clear" href="/history" on:click=move |_| filter.update(|f| f.product_id.clear())>
                    "Show every product"
                </a>
            </div>
        }.into_any())}
        {loaded(history, || loading_line("Loading history…"), move |result| match result {
            Ok(page) => view! { <HistoryTable page=page paging=paging.get() /> }.into_any(),
            Err(e) => failed("Sync history", e),
        })}
    }
}

/// Status, storefront, SKU and date filters; each change reloads the list.
#[component]
fn HistoryFilters(
    filter: RwSignal<api::HistoryFilter>,
    storefronts: api::Loaded<StorefrontList>,
) -> impl IntoView {
    let statuses = [
        ("", "All statuses"),
        ("succeeded", "Succeeded"),
        ("retrying", "Retrying"),
        ("failed", "Failed"),
        ("skipped", "Skipped"),
    ];
    view! {
        <div class="filter-bar filter-row" role="search" aria-label="Filter sync history">
            <label class="filter">
                <span>"Status"</span>
                <select
                    data-testid="history-status"
                    on:change=move |ev| filter.update(|f| f.status = event_target_value(&ev))
                >
                    {statuses.map(|(v, l)| {
                        let chosen = filter.with_untracked(|f| f.status == v);
                        view! { <option value=v selected=chosen>{l}</option> }
                    }).collect_view()}
                </select>
            </label>
            <label class="filter">
                <span>"Storefront"</span>
                <select
                    data-testid="history-storefront"
                    on:change=move |ev| filter.update(|f| f.storefront_id = event_target_value(&ev))
                >
                    <option value="">"All storefronts"</option>
                    {move || {
                        storefronts
                            .get()
                            .and_then(Result::ok)
                            .map(|l| {
                                l.storefronts
                                    .into_iter()
                                    .map(|s| view! { <option value=s.id.to_string()>{s.name}</option> })
                                    .collect_view()
                            })
                    }}
                </select>
            </label>
            <label class="filter filter-search">
                <span>"SKU starts with"</span>
                <input
                    type="search"
                    data-testid="history-sku"
                    on:change=move |ev| filter.update(|f| f.sku = event_target_value(&ev))
                />
            </label>
            <label class="filter">
                <span>"Since"</span>
                <input
                    type="date"
                    data-testid="history-from"
                    on:change=move |ev| {
                        let day = event_target_value(&ev);
                        let from = js_sys::Date::new(&day.into()).get_time();
                        filter.update(|f| f.from = (!from.is_nan()).then_some(from as i64));
                    }
                />
            </label>
        </div>
    }
}

/// The last hour at a glance: pushes per minute (failures in red, with a word in the legend),
/// and change-to-storefront latency per storefront.
#[component]
fn HealthPanel(health: SyncHealth) -> impl IntoView {
    let peak = health
        .minutes
        .iter()
        .map(|m| m.pushes)
        .max()
        .unwrap_or(0)
        .max(1);
    let width = health.minutes.len().max(1) * 6;
    let bars = health
        .minutes
        .iter()
        .enumerate()
        .map(|(i, m)| {
            // Whole units (no float printing in the wasm); the browser scales the chart.
            let h = |n: u64| (n * 60 + peak / 2) / peak;
            let x = i * 6;
            let title = format!("{} pushes, {} failed", m.pushes, m.failures);
            view! {
                <g>
                    <title>{title}</title>
                    <rect class="bar-ok" x=x y=64 - h(m.pushes) width=5 height=h(m.pushes) />
                    <rect class="bar-failed" x=x y=64 - h(m.failures) width=5 height=h(m.failures) />
                </g>
            }
        })
        .collect_view();
    let total: u64 = health.minutes.iter().map(|m| m.pushes).sum();
    let failed: u64 = health.minutes.iter().map(|m| m.failures).sum();
    // Latency bars share one scale: the slowest p99 fills the cell.
    let slowest = health
        .storefronts
        .iter()
        .filter_map(|s| s.p99_ms)
        .max()
        .unwrap_or(1)
        .max(1);
    let ms = |v: Option<i64>| v.map_or_else(|| "—".to_owned(), latency_label);
    let drift_class = if health.drift > 0 {
        "text-critical"
    } else {
        ""
    };
    view! {
        <section class="card card-padded health-panel" data-testid="sync-health" aria-label="Sync health, last hour">
            <div class="health-summary">
                <div><strong data-testid="health-pushes">{total}</strong><span class="muted">{if total == 1 { " push in the last hour" } else { " pushes in the last hour" }}</span></div>
                <div><strong>{failed}</strong><span class="muted">" failed or retrying"</span></div>
                <div><strong data-testid="health-in-flight">{health.in_flight}</strong><span class="muted">" changes in flight"</span></div>
                <div>
                    <strong data-testid="health-drift" class=drift_class>{health.drift}</strong>
                    <span class="muted">{if health.drift == 1 { " listing drifted " } else { " listings drifted " }}</span>
                    {(health.drift > 0).then(|| view! { <a href="#drift">"Review"</a> })}
                </div>
            </div>
            <svg class="chart" viewBox=format!("0 0 {width} 64") preserveAspectRatio="none" role="img"
                aria-label=format!("Pushes per minute over the last hour: {total} pushes, {failed} failed")>
                {bars}
            </svg>
            <p class="legend muted"><span class="swatch swatch-ok"></span>"Pushes per minute "<span class="swatch swatch-failed"></span>"Failed or retrying"</p>
            {(!health.storefronts.is_empty()).then(|| view! {
                <table class="table table-compact">
                    <thead><tr>
                        <th scope="col">"Storefront"</th>
                        <th scope="col" class="num">"Pushes"</th>
                        <th scope="col" class="num">"Failures"</th>
                        <th scope="col" class="num">"Orders heard"</th>
                        <th scope="col" class="num">"Latency p50"</th>
                        <th scope="col" class="num">"p99"</th>
                        <th scope="col"><span class="visually-hidden">"Latency chart"</span></th>
                    </tr></thead>
                    <tbody>
                        {health.storefronts.into_iter().map(|s| {
                            let bar = |v: Option<i64>| v.map_or(0, |v| v.max(0) * 160 / slowest);
                            view! {
                                <tr>
                                    <td>{s.name}</td>
                                    <td class="num">{s.pushes}</td>
                                    <td class="num">{s.failures}</td>
                                    <td class="num" data-testid="health-orders-heard">{s.orders_heard}</td>
                                    <td class="num">{ms(s.p50_ms)}</td>
                                    <td class="num">{ms(s.p99_ms)}</td>
                                    <td>
                                        <svg class="latency-bars" viewBox="0 0 160 14" aria-hidden="true">
                                            <rect class="bar-p99" x=0 y=1 width=bar(s.p99_ms) height=12 />
                                            <rect class="bar-ok" x=0 y=4 width=bar(s.p50_ms) height=6 />
                                        </svg>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                <p class="legend muted">"Change to storefront, last hour: the dark bar is the median (p50), the light one the slowest 1% (p99), on one scale. Each figure is an upper limit: half the pushes took at most the p50."</p>
            })}
        </section>
    }
}

fn trigger_label(trigger: SyncTrigger) -> &'static str {
    match trigger {
        SyncTrigger::Adjustment => "Manual adjustment",
        SyncTrigger::Order => "Sales order",
        SyncTrigger::Upload => "File upload",
        SyncTrigger::SyncNow => "Sync Now",
        SyncTrigger::Settings => "Settings change",
    }
}

#[component]
fn HistoryTable(page: SyncHistoryPage, paging: PageRequest) -> impl IntoView {
    if page.total == 0 {
        return view! {
            <div class="empty-state" data-testid="history-empty">
                <h2>"No syncs yet"</h2>
                <p>
                    "Turn on Auto Sync for a product and change its quantity: what happens next shows up here."
                </p>
            </div>
        }
        .into_any();
    }
    let total = page.total;
    let now = now_ms();
    view! {
        <div class="card">
            <table class="table" data-testid="history-table">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"SKU"</th>
                        <th scope="col">"Storefront"</th>
                        <th scope="col">"Trigger"</th>
                        <th scope="col" class="num">"Quantity"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Details"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.items.into_iter().map(|e| view! { <HistoryRow entry=e now=now /> }).collect_view()}
                </tbody>
            </table>
            <Pagination base="/history" paging=paging total=total />
        </div>
    }
    .into_any()
}

#[component]
fn HistoryRow(entry: SyncHistoryEntry, now: i64) -> impl IntoView {
    view! {
        <tr data-testid="history-row">
            <td>
                <time title=exact(entry.created_at)>{relative(entry.created_at, now)}</time>
            </td>
            <td>
                <a class="sku" href=format!("/products/{}", entry.product_id) data-testid="history-product">{entry.sku}</a>
            </td>
            <td>
                {entry.storefront.unwrap_or_else(|| "—".into())}
                {entry.listing_item.map(|item| view! { <span class="muted small block" data-testid="history-item">"Item " {item}</span> })}
            </td>
            <td>
                {trigger_label(entry.trigger)}
                {entry.reference.map(|r| view! { <span class="muted">" " {r}</span> })}
                {(entry.attempt > 1).then(|| view! { <span class="muted">" · retry " {entry.attempt - 1}</span> })}
            </td>
            <td class="num" title=entry.breakdown.clone().unwrap_or_default()>{entry.quantity}</td>
            <td>
                <StatusBadge status=entry.status />
            </td>
            <td class="details">
                <span data-testid="history-message">{entry.message}</span>
                {entry.breakdown.map(|b| view! { <span class="muted small">{b}</span> })}
                {entry.answer.map(|a| view! { <span class="muted small">"Storefront said: " {a}</span> })}
                {entry.action.map(|a| {
                    let links = fix_links(&a, entry.product_id);
                    view! {
                        <span class="action-hint">{a}</span>
                        {links.into_iter().map(|(href, label)| view! {
                            <a class="small fix-link" href=href data-testid="history-fix">{label}</a>
                        }).collect_view()}
                    }
                })}
            </td>
        </tr>
    }
}

/// The places a "what to do" sends the seller, as links: the words name them (Settings ›
/// Storefronts, Sync Now on the product, …), and each becomes one click away.
fn fix_links(action: &str, product: ProductId) -> Vec<(String, &'static str)> {
    let mut links = Vec::new();
    if action.contains("Settings › Storefronts") {
        links.push((
            "/settings/storefronts".to_owned(),
            "Open Settings › Storefronts",
        ));
    }
    if action.contains("Settings › Inventory") {
        links.push((
            "/settings/inventory".to_owned(),
            "Open Settings › Inventory",
        ));
    }
    if action.contains("Sync Now") || action.contains("product's page") {
        links.push((format!("/products/{product}"), "Open the product"));
    }
    links
}
