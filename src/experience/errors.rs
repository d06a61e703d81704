//! Security errors in the contract's shape.

use axum::http::StatusCode;

use crate::http::ApiError;
use crate::security::AuthError;

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::EmailTaken => ApiError::new(
                StatusCode::CONFLICT,
                "email_already_registered",
                "this email is already registered",
            ),
            AuthError::InvalidCredentials => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "invalid email or password",
            ),
            AuthError::InvalidToken(why) => {
                ApiError::new(StatusCode::UNAUTHORIZED, "invalid_token", why)
            }
            AuthError::Internal(why) => {
                tracing::error!(%why, "security internal error");
                ApiError::internal()
            }
        }
    }
}

pub fn forbidden(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

pub fn token_required() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "an access token is required",
    )
}
