//! What orchestrators and scrapers ask every plane: `GET /livez` (the process is alive and
//! serving: 200 whatever its dependencies' state; an orchestrator restarts it only when this
//! fails) and `GET /metrics` (the process's Prometheus registry). Readiness (`/readyz`) is each
//! plane's own: whether it can do work now.

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::ApiError;

#[utoipa::path(
    get, path = "/livez", tag = "probes",
    responses((status = 200, description = "The process is alive (`status: alive`, `version`)", body = Object))
)]
pub async fn livez() -> impl IntoResponse {
    Json(json!({"status": "alive", "version": env!("CARGO_PKG_VERSION")}))
}

/// `GET /metrics`: the Prometheus text exposition.
#[utoipa::path(
    get, path = "/metrics", tag = "probes",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String))
)]
pub async fn metrics() -> axum::response::Response {
    match crate::telemetry::metrics::install() {
        Some(h) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            h.render(),
        )
            .into_response(),
        None => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics_unavailable",
            "metrics are not recorded by this process",
        )
        .into_response(),
    }
}
