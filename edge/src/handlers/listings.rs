//! Listings: a product linked to a storefront item, by hand (the product's Details page) or by
//! CSV. Paused listings are not pushed to.

use crate::bindings::DB;
use crate::clock::now_ms;
use crate::connection;
use crate::error::ApiError;
use crate::request::{csv_body, json_body, json_response, ok, query_param, MAX_JSON_BODY};
use crate::store::listings::{self, ListingChange, ListingRow};
use crate::store::outbox::{self, Resync};
use crate::store::storefronts::StorefrontRow;
use crate::store::{products, storefronts};
use tally_domain::api::{
    item_search, FieldError, ListingImportResult, ListingList, ListingUpdate, NewListing,
    StorefrontItems,
};
use tally_domain::connector::lookup::Lookup;
use tally_domain::listing_csv::{self, ListingLink};
use tally_domain::storefront::{ListingRef, StorefrontKind};
use tally_domain::{AccountId, ProductId};
use worker::{D1Database, Env, Request, Response};

/// `GET /api/v1/products/{id}/listings`.
pub async fn for_product(
    env: &Env,
    account: AccountId,
    product: ProductId,
) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    products::find(&db, account, product)
        .await?
        .ok_or(ApiError::NotFound("product"))?;
    let rows = listings::for_product(&db, account, product).await?;
    let listings = rows
        .into_iter()
        .map(ListingRow::into_listing)
        .collect::<Result<_, _>>()?;
    ok(&ListingList { listings })
}

/// `POST /api/v1/products/{id}/listings`.
pub async fn create(
    req: &mut Request,
    env: &Env,
    account: AccountId,
    product: ProductId,
) -> Result<Response, ApiError> {
    let input: NewListing = json_body(req, MAX_JSON_BODY).await?;
    let db = env.d1(DB)?;
    products::find(&db, account, product)
        .await?
        .ok_or(ApiError::NotFound("product"))?;
    let storefront = storefronts::find(&db, account, input.storefront_id)
        .await?
        .ok_or_else(|| FieldError::new("storefront_id", "No such storefront in your account."))?;
    let ids = ListingRef::parse(
        storefront.kind()?,
        &input.external_id,
        input.external_sub_id.as_deref(),
    )
    .map_err(|e| FieldError::new(e.field(), e.to_string()))?;
    input
        .rules
        .validate()
        .map_err(|e| FieldError::new(format!("rules.{}", e.field), e.message))?;
    if input.check {
        check_item(env, &storefront, &ids).await?;
    }
    let id = listings::insert(
        &db,
        account,
        product,
        storefront.id,
        &ids,
        &input.rules,
        now_ms(),
    )
    .await?
    .ok_or_else(|| {
        ApiError::Conflict(FieldError::new(
            "external_id",
            format!(
                "That {} item is already linked to a product.",
                storefront.name
            ),
        ))
    })?;
    // The new listing's storefront holds who knows what: push the current quantity.
    outbox::resync(env, &db, account, Resync::Products(vec![product]), now_ms()).await?;
    let row = listings::find(&db, account, id)
        .await?
        .ok_or(ApiError::NotFound("listing"))?;
    Ok(ok(&row.into_listing()?)?.with_status(201))
}

/// Refuses a link to an item the storefront says it does not have. A storefront that cannot
/// be asked now does not hold the seller up: the first push will say what is wrong.
async fn check_item(
    env: &Env,
    storefront: &StorefrontRow,
    ids: &ListingRef,
) -> Result<(), ApiError> {
    let found = connection::lookup(env, storefront, &Lookup::Item(ids)).await;
    if !matches!(found, Ok(Some(ref items)) if items.is_empty()) {
        return Ok(());
    }
    let kind = storefront.kind()?;
    let named = match (&ids.external_sub_id, kind.external_sub_id_label()) {
        (Some(sub), Some((label, _))) => format!(
            "{} {} ({} {sub})",
            kind.external_id_label(),
            ids.external_id,
            label.to_lowercase()
        ),
        _ => format!("{} {}", kind.external_id_label(), ids.external_id),
    };
    let hint = match kind {
        StorefrontKind::Woocommerce if ids.external_sub_id.is_none() => {
            " A variable product's variations each have their own ID: give the variation's."
        }
        StorefrontKind::Shopify => " The item must be stocked at that location.",
        _ => "",
    };
    Err(FieldError::new(
        "external_id",
        format!(
            "{} has no {named}: check it, or search {} by SKU or title.{hint}",
            storefront.name, storefront.name
        ),
    )
    .into())
}

/// `GET /api/v1/storefronts/{id}/items?q=`: the storefront's items whose SKU or title holds
/// the words, read from the storefront now.
pub async fn search(
    req: &Request,
    env: &Env,
    account: AccountId,
    storefront_id: i64,
) -> Result<Response, ApiError> {
    let q = query_param(req, "q")?.unwrap_or_default();
    let words = item_search(&q)?;
    let db = env.d1(DB)?;
    let storefront = storefronts::find(&db, account, storefront_id)
        .await?
        .ok_or(ApiError::NotFound("storefront"))?;
    let answer = match connection::lookup(env, &storefront, &Lookup::Search(words)).await {
        Ok(Some(items)) => StorefrontItems {
            searchable: true,
            items,
            problem: None,
        },
        Ok(None) => StorefrontItems {
            searchable: false,
            items: Vec::new(),
            problem: None,
        },
        Err(problem) => StorefrontItems {
            searchable: true,
            items: Vec::new(),
            problem: Some(problem),
        },
    };
    ok(&answer)
}

/// `PATCH /api/v1/listings/{id}`: pause, resume, or change the overrides.
pub async fn update(
    req: &mut Request,
    env: &Env,
    account: AccountId,
    id: i64,
) -> Result<Response, ApiError> {
    let input: ListingUpdate = json_body(req, MAX_JSON_BODY).await?;
    let db = env.d1(DB)?;
    let row = listings::find(&db, account, id)
        .await?
        .ok_or(ApiError::NotFound("listing"))?;
    let rules = match input.rules {
        Some(r) => {
            r.validate()
                .map_err(|e| FieldError::new(format!("rules.{}", e.field), e.message))?;
            r
        }
        None => row.clone().into_listing()?.rules,
    };
    let active = input.active.unwrap_or(row.active == 1);
    let manage_stock = input.manage_stock.unwrap_or(row.manage_stock == 1);
    let before = row.clone().into_listing()?;
    let change = ListingChange {
        active,
        rules: &rules,
        manage_stock,
    };
    listings::update(&db, account, id, &change, now_ms()).await?;
    // Resumed, sending a different share, or now allowed to turn stock management on: bring
    // the storefront up to date now.
    let allowed = manage_stock && !before.manage_stock;
    if active && (!before.active || before.rules != rules || allowed) {
        let product = ProductId(row.product_id);
        outbox::resync(env, &db, account, Resync::Products(vec![product]), now_ms()).await?;
    }
    let row = listings::find(&db, account, id)
        .await?
        .ok_or(ApiError::NotFound("listing"))?;
    ok(&row.into_listing()?)
}

/// Refuses the file (422, by row) if any of its storefront items is linked already.
async fn refuse_taken(
    db: &D1Database,
    account: AccountId,
    links: &[ListingLink],
) -> Result<(), ApiError> {
    let taken = listings::already_linked(db, account, links).await?;
    if taken.is_empty() {
        return Ok(());
    }
    Err(ApiError::BadFile(tally_domain::csv_import::FileErrors {
        total: taken.len(),
        errors: taken,
    }))
}

/// `POST /api/v1/listings/import` with a CSV body (`sku,storefront,external_id,external_sub_id`):
/// every row is linked, or none is and every problem is listed by row and column.
pub async fn import(
    req: &mut Request,
    env: &Env,
    account: AccountId,
) -> Result<Response, ApiError> {
    // 5,000 rows of ids fit easily; larger files are split by the seller.
    let bytes = csv_body(req, 1024 * 1024).await?;
    let lines = listing_csv::parse(&bytes).map_err(ApiError::BadFile)?;
    let db = env.d1(DB)?;
    let skus: Vec<&str> = lines.iter().map(|l| l.sku.as_str()).collect();
    let products = products::ids_by_sku(&db, account, &skus).await?;
    let stores = storefronts::list(&db, account).await?;
    let mut kinds = Vec::with_capacity(stores.len());
    for s in &stores {
        kinds.push((s.id, s.name.clone(), s.kind()?));
    }
    let links = listing_csv::resolve(
        &lines,
        |sku| products.get(sku).copied(),
        |name| {
            kinds
                .iter()
                .find(|(id, n, _)| n == name || id.to_string() == name)
                .map(|(id, _, kind)| (*id, *kind))
        },
    )
    .map_err(ApiError::BadFile)?;
    refuse_taken(&db, account, &links).await?;
    if !listings::insert_all(&db, account, &links, now_ms()).await? {
        // Refused whole: an item was linked by another request between the check and the write.
        refuse_taken(&db, account, &links).await?;
        return Err(ApiError::Internal("linking the listings failed".into()));
    }
    let mut products: Vec<ProductId> = links.iter().map(|l| ProductId(l.product_id)).collect();
    products.sort_unstable_by_key(|p| p.0);
    products.dedup();
    outbox::resync(env, &db, account, Resync::Products(products), now_ms()).await?;
    Ok(json_response(
        &ListingImportResult {
            linked: links.len() as u64,
        },
        201,
    ))
}
