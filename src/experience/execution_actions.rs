//! Acting on an execution from the public API: cancel it, retry it, answer the approval it
//! waits on. With a token, the token's tenant's executions; without one, only executions of an
//! anonymous session (the agent socket's rule: a user's work needs the user's token).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::access::{bare_execution, token_scope};
use super::auth_user::MaybeUser;
use super::errors::token_required;
use super::state::ExperienceState;
use crate::http::{ApiError, ApiJson, ApiPath};
use crate::runtime::contract::model::{ApprovalDecision, Scope};
use crate::security::tokens::Claims;

/// The scope to change `execution_id` in.
async fn change_scope(
    state: &ExperienceState,
    user: &Option<Claims>,
    execution_id: &str,
) -> Result<Scope, ApiError> {
    if let Some(claims) = user {
        return token_scope(claims, None, "execution");
    }
    let (tenant, session) = bare_execution(state, execution_id).await?;
    if session.superseded_by.is_some() {
        return Err(ApiError::not_found("execution"));
    }
    if session.user_id.is_some() || tenant.is_some() {
        return Err(token_required());
    }
    Ok(Scope::Any)
}

#[utoipa::path(
    post, path = "/api/execution/{id}/cancel", tag = "executions", operation_id = "cancel_execution",
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "The execution's id")),
    responses(
        (status = 202, description = "Cancellation requested: completed steps are compensated, newest first", body = Object),
        (status = 409, description = "Already finished", body = crate::http::openapi::ErrorBody),
        crate::http::openapi::Refusals,
    )
)]
pub async fn cancel(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    ApiPath(id): ApiPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = change_scope(&state, &user, &id).await?;
    state.runtime.cancel_execution(&scope, &id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"success": true, "execution_id": id, "status": "cancelling"})),
    ))
}

#[utoipa::path(
    post, path = "/api/execution/{id}/retry", tag = "executions", operation_id = "retry_execution",
    security((), ("bearer" = [])),
    params(("id" = String, Path, description = "The finished execution to run again")),
    responses(
        (status = 202, description = "A new execution of the same intent, linked to the first (`retry_of`)", body = crate::runtime::contract::model::IntentAccepted),
        (status = 409, description = "Not finished yet", body = crate::http::openapi::ErrorBody),
        crate::http::openapi::Refusals,
    )
)]
pub async fn retry(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = change_scope(&state, &user, &id).await?;
    let request_id = crate::http::layers::request_id(&headers);
    let accepted = state
        .runtime
        .retry_execution(&scope, &id, request_id)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// An answer to the approval an execution waits on.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    /// The hook's id (`hook.hook_id` of the execution's status).
    pub hook_id: String,
    pub approved: bool,
    /// Why, when refusing.
    #[serde(default)]
    pub reason: Option<String>,
}

#[utoipa::path(
    post, path = "/api/execution/{id}/approval", tag = "executions", operation_id = "decide_approval",
    request_body = Decision, security((), ("bearer" = [])),
    params(("id" = String, Path, description = "The execution awaiting approval")),
    responses(
        (status = 200, description = "Decided: approved, it runs on; refused, it ends `cancelled` with the reason as its error (`SAFETY_HALTED`, then `EXECUTION_CANCELLED`)", body = Object),
        (status = 409, description = "Not awaiting that approval", body = crate::http::openapi::ErrorBody),
        crate::http::openapi::Refusals,
    )
)]
pub async fn approval(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Decision>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = change_scope(&state, &user, &id).await?;
    let decision = ApprovalDecision {
        hook_id: body.hook_id,
        approved: body.approved,
        reason: body.reason,
    };
    state.runtime.decide_approval(&scope, &id, decision).await?;
    Ok(Json(json!({"success": true, "execution_id": id})))
}
