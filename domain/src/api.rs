//! The JSON shapes of the `/api/v1` endpoints, shared by the worker and the app.
//!
//! Times are milliseconds since the Unix epoch (UTC), which JavaScript's `Date` reads directly.

use crate::channel::{ChannelQuantity, ChannelRules};
use crate::created_via::CreatedVia;
use crate::product::ProductId;
use crate::quantity::{Adjustment, Quantity, WholeNumber};
use crate::sku::Sku;
use crate::storefront::StorefrontKind;
use crate::sync::{SyncStatus, SyncTrigger};
use serde::{Deserialize, Serialize};

/// A product as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub sku: Sku,
    pub name: String,
    pub quantity: Quantity,
    pub auto_sync: bool,
    pub created_via: CreatedVia,
    /// Empty when not set.
    pub brand: String,
    /// Empty when not set.
    pub supplier: String,
    pub tags: Vec<String>,
    /// Bumped by every change to the quantity; pushes are keyed by it.
    pub version: i64,
    /// Hidden from the inventory, exports and "all in filter"; kept in history and orders.
    #[serde(default)]
    pub archived: bool,
    /// Listings a push reaches (active, on an active connection).
    #[serde(default)]
    pub listings: u64,
    /// The newest push of this product, if there was one: how it went and when.
    #[serde(default)]
    pub last_push: Option<LastPush>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// How a product's newest push went, and when (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastPush {
    pub status: SyncStatus,
    pub at: i64,
}

/// `PATCH /api/v1/products/{id}`: the details to change; what is left out stays as it is.
/// The quantity is not among them: it changes through an adjustment, which the ledger records.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductChanges {
    /// A new SKU; the product's listings, history and orders follow it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<Sku>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supplier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<String>>,
    /// `true` archives (and turns Auto Sync off, so nothing is pushed for a product no longer
    /// sold); `false` brings it back, with Auto Sync still off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
}

/// `POST /api/v1/products`: a new product. It is created `manual` from the app and `api` with
/// an API key, and starts with Auto Sync as the account's Auto Sync Rules say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    pub sku: Sku,
    pub name: String,
    pub quantity: Quantity,
    #[serde(default)]
    pub brand: String,
    #[serde(default)]
    pub supplier: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// One line of a product's ledger: a change to its quantity on hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub id: i64,
    pub before: i64,
    pub after: i64,
    pub delta: i64,
    /// `adjustment`, `order` or `upload`.
    pub source: String,
    /// The order (`storefront:order_id`) or upload the change came from.
    pub reference: Option<String>,
    pub reason: String,
    /// Who made the change, as the seller reads it (see [`crate::actor`]): an email, an API
    /// key's name and hint, or `Tally`; empty when unknown (changes from before actors were
    /// recorded).
    pub actor: String,
    pub created_at: i64,
}

/// One page of products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductPage {
    pub items: Vec<Product>,
    pub page: u32,
    pub per_page: u32,
    /// Products in the whole (filtered) list, not just this page.
    pub total: u64,
}

/// `PATCH /api/v1/products/{id}/auto-sync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetAutoSync {
    pub auto_sync: bool,
}

/// How an adjustment changes the quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustMode {
    /// Set to exactly `amount`.
    Set,
    /// Add `amount` (negative subtracts).
    Add,
}

/// `POST /api/v1/products/{id}/adjustments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustQuantity {
    pub mode: AdjustMode,
    pub amount: WholeNumber,
    /// Why (a stock count, damage, a return...); shown in the product's ledger.
    #[serde(default)]
    pub reason: String,
}

impl AdjustQuantity {
    /// The adjustment this request asks for, or the field and message that are wrong.
    pub fn adjustment(&self) -> Result<Adjustment, FieldError> {
        match self.mode {
            AdjustMode::Set => Quantity::new(self.amount.0)
                .map(Adjustment::Set)
                .map_err(|e| FieldError::new("amount", format!("amount {e}"))),
            AdjustMode::Add => Ok(Adjustment::Add(self.amount)),
        }
    }
}

/// The longest reason a seller can give for an adjustment.
pub const MAX_REASON_LEN: usize = 500;

/// The answer to an adjustment: the product as it now stands, and the change recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdjustmentResult {
    pub product: Product,
    pub before: i64,
    pub after: i64,
    /// True when Auto Sync queued a push for this change.
    pub sync_queued: bool,
    /// Listings that push reaches (active, on an active connection): 0 means nothing was
    /// pushed anywhere, and the seller is told to link a listing.
    #[serde(default)]
    pub listings: u64,
}

/// A line of the Inventory Sync History.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncHistoryEntry {
    pub id: i64,
    pub created_at: i64,
    pub product_id: ProductId,
    pub sku: String,
    pub storefront: Option<String>,
    pub trigger: SyncTrigger,
    pub quantity: i64,
    pub status: SyncStatus,
    pub message: String,
    pub action: Option<String>,
    /// The listing pushed to; `None` for an entry about the product as a whole.
    #[serde(default)]
    pub listing_id: Option<i64>,
    /// That listing's item id on the storefront (what the seller sees there), while it is
    /// linked.
    #[serde(default)]
    pub listing_item: Option<String>,
    #[serde(default)]
    pub storefront_id: Option<i64>,
    /// 1 for the first try of a push, more for its retries.
    #[serde(default = "first_attempt")]
    pub attempt: u32,
    /// How the quantity sent was derived, e.g. "12 on hand − 2 reserve = 10".
    #[serde(default)]
    pub breakdown: Option<String>,
    /// The storefront's answer in short.
    #[serde(default)]
    pub answer: Option<String>,
    /// The order (`storefront:order_id`) or upload the change came from.
    #[serde(default)]
    pub reference: Option<String>,
    /// When the change happened: `created_at - changed_at` is change-to-storefront latency.
    #[serde(default)]
    pub changed_at: Option<i64>,
}

fn first_attempt() -> u32 {
    1
}

/// One page of sync history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncHistoryPage {
    pub items: Vec<SyncHistoryEntry>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
}

/// `GET|PUT /api/v1/settings/inventory`: account-wide inventory settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InventorySettings {
    /// An inventory file that would set more than this share (percent) of stocked products to 0
    /// needs an explicit confirmation; 100 turns the guard off.
    pub wipe_guard_percent: u64,
}

/// `GET /api/v1/sync-health`: the last hour of pushes, for the health panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncHealth {
    /// The start of the first minute shown.
    pub since: i64,
    /// One bucket per minute, oldest first, every minute present.
    pub minutes: Vec<MinuteBucket>,
    pub storefronts: Vec<StorefrontHealth>,
    /// Outbox entries not yet settled (waiting, in flight or retrying).
    pub in_flight: u64,
    /// Listings whose storefront count differed from Tally's at the latest drift check, not
    /// fixed since.
    #[serde(default)]
    pub drift: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinuteBucket {
    pub minute: i64,
    pub pushes: u64,
    pub failures: u64,
}

/// One storefront's last hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorefrontHealth {
    pub storefront_id: i64,
    pub name: String,
    pub pushes: u64,
    pub failures: u64,
    /// Change-to-storefront latency of successful pushes, in milliseconds.
    pub p50_ms: Option<i64>,
    pub p99_ms: Option<i64>,
    /// Orders this storefront reported in the same hour (webhook or poll).
    #[serde(default)]
    pub orders_heard: u64,
}

/// A storefront connection as the API returns it. The credential is never returned; the
/// seller sees only that one is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Storefront {
    pub id: i64,
    pub name: String,
    pub kind: StorefrontKind,
    pub base_url: String,
    pub store_ref: Option<String>,
    pub rules: ChannelRules,
    pub active: bool,
    pub has_credential: bool,
    /// WooCommerce: the keys go in the query string (the host drops `Authorization`).
    #[serde(default)]
    pub keys_in_query: bool,
    pub listings: u64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Where the storefront sends its order webhooks: unguessable, one per connection.
    #[serde(default)]
    pub webhook_url: String,
    /// Whether a webhook secret is stored (Shopify: the app's client secret).
    #[serde(default)]
    pub has_webhook_secret: bool,
    /// What registering Tally's webhooks with the platform gave, per topic.
    #[serde(default)]
    pub webhooks: Vec<WebhookTopic>,
    /// Orders heard from this storefront (webhook or poll) in the last 24 hours.
    #[serde(default)]
    pub orders_heard_24h: u64,
    /// When Tally last read this storefront's recent orders (ms), if it has.
    #[serde(default)]
    pub polled_at: Option<i64>,
    /// What that read found ("3 orders read, 1 new applied."), or what went wrong.
    #[serde(default)]
    pub poll_status: String,
    /// When the newest push to this storefront failed: its message, with what to do.
    #[serde(default)]
    pub failing: Option<String>,
}

/// One webhook topic Tally subscribed to (or tried to) on a storefront.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookTopic {
    pub topic: String,
    pub ok: bool,
    /// What happened, and for a failure what to do.
    pub message: String,
}

/// One delivery in a connection's Incoming log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub topic: String,
    /// `received` (waiting to be applied), `applied`, `ignored`, `refused` or `failed`.
    pub status: String,
    pub message: String,
    pub order_id: Option<String>,
    pub received_at: i64,
    pub handled_at: Option<i64>,
}

/// `GET /api/v1/storefronts/{id}/deliveries`: the newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryList {
    pub deliveries: Vec<Delivery>,
}

/// `POST /api/v1/storefronts` (all of it) and `PATCH /api/v1/storefronts/{id}` (what changes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorefrontInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Option<StorefrontKind>,
    /// Empty or missing: the platform's own address, where it has one.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Write-only. On an edit, missing keeps the stored one.
    #[serde(default)]
    pub credential: Option<String>,
    #[serde(default)]
    pub store_ref: Option<String>,
    #[serde(default)]
    pub rules: Option<ChannelRules>,
    #[serde(default)]
    pub active: Option<bool>,
    /// Write-only: what the storefront's webhooks are signed with. Shopify: the app's client
    /// secret (required for its webhooks to be accepted). Others: optional; Tally sets one
    /// when it registers its webhooks, and a relay sending Tally's own format signs with it.
    #[serde(default)]
    pub webhook_secret: Option<String>,
    /// WooCommerce: send the consumer key and secret in the query string, for hosts that drop
    /// the `Authorization` header.
    #[serde(default)]
    pub keys_in_query: Option<bool>,
    /// `true`: read the storefront once with these settings before saving (on an edit, when
    /// the address, credential or store changes), and refuse what it turns away. The app
    /// always asks for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorefrontList {
    pub storefronts: Vec<Storefront>,
}

/// A product's listing on a storefront.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    pub id: i64,
    pub product_id: ProductId,
    pub sku: String,
    pub storefront_id: i64,
    pub storefront_name: String,
    pub kind: StorefrontKind,
    pub external_id: String,
    pub external_sub_id: Option<String>,
    /// This listing's overrides of the connection's rules.
    pub rules: ChannelRules,
    /// Paused listings are not pushed to.
    pub active: bool,
    /// WooCommerce: the seller lets Tally turn the item's stock management on (asked when a
    /// push finds WooCommerce not managing it, so ignoring the quantity).
    #[serde(default)]
    pub manage_stock: bool,
    /// What the storefront would be sent now, and how.
    pub channel_quantity: ChannelQuantity,
    pub pushed_quantity: Option<i64>,
    pub pushed_at: Option<i64>,
}

/// `POST /api/v1/products/{id}/listings`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewListing {
    pub storefront_id: i64,
    pub external_id: String,
    #[serde(default)]
    pub external_sub_id: Option<String>,
    #[serde(default)]
    pub rules: ChannelRules,
    /// Ask the storefront first whether it has the item (the app always does): one it does
    /// not have is a 422 at `external_id`, and nothing is linked. A storefront that cannot be
    /// asked now (down, refusing the credential) does not stop the link: its first push says.
    #[serde(default)]
    pub check: bool,
}

/// `GET /api/v1/storefronts/{id}/items?q=`: the storefront's items whose SKU or title holds
/// the words, to link one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorefrontItems {
    /// False where the platform has no search (eBay): type the SKU instead.
    pub searchable: bool,
    /// At most `connector::lookup::SEARCH_LIMIT`.
    pub items: Vec<crate::connector::catalogue::CatalogueItem>,
    /// Why the storefront could not be searched now, in words a seller can act on.
    #[serde(default)]
    pub problem: Option<String>,
}

/// The longest search `GET /storefronts/{id}/items` takes.
pub const MAX_ITEM_SEARCH: usize = 100;

/// The `q` of an item search: 1 to 100 characters once trimmed.
pub fn item_search(q: &str) -> Result<&str, FieldError> {
    let q = q.trim();
    match q.chars().count() {
        0 => Err(FieldError::new(
            "q",
            "type part of a SKU or title to search for",
        )),
        n if n > MAX_ITEM_SEARCH => Err(FieldError::new(
            "q",
            format!("a search is at most {MAX_ITEM_SEARCH} characters, not {n}"),
        )),
        _ => Ok(q),
    }
}

/// `PATCH /api/v1/listings/{id}`: pause or resume, or change the overrides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListingUpdate {
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub rules: Option<ChannelRules>,
    /// WooCommerce: let Tally turn stock management on for this item.
    #[serde(default)]
    pub manage_stock: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingList {
    pub listings: Vec<Listing>,
}

/// `POST /api/v1/listings/import` answer: how many listings the CSV linked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingImportResult {
    pub linked: u64,
}

/// One dependency's part of the health report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub ok: bool,
    /// Round-trip time of the check.
    pub millis: i64,
    pub detail: String,
}

/// `GET /api/v1/health`: a real round trip to each binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub ok: bool,
    pub d1: Check,
    pub kv: Check,
    /// Sending a ping onto the sync queue.
    pub queue: Check,
    /// When the queue consumer last handled a ping (the other half of the round trip).
    pub queue_last_consumed_at: Option<i64>,
    /// The nonce of that ping, so a caller can tell its own ping has come back.
    pub queue_last_ping: Option<String>,
    /// When the cron trigger last ran.
    pub cron_last_run_at: Option<i64>,
}

/// `POST /api/v1/auth/signup`: a new account with its first user. New accounts are on the
/// free plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignUp {
    pub email: String,
    pub password: String,
    /// The store's name, shown in the top bar.
    pub store_name: String,
}

/// `POST /api/v1/auth/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignIn {
    pub email: String,
    pub password: String,
}

/// `GET /api/v1/auth/me`: who is signed in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub email: Option<String>,
    pub account_name: String,
    pub plan: crate::account::Plan,
}

/// An API key as listed: never the key itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeySummary {
    pub id: i64,
    pub name: String,
    /// The key's first characters, e.g. `tally_3fA9xQ`.
    pub hint: String,
    /// What the key may do.
    pub scope: crate::scope::Scope,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// `POST /api/v1/api-keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    pub name: String,
    /// Required, so every integration's power is a choice: `read`, `write` or `admin`.
    pub scope: crate::scope::Scope,
}

/// A created key: the only time the key itself is ever returned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub key: String,
    pub summary: ApiKeySummary,
}

/// `GET /api/v1/settings/auto-sync-rules`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoSyncRulesView {
    pub rules: Vec<crate::rules::Rule>,
    /// False on the free plan: the rules are shown read-only.
    pub editable: bool,
    /// Why the rules cannot be changed, when they cannot.
    pub explanation: Option<String>,
    /// A consequence the seller should know (order-import products push 0).
    pub warning: Option<String>,
}

/// `PUT /api/v1/settings/auto-sync-rules`: the rules to store (methods left out keep theirs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetAutoSyncRules {
    pub rules: Vec<crate::rules::Rule>,
}

/// `POST /api/v1/products/auto-sync`: Auto Sync on or off for selected products. Pushes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BulkAutoSync {
    pub ids: crate::selection::Selection,
    pub auto_sync: bool,
}

/// `POST /api/v1/products/sync-now`: push the current quantity of these products now, even if
/// nothing changed, and turn Auto Sync on for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncNow {
    pub ids: crate::selection::Selection,
}

/// The answer to a bulk action on selected products.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkResult {
    /// Products changed.
    pub updated: u64,
    /// Pushes queued (Sync Now only).
    pub queued: u64,
    /// Of the products, how many have no listing a push reaches (Sync Now only): for them
    /// there was nothing to send.
    #[serde(default)]
    pub without_listings: u64,
    /// What happened, in the seller's words (Sync Now: `selection::sync_now_summary`), so the
    /// app shows the server's account of it.
    #[serde(default)]
    pub message: String,
    /// Sync Now: one push per product, to follow with `GET /api/v1/pushes/progress?ids=` until
    /// each has landed or failed.
    #[serde(default)]
    pub pushes: Vec<i64>,
}

/// How many pushes can be asked about at once: Sync Now's largest selection.
pub const MAX_PUSHES_ASKED: usize = crate::selection::MAX_SELECTED;

/// The `ids` of `GET /api/v1/pushes/progress`: push ids from Sync Now's answer, separated by
/// commas, 1 to 250 of them.
pub fn push_ids(text: &str) -> Result<Vec<i64>, String> {
    let ids: Vec<i64> = text
        .split(',')
        .map(|part| match part.trim().parse::<i64>() {
            Ok(id) if id > 0 => Ok(id),
            _ => Err(format!(
                "{:?} is not a push id: send the ids of Sync Now's `pushes`, separated by commas",
                part.trim()
            )),
        })
        .collect::<Result<_, _>>()?;
    if ids.len() > MAX_PUSHES_ASKED {
        return Err(format!(
            "{} push ids were sent; ask about at most {MAX_PUSHES_ASKED} at a time",
            ids.len()
        ));
    }
    Ok(ids)
}

/// Where one push (one product's current quantity to each of its listings) stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushOutcome {
    /// Every listing has its answer (or was given up on): nothing more will happen.
    pub settled: bool,
    /// The push was given up on as a whole (its retries were used up), whatever its rows say.
    #[serde(default)]
    pub gave_up: bool,
    /// Listings that took the quantity (or already had it).
    pub listings_pushed: u64,
    /// Listings whose push failed for good.
    pub listings_failed: u64,
}

/// How far a set of pushes has got, product by product.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushProgress {
    /// The pushes asked about that are the caller's.
    pub products: u64,
    /// Settled with every listing pushed.
    pub products_pushed: u64,
    /// Settled with at least one listing failed.
    pub products_failed: u64,
    /// Settled with no listing pushed to: it has none a push reaches, or a newer change to
    /// the product took the push over (Sync Now's answer tells the two apart).
    pub products_without_listings: u64,
    /// The listings of the products in `products_pushed`.
    pub listings_pushed: u64,
    /// The listings whose push failed, of the products in `products_failed`.
    pub listings_failed: u64,
}

impl PushProgress {
    /// Adds up each push's outcome.
    pub fn of(outcomes: &[PushOutcome]) -> Self {
        let mut progress = Self {
            products: outcomes.len() as u64,
            ..Self::default()
        };
        for o in outcomes.iter().filter(|o| o.settled) {
            if o.listings_failed > 0 || o.gave_up {
                progress.products_failed += 1;
                progress.listings_failed += o.listings_failed;
            } else if o.listings_pushed > 0 {
                progress.products_pushed += 1;
                progress.listings_pushed += o.listings_pushed;
            } else {
                progress.products_without_listings += 1;
            }
        }
        progress
    }

    /// Products whose pushes have all had their answer.
    pub fn settled(&self) -> u64 {
        self.products_pushed + self.products_failed + self.products_without_listings
    }

    /// Nothing more will happen. (Not for an answer that names no push: that is no answer.)
    pub fn finished(&self) -> bool {
        self.products > 0 && self.settled() == self.products
    }
}

/// A field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// A message about one field.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, for a person and for a program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_field`, `not_found`.
    pub code: String,
    /// A sentence a seller can act on.
    pub message: String,
    /// The field (or CSV row/column) at fault, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a refused inventory file: each bad cell by row and column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<crate::csv_import::CellError>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<AdjustQuantity, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn push_ids_are_positive_comma_separated_and_at_most_250() {
        assert_eq!(push_ids("4, 9,12"), Ok(vec![4, 9, 12]));
        for bad in ["", "4,,5", "0", "-3", "1.5", "x"] {
            assert!(push_ids(bad).is_err(), "{bad:?}");
        }
        let many: Vec<String> = (1..=251).map(|i| i.to_string()).collect();
        assert!(push_ids(&many.join(","))
            .unwrap_err()
            .contains("251 push ids"));
    }

    #[test]
    fn progress_counts_a_product_once_its_pushes_have_all_settled() {
        let outcome = |settled, listings_pushed, listings_failed| PushOutcome {
            settled,
            gave_up: false,
            listings_pushed,
            listings_failed,
        };
        let p = PushProgress::of(&[
            outcome(true, 3, 0),
            outcome(true, 1, 1),
            outcome(true, 0, 0),
            outcome(false, 2, 0),
            PushOutcome {
                gave_up: true,
                ..outcome(true, 0, 0)
            },
        ]);
        assert_eq!((p.products, p.settled()), (5, 4));
        assert_eq!(
            (
                p.products_pushed,
                p.products_failed,
                p.products_without_listings
            ),
            (1, 2, 1),
            "a push given up on failed, whatever its rows say"
        );
        assert_eq!(
            (p.listings_pushed, p.listings_failed),
            (3, 1),
            "the pushed product's 3 listings; the failed product's failed one"
        );
        assert!(!p.finished());
        assert!(
            !PushProgress::of(&[]).finished(),
            "no push named is no answer"
        );
    }

    #[test]
    fn a_set_adjustment_needs_a_non_negative_amount() {
        let req = parse(r#"{"mode":"set","amount":-1,"reason":"count"}"#).unwrap();
        let err = req.adjustment().unwrap_err();
        assert_eq!(err.field, "amount");
        assert!(err.message.contains("negative"));
    }

    #[test]
    fn an_add_adjustment_may_be_negative() {
        let req = parse(r#"{"mode":"add","amount":-3}"#).unwrap();
        assert_eq!(req.adjustment().unwrap(), Adjustment::Add(WholeNumber(-3)));
        assert_eq!(req.reason, "");
    }

    #[test]
    fn unknown_fields_and_fractional_amounts_are_refused() {
        assert!(parse(r#"{"mode":"add","amount":1,"qty":2}"#)
            .unwrap_err()
            .contains("unknown field"));
        assert!(parse(r#"{"mode":"add","amount":1.5}"#)
            .unwrap_err()
            .contains("whole number"));
        assert!(parse(r#"{"mode":"multiply","amount":1}"#)
            .unwrap_err()
            .contains("unknown variant"));
    }
}

/// Where a listing import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    /// Reading the storefront's catalogue, page by page.
    Reading,
    /// Read and matched: the preview is ready to apply.
    Ready,
    /// Linking everything in one step.
    Applying,
    Applied,
    /// The storefront stopped answering, or something changed since the preview; `message`
    /// says which and what to do.
    Failed,
    Cancelled,
}

impl ImportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Reading => "reading",
            ImportStatus::Ready => "ready",
            ImportStatus::Applying => "applying",
            ImportStatus::Applied => "applied",
            ImportStatus::Failed => "failed",
            ImportStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            ImportStatus::Reading,
            ImportStatus::Ready,
            ImportStatus::Applying,
            ImportStatus::Applied,
            ImportStatus::Failed,
            ImportStatus::Cancelled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether the job still moves by itself.
    pub fn running(self) -> bool {
        matches!(self, ImportStatus::Reading | ImportStatus::Applying)
    }
}

/// A listing import (`POST /api/v1/storefronts/{id}/imports`, `GET /api/v1/imports/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingImport {
    pub id: i64,
    pub storefront_id: i64,
    pub storefront_name: String,
    pub status: ImportStatus,
    /// Storefront items read so far.
    pub items_read: u64,
    /// The storefront's own count of its catalogue, when it gives one.
    pub total: Option<u64>,
    /// Items per class (once `ready`).
    pub counts: crate::listing_import::ImportCounts,
    /// Why it failed or what applying did, in plain words.
    pub message: String,
    /// Whether products it creates start with Auto Sync on (the listing import rule).
    pub new_auto_sync: bool,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// One storefront item of an import's preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportItem {
    pub external_id: String,
    pub external_sub_id: Option<String>,
    pub sku: String,
    pub title: String,
    pub quantity: Option<i64>,
    pub class: crate::listing_import::ImportClass,
    pub note: String,
}

/// A page of an import's items (`GET /api/v1/imports/{id}/items?class=&page=&page_size=`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportItemPage {
    pub items: Vec<ImportItem>,
    /// Items of that class (all classes when none was asked).
    pub total: u64,
}

/// A connection's latest drift check (`POST /api/v1/storefronts/{id}/drift-checks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftCheck {
    pub id: i64,
    pub storefront_id: i64,
    pub storefront_name: String,
    /// `reading` while the catalogue is read back, `ready` once compared, `failed` with
    /// `message` when the storefront did not answer.
    pub status: ImportStatus,
    pub items_read: u64,
    pub total: Option<u64>,
    /// Mismatches still open (not fixed since).
    pub open: u64,
    pub message: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

/// One listing whose storefront count is not Tally's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftItem {
    pub listing_id: i64,
    pub product_id: ProductId,
    pub sku: String,
    pub storefront_id: i64,
    pub storefront_name: String,
    pub external_id: String,
    pub external_sub_id: Option<String>,
    /// What Tally's rules give the listing.
    pub expected: i64,
    /// What the storefront showed (`None`: gone or not counted there).
    pub found: Option<i64>,
    pub cause: crate::drift::DriftCause,
    /// The likely cause and what fixing does.
    pub explanation: String,
    /// Whether a push repairs it (a listing gone from the storefront needs the seller).
    pub fixable: bool,
}

/// `GET /api/v1/drift`: each connection's latest check and the open mismatches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftReport {
    pub checks: Vec<DriftCheck>,
    pub items: Vec<DriftItem>,
    /// Each connection's latest full re-sync.
    pub resyncs: Vec<ResyncJob>,
}

/// `POST /api/v1/drift/fix`: these listings, or every open one of a connection (`all`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixDrift {
    #[serde(default)]
    pub listing_ids: Vec<i64>,
    #[serde(default)]
    pub storefront_id: Option<i64>,
    #[serde(default)]
    pub all: bool,
}

/// What a fix did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftFixed {
    /// Listings whose Tally count was sent.
    pub pushed: u64,
    /// Orders the storefronts listed that Tally had not heard of, applied first.
    pub orders_found: u64,
    pub message: String,
}

/// A full re-sync of one connection (`POST /api/v1/storefronts/{id}/resync`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResyncJob {
    pub id: i64,
    pub storefront_id: i64,
    /// Auto Sync products listed on the connection when it started.
    pub total: u64,
    /// Products whose push was sent to the queue so far.
    pub queued: u64,
    /// Pushes that landed, and that failed (Sync history says why).
    pub pushed: u64,
    pub failed: u64,
    /// `running` while queuing, `finished` once every product was queued, `cancelled`.
    pub status: crate::bulk_job::JobStatus,
    pub created_at: i64,
}

/// `GET /api/v1/setup`: which first steps the account has taken, for the first-run checklist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupSteps {
    /// A storefront is connected.
    pub storefront: bool,
    /// A product exists (added, uploaded, or from an order or an import).
    pub products: bool,
    /// A product is linked to a storefront listing.
    pub listing: bool,
    /// A product has Auto Sync on.
    pub auto_sync: bool,
}

impl SetupSteps {
    /// How many of the four steps are done.
    pub fn done(self) -> usize {
        [self.storefront, self.products, self.listing, self.auto_sync]
            .into_iter()
            .filter(|d| *d)
            .count()
    }
}

/// `GET /api/v1/products/values`: the brands, suppliers and tags the account's products have
/// (not archived ones), for the filter bar to offer as the seller types.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductValues {
    pub brands: Vec<String>,
    pub suppliers: Vec<String>,
    pub tags: Vec<String>,
}
