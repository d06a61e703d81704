//! The response bodies the frontend reads: AuthResponse and the User object.

use serde_json::{json, Value};

use crate::security::{Identity, TokenPair};

pub fn user_json(who: &Identity) -> Value {
    json!({
        "id": who.user_id,
        "user_id": who.user_id,
        "email": who.email,
        "name": who.name,
        "tenant_id": who.tenant_id,
        "roles": who.role_names(),
        "permissions": who.permissions(),
    })
}

/// Flat fields *and* a `user` object (the frontend reads `user.id`).
pub fn auth_response(
    who: &Identity,
    pair: &TokenPair,
    session_id: Option<&str>,
    message: &str,
) -> Value {
    json!({
        "success": true,
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "bearer",
        "expires_in": pair.expires_in,
        "session_id": session_id,
        "user_id": who.user_id,
        "tenant_id": who.tenant_id,
        "roles": who.role_names(),
        "permissions": who.permissions(),
        "user": user_json(who),
        "message": message,
    })
}
