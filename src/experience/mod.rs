//! The Experience Plane: the public REST and WebSocket surface the frontend talks to. It reaches
//! the runtime only through `RuntimeClient`, and owns delivery concerns: auth, rate limits, CORS.

pub mod access;
pub mod agent_ws;
pub mod artifact_routes;
pub mod auth_routes;
pub mod auth_user;
pub mod client_addr;
pub mod console;
pub mod download_routes;
pub mod errors;
pub mod execution_actions;
pub mod execution_stream;
pub mod intent_routes;
pub mod listing_routes;
pub mod mash_routes;
pub mod openapi;
pub mod plane;
pub mod rate_limit;
pub mod responses;
pub mod session_routes;
pub mod settings;
mod silent_ws;
pub mod state;
pub mod upload;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::routing::{get, patch, post};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::http::error::{method_not_allowed, not_found_route};
pub use state::ExperienceState;

pub fn router(state: ExperienceState) -> Router {
    let cors = cors_layer(&state.settings.cors_origins);
    let router = Router::new()
        .route("/health", get(auth_routes::health))
        .route("/ready", get(auth_routes::ready))
        .route("/readyz", get(auth_routes::ready))
        .route("/livez", get(crate::http::probes::livez))
        .route("/metrics", get(auth_routes::metrics))
        .route("/api/auth/register", post(auth_routes::register))
        .route("/api/auth/login", post(auth_routes::login))
        .route("/api/auth/refresh", post(auth_routes::refresh))
        .route("/api/auth/logout", post(auth_routes::logout))
        .route("/api/auth/me", get(auth_routes::me))
        .route(
            "/api/session/create-anonymous",
            post(session_routes::create_anonymous),
        )
        .route("/api/session/create", post(session_routes::create))
        .route("/api/session/{id}", get(session_routes::get))
        .route("/api/session/{id}/upgrade", patch(session_routes::upgrade))
        // Inline files (hex or base64, as the web frontend uploads) make large bodies: a limit
        // of their own, and a few at a time.
        .route(
            "/api/intent/submit",
            post(intent_routes::submit)
                .layer(DefaultBodyLimit::max(state.settings.submit_body_limit()))
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    intent_routes::large_submits_in_turn,
                )),
        )
        .route(
            "/api/execution/{id}/status",
            get(intent_routes::execution_status),
        )
        .route(
            "/api/execution/{id}/stream",
            get(execution_stream::stream_status),
        )
        .route(
            "/api/execution/{id}/cancel",
            post(execution_actions::cancel),
        )
        .route("/api/execution/{id}/retry", post(execution_actions::retry))
        .route(
            "/api/execution/{id}/approval",
            post(execution_actions::approval),
        )
        .route("/console", get(console::page))
        .route("/console/", get(console::page))
        .route("/console/{file}", get(console::asset))
        .route("/console/views/{file}", get(console::view_asset))
        .route("/api/runtime/agent", get(agent_ws::agent_socket))
        .route("/ws", get(silent_ws::silent_socket))
        .route("/api/artifact/resolve", post(artifact_routes::resolve))
        .route("/api/artifact/list", post(artifact_routes::list))
        .route("/api/executions", get(listing_routes::executions))
        .route("/api/artifacts/{id}", get(artifact_routes::get_artifact))
        .route(
            "/api/parsed-files/{id}/records",
            get(artifact_routes::parsed_records),
        )
        .route("/api/sessions", get(listing_routes::sessions))
        .route("/api/download/{token}", get(download_routes::download))
        // Uploads enforce their own (larger) limit while streaming.
        .route(
            "/api/v1/content/upload",
            post(upload::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/v1/content/upload",
            post(upload::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/content/data-mash/create",
            post(mash_routes::create),
        )
        .route("/v1/content/data-mash/create", post(mash_routes::create))
        .route_layer(axum::middleware::from_fn_with_state(
            "experience",
            crate::http::metrics_layer::track,
        ))
        .fallback(not_found_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth_user::refuse_bad_authorization,
        ))
        .with_state(state.clone());
    let router = crate::http::openapi::with_reference(router, openapi::document());
    // Inside CORS: a refusal while the database is down still carries the CORS headers a
    // browser needs to read it (and preflights are answered by the CORS layer itself).
    let router = crate::http::db_gate::database_gate(router, state.db_health.clone());
    match cors {
        Some(c) => router.layer(c),
        None => router,
    }
}

fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok())
                .collect::<Vec<_>>(),
        )
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::OPTIONS])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("idempotency-key"),
                HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([
                header::RETRY_AFTER,
                HeaderName::from_static("x-request-id"),
                HeaderName::from_static("x-ratelimit-limit"),
                HeaderName::from_static("x-ratelimit-window"),
            ]),
    )
}
