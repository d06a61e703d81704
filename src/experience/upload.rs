//! `POST /api/v1/content/upload` (alias `/v1/content/upload`): a multipart form with `file`,
//! `session_id`, `tenant_id?` and `ui_name?`. The file streams into blob storage through the
//! runtime client (never whole in memory), limited to `SYMPHAINY_MAX_UPLOAD_BYTES` (413 with
//! nothing kept), then it is submitted as an `ingest_file` intent. The client's file name is
//! only ever a display name.

use std::collections::BTreeMap;

use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use futures::TryStreamExt;
use tokio_util::io::StreamReader;

use super::access::session_scope;
use super::auth_user::MaybeUser;
use super::state::ExperienceState;
use crate::http::body_deadline::TimeoutSeen;
use crate::http::idempotency::idempotency_key;
use crate::http::ApiError;
use crate::runtime::contract::error::RuntimeError;
use crate::runtime::contract::model::{IntentRequest, SubmitWithUpload, UploadAccepted};
use crate::store::blobs::BlobInfo;

/// The upload's form, as the document describes it (the handler reads the parts as they stream).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The file (one per upload).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    session_id: String,
    tenant_id: Option<String>,
    /// The name the UI shows (the file's own name otherwise).
    ui_name: Option<String>,
}

struct Received {
    blob: BlobInfo,
    filename: String,
    mime_type: Option<String>,
}

#[utoipa::path(
    post, path = "/api/v1/content/upload", tag = "files", security((), ("bearer" = [])),
    request_body(content_type = "multipart/form-data", content = UploadForm),
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key returns the first upload")),
    responses(
        (status = 202, description = "Stored; the ingest runs", body = UploadAccepted),
        (status = 413, description = "Over the upload limit", body = crate::http::openapi::ErrorBody),
        crate::http::openapi::Refusals,
    )
)]
pub async fn upload(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let idempotency_key = idempotency_key(&headers);
    if let Some(key) = &idempotency_key {
        if key.is_empty() || key.len() > 255 {
            return Err(invalid("Idempotency-Key", "must be 1 to 255 characters"));
        }
    }
    let mut multipart = multipart.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            "expected a multipart/form-data body",
        )
    })?;
    // The stored content, once the file part is in: a refusal after it removes it at once.
    let mut received: Option<Received> = None;
    let read = async {
        let mut session_id: Option<String> = None;
        let mut tenant_id: Option<String> = None;
        let mut ui_name: Option<String> = None;
        while let Some(mut field) = multipart.next_field().await.map_err(malformed)? {
            match field.name().unwrap_or_default() {
                "file" => {
                    if received.is_some() {
                        return Err(invalid("file", "send one file per upload"));
                    }
                    // Refuse early when the session came first and is not usable.
                    if let Some(sid) = &session_id {
                        session_scope(&state, &user, sid, tenant_id.as_deref()).await?;
                    }
                    let filename: String = field
                        .file_name()
                        .filter(|n| !n.trim().is_empty())
                        .unwrap_or("file")
                        .chars()
                        .take(1024)
                        .collect();
                    let mime_type = field.content_type().map(str::to_string);
                    let timeout = TimeoutSeen::default();
                    let reader = StreamReader::new(field.map_err(|e| timeout.io_error(e)));
                    let limit = state.settings.max_upload_bytes;
                    // A refused upload's content is unreferenced: the janitor collects it.
                    let blob = match state.runtime.put_blob(Box::pin(reader), limit).await {
                        Ok(blob) => blob,
                        Err(_) if timeout.seen() => return Err(ApiError::request_timeout()),
                        Err(e) => return Err(e.into()),
                    };
                    received = Some(Received {
                        blob,
                        filename,
                        mime_type,
                    });
                }
                "session_id" => session_id = Some(text(&mut field, "session_id").await?),
                "tenant_id" => {
                    tenant_id = Some(text(&mut field, "tenant_id").await?).filter(|t| !t.is_empty())
                }
                "ui_name" => {
                    ui_name = Some(text(&mut field, "ui_name").await?).filter(|t| !t.is_empty())
                }
                other => {
                    // Unknown parts are read (bounded) and dropped.
                    let name = other.to_string();
                    let mut seen = 0usize;
                    while let Some(chunk) = field.chunk().await.map_err(malformed)? {
                        seen += chunk.len();
                        if seen > MAX_TEXT_FIELD {
                            return Err(invalid(&name, "unexpected form field"));
                        }
                    }
                }
            }
        }
        Ok::<_, ApiError>((session_id, tenant_id, ui_name))
    }
    .await;
    let (session_id, tenant_id, ui_name) = match read {
        Ok(parts) => parts,
        Err(e) => {
            discard(&state, &received).await;
            // Read what is left (bounded in bytes and time) before answering: a client still
            // sending its body then gets this answer instead of a broken connection.
            let _ = tokio::time::timeout(DRAIN_FOR, drain(&mut multipart)).await;
            return Err(e);
        }
    };
    let Some(r) = &received else {
        return Err(invalid("file", "is required"));
    };
    let ingested = async {
        let Some(sid) = session_id.filter(|s| !s.is_empty()) else {
            return Err(invalid("session_id", "is required"));
        };
        let scope = session_scope(&state, &user, &sid, tenant_id.as_deref()).await?;
        let upload = SubmitWithUpload {
            sha256: r.blob.sha256.clone(),
            size_bytes: r.blob.size_bytes,
            intent: IntentRequest {
                intent_type: "ingest_file".into(),
                session_id: sid,
                parameters: Some(serde_json::json!({
                    "filename": r.filename,
                    "ui_name": ui_name,
                    "mime_type": r.mime_type,
                })),
                idempotency_key,
                ..Default::default()
            },
        };
        let accepted = state.runtime.submit_with_upload(&scope, upload).await?;
        // An ingest always announces its file: an answer without one is the execution of an
        // earlier, different request that used the same idempotency key.
        let Some(file_id) = accepted.produces.get("file_id").and_then(|v| v.as_str()) else {
            return Err(key_used_elsewhere().into());
        };
        Ok(UploadAccepted {
            success: true,
            file_id: file_id.to_string(),
            execution_id: accepted.execution_id,
            file_reference: format!("blob:sha256:{}", r.blob.sha256),
            status: accepted.status,
        })
    }
    .await;
    match ingested {
        Ok(accepted) => Ok((StatusCode::ACCEPTED, Json(accepted))),
        Err(e) => {
            discard(&state, &received).await;
            Err(e)
        }
    }
}

/// The answer to an idempotency key an earlier, different request of the session used.
pub fn key_used_elsewhere() -> RuntimeError {
    RuntimeError::conflict(
        "idempotency_key_reused",
        "this idempotency key was already used for a different request",
    )
}

/// Removes the content of a refused upload now ("keeps nothing"), unless the same content was
/// stored again meanwhile (then another file needs it). A failure leaves it to the janitor.
async fn discard(state: &ExperienceState, received: &Option<Received>) {
    if let Some(r) = received {
        if let Err(e) = state.runtime.discard_blob(&r.blob).await {
            tracing::warn!(error = %e, "a refused upload's content is left to the janitor");
        }
    }
}

/// Text parts are small: more than this is refused.
const MAX_TEXT_FIELD: usize = 4 * 1024;

async fn text(
    field: &mut axum::extract::multipart::Field<'_>,
    name: &str,
) -> Result<String, ApiError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(malformed)? {
        bytes.extend_from_slice(&chunk);
        if bytes.len() > MAX_TEXT_FIELD {
            return Err(invalid(name, "is too long"));
        }
    }
    String::from_utf8(bytes).map_err(|_| invalid(name, "must be UTF-8 text"))
}

/// How much of a refused form is still read so its sender can take the answer. (Moving to
/// the next part reads through the rest of the current one, so time bounds it too.)
const DRAIN_LIMIT: usize = 8 * 1024 * 1024;
const DRAIN_FOR: std::time::Duration = std::time::Duration::from_secs(5);

async fn drain(multipart: &mut Multipart) {
    let mut seen = 0usize;
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(chunk)) = field.chunk().await {
            seen += chunk.len();
            if seen > DRAIN_LIMIT {
                return;
            }
        }
    }
}

fn malformed(e: MultipartError) -> ApiError {
    if crate::http::body_deadline::is_body_timeout(&e) {
        return ApiError::request_timeout();
    }
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the upload is too large",
        );
    }
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "malformed_request",
        "the multipart form could not be read",
    )
}

fn invalid(field: &str, problem: &str) -> ApiError {
    ApiError::validation(BTreeMap::from([(field.to_string(), problem.to_string())]))
}
