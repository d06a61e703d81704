//! The insights realm: statistics, quality, interpretation and relationships of parsed files,
//! and the data mash that combines several of them.

pub mod analysis_report;
pub mod analyze;
pub mod budget;
pub mod clip;
pub mod embeddings;
pub mod findings;
pub mod guided;
pub mod interpret;
pub mod key_values;
pub mod map_data;
pub mod mash;
pub mod names;
pub mod over_parsed;
pub mod permits;
pub mod quality;
pub mod quality_report;
pub mod relationships;
pub mod semantic;
pub mod stats;
pub mod text_analysis;
pub mod topk;
pub mod unstructured;
pub mod views;

use std::sync::Arc;

use crate::runtime::contract::agents::Pillar;
use crate::runtime::engine::params::Typed;
use crate::runtime::engine::realm::Realm;
use crate::runtime::engine::registry::HandlerRegistry;

pub struct InsightsRealm;

impl Realm for InsightsRealm {
    fn name(&self) -> &'static str {
        "insights"
    }

    fn register(&self, registry: &mut HandlerRegistry) {
        let insights = Some(Pillar::Insights);
        registry.register_in(insights, Arc::new(Typed(analyze::handler())));
        registry.register_in(insights, Arc::new(Typed(quality::handler())));
        registry.register_in(insights, Arc::new(Typed(interpret::handler())));
        registry.register_in(insights, Arc::new(Typed(unstructured::AnalyzeUnstructured)));
        registry.register_in(insights, Arc::new(Typed(guided::InterpretGuided)));
        registry.register_in(insights, Arc::new(Typed(relationships::MapRelationships)));
        registry.register_in(insights, Arc::new(Typed(mash::DataMash)));
        registry.register_in(insights, Arc::new(Typed(map_data::MapData)));
        registry.register_in(insights, Arc::new(Typed(permits::ProcessPermit)));
        registry.register_in(insights, Arc::new(Typed(permits::GetPso)));
        // The web frontend asks for embeddings on its Content page.
        let content = Some(Pillar::Content);
        registry.register_in(content, Arc::new(Typed(embeddings::Embeddings::extract())));
        registry.register_in(
            content,
            Arc::new(Typed(embeddings::Embeddings::deterministic())),
        );
        registry.register_in(content, Arc::new(Typed(semantic::SemanticInterpretation)));
    }
}
