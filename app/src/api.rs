//! The one module that talks to the worker: one typed function per endpoint, one error type.

use crate::list_query::ListQuery;
use gloo_net::http::{Request, RequestBuilder};
use leptos::prelude::*;
use send_wrapper::SendWrapper;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::any::Any;
use std::cell::Cell;
use std::marker::PhantomData;
use std::rc::Rc;
use std::time::Duration;
use tally_domain::api::{
    AdjustQuantity, AdjustmentResult, ApiKeySummary, AutoSyncRulesView, BulkAutoSync, BulkResult,
    CreatedApiKey, DeliveryList, DriftCheck, DriftFixed, DriftReport, ErrorBody, FixDrift,
    ImportItemPage, InventorySettings, LedgerEntry, Listing, ListingImport, ListingImportResult,
    ListingList, ListingUpdate, Me, NewApiKey, NewListing, NewProduct, Product, ProductChanges,
    ProductPage, ProductValues, PushProgress, ResyncJob, SetAutoSync, SetAutoSyncRules, SetupSteps,
    SignIn, SignUp, Storefront, StorefrontInput, StorefrontItems, StorefrontList, SyncHealth,
    SyncHistoryPage, SyncNow,
};
use tally_domain::bulk_job::{BulkAction, BulkJob, StartBulkJob};
use tally_domain::csv_import::{ApplyUpload, CellError, UploadPreview};
use tally_domain::filter::ProductFilter;
use tally_domain::listing_import::ImportClass;
use tally_domain::order::{CancelOrder, OrderIn, OrderOut};
use tally_domain::rules::Rule;
use tally_domain::scope::Scope;
use tally_domain::selection::Selection;
use tally_domain::{PageRequest, ProductId};
use web_sys::AbortController;

/// Why a call failed, worded for the seller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status; 0 when the worker could not be reached.
    pub status: u16,
    pub message: String,
    /// The field at fault, for showing the message under it.
    pub field: Option<String>,
    /// Every bad cell of a refused file (empty for everything else).
    pub rows: Vec<CellError>,
}

impl ApiError {
    pub(crate) fn network(e: impl std::fmt::Display) -> Self {
        Self::said(
            0,
            format!("Tally could not be reached ({e}). Check your connection and try again."),
        )
    }

    /// A failure with nothing but a message.
    pub(crate) fn said(status: u16, message: String) -> Self {
        Self {
            status,
            message,
            field: None,
            rows: Vec::new(),
        }
    }

    /// Whether the caller must sign in (again).
    pub fn is_unauthenticated(&self) -> bool {
        self.status == 401
    }
}

/// The worker's messages start lower-case so they read well after a field name; shown on their
/// own they start a sentence. (ASCII only: the messages are English, and Unicode case tables
/// would add about 10 kB to the wasm.)
pub(crate) fn sentence(message: &str) -> String {
    let mut text = message.to_owned();
    if let Some(first) = text.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    text
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

// Size note: every async fn and every `LocalResource` is a state machine that the compiler
// copies for each type it is used with, and those copies were most of the app's wasm. So the
// network exchange below is one non-generic function, typed values are only (de)serialised
// around it, and every page's data is one `LocalResource` type behind [`Loaded`].

/// How long a page waits for data before saying the worker did not answer.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a change may take: a large inventory file is sent and checked in one request.
const WRITE_TIMEOUT: Duration = Duration::from_secs(120);

/// Sends a request (with `body` as its content, if any) and reads the answer's text; a refusal
/// becomes the worker's message.
async fn exchange(
    request: RequestBuilder,
    body: Option<String>,
    stop: Stop,
) -> Result<String, ApiError> {
    let request = request.abort_signal(Some(&stop.controller.signal()));
    let request = match body {
        Some(body) => request.body(body),
        None => request.build(),
    }
    .map_err(ApiError::network)?;
    let answer = request.send().await.map_err(|e| stop.explain(e))?;
    let status = answer.status();
    let text = answer.text().await.map_err(|e| stop.explain(e))?;
    if answer.ok() {
        return Ok(text);
    }
    Err(match serde_json::from_str::<ErrorBody>(&text) {
        Ok(body) => ApiError {
            status,
            message: sentence(&body.error.message),
            field: body.error.field,
            rows: body.error.rows.unwrap_or_default(),
        },
        Err(_) => ApiError::said(
            status,
            format!("Tally answered with an unexpected error (HTTP {status}). Try again."),
        ),
    })
}

/// Ends a request that takes longer than its timeout, or whose page has gone away.
struct Stop {
    controller: AbortController,
    timeout: Duration,
    timed_out: Rc<Cell<bool>>,
    timer: Option<TimeoutHandle>,
}

impl Stop {
    /// Aborts the request after `timeout`.
    fn after(timeout: Duration) -> Self {
        let controller =
            AbortController::new().expect("browsers that run wasm have AbortController");
        let timed_out = Rc::new(Cell::new(false));
        let timer = {
            let (controller, timed_out) = (controller.clone(), Rc::clone(&timed_out));
            set_timeout_with_handle(
                move || {
                    timed_out.set(true);
                    controller.abort();
                },
                timeout,
            )
            .ok()
        };
        Self {
            controller,
            timeout,
            timed_out,
            timer,
        }
    }

    /// Also aborts it when the reactive owner it is made under is cleaned up: the page that
    /// asked leaves, or asks again before the answer (whose answer nobody would read).
    fn or_when_page_leaves(self) -> Self {
        let controller = SendWrapper::new(self.controller.clone());
        on_cleanup(move || controller.abort());
        self
    }

    /// Why nothing came back, in the seller's words.
    fn explain(&self, error: gloo_net::Error) -> ApiError {
        if self.timed_out.get() {
            ApiError::said(
                0,
                format!(
                    "Tally did not answer within {} seconds. Check your connection and try again.",
                    self.timeout.as_secs()
                ),
            )
        } else {
            ApiError::network(error)
        }
    }
}

impl Drop for Stop {
    fn drop(&mut self) {
        if let Some(timer) = self.timer.take() {
            timer.clear();
        }
    }
}

/// Reads an answer's JSON as `T`.
fn decode<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| {
        ApiError::said(
            0,
            format!("Tally answered with something this page cannot read ({e}). Reload the page."),
        )
    })
}

/// `GET path`.
async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    decode(&exchange(Request::get(path), None, Stop::after(READ_TIMEOUT)).await?)
}

/// Sends `body` as JSON with the CSRF header.
async fn send_json<B: Serialize, T: DeserializeOwned>(
    request: RequestBuilder,
    body: &B,
) -> Result<T, ApiError> {
    let body = serde_json::to_string(body).map_err(ApiError::network)?;
    decode(&send_text(request, "application/json", body).await?)
}

/// Sends text of a content type with the CSRF header; the answer's text.
async fn send_text(
    request: RequestBuilder,
    content_type: &str,
    text: String,
) -> Result<String, ApiError> {
    let request = write(request).header("content-type", content_type);
    exchange(request, Some(text), Stop::after(WRITE_TIMEOUT)).await
}

/// A request that changes data.
fn write(request: RequestBuilder) -> RequestBuilder {
    request.header(CSRF_HEADER, "1")
}

/// Sent with every request that changes data: the worker refuses cookie-authenticated writes
/// without it, which no other site can make a browser add (CSRF defence).
const CSRF_HEADER: &str = "X-Tally-Csrf";

/// Data a page shows, loaded from the worker and loaded again when a signal its path reads
/// changes (or on [`Loaded::refetch`]). Reads like a `LocalResource<Result<T, ApiError>>`.
pub struct Loaded<T> {
    resource: LocalResource<Result<Rc<dyn Any>, ApiError>>,
    value: PhantomData<fn() -> T>,
}

impl<T> Clone for Loaded<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Loaded<T> {}

/// Turns an answer's text into the page's value, behind `dyn Any` so [`load`] has one type.
type Decoder = fn(&str) -> Result<Rc<dyn Any>, ApiError>;

impl<T: DeserializeOwned + Clone + 'static> Loaded<T> {
    /// Loads `GET path()`; an `Err` path is shown as that error without a request.
    fn new(path: impl Fn() -> Result<String, ApiError> + 'static) -> Self {
        let decoder: Decoder = |text| decode::<T>(text).map(|v| Rc::new(v) as Rc<dyn Any>);
        Self {
            resource: load(Rc::new(path), decoder),
            value: PhantomData,
        }
    }

    /// The value once loaded (tracked: a view reading it re-renders when it reloads).
    pub fn get(&self) -> Option<Result<T, ApiError>> {
        Self::typed(self.resource.get())
    }

    /// The value once loaded, without tracking it.
    pub fn get_untracked(&self) -> Option<Result<T, ApiError>> {
        Self::typed(self.resource.get_untracked())
    }

    fn typed(loaded: Option<Result<Rc<dyn Any>, ApiError>>) -> Option<Result<T, ApiError>> {
        loaded.map(|loaded| {
            loaded.map(|value| {
                value
                    .downcast_ref::<T>()
                    .cloned()
                    .expect("a Loaded<T> only ever holds a T")
            })
        })
    }

    /// Loads it again.
    pub fn refetch(&self) {
        self.resource.refetch();
    }
}

/// The one `LocalResource` behind every [`Loaded`]: `path` is read inside the resource, so
/// the signals it reads are tracked.
fn load(
    path: Rc<dyn Fn() -> Result<String, ApiError>>,
    decoder: Decoder,
) -> LocalResource<Result<Rc<dyn Any>, ApiError>> {
    LocalResource::new(move || {
        let path = path();
        let stop = Stop::after(READ_TIMEOUT).or_when_page_leaves();
        async move { decoder(&exchange(Request::get(&path?), None, stop).await?) }
    })
}

/// A path with nothing to vary.
fn fixed(path: &'static str) -> impl Fn() -> Result<String, ApiError> {
    move || Ok(path.to_owned())
}

/// `GET /api/v1/auth/me`: 401 when nobody is signed in.
pub fn me() -> Loaded<Me> {
    Loaded::new(fixed("/api/v1/auth/me"))
}

/// `POST /api/v1/auth/login`.
pub async fn sign_in(body: &SignIn) -> Result<Me, ApiError> {
    send_json(Request::post("/api/v1/auth/login"), body).await
}

/// `POST /api/v1/auth/signup`.
pub async fn sign_up(body: &SignUp) -> Result<Me, ApiError> {
    send_json(Request::post("/api/v1/auth/signup"), body).await
}

/// `POST /api/v1/auth/logout`.
pub async fn sign_out() -> Result<(), ApiError> {
    let request = write(Request::post("/api/v1/auth/logout"));
    exchange(request, None, Stop::after(WRITE_TIMEOUT)).await?;
    Ok(())
}

/// `GET /api/v1/api-keys`.
pub fn api_keys() -> Loaded<Vec<ApiKeySummary>> {
    Loaded::new(fixed("/api/v1/api-keys"))
}

/// `POST /api/v1/api-keys`.
pub async fn create_api_key(name: String, scope: Scope) -> Result<CreatedApiKey, ApiError> {
    send_json(
        Request::post("/api/v1/api-keys"),
        &NewApiKey { name, scope },
    )
    .await
}

/// `DELETE /api/v1/api-keys/{id}`.
pub async fn revoke_api_key(id: i64) -> Result<(), ApiError> {
    let request = write(Request::delete(&format!("/api/v1/api-keys/{id}")));
    exchange(request, None, Stop::after(WRITE_TIMEOUT)).await?;
    Ok(())
}

/// `GET /api/v1/settings/auto-sync-rules`.
pub fn auto_sync_rules() -> Loaded<AutoSyncRulesView> {
    Loaded::new(fixed("/api/v1/settings/auto-sync-rules"))
}

/// `PUT /api/v1/settings/auto-sync-rules`.
pub async fn save_auto_sync_rules(rules: Vec<Rule>) -> Result<AutoSyncRulesView, ApiError> {
    send_json(
        Request::put("/api/v1/settings/auto-sync-rules"),
        &SetAutoSyncRules { rules },
    )
    .await
}

/// `GET /api/v1/products` for the inventory's filters, sort and page.
pub fn products(query: impl Fn() -> ListQuery + 'static) -> Loaded<ProductPage> {
    Loaded::new(move || Ok(query().api_path()))
}

/// `POST /api/v1/bulk-jobs`: "for all in filter".
pub async fn start_bulk_job(
    action: BulkAction,
    filter: &ProductFilter,
) -> Result<BulkJob, ApiError> {
    let params = filter.to_params().into_iter();
    let body = StartBulkJob {
        action,
        filter: params.map(|(key, value)| (key.to_owned(), value)).collect(),
    };
    send_json(Request::post("/api/v1/bulk-jobs"), &body).await
}

/// `GET /api/v1/bulk-jobs/{id}`.
pub async fn bulk_job(id: i64) -> Result<BulkJob, ApiError> {
    get(&format!("/api/v1/bulk-jobs/{id}")).await
}

/// `GET /api/v1/bulk-jobs?status=running`.
pub async fn running_bulk_jobs() -> Result<Vec<BulkJob>, ApiError> {
    get("/api/v1/bulk-jobs?status=running").await
}

/// `POST /api/v1/bulk-jobs/{id}/cancel`.
pub async fn cancel_bulk_job(id: i64) -> Result<BulkJob, ApiError> {
    let request = Request::post(&format!("/api/v1/bulk-jobs/{id}/cancel"));
    decode(&send_text(request, "application/json", "{}".into()).await?)
}

/// `POST /api/v1/orders`.
pub async fn place_order(order: &OrderIn) -> Result<OrderOut, ApiError> {
    send_json(Request::post("/api/v1/orders"), order).await
}

/// `GET /api/v1/orders`.
pub fn orders() -> Loaded<Vec<OrderOut>> {
    Loaded::new(fixed("/api/v1/orders"))
}

/// `POST /api/v1/orders/cancel`.
pub async fn cancel_order(storefront: &str, order_id: &str) -> Result<OrderOut, ApiError> {
    let body = CancelOrder {
        storefront: storefront.to_owned(),
        order_id: order_id.to_owned(),
    };
    send_json(Request::post("/api/v1/orders/cancel"), &body).await
}

/// `POST /api/v1/uploads` with the file's text; a refusal names every bad cell.
pub async fn upload_file(csv: String) -> Result<UploadPreview, ApiError> {
    post_csv("/api/v1/uploads", csv).await
}

/// `POST /api/v1/listings/import` with the file's text; a refusal names every bad cell.
pub async fn import_listings(csv: String) -> Result<ListingImportResult, ApiError> {
    post_csv("/api/v1/listings/import", csv).await
}

/// Posts a CSV file.
async fn post_csv<T: DeserializeOwned>(url: &str, csv: String) -> Result<T, ApiError> {
    decode(&send_text(Request::post(url), "text/csv", csv).await?)
}

/// `GET /api/v1/uploads/{id}`: the preview, with an apply job's progress.
pub async fn upload(id: i64) -> Result<UploadPreview, ApiError> {
    get(&format!("/api/v1/uploads/{id}")).await
}

/// `POST /api/v1/uploads/{id}/apply`.
pub async fn apply_upload(id: i64, confirm_wipe: bool) -> Result<UploadPreview, ApiError> {
    let body = ApplyUpload { confirm_wipe };
    send_json(Request::post(&format!("/api/v1/uploads/{id}/apply")), &body).await
}

/// `POST /api/v1/products`.
pub async fn create_product(body: &NewProduct) -> Result<Product, ApiError> {
    send_json(Request::post("/api/v1/products"), body).await
}

/// `PATCH /api/v1/products/{id}`: new details, or archive / unarchive.
pub async fn edit_product(id: ProductId, body: &ProductChanges) -> Result<Product, ApiError> {
    let url = format!("/api/v1/products/{id}");
    send_json(Request::patch(&url), body).await
}

/// `POST /api/v1/products/auto-sync`: Auto Sync on or off for selected products.
pub async fn bulk_auto_sync(ids: &[ProductId], on: bool) -> Result<BulkResult, ApiError> {
    let body = BulkAutoSync {
        ids: selection(ids)?,
        auto_sync: on,
    };
    send_json(Request::post("/api/v1/products/auto-sync"), &body).await
}

/// `POST /api/v1/products/sync-now`.
pub async fn sync_now(ids: &[ProductId]) -> Result<BulkResult, ApiError> {
    let body = SyncNow {
        ids: selection(ids)?,
    };
    send_json(Request::post("/api/v1/products/sync-now"), &body).await
}

/// `GET /api/v1/pushes/progress`: how far Sync Now's `pushes` have got.
pub async fn push_progress(pushes: &[i64]) -> Result<PushProgress, ApiError> {
    let ids: Vec<String> = pushes.iter().map(i64::to_string).collect();
    get(&format!("/api/v1/pushes/progress?ids={}", ids.join(","))).await
}

/// Selected products, checked as the worker checks them (1 to 250).
fn selection(ids: &[ProductId]) -> Result<Selection, ApiError> {
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    Selection::new(&ids).map_err(|e| ApiError::said(400, sentence(&e.to_string())))
}

/// `GET /api/v1/products/{id}`.
pub fn product(id: Option<ProductId>) -> Loaded<Product> {
    Loaded::new(move || match id {
        Some(id) => Ok(format!("/api/v1/products/{id}")),
        None => Err(ApiError::said(404, "Product not found".into())),
    })
}

/// `GET /api/v1/products/{id}/ledger`.
///
/// Reloads whenever `reload` changes.
pub fn ledger(id: ProductId, reload: impl Track + 'static) -> Loaded<Vec<LedgerEntry>> {
    Loaded::new(move || {
        reload.track();
        Ok(format!("/api/v1/products/{id}/ledger"))
    })
}

/// `PATCH /api/v1/products/{id}/auto-sync`.
pub async fn set_auto_sync(id: ProductId, on: bool) -> Result<Product, ApiError> {
    let url = format!("/api/v1/products/{id}/auto-sync");
    send_json(Request::patch(&url), &SetAutoSync { auto_sync: on }).await
}

/// `POST /api/v1/products/{id}/adjustments`.
pub async fn adjust(id: ProductId, body: &AdjustQuantity) -> Result<AdjustmentResult, ApiError> {
    let url = format!("/api/v1/products/{id}/adjustments");
    send_json(Request::post(&url), body).await
}

/// What the sync history list is narrowed to (empty = everything).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryFilter {
    /// One product's pushes only (empty: every product's).
    pub product_id: String,
    pub status: String,
    pub storefront_id: String,
    pub sku: String,
    /// A day as `YYYY-MM-DD` (from the date input), shown from its start in local time.
    pub from: Option<i64>,
}

/// `GET /api/v1/sync-history`.
pub fn sync_history(
    paging: Memo<PageRequest>,
    filter: RwSignal<HistoryFilter>,
) -> Loaded<SyncHistoryPage> {
    Loaded::new(move || Ok(history_path(paging.get(), filter.get())))
}

fn history_path(paging: PageRequest, filter: HistoryFilter) -> String {
    let mut url = format!(
        "/api/v1/sync-history?page={}&per_page={}",
        paging.page,
        paging.per_page.rows()
    );
    for (name, value) in [
        ("product_id", filter.product_id),
        ("status", filter.status),
        ("storefront_id", filter.storefront_id),
        ("sku", filter.sku),
        (
            "from",
            filter.from.map(|f| f.to_string()).unwrap_or_default(),
        ),
    ] {
        if !value.is_empty() {
            url.push_str(&format!("&{name}={}", js_sys::encode_uri_component(&value)));
        }
    }
    url
}

/// `GET /api/v1/settings/inventory`.
pub fn inventory_settings() -> Loaded<InventorySettings> {
    Loaded::new(fixed("/api/v1/settings/inventory"))
}

/// `PUT /api/v1/settings/inventory`.
pub async fn save_inventory_settings(
    wipe_guard_percent: u64,
) -> Result<InventorySettings, ApiError> {
    let body = InventorySettings { wipe_guard_percent };
    send_json(Request::put("/api/v1/settings/inventory"), &body).await
}

/// `GET /api/v1/sync-health`.
pub fn sync_health() -> Loaded<SyncHealth> {
    Loaded::new(fixed("/api/v1/sync-health"))
}

/// `GET /api/v1/storefronts`.
pub fn storefronts() -> Loaded<StorefrontList> {
    Loaded::new(fixed("/api/v1/storefronts"))
}

/// `GET /api/v1/products/values`: the brands, suppliers and tags to offer in the filters.
pub fn product_values() -> Loaded<ProductValues> {
    Loaded::new(fixed("/api/v1/products/values"))
}

/// `GET /api/v1/setup`: the first-run checklist's steps.
pub fn setup() -> Loaded<SetupSteps> {
    Loaded::new(fixed("/api/v1/setup"))
}

/// `GET /api/v1/storefronts/{id}/deliveries`: the connection's Incoming log.
pub fn deliveries(id: i64) -> Loaded<DeliveryList> {
    Loaded::new(move || Ok(format!("/api/v1/storefronts/{id}/deliveries")))
}

/// `POST /api/v1/storefronts/{id}/subscribe`: the webhook address subscribed again.
pub async fn subscribe_storefront(id: i64) -> Result<Storefront, ApiError> {
    send_json(
        Request::post(&format!("/api/v1/storefronts/{id}/subscribe")),
        &serde_json::json!({}),
    )
    .await
}

/// `POST /api/v1/storefronts/{id}/poll`: the storefront's recent orders read now.
pub async fn poll_storefront(id: i64) -> Result<Storefront, ApiError> {
    send_json(
        Request::post(&format!("/api/v1/storefronts/{id}/poll")),
        &serde_json::json!({}),
    )
    .await
}

/// `POST /api/v1/storefronts`.
pub async fn create_storefront(body: &StorefrontInput) -> Result<Storefront, ApiError> {
    send_json(Request::post("/api/v1/storefronts"), body).await
}

/// `PATCH /api/v1/storefronts/{id}`.
pub async fn update_storefront(id: i64, body: &StorefrontInput) -> Result<Storefront, ApiError> {
    send_json(Request::patch(&format!("/api/v1/storefronts/{id}")), body).await
}

/// `GET /api/v1/products/{id}/listings`.
///
/// Reloads whenever `reload` changes.
pub fn listings(product: ProductId, reload: impl Track + 'static) -> Loaded<ListingList> {
    Loaded::new(move || {
        reload.track();
        Ok(format!("/api/v1/products/{product}/listings"))
    })
}

/// `GET /api/v1/storefronts/{id}/items?q=`: the storefront's items matching `q`.
pub async fn search_items(storefront: i64, q: &str) -> Result<StorefrontItems, ApiError> {
    let q = js_sys::encode_uri_component(q);
    get(&format!("/api/v1/storefronts/{storefront}/items?q={q}")).await
}

/// `POST /api/v1/products/{id}/listings`.
pub async fn create_listing(product: ProductId, body: &NewListing) -> Result<Listing, ApiError> {
    send_json(
        Request::post(&format!("/api/v1/products/{product}/listings")),
        body,
    )
    .await
}

/// `PATCH /api/v1/listings/{id}`.
pub async fn update_listing(id: i64, body: &ListingUpdate) -> Result<Listing, ApiError> {
    send_json(Request::patch(&format!("/api/v1/listings/{id}")), body).await
}

/// `POST /api/v1/storefronts/{id}/imports`: reads the connection's catalogue for a preview.
pub async fn start_import(storefront: i64) -> Result<ListingImport, ApiError> {
    send_json(
        Request::post(&format!("/api/v1/storefronts/{storefront}/imports")),
        &serde_json::json!({}),
    )
    .await
}

/// `GET /api/v1/storefronts/{id}/imports`: the newest first.
pub async fn imports_of(storefront: i64) -> Result<Vec<ListingImport>, ApiError> {
    get(&format!("/api/v1/storefronts/{storefront}/imports")).await
}

/// `GET /api/v1/imports/{id}`.
pub async fn import(id: i64) -> Result<ListingImport, ApiError> {
    get(&format!("/api/v1/imports/{id}")).await
}

/// `GET /api/v1/imports/{id}/items?class=&page=&page_size=`; reloads when the class or page
/// changes.
pub fn import_items(
    id: i64,
    class: RwSignal<ImportClass>,
    page: RwSignal<u64>,
    page_size: u64,
) -> Loaded<ImportItemPage> {
    Loaded::new(move || {
        Ok(format!(
            "/api/v1/imports/{id}/items?class={}&page={}&page_size={page_size}",
            class.get().as_str(),
            page.get()
        ))
    })
}

/// `POST /api/v1/imports/{id}/apply`: links everything the preview shows, or nothing.
pub async fn apply_import(id: i64) -> Result<ListingImport, ApiError> {
    send_json(
        Request::post(&format!("/api/v1/imports/{id}/apply")),
        &serde_json::json!({}),
    )
    .await
}

/// `POST /api/v1/imports/{id}/cancel`.
pub async fn cancel_import(id: i64) -> Result<ListingImport, ApiError> {
    send_json(
        Request::post(&format!("/api/v1/imports/{id}/cancel")),
        &serde_json::json!({}),
    )
    .await
}

/// `GET /api/v1/drift`: each connection's latest check, open mismatches, latest re-syncs.
pub fn drift() -> Loaded<DriftReport> {
    Loaded::new(fixed("/api/v1/drift"))
}

/// `POST /api/v1/storefronts/{id}/drift-checks`: check now.
pub async fn check_drift(storefront: i64) -> Result<DriftCheck, ApiError> {
    send_json(
        Request::post(&format!("/api/v1/storefronts/{storefront}/drift-checks")),
        &serde_json::json!({}),
    )
    .await
}

/// `POST /api/v1/drift/fix`.
pub async fn fix_drift(body: &FixDrift) -> Result<DriftFixed, ApiError> {
    send_json(Request::post("/api/v1/drift/fix"), body).await
}

/// `POST /api/v1/storefronts/{id}/resync`: every Auto Sync listing there pushed again.
pub async fn resync(storefront: i64) -> Result<ResyncJob, ApiError> {
    send_json(
        Request::post(&format!("/api/v1/storefronts/{storefront}/resync")),
        &serde_json::json!({}),
    )
    .await
}

/// `POST /api/v1/resync-jobs/{id}/cancel`.
pub async fn cancel_resync(id: i64) -> Result<ResyncJob, ApiError> {
    send_json(
        Request::post(&format!("/api/v1/resync-jobs/{id}/cancel")),
        &serde_json::json!({}),
    )
    .await
}
