//! The current time, read once per request and passed into the domain as a value.

/// Milliseconds since the Unix epoch (UTC).
pub fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// How much work one queue delivery of a background job may do: steps back to back while
/// time lasts, capped in steps too (each step is a bounded number of D1 statements), so one
/// delivery neither hops the queue after every chunk nor runs long.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    steps: u32,
    until_ms: i64,
}

impl Budget {
    /// At most `steps` steps, and none started after `ms` milliseconds from now.
    pub fn new(steps: u32, ms: i64) -> Self {
        Budget {
            steps,
            until_ms: now_ms().saturating_add(ms),
        }
    }

    /// Whether a step may start after `done` steps: the first always may.
    pub fn allows(&self, done: u32) -> bool {
        done == 0 || (done < self.steps && now_ms() < self.until_ms)
    }
}
