//! Add a product by hand. It starts with Auto Sync as Settings > Inventory's rules say.

use crate::api::{self, Loaded};
use crate::components::modal::Modal;
use crate::components::toast::{use_toaster, Tone};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tally_domain::api::{NewProduct, ProductPage};
use tally_domain::{Quantity, Sku};

/// The add-product dialog; `open` closes it, `products` is reloaded after a save.
#[component]
pub fn AddProductDialog(open: RwSignal<bool>, products: Loaded<ProductPage>) -> impl IntoView {
    let toaster = use_toaster();
    let sku = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let quantity = RwSignal::new("0".to_owned());
    let brand = RwSignal::new(String::new());
    let supplier = RwSignal::new(String::new());
    let tags = RwSignal::new(String::new());
    let error = RwSignal::new(None::<(String, String)>);
    let saving = RwSignal::new(false);
    // The same parsers the worker uses: mistakes show before anything is sent.
    let checked = Memo::new(move |_| -> Result<NewProduct, (String, String)> {
        let sku = Sku::parse(&sku.get()).map_err(|e| ("sku".into(), e.to_string()))?;
        let quantity = Quantity::parse(&quantity.get())
            .map_err(|e| ("quantity".into(), format!("Quantity {e}")))?;
        if name.get().trim().is_empty() {
            return Err(("name".into(), "Give the product a name".into()));
        }
        Ok(NewProduct {
            sku,
            name: name.get(),
            quantity,
            brand: brand.get(),
            supplier: supplier.get(),
            tags: vec![tags.get()],
        })
    });
    let field_error = move |field: &'static str| {
        move || {
            error
                .get()
                .or_else(|| checked.get().err().filter(|_| !sku.get().is_empty()))
                .filter(|(f, _)| f == field)
                .map(|(_, m)| m)
        }
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(body) = checked.get_untracked() else {
            return;
        };
        saving.set(true);
        spawn_local(async move {
            match api::create_product(&body).await {
                Ok(product) => {
                    let sync = if product.auto_sync { "on" } else { "off" };
                    toaster.show(
                        Tone::Success,
                        format!(
                            "{} added with {} on hand (Auto Sync {sync})",
                            product.sku, product.quantity
                        ),
                    );
                    products.refetch();
                    open.set(false);
                }
                Err(e) => error.set(Some((e.field.unwrap_or_else(|| "sku".into()), e.message))),
            }
            saving.set(false);
        });
    };
    let field = move |key: &'static str, label: &'static str, signal: RwSignal<String>| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input
                    type="text"
                    data-testid=format!("new-{key}")
                    prop:value=move || signal.get()
                    on:input=move |ev| {
                        error.set(None);
                        signal.set(event_target_value(&ev));
                    }
                />
                <span class="field-error">{field_error(key)}</span>
            </label>
        }
    };
    view! {
        <Modal labelled_by="add-product-title".to_owned() testid="add-product-dialog" on_close=move || open.set(false)>
                <form on:submit=save novalidate=true>
                    <h2 id="add-product-title">"Add product"</h2>
                    {field("sku", "SKU", sku)}
                    {field("name", "Name", name)}
                    {field("quantity", "Quantity on hand", quantity)}
                    {field("brand", "Brand (optional)", brand)}
                    {field("supplier", "Supplier (optional)", supplier)}
                    {field("tags", "Tags (optional, comma-separated)", tags)}
                    <div class="dialog-actions">
                        <button type="button" class="button" on:click=move |_| open.set(false)>"Cancel"</button>
                        <button
                            type="submit"
                            class="button button-primary"
                            data-testid="new-save"
                            disabled=move || checked.get().is_err() || saving.get()
                        >
                            {move || if saving.get() { "Adding…" } else { "Add product" }}
                        </button>
                    </div>
                </form>
        </Modal>
    }
}
