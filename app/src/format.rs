//! Numbers and times as sellers read them.

/// `12408` → `12,408`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// "just now", "5 min ago", "3 h ago", "2 d ago" for a time in ms since the epoch.
pub fn relative(at_ms: i64, now_ms: i64) -> String {
    let seconds = (now_ms - at_ms).max(0) / 1000;
    match seconds {
        0..=44 => "just now".into(),
        45..=3599 => format!("{} min ago", (seconds + 30) / 60),
        3600..=86_399 => format!("{} h ago", seconds / 3600),
        _ => format!("{} d ago", seconds / 86_400),
    }
}

/// The exact local time, for a tooltip.
pub fn exact(at_ms: i64) -> String {
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at_ms as f64));
    String::from(date.to_locale_string("en-US", &wasm_bindgen::JsValue::UNDEFINED))
}

/// Now, in ms since the epoch.
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}
