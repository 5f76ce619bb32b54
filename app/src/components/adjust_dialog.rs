//! The manual adjustment dialog: set the quantity (a stock count) or add/remove units, with a
//! reason. The amount is checked with the same domain rules the worker applies, and the new
//! quantity is previewed before saving.

use crate::api;
use crate::components::modal::Modal;
use crate::components::toast::{use_toaster, Tone};
use crate::reactive::show_when;
use leptos::prelude::*;
use leptos::task::spawn_local;
use tally_domain::api::{AdjustMode, AdjustQuantity};
use tally_domain::quantity::{parse_whole_number, WholeNumber};
use tally_domain::{Adjustment, ProductId, Quantity};

/// What the seller typed, checked: the request to send and the quantity it leads to.
fn check(mode: AdjustMode, amount: &str, on_hand: i64) -> Result<(AdjustQuantity, i64), String> {
    let number = match mode {
        AdjustMode::Set => Quantity::parse(amount).map(Quantity::get),
        AdjustMode::Add => parse_whole_number(amount),
    }
    .map_err(|e| format!("Amount {e}"))?;
    let request = AdjustQuantity {
        mode,
        amount: WholeNumber(number),
        reason: String::new(),
    };
    let adjustment: Adjustment = request.adjustment().map_err(|e| e.message)?;
    let current = Quantity::new(on_hand).unwrap_or_default();
    let after = adjustment
        .apply(current)
        .map_err(|e| api::sentence(&e.to_string()))?;
    Ok((request, after.get()))
}

/// A modal dialog adjusting one product's quantity; `open` closes it.
#[component]
pub fn AdjustDialog(
    id: ProductId,
    sku: String,
    quantity: RwSignal<i64>,
    auto_sync: RwSignal<bool>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let toaster = use_toaster();
    let mode = RwSignal::new(AdjustMode::Set);
    let amount = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let saving = RwSignal::new(false);
    let server_error = RwSignal::new(None::<String>);
    let checked = Memo::new(move |_| check(mode.get(), &amount.get(), quantity.get()));
    let amount_error = move || {
        let typed = !amount.get().trim().is_empty();
        server_error
            .get()
            .or_else(|| checked.get().err().filter(|_| typed))
    };
    let close = move || open.set(false);
    let sku_for_save = sku.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok((mut request, _)) = checked.get_untracked() else {
            return;
        };
        request.reason = reason.get_untracked();
        saving.set(true);
        server_error.set(None);
        let sku = sku_for_save.clone();
        spawn_local(async move {
            match api::adjust(id, &request).await {
                Ok(result) => {
                    quantity.set(result.after);
                    auto_sync.set(result.product.auto_sync);
                    let push = match (result.sync_queued, result.listings) {
                        (true, 0) => "no listing to push to yet: link one on the product's page",
                        (true, _) => "pushing it to its listings now",
                        (false, _) => "Auto Sync is off, so storefronts were not updated",
                    };
                    toaster.show(
                        Tone::Success,
                        format!("{sku}: {} → {} ({push})", result.before, result.after),
                    );
                    open.set(false);
                }
                Err(e) => server_error.set(Some(e.message)),
            }
            saving.set(false);
        });
    };
    let heading_id = format!("adjust-title-{id}");
    let labelled_by = heading_id.clone();
    view! {
        <Modal labelled_by=labelled_by testid="adjust-dialog" on_close=close>
                <form on:submit=save novalidate=true>
                    <h2 id=heading_id>"Adjust quantity"</h2>
                    <p class="muted">
                        <code>{sku}</code>
                        {move || format!(" · {} on hand", quantity.get())}
                    </p>
                    <fieldset class="segmented">
                        <legend>"Change"</legend>
                        <label>
                            <input
                                type="radio"
                                name="mode"
                                data-testid="adjust-mode-set"
                                prop:checked=move || mode.get() == AdjustMode::Set
                                on:change=move |_| mode.set(AdjustMode::Set)
                            />
                            "Set to"
                        </label>
                        <label>
                            <input
                                type="radio"
                                name="mode"
                                data-testid="adjust-mode-add"
                                prop:checked=move || mode.get() == AdjustMode::Add
                                on:change=move |_| mode.set(AdjustMode::Add)
                            />
                            "Add or remove"
                        </label>
                    </fieldset>
                    <label class="field">
                        <span>
                            {move || match mode.get() {
                                AdjustMode::Set => "New quantity on hand",
                                AdjustMode::Add => "Units to add (negative to remove)",
                            }}
                        </span>
                        <input
                            type="text"
                            inputmode="numeric"
                            autocomplete="off"
                            autofocus=true
                            data-testid="adjust-amount"
                            aria-invalid=move || amount_error().is_some().to_string()
                            prop:value=move || amount.get()
                            on:input=move |ev| {
                                server_error.set(None);
                                amount.set(event_target_value(&ev));
                            }
                        />
                        {show_when(move || amount_error().is_some(), move || view! {
                            <span class="field-error" data-testid="adjust-error">
                                {move || amount_error().unwrap_or_default()}
                            </span>
                        }.into_any())}
                    </label>
                    <label class="field">
                        <span>"Reason (optional)"</span>
                        <input
                            type="text"
                            maxlength="500"
                            placeholder="Stock count, damaged, return…"
                            data-testid="adjust-reason"
                            prop:value=move || reason.get()
                            on:input=move |ev| reason.set(event_target_value(&ev))
                        />
                    </label>
                    <p class="preview" data-testid="adjust-preview">
                        {move || match checked.get() {
                            Ok((_, after)) => {
                                let sync = if auto_sync.get() {
                                    "Auto Sync will push it to every active listing."
                                } else {
                                    "Auto Sync is off: storefronts keep their quantity."
                                };
                                format!("New quantity: {after}. {sync}")
                            }
                            Err(_) => String::new(),
                        }}
                    </p>
                    <div class="dialog-actions">
                        <button type="button" class="button" on:click=move |_| close()>
                            "Cancel"
                        </button>
                        <button
                            type="submit"
                            class="button button-primary"
                            data-testid="adjust-save"
                            disabled=move || checked.get().is_err() || saving.get()
                        >
                            {move || if saving.get() { "Saving…" } else { "Save" }}
                        </button>
                    </div>
                </form>
        </Modal>
    }
}
