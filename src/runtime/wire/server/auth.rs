//! Service-token authentication for the internal API (constant-time comparison).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::RuntimeApiState;

pub async fn require_service_token(
    State(state): State<RuntimeApiState>,
    req: Request,
    next: Next,
) -> Response {
    match crate::http::service_token::check(req.headers(), &state.service_token) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}
