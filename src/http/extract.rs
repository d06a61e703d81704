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
            e if super::body_deadline::is_body_timeout(&e) => ApiError::request_timeout(),
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
        ApiError::validation(field_error(&e.path().to_string(), &e.inner().to_string()))
    })
}

/// Turns serde's error at `path` into `{field: problem}`. serde reports a missing field at its
/// parent's path ("missing field `x`"); the field itself is named here instead.
fn field_error(path: &str, msg: &str) -> BTreeMap<String, String> {
    let msg = msg.split(" at line ").next().unwrap_or(msg);
    let parent = if path == "." { "" } else { path };
    let missing = msg
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'));
    let (field, problem) = match missing {
        Some(name) if parent.is_empty() => (name.to_string(), "is required".to_string()),
        Some(name) => (format!("{parent}.{name}"), "is required".to_string()),
        None if parent.is_empty() => ("body".to_string(), msg.to_string()),
        None => (parent.to_string(), msg.to_string()),
    };
    BTreeMap::from([(field, problem)])
}

/// A JSON body that may be absent: an empty body means `T::default()`.
pub struct OptionalJson<T>(pub T);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let empty = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() == "0")
            || (!req.headers().contains_key(header::CONTENT_LENGTH)
                && !req.headers().contains_key(header::TRANSFER_ENCODING));
        if empty {
            return Ok(OptionalJson(T::default()));
        }
        ApiJson::<T>::from_request(req, state)
            .await
            .map(|ApiJson(v)| OptionalJson(v))
    }
}

/// A path parameter; a malformed one (e.g. invalid percent-encoding) is a 400 in the
/// contract's shape.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|_| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "malformed_request",
                    "the request path is malformed",
                )
            })
    }
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
                ApiError::validation(field_error(&e.path().to_string(), &e.inner().to_string()))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        n: i64,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Inner,
    }

    fn fields(body: &str) -> (u16, BTreeMap<String, String>) {
        let e = parse_json::<Outer>(body.as_bytes()).unwrap_err();
        (e.status.as_u16(), e.fields.unwrap_or_default())
    }

    #[test]
    fn names_the_field_that_is_wrong() {
        assert_eq!(
            fields(r#"{"inner":{"n":1}}"#),
            (422, BTreeMap::from([("name".into(), "is required".into())]))
        );
        assert_eq!(
            fields(r#"{"name":"x","inner":{}}"#),
            (
                422,
                BTreeMap::from([("inner.n".into(), "is required".into())])
            )
        );
        let (status, f) = fields(r#"{"name":"x","inner":{"n":"seven"}}"#);
        assert_eq!(status, 422);
        assert!(f["inner.n"].starts_with("invalid type: string"), "{f:?}");
        assert_eq!(
            fields("[1]").1,
            BTreeMap::from([("body".into(), "must be a JSON object".into())])
        );
    }

    #[test]
    fn syntax_errors_are_400() {
        let e = parse_json::<Outer>(b"{\"name\":").unwrap_err();
        assert_eq!(e.status.as_u16(), 400);
        assert_eq!(e.code, "malformed_json");
    }
}
