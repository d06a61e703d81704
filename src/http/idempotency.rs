//! The `Idempotency-Key` header, for requests that may carry the key there instead of in the
//! body.

use axum::http::HeaderMap;

pub fn idempotency_key(headers: &HeaderMap) -> Option<String> {
    headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}
