//! Small helpers for binding values to D1 statements.
//!
//! D1 takes JavaScript values; integers travel as doubles, which is exact for every id,
//! quantity and timestamp Tally stores (all far below 2^53).

use wasm_bindgen::JsValue;

/// An integer parameter.
pub fn int(value: i64) -> JsValue {
    JsValue::from_f64(value as f64)
}

/// A text parameter.
pub fn text(value: &str) -> JsValue {
    JsValue::from_str(value)
}

/// A text parameter that may be absent (SQL NULL).
pub fn opt_text(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::NULL, JsValue::from_str)
}

/// An integer parameter that may be absent (SQL NULL).
pub fn opt_int(value: Option<i64>) -> JsValue {
    value.map_or(JsValue::NULL, int)
}

/// A boolean parameter, stored as 0 or 1.
pub fn flag(value: bool) -> JsValue {
    int(i64::from(value))
}

/// Whether a failed D1 write was refused by a constraint (a UNIQUE index, a CHECK such as the
/// write guards) rather than failing for the database's own reasons. Only a refusal may be
/// read as "already done" or "taken"; anything else is answered as the error it is.
pub fn refused_by_constraint(error: &worker::Error) -> bool {
    tally_domain::constraint::refused_by_constraint(&error.to_string())
}
