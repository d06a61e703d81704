//! Refuses work at once while the database cannot do it (see `store::health`): every request
//! but the health checks while it cannot be read, and every request that may write (all but
//! GET, HEAD and OPTIONS) while it cannot be written. 503 `database_unavailable`, with
//! `Retry-After`, instead of a request that waits on a pool for seconds and then fails.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::error::ApiError;
use crate::store::health::{DbHealth, DbState};

/// Paths that answer whatever the database's state (they report it; the API's document and
/// reference do not touch it either).
const ALWAYS: [&str; 5] = ["/health", "/ready", "/livez", "/readyz", "/metrics"];

pub fn database_gate(router: Router, health: Arc<DbHealth>) -> Router {
    router.layer(middleware::from_fn_with_state(health, gate))
}

async fn gate(State(health): State<Arc<DbHealth>>, req: Request, next: Next) -> Response {
    let refused = match health.state() {
        DbState::Up => false,
        DbState::ReadOnly => !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS),
        DbState::Down => true,
    };
    let path = req.uri().path();
    // The API's document and the console's files are the binary's own: they need no database.
    let always = ALWAYS.contains(&path)
        || super::openapi::is_reference(path)
        || path == "/console"
        || path.starts_with("/console/");
    if refused && !always && req.method() != Method::OPTIONS {
        return ApiError::database_unavailable().into_response();
    }
    next.run(req).await
}
