//! Counts and times each HTTP request by the route pattern it matched (`/api/execution/{id}/
//! status`, never the ids themselves, so the label set stays small), its method and status.
//! Applied as a route layer: unmatched paths (404s of the fallback) are not counted by route.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::telemetry::names;

pub async fn track(State(plane): State<&'static str>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(names::HTTP_REQUESTS, "plane" => plane, "route" => route.clone(),
        "method" => method, "status" => status)
    .increment(1);
    metrics::histogram!(names::HTTP_SECONDS, "plane" => plane, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
