//! `visualize_lineage {file_id}`: the lineage graph of a file and of every registered artifact
//! derived from it (its parses, what a mash made of them, …), read from the artifact
//! registry's parent links, breadth first. Nodes carry the web frontend's types (`file`,
//! `parsed_result`, `interpretation`, `analysis`); an edge goes from a parent to what was
//! made of it, typed by the intent that made it; the graph is also drawn as a PNG
//! (`image_base64`, see `realms::graph_png`). Artifact `lineage_visualization`.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::common::{display_name, find, internal};
use super::files::FileParams;
use crate::runtime::engine::handler::{artifact, SagaStep, StepContext, StepError, StepOutput};
use crate::runtime::engine::params::TypedIntent;
use crate::runtime::realms::graph_png::{draw, Node};
use crate::store::artifacts::ArtifactRow;
use base64::Engine;

/// Nodes in one graph, at most; the rest is counted, not drawn.
pub const MAX_NODES: usize = 200;

pub struct VisualizeLineage;

impl TypedIntent for VisualizeLineage {
    type Params = FileParams;

    fn intent_type(&self) -> &str {
        "visualize_lineage"
    }

    fn description(&self) -> &str {
        "Show where a file went: its parses and everything made from them, as a graph."
    }

    fn steps(&self, params: Arc<FileParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Walk(params))]
    }
}

struct Walk(Arc<FileParams>);

/// The frontend's node type for an artifact type.
fn node_type(artifact_type: &str) -> &'static str {
    match artifact_type {
        "file" => "file",
        "parsed_file" => "parsed_result",
        "embedding" => "embedding",
        "interpretation" | "canonical_model" => "interpretation",
        _ => "analysis",
    }
}

async fn node(ctx: &StepContext, a: &ArtifactRow) -> Result<Value, StepError> {
    let mut n = json!({"id": a.artifact_id, "label": display_name(ctx, a).await?,
        "type": node_type(&a.artifact_type), "artifact_type": a.artifact_type,
        "lifecycle_state": a.lifecycle_state});
    if let Some(count) = a.semantic_descriptor["record_count"].as_u64() {
        n["record_count"] = json!(count);
    }
    if a.artifact_type == "parsed_file" {
        // A parse and its file share a name: say which this is.
        n["label"] = json!(format!("{} (parsed)", n["label"].as_str().unwrap_or("")));
    }
    Ok(n)
}

#[async_trait]
impl SagaStep for Walk {
    fn name(&self) -> &str {
        "walk"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let root = find(ctx, &self.0.file_id, "file").await?;
        let store = &ctx.services.store;
        let mut nodes = vec![node(ctx, &root).await?];
        let mut edges = Vec::new();
        let mut seen: HashSet<String> = HashSet::from([root.artifact_id.clone()]);
        let mut queue = VecDeque::from([root.artifact_id.clone()]);
        let mut left_out = 0usize;
        let mut not_drawn: HashSet<String> = HashSet::new();
        while let Some(parent) = queue.pop_front() {
            for child in store.children_of(&parent, None).await.map_err(internal)? {
                if child.lifecycle_state == "deleted" || child.artifact_type == "materialization" {
                    continue;
                }
                if not_drawn.contains(&child.artifact_id) {
                    continue;
                }
                if !seen.contains(&child.artifact_id) && nodes.len() == MAX_NODES {
                    left_out += 1;
                    not_drawn.insert(child.artifact_id.clone());
                    continue;
                }
                edges.push(json!({"source": parent, "target": child.artifact_id,
                    "type": child.produced_by_intent}));
                if !seen.insert(child.artifact_id.clone()) {
                    continue;
                }
                nodes.push(node(ctx, &child).await?);
                queue.push_back(child.artifact_id.clone());
            }
        }
        let picture = {
            let (nodes, edges) = (nodes.clone(), edges.clone());
            tokio::task::spawn_blocking(move || {
                let drawn: Vec<Node<'_>> = nodes
                    .iter()
                    .map(|n| Node {
                        id: n["id"].as_str().unwrap_or_default(),
                        label: n["label"].as_str().unwrap_or_default(),
                        kind: n["type"].as_str().unwrap_or_default(),
                    })
                    .collect();
                let lines: Vec<(&str, &str)> = edges
                    .iter()
                    .map(|e| {
                        (
                            e["source"].as_str().unwrap_or_default(),
                            e["target"].as_str().unwrap_or_default(),
                        )
                    })
                    .collect();
                draw(&drawn, &lines)
            })
            .await
            .map_err(internal)?
            .map_err(|e| StepError::new(format!("the lineage picture could not be drawn: {e}")))?
        };
        let payload = json!({
            "file_id": root.artifact_id,
            "image_base64": base64::engine::general_purpose::STANDARD.encode(&picture),
            "image_format": "png",
            "lineage_graph": {"nodes": nodes, "edges": edges},
            "metadata": {"node_count": nodes.len(), "edge_count": edges.len(),
                "nodes_left_out": left_out, "max_nodes": MAX_NODES},
        });
        let mut artifacts = Map::new();
        artifacts.insert(
            "lineage_visualization".into(),
            artifact("lineage_visualization", payload),
        );
        Ok(StepOutput {
            output: json!({"nodes": nodes.len()}),
            artifacts,
        })
    }
}
