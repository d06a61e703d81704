//! The engine's actor messages, in one place: every actor of the tree names the others'
//! messages through here, never their modules (which keeps the actors free of import cycles).

use ractor::{ActorId, ActorRef, RpcReplyPort};
use serde_json::{Map, Value};

use crate::runtime::contract::agents::AgentKind;
use crate::runtime::contract::error::RuntimeError;
use crate::runtime::contract::model::{
    IntentAccepted, IntentRequest, Scope, Session, UpgradeSession,
};
use crate::store::{BindOutcome, ExecutionRow};

pub enum RouterMsg {
    Route {
        session_id: String,
        msg: Box<SessionMsg>,
    },
    Activated {
        session_id: String,
        result: Result<ActorRef<SessionMsg>, RuntimeError>,
    },
    /// A session actor asks to be retired (idle, nothing running).
    Passivate {
        session_id: String,
        actor_id: ActorId,
    },
    /// Activate every session this node owns that has unfinished executions (at start, and
    /// when the node takes partitions over).
    Recover,
    /// Stop the sessions of these partitions (this node no longer owns them); the reply comes
    /// once their actors have stopped.
    Disown {
        partitions: Vec<u16>,
        done: tokio::sync::oneshot::Sender<()>,
    },
    ActiveSessions(RpcReplyPort<Vec<String>>),
    /// Panics in the handler (feature `fault-injection`: chaos tests).
    #[cfg(feature = "fault-injection")]
    Panic,
}

pub enum SessionMsg {
    Submit {
        scope: Scope,
        req: IntentRequest,
        reply: RpcReplyPort<Result<IntentAccepted, RuntimeError>>,
    },
    Upgrade {
        scope: Scope,
        req: UpgradeSession,
        reply: RpcReplyPort<Result<Session, RuntimeError>>,
    },
    Execution {
        execution_id: String,
        cmd: ExecutionCmd,
    },
    /// Activate only (used at start to resume unfinished executions).
    Wake,
    /// A chat turn for one of the session's agents (spawned on first use).
    Agent {
        kind: AgentKind,
        turn: AgentTurn,
    },
    AgentSpawned {
        kind: AgentKind,
        result: Result<ActorRef<AgentMsg>, String>,
    },
    /// A turn's task ended (answered or failed); the agent may take the next one.
    AgentTurnDone {
        kind: AgentKind,
        turn_id: String,
    },
    /// Start (or resume) an execution of this session. Sent by the intake task through the
    /// router, so it reaches the session's current actor even if the one that admitted the
    /// intent has died meanwhile. With the row it has just stored when the execution is new:
    /// its driver then starts without reading it back or claiming it.
    StartExecution(String, Option<Box<ExecutionRow>>),
    // Internal messages, sent by the actor's own tasks.
    /// An admitted intent's insert has finished (one less piece of work in flight).
    Submitted,
    /// The result of the recovery scan: unfinished executions to resume.
    Resumed(Result<Vec<String>, String>),
    Rescan,
    Upgraded {
        result: Result<BindOutcome, RuntimeError>,
        reply: RpcReplyPort<Result<Session, RuntimeError>>,
    },
    ExecutionSpawned {
        execution_id: String,
        result: Result<ActorRef<ExecutionMsg>, String>,
    },
    IdleCheck,
    /// Panics in the handler (feature `fault-injection`: chaos tests).
    #[cfg(feature = "fault-injection")]
    Panic,
}

impl SessionMsg {
    /// Answers the message's caller, if it has one, with an error.
    pub fn fail(self, err: RuntimeError) {
        match self {
            SessionMsg::Submit { reply, .. } => {
                let _ = reply.send(Err(err));
            }
            SessionMsg::Upgrade { reply, .. } => {
                let _ = reply.send(Err(err));
            }
            SessionMsg::Execution { cmd, .. } => cmd.fail(err),
            _ => {}
        }
    }

    /// Messages that come from outside (through the router) rather than from the actor itself.
    pub fn is_routed(&self) -> bool {
        matches!(
            self,
            SessionMsg::Submit { .. }
                | SessionMsg::Upgrade { .. }
                | SessionMsg::Execution { .. }
                | SessionMsg::Wake
                | SessionMsg::StartExecution(..)
                | SessionMsg::Agent { .. }
        )
    }
}

/// A command for one execution, routed through its session.
pub enum ExecutionCmd {
    Cancel(RpcReplyPort<Result<(), RuntimeError>>),
    Approve {
        hook_id: String,
        approved: bool,
        reason: Option<String>,
        reply: RpcReplyPort<Result<(), RuntimeError>>,
    },
}

impl ExecutionCmd {
    pub fn fail(self, err: RuntimeError) {
        match self {
            ExecutionCmd::Cancel(reply) | ExecutionCmd::Approve { reply, .. } => {
                let _ = reply.send(Err(err));
            }
        }
    }

    pub fn into_msg(self) -> ExecutionMsg {
        match self {
            ExecutionCmd::Cancel(reply) => ExecutionMsg::Cancel(reply),
            ExecutionCmd::Approve {
                hook_id,
                approved,
                reason,
                reply,
            } => ExecutionMsg::Approve {
                hook_id,
                approved,
                reason,
                reply,
            },
        }
    }
}

pub enum ExecutionMsg {
    Cancel(RpcReplyPort<Result<(), RuntimeError>>),
    Approve {
        hook_id: String,
        approved: bool,
        reason: Option<String>,
        reply: RpcReplyPort<Result<(), RuntimeError>>,
    },
    /// The driver task ended: `None` when the execution is settled, `Some(why)` when the driver
    /// failed and the actor must fail so that its supervisor restarts it.
    DriverDone(Option<String>),
    /// Panics in the handler (feature `fault-injection`: chaos tests).
    #[cfg(feature = "fault-injection")]
    Panic,
}

#[derive(Debug, Clone)]
pub struct AgentTurn {
    pub turn_id: String,
    pub conversation_id: String,
    pub text: String,
    pub metadata: Value,
}

pub enum AgentMsg {
    /// A turn to answer. The session hands over one turn at a time, and the next only once
    /// this one is done (`SessionMsg::AgentTurnDone`, sent by the turn's task).
    Turn(AgentTurn),
    /// Panics in the handler (feature `fault-injection`: chaos tests).
    #[cfg(feature = "fault-injection")]
    Panic,
}

pub fn object_or_empty(field: &str, v: Option<Value>) -> Result<Value, RuntimeError> {
    match v {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(Value::Object(m)) => Ok(Value::Object(m)),
        Some(_) => Err(RuntimeError::invalid(field, "must be an object")),
    }
}
