//! The response bodies the frontend reads: AuthResponse and the User object.

use serde::Serialize;

use crate::security::{Identity, TokenPair};

/// The signed-in user, as the frontend reads it (`user.id`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    /// The same as `id`.
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub tenant_id: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
}

impl User {
    pub fn of(who: &Identity) -> Self {
        User {
            id: who.user_id.clone(),
            user_id: who.user_id.clone(),
            email: who.email.clone(),
            name: who.name.clone(),
            tenant_id: who.tenant_id.clone(),
            roles: who.role_names(),
            permissions: who.permissions(),
        }
    }
}

/// Tokens and who they are for: flat fields *and* a `user` object.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuthResponse {
    pub success: bool,
    pub access_token: String,
    pub refresh_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds the access token lives.
    pub expires_in: u64,
    /// A session opened for the user (register and login), or the one named (refresh).
    pub session_id: Option<String>,
    pub user_id: String,
    pub tenant_id: String,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
    pub user: User,
    pub message: String,
}

pub fn auth_response(
    who: &Identity,
    pair: &TokenPair,
    session_id: Option<&str>,
    message: &str,
) -> AuthResponse {
    AuthResponse {
        success: true,
        access_token: pair.access_token.clone(),
        refresh_token: pair.refresh_token.clone(),
        token_type: "bearer",
        expires_in: pair.expires_in,
        session_id: session_id.map(String::from),
        user_id: who.user_id.clone(),
        tenant_id: who.tenant_id.clone(),
        roles: who.role_names(),
        permissions: who.permissions(),
        user: User::of(who),
        message: message.to_string(),
    }
}

/// `GET /api/auth/me`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Me {
    pub success: bool,
    pub user: User,
}
