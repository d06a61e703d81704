//! The Runtime Plane's internal HTTP API (service token; `tenant_id` passed explicitly).

mod agents;
mod auth;
#[cfg(feature = "fault-injection")]
pub mod debug;
pub mod events;
pub mod openapi;
mod routes;
pub mod scope;
mod uploads;

use std::sync::Arc;

use axum::routing::{get, patch, post};
use axum::Router;
use secrecy::SecretString;

use crate::http::error::{method_not_allowed, not_found_route};
use crate::runtime::RuntimeClient;

#[derive(Clone)]
pub struct RuntimeApiState {
    pub client: Arc<dyn RuntimeClient>,
    /// A cluster node's own runtime (no forwarding), served under `/node` to the other nodes:
    /// a command forwarded there runs there. `None` for a single node.
    pub node: Option<Arc<dyn RuntimeClient>>,
    pub service_token: Arc<SecretString>,
    /// Actors `POST /api/debug/fault` may crash (feature `fault-injection` only).
    pub faults: crate::actors::FaultTargets,
    /// Turns `true` when the server shuts down (event streams end).
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// The database's state as last probed (reported by `/health` and `/ready`).
    pub db_health: std::sync::Arc<crate::store::health::DbHealth>,
}

/// The path prefix of a cluster node's own routes: a command sent there runs on that node.
pub const NODE_PREFIX: &str = "/node";

/// Builds the runtime API over any runtime client (the in-process one in practice, or a
/// cluster node's routing client, with its own runtime under `/node`).
pub fn router(state: RuntimeApiState) -> Router {
    let mut protected = api(&state);
    if let Some(node) = &state.node {
        let own = RuntimeApiState {
            client: node.clone(),
            node: None,
            ..state.clone()
        };
        protected = protected.nest(NODE_PREFIX, api(&own).with_state(own));
    }
    let router = Router::new()
        .route("/health", get(routes::health))
        .route("/ready", get(routes::health))
        .route("/livez", get(crate::http::probes::livez))
        .route("/readyz", get(routes::health))
        .route("/metrics", get(crate::http::probes::metrics))
        .merge(protected)
        .route_layer(axum::middleware::from_fn_with_state(
            "runtime",
            crate::http::metrics_layer::track,
        ))
        .fallback(not_found_route)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state);
    crate::http::openapi::with_reference(router, openapi::document())
}

/// The service-token routes, over `state`'s client.
fn api(state: &RuntimeApiState) -> Router<RuntimeApiState> {
    let protected = Router::new()
        .route("/api/session/create", post(routes::create_session))
        .route("/api/session/{id}", get(routes::get_session))
        .route("/api/session/{id}/upgrade", patch(routes::upgrade_session))
        .route("/api/intent/submit", post(routes::submit_intent))
        .route("/api/execution/{id}/status", get(routes::execution_status))
        .route("/api/execution/{id}/cancel", post(routes::cancel_execution))
        .route(
            "/api/execution/{id}/approval",
            post(routes::decide_approval),
        )
        .route("/api/executions", get(routes::list_executions))
        .route("/api/sessions", get(routes::list_sessions))
        .route("/api/execution/{id}/retry", post(routes::retry_execution))
        .route(
            "/api/parsed-files/{id}/records",
            get(routes::parsed_records),
        )
        .route("/api/artifacts/{id}", get(routes::get_artifact))
        .route("/api/artifact/resolve", post(routes::resolve_artifact))
        .route("/api/artifact/list", post(routes::list_artifacts))
        .route("/api/artifact/content", post(routes::artifact_content))
        .route("/api/events", get(events::stream_events))
        .route("/api/cluster", get(routes::cluster))
        // For an Experience Plane in another process (the HTTP runtime client).
        .route("/api/session/{id}/last-seq", get(agents::last_seq))
        .route("/api/session/{id}/hook", post(agents::decide_hook))
        .route("/api/agent/message", post(agents::agent_message))
        // The raw body is streamed (no body limit applies to it): `limit` bounds it.
        .route("/api/blobs", post(uploads::put_blob))
        .route("/api/blobs/discard", post(uploads::discard_blob))
        .route("/api/uploads/submit", post(uploads::submit_with_upload));
    #[cfg(feature = "fault-injection")]
    let protected = protected.route("/api/debug/fault", post(debug::inject));
    protected.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        auth::require_service_token,
    ))
}
