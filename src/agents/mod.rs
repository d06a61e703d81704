//! Agents: who answers (Guide, the pillars' Liaisons), how they reason (the offline scorer or
//! an OpenAI-compatible model), and what they do (liaisons run real intents). The actors that
//! host them live in the runtime (`runtime::agent`).

pub mod behaviour;
pub mod kinds;
pub mod llm;
pub mod offline;
pub mod reasoning;

pub use kinds::{AgentKind, Pillar};
