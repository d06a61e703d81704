//! Service-token authentication for the internal API (constant-time comparison).

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::RuntimeApiState;
use crate::http::ApiError;

pub async fn require_service_token(
    State(state): State<RuntimeApiState>,
    req: Request,
    next: Next,
) -> Response {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    match presented {
        None => ApiError::unauthorized("a service token is required").into_response(),
        Some(token)
            if bool::from(
                token
                    .as_bytes()
                    .ct_eq(state.service_token.expose_secret().as_bytes()),
            ) =>
        {
            next.run(req).await
        }
        Some(_) => ApiError::unauthorized("the service token is invalid").into_response(),
    }
}
