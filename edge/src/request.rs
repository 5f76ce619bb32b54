//! Reading request bodies and query strings, and writing JSON responses.

use crate::error::ApiError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use worker::{Headers, Request, Response, ResponseBuilder};

/// The largest JSON body any endpoint takes.
pub const MAX_JSON_BODY: usize = 64 * 1024;

/// Reads a JSON body of at most `limit` bytes into `T`, naming the field when it does not fit.
pub async fn json_body<T: DeserializeOwned>(
    req: &mut Request,
    limit: usize,
) -> Result<T, ApiError> {
    let content_type = req.headers().get("content-type")?.unwrap_or_default();
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        return Err(ApiError::NotJson);
    }
    parse_json(&raw_body(req, limit).await?)
}

/// The body of a CSV upload (`Content-Type: text/csv`, or `text/plain` as some tools send it),
/// refused when over `limit` bytes.
pub async fn csv_body(req: &mut Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    let content_type = req
        .headers()
        .get("content-type")?
        .unwrap_or_default()
        .to_ascii_lowercase();
    if !(content_type.starts_with("text/csv") || content_type.starts_with("text/plain")) {
        return Err(ApiError::NotCsv);
    }
    raw_body(req, limit).await
}

/// Parses JSON, reporting the path of the offending field (e.g. `amount`).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let mut field = (path != ".").then_some(path);
        // A missing field is reported at its parent's path: name the field itself.
        let text = e.inner().to_string();
        if let Some(name) = text
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            field = Some(match field {
                Some(parent) => format!("{parent}.{name}"),
                None => name.to_owned(),
            });
        }
        // serde_json appends " at line 1 column 26": noise for a seller, the field says where.
        let inner = e.into_inner().to_string();
        let inner = inner.split(" at line ").next().unwrap_or_default();
        let message = match &field {
            Some(f) => format!("{f}: {inner}"),
            None => format!("the body is not valid JSON for this endpoint: {inner}"),
        };
        ApiError::MalformedBody { message, field }
    })
}

/// The value of one query-string parameter.
pub fn query_param(req: &Request, name: &str) -> Result<Option<String>, ApiError> {
    let url = req.url()?;
    Ok(url
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned()))
}

/// A JSON response with the given status. Serialising our own types cannot fail, and this never
/// does: every path through the API ends in a well-formed response.
pub fn json_response<T: Serialize>(body: &T, status: u16) -> Response {
    let text = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let headers = Headers::new();
    let _ = headers.set("content-type", "application/json; charset=utf-8");
    let _ = headers.set("cache-control", "no-store");
    let _ = headers.set("x-content-type-options", "nosniff");
    ResponseBuilder::new()
        .with_status(status)
        .with_headers(headers)
        .fixed(text)
}

/// 200 with a JSON body.
pub fn ok<T: Serialize>(body: &T) -> Result<Response, ApiError> {
    Ok(json_response(body, 200))
}

/// The worker's public origin, which storefronts call back (webhook addresses): the
/// `PUBLIC_URL` var when set (a deployment behind its own domain), else the origin this
/// request came to (locally, the worker's own address).
pub fn public_base(req: &Request, env: &worker::Env) -> Result<String, ApiError> {
    if let Some(url) = env
        .var("PUBLIC_URL")
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.trim().is_empty())
    {
        return Ok(url.trim().trim_end_matches('/').to_owned());
    }
    let url = req.url()?;
    Ok(url.origin().ascii_serialization())
}

/// The raw body of at most `limit` bytes, refused early when its declared length is over and
/// otherwise read chunk by chunk, so a chunked body (no declared length) is refused as soon as
/// it passes the limit rather than after it is all in memory. A webhook's signature is over
/// these exact bytes; JSON and CSV bodies are read through it.
pub async fn raw_body(req: &mut Request, limit: usize) -> Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::TooLarge { limit_bytes: limit });
    }
    // No body at all reads as an empty one.
    let Ok(mut stream) = req.stream() else {
        return Ok(Vec::new());
    };
    let mut bytes = Vec::new();
    let mut seen = 0;
    while let Some(chunk) = futures_util::StreamExt::next(&mut stream).await {
        let chunk = chunk?;
        seen += chunk.len();
        if seen <= limit {
            bytes.extend_from_slice(&chunk);
        } else if seen > DRAIN_BYTES {
            break;
        }
    }
    if seen > limit {
        return Err(ApiError::TooLarge { limit_bytes: limit });
    }
    Ok(bytes)
}

/// Past its limit a body is still read, and dropped, up to this much, so a client that sends
/// a little too much gets its 413 rather than a reset connection; beyond it the rest is left
/// unread.
const DRAIN_BYTES: usize = 1024 * 1024;

/// The `Idempotency-Key` header as a reference (`idempotency:<key>`), when one was sent: the
/// ledger's for adjustments, the order keys' for orders.
pub fn idempotency_key(req: &Request) -> Result<Option<String>, ApiError> {
    let Some(key) = req.headers().get("idempotency-key")? else {
        return Ok(None);
    };
    tally_domain::quantity::idempotency_reference(key.trim())
        .map(Some)
        .map_err(|m| tally_domain::api::FieldError::new("Idempotency-Key", m).into())
}
