//! WsConnectionActor: one per agent WebSocket. The socket is split between a reader task
//! (frames in → messages to the actor) and a writer task fed by a bounded queue; the actor
//! decides. Each client frame is read only once the queue has room for its answer (a pong or a
//! protocol error is never dropped: a flooding client is slowed down, not ignored). Events of
//! the session reach the queue from a subscription task: stored ones (a replay) at the client's
//! pace, live ones at once; a client too slow for live events is closed with 1013 (its events
//! stay stored: `resume` recovers them). Transport errors close with the matching code: invalid
//! UTF-8 1007, a protocol violation 1002, a message over 64 KiB 1009.
//! When the actor ends for any reason its queue closes, the writer closes the socket, and the
//! reader and subscription tasks end with it — nothing depends on `post_stop`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket};
use futures::{SinkExt, StreamExt};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::chat_turn::chat_turn;
use super::conversations::ConversationFilter;
use super::protocol::{self, ClientMsg};
use super::supervisor::Seat;
use crate::experience::ExperienceState;
use crate::runtime::contract::model::{AgentMessage, ApprovalDecision, Scope, StatusOptions};

/// Frames larger than this are refused with close code 1009.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// How often sockets are pinged (more often when the idle timeout is shorter).
pub const PING_EVERY: Duration = Duration::from_secs(30);

pub enum ConnMsg {
    /// A client message, with the queue slot its answer may use.
    Frame(String, mpsc::OwnedPermit<Outbound>),
    /// The transport refused what the client sent: close with this code and reason.
    Refused(u16, &'static str),
    ClientGone,
    /// Live events came faster than the client reads them.
    TooSlow {
        generation: u64,
    },
    StreamEnded {
        generation: u64,
    },
    Tick,
    ServerClosing,
    /// Something for the client, from a task the actor started.
    Send(String),
    /// Panics in the handler (feature `fault-injection`: chaos tests).
    #[cfg(feature = "fault-injection")]
    Panic,
}

pub enum Outbound {
    Text(String),
    Ping,
    Close(u16, String),
}

pub struct Identity {
    pub connection_id: String,
    pub session_id: String,
    pub user_id: Option<String>,
    pub tenant_id: Option<String>,
    pub scope: Scope,
}

pub struct ConnArgs {
    pub state: ExperienceState,
    pub who: Identity,
    pub socket: WebSocket,
    pub last_seq: i64,
    /// Events with a larger `seq` are sent (replayed, then live).
    pub start_after: i64,
    pub seat: Seat,
    /// Hear every agent conversation live (`conversations=all`), not only this socket's own.
    pub all_conversations: bool,
}

pub struct ConnState {
    state: ExperienceState,
    who: Identity,
    out: mpsc::Sender<Outbound>,
    generation: u64,
    /// `generation`, for the subscription task (a superseded one stops sending).
    current: Arc<AtomicU64>,
    subscription: Option<JoinHandle<()>>,
    /// The agent conversations this socket hears live.
    conversations: Arc<ConversationFilter>,
    last_frame: Instant,
    _seat: Seat,
}

pub struct WsConnectionActor;

impl Actor for WsConnectionActor {
    type Msg = ConnMsg;
    type State = ConnState;
    type Arguments = ConnArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: ConnArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        crate::fault_target!(
            args.state.faults,
            format!("connection:{}", args.who.connection_id),
            myself,
            ConnMsg::Panic
        );
        let (sink, stream) = args.socket.split();
        let (out, rx) = mpsc::channel(args.state.settings.ws_outbound_queue);
        let stall = args.state.settings.ws_idle;
        tokio::spawn(write(sink, rx, myself.clone(), stall));
        let hello = protocol::established(
            &args.who.connection_id,
            &args.who.session_id,
            args.who.user_id.as_deref(),
            args.who.tenant_id.as_deref(),
            args.last_seq,
        );
        let _ = out.try_send(Outbound::Text(hello));
        // Read only once the first message is queued: frames reserve queue room for answers.
        tokio::spawn(read(stream, myself.clone(), out.downgrade()));
        let conversations = args
            .state
            .agent_sockets
            .sessions
            .join(&args.who.session_id, args.all_conversations);
        let mut state = ConnState {
            state: args.state,
            who: args.who,
            out,
            generation: 0,
            current: Arc::new(AtomicU64::new(0)),
            subscription: None,
            conversations,
            last_frame: Instant::now(),
            _seat: args.seat,
        };
        subscribe(&myself, &mut state, args.start_after, Some(args.last_seq));
        myself.send_after(PING_EVERY.min(state.state.settings.ws_idle), || {
            ConnMsg::Tick
        });
        let mut shutdown = state.state.shutdown.clone();
        let me = myself.clone();
        tokio::spawn(async move {
            // Ends with the connection, or tells it the server is going down.
            let cell = me.get_cell();
            tokio::select! {
                _ = cell.wait(None) => {}
                changed = shutdown.wait_for(|stop| *stop) => {
                    if changed.is_ok() {
                        let _ = me.send_message(ConnMsg::ServerClosing);
                    }
                }
            }
        });
        tracing::info!(connection_id = %state.who.connection_id, session_id = %state.who.session_id, "agent socket connected");
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            #[cfg(feature = "fault-injection")]
            ConnMsg::Panic => panic!("fault injected into connection {}", state.who.connection_id),
            ConnMsg::Frame(text, slot) => {
                state.last_frame = Instant::now();
                on_client_message(&myself, state, &text, slot);
            }
            ConnMsg::Refused(code, reason) => close(&myself, state, code, reason),
            ConnMsg::ClientGone => myself.stop(None),
            ConnMsg::TooSlow { generation } if generation == state.generation => {
                // The client does not keep up. Its events stay stored; `resume` recovers them.
                tracing::warn!(connection_id = %state.who.connection_id, "client too slow; closing");
                close(&myself, state, close_code::AGAIN, TOO_SLOW);
            }
            ConnMsg::TooSlow { .. } => {}
            ConnMsg::StreamEnded { generation } if generation == state.generation => {
                send(
                    &myself,
                    state,
                    protocol::error(
                        "stream_interrupted",
                        "the event stream was interrupted; send resume",
                    ),
                );
            }
            ConnMsg::StreamEnded { .. } => {}
            ConnMsg::Tick => {
                let idle = state.state.settings.ws_idle;
                if state.last_frame.elapsed() >= idle {
                    close(&myself, state, close_code::NORMAL, "Idle timeout");
                } else {
                    let _ = state.out.try_send(Outbound::Ping);
                    myself.send_after(PING_EVERY.min(idle), || ConnMsg::Tick);
                }
            }
            ConnMsg::ServerClosing => {
                close(&myself, state, close_code::AWAY, "Server shutting down")
            }
            ConnMsg::Send(text) => send(&myself, state, text),
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(sub) = state.subscription.take() {
            sub.abort();
        }
        tracing::info!(connection_id = %state.who.connection_id, "agent socket closed");
        Ok(())
    }
}

const TOO_SLOW: &str = "Client too slow; resume to catch up";

/// Queues a message the client did not ask for in this frame; nothing is dropped silently: a
/// full queue closes the connection (1013).
fn send(myself: &ActorRef<ConnMsg>, state: &ConnState, text: String) {
    if let Err(mpsc::error::TrySendError::Full(_)) = state.out.try_send(Outbound::Text(text)) {
        close(myself, state, close_code::AGAIN, TOO_SLOW);
    }
}

fn close(myself: &ActorRef<ConnMsg>, state: &ConnState, code: u16, reason: &str) {
    // The close goes ahead of whatever is queued if the queue is full.
    let out = state.out.clone();
    let reason = reason.to_string();
    tokio::spawn(async move {
        let _ = out.send(Outbound::Close(code, reason)).await;
    });
    myself.stop(None);
}

/// (Re)starts the event subscription after `after_seq` (clamped to the session's last stored
/// `seq`, as the URL's `after_seq` is: a resume from the future would hear nothing). Stored
/// events (up to `last_seq`, fetched when not given) are queued at the client's pace, live ones
/// at once (a full queue: 1013). A superseded subscription stops sending.
fn subscribe(
    myself: &ActorRef<ConnMsg>,
    state: &mut ConnState,
    after_seq: i64,
    last_seq: Option<i64>,
) {
    if let Some(old) = state.subscription.take() {
        old.abort();
    }
    state.generation += 1;
    let generation = state.generation;
    state.current.store(generation, Ordering::SeqCst);
    let current = state.current.clone();
    let runtime = state.state.runtime.clone();
    let scope = state.who.scope.clone();
    let session_id = state.who.session_id.clone();
    let out = state.out.downgrade();
    let me = myself.clone();
    let conversations = state.conversations.clone();
    state.subscription = Some(tokio::spawn(async move {
        let last_seq = match last_seq {
            Some(n) => Ok(n),
            None => runtime.last_seq(&scope, &session_id).await,
        };
        let opened = match last_seq {
            Ok(last) => runtime
                .subscribe(&scope, &session_id, after_seq.clamp(0, last))
                .await
                .map(|events| (last, events)),
            Err(e) => Err(e),
        };
        let Ok((last_seq, mut events)) = opened else {
            let _ = me.send_message(ConnMsg::StreamEnded { generation });
            return;
        };
        while let Some(item) = events.next().await {
            let Ok(event) = item else { break };
            let Some(out) = out.upgrade() else { return };
            if current.load(Ordering::SeqCst) != generation {
                return;
            }
            if event.seq > last_seq && !conversations.hears(&event) {
                // Another socket's conversation, live: its panel shows it, not this one.
                continue;
            }
            let frames =
                std::iter::once(protocol::event(&event)).chain(protocol::compat_frame(&event));
            for frame in frames {
                let text = Outbound::Text(frame);
                if event.seq <= last_seq {
                    // A replay: read from the store as fast as the client takes it.
                    if out.send(text).await.is_err() {
                        return;
                    }
                } else if let Err(e) = out.try_send(text) {
                    if matches!(e, mpsc::error::TrySendError::Full(_)) {
                        let _ = me.send_message(ConnMsg::TooSlow { generation });
                    }
                    return;
                }
            }
        }
        let _ = me.send_message(ConnMsg::StreamEnded { generation });
    }));
}

/// Handles one client message; `slot` is the queue room reserved for its direct answer.
fn on_client_message(
    myself: &ActorRef<ConnMsg>,
    state: &mut ConnState,
    text: &str,
    slot: mpsc::OwnedPermit<Outbound>,
) {
    let answer = |text: String| {
        slot.send(Outbound::Text(text));
    };
    match protocol::parse(text) {
        Err(e) => answer(protocol::error(e.code, &e.message)),
        Ok(ClientMsg::Ping) => answer(protocol::pong()),
        Ok(ClientMsg::Resume { after_seq }) => subscribe(myself, state, after_seq, None),
        Ok(ClientMsg::Chat(msg)) => match chat_turn(&msg, &state.who.session_id) {
            Err(why) => answer(protocol::error("invalid_message", &why)),
            Ok(turn) => {
                state.conversations.joined(&turn.conversation_id);
                let (runtime, scope, session_id, me) = task_parts(myself, state);
                tokio::spawn(async move {
                    let request = AgentMessage {
                        session_id,
                        agent: turn.agent.id().to_string(),
                        conversation_id: turn.conversation_id,
                        text: turn.text,
                        metadata: turn.metadata,
                    };
                    // The answer arrives as events in the session's log.
                    let sent = match still_allowed(&*runtime, &scope, &request.session_id).await {
                        Ok(()) => runtime.agent_message(&scope, request).await.map(|_| ()),
                        Err(e) => Err(e),
                    };
                    if let Err(e) = sent {
                        let _ = me.send_message(ConnMsg::Send(runtime_error(e)));
                    }
                });
            }
        },
        Ok(ClientMsg::Cancel { execution_id }) => {
            let (runtime, scope, session_id, me) = task_parts(myself, state);
            tokio::spawn(async move {
                let opts = StatusOptions {
                    include_artifacts: false,
                    include_events: false,
                };
                let status = match still_allowed(&*runtime, &scope, &session_id).await {
                    Ok(()) => runtime.execution_status(&scope, &execution_id, opts).await,
                    Err(e) => Err(e),
                };
                let result = match status {
                    Ok(s) if s.session_id == session_id => {
                        runtime.cancel_execution(&scope, &execution_id).await
                    }
                    Ok(_) => Err(crate::runtime::RuntimeError::not_found("execution")),
                    Err(e) => Err(e),
                };
                if let Err(e) = result {
                    let _ = me.send_message(ConnMsg::Send(runtime_error(e)));
                }
            });
        }
        Ok(ClientMsg::SafetyResponse {
            hook_id,
            approved,
            reason,
        }) => {
            let (runtime, scope, session_id, me) = task_parts(myself, state);
            tokio::spawn(async move {
                let decision = ApprovalDecision {
                    hook_id,
                    approved,
                    reason,
                };
                // Only this session's hooks: an approval never crosses sessions.
                let decided = match still_allowed(&*runtime, &scope, &session_id).await {
                    Ok(()) => runtime
                        .decide_hook(&scope, &session_id, decision)
                        .await
                        .map(|_| ()),
                    Err(e) => Err(e),
                };
                if let Err(e) = decided {
                    let _ = me.send_message(ConnMsg::Send(runtime_error(e)));
                }
            });
        }
    }
}

/// A socket opened without a token on an anonymous session may not act once that session was
/// upgraded (its id may be an attacker's: session fixation); the owner goes on under the new id.
async fn still_allowed(
    runtime: &dyn crate::runtime::RuntimeClient,
    scope: &Scope,
    session_id: &str,
) -> Result<(), crate::runtime::RuntimeError> {
    if !matches!(scope, Scope::Any) {
        return Ok(());
    }
    match runtime.get_session(scope, session_id).await?.superseded_by {
        Some(_) => Err(crate::runtime::RuntimeError::not_found("session")),
        None => Ok(()),
    }
}

type TaskParts = (
    std::sync::Arc<dyn crate::runtime::RuntimeClient>,
    Scope,
    String,
    ActorRef<ConnMsg>,
);

fn task_parts(myself: &ActorRef<ConnMsg>, state: &ConnState) -> TaskParts {
    (
        state.state.runtime.clone(),
        state.who.scope.clone(),
        state.who.session_id.clone(),
        myself.clone(),
    )
}

fn runtime_error(e: crate::runtime::RuntimeError) -> String {
    let api = crate::http::ApiError::from(e);
    protocol::error(&api.code, &api.message)
}

/// Writes the queue to the socket. A client that takes none of it for `stall` (it neither
/// reads nor closes) is let go: the connection ends without waiting for it any longer.
async fn write(
    mut sink: futures::stream::SplitSink<WebSocket, Message>,
    mut rx: mpsc::Receiver<Outbound>,
    actor: ActorRef<ConnMsg>,
    stall: Duration,
) {
    while let Some(item) = rx.recv().await {
        let (message, last) = match item {
            Outbound::Text(t) => (Message::Text(t.into()), false),
            Outbound::Ping => (Message::Ping(Vec::new().into()), false),
            Outbound::Close(code, reason) => (
                Message::Close(Some(CloseFrame {
                    code,
                    reason: reason.into(),
                })),
                true,
            ),
        };
        match tokio::time::timeout(stall, sink.send(message)).await {
            Ok(Ok(())) if !last => {}
            Ok(_) => return,
            Err(_) => {
                tracing::info!("client reads nothing; dropping the connection");
                actor.stop(None);
                return;
            }
        }
    }
    // The actor is gone without saying why: an internal failure.
    let close = Message::Close(Some(CloseFrame {
        code: close_code::ERROR,
        reason: "connection ended; reconnect and resume".into(),
    }));
    let _ = tokio::time::timeout(stall, sink.send(close)).await;
}

async fn read(
    mut stream: futures::stream::SplitStream<WebSocket>,
    actor: ActorRef<ConnMsg>,
    out: mpsc::WeakSender<Outbound>,
) {
    // Ends with the connection (after reading on a little, for the client's close), so that
    // the socket closes once the writer is done too.
    let cell = actor.get_cell();
    let ended = cell.wait(None);
    tokio::pin!(ended);
    loop {
        let frame = tokio::select! {
            frame = stream.next() => frame,
            _ = &mut ended => {
                let until_close = async {
                    while let Some(Ok(frame)) = stream.next().await {
                        if matches!(frame, Message::Close(_)) {
                            return;
                        }
                    }
                };
                let _ = tokio::time::timeout(Duration::from_secs(1), until_close).await;
                return;
            }
        };
        let Some(frame) = frame else { break };
        let text = match frame {
            Ok(Message::Text(t)) if t.len() > MAX_FRAME_BYTES => Err(TOO_BIG),
            Ok(Message::Text(t)) => Ok(t.to_string()),
            Ok(Message::Binary(b)) if b.len() > MAX_FRAME_BYTES => Err(TOO_BIG),
            Ok(Message::Binary(b)) => Ok(String::from_utf8_lossy(&b).into_owned()),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(_)) => {
                let _ = actor.send_message(ConnMsg::ClientGone);
                return;
            }
            Err(e) => Err(refusal(e).unwrap_or((0, ""))),
        };
        let msg = match text {
            Ok(text) => {
                // The next frame is read once its answer has room (the writer drains the
                // queue as the client reads).
                let Some(out) = out.upgrade() else { return };
                let Ok(slot) = out.reserve_owned().await else {
                    return;
                };
                ConnMsg::Frame(text, slot)
            }
            Err((0, _)) => ConnMsg::ClientGone,
            Err((code, reason)) => ConnMsg::Refused(code, reason),
        };
        let stop = !matches!(msg, ConnMsg::Frame(..));
        if actor.send_message(msg).is_err() || stop {
            return;
        }
    }
    let _ = actor.send_message(ConnMsg::ClientGone);
}

const TOO_BIG: (u16, &str) = (close_code::SIZE, "Message too big");

/// The close code for what the transport refused; `None` when the connection just failed.
fn refusal(e: axum::Error) -> Option<(u16, &'static str)> {
    use tungstenite::error::Error;
    match e.into_inner().downcast::<Error>().ok().map(|e| *e)? {
        Error::Utf8(_) => Some((close_code::INVALID, "Invalid UTF-8 in a text message")),
        Error::Protocol(_) => Some((close_code::PROTOCOL, "Protocol error")),
        Error::Capacity(_) => Some(TOO_BIG),
        _ => None,
    }
}
