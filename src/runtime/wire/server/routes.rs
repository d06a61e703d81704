//! Handlers of the runtime API: parse, call the runtime client, answer in the contract's shapes.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use super::scope::CallerScope;
use super::RuntimeApiState;
use crate::http::idempotency::idempotency_key;
use crate::http::queries::{StatusQuery, TenantQuery};
use crate::http::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::runtime::contract::listing::{ExecutionQuery, RecordQuery, SessionQuery};
use crate::runtime::contract::model::{
    ApprovalDecision, ArtifactListRequest, CreateSession, IntentRequest, StatusOptions,
    UpgradeSession,
};

pub async fn health(State(state): State<RuntimeApiState>) -> impl IntoResponse {
    // Answers at once: the database's state is the watcher's last probe, not a query now.
    let ready = state.client.ready().await;
    let body = json!({
        "status": if ready { "healthy" } else { "unhealthy" },
        "service": "runtime",
        "version": env!("CARGO_PKG_VERSION"),
        "database": state.db_health.state().as_str(),
        "database_error": state.db_health.why(),
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body))
}

pub async fn create_session(
    State(state): State<RuntimeApiState>,
    ApiJson(req): ApiJson<CreateSession>,
) -> Result<impl IntoResponse, ApiError> {
    let session = state.client.create_session(req).await?;
    // The whole Session: the contract's SessionCreated fields and the rest, so a runtime
    // client in another process needs no second request.
    Ok((StatusCode::CREATED, Json(session)))
}

pub async fn get_session(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let session = state
        .client
        .get_session(&scope.or_tenant(q.tenant_id), &id)
        .await?;
    Ok(Json(session))
}

pub async fn upgrade_session(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<TenantQuery>,
    ApiJson(req): ApiJson<UpgradeSession>,
) -> Result<impl IntoResponse, ApiError> {
    let session = state
        .client
        .upgrade_session(&scope.or_tenant(q.tenant_id), &id, req)
        .await?;
    Ok(Json(session))
}

pub async fn submit_intent(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    headers: HeaderMap,
    ApiJson(mut req): ApiJson<IntentRequest>,
) -> Result<impl IntoResponse, ApiError> {
    if req.idempotency_key.is_none() {
        req.idempotency_key = idempotency_key(&headers);
    }
    // The Experience Plane sends its request's id in the body; a direct caller's is this
    // request's own.
    if req.request_id.is_none() {
        req.request_id = crate::http::layers::request_id(&headers);
    }
    if req.traceparent.is_none() {
        req.traceparent = crate::telemetry::logging::current_traceparent();
    }
    let scope = scope.or_tenant(req.tenant_id.clone());
    let accepted = state.client.submit_intent(&scope, req).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

pub async fn execution_status(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let opts = StatusOptions {
        include_artifacts: q.include_artifacts.unwrap_or(true),
        include_events: q.include_events.unwrap_or(true),
    };
    let status = state
        .client
        .execution_status(&scope.or_tenant(q.tenant_id), &id, opts)
        .await?;
    Ok(Json(status))
}

pub async fn cancel_execution(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> Result<impl IntoResponse, ApiError> {
    state
        .client
        .cancel_execution(&scope.or_tenant(q.tenant_id), &id)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"success": true, "execution_id": id, "status": "cancelling"})),
    ))
}

#[derive(Debug, Deserialize)]
pub struct ApprovalBody {
    pub hook_id: String,
    pub approved: bool,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

pub async fn decide_approval(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ApprovalBody>,
) -> Result<impl IntoResponse, ApiError> {
    let decision = ApprovalDecision {
        hook_id: body.hook_id,
        approved: body.approved,
        reason: body.reason,
    };
    state
        .client
        .decide_approval(&scope.or_tenant(body.tenant_id), &id, decision)
        .await?;
    Ok(Json(json!({"success": true, "execution_id": id})))
}

#[derive(Debug, Deserialize)]
pub struct ResolveBody {
    pub artifact_id: String,
    #[serde(default)]
    pub artifact_type: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

pub async fn resolve_artifact(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiJson(body): ApiJson<ResolveBody>,
) -> Result<impl IntoResponse, ApiError> {
    let record = state
        .client
        .resolve_artifact(
            &scope.or_tenant(body.tenant_id),
            &body.artifact_id,
            body.artifact_type.as_deref(),
        )
        .await?;
    Ok(Json(record))
}

#[derive(Debug, Deserialize)]
pub struct ContentBody {
    pub artifact_id: String,
    pub session_id: String,
}

pub async fn artifact_content(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiJson(body): ApiJson<ContentBody>,
) -> Result<impl IntoResponse, ApiError> {
    let content = state
        .client
        .artifact_content(&scope.or_tenant(None), &body.session_id, &body.artifact_id)
        .await?;
    Ok(Json(content))
}

pub async fn list_executions(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiQuery(q): ApiQuery<ExecutionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = scope.or_tenant(None);
    Ok(Json(state.client.list_executions(&scope, q).await?))
}

pub async fn list_sessions(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiQuery(q): ApiQuery<SessionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = scope.or_tenant(None);
    Ok(Json(state.client.list_sessions(&scope, q).await?))
}

pub async fn parsed_records(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RecordQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = scope.or_tenant(q.tenant_id.clone());
    Ok(Json(state.client.parsed_records(&scope, &id, q).await?))
}

pub async fn get_artifact(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = scope.or_tenant(q.tenant_id);
    Ok(Json(
        state.client.resolve_artifact(&scope, &id, None).await?,
    ))
}

pub async fn retry_execution(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = scope.or_tenant(None);
    let request_id = crate::http::layers::request_id(&headers);
    let accepted = state
        .client
        .retry_execution(&scope, &id, request_id)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

pub async fn list_artifacts(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiJson(req): ApiJson<ArtifactListRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = scope.or_tenant(req.tenant_id.clone());
    Ok(Json(state.client.list_artifacts(&scope, req).await?))
}
