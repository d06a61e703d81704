//! Configuration: command-line flags mirroring the contract's environment variables, resolved
//! into one `Config` (defaults → environment → flags).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::actors::RestartPolicy;
use crate::runtime::RuntimeConfig;
use crate::security::secrets;

#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory for the SQLite file, blobs and generated secrets.
    #[arg(long, env = "SYMPHAINY_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; default: an SQLite file in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
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
    /// Shared secret between the planes; generated into the data directory when unset.
    #[arg(long, env = "SYMPHAINY_SERVICE_TOKEN", hide_env_values = true)]
    pub service_token: Option<String>,
    /// Seconds without activity before an idle session actor is passivated.
    #[arg(long, env = "SYMPHAINY_SESSION_IDLE_SECS", default_value_t = 300)]
    pub session_idle_secs: u64,
    /// Supervisor restart intensity: at most this many restarts ...
    #[arg(long, env = "SYMPHAINY_MAX_RESTARTS", default_value_t = 20)]
    pub max_restarts: u32,
    /// ... within this many seconds, else the supervisor escalates.
    #[arg(long, env = "SYMPHAINY_RESTART_WINDOW_SECS", default_value_t = 10)]
    pub restart_window_secs: u64,
    /// Largest accepted JSON request body, in bytes.
    #[arg(long, env = "SYMPHAINY_MAX_BODY_BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_body_bytes: usize,
}

/// Everything a running server needs, resolved.
#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub http_addr: String,
    pub runtime_addr: String,
    pub service_token: String,
    pub runtime: RuntimeConfig,
    pub max_body_bytes: usize,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("database", &redact_url(&self.database_url))
            .field("http_addr", &self.http_addr)
            .field("runtime_addr", &self.runtime_addr)
            .field("service_token", &"<redacted>")
            .field("runtime", &self.runtime)
            .finish()
    }
}

impl StoreArgs {
    pub fn database_url(&self) -> anyhow::Result<String> {
        std::fs::create_dir_all(&self.data_dir)?;
        Ok(match &self.database_url {
            Some(url) if !url.trim().is_empty() => url.trim().to_string(),
            _ => format!("sqlite://{}", self.data_dir.join("symphainy.db").display()),
        })
    }
}

impl ServeArgs {
    pub fn resolve(self) -> anyhow::Result<Config> {
        let database_url = self.store.database_url()?;
        let service_token =
            secrets::load_or_generate(self.service_token, &self.store.data_dir, "service_token")?;
        let restart = RestartPolicy {
            max_restarts: self.max_restarts,
            within: Duration::from_secs(self.restart_window_secs),
        };
        Ok(Config {
            data_dir: self.store.data_dir,
            database_url,
            http_addr: self.http_addr,
            runtime_addr: self.runtime_addr,
            service_token,
            runtime: RuntimeConfig {
                session_idle: Duration::from_secs(self.session_idle_secs.max(1)),
                restart,
                ..RuntimeConfig::default()
            },
            max_body_bytes: self.max_body_bytes,
        })
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme + 3],
                    &creds[..colon],
                    &url[at..]
                ),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_passwords() {
        assert_eq!(
            super::redact_url("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(
            super::redact_url("sqlite://./data/x.db"),
            "sqlite://./data/x.db"
        );
    }
}
