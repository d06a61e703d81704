//! What the agent WebSocket needs of the runtime, for an Experience Plane in another process:
//! `POST /api/agent/message` (a chat turn), `POST /api/session/{id}/hook` (a safety answer by
//! hook id), `GET /api/session/{id}/last-seq`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::scope::CallerScope;
use super::RuntimeApiState;
use crate::http::queries::TenantQuery;
use crate::http::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::runtime::contract::model::{AgentMessage, ApprovalDecision};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AgentBody {
    #[serde(flatten)]
    pub message: AgentMessage,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

#[utoipa::path(
    post, path = "/api/agent/message", tag = "agents", request_body = AgentBody, security(("service_token" = [])),
    responses((status = 202, description = "The turn is queued; its tokens and reply come as the session's events", body = crate::runtime::contract::model::AgentAccepted), crate::http::openapi::Refusals)
)]
pub async fn agent_message(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiJson(body): ApiJson<AgentBody>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = scope.or_tenant(body.tenant_id);
    let accepted = state.client.agent_message(&scope, body.message).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct HookBody {
    #[serde(flatten)]
    pub decision: ApprovalDecision,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

#[utoipa::path(
    post, path = "/api/session/{id}/hook", tag = "agents", request_body = HookBody, security(("service_token" = [])),
    params(("id" = String, Path, description = "The session's id")),
    responses((status = 200, description = "A safety hook answered (`execution_id`)", body = Object), crate::http::openapi::Refusals)
)]
pub async fn decide_hook(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiPath(session_id): ApiPath<String>,
    ApiJson(body): ApiJson<HookBody>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = scope.or_tenant(body.tenant_id);
    let execution_id = state
        .client
        .decide_hook(&scope, &session_id, body.decision)
        .await?;
    Ok(Json(json!({"success": true, "execution_id": execution_id})))
}

#[utoipa::path(
    get, path = "/api/session/{id}/last-seq", tag = "agents", security(("service_token" = [])),
    params(("id" = String, Path, description = "The session's id"), TenantQuery),
    responses((status = 200, description = "The session's newest event's `seq` (`last_seq`)", body = Object), crate::http::openapi::Refusals)
)]
pub async fn last_seq(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiPath(session_id): ApiPath<String>,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = scope.or_tenant(q.tenant_id);
    let seq = state.client.last_seq(&scope, &session_id).await?;
    Ok(Json(json!({"session_id": session_id, "last_seq": seq})))
}
