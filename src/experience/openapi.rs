//! The Experience Plane's OpenAPI document, generated from its handlers and their types.

use utoipa::OpenApi;

use super::{
    agent_ws, artifact_routes, auth_routes, console, download_routes, execution_actions,
    execution_stream, intent_routes, listing_routes, mash_routes, session_routes, silent_ws,
    upload,
};
use crate::http::openapi::{add_bearer, alias, ErrorBody};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Symphainy Experience API",
        description = "The public API the web frontend uses: sign-up and login, sessions, \
            intents and their executions, artifacts, uploads, downloads, and the agent \
            WebSocket. A signed-in caller sends its access token as a bearer token and sees \
            its tenant's ids; an anonymous caller holds a session's id as its capability."
    ),
    paths(
        auth_routes::health,
        auth_routes::ready,
        crate::http::probes::livez,
        auth_routes::metrics,
        auth_routes::register,
        auth_routes::login,
        auth_routes::refresh,
        auth_routes::logout,
        auth_routes::me,
        session_routes::create_anonymous,
        session_routes::create,
        session_routes::get,
        session_routes::upgrade,
        intent_routes::submit,
        intent_routes::execution_status,
        execution_stream::stream_status,
        execution_actions::cancel,
        execution_actions::retry,
        execution_actions::approval,
        console::page,
        console::asset,
        console::view_asset,
        agent_ws::agent_socket,
        silent_ws::silent_socket,
        artifact_routes::resolve,
        artifact_routes::list,
        listing_routes::executions,
        artifact_routes::get_artifact,
        artifact_routes::parsed_records,
        listing_routes::sessions,
        download_routes::download,
        upload::upload,
        mash_routes::create,
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "probes", description = "Liveness, readiness and metrics"),
        (name = "auth", description = "Accounts and tokens"),
        (name = "sessions"),
        (name = "intents"),
        (name = "executions", description = "Status, live status and lists"),
        (name = "artifacts", description = "Artifacts, parsed records and export downloads"),
        (name = "files", description = "Uploads and data mashes"),
        (name = "agents", description = "The agent WebSocket"),
        (name = "console", description = "The web console (`/console`)"),
    )
)]
struct ExperienceApi;

/// The document `/openapi.json` serves on the Experience Plane.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ExperienceApi::openapi();
    alias(&mut doc, "/ready", "/readyz", "readyz");
    alias(&mut doc, "/console", "/console/", "slash");
    alias(
        &mut doc,
        "/api/v1/content/upload",
        "/v1/content/upload",
        "v1",
    );
    alias(
        &mut doc,
        "/api/v1/content/data-mash/create",
        "/v1/content/data-mash/create",
        "v1",
    );
    add_bearer(&mut doc, "bearer", "An access token from `/api/auth/login`");
    add_bearer(
        &mut doc,
        "metrics",
        "The metrics token (`SYMPHAINY_METRICS_TOKEN`)",
    );
    doc
}
