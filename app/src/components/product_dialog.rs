//! Add a product by hand, or edit one's details (SKU, name, brand, supplier, tags). A new
//! product starts with Auto Sync as Settings > Inventory's rules say; its quantity after that
//! changes only through an adjustment, so editing has no quantity field.

use crate::api;
use crate::components::modal::Modal;
use crate::components::toast::{use_toaster, Tone};
use leptos::prelude::*;
use leptos::task::spawn_local;
use tally_domain::api::{NewProduct, Product, ProductChanges};
use tally_domain::{Quantity, Sku};

/// What the dialog sends: a new product, or changes to `editing`.
enum Draft {
    New(NewProduct),
    Changes(ProductChanges),
}

/// The product dialog: `editing` is the product to edit (`None` adds one). `open` closes it;
/// `on_saved` gets the product as stored.
#[component]
pub fn ProductDialog(
    open: RwSignal<bool>,
    editing: Option<Product>,
    on_saved: Callback<Product>,
) -> impl IntoView {
    let toaster = use_toaster();
    let is_edit = editing.is_some();
    let start =
        |f: fn(&Product) -> String| RwSignal::new(editing.as_ref().map(f).unwrap_or_default());
    let sku = start(|p| p.sku.to_string());
    let name = start(|p| p.name.clone());
    let brand = start(|p| p.brand.clone());
    let supplier = start(|p| p.supplier.clone());
    let tags = start(|p| p.tags.join(", "));
    let quantity = RwSignal::new("0".to_owned());
    let error = RwSignal::new(None::<(String, String)>);
    let saving = RwSignal::new(false);
    // The same parsers the worker uses: mistakes show before anything is sent.
    let checked = Memo::new(move |_| -> Result<(), (String, String)> {
        Sku::parse(&sku.get()).map_err(|e| ("sku".into(), e.to_string()))?;
        if !is_edit {
            Quantity::parse(&quantity.get())
                .map_err(|e| ("quantity".into(), format!("Quantity {e}")))?;
        }
        if name.get().trim().is_empty() {
            return Err(("name".into(), "Give the product a name".into()));
        }
        Ok(())
    });
    let draft = move || -> Option<Draft> {
        let sku = Sku::parse(&sku.get_untracked()).ok()?;
        let (name, brand, supplier) = (
            name.get_untracked(),
            brand.get_untracked(),
            supplier.get_untracked(),
        );
        let tags = vec![tags.get_untracked()];
        Some(if is_edit {
            Draft::Changes(ProductChanges {
                sku: Some(sku),
                name: Some(name),
                brand: Some(brand),
                supplier: Some(supplier),
                tags: Some(tags),
                archived: None,
            })
        } else {
            Draft::New(NewProduct {
                sku,
                name,
                quantity: Quantity::parse(&quantity.get_untracked()).ok()?,
                brand,
                supplier,
                tags,
            })
        })
    };
    let id = editing.as_ref().map(|p| p.id);
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
        let Some(draft) = draft() else {
            return;
        };
        saving.set(true);
        spawn_local(async move {
            let saved = match (&draft, id) {
                (Draft::Changes(changes), Some(id)) => api::edit_product(id, changes).await,
                (Draft::New(new), _) => api::create_product(new).await,
                (Draft::Changes(_), None) => return,
            };
            match saved {
                Ok(product) => {
                    let message = if is_edit {
                        format!("{} saved", product.sku)
                    } else {
                        let sync = if product.auto_sync { "on" } else { "off" };
                        format!(
                            "{} added with {} on hand (Auto Sync {sync})",
                            product.sku, product.quantity
                        )
                    };
                    toaster.show(Tone::Success, message);
                    on_saved.run(product);
                    open.set(false);
                }
                Err(e) => error.set(Some((e.field.unwrap_or_else(|| "sku".into()), e.message))),
            }
            saving.set(false);
        });
    };
    let prefix = if is_edit { "edit" } else { "new" };
    let field = move |key: &'static str, label: &'static str, signal: RwSignal<String>| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input
                    type="text"
                    data-testid=format!("{prefix}-{key}")
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
    let (title, busy, action) = if is_edit {
        ("Edit product", "Saving…", "Save")
    } else {
        ("Add product", "Adding…", "Add product")
    };
    view! {
        <Modal labelled_by="product-dialog-title".to_owned() testid="product-dialog" on_close=move || open.set(false)>
            <form on:submit=save novalidate=true>
                <h2 id="product-dialog-title">{title}</h2>
                {field("sku", "SKU", sku)}
                {is_edit.then(|| view! {
                    <p class="hint muted">"Its listings, history and orders follow a new SKU."</p>
                })}
                {field("name", "Name", name)}
                {(!is_edit).then(|| field("quantity", "Quantity on hand", quantity))}
                {field("brand", "Brand (optional)", brand)}
                {field("supplier", "Supplier (optional)", supplier)}
                {field("tags", "Tags (optional, comma-separated)", tags)}
                <div class="dialog-actions">
                    <button type="button" class="button" on:click=move |_| open.set(false)>"Cancel"</button>
                    <button
                        type="submit"
                        class="button button-primary"
                        data-testid=format!("{prefix}-save")
                        disabled=move || checked.get().is_err() || saving.get()
                    >
                        {move || if saving.get() { busy } else { action }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}
