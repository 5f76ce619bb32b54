//! Making a connector's requests: the only place the worker talks to storefronts.

use std::time::Duration;
use tally_domain::connector::{HttpRequest, HttpResponse, Method};
use worker::{AbortController, Delay, Fetch, Headers, Request, RequestInit};

/// Makes `request`; `Err` carries a message for a timeout or a failed connection.
pub async fn send(request: &HttpRequest, timeout_ms: u64) -> Result<HttpResponse, String> {
    let fetch = build(request).map_err(|e| format!("could not build the request: {e}"))?;
    let controller = AbortController::default();
    let signal = controller.signal();
    let call = Box::pin(async move { Fetch::Request(fetch).send_with_signal(&signal).await });
    let timer = Box::pin(Delay::from(Duration::from_millis(timeout_ms)));
    match futures_util::future::select(call, timer).await {
        futures_util::future::Either::Left((Ok(mut response), _)) => {
            let headers = response
                .headers()
                .entries()
                .map(|(name, value)| (name.to_ascii_lowercase(), value))
                .collect();
            let body = response.text().await.unwrap_or_default();
            Ok(HttpResponse {
                status: response.status_code(),
                headers,
                body,
            })
        }
        futures_util::future::Either::Left((Err(e), _)) => Err(format!("connection failed: {e}")),
        futures_util::future::Either::Right(_) => {
            controller.abort();
            Err(format!(
                "no answer within {:.1} s",
                timeout_ms as f64 / 1000.0
            ))
        }
    }
}

fn build(request: &HttpRequest) -> worker::Result<Request> {
    let headers = Headers::new();
    for (name, value) in &request.headers {
        headers.set(name, value)?;
    }
    let mut init = RequestInit::new();
    init.with_method(method(request.method))
        .with_headers(headers);
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
