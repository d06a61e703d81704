//! `GET /ws`: the web frontend (re)opens this socket whenever it submits an intent. It carries
//! no identity and sends nothing, so there is nothing it may be told: the socket is accepted,
//! takes a seat like an agent socket (at capacity: 1013), and is closed when the client goes,
//! at the agent sockets' idle timeout, or at shutdown (1001). Execution updates reach the
//! frontend by its status polls (and, for our own clients, the agent socket and the stream).

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;

use super::agent_ws::small_buffers;
use super::state::ExperienceState;

/// Largest frame read (and dropped) from this socket.
const MAX_FRAME: usize = 4 * 1024;

#[utoipa::path(
    get, path = "/ws", tag = "agents",
    responses((status = 101, description = "WebSocket that the web frontend opens and never uses: held open, answers pings, says nothing"))
)]
pub async fn silent_socket(State(state): State<ExperienceState>, ws: WebSocketUpgrade) -> Response {
    small_buffers(ws)
        .max_message_size(MAX_FRAME)
        .max_frame_size(MAX_FRAME)
        .on_upgrade(move |socket| hold(state, socket))
}

async fn hold(state: ExperienceState, mut socket: WebSocket) {
    let Some(_seat) = state.agent_sockets.seats.take() else {
        let _ = socket
            .send(Message::Close(Some(CloseFrame {
                code: close_code::AGAIN,
                reason: "Server at capacity".into(),
            })))
            .await;
        return;
    };
    let mut shutdown = state.shutdown.clone();
    let idle = state.settings.ws_idle;
    loop {
        tokio::select! {
            next = tokio::time::timeout(idle, socket.recv()) => match next {
                Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => return,
                // Whatever it says is dropped: this socket carries nothing.
                Ok(Some(Ok(_))) => {}
                Err(_) => {
                    let _ = socket
                        .send(Message::Close(Some(CloseFrame {
                            code: close_code::NORMAL,
                            reason: "idle".into(),
                        })))
                        .await;
                    return;
                }
            },
            _ = async { shutdown.wait_for(|stop| *stop).await.is_ok() } => {
                let _ = socket
                    .send(Message::Close(Some(CloseFrame {
                        code: close_code::AWAY,
                        reason: "server shutting down".into(),
                    })))
                    .await;
                return;
            }
        }
    }
}
