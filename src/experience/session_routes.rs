//! `/api/session/*`: anonymous and signed-in sessions, reading, upgrading.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::access::session_scope;
use super::auth_routes::check_credentials;
use super::auth_user::MaybeUser;
use super::client_addr::ClientAddr;
use super::errors::{forbidden, token_required};
use super::state::ExperienceState;
use crate::http::queries::TenantQuery;
use crate::http::{ApiError, ApiPath, ApiQuery, OptionalJson};
use crate::runtime::contract::model::{CreateSession, Scope, SessionCreated, UpgradeSession};

#[derive(Default, Deserialize)]
pub struct AnonymousBody {
    #[serde(default)]
    metadata: Option<Value>,
}

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

#[derive(Default, Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
}

#[derive(Default, Deserialize)]
pub struct CreateBody {
    #[serde(default)]
    credentials: Option<Credentials>,
    #[serde(default)]
    metadata: Option<Value>,
}

/// A session for a signed-in user: Bearer token, or `credentials` in the body.
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
    match &session.superseded_by {
        Some(next) => Ok(Json(state.runtime.get_session(&scope, next).await?)),
        None => Ok(Json(session)),
    }
}

#[derive(Default, Deserialize)]
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
