//! `POST /api/intent/submit` and `GET /api/execution/{id}/status`.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::Value;

use super::access::{execution_scope, session_scope};
use super::auth_user::MaybeUser;
use super::settings::INLINE_UPLOAD_WAIT;
use super::state::ExperienceState;
use crate::http::idempotency::idempotency_key;
use crate::http::queries::StatusQuery;
use crate::http::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::runtime::contract::model::{IntentRequest, StatusOptions, SubmitWithUpload};
use crate::runtime::RuntimeError;

#[utoipa::path(
    post, path = "/api/intent/submit", tag = "intents", request_body = IntentRequest, security((), ("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key returns the first execution")),
    responses(
        (status = 202, description = "Stored: the execution will run", body = crate::runtime::contract::model::IntentAccepted),
        (status = 413, description = "An inline file over the upload limit", body = crate::http::openapi::ErrorBody),
        (status = 429, description = "Too many submissions", body = crate::http::openapi::ErrorBody),
        crate::http::openapi::Refusals,
    )
)]
pub async fn submit(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    ApiJson(mut req): ApiJson<IntentRequest>,
) -> Result<impl IntoResponse, ApiError> {
    if req.session_id.is_empty() {
        return Err(RuntimeError::invalid("session_id", "is required").into());
    }
    if req.idempotency_key.is_none() {
        req.idempotency_key = idempotency_key(&headers);
    }
    // This request's id (the caller's `x-request-id`, or the one this plane gave it) goes
    // with the execution: its status shows it, the runtime logs it.
    req.request_id = crate::http::layers::request_id(&headers);
    req.traceparent = crate::telemetry::logging::current_traceparent();
    let scope = session_scope(&state, &user, &req.session_id, req.tenant_id.as_deref()).await?;
    let inline = inline_file(&mut req, state.settings.max_inline_upload_bytes)?;
    // Beyond an inline file, an intent's parameters are held to the JSON body limit. A body
    // that fit it fits still: only a larger one (or one of unknown length) is measured.
    let within = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
        .is_some_and(|n| n <= state.settings.max_body_bytes);
    let rest = match (&req.parameters, within) {
        (Some(p), false) => serde_json::to_string(p).map_or(0, |s| s.len()),
        _ => 0,
    };
    if rest > state.settings.max_body_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!(
                "an intent's parameters are at most {} bytes (a file goes inline as \
             file_content, or through /api/v1/content/upload)",
                state.settings.max_body_bytes
            ),
        ));
    }
    let accepted = match inline {
        None => state.runtime.submit_intent(&scope, req).await?,
        Some((field, original, bytes)) => {
            // Staged like a multipart upload: the runtime gets the blob, never the hex.
            let size = bytes.len() as u64;
            let blob = state
                .runtime
                .put_blob(Box::pin(std::io::Cursor::new(bytes)), size)
                .await?;
            let upload = SubmitWithUpload {
                sha256: blob.sha256.clone(),
                size_bytes: blob.size_bytes,
                intent: req.clone(),
            };
            let staged = state.runtime.submit_with_upload(&scope, upload).await;
            if staged.is_err() {
                if let Err(e) = state.runtime.discard_blob(&blob).await {
                    tracing::warn!(error = %e, "a refused inline file is left to the janitor");
                }
            }
            match staged {
                Ok(accepted) => accepted,
                // An intent that takes no upload: its parameters as they were, as before.
                Err(RuntimeError::Invalid(fields)) if fields.contains_key("intent_type") => {
                    if let Some(Value::Object(p)) = req.parameters.as_mut() {
                        p.insert(field.to_string(), original);
                    }
                    state.runtime.submit_intent(&scope, req).await?
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}

/// An inline file taken out of a submit's parameters: its field, the field's value as sent
/// (put back if the intent takes no upload), and the decoded content.
type Inline = (&'static str, Value, Vec<u8>);

/// The parameters that carry a file inline: hex, or base64.
const INLINE: [(&str, bool); 3] = [
    ("file_content", true),
    ("file_content_base64", false),
    ("file_data", false),
];

/// An inline file in the submit's parameters, decoded and taken out of them (it is then
/// submitted as an upload). `None` when there is none, or when the parameters are not a
/// clean single inline file: the runtime then answers them as it always does (422 naming the
/// field). Over `limit` decoded bytes: 413.
fn inline_file(req: &mut IntentRequest, limit: u64) -> Result<Option<Inline>, ApiError> {
    let Some(Value::Object(p)) = req.parameters.as_mut() else {
        return Ok(None);
    };
    let given: Vec<(&str, bool)> = INLINE
        .iter()
        .copied()
        .filter(|(k, _)| p.contains_key(*k))
        .collect();
    let [(field, hex)] = given[..] else {
        return Ok(None);
    };
    if p.contains_key("upload_id") {
        return Ok(None);
    }
    let Some(text) = p[field].as_str() else {
        return Ok(None);
    };
    // Decoded size, known before decoding.
    let text = text.trim();
    let size = if hex {
        text.len() / 2
    } else {
        text.len() / 4 * 3
    };
    if size as u64 > limit.saturating_add(2) {
        return Err(RuntimeError::TooLarge(limit).into());
    }
    let decoded = if hex {
        hex::decode(text).ok()
    } else {
        base64::engine::general_purpose::STANDARD.decode(text).ok()
    };
    let Some(bytes) = decoded else {
        return Ok(None);
    };
    if bytes.len() as u64 > limit {
        return Err(RuntimeError::TooLarge(limit).into());
    }
    let original = p.remove(field).unwrap_or(Value::Null);
    Ok(Some((field, original, bytes)))
}

/// Large submits (over 1 MiB, or of unknown length) wait for a seat before their body is read.
pub async fn large_submits_in_turn(
    State(state): State<ExperienceState>,
    req: Request,
    next: Next,
) -> Response {
    let large = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_none_or(|n| n > 1024 * 1024);
    let _seat = if large {
        let wait = state.inline_uploads.clone().acquire_owned();
        match tokio::time::timeout(INLINE_UPLOAD_WAIT, wait).await {
            Ok(seat) => seat.ok(),
            Err(_) => {
                return ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "busy",
                    "too many large submits at once; retry shortly",
                )
                .with_retry(5, &[])
                .into_response()
            }
        }
    } else {
        None
    };
    next.run(req).await
}

#[utoipa::path(
    get, path = "/api/execution/{id}/status", tag = "executions", security((), ("bearer" = [])),
    params(("id" = String, Path, description = "The execution's id"), crate::http::queries::StatusQuery),
    responses((status = 200, description = "The execution: steps, artifacts (payload fields also at each artifact's top level; exports with signed download links), events, progress", body = crate::runtime::contract::model::ExecutionStatus), crate::http::openapi::Refusals)
)]
pub async fn execution_status(
    State(state): State<ExperienceState>,
    headers: HeaderMap,
    MaybeUser(user): MaybeUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = execution_scope(&state, &user, &id, q.tenant_id.as_deref()).await?;
    let opts = StatusOptions {
        include_artifacts: q.include_artifacts.unwrap_or(true),
        include_events: q.include_events.unwrap_or(true),
    };
    let mut status = state.runtime.execution_status(&scope, &id, opts).await?;
    super::download_routes::sign_exports(&state, &headers, &mut status);
    // The web frontend reads some artifacts' fields at the top level: both places.
    if let Some(artifacts) = status.artifacts.as_mut() {
        artifacts.values_mut().for_each(place_both);
    }
    Ok(Json(status))
}

/// An artifact's payload fields, also beside `result_type` / `semantic_payload` /
/// `renderings`: some readers take `artifacts.<key>.semantic_payload.<field>`, others
/// `artifacts.<key>.<field>` (the web frontend does both, FRONTEND.md §2 "Placement"). A
/// field never replaces one of the envelope's own. Anything not in that envelope is left as is.
pub fn place_both(artifact: &mut Value) {
    let Value::Object(entry) = artifact else {
        return;
    };
    let Some(Value::Object(payload)) = entry.get("semantic_payload").cloned() else {
        return;
    };
    for (k, v) in payload {
        entry.entry(k).or_insert(v);
    }
}

#[cfg(test)]
mod tests {
    use super::place_both;
    use serde_json::json;

    #[test]
    fn a_payload_is_read_in_both_places_and_never_replaces_the_envelope() {
        let mut a = json!({"result_type": "roadmap", "renderings": {},
            "semantic_payload": {"roadmap_id": "r1", "result_type": "other", "phases": [1]}});
        place_both(&mut a);
        assert_eq!(a["roadmap_id"], "r1");
        assert_eq!(a["phases"], json!([1]));
        assert_eq!(a["result_type"], "roadmap");
        assert_eq!(a["semantic_payload"]["roadmap_id"], "r1");
        let mut bare = json!([{"artifact_id": "p1"}]);
        place_both(&mut bare);
        assert_eq!(bare, json!([{"artifact_id": "p1"}]));
    }
}
