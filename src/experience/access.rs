//! Who may touch a session or an execution (the contract's capability rule):
//! - with a Bearer token, only what belongs to the token's tenant (anything else is 404);
//! - without one, the id itself is the capability — unless strict mode is on and the session
//!   belongs to a user, which then needs a token (401).

use super::errors::token_required;
use super::state::ExperienceState;
use crate::http::ApiError;
use crate::runtime::model::{Scope, StatusOptions};
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
            if state.settings.auth_strict {
                let session = state.runtime.get_session(&Scope::Any, session_id).await?;
                if session.user_id.is_some() {
                    return Err(token_required());
                }
            }
            Ok(Scope::Any)
        }
    }
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
            if state.settings.auth_strict {
                let opts = StatusOptions {
                    include_artifacts: false,
                    include_events: false,
                };
                let exec = state
                    .runtime
                    .execution_status(&Scope::Any, execution_id, opts)
                    .await?;
                // The rule follows the session: is it (now) a user's?
                let session = state
                    .runtime
                    .get_session(&Scope::Any, &exec.session_id)
                    .await?;
                if session.user_id.is_some() || exec.tenant_id.is_some() {
                    return Err(token_required());
                }
            }
            Ok(Scope::Any)
        }
    }
}

pub fn token_scope(claims: &Claims, claimed: Option<&str>, what: &str) -> Result<Scope, ApiError> {
    match claimed {
        Some(t) if !t.is_empty() && t != claims.tid => Err(ApiError::not_found(what)),
        // (an empty tenant_id counts as absent)
        _ => Ok(Scope::Tenant(claims.tid.clone())),
    }
}
