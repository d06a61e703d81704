//! The Runtime Plane's handle on the store: sessions, executions and their steps, the event
//! log, conversations, and the database's health. The engine holds it; realms do not (they
//! get an [`ArtifactStore`](super::artifact_store::ArtifactStore)), nor does the Experience
//! Plane (it gets an [`AuthStore`](super::auth::AuthStore)).

use std::sync::Arc;

use super::db::Store;
use super::health::DbHealth;

#[derive(Clone)]
pub struct RuntimeStore {
    pub(super) store: Store,
}

impl Store {
    /// The handle the engine is given.
    pub fn runtime(&self) -> RuntimeStore {
        RuntimeStore {
            store: self.clone(),
        }
    }
}

impl RuntimeStore {
    /// Whether the database can be read and written (as of the last probe).
    pub fn health(&self) -> &Arc<DbHealth> {
        self.store.health()
    }
}
