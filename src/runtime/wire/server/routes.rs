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

#[utoipa::path(
    get, path = "/health", tag = "probes", operation_id = "runtime_health",
    responses(
        (status = 200, description = "Healthy: the runtime runs and the database can be written", body = Object),
        (status = 503, description = "Unhealthy, with the database's state", body = Object),
    )
)]
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

#[utoipa::path(
    post, path = "/api/session/create", tag = "sessions", request_body = CreateSession, security(("service_token" = [])),
    responses((status = 201, description = "The session", body = crate::runtime::contract::model::Session), crate::http::openapi::Refusals)
)]
pub async fn create_session(
    State(state): State<RuntimeApiState>,
    ApiJson(req): ApiJson<CreateSession>,
) -> Result<impl IntoResponse, ApiError> {
    let session = state.client.create_session(req).await?;
    // The whole Session: the contract's SessionCreated fields and the rest, so a runtime
    // client in another process needs no second request.
    Ok((StatusCode::CREATED, Json(session)))
}

#[utoipa::path(
    get, path = "/api/session/{id}", tag = "sessions", security(("service_token" = [])),
    params(("id" = String, Path, description = "The session's id"), TenantQuery),
    responses((status = 200, description = "The session", body = crate::runtime::contract::model::Session), crate::http::openapi::Refusals)
)]
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

#[utoipa::path(
    patch, path = "/api/session/{id}/upgrade", tag = "sessions", request_body = UpgradeSession, security(("service_token" = [])),
    params(("id" = String, Path, description = "The anonymous session's id"), TenantQuery),
    responses((status = 200, description = "The session, now the user's", body = crate::runtime::contract::model::Session), crate::http::openapi::Refusals)
)]
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

#[utoipa::path(
    post, path = "/api/intent/submit", tag = "intents", request_body = IntentRequest, security(("service_token" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key returns the first execution")),
    responses((status = 202, description = "Stored: the execution will run", body = crate::runtime::contract::model::IntentAccepted), crate::http::openapi::Refusals)
)]
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

#[utoipa::path(
    get, path = "/api/execution/{id}/status", tag = "executions", security(("service_token" = [])),
    params(("id" = String, Path, description = "The execution's id"), StatusQuery),
    responses((status = 200, description = "The execution: steps, artifacts, events, progress", body = crate::runtime::contract::model::ExecutionStatus), crate::http::openapi::Refusals)
)]
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

#[utoipa::path(
    post, path = "/api/execution/{id}/cancel", tag = "executions", security(("service_token" = [])),
    params(("id" = String, Path, description = "The execution's id"), TenantQuery),
    responses(
        (status = 202, description = "Cancellation requested: completed steps are compensated, newest first", body = Object),
        (status = 409, description = "Already finished", body = crate::http::openapi::ErrorBody),
        crate::http::openapi::Refusals,
    )
)]
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ApprovalBody {
    pub hook_id: String,
    pub approved: bool,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

#[utoipa::path(
    post, path = "/api/execution/{id}/approval", tag = "executions", request_body = ApprovalBody, security(("service_token" = [])),
    params(("id" = String, Path, description = "The execution awaiting approval")),
    responses(
        (status = 200, description = "Decided: approved, it runs on; refused, it ends `cancelled` with the reason as its error (`SAFETY_HALTED`, then `EXECUTION_CANCELLED`)", body = Object),
        (status = 409, description = "Not awaiting that approval", body = crate::http::openapi::ErrorBody),
        crate::http::openapi::Refusals,
    )
)]
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ResolveBody {
    pub artifact_id: String,
    #[serde(default)]
    pub artifact_type: Option<String>,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

#[utoipa::path(
    post, path = "/api/artifact/resolve", tag = "artifacts", request_body = ResolveBody, security(("service_token" = [])),
    responses((status = 200, description = "The artifact's record", body = Object), crate::http::openapi::Refusals)
)]
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

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ContentBody {
    pub artifact_id: String,
    pub session_id: String,
}

#[utoipa::path(
    post, path = "/api/artifact/content", tag = "artifacts", request_body = ContentBody, security(("service_token" = [])),
    responses((status = 200, description = "An export's stored document (base64)", body = crate::runtime::contract::model::ArtifactContent), crate::http::openapi::Refusals)
)]
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

#[utoipa::path(
    get, path = "/api/executions", tag = "executions", security(("service_token" = [])),
    params(ExecutionQuery),
    responses((status = 200, description = "Executions, newest first, a page at a time", body = crate::runtime::contract::listing::ExecutionPage), crate::http::openapi::Refusals)
)]
pub async fn list_executions(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiQuery(q): ApiQuery<ExecutionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = scope.or_tenant(None);
    Ok(Json(state.client.list_executions(&scope, q).await?))
}

#[utoipa::path(
    get, path = "/api/sessions", tag = "sessions", security(("service_token" = [])),
    params(SessionQuery),
    responses((status = 200, description = "Sessions, newest first, a page at a time", body = crate::runtime::contract::listing::SessionPage), crate::http::openapi::Refusals)
)]
pub async fn list_sessions(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiQuery(q): ApiQuery<SessionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = scope.or_tenant(None);
    Ok(Json(state.client.list_sessions(&scope, q).await?))
}

#[utoipa::path(
    get, path = "/api/parsed-files/{id}/records", tag = "artifacts", security(("service_token" = [])),
    params(("id" = String, Path, description = "The parsed file's id"), RecordQuery),
    responses((status = 200, description = "A page of its records, read without an execution", body = crate::runtime::contract::listing::RecordPage), crate::http::openapi::Refusals)
)]
pub async fn parsed_records(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RecordQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = scope.or_tenant(q.tenant_id.clone());
    Ok(Json(state.client.parsed_records(&scope, &id, q).await?))
}

#[utoipa::path(
    get, path = "/api/artifacts/{id}", tag = "artifacts", security(("service_token" = [])),
    params(("id" = String, Path, description = "The artifact's id"), TenantQuery),
    responses((status = 200, description = "The artifact, read without an execution", body = Object), crate::http::openapi::Refusals)
)]
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

#[utoipa::path(
    post, path = "/api/execution/{id}/retry", tag = "executions", security(("service_token" = [])),
    params(("id" = String, Path, description = "The execution to retry"), TenantQuery),
    responses(
        (status = 202, description = "A new execution of the same intent, linked to the first (`metadata.retry_of`)", body = crate::runtime::contract::model::IntentAccepted),
        (status = 409, description = "Not finished yet", body = crate::http::openapi::ErrorBody),
        crate::http::openapi::Refusals,
    )
)]
pub async fn retry_execution(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = scope.or_tenant(q.tenant_id);
    let request_id = crate::http::layers::request_id(&headers);
    let accepted = state
        .client
        .retry_execution(&scope, &id, request_id)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

#[utoipa::path(
    post, path = "/api/artifact/list", tag = "artifacts", request_body = ArtifactListRequest, security(("service_token" = [])),
    responses((status = 200, description = "A tenant's or a session's artifacts", body = crate::runtime::contract::model::ArtifactList), crate::http::openapi::Refusals)
)]
pub async fn list_artifacts(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiJson(req): ApiJson<ArtifactListRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = scope.or_tenant(req.tenant_id.clone());
    Ok(Json(state.client.list_artifacts(&scope, req).await?))
}

#[utoipa::path(
    get, path = "/api/cluster", tag = "cluster", security(("service_token" = [])),
    responses(
        (status = 200, description = "The runtime nodes and who holds each partition of the sessions (a single SQLite node: no node id, no partitions)", body = crate::runtime::contract::cluster::ClusterView),
        crate::http::openapi::Refusals,
    )
)]
pub async fn cluster(State(state): State<RuntimeApiState>) -> Result<impl IntoResponse, ApiError> {
    Ok(Json(state.client.cluster().await?))
}
