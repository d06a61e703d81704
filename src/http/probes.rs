//! `GET /livez`: the process is alive and serving (200 whatever its dependencies' state; an
//! orchestrator restarts it only when this fails). Readiness (`/readyz`) is each plane's own:
//! whether it can do work now.

use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

pub async fn livez() -> impl IntoResponse {
    Json(json!({"status": "alive", "version": env!("CARGO_PKG_VERSION")}))
}
