//! Realm handlers: the intents the Runtime executes, one file per realm.

pub mod content;
pub mod echo;

use std::sync::Arc;

use super::handler::HandlerRegistry;

pub fn register_builtin(registry: &mut HandlerRegistry) {
    registry.register(Arc::new(echo::Echo));
    content::register(registry);
}
