//! Every way a request can fail, and the one place that turns each into an HTTP answer.
//!
//! Messages are written for the seller (or the developer of an integration) and name the field
//! at fault. Internal failures are logged in full and answered with a generic message: binding
//! errors can carry SQL, which is never echoed.

use tally_domain::api::{ErrorBody, ErrorDetail, FieldError};
use worker::Response;

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not the JSON we expect (syntax, wrong type, unknown field).
    #[error("{message}")]
    MalformedBody {
        message: String,
        field: Option<String>,
    },
    /// 422: the JSON is well formed but a value breaks a rule.
    #[error("{}", .0.message)]
    InvalidField(FieldError),
    /// 401: no session or API key.
    #[error("sign in first (or send an API key as `Authorization: Bearer tally_…`)")]
    Unauthenticated,
    /// 401: an API key that does not exist or was revoked.
    #[error("this API key is not valid: it may have been revoked. Create a new one in Settings > API keys")]
    BadApiKey,
    /// 401: the email and password do not match an account.
    #[error("the email or password is wrong")]
    BadCredentials,
    /// 401: a webhook delivery that was not signed with its connection's secret.
    #[error("this delivery was refused: {0}")]
    BadSignature(tally_domain::webhook::SignatureError),
    /// 403: allowed for nobody in this situation (CSRF) or not on this plan.
    #[error("{0}")]
    Forbidden(String),
    /// 403: the account is at its plan's limit for this kind of thing.
    #[error("{0}")]
    OverLimit(tally_domain::quota::OverLimit),
    /// 409: the change conflicts with what exists (a taken email, a duplicate SKU).
    #[error("{}", .0.message)]
    Conflict(FieldError),
    /// 422: an inventory file with bad rows; every error is in the body.
    #[error("the file has {} problem(s); nothing was changed. Fix the rows listed and upload it again", .0.total)]
    BadFile(tally_domain::csv_import::FileErrors),
    /// 415: an upload that is not CSV.
    #[error("send the inventory file as CSV with `Content-Type: text/csv`")]
    NotCsv,
    /// 409: the action needs an explicit confirmation (the upload wipe guard).
    #[error("{0}")]
    NeedsConfirmation(String),
    /// 404: no such thing in the caller's account (another account's ids answer the same).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 404: some of the ids a bulk request named are not the caller's products.
    #[error("{0}")]
    NotFoundIds(String),
    /// 404: no endpoint at this method and path.
    #[error("no endpoint {method} {path}; see /api/v1/openapi.json")]
    NoSuchEndpoint { method: String, path: String },
    /// 413: the body is over the limit for this endpoint.
    #[error("the request body is over the {limit_bytes}-byte limit for this endpoint")]
    TooLarge { limit_bytes: usize },
    /// 415: the body is not JSON.
    #[error("send the body as JSON with `Content-Type: application/json`")]
    NotJson,
    /// 429: too many sign-in or sign-up attempts; try again after the wait.
    #[error("too many attempts: try again {}", .0.in_words())]
    TooManyAttempts(tally_domain::throttle::Wait),
    /// 503: too much contention on one product; nothing was applied and a retry will succeed.
    #[error("{0}")]
    Busy(String),
    /// 500: a binding failed. Logged; the caller sees a generic message.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    fn status(&self) -> u16 {
        match self {
            ApiError::MalformedBody { .. } => 400,
            ApiError::InvalidField(_) | ApiError::BadFile(_) => 422,
            ApiError::NotCsv => 415,
            ApiError::NeedsConfirmation(_) => 409,
            ApiError::Unauthenticated
            | ApiError::BadApiKey
            | ApiError::BadCredentials
            | ApiError::BadSignature(_) => 401,
            ApiError::Forbidden(_) | ApiError::OverLimit(_) => 403,
            ApiError::Conflict(_) => 409,
            ApiError::NotFound(_) | ApiError::NotFoundIds(_) | ApiError::NoSuchEndpoint { .. } => {
                404
            }
            ApiError::TooLarge { .. } => 413,
            ApiError::NotJson => 415,
            ApiError::TooManyAttempts(_) => 429,
            ApiError::Busy(_) => 503,
            ApiError::Internal(_) => 500,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::MalformedBody { .. } => "malformed_body",
            ApiError::InvalidField(_) => "invalid_field",
            ApiError::BadFile(_) => "bad_file",
            ApiError::NotCsv => "not_csv",
            ApiError::NeedsConfirmation(_) => "needs_confirmation",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::BadApiKey => "bad_api_key",
            ApiError::BadCredentials => "bad_credentials",
            ApiError::BadSignature(_) => "bad_signature",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::OverLimit(_) => "plan_limit",
            ApiError::Conflict(_) => "conflict",
            ApiError::NotFound(_) | ApiError::NotFoundIds(_) => "not_found",
            ApiError::NoSuchEndpoint { .. } => "no_such_endpoint",
            ApiError::TooLarge { .. } => "body_too_large",
            ApiError::NotJson => "not_json",
            ApiError::TooManyAttempts(_) => "too_many_attempts",
            ApiError::Busy(_) => "busy",
            ApiError::Internal(_) => "internal",
        }
    }

    fn field(&self) -> Option<String> {
        match self {
            ApiError::MalformedBody { field, .. } => field.clone(),
            ApiError::InvalidField(e) | ApiError::Conflict(e) => Some(e.field.clone()),
            ApiError::NotFoundIds(_) => Some("ids".to_owned()),
            ApiError::BadSignature(e) => Some(e.header().to_owned()),
            ApiError::BadFile(f) => f
                .errors
                .first()
                .map(|e| format!("row {} {}", e.row, e.column).trim().to_owned()),
            _ => None,
        }
    }

    /// The HTTP response for this error.
    pub fn into_response(self) -> Response {
        let message = match &self {
            ApiError::Internal(detail) => {
                worker::console_error!("internal error: {detail}");
                "Something went wrong on our side and nothing was changed. Try again in a moment."
                    .to_owned()
            }
            other => other.to_string(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
                field: self.field(),
                rows: match &self {
                    ApiError::BadFile(f) => Some(f.errors.clone()),
                    _ => None,
                },
            },
        };
        let mut response = crate::request::json_response(&body, self.status());
        if let ApiError::TooManyAttempts(wait) = &self {
            let _ = response
                .headers_mut()
                .set("retry-after", &wait.retry_after_s.to_string());
        }
        response
    }
}

impl From<worker::Error> for ApiError {
    fn from(e: worker::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<worker::KvError> for ApiError {
    fn from(e: worker::KvError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::InvalidField(e)
    }
}
