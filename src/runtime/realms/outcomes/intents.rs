//! The outcomes intents, one step each, and their parameters (every field checked before
//! the intent is accepted):
//! - `synthesize_outcome {synthesis_options?}` → `synthesis_summary`;
//! - `generate_roadmap {description?, synthesis?, goals?}` → `roadmap`;
//! - `create_poc {description?, synthesis?}` → `poc` (and `poc_proposal`);
//! - `create_blueprint {workflow_id, description?}` → `blueprint` (the outcome blueprint), or
//!   `{blueprint_data}` → `blueprint` (the Journey page's coexistence blueprint);
//! - `create_solution {solution_source, source_id | source_data.<source>_id}` →
//!   `platform_solution`;
//! - `export_artifact {artifact_type, artifact_id, export_format}` → `export`.
//!
//! Every result is a registered artifact whose parents are what it was made from.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::plan::{plan, today};
use super::session_work::SessionWork;
use super::{blueprint, export, poc, roadmap, solution, synthesis};
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::runtime::realms::content::common::{derived_id, find_visible};
use crate::runtime::realms::derived::{register_derived, Derived};
use crate::runtime::realms::operations::coexistence_intents::journey_blueprint;

/// Which outcomes intent.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    Synthesize,
    Roadmap,
    Poc,
    Blueprint,
    Solution,
    Export,
}

/// An outcomes intent.
pub struct Outcome(pub Kind);

/// Its parameters, checked.
pub enum OutcomeParams {
    Synthesize,
    Roadmap {
        description: Option<String>,
        goals: Vec<String>,
    },
    Poc {
        description: Option<String>,
    },
    JourneyBlueprint {
        name: Option<String>,
        description: Option<String>,
    },
    OutcomeBlueprint {
        workflow_id: String,
        description: Option<String>,
    },
    Solution {
        source: String,
        source_id: String,
    },
    Export {
        artifact_type: String,
        artifact_id: String,
        format: String,
    },
}

fn optional_text(f: &mut Fields<'_>, name: &str) -> Option<String> {
    match f.get(name) {
        None => None,
        Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
        Some(_) => {
            f.error(name, "must be a string");
            None
        }
    }
}

fn optional_object(f: &mut Fields<'_>, name: &str) {
    if f.get(name).is_some_and(|v| !v.is_object()) {
        f.error(name, "must be an object");
    }
}

fn one_of(f: &mut Fields<'_>, name: &str, allowed: &[&str]) -> Option<String> {
    let v = f.required_str(name)?;
    if allowed.contains(&v.as_str()) {
        Some(v)
    } else {
        f.error(name, format!("must be one of {}", allowed.join(", ")));
        None
    }
}

impl OutcomeParams {
    fn decode(kind: Kind, p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let params = match kind {
            Kind::Synthesize => {
                optional_object(&mut f, "synthesis_options");
                Some(OutcomeParams::Synthesize)
            }
            Kind::Roadmap => {
                let description = optional_text(&mut f, "description");
                optional_object(&mut f, "synthesis");
                optional_object(&mut f, "roadmap_options");
                let goals = match f.get("goals") {
                    None => vec![],
                    Some(Value::Array(a)) if a.iter().all(Value::is_string) && a.len() <= 50 => a
                        .iter()
                        .filter_map(|g| g.as_str().map(|s| s.chars().take(500).collect()))
                        .collect(),
                    Some(Value::String(s)) => vec![s.chars().take(500).collect()],
                    Some(_) => {
                        f.error("goals", "must be a list of at most 50 texts");
                        vec![]
                    }
                };
                Some(OutcomeParams::Roadmap { description, goals })
            }
            Kind::Poc => {
                let description = optional_text(&mut f, "description");
                optional_object(&mut f, "synthesis");
                optional_object(&mut f, "poc_options");
                Some(OutcomeParams::Poc { description })
            }
            Kind::Blueprint => match (f.get("blueprint_data"), f.get("workflow_id")) {
                (Some(data), _) => {
                    if !data.is_object() {
                        f.error("blueprint_data", "must be an object");
                    }
                    let text = |k: &str| data.get(k).and_then(Value::as_str).map(String::from);
                    Some(OutcomeParams::JourneyBlueprint {
                        name: text("name"),
                        description: text("description"),
                    })
                }
                (None, _) => {
                    let workflow_id = f.required_str("workflow_id");
                    let description = optional_text(&mut f, "description");
                    workflow_id.map(|workflow_id| OutcomeParams::OutcomeBlueprint {
                        workflow_id,
                        description,
                    })
                }
            },
            Kind::Solution => {
                let source = one_of(&mut f, "solution_source", &["roadmap", "poc", "blueprint"]);
                let from_data = source.as_ref().and_then(|s| {
                    p.get("source_data")
                        .and_then(|d| d.get(format!("{s}_id")))
                        .and_then(Value::as_str)
                        .map(String::from)
                });
                let source_id = match (optional_text(&mut f, "source_id"), from_data) {
                    (Some(id), _) | (None, Some(id)) => Some(id),
                    (None, None) => {
                        f.error(
                            "source_id",
                            "is required (or source_data with the source's id)",
                        );
                        None
                    }
                };
                optional_object(&mut f, "solution_options");
                source
                    .zip(source_id)
                    .map(|(source, source_id)| OutcomeParams::Solution { source, source_id })
            }
            Kind::Export => {
                let artifact_type = one_of(&mut f, "artifact_type", export::EXPORTABLE);
                let artifact_id = f.required_str("artifact_id");
                let formats: Vec<&str> = export::FORMATS.iter().map(|(n, _, _)| *n).collect();
                let format = match f.get("export_format") {
                    None => Some("json".to_string()),
                    Some(_) => one_of(&mut f, "export_format", &formats),
                };
                match (artifact_type, artifact_id, format) {
                    (Some(artifact_type), Some(artifact_id), Some(format)) => {
                        Some(OutcomeParams::Export {
                            artifact_type,
                            artifact_id,
                            format,
                        })
                    }
                    _ => None,
                }
            }
        };
        f.finish(|| params)
    }
}

/// The parameters with their intent's kind (decoding needs it).
pub struct Params<const K: u8>(pub OutcomeParams);

const fn kind_of(k: u8) -> Kind {
    match k {
        0 => Kind::Synthesize,
        1 => Kind::Roadmap,
        2 => Kind::Poc,
        3 => Kind::Blueprint,
        4 => Kind::Solution,
        _ => Kind::Export,
    }
}

impl<const K: u8> IntentParams for Params<K> {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        OutcomeParams::decode(kind_of(K), p).map(Params)
    }
}

/// An outcomes intent of the kind numbered `K` (0 synthesize … 5 export).
pub struct OutcomeIntent<const K: u8>;

impl<const K: u8> TypedIntent for OutcomeIntent<K> {
    type Params = Params<K>;

    fn intent_type(&self) -> &str {
        match kind_of(K) {
            Kind::Synthesize => "synthesize_outcome",
            Kind::Roadmap => "generate_roadmap",
            Kind::Poc => "create_poc",
            Kind::Blueprint => "create_blueprint",
            Kind::Solution => "create_solution",
            Kind::Export => "export_artifact",
        }
    }

    fn description(&self) -> &str {
        match kind_of(K) {
            Kind::Synthesize => "Sum up what this session did in each pillar, with its figures.",
            Kind::Roadmap => {
                "Plan the work in phases from the coexistence recommendations and data quality."
            }
            Kind::Poc => {
                "Propose a proof of concept of the first phase, with measurable success criteria."
            }
            Kind::Blueprint => {
                "Draw a process as it is and with Symphainy, with who does what and the phases."
            }
            Kind::Solution => "Register a platform solution from a roadmap, POC or blueprint.",
            Kind::Export => {
                "Export an outcome as JSON, YAML or a Word document, with a download link."
            }
        }
    }

    fn steps(&self, params: Arc<Params<K>>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Make(params))]
    }
}

struct Make<const K: u8>(Arc<Params<K>>);

/// Registers an outcome made from the session's work.
async fn keep(
    ctx: &StepContext,
    id: &str,
    kind: &str,
    parents: Vec<String>,
    payload: &Value,
) -> Result<(), StepError> {
    register_derived(ctx, Derived::new(id, kind, parents, payload.clone())).await
}

#[async_trait]
impl<const K: u8> SagaStep for Make<K> {
    fn name(&self) -> &str {
        "make"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let mut artifacts = Map::new();
        let mut put = |key: &str, v: &Value| {
            artifacts.insert(key.into(), artifact(key, v.clone()));
        };
        let sources = [
            "file",
            "parsed_file",
            "quality_assessment",
            "structured_analysis",
            "unstructured_analysis",
            "discovery",
            "relationships",
            "mash",
            "sop",
            "workflow",
            "coexistence_analysis",
        ];
        match &(self.0).0 {
            OutcomeParams::Synthesize => {
                let work = SessionWork::read(ctx).await?;
                let id = derived_id(&ctx.execution_id, "synthesis");
                let s = synthesis::synthesize(&work, &id);
                keep(ctx, &id, "synthesis", work.ids_of(&sources), &s).await?;
                put("synthesis_summary", &s);
            }
            OutcomeParams::Roadmap { description, goals } => {
                let work = SessionWork::read(ctx).await?;
                let plan = plan(&work, None);
                plan.require_some().map_err(StepError::new)?;
                let id = derived_id(&ctx.execution_id, "roadmap");
                let description = description
                    .clone()
                    .unwrap_or_else(|| "Strategic roadmap".into());
                let r = roadmap::roadmap(&plan, &id, &description, goals, today());
                keep(ctx, &id, "roadmap", plan_parents(&work), &r).await?;
                put("roadmap", &r);
            }
            OutcomeParams::Poc { description } => {
                let work = SessionWork::read(ctx).await?;
                let plan = plan(&work, None);
                plan.require_some().map_err(StepError::new)?;
                let id = derived_id(&ctx.execution_id, "poc");
                let description = description
                    .clone()
                    .unwrap_or_else(|| "Proof of concept".into());
                let p = poc::poc(&plan, &id, &description, today());
                keep(ctx, &id, "poc", plan_parents(&work), &p).await?;
                put("poc", &p);
                put("poc_proposal", &p);
            }
            OutcomeParams::JourneyBlueprint { name, description } => {
                let b = journey_blueprint(ctx, name.clone(), description.clone()).await?;
                put("blueprint", &b);
            }
            OutcomeParams::OutcomeBlueprint {
                workflow_id,
                description,
            } => {
                let b = blueprint::outcome_blueprint(ctx, workflow_id, description.clone()).await?;
                put("blueprint", &b);
            }
            OutcomeParams::Solution { source, source_id } => {
                let found = match find_visible(ctx, source_id).await? {
                    Some(a) if a.artifact_type == *source => a,
                    Some(a) => {
                        return Err(StepError::new(format!(
                            "{source_id} is a {}, not a {source}",
                            a.artifact_type
                        )))
                    }
                    None => return Err(StepError::new(format!("{source} {source_id} not found"))),
                };
                let work = SessionWork::read(ctx).await?;
                let id = derived_id(&ctx.execution_id, "solution");
                let s = solution::solution(&work, &found, source, &id);
                keep(ctx, &id, "solution", vec![found.artifact_id.clone()], &s).await?;
                put("platform_solution", &s);
            }
            OutcomeParams::Export {
                artifact_type,
                artifact_id,
                format,
            } => {
                let e = export::export(ctx, artifact_type, artifact_id, format).await?;
                put("export", &e);
            }
        }
        Ok(StepOutput {
            output: json!({}),
            artifacts,
        })
    }
}

/// What a plan is made from: the latest analysis and the quality assessments.
fn plan_parents(work: &SessionWork) -> Vec<String> {
    let mut parents = work.ids_of(&["quality_assessment"]);
    if let Some(a) = work.latest("coexistence_analysis") {
        parents.push(a.artifact_id.clone());
    }
    parents
}
