//! Registering Tally's webhook address with a storefront when its connection is saved, and
//! keeping what each topic's registration gave on the connection, for the storefront page.

use crate::bindings::DB;
use crate::connection;
use crate::crypto;
use crate::error::ApiError;
use crate::handlers::storefronts::credentials_key;
use crate::store::storefronts::{self, StorefrontRow};
use crate::storefront_http;
use tally_domain::api::WebhookTopic;
use tally_domain::connector::subscribe;
use worker::Env;

/// How long one registration call may take (the seller is waiting on the save).
const TIMEOUT_MS: u64 = 5_000;

/// Subscribes `connection`'s webhook address (under `public_base`) to every topic the
/// platform offers, or only those not yet subscribed unless `all`. Nothing to do for eBay
/// and Amazon. Failures are written per topic, never raised: the connection is saved
/// either way, and polling covers its orders.
pub async fn register(
    env: &Env,
    connection: &StorefrontRow,
    public_base: &str,
    all: bool,
) -> Result<(), ApiError> {
    let kind = connection.kind()?;
    let topics = subscribe::topics(kind);
    if topics.is_empty() {
        return Ok(());
    }
    let before: Vec<WebhookTopic> =
        serde_json::from_str(&connection.hook_status).unwrap_or_default();
    let done = |topic: &str| before.iter().any(|t| t.topic == topic && t.ok);
    let wanted: Vec<&str> = topics.iter().copied().filter(|t| all || !done(t)).collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let secret = match connection.hook_secret_enc.as_str() {
        "" => String::new(),
        sealed => crypto::open(&credentials_key(env)?, sealed).await?,
    };
    let hook_url = connection.webhook_url(public_base);
    let mut after = Vec::with_capacity(topics.len());
    let target = connection::storefront_target(env, connection, TIMEOUT_MS).await;
    for topic in topics {
        let result = if !wanted.contains(topic) {
            before.iter().find(|t| t.topic == *topic).cloned()
        } else {
            let outcome = match &target {
                Err(failure) => Err(failure.message().to_owned()),
                Ok(target) => {
                    let request = subscribe::request(target, topic, &hook_url, &secret);
                    match storefront_http::send(&request, TIMEOUT_MS).await {
                        Ok(response) => subscribe::answer(kind, &response),
                        Err(e) => Err(format!(
                            "{} did not answer ({e}): check the address, then save the \
                             connection again. Polling covers its orders meanwhile.",
                            kind.label()
                        )),
                    }
                }
            };
            Some(match outcome {
                Ok(message) => WebhookTopic {
                    topic: (*topic).to_owned(),
                    ok: true,
                    message,
                },
                Err(message) => WebhookTopic {
                    topic: (*topic).to_owned(),
                    ok: false,
                    message,
                },
            })
        };
        after.extend(result);
    }
    let json = serde_json::to_string(&after).map_err(|e| ApiError::Internal(e.to_string()))?;
    storefronts::set_hook_status(&env.d1(DB)?, connection.account(), connection.id, &json).await
}
