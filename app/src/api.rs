//! The one module that talks to the worker: one typed function per endpoint, one error type.

use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tally_domain::api::{
    AdjustQuantity, AdjustmentResult, ErrorBody, Product, ProductPage, SetAutoSync, SyncHistoryPage,
};
use tally_domain::{PageRequest, ProductId};

/// Why a call failed, worded for the seller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub message: String,
    /// The field at fault, for showing the message under it.
    pub field: Option<String>,
}

impl ApiError {
    fn network(e: impl std::fmt::Display) -> Self {
        Self {
            message: format!(
                "Tally could not be reached ({e}). Check your connection and try again."
            ),
            field: None,
        }
    }
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
            message: body.error.message,
            field: body.error.field,
        }),
        Err(_) => Err(ApiError {
            message: format!("Tally answered with an unexpected error (HTTP {status}). Try again."),
            field: None,
        }),
    }
}

async fn send_json<B: Serialize, T: DeserializeOwned>(
    request: gloo_net::http::RequestBuilder,
    body: &B,
) -> Result<T, ApiError> {
    let request = request.json(body).map_err(ApiError::network)?;
    read(request.send().await).await
}

/// `GET /api/v1/products`.
pub async fn products(paging: PageRequest) -> Result<ProductPage, ApiError> {
    let url = format!(
        "/api/v1/products?page={}&per_page={}",
        paging.page,
        paging.per_page.rows()
    );
    read(Request::get(&url).send().await).await
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

/// `GET /api/v1/sync-history`.
pub async fn sync_history(paging: PageRequest) -> Result<SyncHistoryPage, ApiError> {
    let url = format!(
        "/api/v1/sync-history?page={}&per_page={}",
        paging.page,
        paging.per_page.rows()
    );
    read(Request::get(&url).send().await).await
}
