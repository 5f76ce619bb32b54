//! Shopify Admin GraphQL 2026-04: `inventorySetQuantities` (compare-and-set through
//! `changeFromQuantity`, `@idempotent`) and the `nodes` re-read, with the query-cost bucket.
//! Item keys: `<inventoryItemId>@<locationId>`, the numbers of the two gids.
//!
//! The query text is not parsed as GraphQL: the two operations Tally sends are told apart by
//! the field they name, and their inputs come from `variables`, as the connector sends them.

use crate::api::ApiRequest;
use crate::platform::{numeric_pair, Platform, Reply};
use crate::store::State;
use serde_json::{json, Value};
use std::time::Instant;

pub struct Shopify;

const PATH: &str = "/admin/api/2026-04/graphql.json";
/// Shopify's input array limit (`MAX_INPUT_SIZE_EXCEEDED` beyond it).
const MAX_INPUTS: usize = 250;
const ITEM_GID: &str = "gid://shopify/InventoryItem/";
const LOCATION_GID: &str = "gid://shopify/Location/";
const MUTATION_COST: f64 = 10.0;

impl Platform for Shopify {
    fn authorized(&self, request: &ApiRequest, credential: &str) -> bool {
        request.header("x-shopify-access-token") == Some(credential)
    }

    fn unauthorized(&self) -> Reply {
        Reply::json(
            401,
            json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}),
        )
    }

    fn server_error(&self, status: u16) -> Reply {
        Reply::json(status, json!({"errors": "Internal Server Error"}))
    }

    /// GraphQL throttling is an HTTP 200; the cost block says how long to wait
    /// (`(requested - available) / restoreRate` = `retry_after_s`).
    fn throttled(&self, retry_after_s: u64) -> Reply {
        let shortfall = retry_after_s as f64 * Bucket::RESTORE_RATE;
        let requested = shortfall.max(MUTATION_COST);
        throttled_reply(requested, requested - shortfall)
    }

    fn handle(&self, request: &ApiRequest, state: &mut State) -> Reply {
        if request.method != "POST" || request.path != PATH {
            return Reply::json(404, json!({"errors": "Not Found"}));
        }
        let Ok(body) = request.json() else {
            return bad_request();
        };
        let Some(query) = body["query"].as_str() else {
            return bad_request();
        };
        let variables = &body["variables"];
        if query.contains("inventorySetQuantities") {
            set_quantities(query, variables, state)
        } else if query.contains("nodes(") {
            levels(variables, state)
        } else {
            graphql_error(
                "The sandbox answers inventorySetQuantities and nodes only",
                "undefinedField",
            )
        }
    }

    fn valid_key(&self, key: &str) -> bool {
        numeric_pair(key)
    }

    /// A mutation that failed under a key leaves the key spent: its repeats are refused.
    fn failed(&self, request: &ApiRequest, state: &mut State) {
        let Ok(body) = request.json() else { return };
        let query = body["query"].as_str().unwrap_or_default();
        if query.contains("inventorySetQuantities") {
            if let Some(key) = idempotency_key(query) {
                state.failed_keys.insert(key.to_owned());
            }
        }
    }
}

/// The leaky bucket behind Shopify's cost-based rate limit: 2,000 points, 100 back a second.
pub struct Bucket {
    available: f64,
    at: Instant,
}

impl Bucket {
    const MAXIMUM: f64 = 2000.0;
    const RESTORE_RATE: f64 = 100.0;

    pub fn full() -> Self {
        Self {
            available: Self::MAXIMUM,
            at: Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = Instant::now();
        let restored = now.duration_since(self.at).as_secs_f64() * Self::RESTORE_RATE;
        self.available = (self.available + restored).min(Self::MAXIMUM);
        self.at = now;
    }

    /// Takes `cost` points, or answers THROTTLED (taking nothing) when the bucket is short.
    pub(crate) fn take(&mut self, cost: f64) -> Result<(), Reply> {
        self.refill();
        if self.available < cost {
            return Err(throttled_reply(cost, self.available));
        }
        self.available -= cost;
        Ok(())
    }

    /// The `extensions` block of an answer that cost `cost`.
    pub(crate) fn extensions(&self, cost: f64) -> Value {
        cost_block(cost, Some(cost), self.available)
    }
}

fn cost_block(requested: f64, actual: Option<f64>, available: f64) -> Value {
    json!({"cost": {
        "requestedQueryCost": requested as u64,
        "actualQueryCost": actual.map(|a| a as u64),
        "throttleStatus": {
            "maximumAvailable": Bucket::MAXIMUM,
            "currentlyAvailable": available.floor() as u64,
            "restoreRate": Bucket::RESTORE_RATE,
        },
    }})
}

fn throttled_reply(requested: f64, available: f64) -> Reply {
    Reply::json(
        200,
        json!({
            "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
            "extensions": cost_block(requested, None, available),
        }),
    )
}

/// Shopify's answer to a body that is not JSON or has no query.
fn bad_request() -> Reply {
    Reply::json(
        400,
        json!({"errors": {"query": "Required parameter missing or invalid"}}),
    )
}

/// A top-level GraphQL error: HTTP 200, nothing executed.
fn graphql_error(message: &str, code: &str) -> Reply {
    Reply::json(
        200,
        json!({"errors": [{"message": message, "extensions": {"code": code}}]}),
    )
}

/// A variable that does not fit its GraphQL type.
fn invalid_variable(path: &str, problem: &str) -> Reply {
    graphql_error(
        &format!("Variable $input of type InventorySetQuantitiesInput! was provided invalid value for {path} ({problem})"),
        "INVALID_VARIABLE",
    )
}

fn too_many_inputs(count: usize) -> Reply {
    graphql_error(
        &format!(
            "The input array size of {count} is greater than the maximum allowed of {MAX_INPUTS}."
        ),
        "MAX_INPUT_SIZE_EXCEEDED",
    )
}

/// The `@idempotent(key: "...")` directive's key, if the query has one.
fn idempotency_key(query: &str) -> Option<&str> {
    let after = &query[query.find("@idempotent")? + "@idempotent".len()..];
    let rest = after
        .trim_start()
        .strip_prefix('(')?
        .trim_start()
        .strip_prefix("key")?
        .trim_start()
        .strip_prefix(':')?
        .trim_start()
        .strip_prefix('"')?;
    Some(&rest[..rest.find('"')?])
}

/// One entry of `input.quantities`, checked for type.
struct Wanted {
    item: Option<u64>,
    location: Option<u64>,
    quantity: i64,
    change_from: Option<i64>,
}

impl Wanted {
    fn key(&self) -> Option<String> {
        Some(format!("{}@{}", self.item?, self.location?))
    }
}

/// `inventorySetQuantities`: every quantity is checked first; any user error applies nothing.
/// The `@idempotent` key is mandatory (2026-04). A successful answer is kept under its key and
/// given again for a repeat with the same input, which applies nothing; the key with another
/// input is refused, as is a key whose attempt failed. Answers with user errors are not kept
/// (nothing was applied, so the client may correct and retry under the same key).
fn set_quantities(query: &str, variables: &Value, state: &mut State) -> Reply {
    if let Err(throttled) = state.bucket.take(MUTATION_COST) {
        return throttled;
    }
    let Some(key) = idempotency_key(query) else {
        return graphql_error(
            "The @idempotent directive is required for this mutation.",
            "BAD_REQUEST",
        );
    };
    let input = &variables["input"];
    if state.failed_keys.contains(key) {
        return call_refused(
            "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED",
            "The previous request with this idempotency key failed. Retry with a new key.",
            state,
        );
    }
    if let Some((seen, data)) = state.replays.get(key) {
        if seen == input {
            return answer(data.clone(), state);
        }
        return call_refused(
            "IDEMPOTENCY_KEY_PARAMETER_MISMATCH",
            "The idempotency key was already used with different parameters.",
            state,
        );
    }
    let wanted = match parse_input(input) {
        Ok(wanted) => wanted,
        Err(reply) => return reply,
    };
    let mut errors = check_name(input);
    errors.extend(
        wanted
            .iter()
            .enumerate()
            .filter_map(|(i, w)| check_quantity(i, w, state)),
    );
    if !errors.is_empty() {
        let data = json!({"inventorySetQuantities": {"inventoryAdjustmentGroup": null, "userErrors": errors}});
        return answer(data, state);
    }
    for w in &wanted {
        if let Some(key) = w.key() {
            state.items.insert(key, w.quantity);
        }
    }
    let group = format!(
        "gid://shopify/InventoryAdjustmentGroup/{}",
        state.next_serial()
    );
    let data = json!({"inventorySetQuantities": {"inventoryAdjustmentGroup": {"id": group}, "userErrors": []}});
    state
        .replays
        .insert(key.to_owned(), (input.clone(), data.clone()));
    answer(data, state)
}

/// A user error about the whole call (no field): nothing applied.
fn call_refused(code: &str, message: &str, state: &State) -> Reply {
    let data = json!({"inventorySetQuantities": {"inventoryAdjustmentGroup": null,
        "userErrors": [{"code": code, "field": null, "message": message}]}});
    answer(data, state)
}

/// `{"data": ..., "extensions": {"cost": ...}}` for a mutation.
fn answer(data: Value, state: &State) -> Reply {
    Reply::json(
        200,
        json!({"data": data, "extensions": state.bucket.extensions(MUTATION_COST)}),
    )
}

/// Type-checks `input.quantities` the way GraphQL validates variables: a wrong type fails the
/// whole request before anything runs.
fn parse_input(input: &Value) -> Result<Vec<Wanted>, Reply> {
    let Some(entries) = input["quantities"].as_array() else {
        return Err(invalid_variable(
            "quantities",
            "Expected value to be a list",
        ));
    };
    if entries.len() > MAX_INPUTS {
        return Err(too_many_inputs(entries.len()));
    }
    entries.iter().enumerate().map(parse_entry).collect()
}

fn parse_entry((index, entry): (usize, &Value)) -> Result<Wanted, Reply> {
    let Some(quantity) = entry["quantity"].as_i64() else {
        return Err(invalid_variable(
            &format!("quantities.{index}.quantity"),
            "Expected value to be an Int",
        ));
    };
    // 2026-04 requires the field; `null` opts out of the comparison.
    let change_from = match entry.get("changeFromQuantity") {
        Some(Value::Null) => None,
        Some(value) => Some(value.as_i64().ok_or_else(|| {
            invalid_variable(
                &format!("quantities.{index}.changeFromQuantity"),
                "Expected value to be an Int or null",
            )
        })?),
        None => {
            return Err(invalid_variable(
                &format!("quantities.{index}.changeFromQuantity"),
                "Expected value to be present",
            ))
        }
    };
    Ok(Wanted {
        item: gid_number(&entry["inventoryItemId"], ITEM_GID),
        location: gid_number(&entry["locationId"], LOCATION_GID),
        quantity,
        change_from,
    })
}

/// The number at the end of a gid of the given type.
fn gid_number(value: &Value, prefix: &str) -> Option<u64> {
    value.as_str()?.strip_prefix(prefix)?.parse().ok()
}

/// Only the `available` quantity is kept by the sandbox (and set by Tally).
fn check_name(input: &Value) -> Vec<Value> {
    if input["name"] == "available" {
        return Vec::new();
    }
    vec![json!({
        "code": "INVALID_NAME",
        "field": ["input", "name"],
        "message": "The quantity name must be 'available'.",
    })]
}

/// A user error's code, the last element of its `field`, and its message.
type UserError = (&'static str, &'static str, &'static str);

const NO_ITEM: UserError = (
    "INVALID_INVENTORY_ITEM",
    "inventoryItemId",
    "The specified inventory item could not be found.",
);
const NO_LOCATION: UserError = (
    "INVALID_LOCATION",
    "locationId",
    "The specified location could not be found.",
);
const NOT_STOCKED: UserError = (
    "ITEM_NOT_STOCKED_AT_LOCATION",
    "locationId",
    "The specified inventory item is not stocked at the location.",
);
const BUNDLE: UserError = (
    "NON_MUTABLE_INVENTORY_ITEM",
    "inventoryItemId",
    "The specified inventory item is not allowed to be adjusted via API.",
);
const STALE: UserError = (
    "CHANGE_FROM_QUANTITY_STALE",
    "changeFromQuantity",
    "The specified compare quantity does not match the current quantity.",
);

/// The user error for one quantity, if it cannot be applied.
fn check_quantity(index: usize, wanted: &Wanted, state: &State) -> Option<Value> {
    let (code, field, message) = problem_with(wanted, state)?;
    Some(json!({
        "code": code,
        "field": ["input", "quantities", index.to_string(), field],
        "message": message,
    }))
}

fn problem_with(wanted: &Wanted, state: &State) -> Option<UserError> {
    let Some(item) = wanted.item else {
        return Some(NO_ITEM);
    };
    let Some(location) = wanted.location else {
        return Some(NO_LOCATION);
    };
    let key = format!("{item}@{location}");
    let Some(current) = state.items.get(&key) else {
        return Some(unknown(item, location, state));
    };
    if state.traits.get(&key).is_some_and(|t| t.bundle) {
        return Some(BUNDLE);
    }
    match wanted.change_from {
        Some(expected) if expected != *current => Some(STALE),
        _ => None,
    }
}

/// Why `item@location` is not stocked: the item, the location, or just that pairing is unknown.
fn unknown(item: u64, location: u64, state: &State) -> UserError {
    let (item, location) = (item.to_string(), location.to_string());
    let pairs = || state.items.keys().filter_map(|key| key.split_once('@'));
    if !pairs().any(|(i, _)| i == item) {
        NO_ITEM
    } else if !pairs().any(|(_, l)| l == location) {
        NO_LOCATION
    } else {
        NOT_STOCKED
    }
}

/// The re-read: each id's `available` at one location; `null` for an unknown item, a null
/// `inventoryLevel` for an item not stocked there.
fn levels(variables: &Value, state: &mut State) -> Reply {
    let (Some(ids), Some(location)) = (
        variables["ids"].as_array(),
        gid_number(&variables["location"], LOCATION_GID),
    ) else {
        return graphql_error(
            "Variables $ids: [ID!]! and $location: ID! are required",
            "INVALID_VARIABLE",
        );
    };
    if ids.len() > MAX_INPUTS {
        return too_many_inputs(ids.len());
    }
    let cost = 1.0 + ids.len() as f64;
    if let Err(throttled) = state.bucket.take(cost) {
        return throttled;
    }
    let nodes: Vec<Value> = ids.iter().map(|id| node(id, location, state)).collect();
    Reply::json(
        200,
        json!({"data": {"nodes": nodes}, "extensions": state.bucket.extensions(cost)}),
    )
}

fn node(id: &Value, location: u64, state: &State) -> Value {
    let Some(item) = gid_number(id, ITEM_GID) else {
        return Value::Null;
    };
    if let Some(quantity) = state.items.get(&format!("{item}@{location}")) {
        let quantities = json!([{"name": "available", "quantity": quantity}]);
        return json!({"id": id, "inventoryLevel": {"quantities": quantities}});
    }
    let prefix = format!("{item}@");
    if state.items.keys().any(|key| key.starts_with(&prefix)) {
        return json!({"id": id, "inventoryLevel": null});
    }
    Value::Null
}
