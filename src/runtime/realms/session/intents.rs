//! The frontend's agent-manager and session intents, each one step over the session's own
//! record, work and conversations (through the engine's desk):
//! - `analyze_user_intent {message}` → `intent_analysis {intent_type, confidence,
//!   suggested_pillar, suggested_actions, reasoning}`: the agents' own scorer;
//! - `get_journey_guidance {user_goal?, current_step?}` → `journey_guidance {guidance,
//!   next_steps, progress}`: progress over the platform's journey (`journey.rs`) from what the
//!   session has actually made;
//! - `get_conversation_history {session_id?}` → `conversation_history` (the Guide's turns,
//!   `[{role, content, timestamp, conversation_id}]`);
//! - `send_message_to_pillar_agent {message, pillar, conversation_id?}` → `agent_response`
//!   (a real turn with the pillar's liaison);
//! - `get_pillar_conversation_history {session_id?, pillar}` → `conversation_history
//!   {pillar, messages}`;
//! - `get_session_details {session_id?}` → `session_details`; `get_session_state
//!   {session_id?}` → `session_state {session_state, orchestrator_states}`;
//! - `transition_artifact_lifecycle {artifact_id, target_state, …}` → `artifact_lifecycle`
//!   (`lifecycle.rs`).
//!
//! A `session_id` parameter, when given, must be the session the intent runs in: a session's
//! history is read from that session only.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::journey::guidance;
use super::lifecycle::transition;
use crate::runtime::contract::agents::{AgentKind, Pillar};
use crate::runtime::contract::model::Scope;
use crate::runtime::engine::desk::DeskBackend;
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::runtime::realms::outcomes::session_work::SessionWork;
use crate::store::time::to_rfc3339;

/// Turns a history answers at most.
const MAX_TURNS: i64 = 500;

pub const NAMES: [&str; 8] = [
    "analyze_user_intent",
    "get_journey_guidance",
    "get_conversation_history",
    "send_message_to_pillar_agent",
    "get_pillar_conversation_history",
    "get_session_details",
    "get_session_state",
    "transition_artifact_lifecycle",
];

const DESCRIPTIONS: [&str; 8] = [
    "Say what a message asks for: its intent, pillar and how sure.",
    "Show how far this session is along the platform's journey, and what to do next.",
    "The Guide conversation of this session.",
    "Send a message to a pillar's liaison agent and get its answer.",
    "A pillar liaison's conversation in this session.",
    "This session's record, with counts of its work.",
    "This session's state, pillar by pillar.",
    "Move an artifact to another lifecycle state (active, archived, draft).",
];

/// The checked parameters.
pub struct SessionParams {
    pub message: Option<String>,
    pub pillar: Option<Pillar>,
    pub conversation_id: Option<String>,
    pub session_id: Option<String>,
    pub lifecycle: Option<super::lifecycle::Transition>,
}

fn text(f: &mut Fields<'_>, name: &str, max: usize) -> Option<String> {
    match f.get(name) {
        None => None,
        Some(Value::String(s)) if s.chars().count() <= max => Some(s.clone()),
        Some(_) => {
            f.error(name, format!("must be a text of at most {max} characters"));
            None
        }
    }
}

fn decode(k: usize, p: &Value) -> Result<SessionParams, FieldErrors> {
    let mut f = Fields::new(p);
    let mut out = SessionParams {
        message: None,
        pillar: None,
        conversation_id: None,
        session_id: text(&mut f, "session_id", 255),
        lifecycle: None,
    };
    match NAMES[k] {
        "analyze_user_intent" | "send_message_to_pillar_agent" => {
            out.message = f.required_text("message");
            if out
                .message
                .as_ref()
                .is_some_and(|m| m.trim().is_empty() || m.len() > 16_000)
            {
                f.error("message", "must be 1 to 16000 characters");
            }
        }
        "get_journey_guidance" => {
            out.message = text(&mut f, "user_goal", 16_000);
        }
        _ => {}
    }
    if matches!(
        NAMES[k],
        "send_message_to_pillar_agent" | "get_pillar_conversation_history"
    ) {
        match f.required_str("pillar").map(|p| Pillar::parse(&p)) {
            Some(Some(p)) => out.pillar = Some(p),
            Some(None) => f.error(
                "pillar",
                "must be content, insights, operations (journey) or outcomes",
            ),
            None => {}
        }
        out.conversation_id = text(&mut f, "conversation_id", 255).filter(|c| !c.is_empty());
    }
    if NAMES[k] == "transition_artifact_lifecycle" {
        out.lifecycle = super::lifecycle::Transition::decode(&mut f);
    }
    f.finish(|| Some(out))
}

/// The parameters, with their intent's index into [`NAMES`].
pub struct Params<const K: usize>(pub SessionParams);

impl<const K: usize> IntentParams for Params<K> {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        decode(K, p).map(Params)
    }
}

/// The session intent `NAMES[K]`.
pub struct SessionIntent<const K: usize>;

impl<const K: usize> TypedIntent for SessionIntent<K> {
    type Params = Params<K>;

    fn intent_type(&self) -> &str {
        NAMES[K]
    }

    fn description(&self) -> &str {
        DESCRIPTIONS[K]
    }

    fn steps(&self, params: Arc<Params<K>>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Answer(params))]
    }
}

struct Answer<const K: usize>(Arc<Params<K>>);

fn role(r: &str) -> &'static str {
    if r == "agent" {
        "assistant"
    } else {
        "user"
    }
}

/// The pillars' intents, by pillar name.
fn pillar_intents(desk: &dyn DeskBackend) -> BTreeMap<&'static str, Vec<String>> {
    let mut by: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for i in desk.intents() {
        if let Some(p) = i.pillar {
            by.entry(p.as_str()).or_default().push(i.intent_type);
        }
    }
    by
}

async fn history(
    ctx: &StepContext,
    desk: &dyn DeskBackend,
    agent: &str,
) -> Result<Vec<Value>, StepError> {
    let turns = desk
        .turns(&ctx.session_id, agent, MAX_TURNS)
        .await
        .map_err(StepError::new)?;
    Ok(turns
        .into_iter()
        .map(|t| {
            json!({"role": role(&t.role), "content": t.content,
            "timestamp": to_rfc3339(t.created_at), "conversation_id": t.conversation_id,
            "agent": t.agent_kind})
        })
        .collect())
}

#[async_trait]
impl<const K: usize> SagaStep for Answer<K> {
    fn name(&self) -> &str {
        "answer"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let p = &(self.0).0;
        if let Some(s) = &p.session_id {
            if !s.is_empty() && *s != ctx.session_id {
                return Err(StepError::new(
                    "session_id names another session: these intents read the session they run in",
                ));
            }
        }
        let desk = ctx.services.desk.get().map_err(StepError::new)?;
        let desk = desk.as_ref();
        let (key, payload) = match NAMES[K] {
            "analyze_user_intent" => {
                let message = p.message.clone().unwrap_or_default();
                let u = desk.understand(&message).unwrap_or(Value::Null);
                let pillar = u["target_domain"].as_str().map(String::from);
                let mut actions: Vec<String> = u["primary_intent"]
                    .as_str()
                    .map(|i| vec![i.to_string()])
                    .unwrap_or_default();
                if let Some(pl) = &pillar {
                    for i in pillar_intents(desk).remove(pl.as_str()).unwrap_or_default() {
                        if !actions.contains(&i) && actions.len() < 5 {
                            actions.push(i);
                        }
                    }
                }
                (
                    "intent_analysis",
                    json!({"intent_type": u["primary_intent"].as_str().unwrap_or("conversation"),
                        "confidence": u["confidence"], "suggested_pillar": pillar,
                        "suggested_actions": actions, "reasoning": u["reasoning"]}),
                )
            }
            "get_journey_guidance" => {
                let work = SessionWork::read(ctx).await?;
                let goal = p.message.clone().unwrap_or_default();
                let pillar = (!goal.trim().is_empty())
                    .then(|| desk.understand(&goal))
                    .flatten()
                    .and_then(|u| u["target_domain"].as_str().map(String::from));
                (
                    "journey_guidance",
                    guidance(&work, &goal, pillar.as_deref()),
                )
            }
            "get_conversation_history" => (
                "conversation_history",
                json!(history(ctx, desk, "guide").await?),
            ),
            "get_pillar_conversation_history" => {
                let pillar = p.pillar.unwrap_or(Pillar::Content);
                let messages = history(ctx, desk, AgentKind::Liaison(pillar).id()).await?;
                (
                    "conversation_history",
                    json!({"pillar": pillar.as_str(), "messages": messages}),
                )
            }
            "send_message_to_pillar_agent" => {
                let pillar = p.pillar.unwrap_or(Pillar::Content);
                let conversation = p
                    .conversation_id
                    .clone()
                    .unwrap_or_else(|| format!("liaison_{}_{}", pillar.as_str(), ctx.session_id));
                let agent = AgentKind::Liaison(pillar).id();
                // A conversation stays with the agent that started it: not another's.
                let owner = desk
                    .turns(&ctx.session_id, "", MAX_TURNS)
                    .await
                    .map_err(StepError::new)?
                    .into_iter()
                    .find(|t| t.conversation_id == conversation)
                    .map(|t| t.agent_kind);
                if let Some(o) = owner.filter(|o| o != agent) {
                    return Err(StepError::new(format!(
                        "conversation {conversation} belongs to {o}, not {agent}"
                    )));
                }
                // Re-run after a crash: the first run's exchange, not a second message.
                let earlier = if ctx.attempt > 1 {
                    desk.earlier_reply(&ctx.session_id, &conversation, &ctx.execution_id)
                        .await
                        .map_err(StepError::new)?
                } else {
                    None
                };
                let reply =
                    match earlier {
                        Some(e) => match e.answer {
                            Some((text, facts)) => {
                                json!({"message": text, "conversation_id": conversation,
                            "agent_type": "liaison", "suggested_actions": [], "data": facts})
                            }
                            None => return Err(StepError::new(
                                "this message was sent before a restart and its answer has not \
                                 arrived; read it with get_pillar_conversation_history",
                            )),
                        },
                        None => desk
                            .converse(
                                &Scope::from_tenant(ctx.tenant_id.clone()),
                                &ctx.session_id,
                                agent,
                                &conversation,
                                p.message.as_deref().unwrap_or_default(),
                                json!({"execution_id": ctx.execution_id}),
                            )
                            .await
                            .map_err(StepError::new)?,
                    };
                (
                    "agent_response",
                    json!({"content": reply["message"], "message": reply["message"],
                        "suggested_actions": reply["suggested_actions"], "pillar": pillar.as_str(),
                        "conversation_id": reply["conversation_id"], "agent_type": reply["agent_type"],
                        "data": reply["data"]}),
                )
            }
            "get_session_details" | "get_session_state" => {
                let session = desk
                    .session(&ctx.session_id)
                    .await
                    .map_err(StepError::new)?
                    .ok_or_else(|| StepError::new("this session is gone"))?;
                let executions = desk
                    .executions(&ctx.session_id, 1_000)
                    .await
                    .map_err(StepError::new)?;
                let work = SessionWork::read(ctx).await?;
                if NAMES[K] == "get_session_details" {
                    // Counted in the store: every execution and conversation, not a window.
                    let (by_status, conversations) =
                        desk.counts(&ctx.session_id).await.map_err(StepError::new)?;
                    let total: i64 = by_status.values().sum();
                    (
                        "session_details",
                        json!({"session_id": session.session_id, "tenant_id": session.tenant_id,
                            "user_id": session.user_id, "is_anonymous": session.user_id.is_none(),
                            "status": session.status, "metadata": session.metadata,
                            "created_at": to_rfc3339(session.created_at),
                            "updated_at": to_rfc3339(session.updated_at),
                            "artifacts": work.counts(),
                            "executions": {"total": total, "by_status": by_status},
                            "conversations": conversations}),
                    )
                } else {
                    let pillars: BTreeMap<String, Option<&'static str>> = desk
                        .intents()
                        .into_iter()
                        .map(|i| (i.intent_type, i.pillar.map(|p| p.as_str())))
                        .collect();
                    let mut states: BTreeMap<&str, Value> = BTreeMap::new();
                    for p in Pillar::ALL {
                        let mine: Vec<_> = executions
                            .iter()
                            .filter(|e| {
                                pillars.get(&e.intent_type).copied().flatten() == Some(p.as_str())
                            })
                            .collect();
                        let count =
                            |s: &str| mine.iter().filter(|e| e.status.as_str() == s).count();
                        let running =
                            count("pending") + count("running") + count("awaiting_approval");
                        states.insert(p.as_str(), json!({
                            "status": if running > 0 { "active" } else if mine.is_empty() { "not_started" } else { "idle" },
                            "completed": count("completed"), "failed": count("failed"),
                            "running": running,
                            "last_intent": mine.first().map(|e| e.intent_type.clone()),
                            "last_activity": mine.first().map(|e| to_rfc3339(e.updated_at)),
                        }));
                    }
                    (
                        "session_state",
                        json!({"session_state": {"session_id": session.session_id,
                            "status": session.status, "executions": executions.len(),
                            "last_activity": executions.first().map(|e| to_rfc3339(e.updated_at)),
                            "artifacts": work.counts()},
                            "orchestrator_states": states}),
                    )
                }
            }
            _ => {
                let t = p
                    .lifecycle
                    .as_ref()
                    .ok_or_else(|| StepError::new("no transition was given"))?;
                ("artifact_lifecycle", transition(ctx, t).await?)
            }
        };
        let mut artifacts = Map::new();
        artifacts.insert(key.into(), artifact(key, payload));
        Ok(StepOutput {
            output: json!({}),
            artifacts,
        })
    }
}
