//! Reading a storefront's orders back: the lines of an order a webhook only names
//! (BigCommerce sends the order id alone).

use super::{base_url, HttpRequest, HttpResponse, Method, Target};
use crate::storefront::StorefrontKind;
use crate::webhook::SaleLine;
use serde::Deserialize;

/// The request that reads an order's lines, for the platforms whose webhooks leave them out:
/// BigCommerce's `GET /v2/orders/{id}/products`. `None` for the others.
pub fn lines_request(target: &Target, order_id: &str) -> Option<HttpRequest> {
    if target.kind != StorefrontKind::Bigcommerce {
        return None;
    }
    // Order ids are BigCommerce's integers; anything else cannot name one of its orders.
    let id: u64 = order_id.parse().ok()?;
    Some(HttpRequest {
        method: Method::Get,
        url: format!("{}/v2/orders/{id}/products?limit=250", base_url(target)),
        headers: vec![
            ("X-Auth-Token".to_owned(), target.credential.clone()),
            ("Accept".to_owned(), "application/json".to_owned()),
        ],
        body: None,
        listing_ids: Vec::new(),
    })
}

#[derive(Deserialize)]
struct BigCommerceOrderProduct {
    #[serde(default)]
    variant_id: Option<u64>,
    #[serde(default)]
    sku: Option<String>,
    quantity: i64,
}

/// The lines in the answer to [`lines_request`], or what went wrong, worded for the
/// connection's Incoming log.
pub fn lines(response: &HttpResponse) -> Result<Vec<SaleLine>, String> {
    match response.status {
        200..=299 => {}
        401 | 403 => {
            return Err(format!(
                "BigCommerce refused to show the order (HTTP {}): check the connection's access \
                 token has the Orders read scope",
                response.status
            ))
        }
        404 => return Err("BigCommerce has no such order".to_owned()),
        status => {
            return Err(format!(
                "BigCommerce did not show the order (HTTP {status}); Tally will try again"
            ))
        }
    }
    let products: Vec<BigCommerceOrderProduct> = serde_json::from_str(&response.body)
        .map_err(|e| format!("BigCommerce's order lines could not be read: {e}"))?;
    Ok(products
        .into_iter()
        .map(|p| SaleLine {
            external_id: p.variant_id.filter(|id| *id != 0).map(|id| id.to_string()),
            sku: p.sku.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()),
            quantity: p.quantity,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(kind: StorefrontKind) -> Target {
        Target {
            kind,
            base_url: "https://api.bigcommerce.com/stores/abc123/".to_owned(),
            credential: "token".to_owned(),
            store_ref: None,
        }
    }

    fn answer(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    #[test]
    fn bigcommerce_orders_are_read_by_id_with_the_token() {
        let request = lines_request(&target(StorefrontKind::Bigcommerce), "250").unwrap();
        assert_eq!(request.method, Method::Get);
        assert_eq!(
            request.url,
            "https://api.bigcommerce.com/stores/abc123/v2/orders/250/products?limit=250"
        );
        assert!(request
            .headers
            .contains(&("X-Auth-Token".to_owned(), "token".to_owned())));
        assert!(lines_request(&target(StorefrontKind::Bigcommerce), "../x").is_none());
        assert!(lines_request(&target(StorefrontKind::Shopify), "250").is_none());
    }

    #[test]
    fn order_products_become_sale_lines() {
        let body = r#"[{"id":1,"order_id":250,"product_id":77,"variant_id":501,"sku":"SCARF-R",
            "quantity":2,"name":"Scarf"},{"id":2,"variant_id":0,"sku":" ","quantity":1}]"#;
        assert_eq!(
            lines(&answer(200, body)),
            Ok(vec![
                SaleLine {
                    external_id: Some("501".into()),
                    sku: Some("SCARF-R".into()),
                    quantity: 2
                },
                SaleLine {
                    external_id: None,
                    sku: None,
                    quantity: 1
                },
            ])
        );
        assert!(lines(&answer(401, "{}"))
            .unwrap_err()
            .contains("Orders read scope"));
        assert!(lines(&answer(200, "not json")).is_err());
    }
}
