//! The operator's command line over the Runtime API (`symphainy executions …`, `symphainy
//! sessions …`): the internal API's URL and service token from flags or the environment, a
//! readable table by default, `--json` for scripts.

pub mod executions;
pub mod sessions;
pub mod table;

use std::path::PathBuf;

use clap::Args;
use secrecy::SecretString;

use crate::runtime::wire::client::HttpRuntimeClient;

/// Where the Runtime API is, and its credential (every operator command takes these).
#[derive(Args, Debug, Clone)]
pub struct Connection {
    /// The Runtime API's base URL.
    #[arg(
        long,
        env = "SYMPHAINY_RUNTIME_URL",
        default_value = "http://127.0.0.1:8000"
    )]
    pub runtime_url: String,
    /// The service token (default: read from the data directory's `service_token` file).
    /// Prefer the environment or the file: a flag is visible to other users in the process list.
    #[arg(long, env = "SYMPHAINY_SERVICE_TOKEN", hide_env_values = true)]
    pub service_token: Option<SecretString>,
    /// Where the service token file is, when no token is given.
    #[arg(long, env = "SYMPHAINY_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl Connection {
    pub fn client(&self) -> anyhow::Result<HttpRuntimeClient> {
        let token = match &self.service_token {
            Some(t) => t.clone(),
            None => {
                let path = self.data_dir.join("service_token");
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    anyhow::anyhow!(
                        "no service token: pass --service-token, set SYMPHAINY_SERVICE_TOKEN, or \
                         run beside the data directory ({}: {e})",
                        path.display()
                    )
                })?;
                SecretString::from(text.trim().to_string())
            }
        };
        HttpRuntimeClient::new(&self.runtime_url, &token)
    }
}

/// An error as an operator should read it: the runtime's own words, with the fields a
/// refused request names and the reason behind an unavailable or internal answer (the
/// operator holds the service token; nothing here is hidden from them).
pub fn explain(e: anyhow::Error) -> anyhow::Error {
    use crate::runtime::RuntimeError;
    match e.downcast::<RuntimeError>() {
        Ok(RuntimeError::Invalid(fields)) => anyhow::anyhow!(
            "the request is invalid: {}",
            fields
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        Ok(RuntimeError::Internal(why))
        | Ok(RuntimeError::Unavailable(why))
        | Ok(RuntimeError::DatabaseUnavailable(why)) => anyhow::anyhow!(why),
        Ok(other) => anyhow::anyhow!(other),
        Err(e) => e,
    }
}

/// Prints a value as pretty JSON.
pub fn print_json(v: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}
