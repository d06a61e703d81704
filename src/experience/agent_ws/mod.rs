//! `/api/runtime/agent`: the frontend's agent WebSocket. The handshake authenticates (token in
//! `access_token`, or the old `session_token`; none for an anonymous session), refusing with
//! one error message and close 1008, or 1013 at capacity; each accepted socket gets its own
//! supervised WsConnectionActor.

pub mod chat_turn;
pub mod connection;
mod conversations;
pub mod protocol;
pub mod supervisor;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use ractor::{Actor, ActorRef};
use serde::Deserialize;

use connection::{ConnArgs, Identity, WsConnectionActor};
use supervisor::Seats;

use super::ExperienceState;
use crate::actors::Slot;
use crate::http::{ApiError, ApiQuery};
use crate::runtime::contract::model::Scope;

/// What the Experience Plane keeps for agent sockets.
#[derive(Clone)]
pub struct AgentSockets {
    pub seats: Seats,
    pub supervisor: Slot<()>,
    /// Each session's open sockets and the conversations they took part in.
    pub sessions: std::sync::Arc<conversations::SocketSessions>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgentQuery {
    #[serde(default)]
    access_token: Option<String>,
    /// The old name of `access_token`, still sent by some clients.
    #[serde(default)]
    session_token: Option<String>,
    #[serde(default)]
    session_id: Option<String>,
    /// Replay from here on connect (an extension for reconnecting clients: the same as a first
    /// `resume`, without live events racing ahead of the replay).
    #[serde(default)]
    after_seq: Option<i64>,
    /// `all`: hear every agent conversation of the session live, not only this socket's own
    /// (see `conversations.rs`).
    #[serde(default)]
    conversations: Option<String>,
}

/// Small transport buffers: an idle socket holds a few KiB instead of the 2 × 128 KiB the
/// defaults reserve (BENCHMARKS.md, idle connections). Messages are small JSON; a large one is
/// read in several chunks, and each frame is written as it is sent.
pub fn small_buffers(ws: WebSocketUpgrade) -> WebSocketUpgrade {
    ws.read_buffer_size(4 * 1024).write_buffer_size(0)
}

#[utoipa::path(
    get, path = "/api/runtime/agent", tag = "agents",
    params(AgentQuery),
    responses(
        (status = 101, description = "WebSocket: chat with the Guide and the Liaisons, and the session's events (docs/experience-api.md, PROTOCOL.md)"),
        (status = 400, description = "Not a WebSocket upgrade", body = crate::http::openapi::ErrorBody),
    )
)]
pub async fn agent_socket(
    State(state): State<ExperienceState>,
    ApiQuery(q): ApiQuery<AgentQuery>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_request",
            "this endpoint needs a WebSocket upgrade",
        )
    })?;
    // Messages and frames over 64 KiB are refused by the transport, before they are buffered;
    // the connection closes with 1009 whatever their size.
    Ok(small_buffers(ws)
        .max_message_size(connection::MAX_FRAME_BYTES)
        .max_frame_size(connection::MAX_FRAME_BYTES)
        .on_upgrade(move |socket| accept(state, q, socket)))
}

struct Refusal {
    code: &'static str,
    reason: &'static str,
}

async fn authenticate(state: &ExperienceState, q: &AgentQuery) -> Result<Identity, Refusal> {
    const UNKNOWN: Refusal = Refusal {
        code: "session_not_found",
        reason: "Unknown session",
    };
    let token = q
        .access_token
        .as_deref()
        .or(q.session_token.as_deref())
        .filter(|t| !t.is_empty());
    let claims = match token {
        Some(t) => Some(state.guard.verify_access(t).map_err(|_| Refusal {
            code: "invalid_token",
            reason: "Invalid access token",
        })?),
        None => None,
    };
    let Some(session_id) = q.session_id.as_deref().filter(|s| !s.is_empty()) else {
        return Err(match claims {
            Some(_) => UNKNOWN,
            None => Refusal {
                code: "unauthorized",
                reason: "Access token required",
            },
        });
    };
    let scope = match &claims {
        Some(c) => Scope::Tenant(c.tid.clone()),
        None => Scope::Any,
    };
    let session = state
        .runtime
        .get_session(&scope, session_id)
        .await
        .map_err(|_| UNKNOWN)?;
    // The same rule as the REST routes: a bare session id is the capability, unless the
    // session was superseded by an upgrade, or strict mode wants a token for a user's session.
    if claims.is_none() {
        if session.superseded_by.is_some() {
            return Err(UNKNOWN);
        }
        if state.settings.auth_strict && session.user_id.is_some() {
            return Err(Refusal {
                code: "unauthorized",
                reason: "Access token required",
            });
        }
    }
    Ok(Identity {
        connection_id: uuid::Uuid::new_v4().to_string(),
        session_id: session.session_id,
        user_id: session.user_id,
        tenant_id: session.tenant_id,
        scope,
    })
}

async fn accept(state: ExperienceState, q: AgentQuery, socket: WebSocket) {
    let who = match authenticate(&state, &q).await {
        Ok(who) => who,
        Err(r) => return refuse(socket, close_code::POLICY, r.code, r.reason).await,
    };
    let Some(seat) = state.agent_sockets.seats.take() else {
        return refuse(
            socket,
            close_code::AGAIN,
            "server_at_capacity",
            "Server at capacity",
        )
        .await;
    };
    let last_seq = match state.runtime.last_seq(&who.scope, &who.session_id).await {
        Ok(n) => n,
        Err(_) => {
            return refuse(
                socket,
                close_code::ERROR,
                "runtime_unavailable",
                "Runtime unavailable",
            )
            .await;
        }
    };
    let start_after = q.after_seq.map_or(last_seq, |n| n.clamp(0, last_seq));
    let args = ConnArgs {
        state: state.clone(),
        who,
        socket,
        last_seq,
        start_after,
        seat,
        all_conversations: q.conversations.as_deref() == Some("all"),
    };
    let spawned = match state.agent_sockets.supervisor.get() {
        Some(sup) => Actor::spawn_linked(None, WsConnectionActor, args, sup.get_cell()).await,
        None => Actor::spawn(None, WsConnectionActor, args).await,
    };
    if let Err(e) = spawned {
        tracing::error!(error = %e, "connection actor failed to start");
    }
}

async fn refuse(mut socket: WebSocket, close: u16, code: &str, reason: &str) {
    let _ = socket
        .send(Message::Text(protocol::error(code, reason).into()))
        .await;
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code: close,
            reason: reason.into(),
        })))
        .await;
}

/// Starts the connection supervisor (the Experience Plane's actor root for sockets).
pub async fn start_supervisor(sockets: &AgentSockets) -> anyhow::Result<ActorRef<()>> {
    let (sup, _) = Actor::spawn(None, supervisor::ConnectionSupervisor, ())
        .await
        .map_err(|e| anyhow::anyhow!("connection supervisor: {e}"))?;
    sockets.supervisor.set(sup.clone());
    Ok(sup)
}
