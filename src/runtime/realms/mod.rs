//! Realm handlers: the intents the Runtime executes, one file per realm.

pub mod content;
pub mod echo;
pub mod insights;
pub mod quota;

use std::sync::Arc;

use crate::runtime::engine::handler::HandlerRegistry;

pub fn register_builtin(registry: &mut HandlerRegistry) {
    registry.register(Arc::new(echo::Echo));
    content::register(registry);
    registry.register(Arc::new(insights::analyze::handler()));
    registry.register(Arc::new(insights::quality::handler()));
    registry.register(Arc::new(insights::interpret::handler()));
    registry.register(Arc::new(insights::relationships::MapRelationships));
    registry.register(Arc::new(insights::mash::DataMash));
}
