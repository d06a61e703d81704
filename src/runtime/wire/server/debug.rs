//! `POST /api/debug/fault` (feature `fault-injection`, service token):
//! `{"target": "router"|"session"|"execution"|"agent"|"connection"|"event_log"|"janitor",
//! "id": "...", "mode": "panic"|"kill"}` crashes the chosen actor of this running process, for
//! chaos tests. `id` names the session, execution or connection; for an agent it is
//! `<session id>:<agent>` (`guide`, `liaison.insights`, ...); singletons need none. Answers
//! 200 `{success, target, id, mode, actor_id}`, or 404 `actor_not_found` when no such actor is
//! running (a passivated session, a finished execution).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::RuntimeApiState;
use crate::actors::FaultMode;
use crate::http::{ApiError, ApiJson};

#[derive(Deserialize, utoipa::ToSchema)]
pub struct FaultRequest {
    /// `router`, `session`, `execution`, `agent`, `connection`, `event_log` or `janitor`.
    target: String,
    #[serde(default)]
    id: Option<String>,
    /// `panic` or `kill`.
    mode: String,
}

/// The registered name of a target (see `fault_target!` in each actor).
pub fn target_name(target: &str, id: Option<&str>) -> Result<String, (String, String)> {
    let need = |what: &str| -> Result<&str, (String, String)> {
        id.filter(|i| !i.is_empty())
            .ok_or_else(|| ("id".to_string(), format!("names the {what}")))
    };
    Ok(match target {
        "router" | "event_log" | "janitor" => target.to_string(),
        "session" => format!("session:{}", need("session")?),
        "execution" => format!("execution:{}", need("execution")?),
        "connection" => format!("connection:{}", need("connection")?),
        "agent" => format!("agent:{}", need("agent as <session id>:<agent>")?),
        _ => {
            return Err((
                "target".into(),
                "must be one of router, session, execution, agent, connection, event_log, janitor"
                    .into(),
            ))
        }
    })
}

#[utoipa::path(
    post, path = "/api/debug/fault", tag = "debug", request_body = FaultRequest,
    security(("service_token" = [])),
    responses(
        (status = 200, description = "The actor was crashed (builds with the `fault-injection` feature only)", body = Object),
        crate::http::openapi::Refusals,
    )
)]
pub async fn inject(
    State(state): State<RuntimeApiState>,
    ApiJson(req): ApiJson<FaultRequest>,
) -> Result<Json<Value>, ApiError> {
    let invalid = |(field, problem): (String, String)| {
        ApiError::validation(BTreeMap::from([(field, problem)]))
    };
    let name = target_name(&req.target, req.id.as_deref()).map_err(invalid)?;
    let mode = match req.mode.as_str() {
        "panic" => FaultMode::Panic,
        "kill" => FaultMode::Kill,
        _ => return Err(invalid(("mode".into(), "must be panic or kill".into()))),
    };
    let Some(actor) = state.faults.inject(&name, mode) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "actor_not_found",
            format!("no running actor is {name}"),
        ));
    };
    Ok(Json(json!({
        "success": true,
        "target": req.target,
        "id": req.id,
        "mode": req.mode,
        "actor_id": actor.to_string(),
    })))
}
