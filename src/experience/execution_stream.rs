//! `WS /api/execution/{id}/stream`: pushes the ExecutionStatus on every change of the
//! execution (driven by its events, no polling), and closes with 1000 after a terminal one
//! (1001 when the server shuts down, 1011 when the status cannot be read). It pings the client
//! and closes with 1000 `Idle timeout` when no frame (a pong included) came for
//! `SYMPHAINY_WS_IDLE_SECS`.
//! Browsers cannot set headers on a WebSocket, so the token may also come as `?access_token=`.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use futures::StreamExt;
use serde::Deserialize;
use std::time::Duration;
use tokio::time::Instant;
use tracing::Instrument;

use super::access::execution_scope;
use super::agent_ws::connection::PING_EVERY;
use super::auth_user::bearer_token;
use super::state::ExperienceState;
use crate::http::{ApiError, ApiPath, ApiQuery};
use crate::runtime::contract::event_type::EventType;
use crate::runtime::contract::model::{ExecutionStatus, Scope, StatusOptions};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    tenant_id: Option<String>,
}

#[utoipa::path(
    get, path = "/api/execution/{id}/stream", tag = "executions",
    params(("id" = String, Path, description = "The execution's id"), StreamQuery),
    responses(
        (status = 101, description = "WebSocket: the execution's status (as `GET .../status`) as a text frame on each change, closed once it is terminal"),
        crate::http::openapi::Refusals,
    )
)]
pub async fn stream_status(
    State(state): State<ExperienceState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<StreamQuery>,
    parts: Parts,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            "this endpoint needs a WebSocket upgrade",
        )
    })?;
    let token = bearer_token(&parts).map(str::to_string).or(q.access_token);
    let user = match token {
        Some(t) => Some(state.guard.verify_access(&t)?),
        None => None,
    };
    let scope = execution_scope(&state, &user, &id, q.tenant_id.as_deref()).await?;
    let first = state
        .runtime
        .execution_status(&scope, &id, StatusOptions::default())
        .await?;
    let span = tracing::info_span!("execution_stream", session_id = %first.session_id, execution_id = %first.execution_id);
    Ok(super::agent_ws::small_buffers(ws)
        .on_upgrade(move |socket| push_statuses(state, socket, first).instrument(span)))
}

/// Why the stream ends, and the close code that says so.
enum End {
    Finished,
    ShuttingDown,
    Failed,
    ClientGone,
    Idle,
}

async fn push_statuses(state: ExperienceState, mut socket: WebSocket, first: ExecutionStatus) {
    let mut end = follow(&state, &mut socket, first).await;
    // A read that failed because the server is stopping under it is the shutdown's doing.
    if matches!(end, End::Failed) && *state.shutdown.borrow() {
        end = End::ShuttingDown;
    }
    let (code, reason) = match end {
        End::Finished => (close_code::NORMAL, "execution finished"),
        End::ShuttingDown => (close_code::AWAY, "server shutting down"),
        End::Failed => (close_code::ERROR, "status unavailable"),
        End::Idle => (close_code::NORMAL, "Idle timeout"),
        End::ClientGone => return,
    };
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

async fn follow(state: &ExperienceState, socket: &mut WebSocket, first: ExecutionStatus) -> End {
    let execution_id = first.execution_id.clone();
    let last_seq = first
        .events
        .as_ref()
        .and_then(|e| e.iter().map(|e| e.seq).max())
        .unwrap_or(0);
    if !send_status(socket, &first).await {
        return End::ClientGone;
    }
    if first.is_terminal() {
        return End::Finished;
    }
    let Ok(mut events) = state
        .runtime
        .subscribe(&Scope::Any, &first.session_id, last_seq)
        .await
    else {
        return End::Failed;
    };
    // `first` read the execution's row and then its events: an ending committed between the
    // two is in the events (so not replayed after `last_seq`) but not in the row. Read again
    // now that the subscription holds everything after `last_seq`.
    let Ok(now) = state
        .runtime
        .execution_status(&Scope::Any, &execution_id, StatusOptions::default())
        .await
    else {
        return End::Failed;
    };
    if now != first {
        if !send_status(socket, &now).await {
            return End::ClientGone;
        }
        if now.is_terminal() {
            return End::Finished;
        }
    }
    // The status last sent: a progress event only adds itself to it (no read again, so a
    // long step's reports each second cost one small frame, not a whole status read).
    let mut current = now;
    let mut shutdown = state.shutdown.clone();
    let closing = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    tokio::pin!(closing);
    // Pings often enough that a client answering them is never idle.
    let idle = state.settings.ws_idle;
    let every = PING_EVERY.min(idle / 2).max(Duration::from_millis(1));
    let mut ping = tokio::time::interval_at(Instant::now() + every, every);
    let mut last_frame = Instant::now();
    loop {
        tokio::select! {
            // Shutdown first: as the server stops, the event stream ends too, and the client
            // must hear "going away" (1001), not "failed" (1011).
            biased;
            _ = &mut closing => return End::ShuttingDown,
            event = events.next() => {
                let Some(Ok(event)) = event else { return End::Failed };
                if event.execution_id.as_deref() != Some(execution_id.as_str()) {
                    continue;
                }
                if event.kind() == Some(EventType::ExecutionProgress) {
                    current.progress = Some(event.data.clone());
                    if let Some(events) = current.events.as_mut() {
                        events.push(event);
                    }
                    if !send_status(socket, &current).await {
                        return End::ClientGone;
                    }
                    continue;
                }
                let Ok(status) = state
                    .runtime
                    .execution_status(&Scope::Any, &execution_id, StatusOptions::default())
                    .await
                else {
                    return End::Failed;
                };
                if !send_status(socket, &status).await {
                    return End::ClientGone;
                }
                if status.is_terminal() {
                    return End::Finished;
                }
                current = status;
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return End::ClientGone,
                Some(Ok(_)) => last_frame = Instant::now(),
            },
            _ = ping.tick() => {
                if last_frame.elapsed() >= idle {
                    return End::Idle;
                }
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return End::ClientGone;
                }
            }
        }
    }
}

async fn send_status(socket: &mut WebSocket, status: &ExecutionStatus) -> bool {
    match serde_json::to_string(status) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}
