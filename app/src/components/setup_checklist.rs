//! The first-run checklist above the inventory: the four steps from a new account to a synced
//! catalogue, each with the link that does it. It goes away once all four are done.

use crate::api;
use leptos::prelude::*;
use tally_domain::api::SetupSteps;

/// One step: done or not, what it is, why, and where to do it.
struct Step {
    done: bool,
    title: &'static str,
    hint: &'static str,
    href: &'static str,
    action: &'static str,
}

fn steps(s: SetupSteps) -> [Step; 4] {
    [
        Step {
            done: s.storefront,
            title: "Connect a storefront",
            hint: "Shopify, WooCommerce, eBay, Amazon, BigCommerce or Vendure: Tally checks the credential as you save.",
            href: "/settings/storefronts",
            action: "Connect a storefront",
        },
        Step {
            done: s.products,
            title: "Add your products",
            hint: "Upload an inventory file (SKU and quantity), or add products one by one.",
            href: "/uploads",
            action: "Upload a file",
        },
        Step {
            done: s.listing,
            title: "Link listings",
            hint: "Import a storefront's listings: Tally matches them to your products by SKU.",
            href: "/settings/storefronts",
            action: "Import listings",
        },
        Step {
            done: s.auto_sync,
            title: "Turn on Auto Sync",
            hint: "Switch it on for products in the list below, or for new products in Settings › Inventory.",
            href: "/settings/inventory",
            action: "Auto Sync rules",
        },
    ]
}

/// The checklist, while a step is left.
#[component]
pub fn SetupChecklist() -> impl IntoView {
    let setup = api::setup();
    move || {
        let s = setup.get().and_then(Result::ok).filter(|s| s.done() < 4)?;
        let done = s.done();
        Some(view! {
            <section class="card card-padded setup" data-testid="setup-checklist" aria-labelledby="setup-title">
                <div class="job-head">
                    <h2 id="setup-title">"Get Tally syncing"</h2>
                    <span class="muted" data-testid="setup-progress">{format!("{done} of 4 done")}</span>
                </div>
                <div class="progress" role="progressbar" aria-label="Setup" aria-valuemin="0"
                    aria-valuemax="4" aria-valuenow=done.to_string()>
                    <div class="progress-fill" style=format!("width: {}%", done * 25)></div>
                </div>
                <ol class="setup-steps">
                    {steps(s).into_iter().map(|step| view! {
                        <li class:done=step.done data-testid="setup-step">
                            <span class="setup-mark" aria-hidden="true">{if step.done { "✓" } else { "" }}</span>
                            <span>
                                <strong>{step.title}</strong>
                                {step.done.then_some(view! { <span class="visually-hidden">" (done)"</span> })}
                                <span class="product-meta">{step.hint}</span>
                            </span>
                            {(!step.done).then(|| view! {
                                <a class="button button-small" href=step.href>{step.action}</a>
                            })}
                        </li>
                    }).collect_view()}
                </ol>
            </section>
        })
    }
}
