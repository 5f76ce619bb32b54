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
use serde::Deserialize;
use serde_json::{json, Value};

const KIND: StorefrontKind = StorefrontKind::Vendure;

/// Vendure is the seller's own server and documents no rate limit; a short pause between calls
/// keeps a small instance responsive for its shoppers.
pub(super) const LIMITS: Limits = Limits {
    batch: 50,
    min_interval_ms: 100,
    daily_revisions: None,
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

const READ_STOCK: &str = "query TallyStock($ids: [String!]!, $take: Int!) { productVariants(options: {take: $take, filter: {id: {in: $ids}}}) { items { id stockOnHand stockAllocated trackInventory } } }";

const SET_STOCK: &str = "mutation TallyStock($input: [UpdateProductVariantInput!]!) { updateProductVariants(input: $input) { id stockOnHand stockAllocated } }";

/// One read of the pushes' variants per batch.
pub(super) fn build_preflight(target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
    pushes
        .chunks(LIMITS.batch)
        .map(|chunk| {
            let ids: Vec<&str> = chunk.iter().map(|p| p.external_id.as_str()).collect();
            let mut request = graphql(target, READ_STOCK, json!({ "ids": ids, "take": ids.len() }));
            request.listing_ids = chunk.iter().map(|p| p.listing_id).collect();
            request
        })
        .collect()
}

/// The variant ids a request of this module names, in the order of its `listing_ids`.
fn sent_ids(request: &HttpRequest) -> Vec<String> {
    let sent: Value = request
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    sent.pointer("/variables/ids")
        .or_else(|| sent.pointer("/variables/input"))
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|v| {
                    v.as_str()
                        .unwrap_or_else(|| answer::text(v, "id"))
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Each listing of `request` with the variant it names.
fn listings_and_variants(request: &HttpRequest) -> Vec<(i64, String)> {
    let ids = sent_ids(request);
    request
        .listing_ids
        .iter()
        .enumerate()
        .map(|(i, &listing)| (listing, ids.get(i).cloned().unwrap_or_default()))
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
}

/// Each listing of a preflight read: push it with the units Vendure holds for placed orders,
/// or the reason not to.
pub(super) fn parse_preflight(
    request: &HttpRequest,
    response: &HttpResponse,
) -> Vec<(i64, Preflight)> {
    let stocks = match read_data::<Vec<Stock>>(response, "/data/productVariants/items") {
        Ok(stocks) => stocks,
        Err(refusal) => {
            let failure = refusal.failure(KIND, answer::retry_after_ms(response));
            return request
                .listing_ids
                .iter()
                .map(|&id| (id, Preflight::Skip(failure.clone())))
                .collect();
        }
    };
    listings_and_variants(request)
        .into_iter()
        .map(|(listing_id, variant)| {
            let verdict = match stocks.iter().find(|s| s.id == variant) {
                None => Preflight::Skip(Failure::NotFound {
                    message: format!(
                        "Vendure has no product variant with ID {variant}: link the listing \
                         to the variant's ID as Vendure's admin shows it"
                    ),
                }),
                Some(s) if s.track_inventory.as_deref() == Some("FALSE") => {
                    Preflight::Skip(Failure::Validation {
                        message: "Vendure does not track this variant's stock (Track inventory \
                                  is off), so it would ignore the quantity and keep selling: \
                                  turn Track inventory on for the variant in Vendure"
                            .to_owned(),
                    })
                }
                Some(s) => Preflight::Push {
                    held: s.stock_allocated.max(0),
                },
            };
            (listing_id, verdict)
        })
        .collect()
}

/// One `updateProductVariants` call per batch, each variant's stock on hand set to Tally's
/// quantity plus what Vendure holds for placed orders.
pub(super) fn build(target: &Target, pushes: &[Push]) -> Vec<HttpRequest> {
    pushes
        .chunks(LIMITS.batch)
        .map(|chunk| {
            let input: Vec<Value> = chunk
                .iter()
                .map(|p| json!({ "id": p.external_id, "stockOnHand": p.quantity + p.held }))
                .collect();
            let mut request = graphql(target, SET_STOCK, json!({ "input": input }));
            request.listing_ids = chunk.iter().map(|p| p.listing_id).collect();
            request
        })
        .collect()
}

/// What happened to each listing of an update: Vendure answers every variant it set, or
/// refuses the whole call.
pub(super) fn parse(request: &HttpRequest, response: &HttpResponse) -> Vec<ItemResult> {
    let set = match read_data::<Vec<Option<Stock>>>(response, "/data/updateProductVariants") {
        Ok(set) => set,
        Err(refusal) => return answer::all_refused(KIND, request, response, &refusal),
    };
    listings_and_variants(request)
        .into_iter()
        .map(
            |(listing_id, variant)| match set.iter().flatten().find(|s| s.id == variant) {
                Some(s) => ItemResult {
                    listing_id,
                    outcome: Ok(()),
                    answer: format!(
                        "200: on hand {}, allocated {}",
                        s.stock_on_hand, s.stock_allocated
                    ),
                },
                None => ItemResult {
                    listing_id,
                    outcome: Err(Failure::Unavailable {
                        message: "Vendure's answer did not include this variant".to_owned(),
                    }),
                    answer: "200: variant missing from the answer".to_owned(),
                },
            },
        )
        .collect()
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
    if body.get("errors").is_some_and(|e| !e.is_null()) {
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

const CATALOGUE: &str = "query TallyCatalogue($take: Int!, $skip: Int!) { productVariants(options: {take: $take, skip: $skip, sort: {id: ASC}}) { totalItems items { id sku name stockOnHand stockAllocated trackInventory } } }";

/// Page `page` of the variants, by offset.
pub(super) fn catalogue_request(target: &Target, page: &CataloguePageCursor) -> HttpRequest {
    let skip = match page {
        CataloguePageCursor::Number { n } => *n,
        _ => 0,
    };
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

/// The variants of a catalogue page, each with what Vendure sells now (on hand less allocated).
pub(super) fn catalogue_page(
    page: &CataloguePageCursor,
    response: &HttpResponse,
) -> Result<CataloguePage, String> {
    let skip = match page {
        CataloguePageCursor::Number { n } => *n,
        _ => 0,
    };
    let variants: Variants =
        read_data(response, "/data/productVariants").map_err(|r| list_refused("products", &r))?;
    let read = skip + variants.items.len() as u64;
    let next = (read < variants.total_items && !variants.items.is_empty())
        .then_some(CataloguePageCursor::Number { n: read });
    Ok(CataloguePage {
        items: variants
            .items
            .into_iter()
            .map(|v| {
                let untracked = v.stock.track_inventory.as_deref() == Some("FALSE");
                CatalogueItem {
                    external_id: v.stock.id,
                    external_sub_id: None,
                    sku: v.sku.trim().to_owned(),
                    title: v.name,
                    quantity: (!untracked)
                        .then_some(v.stock.stock_on_hand - v.stock.stock_allocated),
                    not_settable: untracked
                        .then(|| "Vendure does not track this variant's stock".to_owned()),
                    group: None,
                }
            })
            .collect(),
        next,
        total: Some(variants.total_items),
    })
}

// ------------------------------------------------------------------------------------- orders

const ORDERS: &str = "query TallyOrders($take: Int!, $skip: Int!, $after: DateTime!) { orders(options: {take: $take, skip: $skip, sort: {updatedAt: ASC}, filter: {active: {eq: false}, updatedAt: {after: $after}}}) { totalItems items { code state updatedAt orderPlacedAt lines { quantity orderPlacedQuantity productVariant { id sku } } } } }";

/// Placed orders changed since `since` (ISO 8601), oldest first.
pub(super) fn poll_request(target: &Target, since: &str, page: &OrdersPage) -> HttpRequest {
    let skip = match page {
        OrdersPage::First => 0,
        OrdersPage::Next(n) => n.parse::<u64>().unwrap_or(0),
    };
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
    let skip = match page {
        OrdersPage::First => 0,
        OrdersPage::Next(n) => n.parse::<u64>().unwrap_or(0),
    };
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

    #[test]
    fn unknown_and_untracked_variants_are_not_pushed() {
        let t = target();
        let reads = crate::connector::build_preflight(
            &t,
            &[push(1, 4, "11", None), push(2, 1, "99", None)],
        );
        let verdicts = crate::connector::parse_preflight(
            &t,
            &reads[0],
            &ok(r#"{"data":{"productVariants":{"items":[
                {"id":"11","stockOnHand":0,"stockAllocated":0,"trackInventory":"FALSE"}]}}}"#),
        );
        assert!(
            matches!(&verdicts[0].1, Preflight::Skip(Failure::Validation { message })
            if message.contains("Track inventory"))
        );
        assert!(
            matches!(&verdicts[1].1, Preflight::Skip(Failure::NotFound { message })
            if message.contains("ID 99"))
        );
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
