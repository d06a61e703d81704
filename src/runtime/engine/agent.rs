//! AgentActor: one per session and agent kind (guide, liaison.content, ...), supervised by the
//! session and spawned on first use. The session hands it one turn at a time, in order; each runs
//! in a task (reasoning and intents take time) that emits `AGENT_STARTED`, optional `AGENT_TOKEN`s,
//! then `AGENT_RESPONSE` (or `AGENT_FAILED`) into the session's log. Conversations are stored,
//! so a restarted agent continues where it was: the user's turn with `AGENT_STARTED`, the
//! agent's with `AGENT_RESPONSE`, each in its event's commit.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use serde_json::{json, Value};

use crate::actors::panic::panic_text;
use crate::runtime::contract::agents::AgentKind;
use crate::runtime::contract::client::RuntimeClient;
use crate::runtime::contract::event_type::EventType;
use crate::runtime::contract::model::{ExecutionStatus, IntentRequest, Scope, StatusOptions};
use crate::runtime::engine::brain::{TurnInput, Workbench};
use crate::runtime::engine::context::RuntimeCtx;
use crate::runtime::engine::in_process::InProcessClient;
use crate::runtime::engine::intent_info::IntentInfo;
use crate::runtime::engine::messages::{AgentMsg, AgentTurn, SessionMsg};
use crate::store::conversations::Turn;
use crate::store::time::now_micros;
use crate::store::{Effect, NewEvent};

/// How long an agent waits for an intent it started.
const RUN_TIMEOUT: Duration = Duration::from_secs(600);
const HISTORY: i64 = 20;

pub struct AgentArgs {
    pub ctx: RuntimeCtx,
    pub kind: AgentKind,
    pub session_id: String,
    pub tenant_id: Option<String>,
    pub session: ActorRef<SessionMsg>,
}

pub struct AgentActor;

impl Actor for AgentActor {
    type Msg = AgentMsg;
    type State = AgentArgs;
    type Arguments = AgentArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: AgentArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        crate::fault_target!(
            args.ctx.faults,
            format!("agent:{}:{}", args.session_id, args.kind.id()),
            myself,
            AgentMsg::Panic
        );
        Ok(args)
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        let turn = match msg {
            #[cfg(feature = "fault-injection")]
            AgentMsg::Panic => panic!("fault injected into agent {}", state.kind.id()),
            AgentMsg::Turn(turn) => turn,
        };
        let job = TurnJob {
            ctx: state.ctx.clone(),
            kind: state.kind,
            session_id: state.session_id.clone(),
            tenant_id: state.tenant_id.clone(),
        };
        let session = state.session.clone();
        let (kind, turn_id) = (state.kind, turn.turn_id.clone());
        let span = tracing::info_span!("agent_turn", session_id = %job.session_id,
            agent = job.kind.id(), conversation_id = %turn.conversation_id);
        // The turn outlives this actor: a restarted agent does not start the session's next
        // turn before this one reports, so a conversation's turns stay in order.
        tokio::spawn(tracing::Instrument::instrument(
            async move {
                if let Err(panic) = AssertUnwindSafe(job.run(turn)).catch_unwind().await {
                    tracing::error!(panic = %panic_text(&panic), "agent turn panicked");
                }
                let _ = session.send_message(SessionMsg::AgentTurnDone { kind, turn_id });
            },
            span,
        ));
        Ok(())
    }
}

struct TurnJob {
    ctx: RuntimeCtx,
    kind: AgentKind,
    session_id: String,
    tenant_id: Option<String>,
}

impl TurnJob {
    fn agent_id(&self) -> String {
        format!("{}:{}", self.kind.id(), self.session_id)
    }

    /// Appends one of the turn's events, with the conversation turn it stores, if any (both in
    /// one commit). A failure is logged and returned.
    async fn emit(
        &self,
        turn: &AgentTurn,
        key: &str,
        event_type: EventType,
        data: Value,
        stores: Option<Turn>,
    ) -> Result<(), String> {
        let event = NewEvent {
            event_id: crate::store::ids::ordered_id(),
            session_id: self.session_id.clone(),
            event_type: event_type.as_str().to_string(),
            execution_id: None,
            event_key: Some(format!("agent:{}:{key}", turn.turn_id)),
            data,
            created_at: now_micros(),
        };
        let effect = stores.map(|t| Effect::ConversationTurn {
            conversation_id: turn.conversation_id.clone(),
            role: t.role,
            content: t.content,
            data: t.data,
        });
        self.ctx
            .events
            .append(event, effect)
            .await
            .map(|_| ())
            .map_err(|e| {
                tracing::error!(error = ?e, event = event_type.as_str(), "agent event not stored");
                // (What a caller reports: only the events that store a turn are awaited.)
                format!("conversation unavailable: {e}")
            })
    }

    async fn run(self, turn: AgentTurn) {
        let agent_id = self.agent_id();
        let answered = async {
            let (mut data, agent_turn) = self.answer(&turn).await?;
            // Which turn this answers, for a caller waiting on its own message.
            data["turn_id"] = json!(turn.turn_id);
            // The agent's turn is stored with its answer: a client that reads the answer and
            // writes again finds it in the conversation.
            let stores = Some(agent_turn);
            self.emit(&turn, "response", EventType::AgentResponse, data, stores)
                .await
        }
        .await;
        if let Err(error) = answered {
            tracing::warn!(%error, "agent turn failed");
            let _ = self
                .emit(
                    &turn,
                    "failed",
                    EventType::AgentFailed,
                    json!({"agent_id": agent_id, "conversation_id": turn.conversation_id,
                        "turn_id": turn.turn_id, "error": error}),
                    None,
                )
                .await;
        }
    }

    /// The agent's answer (the `AGENT_RESPONSE` data) and its turn, to store with it. The
    /// user's turn is stored with `AGENT_STARTED`.
    async fn answer(&self, turn: &AgentTurn) -> Result<(Value, Turn), String> {
        let store = &self.ctx.store;
        let started = json!({"agent_id": self.agent_id(), "agent_type": self.kind.agent_type(),
            "conversation_id": turn.conversation_id});
        let history = match store
            .recent_turns(&self.session_id, &turn.conversation_id, HISTORY)
            .await
        {
            Ok(history) => history,
            Err(e) => {
                // Started all the same (when that can be stored), so that the turn's events
                // begin with `AGENT_STARTED` as they do when the history is read.
                let _ = self
                    .emit(turn, "started", EventType::AgentStarted, started, None)
                    .await;
                return Err(format!("conversation unavailable: {e}"));
            }
        };
        let user = Turn {
            role: "user".into(),
            content: turn.text.clone(),
            data: json!({"turn_id": turn.turn_id, "metadata": turn.metadata}),
        };
        self.emit(
            turn,
            "started",
            EventType::AgentStarted,
            started,
            Some(user),
        )
        .await?;

        let bench = SessionBench {
            client: InProcessClient::new(self.ctx.clone()),
            scope: Scope::from_tenant(self.tenant_id.clone()),
            session_id: self.session_id.clone(),
            intents: self.ctx.handlers.describe(),
        };
        // Streamed pieces become AGENT_TOKEN events, numbered in order. The sender lives in
        // the answering future, so the forwarding loop ends when answering does.
        let (tokens_tx, mut tokens_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let brain = self.ctx.brain.clone();
        let input = TurnInput {
            kind: self.kind,
            text: &turn.text,
            history: &history,
        };
        let bench = &bench;
        let answering = async move {
            let on_token = move |piece: String| {
                let _ = tokens_tx.send(piece);
            };
            brain.answer(input, bench, &on_token).await
        };
        let agent_id = self.agent_id();
        let forwarding = async {
            let mut n = 0u64;
            while let Some(token) = tokens_rx.recv().await {
                n += 1;
                let _ = self
                    .emit(
                        turn,
                        &format!("token:{n}"),
                        EventType::AgentToken,
                        json!({"agent_id": agent_id, "conversation_id": turn.conversation_id, "token": token}),
                        None,
                    )
                    .await;
            }
        };
        let (reply, ()) = tokio::join!(answering, forwarding);
        let mut data = serde_json::Map::new();
        data.insert("message".into(), reply.message.clone().into());
        data.insert("content".into(), reply.message.clone().into());
        data.insert("agent_type".into(), self.kind.agent_type().into());
        data.insert("agent_id".into(), self.agent_id().into());
        data.insert(
            "conversation_id".into(),
            turn.conversation_id.clone().into(),
        );
        for (k, v) in reply.fields {
            data.entry(k).or_insert(v);
        }
        let data = Value::Object(data);
        let agent_turn = Turn {
            role: "agent".into(),
            content: reply.message,
            data: reply.facts,
        };
        Ok((data, agent_turn))
    }
}

/// What an agent may do: run intents for its own session, as its session's tenant.
struct SessionBench {
    client: InProcessClient,
    scope: Scope,
    session_id: String,
    intents: Vec<IntentInfo>,
}

#[async_trait]
impl Workbench for SessionBench {
    async fn run(&self, intent_type: &str, parameters: Value) -> Result<ExecutionStatus, String> {
        let err = |e: crate::runtime::RuntimeError| e.to_string();
        // Listen before submitting, so the end cannot be missed.
        let after = self
            .client
            .last_seq(&self.scope, &self.session_id)
            .await
            .map_err(err)?;
        let mut events = self
            .client
            .subscribe(&self.scope, &self.session_id, after)
            .await
            .map_err(err)?;
        let accepted = self
            .client
            .submit_intent(
                &self.scope,
                IntentRequest {
                    intent_type: intent_type.to_string(),
                    session_id: self.session_id.clone(),
                    parameters: Some(parameters),
                    ..Default::default()
                },
            )
            .await
            .map_err(err)?;
        let ended = async {
            use futures::StreamExt;
            while let Some(Ok(e)) = events.next().await {
                if e.execution_id.as_deref() == Some(accepted.execution_id.as_str())
                    && e.kind().is_some_and(EventType::ends_execution)
                {
                    return true;
                }
            }
            false
        };
        match tokio::time::timeout(RUN_TIMEOUT, ended).await {
            Ok(true) => {}
            Ok(false) => return Err("the event stream ended".into()),
            Err(_) => return Err(format!("{intent_type} did not finish in time")),
        }
        self.client
            .execution_status(
                &self.scope,
                &accepted.execution_id,
                StatusOptions::default(),
            )
            .await
            .map_err(err)
    }

    fn intents(&self) -> Vec<IntentInfo> {
        self.intents.clone()
    }

    fn session_id(&self) -> &str {
        &self.session_id
    }
}
