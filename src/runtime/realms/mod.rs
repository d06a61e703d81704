//! The realms: the intents the Runtime executes, one folder per realm. Each is a
//! [`Realm`](crate::runtime::engine::realm::Realm) that registers its handlers (with the pillar
//! whose liaison serves them) and its background actors; the engine knows none of them.

pub mod content;
pub mod derived;
pub mod echo;
pub mod graph_png;
pub mod insights;
pub mod operations;
pub mod outcomes;
pub mod quota;
pub mod session;

use crate::runtime::engine::realm::Realm;
use crate::runtime::engine::registry::HandlerRegistry;

/// The realms this server ships.
pub fn builtin_realms() -> Vec<Box<dyn Realm>> {
    vec![
        Box::new(echo::EchoRealm),
        Box::new(content::ContentRealm),
        Box::new(insights::InsightsRealm),
        Box::new(operations::OperationsRealm),
        Box::new(outcomes::OutcomesRealm),
        Box::new(session::SessionRealm),
    ]
}

/// A registry holding every built-in realm.
pub fn builtin() -> HandlerRegistry {
    let mut registry = HandlerRegistry::default();
    for realm in builtin_realms() {
        realm.register(&mut registry);
    }
    registry
}
