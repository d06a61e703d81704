//! The contract's error body: `{success:false, error, message, detail, fields?}` with the
//! matching status. Internal causes are logged, never sent.

use std::collections::BTreeMap;

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: String,
    pub message: String,
    pub fields: Option<BTreeMap<String, String>>,
    /// For 429: when to retry and the headers that say so (boxed: rare, keeps errors small).
    pub retry: Option<Box<Retry>>,
    /// More top-level fields of the body, for clients that read them (`intent_type` of an
    /// unknown intent).
    pub extra: Option<Box<serde_json::Map<String, serde_json::Value>>>,
}

#[derive(Debug)]
pub struct Retry {
    /// Seconds until the client may retry (`retry_after` in the body, `Retry-After`).
    pub after_secs: u64,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            fields: None,
            retry: None,
            extra: None,
        }
    }

    pub fn validation(fields: BTreeMap<String, String>) -> Self {
        let message = match fields.iter().next() {
            Some((f, problem)) if fields.len() == 1 => format!("{f} {problem}"),
            _ => "the request has invalid fields".to_string(),
        };
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "validation_error".into(),
            message,
            fields: Some(fields),
            retry: None,
            extra: None,
        }
    }

    /// Marks a 429: `retry_after` in the body, `Retry-After` and `extra` headers.
    pub fn with_retry(mut self, after_secs: u64, extra: &[(&'static str, String)]) -> Self {
        let mut headers = vec![(header::RETRY_AFTER, HeaderValue::from(after_secs))];
        for (name, value) in extra {
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.push((HeaderName::from_static(name), v));
            }
        }
        self.retry = Some(Box::new(Retry {
            after_secs,
            headers,
        }));
        self
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            &format!("{what}_not_found"),
            format!("{what} not found"),
        )
    }

    /// The request body did not arrive in time (`EdgeLimits`).
    pub fn request_timeout() -> Self {
        Self::new(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            "the request body did not arrive in time",
        )
    }

    /// The answer to a request the database cannot serve now.
    pub fn database_unavailable() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "the database is unavailable; try again shortly",
        )
        .with_retry(1, &[])
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "an internal error occurred",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "success": false,
            "error": self.code,
            "message": self.message,
            "detail": self.message,
        });
        if let Some(fields) = self.fields {
            body["fields"] = json!(fields);
        }
        for (key, value) in self.extra.into_iter().flat_map(|m| *m) {
            body[key] = value;
        }
        if let Some(retry) = &self.retry {
            body["retry_after"] = json!(retry.after_secs);
            // The limit and its window in the body too (`limit`, `window`), as numbers.
            for (name, value) in &retry.headers {
                if let Some(key) = name.as_str().strip_prefix("x-ratelimit-") {
                    let n: Option<u64> = value.to_str().ok().and_then(|v| v.parse().ok());
                    body[key] = json!(n);
                }
            }
        }
        let mut resp = (self.status, Json(body)).into_response();
        if let Some(retry) = self.retry {
            for (name, value) in retry.headers {
                resp.headers_mut().insert(name, value);
            }
        }
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// Fallback for unknown paths.
pub async fn not_found_route() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

/// Fallback for a known path with the wrong method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not accept that method",
    )
}
