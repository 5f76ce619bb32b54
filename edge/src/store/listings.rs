//! The `listings` table: where each product is sold, what the storefront was last told, and
//! the short lease that keeps two consumers from pushing one listing at once.

use super::storefronts::{parse_rules, rules_json};
use crate::db::{flag, int, opt_text, text};
use crate::error::ApiError;
use serde::Deserialize;
use tally_domain::api::Listing;
use tally_domain::channel::ChannelRules;
use tally_domain::csv_import::CellError;
use tally_domain::listing_csv::ListingLink;
use tally_domain::storefront::{ListingRef, StorefrontKind};
use tally_domain::{AccountId, ProductId};
use worker::{D1Database, D1PreparedStatement};

/// A listing with its connection and product, as the screens and the engine need it.
#[derive(Debug, Clone, Deserialize)]
pub struct ListingRow {
    pub id: i64,
    pub product_id: i64,
    pub storefront_id: i64,
    pub external_id: String,
    pub external_sub_id: Option<String>,
    pub listing_rules: String,
    pub active: i64,
    pub pushed_version: Option<i64>,
    pub pushed_quantity: Option<i64>,
    pub pushed_outbox: i64,
    pub pushed_at: Option<i64>,
    pub revisions_day: i64,
    pub revisions: i64,
    pub push_key_round: i64,
    pub manage_stock: i64,
    /// Revisions today across the listing's cap group (0 without one).
    pub group_revisions: i64,
    pub storefront_name: String,
    pub kind: String,
    pub base_url: String,
    pub credential_enc: String,
    pub store_ref: Option<String>,
    pub keys_in_query: i64,
    pub storefront_rules: String,
    pub sku: String,
    pub quantity: i64,
    pub version: i64,
}

impl ListingRow {
    pub fn kind(&self) -> Result<StorefrontKind, ApiError> {
        StorefrontKind::parse(&self.kind)
            .ok_or_else(|| ApiError::Internal(format!("listing {} has a bad kind", self.id)))
    }

    /// What the round's wait rules need of its recent pushes.
    pub fn push_clock(&self) -> tally_domain::round::PushClock {
        tally_domain::round::PushClock {
            pushed_at: self.pushed_at,
            revisions: self.revisions,
            revisions_day: self.revisions_day,
            group_revisions: self.group_revisions,
        }
    }

    /// The connection's rules with this listing's overrides.
    pub fn effective_rules(&self) -> ChannelRules {
        parse_rules(&self.storefront_rules).overridden_by(&parse_rules(&self.listing_rules))
    }

    pub fn into_listing(self) -> Result<Listing, ApiError> {
        Ok(Listing {
            kind: self.kind()?,
            channel_quantity: self.effective_rules().apply(self.quantity),
            rules: parse_rules(&self.listing_rules),
            active: self.active == 1,
            manage_stock: self.manage_stock == 1,
            id: self.id,
            product_id: ProductId(self.product_id),
            sku: self.sku,
            storefront_id: self.storefront_id,
            storefront_name: self.storefront_name,
            external_id: self.external_id,
            external_sub_id: self.external_sub_id,
            pushed_quantity: self.pushed_quantity,
            pushed_at: self.pushed_at,
        })
    }
}

const SELECT: &str = "SELECT l.id, l.product_id, l.storefront_id, l.external_id, \
     l.external_sub_id, l.rules AS listing_rules, l.active, l.pushed_version, l.pushed_quantity, \
     l.pushed_outbox, l.pushed_at, l.revisions_day, l.revisions, l.push_key_round, l.manage_stock, \
     (SELECT ifnull(SUM(g.revisions), 0) FROM listings g WHERE l.cap_group IS NOT NULL \
        AND g.storefront_id = l.storefront_id AND g.cap_group = l.cap_group \
        AND g.revisions_day = CAST(strftime('%s', 'now') AS INTEGER) / 86400) AS group_revisions, \
     s.name AS storefront_name, \
     s.kind, s.base_url, s.credential_enc, s.store_ref, s.keys_in_query, s.rules AS storefront_rules, p.sku, p.quantity, p.version \
     FROM listings l JOIN storefronts s ON s.id = l.storefront_id \
     JOIN products p ON p.id = l.product_id";

/// The product's listings, paused ones included.
pub async fn for_product(
    db: &D1Database,
    account: AccountId,
    product: ProductId,
) -> Result<Vec<ListingRow>, ApiError> {
    Ok(db
        .prepare(format!(
            "{SELECT} WHERE l.account_id = ?1 AND l.product_id = ?2 ORDER BY l.id"
        ))
        .bind(&[int(account.0), int(product.0)])?
        .all()
        .await?
        .results::<ListingRow>()?)
}

pub async fn find(
    db: &D1Database,
    account: AccountId,
    id: i64,
) -> Result<Option<ListingRow>, ApiError> {
    Ok(db
        .prepare(format!("{SELECT} WHERE l.account_id = ?1 AND l.id = ?2"))
        .bind(&[int(account.0), int(id)])?
        .first::<ListingRow>(None)
        .await?)
}

/// Links a product to a storefront item. `None` when that item is already linked (the unique
/// index on storefront and ids).
pub async fn insert(
    db: &D1Database,
    account: AccountId,
    product: ProductId,
    storefront_id: i64,
    ids: &ListingRef,
    rules: &ChannelRules,
    now: i64,
) -> Result<Option<i64>, ApiError> {
    let result = db
        .prepare(
            "INSERT OR IGNORE INTO listings (account_id, product_id, storefront_id, external_id, \
             external_sub_id, rules, active, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7)",
        )
        .bind(&[
            int(account.0),
            int(product.0),
            int(storefront_id),
            text(&ids.external_id),
            opt_text(ids.external_sub_id.as_deref()),
            text(&rules_json(rules)),
            int(now),
        ])?
        .run()
        .await?;
    super::inserted_id(&result)
}

/// Pauses or resumes a listing, or changes its overrides.
pub async fn update(
    db: &D1Database,
    account: AccountId,
    id: i64,
    change: &ListingChange<'_>,
    now: i64,
) -> Result<(), ApiError> {
    db.prepare(
        "UPDATE listings SET active = ?3, rules = ?4, manage_stock = ?5, updated_at = ?6 \
         WHERE account_id = ?1 AND id = ?2",
    )
    .bind(&[
        int(account.0),
        int(id),
        flag(change.active),
        text(&rules_json(change.rules)),
        flag(change.manage_stock),
        int(now),
    ])?
    .run()
    .await?;
    Ok(())
}

/// Listings whose read-back is due (see `verify.rs`), at most `limit`, each claimed so the
/// next cron run does not ask again: (account, listing).
pub async fn claim_due_verifications(
    db: &D1Database,
    now: i64,
    limit: u32,
) -> Result<Vec<(AccountId, i64)>, ApiError> {
    super::account_ids(
        db.prepare(
            "UPDATE listings SET verify_after = NULL WHERE id IN (SELECT id FROM listings \
             WHERE verify_after IS NOT NULL AND verify_after <= ?1 ORDER BY verify_after \
             LIMIT ?2) RETURNING account_id, id",
        )
        .bind(&[int(now), int(i64::from(limit))])?,
    )
    .await
}

/// Asks for the listing's read-back again at `at` (the last one did not tell).
pub async fn verify_later(
    db: &D1Database,
    account: AccountId,
    id: i64,
    at: i64,
) -> Result<(), ApiError> {
    db.prepare("UPDATE listings SET verify_after = ?3 WHERE account_id = ?1 AND id = ?2")
        .bind(&[int(account.0), int(id), int(at)])?
        .run()
        .await?;
    Ok(())
}

/// The storefront refused what it had accepted: the listing is no longer up to date, so the
/// next change or Sync Now pushes it again.
pub fn not_pushed(
    db: &D1Database,
    account: AccountId,
    id: i64,
) -> Result<D1PreparedStatement, ApiError> {
    Ok(db
        .prepare(
            "UPDATE listings SET pushed_version = NULL, pushed_quantity = NULL \
             WHERE account_id = ?1 AND id = ?2",
        )
        .bind(&[int(account.0), int(id)])?)
}

/// A listing's settings as the seller left them.
pub struct ListingChange<'a> {
    pub active: bool,
    pub rules: &'a ChannelRules,
    pub manage_stock: bool,
}

/// What a lease claim found for a set of products.
pub struct Claim {
    /// Listings this consumer now holds, with their product's **current** quantity and version
    /// (read after the lease was taken, so no later push can be older than this one).
    pub claimed: Vec<ListingRow>,
    /// Products with an active listing another consumer holds right now: try again shortly.
    /// (product, current quantity) for the history's "waiting" line.
    pub busy: Vec<(i64, i64)>,
    /// Products with no active listing on an active storefront.
    /// (product, current quantity) for the history's "nothing to push" line.
    pub unlisted: Vec<(i64, i64)>,
}

#[derive(Deserialize)]
struct ProductListingCount {
    product_id: i64,
    total: i64,
    mine: i64,
    quantity: i64,
}

/// D1 statements one [`claim`] issues (one batch of three).
pub const CLAIM_STATEMENTS: usize = 3;

/// Takes the lease of every active listing of `products` that nobody else holds, until
/// `lease_until`, and reads them back, in one transaction.
pub async fn claim(
    db: &D1Database,
    account: AccountId,
    products: &[i64],
    token: &str,
    now: i64,
    lease_until: i64,
) -> Result<Claim, ApiError> {
    let ids = serde_json::to_string(products).map_err(|e| ApiError::Internal(e.to_string()))?;
    let active = "l.account_id = ?1 AND l.product_id IN (SELECT value FROM json_each(?2)) \
                  AND l.active = 1 AND l.storefront_id IN \
                  (SELECT id FROM storefronts WHERE account_id = ?1 AND active = 1)";
    let take = db
        .prepare(format!(
            "UPDATE listings AS l SET lease_until = ?4, lease_token = ?3 \
             WHERE {active} AND l.lease_until < ?5"
        ))
        .bind(&[
            int(account.0),
            text(&ids),
            text(token),
            int(lease_until),
            int(now),
        ])?;
    let read = db
        .prepare(format!(
            "{SELECT} WHERE l.account_id = ?1 AND l.lease_token = ?2"
        ))
        .bind(&[int(account.0), text(token)])?;
    let counts = db
        .prepare(format!(
            "SELECT p.value AS product_id, \
               (SELECT COUNT(*) FROM listings l WHERE {active} AND l.product_id = p.value) AS total, \
               (SELECT COUNT(*) FROM listings l WHERE {active} AND l.product_id = p.value \
                AND l.lease_token = ?3) AS mine, \
               ifnull((SELECT quantity FROM products q WHERE q.account_id = ?1 AND q.id = p.value), 0) AS quantity \
             FROM json_each(?2) p"
        ))
        .bind(&[int(account.0), text(&ids), text(token)])?;
    let results = db.batch(vec![take, read, counts]).await?;
    let claimed = results[1].results::<ListingRow>()?;
    let mut busy = Vec::new();
    let mut unlisted = Vec::new();
    for c in results[2].results::<ProductListingCount>()? {
        if c.total == 0 {
            unlisted.push((c.product_id, c.quantity));
        } else if c.mine < c.total {
            busy.push((c.product_id, c.quantity));
        }
    }
    Ok(Claim {
        claimed,
        busy,
        unlisted,
    })
}

#[derive(Deserialize)]
struct Taken {
    i: usize,
}

/// Rows of a listings file whose storefront item is already linked, as file errors.
pub async fn already_linked(
    db: &D1Database,
    account: AccountId,
    links: &[ListingLink],
) -> Result<Vec<CellError>, ApiError> {
    let keys: Vec<(i64, &str, &str)> = links
        .iter()
        .map(|l| {
            (
                l.storefront_id,
                l.ids.external_id.as_str(),
                l.ids.external_sub_id.as_deref().unwrap_or(""),
            )
        })
        .collect();
    let keys = serde_json::to_string(&keys).map_err(|e| ApiError::Internal(e.to_string()))?;
    let taken = db
        .prepare(
            "SELECT CAST(j.key AS INTEGER) AS i FROM json_each(?2) j JOIN listings l \
               ON l.account_id = ?1 AND l.storefront_id = json_extract(j.value, '$[0]') \
              AND l.external_id = json_extract(j.value, '$[1]') \
              AND ifnull(l.external_sub_id, '') = json_extract(j.value, '$[2]') \
             ORDER BY i",
        )
        .bind(&[int(account.0), text(&keys)])?
        .all()
        .await?
        .results::<Taken>()?;
    Ok(taken
        .into_iter()
        .filter_map(|t| links.get(t.i))
        .map(|l| CellError {
            row: l.row,
            column: "external_id".to_owned(),
            message: "This storefront item is already linked to a product.".to_owned(),
        })
        .collect())
}

/// Links every row of a checked listings file in one transaction, or none: `false` when one of
/// the items was linked meanwhile (a concurrent request), and then nothing was written.
pub async fn insert_all(
    db: &D1Database,
    account: AccountId,
    links: &[ListingLink],
    now: i64,
) -> Result<bool, ApiError> {
    let rows: Vec<_> = links
        .iter()
        .map(|l| {
            serde_json::json!([
                l.product_id,
                l.storefront_id,
                l.ids.external_id,
                l.ids.external_sub_id
            ])
        })
        .collect();
    let rows = serde_json::Value::Array(rows).to_string();
    let insert = db
        .prepare(
            "INSERT OR IGNORE INTO listings (account_id, product_id, storefront_id, external_id, \
             external_sub_id, rules, active, created_at, updated_at) \
             SELECT ?1, value ->> 0, value ->> 1, value ->> 2, value ->> 3, '{}', 1, ?2, ?2 \
             FROM json_each(?3)",
        )
        .bind(&[int(account.0), int(now), text(&rows)])?;
    // An item taken meanwhile was ignored: fewer rows than links fails the CHECK and rolls the
    // whole batch back.
    let guard = db
        .prepare("INSERT INTO write_guards (ok) VALUES (changes() = ?1)")
        .bind(&[int(links.len() as i64)])?;
    let clear = db.prepare("DELETE FROM write_guards");
    Ok(db.batch(vec![insert, guard, clear]).await.is_ok())
}

/// The listings a push reaches: active, on an active connection. The caller adds
/// `AND l.account_id = … AND l.product_id = …`.
pub const REACHABLE: &str = "FROM listings l JOIN storefronts s ON s.id = l.storefront_id \
     WHERE l.active = 1 AND s.active = 1";

/// How many of `products` have no listing a push would reach (an active listing on an active
/// connection): Sync Now says so instead of counting them as pushed.
pub async fn without_reachable_listing(
    db: &D1Database,
    account: AccountId,
    products: &[i64],
) -> Result<u64, ApiError> {
    let ids = serde_json::to_string(products).map_err(|e| ApiError::Internal(e.to_string()))?;
    let row = db
        .prepare(format!(
            "SELECT COUNT(*) AS n FROM products p \
             WHERE p.account_id = ?1 AND p.id IN (SELECT value FROM json_each(?2)) \
               AND NOT EXISTS (SELECT 1 {REACHABLE} AND l.account_id = ?1 AND l.product_id = p.id)"
        ))
        .bind(&[int(account.0), text(&ids)])?
        .first::<super::Count>(None)
        .await?;
    Ok(row.map_or(0, |r| r.n))
}

/// How many listings a push of `product` reaches (active, on an active connection).
pub async fn reachable_count(
    db: &D1Database,
    account: AccountId,
    product: i64,
) -> Result<u64, ApiError> {
    let row = db
        .prepare(format!(
            "SELECT COUNT(*) AS n {REACHABLE} AND l.account_id = ?1 AND l.product_id = ?2"
        ))
        .bind(&[int(account.0), int(product)])?
        .first::<super::Count>(None)
        .await?;
    Ok(row.map_or(0, |r| r.n))
}

/// Whether connection `storefront_id` has any listing (paused ones included).
pub async fn any_on(
    db: &D1Database,
    account: AccountId,
    storefront_id: i64,
) -> Result<bool, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        any: i64,
    }
    let row = db
        .prepare(
            "SELECT EXISTS (SELECT 1 FROM listings WHERE account_id = ?1 AND storefront_id = ?2) \
             AS any",
        )
        .bind(&[int(account.0), int(storefront_id)])?
        .first::<Row>(None)
        .await?;
    Ok(row.is_some_and(|r| r.any == 1))
}

/// The SKUs of the connection's listings whose storefront id (`external_id`) or, with
/// `variations` (WooCommerce, where it is the variation's id), `external_sub_id` is one of
/// `ids`: how a storefront's order line finds the product the seller linked. A variation's
/// id wins over its parent's.
pub async fn skus_by_external_id(
    db: &D1Database,
    account: AccountId,
    storefront_id: i64,
    ids: &[String],
    variations: bool,
) -> Result<std::collections::HashMap<String, String>, ApiError> {
    #[derive(Deserialize)]
    struct Row {
        external_id: String,
        external_sub_id: Option<String>,
        sku: String,
    }
    let mut found = std::collections::HashMap::new();
    if ids.is_empty() {
        return Ok(found);
    }
    let ids_json = serde_json::to_string(ids).unwrap_or_else(|_| "[]".to_owned());
    let rows = db
        .prepare(
            "SELECT l.external_id, l.external_sub_id, p.sku FROM listings l \
             JOIN products p ON p.id = l.product_id AND p.account_id = l.account_id \
             WHERE l.account_id = ?1 AND l.storefront_id = ?2 \
             AND (l.external_id IN (SELECT value FROM json_each(?3)) \
                  OR (?4 AND l.external_sub_id IN (SELECT value FROM json_each(?3))))",
        )
        .bind(&[
            int(account.0),
            int(storefront_id),
            text(&ids_json),
            flag(variations),
        ])?
        .all()
        .await?
        .results::<Row>()?;
    for row in &rows {
        // Where the sub id is a variation (WooCommerce), a listing with one is that variation,
        // not its parent; elsewhere it is a location (Shopify, BigCommerce) or an offer
        // (eBay), and the item is the external id.
        if !variations || row.external_sub_id.is_none() {
            found.insert(row.external_id.clone(), row.sku.clone());
        }
    }
    for row in rows.into_iter().filter(|_| variations) {
        if let Some(sub) = row.external_sub_id {
            found.insert(sub, row.sku);
        }
    }
    Ok(found)
}
