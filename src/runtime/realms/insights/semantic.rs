//! `get_semantic_interpretation {file_id | parsed_file_id}` → artifact `interpretation`: a
//! parsed file read in three layers: structural (its columns and types), semantic (what each
//! column holds, from `interpret`), relational (the dataset, its keys and references, from
//! `views::discovery`), with a one-line `summary` and the `entities` / `relationships` the
//! frontend reads.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::interpret::{dataset_name, interpretation};
use super::over_parsed::analyzed_columns;
use super::over_parsed::parsed_of;
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};

pub struct SemanticInterpretation;

pub struct FileOrParsed(pub String);

impl IntentParams for FileOrParsed {
    /// `parsed_file_id`, or `file_id` (a file's latest parse, or a parsed file's id).
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let id = if p.get("parsed_file_id").is_some() {
            f.required_str("parsed_file_id")
        } else {
            f.required_str("file_id")
        };
        f.finish(|| Some(FileOrParsed(id?)))
    }
}

impl TypedIntent for SemanticInterpretation {
    type Params = FileOrParsed;

    fn intent_type(&self) -> &str {
        "get_semantic_interpretation"
    }

    fn description(&self) -> &str {
        "Read a file in three layers: its columns, what they mean, and how they relate."
    }

    fn steps(&self, params: Arc<FileOrParsed>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Layers(params))]
    }
}

struct Layers(Arc<FileOrParsed>);

#[async_trait]
impl SagaStep for Layers {
    fn name(&self) -> &str {
        "interpret"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let parsed = parsed_of(ctx, &self.0 .0).await?;
        let meaning = interpretation(ctx, &parsed).await?;
        let name = dataset_name(ctx, &parsed).await?;
        let graph = super::views::discovery(&meaning, &name);
        let (columns, _) = analyzed_columns(&parsed);
        let mut kinds: BTreeMap<String, u64> = BTreeMap::new();
        for c in meaning["columns"]
            .as_object()
            .into_iter()
            .flat_map(|o| o.values())
        {
            *kinds
                .entry(c["semantic_type"].as_str().unwrap_or("text").to_string())
                .or_default() += 1;
        }
        let kinds_text: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
        let keys = meaning["candidate_keys"].as_array().map_or(0, Vec::len);
        let summary = format!(
            "{name}: {} records, {} columns ({}); {keys} candidate key{}.",
            meaning["record_count"],
            columns.len(),
            kinds_text.join(", "),
            if keys == 1 { "" } else { "s" }
        );
        let payload = json!({
            "parsed_file_id": parsed.artifact_id,
            "summary": summary,
            "entities": graph["entities"],
            "relationships": graph["relationships"],
            "layers": {
                "structural": columns.iter().map(|(n, t)| json!({"name": n, "type": t})).collect::<Vec<_>>(),
                "semantic": meaning["columns"],
                "relational": {"candidate_keys": meaning["candidate_keys"],
                    "relationships": graph["relationships"]},
            },
            "confidence_score": graph["confidence_score"],
            "coverage_score": graph["coverage_score"],
        });
        let mut artifacts = Map::new();
        artifacts.insert("interpretation".into(), artifact("interpretation", payload));
        Ok(StepOutput {
            output: json!({"parsed_file_id": parsed.artifact_id}),
            artifacts,
        })
    }
}
