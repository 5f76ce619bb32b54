//! Making a connector's requests: the only place the worker talks to storefronts.

use std::time::Duration;
use tally_domain::address::Network;
use tally_domain::connector::{HttpRequest, HttpResponse, Method};
use worker::{AbortController, Delay, Env, Fetch, Headers, Request, RequestInit, RequestRedirect};

/// Which storefront addresses this worker may call: `TALLY_NETWORK = "development"` (set by
/// the run command and the tests on `wrangler dev`, never in `wrangler.toml`) lets connections
/// point at storefronts on this machine; anything else is production.
pub fn network(env: &Env) -> Network {
    let setting = env.var("TALLY_NETWORK").ok().map(|v| v.to_string());
    Network::from_setting(setting.as_deref())
}

/// The largest storefront answer read; a bigger one (which no quantity update should produce)
/// is left unread rather than held in the worker's memory.
const MAX_ANSWER_BYTES: usize = 2 * 1024 * 1024;

/// Makes `request`; `Err` carries a message for a timeout or a failed connection. The timeout
/// covers the whole answer, body included, so no request outlives the round's lease.
pub async fn send(request: &HttpRequest, timeout_ms: u64) -> Result<HttpResponse, String> {
    let fetch = build(request).map_err(|e| format!("could not build the request: {e}"))?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let call = Box::pin(async move {
        let mut response = Fetch::Request(fetch).send_with_signal(&signal).await?;
        let headers: Vec<(String, String)> = response
            .headers()
            .entries()
            .map(|(name, value)| (name.to_ascii_lowercase(), value))
            .collect();
        let oversized = headers.iter().any(|(name, value)| {
            name == "content-length" && value.parse::<usize>().is_ok_and(|n| n > MAX_ANSWER_BYTES)
        });
        // Read chunk by chunk and given up past the limit, declared length or not.
        let read = match response.stream() {
            _ if oversized => None,
            Ok(stream) => read_capped(stream, MAX_ANSWER_BYTES).await?,
            Err(_) => Some(Vec::new()), // no body
        };
        let body = match read {
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            None => format!(
                "(an answer over {} MB, not read)",
                MAX_ANSWER_BYTES / 1024 / 1024
            ),
        };
        Ok::<_, worker::Error>(HttpResponse {
            status: response.status_code(),
            headers,
            body,
        })
    });
    let timer = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
    match futures_util::future::select(call, timer).await {
        futures_util::future::Either::Left((Ok(answer), _)) => Ok(answer),
        futures_util::future::Either::Left((Err(e), _)) => Err(format!(
            "connection failed: {}",
            without_query(&e.to_string(), &request.url)
        )),
        futures_util::future::Either::Right(_) => {
            controller.abort();
            Err(format!(
                "no answer within {:.1} s",
                timeout_ms as f64 / 1000.0
            ))
        }
    }
}

/// The bytes of `stream` if they are at most `limit`; `None` as soon as they are more (the
/// rest is never read).
async fn read_capped(
    mut stream: worker::ByteStream,
    limit: usize,
) -> worker::Result<Option<Vec<u8>>> {
    use futures_util::StreamExt;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if bytes.len() + chunk.len() > limit {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes))
}

/// `message` with `url` shown without its query string, which can hold WooCommerce keys (for
/// hosts that drop `Authorization`): a failure's words end up in the sync history.
fn without_query(message: &str, url: &str) -> String {
    match url.split_once('?') {
        Some((bare, _)) => message.replace(url, bare),
        None => message.to_owned(),
    }
}

fn build(request: &HttpRequest) -> worker::Result<Request> {
    let headers = Headers::new();
    for (name, value) in &request.headers {
        headers.set(name, value)?;
    }
    let mut init = RequestInit::new();
    // A redirect is answered as it is, never followed: following it would send the
    // credential's headers to whatever address the storefront named.
    init.with_method(method(request.method))
        .with_headers(headers)
        .with_redirect(RequestRedirect::Manual);
    if let Some(body) = &request.body {
        init.with_body(Some(body.as_str().into()));
    }
    Request::new_with_init(&request.url, &init)
}

fn method(m: Method) -> worker::Method {
    match m {
        Method::Get => worker::Method::Get,
        Method::Post => worker::Method::Post,
        Method::Put => worker::Method::Put,
        Method::Patch => worker::Method::Patch,
    }
}

/// Waits `ms` milliseconds (pacing and rate limits).
pub async fn pause(ms: u64) {
    if ms > 0 {
        Delay::from(Duration::from_millis(ms)).await;
    }
}
