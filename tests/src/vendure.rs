//! A real Vendure storefront for a test: `node vendure/server.js` (Vendure 3.7 on sql.js, with
//! Tally's webhook plugin) in a fresh data directory on a free port, stopped on drop. The
//! helpers speak Vendure's own Admin and Shop GraphQL APIs, as a shop owner and a shopper would.

use crate::process::{free_port, Group, TempDir};
use crate::{eventually, repo_root};
use serde_json::{json, Value};
use std::process::Command;
use std::time::Duration;

/// Vendure's first start creates its schema and seeds countries, tax, shipping and payment.
const START: Duration = Duration::from_secs(90);

pub struct Vendure {
    group: Group,
    /// The server's root address (Tally's connection address).
    pub base_url: String,
    /// A SuperAdmin's Admin API token: what a seller pastes into Tally.
    pub token: String,
    http: reqwest::Client,
    _dir: TempDir,
}

/// A variant's stock as Vendure's Admin API reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stock {
    pub on_hand: i64,
    pub allocated: i64,
}

impl Stock {
    /// What Vendure sells: on hand less what placed orders hold.
    pub fn saleable(self) -> i64 {
        self.on_hand - self.allocated
    }
}

impl Vendure {
    /// Starts a fresh Vendure and logs in as its SuperAdmin.
    pub async fn start() -> Self {
        let dir = TempDir::new("vendure");
        let port = free_port();
        let log = dir.path().join("vendure.log");
        let root = repo_root().join("vendure");
        assert!(
            root.join("node_modules/@vendure/core").exists(),
            "vendure/node_modules is missing: run scripts/setup.sh (it runs npm ci there)"
        );
        let mut command = Command::new("node");
        command
            .current_dir(&root)
            .arg("server.js")
            .arg(dir.path().join("data"))
            .env("VENDURE_PORT", port.to_string())
            .env("VENDURE_LOG", "info")
            .env("TALLY_WEBHOOK_BACKOFF_MS", "200");
        let mut group = Group::spawn("vendure", command, log.clone());
        let ready = format!("vendure ready http://127.0.0.1:{port}");
        let deadline = std::time::Instant::now() + START;
        loop {
            group.assert_running();
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains(&ready) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "Vendure did not start within {START:?}:\n{}",
                group.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let http = reqwest::Client::new();
        let base_url = format!("http://127.0.0.1:{port}");
        let answer = http
            .post(format!("{base_url}/admin-api"))
            .json(&json!({ "query": "mutation { login(username: \"superadmin\", password: \"superadmin\") { __typename } }" }))
            .send()
            .await
            .expect("Vendure answers its Admin API");
        let token = answer
            .headers()
            .get("vendure-auth-token")
            .and_then(|v| v.to_str().ok())
            .expect("login answers a vendure-auth-token")
            .to_owned();
        Self {
            group,
            base_url,
            token,
            http,
            _dir: dir,
        }
    }

    /// The server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        self.group.log_tail()
    }

    async fn graphql(
        &self,
        api: &str,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (Value, Option<String>) {
        let mut request = self
            .http
            .post(format!("{}/{api}", self.base_url))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let answer = request.send().await.expect("Vendure answers");
        let session = answer
            .headers()
            .get("vendure-auth-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body: Value = answer.json().await.expect("a GraphQL answer");
        assert!(
            body.get("errors").is_none_or(Value::is_null),
            "{api}: {body}\n{}",
            self.log_tail()
        );
        (body["data"].clone(), session)
    }

    /// An Admin API call as the SuperAdmin; panics on a GraphQL error.
    pub async fn admin(&self, query: &str, variables: Value) -> Value {
        self.graphql("admin-api", Some(&self.token), query, variables)
            .await
            .0
    }

    /// One product per `(sku, stock on hand)`, each with its one variant (so no option groups
    /// are needed); the variants' ids in order.
    pub async fn products(&self, variants: &[(&str, i64)]) -> Vec<String> {
        let mut ids = Vec::new();
        for (sku, stock) in variants {
            let product = self
                .admin(
                    "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }",
                    json!({ "input": { "enabled": true, "translations": [{
                        "languageCode": "en", "name": format!("Vendure {sku}"),
                        "slug": sku.to_lowercase(), "description": "" }] } }),
                )
                .await;
            let created = self
                .admin(
                    "mutation($input: [CreateProductVariantInput!]!) { createProductVariants(input: $input) { id } }",
                    json!({ "input": [{ "productId": product["createProduct"]["id"], "sku": sku,
                        "price": 1000, "stockOnHand": stock, "trackInventory": "TRUE",
                        "optionIds": [], "translations": [{ "languageCode": "en", "name": format!("Vendure {sku}") }] }] }),
                )
                .await;
            ids.push(
                created["createProductVariants"][0]["id"]
                    .as_str()
                    .expect("a variant id")
                    .to_owned(),
            );
        }
        ids
    }

    /// A variant's stock, read back through the Admin API.
    pub async fn stock(&self, variant_id: &str) -> Stock {
        let data = self
            .admin(
                "query($id: ID!) { productVariant(id: $id) { stockOnHand stockAllocated } }",
                json!({ "id": variant_id }),
            )
            .await;
        let v = &data["productVariant"];
        Stock {
            on_hand: v["stockOnHand"].as_i64().expect("stockOnHand"),
            allocated: v["stockAllocated"].as_i64().expect("stockAllocated"),
        }
    }

    /// Waits until the variant's stock is `expected`.
    pub async fn stock_becomes(&self, variant_id: &str, expected: Stock, wait: Duration) {
        eventually(
            &format!("Vendure variant {variant_id} to hold {expected:?}"),
            wait,
            || async move { (self.stock(variant_id).await == expected).then_some(()) },
        )
        .await;
    }

    /// A shopper's order through the Shop API, paid with the dummy handler (settled at once,
    /// so Vendure allocates its stock); its code.
    pub async fn place_order(&self, lines: &[(&str, i64)]) -> String {
        let mut session: Option<String> = None;
        for (variant, quantity) in lines {
            let (data, token) = self
                .graphql(
                    "shop-api",
                    session.as_deref(),
                    "mutation($v: ID!, $q: Int!) { addItemToOrder(productVariantId: $v, quantity: $q) { __typename ... on ErrorResult { message } } }",
                    json!({ "v": variant, "q": quantity }),
                )
                .await;
            assert_eq!(data["addItemToOrder"]["__typename"], "Order", "{data}");
            session = session.or(token);
        }
        let shop = session.as_deref();
        let steps = [
            ("mutation($i: CreateCustomerInput!) { setCustomerForOrder(input: $i) { __typename } }",
             json!({ "i": { "emailAddress": "shopper@example.com", "firstName": "Sam", "lastName": "Shopper" } })),
            ("mutation($i: CreateAddressInput!) { setOrderShippingAddress(input: $i) { __typename } }",
             json!({ "i": { "fullName": "Sam Shopper", "streetLine1": "1 Main St", "city": "Springfield",
                    "postalCode": "12345", "countryCode": "US" } })),
        ];
        for (query, variables) in steps {
            let (data, _) = self.graphql("shop-api", shop, query, variables).await;
            assert!(data.to_string().contains("\"Order\""), "{data}");
        }
        let (methods, _) = self
            .graphql(
                "shop-api",
                shop,
                "{ eligibleShippingMethods { id } }",
                json!({}),
            )
            .await;
        let method = methods["eligibleShippingMethods"][0]["id"].clone();
        let (data, _) = self
            .graphql(
                "shop-api",
                shop,
                "mutation($ids: [ID!]!) { setOrderShippingMethod(shippingMethodId: $ids) { __typename } }",
                json!({ "ids": [method] }),
            )
            .await;
        assert_eq!(
            data["setOrderShippingMethod"]["__typename"], "Order",
            "{data}"
        );
        let (data, _) = self
            .graphql(
                "shop-api",
                shop,
                "mutation { transitionOrderToState(state: \"ArrangingPayment\") { __typename } }",
                json!({}),
            )
            .await;
        assert_eq!(
            data["transitionOrderToState"]["__typename"], "Order",
            "{data}"
        );
        let (data, _) = self
            .graphql(
                "shop-api",
                shop,
                "mutation { addPaymentToOrder(input: {method: \"dummy-payment\", metadata: {}}) { __typename ... on Order { code state } ... on ErrorResult { message } } }",
                json!({}),
            )
            .await;
        let order = &data["addPaymentToOrder"];
        assert_eq!(order["state"], "PaymentSettled", "{data}");
        order["code"].as_str().expect("an order code").to_owned()
    }

    /// Cancels an order as the shop owner would in Vendure's admin.
    pub async fn cancel_order(&self, code: &str) {
        let data = self
            .admin(
                "query($code: String!) { orders(options: {filter: {code: {eq: $code}}}) { items { id } } }",
                json!({ "code": code }),
            )
            .await;
        let id = data["orders"]["items"][0]["id"].clone();
        let data = self
            .admin(
                "mutation($i: CancelOrderInput!) { cancelOrder(input: $i) { __typename } }",
                json!({ "i": { "orderId": id, "reason": "customer asked", "cancelShipping": true } }),
            )
            .await;
        assert_eq!(data["cancelOrder"]["__typename"], "Order", "{data}");
    }

    /// Where Tally's plugin sends orders now, as the plugin reports it.
    pub async fn webhook_url(&self) -> Option<String> {
        let data = self
            .admin("{ tallyWebhook { url secretSet } }", json!({}))
            .await;
        data["tallyWebhook"]["url"].as_str().map(str::to_owned)
    }
}
