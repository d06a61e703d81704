//! Agents: who answers (Guide, the pillars' Liaisons), how they reason (the offline scorer or
//! an OpenAI-compatible model), and what they do (liaisons run real intents). The actors that
//! host them live in the runtime's engine (`runtime::engine::agent`), which reaches them only
//! through the [`AgentBrain`](crate::runtime::engine::brain::AgentBrain) it is given.

pub mod behaviour;
pub mod brain;
pub mod llm;
pub mod offline;
pub mod reasoning;
