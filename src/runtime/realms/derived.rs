//! An artifact a step derives from others (an SOP from a file, a finding from a parse, a
//! roadmap from a session's work): registered for the step's owner with its lineage, the
//! artifacts it came from as its parents. A re-run of the step (after a crash) replaces what
//! the earlier run registered under the same id, with everything derived from it.

use serde_json::Value;

use crate::runtime::engine::handler::{StepContext, StepError};
use crate::runtime::realms::content::common::internal;
use crate::store::artifacts::ArtifactRow;
use crate::store::time::now_micros;

/// What to register: its id, type, parents, descriptor and lifecycle state.
pub struct Derived<'a> {
    pub id: &'a str,
    pub artifact_type: &'a str,
    pub parents: Vec<String>,
    pub descriptor: Value,
    pub lifecycle_state: &'a str,
    /// The stored bytes it names, if any (an export's document).
    pub blob_sha256: Option<String>,
}

impl<'a> Derived<'a> {
    /// An active artifact with these parents.
    pub fn new(
        id: &'a str,
        artifact_type: &'a str,
        parents: Vec<String>,
        descriptor: Value,
    ) -> Self {
        Derived {
            id,
            artifact_type,
            parents,
            descriptor,
            lifecycle_state: "active",
            blob_sha256: None,
        }
    }
}

/// Registers `d`, replacing one an earlier run of the step made.
pub async fn register_derived(ctx: &StepContext, d: Derived<'_>) -> Result<(), StepError> {
    let store = &ctx.services.store;
    if store.artifact(d.id).await.map_err(internal)?.is_some() {
        store.delete_artifact_tree(d.id).await.map_err(internal)?;
    }
    let now = now_micros();
    store
        .insert_artifact(&ArtifactRow {
            artifact_id: d.id.to_string(),
            artifact_type: d.artifact_type.into(),
            tenant_id: ctx.tenant_id.clone(),
            session_id: ctx.session_id.clone(),
            lifecycle_state: d.lifecycle_state.into(),
            semantic_descriptor: d.descriptor,
            parent_artifacts: d.parents,
            produced_by_intent: ctx.intent_type.clone(),
            produced_by_execution: ctx.execution_id.clone(),
            blob_sha256: d.blob_sha256,
            created_at: now,
            updated_at: now,
        })
        .await
        .map_err(internal)
}
