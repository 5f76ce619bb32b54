//! Vendure (open source, self-hosted): its Admin GraphQL API at `<server>/admin-api`, with a
//! bearer token (what a superadmin's `login` answers in the `vendure-auth-token` header).
//!
//! Vendure keeps two numbers per variant: `stockOnHand` and `stockAllocated` (units held for
//! placed orders not yet fulfilled). What it sells is on hand minus allocated. A placed order
//! raises the allocation and leaves stock on hand alone, so by the time Tally pushes, a sale
//! Tally already counted may still sit in `stockAllocated`. Setting `stockOnHand` to Tally's
//! quantity would then take that sale off twice. So every push first reads the allocation
//! ([`build_preflight`]) and sends `stockOnHand = quantity + allocated`, which makes the
//! saleable count Tally's quantity. A sale between the read and the write leaves the count one
//! short, and its webhook's push puts it right.
//!
//! GraphQL answers HTTP 200 even when it refuses: the refusal is in `errors[]`, with Vendure's
//! code in `extensions.code` (`FORBIDDEN`, `ENTITY_NOT_FOUND`, `USER_INPUT_ERROR`). One
//! `updateProductVariants` call is all or nothing: a single unknown id refuses the whole call,
//! which is why the preflight read also weeds out variants Vendure does not know.

use super::answer::{self, Class, Refusal};
use super::catalogue::{CatalogueItem, CataloguePage, Page as CataloguePageCursor};
use super::orders::{Page as OrdersPage, Polled, PolledOrder};
use super::{
    base_url, post_json, Failure, HttpRequest, HttpResponse, ItemResult, Limits, Preflight, Push,
    Target,
};
use crate::storefront::StorefrontKind;
use crate::webhook::{OrderEvent, SaleLine};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const KIND: StorefrontKind = StorefrontKind::Vendure;

/// Vendure is the seller's own server and documents no rate limit; a short pause between calls
/// keeps a small instance responsive for its shoppers.
pub(super) const LIMITS: Limits = Limits {
    batch: 50,
    min_interval_ms: 100,
    daily_revisions: None,
    // Self-hosted; a push is a read and a write.
    push_spacing_ms: 1_000,
};

/// Variants one catalogue page or one poll reads (Vendure's default `shopListQueryLimit` and
/// `adminListQueryLimit` are 100 and 1,000).
const PAGE: u64 = 100;
const ORDERS_PAGE: u64 = 50;

/// The Admin API address.
fn admin_api(target: &Target) -> String {
    format!("{}/admin-api", base_url(target))
}

fn graphql(target: &Target, query: &str, variables: Value) -> HttpRequest {
    post_json(
        target,
        admin_api(target),
        &json!({ "query": query, "variables": variables }),
    )
}

const READ_STOCK: &str = "query TallyStock($ids: [String!]!, $take: Int!) { globalSettings { trackInventory outOfStockThreshold } productVariants(options: {take: $take, filter: {id: {in: $ids}}}) { items { id stockOnHand stockAllocated trackInventory outOfStockThreshold useGlobalOutOfStockThreshold stockLevels { stockLocationId } } } }";

const SET_STOCK: &str = "mutation TallyStock($input: [UpdateProductVariantInput!]!) { updateProductVariants(input: $input) { id stockOnHand stockAllocated } }";

/// What Tally means by each listing of a request, carried in the GraphQL request's
/// `extensions` (which Vendure ignores), so reading the answer needs nothing else.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meant {
    listing: i64,
    variant: String,
    /// The quantity Vendure should sell (Tally's, channel rules applied).
    sells: i64,
    /// Units Vendure held for placed orders when Tally read them (writes only).
    #[serde(default)]
    held: i64,
}

/// A GraphQL request for `pushes`, with what each means in its `extensions`.
fn request_for(target: &Target, query: &str, variables: Value, pushes: &[Push]) -> HttpRequest {
    let meant: Vec<Meant> = pushes
        .iter()
        .map(|p| Meant {
            listing: p.listing_id,
            variant: p.external_id.clone(),
            sells: p.quantity,
            held: p.held,
        })
        .collect();
    let mut request = post_json(
        target,
        admin_api(target),
        &json!({ "query": query, "variables": variables, "extensions": { "tally": meant } }),
    );
    request.listing_ids = pushes.iter().map(|p| p.listing_id).collect();
    request
}

/// The listings of a request of this module, in order.
fn meant(request: &HttpRequest) -> Vec<Meant> {
    let sent: Value = request
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    sent.pointer("/extensions/tally")
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// One read of the pushes' variants per batch.
pub(super) fn build_preflight(target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
    pushes
        .chunks(LIMITS.batch)
        .map(|chunk| {
            let ids: Vec<&str> = chunk.iter().map(|p| p.external_id.as_str()).collect();
            let variables = json!({ "ids": ids, "take": ids.len() });
            request_for(target, READ_STOCK, variables, chunk)
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Stock {
    id: String,
    #[serde(default)]
    stock_on_hand: i64,
    #[serde(default)]
    stock_allocated: i64,
    #[serde(default)]
    track_inventory: Option<String>,
    #[serde(default)]
    out_of_stock_threshold: i64,
    #[serde(default = "yes")]
    use_global_out_of_stock_threshold: bool,
    #[serde(default)]
    stock_levels: Vec<Value>,
}

fn yes() -> bool {
    true
}

/// The store-wide defaults a variant may inherit.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Settings {
    #[serde(default = "yes")]
    track_inventory: bool,
    #[serde(default)]
    out_of_stock_threshold: i64,
}

/// Vendure's own defaults, when an answer leaves the settings out.
impl Default for Settings {
    fn default() -> Self {
        Settings {
            track_inventory: true,
            out_of_stock_threshold: 0,
        }
    }
}

impl Stock {
    /// Whether Vendure ignores this variant's stock and sells it without limit.
    fn untracked(&self, settings: &Settings) -> bool {
        match self.track_inventory.as_deref() {
            Some("FALSE") => true,
            Some("TRUE") => false,
            _ => !settings.track_inventory,
        }
    }

    fn threshold(&self, settings: &Settings) -> i64 {
        if self.use_global_out_of_stock_threshold {
            settings.out_of_stock_threshold
        } else {
            self.out_of_stock_threshold
        }
    }

    /// Why Tally must not set this variant, when it must not.
    fn not_settable(&self, settings: &Settings) -> Option<Failure> {
        if self.untracked(settings) {
            return Some(Failure::Validation {
                message: "Vendure does not track this variant's stock (Track inventory is off), \
                          so it would ignore the quantity and keep selling: turn Track \
                          inventory on for the variant in Vendure"
                    .to_owned(),
            });
        }
        // Vendure sells the sum of every location; Tally's one number can only be written to
        // the default one, which would leave the others' units on sale too.
        (self.stock_levels.len() > 1).then(|| Failure::NotSettable {
            message: format!(
                "Vendure keeps this variant's stock at {} locations and sells their sum; Tally \
                 sets one number, so it leaves the variant alone: keep its stock at one \
                 location in Vendure",
                self.stock_levels.len()
            ),
        })
    }
}

/// Each listing of a preflight read: push it with the units Vendure holds for placed orders,
/// or the reason not to.
pub(super) fn parse_preflight(
    request: &HttpRequest,
    response: &HttpResponse,
) -> Vec<(i64, Preflight)> {
    let read = read_data::<Value>(response, "/data").and_then(|data| {
        let stocks: Vec<Stock> = from(&data, "/productVariants/items")?;
        let settings: Settings = from(&data, "/globalSettings").unwrap_or_default();
        Ok((stocks, settings))
    });
    let (stocks, settings) = match read {
        Ok(read) => read,
        Err(refusal) => {
            let failure = refusal.failure(KIND, answer::retry_after_ms(response));
            return request
                .listing_ids
                .iter()
                .map(|&id| (id, Preflight::Skip(failure.clone())))
                .collect();
        }
    };
    meant(request)
        .into_iter()
        .map(|m| {
            let verdict = match stocks.iter().find(|s| s.id == m.variant) {
                None => Preflight::Skip(Failure::NotFound {
                    message: format!(
                        "Vendure has no product variant with ID {}: link the listing to the \
                         variant's ID as Vendure's admin shows it",
                        m.variant
                    ),
                }),
                Some(s) => match s.not_settable(&settings) {
                    Some(failure) => Preflight::Skip(failure),
                    None => below_threshold(s, &settings, &m).map_or(
                        Preflight::Push {
                            held: s.stock_allocated,
                        },
                        Preflight::Skip,
                    ),
                },
            };
            (m.listing, verdict)
        })
        .collect()
}

/// Vendure refuses a stock level above 0 and below the variant's out-of-stock threshold (the
/// units it holds back on top of Tally's rules): say so before the write fails.
fn below_threshold(stock: &Stock, settings: &Settings, meant: &Meant) -> Option<Failure> {
    let threshold = stock.threshold(settings);
    let on_hand = meant.sells + stock.stock_allocated;
    (on_hand > 0 && on_hand < threshold).then(|| Failure::Validation {
        message: format!(
            "Vendure holds back {threshold} units of this variant (its out-of-stock threshold) \
             and refuses a stock level of {on_hand} below that: set the threshold to 0 in \
             Vendure and hold units back with a reserve in Tally's channel rules instead"
        ),
    })
}

/// One `updateProductVariants` call per batch, each variant's stock on hand set to Tally's
/// quantity plus what Vendure holds for placed orders (never below 0).
pub(super) fn build(target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
    pushes
        .chunks(LIMITS.batch)
        .map(|chunk| {
            let input: Vec<Value> = chunk
                .iter()
                .map(
                    |p| json!({ "id": p.external_id, "stockOnHand": (p.quantity + p.held).max(0) }),
                )
                .collect();
            request_for(target, SET_STOCK, json!({ "input": input }), chunk)
        })
        .collect()
}

/// Vendure refused a whole call of several variants for one it did not name (a stock level
/// below a threshold, a variant gone since the read): the engine sends it again in halves, so
/// only that listing fails.
pub(super) fn refused_without_naming(request: &HttpRequest, response: &HttpResponse) -> bool {
    request.listing_ids.len() > 1
        && matches!(
            read_data::<Value>(response, "/data/updateProductVariants"),
            Err(Refusal {
                class: Class::Validation | Class::NotFound,
                ..
            })
        )
}

/// What happened to each listing of an update: Vendure answers every variant it set, or
/// refuses the whole call.
pub(super) fn parse(request: &HttpRequest, response: &HttpResponse) -> Vec<ItemResult> {
    let set = match read_data::<Vec<Option<Stock>>>(response, "/data/updateProductVariants") {
        Ok(set) => set,
        Err(refusal) => return answer::all_refused(KIND, request, response, &refusal),
    };
    meant(request)
        .into_iter()
        .map(|m| {
            let answer = |s: &Stock| {
                format!(
                    "200: on hand {}, allocated {}",
                    s.stock_on_hand, s.stock_allocated
                )
            };
            let (outcome, answer) = match set.iter().flatten().find(|s| s.id == m.variant) {
                Some(s) if s.stock_allocated == m.held => (Ok(()), answer(s)),
                // An order was placed, fulfilled or cancelled between the read and the write:
                // the stock on hand was worked out from an old allocation. Read and set again.
                Some(s) => (
                    Err(Failure::Unavailable {
                        message: format!(
                            "Vendure's open orders changed while Tally set the stock (held {} \
                             when read, {} now); Tally sets it again",
                            m.held, s.stock_allocated
                        ),
                    }),
                    answer(s),
                ),
                None => (
                    Err(Failure::Unavailable {
                        message: "Vendure's answer did not include this variant".to_owned(),
                    }),
                    "200: variant missing from the answer".to_owned(),
                ),
            };
            ItemResult {
                listing_id: m.listing,
                outcome,
                answer,
            }
        })
        .collect()
}

/// The value at `pointer` of `data`, as a refusal when it is not there or not that shape.
fn from<T: serde::de::DeserializeOwned>(data: &Value, pointer: &str) -> Result<T, Refusal> {
    data.pointer(pointer)
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| Refusal {
            class: Class::Validation,
            status: 200,
            code: None,
            detail: UNREADABLE.to_owned(),
        })
}

/// The value at `pointer` of a GraphQL answer, or the refusal the answer holds instead.
fn read_data<T: serde::de::DeserializeOwned>(
    response: &HttpResponse,
    pointer: &str,
) -> Result<T, Refusal> {
    if !answer::is_success(response.status) {
        let detail = answer::json(response)
            .as_ref()
            .map(first_error)
            .map(|(_, message)| message)
            .unwrap_or_else(|| answer::plain_text(&response.body));
        return Err(Refusal::of_status(response.status, None, detail));
    }
    let body = answer::json(response).ok_or_else(|| Refusal {
        class: Class::Validation,
        status: response.status,
        code: None,
        detail: UNREADABLE.to_owned(),
    })?;
    if body
        .get("errors")
        .and_then(Value::as_array)
        .is_some_and(|e| !e.is_empty())
    {
        let (code, message) = first_error(&body);
        return Err(Refusal {
            class: class_of(&code),
            status: response.status,
            code: (!code.is_empty()).then_some(code),
            detail: message,
        });
    }
    body.pointer(pointer)
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .ok_or_else(|| Refusal {
            class: Class::Validation,
            status: response.status,
            code: None,
            detail: UNREADABLE.to_owned(),
        })
}

/// A refusal's words when Vendure's answer was not the GraphQL Tally asked for.
const UNREADABLE: &str = "an answer Tally could not read";

/// What a failed list read (`what`: "products", "orders") means for the seller.
fn list_refused(what: &str, refusal: &Refusal) -> String {
    let detail = &refusal.detail;
    if refusal.class == Class::Auth {
        format!(
            "Vendure refused to list its {what} ({detail}): give the connection's credential \
             permission to read products and orders (a SuperAdmin's token has it)."
        )
    } else if detail == UNREADABLE {
        format!("Vendure's list of {what} could not be read: {detail}.")
    } else {
        format!("Vendure did not list its {what} ({detail}); Tally tries again shortly.")
    }
}

/// Vendure's code and words for the first GraphQL error.
fn first_error(body: &Value) -> (String, String) {
    let first = body.pointer("/errors/0").unwrap_or(&Value::Null);
    (
        first
            .pointer("/extensions/code")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        answer::text(first, "message").to_owned(),
    )
}

/// What Vendure's error code means for the seller.
fn class_of(code: &str) -> Class {
    match code {
        "FORBIDDEN" | "UNAUTHORIZED" => Class::Auth,
        "ENTITY_NOT_FOUND" => Class::NotFound,
        "INTERNAL_SERVER_ERROR" => Class::Unavailable,
        _ => Class::Validation,
    }
}

// ---------------------------------------------------------------------------------- catalogue

const CATALOGUE: &str = "query TallyCatalogue($take: Int!, $skip: Int!) { globalSettings { trackInventory outOfStockThreshold } productVariants(options: {take: $take, skip: $skip, sort: {id: ASC}}) { totalItems items { id sku name stockOnHand stockAllocated trackInventory stockLevels { stockLocationId } } } }";

const FIND: &str = "query TallyFind($take: Int!, $filter: ProductVariantFilterParameter!) { globalSettings { trackInventory outOfStockThreshold } productVariants(options: {take: $take, filter: $filter, filterOperator: OR, sort: {id: ASC}}) { totalItems items { id sku name stockOnHand stockAllocated trackInventory stockLevels { stockLocationId } } } }";

/// Variants matching `filter` (a `ProductVariantFilterParameter`, its fields OR-ed), in the
/// catalogue's answer shape, so [`catalogue_page`] reads it.
pub(super) fn find_request(target: &Target, filter: Value, take: u64) -> HttpRequest {
    graphql(target, FIND, json!({ "take": take, "filter": filter }))
}

/// Where a catalogue page starts: the number of variants before it.
fn catalogue_offset(page: &CataloguePageCursor) -> u64 {
    match page {
        CataloguePageCursor::Number { n } => *n,
        _ => 0,
    }
}

/// Page `page` of the variants, by offset.
pub(super) fn catalogue_request(target: &Target, page: &CataloguePageCursor) -> HttpRequest {
    let skip = catalogue_offset(page);
    graphql(target, CATALOGUE, json!({ "take": PAGE, "skip": skip }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Variants {
    total_items: u64,
    items: Vec<Variant>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Variant {
    #[serde(flatten)]
    stock: Stock,
    #[serde(default)]
    sku: String,
    #[serde(default)]
    name: String,
}

impl Variant {
    /// The item as import and drift see it: what Vendure sells now (on hand less allocated),
    /// or why Tally leaves it alone.
    fn item(self, settings: &Settings) -> CatalogueItem {
        let not_settable = self.stock.not_settable(settings);
        CatalogueItem {
            quantity: not_settable
                .is_none()
                .then_some(self.stock.stock_on_hand - self.stock.stock_allocated),
            not_settable: not_settable.map(|f| f.message().to_owned()),
            external_id: self.stock.id,
            external_sub_id: None,
            sku: self.sku.trim().to_owned(),
            title: self.name,
            group: None,
        }
    }
}

/// The variants of a catalogue page.
pub(super) fn catalogue_page(
    page: &CataloguePageCursor,
    response: &HttpResponse,
) -> Result<CataloguePage, String> {
    let data: Value = read_data(response, "/data").map_err(|r| list_refused("products", &r))?;
    let variants: Variants =
        from(&data, "/productVariants").map_err(|r| list_refused("products", &r))?;
    let settings: Settings = from(&data, "/globalSettings").unwrap_or_default();
    let read = catalogue_offset(page) + variants.items.len() as u64;
    let next = (read < variants.total_items && !variants.items.is_empty())
        .then_some(CataloguePageCursor::Number { n: read });
    Ok(CataloguePage {
        items: variants
            .items
            .into_iter()
            .map(|v| v.item(&settings))
            .collect(),
        next,
        total: Some(variants.total_items),
    })
}

// ------------------------------------------------------------------------------------- orders

const ORDERS: &str = "query TallyOrders($take: Int!, $skip: Int!, $after: DateTime!) { orders(options: {take: $take, skip: $skip, sort: {updatedAt: ASC}, filter: {active: {eq: false}, orderPlacedAt: {isNull: false}, updatedAt: {after: $after}}}) { totalItems items { code state updatedAt orderPlacedAt lines { quantity orderPlacedQuantity productVariant { id sku } } } } }";

/// Where a poll page starts: the number of orders before it.
fn orders_offset(page: &OrdersPage) -> u64 {
    match page {
        OrdersPage::First => 0,
        OrdersPage::Next(n) => n.parse::<u64>().unwrap_or(0),
    }
}

/// Placed orders changed since `since` (ISO 8601), oldest first. Carts (not placed) are left
/// out by the query, so they never hold the cursor back.
pub(super) fn poll_request(target: &Target, since: &str, page: &OrdersPage) -> HttpRequest {
    let skip = orders_offset(page);
    graphql(
        target,
        ORDERS,
        json!({ "take": ORDERS_PAGE, "skip": skip, "after": since }),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Orders {
    total_items: u64,
    items: Vec<Order>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Order {
    code: String,
    state: String,
    updated_at: String,
    order_placed_at: Option<String>,
    #[serde(default)]
    lines: Vec<Line>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Line {
    quantity: i64,
    order_placed_quantity: Option<i64>,
    product_variant: Option<LineVariant>,
}

#[derive(Deserialize)]
struct LineVariant {
    id: String,
    sku: Option<String>,
}

/// The placed orders of a poll page: a cancelled one gives its units back, any other took
/// what was placed (a later fulfilment changes nothing Tally counts).
pub(super) fn poll_page(page: &OrdersPage, response: &HttpResponse) -> Result<Polled, String> {
    let skip = orders_offset(page);
    let orders: Orders =
        read_data(response, "/data/orders").map_err(|r| list_refused("orders", &r))?;
    let read = skip + orders.items.len() as u64;
    let next = (read < orders.total_items && !orders.items.is_empty())
        .then(|| OrdersPage::Next(read.to_string()));
    let polled = orders
        .items
        .into_iter()
        .filter(|o| o.order_placed_at.is_some())
        .map(polled_order)
        .collect::<Result<_, _>>()?;
    Ok(Polled {
        orders: polled,
        next,
    })
}

fn polled_order(order: Order) -> Result<PolledOrder, String> {
    let modified_ms = chrono::DateTime::parse_from_rfc3339(order.updated_at.trim())
        .ok()
        .map(|t| t.timestamp_millis());
    let event = if order.state == "Cancelled" {
        OrderEvent::Cancelled {
            order_id: order.code.clone(),
        }
    } else {
        let lines = order
            .lines
            .into_iter()
            .map(|l| SaleLine {
                external_id: l.product_variant.as_ref().map(|v| v.id.clone()),
                sku: l
                    .product_variant
                    .and_then(|v| v.sku)
                    .filter(|s| !s.trim().is_empty()),
                quantity: l.order_placed_quantity.unwrap_or(l.quantity),
            })
            .collect();
        OrderEvent::Placed {
            order_id: order.code.clone(),
            lines: crate::webhook::checked(lines)
                .map_err(|e| format!("Vendure order {}: {e}", order.code))?,
        }
    };
    Ok(PolledOrder {
        order_id: order.code,
        modified_ms,
        event,
        refunds: Vec::new(),
    })
}

// ---------------------------------------------------------------------------------- webhooks

/// The one topic: Tally's webhook plugin for Vendure sends every order event to one address.
pub const TOPIC: &str = "orders";

const SUBSCRIBE: &str = "mutation TallyWebhook($url: String!, $secret: String!) { setTallyWebhook(url: $url, secret: $secret) { url secretSet } }";

/// Tells Tally's Vendure plugin where to send orders and the secret to sign them with.
pub(super) fn subscribe_request(target: &Target, hook_url: &str, secret: &str) -> HttpRequest {
    graphql(
        target,
        SUBSCRIBE,
        json!({ "url": hook_url, "secret": secret }),
    )
}

/// What subscribing gave, worded for the storefront's page.
pub(super) fn subscribe_answer(response: &HttpResponse) -> Result<String, String> {
    match read_data::<Value>(response, "/data/setTallyWebhook") {
        Ok(_) => Ok("Subscribed.".to_owned()),
        Err(r) if r.detail.contains("setTallyWebhook") || r.detail.contains("Cannot query") => Err(
            "Vendure does not have Tally's webhook plugin: add `TallyWebhookPlugin` (in \
                 Tally's vendure/ folder) to the server's plugins and restart it. Until then \
                 Tally reads Vendure's orders every minute."
                .to_owned(),
        ),
        Err(r) if r.class == Class::Auth => Err(format!(
            "Vendure refused the token ({}): subscribing needs a SuperAdmin's token.",
            r.detail
        )),
        Err(r) => Err(format!("Vendure refused: {}.", r.detail)),
    }
}

/// Vendure as a [`Connector`](super::platform::Connector): the push path's entry points.
pub struct Vendure;

impl super::platform::Connector for Vendure {
    fn limits(&self) -> Limits {
        LIMITS
    }
    fn build(&self, target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
        build(target, pushes)
    }
    fn parse(&self, request: &HttpRequest, response: &HttpResponse) -> Vec<ItemResult> {
        parse(request, response)
    }
    fn refused_without_naming(&self, request: &HttpRequest, response: &HttpResponse) -> bool {
        refused_without_naming(request, response)
    }
    fn build_preflight(&self, target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
        build_preflight(target, pushes)
    }
    fn parse_preflight(
        &self,
        request: &HttpRequest,
        response: &HttpResponse,
    ) -> Vec<(i64, Preflight)> {
        parse_preflight(request, response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::fixtures::push;

    fn target() -> Target {
        crate::connector::fixtures::target(StorefrontKind::Vendure)
    }

    fn ok(body: &str) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    fn body(request: &HttpRequest) -> Value {
        serde_json::from_str(request.body.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn a_push_reads_the_allocation_first_then_sets_on_hand_above_it() {
        let t = target();
        let pushes = [push(1, 4, "11", None), push(2, 0, "12", None)];
        let reads = crate::connector::build_preflight(&t, &pushes);
        assert_eq!(reads.len(), 1);
        assert_eq!(reads[0].url, "https://shop.example/admin-api");
        assert!(reads[0]
            .headers
            .contains(&("Authorization".into(), "Bearer vendure_token".into())));
        assert_eq!(body(&reads[0])["variables"]["ids"], json!(["11", "12"]));

        let verdicts = crate::connector::parse_preflight(
            &t,
            &reads[0],
            &ok(r#"{"data":{"productVariants":{"items":[
                {"id":"12","stockOnHand":3,"stockAllocated":3,"trackInventory":"INHERIT"},
                {"id":"11","stockOnHand":9,"stockAllocated":2,"trackInventory":"TRUE"}]}}}"#),
        );
        assert_eq!(
            verdicts,
            vec![
                (1, Preflight::Push { held: 2 }),
                (2, Preflight::Push { held: 3 })
            ]
        );

        let mut pushes = pushes.to_vec();
        pushes[0].held = 2;
        pushes[1].held = 3;
        let writes = crate::connector::build_requests(&t, &pushes);
        assert_eq!(
            body(&writes[0])["variables"]["input"],
            json!([{"id": "11", "stockOnHand": 6}, {"id": "12", "stockOnHand": 3}])
        );
        let results = crate::connector::parse_response(
            &t,
            &writes[0],
            &ok(r#"{"data":{"updateProductVariants":[
                {"id":"11","stockOnHand":6,"stockAllocated":2},
                {"id":"12","stockOnHand":3,"stockAllocated":3}]}}"#),
        );
        assert!(results.iter().all(|r| r.outcome.is_ok()), "{results:?}");
        assert_eq!(results[0].answer, "200: on hand 6, allocated 2");
    }

    fn verdicts(pushes: &[Push], answer: &str) -> Vec<Preflight> {
        let t = target();
        let reads = crate::connector::build_preflight(&t, pushes);
        crate::connector::parse_preflight(&t, &reads[0], &ok(answer))
            .into_iter()
            .map(|(_, v)| v)
            .collect()
    }

    #[test]
    fn variants_vendure_would_not_sell_by_tallys_number_are_not_pushed() {
        let pushes = [
            push(1, 4, "11", None),
            push(2, 1, "99", None),
            push(3, 2, "13", None),
            push(4, 2, "14", None),
            push(5, 1, "15", None),
        ];
        let found = verdicts(
            &pushes,
            r#"{"data":{"globalSettings":{"trackInventory":false,"outOfStockThreshold":0},
                "productVariants":{"items":[
                {"id":"11","stockOnHand":0,"stockAllocated":0,"trackInventory":"FALSE"},
                {"id":"13","stockOnHand":5,"stockAllocated":0,"trackInventory":"INHERIT"},
                {"id":"14","stockOnHand":5,"stockAllocated":0,"trackInventory":"TRUE",
                 "stockLevels":[{"stockLocationId":"1"},{"stockLocationId":"2"}]},
                {"id":"15","stockOnHand":5,"stockAllocated":1,"trackInventory":"TRUE",
                 "outOfStockThreshold":3,"useGlobalOutOfStockThreshold":false}]}}}"#,
        );
        let message = |v: &Preflight| match v {
            Preflight::Skip(f) => f.message().to_owned(),
            Preflight::Push { .. } => panic!("{v:?} was pushed"),
        };
        assert!(message(&found[0]).contains("Track inventory"));
        assert!(
            matches!(&found[1], Preflight::Skip(Failure::NotFound { message }) if message.contains("ID 99"))
        );
        assert!(
            message(&found[2]).contains("Track inventory"),
            "inherits 'off'"
        );
        assert!(
            matches!(&found[3], Preflight::Skip(Failure::NotSettable { message }) if message.contains("2 locations"))
        );
        assert!(
            message(&found[4]).contains("holds back 3 units"),
            "1 + 1 held is below 3"
        );
    }

    #[test]
    fn a_write_over_a_changed_allocation_is_set_again() {
        let t = target();
        let mut pushes = [push(1, 4, "11", None), push(2, 0, "12", None)];
        pushes[0].held = 2;
        pushes[1].held = -3; // Vendure can count below 0: the write never goes under 0.
        let writes = crate::connector::build_requests(&t, &pushes);
        assert_eq!(
            body(&writes[0])["variables"]["input"],
            json!([{"id": "11", "stockOnHand": 6}, {"id": "12", "stockOnHand": 0}])
        );
        let results = crate::connector::parse_response(
            &t,
            &writes[0],
            &ok(r#"{"data":{"updateProductVariants":[
                {"id":"11","stockOnHand":6,"stockAllocated":3},
                {"id":"12","stockOnHand":0,"stockAllocated":-3}]}}"#),
        );
        assert!(
            matches!(&results[0].outcome, Err(Failure::Unavailable { message }) if message.contains("held 2 when read, 3 now")),
            "{results:?}"
        );
        assert!(results[1].outcome.is_ok(), "{results:?}");
    }

    #[test]
    fn a_whole_call_refused_for_one_variant_is_split() {
        let t = target();
        let writes =
            crate::connector::build_requests(&t, &[push(1, 4, "11", None), push(2, 1, "12", None)]);
        let refused = ok(
            r#"{"errors":[{"message":"stockOnHand cannot be a negative value","extensions":{"code":"USER_INPUT_ERROR"}}],"data":null}"#,
        );
        assert!(crate::connector::refused_without_naming(
            &t, &writes[0], &refused
        ));
        let alone = crate::connector::build_requests(&t, &[push(1, 4, "11", None)]);
        assert!(!crate::connector::refused_without_naming(
            &t, &alone[0], &refused
        ));
        let forbidden =
            ok(r#"{"errors":[{"message":"no","extensions":{"code":"FORBIDDEN"}}],"data":null}"#);
        assert!(!crate::connector::refused_without_naming(
            &t, &writes[0], &forbidden
        ));
    }

    #[test]
    fn graphql_refusals_in_a_200_are_classed_by_their_code() {
        let t = target();
        let writes = crate::connector::build_requests(&t, &[push(1, 4, "11", None)]);
        let cases = [
            (
                r#"{"errors":[{"message":"You are not currently authorized to perform this action","extensions":{"code":"FORBIDDEN"}}],"data":null}"#,
                "auth",
            ),
            (
                r#"{"errors":[{"message":"No ProductVariant with the id \"11\" could be found","extensions":{"code":"ENTITY_NOT_FOUND"}}],"data":null}"#,
                "not_found",
            ),
            (
                r#"{"errors":[{"message":"stockOnHand cannot be a negative value","extensions":{"code":"USER_INPUT_ERROR"}}],"data":null}"#,
                "validation",
            ),
        ];
        for (answer, class) in cases {
            let result = crate::connector::parse_response(&t, &writes[0], &ok(answer)).remove(0);
            let failure = result.outcome.unwrap_err();
            let seen = serde_json::to_value(&failure).unwrap()["class"].clone();
            assert_eq!(seen, class, "{answer}");
            assert!(failure.message().starts_with("Vendure "), "{failure:?}");
        }
        let down = HttpResponse {
            status: 503,
            headers: Vec::new(),
            body: "busy".into(),
        };
        let result = crate::connector::parse_response(&t, &writes[0], &down).remove(0);
        assert!(matches!(result.outcome, Err(Failure::Unavailable { .. })));
    }

    #[test]
    fn the_catalogue_shows_what_vendure_sells_and_pages_by_offset() {
        let first = catalogue_request(&target(), &CataloguePageCursor::First);
        assert_eq!(body(&first)["variables"], json!({"take": 100, "skip": 0}));
        let page = catalogue_page(
            &CataloguePageCursor::First,
            &ok(r#"{"data":{"productVariants":{"totalItems":150,"items":[
                {"id":"1","sku":"MUG-S","name":"Mug Small","stockOnHand":9,"stockAllocated":2,"trackInventory":"TRUE"},
                {"id":"2","sku":"","name":"Gift card","stockOnHand":0,"stockAllocated":0,"trackInventory":"FALSE"}]}}}"#),
        )
        .unwrap();
        assert_eq!(page.total, Some(150));
        assert_eq!(page.next, Some(CataloguePageCursor::Number { n: 2 }));
        assert_eq!(page.items[0].quantity, Some(7));
        assert_eq!(page.items[0].sku, "MUG-S");
        assert_eq!(page.items[1].quantity, None);
        assert!(page.items[1].not_settable.is_some());
        let last = catalogue_page(
            &CataloguePageCursor::Number { n: 100 },
            &ok(r#"{"data":{"productVariants":{"totalItems":100,"items":[]}}}"#),
        )
        .unwrap();
        assert_eq!(last.next, None);
    }

    #[test]
    fn polled_orders_take_what_was_placed_and_cancelled_ones_give_it_back() {
        let request = poll_request(&target(), "2026-12-04T09:00:00.000Z", &OrdersPage::First);
        assert_eq!(
            body(&request)["variables"]["after"],
            "2026-12-04T09:00:00.000Z"
        );
        let polled = poll_page(
            &OrdersPage::First,
            &ok(r#"{"data":{"orders":{"totalItems":3,"items":[
                {"code":"A1","state":"PaymentSettled","updatedAt":"2026-12-04T09:55:05.000Z","orderPlacedAt":"2026-12-04T09:55:05.000Z",
                 "lines":[{"quantity":2,"orderPlacedQuantity":2,"productVariant":{"id":"1","sku":"MUG-S"}}]},
                {"code":"A2","state":"Cancelled","updatedAt":"2026-12-04T09:56:00.000Z","orderPlacedAt":"2026-12-04T09:55:30.000Z",
                 "lines":[{"quantity":0,"orderPlacedQuantity":1,"productVariant":{"id":"1","sku":"MUG-S"}}]},
                {"code":"A3","state":"AddingItems","updatedAt":"2026-12-04T09:57:00.000Z","orderPlacedAt":null,"lines":[]}]}}}"#),
        )
        .unwrap();
        assert_eq!(polled.orders.len(), 2);
        assert_eq!(polled.next, None);
        assert_eq!(
            polled.orders[0].event,
            OrderEvent::Placed {
                order_id: "A1".into(),
                lines: vec![SaleLine {
                    external_id: Some("1".into()),
                    sku: Some("MUG-S".into()),
                    quantity: 2
                }]
            }
        );
        assert_eq!(
            polled.orders[1].event,
            OrderEvent::Cancelled {
                order_id: "A2".into()
            }
        );
        assert!(polled.orders[0].modified_ms.is_some());
    }

    #[test]
    fn subscribing_sets_the_plugins_address_and_says_when_the_plugin_is_missing() {
        let request = subscribe_request(&target(), "https://tally.example/hooks/x", "s3");
        assert_eq!(
            body(&request)["variables"],
            json!({"url": "https://tally.example/hooks/x", "secret": "s3"})
        );
        assert_eq!(
            subscribe_answer(&ok(
                r#"{"data":{"setTallyWebhook":{"url":"https://tally.example/hooks/x","secretSet":true}}}"#
            )),
            Ok("Subscribed.".to_owned())
        );
        let missing = HttpResponse {
            status: 400,
            headers: Vec::new(),
            body: r#"{"errors":[{"message":"Cannot query field \"setTallyWebhook\" on type \"Mutation\".","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}"#.into(),
        };
        assert!(subscribe_answer(&missing).unwrap_err().contains("plugin"));
    }
}
