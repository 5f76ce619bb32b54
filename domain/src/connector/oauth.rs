//! Access tokens for platforms whose tokens expire: eBay's OAuth user tokens (2 hours) and
//! Amazon's Login with Amazon tokens (1 hour). A seller may paste a working access token, used as
//! it is, or a *refresh credential* — the app's client id and secret with a refresh token, as
//! JSON — and Tally fetches access tokens itself, before each one runs out.

use super::{encode_component, HttpRequest, HttpResponse, Method};
use crate::connector::Failure;
use crate::storefront::StorefrontKind;
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// eBay's scope for the Sell Inventory API.
const EBAY_SCOPE: &str = "https://api.ebay.com/oauth/api_scope/sell.inventory";

/// A refresh credential as the seller pastes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshGrant {
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    /// Where tokens come from; the platform's own endpoint when absent.
    #[serde(default)]
    pub token_url: Option<String>,
}

/// An access token and how long it lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: String,
    pub expires_in_s: u64,
}

/// Whether `kind` takes a refresh credential.
pub fn refreshes(kind: StorefrontKind) -> bool {
    matches!(kind, StorefrontKind::Ebay | StorefrontKind::Amazon)
}

/// The refresh credential in `credential`, if it is one (a JSON object) for a platform that
/// takes one; `Err` says what is wrong with one that does not parse.
pub fn refresh_grant(
    kind: StorefrontKind,
    credential: &str,
) -> Result<Option<RefreshGrant>, String> {
    if !credential.trim_start().starts_with('{') {
        return Ok(None);
    }
    if !refreshes(kind) {
        return Err(format!(
            "{} takes an access token, not a refresh credential.",
            kind.label()
        ));
    }
    let grant: RefreshGrant = serde_json::from_str(credential).map_err(|_| {
        "A refresh credential is JSON: {\"client_id\": …, \"client_secret\": …, \
         \"refresh_token\": …} (and optionally \"token_url\")."
            .to_owned()
    })?;
    let blank = [&grant.client_id, &grant.client_secret, &grant.refresh_token]
        .iter()
        .any(|v| v.trim().is_empty());
    if blank {
        return Err("The client id, client secret and refresh token are all needed.".to_owned());
    }
    Ok(Some(grant))
}

/// The request that trades the refresh token for an access token, in the platform's shape.
pub fn token_request(kind: StorefrontKind, grant: &RefreshGrant) -> HttpRequest {
    let form = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode_component(v)))
            .collect::<Vec<_>>()
            .join("&")
    };
    let content_type = (
        "Content-Type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    );
    let (url, headers, body) = match kind {
        StorefrontKind::Ebay => {
            let basic = base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", grant.client_id, grant.client_secret));
            (
                "https://api.ebay.com/identity/v1/oauth2/token",
                vec![
                    content_type,
                    ("Authorization".to_owned(), format!("Basic {basic}")),
                ],
                form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &grant.refresh_token),
                    ("scope", EBAY_SCOPE),
                ]),
            )
        }
        _ => (
            "https://api.amazon.com/auth/o2/token",
            vec![content_type],
            form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", &grant.refresh_token),
                ("client_id", &grant.client_id),
                ("client_secret", &grant.client_secret),
            ]),
        ),
    };
    HttpRequest {
        method: Method::Post,
        url: grant.token_url.clone().unwrap_or_else(|| url.to_owned()),
        headers,
        body: Some(body),
        listing_ids: Vec::new(),
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
struct TokenError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

/// The access token in the platform's answer, or the failure it means: a refused grant (wrong
/// client, revoked refresh token) cannot be retried; a 429 or 5xx can.
pub fn parse_token(kind: StorefrontKind, response: &HttpResponse) -> Result<AccessToken, Failure> {
    if response.status == 200 {
        return serde_json::from_str::<TokenAnswer>(&response.body)
            .map(|t| AccessToken {
                token: t.access_token,
                expires_in_s: t.expires_in,
            })
            .map_err(|_| Failure::Unavailable {
                message: format!("{} sent a token answer Tally cannot read.", kind.label()),
            });
    }
    let said = serde_json::from_str::<TokenError>(&response.body)
        .map(|e| {
            if e.error_description.is_empty() {
                e.error
            } else {
                e.error_description
            }
        })
        .unwrap_or_default();
    let message = format!(
        "{} refused to renew the access token ({}{}).",
        kind.label(),
        response.status,
        if said.is_empty() {
            String::new()
        } else {
            format!(": {said}")
        }
    );
    match response.status {
        400 | 401 | 403 => Err(Failure::Auth { message }),
        429 => Err(Failure::RateLimited {
            message,
            retry_after_ms: None,
        }),
        _ => Err(Failure::Unavailable { message }),
    }
}

/// Seconds to keep a fresh token: its life less five minutes, so it is never used at its edge.
pub fn keep_for_s(token: &AccessToken) -> u64 {
    token.expires_in_s.saturating_sub(300)
}

/// A cache key for the access token of `storefront` under `grant`: a new refresh credential
/// gets a new key, so a replaced one is never used again.
pub fn cache_key(storefront: i64, grant: &RefreshGrant) -> String {
    let digest = Sha256::digest(
        format!(
            "{}\n{}\n{}",
            grant.client_id,
            grant.refresh_token,
            grant.token_url.as_deref().unwrap_or("")
        )
        .as_bytes(),
    );
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("oauth:{storefront}:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant() -> RefreshGrant {
        refresh_grant(
            StorefrontKind::Ebay,
            r#"{"client_id":"App-1","client_secret":"SECRET","refresh_token":"v^1.1#i^1#r^1"}"#,
        )
        .unwrap()
        .unwrap()
    }

    fn answer(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    #[test]
    fn a_plain_token_is_used_as_it_is_and_a_bad_refresh_credential_is_named() {
        assert_eq!(refresh_grant(StorefrontKind::Ebay, "v^1.1#token"), Ok(None));
        assert!(refresh_grant(StorefrontKind::Ebay, "{\"client_id\":\"x\"}").is_err());
        assert!(refresh_grant(
            StorefrontKind::Amazon,
            r#"{"client_id":" ","client_secret":"s","refresh_token":"r"}"#
        )
        .is_err());
        let shopify = refresh_grant(
            StorefrontKind::Shopify,
            r#"{"client_id":"a","client_secret":"s","refresh_token":"r"}"#,
        );
        assert!(shopify.unwrap_err().contains("access token"));
    }

    #[test]
    fn ebay_renews_with_basic_auth_and_the_inventory_scope() {
        let request = token_request(StorefrontKind::Ebay, &grant());
        assert_eq!(request.url, "https://api.ebay.com/identity/v1/oauth2/token");
        let basic = base64::engine::general_purpose::STANDARD.encode("App-1:SECRET");
        assert!(request
            .headers
            .contains(&("Authorization".to_owned(), format!("Basic {basic}"))));
        assert_eq!(
            request.body.as_deref(),
            Some(
                "grant_type=refresh_token&refresh_token=v%5E1.1%23i%5E1%23r%5E1&scope=\
                 https%3A%2F%2Fapi.ebay.com%2Foauth%2Fapi_scope%2Fsell.inventory"
            )
        );
    }

    #[test]
    fn amazon_renews_with_the_client_in_the_form_and_a_token_url_can_be_given() {
        let mut g = grant();
        g.token_url = Some("http://127.0.0.1:9/auth/o2/token".into());
        let request = token_request(StorefrontKind::Amazon, &g);
        assert_eq!(request.url, "http://127.0.0.1:9/auth/o2/token");
        let body = request.body.unwrap();
        assert!(body.contains("client_id=App-1") && body.contains("client_secret=SECRET"));
        assert!(!request.headers.iter().any(|(n, _)| n == "Authorization"));
    }

    #[test]
    fn token_answers_become_a_token_or_the_failure_they_mean() {
        let ok = parse_token(
            StorefrontKind::Amazon,
            &answer(
                200,
                r#"{"access_token":"Atza|new","token_type":"bearer","expires_in":3600}"#,
            ),
        )
        .unwrap();
        assert_eq!(ok.token, "Atza|new");
        assert_eq!(keep_for_s(&ok), 3300);
        let refused = parse_token(
            StorefrontKind::Ebay,
            &answer(
                400,
                r#"{"error":"invalid_grant","error_description":"the refresh token is invalid"}"#,
            ),
        );
        assert!(
            matches!(&refused, Err(Failure::Auth { message }) if message.contains("refresh token is invalid")),
            "{refused:?}"
        );
        assert!(matches!(
            parse_token(StorefrontKind::Ebay, &answer(503, "")),
            Err(Failure::Unavailable { .. })
        ));
    }

    #[test]
    fn a_new_refresh_credential_gets_a_new_cache_key() {
        let mut other = grant();
        other.refresh_token.push('x');
        assert_ne!(cache_key(7, &grant()), cache_key(7, &other));
        assert_ne!(cache_key(7, &grant()), cache_key(8, &grant()));
        assert!(cache_key(7, &grant()).starts_with("oauth:7:"));
    }
}
