//! The registry of what realms bring: intent handlers (each with its pillar), background
//! actors the runtime supervises, and handles left for operators and tests.

use std::collections::HashMap;
use std::sync::Arc;

use http::Extensions;

use super::config::RuntimeConfig;
use super::handler::{IntentHandler, Services};
use crate::actors::{ChildSpec, FaultTargets};
use crate::runtime::contract::agents::Pillar;

/// What a realm's background actors get when the runtime starts them.
pub struct RealmEnv<'a> {
    pub services: &'a Services,
    pub config: &'a RuntimeConfig,
    /// Where an actor that may be crashed on purpose registers (feature `fault-injection`).
    pub faults: &'a FaultTargets,
}

/// Builds one background actor's child spec when the runtime starts.
pub type Background = Arc<dyn Fn(&RealmEnv<'_>) -> ChildSpec + Send + Sync>;

pub use super::intent_info::IntentInfo;

/// The intents the engine can run, from the realms registered in it, with what the realms
/// start beside them: background actors and handles.
#[derive(Clone, Default)]
pub struct HandlerRegistry {
    handlers: HashMap<String, (Arc<dyn IntentHandler>, Option<Pillar>)>,
    background: Vec<(String, Background)>,
    handles: Extensions,
}

impl HandlerRegistry {
    /// Registers a handler that belongs to no pillar (replacing one of the same intent type).
    pub fn register(&mut self, handler: Arc<dyn IntentHandler>) {
        self.register_in(None, handler);
    }

    /// Registers a handler whose intents the `pillar`'s liaison serves.
    pub fn register_in(&mut self, pillar: Option<Pillar>, handler: Arc<dyn IntentHandler>) {
        self.handlers
            .insert(handler.intent_type().to_string(), (handler, pillar));
    }

    /// A background actor the runtime starts (and restarts) under its root supervisor; one of
    /// the same `name` is replaced.
    pub fn background(&mut self, name: &str, spec: Background) {
        self.background.retain(|(n, _)| n != name);
        self.background.push((name.to_string(), spec));
    }

    pub(super) fn background_specs(&self) -> impl Iterator<Item = &Background> {
        self.background.iter().map(|(_, b)| b)
    }

    /// Leaves a handle (one per type) for whoever holds the registry: operators and tests.
    pub fn insert_handle<T: Clone + Send + Sync + 'static>(&mut self, handle: T) {
        self.handles.insert(handle);
    }

    pub fn handle<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.handles.get::<T>().cloned()
    }

    pub fn get(&self, intent_type: &str) -> Option<Arc<dyn IntentHandler>> {
        self.handlers.get(intent_type).map(|(h, _)| h.clone())
    }

    /// Every registered intent, sorted by type.
    pub fn describe(&self) -> Vec<IntentInfo> {
        let mut v: Vec<_> = self
            .handlers
            .values()
            .map(|(h, pillar)| IntentInfo {
                intent_type: h.intent_type().to_string(),
                description: h.description().to_string(),
                pillar: *pillar,
            })
            .collect();
        v.sort();
        v
    }
}
