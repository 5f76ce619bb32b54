//! Registering Tally's webhook address with a storefront, so its sales reach Tally in
//! seconds: Shopify's `webhookSubscriptionCreate`, WooCommerce's `POST /webhooks`,
//! BigCommerce's `POST /v3/hooks`, and for Vendure the `setTallyWebhook` mutation of Tally's
//! plugin (`vendure/`). eBay and Amazon cannot call a worker; polling covers them.
//!
//! Who signs what differs: Shopify signs with the app's client secret (the seller gives it to
//! Tally), WooCommerce with the secret Tally sets here, and BigCommerce signs nothing, so
//! Tally registers a secret header it then checks ([`crate::webhook::BIGCOMMERCE_HEADER`]).

use super::{base_url, post_json, HttpRequest, HttpResponse, Target};
use crate::storefront::StorefrontKind;
use crate::webhook::BIGCOMMERCE_HEADER;
use serde::Deserialize;
use serde_json::json;

const SHOPIFY_MUTATION: &str = "mutation TallyWebhook($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) { webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) { webhookSubscription { id } userErrors { field message } } }";

/// The topics Tally subscribes to on `kind`, in the platform's own names; none where the
/// platform cannot send webhooks to Tally.
pub fn topics(kind: StorefrontKind) -> &'static [&'static str] {
    match kind {
        StorefrontKind::Shopify => &["ORDERS_CREATE", "ORDERS_CANCELLED", "REFUNDS_CREATE"],
        StorefrontKind::Woocommerce => &["order.created", "order.updated"],
        StorefrontKind::Bigcommerce => &["store/order/created", "store/order/statusUpdated"],
        StorefrontKind::Vendure => &[super::vendure::TOPIC],
        StorefrontKind::Ebay | StorefrontKind::Amazon => &[],
    }
}

/// The request that subscribes `hook_url` to `topic`. `secret` is what WooCommerce signs
/// with and what BigCommerce sends back as a header; Shopify ignores it (it signs with the
/// app's client secret).
pub fn request(target: &Target, topic: &str, hook_url: &str, secret: &str) -> HttpRequest {
    let base = base_url(target);
    match target.kind {
        StorefrontKind::Shopify => post_json(
            target,
            format!(
                "{base}/admin/api/{}/graphql.json",
                super::shopify::API_VERSION
            ),
            &json!({ "query": SHOPIFY_MUTATION, "variables": {
                "topic": topic,
                "webhookSubscription": { "uri": hook_url, "format": "JSON" } } }),
        ),
        StorefrontKind::Woocommerce => post_json(
            target,
            format!("{base}/wp-json/wc/v3/webhooks"),
            &json!({ "name": format!("Tally: {topic}"), "topic": topic,
                "delivery_url": hook_url, "secret": secret, "status": "active" }),
        ),
        StorefrontKind::Vendure => super::vendure::subscribe_request(target, hook_url, secret),
        // eBay and Amazon have no topics; BigCommerce's shape is the harmless default.
        StorefrontKind::Bigcommerce | StorefrontKind::Ebay | StorefrontKind::Amazon => post_json(
            target,
            format!("{base}/v3/hooks"),
            &json!({ "scope": topic, "destination": hook_url, "is_active": true,
                "headers": { BIGCOMMERCE_HEADER: secret } }),
        ),
    }
}

#[derive(Deserialize)]
struct ShopifyAnswer {
    #[serde(default)]
    data: Option<ShopifyData>,
    #[serde(default)]
    errors: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShopifyData {
    webhook_subscription_create: Option<ShopifyCreated>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ShopifyCreated {
    #[serde(default)]
    user_errors: Vec<ShopifyUserError>,
}

#[derive(Deserialize)]
struct ShopifyUserError {
    message: String,
}

/// What subscribing gave, worded for the storefront's page: `Ok` when the storefront will
/// send that topic to Tally (also when it already did), else what went wrong and what to do.
pub fn answer(kind: StorefrontKind, response: &HttpResponse) -> Result<String, String> {
    let platform = kind.label();
    if kind == StorefrontKind::Vendure {
        // GraphQL: the status says little, the body says what happened.
        return super::vendure::subscribe_answer(response);
    }
    match response.status {
        200..=299 => {}
        401 | 403 => {
            return Err(format!(
                "{platform} refused (HTTP {}): give the connection's credential permission to \
                 read orders and manage webhooks, then save it again.",
                response.status
            ))
        }
        status => {
            return Err(format!(
                "{platform} did not accept the subscription (HTTP {status}): {}. Save the \
                 connection again to retry; polling covers its orders meanwhile.",
                excerpt(&response.body)
            ))
        }
    }
    if kind != StorefrontKind::Shopify {
        return Ok("Subscribed.".to_owned());
    }
    // GraphQL answers 200 whatever happened; the body says.
    let parsed: ShopifyAnswer = serde_json::from_str(&response.body).map_err(|_| {
        format!(
            "Shopify's answer could not be read: {}",
            excerpt(&response.body)
        )
    })?;
    if let Some(errors) = parsed.errors {
        return Err(format!(
            "Shopify refused: {}. Check the access token's scopes (read_orders).",
            excerpt(&errors.to_string())
        ));
    }
    let created = parsed
        .data
        .and_then(|d| d.webhook_subscription_create)
        .ok_or_else(|| "Shopify's answer named no subscription.".to_owned())?;
    match created.user_errors.first() {
        None => Ok("Subscribed.".to_owned()),
        // Shopify's words when this address already receives the topic: nothing to fix.
        Some(e) if e.message.contains("already been taken") => Ok("Already subscribed.".to_owned()),
        Some(e) => Err(format!("Shopify refused: {}.", e.message)),
    }
}

/// The start of a body, on one line, for a message.
fn excerpt(body: &str) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        return "no details".to_owned();
    }
    flat.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connector::Method;

    fn target(kind: StorefrontKind) -> Target {
        Target {
            kind,
            base_url: "https://shop.example/".to_owned(),
            credential: "ck_1:cs_2".to_owned(),
            store_ref: None,
            keys_in_query: false,
        }
    }

    fn ok(body: &str) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    #[test]
    fn only_platforms_that_can_call_tally_have_topics() {
        assert_eq!(topics(StorefrontKind::Shopify).len(), 3);
        assert_eq!(topics(StorefrontKind::Woocommerce).len(), 2);
        assert_eq!(topics(StorefrontKind::Bigcommerce).len(), 2);
        assert!(topics(StorefrontKind::Ebay).is_empty());
        assert!(topics(StorefrontKind::Amazon).is_empty());
    }

    #[test]
    fn shopify_subscribes_through_graphql_with_the_uri() {
        let r = request(
            &target(StorefrontKind::Shopify),
            "ORDERS_CREATE",
            "https://tally.example/api/v1/hooks/ab",
            "unused",
        );
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.url, "https://shop.example/admin/api/2026-04/graphql.json");
        let body: serde_json::Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert!(body["query"]
            .as_str()
            .unwrap()
            .contains("webhookSubscriptionCreate"));
        assert_eq!(body["variables"]["topic"], "ORDERS_CREATE");
        assert_eq!(
            body["variables"]["webhookSubscription"]["uri"],
            "https://tally.example/api/v1/hooks/ab"
        );
        assert!(
            !r.body.unwrap().contains("unused"),
            "Shopify gets no secret"
        );
    }

    #[test]
    fn woocommerce_gets_the_secret_it_signs_with() {
        let r = request(
            &target(StorefrontKind::Woocommerce),
            "order.created",
            "https://t/h",
            "s3cret",
        );
        assert_eq!(r.url, "https://shop.example/wp-json/wc/v3/webhooks");
        assert!(r
            .headers
            .iter()
            .any(|(n, v)| n == "Authorization" && v == "Basic Y2tfMTpjc18y"));
        let body: serde_json::Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["secret"], "s3cret");
        assert_eq!(body["delivery_url"], "https://t/h");
        assert_eq!(body["status"], "active");
    }

    #[test]
    fn bigcommerce_gets_a_secret_header_to_send_back() {
        let r = request(
            &target(StorefrontKind::Bigcommerce),
            "store/order/created",
            "https://t/h",
            "s3cret",
        );
        assert_eq!(r.url, "https://shop.example/v3/hooks");
        let body: serde_json::Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
        assert_eq!(body["headers"][BIGCOMMERCE_HEADER], "s3cret");
        assert_eq!(body["scope"], "store/order/created");
    }

    #[test]
    fn shopify_answers_are_read_from_the_body() {
        let created = r#"{"data":{"webhookSubscriptionCreate":{"webhookSubscription":{"id":"gid://shopify/WebhookSubscription/1"},"userErrors":[]}}}"#;
        assert_eq!(
            answer(StorefrontKind::Shopify, &ok(created)),
            Ok("Subscribed.".to_owned())
        );
        let taken = r#"{"data":{"webhookSubscriptionCreate":{"webhookSubscription":null,"userErrors":[{"field":["webhookSubscription","callbackUrl"],"message":"Address for this topic has already been taken"}]}}}"#;
        assert_eq!(
            answer(StorefrontKind::Shopify, &ok(taken)),
            Ok("Already subscribed.".to_owned())
        );
        let refused = r#"{"data":{"webhookSubscriptionCreate":{"webhookSubscription":null,"userErrors":[{"field":["topic"],"message":"Topic is invalid"}]}}}"#;
        assert_eq!(
            answer(StorefrontKind::Shopify, &ok(refused)),
            Err("Shopify refused: Topic is invalid.".to_owned())
        );
        let denied =
            r#"{"errors":[{"message":"Access denied for webhookSubscriptionCreate field."}]}"#;
        assert!(answer(StorefrontKind::Shopify, &ok(denied))
            .unwrap_err()
            .contains("read_orders"));
    }

    #[test]
    fn refusals_say_what_to_do() {
        let denied = HttpResponse {
            status: 401,
            headers: Vec::new(),
            body: "{}".to_owned(),
        };
        let message = answer(StorefrontKind::Woocommerce, &denied).unwrap_err();
        assert!(
            message.contains("WooCommerce refused (HTTP 401)"),
            "{message}"
        );
        assert!(message.contains("save it again"), "{message}");
        let invalid = HttpResponse {
            status: 422,
            headers: Vec::new(),
            body: "{\"title\": \"destination must be https\"}".to_owned(),
        };
        let message = answer(StorefrontKind::Bigcommerce, &invalid).unwrap_err();
        assert!(message.contains("destination must be https"), "{message}");
        assert_eq!(
            answer(StorefrontKind::Woocommerce, &ok("{\"id\": 3}")),
            Ok("Subscribed.".to_owned())
        );
    }
}
