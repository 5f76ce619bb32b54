//! Inventory Sync History: what Auto Sync did with every change, newest first. Refreshes itself
//! every few seconds, so a push can be watched landing.

use crate::api;
use crate::components::badge::StatusBadge;
use crate::components::pagination::Pagination;
use crate::format::{exact, now_ms, relative};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use std::time::Duration;
use tally_domain::api::{SyncHistoryEntry, SyncHistoryPage};
use tally_domain::sync::SyncTrigger;
use tally_domain::PageRequest;

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
    let history = LocalResource::new(move || api::sync_history(paging.get()));
    if let Ok(handle) = set_interval_with_handle(move || history.refetch(), REFRESH) {
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
        <Transition fallback=|| view! { <p class="muted" data-testid="loading">"Loading history…"</p> }>
            {move || {
                history
                    .get()
                    .map(|result| match result {
                        Ok(page) => view! { <HistoryTable page=page paging=paging.get() /> }.into_any(),
                        Err(e) => {
                            view! {
                                <div class="banner banner-critical" role="alert">
                                    <strong>"Sync history could not be loaded. "</strong>
                                    {e.message}
                                </div>
                            }
                                .into_any()
                        }
                    })
            }}
        </Transition>
    }
}

fn trigger_label(trigger: SyncTrigger) -> &'static str {
    match trigger {
        SyncTrigger::Adjustment => "Manual adjustment",
        SyncTrigger::Order => "Sales order",
        SyncTrigger::Upload => "File upload",
        SyncTrigger::SyncNow => "Sync Now",
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
                <code class="sku">{entry.sku}</code>
            </td>
            <td>{entry.storefront.unwrap_or_else(|| "—".into())}</td>
            <td>{trigger_label(entry.trigger)}</td>
            <td class="num">{entry.quantity}</td>
            <td>
                <StatusBadge status=entry.status />
            </td>
            <td class="details">
                <span data-testid="history-message">{entry.message}</span>
                {entry.action.map(|a| view! { <span class="action-hint">{a}</span> })}
            </td>
        </tr>
    }
}
