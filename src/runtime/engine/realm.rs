//! A realm: a set of intents the engine runs without knowing them. It registers its handlers
//! (each with the pillar whose liaison serves it), may start background actors under the
//! runtime's root supervisor, and may leave handles for operators and tests (its janitor).

use super::registry::HandlerRegistry;

pub trait Realm {
    /// Short and stable: `content`, `insights`.
    fn name(&self) -> &'static str;
    /// Registers the realm's intent handlers (`register_in`), its background actors
    /// (`background`) and its handles (`insert_handle`).
    fn register(&self, registry: &mut HandlerRegistry);
}
