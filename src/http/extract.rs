//! Extractors that answer bad input in the contract's shape: malformed JSON 400, wrong or
//! missing fields 422 with `fields`, too large 413.

use std::collections::BTreeMap;

use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use bytes::Bytes;
use serde::de::DeserializeOwned;

use super::error::ApiError;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| {
                let ct = ct.to_ascii_lowercase();
                ct.starts_with("application/json") || ct.contains("+json")
            })
            .unwrap_or(false);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
            BytesRejection::FailedToBufferBody(inner)
                if inner.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is too large",
                )
            }
            _ => ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_request",
                "the request body could not be read",
            ),
        })?;
        if !is_json {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_request",
                "expected a JSON body with Content-Type: application/json",
            ));
        }
        parse_json(&bytes).map(ApiJson)
    }
}

/// Parses a JSON body: syntax errors are 400 `malformed_json`; a body of the wrong shape is 422
/// with the offending field's path.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not valid JSON ({e})"),
        )
    })?;
    if !value.is_object() {
        let mut fields = BTreeMap::new();
        fields.insert("body".to_string(), "must be a JSON object".to_string());
        return Err(ApiError::validation(fields));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "body".to_string()
        } else {
            path
        };
        let mut fields = BTreeMap::new();
        fields.insert(field, clean_serde_message(&e.inner().to_string()));
        ApiError::validation(fields)
    })
}

fn clean_serde_message(msg: &str) -> String {
    // serde's "missing field `x`" is already clear; drop its position suffix if any.
    msg.split(" at line ").next().unwrap_or(msg).to_string()
}

pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let mut fields = BTreeMap::new();
                fields.insert(
                    e.path().to_string(),
                    clean_serde_message(&e.inner().to_string()),
                );
                ApiError::validation(fields)
            })
    }
}
