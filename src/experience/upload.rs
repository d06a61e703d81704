//! `POST /api/v1/content/upload` (alias `/v1/content/upload`): a multipart form with `file`,
//! `session_id`, `tenant_id?` and `ui_name?`. The file streams into blob storage through the
//! runtime client (never whole in memory), limited to `SYMPHAINY_MAX_UPLOAD_BYTES` (413 with
//! nothing kept), then it is submitted as an `ingest_file` intent. The client's file name is
//! only ever a display name.

use std::collections::BTreeMap;

use axum::extract::multipart::{MultipartError, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use futures::TryStreamExt;
use tokio_util::io::StreamReader;

use super::access::session_scope;
use super::auth_user::MaybeUser;
use super::state::ExperienceState;
use crate::http::ApiError;
use crate::runtime::model::IngestUpload;
use crate::store::blobs::BlobInfo;

struct Received {
    blob: BlobInfo,
    filename: String,
    mime_type: Option<String>,
}

pub async fn upload(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let mut multipart = multipart.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            "expected a multipart/form-data body",
        )
    })?;
    let mut session_id: Option<String> = None;
    let mut tenant_id: Option<String> = None;
    let mut ui_name: Option<String> = None;
    let mut received: Option<Received> = None;
    let outcome = async {
        while let Some(field) = multipart.next_field().await.map_err(malformed)? {
            match field.name().unwrap_or_default() {
                "file" => {
                    if received.is_some() {
                        return Err(invalid("file", "send one file per upload"));
                    }
                    // Refuse early when the session came first and is not usable.
                    if let Some(sid) = &session_id {
                        session_scope(&state, &user, sid, tenant_id.as_deref()).await?;
                    }
                    let filename = field.file_name().unwrap_or("file").to_string();
                    let mime_type = field.content_type().map(str::to_string);
                    let reader = StreamReader::new(field.map_err(std::io::Error::other));
                    let limit = state.settings.max_upload_bytes;
                    let blob = state.runtime.put_blob(Box::pin(reader), limit).await?;
                    received = Some(Received {
                        blob,
                        filename,
                        mime_type,
                    });
                }
                "session_id" => session_id = Some(field.text().await.map_err(malformed)?),
                "tenant_id" => {
                    tenant_id =
                        Some(field.text().await.map_err(malformed)?).filter(|t| !t.is_empty())
                }
                "ui_name" => {
                    ui_name = Some(field.text().await.map_err(malformed)?).filter(|t| !t.is_empty())
                }
                _ => {
                    // Unknown parts are read and dropped.
                    let _ = field.bytes().await.map_err(malformed)?;
                }
            }
        }
        let Some(r) = received.as_ref() else {
            return Err(invalid("file", "is required"));
        };
        let Some(sid) = session_id.clone().filter(|s| !s.is_empty()) else {
            return Err(invalid("session_id", "is required"));
        };
        let scope = session_scope(&state, &user, &sid, tenant_id.as_deref()).await?;
        let accepted = state
            .runtime
            .ingest_upload(
                &scope,
                IngestUpload {
                    session_id: sid,
                    sha256: r.blob.sha256.clone(),
                    size_bytes: r.blob.size_bytes,
                    filename: r.filename.clone(),
                    ui_name: ui_name.clone(),
                    mime_type: r.mime_type.clone(),
                },
            )
            .await?;
        Ok(accepted)
    }
    .await;
    match outcome {
        Ok(accepted) => Ok((StatusCode::ACCEPTED, Json(accepted))),
        Err(e) => {
            // Content that arrived for a refused upload is not kept.
            if let Some(r) = received {
                let _ = state.runtime.release_blob(&r.blob.sha256).await;
            }
            Err(e)
        }
    }
}

fn malformed(e: MultipartError) -> ApiError {
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
