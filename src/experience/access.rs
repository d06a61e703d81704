//! Who may touch a session or an execution (the contract's capability rule):
//! - with a Bearer token, only what belongs to the token's tenant (anything else is 404);
//! - without one, the id itself is the capability — unless strict mode is on and the session
//!   belongs to a user, which then needs a token (401);
//! - an anonymous session's id stops being a capability when the session is upgraded (its
//!   owner continues under a new id, `superseded_by`): others may know it (session fixation),
//!   so without a token it is 404, like an unknown id.

use super::errors::token_required;
use super::state::ExperienceState;
use crate::http::ApiError;
use crate::runtime::contract::model::{Scope, Session, StatusOptions};
use crate::security::tokens::Claims;

/// The scope to use for a request on `session_id`. `claimed_tenant` is a `tenant_id` the
/// request names (query or body): with a token it must be the token's tenant.
pub async fn session_scope(
    state: &ExperienceState,
    user: &Option<Claims>,
    session_id: &str,
    claimed_tenant: Option<&str>,
) -> Result<Scope, ApiError> {
    match user {
        Some(claims) => token_scope(claims, claimed_tenant, "session"),
        None => {
            let session = state.runtime.get_session(&Scope::Any, session_id).await?;
            bare_id_allowed(state, &session)?;
            Ok(Scope::Any)
        }
    }
}

/// Whose an execution is, for a request without a token: its owner tenant (if any) and its
/// session (the rules follow the session).
pub async fn bare_execution(
    state: &ExperienceState,
    execution_id: &str,
) -> Result<(Option<String>, Session), ApiError> {
    let opts = StatusOptions {
        include_artifacts: false,
        include_events: false,
    };
    let exec = state
        .runtime
        .execution_status(&Scope::Any, execution_id, opts)
        .await?;
    let session = state
        .runtime
        .get_session(&Scope::Any, &exec.session_id)
        .await?;
    Ok((exec.tenant_id, session))
}

pub async fn execution_scope(
    state: &ExperienceState,
    user: &Option<Claims>,
    execution_id: &str,
    claimed_tenant: Option<&str>,
) -> Result<Scope, ApiError> {
    match user {
        Some(claims) => token_scope(claims, claimed_tenant, "execution"),
        None => {
            // The rule follows the session: superseded by an upgrade, or (strict mode) a user's?
            let (tenant, session) = bare_execution(state, execution_id).await?;
            if state.settings.auth_strict && (session.user_id.is_some() || tenant.is_some()) {
                return Err(token_required());
            }
            if session.superseded_by.is_some() {
                return Err(ApiError::not_found("execution"));
            }
            Ok(Scope::Any)
        }
    }
}

/// Whether a request without a token may use this session: not once it was superseded by an
/// upgrade (404), nor, in strict mode, when it belongs to a user (401).
pub fn bare_id_allowed(state: &ExperienceState, session: &Session) -> Result<(), ApiError> {
    if session.superseded_by.is_some() {
        return Err(ApiError::not_found("session"));
    }
    if state.settings.auth_strict && session.user_id.is_some() {
        return Err(token_required());
    }
    Ok(())
}

pub fn token_scope(claims: &Claims, claimed: Option<&str>, what: &str) -> Result<Scope, ApiError> {
    match claimed {
        Some(t) if !t.is_empty() && t != claims.tid => Err(ApiError::not_found(what)),
        // (an empty tenant_id counts as absent)
        _ => Ok(Scope::Tenant(claims.tid.clone())),
    }
}
