//! What both planes' OpenAPI documents share: the error body's schema, the bearer scheme,
//! routes documented under a second path, and the routes that serve a document with its
//! interactive reference (`/openapi.json`, `/docs`; Swagger UI's files are in the binary, so
//! the reference works offline).

use std::collections::BTreeMap;

use axum::Router;
use serde::Serialize;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// Where a plane serves its document and its reference.
pub const DOCUMENT_PATH: &str = "/openapi.json";
pub const REFERENCE_PATH: &str = "/docs";

/// The body of every error both planes answer (`ApiError`): a unit test holds the two together.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Always `false`.
    pub success: bool,
    /// A stable code: `validation_error`, `unauthorized`, `forbidden`, `<what>_not_found`,
    /// `rate_limited`, `database_unavailable`, `unknown_intent`, ...
    pub error: String,
    pub message: String,
    /// The same as `message`, for clients that read `detail`.
    pub detail: String,
    /// A 422's fields, each with what is wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
    /// A 429's or 503's seconds to wait (also in `Retry-After`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// A 429's limit and its window in seconds (also in `X-RateLimit-*`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<u64>,
    /// An unknown intent's type, as sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent_type: Option<String>,
}

/// The refusals any API route may answer, each with the error body.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)] // a description for the document, never built
pub enum Refusals {
    /// Malformed: a body that is not JSON, a field of the wrong type, a bad id.
    #[response(status = 400)]
    BadRequest(ErrorBody),
    /// No credential, or one that is not valid.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Not there, or not the caller's (one tenant's ids are 404 to another).
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// Invalid fields, each named in `fields`.
    #[response(status = 422)]
    Invalid(ErrorBody),
    /// The database (or the runtime) cannot serve it now: retry after `retry_after` seconds.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

/// Adds a bearer security scheme under `name`, with what the token is.
pub fn add_bearer(doc: &mut OpenApi, name: &str, description: &str) {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        name,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(description))
                .build(),
        ),
    );
}

/// Documents `alias` as the same operations as `path` (a route served under two paths), each
/// operation id suffixed so that ids stay unique.
pub fn alias(doc: &mut OpenApi, path: &str, alias: &str, suffix: &str) {
    let Some(mut item) = doc.paths.paths.get(path).cloned() else {
        panic!("{path} is not documented: cannot alias it as {alias}");
    };
    for op in [
        &mut item.get,
        &mut item.post,
        &mut item.put,
        &mut item.patch,
        &mut item.delete,
    ]
    .into_iter()
    .flatten()
    {
        if let Some(id) = &op.operation_id {
            op.operation_id = Some(format!("{id}_{suffix}"));
        }
        op.description = Some(format!(
            "{}\n\nThe same as `{path}`.",
            op.description.as_deref().unwrap_or_default()
        ));
    }
    doc.paths.paths.insert(alias.to_string(), item);
}

/// `router` with `/openapi.json` (the document) and `/docs` (Swagger UI over it).
pub fn with_reference(router: Router, doc: OpenApi) -> Router {
    router.merge(SwaggerUi::new(REFERENCE_PATH).url(DOCUMENT_PATH, doc))
}

/// Whether a path is the document or its reference (served whatever the database's state).
pub fn is_reference(path: &str) -> bool {
    path == DOCUMENT_PATH || path == REFERENCE_PATH || path.starts_with("/docs/")
}

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    use utoipa::PartialSchema;

    use super::*;
    use crate::http::ApiError;

    async fn body_keys(e: ApiError) -> Vec<String> {
        let resp = e.into_response();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v.as_object().unwrap().keys().cloned().collect()
    }

    /// Every key an error body may carry is a property of the documented schema.
    #[tokio::test]
    async fn error_bodies_match_their_schema() {
        let schema = serde_json::to_value(ErrorBody::schema()).unwrap();
        let props = schema["properties"].as_object().unwrap();
        let mut fields = BTreeMap::new();
        fields.insert("email".to_string(), "is required".to_string());
        let mut unknown =
            ApiError::new(StatusCode::BAD_REQUEST, "unknown_intent", "no such intent");
        let mut extra = serde_json::Map::new();
        extra.insert("intent_type".into(), serde_json::json!("x"));
        unknown.extra = Some(Box::new(extra));
        let cases = vec![
            ApiError::validation(fields),
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "slow down").with_retry(
                3,
                &[
                    ("x-ratelimit-limit", "10".into()),
                    ("x-ratelimit-window", "60".into()),
                ],
            ),
            unknown,
        ];
        let mut seen = Vec::new();
        for e in cases {
            for key in body_keys(e).await {
                assert!(
                    props.contains_key(&key),
                    "{key} is not in ErrorBody's schema"
                );
                seen.push(key);
            }
        }
        for key in ["fields", "retry_after", "limit", "window", "intent_type"] {
            assert!(seen.iter().any(|k| k == key), "no case produced {key}");
        }
    }
}
