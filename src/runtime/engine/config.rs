//! The engine's settings.

use std::time::Duration;

use super::intake_limits::IntakeRates;
use crate::actors::RestartPolicy;

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
    /// Realms' own settings, one value per type (the content realm's `ContentSettings`);
    /// a realm missing its value uses its defaults.
    pub realms: http::Extensions,
    /// How fast a session or tenant may submit intents and agent turns.
    pub intake: IntakeRates,
    /// What a session and a tenant may keep stored (files' bytes, parsed records).
    pub quotas: crate::store::usage::StorageQuotas,
    /// At most one progress event per execution in this time (long steps report more often).
    pub progress_interval: Duration,
    /// The optional language model realms may ask (wording, judgement no rule decides).
    pub language: super::language::Language,
    /// This node's place in a cluster (on PostgreSQL; a single SQLite node ignores it).
    pub cluster: crate::runtime::cluster::ClusterSettings,
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
            realms: http::Extensions::new(),
            intake: IntakeRates::default(),
            quotas: Default::default(),
            language: Default::default(),
            progress_interval: Duration::from_secs(1),
            cluster: Default::default(),
        }
    }
}
