//! Upload an inventory file: choose a CSV, see what it will do (or every bad cell), apply it.

use crate::api::{self, ApiError};
use crate::components::cell_errors::CellErrors;
use crate::components::progress::ServerProgress;
use crate::components::toast::{use_toaster, Tone};
use crate::format::thousands;
use crate::reactive::show_when;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use std::time::Duration;
use tally_domain::bulk_job::percent;
use tally_domain::csv_import::UploadPreview;
use wasm_bindgen::JsCast;

/// How often an applying file's progress is read.
const POLL: Duration = Duration::from_millis(700);

pub(crate) async fn read_file(input: web_sys::HtmlInputElement) -> Result<String, String> {
    let file = input
        .files()
        .and_then(|f| f.get(0))
        .ok_or_else(|| "choose a file first".to_owned())?;
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .map_err(|_| "the file could not be read".to_owned())?;
    text.as_string()
        .ok_or_else(|| "the file is not text".to_owned())
}

/// `/uploads`.
#[component]
pub fn Upload() -> impl IntoView {
    let toaster = use_toaster();
    let preview = RwSignal::new(None::<UploadPreview>);
    let refused = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    let confirm_wipe = RwSignal::new(false);
    let input_ref = NodeRef::<leptos::html::Input>::new();
    // The address follows the upload on screen without adding history entries or scrolling.
    let navigate = use_navigate();
    let replace_address = Callback::new(move |href: String| {
        let in_place = NavigateOptions {
            replace: true,
            scroll: false,
            ..NavigateOptions::default()
        };
        navigate(&href, in_place);
    });
    let show_in_address =
        Callback::new(move |id: i64| replace_address.run(format!("/uploads?upload={id}")));
    // A new file: the address no longer names the last one.
    let clear_address = Callback::new(move |()| replace_address.run("/uploads".to_owned()));
    // `/uploads?upload=ID` shows that upload: a reload (or a return visit) re-attaches to a
    // file still being applied in the background.
    if let Some(id) = use_query_map()
        .with_untracked(|q| q.get("upload"))
        .and_then(|v| v.parse::<i64>().ok())
    {
        spawn_local(async move {
            match api::upload(id).await {
                Ok(p) => preview.set(Some(p)),
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
        });
    }
    // One read at a time; an answer only counts if the same file is still shown and it is not
    // older than what is shown (answers can arrive out of order).
    let reading = RwSignal::new(false);
    let poll = set_interval_with_handle(
        move || {
            if reading.get_untracked() {
                return;
            }
            let Some(current) = preview.get_untracked().filter(|p| p.status == "applying") else {
                return;
            };
            reading.set(true);
            spawn_local(async move {
                if let Ok(next) = api::upload(current.id).await {
                    let shown = preview.get_untracked();
                    let still_this_file = shown
                        .as_ref()
                        .is_some_and(|p| p.id == next.id && p.status == "applying");
                    let newer = shown.is_some_and(|p| next.applied_rows >= p.applied_rows);
                    if still_this_file && newer {
                        if next.status == "applied" {
                            toaster.show(Tone::Success, applied_message(&next));
                        }
                        preview.set(Some(next));
                    }
                }
                reading.set(false);
            });
        },
        POLL,
    );
    if let Ok(handle) = poll {
        on_cleanup(move || handle.clear());
    }
    let choose = move |_| {
        let Some(input) = input_ref.get_untracked() else {
            return;
        };
        let input: web_sys::HtmlInputElement = input.unchecked_into();
        busy.set(true);
        preview.set(None);
        refused.set(None);
        confirm_wipe.set(false);
        clear_address.run(());
        spawn_local(async move {
            match read_file(input).await {
                Ok(text) => match api::upload_file(text).await {
                    Ok(p) => preview.set(Some(p)),
                    Err(r) => refused.set(Some(r)),
                },
                Err(message) => refused.set(Some(ApiError::said(0, message))),
            }
            busy.set(false);
        });
    };
    let apply = move |_| {
        let Some(p) = preview.get_untracked() else {
            return;
        };
        busy.set(true);
        spawn_local(async move {
            match api::apply_upload(p.id, confirm_wipe.get_untracked()).await {
                Ok(next) => {
                    if next.status == "applied" {
                        toaster.show(Tone::Success, applied_message(&next));
                    } else {
                        // Still applying: keep its id in the address so a reload finds it.
                        show_in_address.run(next.id);
                    }
                    preview.set(Some(next));
                }
                Err(e) => toaster.show(Tone::Critical, e.message),
            }
            busy.set(false);
        });
    };
    view! {
        <p class="breadcrumb"><a href="/">"‹ Inventory"</a></p>
        <section class="page-header">
            <div>
                <h1>"Upload inventory file"</h1>
                <p class="muted">
                    "A CSV with the columns " <code>"sku"</code> " and " <code>"quantity"</code>
                    " (and optionally name, brand, supplier, tags). An export from Tally works as it is. Nothing changes until you apply the file, and a file with any bad row is not applied at all."
                </p>
            </div>
        </section>
        <div class="card card-padded inline-form">
            <label class="field">
                <span>"CSV file"</span>
                <input type="file" accept=".csv,text/csv" node_ref=input_ref data-testid="upload-file" on:change=choose />
            </label>
            {show_when(move || busy.get(), move || view! {<span class="muted">"Reading…"</span>}.into_any())}
        </div>
        {move || refused.get().map(|r| view! {
            <div class="banner banner-critical" role="alert" data-testid="upload-refused">{r.message.clone()}</div>
            <CellErrors rows=r.rows testid="upload-errors" />
        })}
        {move || preview.get().map(|p| {
            let applied = p.status == "applied";
            let applying = p.status == "applying";
            let guard = p.wipe_guard && p.status == "ready";
            let heading = match p.status.as_str() {
                "applied" => "Applied",
                "applying" => "Applying…",
                _ => "Ready to apply",
            };
            let status = p.status.clone();
            view! {
                <div class="card card-padded preview-card" data-testid="upload-preview" data-status=status>
                    <h2>{heading}</h2>
                    {applying.then(|| apply_progress(&p))}
                    <dl class="counts">
                        <div><dt>"Rows"</dt><dd>{thousands(p.rows)}</dd></div>
                        <div><dt>"To update"</dt><dd data-testid="to-update">{thousands(p.to_update)}</dd></div>
                        <div><dt>"To create"</dt><dd data-testid="to-create">{thousands(p.to_create)}</dd></div>
                        <div><dt>"Unchanged"</dt><dd>{thousands(p.unchanged)}</dd></div>
                    </dl>
                    {(!p.ignored_columns.is_empty()).then(|| view! {
                        <p class="muted">{format!("Columns not read: {}", p.ignored_columns.join(", "))}</p>
                    })}
                    {guard.then(|| view! {
                        <div class="banner banner-warning" role="alert" data-testid="wipe-guard">
                            <label class="checkbox">
                                <input type="checkbox" data-testid="confirm-wipe" on:change=move |ev| confirm_wipe.set(event_target_checked(&ev)) />
                                <span>{format!(
                                    "This file sets {} of your {} stocked products to 0 (more than {}%). Tick to confirm the file is complete.",
                                    thousands(p.zeroing), thousands(p.stocked), p.wipe_guard_percent
                                )}</span>
                            </label>
                        </div>
                    })}
                    {(!applied && !applying).then(|| view! {
                        <div class="form-actions">
                            <button
                                class="button button-primary"
                                data-testid="apply-upload"
                                disabled=move || busy.get() || (guard && !confirm_wipe.get())
                                on:click=apply
                            >
                                "Apply file"
                            </button>
                        </div>
                    })}
                </div>
            }
        })}
    }
}

fn applied_message(p: &UploadPreview) -> String {
    format!(
        "File applied: {} updated, {} created",
        thousands(p.to_update),
        thousands(p.to_create)
    )
}

/// The progress of a file applied in the background.
fn apply_progress(p: &UploadPreview) -> impl IntoView {
    let pct = percent(p.applied_rows, p.rows);
    view! {
        <div class="job" data-testid="upload-progress">
            <div class="job-head">
                <strong>"Progress"</strong>
                <span class="muted" data-testid="upload-progress-counts">
                    {format!("{} of {} rows", thousands(p.applied_rows), thousands(p.rows))}
                </span>
            </div>
            <ServerProgress percent=pct label="Upload progress" />
        </div>
    }
}
