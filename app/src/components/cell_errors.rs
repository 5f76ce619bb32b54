//! A refused CSV file's problems, one line per bad cell, in file order.

use leptos::prelude::*;
use tally_domain::csv_import::CellError;

/// The table of bad cells; nothing when there are none.
#[component]
pub fn CellErrors(rows: Vec<CellError>, testid: &'static str) -> impl IntoView {
    (!rows.is_empty()).then(|| {
        view! {
            <div class="card">
                <table class="table" data-testid=testid>
                    <thead>
                        <tr>
                            <th scope="col" class="num">"Row"</th>
                            <th scope="col">"Column"</th>
                            <th scope="col">"Problem"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|e| {
                                view! {
                                    <tr>
                                        <td class="num">{e.row}</td>
                                        <td><code>{e.column}</code></td>
                                        <td>{e.message}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
    })
}
