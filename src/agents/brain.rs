//! The agents' brain, as the engine's agent host asks for it: the behaviour drafts a reply
//! from real intents, the reasoning backend words it (streaming when it can), and a backend
//! that fails leaves the plain draft.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;

use super::behaviour::respond;
use super::llm::{ChatCompletions, LlmSettings};
use super::reasoning::{Plain, ReasoningBackend};
use crate::runtime::engine::brain::{AgentBrain, AgentReply, TurnInput, Workbench};

pub struct Agents {
    reasoning: Arc<dyn ReasoningBackend>,
}

impl Agents {
    /// With a model when `llm` is set, else the built-in offline wording.
    pub fn new(llm: Option<&LlmSettings>) -> anyhow::Result<Self> {
        let reasoning: Arc<dyn ReasoningBackend> = match llm {
            Some(settings) => {
                tracing::info!(url = %settings.url, model = %settings.model, "agents phrase replies with a model");
                Arc::new(ChatCompletions::new(settings.clone())?)
            }
            None => Arc::new(Plain),
        };
        Ok(Self { reasoning })
    }
}

#[async_trait]
impl AgentBrain for Agents {
    fn understand(
        &self,
        text: &str,
        intents: &[crate::runtime::engine::intent_info::IntentInfo],
    ) -> Option<serde_json::Value> {
        let u = super::offline::understand(text, intents);
        Some(json!({
            "primary_intent": u.primary_intent,
            "target_domain": u.target_domain.map(|p| p.as_str()),
            "confidence": u.confidence,
            "reasoning": u.reasoning,
        }))
    }

    async fn answer(
        &self,
        turn: TurnInput<'_>,
        bench: &dyn Workbench,
        on_token: &(dyn Fn(String) + Send + Sync),
    ) -> AgentReply {
        let reply = respond(turn.kind, turn.text, turn.history, bench).await;
        let message = self
            .reasoning
            .phrase(&reply.draft, turn.history, on_token)
            .await
            // A model that fails still leaves the facts: answer with the plain draft.
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "reasoning backend failed; answering plainly");
                reply.draft.message.clone()
            });
        let u = &reply.understanding;
        let pillar = turn.kind.pillar().or(u.target_domain);
        let fields = json!({
            "pillar": pillar.map(|p| p.as_str()),
            "intent": {
                "primary_intent": u.primary_intent,
                "target_domain": u.target_domain.map(|p| p.as_str()),
                "confidence": u.confidence,
            },
            "reasoning": u.reasoning,
            "data": reply.draft.facts,
            "suggested_actions": reply.suggested_actions,
            "backend": self.reasoning.name(),
        });
        let fields = fields.as_object().cloned().unwrap_or_default();
        AgentReply {
            message,
            facts: reply.draft.facts,
            fields,
        }
    }
}
