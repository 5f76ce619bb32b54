//! The filters above the inventory table. Every change goes into the URL (so it survives a
//! reload and can be shared), text filters as the seller types, and each active filter shows
//! as a removable chip.

use crate::api;
use crate::list_query::ListQuery;
use crate::reactive::show_when;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use std::time::Duration;
use tally_domain::filter::ProductFilter;
use tally_domain::CreatedVia;

/// How long typing must pause before a text filter applies.
const TYPING_PAUSE: Duration = Duration::from_millis(300);

/// Sets one URL parameter of the filter (empty clears it), ignoring values the domain refuses.
fn with_param(filter: &ProductFilter, key: &str, value: &str) -> ProductFilter {
    let mut params: Vec<(&str, String)> = filter
        .to_params()
        .into_iter()
        .filter(|(k, _)| *k != key)
        .collect();
    params.push((key_static(key), value.to_owned()));
    ProductFilter::from_params(params.iter().map(|(k, v)| (*k, v.as_str())))
        .unwrap_or_else(|_| filter.clone())
}

fn key_static(key: &str) -> &'static str {
    ProductFilter::PARAMS
        .iter()
        .find(|k| **k == key)
        .copied()
        .unwrap_or("q")
}

/// The filter controls and chips for the list in the URL.
#[component]
pub fn FilterBar(list: Memo<ListQuery>) -> impl IntoView {
    let navigate = use_navigate();
    let go = Callback::new(move |href: String| navigate(&href, Default::default()));
    let apply = move |key: &'static str, value: String| {
        let current = list.get_untracked();
        let filter = with_param(&current.filter, key, &value);
        let href = current.with_filter(filter).href();
        if href != current.href() {
            go.run(href);
        }
    };
    // Typing applies a text filter once the seller pauses, not on every key; Enter or leaving
    // the field applies it at once. A value ending in a space waits: the seller is between
    // words, and applying it would trim the space out from under the cursor.
    let typed = StoredValue::new(0u64);
    let type_into = move |key: &'static str, value: String| {
        let this = typed.get_value() + 1;
        typed.set_value(this);
        if value.ends_with(' ') {
            return;
        }
        // `try_`: the seller may have left the page before the pause ends (its values are
        // gone then, and so is anything to filter).
        set_timeout(
            move || {
                if typed.try_get_value() == Some(this) {
                    apply(key, value);
                }
            },
            TYPING_PAUSE,
        );
    };
    // Enter or leaving the field: apply now, and drop a pause still pending, which would
    // otherwise apply the same text again later, after the seller has moved on (say, to
    // Clear all).
    let apply_now = move |key: &'static str, value: String| {
        typed.update_value(|n| *n += 1);
        apply(key, value);
    };
    // On a phone the filters other than Search fold behind a Filters button (CSS shows it
    // below 720 px); the chips still show what is applied.
    let more = RwSignal::new(false);
    let value = move |key: &'static str| {
        move || {
            list.get()
                .filter
                .to_params()
                .into_iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v)
                .unwrap_or_default()
        }
    };
    // The brands, suppliers and tags the account uses, offered as the seller types.
    let values = api::product_values();
    let offered = move |key: &'static str| {
        let list = values.get().and_then(Result::ok).unwrap_or_default();
        match key {
            "brand" => list.brands,
            "supplier" => list.suppliers,
            "tag" => list.tags,
            _ => Vec::new(),
        }
    };
    let text_input = move |key: &'static str, label: &'static str, placeholder: &'static str| {
        let list_id = format!("values-{key}");
        view! {
            <label class="filter">
                <span>{label}</span>
                <input
                    type="search"
                    placeholder=placeholder
                    data-testid=format!("filter-{key}")
                    list=list_id.clone()
                    prop:value=value(key)
                    on:input=move |ev| type_into(key, event_target_value(&ev))
                    on:change=move |ev| apply_now(key, event_target_value(&ev))
                />
                <datalist id=list_id data-testid=format!("values-{key}")>
                    {move || offered(key).into_iter().map(|v| view! { <option value=v></option> }).collect_view()}
                </datalist>
            </label>
        }
    };
    let select_input = move |key: &'static str,
                             label: &'static str,
                             options: Vec<(&'static str, &'static str)>| {
        view! {
            <label class="filter">
                <span>{label}</span>
                <select
                    data-testid=format!("filter-{key}")
                    prop:value=value(key)
                    on:change=move |ev| apply(key, event_target_value(&ev))
                >
                    {options
                        .into_iter()
                        .map(|(v, l)| view! { <option value=v>{l}</option> })
                        .collect_view()}
                </select>
            </label>
        }
    };
    let chips = move || list.get().filter.chips();
    view! {
        <section class="filter-bar" aria-label="Filters" class:filters-open=move || more.get()>
            <div class="filter-row" id="filter-fields">
                <label class="filter filter-search">
                    <span>"Search"</span>
                    <input
                        type="search"
                        placeholder="SKU or product name"
                        data-testid="filter-q"
                        prop:value=value("q")
                        on:input=move |ev| type_into("q", event_target_value(&ev))
                        on:change=move |ev| apply_now("q", event_target_value(&ev))
                    />
                </label>
                <button type="button" class="button filters-toggle" data-testid="filters-toggle"
                    aria-controls="filter-fields" aria-expanded=move || more.get().to_string()
                    on:click=move |_| more.update(|open| *open = !*open)>
                    "Filters"
                </button>
                {select_input("auto_sync", "Auto Sync", [("", "Any"), ("on", "On"), ("off", "Off")].to_vec())}
                <label class="filter">
                    <span>"Stock"</span>
                    <select
                        data-testid="filter-stock"
                        prop:value=move || {
                            let f = list.get().filter;
                            match (f.min_quantity, f.max_quantity) {
                                (None, Some(0)) => "out",
                                _ => "",
                            }
                        }
                        on:change=move |ev| {
                            let out = event_target_value(&ev) == "out";
                            apply("qty_max", if out { "0".into() } else { String::new() });
                        }
                    >
                        <option value="">"Any"</option>
                        <option value="out">"Out of stock"</option>
                    </select>
                </label>
                {select_input("created_via", "Created via", std::iter::once(("", "Any")).chain(CreatedVia::ALL.into_iter().map(|via| (via.as_str(), via.label()))).collect())}
                {select_input("synced", "Sync", [("", "Any"), ("no", "Not synced")].to_vec())}
                {select_input("archived", "Products", [("", "Active"), ("only", "Archived")].to_vec())}
                {text_input("qty_min", "Quantity from", "0")}
                {text_input("qty_max", "Quantity to", "Any")}
                {text_input("brand", "Brand", "Any brand")}
                {text_input("supplier", "Supplier", "Any supplier")}
                {text_input("tag", "Tag", "Any tag")}
            </div>
            {show_when(move || !chips().is_empty(), move || view! {
                <div class="chips" data-testid="filter-chips">
                    {move || {
                        let current = list.get();
                        chips()
                            .into_iter()
                            .map(|(key, label)| {
                                let without = with_param(&current.filter, key, "");
                                let href = current.with_filter(without).href();
                                let aria = format!("Remove filter {label}");
                                view! {
                                    <a class="chip" href=href aria-label=aria>
                                        {label}
                                        <span aria-hidden="true">" ×"</span>
                                    </a>
                                }
                            })
                            .collect_view()
                    }}
                    <a
                        class="chip-clear"
                        data-testid="clear-filters"
                        href=move || ListQuery { paging: list.get().paging, ..ListQuery::default() }.with_filter(ProductFilter::default()).href()
                    >
                        "Clear all"
                    </a>
                </div>
            }.into_any())}
        </section>
    }
}
