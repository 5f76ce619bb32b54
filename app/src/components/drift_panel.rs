//! Storefront drift on the Sync history page: each connection's latest check (Tally reads the
//! counts back hourly, or now on request), the listings whose storefront shows another
//! number than Tally gives it with the likely cause, and the fixes: one, a selection, all of a
//! storefront, or a full re-sync with progress and cancel.

use crate::api;
use crate::components::toast::{use_toaster, Tone};
use crate::format::{exact, now_ms, relative, thousands};
use crate::reactive::{arm, dynamic};
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::collections::BTreeSet;
use std::time::Duration;
use tally_domain::api::{
    DriftCheck, DriftItem, DriftReport, FixDrift, ImportStatus, ResyncJob, Storefront,
};
use tally_domain::bulk_job::JobStatus;

const POLL: Duration = Duration::from_millis(1500);

/// Whether anything in the report still moves by itself.
fn moving(report: &DriftReport) -> bool {
    report
        .checks
        .iter()
        .any(|c| c.status == ImportStatus::Reading)
        || report
            .resyncs
            .iter()
            .any(|j| j.status == JobStatus::Running || j.pushed + j.failed < j.queued)
}

/// A connection-wide push that asks once before it goes ("Yes: …"): both send Tally's counts
/// over whatever the storefront shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoreWide {
    FixAll,
    Resync,
}

#[component]
pub fn DriftPanel(on_change: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let toaster = use_toaster();
    let report = api::drift();
    let storefronts = api::storefronts();
    let selected = RwSignal::new(BTreeSet::<i64>::new());
    // Kept here, not in the table, which is drawn again at every refresh.
    let armed = RwSignal::new(None::<(i64, StoreWide)>);
    let busy = RwSignal::new(false);
    // The table of differences is drawn again only when they change, not at every refresh
    // (a checkbox keeps its focus while a re-sync's numbers move).
    let items = Memo::new(move |_| report.get().and_then(Result::ok).map(|r| r.items));
    let reload = move || {
        report.refetch();
        on_change();
    };
    if let Ok(handle) = set_interval_with_handle(
        move || {
            let busy_now = report
                .get_untracked()
                .and_then(Result::ok)
                .is_some_and(|r| moving(&r));
            if busy_now {
                reload();
            }
        },
        POLL,
    ) {
        on_cleanup(move || handle.clear());
    }
    let fix = move |body: FixDrift| {
        busy.set(true);
        spawn_local(async move {
            match api::fix_drift(&body).await {
                Ok(done) => toaster.show(Tone::Success, done.message),
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
            busy.set(false);
            reload();
        });
    };
    let check = move |storefront: i64| {
        spawn_local(async move {
            match api::check_drift(storefront).await {
                Ok(_) => reload(),
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
        });
    };
    let resync = move |storefront: i64| {
        spawn_local(async move {
            match api::resync(storefront).await {
                Ok(_) => reload(),
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
        });
    };
    let cancel = move |job: i64| {
        spawn_local(async move {
            match api::cancel_resync(job).await {
                Ok(_) => reload(),
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
        });
    };
    view! {
        <section class="card card-padded drift-panel" id="drift" data-testid="drift-panel" aria-labelledby="drift-title">
            <div>
                <h2 id="drift-title">"Storefront drift"</h2>
                <p class="muted">
                    "Tally reads every storefront's counts back each hour and lists any that differ from what your rules give them, with the likely cause."
                </p>
            </div>
            {dynamic(move || match report.get() {
                None => view! { <p class="muted">"Loading drift…"</p> }.into_any(),
                Some(Err(e)) => view! { <div class="banner banner-critical" role="alert">{e.message}</div> }.into_any(),
                Some(Ok(r)) => {
                    let list = storefronts.get().and_then(Result::ok).map(|l| l.storefronts).unwrap_or_default();
                    view! { <Connections report=r storefronts=list check=check resync=resync cancel=cancel fix=fix busy=busy armed=armed /> }.into_any()
                }
            })}
            {dynamic(move || match items.get() {
                None => ().into_any(),
                Some(list) => view! { <Mismatches items=list selected=selected fix=fix busy=busy /> }.into_any(),
            })}
        </section>
    }
}

/// One line per connection: its latest check, what is open, and the connection-wide actions.
#[component]
fn Connections(
    report: DriftReport,
    storefronts: Vec<Storefront>,
    check: impl Fn(i64) + Copy + Send + Sync + 'static,
    resync: impl Fn(i64) + Copy + Send + Sync + 'static,
    cancel: impl Fn(i64) + Copy + Send + Sync + 'static,
    fix: impl Fn(FixDrift) + Copy + Send + Sync + 'static,
    busy: RwSignal<bool>,
    armed: RwSignal<Option<(i64, StoreWide)>>,
) -> impl IntoView {
    // The first press arms the button ("Yes: …"), the second acts.
    let press = move |id: i64, what: StoreWide| {
        if armed.get_untracked() != Some((id, what)) {
            arm(armed, (id, what));
            return;
        }
        armed.set(None);
        match what {
            StoreWide::FixAll => fix(FixDrift {
                storefront_id: Some(id),
                all: true,
                ..FixDrift::default()
            }),
            StoreWide::Resync => resync(id),
        }
    };
    let is_armed = move |id: i64, what: StoreWide| armed.get() == Some((id, what));
    if storefronts.is_empty() {
        return view! {
            <p class="muted" data-testid="drift-no-storefronts">"Connect a storefront (Settings › Storefronts) and Tally starts checking it."</p>
        }
        .into_any();
    }
    let now = now_ms();
    view! {
        <div class="scroll-x">
            <table class="table table-compact" data-testid="drift-connections">
                <thead><tr>
                    <th scope="col">"Storefront"</th>
                    <th scope="col">"Last check"</th>
                    <th scope="col" class="num">"Differ"</th>
                    <th scope="col">"Full re-sync"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr></thead>
                <tbody>
                    {storefronts.into_iter().map(|s| {
                        let id = s.id;
                        let latest = report.checks.iter().find(|c| c.storefront_id == id).cloned();
                        let job = report.resyncs.iter().find(|j| j.storefront_id == id).cloned();
                        let open = latest.as_ref().map_or(0, |c| c.open);
                        let reading = latest.as_ref().is_some_and(|c| c.status == ImportStatus::Reading);
                        let job_running = job.as_ref().is_some_and(|j| j.status == JobStatus::Running);
                        view! {
                            <tr data-testid="drift-connection">
                                <td><strong>{s.name}</strong></td>
                                <td>{check_line(latest.as_ref(), now)}</td>
                                <td class="num" data-testid="drift-open">{open}</td>
                                <td>{resync_line(job.as_ref(), cancel)}</td>
                                <td class="actions-col">
                                    <div class="row-actions">
                                        <button class="button button-small" data-testid="drift-check" disabled=reading
                                            on:click=move |_| check(id)>{if reading { "Checking…" } else { "Check now" }}</button>
                                        <button class="button button-small" data-testid="drift-fix-all"
                                            disabled=move || open == 0 || busy.get()
                                            on:click=move |_| press(id, StoreWide::FixAll)>
                                            {move || if is_armed(id, StoreWide::FixAll) {
                                                format!("Yes: send Tally's count to {open}")
                                            } else {
                                                format!("Fix all ({open})…")
                                            }}
                                        </button>
                                        <button class="button button-small" data-testid="drift-resync" disabled=job_running
                                            on:click=move |_| press(id, StoreWide::Resync)>
                                            {move || if is_armed(id, StoreWide::Resync) {
                                                "Yes: push every Auto Sync listing again"
                                            } else {
                                                "Full re-sync…"
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
    }
    .into_any()
}

fn check_line(check: Option<&DriftCheck>, now: i64) -> AnyView {
    let Some(c) = check else {
        return view! { <span class="muted">"Not checked yet"</span> }.into_any();
    };
    match c.status {
        ImportStatus::Reading => {
            let of = c
                .total
                .map_or(String::new(), |t| format!(" of {}", thousands(t)));
            view! { <span role="status">{format!("Reading… {}{of} items", thousands(c.items_read))}</span> }.into_any()
        }
        ImportStatus::Failed => {
            view! { <span class="text-critical">{c.message.clone()}</span> }.into_any()
        }
        _ => {
            let at = c.finished_at.unwrap_or(c.started_at);
            view! {
                <time title=exact(at)>{relative(at, now)}</time>
                <span class="muted small block">{c.message.clone()}</span>
            }
            .into_any()
        }
    }
}

fn resync_line(
    job: Option<&ResyncJob>,
    cancel: impl Fn(i64) + Copy + Send + Sync + 'static,
) -> AnyView {
    let Some(j) = job.cloned() else {
        return view! { <span class="muted">"—"</span> }.into_any();
    };
    let landed = j.pushed + j.failed;
    let percent = (landed * 100).checked_div(j.total).unwrap_or(100).min(100);
    let mut line = format!("{} of {} pushed", thousands(j.pushed), thousands(j.total));
    if j.failed > 0 {
        line.push_str(&format!(", {} failed (see below)", thousands(j.failed)));
    }
    let id = j.id;
    match j.status {
        JobStatus::Running => view! {
            <div data-testid="resync-progress">
                <span>{line}</span>
                <div class="progress" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                    aria-valuenow=percent.to_string() aria-label="Full re-sync">
                    <div class="progress-fill" style=format!("width: {percent}%")></div>
                </div>
                <button class="button button-small" data-testid="resync-cancel" on:click=move |_| cancel(id)>"Cancel"</button>
            </div>
        }
        .into_any(),
        JobStatus::Cancelled => view! { <span data-testid="resync-done">{format!("Cancelled: {line}")}</span> }.into_any(),
        JobStatus::Finished => view! { <span data-testid="resync-done">{line}</span> }.into_any(),
    }
}

/// The open mismatches, with a checkbox each for "Fix selected".
#[component]
fn Mismatches(
    items: Vec<DriftItem>,
    selected: RwSignal<BTreeSet<i64>>,
    fix: impl Fn(FixDrift) + Copy + Send + Sync + 'static,
    busy: RwSignal<bool>,
) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="muted" data-testid="drift-none">"No open differences: every checked listing matches Tally."</p> }.into_any();
    }
    let fixable: Vec<i64> = items
        .iter()
        .filter(|i| i.fixable)
        .map(|i| i.listing_id)
        .collect();
    let all_fixable = fixable.clone();
    let open: BTreeSet<i64> = items.iter().map(|i| i.listing_id).collect();
    let fix_selected = move |_| {
        // Only what is still open: a selection may outlive a refresh.
        let ids: Vec<i64> = selected
            .get_untracked()
            .into_iter()
            .filter(|id| open.contains(id))
            .collect();
        fix(FixDrift {
            listing_ids: ids,
            ..FixDrift::default()
        });
    };
    view! {
        <div class="drift-actions">
            <button class="button button-primary" data-testid="drift-fix-selected"
                disabled=move || selected.with(BTreeSet::is_empty) || busy.get()
                on:click=fix_selected>
                {move || format!("Fix selected ({})", selected.with(BTreeSet::len))}
            </button>
            <span class="muted small">"Fix reads the storefront's recent orders first when it shows fewer, then sends Tally's count."</span>
        </div>
        <div class="scroll-x">
            <table class="table" data-testid="drift-items">
                <thead><tr>
                    <th scope="col">
                        <input type="checkbox" aria-label="Select every listing a push can fix"
                            prop:checked=move || !all_fixable.is_empty() && selected.with(|s| s.len() == all_fixable.len())
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                selected.set(if on { fixable.iter().copied().collect() } else { BTreeSet::new() });
                            } />
                    </th>
                    <th scope="col">"SKU"</th>
                    <th scope="col">"Storefront"</th>
                    <th scope="col" class="num">"Tally gives"</th>
                    <th scope="col" class="num">"Storefront shows"</th>
                    <th scope="col">"Likely cause"</th>
                    <th scope="col"><span class="visually-hidden">"Fix"</span></th>
                </tr></thead>
                <tbody>
                    {items.into_iter().map(|i| {
                        let id = i.listing_id;
                        let href = format!("/products/{}", i.product_id);
                        let sku = i.sku.clone();
                        view! {
                            <tr data-testid="drift-item">
                                <td>
                                    <input type="checkbox" disabled=!i.fixable
                                        aria-label=format!("Select {sku} on {}", i.storefront_name)
                                        prop:checked=move || selected.with(|s| s.contains(&id))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            selected.update(|s| { if on { s.insert(id); } else { s.remove(&id); } });
                                        } />
                                </td>
                                <td><a class="sku" href=href>{i.sku.clone()}</a></td>
                                <td>{i.storefront_name.clone()}</td>
                                <td class="num">{i.expected}</td>
                                <td class="num">{i.found.map_or("—".to_owned(), |q| q.to_string())}</td>
                                <td>{i.explanation.clone()}</td>
                                <td class="actions-col">
                                    {i.fixable.then(|| view! {
                                        <button class="button button-small" data-testid="drift-fix"
                                            disabled=move || busy.get()
                                            on:click=move |_| fix(FixDrift { listing_ids: vec![id], ..FixDrift::default() })>"Fix"</button>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
