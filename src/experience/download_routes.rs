//! Exports' download links. The status route gives each `export` artifact a `download_url`:
//! absolute (the public address, `SYMPHAINY_PUBLIC_URL`, else the request's own host), and
//! signed and expiring (`security::download_tokens`), because the web frontend opens it in a
//! new tab with no Authorization header. `GET /api/download/{token}` serves the document.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::state::ExperienceState;
use crate::http::{ApiError, ApiPath};
use crate::runtime::contract::model::{ExecutionStatus, Scope};

/// This plane's public base URL, without a trailing slash.
fn base_url(state: &ExperienceState, headers: &HeaderMap) -> Option<String> {
    if let Some(url) = &state.settings.public_url {
        return Some(url.trim_end_matches('/').to_string());
    }
    let host = headers.get(header::HOST)?.to_str().ok()?;
    // Only a host (and port): anything else in the header is not used to build a link.
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    {
        return None;
    }
    let scheme = match headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") if state.settings.trust_forwarded_for => "https",
        _ => "http",
    };
    Some(format!("{scheme}://{host}"))
}

/// Adds `download_url` and `download_expires_at` to the status's exports.
pub fn sign_exports(state: &ExperienceState, headers: &HeaderMap, status: &mut ExecutionStatus) {
    let Some(artifacts) = status.artifacts.as_mut() else {
        return;
    };
    let Some(base) = base_url(state, headers) else {
        return;
    };
    let exp = chrono::Utc::now().timestamp() + state.settings.download_ttl.as_secs() as i64;
    for entry in artifacts.values_mut() {
        if entry["result_type"] != "export" {
            continue;
        }
        let Some(id) = entry["semantic_payload"]["export_id"].as_str() else {
            continue;
        };
        let Ok(token) =
            state
                .downloads
                .issue(id, &status.session_id, status.tenant_id.as_deref(), exp)
        else {
            continue;
        };
        let url = json!(format!("{base}/api/download/{token}"));
        let expires = json!(chrono::DateTime::from_timestamp(exp, 0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
        // In the payload; the status route then copies it beside the envelope too.
        if let Value::Object(m) = &mut entry["semantic_payload"] {
            m.insert("download_url".into(), url);
            m.insert("download_expires_at".into(), expires);
        }
    }
}

/// `GET /api/download/{token}`: the export's document, as an attachment.
#[utoipa::path(
    get, path = "/api/download/{token}", tag = "artifacts",
    params(("token" = String, Path, description = "A signed, expiring link's token (from an export's `download_url`)")),
    responses((status = 200, description = "The exported document", content_type = "application/octet-stream", body = Vec<u8>), crate::http::openapi::Refusals)
)]
pub async fn download(
    State(state): State<ExperienceState>,
    ApiPath(token): ApiPath<String>,
) -> Result<Response, ApiError> {
    let claims = state
        .downloads
        .verify(&token)
        .map_err(|why| ApiError::new(StatusCode::FORBIDDEN, "invalid_download_link", why))?;
    let scope = Scope::from_tenant(Some(claims.tid.clone()).filter(|t| !t.is_empty()));
    let content = state
        .runtime
        .artifact_content(&scope, &claims.sid, &claims.sub)
        .await?;
    // Links are made for exports only, and name their owner exactly: an anonymous session's
    // link does not open what belongs to a tenant.
    if content.artifact_type != "export"
        || content.tenant_id.as_deref().unwrap_or_default() != claims.tid
    {
        return Err(ApiError::not_found("download"));
    }
    let mime = HeaderValue::from_str(&content.mime_type)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    // The name is ours (`<type>-<id>.<ext>`); quoted, with anything unusual replaced.
    let name: String = content
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, mime),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        content.bytes,
    )
        .into_response())
}
