//! One listener's storefront: its inventory, the calls it received, and its failure injection,
//! behind one lock so a call's fault draw, effect and record happen as one step.

use crate::api::ApiRequest;
use crate::platform::{self, Reply};
use crate::shopify::Bucket;
use serde_json::Value;
use std::collections::hash_map::RandomState;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::BuildHasher;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tally_sandbox::{
    Call, FaultKind, Faults, ItemTraits, Kind, PlaceOrder, RefundOrder, SandboxOrder,
    SandboxRefund, Subscription,
};

/// Calls kept for `GET /_sandbox/calls`; a long demo run drops the oldest beyond this.
const MAX_CALLS: usize = 100_000;

/// The storefront-side data the platforms read and change.
pub struct State {
    /// Item key → quantity (key forms: `docs/storefronts.md`, "Sandbox").
    pub items: BTreeMap<String, i64>,
    pub rng: Rng,
    /// A counter for the ids the platforms hand out (adjustment groups, submissions).
    pub serial: u64,
    /// Shopify: each `@idempotent` key that applied a change, with the input it came with
    /// and the answer it got (given again for a repeat with the same input).
    pub replays: HashMap<String, (Value, Value)>,
    /// Shopify: keys whose attempt failed (an injected 500), never repeated.
    pub failed_keys: HashSet<String>,
    /// Items with more to them than a count (`PUT /_sandbox/traits`).
    pub traits: HashMap<String, ItemTraits>,
    /// eBay: quantity revisions per eBay listing (group or SKU) since the sandbox started.
    pub revisions: HashMap<String, u32>,
    /// Shopify: the query-cost bucket.
    pub bucket: Bucket,
    /// BigCommerce: when the current rate-limit window started, and the calls in it.
    pub window: (Instant, u64),
    /// Orders placed on the storefront (`POST /_sandbox/orders`), oldest first.
    pub orders: Vec<SandboxOrder>,
    /// Webhook subscriptions made through the platform's API.
    pub subscriptions: Vec<Subscription>,
}

impl State {
    /// The next id, 1, 2, 3...
    pub fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }
}

struct Inner {
    state: State,
    calls: VecDeque<Call>,
    seq: u64,
    faults: Faults,
}

/// One listener's storefront.
pub struct Store {
    pub kind: Kind,
    credential: String,
    /// Shopify: the app's client secret its webhooks are signed with.
    pub app_secret: String,
    /// The listener's root URL (WooCommerce names it in `X-WC-Webhook-Source`).
    pub root: std::sync::OnceLock<String>,
    inner: Mutex<Inner>,
}

impl Store {
    /// A storefront holding `items`, accepting `credential`.
    pub fn new(
        kind: Kind,
        credential: String,
        items: BTreeMap<String, i64>,
    ) -> Result<Self, String> {
        check_keys(kind, &items)?;
        let state = State {
            items,
            rng: Rng::seeded(),
            serial: 0,
            replays: HashMap::new(),
            failed_keys: HashSet::new(),
            traits: HashMap::new(),
            revisions: HashMap::new(),
            bucket: Bucket::full(),
            window: (Instant::now(), 0),
            orders: Vec::new(),
            subscriptions: Vec::new(),
        };
        Ok(Self {
            kind,
            credential,
            app_secret: tally_sandbox::SHOPIFY_APP_SECRET.to_owned(),
            root: std::sync::OnceLock::new(),
            inner: Mutex::new(Inner {
                state,
                calls: VecDeque::new(),
                seq: 0,
                faults: Faults::default(),
            }),
        })
    }

    /// A panicking handler must not take the whole storefront down with a poisoned lock.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn items(&self) -> BTreeMap<String, i64> {
        self.lock().state.items.clone()
    }

    /// Creates or sets items (all or none: a bad key changes nothing).
    pub fn set_items(&self, items: BTreeMap<String, i64>) -> Result<(), String> {
        check_keys(self.kind, &items)?;
        self.lock().state.items.extend(items);
        Ok(())
    }

    pub fn clear_items(&self) {
        self.lock().state.items.clear();
    }

    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.iter().cloned().collect()
    }

    pub fn clear_calls(&self) {
        self.lock().calls.clear();
    }

    pub fn faults(&self) -> Faults {
        self.lock().faults.clone()
    }

    pub fn traits(&self) -> HashMap<String, ItemTraits> {
        self.lock().state.traits.clone()
    }

    /// Sets the traits of these items (an item must exist; default traits remove the entry).
    pub fn set_traits(&self, traits: HashMap<String, ItemTraits>) -> Result<(), String> {
        let mut inner = self.lock();
        let state = &mut inner.state;
        if let Some(key) = traits.keys().find(|k| !state.items.contains_key(*k)) {
            return Err(format!("no item {key:?} on this storefront"));
        }
        for (key, item) in traits {
            if item == ItemTraits::default() {
                state.traits.remove(&key);
            } else {
                state.traits.insert(key, item);
            }
        }
        Ok(())
    }

    pub fn set_faults(&self, faults: Faults) -> Result<(), String> {
        if let Some(problem) = faults.problem() {
            return Err(problem.to_owned());
        }
        self.lock().faults = faults;
        Ok(())
    }

    /// Answers an API call: an injected failure (drawn first, so it changes nothing), else the
    /// platform's answer; then records the call.
    pub fn answer(&self, request: &ApiRequest) -> (Reply, Option<FaultKind>) {
        let platform = platform::of(self.kind);
        let mut inner = self.lock();
        let stripped;
        let request = if inner.faults.drops_authorization {
            stripped = request.without_header("authorization");
            &stripped
        } else {
            request
        };
        if let Some(to) = inner.faults.redirect_to.clone() {
            let reply = crate::platform::Reply {
                status: 307,
                headers: vec![("location".to_owned(), to)],
                body: serde_json::Value::Null,
            };
            inner.record(request, &reply, None);
            return (reply, None);
        }
        let injected = inner.draw_fault(request);
        let mut reply = match injected {
            Some(FaultKind::ServerError) => {
                platform.failed(request, &mut inner.state);
                platform.server_error(500)
            }
            Some(FaultKind::Throttled) => platform.throttled(inner.faults.retry_after_s),
            Some(FaultKind::Timeout) => platform.server_error(504),
            None => match platform.token(request, &self.credential) {
                Some(renewed) => renewed,
                None if !platform.authorized(request, &self.credential) => platform.unauthorized(),
                None => crate::catalogue::api(self.kind, request, &mut inner.state)
                    .or_else(|| crate::orders::api(self.kind, request, &mut inner.state))
                    .unwrap_or_else(|| platform.handle(request, &mut inner.state)),
            },
        };
        platform.finish(&mut reply, &mut inner.state);
        inner.record(request, &reply, injected);
        (reply, injected)
    }
}

impl Store {
    /// Takes a sale's units and records the order (all lines or none); the order and the
    /// subscriptions to tell of it.
    pub fn place(&self, order: &PlaceOrder) -> Result<(SandboxOrder, Vec<Subscription>), String> {
        let platform = platform::of(self.kind);
        let mut inner = self.lock();
        let state = &mut inner.state;
        if order.lines.is_empty() {
            return Err("an order needs at least one line".into());
        }
        for line in &order.lines {
            if !platform.valid_key(&line.key) {
                return Err(format!("{:?} is not a {} item key", line.key, self.kind));
            }
            if line.quantity < 1 {
                return Err(format!("line {:?}: quantity must be at least 1", line.key));
            }
            let held = state.items.get(&line.key).copied();
            match held {
                None => return Err(format!("no item {:?} on this storefront", line.key)),
                Some(held) if held < line.quantity => {
                    return Err(format!(
                        "item {:?} holds {held}, fewer than {}: the storefront does not oversell",
                        line.key, line.quantity
                    ))
                }
                Some(_) => {}
            }
        }
        for line in &order.lines {
            *state.items.entry(line.key.clone()).or_default() -= line.quantity;
        }
        let serial = state.next_serial();
        let now = now_ms();
        let placed = SandboxOrder {
            order_id: crate::orders::order_id(self.kind, serial),
            lines: order.lines.clone(),
            cancelled: false,
            created_ms: now,
            updated_ms: now,
            refunds: Vec::new(),
        };
        state.orders.push(placed.clone());
        let topics = crate::orders::created_topics(self.kind);
        let to_tell = subscribed(state, topics);
        Ok((placed, to_tell))
    }

    /// Cancels order `id`, putting its units back; `Ok(None)` when it was cancelled already.
    pub fn cancel(&self, id: &str) -> Result<Option<(SandboxOrder, Vec<Subscription>)>, String> {
        let mut inner = self.lock();
        let state = &mut inner.state;
        let Some(index) = state.orders.iter().position(|o| o.order_id == id) else {
            return Err(format!("no order {id:?} on this storefront"));
        };
        if state.orders[index].cancelled {
            return Ok(None);
        }
        let lines = state.orders[index].lines.clone();
        for line in &lines {
            *state.items.entry(line.key.clone()).or_default() += line.quantity;
        }
        let order = &mut state.orders[index];
        order.cancelled = true;
        order.updated_ms = now_ms();
        let cancelled = order.clone();
        let topics = crate::orders::cancelled_topics(self.kind);
        Ok(Some((cancelled, subscribed(state, topics))))
    }

    /// Refunds some of order `id`'s units (restocked lines go back on the shelf); the order,
    /// the new refund and the subscriptions to tell of it.
    pub fn refund(
        &self,
        id: &str,
        asked: &RefundOrder,
    ) -> Result<(SandboxOrder, SandboxRefund, Vec<Subscription>), String> {
        let mut inner = self.lock();
        let state = &mut inner.state;
        let Some(index) = state.orders.iter().position(|o| o.order_id == id) else {
            return Err(format!("no order {id:?} on this storefront"));
        };
        for line in &asked.lines {
            let sold: i64 = state.orders[index]
                .lines
                .iter()
                .filter(|l| l.key == line.key)
                .map(|l| l.quantity)
                .sum();
            if line.quantity < 1 || line.quantity > sold {
                return Err(format!(
                    "line {:?}: refund between 1 and the {sold} sold",
                    line.key
                ));
            }
        }
        for line in asked.lines.iter().filter(|l| l.restock) {
            *state.items.entry(line.key.clone()).or_default() += line.quantity;
        }
        let refund = SandboxRefund {
            refund_id: (900_000_000 + state.next_serial()).to_string(),
            lines: asked.lines.clone(),
        };
        let order = &mut state.orders[index];
        order.refunds.push(refund.clone());
        order.updated_ms = now_ms();
        let order = order.clone();
        Ok((order, refund, subscribed(state, &["REFUNDS_CREATE"])))
    }

    pub fn orders(&self) -> Vec<SandboxOrder> {
        self.lock().state.orders.clone()
    }

    pub fn subscriptions(&self) -> Vec<Subscription> {
        self.lock().state.subscriptions.clone()
    }
}

/// The subscriptions to any of `topics`.
fn subscribed(state: &State, topics: &[&str]) -> Vec<Subscription> {
    state
        .subscriptions
        .iter()
        .filter(|s| topics.contains(&s.topic.as_str()))
        .cloned()
        .collect()
}

impl Inner {
    /// Fails `request` with probability `failure_rate`, choosing uniformly among the
    /// configured kinds.
    fn draw_fault(&mut self, request: &ApiRequest) -> Option<FaultKind> {
        let faults = &self.faults;
        if faults.kinds.is_empty()
            || !faults.apply_to(&request.path, &request.body)
            || self.state.rng.unit() >= faults.failure_rate
        {
            return None;
        }
        let index = self.state.rng.below(faults.kinds.len());
        Some(faults.kinds[index])
    }

    fn record(&mut self, request: &ApiRequest, reply: &Reply, injected: Option<FaultKind>) {
        self.seq += 1;
        if self.calls.len() == MAX_CALLS {
            self.calls.pop_front();
        }
        self.calls.push_back(Call {
            seq: self.seq,
            at_ms: now_ms(),
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            headers: request.headers.clone(),
            body: request.body_for_log(),
            status: reply.status,
            injected,
        });
    }
}

/// Every key must have the form the platform's requests produce.
fn check_keys(kind: Kind, items: &BTreeMap<String, i64>) -> Result<(), String> {
    let platform = platform::of(kind);
    match items.keys().find(|key| !platform.valid_key(key)) {
        Some(key) => Err(format!(
            "{key:?} is not a {kind} item key (see docs/storefronts.md, \"Sandbox\")"
        )),
        None => Ok(()),
    }
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// A small xorshift generator: fault draws and made-up ids need no more, and it saves a
/// dependency. Seeded from the standard library's per-process random hasher keys.
pub struct Rng(u64);

impl Rng {
    fn seeded() -> Self {
        Self(RandomState::new().hash_one(SystemTime::now()) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in [0, n).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A lowercase hex string of `len` digits, for made-up ids.
    pub fn hex(&mut self, len: usize) -> String {
        let mut out = String::with_capacity(len);
        while out.len() < len {
            out.push_str(&format!("{:016x}", self.next_u64()));
        }
        out.truncate(len);
        out
    }
}
