//! One HTTP request to the worker through the browser's `fetch`: the little of an HTTP client
//! the app needs (same origin, text in and out), without a client library's code in the SPA.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A request being put together.
pub struct Request {
    method: &'static str,
    url: String,
    headers: Vec<(&'static str, &'static str)>,
    body: Option<String>,
}

/// What the worker answered: the status and the body's text.
pub struct Answer {
    pub status: u16,
    pub text: String,
}

impl Answer {
    /// A 2xx status.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl Request {
    fn new(method: &'static str, url: &str) -> Self {
        Self {
            method,
            url: url.to_owned(),
            headers: Vec::new(),
            body: None,
        }
    }

    pub fn get(url: &str) -> Self {
        Self::new("GET", url)
    }

    pub fn post(url: &str) -> Self {
        Self::new("POST", url)
    }

    pub fn put(url: &str) -> Self {
        Self::new("PUT", url)
    }

    pub fn patch(url: &str) -> Self {
        Self::new("PATCH", url)
    }

    pub fn delete(url: &str) -> Self {
        Self::new("DELETE", url)
    }

    pub fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn body(mut self, text: String) -> Self {
        self.body = Some(text);
        self
    }

    /// Sends it (with the session cookie: same origin) and reads the whole answer.
    ///
    /// The error is the browser's own words for why nothing came back (offline, refused).
    pub async fn send(self) -> Result<Answer, String> {
        let init = web_sys::RequestInit::new();
        init.set_method(self.method);
        let headers = web_sys::Headers::new().map_err(said)?;
        for (name, value) in self.headers {
            headers.set(name, value).map_err(said)?;
        }
        init.set_headers(&headers);
        if let Some(body) = self.body {
            init.set_body(&JsValue::from_str(&body));
        }
        let fetching = web_sys::window()
            .ok_or("no window")?
            .fetch_with_str_and_init(&self.url, &init);
        let response: web_sys::Response = JsFuture::from(fetching)
            .await
            .map_err(said)?
            .unchecked_into();
        let text = JsFuture::from(response.text().map_err(said)?)
            .await
            .map_err(said)?
            .as_string()
            .unwrap_or_default();
        Ok(Answer {
            status: response.status(),
            text,
        })
    }
}

/// A JavaScript error as the browser words it, e.g. "TypeError: Failed to fetch".
fn said(error: JsValue) -> String {
    match error.dyn_ref::<js_sys::Error>() {
        Some(e) => String::from(e.to_string()),
        None => error
            .as_string()
            .unwrap_or_else(|| "unknown error".to_owned()),
    }
}
