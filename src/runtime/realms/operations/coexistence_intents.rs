//! The coexistence intents over a procedure (`coexistence.rs` holds the rules):
//! - `analyze_coexistence {sop_id?, workflow_id?}` → `coexistence_analysis` (the SOP's file
//!   when given, else the workflow's): tasks with their classification and reason, friction
//!   points, counts, recommendations, `opportunities` (one per recommendation, and the
//!   `sop_optimization` / `workflow_optimization` whose descriptions are the optimized SOP
//!   and workflow the frontend shows), and the `blueprint`;
//! - `optimize_coexistence_with_content {sop_content, workflow_content}` →
//!   `optimized_coexistence {optimized_sop, optimized_workflow, blueprint}`;
//! - `optimize_process {workflow_id}` → `optimized_process {process_id, optimizations, metrics}`;
//! - `journey_blueprint`: the coexistence blueprint of the Journey page's `create_blueprint`
//!   form, from the session's latest coexistence analysis (the intent, with both of its
//!   forms, is the outcomes realm's).
//!
//! Each result is registered with lineage to what it came from.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::coexistence::{analyze, blueprint, judge, optimize, Judgement};
use super::intents::{procedure_of, register, session_artifacts};
use super::judge::{judge_undecided, word_summary};
use super::procedure::Procedure;
use super::{extract, mermaid, sop_text, workflow};
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::runtime::realms::content::common::derived_id;

/// What a coexistence intent works on.
pub enum Subject {
    /// A file (an SOP or a workflow) or one of our SOP or workflow artifacts.
    File(String),
    /// Content sent in the request: an SOP's text and a workflow graph.
    Content {
        sop: Option<String>,
        workflow: Option<Value>,
    },
}

/// The parameters of one coexistence intent: its mode, and what it works on.
pub trait ModeParams: IntentParams {
    const MODE: Mode;
    fn subject(&self) -> &Subject;
}

macro_rules! mode_params {
    ($name:ident, $mode:expr) => {
        pub struct $name(pub Subject);

        impl IntentParams for $name {
            fn decode(p: &Value) -> Result<Self, FieldErrors> {
                decode($mode, p).map($name)
            }
        }

        impl ModeParams for $name {
            const MODE: Mode = $mode;
            fn subject(&self) -> &Subject {
                &self.0
            }
        }
    };
}

mode_params!(AnalyzeParams, Mode::Analyze);
mode_params!(ContentParams, Mode::OptimizeContent);
mode_params!(ProcessParams, Mode::OptimizeProcess);

/// Which coexistence intent, and so which artifact it answers with.
#[derive(Clone, Copy, PartialEq)]
pub enum Mode {
    Analyze,
    OptimizeContent,
    OptimizeProcess,
}

/// A coexistence intent, by its parameters' mode.
pub struct Coexistence<P>(std::marker::PhantomData<fn() -> P>);

impl<P> Coexistence<P> {
    pub fn new() -> Self {
        Coexistence(std::marker::PhantomData)
    }
}

impl<P> Default for Coexistence<P> {
    fn default() -> Self {
        Self::new()
    }
}

fn decode(mode: Mode, p: &Value) -> Result<Subject, FieldErrors> {
    let mut f = Fields::new(p);
    let text = |k: &str| p.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
    let subject = match mode {
        Mode::Analyze => match text("sop_id").or(text("workflow_id")) {
            Some(id) => Some(Subject::File(id.to_string())),
            None => {
                f.error("sop_id", "is required (or workflow_id)");
                None
            }
        },
        Mode::OptimizeProcess => f.required_str("workflow_id").map(Subject::File),
        Mode::OptimizeContent => {
            let sop = match p.get("sop_content") {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Object(o)) => {
                    o.get("content").and_then(Value::as_str).map(String::from)
                }
                _ => None,
            };
            let workflow = p
                .get("workflow_content")
                .filter(|w| w.get("nodes").is_some())
                .cloned();
            if sop.is_none() && workflow.is_none() {
                f.error("sop_content", "is required (an SOP's text), or workflow_content (a workflow with nodes and edges)");
            }
            Some(Subject::Content { sop, workflow })
        }
    };
    f.finish(|| subject)
}

impl<P: ModeParams> TypedIntent for Coexistence<P> {
    type Params = P;

    fn intent_type(&self) -> &str {
        match P::MODE {
            Mode::Analyze => "analyze_coexistence",
            Mode::OptimizeContent => "optimize_coexistence_with_content",
            Mode::OptimizeProcess => "optimize_process",
        }
    }

    fn description(&self) -> &str {
        match P::MODE {
            Mode::Analyze => "Find where AI can help in a process: each step classified with its reason, friction points, recommendations.",
            Mode::OptimizeContent => "Rewrite an SOP and its workflow with Symphainy doing what it is suited to.",
            Mode::OptimizeProcess => "List the optimizations of a workflow, with impact and effort.",
        }
    }

    fn steps(&self, params: Arc<P>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Run(params))]
    }
}

struct Run<P>(Arc<P>);

/// A procedure's analysis: every step judged by the word rules, then the undecided ones by
/// the language model when one is configured.
pub async fn analysis_of(ctx: &StepContext, p: &Procedure) -> (Value, Vec<Judgement>) {
    let mut judgements = judge(p);
    judge_undecided(&ctx.services.language, p, &mut judgements).await;
    (analyze(p, &judgements), judgements)
}

/// A blueprint, its summary worded by the language model when one is configured (and keeps
/// every number); `summary_worded_by` says which.
async fn worded_blueprint(ctx: &StepContext, p: &Procedure, analysis: &Value) -> Value {
    let mut b = blueprint(p, analysis);
    let plain = b["summary"].as_str().unwrap_or_default().to_string();
    match word_summary(&ctx.services.language, &plain).await {
        Some(worded) => {
            b["summary"] = json!(worded);
            b["plain_summary"] = json!(plain);
            b["summary_worded_by"] = json!("language_model");
        }
        None => b["summary_worded_by"] = json!("rules"),
    }
    b
}

/// The optimized texts: the SOP's Markdown and the workflow's Mermaid chart.
fn optimized(p: &Procedure, judgements: &[Judgement], id: &str) -> (Procedure, String, Value) {
    let o = optimize(p, judgements);
    let md = sop_text::markdown(&o);
    let graph = workflow::graph(id, &o);
    (o, md, graph)
}

#[async_trait]
impl<P: ModeParams> SagaStep for Run<P> {
    fn name(&self) -> &str {
        "coexistence"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let mut artifacts = Map::new();
        let mode = P::MODE;
        match (&mode, self.0.subject()) {
            (Mode::Analyze, Subject::File(id)) | (Mode::OptimizeProcess, Subject::File(id)) => {
                let (source, p) = procedure_of(ctx, id).await?;
                let (analysis, judgements) = analysis_of(ctx, &p).await;
                let aid = derived_id(&ctx.execution_id, "coexistence");
                let (_, sop_md, graph) = optimized(&p, &judgements, &aid);
                if mode == Mode::OptimizeProcess {
                    let optimizations: Vec<Value> = analysis["recommendations"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|r| {
                            json!({"type": "automation", "description": r["recommendation"],
                            "impact": r["impact"], "effort": r["effort"], "priority": r["priority"],
                            "recommendation": r["recommendation"], "step_number": r["step_number"]})
                        })
                        .collect();
                    let payload = json!({"process_id": aid, "source_file_id": source.artifact_id,
                        "optimizations": optimizations, "friction_points": analysis["friction_points"],
                        "metrics": analysis["metrics"], "counts": analysis["counts"]});
                    register(
                        ctx,
                        &aid,
                        "optimized_process",
                        &source.artifact_id,
                        payload.clone(),
                    )
                    .await?;
                    artifacts.insert(
                        "optimized_process".into(),
                        artifact("optimized_process", payload),
                    );
                } else {
                    let mut opportunities: Vec<Value> = analysis["recommendations"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|r| json!({"type": "friction_removal", "description": r["recommendation"],
                            "priority": r["priority"], "impact": r["impact"], "effort": r["effort"]}))
                        .collect();
                    opportunities.push(json!({"type": "sop_optimization", "description": sop_md}));
                    opportunities.push(json!({"type": "workflow_optimization",
                        "description": mermaid::write(&graph)}));
                    let mut payload = analysis.clone();
                    payload["analysis_id"] = json!(aid);
                    payload["source_file_id"] = json!(source.artifact_id);
                    payload["opportunities"] = json!(opportunities);
                    payload["blueprint"] = worded_blueprint(ctx, &p, &analysis).await;
                    payload["optimized_workflow"] = graph;
                    payload["procedure"] = json!(p);
                    register(
                        ctx,
                        &aid,
                        "coexistence_analysis",
                        &source.artifact_id,
                        payload.clone(),
                    )
                    .await?;
                    artifacts.insert(
                        "coexistence_analysis".into(),
                        artifact("coexistence_analysis", payload),
                    );
                }
            }
            (Mode::OptimizeContent, Subject::Content { sop, workflow: w }) => {
                let p = match (sop, w) {
                    (Some(text), _) => {
                        extract::procedure(&text.lines().map(String::from).collect::<Vec<_>>())
                    }
                    (None, Some(graph)) => workflow::from_graph(graph),
                    (None, None) => Err("nothing to optimize".to_string()),
                }
                .map_err(|e| StepError::new(format!("cannot read the SOP: {e}")))?;
                let (analysis, judgements) = analysis_of(ctx, &p).await;
                let id = derived_id(&ctx.execution_id, "optimized");
                let (_, sop_md, graph) = optimized(&p, &judgements, &id);
                let b = worded_blueprint(ctx, &p, &analysis).await;
                artifacts.insert(
                    "optimized_coexistence".into(),
                    artifact(
                        "optimized_coexistence",
                        json!({"optimized_sop": sop_md, "optimized_workflow": graph,
                            "blueprint": b, "analysis": analysis}),
                    ),
                );
            }
            _ => return Err(StepError::new("these parameters do not fit this intent")),
        }
        Ok(StepOutput {
            output: json!({}),
            artifacts,
        })
    }
}

/// The Journey page's blueprint (`create_blueprint {blueprint_data}`): the coexistence
/// blueprint of the session's latest analysis, registered as a `blueprint` artifact.
pub async fn journey_blueprint(
    ctx: &StepContext,
    name: Option<String>,
    description: Option<String>,
) -> Result<Value, StepError> {
    let rows = session_artifacts(ctx, "coexistence_analysis").await?;
    let latest = rows
        .into_iter()
        .max_by_key(|a| a.created_at)
        .ok_or_else(|| {
            StepError::new(
                "no coexistence analysis in this session yet: run analyze_coexistence first",
            )
        })?;
    let p: Procedure = serde_json::from_value(latest.semantic_descriptor["procedure"].clone())
        .map_err(|e| StepError::new(format!("the analysis cannot be read back: {e}")))?;
    let mut b = worded_blueprint(ctx, &p, &latest.semantic_descriptor).await;
    let id = derived_id(&ctx.execution_id, "blueprint");
    b["blueprint_id"] = json!(id);
    b["name"] = json!(name.unwrap_or_else(|| format!("{} blueprint", p.title)));
    b["description"] = json!(description.unwrap_or_else(|| "Coexistence blueprint".into()));
    b["analysis_id"] = json!(latest.artifact_id);
    register(ctx, &id, "blueprint", &latest.artifact_id, b.clone()).await?;
    Ok(b)
}
