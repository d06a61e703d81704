//! Blob content and upload ingestion for an Experience Plane in another process:
//! `POST /api/blobs?limit=N` streams a request body into blob storage (413 beyond `limit`),
//! `POST /api/uploads/submit` records an uploaded blob and submits the intent that uses it.

use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use futures::TryStreamExt;
use serde::Deserialize;
use tokio_util::io::StreamReader;

use super::scope::CallerScope;
use super::RuntimeApiState;
use crate::http::body_deadline::TimeoutSeen;
use crate::http::{ApiError, ApiJson, ApiQuery};
use crate::runtime::contract::model::SubmitWithUpload;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BlobQuery {
    pub limit: u64,
}

#[utoipa::path(
    post, path = "/api/blobs", tag = "files", security(("service_token" = [])), params(BlobQuery),
    request_body(content_type = "application/octet-stream", content = Vec<u8>, description = "The file's bytes, streamed"),
    responses(
        (status = 201, description = "Stored by content hash", body = crate::store::blobs::BlobInfo),
        (status = 413, description = "Over `limit` bytes", body = crate::http::openapi::ErrorBody),
        crate::http::openapi::Refusals,
    )
)]
pub async fn put_blob(
    State(state): State<RuntimeApiState>,
    ApiQuery(q): ApiQuery<BlobQuery>,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let timeout = TimeoutSeen::default();
    let reader = StreamReader::new(body.into_data_stream().map_err(|e| timeout.io_error(e)));
    let blob = match state.client.put_blob(Box::pin(reader), q.limit).await {
        Ok(blob) => blob,
        Err(_) if timeout.seen() => return Err(ApiError::request_timeout()),
        Err(e) => return Err(e.into()),
    };
    Ok((StatusCode::CREATED, Json(blob)))
}

/// `POST /api/blobs/discard` with the `BlobInfo` that `POST /api/blobs` answered.
#[utoipa::path(
    post, path = "/api/blobs/discard", tag = "files", request_body = crate::store::blobs::BlobInfo, security(("service_token" = [])),
    responses((status = 200, description = "Removed, unless something else refers to it", body = Object), crate::http::openapi::Refusals)
)]
pub async fn discard_blob(
    State(state): State<RuntimeApiState>,
    ApiJson(blob): ApiJson<crate::store::blobs::BlobInfo>,
) -> Result<impl IntoResponse, ApiError> {
    state.client.discard_blob(&blob).await?;
    Ok(Json(serde_json::json!({"success": true})))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SubmitBody {
    #[serde(flatten)]
    pub upload: SubmitWithUpload,
    #[serde(default)]
    pub tenant_id: Option<String>,
}

#[utoipa::path(
    post, path = "/api/uploads/submit", tag = "files", request_body = SubmitBody, security(("service_token" = [])),
    responses((status = 202, description = "The upload recorded and its intent stored", body = crate::runtime::contract::model::IntentAccepted), crate::http::openapi::Refusals)
)]
pub async fn submit_with_upload(
    State(state): State<RuntimeApiState>,
    scope: CallerScope,
    ApiJson(body): ApiJson<SubmitBody>,
) -> Result<impl IntoResponse, ApiError> {
    let scope = scope.or_tenant(body.tenant_id);
    let accepted = state.client.submit_with_upload(&scope, body.upload).await?;
    Ok((StatusCode::ACCEPTED, Json(accepted)))
}
