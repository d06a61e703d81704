//! A one-for-one supervisor for ractor actors.
//!
//! ractor never restarts anything by itself, and its default `handle_supervisor_evt` stops the
//! supervisor when any child ends. This supervisor restarts a child that failed (panic, error,
//! kill) from its [`ChildSpec`], leaves a child that stopped cleanly stopped, and escalates —
//! fails itself, which its own supervisor sees as `ActorFailed` — when restarts exceed the
//! configured intensity.

use std::sync::Arc;

use futures::future::BoxFuture;
use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef, SpawnErr, SupervisionEvent};

use super::children::{ChildExit, Children};
use super::intensity::RestartPolicy;

type StartFn = dyn Fn(ActorCell) -> BoxFuture<'static, Result<ActorCell, SpawnErr>> + Send + Sync;

/// How to (re)start one child: a name for logs and a function that spawns it linked to the
/// supervisor cell it is given (and updates whatever registry points at it).
#[derive(Clone)]
pub struct ChildSpec {
    pub name: String,
    start: Arc<StartFn>,
}

impl ChildSpec {
    pub fn new<F>(name: impl Into<String>, start: F) -> Self
    where
        F: Fn(ActorCell) -> BoxFuture<'static, Result<ActorCell, SpawnErr>> + Send + Sync + 'static,
    {
        Self {
            name: name.into(),
            start: Arc::new(start),
        }
    }

    pub async fn start(&self, supervisor: ActorCell) -> Result<ActorCell, SpawnErr> {
        (self.start)(supervisor).await
    }
}

pub struct SupervisorArgs {
    pub children: Vec<ChildSpec>,
    pub policy: RestartPolicy,
}

pub struct SupervisorState {
    specs: Vec<ChildSpec>,
    running: Children<usize>,
}

/// Messages a supervisor answers (for tests and diagnostics).
pub enum SupervisorMsg {
    /// Names of the children currently running.
    Children(ractor::RpcReplyPort<Vec<String>>),
}

pub struct Supervisor;

impl Actor for Supervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = SupervisorArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: SupervisorArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        let mut running = Children::new(args.policy);
        for (i, spec) in args.children.iter().enumerate() {
            let cell = spec.start(myself.get_cell()).await?;
            running.insert(cell.get_id(), i);
        }
        Ok(SupervisorState {
            specs: args.children,
            running,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            SupervisorMsg::Children(reply) => {
                let mut names: Vec<String> = state
                    .running
                    .keys()
                    .map(|i| state.specs[*i].name.clone())
                    .collect();
                names.sort();
                let _ = reply.send(names);
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        evt: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match state.running.classify(&evt) {
            ChildExit::Restart(index) => {
                tracing::warn!(child = %state.specs[index].name, "child ended abnormally; restarting");
                metrics::counter!(crate::telemetry::names::ACTOR_RESTARTS,
                    "kind" => state.specs[index].name.clone())
                .increment(1);
                let new_cell = state.specs[index].start(myself.get_cell()).await?;
                state.running.insert(new_cell.get_id(), index);
            }
            ChildExit::Escalate(index, why) => {
                let name = &state.specs[index].name;
                tracing::error!(child = %name, %why, "restart intensity exceeded; escalating");
                return Err(format!("child {name} {why}").into());
            }
            ChildExit::Stopped(index) => {
                tracing::info!(child = %state.specs[index].name, "child stopped cleanly; not restarted");
            }
            ChildExit::Other => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::Slot;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    enum ChildMsg {
        Panic,
        Fail,
        StopCleanly,
        Ping(ractor::RpcReplyPort<usize>),
    }

    struct Child;

    impl Actor for Child {
        type Msg = ChildMsg;
        type State = usize;
        type Arguments = Arc<AtomicUsize>;

        async fn pre_start(
            &self,
            _myself: ActorRef<Self::Msg>,
            starts: Arc<AtomicUsize>,
        ) -> Result<usize, ActorProcessingErr> {
            Ok(starts.fetch_add(1, Ordering::SeqCst) + 1)
        }

        async fn handle(
            &self,
            myself: ActorRef<Self::Msg>,
            msg: ChildMsg,
            generation: &mut usize,
        ) -> Result<(), ActorProcessingErr> {
            match msg {
                ChildMsg::Panic => panic!("injected panic"),
                ChildMsg::Fail => return Err("injected error".into()),
                ChildMsg::StopCleanly => myself.stop(None),
                ChildMsg::Ping(reply) => {
                    let _ = reply.send(*generation);
                }
            }
            Ok(())
        }
    }

    /// Records the supervision events its child supervisor reports.
    struct Parent;

    impl Actor for Parent {
        type Msg = ();
        type State = Arc<parking_lot::Mutex<Vec<String>>>;
        type Arguments = Arc<parking_lot::Mutex<Vec<String>>>;

        async fn pre_start(
            &self,
            _myself: ActorRef<()>,
            log: Self::Arguments,
        ) -> Result<Self::State, ActorProcessingErr> {
            Ok(log)
        }

        async fn handle_supervisor_evt(
            &self,
            _myself: ActorRef<()>,
            evt: SupervisionEvent,
            log: &mut Self::State,
        ) -> Result<(), ActorProcessingErr> {
            let entry = match evt {
                SupervisionEvent::ActorFailed(_, err) => format!("failed: {err}"),
                SupervisionEvent::ActorTerminated(_, _, reason) => {
                    format!("terminated: {reason:?}")
                }
                _ => return Ok(()),
            };
            log.lock().push(entry);
            Ok(())
        }
    }

    struct Fixture {
        sup: ActorRef<SupervisorMsg>,
        slot: Slot<ChildMsg>,
        starts: Arc<AtomicUsize>,
        parent_log: Arc<parking_lot::Mutex<Vec<String>>>,
    }

    async fn fixture(max_restarts: u32) -> Fixture {
        let slot: Slot<ChildMsg> = Slot::default();
        let starts = Arc::new(AtomicUsize::new(0));
        let spec = {
            let slot = slot.clone();
            let starts = starts.clone();
            ChildSpec::new("child", move |sup| {
                let slot = slot.clone();
                let starts = starts.clone();
                Box::pin(async move {
                    let (r, _) = Actor::spawn_linked(None, Child, starts, sup).await?;
                    slot.set(r.clone());
                    Ok(r.get_cell())
                })
            })
        };
        let parent_log = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let (parent, _) = Actor::spawn(None, Parent, parent_log.clone())
            .await
            .unwrap();
        let (sup, _) = Actor::spawn_linked(
            None,
            Supervisor,
            SupervisorArgs {
                children: vec![spec],
                policy: RestartPolicy {
                    max_restarts,
                    within: Duration::from_secs(60),
                },
            },
            parent.get_cell(),
        )
        .await
        .unwrap();
        Fixture {
            sup,
            slot,
            starts,
            parent_log,
        }
    }

    async fn ping_until_generation(slot: &Slot<ChildMsg>, generation: usize) {
        for _ in 0..200 {
            if let Some(child) = slot.get() {
                if let Ok(g) = ractor::call!(child, ChildMsg::Ping) {
                    if g == generation {
                        return;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("child generation {generation} never answered");
    }

    async fn children(sup: &ActorRef<SupervisorMsg>) -> Vec<String> {
        ractor::call!(sup, SupervisorMsg::Children).unwrap()
    }

    #[tokio::test]
    async fn panicked_child_is_restarted_and_registry_repointed() {
        let f = fixture(3).await;
        ping_until_generation(&f.slot, 1).await;
        let first = f.slot.get().unwrap().get_id();
        f.slot.get().unwrap().cast(ChildMsg::Panic).unwrap();
        ping_until_generation(&f.slot, 2).await;
        assert_ne!(
            f.slot.get().unwrap().get_id(),
            first,
            "registry must point at the new actor"
        );
        assert_eq!(f.starts.load(Ordering::SeqCst), 2);
        assert_eq!(children(&f.sup).await, vec!["child".to_string()]);
    }

    #[tokio::test]
    async fn killed_and_failed_children_are_restarted() {
        let f = fixture(3).await;
        ping_until_generation(&f.slot, 1).await;
        f.slot.get().unwrap().kill();
        ping_until_generation(&f.slot, 2).await;
        f.slot.get().unwrap().cast(ChildMsg::Fail).unwrap();
        ping_until_generation(&f.slot, 3).await;
        assert_eq!(f.starts.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn cleanly_stopped_child_is_not_restarted() {
        let f = fixture(3).await;
        ping_until_generation(&f.slot, 1).await;
        let child = f.slot.get().unwrap();
        child.cast(ChildMsg::StopCleanly).unwrap();
        child.wait(Some(Duration::from_secs(2))).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(f.starts.load(Ordering::SeqCst), 1);
        assert!(children(&f.sup).await.is_empty());
        assert_eq!(f.sup.get_status(), ractor::ActorStatus::Running);
    }

    #[tokio::test]
    async fn exceeding_intensity_escalates_to_the_parent() {
        let f = fixture(2).await;
        for generation in 1..=3 {
            ping_until_generation(&f.slot, generation).await;
            f.slot.get().unwrap().cast(ChildMsg::Panic).unwrap();
        }
        f.sup.wait(Some(Duration::from_secs(2))).await.unwrap();
        assert_eq!(
            f.starts.load(Ordering::SeqCst),
            3,
            "two restarts, then no more"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        let log = f.parent_log.lock().clone();
        assert_eq!(log.len(), 1, "parent saw {log:?}");
        assert!(
            log[0].starts_with("failed: child child exceeded 2 restarts"),
            "parent saw {log:?}"
        );
    }
}
