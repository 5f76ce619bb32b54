//! The sandbox storefronts from the tests' side: starts the `sandbox` binary (one process, one
//! listener per storefront kind) in its own process group, and reads and steers each listener
//! through its `/_sandbox/` control endpoints.
//!
//! The wire types ([`Kind`], [`Faults`], [`Call`]) come from the `tally-sandbox` crate, which
//! also builds the binary, so both sides agree on the control endpoints' JSON.
//!
//! ```no_run
//! # async fn demo() {
//! use tally_tests::sandbox::{Kind, Sandbox};
//! let sandbox = Sandbox::start(&[(Kind::Woocommerce, "ck_a:cs_b")]).await;
//! sandbox.set_items(Kind::Woocommerce, [("12", 5)]).await;
//! // ... point a connection at sandbox.base_url(Kind::Woocommerce) and push ...
//! assert_eq!(sandbox.items(Kind::Woocommerce).await["12"], 5);
//! # }
//! ```

use crate::process::{Group, TempDir};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub use tally_sandbox::{
    Call, FaultKind, Faults, Kind, PlacedOrder, SandboxOrder, Subscription, SHOPIFY_APP_SECRET,
};

/// How long the sandbox may take to bind its listeners (it is already built).
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A running sandbox process. Dropping it stops the process group.
pub struct Sandbox {
    roots: BTreeMap<Kind, String>,
    http: reqwest::Client,
    // Field order matters: the process stops before its log directory is removed.
    group: Group,
    _dir: TempDir,
}

impl Sandbox {
    /// Starts the sandbox built next to the running test binary, one listener per kind, each
    /// accepting only its credential (WooCommerce: `ck_…:cs_…`).
    pub async fn start(stores: &[(Kind, &str)]) -> Self {
        Self::start_with(&binary(), stores).await
    }

    /// Starts the sandbox binary at `binary` (e.g. `env!("CARGO_BIN_EXE_sandbox")`).
    pub async fn start_with(binary: &Path, stores: &[(Kind, &str)]) -> Self {
        assert!(
            binary.exists(),
            "the sandbox binary is not built at {}: run cargo build -p tally-tests --bin sandbox",
            binary.display()
        );
        let dir = TempDir::new("sandbox");
        let log = dir.path().join("sandbox.log");
        let mut group = Group::spawn("sandbox", command(binary, stores), log.clone());
        let roots = wait_ready(&mut group, &log).await;
        Self {
            roots,
            http: reqwest::Client::new(),
            group,
            _dir: dir,
        }
    }

    /// The API base URL of `kind`'s storefront, to store as the connection's base URL. It is
    /// the listener's root: every platform's paths are served under it (BigCommerce's also
    /// under `/stores/<hash>`).
    pub fn base_url(&self, kind: Kind) -> String {
        self.roots
            .get(&kind)
            .unwrap_or_else(|| panic!("the sandbox was not started with {kind}"))
            .clone()
    }

    /// Every API call `kind`'s storefront received since the last [`Sandbox::clear_calls`].
    pub async fn calls(&self, kind: Kind) -> Vec<Call> {
        let body = self
            .control(kind, reqwest::Method::GET, "calls", None)
            .await;
        serde_json::from_value(body.clone())
            .unwrap_or_else(|e| panic!("unexpected /_sandbox/calls body ({e}): {body}"))
    }

    /// Forgets the calls received so far.
    pub async fn clear_calls(&self, kind: Kind) {
        self.control(kind, reqwest::Method::DELETE, "calls", None)
            .await;
    }

    /// Every item's quantity on `kind`'s storefront, by item key.
    pub async fn items(&self, kind: Kind) -> BTreeMap<String, i64> {
        let body = self
            .control(kind, reqwest::Method::GET, "items", None)
            .await;
        serde_json::from_value(body.clone())
            .unwrap_or_else(|e| panic!("unexpected /_sandbox/items body ({e}): {body}"))
    }

    /// Creates items or sets their quantities, as a change made on the storefront itself would
    /// (a sale there, a seller's edit). Keys: see `docs/storefronts.md`, "Sandbox".
    pub async fn set_items<I, K>(&self, kind: Kind, items: I)
    where
        I: IntoIterator<Item = (K, i64)>,
        K: Into<String>,
    {
        let map: BTreeMap<String, i64> = items.into_iter().map(|(k, q)| (k.into(), q)).collect();
        let body = serde_json::to_value(map).expect("a map serialises");
        self.control(kind, reqwest::Method::PUT, "items", Some(body))
            .await;
    }

    /// A sale made on `kind`'s storefront: `lines` are (item key, SKU, quantity). The
    /// storefront takes the units and, when `webhook`, sends its signed webhook to the
    /// subscriptions Tally registered; the answer names the order and each webhook's status.
    pub async fn place_order(
        &self,
        kind: Kind,
        lines: &[(&str, &str, i64)],
        webhook: bool,
    ) -> PlacedOrder {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(key, sku, quantity)| serde_json::json!({ "key": key, "sku": sku, "quantity": quantity }))
            .collect();
        let body = serde_json::json!({ "lines": lines, "webhook": webhook });
        let answer = self
            .control(kind, reqwest::Method::POST, "orders", Some(body))
            .await;
        serde_json::from_value(answer.clone())
            .unwrap_or_else(|e| panic!("unexpected /_sandbox/orders answer ({e}): {answer}"))
    }

    /// Cancels order `id` on `kind`'s storefront (its units go back), sending the webhook when
    /// `webhook`.
    pub async fn cancel_order(&self, kind: Kind, id: &str, webhook: bool) -> PlacedOrder {
        let body = serde_json::json!({ "webhook": webhook });
        let answer = self
            .control(
                kind,
                reqwest::Method::POST,
                &format!("orders/{id}/cancel"),
                Some(body),
            )
            .await;
        serde_json::from_value(answer.clone())
            .unwrap_or_else(|e| panic!("unexpected cancel answer ({e}): {answer}"))
    }

    /// Refunds part of Shopify order `id`: `(key, units, restock)` per line (restocked units go
    /// back on the sandbox's shelf), sending `refunds/create` when `webhook`.
    pub async fn refund_order(
        &self,
        id: &str,
        lines: &[(&str, i64, bool)],
        webhook: bool,
    ) -> PlacedOrder {
        let lines: Vec<Value> = lines
            .iter()
            .map(|(key, quantity, restock)| {
                serde_json::json!({ "key": key, "quantity": quantity, "restock": restock })
            })
            .collect();
        let body = serde_json::json!({ "lines": lines, "webhook": webhook });
        let answer = self
            .control(
                Kind::Shopify,
                reqwest::Method::POST,
                &format!("orders/{id}/refund"),
                Some(body),
            )
            .await;
        serde_json::from_value(answer.clone())
            .unwrap_or_else(|e| panic!("unexpected refund answer ({e}): {answer}"))
    }

    /// The orders placed on `kind`'s storefront, oldest first.
    pub async fn orders(&self, kind: Kind) -> Vec<SandboxOrder> {
        let answer = self
            .control(kind, reqwest::Method::GET, "orders", None)
            .await;
        serde_json::from_value(answer.clone())
            .unwrap_or_else(|e| panic!("unexpected /_sandbox/orders body ({e}): {answer}"))
    }

    /// The webhook subscriptions made on `kind`'s storefront through its API.
    pub async fn subscriptions(&self, kind: Kind) -> Vec<Subscription> {
        let answer = self
            .control(kind, reqwest::Method::GET, "subscriptions", None)
            .await;
        serde_json::from_value(answer.clone())
            .unwrap_or_else(|e| panic!("unexpected /_sandbox/subscriptions body ({e}): {answer}"))
    }

    /// Gives items of `kind`'s storefront traits beyond their count (a Shopify bundle).
    pub async fn set_traits(&self, kind: Kind, traits: Value) {
        self.control(kind, reqwest::Method::PUT, "traits", Some(traits))
            .await;
    }

    /// The traits of `kind`'s items (`{"<key>": {...}}`).
    pub async fn traits(&self, kind: Kind) -> Value {
        self.control(kind, reqwest::Method::GET, "traits", None)
            .await
    }

    /// Replaces `kind`'s failure injection.
    pub async fn set_faults(&self, kind: Kind, faults: &Faults) {
        let body = serde_json::to_value(faults).expect("faults serialise");
        self.control(kind, reqwest::Method::PUT, "faults", Some(body))
            .await;
    }

    /// The sandbox's log so far (every call, one line each), for failure messages.
    pub fn log_tail(&self) -> String {
        self.group.log_tail()
    }

    /// One control request; panics unless it answers 200, since a test cannot go on without it.
    async fn control(
        &self,
        kind: Kind,
        method: reqwest::Method,
        what: &str,
        body: Option<Value>,
    ) -> Value {
        let url = format!("{}/_sandbox/{what}", self.base_url(kind));
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url} failed: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "{method} {url} answered {status}: {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

/// Where cargo put the `sandbox` binary: `TALLY_SANDBOX_BIN` if set, else beside the running
/// executable. Integration tests run from `target/<profile>/deps/`, binaries (`bench`) from
/// `target/<profile>/`, and the sandbox lives in `target/<profile>/` either way.
/// (`CARGO_BIN_EXE_sandbox` exists only while compiling integration tests, not this library.)
pub fn binary() -> PathBuf {
    if let Some(path) = std::env::var_os("TALLY_SANDBOX_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the running executable has a path");
    let dir = exe.parent().expect("an executable lives in a directory");
    let beside = dir.join("sandbox");
    if beside.exists() || dir.file_name().is_none_or(|name| name != "deps") {
        return beside;
    }
    dir.parent().unwrap_or(dir).join("sandbox")
}

/// `sandbox --listen KIND=127.0.0.1:0 --credential KIND=SECRET ...`: port 0 lets the OS pick
/// free ports with no window for another process to take them; the sandbox prints what it got.
fn command(binary: &Path, stores: &[(Kind, &str)]) -> Command {
    let mut command = Command::new(binary);
    for (kind, credential) in stores {
        command
            .arg("--listen")
            .arg(format!("{kind}=127.0.0.1:0"))
            .arg("--credential")
            .arg(format!("{kind}={credential}"));
    }
    command
}

/// Waits for `sandbox ready` in the log and returns each kind's root URL from the
/// `listening KIND URL` lines printed before it.
async fn wait_ready(group: &mut Group, log: &Path) -> BTreeMap<Kind, String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.lines().any(|line| line == "sandbox ready") {
            return listening(&text);
        }
        group.assert_running();
        assert!(
            Instant::now() < deadline,
            "the sandbox was not ready within {READY_TIMEOUT:?}:\n{}",
            group.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

/// The `listening KIND URL` lines of the sandbox's output.
fn listening(log: &str) -> BTreeMap<Kind, String> {
    log.lines()
        .filter_map(|line| {
            let mut words = line.strip_prefix("listening ")?.split(' ');
            let kind = Kind::parse(words.next()?)?;
            Some((kind, words.next()?.to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The binary sits beside this test executable's `deps/` directory once cargo built it
    /// (`cargo test -p tally-tests` builds it for the integration tests).
    #[tokio::test]
    async fn a_woocommerce_batch_sets_known_items_and_reports_unknown_ones() {
        let sandbox = Sandbox::start(&[(Kind::Woocommerce, "ck_a:cs_b")]).await;
        sandbox.set_items(Kind::Woocommerce, [("12", 1)]).await;
        let url = format!(
            "{}/wp-json/wc/v3/products/batch",
            sandbox.base_url(Kind::Woocommerce)
        );
        let body = json!({"update": [
            {"id": 12, "manage_stock": true, "stock_quantity": 7},
            {"id": 13, "manage_stock": true, "stock_quantity": 2},
        ]});
        let response = reqwest::Client::new()
            .post(&url)
            .basic_auth("ck_a", Some("cs_b"))
            .json(&body)
            .send()
            .await
            .expect("the sandbox answers");
        assert_eq!(response.status(), 200);
        let answer: Value = response.json().await.expect("a JSON answer");
        assert_eq!(answer["update"][0]["stock_quantity"], 7);
        assert_eq!(
            answer["update"][1]["error"]["code"],
            "woocommerce_rest_product_invalid_id"
        );
        assert_eq!(
            sandbox.items(Kind::Woocommerce).await,
            BTreeMap::from([("12".to_owned(), 7)])
        );
        let calls = sandbox.calls(Kind::Woocommerce).await;
        assert_eq!(calls.len(), 1);
        assert_eq!(calls[0].body, body);
        assert!(calls[0].header("Authorization").is_some());
    }

    #[tokio::test]
    async fn a_failed_call_changes_nothing() {
        let sandbox = Sandbox::start(&[(Kind::Bigcommerce, "token")]).await;
        sandbox.set_items(Kind::Bigcommerce, [("5@1", 3)]).await;
        let faults = Faults::failing(1.0, &[FaultKind::ServerError]);
        sandbox.set_faults(Kind::Bigcommerce, &faults).await;
        let response = reqwest::Client::new()
            .put(format!(
                "{}/stores/abc/v3/inventory/adjustments/absolute",
                sandbox.base_url(Kind::Bigcommerce)
            ))
            .header("X-Auth-Token", "token")
            .json(&json!({"reason": "t", "items": [{"location_id": 1, "variant_id": 5, "quantity": 9}]}))
            .send()
            .await
            .expect("the sandbox answers");
        assert_eq!(response.status(), 500);
        assert_eq!(sandbox.items(Kind::Bigcommerce).await["5@1"], 3);
        let calls = sandbox.calls(Kind::Bigcommerce).await;
        assert_eq!(calls[0].injected, Some(FaultKind::ServerError));
    }
}
