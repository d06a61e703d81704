//! Assembling a running server from a `Config`: store, runtime actor tree, and the HTTP
//! listeners, each taken from outside (so tests bind port 0) and shut down through one signal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ractor::ActorRef;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::actors::FaultTargets;
use crate::actors::Slot;
use crate::config::{redact_url, Config};
use crate::experience::agent_ws::supervisor::Seats;
use crate::experience::agent_ws::{start_supervisor, AgentSockets};
use crate::experience::rate_limit::RateLimits;
use crate::experience::ExperienceState;
use crate::runtime::api::RuntimeApiState;
use crate::runtime::{HandlerRegistry, Runtime, RuntimeClient};
use crate::security::tokens::JwtKeys;
use crate::security::SecurityGuard;
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
    socket_supervisor: Option<ActorRef<()>>,
    shutdown: watch::Sender<bool>,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
}

impl App {
    /// Starts the Runtime Plane, and the Experience Plane when it has a listener.
    pub async fn start(
        config: &Config,
        handlers: HandlerRegistry,
        listeners: Listeners,
    ) -> anyhow::Result<App> {
        tracing::info!(database = %redact_url(&config.database_url), "opening store");
        let store = Store::connect(&config.database_url).await?;
        store.migrate().await?;
        let blobs: Arc<dyn BlobStore> =
            Arc::new(LocalBlobStore::new(config.data_dir.join("blobs"))?);
        let runtime =
            Arc::new(Runtime::start(store.clone(), blobs, handlers, config.runtime.clone()).await?);
        let client: Arc<dyn RuntimeClient> = Arc::new(runtime.client());
        // One table of fault targets for both planes: the debug endpoint can reach connections.
        let faults = runtime.ctx.faults.clone();
        let api = crate::runtime::api::router(RuntimeApiState {
            client: client.clone(),
            service_token: Arc::new(config.service_token.clone()),
            faults: faults.clone(),
        });
        let api = crate::http::layers::observe(api, config.max_body_bytes);

        let (shutdown, rx) = watch::channel(false);
        let runtime_addr = listeners.runtime.local_addr()?;
        let mut servers = vec![serve(listeners.runtime, api, rx.clone())];
        let mut experience_addr = None;
        let mut socket_supervisor = None;
        if let Some(listener) = listeners.experience {
            experience_addr = Some(listener.local_addr()?);
            let (router, sockets) =
                experience_router(config, store.clone(), client, faults, rx.clone()).await?;
            socket_supervisor = Some(sockets);
            servers.push(serve(listener, router, rx));
        }
        Ok(App {
            runtime,
            store,
            runtime_addr,
            experience_addr,
            socket_supervisor,
            shutdown,
            servers,
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

    /// Graceful stop: stop accepting, finish in-flight requests (bounded), stop the actors,
    /// close the database.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        for server in self.servers {
            let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
        }
        if let Some(sockets) = self.socket_supervisor {
            // Connections have closed themselves (1001) on the shutdown signal by now.
            let _ = sockets
                .stop_and_wait(None, Some(Duration::from_secs(5)))
                .await;
        }
        self.runtime.shutdown().await;
        self.store.close().await;
    }
}

async fn experience_router(
    config: &Config,
    store: Store,
    client: Arc<dyn RuntimeClient>,
    faults: FaultTargets,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<(axum::Router, ActorRef<()>)> {
    let settings = config.experience.clone();
    let jwt = JwtKeys::new(&settings.jwt_secret, settings.access_ttl);
    let guard = SecurityGuard::new(store, jwt, settings.refresh_ttl)?;
    let limits = Arc::new(RateLimits::new(settings.rate_login, settings.rate_register));
    let janitor = limits.clone();
    let closing = shutdown.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => janitor.forget_idle(),
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    });
    let agent_sockets = AgentSockets {
        seats: Seats::new(settings.ws_max_connections),
        supervisor: Slot::default(),
    };
    let sockets = start_supervisor(&agent_sockets).await?;
    let state = ExperienceState {
        runtime: client,
        guard,
        settings: Arc::new(settings),
        limits,
        shutdown: closing,
        agent_sockets,
        faults,
    };
    let router =
        crate::http::layers::observe(crate::experience::router(state), config.max_body_bytes);
    Ok((router, sockets))
}

fn serve(
    listener: TcpListener,
    router: axum::Router,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<std::io::Result<()>> {
    tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await
    })
}
