//! "1–250 of 12,408" with previous/next links and the page-size choice. The page lives in the
//! URL, so links keep working after a reload and can be shared.

use crate::format::thousands;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use tally_domain::paging::page_count;
use tally_domain::{PageRequest, PageSize};

/// The URL of `paging` on the page at `base`, keeping the other parameters in `query`.
pub fn page_href(base: &str, query: &str, paging: PageRequest) -> String {
    let sep = if query.is_empty() { "" } else { "&" };
    format!(
        "{base}?{query}{sep}page={}&per_page={}",
        paging.page,
        paging.per_page.rows()
    )
}

/// Paging controls for a list of `total` rows.
#[component]
pub fn Pagination(
    base: &'static str,
    /// Filters and sort to keep in every page link (URL-encoded, without `?`).
    #[prop(optional)]
    query: String,
    paging: PageRequest,
    total: u64,
) -> impl IntoView {
    let pages = page_count(total, paging.per_page);
    let first = if total == 0 { 0 } else { paging.offset() + 1 };
    let last = (paging.offset() + u64::from(paging.limit())).min(total);
    let prev = (paging.page > 1).then(|| {
        page_href(
            base,
            &query,
            PageRequest {
                page: paging.page - 1,
                ..paging
            },
        )
    });
    let next = (u64::from(paging.page) < pages).then(|| {
        page_href(
            base,
            &query,
            PageRequest {
                page: paging.page + 1,
                ..paging
            },
        )
    });
    let navigate = use_navigate();
    let change_size = move |ev: leptos::ev::Event| {
        let rows: u32 = event_target_value(&ev).parse().unwrap_or(25);
        let size = PageSize::try_from(rows).unwrap_or_default();
        let href = page_href(
            base,
            &query,
            PageRequest {
                page: 1,
                per_page: size,
            },
        );
        navigate(&href, Default::default());
    };
    view! {
        <nav class="pagination" aria-label="Pages">
            <span class="range" data-testid="page-range">
                {format!("{}–{} of {}", thousands(first), thousands(last), thousands(total))}
            </span>
            <label class="page-size">
                "Rows per page "
                <select data-testid="page-size" on:change=change_size>
                    {PageSize::ALL
                        .into_iter()
                        .map(|size| {
                            view! {
                                <option
                                    value=size.rows().to_string()
                                    selected=size == paging.per_page
                                >
                                    {size.rows().to_string()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <PageLink href=prev label="Previous page" text="‹ Previous" testid="prev-page" />
            <span class="page-of">{format!("Page {} of {}", paging.page, thousands(pages))}</span>
            <PageLink href=next label="Next page" text="Next ›" testid="next-page" />
        </nav>
    }
}

#[component]
fn PageLink(
    href: Option<String>,
    label: &'static str,
    text: &'static str,
    testid: &'static str,
) -> impl IntoView {
    match href {
        Some(href) => view! {
            <a class="button" href=href aria-label=label data-testid=testid>{text}</a>
        }
        .into_any(),
        None => view! {
            <span class="button button-disabled" aria-disabled="true" data-testid=testid>{text}</span>
        }
        .into_any(),
    }
}
