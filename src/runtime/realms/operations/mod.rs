//! The operations realm (the web frontend's Journey pillar): standard operating procedures
//! and workflows, read from the user's own documents and turned into each other.

pub mod bpmn;
pub mod coexistence;
pub mod coexistence_intents;
pub mod conversation;
pub mod extract;
pub mod intents;
pub mod judge;
pub mod mermaid;
pub mod procedure;
pub mod sop_text;
pub mod wizard;
pub mod workflow;

use std::sync::Arc;

use crate::runtime::contract::agents::Pillar;
use crate::runtime::engine::params::Typed;
use crate::runtime::engine::realm::Realm;
use crate::runtime::engine::registry::HandlerRegistry;

pub struct OperationsRealm;

impl Realm for OperationsRealm {
    fn name(&self) -> &'static str {
        "operations"
    }

    fn register(&self, registry: &mut HandlerRegistry) {
        let operations = Some(Pillar::Operations);
        registry.register_in(operations, Arc::new(Typed(intents::CreateWorkflow)));
        registry.register_in(operations, Arc::new(Typed(intents::GenerateSop)));
        registry.register_in(operations, Arc::new(Typed(wizard::WizardTurn)));
        registry.register_in(operations, Arc::new(Typed(wizard::OperationsQuery)));
        registry.register_in(
            operations,
            Arc::new(Typed(conversation::OperationsConversation)),
        );
        use coexistence_intents as c;
        registry.register_in(
            operations,
            Arc::new(Typed(c::Coexistence::<c::AnalyzeParams>::new())),
        );
        registry.register_in(
            operations,
            Arc::new(Typed(c::Coexistence::<c::ContentParams>::new())),
        );
        registry.register_in(
            operations,
            Arc::new(Typed(c::Coexistence::<c::ProcessParams>::new())),
        );
    }
}

#[cfg(test)]
mod tests;
