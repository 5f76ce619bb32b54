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
            let rest = p.strip_prefix("/wp-json/wc/v3/products/")?;
            match rest.split('/').collect::<Vec<_>>().as_slice() {
                [product] => Some(woo_one(woo_all(state), product)),
                [parent, "variations"] => Some(woo_variations(parent, request, state)),
                [parent, "variations", variation] if is_digits(parent) => {
                    Some(woo_one(woo_variation_list(parent, state), variation))
                }
                _ => None,
            }
        }
        (Kind::Bigcommerce, "GET", "/v3/catalog/products") => {
            Some(bigcommerce_products(request, state))
        }
        (Kind::Bigcommerce, "GET", "/v3/catalog/variants") => {
            Some(bigcommerce_variants(request, state))
        }
        (Kind::Ebay, "GET", "/sell/inventory/v1/inventory_item") => {
            Some(ebay_items(request, state))
        }
        (Kind::Ebay, "GET", p) => {
            let sku = p.strip_prefix("/sell/inventory/v1/inventory_item/")?;
            (!sku.contains('/')).then(|| ebay_item(&crate::api::decode(sku), state))
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

/// Whether a search's `words` are in `sku` or `title`, in any case: how the sandboxes stand in
/// for their platforms' searches.
fn found_by(words: &str, sku: &str, title: &str) -> bool {
    let words = words.to_lowercase();
    sku.to_lowercase().contains(&words) || title.to_lowercase().contains(&words)
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
    let query = body["query"].as_str()?;
    if query.contains("inventoryItem(id:") {
        return Some(shopify_item(&body["variables"], state));
    }
    if !query.contains("productVariants(") {
        return None;
    }
    let variables = &body["variables"];
    // A search (`query`): variants whose SKU or title holds the words.
    let words = variables["query"].as_str().map(str::to_owned);
    let first = variables["first"].as_u64().unwrap_or(50).min(250) as usize;
    let offset: usize = variables["after"]
        .as_str()
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    // Inventory item → its (location, key) pairs, in item order.
    let mut items = shopify_items(state);
    if let Some(words) = &words {
        items.retain(|item, levels| {
            let key = &levels[0].1;
            found_by(
                words,
                &sku_of(state, key),
                &title_of(state, key, format!("Variant {item}")),
            )
        });
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

/// Inventory item → its (location, key) pairs, in item order.
fn shopify_items(state: &State) -> BTreeMap<u64, Vec<(u64, String)>> {
    let mut items: BTreeMap<u64, Vec<(u64, String)>> = BTreeMap::new();
    for key in state.items.keys() {
        if let Some((item, location)) = key.split_once('@') {
            if let (Ok(item), Ok(location)) = (item.parse(), location.parse()) {
                items.entry(item).or_default().push((location, key.clone()));
            }
        }
    }
    items
}

/// `inventoryItem(id:)`: the item with its variant and its `inventoryLevel(locationId:)` (null
/// where it is not stocked), or `null` when there is no such item.
fn shopify_item(variables: &Value, state: &State) -> Reply {
    let id = variables["id"]
        .as_str()
        .and_then(|gid| gid.strip_prefix("gid://shopify/InventoryItem/"))
        .and_then(|n| n.parse::<u64>().ok());
    let items = shopify_items(state);
    let found = id.and_then(|id| items.get(&id).map(|levels| (id, levels)));
    let item = match found {
        None => Value::Null,
        Some((id, levels)) => {
            let key = &levels[0].1;
            let sku = sku_of(state, key);
            let asked = variables["location"]
                .as_str()
                .and_then(|gid| gid.strip_prefix("gid://shopify/Location/"))
                .and_then(|n| n.parse::<u64>().ok());
            let level = levels
                .iter()
                .find(|(location, _)| Some(*location) == asked)
                .map_or(Value::Null, |(location, key)| {
                    json!({"location": {"legacyResourceId": location.to_string()},
                           "quantities": [{"name": "available", "quantity": state.items[key]}]})
                });
            json!({"legacyResourceId": id.to_string(), "tracked": true,
                   "variant": {"sku": if sku.is_empty() { Value::Null } else { json!(sku) },
                               "displayName": title_of(state, key, format!("Variant {id}"))},
                   "inventoryLevel": level})
        }
    };
    Reply::json(200, json!({"data": {"inventoryItem": item}}))
}

// ---- WooCommerce --------------------------------------------------------------------------

/// Simple products are keyed `<product>`; a variable product is the parent of `<parent>/<v>`.
/// `search` keeps the products whose name holds the words: WordPress's search reads titles
/// and text, not SKUs.
fn woo_products(request: &ApiRequest, state: &State) -> Reply {
    let mut all = woo_all(state);
    if let Some(words) = request.query_param("search") {
        all.retain(|p| found_by(&words, "", p["name"].as_str().unwrap_or("")));
    }
    let per_page = number(request, "per_page", 10).clamp(1, 100);
    let page = number(request, "page", 1).max(1);
    woo_page(&all, page, per_page)
}

/// One product or variation by id, or WooCommerce's 404.
fn woo_one(all: Vec<Value>, id: &str) -> Reply {
    let id = id.parse::<u64>().ok();
    match all
        .into_iter()
        .find(|p| id.is_some() && p["id"].as_u64() == id)
    {
        Some(found) => Reply::json(200, found),
        None => Reply::json(
            404,
            json!({"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.",
                   "data": {"status": 404}}),
        ),
    }
}

/// Every product, in id order.
fn woo_all(state: &State) -> Vec<Value> {
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
    products.into_values().collect()
}

fn woo_variations(parent: &str, request: &ApiRequest, state: &State) -> Reply {
    if !is_digits(parent) {
        return Reply::json(
            404,
            json!({"code": "rest_no_route", "message": "No route was found matching the URL and request method.", "data": {"status": 404}}),
        );
    }
    let all = woo_variation_list(parent, state);
    let per_page = number(request, "per_page", 10).clamp(1, 100);
    let page = number(request, "page", 1).max(1);
    woo_page(&all, page, per_page)
}

/// The variations of product `parent`, in id order.
fn woo_variation_list(parent: &str, state: &State) -> Vec<Value> {
    let prefix = format!("{parent}/");
    state
        .items
        .iter()
        .filter_map(|(key, quantity)| {
            let id: u64 = key.strip_prefix(&prefix)?.parse().ok()?;
            let option = title_of(state, key, format!("Option {id}"));
            Some(
                json!({"id": id, "parent_id": parent.parse::<u64>().ok(), "sku": sku_of(state, key),
                        "manage_stock": !state.traits.get(key).is_some_and(|t| t.unmanaged),
                        "stock_quantity": quantity,
                        "attributes": [{"id": 0, "name": "Option", "option": option}]}),
            )
        })
        .collect()
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
/// a variant `<id>@1` is the one variant of product `<id>`, tracked by variant. `id:in` keeps
/// the products named; `keyword`, those whose name or SKU (or a variant's) holds the words.
fn bigcommerce_products(request: &ApiRequest, state: &State) -> Reply {
    let mut all = bigcommerce_all(state);
    if let Some(ids) = request.query_param("id:in") {
        let ids: Vec<&str> = ids.split(',').collect();
        all.retain(|p| ids.contains(&p["id"].to_string().as_str()));
    }
    if let Some(words) = request.query_param("keyword") {
        all.retain(|p| {
            let name = p["name"].as_str().unwrap_or("");
            found_by(&words, p["sku"].as_str().unwrap_or(""), name)
                || p["variants"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|v| found_by(&words, v["sku"].as_str().unwrap_or(""), name))
        });
    }
    let limit = number(request, "limit", 50).clamp(1, 250);
    let page = number(request, "page", 1).max(1);
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

/// `GET /v3/catalog/variants?id:in=`: the variants named, with their product's id.
fn bigcommerce_variants(request: &ApiRequest, state: &State) -> Reply {
    let ids = request.query_param("id:in").unwrap_or_default();
    let ids: Vec<&str> = ids.split(',').collect();
    let data: Vec<Value> = bigcommerce_all(state)
        .iter()
        .flat_map(|p| p["variants"].as_array().cloned().unwrap_or_default())
        .filter(|v| ids.contains(&v["id"].to_string().as_str()))
        .collect();
    Reply::json(
        200,
        json!({"data": data, "meta": {"pagination": {"total": data.len(), "count": data.len(),
               "per_page": 50, "current_page": 1, "total_pages": 1}}}),
    )
}

/// Every product, in id order.
fn bigcommerce_all(state: &State) -> Vec<Value> {
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
    products.into_values().collect()
}

// ---- eBay ---------------------------------------------------------------------------------

/// `getInventoryItem`: the item with SKU `sku`, or eBay's 404.
fn ebay_item(sku: &str, state: &State) -> Reply {
    match state.items.get(sku) {
        Some(quantity) => Reply::json(
            200,
            json!({"sku": sku, "product": {"title": title_of(state, sku, sku.to_owned())},
                   "availability": {"shipToLocationAvailability": {"quantity": quantity}}}),
        ),
        None => Reply::json(
            404,
            json!({"errors": [{"errorId": 25710, "domain": "API_INVENTORY",
                   "message": "We didn't find the entity you are requesting."}]}),
        ),
    }
}

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
    // `identifiers` (with `identifiersType=SKU`): those SKUs only.
    let skus: Option<Vec<String>> = request
        .query_param("identifiers")
        .map(|list| list.split(',').map(str::to_owned).collect());
    let all: Vec<(&String, &i64)> = state
        .items
        .iter()
        .filter(|(key, _)| key.starts_with(&prefix))
        .filter(|(key, _)| {
            skus.as_ref()
                .is_none_or(|skus| skus.iter().any(|s| *s == key[prefix.len()..]))
        })
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
