//! Listing import for one storefront: read its catalogue (with progress), preview what matches
//! Tally by SKU, and link it all in one step. The work runs on Tally's servers, so the panel
//! only shows where it stands and re-attaches to an import still running.

use crate::api::{self, ApiError};
use crate::components::progress::ServerProgress;
use crate::components::toast::{use_toaster, Tone};
use crate::format::thousands;
use crate::reactive::dynamic;
use leptos::prelude::*;
use leptos::task::spawn_local;
use std::time::Duration;
use tally_domain::api::{ImportItemPage, ImportStatus, ListingImport, Storefront};
use tally_domain::listing_import::ImportClass;

const POLL: Duration = Duration::from_millis(1000);
const PAGE_SIZE: u64 = 50;

/// The tabs of the preview, with what each means for the seller.
fn class_label(class: ImportClass) -> &'static str {
    match class {
        ImportClass::Matched => "Matched",
        ImportClass::New => "New products",
        ImportClass::Conflict => "Conflicts",
        ImportClass::Linked => "Linked already",
        ImportClass::Skipped => "Skipped",
    }
}

fn count(import: &ListingImport, class: ImportClass) -> u64 {
    let c = &import.counts;
    match class {
        ImportClass::Matched => c.matched,
        ImportClass::New => c.new,
        ImportClass::Conflict => c.conflict,
        ImportClass::Linked => c.linked,
        ImportClass::Skipped => c.skipped,
    }
}

#[component]
pub fn ImportPanel(
    storefront: Storefront,
    on_close: impl Fn() + Copy + Send + Sync + 'static,
    on_applied: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let toaster = use_toaster();
    let id = storefront.id;
    let name = storefront.name;
    // `None` until the newest import is known; `Some(None)`: never imported.
    let current = RwSignal::new(None::<Option<ListingImport>>);
    let error = RwSignal::new(None::<ApiError>);
    let busy = RwSignal::new(false);
    spawn_local(async move {
        match api::imports_of(id).await {
            Ok(list) => current.set(Some(list.into_iter().next())),
            Err(e) => error.set(Some(e)),
        }
    });
    // Follows a running import; one read at a time.
    let reading = RwSignal::new(false);
    let poll = set_interval_with_handle(
        move || {
            let running = current
                .get_untracked()
                .flatten()
                .filter(|i| i.status.running());
            let Some(running) = running else { return };
            if reading.get_untracked() {
                return;
            }
            reading.set(true);
            spawn_local(async move {
                if let Ok(next) = api::import(running.id).await {
                    if next.status == ImportStatus::Applied {
                        toaster.show(Tone::Success, next.message.clone());
                        on_applied();
                    }
                    current.set(Some(Some(next)));
                }
                reading.set(false);
            });
        },
        POLL,
    );
    if let Ok(handle) = poll {
        on_cleanup(move || handle.clear());
    }
    let start = move |_| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::start_import(id).await {
                Ok(i) => current.set(Some(Some(i))),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let apply = move |import_id: i64| {
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match api::apply_import(import_id).await {
                Ok(i) => {
                    if i.status == ImportStatus::Applied {
                        toaster.show(Tone::Success, i.message.clone());
                        on_applied();
                    }
                    current.set(Some(Some(i)));
                }
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let cancel = move |import_id: i64| {
        spawn_local(async move {
            match api::cancel_import(import_id).await {
                Ok(i) => current.set(Some(Some(i))),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let title = format!("Import listings: {name}");
    view! {
        <section class="card card-padded import-panel" data-testid="import-panel" aria-labelledby="import-title">
            <div class="page-header">
                <h3 id="import-title">{title}</h3>
                <button class="button button-small" on:click=move |_| on_close()>"Close"</button>
            </div>
            <p class="muted">
                "Tally reads every item on " {name} " and matches it to your products by SKU. "
                "Nothing changes until you link them, and then all are linked or none."
            </p>
            {move || error.get().map(|e| view! {
                <div class="banner banner-critical" role="alert" data-testid="import-error">{e.message}</div>
            })}
            {dynamic(move || match current.get() {
                None => view! { <p class="muted" data-testid="loading">"Loading…"</p> }.into_any(),
                Some(None) => start_button("Read the catalogue", start, busy).into_any(),
                Some(Some(import)) => match import.status {
                    ImportStatus::Reading => reading_view(&import, cancel).into_any(),
                    ImportStatus::Ready => view! { <Preview import=import apply=apply cancel=cancel busy=busy /> }.into_any(),
                    ImportStatus::Applying => view! {
                        <p class="muted" role="status" data-testid="import-applying">"Linking listings…"</p>
                    }.into_any(),
                    ImportStatus::Applied => view! {
                        <div class="banner banner-success" role="status" data-testid="import-applied">{import.message}</div>
                        {start_button("Import again (links only what is new)", start, busy)}
                    }.into_any(),
                    ImportStatus::Failed => view! {
                        <div class="banner banner-critical" role="alert" data-testid="import-failed">{import.message}</div>
                        {start_button("Start again", start, busy)}
                    }.into_any(),
                    ImportStatus::Cancelled => start_button("Read the catalogue", start, busy).into_any(),
                },
            })}
        </section>
    }
}

fn start_button(
    label: &'static str,
    start: impl Fn(leptos::ev::MouseEvent) + 'static,
    busy: RwSignal<bool>,
) -> impl IntoView {
    view! {
        <div class="form-actions">
            <button class="button button-primary" data-testid="import-start" on:click=start
                disabled=move || busy.get()>{label}</button>
        </div>
    }
}

fn reading_view(import: &ListingImport, cancel: impl Fn(i64) + Copy + 'static) -> impl IntoView {
    let id = import.id;
    let read = import.items_read;
    let (percent, line) = match import.total {
        Some(total) if total > 0 => (
            (read.saturating_mul(100) / total).min(99) as u8,
            format!("{} of {} items read", thousands(read), thousands(total)),
        ),
        _ => (0, format!("{} items read", thousands(read))),
    };
    view! {
        <div data-testid="import-reading" role="status">
            <p><strong>{line}</strong></p>
            <ServerProgress percent=percent label="Reading the storefront's catalogue" />
            <button class="button button-small" on:click=move |_| cancel(id)>"Cancel"</button>
        </div>
    }
}

#[component]
fn Preview(
    import: ListingImport,
    apply: impl Fn(i64) + Copy + Send + Sync + 'static,
    cancel: impl Fn(i64) + Copy + Send + Sync + 'static,
    busy: RwSignal<bool>,
) -> impl IntoView {
    let id = import.id;
    let to_link = import.counts.matched + import.counts.new;
    let first = ImportClass::ALL
        .into_iter()
        .find(|c| count(&import, *c) > 0)
        .unwrap_or(ImportClass::Matched);
    let class = RwSignal::new(first);
    let page = RwSignal::new(1u64);
    let items = api::import_items(id, class, page, PAGE_SIZE);
    let rule = if import.new_auto_sync {
        "New products start with Auto Sync on (your listing import rule)."
    } else {
        "New products start with Auto Sync off (your listing import rule); matched products keep theirs."
    };
    let link_label = format!("Link {} listings", thousands(to_link));
    let summary = import.clone();
    view! {
        <dl class="counts" data-testid="import-counts">
            {ImportClass::ALL.into_iter().map(|c| view! {
                <div data-testid=format!("import-count-{}", c.as_str())>
                    <dt>{class_label(c)}</dt>
                    <dd>{thousands(count(&summary, c))}</dd>
                </div>
            }).collect_view()}
        </dl>
        <p class="muted small">{rule} " Matched products with Auto Sync on get Tally's count pushed."</p>
        <div class="form-actions">
            <button class="button button-primary" data-testid="import-apply"
                disabled=move || busy.get() || to_link == 0
                on:click=move |_| apply(id)>{link_label}</button>
            <button class="button" data-testid="import-cancel" on:click=move |_| cancel(id)>"Discard preview"</button>
        </div>
        <div class="tabs" role="tablist" aria-label="Items by outcome">
            {ImportClass::ALL.into_iter().map(|c| {
                let n = count(&import, c);
                view! {
                    <button role="tab" class="tab-button" data-testid=format!("import-tab-{}", c.as_str())
                        aria-controls="import-items-panel"
                        aria-selected=move || (class.get() == c).to_string()
                        on:click=move |_| { class.set(c); page.set(1); }>
                        {format!("{} ({})", class_label(c), thousands(n))}
                    </button>
                }
            }).collect_view()}
        </div>
        <div role="tabpanel" id="import-items-panel" aria-label="Items">
        {dynamic(move || match items.get() {
            None => view! { <p class="muted">"Loading items…"</p> }.into_any(),
            Some(Err(e)) => view! { <div class="banner banner-critical" role="alert">{e.message}</div> }.into_any(),
            Some(Ok(list)) => item_table(list, page).into_any(),
        })}
        </div>
    }
}

fn item_table(list: ImportItemPage, page: RwSignal<u64>) -> impl IntoView {
    if list.items.is_empty() {
        return view! { <p class="muted" data-testid="import-items-empty">"No items here."</p> }
            .into_any();
    }
    let total = list.total;
    let shown = page.get_untracked();
    let first = (shown - 1) * PAGE_SIZE + 1;
    let last = (first + list.items.len() as u64 - 1).min(total);
    let more = last < total;
    view! {
        <div class="scroll-x">
            <table class="table table-compact" data-testid="import-items">
                <thead><tr>
                    <th scope="col">"SKU"</th><th scope="col">"Title"</th>
                    <th scope="col">"Storefront item"</th><th scope="col" class="num">"Quantity there"</th>
                    <th scope="col">"What happens"</th>
                </tr></thead>
                <tbody>
                    {list.items.into_iter().map(|i| {
                        let ids = match &i.external_sub_id {
                            Some(sub) => format!("{} · {sub}", i.external_id),
                            None => i.external_id.clone(),
                        };
                        view! {
                            <tr data-testid="import-item">
                                <td><code>{if i.sku.is_empty() { "—".to_owned() } else { i.sku.clone() }}</code></td>
                                <td>{i.title.clone()}</td>
                                <td><code class="small">{ids}</code></td>
                                <td class="num">{i.quantity.map_or("—".to_owned(), |q| q.to_string())}</td>
                                <td>{i.note}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <div class="pagination">
            <span class="range">{format!("{}–{} of {}", thousands(first), thousands(last), thousands(total))}</span>
            <button class="button button-small" disabled=shown <= 1 on:click=move |_| page.update(|p| *p -= 1)>"Previous"</button>
            <button class="button button-small" disabled=!more on:click=move |_| page.update(|p| *p += 1)>"Next"</button>
        </div>
    }
    .into_any()
}
