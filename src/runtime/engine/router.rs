//! RuntimeRouter: the intake. Routes session commands by session id to the session's actor,
//! activating it from the store on first use (without blocking its own mailbox), re-activating
//! it after a failure (within the restart intensity), and retiring it when it passivates.

use std::collections::HashMap;

use ractor::{Actor, ActorProcessingErr, ActorRef, SupervisionEvent};

use crate::actors::{ChildExit, Children};
use crate::runtime::contract::error::RuntimeError;
use crate::runtime::engine::context::RuntimeCtx;
use crate::runtime::engine::messages::{RouterMsg, SessionMsg};
use crate::runtime::engine::session::{SessionActor, SessionArgs};
use crate::telemetry::names;

const RETRY_DELAY: std::time::Duration = std::time::Duration::from_secs(1);
/// How long a session's actor is given to stop when its partition moves (all of them at once).
const STOP_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

enum Slot {
    Active(ActorRef<SessionMsg>),
    Activating(Vec<SessionMsg>),
}

pub struct RuntimeRouter;

pub struct RouterState {
    ctx: RuntimeCtx,
    sessions: HashMap<String, Slot>,
    children: Children<String>,
}

impl Actor for RuntimeRouter {
    type Msg = RouterMsg;
    type State = RouterState;
    type Arguments = RuntimeCtx;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        ctx: RuntimeCtx,
    ) -> Result<Self::State, ActorProcessingErr> {
        crate::fault_target!(ctx.faults, "router".into(), myself, RouterMsg::Panic);
        Ok(RouterState {
            children: Children::new(ctx.config.restart),
            ctx,
            sessions: HashMap::new(),
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        _state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        myself.send_message(RouterMsg::Recover)?;
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            #[cfg(feature = "fault-injection")]
            RouterMsg::Panic => panic!("fault injected into the router"),
            RouterMsg::Route { session_id, msg } => route(&myself, state, session_id, *msg),
            RouterMsg::Activated { session_id, result } => {
                let pending = match state.sessions.remove(&session_id) {
                    Some(Slot::Activating(p)) => p,
                    Some(active) => {
                        // Already active (should not happen): keep it, retire the newcomer.
                        state.sessions.insert(session_id, active);
                        if let Ok(extra) = result {
                            extra.stop(None);
                        }
                        return Ok(());
                    }
                    None => Vec::new(),
                };
                match result {
                    Ok(actor) if !state.ctx.ownership.owns(&session_id) => {
                        // Its partition moved to another node while it was loading.
                        actor.stop(None);
                        for m in pending {
                            m.fail(not_here());
                        }
                    }
                    Ok(actor) => {
                        for m in pending {
                            if let Err(ractor::MessagingErr::SendErr(m)) = actor.send_message(m) {
                                m.fail(RuntimeError::Unavailable("session stopped".into()));
                            }
                        }
                        state.children.insert(actor.get_id(), session_id.clone());
                        state.ctx.sessions.insert(session_id.clone(), actor.clone());
                        state.sessions.insert(session_id, Slot::Active(actor));
                    }
                    Err(err) => {
                        let transient = !matches!(err, RuntimeError::NotFound(_));
                        let mut wake = false;
                        for m in pending {
                            wake |= matches!(m, SessionMsg::Wake | SessionMsg::StartExecution(..));
                            m.fail(err.clone());
                        }
                        if transient && wake {
                            // Resuming must not be lost to a passing database error.
                            tracing::warn!(%session_id, error = ?err, "session activation failed; retrying");
                            myself.send_after(RETRY_DELAY, move || RouterMsg::Route {
                                session_id,
                                msg: Box::new(SessionMsg::Wake),
                            });
                        }
                    }
                }
            }
            RouterMsg::Passivate {
                session_id,
                actor_id,
            } => {
                if let Some(Slot::Active(actor)) = state.sessions.get(&session_id) {
                    if actor.get_id() == actor_id {
                        let actor = actor.clone();
                        state.sessions.remove(&session_id);
                        state.ctx.sessions.remove_if_current(&session_id, actor_id);
                        tracing::debug!(%session_id, "session passivated");
                        metrics::counter!(names::SESSION_PASSIVATIONS).increment(1);
                        // Anything still queued is handed back to us by the passivating actor.
                        let _ = actor.drain();
                    }
                }
            }
            RouterMsg::Recover => {
                let store = state.ctx.store.clone();
                let ownership = state.ctx.ownership.clone();
                let me = myself.clone();
                tokio::spawn(async move {
                    match store.sessions_with_unfinished_executions().await {
                        Ok(mut ids) => {
                            ids.retain(|id| ownership.holds(id));
                            if !ids.is_empty() {
                                tracing::info!(
                                    sessions = ids.len(),
                                    "resuming unfinished executions"
                                );
                            }
                            for session_id in ids {
                                let _ = me.send_message(RouterMsg::Route {
                                    session_id,
                                    msg: Box::new(SessionMsg::Wake),
                                });
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "recovery scan failed; retrying");
                            me.send_after(RETRY_DELAY, || RouterMsg::Recover);
                        }
                    }
                });
            }
            RouterMsg::Disown { partitions, done } => disown(state, &partitions, done),
            RouterMsg::ActiveSessions(reply) => {
                let mut ids: Vec<String> = state
                    .sessions
                    .iter()
                    .filter(|(_, s)| matches!(s, Slot::Active(_)))
                    .map(|(k, _)| k.clone())
                    .collect();
                ids.sort();
                let _ = reply.send(ids);
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        evt: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let Some(cell) = evt.actor_cell().cloned() else {
            return Ok(());
        };
        let current = |state: &RouterState, id: &str| matches!(state.sessions.get(id), Some(Slot::Active(a)) if a.get_id() == cell.get_id());
        match state.children.classify(&evt) {
            ChildExit::Restart(session_id) => {
                state
                    .ctx
                    .sessions
                    .remove_if_current(&session_id, cell.get_id());
                if current(state, &session_id) {
                    metrics::counter!(names::ACTOR_RESTARTS, "kind" => "session").increment(1);
                    tracing::warn!(%session_id, "session actor ended abnormally; restarting");
                    state
                        .sessions
                        .insert(session_id.clone(), Slot::Activating(vec![SessionMsg::Wake]));
                    activate(&myself, state, session_id);
                }
            }
            ChildExit::Escalate(session_id, why) => {
                return Err(format!("session {session_id} {why}: the router escalates").into());
            }
            ChildExit::Stopped(session_id) => {
                state
                    .ctx
                    .sessions
                    .remove_if_current(&session_id, cell.get_id());
                if current(state, &session_id) {
                    state.sessions.remove(&session_id);
                }
            }
            ChildExit::Other => {}
        }
        Ok(())
    }
}

fn route(
    myself: &ActorRef<RouterMsg>,
    state: &mut RouterState,
    session_id: String,
    msg: SessionMsg,
) {
    // Not activated unless the partition's lease is held and renewed in time; not delivered to
    // an active actor once the partition was let go. (A lease renewed late does not stop an
    // active session's work: its writes wait for the renewal, or are refused by the fence.)
    let ownership = &state.ctx.ownership;
    let allowed = if state.sessions.contains_key(&session_id) {
        ownership.holds(&session_id)
    } else {
        ownership.owns(&session_id)
    };
    if !allowed {
        msg.fail(not_here());
        return;
    }
    match state.sessions.get_mut(&session_id) {
        Some(Slot::Active(actor)) => match actor.send_message(msg) {
            Ok(()) => {}
            Err(ractor::MessagingErr::SendErr(msg)) => {
                state
                    .sessions
                    .insert(session_id.clone(), Slot::Activating(vec![msg]));
                activate(myself, state, session_id);
            }
            Err(_) => {}
        },
        Some(Slot::Activating(pending)) => pending.push(msg),
        None => {
            state
                .sessions
                .insert(session_id.clone(), Slot::Activating(vec![msg]));
            activate(myself, state, session_id);
        }
    }
}

/// What a command for a session of a partition this node does not hold is answered.
fn not_here() -> RuntimeError {
    RuntimeError::Unavailable(crate::store::cluster::MOVED.into())
}

/// Stops the sessions of `partitions` (their commands pending activation are refused); `done`
/// answers once their actors have stopped, or after a bound.
fn disown(state: &mut RouterState, partitions: &[u16], done: tokio::sync::oneshot::Sender<()>) {
    use crate::runtime::cluster::partition_of;
    let gone: Vec<String> = state
        .sessions
        .keys()
        .filter(|id| partitions.contains(&partition_of(id)))
        .cloned()
        .collect();
    let mut stopping = Vec::new();
    for session_id in gone {
        match state.sessions.remove(&session_id) {
            Some(Slot::Active(actor)) => {
                state
                    .ctx
                    .sessions
                    .remove_if_current(&session_id, actor.get_id());
                stopping.push(actor);
            }
            Some(Slot::Activating(pending)) => {
                for m in pending {
                    m.fail(not_here());
                }
            }
            None => {}
        }
    }
    if !stopping.is_empty() {
        tracing::info!(
            sessions = stopping.len(),
            "stopping the sessions of partitions this node let go"
        );
    }
    tokio::spawn(async move {
        let stops = stopping.into_iter().map(|actor| async move {
            let _ = actor
                .stop_and_wait(Some("partition moved".into()), Some(STOP_WAIT))
                .await;
        });
        futures::future::join_all(stops).await;
        let _ = done.send(());
    });
}

/// Loads the session and spawns its actor in a task; the result comes back as `Activated`.
fn activate(myself: &ActorRef<RouterMsg>, state: &RouterState, session_id: String) {
    let ctx = state.ctx.clone();
    let me = myself.clone();
    tokio::spawn(async move {
        let result = match ctx.store.get_session(&session_id).await {
            Ok(Some(row)) => {
                let args = SessionArgs {
                    ctx: ctx.clone(),
                    row,
                };
                Actor::spawn_linked(None, SessionActor, args, me.get_cell())
                    .await
                    .map(|(actor, _)| actor)
                    .map_err(|e| RuntimeError::Internal(format!("session actor: {e}")))
            }
            Ok(None) => Err(RuntimeError::not_found("session")),
            Err(e) => Err(e.into()),
        };
        let _ = me.send_message(RouterMsg::Activated { session_id, result });
    });
}
