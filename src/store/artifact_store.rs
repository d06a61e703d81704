//! The handle realms are given: artifacts and their lineage, staged uploads, parsed records,
//! storage usage, and two reads of the runtime's executions that a realm needs to wait for the
//! step that will produce an artifact (the unfinished executions of a session, one execution's
//! state). It writes nothing of the runtime's own: sessions, executions and events are the
//! engine's ([`RuntimeStore`](super::runtime_store::RuntimeStore)).

use super::db::Store;
use super::error::StoreError;
use super::rows::ExecutionRow;

#[derive(Clone)]
pub struct ArtifactStore {
    pub(super) store: Store,
}

impl Store {
    /// The handle realms (and the engine's artifact registry) are given.
    pub fn artifacts(&self) -> ArtifactStore {
        ArtifactStore {
            store: self.clone(),
        }
    }
}

impl ArtifactStore {
    /// Ids of the session's executions that are not terminal.
    pub async fn unfinished_executions(&self, session_id: &str) -> Result<Vec<String>, StoreError> {
        self.store.runtime().unfinished_executions(session_id).await
    }

    /// One execution, as stored.
    pub async fn get_execution(
        &self,
        execution_id: &str,
    ) -> Result<Option<ExecutionRow>, StoreError> {
        self.store.runtime().get_execution(execution_id).await
    }
}
