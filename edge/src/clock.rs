//! The current time, read once per request and passed into the domain as a value.

/// Milliseconds since the Unix epoch (UTC).
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}
