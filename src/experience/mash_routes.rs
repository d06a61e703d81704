//! `POST /api/v1/content/data-mash/create` (alias `/v1/content/data-mash/create`):
//! `{content_refs, session_id, tenant_id?, options?}` submits a `data_mash.create` intent and
//! answers 202 `{success, mash_id, execution_id, status}`. The result is in the execution's
//! artifacts (`mash`, and the combined `parsed_file`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::access::session_scope;
use super::auth_user::MaybeUser;
use super::state::ExperienceState;
use crate::http::idempotency::idempotency_key;
use crate::http::{ApiError, ApiJson};
use crate::runtime::contract::model::{IntentRequest, MashAccepted};
use crate::runtime::RuntimeError;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct MashBody {
    #[serde(default)]
    content_refs: Option<Value>,
    #[serde(default)]
    session_id: String,
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    options: Option<Value>,
}

#[utoipa::path(
    post, path = "/api/v1/content/data-mash/create", tag = "files", operation_id = "create_mash",
    request_body = MashBody, security((), ("bearer" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "A repeat with the same key returns the first mash")),
    responses((status = 202, description = "Stored; the mash runs", body = MashAccepted), crate::http::openapi::Refusals)
)]
pub async fn create(
    State(state): State<ExperienceState>,
    MaybeUser(user): MaybeUser,
    headers: HeaderMap,
    ApiJson(body): ApiJson<MashBody>,
) -> Result<impl IntoResponse, ApiError> {
    if body.session_id.is_empty() {
        return Err(RuntimeError::invalid("session_id", "is required").into());
    }
    let scope = session_scope(&state, &user, &body.session_id, body.tenant_id.as_deref()).await?;
    let mut parameters = json!({ "content_refs": body.content_refs });
    if let Some(options) = body.options {
        parameters["options"] = options;
    }
    let request = IntentRequest {
        intent_type: "data_mash.create".into(),
        session_id: body.session_id,
        tenant_id: body.tenant_id,
        parameters: Some(parameters),
        idempotency_key: idempotency_key(&headers),
        ..Default::default()
    };
    let accepted = state
        .runtime
        .submit_intent(&scope, request)
        .await
        // The body's fields are top-level here: `content_refs`, `options.join`.
        .map_err(RuntimeError::top_level_fields)?;
    // A mash always announces its id: an answer without one is the execution of an earlier,
    // different request that used the same idempotency key.
    let Some(mash_id) = accepted.produces.get("mash_id").and_then(|v| v.as_str()) else {
        return Err(super::upload::key_used_elsewhere().into());
    };
    let mash_id = mash_id.to_string();
    Ok((
        StatusCode::ACCEPTED,
        Json(MashAccepted {
            success: true,
            mash_id,
            execution_id: accepted.execution_id,
            status: accepted.status,
        }),
    ))
}
