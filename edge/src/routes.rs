//! The route table: every endpoint of `/api/v1` on one screen.

use crate::caller;
use crate::error::ApiError;
use crate::handlers::{
    api_keys, auth, bulk, bulk_jobs, drift, health, history, imports, inventory_settings, listings,
    orders, products, rules, setup, storefronts, uploads, webhooks,
};
use tally_domain::scope;
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
    // Endpoints anyone may call.
    match (&method, segments.as_slice()) {
        (Method::Get, ["api", "v1", "health"]) => return health::get(req, env).await,
        (Method::Get, ["api", "v1", "openapi.json"]) => return Ok(openapi()),
        (Method::Post, ["api", "v1", "auth", "signup"]) => return auth::sign_up(req, env).await,
        (Method::Post, ["api", "v1", "auth", "login"]) => return auth::sign_in(req, env).await,
        // A storefront's webhook: the unguessable address and the signature authenticate it.
        (Method::Post, ["api", "v1", "hooks", token]) => {
            let token = (*token).to_owned();
            return webhooks::receive(req, env, &token).await;
        }
        (Method::Post, ["api", "v1", "bench", "bare"]) => return webhooks::bare(req, env).await,
        _ => {}
    }
    let caller = caller::resolve(req, env).await?;
    caller.require(scope::needed(method.as_ref(), &segments))?;
    let account = caller.account;
    // Who made a change, for the ledger lines of the writes below.
    let actor = &caller.actor;
    match (&method, segments.as_slice()) {
        (Method::Get, ["api", "v1", "auth", "me"]) => auth::me(env, &caller).await,
        (Method::Post, ["api", "v1", "auth", "logout"]) => auth::sign_out(env, &caller).await,
        (Method::Get, ["api", "v1", "api-keys"]) => api_keys::list(env, &caller).await,
        (Method::Post, ["api", "v1", "api-keys"]) => api_keys::create(req, env, &caller).await,
        (Method::Delete, ["api", "v1", "api-keys", id]) => {
            api_keys::revoke(env, &caller, parse_id(id, "API key")?).await
        }
        (Method::Get, ["api", "v1", "products"]) => products::list(req, env, account).await,
        (Method::Post, ["api", "v1", "products"]) => products::create(req, env, &caller).await,
        (Method::Get, ["api", "v1", "products", "values"]) => products::values(env, account).await,
        (Method::Get, ["api", "v1", "products", "export.csv"]) => {
            products::export(req, env, account).await
        }
        (Method::Post, ["api", "v1", "products", "auto-sync"]) => {
            bulk::set_auto_sync(req, env, account).await
        }
        (Method::Post, ["api", "v1", "products", "sync-now"]) => {
            bulk::sync_now(req, env, account).await
        }
        (Method::Get, ["api", "v1", "pushes", "progress"]) => {
            bulk::progress(req, env, account).await
        }
        (Method::Get, ["api", "v1", "products", id]) => {
            products::get(env, account, product_id(id)?).await
        }
        (Method::Patch, ["api", "v1", "products", id]) => {
            products::edit(req, env, account, product_id(id)?).await
        }
        (Method::Get, ["api", "v1", "products", id, "ledger"]) => {
            products::ledger(env, account, product_id(id)?).await
        }
        (Method::Patch, ["api", "v1", "products", id, "auto-sync"]) => {
            products::set_auto_sync(req, env, account, product_id(id)?).await
        }
        (Method::Post, ["api", "v1", "products", id, "adjustments"]) => {
            products::adjust(req, env, account, actor, product_id(id)?).await
        }
        (Method::Get, ["api", "v1", "sync-history"]) => history::list(req, env, account).await,
        (Method::Get, ["api", "v1", "sync-health"]) => history::health(env, account).await,
        (Method::Get, ["api", "v1", "setup"]) => setup::get(env, account).await,
        (Method::Get, ["api", "v1", "storefronts"]) => storefronts::list(req, env, account).await,
        (Method::Post, ["api", "v1", "storefronts"]) => {
            storefronts::create(req, env, &caller).await
        }
        (Method::Get, ["api", "v1", "storefronts", id]) => {
            storefronts::get(req, env, account, parse_id(id, "storefront")?).await
        }
        (Method::Get, ["api", "v1", "storefronts", id, "items"]) => {
            listings::search(req, env, account, parse_id(id, "storefront")?).await
        }
        (Method::Get, ["api", "v1", "storefronts", id, "deliveries"]) => {
            storefronts::deliveries(env, account, parse_id(id, "storefront")?).await
        }
        (Method::Post, ["api", "v1", "storefronts", id, "subscribe"]) => {
            storefronts::subscribe(req, env, account, parse_id(id, "storefront")?).await
        }
        (Method::Post, ["api", "v1", "storefronts", id, "poll"]) => {
            storefronts::poll(req, env, account, parse_id(id, "storefront")?).await
        }
        (Method::Post, ["api", "v1", "storefronts", id, "imports"]) => {
            imports::start(env, account, parse_id(id, "storefront")?).await
        }
        (Method::Get, ["api", "v1", "storefronts", id, "imports"]) => {
            imports::for_storefront(env, account, parse_id(id, "storefront")?).await
        }
        (Method::Post, ["api", "v1", "storefronts", id, "drift-checks"]) => {
            drift::check(env, account, parse_id(id, "storefront")?).await
        }
        (Method::Post, ["api", "v1", "storefronts", id, "resync"]) => {
            drift::resync(env, account, parse_id(id, "storefront")?).await
        }
        (Method::Get, ["api", "v1", "drift"]) => drift::report(env, account).await,
        (Method::Post, ["api", "v1", "drift", "fix"]) => drift::fix(req, env, account).await,
        (Method::Get, ["api", "v1", "resync-jobs", id]) => {
            drift::resync_job(env, account, parse_id(id, "re-sync")?).await
        }
        (Method::Post, ["api", "v1", "resync-jobs", id, "cancel"]) => {
            drift::cancel_resync(env, account, parse_id(id, "re-sync")?).await
        }
        (Method::Get, ["api", "v1", "imports", id]) => {
            imports::get(env, account, parse_id(id, "import")?).await
        }
        (Method::Get, ["api", "v1", "imports", id, "items"]) => {
            imports::items(req, env, account, parse_id(id, "import")?).await
        }
        (Method::Post, ["api", "v1", "imports", id, "apply"]) => {
            imports::apply(env, account, actor, parse_id(id, "import")?).await
        }
        (Method::Post, ["api", "v1", "imports", id, "cancel"]) => {
            imports::cancel(env, account, parse_id(id, "import")?).await
        }
        (Method::Patch, ["api", "v1", "storefronts", id]) => {
            storefronts::update(req, env, &caller, parse_id(id, "storefront")?).await
        }
        (Method::Get, ["api", "v1", "products", id, "listings"]) => {
            listings::for_product(env, account, product_id(id)?).await
        }
        (Method::Post, ["api", "v1", "products", id, "listings"]) => {
            listings::create(req, env, account, product_id(id)?).await
        }
        (Method::Post, ["api", "v1", "listings", "import"]) => {
            listings::import(req, env, account).await
        }
        (Method::Patch, ["api", "v1", "listings", id]) => {
            listings::update(req, env, account, parse_id(id, "listing")?).await
        }
        (Method::Post, ["api", "v1", "orders"]) => orders::import(req, env, account, actor).await,
        (Method::Get, ["api", "v1", "orders"]) => orders::list(env, account).await,
        (Method::Post, ["api", "v1", "orders", "cancel"]) => {
            orders::cancel(req, env, account, actor).await
        }
        (Method::Post, ["api", "v1", "uploads"]) => uploads::upload(req, env, &caller).await,
        (Method::Get, ["api", "v1", "uploads", id]) => {
            uploads::get(env, account, parse_id(id, "upload")?).await
        }
        (Method::Post, ["api", "v1", "uploads", id, "apply"]) => {
            uploads::apply(req, env, account, actor, parse_id(id, "upload")?).await
        }
        (Method::Post, ["api", "v1", "bulk-jobs"]) => bulk_jobs::start(req, env, &caller).await,
        (Method::Get, ["api", "v1", "bulk-jobs"]) => bulk_jobs::list(req, env, account).await,
        (Method::Get, ["api", "v1", "bulk-jobs", id]) => {
            bulk_jobs::get(env, account, parse_id(id, "bulk job")?).await
        }
        (Method::Post, ["api", "v1", "bulk-jobs", id, "cancel"]) => {
            bulk_jobs::cancel(env, account, parse_id(id, "bulk job")?).await
        }
        (Method::Get, ["api", "v1", "settings", "inventory"]) => {
            inventory_settings::get(env, account).await
        }
        (Method::Put, ["api", "v1", "settings", "inventory"]) => {
            inventory_settings::put(req, env, account).await
        }
        (Method::Get, ["api", "v1", "settings", "auto-sync-rules"]) => {
            rules::get(env, &caller).await
        }
        (Method::Put, ["api", "v1", "settings", "auto-sync-rules"]) => {
            rules::put(req, env, &caller).await
        }
        _ => Err(ApiError::NoSuchEndpoint {
            method: method.to_string(),
            path,
        }),
    }
}

/// An id from the path. Anything that is not a positive integer cannot name a row.
fn parse_id(raw: &str, what: &'static str) -> Result<i64, ApiError> {
    match raw.parse::<i64>() {
        Ok(id) if id > 0 => Ok(id),
        _ => Err(ApiError::NotFound(what)),
    }
}

fn product_id(raw: &str) -> Result<ProductId, ApiError> {
    parse_id(raw, "product").map(ProductId)
}

/// The OpenAPI document (`edge/src/openapi.json`, checked against real answers by the tests).
fn openapi() -> Response {
    let headers = worker::Headers::new();
    let _ = headers.set("content-type", "application/json; charset=utf-8");
    worker::ResponseBuilder::new()
        .with_headers(headers)
        .fixed(include_bytes!("openapi.json").to_vec())
}
