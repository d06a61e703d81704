//! Read-only content intents: `get_parsed_file` (paged records), `list_files` /
//! `list_artifacts`, `retrieve_artifact_metadata`.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::common::{done, find, find_visible, internal, optional_count, owner, required_str};
use crate::runtime::engine::artifact_registry::artifact_record;
use crate::runtime::engine::handler::{
    artifact, FieldErrors, IntentHandler, SagaStep, StepContext, StepError, StepOutput,
};
use crate::store::artifacts::ArtifactFilter;

pub const MAX_PAGE: u64 = 1000;

pub struct Query {
    intent: &'static str,
    description: &'static str,
}

impl Query {
    pub fn get_parsed_file() -> Self {
        Self {
            intent: "get_parsed_file",
            description: "Read a page of a parsed file's records.",
        }
    }
    pub fn list_files() -> Self {
        Self {
            intent: "list_files",
            description: "List your files.",
        }
    }
    pub fn list_artifacts() -> Self {
        Self {
            intent: "list_artifacts",
            description: "List your artifacts (files, parsed files, materializations).",
        }
    }
    pub fn retrieve_artifact_metadata() -> Self {
        Self {
            intent: "retrieve_artifact_metadata",
            description: "Show an artifact's record: lineage, lifecycle, description.",
        }
    }
}

impl IntentHandler for Query {
    fn intent_type(&self) -> &str {
        self.intent
    }

    fn description(&self) -> &str {
        self.description
    }

    fn validate(&self, p: &Value) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        match self.intent {
            "get_parsed_file" => {
                required_str(p, "parsed_file_id", &mut errors);
            }
            "retrieve_artifact_metadata" => {
                required_str(p, "artifact_id", &mut errors);
            }
            _ => {
                for f in ["artifact_type", "lifecycle_state"] {
                    if p.get(f).is_some_and(|v| !v.is_string()) {
                        errors.insert(format!("parameters.{f}"), "must be a string".into());
                    }
                }
            }
        }
        optional_count(p, "limit", MAX_PAGE, &mut errors);
        optional_count(p, "offset", i64::MAX as u64, &mut errors);
        done(errors)
    }

    fn steps(&self, _p: &Value) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(QueryStep {
            intent: self.intent,
        })]
    }
}

struct QueryStep {
    intent: &'static str,
}

#[async_trait]
impl SagaStep for QueryStep {
    fn name(&self) -> &str {
        "read"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let p = &ctx.parameters;
        let store = &ctx.services.store;
        let limit = p["limit"].as_u64().unwrap_or(100).min(MAX_PAGE) as i64;
        let offset = p["offset"].as_u64().unwrap_or(0).min(i64::MAX as u64) as i64;
        let (key, payload) = match self.intent {
            "get_parsed_file" => {
                let parsed = find(
                    ctx,
                    p["parsed_file_id"].as_str().unwrap_or_default(),
                    "parsed_file",
                )
                .await?;
                let records = store
                    .parsed_records(&parsed.artifact_id, offset, limit)
                    .await
                    .map_err(internal)?;
                let mut payload = parsed.semantic_descriptor.clone();
                payload["records"] = Value::Array(records);
                payload["offset"] = json!(offset);
                payload["limit"] = json!(limit);
                ("parsed_file", payload)
            }
            "retrieve_artifact_metadata" => {
                let id = p["artifact_id"].as_str().unwrap_or_default();
                let Some(a) = find_visible(ctx, id).await? else {
                    return Err(StepError::new(format!("artifact {id} not found")));
                };
                (
                    "artifact",
                    artifact_record(store, &a).await.map_err(internal)?,
                )
            }
            intent => {
                // `list_files` lists files, whatever else it is given.
                let artifact_type = if intent == "list_files" {
                    Some("file".to_string())
                } else {
                    p["artifact_type"].as_str().map(str::to_string)
                };
                let filter = ArtifactFilter {
                    artifact_type,
                    lifecycle_state: p["lifecycle_state"].as_str().map(str::to_string),
                    limit,
                    offset,
                };
                let (rows, total) = store
                    .list_artifacts(&owner(ctx), &filter)
                    .await
                    .map_err(internal)?;
                let mut items = Vec::with_capacity(rows.len());
                for a in &rows {
                    items.push(artifact_record(store, a).await.map_err(internal)?);
                }
                (
                    "files",
                    json!({"items": items, "total": total, "limit": limit, "offset": offset}),
                )
            }
        };
        let mut artifacts = Map::new();
        artifacts.insert(key.into(), artifact(key, payload));
        Ok(StepOutput {
            output: json!({}),
            artifacts,
        })
    }
}
