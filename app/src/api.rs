//! The one module that talks to the worker: one typed function per endpoint, one error type.

use crate::list_query::ListQuery;
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tally_domain::api::{
    AdjustQuantity, AdjustmentResult, ApiKeySummary, AutoSyncRulesView, BulkResult, CreatedApiKey,
    ErrorBody, InventorySettings, LedgerEntry, Listing, ListingImportResult, ListingList,
    ListingUpdate, Me, NewApiKey, NewListing, NewProduct, Product, ProductPage, SetAutoSync,
    SetAutoSyncRules, SignIn, SignUp, Storefront, StorefrontInput, StorefrontList, SyncHealth,
    SyncHistoryPage,
};
use tally_domain::bulk_job::{BulkAction, BulkJob, StartBulkJob};
use tally_domain::csv_import::{CellError, UploadPreview};
use tally_domain::filter::ProductFilter;
use tally_domain::order::{OrderIn, OrderOut};
use tally_domain::rules::Rule;
use tally_domain::{PageRequest, ProductId};

/// Why a call failed, worded for the seller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status; 0 when the worker could not be reached.
    pub status: u16,
    pub message: String,
    /// The field at fault, for showing the message under it.
    pub field: Option<String>,
}

impl ApiError {
    pub(crate) fn network(e: impl std::fmt::Display) -> Self {
        Self {
            status: 0,
            message: format!(
                "Tally could not be reached ({e}). Check your connection and try again."
            ),
            field: None,
        }
    }

    /// Whether the caller must sign in (again).
    pub fn is_unauthenticated(&self) -> bool {
        self.status == 401
    }
}

/// The worker's messages start lower-case so they read well after a field name; shown on their
/// own they start a sentence.
fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

async fn read<T: DeserializeOwned>(
    response: Result<Response, gloo_net::Error>,
) -> Result<T, ApiError> {
    let response = response.map_err(ApiError::network)?;
    if response.ok() {
        return response.json::<T>().await.map_err(ApiError::network);
    }
    let status = response.status();
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(ApiError {
            status,
            message: sentence(&body.error.message),
            field: body.error.field,
        }),
        Err(_) => Err(ApiError {
            status,
            message: format!("Tally answered with an unexpected error (HTTP {status}). Try again."),
            field: None,
        }),
    }
}

async fn send_json<B: Serialize, T: DeserializeOwned>(
    request: gloo_net::http::RequestBuilder,
    body: &B,
) -> Result<T, ApiError> {
    let request = request
        .header(CSRF_HEADER, "1")
        .json(body)
        .map_err(ApiError::network)?;
    read(request.send().await).await
}

/// Sent with every request that changes data: the worker refuses cookie-authenticated writes
/// without it, which no other site can make a browser add (CSRF defence).
const CSRF_HEADER: &str = "X-Tally-Csrf";

/// `GET /api/v1/auth/me`: 401 when nobody is signed in.
pub async fn me() -> Result<Me, ApiError> {
    read(Request::get("/api/v1/auth/me").send().await).await
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
pub async fn sign_out() -> Result<serde_json::Value, ApiError> {
    send_json(Request::post("/api/v1/auth/logout"), &serde_json::json!({})).await
}

/// `GET /api/v1/api-keys`.
pub async fn api_keys() -> Result<Vec<ApiKeySummary>, ApiError> {
    read(Request::get("/api/v1/api-keys").send().await).await
}

/// `POST /api/v1/api-keys`.
pub async fn create_api_key(name: String) -> Result<CreatedApiKey, ApiError> {
    send_json(Request::post("/api/v1/api-keys"), &NewApiKey { name }).await
}

/// `DELETE /api/v1/api-keys/{id}`.
pub async fn revoke_api_key(id: i64) -> Result<serde_json::Value, ApiError> {
    let request = Request::delete(&format!("/api/v1/api-keys/{id}")).header(CSRF_HEADER, "1");
    read(request.send().await).await
}

/// `GET /api/v1/settings/auto-sync-rules`.
pub async fn auto_sync_rules() -> Result<AutoSyncRulesView, ApiError> {
    read(
        Request::get("/api/v1/settings/auto-sync-rules")
            .send()
            .await,
    )
    .await
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
pub async fn products(query: ListQuery) -> Result<ProductPage, ApiError> {
    read(Request::get(&query.api_path()).send().await).await
}

/// `POST /api/v1/bulk-jobs`: "for all in filter".
pub async fn start_bulk_job(
    action: BulkAction,
    filter: &ProductFilter,
) -> Result<BulkJob, ApiError> {
    let filter: std::collections::BTreeMap<String, String> = filter
        .to_params()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    send_json(
        Request::post("/api/v1/bulk-jobs"),
        &StartBulkJob { action, filter },
    )
    .await
}

/// `GET /api/v1/bulk-jobs/{id}`.
pub async fn bulk_job(id: i64) -> Result<BulkJob, ApiError> {
    read(
        Request::get(&format!("/api/v1/bulk-jobs/{id}"))
            .send()
            .await,
    )
    .await
}

/// `GET /api/v1/bulk-jobs?status=running`.
pub async fn running_bulk_jobs() -> Result<Vec<BulkJob>, ApiError> {
    read(
        Request::get("/api/v1/bulk-jobs?status=running")
            .send()
            .await,
    )
    .await
}

/// `POST /api/v1/bulk-jobs/{id}/cancel`.
pub async fn cancel_bulk_job(id: i64) -> Result<BulkJob, ApiError> {
    send_json(
        Request::post(&format!("/api/v1/bulk-jobs/{id}/cancel")),
        &serde_json::json!({}),
    )
    .await
}

/// `POST /api/v1/orders`.
pub async fn place_order(order: &OrderIn) -> Result<OrderOut, ApiError> {
    send_json(Request::post("/api/v1/orders"), order).await
}

/// `GET /api/v1/orders`.
pub async fn orders() -> Result<Vec<OrderOut>, ApiError> {
    read(Request::get("/api/v1/orders").send().await).await
}

/// `POST /api/v1/orders/cancel`.
pub async fn cancel_order(storefront: &str, order_id: &str) -> Result<OrderOut, ApiError> {
    let body = serde_json::json!({ "storefront": storefront, "order_id": order_id });
    send_json(Request::post("/api/v1/orders/cancel"), &body).await
}

/// A refused upload: the message and every bad cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRefused {
    pub message: String,
    pub rows: Vec<CellError>,
}

/// `POST /api/v1/uploads` with the file's text.
pub async fn upload_file(csv: String) -> Result<UploadPreview, UploadRefused> {
    post_csv("/api/v1/uploads", csv).await
}

/// `POST /api/v1/listings/import` with the file's text.
pub async fn import_listings(csv: String) -> Result<ListingImportResult, UploadRefused> {
    post_csv("/api/v1/listings/import", csv).await
}

/// Posts a CSV file; a refusal carries every bad cell.
async fn post_csv<T: DeserializeOwned>(url: &str, csv: String) -> Result<T, UploadRefused> {
    let response = Request::post(url)
        .header(CSRF_HEADER, "1")
        .header("content-type", "text/csv")
        .body(csv)
        .map_err(|e| UploadRefused {
            message: e.to_string(),
            rows: Vec::new(),
        })?
        .send()
        .await
        .map_err(|e| UploadRefused {
            message: ApiError::network(e).message,
            rows: Vec::new(),
        })?;
    if response.ok() {
        return response.json::<T>().await.map_err(|e| UploadRefused {
            message: e.to_string(),
            rows: Vec::new(),
        });
    }
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(UploadRefused {
            message: sentence(&body.error.message),
            rows: body.error.rows.unwrap_or_default(),
        }),
        Err(e) => Err(UploadRefused {
            message: e.to_string(),
            rows: Vec::new(),
        }),
    }
}

/// `GET /api/v1/uploads/{id}`: the preview, with an apply job's progress.
pub async fn upload(id: i64) -> Result<UploadPreview, ApiError> {
    read(Request::get(&format!("/api/v1/uploads/{id}")).send().await).await
}

/// `POST /api/v1/uploads/{id}/apply`.
pub async fn apply_upload(id: i64, confirm_wipe: bool) -> Result<UploadPreview, ApiError> {
    let body = serde_json::json!({ "confirm_wipe": confirm_wipe });
    send_json(Request::post(&format!("/api/v1/uploads/{id}/apply")), &body).await
}

/// `POST /api/v1/products`.
pub async fn create_product(body: &NewProduct) -> Result<Product, ApiError> {
    send_json(Request::post("/api/v1/products"), body).await
}

/// `POST /api/v1/products/auto-sync`: Auto Sync on or off for selected products.
pub async fn bulk_auto_sync(ids: &[ProductId], on: bool) -> Result<BulkResult, ApiError> {
    let body = serde_json::json!({ "ids": ids, "auto_sync": on });
    send_json(Request::post("/api/v1/products/auto-sync"), &body).await
}

/// `POST /api/v1/products/sync-now`.
pub async fn sync_now(ids: &[ProductId]) -> Result<BulkResult, ApiError> {
    let body = serde_json::json!({ "ids": ids });
    send_json(Request::post("/api/v1/products/sync-now"), &body).await
}

/// `GET /api/v1/products/{id}`.
pub async fn product(id: ProductId) -> Result<Product, ApiError> {
    read(Request::get(&format!("/api/v1/products/{id}")).send().await).await
}

/// `GET /api/v1/products/{id}/ledger`.
pub async fn ledger(id: ProductId) -> Result<Vec<LedgerEntry>, ApiError> {
    read(
        Request::get(&format!("/api/v1/products/{id}/ledger"))
            .send()
            .await,
    )
    .await
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
    pub status: String,
    pub storefront_id: String,
    pub sku: String,
    /// A day as `YYYY-MM-DD` (from the date input), shown from its start in local time.
    pub from: Option<i64>,
}

/// `GET /api/v1/sync-history`.
pub async fn sync_history(
    paging: PageRequest,
    filter: HistoryFilter,
) -> Result<SyncHistoryPage, ApiError> {
    let mut url = format!(
        "/api/v1/sync-history?page={}&per_page={}",
        paging.page,
        paging.per_page.rows()
    );
    for (name, value) in [
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
    read(Request::get(&url).send().await).await
}

/// `GET /api/v1/settings/inventory`.
pub async fn inventory_settings() -> Result<InventorySettings, ApiError> {
    read(Request::get("/api/v1/settings/inventory").send().await).await
}

/// `PUT /api/v1/settings/inventory`.
pub async fn save_inventory_settings(
    wipe_guard_percent: u64,
) -> Result<InventorySettings, ApiError> {
    let body = InventorySettings { wipe_guard_percent };
    send_json(Request::put("/api/v1/settings/inventory"), &body).await
}

/// `GET /api/v1/sync-health`.
pub async fn sync_health() -> Result<SyncHealth, ApiError> {
    read(Request::get("/api/v1/sync-health").send().await).await
}

/// `GET /api/v1/storefronts`.
pub async fn storefronts() -> Result<StorefrontList, ApiError> {
    read(Request::get("/api/v1/storefronts").send().await).await
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
pub async fn listings(product: ProductId) -> Result<ListingList, ApiError> {
    read(
        Request::get(&format!("/api/v1/products/{product}/listings"))
            .send()
            .await,
    )
    .await
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
