//! The inventory screen: every product with its quantity and Auto Sync switch, a page at a time.

use crate::api;
use crate::components::adjust_dialog::AdjustDialog;
use crate::components::auto_sync_toggle::AutoSyncToggle;
use crate::components::bulk_bar::BulkBar;
use crate::components::filter_actions::FilterActions;
use crate::components::filter_bar::FilterBar;
use crate::components::loading::loaded;
use crate::components::pagination::Pagination;
use crate::components::product_dialog::ProductDialog;
use crate::components::setup_checklist::SetupChecklist;
use crate::format::{now_ms, relative, thousands};
use crate::list_query::ListQuery;
use crate::reactive::show_when;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use tally_domain::api::{Product, ProductPage};
use tally_domain::filter::SortField;
use tally_domain::sync::SyncStatus;
use tally_domain::ProductId;

/// `/`: the inventory table.
#[component]
pub fn Inventory() -> impl IntoView {
    let query = use_query_map();
    let list = Memo::new(move |_| query.with(ListQuery::from_query));
    let products = api::products(move || list.get());
    // The selection belongs to the rows on screen: another page, filter or sort clears it.
    let selected = RwSignal::new(Vec::<ProductId>::new());
    Effect::new(move |_| {
        list.track();
        selected.set(Vec::new());
    });
    let adding = RwSignal::new(false);
    let export_href = move || format!("/api/v1/products/export.csv?{}", list.get().filter_query());
    view! {
        <section class="page-header">
            <div>
                <h1>"Inventory"</h1>
                <p class="muted">
                    "Quantities here are the master count. With Auto Sync on, every change is pushed to the product's storefront listings within seconds."
                </p>
            </div>
            <div class="header-actions">
                <a class="button" href="/uploads" data-testid="upload-link">"Upload file"</a>
                <a class="button" href=export_href download="tally-products.csv" data-testid="export-csv">
                    "Export CSV"
                </a>
                <button class="button button-primary" data-testid="add-product" on:click=move |_| adding.set(true)>
                    "Add product"
                </button>
            </div>
        </section>
        {show_when(move || adding.get(), move || view! {
            <ProductDialog open=adding editing=None on_saved=Callback::new(move |_| products.refetch()) />
        }.into_any())}
        <SetupChecklist />
        <FilterBar list=list />
        <FilterActions list=list products=products />
        <BulkBar selected=selected products=products />
        {loaded(products, || view! { <TableSkeleton /> }.into_any(), move |result| match result {
            Ok(page) => view! { <ProductTable page=page list=list.get() selected=selected /> }.into_any(),
            Err(e) => view! {
                <div class="banner banner-critical" role="alert">
                    <strong>"Products could not be loaded. "</strong>
                    {e.message}
                    <button class="button" on:click=move |_| products.refetch()>"Try again"</button>
                </div>
            }.into_any(),
        })}
    }
}

#[component]
fn ProductTable(
    page: ProductPage,
    list: ListQuery,
    selected: RwSignal<Vec<ProductId>>,
) -> impl IntoView {
    let paging = list.paging;
    if page.total == 0 && list.filter.is_empty() {
        return view! {
            <div class="empty-state" data-testid="inventory-empty">
                <h2>"No products yet"</h2>
                <p>
                    <a href="/uploads">"Upload an inventory file"</a>
                    " (SKU and quantity) or add products one by one; or "
                    <a href="/settings/storefronts">"connect a storefront"</a>
                    " and import its listings."
                </p>
            </div>
        }
        .into_any();
    }
    if page.total == 0 {
        let clear = ListQuery::default().href();
        return view! {
            <div class="empty-state" data-testid="inventory-no-match">
                <h2>"No products match these filters"</h2>
                <p>"Change or remove a filter. " <a href=clear>"Clear all filters"</a></p>
            </div>
        }
        .into_any();
    }
    let sort_header = |label: &'static str, field: SortField, class: &'static str| {
        let target = ListQuery {
            sort: list.sort.toggled(field),
            ..list.clone()
        }
        .href();
        let aria = match (list.sort.field == field, list.sort.descending) {
            (true, false) => "ascending",
            (true, true) => "descending",
            (false, _) => "none",
        };
        let arrow = match aria {
            "ascending" => " ↑",
            "descending" => " ↓",
            _ => "",
        };
        view! {
            <th scope="col" class=class aria-sort=aria>
                <a class="sort-link" href=target data-testid=format!("sort-{label}")>{label}{arrow}</a>
            </th>
        }
    };
    let query = list.filter_query();
    let total = page.total;
    let page_ids: Vec<ProductId> = page.items.iter().map(|p| p.id).collect();
    let all_ids = page_ids.clone();
    let all_selected = move || {
        let chosen = selected.get();
        !page_ids.is_empty() && page_ids.iter().all(|id| chosen.contains(id))
    };
    let toggle_all = move |ev: leptos::ev::Event| {
        selected.set(if event_target_checked(&ev) {
            all_ids.clone()
        } else {
            Vec::new()
        });
    };
    view! {
        <div class="card">
            <table class="table" data-testid="inventory-table">
                <caption class="visually-hidden">
                    {format!("Products, page {} ({} in all)", paging.page, thousands(total))}
                </caption>
                <thead>
                    <tr>
                        <th scope="col" class="check-col">
                            <input
                                type="checkbox"
                                aria-label="Select all products on this page"
                                data-testid="select-page"
                                prop:checked=all_selected
                                on:change=toggle_all
                            />
                        </th>
                        {sort_header("SKU", SortField::Sku, "")}
                        {sort_header("Product", SortField::Name, "")}
                        {sort_header("On hand", SortField::Quantity, "num")}
                        <th scope="col">"Storefronts"</th>
                        <th scope="col">"Created via"</th>
                        <th scope="col" class="actions-col">
                            <span class="visually-hidden">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {page.items.into_iter().map(|product| view! { <ProductRow product=product selected=selected /> }).collect_view()}
                </tbody>
            </table>
            <Pagination base="/" query=query paging=paging total=total />
        </div>
    }
    .into_any()
}

#[component]
fn ProductRow(product: Product, selected: RwSignal<Vec<ProductId>>) -> impl IntoView {
    let id = product.id;
    let checked = move || selected.get().contains(&id);
    let pick = move |ev: leptos::ev::Event| {
        let on = event_target_checked(&ev);
        selected.update(|ids| {
            ids.retain(|x| *x != id);
            if on {
                ids.push(id);
            }
        });
    };
    let quantity = RwSignal::new(product.quantity.get());
    let auto_sync = RwSignal::new(product.auto_sync);
    let adjusting = RwSignal::new(false);
    let sku = product.sku.to_string();
    let row_id = format!("product-{sku}");
    let dialog_sku = sku.clone();
    let meta = [product.brand.clone(), product.tags.join(", ")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
    view! {
        <tr data-testid=row_id class:selected=checked>
            <td class="check-col">
                <input
                    type="checkbox"
                    aria-label=format!("Select {sku}")
                    data-testid=format!("select-{sku}")
                    prop:checked=checked
                    on:change=pick
                />
            </td>
            <td>
                <div class="sku-cell">
                    <AutoSyncToggle id=product.id sku=sku.clone() on=auto_sync />
                    <a class="sku" href=format!("/products/{}", product.id) data-testid=format!("open-{sku}")>
                        {sku.clone()}
                    </a>
                </div>
            </td>
            <td>
                {product.name.clone()}
                <span class="product-meta">{meta}</span>
            </td>
            <td
                class="num"
                class:zero=move || quantity.get() == 0
                data-testid=format!("quantity-{sku}")
            >
                {move || thousands(quantity.get() as u64)}
            </td>
            <td data-testid=format!("sync-{sku}")>{storefronts_cell(&product, auto_sync)}</td>
            <td class="muted">{product.created_via.label()}</td>
            <td class="actions-col">
                <button
                    type="button"
                    class="button button-small"
                    data-testid=format!("adjust-{sku}")
                    on:click=move |_| adjusting.set(true)
                >
                    "Adjust"
                </button>
                {show_when(move || adjusting.get(), move || view! {
                    <AdjustDialog
                        id=product.id
                        sku=dialog_sku.clone()
                        quantity=quantity
                        auto_sync=auto_sync
                        open=adjusting
                    />
                }.into_any())}
            </td>
        </tr>
    }
}

/// How many listings a push reaches, and whether the storefronts hold Tally's quantity: the
/// newest push's outcome, or why there is none.
fn storefronts_cell(product: &Product, auto_sync: RwSignal<bool>) -> impl IntoView {
    let listings = product.listings;
    if listings == 0 {
        return view! { <span class="muted">"No listings"</span> }.into_any();
    }
    let count = if listings == 1 {
        "1 listing".to_owned()
    } else {
        format!("{listings} listings")
    };
    let last = product.last_push;
    let state = move || match (auto_sync.get(), last) {
        (false, _) => view! { <span class="product-meta">"Auto Sync off"</span> }.into_any(),
        (true, None) => view! { <span class="product-meta">"Not pushed yet"</span> }.into_any(),
        (true, Some(push)) => match push.status {
            SyncStatus::Succeeded | SyncStatus::Skipped => view! {
                <span class="product-meta">"In sync · " {relative(push.at, now_ms())}</span>
            }
            .into_any(),
            SyncStatus::Failed => {
                view! { <span class="badge badge-critical">"Failing"</span> }.into_any()
            }
            SyncStatus::Retrying => {
                view! { <span class="badge badge-warning">"Retrying"</span> }.into_any()
            }
            SyncStatus::Queued | SyncStatus::Sent => {
                view! { <span class="product-meta">"Pushing…"</span> }.into_any()
            }
        },
    };
    view! { {count} {state} }.into_any()
}

/// Grey rows of the table's size, so the layout does not jump while loading.
#[component]
fn TableSkeleton() -> impl IntoView {
    view! {
        <div class="card" aria-busy="true" data-testid="loading">
            <table class="table">
                <tbody>
                    {(0..10)
                        .map(|_| {
                            view! {
                                <tr class="skeleton-row">
                                    <td colspan="7">
                                        <span class="skeleton"></span>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
