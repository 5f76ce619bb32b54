//! The inventory list's state as it lives in the URL: filters, sort and page.

use leptos_router::params::ParamsMap;
use tally_domain::filter::{ProductFilter, Sort};
use tally_domain::PageRequest;

/// Everything that decides which products the inventory shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    pub filter: ProductFilter,
    pub sort: Sort,
    pub paging: PageRequest,
}

fn encode(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

impl ListQuery {
    /// Reads the URL's query; anything unreadable falls back to its default, so a mangled link
    /// still opens the inventory.
    pub fn from_query(q: &ParamsMap) -> Self {
        let pairs = ProductFilter::PARAMS
            .iter()
            .filter_map(|k| q.get_str(k).map(|v| (*k, v)));
        let filter = ProductFilter::from_params(pairs).unwrap_or_default();
        let sort = q
            .get_str("sort")
            .and_then(|s| Sort::parse(s).ok())
            .unwrap_or_default();
        let paging =
            PageRequest::parse(q.get_str("page"), q.get_str("per_page")).unwrap_or_default();
        Self {
            filter,
            sort,
            paging,
        }
    }

    /// Filters and sort as a query string, without paging (for export and page links).
    pub fn filter_query(&self) -> String {
        let mut parts: Vec<String> = self
            .filter
            .to_params()
            .into_iter()
            .map(|(k, v)| format!("{k}={}", encode(&v)))
            .collect();
        if self.sort != Sort::default() {
            parts.push(format!("sort={}", encode(&self.sort.to_param())));
        }
        parts.join("&")
    }

    /// The inventory URL for this state.
    pub fn href(&self) -> String {
        let filters = self.filter_query();
        let sep = if filters.is_empty() { "" } else { "&" };
        format!(
            "/?{filters}{sep}page={}&per_page={}",
            self.paging.page,
            self.paging.per_page.rows()
        )
    }

    /// The same list from its first page with another filter.
    pub fn with_filter(&self, filter: ProductFilter) -> Self {
        Self {
            filter,
            paging: PageRequest {
                page: 1,
                ..self.paging
            },
            ..self.clone()
        }
    }

    /// The API path for this list.
    pub fn api_path(&self) -> String {
        format!("/api/v1/products{}", &self.href()[1..])
    }
}
