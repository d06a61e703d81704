//! A file's lifecycle: `save_materialization` (pending → active, with a materialization
//! artifact), `archive_file`, and `delete_file` (after approval; removes the file, what was
//! derived from it, and blobs nothing else references).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::common::{derived_id, file_payload, find, internal};
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::store::artifacts::ArtifactRow;
use crate::store::time::now_micros;

/// Removes an artifact tree (its blobs, once unreferenced, are collected by the janitor).
pub async fn remove_tree(ctx: &StepContext, artifact_id: &str) -> Result<(), StepError> {
    ctx.services
        .store
        .delete_artifact_tree(artifact_id)
        .await
        .map_err(internal)?;
    Ok(())
}

/// The parameters of an intent over one file.
pub struct FileParams {
    pub file_id: String,
    /// `save_materialization` only: the boundary contract to record (the file's otherwise).
    pub boundary_contract_id: Option<Value>,
}

impl IntentParams for FileParams {
    /// `file_id`; or `artifact_id`, as the web frontend's dashboard sends a row's id.
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let file_id = if p.get("file_id").is_none() && p.get("artifact_id").is_some() {
            f.required_str("artifact_id")
        } else {
            f.required_str("file_id")
        };
        let boundary_contract_id = p.get("boundary_contract_id").cloned();
        f.finish(|| {
            Some(FileParams {
                file_id: file_id?,
                boundary_contract_id,
            })
        })
    }
}

/// A one-step intent over one file (`file_id`).
pub struct FileIntent {
    intent: &'static str,
    description: &'static str,
    step: fn(Arc<FileParams>) -> Arc<dyn SagaStep>,
    approval: Option<&'static str>,
}

impl FileIntent {
    pub fn save_materialization() -> Self {
        Self {
            intent: "save_materialization",
            description: "Keep an ingested file (it is removed otherwise).",
            step: |params| Arc::new(Materialize(params)),
            approval: None,
        }
    }

    pub fn archive_file() -> Self {
        Self {
            intent: "archive_file",
            description: "Archive a file (kept, but out of the active list).",
            step: |params| Arc::new(Archive(params)),
            approval: None,
        }
    }

    pub fn get_file_by_id() -> Self {
        Self {
            intent: "get_file_by_id",
            description: "Show a file's record: name, type, size, state.",
            step: |params| Arc::new(Describe(params)),
            approval: None,
        }
    }

    pub fn delete_file() -> Self {
        Self {
            intent: "delete_file",
            description: "Delete a file and everything derived from it (needs approval).",
            step: |params| Arc::new(Delete(params)),
            approval: Some("deleting a file removes it and everything derived from it"),
        }
    }
}

impl TypedIntent for FileIntent {
    type Params = FileParams;

    fn intent_type(&self) -> &str {
        self.intent
    }

    fn description(&self) -> &str {
        self.description
    }

    fn steps(&self, params: Arc<FileParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![(self.step)(params)]
    }

    fn approval_reason(&self, _params: &FileParams) -> Option<String> {
        self.approval.map(str::to_string)
    }
}

struct Materialize(Arc<FileParams>);

#[async_trait]
impl SagaStep for Materialize {
    fn name(&self) -> &str {
        "materialize"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let store = &ctx.services.store;
        let file = find(ctx, &self.0.file_id, "file").await?;
        if file.lifecycle_state == "archived" {
            return Err(StepError::new("the file is archived"));
        }
        let now = now_micros();
        let materialization_id = derived_id(&ctx.execution_id, "materialization");
        let row = ArtifactRow {
            artifact_id: materialization_id.clone(),
            artifact_type: "materialization".into(),
            tenant_id: ctx.tenant_id.clone(),
            session_id: ctx.session_id.clone(),
            lifecycle_state: "active".into(),
            semantic_descriptor: json!({
                "materialization_id": materialization_id,
                "file_id": file.artifact_id,
                "boundary_contract_id": self.0.boundary_contract_id.clone()
                    .unwrap_or_else(|| file.semantic_descriptor["boundary_contract_id"].clone()),
            }),
            parent_artifacts: vec![file.artifact_id.clone()],
            produced_by_intent: ctx.intent_type.clone(),
            produced_by_execution: ctx.execution_id.clone(),
            blob_sha256: None,
            created_at: now,
            updated_at: now,
        };
        store.insert_artifact(&row).await.map_err(internal)?;
        store
            .set_lifecycle(&file.artifact_id, "active", now)
            .await
            .map_err(internal)?;
        let mut artifacts = Map::new();
        artifacts.insert(
            "materialization".into(),
            artifact(
                "materialization",
                json!({"materialization_id": materialization_id, "file_id": file.artifact_id,
                    "lifecycle_state": "active", "success": true, "status": "saved",
                    "available_for_parsing": true,
                    "boundary_contract_id": row.semantic_descriptor["boundary_contract_id"]}),
            ),
        );
        Ok(StepOutput {
            output: json!({"materialization_id": materialization_id, "file_id": file.artifact_id,
                "previous_state": file.lifecycle_state}),
            artifacts,
        })
    }
}

struct Archive(Arc<FileParams>);

#[async_trait]
impl SagaStep for Archive {
    fn name(&self) -> &str {
        "archive"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let mut file = find(ctx, &self.0.file_id, "file").await?;
        let now = now_micros();
        ctx.services
            .store
            .set_lifecycle(&file.artifact_id, "archived", now)
            .await
            .map_err(internal)?;
        file.lifecycle_state = "archived".into();
        let mut artifacts = Map::new();
        artifacts.insert("file".into(), artifact("file", file_payload(&file)));
        Ok(StepOutput {
            output: json!({"file_id": file.artifact_id}),
            artifacts,
        })
    }
}

/// The save's step for a file known only when the step runs (a journey's own ingest).
pub fn materialize_step(params: FileParams) -> Arc<dyn SagaStep> {
    Arc::new(Materialize(Arc::new(params)))
}

struct Describe(Arc<FileParams>);

#[async_trait]
impl SagaStep for Describe {
    fn name(&self) -> &str {
        "describe"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let file = find(ctx, &self.0.file_id, "file").await?;
        let mut payload = file_payload(&file);
        let d = &file.semantic_descriptor;
        payload["ingestion_type"] = d["ingestion_type"].clone();
        payload["updated_at"] = json!(crate::store::time::to_rfc3339(file.updated_at));
        let mut artifacts = Map::new();
        artifacts.insert("file".into(), artifact("file", payload));
        Ok(StepOutput {
            output: json!({"file_id": file.artifact_id}),
            artifacts,
        })
    }
}

struct Delete(Arc<FileParams>);

#[async_trait]
impl SagaStep for Delete {
    fn name(&self) -> &str {
        "delete"
    }

    /// A deletion cannot be undone: once it runs, it finishes and the execution completes.
    fn interruptible(&self) -> bool {
        false
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let id = self.0.file_id.clone();
        // A re-run after a crash finds the file gone: that is the outcome wanted.
        let already_gone = ctx.attempt > 1
            && ctx
                .services
                .store
                .artifact(&id)
                .await
                .map_err(internal)?
                .is_none();
        if !already_gone {
            find(ctx, &id, "file").await?;
            remove_tree(ctx, &id).await?;
        }
        let mut artifacts = Map::new();
        artifacts.insert(
            "file".into(),
            artifact("file", json!({"file_id": id, "deleted": true})),
        );
        Ok(StepOutput {
            output: json!({"file_id": id}),
            artifacts,
        })
    }
}
