//! Fault injection (cargo feature `fault-injection`): actors register themselves under a name
//! (`router`, `session:<id>`, ...) with a way to make them panic inside their own handler; a
//! fault then panics or kills the named actor. Without the feature, no actor registers (see
//! `fault_target!`), so none can be reached.

use std::sync::Arc;

use dashmap::DashMap;
use ractor::{ActorCell, ActorId, ActorStatus};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultMode {
    /// A panic inside the actor's own message handler.
    Panic,
    /// `ActorRef::kill`: the actor stops at once, mid-message.
    Kill,
}

type PanicFn = Arc<dyn Fn() + Send + Sync>;

/// Past this many names, stopped actors are dropped from the table.
const PRUNE_AT: usize = 10_000;

/// Registers `$actor` (an `ActorRef`) under `$name` as a fault target that panics on `$msg`.
/// Expands to nothing without the `fault-injection` feature.
#[macro_export]
macro_rules! fault_target {
    ($targets:expr, $name:expr, $actor:expr, $msg:expr) => {
        #[cfg(feature = "fault-injection")]
        {
            let me = $actor.clone();
            $targets.register($name, $actor.get_cell(), move || {
                let _ = me.send_message($msg);
            });
        }
        #[cfg(not(feature = "fault-injection"))]
        let _ = &$actor;
    };
}

/// The actors that may be crashed on purpose, by name.
#[derive(Clone, Default)]
pub struct FaultTargets {
    actors: Arc<DashMap<String, (ActorCell, PanicFn)>>,
}

impl FaultTargets {
    /// Names an actor; `panic` must make it panic in its handler (usually by sending it a
    /// message whose handling panics). A restarted actor registers again under the same name.
    pub fn register(
        &self,
        name: String,
        cell: ActorCell,
        panic: impl Fn() + Send + Sync + 'static,
    ) {
        if self.actors.len() >= PRUNE_AT {
            self.actors.retain(|_, (c, _)| {
                !matches!(c.get_status(), ActorStatus::Stopping | ActorStatus::Stopped)
            });
        }
        self.actors.insert(name, (cell, Arc::new(panic)));
    }

    /// The live actor registered under `name`.
    pub fn get(&self, name: &str) -> Option<ActorId> {
        self.live(name).map(|(cell, _)| cell.get_id())
    }

    /// Crashes the live actor registered under `name`; its id, or `None` when there is none.
    pub fn inject(&self, name: &str, mode: FaultMode) -> Option<ActorId> {
        let (cell, panic) = self.live(name)?;
        tracing::warn!(target_actor = %name, ?mode, "injecting a fault");
        match mode {
            FaultMode::Panic => panic(),
            FaultMode::Kill => cell.kill(),
        }
        Some(cell.get_id())
    }

    fn live(&self, name: &str) -> Option<(ActorCell, PanicFn)> {
        let entry = self.actors.get(name)?.clone();
        if matches!(
            entry.0.get_status(),
            ActorStatus::Stopping | ActorStatus::Stopped
        ) {
            drop(
                self.actors
                    .remove_if(name, |_, (c, _)| c.get_id() == entry.0.get_id()),
            );
            return None;
        }
        Some(entry)
    }
}
