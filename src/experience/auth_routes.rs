//! `/api/auth/*` and `/health`.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::auth_user::AuthUser;
use super::client_addr::ClientAddr;
use super::responses::{auth_response, AuthResponse, Me, User};
use super::state::ExperienceState;
use crate::http::{ApiError, ApiJson, OptionalJson};
use crate::runtime::contract::model::CreateSession;
use crate::security::inputs::{DisplayName, Email, Password};
use crate::security::Identity;

/// Liveness: this process answers (200 while it runs), with what it depends on.
#[utoipa::path(
    get, path = "/health", tag = "probes",
    responses((status = 200, description = "This process answers; the body reports the runtime and the database", body = Object))
)]
pub async fn health(State(state): State<ExperienceState>) -> impl IntoResponse {
    let (_, body) = readiness(&state).await;
    Json(body)
}

/// Readiness: 200 only while the runtime answers and the database can be read and written.
#[utoipa::path(
    get, path = "/ready", tag = "probes",
    responses(
        (status = 200, description = "Ready: the runtime answers and the database can be written", body = Object),
        (status = 503, description = "Not ready (`status: not_ready`), with what is missing", body = Object),
    )
)]
pub async fn ready(State(state): State<ExperienceState>) -> impl IntoResponse {
    let (ready, mut body) = readiness(&state).await;
    body["status"] = json!(if ready { "ready" } else { "not_ready" });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

/// `GET /metrics` on the public listener: the process's metrics, for a caller holding the
/// metrics token (`SYMPHAINY_METRICS_TOKEN`; a credential of its own, so a scraper never holds
/// the service token). Without one configured, not served here: the runtime's internal
/// listener serves them.
#[utoipa::path(
    get, path = "/metrics", tag = "probes",
    security(("metrics" = [])),
    responses(
        (status = 200, description = "Prometheus text exposition", content_type = "text/plain", body = String),
        (status = 401, description = "The metrics token is missing or wrong", body = crate::http::openapi::ErrorBody),
        (status = 404, description = "No metrics token is configured (`SYMPHAINY_METRICS_TOKEN`)", body = crate::http::openapi::ErrorBody),
    )
)]
pub async fn metrics(
    State(state): State<ExperienceState>,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    let Some(token) = &state.settings.metrics_token else {
        return ApiError::not_found("route").into_response();
    };
    match crate::http::bearer_secret::check(&headers, token, "metrics token") {
        Ok(()) => crate::http::probes::metrics().await,
        Err(e) => e.into_response(),
    }
}

/// Both answer within a second: the runtime check is bounded, the database's is the last probe.
async fn readiness(state: &ExperienceState) -> (bool, serde_json::Value) {
    let runtime = state.runtime.ready().await;
    let database = state.db_health.state();
    let body = json!({
        "status": "healthy",
        "service": "experience",
        "version": env!("CARGO_PKG_VERSION"),
        "runtime": if runtime { "ok" } else { "unavailable" },
        "database": database.as_str(),
        "database_error": state.db_health.why(),
    });
    (
        runtime && database == crate::store::health::DbState::Up,
        body,
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RegisterBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

#[utoipa::path(
    post, path = "/api/auth/register", tag = "auth", request_body = RegisterBody,
    responses(
        (status = 201, description = "Registered and signed in, with a session", body = super::responses::AuthResponse),
        (status = 409, description = "The email is already registered", body = crate::http::openapi::ErrorBody),
        (status = 429, description = "Too many registrations from this address", body = crate::http::openapi::ErrorBody),
        crate::http::openapi::Refusals,
    )
)]
pub async fn register(
    State(state): State<ExperienceState>,
    addr: ClientAddr,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<impl IntoResponse, ApiError> {
    state.limits.register_by_addr.check(&addr.limit_key())?;
    let mut fields = BTreeMap::new();
    let name = DisplayName::parse(body.name.as_deref().unwrap_or_default())
        .map_err(|e| fields.insert("name".to_string(), e.to_string()))
        .ok();
    let email = Email::parse(body.email.as_deref().unwrap_or_default())
        .map_err(|e| fields.insert("email".to_string(), e.to_string()))
        .ok();
    let password = match body.password.as_deref() {
        None => {
            fields.insert("password".into(), "is required".into());
            None
        }
        Some(p) => Password::parse(p)
            .map_err(|e| fields.insert("password".to_string(), e.to_string()))
            .ok(),
    };
    let (Some(name), Some(email), Some(password)) = (name, email, password) else {
        return Err(ApiError::validation(fields));
    };
    let who = state.guard.register(name, email, password).await?;
    let body = signed_in(&state, &who, "registered").await?;
    Ok((StatusCode::CREATED, Json(body)))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginBody {
    email: String,
    password: String,
}

#[utoipa::path(
    post, path = "/api/auth/login", tag = "auth", request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in, with a new session", body = super::responses::AuthResponse),
        (status = 429, description = "Too many attempts for this address or email", body = crate::http::openapi::ErrorBody),
        crate::http::openapi::Refusals,
    )
)]
pub async fn login(
    State(state): State<ExperienceState>,
    addr: ClientAddr,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<impl IntoResponse, ApiError> {
    let who = check_credentials(&state, &addr, &body.email, &body.password).await?;
    Ok(Json(signed_in(&state, &who, "logged in").await?))
}

/// Login with rate limits per client address and per email.
pub async fn check_credentials(
    state: &ExperienceState,
    addr: &ClientAddr,
    email: &str,
    password: &str,
) -> Result<Identity, ApiError> {
    state.limits.login_by_addr.check(&addr.limit_key())?;
    // Keyed like the account lookup (trimmed, lower-cased), bounded like an email address.
    let key: String = email.trim().to_lowercase().chars().take(254).collect();
    state.limits.login_by_email.check(&key)?;
    Ok(state.guard.login(email, password).await?)
}

/// Issues tokens and opens a session for the user; the AuthResponse body.
async fn signed_in(
    state: &ExperienceState,
    who: &Identity,
    message: &str,
) -> Result<AuthResponse, ApiError> {
    let pair = state.guard.issue_tokens(who).await?;
    let session = state
        .runtime
        .create_session(CreateSession {
            tenant_id: Some(who.tenant_id.clone()),
            user_id: Some(who.user_id.clone()),
            session_id: None,
            metadata: None,
        })
        .await?;
    Ok(auth_response(
        who,
        &pair,
        Some(&session.session_id),
        message,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RefreshBody {
    refresh_token: String,
    #[serde(default)]
    session_id: Option<String>,
}

#[utoipa::path(
    post, path = "/api/auth/refresh", tag = "auth", request_body = RefreshBody,
    responses((status = 200, description = "A new token pair (the refresh token is rotated)", body = super::responses::AuthResponse), crate::http::openapi::Refusals)
)]
pub async fn refresh(
    State(state): State<ExperienceState>,
    ApiJson(body): ApiJson<RefreshBody>,
) -> Result<impl IntoResponse, ApiError> {
    let (who, pair) = state.guard.refresh(&body.refresh_token).await?;
    Ok(Json(auth_response(
        &who,
        &pair,
        body.session_id.as_deref(),
        "tokens refreshed",
    )))
}

#[derive(Default, Deserialize, utoipa::ToSchema)]
pub struct LogoutBody {
    #[serde(default)]
    refresh_token: Option<String>,
}

#[utoipa::path(
    post, path = "/api/auth/logout", tag = "auth", request_body(content = Option<LogoutBody>), security(("bearer" = [])),
    responses((status = 200, description = "Signed out: the refresh token (or all of the user's) revoked", body = Object), crate::http::openapi::Refusals)
)]
pub async fn logout(
    State(state): State<ExperienceState>,
    AuthUser(claims): AuthUser,
    OptionalJson(body): OptionalJson<LogoutBody>,
) -> Result<impl IntoResponse, ApiError> {
    state
        .guard
        .logout(&claims.sub, body.refresh_token.as_deref())
        .await?;
    Ok(Json(json!({"success": true})))
}

#[utoipa::path(
    get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "The signed-in user", body = super::responses::Me), crate::http::openapi::Refusals)
)]
pub async fn me(
    State(state): State<ExperienceState>,
    AuthUser(claims): AuthUser,
) -> Result<impl IntoResponse, ApiError> {
    let who = state.guard.identity(&claims.sub, &claims.tid).await?;
    Ok(Json(Me {
        success: true,
        user: User::of(&who),
    }))
}
