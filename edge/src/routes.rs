//! The route table: every endpoint of `/api/v1` on one screen.

use crate::caller;
use crate::error::ApiError;
use crate::handlers::{health, history, products};
use tally_domain::ProductId;
use worker::{Env, Method, Request, Response};

/// Answers one API request. Errors become JSON error responses here, so no path answers with
/// a bare failure.
pub async fn handle(mut req: Request, env: &Env) -> Response {
    match route(&mut req, env).await {
        Ok(response) => response,
        Err(e) => e.into_response(),
    }
}

async fn route(req: &mut Request, env: &Env) -> Result<Response, ApiError> {
    let path = req.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method();
    let account = caller::account(req);
    match (&method, segments.as_slice()) {
        (Method::Get, ["api", "v1", "health"]) => health::get(env).await,
        (Method::Get, ["api", "v1", "products"]) => products::list(req, env, account).await,
        (Method::Get, ["api", "v1", "products", id]) => {
            products::get(env, account, product_id(id)?).await
        }
        (Method::Patch, ["api", "v1", "products", id, "auto-sync"]) => {
            products::set_auto_sync(req, env, account, product_id(id)?).await
        }
        (Method::Post, ["api", "v1", "products", id, "adjustments"]) => {
            products::adjust(req, env, account, product_id(id)?).await
        }
        (Method::Get, ["api", "v1", "sync-history"]) => history::list(req, env, account).await,
        _ => Err(ApiError::NoSuchEndpoint {
            method: method.to_string(),
            path,
        }),
    }
}

/// A product id from the path. Anything that is not a positive integer cannot name a product.
fn product_id(raw: &str) -> Result<ProductId, ApiError> {
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(ProductId(id)),
        _ => Err(ApiError::NotFound("product")),
    }
}
