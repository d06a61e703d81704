//! `compose_journey {journey_id, journey_params}`: the web frontend's two content journeys as
//! one execution each, made of the same steps as the intents they stand for:
//! - `file_upload_materialization` `{file_content (base64), file_name, content_type,
//!   file_type, auto_save}`: the ingest's steps, then (with `auto_save`) the save's. Artifact
//!   `file` (with `artifact_id` and `boundary_contract_id`), and `materialization` when saved.
//! - `file_parsing` `{artifact_id, auto_save}`: the parse's step. Artifacts `parsed_file` and
//!   `parsed_content` (`parsed_artifact_id`).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::common::derived_id;
use super::files::{materialize_step, FileParams};
use super::ingest::{Ingest, IngestParams};
use super::parse_intent::{ParseContent, ParseParams};
use super::parsing::ParsingType;
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};

pub struct ComposeJourney;

pub enum JourneyParams {
    Upload {
        ingest: Arc<IngestParams>,
        save: bool,
    },
    Parse {
        file_id: String,
    },
}

const JOURNEYS: &str = "file_upload_materialization or file_parsing";

impl IntentParams for JourneyParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let journey = f.required_str("journey_id");
        let params = p.get("journey_params").cloned().unwrap_or(Value::Null);
        if !params.is_object() {
            f.error("journey_params", "must be an object");
        }
        let auto_save = params["auto_save"].as_bool().unwrap_or(false);
        f.finish(|| Some(()))?;
        let mut fields = FieldErrors::new();
        let named = |errors: FieldErrors| -> FieldErrors {
            errors
                .into_iter()
                .map(|(k, v)| {
                    let k = k.trim_start_matches("parameters.");
                    (format!("parameters.journey_params.{k}"), v)
                })
                .collect()
        };
        match journey.as_deref() {
            Some("file_upload_materialization") => {
                let ingest = json!({
                    "file_content_base64": params["file_content"],
                    "filename": params["file_name"],
                    "ui_name": params["file_name"],
                    "mime_type": params["content_type"],
                    "file_type": params["file_type"],
                    "ingestion_type": "upload",
                });
                let ingest = IngestParams::decode(&ingest).map_err(|e| {
                    named(
                        e.into_iter()
                            .map(|(k, v)| {
                                let k = match k.trim_start_matches("parameters.") {
                                    "file_content_base64" | "file_content" => "file_content".into(),
                                    "filename" => "file_name".into(),
                                    other => other.to_string(),
                                };
                                (k, v)
                            })
                            .collect(),
                    )
                })?;
                Ok(JourneyParams::Upload {
                    ingest: Arc::new(ingest),
                    save: auto_save,
                })
            }
            Some("file_parsing") => {
                let id = params["artifact_id"]
                    .as_str()
                    .or(params["file_id"].as_str())
                    .filter(|s| !s.is_empty());
                match id {
                    Some(id) => Ok(JourneyParams::Parse {
                        file_id: id.to_string(),
                    }),
                    None => {
                        fields.insert(
                            "parameters.journey_params.artifact_id".into(),
                            "is required".into(),
                        );
                        Err(fields)
                    }
                }
            }
            _ => {
                fields.insert(
                    "parameters.journey_id".into(),
                    format!("must be {JOURNEYS}"),
                );
                Err(fields)
            }
        }
    }
}

impl TypedIntent for ComposeJourney {
    type Params = JourneyParams;

    fn intent_type(&self) -> &str {
        "compose_journey"
    }

    fn description(&self) -> &str {
        "Run a content journey in one go: upload and save a file, or parse one."
    }

    fn steps(&self, params: Arc<JourneyParams>) -> Vec<Arc<dyn SagaStep>> {
        match &*params {
            JourneyParams::Upload { ingest, save } => {
                let mut steps = Ingest::ingest_file().steps(ingest.clone());
                if *save {
                    steps.push(Arc::new(SaveIngested));
                }
                steps
            }
            JourneyParams::Parse { file_id } => {
                let parse = ParseParams {
                    file_id: file_id.clone(),
                    parsing_type: ParsingType::Auto,
                    has_header: None,
                    copybook_file_id: None,
                    encoding: None,
                };
                let mut steps = ParseContent.steps(Arc::new(parse));
                steps.push(Arc::new(AnnounceParse));
                steps
            }
        }
    }
}

/// Saves the file this execution's ingest registered (its id derives from the execution).
struct SaveIngested;

fn save_step(ctx: &StepContext) -> Arc<dyn SagaStep> {
    materialize_step(FileParams {
        file_id: derived_id(&ctx.execution_id, "file"),
        boundary_contract_id: None,
    })
}

#[async_trait]
impl SagaStep for SaveIngested {
    fn name(&self) -> &str {
        "save"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        save_step(ctx).run(ctx).await
    }

    async fn compensate(&self, ctx: &StepContext, output: &Value) -> Result<(), StepError> {
        save_step(ctx).compensate(ctx, output).await
    }
}

/// The parse's result under the name the journey's caller reads.
struct AnnounceParse;

#[async_trait]
impl SagaStep for AnnounceParse {
    fn name(&self) -> &str {
        "announce"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let id = ctx
            .outputs
            .get("parse")
            .and_then(|o| o["parsed_file_id"].as_str())
            .ok_or_else(|| StepError::new("the parse left no parsed file"))?
            .to_string();
        let mut artifacts = Map::new();
        artifacts.insert(
            "parsed_content".into(),
            artifact(
                "parsed_content",
                json!({"parsed_artifact_id": id, "parsed_file_id": id}),
            ),
        );
        Ok(StepOutput {
            output: json!({"parsed_file_id": id}),
            artifacts,
        })
    }
}
