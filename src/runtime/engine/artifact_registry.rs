//! The artifact registry's record: what every realm's artifact looks like to clients (the
//! contract's ArtifactRecord), read from the store.

use serde_json::{json, Value};

use crate::store::artifacts::ArtifactRow;
use crate::store::time::to_rfc3339;

/// The contract's ArtifactRecord (materializations looked up among the artifact's children).
pub async fn artifact_record(
    store: &crate::store::ArtifactStore,
    a: &ArtifactRow,
) -> Result<Value, crate::store::StoreError> {
    let materializations: Vec<Value> = store
        .children_of(&a.artifact_id, Some("materialization"))
        .await?
        .iter()
        .map(|m| {
            json!({
                "materialization_id": m.artifact_id,
                "lifecycle_state": m.lifecycle_state,
                "created_at": to_rfc3339(m.created_at),
            })
        })
        .collect();
    Ok(json!({
        "artifact_id": a.artifact_id,
        "artifact_type": a.artifact_type,
        "tenant_id": a.tenant_id,
        "lifecycle_state": a.lifecycle_state,
        "semantic_descriptor": a.semantic_descriptor,
        "materializations": materializations,
        "parent_artifacts": a.parent_artifacts,
        "produced_by": {"intent_type": a.produced_by_intent, "execution_id": a.produced_by_execution},
        "created_at": to_rfc3339(a.created_at),
        "updated_at": to_rfc3339(a.updated_at),
    }))
}
