//! Assembling a running server from a `Config`: store, runtime actor tree, and the HTTP
//! listeners, each taken from outside (so tests bind port 0) and shut down through one call.
//! `App` runs the Runtime Plane, with the Experience Plane in the same process when it has a
//! listener (`serve`); `ExperienceApp` runs the Experience Plane alone against a Runtime Plane
//! reached over HTTP (`experience`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::actors::FaultTargets;
use crate::agents::brain::Agents;
use crate::agents::llm::ChatCompletions;
use crate::config::{redact_url, Config};
use crate::experience::plane::{ExperiencePlane, PlaneConfig};
use crate::http::serve::serve;
use crate::runtime::engine::language::Language;
use crate::runtime::routing::RoutingClient;
use crate::runtime::wire::client::HttpRuntimeClient;
use crate::runtime::wire::server::RuntimeApiState;
use crate::runtime::{HandlerRegistry, Runtime, RuntimeClient};
use crate::store::auth::AUTH_MIGRATIONS;
use crate::store::blobs::{BlobStore, LocalBlobStore};
use crate::store::Store;

/// The sockets to serve on; tests pass listeners bound to port 0.
pub struct Listeners {
    pub runtime: TcpListener,
    /// The Experience Plane's listener; `None` runs the Runtime Plane alone.
    pub experience: Option<TcpListener>,
}

pub struct App {
    pub runtime: Arc<Runtime>,
    pub store: Store,
    pub runtime_addr: SocketAddr,
    pub experience_addr: Option<SocketAddr>,
    experience: Option<ExperiencePlane>,
    shutdown: watch::Sender<bool>,
    api_server: JoinHandle<std::io::Result<()>>,
}

impl App {
    /// Starts the Runtime Plane, and the Experience Plane when it has a listener.
    pub async fn start(
        config: &Config,
        handlers: HandlerRegistry,
        listeners: Listeners,
    ) -> anyhow::Result<App> {
        crate::telemetry::metrics::install();
        let store = open_store(config, Schema::Migrate).await?;
        let blobs: Arc<dyn BlobStore> =
            Arc::new(LocalBlobStore::new(config.data_dir.join("blobs"))?);
        let brain = Arc::new(Agents::new(config.llm.as_ref())?);
        let mut runtime_config = config.runtime.clone();
        if runtime_config.cluster.advertise_url.is_none() {
            let addr = listeners.runtime.local_addr()?;
            runtime_config.cluster.advertise_url = Some(advertised(addr));
        }
        if let Some(llm) = &config.llm {
            runtime_config.language = Language::new(Arc::new(ChatCompletions::new(llm.clone())?));
        }
        let runtime =
            Arc::new(Runtime::start(store.clone(), blobs, handlers, brain, runtime_config).await?);
        let local: Arc<dyn RuntimeClient> = Arc::new(runtime.client());
        // A cluster node runs each session's commands where the session lives.
        let (client, node): (Arc<dyn RuntimeClient>, _) = match runtime.keeper() {
            Some(_) => (
                Arc::new(RoutingClient::new(
                    local.clone(),
                    runtime.ctx.ownership.clone(),
                    store.runtime(),
                    config.service_token.clone(),
                    runtime_config_wait(&config.runtime.cluster),
                )),
                Some(local),
            ),
            None => (local, None),
        };
        // One table of fault targets for both planes: the debug endpoint can reach connections.
        let faults = runtime.ctx.faults.clone();
        let (shutdown, rx) = watch::channel(false);
        let api = crate::runtime::wire::server::router(RuntimeApiState {
            client: client.clone(),
            node,
            service_token: Arc::new(config.service_token.clone()),
            faults: faults.clone(),
            shutdown: rx.clone(),
            db_health: store.health().clone(),
        });
        let api = crate::http::db_gate::database_gate(api, store.health().clone());
        let api = crate::http::layers::observe(api, config.max_body_bytes);
        let runtime_addr = listeners.runtime.local_addr()?;
        let api_server = serve(listeners.runtime, api, config.edge.clone(), rx);
        let experience = match listeners.experience {
            Some(listener) => Some(
                ExperiencePlane::start(
                    plane_config(config),
                    store.auth(),
                    client,
                    faults,
                    listener,
                )
                .await?,
            ),
            None => None,
        };
        Ok(App {
            runtime,
            store,
            runtime_addr,
            experience_addr: experience.as_ref().map(|e| e.addr),
            experience,
            shutdown,
            api_server,
        })
    }

    /// The line scripts read to find the ports.
    pub fn listening_line(&self) -> String {
        match self.experience_addr {
            Some(exp) => format!("listening experience={exp} runtime={}", self.runtime_addr),
            None => format!("listening runtime={}", self.runtime_addr),
        }
    }

    /// Resolves if the app fails on its own: the actor tree escalated past its root.
    pub async fn failed(&self) {
        self.runtime.stopped().await;
    }

    /// Graceful stop: the Experience Plane first (sockets close with 1001), then the runtime
    /// API (in-flight requests finish, bounded), the actors, the database.
    pub async fn shutdown(self) {
        if let Some(experience) = self.experience {
            experience.shutdown().await;
        }
        let _ = self.shutdown.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), self.api_server).await;
        self.runtime.shutdown().await;
        self.store.close().await;
    }
}

/// The Experience Plane alone, its runtime at `runtime_url`.
pub struct ExperienceApp {
    pub addr: SocketAddr,
    pub store: Store,
    plane: ExperiencePlane,
}

impl ExperienceApp {
    pub async fn start(
        config: &Config,
        runtime_url: &str,
        listener: TcpListener,
    ) -> anyhow::Result<ExperienceApp> {
        // Users and refresh tokens live in the shared database; the runtime's tables are
        // reached only through the runtime client. The schema is the runtime's to migrate.
        crate::telemetry::metrics::install();
        let store = open_store(config, Schema::Check).await?;
        let client: Arc<dyn RuntimeClient> =
            Arc::new(HttpRuntimeClient::new(runtime_url, &config.service_token)?);
        let plane = ExperiencePlane::start(
            plane_config(config),
            store.auth(),
            client,
            FaultTargets::default(),
            listener,
        )
        .await?;
        Ok(ExperienceApp {
            addr: plane.addr,
            store,
            plane,
        })
    }

    pub fn listening_line(&self) -> String {
        format!("listening experience={}", self.addr)
    }

    pub async fn shutdown(self) {
        self.plane.shutdown().await;
        self.store.close().await;
    }
}

/// How long a command waits for its session's partition to have a reachable holder: a
/// hand-over takes a heartbeat or two; a dead node's partitions wait out its lease (the
/// caller is answered 503 after this, and may try again).
fn runtime_config_wait(cluster: &crate::runtime::cluster::ClusterSettings) -> Duration {
    (cluster.heartbeat() * 3).clamp(Duration::from_millis(500), Duration::from_secs(5))
}

/// The Runtime API's address as other nodes reach it: the listener's, or the machine's host
/// name in place of an unspecified address (`0.0.0.0`).
fn advertised(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!(
            "http://{}:{}",
            crate::runtime::cluster::identity::host(),
            addr.port()
        )
    } else {
        format!("http://{addr}")
    }
}

fn plane_config(config: &Config) -> PlaneConfig<'_> {
    PlaneConfig {
        settings: &config.experience,
        max_body_bytes: config.max_body_bytes,
        edge: &config.edge,
    }
}

/// What a process does with the database's schema at start.
enum Schema {
    /// Applies every pending migration (the Runtime Plane, and `serve`).
    Migrate,
    /// Applies none and checks those the Experience Plane uses: until they are applied its
    /// database counts as down (503 `database_unavailable`, the reason in `/ready`).
    Check,
}

async fn open_store(config: &Config, schema: Schema) -> anyhow::Result<Store> {
    tracing::info!(database = %redact_url(&config.database_url), "opening store");
    let store = Store::open(&config.database_url, config.durability).await?;
    tracing::info!(durability = store.durability().as_str(), "store open");
    let needed = match schema {
        Schema::Migrate => {
            // Idempotent, and serialised between processes (two runtimes may start at once).
            store.migrate().await?;
            &[][..]
        }
        Schema::Check => {
            // Not applied yet: health goes down with the reason (logged), the watcher rechecks.
            store.check_schema(AUTH_MIGRATIONS).await?;
            AUTH_MIGRATIONS
        }
    };
    // Ends when the store is closed.
    store.watch_health(needed);
    Ok(store)
}
