//! How agents reason. Understanding a message (which pillar, which intent, how sure) is always
//! done by the deterministic scorer in `offline`, so routing is predictable and explainable.
//! Wording the reply is a backend's job: the built-in one states the facts plainly; an
//! OpenAI-compatible model may phrase them, streaming its text as `AGENT_TOKEN` events.

use async_trait::async_trait;
use serde_json::Value;

use crate::runtime::contract::agents::Pillar;
use crate::store::conversations::Turn;

/// What the scorer made of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Understanding {
    /// The registered intent that matches best, if any matched.
    pub primary_intent: Option<String>,
    /// The pillar the message is about, if any scored.
    pub target_domain: Option<Pillar>,
    /// 0..1: how clearly the best pillar beat the others.
    pub confidence: f64,
    /// Why, in words: which terms matched which pillar and intent.
    pub reasoning: String,
    /// The message's meaningful words (lower case).
    pub words: Vec<String>,
}

/// A reply as the agent's behaviour drafted it: plain text plus the facts behind it.
#[derive(Debug, Clone)]
pub struct Draft {
    pub message: String,
    pub facts: Value,
}

#[async_trait]
pub trait ReasoningBackend: Send + Sync {
    /// The final reply text. `on_token` receives streamed pieces, if the backend streams.
    async fn phrase(
        &self,
        draft: &Draft,
        history: &[Turn],
        on_token: &(dyn Fn(String) + Send + Sync),
    ) -> Result<String, String>;

    fn name(&self) -> &'static str;
}

/// The built-in backend: the draft's own words, which state the facts plainly.
pub struct Plain;

#[async_trait]
impl ReasoningBackend for Plain {
    async fn phrase(
        &self,
        draft: &Draft,
        _history: &[Turn],
        _on_token: &(dyn Fn(String) + Send + Sync),
    ) -> Result<String, String> {
        Ok(draft.message.clone())
    }

    fn name(&self) -> &'static str {
        "offline"
    }
}
