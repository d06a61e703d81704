//! Visibility for the caller: `GET /api/executions` and `GET /api/sessions`, filtered and
//! paged as the Runtime API's (docs/experience-api.md), scoped to who asks. A user sees their
//! tenant's (a `tenant_id` naming another is 404); an anonymous caller names their session
//! (`session_id`, required) and sees only that session's executions, and only that session.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;

use super::access::{session_scope, token_scope};
use super::auth_user::MaybeUser;
use super::state::ExperienceState;
use crate::http::{ApiError, ApiQuery};
use crate::runtime::contract::listing::{ExecutionQuery, SessionPage, SessionQuery};
use crate::runtime::RuntimeError;

fn session_required() -> ApiError {
    ApiError::from(RuntimeError::invalid(
        "session_id",
        "is required without a Bearer token (an anonymous caller sees only their session)",
    ))
}

#[utoipa::path(
    get, path = "/api/executions", tag = "executions", operation_id = "list_executions", security((), ("bearer" = [])),
    params(ExecutionQuery),
    responses((status = 200, description = "The caller's executions (a user: the tenant's; anonymous: the named session's), newest first", body = crate::runtime::contract::listing::ExecutionPage), crate::http::openapi::Refusals)
)]
pub async fn executions(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    ApiQuery(mut q): ApiQuery<ExecutionQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = match (&user, q.session_id.clone().filter(|s| !s.is_empty())) {
        (Some(claims), _) => token_scope(claims, q.tenant_id.as_deref(), "tenant")?,
        (None, Some(s)) => {
            let scope = session_scope(&state, &user, &s, None).await?;
            // Strict mode: a tenant's session is never listed by its id alone.
            if state.settings.auth_strict {
                let session = state.runtime.get_session(&scope, &s).await?;
                if session.tenant_id.is_some() {
                    return Err(super::errors::token_required());
                }
            }
            // Anonymous: this session's executions, whatever else the query names.
            q.tenant_id = None;
            scope
        }
        (None, None) => return Err(session_required()),
    };
    Ok(Json(state.runtime.list_executions(&scope, q).await?))
}

#[utoipa::path(
    get, path = "/api/sessions", tag = "sessions", operation_id = "list_sessions", security((), ("bearer" = [])),
    params(SessionQuery, OwnSession),
    responses((status = 200, description = "The caller's sessions (a user: the tenant's; anonymous: its own), newest first", body = SessionPage), crate::http::openapi::Refusals)
)]
pub async fn sessions(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    ApiQuery(q): ApiQuery<SessionQuery>,
    ApiQuery(own): ApiQuery<OwnSession>,
) -> Result<impl IntoResponse, ApiError> {
    if let Some(claims) = &user {
        let scope = token_scope(claims, q.tenant_id.as_deref(), "tenant")?;
        return Ok(Json(state.runtime.list_sessions(&scope, q).await?));
    }
    let Some(id) = own.session_id.filter(|s| !s.is_empty()) else {
        return Err(session_required());
    };
    let scope = session_scope(&state, &user, &id, None).await?;
    let session = state.runtime.get_session(&scope, &id).await?;
    Ok(Json(SessionPage {
        sessions: vec![session],
        next_cursor: None,
    }))
}

/// An anonymous caller's own session, named in the query.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OwnSession {
    #[serde(default)]
    session_id: Option<String>,
}
