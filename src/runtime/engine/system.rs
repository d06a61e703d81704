//! Starting and stopping the Runtime Plane's actor tree:
//! RootSupervisor → { EventLog, RuntimeRouter → SessionActor → ExecutionActor | AgentActor,
//! the realms' background actors }.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use ractor::{Actor, ActorRef};
use tokio::task::JoinHandle;

use crate::actors::supervisor::SupervisorMsg;
use crate::actors::{ChildSpec, Registry, Slot, Supervisor, SupervisorArgs};
use crate::runtime::engine::brain::AgentBrain;
use crate::runtime::engine::config::RuntimeConfig;
use crate::runtime::engine::context::{RuntimeCtx, RuntimeInner};
use crate::runtime::engine::event_log::{EventHub, EventLog, EventLogArgs, EventLogHandle};
use crate::runtime::engine::handler::Services;
use crate::runtime::engine::in_process::InProcessClient;
use crate::runtime::engine::intake_limits::IntakeLimits;
use crate::runtime::engine::registry::HandlerRegistry;
use crate::runtime::engine::registry::RealmEnv;
use crate::runtime::engine::router::RuntimeRouter;
use crate::store::blobs::BlobStore;
use crate::store::Store;

pub struct Runtime {
    pub ctx: RuntimeCtx,
    root: ActorRef<SupervisorMsg>,
    root_done: parking_lot::Mutex<Option<JoinHandle<()>>>,
}

impl Runtime {
    /// Starts the actor tree: the event log, the router, and the background actors of the
    /// realms in `handlers`. `brain` answers agents' chat turns.
    pub async fn start(
        store: Store,
        blobs: Arc<dyn BlobStore>,
        handlers: HandlerRegistry,
        brain: Arc<dyn AgentBrain>,
        config: RuntimeConfig,
    ) -> anyhow::Result<Runtime> {
        let events = EventLogHandle {
            slot: Slot::default(),
            hub: EventHub::default(),
            store: store.runtime(),
            stats: Default::default(),
        };
        let services = Services {
            store: store.artifacts(),
            blobs,
            max_upload_bytes: config.max_upload_bytes,
            quotas: config.quotas,
            language: config.language.clone(),
            desk: Default::default(),
        };
        let config_intake = config.intake;
        let ctx: RuntimeCtx = Arc::new(RuntimeInner {
            store: store.runtime(),
            services,
            brain,
            handlers: Arc::new(handlers),
            events,
            config,
            router: Slot::default(),
            sessions: Registry::default(),
            drivers: DashMap::new(),
            faults: Default::default(),
            intake: IntakeLimits::new(config_intake),
        });
        ctx.services
            .desk
            .bind(Arc::new(super::desk_backend::EngineDesk(Arc::downgrade(
                &ctx,
            ))));

        // Forget sessions and tenants back to a full intake allowance, while the runtime lives.
        let weak = Arc::downgrade(&ctx);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(60)).await;
                match weak.upgrade() {
                    Some(ctx) => ctx.intake.forget_idle(),
                    None => return,
                }
            }
        });

        let event_log = {
            let ctx = ctx.clone();
            ChildSpec::new("event_log", move |sup| {
                let ctx = ctx.clone();
                Box::pin(async move {
                    let args = EventLogArgs {
                        store: ctx.store.clone(),
                        hub: ctx.events.hub.clone(),
                        stats: ctx.events.stats.clone(),
                        faults: ctx.faults.clone(),
                    };
                    let (actor, _) = Actor::spawn_linked(None, EventLog, args, sup).await?;
                    ctx.events.slot.set(actor.clone());
                    Ok(actor.get_cell())
                })
            })
        };
        let router = {
            let ctx = ctx.clone();
            ChildSpec::new("router", move |sup| {
                let ctx = ctx.clone();
                Box::pin(async move {
                    let (actor, _) =
                        Actor::spawn_linked(None, RuntimeRouter, ctx.clone(), sup).await?;
                    ctx.router.set(actor.clone());
                    Ok(actor.get_cell())
                })
            })
        };
        let mut children = vec![event_log, router];
        {
            let env = RealmEnv {
                services: &ctx.services,
                config: &ctx.config,
                faults: &ctx.faults,
            };
            children.extend(ctx.handlers.background_specs().map(|spec| spec(&env)));
        }
        let (root, root_done) = Actor::spawn(
            None,
            Supervisor,
            SupervisorArgs {
                children,
                policy: ctx.config.root_restart,
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("starting the runtime: {e}"))?;
        Ok(Runtime {
            ctx,
            root,
            root_done: parking_lot::Mutex::new(Some(root_done)),
        })
    }

    pub fn client(&self) -> InProcessClient {
        InProcessClient::new(self.ctx.clone())
    }

    /// Resolves when the actor tree has stopped (after `shutdown`, or when the root supervisor
    /// escalated a failure it could not contain).
    pub async fn stopped(&self) {
        let handle = self.root_done.lock().take();
        if let Some(h) = handle {
            let _ = h.await;
        } else {
            std::future::pending::<()>().await;
        }
    }

    /// Stops the actor tree. Running steps are interrupted; every completed step is already
    /// stored, so their executions resume from there on the next start.
    pub async fn shutdown(&self) {
        let _ = self
            .root
            .stop_and_wait(Some("shutdown".into()), Some(Duration::from_secs(10)))
            .await;
        for entry in self.ctx.drivers.iter() {
            entry.value().abort();
        }
        self.ctx.drivers.clear();
    }
}
