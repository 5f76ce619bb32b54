//! The `products` table and the atomic write of a quantity change (product + ledger + outbox).

use super::filter::{order_by, where_clause};
use super::{changes, freshness, inserted_id, Count};
use crate::db::{flag, int, opt_int, opt_text, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::actor::Actor;
use tally_domain::api::{Product, ProductValues};
use tally_domain::filter::{distinct_tags, ProductFilter, Sort, MAX_OFFERED_VALUES};
use tally_domain::sync::SyncTrigger;
use tally_domain::{AccountId, PageRequest, ProductId, Quantity, Sku};
use worker::D1Database;

/// A product's own columns. [`columns`] adds what it shows about its listings and pushes.
const OWN_COLUMNS: &str = "id, sku, name, quantity, auto_sync, created_via, brand, supplier, \
                           tags, version, archived_at, created_at, updated_at";

/// Every column a [`ProductRow`] reads, for `FROM products` (not aliased): its own, and how
/// its listings stand ([`freshness`]).
fn columns() -> String {
    format!(
        "{OWN_COLUMNS}, {} AS listings, {} AS last_push",
        freshness::listings(),
        freshness::last_push()
    )
}

/// A product row as D1 returns it (booleans are 0/1 integers).
#[derive(Debug, Deserialize)]
pub struct ProductRow {
    pub id: i64,
    pub sku: String,
    pub name: String,
    pub quantity: i64,
    pub auto_sync: i64,
    pub created_via: String,
    pub brand: String,
    pub supplier: String,
    pub tags: String,
    pub version: i64,
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub listings: u64,
    /// `{"status": …, "at": …}` of the newest push, if any.
    pub last_push: Option<String>,
}

impl ProductRow {
    /// The quantity on hand as a domain value.
    pub fn on_hand(&self) -> Result<Quantity, ApiError> {
        Quantity::new(self.quantity)
            .map_err(|_| ApiError::Internal(format!("product {} has a bad quantity", self.id)))
    }

    /// The wire shape. Stored rows passed the same checks on the way in, so a failure here
    /// means the database was edited by hand: reported as internal, never shown raw.
    pub fn into_product(self) -> Result<Product, ApiError> {
        let bad = |what: &str| ApiError::Internal(format!("product {} has a bad {what}", self.id));
        Ok(Product {
            id: ProductId(self.id),
            sku: Sku::parse(&self.sku).map_err(|_| bad("sku"))?,
            quantity: Quantity::new(self.quantity).map_err(|_| bad("quantity"))?,
            created_via: self.created_via.parse().map_err(|_| bad("created_via"))?,
            auto_sync: self.auto_sync == 1,
            tags: self
                .tags
                .split(',')
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .collect(),
            brand: self.brand,
            supplier: self.supplier,
            version: self.version,
            archived: self.archived_at.is_some(),
            listings: self.listings,
            last_push: self
                .last_push
                .as_deref()
                .and_then(|json| serde_json::from_str(json).ok()),
            created_at: self.created_at,
            updated_at: self.updated_at,
            name: self.name,
        })
    }
}

/// One page of the account's products matching `filter`, in `sort` order, and how many match.
pub async fn page(
    db: &D1Database,
    account: AccountId,
    filter: &ProductFilter,
    sort: Sort,
    paging: PageRequest,
) -> Result<(Vec<ProductRow>, u64), ApiError> {
    let mut w = where_clause(account, filter);
    let count = db
        .prepare(format!("SELECT COUNT(*) AS n FROM products {}", w.sql))
        .bind(&w.params)?;
    let limit = w.next(int(i64::from(paging.limit())));
    let offset = w.next(int(paging.offset() as i64));
    // The page's ids first, then their columns: the listing and push subqueries run for the
    // page's rows only, never for every row a sort passes over.
    let order = order_by(sort);
    let rows = db
        .prepare(format!(
            "SELECT {} FROM products WHERE id IN \
               (SELECT id FROM products {} {order} LIMIT {limit} OFFSET {offset}) {order}",
            columns(),
            w.sql,
        ))
        .bind(&w.params)?;
    let results = db.batch(vec![rows, count]).await?;
    let total = results[1].results::<Count>()?.first().map_or(0, |c| c.n);
    Ok((results[0].results::<ProductRow>()?, total))
}

/// One product of the account, if it exists there.
pub async fn find(
    db: &D1Database,
    account: AccountId,
    id: ProductId,
) -> Result<Option<ProductRow>, ApiError> {
    Ok(db
        .prepare(format!(
            "SELECT {} FROM products WHERE id = ?1 AND account_id = ?2",
            columns()
        ))
        .bind(&[int(id.0), int(account.0)])?
        .first::<ProductRow>(None)
        .await?)
}

/// A product's details after checking, to write over the stored ones (`None`: unchanged).
pub struct DetailChanges<'a> {
    pub sku: Option<&'a str>,
    pub name: Option<&'a str>,
    pub brand: Option<&'a str>,
    pub supplier: Option<&'a str>,
    pub tags: Option<&'a str>,
    pub archived: Option<bool>,
}

/// What [`edit`] did.
pub enum Edited {
    Done,
    SkuTaken,
    NotFound,
}

/// Writes new details in one statement. Archiving turns Auto Sync off in the same write; a
/// SKU another product of the account has is refused by the table's UNIQUE constraint, so
/// two renames at once cannot both take it.
pub async fn edit(
    db: &D1Database,
    account: AccountId,
    id: ProductId,
    c: &DetailChanges<'_>,
    now: i64,
) -> Result<Edited, ApiError> {
    let archive = c.archived.map(i64::from);
    let result = db
        .prepare(
            "UPDATE products SET sku = coalesce(?3, sku), name = coalesce(?4, name), \
             brand = coalesce(?5, brand), supplier = coalesce(?6, supplier), tags = coalesce(?7, tags), \
             archived_at = CASE ?8 WHEN 1 THEN coalesce(archived_at, ?9) WHEN 0 THEN NULL ELSE archived_at END, \
             auto_sync = CASE ?8 WHEN 1 THEN 0 ELSE auto_sync END, updated_at = ?9 \
             WHERE id = ?1 AND account_id = ?2",
        )
        .bind(&[
            int(id.0),
            int(account.0),
            opt_text(c.sku),
            opt_text(c.name),
            opt_text(c.brand),
            opt_text(c.supplier),
            opt_text(c.tags),
            opt_int(archive),
            int(now),
        ])?
        .run()
        .await;
    match result {
        Ok(r) if changes(&r)? == 0 => Ok(Edited::NotFound),
        Ok(_) => Ok(Edited::Done),
        Err(e) if crate::db::refused_by_constraint(&e) => Ok(Edited::SkuTaken),
        Err(e) => Err(e.into()),
    }
}

/// Turns Auto Sync on or off. Writes nothing else: turning Auto Sync on pushes nothing.
/// Returns false when the account has no such product.
pub async fn set_auto_sync(
    db: &D1Database,
    account: AccountId,
    id: ProductId,
    on: bool,
    now: i64,
) -> Result<bool, ApiError> {
    let result = db
        .prepare(
            "UPDATE products SET auto_sync = ?1, updated_at = ?2 \
             WHERE id = ?3 AND account_id = ?4 AND (?1 = 0 OR archived_at IS NULL)",
        )
        .bind(&[flag(on), int(now), int(id.0), int(account.0)])?
        .run()
        .await?;
    Ok(changes(&result)? == 1)
}

/// A change to one product's quantity, decided by the domain from the row it read.
pub struct QuantityWrite<'a> {
    pub account: AccountId,
    pub product: &'a ProductRow,
    pub after: Quantity,
    pub source: &'static str,
    pub reference: Option<&'a str>,
    /// What the request asked for, kept with an idempotency key ("add:3").
    pub request: Option<&'a str>,
    pub reason: &'a str,
    pub trigger: SyncTrigger,
    /// Who made the change, recorded on the ledger line.
    pub actor: &'a Actor,
    pub now: i64,
}

/// What became of a [`QuantityWrite`].
pub enum Written {
    /// Applied. `outbox_id` is set when Auto Sync was on and a push was queued in the outbox.
    Applied { outbox_id: Option<i64> },
    /// The product changed since it was read (another change won the race); nothing was
    /// written. Read again and recompute.
    Stale,
    /// The write's reference is an idempotency key already applied (a concurrent repeat won
    /// the race); nothing was written.
    Repeated,
}

/// Applies a quantity change in one D1 batch (one transaction): the product update is
/// conditional on the version that was read, and the ledger entry and the outbox entry are each
/// conditional on the statement before having written a row (`changes() = 1`). So either all
/// three land or none does, and a concurrent change can never be overwritten.
pub async fn write_quantity(db: &D1Database, w: &QuantityWrite<'_>) -> Result<Written, ApiError> {
    let p = w.product;
    let new_version = p.version + 1;
    let after = w.after.get();
    let update = db
        .prepare(
            "UPDATE products SET quantity = ?1, version = ?2, updated_at = ?3 \
             WHERE id = ?4 AND account_id = ?5 AND version = ?6",
        )
        .bind(&[
            int(after),
            int(new_version),
            int(w.now),
            int(p.id),
            int(w.account.0),
            int(p.version),
        ])?;
    let ledger = db
        .prepare(
            "INSERT INTO quantity_changes \
             (account_id, product_id, before, after, delta, source, reference, reason, version, created_at, actor, request) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12 WHERE changes() = 1",
        )
        .bind(&[
            int(w.account.0),
            int(p.id),
            int(p.quantity),
            int(after),
            int(after - p.quantity),
            text(w.source),
            crate::db::opt_text(w.reference),
            text(w.reason),
            int(new_version),
            int(w.now),
            text(&w.actor.stored()),
            crate::db::opt_text(w.request),
        ])?;
    // Auto Sync is read inside the transaction, so a toggle racing this change is respected.
    let outbox = db
        .prepare(
            "INSERT INTO sync_outbox (account_id, product_id, version, trigger, created_at, updated_at) \
             SELECT account_id, id, version, ?1, ?2, ?2 FROM products \
             WHERE id = ?3 AND account_id = ?4 AND auto_sync = 1 AND changes() = 1",
        )
        .bind(&[text(w.trigger.as_str()), int(w.now), int(p.id), int(w.account.0)])?;
    let results = match db.batch(vec![update, ledger, outbox]).await {
        Ok(results) => results,
        // Only the idempotency index can refuse this batch (quantities are checked before).
        Err(e) if w.reference.is_some() && crate::db::refused_by_constraint(&e) => {
            return Ok(Written::Repeated)
        }
        Err(e) => return Err(e.into()),
    };
    if changes(&results[0])? == 0 {
        return Ok(Written::Stale);
    }
    Ok(Written::Applied {
        outbox_id: inserted_id(&results[2])?,
    })
}

/// The ledger line an adjustment with this reference wrote, if one did: what an idempotent
/// repeat answers with.
pub async fn adjustment_by_reference(
    db: &D1Database,
    account: AccountId,
    reference: &str,
) -> Result<Option<AppliedChange>, ApiError> {
    Ok(db
        .prepare(
            "SELECT product_id, before, after, request FROM quantity_changes \
             WHERE account_id = ?1 AND source = 'adjustment' AND reference = ?2",
        )
        .bind(&[int(account.0), text(reference)])?
        .first::<AppliedChange>(None)
        .await?)
}

/// A ledger line as a repeat of its request reads it.
#[derive(Debug, Deserialize)]
pub struct AppliedChange {
    pub product_id: i64,
    pub before: i64,
    pub after: i64,
    /// What the first request asked for.
    #[serde(default)]
    pub request: Option<String>,
}

/// A new product, checked by the domain.
pub struct NewProductRow<'a> {
    pub sku: &'a str,
    pub name: &'a str,
    pub quantity: i64,
    pub created_via: &'static str,
    pub auto_sync: bool,
    pub brand: &'a str,
    pub supplier: &'a str,
    pub tags: &'a str,
    /// The outbox trigger if Auto Sync starts on (the push of the first quantity).
    pub trigger: SyncTrigger,
    /// Who created it, recorded on its first ledger line.
    pub actor: &'a Actor,
    pub now: i64,
}

/// What became of a new product.
pub enum Created {
    Product {
        id: i64,
        outbox_id: Option<i64>,
    },
    /// The account already has this SKU.
    SkuTaken,
}

/// Creates a product, its first ledger entry and (with Auto Sync on) its first push, in one batch.
pub async fn create(
    db: &D1Database,
    account: AccountId,
    p: &NewProductRow<'_>,
) -> Result<Created, ApiError> {
    if id_by_sku(db, account, p.sku).await?.is_some() {
        return Ok(Created::SkuTaken);
    }
    let product_id = "(SELECT id FROM products WHERE account_id = ?1 AND sku = ?2)";
    let insert = db
        .prepare(
            "INSERT INTO products (account_id, sku, name, quantity, auto_sync, created_via, brand, \
             supplier, tags, version, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10)",
        )
        .bind(&[
            int(account.0),
            text(p.sku),
            text(p.name),
            int(p.quantity),
            flag(p.auto_sync),
            text(p.created_via),
            text(p.brand),
            text(p.supplier),
            text(p.tags),
            int(p.now),
        ])?;
    let ledger = db
        .prepare(format!(
            "INSERT INTO quantity_changes \
             (account_id, product_id, before, after, delta, source, reference, reason, version, created_at, actor) \
             VALUES (?1, {product_id}, 0, ?3, ?3, 'adjustment', NULL, 'Product created', 1, ?4, ?5)"
        ))
        .bind(&[
            int(account.0),
            text(p.sku),
            int(p.quantity),
            int(p.now),
            text(&p.actor.stored()),
        ])?;
    let mut statements = vec![insert, ledger];
    if p.auto_sync {
        statements.push(
            db.prepare(format!(
                "INSERT INTO sync_outbox (account_id, product_id, version, trigger, created_at, updated_at) \
                 VALUES (?1, {product_id}, 1, ?3, ?4, ?4)"
            ))
            .bind(&[int(account.0), text(p.sku), text(p.trigger.as_str()), int(p.now)])?,
        );
    }
    // A concurrent create of the same SKU fails the whole batch on the UNIQUE index.
    let results = match db.batch(statements).await {
        Ok(r) => r,
        Err(e)
            if crate::db::refused_by_constraint(&e)
                && id_by_sku(db, account, p.sku).await?.is_some() =>
        {
            return Ok(Created::SkuTaken)
        }
        Err(e) => return Err(e.into()),
    };
    let id = id_by_sku(db, account, p.sku)
        .await?
        .ok_or_else(|| ApiError::Internal("the new product is missing".into()))?;
    let outbox_id = match results.get(2) {
        Some(r) => inserted_id(r)?,
        None => None,
    };
    Ok(Created::Product { id, outbox_id })
}

/// The id of the account's product with `sku`, if there is one: for the write paths, which
/// need no more (a whole row adds the listing and push subqueries of [`columns`]).
pub async fn id_by_sku(
    db: &D1Database,
    account: AccountId,
    sku: &str,
) -> Result<Option<i64>, ApiError> {
    Ok(ids_by_sku(db, account, &[sku]).await?.remove(sku))
}

/// One product of the account by SKU.
pub async fn find_by_sku(
    db: &D1Database,
    account: AccountId,
    sku: &str,
) -> Result<Option<ProductRow>, ApiError> {
    Ok(db
        .prepare(format!(
            "SELECT {} FROM products WHERE account_id = ?1 AND sku = ?2",
            columns()
        ))
        .bind(&[int(account.0), text(sku)])?
        .first::<ProductRow>(None)
        .await?)
}

#[derive(Deserialize)]
struct SkuId {
    sku: String,
    id: i64,
}

/// The ids of the account's products among `skus`, by SKU.
pub async fn ids_by_sku(
    db: &D1Database,
    account: AccountId,
    skus: &[&str],
) -> Result<std::collections::HashMap<String, i64>, ApiError> {
    let skus = serde_json::to_string(skus).map_err(|e| ApiError::Internal(e.to_string()))?;
    let rows = db
        .prepare(
            "SELECT sku, id FROM products \
             WHERE account_id = ?1 AND sku IN (SELECT value FROM json_each(?2))",
        )
        .bind(&[int(account.0), text(&skus)])?
        .all()
        .await?
        .results::<SkuId>()?;
    Ok(rows.into_iter().map(|r| (r.sku, r.id)).collect())
}

#[derive(Deserialize)]
struct Value {
    v: String,
}

/// The account's brands, suppliers (each sorted, at most [`MAX_OFFERED_VALUES`]) and tags, of
/// products not archived, in one batch.
pub async fn values(db: &D1Database, account: AccountId) -> Result<ProductValues, ApiError> {
    let distinct = |column: &str| {
        db.prepare(format!(
            "SELECT DISTINCT {column} AS v FROM products \
             WHERE account_id = ?1 AND archived_at IS NULL AND {column} <> '' \
             ORDER BY {column} COLLATE NOCASE LIMIT {MAX_OFFERED_VALUES}"
        ))
        .bind(&[int(account.0)])
    };
    // Tag lists, not tags: enough different lists to find the offered number of tags.
    let tag_lists = db
        .prepare(
            "SELECT DISTINCT tags AS v FROM products \
             WHERE account_id = ?1 AND archived_at IS NULL AND tags <> '' LIMIT 2000",
        )
        .bind(&[int(account.0)])?;
    let results = db
        .batch(vec![distinct("brand")?, distinct("supplier")?, tag_lists])
        .await?;
    let read = |i: usize| -> Result<Vec<String>, ApiError> {
        Ok(results[i]
            .results::<Value>()?
            .into_iter()
            .map(|r| r.v)
            .collect())
    };
    let lists = read(2)?;
    Ok(ProductValues {
        brands: read(0)?,
        suppliers: read(1)?,
        tags: distinct_tags(lists.iter().map(String::as_str)),
    })
}
