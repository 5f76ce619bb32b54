//! Each platform's catalogue read (`docs/storefronts.md`, "Catalogue"): the store's items with
//! their SKU, title and quantity, page by page, in the platform's own shapes. An item's SKU
//! and title come from its traits (`PUT /_sandbox/traits`); eBay and Amazon items are keyed
//! by SKU already. An item without a SKU is listed without one, as real stores do.

use crate::api::ApiRequest;
use crate::orders::bigcommerce_path;
use crate::platform::{is_digits, Reply};
use crate::store::State;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tally_sandbox::Kind;

/// Answers the call if it reads the catalogue; `None` leaves it to the other handlers.
pub fn api(kind: Kind, request: &ApiRequest, state: &mut State) -> Option<Reply> {
    let path = bigcommerce_path(&request.path);
    match (kind, request.method.as_str(), path) {
        (Kind::Shopify, "POST", _) => shopify(request, state),
        (Kind::Woocommerce, "GET", "/wp-json/wc/v3/products") => Some(woo_products(request, state)),
        (Kind::Woocommerce, "GET", p) => {
            let parent = p
                .strip_prefix("/wp-json/wc/v3/products/")?
                .strip_suffix("/variations")?;
            Some(woo_variations(parent, request, state))
        }
        (Kind::Bigcommerce, "GET", "/v3/catalog/products") => {
            Some(bigcommerce_products(request, state))
        }
        (Kind::Ebay, "GET", "/sell/inventory/v1/inventory_item") => {
            Some(ebay_items(request, state))
        }
        (Kind::Amazon, "GET", p) => {
            let seller = p.strip_prefix("/listings/2021-08-01/items/")?;
            (!seller.is_empty() && !seller.contains('/'))
                .then(|| amazon_items(seller, request, state))
        }
        _ => None,
    }
}

fn sku_of(state: &State, key: &str) -> String {
    state
        .traits
        .get(key)
        .and_then(|t| t.sku.clone())
        .unwrap_or_default()
}

fn title_of(state: &State, key: &str, fallback: String) -> String {
    state
        .traits
        .get(key)
        .and_then(|t| t.title.clone())
        .unwrap_or(fallback)
}

fn number(request: &ApiRequest, name: &str, default: usize) -> usize {
    request
        .query_param(name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

// ---- Shopify ------------------------------------------------------------------------------

fn shopify(request: &ApiRequest, state: &mut State) -> Option<Reply> {
    let body = request.json().ok()?;
    if !body["query"].as_str()?.contains("productVariants(") {
        return None;
    }
    let variables = &body["variables"];
    let first = variables["first"].as_u64().unwrap_or(50).min(250) as usize;
    let offset: usize = variables["after"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    // Inventory item → its (location, key) pairs, in item order.
    let mut items: BTreeMap<u64, Vec<(u64, String)>> = BTreeMap::new();
    for key in state.items.keys() {
        if let Some((item, location)) = key.split_once('@') {
            if let (Ok(item), Ok(location)) = (item.parse(), location.parse()) {
                items.entry(item).or_default().push((location, key.clone()));
            }
        }
    }
    let page: Vec<_> = items.iter().skip(offset).take(first).collect();
    // Shopify charges what the answer holds: a point per variant and per level.
    let cost = 1.0 + page.iter().map(|(_, l)| 1 + l.len().min(5)).sum::<usize>() as f64;
    if let Err(throttled) = state.bucket.take(cost) {
        return Some(throttled);
    }
    let nodes: Vec<Value> = page
        .iter()
        .map(|(item, levels)| {
            let key = &levels[0].1;
            let levels: Vec<Value> = levels
                .iter()
                .take(5)
                .map(|(location, key)| {
                    json!({"location": {"legacyResourceId": location.to_string()},
                           "quantities": [{"name": "available", "quantity": state.items[key]}]})
                })
                .collect();
            let sku = sku_of(state, key);
            json!({"sku": if sku.is_empty() { Value::Null } else { json!(sku) },
                   "displayName": title_of(state, key, format!("Variant {item}")),
                   "inventoryItem": {"legacyResourceId": item.to_string(), "tracked": true,
                                     "inventoryLevels": {"nodes": levels}}})
        })
        .collect();
    let end = offset + page.len();
    let has_next = end < items.len();
    Some(Reply::json(
        200,
        json!({"data": {"productVariantsCount": {"count": items.len()},
                        "productVariants": {"nodes": nodes,
                            "pageInfo": {"hasNextPage": has_next,
                                         "endCursor": if page.is_empty() { Value::Null } else { json!(end.to_string()) }}}},
               "extensions": state.bucket.extensions(cost)}),
    ))
}

// ---- WooCommerce --------------------------------------------------------------------------

/// Simple products are keyed `<product>`; a variable product is the parent of `<parent>/<v>`.
fn woo_products(request: &ApiRequest, state: &State) -> Reply {
    let mut products: BTreeMap<u64, Value> = BTreeMap::new();
    for (key, quantity) in &state.items {
        match key.split_once('/') {
            None => {
                let Ok(id) = key.parse::<u64>() else { continue };
                products.insert(
                    id,
                    json!({"id": id, "name": title_of(state, key, format!("Product {id}")),
                           "sku": sku_of(state, key), "type": "simple",
                           "manage_stock": !state.traits.get(key).is_some_and(|t| t.unmanaged),
                           "stock_quantity": quantity, "variations": []}),
                );
            }
            Some((parent, variation)) => {
                let (Ok(id), Ok(variation)) = (parent.parse::<u64>(), variation.parse::<u64>())
                else {
                    continue;
                };
                let entry = products.entry(id).or_insert_with(|| {
                    json!({"id": id, "name": format!("Product {id}"), "sku": "",
                           "type": "variable", "manage_stock": false, "stock_quantity": null,
                           "variations": []})
                });
                if let Some(list) = entry["variations"].as_array_mut() {
                    list.push(json!(variation));
                }
            }
        }
    }
    let per_page = number(request, "per_page", 10).clamp(1, 100);
    let page = number(request, "page", 1).max(1);
    let all: Vec<Value> = products.into_values().collect();
    woo_page(&all, page, per_page)
}

fn woo_variations(parent: &str, request: &ApiRequest, state: &State) -> Reply {
    if !is_digits(parent) {
        return Reply::json(
            404,
            json!({"code": "rest_no_route", "message": "No route was found matching the URL and request method.", "data": {"status": 404}}),
        );
    }
    let prefix = format!("{parent}/");
    let all: Vec<Value> = state
        .items
        .iter()
        .filter_map(|(key, quantity)| {
            let id: u64 = key.strip_prefix(&prefix)?.parse().ok()?;
            let option = title_of(state, key, format!("Option {id}"));
            Some(json!({"id": id, "sku": sku_of(state, key),
                        "manage_stock": !state.traits.get(key).is_some_and(|t| t.unmanaged),
                        "stock_quantity": quantity,
                        "attributes": [{"id": 0, "name": "Option", "option": option}]}))
        })
        .collect();
    let per_page = number(request, "per_page", 10).clamp(1, 100);
    let page = number(request, "page", 1).max(1);
    woo_page(&all, page, per_page)
}

/// One page with WordPress's `X-WP-Total` and `X-WP-TotalPages`.
fn woo_page(all: &[Value], page: usize, per_page: usize) -> Reply {
    let pages = all.len().div_ceil(per_page);
    let slice: Vec<Value> = all
        .iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    Reply::json(200, Value::Array(slice))
        .header("X-WP-Total", all.len())
        .header("X-WP-TotalPages", pages)
}

// ---- BigCommerce --------------------------------------------------------------------------

/// Products at the default location (1): `product:<id>@1` is a product tracked by product;
/// a variant `<id>@1` is the one variant of product `<id>`, tracked by variant.
fn bigcommerce_products(request: &ApiRequest, state: &State) -> Reply {
    let mut products: BTreeMap<u64, Value> = BTreeMap::new();
    for (key, quantity) in &state.items {
        let Some(item) = key.strip_suffix("@1") else {
            continue;
        };
        let title = |id| title_of(state, key, format!("Product {id}"));
        if let Some(id) = item.strip_prefix("product:") {
            let Ok(id) = id.parse::<u64>() else { continue };
            products.insert(
                id,
                json!({"id": id, "name": title(id), "sku": sku_of(state, key),
                       "inventory_tracking": "product", "inventory_level": quantity,
                       "variants": []}),
            );
        } else if let Ok(id) = item.parse::<u64>() {
            products.insert(
                id,
                json!({"id": id, "name": title(id), "sku": "", "inventory_tracking": "variant",
                       "inventory_level": quantity,
                       "variants": [{"id": id, "product_id": id, "sku": sku_of(state, key),
                                     "inventory_level": quantity, "option_values": []}]}),
            );
        }
    }
    let limit = number(request, "limit", 50).clamp(1, 250);
    let page = number(request, "page", 1).max(1);
    let all: Vec<Value> = products.into_values().collect();
    let pages = all.len().div_ceil(limit).max(1);
    let data: Vec<Value> = all
        .iter()
        .skip((page - 1) * limit)
        .take(limit)
        .cloned()
        .collect();
    Reply::json(
        200,
        json!({"data": data, "meta": {"pagination": {"total": all.len(), "count": data.len(),
               "per_page": limit, "current_page": page, "total_pages": pages}}}),
    )
}

// ---- eBay ---------------------------------------------------------------------------------

fn ebay_items(request: &ApiRequest, state: &State) -> Reply {
    let limit = number(request, "limit", 25).clamp(1, 200);
    let offset = number(request, "offset", 0);
    let items: Vec<Value> = state
        .items
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(sku, quantity)| {
            let groups: Vec<String> = state
                .traits
                .get(sku)
                .and_then(|t| t.group.clone())
                .into_iter()
                .collect();
            json!({"sku": sku, "product": {"title": title_of(state, sku, sku.clone())},
                   "availability": {"shipToLocationAvailability": {"quantity": quantity}},
                   "inventoryItemGroupKeys": groups})
        })
        .collect();
    let mut body = json!({"total": state.items.len(), "size": items.len(), "limit": limit,
                          "offset": offset, "inventoryItems": items});
    if offset + limit < state.items.len() {
        body["next"] = json!(format!(
            "/sell/inventory/v1/inventory_item?limit={limit}&offset={}",
            offset + limit
        ));
    }
    Reply::json(200, body)
}

// ---- Amazon -------------------------------------------------------------------------------

fn amazon_items(seller: &str, request: &ApiRequest, state: &State) -> Reply {
    let Some(marketplace) = request
        .query_param("marketplaceIds")
        .filter(|m| !m.is_empty())
    else {
        return Reply::json(
            400,
            json!({"errors": [{"code": "InvalidInput", "message": "Missing required 'marketplaceIds'.", "details": ""}]}),
        );
    };
    let prefix = format!("{seller}/");
    let all: Vec<(&String, &i64)> = state
        .items
        .iter()
        .filter(|(key, _)| key.starts_with(&prefix))
        .collect();
    let size = number(request, "pageSize", 10).clamp(1, 20);
    let offset: usize = request
        .query_param("pageToken")
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let items: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(size)
        .map(|(key, quantity)| {
            let sku = &key[prefix.len()..];
            let channels = if state.traits.get(*key).is_some_and(|t| t.fba) {
                json!([{"fulfillmentChannelCode": "AMAZON_NA", "quantity": quantity}])
            } else {
                json!([{"fulfillmentChannelCode": "DEFAULT", "quantity": quantity}])
            };
            json!({"sku": sku, "summaries": [{"marketplaceId": marketplace,
                   "itemName": title_of(state, key, sku.to_owned())}],
                   "fulfillmentAvailability": channels})
        })
        .collect();
    let mut body = json!({"numberOfResults": all.len(), "items": items});
    if offset + size < all.len() {
        body["pagination"] = json!({"nextToken": (offset + size).to_string()});
    }
    Reply::json(200, body)
}
