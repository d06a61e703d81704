//! What every Experience handler shares.

use std::sync::Arc;

use super::rate_limit::RateLimits;
use super::settings::ExperienceSettings;
use crate::runtime::RuntimeClient;
use crate::security::SecurityGuard;

#[derive(Clone)]
pub struct ExperienceState {
    /// The only way to the runtime.
    pub runtime: Arc<dyn RuntimeClient>,
    pub guard: SecurityGuard,
    pub settings: Arc<ExperienceSettings>,
    pub limits: Arc<RateLimits>,
    /// Turns `true` when the server shuts down (long-lived sockets close with 1001).
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    pub agent_sockets: super::agent_ws::AgentSockets,
    /// Connection actors that may be crashed on purpose (feature `fault-injection`).
    pub faults: crate::actors::FaultTargets,
    /// This plane's own database (users, tokens), as last probed.
    pub db_health: Arc<crate::store::health::DbHealth>,
    /// Seats for large intent submits (inline files), so that their buffered bodies are
    /// bounded: `INLINE_UPLOADS_AT_ONCE` × the submit body limit.
    pub inline_uploads: Arc<tokio::sync::Semaphore>,
    /// Signs and checks exports' download links.
    pub downloads: crate::security::download_tokens::DownloadKeys,
}
