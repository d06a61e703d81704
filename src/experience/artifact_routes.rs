//! `POST /api/artifact/resolve`, `POST /api/artifact/list`, and the cheap reads that create
//! no execution: `GET /api/artifacts/{id}` and `GET /api/parsed-files/{id}/records`.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use super::access::{session_scope, token_scope};
use super::auth_user::MaybeUser;
use super::errors::token_required;
use super::state::ExperienceState;
use crate::http::queries::TenantQuery;
use crate::http::{ApiError, ApiJson, ApiPath, ApiQuery, OptionalJson};
use crate::runtime::contract::listing::RecordQuery;
use crate::runtime::contract::model::{ArtifactListRequest, Scope};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ResolveBody {
    artifact_id: String,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    tenant_id: Option<String>,
}

/// With a token: the tenant's artifacts. Without one: the artifact id is the capability, for
/// artifacts of anonymous sessions only.
#[utoipa::path(
    post, path = "/api/artifact/resolve", tag = "artifacts", request_body = ResolveBody, security((), ("bearer" = [])),
    responses((status = 200, description = "The artifact's record", body = Object), crate::http::openapi::Refusals)
)]
pub async fn resolve(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    ApiJson(body): ApiJson<ResolveBody>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = match &user {
        Some(claims) => token_scope(claims, body.tenant_id.as_deref(), "artifact")?,
        None => Scope::Any,
    };
    let record = state
        .runtime
        .resolve_artifact(&scope, &body.artifact_id, body.artifact_type.as_deref())
        .await?;
    // Without a token only an anonymous session's artifacts resolve; a tenant's look unknown.
    if user.is_none() && !record["tenant_id"].is_null() {
        return Err(ApiError::not_found("artifact"));
    }
    Ok(Json(record))
}

/// The scope a read of artifact `id` runs in: the caller's tenant with a token; without one,
/// the artifact id is the capability, for an anonymous session's artifacts only (a tenant's
/// look unknown).
async fn read_scope(
    state: &ExperienceState,
    user: &Option<crate::security::tokens::Claims>,
    id: &str,
    tenant_id: Option<&str>,
    what: &'static str,
) -> Result<Scope, ApiError> {
    match user {
        Some(claims) => token_scope(claims, tenant_id, what),
        None => {
            let record = state.runtime.resolve_artifact(&Scope::Any, id, None).await;
            match record {
                Ok(r) if r["tenant_id"].is_null() => Ok(Scope::Any),
                Ok(_) | Err(crate::runtime::RuntimeError::NotFound(_)) => {
                    Err(ApiError::not_found(what))
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// `GET /api/artifacts/{id}`: an ArtifactRecord, as `resolve` answers it.
#[utoipa::path(
    get, path = "/api/artifacts/{id}", tag = "artifacts", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "The artifact's id"), crate::http::queries::TenantQuery),
    responses((status = 200, description = "The artifact, read without an execution", body = Object), crate::http::openapi::Refusals)
)]
pub async fn get_artifact(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = read_scope(&state, &user, &id, q.tenant_id.as_deref(), "artifact").await?;
    Ok(Json(
        state.runtime.resolve_artifact(&scope, &id, None).await?,
    ))
}

/// `GET /api/parsed-files/{id}/records?cursor=&limit=`: a page of a parse's records.
#[utoipa::path(
    get, path = "/api/parsed-files/{id}/records", tag = "artifacts", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "The parsed file's id"), RecordQuery),
    responses((status = 200, description = "A page of its records, read without an execution", body = crate::runtime::contract::listing::RecordPage), crate::http::openapi::Refusals)
)]
pub async fn parsed_records(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<RecordQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = read_scope(&state, &user, &id, q.tenant_id.as_deref(), "parsed_file").await?;
    Ok(Json(state.runtime.parsed_records(&scope, &id, q).await?))
}

/// With a token: the tenant's artifacts. Without one: `session_id` names an anonymous session
/// whose artifacts to list (the session id is the capability). With neither (the web
/// frontend's dashboard sends only a `tenant_id`): an empty list, 200, and a `notice` saying
/// what is needed: a tenant's artifacts are never listed without its token, and the page
/// shows an empty dashboard rather than an error banner. `lifecycle_state` also takes the
/// frontend's `READY`, `PENDING` and `FAILED`.
#[utoipa::path(
    post, path = "/api/artifact/list", tag = "artifacts", operation_id = "list_artifacts",
    request_body(content = Option<ArtifactListRequest>), security((), ("bearer" = [])),
    responses((status = 200, description = "The tenant's (or the anonymous session's) artifacts", body = crate::runtime::contract::model::ArtifactList), crate::http::openapi::Refusals)
)]
pub async fn list(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    OptionalJson(mut req): OptionalJson<ArtifactListRequest>,
) -> Result<axum::response::Response, ApiError> {
    req.lifecycle_state = req.lifecycle_state.map(|s| match s.as_str() {
        "READY" => "active".to_string(),
        "PENDING" => "pending_materialization".to_string(),
        "FAILED" => "failed".to_string(),
        _ => s,
    });
    let no_session = req.session_id.as_deref().is_none_or(str::is_empty);
    if user.is_none() && no_session {
        return Ok(Json(serde_json::json!({
            "artifacts": [],
            "total": 0,
            "limit": req.limit.unwrap_or(100),
            "offset": req.offset.unwrap_or(0),
            "notice": "sign in (Authorization: Bearer <access token>) to list your tenant's \
                       artifacts, or name an anonymous session_id",
        }))
        .into_response());
    }
    let scope = match &user {
        Some(claims) => {
            let scope = token_scope(claims, req.tenant_id.as_deref(), "tenant")?;
            req.tenant_id = Some(claims.tid.clone());
            req.session_id = None;
            scope
        }
        None => {
            // Named (an empty or missing one answered above).
            let sid = req.session_id.clone().unwrap_or_default();
            req.tenant_id = None;
            let scope = session_scope(&state, &None, &sid, None).await?;
            // A user's session lists the whole tenant: that needs the user's token.
            if state
                .runtime
                .get_session(&scope, &sid)
                .await?
                .user_id
                .is_some()
            {
                return Err(token_required());
            }
            scope
        }
    };
    Ok(Json(state.runtime.list_artifacts(&scope, req).await?).into_response())
}
