//! Starting and stopping the Runtime Plane's actor tree:
//! RootSupervisor → { EventLog, RuntimeRouter → SessionActor → ExecutionActor | AgentActor,
//! the realms' background actors }.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use ractor::{Actor, ActorRef};
use tokio::task::JoinHandle;

use tokio::sync::{mpsc, watch};

use crate::actors::supervisor::SupervisorMsg;
use crate::actors::{ChildSpec, Registry, Slot, Supervisor, SupervisorArgs};
use crate::runtime::cluster::keeper::Keeper;
use crate::runtime::cluster::{Change, Ownership};
use crate::runtime::engine::brain::AgentBrain;
use crate::runtime::engine::config::RuntimeConfig;
use crate::runtime::engine::context::{RuntimeCtx, RuntimeInner};
use crate::runtime::engine::event_log::{EventHub, EventLog, EventLogArgs, EventLogHandle};
use crate::runtime::engine::handler::Services;
use crate::runtime::engine::in_process::InProcessClient;
use crate::runtime::engine::intake_limits::IntakeLimits;
use crate::runtime::engine::messages::RouterMsg;
use crate::runtime::engine::registry::HandlerRegistry;
use crate::runtime::engine::registry::RealmEnv;
use crate::runtime::engine::router::RuntimeRouter;
use crate::store::blobs::BlobStore;
use crate::store::{Backend, Store};

/// A cluster node's lease keeper, its loop (taken when it is awaited), and the loop's stop
/// signal.
type ClusterNode = (
    Arc<Keeper>,
    parking_lot::Mutex<Option<JoinHandle<()>>>,
    watch::Sender<bool>,
);

pub struct Runtime {
    pub ctx: RuntimeCtx,
    root: ActorRef<SupervisorMsg>,
    root_done: parking_lot::Mutex<Option<JoinHandle<()>>>,
    cluster: Option<ClusterNode>,
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
        // On PostgreSQL the node is a cluster member (alone, it holds every partition).
        let (ownership, changes) = match store.backend() {
            Backend::Postgres => {
                let id = config.cluster.node_id.clone().unwrap_or_else(|| {
                    format!("node-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
                });
                let (ownership, changes) = Ownership::cluster(id, config.cluster.lease);
                (Arc::new(ownership), Some(changes))
            }
            Backend::Sqlite => (Arc::new(Ownership::single()), None),
        };
        let events = EventLogHandle {
            slot: Slot::default(),
            hub: EventHub::default(),
            store: store.runtime(),
            stats: Default::default(),
            ownership: ownership.clone(),
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
        let keeper = match changes {
            Some(_) => Some(Arc::new(
                Keeper::join(
                    store.runtime(),
                    ownership.clone(),
                    &config.cluster,
                    config.cluster.advertise_url.clone().unwrap_or_default(),
                )
                .await
                .map_err(|e| anyhow::anyhow!("joining the cluster: {}", e.chain()))?,
            )),
            None => None,
        };
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
            ownership: ownership.clone(),
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
                        ownership: ctx.ownership.clone(),
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
        let cluster = match (keeper, changes) {
            (Some(keeper), Some(changes)) => {
                follow_changes(Arc::downgrade(&ctx), changes);
                // What the first round took: its sessions' unfinished executions resume.
                let (stop, stopped) = watch::channel(false);
                super::announced::follow(
                    ctx.store.clone(),
                    ctx.events.hub.clone(),
                    ctx.config.cluster.heartbeat() * 3,
                    stopped.clone(),
                );
                let task = keeper.clone().run(stopped);
                Some((keeper, parking_lot::Mutex::new(Some(task)), stop))
            }
            _ => None,
        };
        Ok(Runtime {
            ctx,
            root,
            root_done: parking_lot::Mutex::new(Some(root_done)),
            cluster,
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
    /// A cluster node hands its partitions over: it stops counting in the shares, stops its
    /// actors, then frees its leases for the other nodes to take at once.
    pub async fn shutdown(&self) {
        if let Some((keeper, task, stop)) = &self.cluster {
            if let Err(e) = keeper.leaving().await {
                tracing::warn!(error = %e.chain(), "could not mark this node as leaving");
            }
            // The loop stops at its next wait; a round under way finishes first (so that no
            // late heartbeat writes the node back after it has left).
            let _ = stop.send(true);
            let running = task.lock().take();
            if let Some(mut running) = running {
                if tokio::time::timeout(Duration::from_secs(10), &mut running)
                    .await
                    .is_err()
                {
                    running.abort(); // a round stuck on the database: it writes nothing more
                }
            }
        }
        let _ = self
            .root
            .stop_and_wait(Some("shutdown".into()), Some(Duration::from_secs(10)))
            .await;
        for entry in self.ctx.drivers.iter() {
            entry.value().abort();
        }
        self.ctx.drivers.clear();
        if let Some((keeper, _, _)) = &self.cluster {
            if let Err(e) = keeper.leave().await {
                tracing::warn!(error = %e.chain(), "could not hand the partitions over; they free up when their leases run out");
            }
        }
    }

    /// This node's lease keeper, when it is a cluster node.
    pub fn keeper(&self) -> Option<&Arc<Keeper>> {
        self.cluster.as_ref().map(|(k, _, _)| k)
    }
}

/// Acts on the keeper's changes: sessions of partitions taken over resume their unfinished
/// executions; sessions of partitions let go stop. Ends with the runtime.
fn follow_changes(
    ctx: std::sync::Weak<RuntimeInner>,
    mut changes: mpsc::UnboundedReceiver<Change>,
) {
    tokio::spawn(async move {
        while let Some(change) = changes.recv().await {
            let Some(ctx) = ctx.upgrade() else { return };
            let Some(router) = ctx.router.get() else {
                continue; // not started yet: its own first recovery scan covers it
            };
            match change {
                Change::Gained(_) => {
                    let _ = router.send_message(RouterMsg::Recover);
                }
                Change::Lost { partitions, done } => {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    if router
                        .send_message(RouterMsg::Disown {
                            partitions,
                            done: tx,
                        })
                        .is_ok()
                    {
                        let _ = rx.await;
                    }
                    if let Some(done) = done {
                        let _ = done.send(());
                    }
                }
            }
        }
    });
}
