//! What every runtime actor shares: the store, the handlers, the event log, the registries.

use std::sync::Arc;

use dashmap::DashMap;
use tokio::task::AbortHandle;

use crate::actors::{Registry, Slot};
use crate::runtime::engine::brain::AgentBrain;
use crate::runtime::engine::config::RuntimeConfig;
use crate::runtime::engine::event_log::EventLogHandle;
use crate::runtime::engine::handler::Services;
use crate::runtime::engine::intake_limits::IntakeLimits;
use crate::runtime::engine::messages::{RouterMsg, SessionMsg};
use crate::runtime::engine::registry::HandlerRegistry;
use crate::store::RuntimeStore;

pub struct RuntimeInner {
    /// Sessions, executions, events, conversations.
    pub store: RuntimeStore,
    /// What realm steps use (the artifact store, blobs, limits); the engine's artifact
    /// registry and upload staging use its store too.
    pub services: Services,
    /// Who answers chat turns (the agents).
    pub brain: Arc<dyn AgentBrain>,
    pub handlers: Arc<HandlerRegistry>,
    pub events: EventLogHandle,
    pub config: RuntimeConfig,
    pub router: Slot<RouterMsg>,
    /// Active session actors by session id (kept by the router).
    pub sessions: Registry<String, SessionMsg>,
    /// The running saga driver task of each execution, so a restarted execution actor can
    /// stop its predecessor's driver before starting its own.
    pub drivers: DashMap<String, AbortHandle>,
    /// Actors that may be crashed on purpose (feature `fault-injection`; empty otherwise).
    pub faults: crate::actors::FaultTargets,
    /// Intake rate limits per session and tenant.
    pub intake: IntakeLimits,
    /// Which sessions this node may run (all of them, unless it is a cluster node).
    pub ownership: Arc<crate::runtime::cluster::Ownership>,
}

pub type RuntimeCtx = Arc<RuntimeInner>;
