//! The outcomes realm (the web frontend's Business Outcomes page): what a session did across
//! the pillars, synthesised, planned, proposed, drawn, registered and exported — every
//! figure computed from the session's own artifacts (`session_work.rs`) by stated rules
//! (`plan.rs`).

pub mod blueprint;
pub mod docx;
pub mod export;
pub mod intents;
pub mod plan;
pub mod poc;
pub mod roadmap;
pub mod session_work;
pub mod solution;
pub mod synthesis;

use std::sync::Arc;

use crate::runtime::contract::agents::Pillar;
use crate::runtime::engine::params::Typed;
use crate::runtime::engine::realm::Realm;
use crate::runtime::engine::registry::HandlerRegistry;

use intents::OutcomeIntent;

pub struct OutcomesRealm;

impl Realm for OutcomesRealm {
    fn name(&self) -> &'static str {
        "outcomes"
    }

    fn register(&self, registry: &mut HandlerRegistry) {
        let outcomes = Some(Pillar::BusinessOutcomes);
        registry.register_in(outcomes, Arc::new(Typed(OutcomeIntent::<0>)));
        registry.register_in(outcomes, Arc::new(Typed(OutcomeIntent::<1>)));
        registry.register_in(outcomes, Arc::new(Typed(OutcomeIntent::<2>)));
        registry.register_in(outcomes, Arc::new(Typed(OutcomeIntent::<3>)));
        registry.register_in(outcomes, Arc::new(Typed(OutcomeIntent::<4>)));
        registry.register_in(outcomes, Arc::new(Typed(OutcomeIntent::<5>)));
    }
}
