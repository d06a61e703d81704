//! The Experience Plane as a running server: its router over any runtime client (in-process in
//! `serve`, HTTP in `experience`), the WebSocket connection supervisor, one listener and one
//! shutdown signal.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ractor::ActorRef;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::agent_ws::supervisor::Seats;
use super::agent_ws::{start_supervisor, AgentSockets};
use super::rate_limit::RateLimits;
use super::ExperienceState;
use crate::actors::{FaultTargets, Slot};
use crate::experience::settings::ExperienceSettings;
use crate::http::limits::EdgeLimits;
use crate::http::serve::serve;
use crate::runtime::RuntimeClient;
use crate::security::download_tokens::DownloadKeys;
use crate::security::tokens::JwtKeys;
use crate::security::SecurityGuard;
use crate::store::auth::AuthStore;

pub struct ExperiencePlane {
    pub addr: SocketAddr,
    sockets: ActorRef<()>,
    seats: Seats,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
}

/// What the Experience Plane is configured with (parts of the server's `Config`).
pub struct PlaneConfig<'a> {
    pub settings: &'a ExperienceSettings,
    /// Largest JSON body accepted.
    pub max_body_bytes: usize,
    /// Connection cap and timeouts of its listener.
    pub edge: &'a EdgeLimits,
}

impl ExperiencePlane {
    /// Serves the Experience Plane on `listener`. `store` holds users and refresh tokens only:
    /// everything else goes through `client`.
    pub async fn start(
        config: PlaneConfig<'_>,
        store: AuthStore,
        client: Arc<dyn RuntimeClient>,
        faults: FaultTargets,
        listener: TcpListener,
    ) -> anyhow::Result<ExperiencePlane> {
        let (shutdown, rx) = watch::channel(false);
        let settings = config.settings.clone();
        let jwt = JwtKeys::new(settings.jwt_secret.expose_secret(), settings.access_ttl);
        let db_health = store.health().clone();
        let guard = SecurityGuard::new(store, jwt, settings.refresh_ttl)?;
        let downloads = DownloadKeys::new(settings.jwt_secret.expose_secret());
        let limits = Arc::new(RateLimits::new(settings.rate_login, settings.rate_register));
        forget_idle_limits(limits.clone(), rx.clone());
        let agent_sockets = AgentSockets {
            seats: Seats::new(settings.ws_max_connections),
            supervisor: Slot::default(),
            sessions: Default::default(),
        };
        let sockets = start_supervisor(&agent_sockets).await?;
        let seats = agent_sockets.seats.clone();
        let state = ExperienceState {
            db_health: db_health.clone(),
            runtime: client,
            guard,
            settings: Arc::new(settings),
            limits,
            shutdown: rx.clone(),
            agent_sockets,
            faults,
            inline_uploads: Arc::new(tokio::sync::Semaphore::new(
                super::settings::INLINE_UPLOADS_AT_ONCE,
            )),
            downloads,
        };
        let router = crate::http::layers::observe(super::router(state), config.max_body_bytes);
        let addr = listener.local_addr()?;
        Ok(ExperiencePlane {
            addr,
            sockets,
            seats,
            shutdown,
            server: serve(listener, router, config.edge.clone(), rx),
        })
    }

    /// Stops accepting, closes sockets with 1001, lets in-flight requests finish (bounded).
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        // Upgraded sockets are not the HTTP server's to drain: let each connection close
        // itself with 1001 before its supervisor goes (bounded).
        let _ = tokio::time::timeout(Duration::from_secs(5), self.seats.all_ended()).await;
        let _ = tokio::time::timeout(Duration::from_secs(10), self.server).await;
        let _ = self
            .sockets
            .stop_and_wait(None, Some(Duration::from_secs(5)))
            .await;
    }
}

/// Rate-limit entries of addresses gone quiet are dropped every minute.
fn forget_idle_limits(limits: Arc<RateLimits>, mut shutdown: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tokio::select! {
                _ = tick.tick() => limits.forget_idle(),
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    });
}
