//! Turns a [`ProductFilter`] and [`Sort`] into SQL with bound parameters. Values are always
//! bound, never spliced into the text; only fixed column names are.

use crate::db::{flag, int, text};
use tally_domain::filter::{ProductFilter, Sort, SortField};
use tally_domain::AccountId;
use wasm_bindgen::JsValue;

/// A `WHERE` clause and its parameters (`?1` is always the account).
pub struct Where {
    pub sql: String,
    pub params: Vec<JsValue>,
}

impl Where {
    fn param(&mut self, value: JsValue) -> String {
        self.params.push(value);
        format!("?{}", self.params.len())
    }

    /// Appends the next parameter placeholder for a value used after the clause (LIMIT, ...).
    pub fn next(&mut self, value: JsValue) -> String {
        self.param(value)
    }
}

/// `WHERE account_id = ?1 AND …` for the products the filter matches.
pub fn where_clause(account: AccountId, f: &ProductFilter) -> Where {
    let mut w = Where {
        sql: String::new(),
        params: Vec::new(),
    };
    let mut parts = vec![format!("account_id = {}", w.param(int(account.0)))];
    if let Some(t) = &f.text {
        let p = w.param(text(&t.to_lowercase()));
        parts.push(format!(
            "(instr(lower(sku), {p}) > 0 OR instr(lower(name), {p}) > 0)"
        ));
    }
    if let Some(on) = f.auto_sync {
        parts.push(format!("auto_sync = {}", w.param(flag(on))));
    }
    if let Some(min) = f.min_quantity {
        parts.push(format!("quantity >= {}", w.param(int(min))));
    }
    if let Some(max) = f.max_quantity {
        parts.push(format!("quantity <= {}", w.param(int(max))));
    }
    if let Some(via) = f.created_via {
        parts.push(format!("created_via = {}", w.param(text(via.as_str()))));
    }
    // Brand and supplier match as the seller types them: any part, any case ("north" finds
    // "Northwind"). A tag is a whole word of the list.
    if let Some(b) = &f.brand {
        let p = w.param(text(&b.to_lowercase()));
        parts.push(format!("instr(lower(brand), {p}) > 0"));
    }
    if let Some(s) = &f.supplier {
        let p = w.param(text(&s.to_lowercase()));
        parts.push(format!("instr(lower(supplier), {p}) > 0"));
    }
    if let Some(t) = &f.tag {
        let p = w.param(text(&format!(",{},", t.to_lowercase())));
        parts.push(format!("instr(',' || lower(tags) || ',', {p}) > 0"));
    }
    if f.not_synced {
        parts.push(super::freshness::not_synced());
    }
    parts.push(
        if f.archived {
            "archived_at IS NOT NULL"
        } else {
            "archived_at IS NULL"
        }
        .to_owned(),
    );
    w.sql = format!("WHERE {}", parts.join(" AND "));
    w
}

/// `ORDER BY …`, with the id as tie-breaker so pages never overlap.
pub fn order_by(sort: Sort) -> String {
    let column = match sort.field {
        SortField::Sku => "sku",
        SortField::Name => "name",
        SortField::Quantity => "quantity",
        SortField::Updated => "updated_at",
    };
    let dir = if sort.descending { "DESC" } else { "ASC" };
    format!("ORDER BY {column} {dir}, id {dir}")
}
