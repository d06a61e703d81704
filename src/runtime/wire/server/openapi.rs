//! The Runtime API's OpenAPI document, generated from its handlers and the contract's types.

use utoipa::OpenApi;

use super::{agents, events, routes, uploads};
use crate::http::openapi::{add_bearer, alias, ErrorBody};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Symphainy Runtime API",
        description = "The Runtime Plane's internal API: sessions, intents, executions, \
            artifacts, agent turns and the session event stream. Every `/api` route needs the \
            service token; `tenant_id` limits a call to one tenant's ids."
    ),
    paths(
        routes::health,
        crate::http::probes::livez,
        crate::http::probes::metrics,
        routes::create_session,
        routes::get_session,
        routes::upgrade_session,
        routes::submit_intent,
        routes::execution_status,
        routes::cancel_execution,
        routes::decide_approval,
        routes::list_executions,
        routes::list_sessions,
        routes::retry_execution,
        routes::parsed_records,
        routes::get_artifact,
        routes::resolve_artifact,
        routes::list_artifacts,
        routes::artifact_content,
        events::stream_events,
        routes::cluster,
        agents::last_seq,
        agents::decide_hook,
        agents::agent_message,
        uploads::put_blob,
        uploads::discard_blob,
        uploads::submit_with_upload,
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "probes", description = "Liveness, readiness and metrics (no token)"),
        (name = "sessions"),
        (name = "intents"),
        (name = "executions", description = "Status, lists, cancel, approval, retry"),
        (name = "artifacts"),
        (name = "events", description = "A session's event log as server-sent events"),
        (name = "agents", description = "Agent turns and safety hooks"),
        (name = "files", description = "Blobs and the intents that consume them"),
        (name = "cluster", description = "Runtime nodes and partition leases (PostgreSQL)"),
    )
)]
struct RuntimeApi;

#[cfg(feature = "fault-injection")]
#[derive(OpenApi)]
#[openapi(paths(super::debug::inject), tags((name = "debug")))]
struct DebugApi;

/// The document `/openapi.json` serves on the Runtime API.
pub fn document() -> utoipa::openapi::OpenApi {
    #[allow(unused_mut)]
    let mut doc = RuntimeApi::openapi();
    #[cfg(feature = "fault-injection")]
    doc.merge(DebugApi::openapi());
    alias(&mut doc, "/health", "/ready", "ready");
    alias(&mut doc, "/health", "/readyz", "readyz");
    add_bearer(
        &mut doc,
        "service_token",
        "The service token (`SYMPHAINY_SERVICE_TOKEN`)",
    );
    doc
}
