//! SessionActor: one per *active* session (a virtual actor). Activated by the router from the
//! store, it admits the session's intents (stores them, then starts their execution actors),
//! supervises those execution actors, and passivates after an idle time with nothing running.
//! Its state is rebuilt from the store on every start, so a restart loses nothing.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};
use serde_json::{Map, Value};

use crate::actors::{ChildExit, Children};
use crate::runtime::contract::agents::AgentKind;
use crate::runtime::contract::error::RuntimeError;
use crate::runtime::contract::model::{IntentAccepted, IntentRequest, Scope, Session};
use crate::runtime::engine::agent::{AgentActor, AgentArgs};
use crate::runtime::engine::context::RuntimeCtx;
use crate::runtime::engine::event_log::Opened;
use crate::runtime::engine::execution::{ExecutionActor, ExecutionArgs};
use crate::runtime::engine::messages::{
    object_or_empty, AgentMsg, AgentTurn, ExecutionCmd, ExecutionMsg, RouterMsg, SessionMsg,
};
use crate::runtime::engine::saga;
use crate::store::executions::new_row;
use crate::store::time::{now_micros, to_rfc3339};
use crate::store::{BindOutcome, ExecutionRow, InsertOutcome, NewExecution, SessionRow};
use crate::telemetry::names;

enum AgentSlot {
    Starting,
    Running(ActorRef<AgentMsg>),
}

/// An agent's turns: waiting, and the one being answered. They live here, not in the agent,
/// so a restarted agent loses none and never answers two turns at once.
#[derive(Default)]
struct AgentWork {
    queue: VecDeque<AgentTurn>,
    in_flight: Option<String>,
}

enum ExecSlot {
    Starting(Vec<ExecutionCmd>),
    Running(ActorRef<ExecutionMsg>),
}

pub struct SessionActor;

pub struct SessionArgs {
    pub ctx: RuntimeCtx,
    pub row: SessionRow,
}

pub struct SessionState {
    ctx: RuntimeCtx,
    session: SessionRow,
    executions: HashMap<String, ExecSlot>,
    agents: HashMap<AgentKind, AgentSlot>,
    /// Turns for each agent not finished yet (the session stays active meanwhile).
    agent_work: HashMap<AgentKind, AgentWork>,
    children: Children<String>,
    last_activity: Instant,
    inflight: usize,
    passivating: bool,
    /// The scan under way is the last look before passivating.
    final_scan: bool,
    /// When this incarnation started (µs): its first scan resumes only executions created
    /// before, which a previous incarnation (or process) left; the ones this incarnation
    /// accepts are started by their own submits (a scan racing a submit would claim it).
    activated_at: i64,
    /// This actor in the active-sessions gauge while it lives.
    _active: crate::telemetry::metrics::Held,
}

impl Actor for SessionActor {
    type Msg = SessionMsg;
    type State = SessionState;
    type Arguments = SessionArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: SessionArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        crate::fault_target!(
            args.ctx.faults,
            format!("session:{}", args.row.session_id),
            myself,
            SessionMsg::Panic
        );
        metrics::counter!(names::SESSION_ACTIVATIONS).increment(1);
        Ok(SessionState {
            children: Children::new(args.ctx.config.restart),
            ctx: args.ctx,
            session: args.row,
            executions: HashMap::new(),
            agents: HashMap::new(),
            agent_work: HashMap::new(),
            last_activity: Instant::now(),
            inflight: 0,
            passivating: false,
            final_scan: false,
            activated_at: now_micros(),
            _active: crate::telemetry::metrics::Held::new(names::SESSIONS_ACTIVE),
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // Resume whatever this session left unfinished (after a crash or a restart). The scan
        // counts as work in flight: the session does not passivate before it has answered.
        state.inflight += 1;
        scan_unfinished(&myself, state);
        schedule_idle_check(&myself, state);
        Ok(())
    }

    /// Stopped (its node let the session's partition go, or the runtime stops): its executions'
    /// drivers stop too. Its execution actors are killed with it, which skips their own
    /// `post_stop`, so the drivers are stopped here, or a step would run on here while the new
    /// owner runs it again. (A panic skips this; the restarted session claims its executions,
    /// which fences the old drivers out.)
    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        for execution_id in state.executions.keys() {
            if let Some((_, driver)) = state.ctx.drivers.remove(execution_id) {
                driver.abort();
            }
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if msg.is_routed() {
            if state.passivating {
                // We are on our way out: hand the message back for a fresh activation.
                bounce(state, msg);
                return Ok(());
            }
            state.last_activity = Instant::now();
        }
        match msg {
            #[cfg(feature = "fault-injection")]
            SessionMsg::Panic => panic!("fault injected into session {}", state.session.session_id),
            SessionMsg::Submit { scope, req, reply } => submit(&myself, state, scope, req, reply),
            SessionMsg::Submitted => state.inflight = state.inflight.saturating_sub(1),
            SessionMsg::StartExecution(id, fresh) => start_execution(&myself, state, id, fresh),
            SessionMsg::Resumed(Ok(ids)) => {
                state.inflight = state.inflight.saturating_sub(1);
                let before_passivating = std::mem::take(&mut state.final_scan);
                let none = ids.is_empty();
                for id in ids {
                    start_execution(&myself, state, id, None);
                }
                if before_passivating {
                    if none && passivation_due(state) {
                        passivate(&myself, state);
                    } else {
                        schedule_idle_check(&myself, state);
                    }
                }
            }
            SessionMsg::Resumed(Err(why)) => {
                // Keep counting the scan as in flight and try again shortly.
                tracing::error!(session_id = %state.session.session_id, %why, "cannot list unfinished executions; retrying");
                myself.send_after(RETRY_DELAY, || SessionMsg::Rescan);
            }
            SessionMsg::Rescan => scan_unfinished(&myself, state),
            SessionMsg::ExecutionSpawned {
                execution_id,
                result,
            } => execution_spawned(&myself, state, execution_id, result)?,
            SessionMsg::Execution { execution_id, cmd } => {
                match state.executions.get_mut(&execution_id) {
                    Some(ExecSlot::Running(actor)) => {
                        if let Err(ractor::MessagingErr::SendErr(msg)) =
                            actor.send_message(cmd.into_msg())
                        {
                            reply_finished(msg);
                        }
                    }
                    Some(ExecSlot::Starting(pending)) => pending.push(cmd),
                    None => {
                        // Not started yet in this incarnation (the recovery scan may not have
                        // answered): start it and queue the command. A finished execution's
                        // actor stops at once and the command is answered `execution_finished`.
                        start_execution(&myself, state, execution_id.clone(), None);
                        if let Some(ExecSlot::Starting(pending)) =
                            state.executions.get_mut(&execution_id)
                        {
                            pending.push(cmd);
                        }
                    }
                }
            }
            SessionMsg::Upgrade { scope, req, reply } => {
                let s = &state.session;
                if !scope.permits(s.tenant_id.as_deref()) {
                    let _ = reply.send(Err(RuntimeError::not_found("session")));
                    return Ok(());
                }
                if s.user_id.as_deref().is_some_and(|u| u != req.user_id)
                    || s.tenant_id.as_deref().is_some_and(|t| t != req.tenant_id)
                {
                    let _ = reply.send(Err(RuntimeError::conflict(
                        "session_already_bound",
                        "the session already belongs to another user",
                    )));
                    return Ok(());
                }
                let metadata = merge_metadata(&s.metadata, req.metadata.as_ref());
                let store = state.ctx.store.clone();
                let session_id = s.session_id.clone();
                let fence = state.ctx.ownership.session_fence(&session_id);
                let me = myself.clone();
                state.inflight += 1;
                tokio::spawn(async move {
                    let result = match fence {
                        Ok(fence) => store
                            .bind_session(
                                &session_id,
                                &req.user_id,
                                &req.tenant_id,
                                &metadata,
                                now_micros(),
                                fence,
                            )
                            .await
                            .map_err(RuntimeError::from),
                        Err(moved) => Err(moved),
                    };
                    // The actor updates its copy before the caller hears back. Should it have
                    // died, the reply is dropped and the (idempotent) upgrade is retried.
                    let _ = me.send_message(SessionMsg::Upgraded { result, reply });
                });
            }
            SessionMsg::Upgraded { result, reply } => {
                state.inflight = state.inflight.saturating_sub(1);
                let answer = match result {
                    Ok(BindOutcome::Bound(row, successor)) => {
                        state.session = (*row).clone();
                        // The owner continues under the successor id when there is one.
                        Ok(Session::from(*successor.unwrap_or(row)))
                    }
                    Ok(BindOutcome::BoundToAnother) => Err(RuntimeError::conflict(
                        "session_already_bound",
                        "the session already belongs to another user",
                    )),
                    Ok(BindOutcome::NotFound) => Err(RuntimeError::not_found("session")),
                    Err(e) => Err(e),
                };
                let _ = reply.send(answer);
            }
            SessionMsg::Wake => {}
            SessionMsg::Agent { kind, turn } => {
                state
                    .agent_work
                    .entry(kind)
                    .or_default()
                    .queue
                    .push_back(turn);
                dispatch_turn(&myself, state, kind);
            }
            SessionMsg::AgentSpawned { kind, result } => {
                if !matches!(state.agents.get(&kind), Some(AgentSlot::Starting)) {
                    // Already running (should not happen): retire the newcomer.
                    if let Ok(extra) = result {
                        extra.stop(None);
                    }
                    return Ok(());
                }
                match result {
                    Ok(agent) => {
                        state.children.insert(agent.get_id(), agent_key(kind));
                        state.agents.insert(kind, AgentSlot::Running(agent));
                        dispatch_turn(&myself, state, kind);
                    }
                    Err(why) => {
                        tracing::error!(agent = kind.id(), %why, "agent failed to start");
                        state.agents.remove(&kind);
                        state.agent_work.remove(&kind);
                    }
                }
            }
            SessionMsg::AgentTurnDone { kind, turn_id } => {
                if let Some(work) = state.agent_work.get_mut(&kind) {
                    if work.in_flight.as_deref() == Some(turn_id.as_str()) {
                        work.in_flight = None;
                    }
                }
                state.last_activity = Instant::now();
                dispatch_turn(&myself, state, kind);
            }
            SessionMsg::IdleCheck => {
                if passivation_due(state) {
                    // A last look before going: an accepted execution whose start was lost
                    // (its actor died in between) must not wait for the next activation.
                    state.inflight += 1;
                    state.final_scan = true;
                    scan_unfinished(&myself, state);
                } else {
                    schedule_idle_check(&myself, state);
                }
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
        match state.children.classify(&evt) {
            ChildExit::Restart(key) if key.starts_with(AGENT_KEY) => {
                metrics::counter!(names::ACTOR_RESTARTS, "kind" => "agent").increment(1);
                if let Some(kind) = AgentKind::parse_id(&key[AGENT_KEY.len()..]) {
                    // Its turns are kept here; the one in flight finishes in its own task.
                    tracing::warn!(
                        agent = kind.id(),
                        "agent actor ended abnormally; restarting"
                    );
                    state.agents.remove(&kind);
                    start_agent(&myself, state, kind);
                }
            }
            ChildExit::Stopped(key) if key.starts_with(AGENT_KEY) => {
                if let Some(kind) = AgentKind::parse_id(&key[AGENT_KEY.len()..]) {
                    state.agents.remove(&kind);
                }
            }
            ChildExit::Restart(execution_id) => {
                metrics::counter!(names::ACTOR_RESTARTS, "kind" => "execution").increment(1);
                state.executions.remove(&execution_id);
                tracing::warn!(%execution_id, "execution actor ended abnormally; restarting");
                start_execution(&myself, state, execution_id, None);
            }
            ChildExit::Escalate(execution_id, why) => {
                return Err(format!(
                    "session {}: execution {execution_id} {why}",
                    state.session.session_id
                )
                .into());
            }
            ChildExit::Stopped(execution_id) => {
                state.executions.remove(&execution_id);
                state.last_activity = Instant::now();
            }
            ChildExit::Other => {}
        }
        Ok(())
    }
}

const AGENT_KEY: &str = "agent:";

fn agent_key(kind: AgentKind) -> String {
    format!("{AGENT_KEY}{}", kind.id())
}

/// Hands the agent its next turn when it is running and idle (starting it when needed).
fn dispatch_turn(myself: &ActorRef<SessionMsg>, state: &mut SessionState, kind: AgentKind) {
    let Some(work) = state.agent_work.get_mut(&kind) else {
        return;
    };
    if work.in_flight.is_some() || work.queue.is_empty() {
        return;
    }
    match state.agents.get(&kind) {
        Some(AgentSlot::Starting) => {}
        None => start_agent(myself, state, kind),
        Some(AgentSlot::Running(agent)) => {
            let turn = work.queue.pop_front().expect("a queued turn");
            let turn_id = turn.turn_id.clone();
            match agent.send_message(AgentMsg::Turn(turn)) {
                Ok(()) => work.in_flight = Some(turn_id),
                Err(ractor::MessagingErr::SendErr(AgentMsg::Turn(turn))) => {
                    work.queue.push_front(turn);
                    state.agents.remove(&kind);
                    start_agent(myself, state, kind);
                }
                Err(_) => {}
            }
        }
    }
}

fn start_agent(myself: &ActorRef<SessionMsg>, state: &mut SessionState, kind: AgentKind) {
    state.agents.insert(kind, AgentSlot::Starting);
    let args = AgentArgs {
        ctx: state.ctx.clone(),
        kind,
        session_id: state.session.session_id.clone(),
        tenant_id: state.session.tenant_id.clone(),
        session: myself.clone(),
    };
    let me = myself.clone();
    tokio::spawn(async move {
        let result = Actor::spawn_linked(None, AgentActor, args, me.get_cell())
            .await
            .map(|(actor, _)| actor)
            .map_err(|e| e.to_string());
        let _ = me.send_message(SessionMsg::AgentSpawned { kind, result });
    });
}

const RETRY_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

/// Lists the session's unfinished executions to resume: at activation those a previous
/// incarnation left; before passivating all of them (an accepted execution whose start was lost).
fn scan_unfinished(myself: &ActorRef<SessionMsg>, state: &SessionState) {
    let store = state.ctx.store.clone();
    let session_id = state.session.session_id.clone();
    let me = myself.clone();
    let created_before = (!state.final_scan).then_some(state.activated_at);
    tokio::spawn(async move {
        let result = store
            .unfinished_executions_before(&session_id, created_before)
            .await
            .map_err(|e| e.to_string());
        let _ = me.send_message(SessionMsg::Resumed(result));
    });
}

/// Idle long enough, and nothing running, starting or waiting.
fn passivation_due(state: &SessionState) -> bool {
    let idle = state.last_activity.elapsed() >= state.ctx.config.session_idle;
    let agents_busy = state
        .agent_work
        .values()
        .any(|w| w.in_flight.is_some() || !w.queue.is_empty());
    idle && state.executions.is_empty() && state.inflight == 0 && !agents_busy
}

fn passivate(myself: &ActorRef<SessionMsg>, state: &mut SessionState) {
    state.passivating = true;
    if let Some(router) = state.ctx.router.get() {
        let _ = router.send_message(RouterMsg::Passivate {
            session_id: state.session.session_id.clone(),
            actor_id: myself.get_id(),
        });
    }
}

fn schedule_idle_check(myself: &ActorRef<SessionMsg>, state: &SessionState) {
    let period = (state.ctx.config.session_idle / 2).max(std::time::Duration::from_millis(20));
    myself.send_after(period, || SessionMsg::IdleCheck);
}

fn bounce(state: &SessionState, msg: SessionMsg) {
    match state.ctx.router.get() {
        Some(router) => {
            let route = RouterMsg::Route {
                session_id: state.session.session_id.clone(),
                msg: Box::new(msg),
            };
            if let Err(ractor::MessagingErr::SendErr(RouterMsg::Route { msg, .. })) =
                router.send_message(route)
            {
                msg.fail(RuntimeError::Unavailable("router stopped".into()));
            }
        }
        None => msg.fail(RuntimeError::Unavailable("router stopped".into())),
    }
}

fn reply_finished(msg: ExecutionMsg) {
    let err = RuntimeError::conflict("execution_finished", "the execution has already finished");
    match msg {
        ExecutionMsg::Cancel(reply) | ExecutionMsg::Approve { reply, .. } => {
            let _ = reply.send(Err(err));
        }
        _ => {}
    }
}

fn start_execution(
    myself: &ActorRef<SessionMsg>,
    state: &mut SessionState,
    execution_id: String,
    fresh: Option<Box<ExecutionRow>>,
) {
    if state.executions.contains_key(&execution_id) {
        return;
    }
    state
        .executions
        .insert(execution_id.clone(), ExecSlot::Starting(Vec::new()));
    let args = ExecutionArgs {
        ctx: state.ctx.clone(),
        session_id: state.session.session_id.clone(),
        execution_id: execution_id.clone(),
        fresh,
    };
    let me = myself.clone();
    tokio::spawn(async move {
        let result = Actor::spawn_linked(None, ExecutionActor, args, me.get_cell())
            .await
            .map(|(actor, _)| actor)
            .map_err(|e| e.to_string());
        let _ = me.send_message(SessionMsg::ExecutionSpawned {
            execution_id,
            result,
        });
    });
}

/// Admits an intent: checks scope and intake, stores it in a task (a 202 means stored), and
/// starts its execution through the router once it is.
fn submit(
    myself: &ActorRef<SessionMsg>,
    state: &mut SessionState,
    scope: Scope,
    req: IntentRequest,
    reply: RpcReplyPort<Result<IntentAccepted, RuntimeError>>,
) {
    if !scope.permits(state.session.tenant_id.as_deref()) {
        let _ = reply.send(Err(RuntimeError::not_found("session")));
        return;
    }
    let admitted = state.ctx.intake.admit_intent(
        &state.session.session_id,
        state.session.tenant_id.as_deref(),
    );
    if let Err(e) = admitted {
        let _ = reply.send(Err(e));
        return;
    }
    let new = match prepare_execution(&state.ctx, &state.session, req) {
        Ok(n) => n,
        Err(e) => {
            let _ = reply.send(Err(e));
            return;
        }
    };
    state.inflight += 1;
    let store = state.ctx.store.clone();
    let ctx = state.ctx.clone();
    let me = myself.clone();
    let router = state.ctx.router.clone();
    let session_id = state.session.session_id.clone();
    let predecessor = state.session.succeeds.clone();
    tokio::spawn(async move {
        // Without an idempotency key (the common case) the intake rides the event log's next
        // commit with other intents' intake and events; with one, its own transaction checks
        // and records the key.
        let inserted = match &new.idempotency {
            None => {
                // Its start, when it can start at once, in the same commit.
                let mut row = new_row(&new);
                let opening = saga::opening(&ctx, &mut row).unwrap_or_default();
                match ctx.events.intake(new.clone(), opening).await {
                    Ok(Opened::AsSent) => Ok(InsertOutcome::Created(row)),
                    // Stored, but another driver holds it already: it is started by a claim,
                    // as an existing execution is, never driven as new. So is one whose
                    // attempt was committed while its answer was lost (stored: answered so).
                    Ok(Opened::Fenced) => Ok(InsertOutcome::Existing(row)),
                    Err(e) => match store.get_execution(&new.execution_id).await {
                        Ok(Some(row)) => Ok(InsertOutcome::Existing(row)),
                        _ => Err(e),
                    },
                }
            }
            Some(_) => match ctx.ownership.session_fence(&new.session_id) {
                Ok(fence) => store
                    .insert_execution(&new, fence)
                    .await
                    .map_err(RuntimeError::from),
                Err(moved) => Err(moved),
            },
        };
        let (answer, start) = match inserted {
            // The key was used by the anonymous session this one continues: that
            // execution is the answer (its own session runs it).
            Ok(InsertOutcome::Existing(row))
                if predecessor.as_deref() == Some(row.session_id.as_str()) =>
            {
                (Ok(accepted(&ctx, &row)), None)
            }
            // A key another session of the tenant used: no execution of theirs is
            // revealed (a session id is a capability for its own executions only).
            Ok(InsertOutcome::Existing(row)) if row.session_id != new.session_id => (
                Err(RuntimeError::conflict(
                    "idempotency_key_reused",
                    "this idempotency key was already used by another session",
                )),
                None,
            ),
            Ok(InsertOutcome::Created(row)) => {
                let answer = accepted(&ctx, &row);
                (
                    Ok(answer),
                    Some((row.execution_id.clone(), Some(Box::new(row)))),
                )
            }
            // A repeated key whose execution is not finished is (re)started too:
            // starting is idempotent, and it may have been lost with a dead actor.
            Ok(InsertOutcome::Existing(row)) => {
                let start = (!row.is_terminal()).then(|| (row.execution_id.clone(), None));
                (Ok(accepted(&ctx, &row)), start)
            }
            Err(e) => (Err(e), None),
        };
        let stored = answer.is_ok();
        let _ = reply.send(answer);
        if let (true, Some((id, fresh))) = (stored, start) {
            // Through the router: if this actor died meanwhile, its successor
            // starts the execution. A router that is restarting refuses the
            // message: try again (its successor is there within milliseconds).
            // Past two seconds the router's recovery scan at its restart finds
            // the stored execution.
            let start = || RouterMsg::Route {
                session_id: session_id.clone(),
                msg: Box::new(SessionMsg::StartExecution(id.clone(), fresh.clone())),
            };
            router
                .send_when_live(start, 100, std::time::Duration::from_millis(20))
                .await;
        }
        let _ = me.send_message(SessionMsg::Submitted);
    });
}

/// An execution actor's spawn finished: hand it the commands that waited, or retry (within
/// the session's restart intensity) when it could not start.
fn execution_spawned(
    myself: &ActorRef<SessionMsg>,
    state: &mut SessionState,
    execution_id: String,
    result: Result<ActorRef<ExecutionMsg>, String>,
) -> Result<(), ActorProcessingErr> {
    let pending = match state.executions.remove(&execution_id) {
        Some(ExecSlot::Starting(p)) => p,
        Some(running) => {
            state.executions.insert(execution_id, running);
            return Ok(());
        }
        None => Vec::new(),
    };
    match result {
        Ok(actor) => {
            for cmd in pending {
                let _ = actor.send_message(cmd.into_msg());
            }
            state.children.insert(actor.get_id(), execution_id.clone());
            state
                .executions
                .insert(execution_id, ExecSlot::Running(actor));
        }
        // (An execution that does not exist is not a spawn error: its actor stops
        // itself in `post_start`, an ordinary exit its supervisor leaves be.)
        Err(why) => {
            // Most likely the database is unavailable: try again, within the
            // session's restart intensity.
            for cmd in pending {
                cmd.fail(RuntimeError::Unavailable(why.clone()));
            }
            if !state.children.record_restart() {
                return Err(format!(
                    "session {}: execution {execution_id} cannot be started: {why}",
                    state.session.session_id
                )
                .into());
            }
            tracing::warn!(%execution_id, %why, "execution actor failed to start; retrying");
            myself.send_after(RETRY_DELAY, move || {
                SessionMsg::StartExecution(execution_id, None)
            });
        }
    }
    Ok(())
}

fn accepted(ctx: &RuntimeCtx, row: &ExecutionRow) -> IntentAccepted {
    let produces = match ctx.handlers.get(&row.intent_type) {
        Some(h) => h
            .produces(&row.execution_id)
            .into_iter()
            .map(|(name, id)| (name.to_string(), serde_json::Value::String(id)))
            .collect(),
        None => Default::default(),
    };
    IntentAccepted {
        execution_id: row.execution_id.clone(),
        intent_id: row.intent_id.clone(),
        status: "accepted".into(),
        created_at: to_rfc3339(row.created_at),
        produces,
    }
}

/// Builds the row to store (the client has validated the parameters with the handler).
fn prepare_execution(
    ctx: &RuntimeCtx,
    session: &SessionRow,
    req: IntentRequest,
) -> Result<NewExecution, RuntimeError> {
    if ctx.handlers.get(&req.intent_type).is_none() {
        return Err(RuntimeError::UnknownIntent(req.intent_type));
    }
    let parameters = object_or_empty("parameters", req.parameters)?;
    let mut metadata = object_or_empty("metadata", req.metadata)?;
    // `retry_of` is the runtime's word, never the client's.
    if let Some(m) = metadata.as_object_mut() {
        m.remove("retry_of");
        if let Some(of) = req.retry_of {
            m.insert("retry_of".into(), serde_json::Value::String(of));
        }
    }
    let idempotency = match req.idempotency_key {
        Some(key) if key.is_empty() || key.len() > 255 => {
            return Err(RuntimeError::invalid(
                "idempotency_key",
                "must be 1 to 255 characters",
            ))
        }
        // Keys are unique per tenant; an anonymous session is its own scope.
        Some(key) => Some((idempotency_scope(session), key)),
        None => None,
    };
    // Keys a session used while anonymous still count after its upgrade: its own, or, for the
    // session an upgrade handed its owner, those of the anonymous session it continues.
    let anonymous_id = session.succeeds.as_ref().unwrap_or(&session.session_id);
    let idempotency_alt_scope = session
        .tenant_id
        .is_some()
        .then(|| format!("session:{anonymous_id}"));
    Ok(NewExecution {
        execution_id: crate::store::ids::ordered_id(),
        intent_id: req
            .intent_id
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        intent_type: req.intent_type,
        session_id: session.session_id.clone(),
        tenant_id: session.tenant_id.clone(),
        solution_id: req
            .solution_id
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "default".into()),
        parameters,
        metadata,
        created_at: now_micros(),
        request_id: req
            .request_id
            .filter(|r| !r.is_empty())
            .map(|r| r.chars().take(200).collect()),
        // A W3C traceparent is 55 characters; anything longer is not one.
        traceparent: req.traceparent.filter(|t| !t.is_empty() && t.len() <= 128),
        idempotency,
        idempotency_alt_scope,
    })
}

fn idempotency_scope(session: &SessionRow) -> String {
    match &session.tenant_id {
        Some(t) => format!("tenant:{t}"),
        None => format!("session:{}", session.session_id),
    }
}

fn merge_metadata(existing: &Value, update: Option<&Value>) -> Value {
    let mut merged = match existing {
        Value::Object(m) => m.clone(),
        _ => Map::new(),
    };
    if let Some(Value::Object(u)) = update {
        for (k, v) in u {
            merged.insert(k.clone(), v.clone());
        }
    }
    Value::Object(merged)
}
