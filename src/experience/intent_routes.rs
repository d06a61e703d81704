//! `POST /api/intent/submit` and `GET /api/execution/{id}/status`.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;

use super::access::{execution_scope, session_scope};
use super::auth_user::MaybeUser;
use super::state::ExperienceState;
use crate::http::idempotency::idempotency_key;
use crate::http::queries::StatusQuery;
use crate::http::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::runtime::contract::model::{IntentRequest, StatusOptions};
use crate::runtime::RuntimeError;

pub async fn submit(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    ApiJson(mut req): ApiJson<IntentRequest>,
) -> Result<impl IntoResponse, ApiError> {
    if req.session_id.is_empty() {
        return Err(RuntimeError::invalid("session_id", "is required").into());
    }
    if req.idempotency_key.is_none() {
        req.idempotency_key = idempotency_key(&headers);
    }
    let scope = session_scope(&state, &user, &req.session_id, req.tenant_id.as_deref()).await?;
    let accepted = state.runtime.submit_intent(&scope, req).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

pub async fn execution_status(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = execution_scope(&state, &user, &id, q.tenant_id.as_deref()).await?;
    let opts = StatusOptions {
        include_artifacts: q.include_artifacts.unwrap_or(true),
        include_events: q.include_events.unwrap_or(true),
    };
    Ok(Json(
        state.runtime.execution_status(&scope, &id, opts).await?,
    ))
}
