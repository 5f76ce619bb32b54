//! A modal dialog on the browser's own `<dialog>`, opened with `showModal()`: focus moves into
//! it (to its `autofocus` field), the page behind it is inert so Tab stays inside, and Esc or a
//! click on the dimmed page closes it. When it closes (Esc, Cancel or Save alike) focus goes
//! back to what opened it, so a keyboard user carries on where they were.

use leptos::html;
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use wasm_bindgen::JsCast;
use web_sys::HtmlElement;

/// The dialog; `on_close` is asked to close it (the caller owns whether it is open).
#[component]
pub fn Modal(
    /// The id of the element that names the dialog (its heading).
    labelled_by: String,
    testid: &'static str,
    on_close: impl Fn() + Copy + Send + Sync + 'static,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    // What had focus when the dialog opened: the button that opened it.
    let opener = document()
        .active_element()
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
        .map(SendWrapper::new);
    // After the dialog has left the page: while it is still open, the page behind it is inert
    // and cannot take focus.
    on_cleanup(move || {
        set_timeout(
            move || {
                if let Some(opener) = opener.filter(|o| o.is_connected()) {
                    let _ = opener.focus();
                }
            },
            std::time::Duration::ZERO,
        );
    });
    // Whether a mouse event is on the dimmed page around the dialog.
    let outside = move |ev: &web_sys::MouseEvent| {
        let Some(d) = dialog.get_untracked() else {
            return false;
        };
        let on_dialog = ev
            .target()
            .is_some_and(|t| AsRef::<web_sys::EventTarget>::as_ref(&d) == &t);
        let r = d.get_bounding_client_rect();
        let (x, y) = (f64::from(ev.client_x()), f64::from(ev.client_y()));
        on_dialog && (x < r.left() || x > r.right() || y < r.top() || y > r.bottom())
    };
    let pressed_outside = StoredValue::new(false);
    dialog.on_load(|d| {
        let _ = d.show_modal();
    });
    view! {
        <dialog
            class="dialog"
            node_ref=dialog
            aria-labelledby=labelled_by
            data-testid=testid
            // Esc: the caller closes it, so its state and the page agree.
            on:cancel=move |ev: web_sys::Event| {
                ev.prevent_default();
                on_close();
            }
            // Only a press and release both outside the dialog's box close it: the dialog
            // element is also what a click on its own scrollbar, or a text selection dragged
            // out of a field, lands on.
            on:mousedown=move |ev: web_sys::MouseEvent| pressed_outside.set_value(outside(&ev))
            on:click=move |ev: web_sys::MouseEvent| {
                if pressed_outside.get_value() && outside(&ev) {
                    on_close();
                }
            }
        >
            <div class="dialog-body">{children()}</div>
        </dialog>
    }
}
