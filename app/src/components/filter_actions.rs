//! "Turn on (or off) Auto Sync for all in filter": confirm with the exact count, then a
//! server-side job with a progress bar, an ETA and Cancel. The job keeps running if the tab
//! closes; opening the inventory again re-attaches to it.

use crate::api::{self, Loaded};
use crate::components::progress::ServerProgress;
use crate::components::toast::{use_toaster, Tone};
use crate::format::thousands;
use crate::list_query::ListQuery;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;
use tally_domain::api::ProductPage;
use tally_domain::bulk_job::{percent, BulkAction, BulkJob, JobStatus};

/// How often a running job's progress is read.
const POLL: Duration = Duration::from_millis(500);

/// The "all in filter" buttons, their confirmation and the progress of the job they start.
#[component]
pub fn FilterActions(list: Memo<ListQuery>, products: Loaded<ProductPage>) -> impl IntoView {
    let toaster = use_toaster();
    let job = RwSignal::new(None::<BulkJob>);
    let confirming = RwSignal::new(None::<BulkAction>);
    let total = move || products.get().and_then(|r| r.ok()).map(|p| p.total);

    // Re-attach to a job still running from an earlier visit (or another tab).
    spawn_local(async move {
        if let Ok(jobs) = api::running_bulk_jobs().await {
            if let Some(running) = jobs.into_iter().next() {
                job.set(Some(running));
            }
        }
    });
    // Poll while a job runs; when it ends, say so and reload the table.
    let handle = set_interval_with_handle(
        move || {
            let Some(current) = job
                .get_untracked()
                .filter(|j| j.status == JobStatus::Running)
            else {
                return;
            };
            spawn_local(async move {
                if let Ok(next) = api::bulk_job(current.id).await {
                    if next.status != JobStatus::Running {
                        let verb = if next.action.auto_sync() { "on" } else { "off" };
                        match next.status {
                            JobStatus::Finished => toaster.show(
                                Tone::Success,
                                format!(
                                    "Auto Sync turned {verb} for {} products",
                                    thousands(next.done)
                                ),
                            ),
                            _ => toaster.show(
                                Tone::Success,
                                format!(
                                    "Stopped after {} of {} products",
                                    thousands(next.done),
                                    thousands(next.total)
                                ),
                            ),
                        }
                        products.refetch();
                    }
                    job.set(Some(next));
                }
            });
        },
        POLL,
    );
    if let Ok(handle) = handle {
        on_cleanup(move || handle.clear());
    }

    let start = move |action: BulkAction| {
        confirming.set(None);
        let filter = list.get_untracked().filter;
        spawn_local(async move {
            match api::start_bulk_job(action, &filter).await {
                Ok(started) => job.set(Some(started)),
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
        });
    };
    let cancel = move |_| {
        if let Some(current) = job.get_untracked() {
            spawn_local(async move {
                match api::cancel_bulk_job(current.id).await {
                    Ok(next) => job.set(Some(next)),
                    Err(e) => toaster.show(Tone::Critical, e.message),
                }
            });
        }
    };
    let running = move || job.get().is_some_and(|j| j.status == JobStatus::Running);
    let scope = move || {
        if list.get().filter.is_empty() {
            "all products".to_owned()
        } else {
            "all products matching these filters".to_owned()
        }
    };
    view! {
        <div class="filter-actions">
            <span class="muted">
                {move || total().map(|n| format!("Bulk actions for {} ({}):", scope(), thousands(n)))}
            </span>
            <button
                class="button button-small"
                data-testid="all-on"
                disabled=move || running() || total() == Some(0)
                on:click=move |_| confirming.set(Some(BulkAction::AutoSyncOn))
            >
                "Turn on Auto Sync for all in filter"
            </button>
            <button
                class="button button-small"
                data-testid="all-off"
                disabled=move || running() || total() == Some(0)
                on:click=move |_| confirming.set(Some(BulkAction::AutoSyncOff))
            >
                "Turn off Auto Sync for all in filter"
            </button>
        </div>
        {move || {
            confirming
                .get()
                .map(|action| {
                    let verb = if action.auto_sync() { "on" } else { "off" };
                    let n = total().map(thousands).unwrap_or_default();
                    view! {
                        <div class="banner banner-info confirm" role="alertdialog" data-testid="confirm-all">
                            <span>
                                {format!("Turn Auto Sync {verb} for {n} products ({})? ", scope())}
                                {action.auto_sync().then_some("Nothing is pushed until a product's quantity changes.")}
                            </span>
                            <button class="button button-primary" data-testid="confirm-all-yes" on:click=move |_| start(action)>
                                {format!("Turn {verb} for {n} products")}
                            </button>
                            <button class="button" on:click=move |_| confirming.set(None)>"Cancel"</button>
                        </div>
                    }
                })
        }}
        {move || job.get().map(|j| view! { <JobProgress job=j cancel=cancel dismiss=move || job.set(None) /> })}
    }
}

#[component]
fn JobProgress(
    job: BulkJob,
    cancel: impl Fn(leptos::ev::MouseEvent) + 'static,
    dismiss: impl Fn() + 'static,
) -> impl IntoView {
    let pct = percent(job.done, job.total);
    let counts = format!(
        "{} of {} products",
        thousands(job.done),
        thousands(job.total)
    );
    let (title, tone) = match job.status {
        JobStatus::Running => (job.action.label().to_owned(), "job-running"),
        JobStatus::Finished => ("Finished".to_owned(), "job-finished"),
        JobStatus::Cancelled => ("Cancelled".to_owned(), "job-cancelled"),
    };
    let eta = job
        .eta_seconds
        .map(|s| format!(" · about {} s left", s.max(1)))
        .unwrap_or_default();
    let running = job.status == JobStatus::Running;
    view! {
        <div class=format!("job {tone}") data-testid="bulk-job" data-status=job.status.as_str()>
            <div class="job-head">
                <strong>{title}</strong>
                <span class="muted" data-testid="bulk-job-counts">{format!("{counts}{eta}")}</span>
                {if running {
                    view! { <button class="button button-small" data-testid="bulk-job-cancel" on:click=cancel>"Cancel"</button> }.into_any()
                } else {
                    view! { <button class="button button-small button-plain" on:click=move |_| dismiss()>"Dismiss"</button> }.into_any()
                }}
            </div>
            <ServerProgress percent=pct label="Bulk job progress" />
        </div>
    }
}
