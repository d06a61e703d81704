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
    match crate::http::bearer_secret::check(req.headers(), &state.service_token, "service token") {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}
