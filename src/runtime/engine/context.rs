//! What every runtime actor shares: the store, the handlers, the event log, the registries.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use tokio::task::AbortHandle;

use crate::actors::{Registry, RestartPolicy, Slot};
use crate::agents::llm::LlmSettings;
use crate::agents::reasoning::ReasoningBackend;
use crate::runtime::engine::event_log::EventLogHandle;
use crate::runtime::engine::handler::{HandlerRegistry, Services};
use crate::runtime::engine::intake_limits::{IntakeLimits, IntakeRates};
use crate::runtime::engine::router::RouterMsg;
use crate::runtime::engine::session::SessionMsg;
use crate::runtime::realms::content::janitor::JanitorMsg;
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    /// A session actor with no running execution passivates after this long without a message.
    pub session_idle: Duration,
    /// Restart intensity of the router (over its sessions) and of each session (over its
    /// executions).
    pub restart: RestartPolicy,
    /// Restart intensity of the root supervisor (event log, router).
    pub root_restart: RestartPolicy,
    /// Largest file accepted (upload or ingest), in bytes.
    pub max_upload_bytes: u64,
    /// A file never materialized is removed this long after its ingestion.
    pub unmaterialized_ttl: Duration,
    /// How often the janitor looks for such files.
    pub janitor_interval: Duration,
    /// Unreferenced blobs are collected once they have not been stored for this long (the
    /// time an upload has to be referenced by its file).
    pub blob_grace: Duration,
    /// An OpenAI-compatible model for agents' wording; `None` is the built-in offline backend.
    pub llm: Option<LlmSettings>,
    /// How fast a session or tenant may submit intents and agent turns.
    pub intake: IntakeRates,
    /// What a session and a tenant may keep stored (files' bytes, parsed records).
    pub quotas: crate::store::usage::StorageQuotas,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            session_idle: Duration::from_secs(300),
            restart: RestartPolicy {
                max_restarts: 20,
                within: Duration::from_secs(10),
            },
            root_restart: RestartPolicy {
                max_restarts: 5,
                within: Duration::from_secs(10),
            },
            max_upload_bytes: 100 * 1024 * 1024,
            unmaterialized_ttl: Duration::from_secs(24 * 3600),
            janitor_interval: Duration::from_secs(60),
            blob_grace: Duration::from_secs(3600),
            llm: None,
            intake: IntakeRates::default(),
            quotas: Default::default(),
        }
    }
}

pub struct RuntimeInner {
    pub store: Store,
    /// What realm steps use (the store again, blobs, limits).
    pub services: Services,
    /// How agents word their replies.
    pub reasoning: Arc<dyn ReasoningBackend>,
    pub handlers: Arc<HandlerRegistry>,
    pub events: EventLogHandle,
    pub config: RuntimeConfig,
    pub router: Slot<RouterMsg>,
    pub janitor: Slot<JanitorMsg>,
    /// Active session actors by session id (kept by the router).
    pub sessions: Registry<String, SessionMsg>,
    /// The running saga driver task of each execution, so a restarted execution actor can
    /// stop its predecessor's driver before starting its own.
    pub drivers: DashMap<String, AbortHandle>,
    /// Actors that may be crashed on purpose (feature `fault-injection`; empty otherwise).
    pub faults: crate::actors::FaultTargets,
    /// Intake rate limits per session and tenant.
    pub intake: IntakeLimits,
}

pub type RuntimeCtx = Arc<RuntimeInner>;
