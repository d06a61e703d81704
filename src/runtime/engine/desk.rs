//! What a realm's step may ask the engine about its own session: the session's record, its
//! executions, its conversations, the registered intents, what the agents make of a message,
//! and a chat turn with one of its agents. Realms know the engine only through this and the
//! handler API. The engine answers (`desk_backend.rs`) once it is bound, when it starts.

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use serde_json::Value;

use super::intent_info::IntentInfo;
use crate::runtime::contract::model::Scope;
use crate::store::conversations::TurnRecord;
use crate::store::{ExecutionRow, SessionRow};

/// The engine's side of the desk.
#[async_trait]
pub trait DeskBackend: Send + Sync {
    /// The session's stored record.
    async fn session(&self, session_id: &str) -> Result<Option<SessionRow>, String>;
    /// The session's latest executions, newest first.
    async fn executions(&self, session_id: &str, limit: i64) -> Result<Vec<ExecutionRow>, String>;
    /// The session's last turns with agents of a kind (`guide`, `liaison.content`, or
    /// `liaison.` for all liaisons; empty for every agent), oldest first.
    async fn turns(
        &self,
        session_id: &str,
        agent_kind: &str,
        limit: i64,
    ) -> Result<Vec<TurnRecord>, String>;
    /// How many executions the session has, by status, and how many conversations.
    async fn counts(
        &self,
        session_id: &str,
    ) -> Result<(std::collections::BTreeMap<String, i64>, i64), String>;
    /// Every registered intent, with its pillar.
    fn intents(&self) -> Vec<IntentInfo>;
    /// What the agents make of a message (its intent, pillar and confidence), if they say.
    fn understand(&self, text: &str) -> Option<Value>;
    /// One chat turn with the session's agent `agent` (`liaison.content`, …) in
    /// `conversation_id`, as a client's message would be: stored (with `metadata`), answered
    /// by the agent actor, its events in the session's log. Answers the `AGENT_RESPONSE` data
    /// of this very turn.
    async fn converse(
        &self,
        scope: &Scope,
        session_id: &str,
        agent: &str,
        conversation_id: &str,
        text: &str,
        metadata: Value,
    ) -> Result<Value, String>;
    /// The stored agent turn that answered the user turn whose metadata holds
    /// `execution_id` in the conversation, if both are there: a step re-run after a crash
    /// finds the answer its first run got instead of sending the message again.
    async fn earlier_reply(
        &self,
        session_id: &str,
        conversation_id: &str,
        execution_id: &str,
    ) -> Result<Option<EarlierReply>, String>;
}

/// A stored exchange: whether the message was sent, and the answer if it came.
#[derive(Debug, Clone, PartialEq)]
pub struct EarlierReply {
    pub answer: Option<(String, Value)>,
}

/// The desk a step holds: the engine's backend once bound.
#[derive(Clone, Default)]
pub struct Desk(Arc<OnceLock<Arc<dyn DeskBackend>>>);

impl Desk {
    /// Binds the desk to the running engine (once, at start). The backend holds the engine
    /// weakly: a desk never keeps a stopped engine alive.
    pub fn bind(&self, backend: Arc<dyn DeskBackend>) {
        let _ = self.0.set(backend);
    }

    /// The engine's side, once the engine runs.
    pub fn get(&self) -> Result<Arc<dyn DeskBackend>, String> {
        self.0
            .get()
            .cloned()
            .ok_or_else(|| "the engine is not running".to_string())
    }
}
