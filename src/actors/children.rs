//! The bookkeeping every supervisor of several children shares: which child (by actor id) is
//! which key, and what a supervision event means for it under the restart intensity.

use std::collections::HashMap;

use ractor::{ActorCell, ActorId, SupervisionEvent};

use super::intensity::{RestartIntensity, RestartPolicy};

/// What a supervision event asks of the supervisor.
#[derive(Debug, PartialEq, Eq)]
pub enum ChildExit<K> {
    /// The child failed or was killed; restart it (the restart is already counted).
    Restart(K),
    /// The child failed and restarts exceeded the intensity: the supervisor must fail itself.
    Escalate(K, String),
    /// The child stopped cleanly; do not restart it.
    Stopped(K),
    /// Not about a child we know (or not an exit at all).
    Other,
}

pub struct Children<K> {
    by_actor: HashMap<ActorId, K>,
    intensity: RestartIntensity,
}

impl<K: Clone + std::fmt::Debug> Children<K> {
    pub fn new(policy: RestartPolicy) -> Self {
        Self {
            by_actor: HashMap::new(),
            intensity: RestartIntensity::new(policy),
        }
    }

    pub fn insert(&mut self, actor: ActorId, key: K) {
        self.by_actor.insert(actor, key);
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.by_actor.values()
    }

    /// Counts a restart that is not an exit (e.g. a child that failed to start); `false` when
    /// it exceeds the intensity.
    pub fn record_restart(&mut self) -> bool {
        self.intensity.record_restart()
    }

    pub fn classify(&mut self, evt: &SupervisionEvent) -> ChildExit<K> {
        if let Some(cell) = is_abnormal_exit(evt) {
            let Some(key) = self.by_actor.remove(&cell.get_id()) else {
                return ChildExit::Other;
            };
            if self.intensity.record_restart() {
                ChildExit::Restart(key)
            } else {
                let p = self.intensity.policy();
                let why = format!("exceeded {} restarts within {:?}", p.max_restarts, p.within);
                ChildExit::Escalate(key, why)
            }
        } else if let SupervisionEvent::ActorTerminated(cell, _, _) = evt {
            match self.by_actor.remove(&cell.get_id()) {
                Some(key) => ChildExit::Stopped(key),
                None => ChildExit::Other,
            }
        } else {
            ChildExit::Other
        }
    }
}

/// True when a supervision event reports a child that ended abnormally and should be restarted:
/// a failure (panic or error in a handler) or a kill. A child that stopped itself (`stop`,
/// `drain`) ended cleanly.
pub fn is_abnormal_exit(evt: &SupervisionEvent) -> Option<ActorCell> {
    match evt {
        SupervisionEvent::ActorFailed(cell, _) => Some(cell.clone()),
        SupervisionEvent::ActorTerminated(cell, _, Some(reason))
            if reason == "killed" || reason == "actor_task_cancelled" =>
        {
            Some(cell.clone())
        }
        _ => None,
    }
}
