//! Configuration: command-line flags mirroring the contract's environment variables, resolved
//! into one `Config` (defaults → environment → flags).

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args};
use secrecy::{ExposeSecret, SecretString};

use crate::actors::RestartPolicy;
use crate::agents::llm::LlmSettings;
use crate::experience::settings::{ExperienceSettings, RateSpec};
use crate::http::limits::{default_max_connections, EdgeLimits};
use crate::runtime::engine::intake_limits::IntakeRates;
use crate::runtime::realms::content::ContentSettings;
use crate::runtime::RuntimeConfig;
use crate::security::secrets;
use crate::store::durability::Durability;
use crate::store::usage::StorageQuotas;

pub use crate::redact::redact_url;

#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory for the SQLite file, blobs and generated secrets.
    #[arg(long, env = "SYMPHAINY_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; default: an SQLite file in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// `process` (a commit survives a crash of the process) or `fsync` (also a power loss);
    /// default: process on SQLite, fsync (the server's own setting) on PostgreSQL.
    #[arg(long, env = "SYMPHAINY_DURABILITY", value_parser = Durability::parse)]
    pub durability: Option<Durability>,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Experience Plane listener (public).
    #[arg(long, env = "SYMPHAINY_HTTP_ADDR", default_value = "0.0.0.0:8080")]
    pub http_addr: String,
    /// Runtime Plane listener (internal).
    #[arg(long, env = "SYMPHAINY_RUNTIME_ADDR", default_value = "127.0.0.1:8000")]
    pub runtime_addr: String,
    /// Where the Runtime Plane is, for `experience` alone (e.g. http://runtime:8000).
    #[arg(long, env = "SYMPHAINY_RUNTIME_URL")]
    pub runtime_url: Option<String>,
    /// Shared secret between the planes; generated into the data directory when unset.
    #[arg(long, env = "SYMPHAINY_SERVICE_TOKEN", hide_env_values = true)]
    pub service_token: Option<SecretString>,
    /// Seconds without activity before an idle session actor is passivated.
    #[arg(long, env = "SYMPHAINY_SESSION_IDLE_SECS", default_value_t = RuntimeConfig::default().session_idle.as_secs())]
    pub session_idle_secs: u64,
    /// Supervisor restart intensity: at most this many restarts ...
    #[arg(long, env = "SYMPHAINY_MAX_RESTARTS", default_value_t = RuntimeConfig::default().restart.max_restarts)]
    pub max_restarts: u32,
    /// ... within this many seconds, else the supervisor escalates.
    #[arg(long, env = "SYMPHAINY_RESTART_WINDOW_SECS", default_value_t = RuntimeConfig::default().restart.within.as_secs())]
    pub restart_window_secs: u64,
    /// Largest accepted JSON request body, in bytes.
    #[arg(long, env = "SYMPHAINY_MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Access-token signing key (HS256); generated into the data directory when unset.
    #[arg(long, env = "SYMPHAINY_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<SecretString>,
    /// Require Bearer tokens for every session that belongs to a user.
    #[arg(long, env = "SYMPHAINY_AUTH_STRICT", default_value_t = false, action = ArgAction::Set)]
    pub auth_strict: bool,
    /// Login attempts per client address (and per email): N/SECONDS.
    #[arg(long, env = "SYMPHAINY_RATE_LIMIT_LOGIN", default_value = "5/60")]
    pub rate_limit_login: RateSpec,
    /// Registrations per client address: N/SECONDS.
    #[arg(long, env = "SYMPHAINY_RATE_LIMIT_REGISTER", default_value = "3/300")]
    pub rate_limit_register: RateSpec,
    /// Bytes of files a session may keep.
    #[arg(long, env = "SYMPHAINY_QUOTA_SESSION_BYTES", default_value_t = StorageQuotas::default().session_bytes)]
    pub quota_session_bytes: u64,
    /// Parsed records a session may keep.
    #[arg(
        long,
        env = "SYMPHAINY_QUOTA_SESSION_RECORDS",
        default_value_t = StorageQuotas::default().session_records
    )]
    pub quota_session_records: u64,
    /// Bytes of files a tenant may keep.
    #[arg(long, env = "SYMPHAINY_QUOTA_TENANT_BYTES", default_value_t = StorageQuotas::default().tenant_bytes)]
    pub quota_tenant_bytes: u64,
    /// Parsed records a tenant may keep.
    #[arg(
        long,
        env = "SYMPHAINY_QUOTA_TENANT_RECORDS",
        default_value_t = StorageQuotas::default().tenant_records
    )]
    pub quota_tenant_records: u64,
    /// Intents per session: N/SECONDS (more: 429).
    #[arg(long, env = "SYMPHAINY_INTENT_RATE_SESSION", default_value_t = IntakeRates::default().intents_per_session)]
    pub intent_rate_session: RateSpec,
    /// Agent chat turns per session: N/SECONDS (more: 429, or an error frame on the socket).
    #[arg(long, env = "SYMPHAINY_TURN_RATE_SESSION", default_value_t = IntakeRates::default().turns_per_session)]
    pub turn_rate_session: RateSpec,
    /// Intents and agent turns together per tenant: N/SECONDS.
    #[arg(long, env = "SYMPHAINY_INTAKE_RATE_TENANT", default_value_t = IntakeRates::default().per_tenant)]
    pub intake_rate_tenant: RateSpec,
    /// Comma-separated origins allowed by CORS (e.g. http://localhost:3000).
    #[arg(long, env = "SYMPHAINY_CORS_ORIGINS", default_value = "")]
    pub cors_origins: String,
    /// Access-token lifetime in seconds: 8 hours, a working day, because the web frontend
    /// never refreshes its token (docs/experience-api.md, "Token lifetimes"); clients that
    /// refresh may set 900.
    #[arg(long, env = "SYMPHAINY_ACCESS_TOKEN_TTL_SECS", default_value_t = 8 * 3600)]
    pub access_token_ttl_secs: u64,
    /// Refresh-token lifetime in seconds.
    #[arg(long, env = "SYMPHAINY_REFRESH_TOKEN_TTL_SECS", default_value_t = 30 * 24 * 3600)]
    pub refresh_token_ttl_secs: u64,
    /// Largest accepted upload (and ingested file), in bytes.
    #[arg(
        long,
        env = "SYMPHAINY_MAX_UPLOAD_BYTES",
        default_value_t = RuntimeConfig::default().max_upload_bytes
    )]
    pub max_upload_bytes: u64,
    /// Largest file accepted inline in an intent submit (hex or base64 in the JSON, as the web
    /// frontend uploads), decoded bytes; the submit route then takes bodies up to twice this
    /// plus 1 MiB. Larger files go through the multipart upload route.
    #[arg(
        long,
        env = "SYMPHAINY_MAX_INLINE_UPLOAD_BYTES",
        default_value_t = crate::experience::settings::DEFAULT_MAX_INLINE_UPLOAD_BYTES
    )]
    pub max_inline_upload_bytes: u64,
    /// A file never materialized is removed this many seconds after its ingestion.
    #[arg(
        long,
        env = "SYMPHAINY_UNMATERIALIZED_TTL_SECS",
        default_value_t = ContentSettings::default().unmaterialized_ttl.as_secs()
    )]
    pub unmaterialized_ttl_secs: u64,
    /// Seconds an unreferenced blob is kept before the janitor collects it.
    #[arg(long, env = "SYMPHAINY_BLOB_GRACE_SECS", default_value_t = ContentSettings::default().blob_grace.as_secs())]
    pub blob_grace_secs: u64,
    /// Agent WebSocket connections allowed at once.
    #[arg(long, env = "SYMPHAINY_WS_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub ws_max_connections: usize,
    /// Seconds without a frame from the client before an agent socket is closed.
    #[arg(long, env = "SYMPHAINY_WS_IDLE_SECS", default_value_t = 300)]
    pub ws_idle_secs: u64,
    /// Messages queued for a slow agent-socket client before it is closed (1013).
    #[arg(long, env = "SYMPHAINY_WS_OUTBOUND_QUEUE", default_value_t = 256)]
    pub ws_outbound_queue: usize,
    /// The Experience Plane's address as browsers reach it, for absolute links (exports'
    /// downloads); unset: the request's own host.
    #[arg(long, env = "SYMPHAINY_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The bearer token `/metrics` on the public (Experience) listener asks for; unset, it is
    /// not served there (the runtime's internal listener serves metrics without one).
    #[arg(long, env = "SYMPHAINY_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<SecretString>,
    /// This runtime node's id in a cluster (PostgreSQL); a new random one at each start when
    /// unset. Two live nodes must never share one.
    #[arg(long, env = "SYMPHAINY_NODE_ID")]
    pub node_id: Option<String>,
    /// This runtime node's Runtime API as the other nodes reach it (e.g. http://runtime-1:8000);
    /// default: its listener's address, the host name in place of 0.0.0.0.
    #[arg(long, env = "SYMPHAINY_ADVERTISE_URL")]
    pub advertise_url: Option<String>,
    /// How long a partition's lease lasts without renewal, in milliseconds: a dead node's
    /// sessions move to the others within about this and a quarter of it (at least 400).
    #[arg(long, env = "SYMPHAINY_CLUSTER_LEASE_MS", default_value_t = 10_000)]
    pub cluster_lease_ms: u64,
    /// Seconds an export's download link works after it is shown.
    #[arg(long, env = "SYMPHAINY_DOWNLOAD_TTL_SECS", default_value_t = 900)]
    pub download_ttl_secs: u64,
    /// OpenAI-compatible chat-completions endpoint for agents (unset: offline reasoning).
    #[arg(long, env = "SYMPHAINY_LLM_URL")]
    pub llm_url: Option<String>,
    /// The model to ask.
    #[arg(long, env = "SYMPHAINY_LLM_MODEL", default_value = "gpt-4o-mini")]
    pub llm_model: String,
    /// The model service's API key.
    #[arg(long, env = "SYMPHAINY_LLM_API_KEY", hide_env_values = true)]
    pub llm_api_key: Option<SecretString>,
    /// Connections open at once on each listener (upgraded WebSockets included); 0: a third
    /// of the process's file-descriptor limit after a reserve.
    #[arg(long, env = "SYMPHAINY_HTTP_MAX_CONNECTIONS", default_value_t = 0)]
    pub http_max_connections: usize,
    /// Seconds a client may take to send a request's headers, from its first byte.
    #[arg(long, env = "SYMPHAINY_HTTP_HEADER_TIMEOUT_SECS", default_value_t = EdgeLimits::default().header_timeout.as_secs())]
    pub http_header_timeout_secs: u64,
    /// Seconds a kept-alive connection may wait for its next request.
    #[arg(long, env = "SYMPHAINY_HTTP_IDLE_TIMEOUT_SECS", default_value_t = EdgeLimits::default().idle_timeout.as_secs())]
    pub http_idle_timeout_secs: u64,
    /// Seconds a request body may take, beyond the time its size allows at the minimum rate.
    #[arg(long, env = "SYMPHAINY_HTTP_BODY_TIMEOUT_SECS", default_value_t = EdgeLimits::default().body_timeout.as_secs())]
    pub http_body_timeout_secs: u64,
    /// Bytes per second a request body must average (beyond the body timeout).
    #[arg(long, env = "SYMPHAINY_HTTP_BODY_MIN_RATE", default_value_t = EdgeLimits::default().body_min_rate)]
    pub http_body_min_rate: u64,
    /// Behind a trusted reverse proxy: take the client address from X-Forwarded-For.
    #[arg(long, env = "SYMPHAINY_TRUST_FORWARDED_FOR", default_value_t = false, action = ArgAction::Set)]
    pub trust_forwarded_for: bool,
}

/// Everything a running server needs, resolved.
#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    /// How durable commits are (`None`: the backend's default).
    pub durability: Option<Durability>,
    pub http_addr: String,
    pub runtime_addr: String,
    pub service_token: SecretString,
    pub runtime: RuntimeConfig,
    /// An OpenAI-compatible model for agents' wording; `None` is the built-in offline backend.
    pub llm: Option<LlmSettings>,
    pub max_body_bytes: usize,
    pub experience: ExperienceSettings,
    /// Connection cap and timeouts of each listener.
    pub edge: EdgeLimits,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database", &redact_url(&self.database_url))
            .field("durability", &self.durability)
            .field("http_addr", &self.http_addr)
            .field("runtime_addr", &self.runtime_addr)
            .field("service_token", &self.service_token)
            .field("runtime", &self.runtime)
            .field("llm", &self.llm)
            .field("experience", &self.experience)
            .field("edge", &self.edge)
            .finish()
    }
}

impl StoreArgs {
    /// `DATABASE_URL`, or the SQLite file in the data directory. Creates nothing: the SQLite
    /// store creates its file's directory when it opens it.
    pub fn database_url(&self) -> anyhow::Result<String> {
        Ok(match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.trim().to_string(),
            _ => format!("sqlite://{}", self.data_dir.join("symphainy.db").display()),
        })
    }
}

impl ServeArgs {
    /// For `experience` alone: the Runtime Plane's URL, and a service token that must come from
    /// the environment or the (shared) data directory — a fresh one could never match.
    pub fn runtime_url(&self) -> anyhow::Result<String> {
        let url = self
            .runtime_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!("`experience` needs SYMPHAINY_RUNTIME_URL (or --runtime-url)")
            })?;
        let given = self
            .service_token
            .as_ref()
            .is_some_and(|t| !t.expose_secret().trim().is_empty());
        if !given && !self.store.data_dir.join("service_token").exists() {
            anyhow::bail!(
                "`experience` needs the Runtime Plane's SYMPHAINY_SERVICE_TOKEN (or its file in \
                 SYMPHAINY_DATA_DIR)"
            );
        }
        Ok(url.to_string())
    }

    /// Checks what can be checked without touching the data directory, so that a bad value
    /// fails before any secret is generated into it.
    pub fn validate(&self) -> anyhow::Result<()> {
        if let Some(secret) = self.jwt_secret.as_ref().map(ExposeSecret::expose_secret) {
            // Neither the value nor its length is repeated.
            if secret.trim().chars().count() < 32 {
                anyhow::bail!(
                    "SYMPHAINY_JWT_SECRET (or --jwt-secret) is too short: it must be at least 32 \
                     characters"
                );
            }
        }
        Ok(())
    }

    pub fn resolve(self) -> anyhow::Result<Config> {
        self.validate()?;
        let database_url = self.store.database_url()?;
        let service_token =
            secrets::load_or_generate(self.service_token, &self.store.data_dir, "service_token")?;
        let jwt_secret =
            secrets::load_or_generate(self.jwt_secret, &self.store.data_dir, "jwt_secret")?;
        // Lifetimes beyond ten years are a configuration mistake (and overflow arithmetic).
        const MAX_TTL: u64 = 10 * 365 * 24 * 3600;
        let experience = ExperienceSettings {
            jwt_secret,
            access_ttl: Duration::from_secs(self.access_token_ttl_secs.clamp(1, MAX_TTL)),
            refresh_ttl: Duration::from_secs(self.refresh_token_ttl_secs.clamp(1, MAX_TTL)),
            auth_strict: self.auth_strict,
            rate_login: self.rate_limit_login,
            rate_register: self.rate_limit_register,
            cors_origins: self
                .cors_origins
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            trust_forwarded_for: self.trust_forwarded_for,
            max_upload_bytes: self.max_upload_bytes,
            max_inline_upload_bytes: self.max_inline_upload_bytes.min(self.max_upload_bytes),
            max_body_bytes: self.max_body_bytes,
            ws_max_connections: self.ws_max_connections,
            ws_idle: Duration::from_secs(self.ws_idle_secs.clamp(1, MAX_TTL)),
            ws_outbound_queue: self.ws_outbound_queue.max(1),
            public_url: self.public_url.filter(|u| !u.trim().is_empty()),
            download_ttl: Duration::from_secs(self.download_ttl_secs.clamp(1, MAX_TTL)),
            metrics_token: self
                .metrics_token
                .filter(|t| !t.expose_secret().trim().is_empty()),
        };
        let edge = EdgeLimits {
            max_connections: match self.http_max_connections {
                0 => default_max_connections(),
                n => n,
            },
            header_timeout: Duration::from_secs(self.http_header_timeout_secs.clamp(1, MAX_TTL)),
            idle_timeout: Duration::from_secs(self.http_idle_timeout_secs.clamp(1, MAX_TTL)),
            body_timeout: Duration::from_secs(self.http_body_timeout_secs.clamp(1, MAX_TTL)),
            body_min_rate: self.http_body_min_rate.max(1),
        };
        let restart = RestartPolicy {
            max_restarts: self.max_restarts,
            within: Duration::from_secs(self.restart_window_secs),
        };
        let mut realms = http::Extensions::new();
        realms.insert(ContentSettings {
            unmaterialized_ttl: Duration::from_secs(self.unmaterialized_ttl_secs.clamp(1, MAX_TTL)),
            blob_grace: Duration::from_secs(self.blob_grace_secs.clamp(60, MAX_TTL)),
            ..ContentSettings::default()
        });
        Ok(Config {
            data_dir: self.store.data_dir,
            database_url,
            durability: self.store.durability,
            http_addr: self.http_addr,
            runtime_addr: self.runtime_addr,
            service_token,
            runtime: RuntimeConfig {
                session_idle: Duration::from_secs(self.session_idle_secs.max(1)),
                restart,
                max_upload_bytes: self.max_upload_bytes,
                realms,
                quotas: crate::store::usage::StorageQuotas {
                    session_bytes: self.quota_session_bytes,
                    session_records: self.quota_session_records,
                    tenant_bytes: self.quota_tenant_bytes,
                    tenant_records: self.quota_tenant_records,
                },
                intake: IntakeRates {
                    intents_per_session: self.intent_rate_session,
                    turns_per_session: self.turn_rate_session,
                    per_tenant: self.intake_rate_tenant,
                },
                cluster: crate::runtime::cluster::ClusterSettings {
                    node_id: self.node_id.filter(|n| !n.trim().is_empty()),
                    advertise_url: self.advertise_url.filter(|u| !u.trim().is_empty()),
                    lease: Duration::from_millis(self.cluster_lease_ms.clamp(400, 3_600_000)),
                },
                ..RuntimeConfig::default()
            },
            llm: self
                .llm_url
                .filter(|u| !u.trim().is_empty())
                .map(|url| LlmSettings {
                    url,
                    model: self.llm_model.clone(),
                    api_key: self.llm_api_key.filter(|k| !k.expose_secret().is_empty()),
                }),
            max_body_bytes: self.max_body_bytes,
            experience,
            edge,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        serve: ServeArgs,
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let dir = tempfile::tempdir().unwrap();
        let (token, jwt, key) = (
            "service-token-not-to-show",
            "jwt-secret-not-to-show-0123456789abcdef",
            "sk-api-key-not-to-show",
        );
        let cli = Cli::try_parse_from([
            "symphainy",
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--service-token",
            token,
            "--jwt-secret",
            jwt,
            "--llm-url",
            "http://127.0.0.1:9/v1",
            "--llm-api-key",
            key,
        ])
        .unwrap();
        let config = cli.serve.clone().resolve().unwrap();
        assert_eq!(config.service_token.expose_secret(), token);
        assert_eq!(config.experience.jwt_secret.expose_secret(), jwt);
        let api_key = config.llm.as_ref().and_then(|l| l.api_key.as_ref());
        assert_eq!(api_key.map(|k| k.expose_secret()), Some(key));
        for shown in [format!("{cli:?}"), format!("{config:?}")] {
            for secret in [token, jwt, key] {
                assert!(!shown.contains(secret), "{secret} shown in {shown}");
            }
        }
    }
}
