//! `create_workflow {sop_id}` and `generate_sop {workflow_id}`: an uploaded SOP turned into a
//! workflow (graph, BPMN 2.0 XML, Mermaid), and an uploaded workflow (BPMN XML, Mermaid, a
//! workflow graph as JSON, or one of our `workflow` artifacts) turned into an SOP (Markdown
//! and the JSON the frontend formats). Each result is a registered artifact whose parent is
//! the file it came from, so the lineage and the other pillars find it.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::procedure::Procedure;
use super::{bpmn, extract, mermaid, sop_text, workflow};
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::runtime::realms::content::common::{
    derived_id, file_name, find_visible, internal, owner, small_file_bytes,
};
use crate::runtime::realms::content::document_text::document_lines;
use crate::runtime::realms::content::parsing::documents;
use crate::runtime::realms::derived::{register_derived, Derived};
use crate::store::artifacts::ArtifactFilter;
use crate::store::artifacts::ArtifactRow;

/// An SOP or workflow file read at most.
pub const MAX_DOCUMENT_BYTES: u64 = 8 * 1024 * 1024;

pub struct CreateWorkflow;
pub struct GenerateSop;

/// The one id such an intent takes (`sop_id` or `workflow_id`, or `file_id`).
pub struct SourceParams(pub String);

fn decode(p: &Value, field: &str) -> Result<SourceParams, FieldErrors> {
    let mut f = Fields::new(p);
    let id = if p.get(field).is_none() && p.get("file_id").is_some() {
        f.required_str("file_id")
    } else {
        f.required_str(field)
    };
    f.finish(|| Some(SourceParams(id?)))
}

pub struct SopParams(pub SourceParams);
pub struct WorkflowParams(pub SourceParams);

impl IntentParams for SopParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        decode(p, "sop_id").map(SopParams)
    }
}

impl IntentParams for WorkflowParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        decode(p, "workflow_id").map(WorkflowParams)
    }
}

impl TypedIntent for CreateWorkflow {
    type Params = SopParams;

    fn intent_type(&self) -> &str {
        "create_workflow"
    }

    fn description(&self) -> &str {
        "Turn an SOP into a workflow: its graph, BPMN 2.0 XML and a Mermaid chart."
    }

    fn steps(&self, params: Arc<SopParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(ToWorkflow(params))]
    }
}

impl TypedIntent for GenerateSop {
    type Params = WorkflowParams;

    fn intent_type(&self) -> &str {
        "generate_sop"
    }

    fn description(&self) -> &str {
        "Write an SOP from a workflow (BPMN, Mermaid or a workflow graph)."
    }

    fn steps(&self, params: Arc<WorkflowParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(ToSop(params))]
    }
}

/// A document's lines: Word headings as `# …`, PDF and text lines as they are.
fn lines(bytes: Vec<u8>) -> Result<Vec<String>, String> {
    Ok(document_lines(&bytes)?
        .into_iter()
        .map(|l| {
            if l.heading {
                format!("# {}", l.text)
            } else {
                l.text
            }
        })
        .collect())
}

/// The procedure an SOP or workflow file holds: BPMN XML, a Mermaid flowchart, a workflow
/// graph as JSON, or SOP text (Markdown, plain text, Word, PDF).
pub fn read_procedure(bytes: Vec<u8>) -> Result<Procedure, String> {
    if documents::signature(&bytes).is_none() {
        let text = String::from_utf8_lossy(&bytes);
        let head = text.trim_start();
        if head.starts_with('<') && (head.contains("bpmn") || head.contains("definitions")) {
            return bpmn::read(&text);
        }
        if head.starts_with("flowchart") || head.starts_with("graph ") {
            return mermaid::read(&text);
        }
        if head.starts_with('{') {
            if let Ok(v) = serde_json::from_str::<Value>(head) {
                if v.get("nodes").is_some() {
                    return workflow::from_graph(&v);
                }
            }
        }
    }
    extract::procedure(&lines(bytes)?)
}

/// Registers an artifact made from `parent` (its lineage), replacing one a re-run made.
pub async fn register(
    ctx: &StepContext,
    id: &str,
    artifact_type: &str,
    parent: &str,
    descriptor: Value,
) -> Result<(), StepError> {
    register_derived(
        ctx,
        Derived::new(id, artifact_type, vec![parent.to_string()], descriptor),
    )
    .await
}

/// The procedure of the file (or our workflow artifact) `id`.
pub async fn procedure_of(
    ctx: &StepContext,
    id: &str,
) -> Result<(ArtifactRow, Procedure), StepError> {
    let Some(found) = find_visible(ctx, id).await? else {
        return Err(StepError::new(format!("file {id} not found")));
    };
    let procedure = match found.artifact_type.as_str() {
        "file" => {
            let bytes = small_file_bytes(ctx, &found, MAX_DOCUMENT_BYTES as usize, "file").await?;
            let name = file_name(&found.semantic_descriptor)
                .unwrap_or(id)
                .to_string();
            // Parsing a document is CPU work: off the async workers.
            tokio::task::spawn_blocking(move || read_procedure(bytes))
                .await
                .map_err(internal)?
                .map_err(|e| StepError::new(format!("cannot read {name}: {e}")))?
        }
        "workflow" => {
            match serde_json::from_value(found.semantic_descriptor["procedure"].clone()) {
                Ok(p) => p,
                Err(_) => {
                    workflow::from_graph(&found.semantic_descriptor).map_err(StepError::new)?
                }
            }
        }
        "sop" => serde_json::from_value(found.semantic_descriptor["procedure"].clone())
            .map_err(|e| StepError::new(format!("the SOP cannot be read back: {e}")))?,
        other => {
            return Err(StepError::new(format!(
                "{id} is a {other}, not an SOP or a workflow"
            )))
        }
    };
    Ok((found, procedure))
}

struct ToWorkflow(Arc<SopParams>);

#[async_trait]
impl SagaStep for ToWorkflow {
    fn name(&self) -> &str {
        "create_workflow"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let (source, procedure) = procedure_of(ctx, &(self.0).0 .0).await?;
        let id = derived_id(&ctx.execution_id, "workflow");
        let mut graph = workflow::graph(&id, &procedure);
        let bpmn_xml = bpmn::write(&graph);
        let chart = mermaid::write(&graph);
        let tasks: Vec<Value> = procedure
            .steps
            .iter()
            .map(|s| {
                json!({"id": format!("step_{}", s.number), "name": s.title,
                "role": s.role})
            })
            .collect();
        graph["source_file_id"] = json!(source.artifact_id);
        graph["bpmn_xml"] = json!(bpmn_xml);
        graph["mermaid"] = json!(chart);
        graph["workflow_content"] = json!({"bpmn_xml": bpmn_xml, "tasks": tasks,
            "sequence_flows": graph["edges"]});
        graph["procedure"] = json!(procedure);
        register(ctx, &id, "workflow", &source.artifact_id, graph.clone()).await?;
        let mut artifacts = Map::new();
        artifacts.insert("workflow".into(), artifact("workflow", graph));
        Ok(StepOutput {
            output: json!({"workflow_id": id, "steps": procedure.steps.len()}),
            artifacts,
        })
    }
}

struct ToSop(Arc<WorkflowParams>);

#[async_trait]
impl SagaStep for ToSop {
    fn name(&self) -> &str {
        "generate_sop"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let (source, procedure) = procedure_of(ctx, &(self.0).0 .0).await?;
        let id = derived_id(&ctx.execution_id, "sop");
        let payload = json!({
            "sop_id": id,
            "title": procedure.title,
            "content": sop_text::markdown(&procedure),
            "sections": sop_text::json(&procedure),
            "source_file_id": source.artifact_id,
            "procedure": procedure,
        });
        register(ctx, &id, "sop", &source.artifact_id, payload.clone()).await?;
        let mut artifacts = Map::new();
        artifacts.insert("sop".into(), artifact("sop", payload));
        Ok(StepOutput {
            output: json!({"sop_id": id, "steps": procedure.steps.len()}),
            artifacts,
        })
    }
}

/// The session's artifacts of one type (listed by owner, then kept to this session).
pub async fn session_artifacts(
    ctx: &StepContext,
    kind: &str,
) -> Result<Vec<ArtifactRow>, StepError> {
    let filter = ArtifactFilter {
        artifact_type: Some(kind.into()),
        lifecycle_state: None,
        limit: 1000,
        offset: 0,
    };
    let (rows, _) = ctx
        .services
        .store
        .list_artifacts(&owner(ctx), &filter)
        .await
        .map_err(internal)?;
    Ok(rows
        .into_iter()
        .filter(|a| a.session_id == ctx.session_id)
        .collect())
}
