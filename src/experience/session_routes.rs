//! `/api/session/*`: anonymous and signed-in sessions, reading, upgrading.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::access::session_scope;
use super::auth_routes::check_credentials;
use super::auth_user::MaybeUser;
use super::client_addr::ClientAddr;
use super::errors::{forbidden, token_required};
use super::state::ExperienceState;
use crate::http::queries::TenantQuery;
use crate::http::{ApiError, ApiPath, ApiQuery, OptionalJson};
use crate::runtime::contract::model::{
    ArtifactListRequest, CreateSession, Scope, SessionCreated, UpgradeSession,
};

#[derive(Default, Deserialize, utoipa::ToSchema)]
pub struct AnonymousBody {
    #[serde(default)]
    metadata: Option<Value>,
}

#[utoipa::path(
    post, path = "/api/session/create-anonymous", tag = "sessions", request_body(content = Option<AnonymousBody>),
    responses((status = 201, description = "An anonymous session: its id is its capability", body = SessionCreated), crate::http::openapi::Refusals)
)]
pub async fn create_anonymous(
    State(state): State<ExperienceState>,
    OptionalJson(body): OptionalJson<AnonymousBody>,
) -> Result<impl IntoResponse, ApiError> {
    let session = state
        .runtime
        .create_session(CreateSession {
            metadata: body.metadata,
            ..Default::default()
        })
        .await?;
    Ok((StatusCode::CREATED, Json(SessionCreated::from(&session))))
}

#[derive(Default, Deserialize, utoipa::ToSchema)]
pub struct Credentials {
    email: String,
    password: String,
}

#[derive(Default, Deserialize, utoipa::ToSchema)]
pub struct CreateBody {
    #[serde(default)]
    credentials: Option<Credentials>,
    #[serde(default)]
    metadata: Option<Value>,
}

/// A session for a signed-in user: Bearer token, or `credentials` in the body.
#[utoipa::path(
    post, path = "/api/session/create", tag = "sessions", operation_id = "create_session",
    request_body(content = Option<CreateBody>), security((), ("bearer" = [])),
    responses((status = 201, description = "A session for the signed-in user", body = SessionCreated), crate::http::openapi::Refusals)
)]
pub async fn create(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    addr: ClientAddr,
    OptionalJson(body): OptionalJson<CreateBody>,
) -> Result<impl IntoResponse, ApiError> {
    let (user_id, tenant_id) = match (user, body.credentials) {
        (Some(claims), _) => (claims.sub, claims.tid),
        (None, Some(c)) => {
            let who = check_credentials(&state, &addr, &c.email, &c.password).await?;
            (who.user_id, who.tenant_id)
        }
        (None, None) => return Err(token_required()),
    };
    let session = state
        .runtime
        .create_session(CreateSession {
            tenant_id: Some(tenant_id),
            user_id: Some(user_id),
            session_id: None,
            metadata: body.metadata,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(SessionCreated::from(&session))))
}

#[utoipa::path(
    get, path = "/api/session/{id}", tag = "sessions", operation_id = "get_session", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "The session's id"), crate::http::queries::TenantQuery),
    responses((status = 200, description = "The session (the one it was upgraded to, if it was), with `state.realm_state.content.parsedFiles`: its parsed files", body = crate::runtime::contract::model::Session), crate::http::openapi::Refusals)
)]
pub async fn get(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = session_scope(&state, &user, &id, q.tenant_id.as_deref()).await?;
    let session = state.runtime.get_session(&scope, &id).await?;
    // An upgraded anonymous session, asked for with its owner's token (a page reload that still
    // holds the old id): the answer is the session its owner continues in.
    let session = match &session.superseded_by {
        Some(next) => state.runtime.get_session(&scope, next).await?,
        None => session,
    };
    // A user's session lists the tenant's files: that needs the user's token, as the artifact
    // list does (an anonymous session's own files need only its id).
    let realm_state = if user.is_some() || session.user_id.is_none() {
        realm_state(&state, &scope, &session.session_id).await
    } else {
        json!({})
    };
    let mut body = serde_json::to_value(&session).map_err(|_| ApiError::internal())?;
    body["state"] = json!({ "realm_state": realm_state });
    Ok(Json(body))
}

/// What the web frontend merges into its pillars' state (FRONTEND.md §4.7): the session's
/// parsed files for the Insights tabs (`content.parsedFiles`: `file_id`, `parsed_file_id`,
/// `parser_type`, `ui_name`), from its real artifacts. A failed read leaves it empty: the
/// frontend takes any failed session read for a lost session.
async fn realm_state(state: &ExperienceState, scope: &Scope, session_id: &str) -> Value {
    let list = |artifact_type: &str, lifecycle: Option<&str>| ArtifactListRequest {
        session_id: Some(session_id.to_string()),
        artifact_type: Some(artifact_type.to_string()),
        lifecycle_state: lifecycle.map(str::to_string),
        limit: Some(1000),
        ..Default::default()
    };
    let (parsed, files) = tokio::join!(
        state
            .runtime
            .list_artifacts(scope, list("parsed_file", Some("active"))),
        state.runtime.list_artifacts(scope, list("file", None)),
    );
    let (Ok(parsed), Ok(files)) = (parsed, files) else {
        return json!({});
    };
    let name_of = |file_id: &Value| {
        files
            .artifacts
            .iter()
            .find(|f| f["artifact_id"] == *file_id)
            .and_then(|f| {
                let d = &f["semantic_descriptor"];
                d["ui_name"].as_str().or(d["filename"].as_str())
            })
            .map(str::to_string)
    };
    let parsed_files: Vec<Value> = parsed
        .artifacts
        .iter()
        .filter(|p| !p["semantic_descriptor"]["file_id"].is_null())
        .map(|p| {
            let d = &p["semantic_descriptor"];
            json!({"file_id": d["file_id"], "parsed_file_id": p["artifact_id"],
                "parser_type": d["parsing_type"], "ui_name": name_of(&d["file_id"])})
        })
        .collect();
    json!({"content": {"parsedFiles": parsed_files}})
}

#[derive(Default, Deserialize, utoipa::ToSchema)]
pub struct UpgradeBody {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    metadata: Option<Value>,
}

/// Binds an anonymous session to the token's user and tenant.
#[utoipa::path(
    patch, path = "/api/session/{id}/upgrade", tag = "sessions", operation_id = "upgrade_session",
    params(("id" = String, Path, description = "The anonymous session's id")),
    request_body(content = Option<UpgradeBody>), security((), ("bearer" = [])),
    responses(
        (status = 200, description = "The session, now the token's user's", body = SessionCreated),
        (status = 403, description = "`user_id`/`tenant_id` are not the token's", body = crate::http::openapi::ErrorBody),
        crate::http::openapi::Refusals,
    )
)]
pub async fn upgrade(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    ApiPath(id): ApiPath<String>,
    OptionalJson(body): OptionalJson<UpgradeBody>,
) -> Result<impl IntoResponse, ApiError> {
    let claims = match (user, body.access_token.as_deref()) {
        (Some(c), _) => c,
        (None, Some(token)) => state.guard.verify_access(token)?,
        (None, None) => return Err(token_required()),
    };
    let named = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_string);
    if named(&body.user_id).is_some_and(|u| u != claims.sub)
        || named(&body.tenant_id).is_some_and(|t| t != claims.tid)
    {
        return Err(forbidden(
            "user_id and tenant_id must be those of the access token",
        ));
    }
    let session = state.runtime.get_session(&Scope::Any, &id).await?;
    if session
        .tenant_id
        .as_deref()
        .is_some_and(|t| t != claims.tid)
    {
        return Err(ApiError::not_found("session"));
    }
    let upgraded = state
        .runtime
        .upgrade_session(
            &Scope::Any,
            &id,
            UpgradeSession {
                user_id: claims.sub,
                tenant_id: claims.tid,
                metadata: body.metadata,
            },
        )
        .await?;
    Ok(Json(SessionCreated::from(&upgraded)))
}
