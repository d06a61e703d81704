//! The session realm: the frontend's agent-manager and session intents (conversation
//! history, pillar agents, journey guidance, the session's record and state) and lifecycle
//! transitions, answered from the session's own record, work and conversations.

pub mod intents;
pub mod journey;
pub mod lifecycle;

use std::sync::Arc;

use crate::runtime::engine::params::Typed;
use crate::runtime::engine::realm::Realm;
use crate::runtime::engine::registry::HandlerRegistry;

use intents::SessionIntent;

pub struct SessionRealm;

impl Realm for SessionRealm {
    fn name(&self) -> &'static str {
        "session"
    }

    fn register(&self, registry: &mut HandlerRegistry) {
        registry.register(Arc::new(Typed(SessionIntent::<0>)));
        registry.register(Arc::new(Typed(SessionIntent::<1>)));
        registry.register(Arc::new(Typed(SessionIntent::<2>)));
        registry.register(Arc::new(Typed(SessionIntent::<3>)));
        registry.register(Arc::new(Typed(SessionIntent::<4>)));
        registry.register(Arc::new(Typed(SessionIntent::<5>)));
        registry.register(Arc::new(Typed(SessionIntent::<6>)));
        registry.register(Arc::new(Typed(SessionIntent::<7>)));
    }
}
