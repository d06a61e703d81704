//! A shared secret as a bearer credential (the service token of the internal API; the metrics
//! token of the Experience Plane's `/metrics`), compared in constant time.

use axum::http::{header, HeaderMap};
use secrecy::{ExposeSecret, SecretString};
use subtle::ConstantTimeEq;

use super::ApiError;

/// Ok when the request carries `Authorization: Bearer <expected>`; `what` names the secret in
/// the refusal (`service token`, `metrics token`).
pub fn check(headers: &HeaderMap, expected: &SecretString, what: &str) -> Result<(), ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    match presented {
        None => Err(ApiError::unauthorized(&format!("a {what} is required"))),
        Some(token) if bool::from(token.as_bytes().ct_eq(expected.expose_secret().as_bytes())) => {
            Ok(())
        }
        Some(_) => Err(ApiError::unauthorized(&format!("the {what} is invalid"))),
    }
}
