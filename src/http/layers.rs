//! Layers every listener gets: request ids (taken from `x-request-id` or generated, echoed back),
//! a tracing span per request carrying that id, a body size limit, and a panic in a handler
//! answered as a 500 in the contract's shape. Server errors are logged at ERROR, except the
//! expected 503s of a runtime outage (its runtime client logs each outage once).

use super::ApiError;

use axum::extract::DefaultBodyLimit;
use std::time::Duration;

use axum::http::{HeaderName, Request, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::classify::ServerErrorsFailureClass;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A request's id, as `observe` set it (the caller's `x-request-id`, or a new UUID), cut to
/// 200 characters; `None` when the header is absent or not text.
pub fn request_id(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(200).collect())
}

pub fn observe(router: Router, body_limit: usize) -> Router {
    router
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            tracing::error!("a request handler panicked");
            ApiError::internal().into_response()
        }))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let request_id = req
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                let span = tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %request_id);
                // A caller's W3C `traceparent` makes this request's span part of its trace
                // (seen when traces are exported, `OTEL_EXPORTER_OTLP_ENDPOINT`).
                crate::telemetry::logging::continue_trace(&span, req.headers());
                span
            })
            .on_failure(|class: ServerErrorsFailureClass, latency: Duration, _span: &Span| {
                let latency_ms = latency.as_millis();
                match class {
                    ServerErrorsFailureClass::StatusCode(StatusCode::SERVICE_UNAVAILABLE) => {
                        tracing::debug!(latency_ms, "answered 503");
                    }
                    other => tracing::error!(classification = %other, latency_ms, "response failed"),
                }
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}
