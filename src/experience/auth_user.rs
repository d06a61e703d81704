//! Extractors for the caller's identity from `Authorization: Bearer <jwt>`. A present but
//! invalid (tampered, expired, foreign) token is always 401, never treated as anonymous.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::errors::token_required;
use super::state::ExperienceState;
use crate::http::ApiError;
use crate::security::tokens::Claims;

/// The caller's claims when a Bearer token is sent; `None` without one.
pub struct MaybeUser(pub Option<Claims>);

/// A caller that must be signed in.
pub struct AuthUser(pub Claims);

/// The Bearer token, if an Authorization header is sent. `Some("")` for a header that is not a
/// usable Bearer token (another scheme, no token): it must fail, not pass as anonymous.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    bearer_in(&parts.headers)
}

/// `bearer_token` of a request's headers.
pub fn bearer_in(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?;
    let Ok(value) = value.to_str() else {
        return Some("");
    };
    match value.trim().split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Some(token.trim()),
        _ => Some(""),
    }
}

/// On every Experience route: a request that sends an `Authorization` header must send a valid
/// Bearer token, even where none is needed (401 otherwise) — it is never taken as anonymous.
pub async fn refuse_bad_authorization(
    State(state): State<ExperienceState>,
    req: Request,
    next: Next,
) -> Response {
    // `/metrics` takes the metrics token as its bearer, not a user's access token.
    if req.uri().path() == "/metrics" {
        return next.run(req).await;
    }
    if let Some(token) = bearer_in(req.headers()) {
        if let Err(e) = state.guard.verify_access(token) {
            return ApiError::from(e).into_response();
        }
    }
    next.run(req).await
}

impl FromRequestParts<ExperienceState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ExperienceState,
    ) -> Result<Self, Self::Rejection> {
        match bearer_token(parts) {
            None => Ok(MaybeUser(None)),
            Some(token) => Ok(MaybeUser(Some(state.guard.verify_access(token)?))),
        }
    }
}

impl FromRequestParts<ExperienceState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &ExperienceState,
    ) -> Result<Self, Self::Rejection> {
        match MaybeUser::from_request_parts(parts, state).await? {
            MaybeUser(Some(claims)) => Ok(AuthUser(claims)),
            MaybeUser(None) => Err(token_required()),
        }
    }
}
