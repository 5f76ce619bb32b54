//! A small step chart of quantity on hand over time, from the product's ledger.

use leptos::prelude::*;
use tally_domain::api::LedgerEntry;

// Whole-number coordinates: the chart is drawn in 640 × 140 units and scaled by the browser, so
// nothing finer is visible, and integer formatting keeps float printing out of the wasm.
const WIDTH: i64 = 640;
const HEIGHT: i64 = 140;
const PAD: i64 = 8;

/// The chart's path: a step line through each change (oldest first), evenly spaced, so a burst
/// of changes in one minute reads as clearly as a slow week.
fn step_path(quantities: &[i64]) -> String {
    let Some(first) = quantities.first() else {
        return String::new();
    };
    // One equal-width step per quantity the product has had.
    let steps = quantities.len() as i64;
    let top = quantities.iter().copied().max().unwrap_or(0).max(1);
    let x = |i: i64| PAD + i * (WIDTH - 2 * PAD) / steps;
    let y = |q: i64| HEIGHT - PAD - q.max(0) * (HEIGHT - 2 * PAD) / top;
    let mut d = format!("M{},{}", x(0), y(*first));
    for (i, q) in (1..).zip(quantities.iter().skip(1)) {
        d.push_str(&format!(" H{} V{}", x(i), y(*q)));
    }
    d.push_str(&format!(" H{}", x(steps)));
    d
}

/// Quantity over time. `entries` come newest first, as the API sends them.
#[component]
pub fn QuantityChart(entries: Vec<LedgerEntry>) -> impl IntoView {
    let mut points: Vec<i64> = entries.last().map(|e| e.before).into_iter().collect();
    points.extend(entries.iter().rev().map(|e| e.after));
    let peak = points.iter().copied().max().unwrap_or(0);
    let summary = format!(
        "Quantity over the last {} changes, from {} to {} (peak {peak})",
        entries.len(),
        points.first().copied().unwrap_or(0),
        points.last().copied().unwrap_or(0)
    );
    view! {
        <figure class="chart" data-testid="quantity-chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img" aria-label=summary.clone() preserveAspectRatio="none">
                <line x1=PAD y1=HEIGHT - PAD x2=WIDTH - PAD y2=HEIGHT - PAD class="chart-axis" />
                <path d=step_path(&points) class="chart-line" />
            </svg>
            <figcaption class="muted">{summary}</figcaption>
        </figure>
    }
}
