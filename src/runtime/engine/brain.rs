//! What the engine asks of agents: a brain that answers a chat turn, given a workbench to run
//! the session's intents. The engine hosts agents (actors, conversations, events); the brain it
//! is given at start (the `agents` module's) decides what to say.

use async_trait::async_trait;
use serde_json::Value;

use crate::runtime::contract::agents::AgentKind;
use crate::runtime::contract::model::ExecutionStatus;
use crate::runtime::engine::intent_info::IntentInfo;
use crate::store::conversations::Turn;

/// What an agent may do in its session: run intents and know which exist.
#[async_trait]
pub trait Workbench: Send + Sync {
    /// Runs an intent for the session and waits for its end.
    async fn run(&self, intent_type: &str, parameters: Value) -> Result<ExecutionStatus, String>;
    /// Every registered intent, with its pillar.
    fn intents(&self) -> Vec<IntentInfo>;
    fn session_id(&self) -> &str;
}

/// One chat turn as an agent's brain sees it: who answers, what was said, the conversation
/// so far (oldest first).
pub struct TurnInput<'a> {
    pub kind: AgentKind,
    pub text: &'a str,
    pub history: &'a [Turn],
}

/// A brain's answer: the reply's text and the facts behind it (both stored as the agent's
/// turn), and the other fields of its `AGENT_RESPONSE` event.
pub struct AgentReply {
    pub message: String,
    pub facts: Value,
    pub fields: serde_json::Map<String, Value>,
}

/// What answers chat turns. The engine hosts agents (their actors, conversations and events)
/// and asks the brain it was given for each reply; it never knows how agents think.
#[async_trait]
pub trait AgentBrain: Send + Sync {
    /// The reply to one turn. Streamed pieces of its text go to `on_token`, in order.
    async fn answer(
        &self,
        turn: TurnInput<'_>,
        bench: &dyn Workbench,
        on_token: &(dyn Fn(String) + Send + Sync),
    ) -> AgentReply;

    /// What a message is about (its intent, pillar, confidence and why), for the
    /// `analyze_user_intent` intent; `None` when this brain does not say.
    fn understand(&self, _text: &str, _intents: &[IntentInfo]) -> Option<Value> {
        None
    }
}
