//! The engine's answers to a realm step's desk (`desk.rs`): read from the runtime's store, the
//! handler registry and the agents' brain; a chat turn goes through the in-process client,
//! as a client's message would.

use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use serde_json::Value;

use super::context::RuntimeInner;
use super::desk::{DeskBackend, EarlierReply};
use super::in_process::InProcessClient;
use super::intent_info::IntentInfo;
use crate::runtime::contract::client::RuntimeClient;
use crate::runtime::contract::event_type::EventType;
use crate::runtime::contract::model::{AgentMessage, Scope};
use crate::store::conversations::TurnRecord;
use crate::store::{ExecutionRow, SessionRow};

/// How long a chat turn asked for by a step may take.
const TURN_TIMEOUT: Duration = Duration::from_secs(120);
/// How far back in a conversation a re-run step looks for its own exchange.
const EARLIER_TURNS: i64 = 200;

/// The running engine, held weakly.
pub struct EngineDesk(pub Weak<RuntimeInner>);

impl EngineDesk {
    fn ctx(&self) -> Result<Arc<RuntimeInner>, String> {
        self.0
            .upgrade()
            .ok_or_else(|| "the engine is not running".to_string())
    }
}

#[async_trait]
impl DeskBackend for EngineDesk {
    async fn session(&self, session_id: &str) -> Result<Option<SessionRow>, String> {
        self.ctx()?
            .store
            .get_session(session_id)
            .await
            .map_err(|e| e.to_string())
    }

    async fn executions(&self, session_id: &str, limit: i64) -> Result<Vec<ExecutionRow>, String> {
        self.ctx()?
            .store
            .session_executions(session_id, limit)
            .await
            .map_err(|e| e.to_string())
    }

    async fn turns(
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

    async fn counts(
        &self,
        session_id: &str,
    ) -> Result<(std::collections::BTreeMap<String, i64>, i64), String> {
        let ctx = self.ctx()?;
        let by_status = ctx
            .store
            .session_execution_counts(session_id)
            .await
            .map_err(|e| e.to_string())?;
        let conversations = ctx
            .store
            .session_conversation_count(session_id)
            .await
            .map_err(|e| e.to_string())?;
        Ok((by_status, conversations))
    }

    fn intents(&self) -> Vec<IntentInfo> {
        self.ctx()
            .map(|c| c.handlers.describe())
            .unwrap_or_default()
    }

    fn understand(&self, text: &str) -> Option<Value> {
        let ctx = self.ctx().ok()?;
        ctx.brain.understand(text, &ctx.handlers.describe())
    }

    async fn converse(
        &self,
        scope: &Scope,
        session_id: &str,
        agent: &str,
        conversation_id: &str,
        text: &str,
        metadata: Value,
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
                    metadata,
                },
            )
            .await
            .map_err(err)?;
        let answer = async {
            while let Some(Ok(e)) = events.next().await {
                if e.data["turn_id"] != accepted.turn_id.as_str() {
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

    async fn earlier_reply(
        &self,
        session_id: &str,
        conversation_id: &str,
        execution_id: &str,
    ) -> Result<Option<EarlierReply>, String> {
        let turns = self
            .ctx()?
            .store
            .recent_turns(session_id, conversation_id, EARLIER_TURNS)
            .await
            .map_err(|e| e.to_string())?;
        let Some(i) = turns
            .iter()
            .position(|t| t.role == "user" && t.data["metadata"]["execution_id"] == execution_id)
        else {
            return Ok(None);
        };
        let answer = turns[i + 1..]
            .iter()
            .find(|t| t.role == "agent")
            .map(|t| (t.content.clone(), t.data.clone()));
        Ok(Some(EarlierReply { answer }))
    }
}
