//! Assembling a running server from a `Config`: store, runtime actor tree, and the HTTP
//! listeners, each taken from outside (so tests bind port 0) and shut down through one signal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::{redact_url, Config};
use crate::runtime::api::RuntimeApiState;
use crate::runtime::{HandlerRegistry, Runtime, RuntimeClient};
use crate::store::Store;

pub struct App {
    pub runtime: Arc<Runtime>,
    pub store: Store,
    pub runtime_addr: SocketAddr,
    shutdown: watch::Sender<bool>,
    servers: Vec<JoinHandle<std::io::Result<()>>>,
}

impl App {
    /// Starts the Runtime Plane on `runtime_listener`.
    pub async fn start(
        config: &Config,
        handlers: HandlerRegistry,
        runtime_listener: TcpListener,
    ) -> anyhow::Result<App> {
        tracing::info!(database = %redact_url(&config.database_url), "opening store");
        let store = Store::connect(&config.database_url).await?;
        store.migrate().await?;
        let runtime =
            Arc::new(Runtime::start(store.clone(), handlers, config.runtime.clone()).await?);
        let client: Arc<dyn RuntimeClient> = Arc::new(runtime.client());
        let api = crate::runtime::api::router(RuntimeApiState {
            client,
            service_token: Arc::new(config.service_token.clone()),
        });
        let api = crate::http::layers::observe(api, config.max_body_bytes);

        let (shutdown, rx) = watch::channel(false);
        let runtime_addr = runtime_listener.local_addr()?;
        let servers = vec![serve(runtime_listener, api, rx)];
        Ok(App {
            runtime,
            store,
            runtime_addr,
            shutdown,
            servers,
        })
    }

    /// The line scripts read to find the ports.
    pub fn listening_line(&self) -> String {
        format!("listening runtime={}", self.runtime_addr)
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
        self.runtime.shutdown().await;
        self.store.close().await;
    }
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
