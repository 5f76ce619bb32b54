//! Products: list, read, Auto Sync on/off, and manual quantity adjustments.

use crate::bindings::DB;
use crate::caller::{Caller, Via};
use crate::clock::now_ms;
use crate::error::ApiError;
use crate::request::{idempotency_key, json_body, json_response, ok, query_param, MAX_JSON_BODY};
use crate::store::products::{self, QuantityWrite, Written};
use crate::store::rules;
use crate::store::{listings, outbox};
use tally_domain::actor::Actor;
use tally_domain::api::{
    AdjustMode, AdjustQuantity, AdjustmentResult, FieldError, NewProduct, ProductChanges,
    ProductPage, SetAutoSync, MAX_REASON_LEN,
};
use tally_domain::csv_export::Formulas;
use tally_domain::filter::{clean_tags, ProductFilter, Sort};
use tally_domain::product::clean_name;
use tally_domain::sync::SyncTrigger;
use tally_domain::CreatedVia;
use tally_domain::{AccountId, PageRequest, ProductId};
use worker::{Delay, Env, Request, Response};

/// How often an adjustment re-reads and retries when concurrent changes to the same product
/// keep winning the race. Each lost race means another change *was* applied, so this bounds
/// waiting, not correctness; running out answers 503 with nothing applied.
const MAX_ATTEMPTS: u32 = 200;

/// `page` and `per_page` from the query string.
pub fn paging(req: &Request) -> Result<PageRequest, ApiError> {
    let page = query_param(req, "page")?;
    let per_page = query_param(req, "per_page")?;
    PageRequest::parse(page.as_deref(), per_page.as_deref()).map_err(|e| {
        let field = if e.to_string().starts_with("per_page") {
            "per_page"
        } else {
            "page"
        };
        FieldError::new(field, e.to_string()).into()
    })
}

/// The filter and sort in the query string.
fn filter_and_sort(req: &Request) -> Result<(ProductFilter, Sort), ApiError> {
    let url = req.url()?;
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let filter = ProductFilter::from_params(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let sort = match pairs.iter().find(|(k, _)| k == "sort") {
        Some((_, raw)) if !raw.is_empty() => Sort::parse(raw)?,
        _ => Sort::default(),
    };
    Ok((filter, sort))
}

/// `GET /api/v1/products?page&per_page&sort&<filters>`.
pub async fn list(req: &Request, env: &Env, account: AccountId) -> Result<Response, ApiError> {
    let paging = paging(req)?;
    let (filter, sort) = filter_and_sort(req)?;
    let (rows, total) = products::page(&env.d1(DB)?, account, &filter, sort, paging).await?;
    let items = rows
        .into_iter()
        .map(products::ProductRow::into_product)
        .collect::<Result<_, _>>()?;
    ok(&ProductPage {
        items,
        page: paging.page,
        per_page: paging.per_page.rows(),
        total,
    })
}

/// The most rows one export holds.
const MAX_EXPORT_ROWS: u32 = 100_000;

/// `GET /api/v1/products/export.csv?<filters>&sort`: exactly the filtered products, as CSV.
pub async fn export(req: &Request, env: &Env, account: AccountId) -> Result<Response, ApiError> {
    let (filter, sort) = filter_and_sort(req)?;
    let formulas = export_formulas(req)?;
    let db = env.d1(DB)?;
    let mut csv = String::new();
    let per_page = tally_domain::PageSize::TwoFifty;
    for page in 1..=(MAX_EXPORT_ROWS / per_page.rows()) {
        let (rows, total) =
            products::page(&db, account, &filter, sort, PageRequest { page, per_page }).await?;
        let items = rows
            .into_iter()
            .map(products::ProductRow::into_product)
            .collect::<Result<Vec<_>, _>>()?;
        csv.push_str(&tally_domain::csv_export::write(
            &items,
            page == 1,
            formulas,
        ));
        if u64::from(page * per_page.rows()) >= total {
            break;
        }
    }
    let headers = worker::Headers::new();
    headers.set("content-type", "text/csv; charset=utf-8")?;
    headers.set(
        "content-disposition",
        "attachment; filename=\"tally-products.csv\"",
    )?;
    headers.set("cache-control", "no-store")?;
    Ok(worker::ResponseBuilder::new()
        .with_headers(headers)
        .fixed(csv.into_bytes()))
}

/// The answer to a request whose Idempotency-Key already applied: what it did then, and the
/// product as it is now, marked `Idempotency-Replayed: true`. The key belongs to the product
/// and the request (`add:3`) it was first used with.
async fn replay(
    db: &worker::D1Database,
    account: AccountId,
    id: ProductId,
    request: &str,
    done: &products::AppliedChange,
) -> Result<Response, ApiError> {
    if done.product_id != id.0 {
        return Err(ApiError::Conflict(FieldError::new(
            "Idempotency-Key",
            "this Idempotency-Key was already used for another product's adjustment: send a new key for a new change",
        )));
    }
    if let Some(first) = done.request.as_deref().filter(|first| *first != request) {
        return Err(ApiError::Conflict(FieldError::new(
            "Idempotency-Key",
            format!(
                "this Idempotency-Key was already used for another adjustment ({}): send a new key for a new change",
                first.replace(':', " ")
            ),
        )));
    }
    let product = products::find(db, account, id)
        .await?
        .ok_or(ApiError::NotFound("product"))?
        .into_product()?;
    let mut response = ok(&AdjustmentResult {
        product,
        before: done.before,
        after: done.after,
        sync_queued: false,
        listings: 0,
    })?;
    response.headers_mut().set("idempotency-replayed", "true")?;
    Ok(response)
}

/// `?formulas=keep` writes cells as stored, for a file to upload again unchanged; by default
/// cells a spreadsheet would run as formulas are escaped.
fn export_formulas(req: &Request) -> Result<Formulas, ApiError> {
    match query_param(req, "formulas")?.as_deref() {
        None | Some("escape") => Ok(Formulas::Escape),
        Some("keep") => Ok(Formulas::Keep),
        Some(_) => Err(FieldError::new(
            "formulas",
            "formulas must be escape (the default, safe to open in a spreadsheet) or keep (to upload the file again unchanged)",
        )
        .into()),
    }
}

/// `POST /api/v1/products`: created `manual` from the app, `api` with an API key; Auto Sync
/// starts as the account's rules say.
pub async fn create(req: &mut Request, env: &Env, caller: &Caller) -> Result<Response, ApiError> {
    let body: NewProduct = json_body(req, MAX_JSON_BODY).await?;
    let name = clean_name(&body.name).map_err(|e| FieldError::new("name", e.to_string()))?;
    let brand = short_text("brand", &body.brand)?;
    let supplier = short_text("supplier", &body.supplier)?;
    let tags = clean_tags(&body.tags)?.join(",");
    let via = match caller.via {
        Via::Session => CreatedVia::Manual,
        Via::ApiKey => CreatedVia::Api,
    };
    let db = env.d1(DB)?;
    let auto_sync = rules::load(&db, caller.account).await?.starts_on(via);
    let row = products::NewProductRow {
        sku: body.sku.as_str(),
        name: &name,
        quantity: body.quantity.get(),
        created_via: via.as_str(),
        auto_sync,
        brand: &brand,
        supplier: &supplier,
        tags: &tags,
        trigger: SyncTrigger::Adjustment,
        actor: &caller.actor,
        now: now_ms(),
    };
    match products::create(&db, caller.account, &row).await? {
        products::Created::SkuTaken => Err(sku_taken(&db, caller.account, body.sku.as_str()).await),
        products::Created::Product { id, outbox_id } => {
            if let Some(outbox_id) = outbox_id {
                outbox::send_or_leave_for_cron(env, caller.account, ProductId(id), outbox_id).await;
            }
            let product = products::find(&db, caller.account, ProductId(id))
                .await?
                .ok_or(ApiError::NotFound("product"))?
                .into_product()?;
            Ok(json_response(&product, 201))
        }
    }
}

/// `PATCH /api/v1/products/{id}`: renames, re-labels, archives or unarchives. Each value is
/// checked as on creation; nothing is written unless all pass.
pub async fn edit(
    req: &mut Request,
    env: &Env,
    account: AccountId,
    id: ProductId,
) -> Result<Response, ApiError> {
    let body: ProductChanges = json_body(req, MAX_JSON_BODY).await?;
    let name = body
        .name
        .as_deref()
        .map(clean_name)
        .transpose()
        .map_err(|e| FieldError::new("name", e.to_string()))?;
    let brand = body
        .brand
        .as_deref()
        .map(|b| short_text("brand", b))
        .transpose()?;
    let supplier = body
        .supplier
        .as_deref()
        .map(|s| short_text("supplier", s))
        .transpose()?;
    let tags = body
        .tags
        .as_deref()
        .map(clean_tags)
        .transpose()?
        .map(|t| t.join(","));
    let changes = products::DetailChanges {
        sku: body.sku.as_ref().map(|s| s.as_str()),
        name: name.as_deref(),
        brand: brand.as_deref(),
        supplier: supplier.as_deref(),
        tags: tags.as_deref(),
        archived: body.archived,
    };
    let db = env.d1(DB)?;
    match products::edit(&db, account, id, &changes, now_ms()).await? {
        products::Edited::NotFound => return Err(ApiError::NotFound("product")),
        products::Edited::SkuTaken => {
            let sku = changes.sku.unwrap_or_default();
            return Err(sku_taken(&db, account, sku).await);
        }
        products::Edited::Done => {}
    }
    get(env, account, id).await
}

/// The 409 for a SKU another product already has, saying when that product is archived (the
/// seller cannot see it in the inventory, so would not know where to look).
async fn sku_taken(db: &worker::D1Database, account: AccountId, sku: &str) -> ApiError {
    let archived = matches!(
        products::find_by_sku(db, account, sku).await,
        Ok(Some(p)) if p.archived_at.is_some()
    );
    let message = if archived {
        format!("SKU {sku} belongs to an archived product: unarchive it (Inventory › Archived) or choose another SKU")
    } else {
        format!("SKU {sku} already exists in your inventory")
    };
    ApiError::Conflict(FieldError::new("sku", message))
}

/// Brand and supplier: trimmed, at most 100 characters, no control characters.
fn short_text(field: &str, raw: &str) -> Result<String, ApiError> {
    let t = raw.trim();
    if t.chars().count() > 100 || t.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            format!("{field} is over 100 characters or has a control character"),
        )
        .into());
    }
    Ok(t.to_owned())
}

/// `GET /api/v1/products/values`: what the filter bar offers for brand, supplier and tag.
pub async fn values(env: &Env, account: AccountId) -> Result<Response, ApiError> {
    ok(&products::values(&env.d1(DB)?, account).await?)
}

/// `GET /api/v1/products/{id}`.
pub async fn get(env: &Env, account: AccountId, id: ProductId) -> Result<Response, ApiError> {
    let row = products::find(&env.d1(DB)?, account, id)
        .await?
        .ok_or(ApiError::NotFound("product"))?;
    ok(&row.into_product()?)
}

/// `GET /api/v1/products/{id}/ledger`: the newest 500 changes to its quantity.
pub async fn ledger(env: &Env, account: AccountId, id: ProductId) -> Result<Response, ApiError> {
    let db = env.d1(DB)?;
    products::find(&db, account, id)
        .await?
        .ok_or(ApiError::NotFound("product"))?;
    ok(&crate::store::ledger::for_product(&db, account, id, 500).await?)
}

/// `PATCH /api/v1/products/{id}/auto-sync`. Turning Auto Sync on pushes nothing by itself.
pub async fn set_auto_sync(
    req: &mut Request,
    env: &Env,
    account: AccountId,
    id: ProductId,
) -> Result<Response, ApiError> {
    let body: SetAutoSync = json_body(req, MAX_JSON_BODY).await?;
    let db = env.d1(DB)?;
    if !products::set_auto_sync(&db, account, id, body.auto_sync, now_ms()).await? {
        // Missing, or archived: an archived product pushes nothing until it is unarchived.
        let found = products::find(&db, account, id).await?;
        return Err(match found {
            Some(p) => ApiError::Conflict(FieldError::new(
                "auto_sync",
                format!("{} is archived: unarchive it on its page first", p.sku),
            )),
            None => ApiError::NotFound("product"),
        });
    }
    get(env, account, id).await
}

/// `POST /api/v1/products/{id}/adjustments`: set or add to the quantity on hand.
pub async fn adjust(
    req: &mut Request,
    env: &Env,
    account: AccountId,
    actor: &Actor,
    id: ProductId,
) -> Result<Response, ApiError> {
    let idempotency = idempotency_key(req)?;
    let body: AdjustQuantity = json_body(req, MAX_JSON_BODY).await?;
    let adjustment = body.adjustment()?;
    let reason = body.reason.trim();
    if reason.chars().count() > MAX_REASON_LEN {
        return Err(FieldError::new(
            "reason",
            format!("reason is over the {MAX_REASON_LEN}-character limit"),
        )
        .into());
    }
    let db = env.d1(DB)?;
    let request = format!(
        "{}:{}",
        match body.mode {
            AdjustMode::Set => "set",
            AdjustMode::Add => "add",
        },
        body.amount.0
    );
    if let Some(reference) = &idempotency {
        if let Some(done) = products::adjustment_by_reference(&db, account, reference).await? {
            return replay(&db, account, id, &request, &done).await;
        }
    }
    for attempt in 0..MAX_ATTEMPTS {
        let row = products::find(&db, account, id)
            .await?
            .ok_or(ApiError::NotFound("product"))?;
        let after = adjustment
            .apply(row.on_hand()?)
            .map_err(|e| FieldError::new("amount", e.to_string()))?;
        let now = now_ms();
        let write = QuantityWrite {
            account,
            product: &row,
            after,
            source: "adjustment",
            reference: idempotency.as_deref(),
            request: idempotency.as_ref().map(|_| request.as_str()),
            reason,
            trigger: SyncTrigger::Adjustment,
            actor,
            now,
        };
        let outbox_id = match products::write_quantity(&db, &write).await? {
            Written::Stale => {
                back_off(attempt).await;
                continue;
            }
            Written::Applied { outbox_id } => outbox_id,
            // The same key, sent again at the same time, applied first: answer with what it
            // did. (Refused for another reason, it is tried again from a fresh read.)
            Written::Repeated => {
                let reference = idempotency.as_deref().unwrap_or_default();
                match products::adjustment_by_reference(&db, account, reference).await? {
                    Some(done) => return replay(&db, account, id, &request, &done).await,
                    None => {
                        back_off(attempt).await;
                        continue;
                    }
                }
            }
        };
        if let Some(outbox_id) = outbox_id {
            outbox::send_or_leave_for_cron(env, account, id, outbox_id).await;
        }
        let before = row.quantity;
        let mut product = row.into_product()?;
        product.quantity = after;
        product.version += 1;
        product.updated_at = now;
        let listings = match outbox_id {
            Some(_) => listings::reachable_count(&db, account, id.0).await?,
            None => 0,
        };
        return ok(&AdjustmentResult {
            product,
            before,
            after: after.get(),
            sync_queued: outbox_id.is_some(),
            listings,
        });
    }
    Err(ApiError::Busy(
        "This product is changing too fast to apply the adjustment; nothing was changed. Try again."
            .into(),
    ))
}

/// A short random pause so racing adjustments spread out instead of colliding again.
async fn back_off(attempt: u32) {
    let max_ms = 2 + u64::from(attempt.min(20));
    let ms = (js_sys::Math::random() * max_ms as f64) as u64;
    Delay::from(std::time::Duration::from_millis(ms)).await;
}
