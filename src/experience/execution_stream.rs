//! `WS /api/execution/{id}/stream`: pushes the ExecutionStatus on every change of the
//! execution (driven by its events, no polling), and closes with 1000 after a terminal one.
//! Browsers cannot set headers on a WebSocket, so the token may also come as `?access_token=`.

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::response::Response;
use futures::StreamExt;
use serde::Deserialize;

use super::access::execution_scope;
use super::auth_user::bearer_token;
use super::state::ExperienceState;
use crate::http::{ApiError, ApiQuery};
use crate::runtime::model::{ExecutionStatus, Scope, StatusOptions};

#[derive(Deserialize)]
pub struct StreamQuery {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    tenant_id: Option<String>,
}

pub async fn stream_status(
    State(state): State<ExperienceState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<StreamQuery>,
    parts: Parts,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
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
    Ok(ws.on_upgrade(move |socket| push_statuses(state, socket, first)))
}

async fn push_statuses(state: ExperienceState, mut socket: WebSocket, first: ExecutionStatus) {
    let execution_id = first.execution_id.clone();
    let span =
        tracing::info_span!("execution_stream", session_id = %first.session_id, %execution_id);
    let _enter = span.enter();
    let last_seq = first
        .events
        .as_ref()
        .and_then(|e| e.iter().map(|e| e.seq).max())
        .unwrap_or(0);
    if !send_status(&mut socket, &first).await || first.is_terminal() {
        close(socket).await;
        return;
    }
    let events = state
        .runtime
        .subscribe(&Scope::Any, &first.session_id, last_seq)
        .await;
    let Ok(mut events) = events else {
        close(socket).await;
        return;
    };
    loop {
        tokio::select! {
            event = events.next() => {
                let Some(Ok(event)) = event else { break };
                if event.execution_id.as_deref() != Some(execution_id.as_str()) {
                    continue;
                }
                let Ok(status) = state
                    .runtime
                    .execution_status(&Scope::Any, &execution_id, StatusOptions::default())
                    .await
                else {
                    break;
                };
                if !send_status(&mut socket, &status).await {
                    return;
                }
                if status.is_terminal() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
    close(socket).await;
}

async fn send_status(socket: &mut WebSocket, status: &ExecutionStatus) -> bool {
    match serde_json::to_string(status) {
        Ok(text) => socket.send(Message::Text(text.into())).await.is_ok(),
        Err(_) => false,
    }
}

async fn close(mut socket: WebSocket) {
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: 1000,
            reason: "execution finished".into(),
        })))
        .await;
}
