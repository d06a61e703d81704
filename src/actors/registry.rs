//! Lookup of live actors by id. Supervisors keep these current across restarts, so callers
//! always route by id and never hold on to an `ActorRef` that may belong to a dead actor.

use std::hash::Hash;
use std::sync::Arc;

use backon::{ConstantBuilder, Retryable};
use dashmap::DashMap;
use parking_lot::RwLock;
use ractor::ActorRef;

/// Many actors of one kind, keyed by id (sessions, executions, connections).
pub struct Registry<K: Eq + Hash, M: Send + 'static> {
    map: Arc<DashMap<K, ActorRef<M>>>,
}

impl<K: Eq + Hash, M: Send + 'static> Clone for Registry<K, M> {
    fn clone(&self) -> Self {
        Self {
            map: self.map.clone(),
        }
    }
}

impl<K: Eq + Hash, M: Send + 'static> Default for Registry<K, M> {
    fn default() -> Self {
        Self {
            map: Arc::new(DashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone, M: Send + 'static> Registry<K, M> {
    pub fn get(&self, key: &K) -> Option<ActorRef<M>> {
        self.map.get(key).map(|r| r.value().clone())
    }

    pub fn insert(&self, key: K, actor: ActorRef<M>) {
        self.map.insert(key, actor);
    }

    /// Removes the entry only if it still points at the actor with this id (a newer
    /// incarnation registered under the same key is left alone).
    pub fn remove_if_current(&self, key: &K, actor_id: ractor::ActorId) {
        self.map.remove_if(key, |_, r| r.get_id() == actor_id);
    }
}

/// One named singleton actor (the event log, the router), re-pointed on every restart.
pub struct Slot<M: Send + 'static> {
    inner: Arc<RwLock<Option<ActorRef<M>>>>,
}

impl<M: Send + 'static> Clone for Slot<M> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<M: Send + 'static> Default for Slot<M> {
    fn default() -> Self {
        Self {
            inner: Arc::new(RwLock::new(None)),
        }
    }
}

impl<M: Send + 'static> Slot<M> {
    pub fn get(&self) -> Option<ActorRef<M>> {
        self.inner.read().clone()
    }

    pub fn set(&self, actor: ActorRef<M>) {
        *self.inner.write() = Some(actor);
    }

    /// Sends `build()` to the actor in the slot, retrying every `every` while the slot is empty
    /// or its actor refuses (restarting), at most `attempts` times; whether it was delivered.
    pub async fn send_when_live(
        &self,
        build: impl Fn() -> M,
        attempts: u32,
        every: std::time::Duration,
    ) -> bool {
        let Some(retries) = (attempts as usize).checked_sub(1) else {
            return false;
        };
        let send = || async {
            let actor = self.get().ok_or(())?;
            actor.send_message(build()).map_err(|_| ())
        };
        send.retry(
            ConstantBuilder::new()
                .with_delay(every)
                .with_max_times(retries),
        )
        .await
        .is_ok()
    }
}
