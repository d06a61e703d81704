//! What a realm's step may ask the engine about its own session: the session's record, its
//! executions, its conversations, the registered intents, what the agents make of a message,
//! and a chat turn with one of its agents. Realms know the engine only through this and the
//! handler API; the desk is bound to the running engine when it starts.

use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use super::context::RuntimeInner;
use super::in_process::InProcessClient;
use super::registry::IntentInfo;
use crate::runtime::contract::client::RuntimeClient;
use crate::runtime::contract::event_type::EventType;
use crate::runtime::contract::model::{AgentMessage, Scope};
use crate::store::conversations::TurnRecord;
use crate::store::{ExecutionRow, SessionRow};

/// How long a chat turn asked for by a step may take.
const TURN_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone, Default)]
pub struct Desk(Arc<OnceLock<Weak<RuntimeInner>>>);

impl Desk {
    /// Binds the desk to the running engine (once, at start).
    pub(crate) fn bind(&self, ctx: &Arc<RuntimeInner>) {
        let _ = self.0.set(Arc::downgrade(ctx));
    }

    fn ctx(&self) -> Result<Arc<RuntimeInner>, String> {
        self.0
            .get()
            .and_then(Weak::upgrade)
            .ok_or_else(|| "the engine is not running".to_string())
    }

    /// The session's stored record.
    pub async fn session(&self, session_id: &str) -> Result<Option<SessionRow>, String> {
        self.ctx()?
            .store
            .get_session(session_id)
            .await
            .map_err(|e| e.to_string())
    }

    /// The session's latest executions, newest first.
    pub async fn executions(
        &self,
        session_id: &str,
        limit: i64,
    ) -> Result<Vec<ExecutionRow>, String> {
        self.ctx()?
            .store
            .session_executions(session_id, limit)
            .await
            .map_err(|e| e.to_string())
    }

    /// The session's last turns with agents of a kind (`guide`, `liaison.content`, or
    /// `liaison.` for all liaisons), oldest first.
    pub async fn turns(
        &self,
        session_id: &str,
        agent_kind: &str,
        limit: i64,
    ) -> Result<Vec<TurnRecord>, String> {
        self.ctx()?
            .store
            .session_turns(session_id, agent_kind, limit)
            .await
            .map_err(|e| e.to_string())
    }

    /// Every registered intent, with its pillar.
    pub fn intents(&self) -> Vec<IntentInfo> {
        self.ctx()
            .map(|c| c.handlers.describe())
            .unwrap_or_default()
    }

    /// What the agents make of a message (its intent, pillar and confidence), if they say.
    pub fn understand(&self, text: &str) -> Option<Value> {
        let ctx = self.ctx().ok()?;
        ctx.brain.understand(text, &ctx.handlers.describe())
    }

    /// One chat turn with the session's agent `agent` (`liaison.content`, …) in
    /// `conversation_id`, as a client's message would be: stored, answered by the agent actor,
    /// its events in the session's log. Answers the `AGENT_RESPONSE` data.
    pub async fn converse(
        &self,
        scope: &Scope,
        session_id: &str,
        agent: &str,
        conversation_id: &str,
        text: &str,
    ) -> Result<Value, String> {
        let client = InProcessClient::new(self.ctx()?);
        let err = |e: crate::runtime::RuntimeError| e.to_string();
        // Listen before asking, so the answer cannot be missed.
        let after = client.last_seq(scope, session_id).await.map_err(err)?;
        let mut events = client
            .subscribe(scope, session_id, after)
            .await
            .map_err(err)?;
        let accepted = client
            .agent_message(
                scope,
                AgentMessage {
                    session_id: session_id.to_string(),
                    agent: agent.to_string(),
                    conversation_id: conversation_id.to_string(),
                    text: text.to_string(),
                    metadata: Value::Null,
                },
            )
            .await
            .map_err(err)?;
        let answer = async {
            while let Some(Ok(e)) = events.next().await {
                if e.data["conversation_id"] != accepted.conversation_id.as_str() {
                    continue;
                }
                match e.kind() {
                    Some(EventType::AgentResponse) => return Ok(e.data),
                    Some(EventType::AgentFailed) => {
                        return Err(e.data["error"]
                            .as_str()
                            .unwrap_or("the agent failed")
                            .to_string())
                    }
                    _ => {}
                }
            }
            Err("the event stream ended".to_string())
        };
        tokio::time::timeout(TURN_TIMEOUT, answer)
            .await
            .unwrap_or_else(|_| Err("the agent did not answer in time".into()))
    }
}
