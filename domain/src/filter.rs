//! Which products a list shows, in which order: the inventory screen's filters and sort, as they
//! travel in the URL (`?q=tee&auto_sync=off&qty_max=0&sort=-quantity`).
//!
//! The same filter drives the table, CSV export and "for all in filter" bulk jobs, so what a
//! seller sees is exactly what a bulk action touches.

use crate::api::FieldError;
use crate::created_via::CreatedVia;
use crate::quantity::parse_whole_number;
use serde::{Deserialize, Serialize};

/// The longest text filter we accept.
pub const MAX_FILTER_TEXT: usize = 100;

/// Product filters. `None` means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductFilter {
    /// Part of the SKU or the name (case-insensitive).
    pub text: Option<String>,
    pub auto_sync: Option<bool>,
    /// Quantity on hand at least this.
    pub min_quantity: Option<i64>,
    /// Quantity on hand at most this (`0` with no minimum: out of stock).
    pub max_quantity: Option<i64>,
    pub created_via: Option<CreatedVia>,
    /// Brand containing this (case-insensitive).
    pub brand: Option<String>,
    /// Supplier containing this (case-insensitive).
    pub supplier: Option<String>,
    /// Has this tag (case-insensitive).
    pub tag: Option<String>,
    /// The archived products instead of the others (`archived=only`). Lists, exports and "all
    /// in filter" leave archived products out unless asked for them. (A default: bulk jobs
    /// stored before archiving existed read as not archived.)
    #[serde(default)]
    pub archived: bool,
    /// Products whose storefronts may not hold Tally's quantity (`synced=no`): they have a
    /// listing a push reaches, and Auto Sync is off, or nothing was pushed yet, or the newest
    /// push failed or is being retried.
    #[serde(default)]
    pub not_synced: bool,
}

/// Columns a list can be sorted by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortField {
    #[default]
    Sku,
    Name,
    Quantity,
    Updated,
}

/// A sort: a column and a direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sort {
    pub field: SortField,
    pub descending: bool,
}

impl Sort {
    const NAMES: [(&'static str, SortField); 4] = [
        ("sku", SortField::Sku),
        ("name", SortField::Name),
        ("quantity", SortField::Quantity),
        ("updated", SortField::Updated),
    ];

    /// Parses `sku`, `-quantity`, ...
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let (descending, name) = match raw.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, raw),
        };
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, field)| Sort {
                field: *field,
                descending,
            })
            .ok_or_else(|| {
                FieldError::new(
                    "sort",
                    format!("sort must be sku, name, quantity or updated (with - for descending), not `{raw}`"),
                )
            })
    }

    /// The URL form.
    pub fn to_param(self) -> String {
        let name = Self::NAMES
            .iter()
            .find(|(_, f)| *f == self.field)
            .map_or("sku", |(n, _)| n);
        if self.descending {
            format!("-{name}")
        } else {
            name.to_owned()
        }
    }

    /// The same column in the other direction, or this column ascending.
    pub fn toggled(self, field: SortField) -> Sort {
        Sort {
            field,
            descending: self.field == field && !self.descending,
        }
    }
}

fn text_param(key: &str, raw: &str) -> Result<Option<String>, FieldError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > MAX_FILTER_TEXT {
        return Err(FieldError::new(
            key,
            format!("{key} is over {MAX_FILTER_TEXT} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(
            key,
            format!("{key} contains a control character"),
        ));
    }
    Ok(Some(trimmed.to_owned()))
}

fn quantity_param(key: &str, raw: &str) -> Result<Option<i64>, FieldError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    match parse_whole_number(raw) {
        Ok(n) if n >= 0 => Ok(Some(n)),
        Ok(n) => Err(FieldError::new(
            key,
            format!("{key} cannot be negative ({n})"),
        )),
        Err(e) => Err(FieldError::new(key, format!("{key} {e}"))),
    }
}

impl ProductFilter {
    /// The URL parameter names, in the order they are written.
    pub const PARAMS: [&'static str; 10] = [
        "q",
        "auto_sync",
        "qty_min",
        "qty_max",
        "created_via",
        "brand",
        "supplier",
        "tag",
        "archived",
        "synced",
    ];

    /// Reads a filter from query parameters (unknown keys are ignored: paging and sort share
    /// the query string).
    pub fn from_params<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, FieldError> {
        let mut f = ProductFilter::default();
        for (key, raw) in params {
            match key {
                "q" => f.text = text_param(key, raw)?,
                "auto_sync" => {
                    f.auto_sync = match raw.trim() {
                        "" => None,
                        "on" | "true" => Some(true),
                        "off" | "false" => Some(false),
                        other => {
                            return Err(FieldError::new(
                                key,
                                format!("auto_sync must be on or off, not `{other}`"),
                            ))
                        }
                    }
                }
                "qty_min" => f.min_quantity = quantity_param(key, raw)?,
                "qty_max" => f.max_quantity = quantity_param(key, raw)?,
                "created_via" => {
                    f.created_via = match raw.trim() {
                        "" => None,
                        other => Some(other.parse().map_err(
                            |e: crate::created_via::UnknownCreatedVia| {
                                FieldError::new(key, e.to_string())
                            },
                        )?),
                    }
                }
                "brand" => f.brand = text_param(key, raw)?,
                "supplier" => f.supplier = text_param(key, raw)?,
                "tag" => f.tag = text_param(key, raw)?,
                "synced" => {
                    f.not_synced = match raw.trim() {
                        "" => false,
                        "no" => true,
                        other => {
                            return Err(FieldError::new(
                                key,
                                format!("synced must be no (products whose storefronts may be behind), not `{other}`"),
                            ))
                        }
                    }
                }
                "archived" => {
                    f.archived = match raw.trim() {
                        "" | "no" => false,
                        "only" => true,
                        other => {
                            return Err(FieldError::new(
                                key,
                                format!(
                                "archived must be only (to list archived products), not `{other}`"
                            ),
                            ))
                        }
                    }
                }
                _ => {}
            }
        }
        if let (Some(min), Some(max)) = (f.min_quantity, f.max_quantity) {
            if min > max {
                return Err(FieldError::new(
                    "qty_min",
                    format!("the minimum quantity ({min}) is above the maximum ({max})"),
                ));
            }
        }
        Ok(f)
    }

    /// The filter as query parameters (only the ones set).
    pub fn to_params(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let mut push = |k: &'static str, v: Option<String>| {
            if let Some(v) = v {
                out.push((k, v));
            }
        };
        push("q", self.text.clone());
        push(
            "auto_sync",
            self.auto_sync
                .map(|on| if on { "on" } else { "off" }.to_owned()),
        );
        push("qty_min", self.min_quantity.map(|n| n.to_string()));
        push("qty_max", self.max_quantity.map(|n| n.to_string()));
        push(
            "created_via",
            self.created_via.map(|c| c.as_str().to_owned()),
        );
        push("brand", self.brand.clone());
        push("supplier", self.supplier.clone());
        push("tag", self.tag.clone());
        push("archived", self.archived.then(|| "only".to_owned()));
        push("synced", self.not_synced.then(|| "no".to_owned()));
        out
    }

    /// True when nothing is filtered: "all in filter" means every product.
    pub fn is_empty(&self) -> bool {
        self.to_params().is_empty()
    }

    /// One removable chip per active filter: the parameter and what it says.
    pub fn chips(&self) -> Vec<(&'static str, String)> {
        let mut chips = Vec::new();
        if let Some(t) = &self.text {
            chips.push(("q", format!("Search: {t}")));
        }
        if let Some(on) = self.auto_sync {
            chips.push((
                "auto_sync",
                format!("Auto Sync {}", if on { "on" } else { "off" }),
            ));
        }
        match (self.min_quantity, self.max_quantity) {
            (None, Some(0)) => chips.push(("qty_max", "Out of stock".to_owned())),
            (Some(min), None) => chips.push(("qty_min", format!("Quantity ≥ {min}"))),
            (None, Some(max)) => chips.push(("qty_max", format!("Quantity ≤ {max}"))),
            (Some(min), Some(max)) => {
                chips.push(("qty_min", format!("Quantity ≥ {min}")));
                chips.push(("qty_max", format!("Quantity ≤ {max}")));
            }
            (None, None) => {}
        }
        if let Some(via) = self.created_via {
            chips.push(("created_via", format!("Created via: {}", via.label())));
        }
        if let Some(b) = &self.brand {
            chips.push(("brand", format!("Brand: {b}")));
        }
        if let Some(s) = &self.supplier {
            chips.push(("supplier", format!("Supplier: {s}")));
        }
        if let Some(t) = &self.tag {
            chips.push(("tag", format!("Tag: {t}")));
        }
        if self.archived {
            chips.push(("archived", "Archived".to_owned()));
        }
        if self.not_synced {
            chips.push(("synced", "Not synced".to_owned()));
        }
        chips
    }
}

/// Tags as a seller types them (`summer, Sale ,sale`): trimmed, de-duplicated ignoring case,
/// no empties, at most 20 of at most 40 characters each.
pub fn clean_tags(raw: &[String]) -> Result<Vec<String>, FieldError> {
    let mut tags: Vec<String> = Vec::new();
    for tag in raw.iter().flat_map(|t| t.split(',')) {
        let tag = tag.trim();
        if tag.is_empty() || tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
            continue;
        }
        if tag.chars().count() > 40 || tag.chars().any(char::is_control) {
            return Err(FieldError::new(
                "tags",
                format!("the tag `{tag}` is over 40 characters or has a control character"),
            ));
        }
        tags.push(tag.to_owned());
    }
    if tags.len() > 20 {
        return Err(FieldError::new(
            "tags",
            "a product can have at most 20 tags",
        ));
    }
    Ok(tags)
}

/// How many existing values the filter bar offers per field.
pub const MAX_OFFERED_VALUES: usize = 200;

/// The account's tags, one each, from the stored comma-joined lists: the same tag in another
/// case is one tag (the filter ignores case), sorted as a seller reads them, at most
/// [`MAX_OFFERED_VALUES`].
pub fn distinct_tags<'a>(lists: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut seen = std::collections::BTreeMap::new();
    for tag in lists.into_iter().flat_map(|l| l.split(',')) {
        let tag = tag.trim();
        if !tag.is_empty() {
            seen.entry(tag.to_lowercase())
                .or_insert_with(|| tag.to_owned());
        }
    }
    seen.into_values().take(MAX_OFFERED_VALUES).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &[(&str, &str)]) -> Result<ProductFilter, FieldError> {
        ProductFilter::from_params(q.iter().copied())
    }

    #[test]
    fn tags_are_offered_once_each_in_any_case_and_sorted() {
        let tags = distinct_tags(["summer,Sale", "sale,winter", "", "Summer"]);
        assert_eq!(tags, ["Sale", "summer", "winter"]);
    }

    #[test]
    fn no_parameters_is_the_empty_filter() {
        let f = parse(&[("page", "2"), ("per_page", "250")]).unwrap();
        assert!(f.is_empty());
    }

    #[test]
    fn every_filter_round_trips_through_the_url() {
        let q = [
            ("q", "tee"),
            ("auto_sync", "off"),
            ("qty_min", "1"),
            ("qty_max", "10"),
            ("created_via", "order_import"),
            ("brand", "Acme"),
            ("supplier", "North"),
            ("tag", "summer"),
            ("archived", "only"),
            ("synced", "no"),
        ];
        let f = parse(&q).unwrap();
        assert!(f.archived && f.not_synced);
        assert_eq!(f.auto_sync, Some(false));
        assert_eq!(f.created_via, Some(CreatedVia::OrderImport));
        let params = f.to_params();
        let again =
            ProductFilter::from_params(params.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
        assert_eq!(again, f);
        assert_eq!(f.chips().len(), 10);
    }

    #[test]
    fn blank_values_mean_any() {
        let f = parse(&[("q", "  "), ("auto_sync", ""), ("qty_max", "")]).unwrap();
        assert!(f.is_empty());
    }

    #[test]
    fn bad_values_name_their_parameter() {
        let cases = [
            (("auto_sync", "maybe"), "auto_sync"),
            (("qty_min", "-1"), "qty_min"),
            (("qty_max", "1.5"), "qty_max"),
            (("created_via", "fax"), "created_via"),
            (("archived", "yes"), "archived"),
            (("synced", "maybe"), "synced"),
        ];
        for ((k, v), field) in cases {
            assert_eq!(parse(&[(k, v)]).unwrap_err().field, field, "{k}={v}");
        }
        let long = "x".repeat(101);
        assert_eq!(parse(&[("q", long.as_str())]).unwrap_err().field, "q");
    }

    #[test]
    fn a_minimum_above_the_maximum_is_refused() {
        let err = parse(&[("qty_min", "5"), ("qty_max", "2")]).unwrap_err();
        assert!(err.message.contains("above the maximum"));
    }

    #[test]
    fn out_of_stock_reads_as_such() {
        let f = parse(&[("qty_max", "0")]).unwrap();
        assert_eq!(f.chips(), vec![("qty_max", "Out of stock".to_owned())]);
    }

    #[test]
    fn sorts_parse_and_toggle() {
        assert_eq!(Sort::parse("-quantity").unwrap().to_param(), "-quantity");
        assert_eq!(Sort::parse("sku").unwrap(), Sort::default());
        assert_eq!(Sort::parse("price").unwrap_err().field, "sort");
        let by_qty = Sort::default().toggled(SortField::Quantity);
        assert_eq!(by_qty.to_param(), "quantity");
        assert_eq!(by_qty.toggled(SortField::Quantity).to_param(), "-quantity");
    }

    #[test]
    fn tags_are_cleaned_like_a_seller_expects() {
        let tags = clean_tags(&["summer, Sale ,sale".into(), "".into()]).unwrap();
        assert_eq!(tags, vec!["summer", "Sale"]);
        assert!(clean_tags(&["x".repeat(41)]).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(clean_tags(&many).is_err());
    }
}
