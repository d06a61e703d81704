//! `analyze_structured_data {parsed_file_id}` → artifact `analysis`: per numeric column count,
//! min, max, mean, standard deviation and quantiles (p5, p25, p50, p75, p95); per text column
//! the top values with counts; Pearson correlation of every pair of numeric columns. One pass
//! over the stored records, a page at a time.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::stats::{Correlation, Numeric, Text};
use crate::runtime::handler::{
    artifact, FieldErrors, IntentHandler, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::realms::content::common::{done, find, internal, required_str};

const PAGE: i64 = 1000;
const TOP_VALUES: usize = 5;
/// Correlations are computed between at most this many numeric columns.
const MAX_CORRELATED: usize = 20;

pub struct AnalyzeStructuredData;

impl IntentHandler for AnalyzeStructuredData {
    fn intent_type(&self) -> &str {
        "analyze_structured_data"
    }

    fn description(&self) -> &str {
        "Describe a parsed file's columns: statistics, quantiles, top values and correlations."
    }

    fn validate(&self, p: &Value) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        required_str(p, "parsed_file_id", &mut errors);
        done(errors)
    }

    fn steps(&self, _p: &Value) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Analyze)]
    }
}

struct Analyze;

#[async_trait]
impl SagaStep for Analyze {
    fn name(&self) -> &str {
        "analyze"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let id = ctx.parameters["parsed_file_id"]
            .as_str()
            .unwrap_or_default();
        let parsed = find(ctx, id, "parsed_file").await?;
        if parsed.lifecycle_state != "active" {
            return Err(StepError::new(format!(
                "parsed file {id} is not ready ({})",
                parsed.lifecycle_state
            )));
        }
        let columns: Vec<(String, String)> = parsed.semantic_descriptor["columns"]
            .as_array()
            .map(|cs| {
                cs.iter()
                    .map(|c| {
                        (
                            c["name"].as_str().unwrap_or_default().to_string(),
                            c["type"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let numeric_names: Vec<String> = columns
            .iter()
            .filter(|(_, t)| t == "integer" || t == "float")
            .map(|(n, _)| n.clone())
            .collect();
        let text_names: Vec<String> = columns
            .iter()
            .filter(|(_, t)| matches!(t.as_str(), "string" | "boolean" | "date" | "datetime"))
            .map(|(n, _)| n.clone())
            .collect();
        let correlated: Vec<String> = numeric_names.iter().take(MAX_CORRELATED).cloned().collect();

        let mut numeric: BTreeMap<String, Numeric> = numeric_names
            .iter()
            .map(|n| (n.clone(), Numeric::default()))
            .collect();
        let mut text: BTreeMap<String, Text> = text_names
            .iter()
            .map(|n| (n.clone(), Text::default()))
            .collect();
        let mut pairs: Vec<((usize, usize), Correlation)> = Vec::new();
        for i in 0..correlated.len() {
            for j in i + 1..correlated.len() {
                pairs.push(((i, j), Correlation::default()));
            }
        }
        let mut rows = 0u64;
        let mut offset = 0i64;
        loop {
            let page = ctx
                .services
                .store
                .parsed_records(&parsed.artifact_id, offset, PAGE)
                .await
                .map_err(internal)?;
            for record in &page {
                rows += 1;
                for (name, acc) in numeric.iter_mut() {
                    if let Some(x) = record.get(name).and_then(Value::as_f64) {
                        acc.add(x);
                    }
                }
                for (name, acc) in text.iter_mut() {
                    match record.get(name) {
                        Some(Value::String(s)) => acc.add(s),
                        Some(Value::Bool(b)) => acc.add(if *b { "true" } else { "false" }),
                        _ => {}
                    }
                }
                let values: Vec<Option<f64>> = correlated
                    .iter()
                    .map(|n| record.get(n).and_then(Value::as_f64))
                    .collect();
                for ((i, j), c) in pairs.iter_mut() {
                    if let (Some(x), Some(y)) = (values[*i], values[*j]) {
                        c.add(x, y);
                    }
                }
            }
            if (page.len() as i64) < PAGE {
                break;
            }
            offset += PAGE;
        }

        let numeric_out: Map<String, Value> = numeric
            .into_iter()
            .filter_map(|(n, acc)| acc.finish().map(|s| (n, json!(s))))
            .collect();
        let text_out: Map<String, Value> = text
            .into_iter()
            .filter_map(|(n, acc)| acc.finish(TOP_VALUES).map(|s| (n, json!(s))))
            .collect();
        let correlations: Vec<Value> = pairs
            .iter()
            .filter_map(|((i, j), c)| {
                c.r().map(
                    |r| json!({"a": correlated[*i], "b": correlated[*j], "pearson": r, "n": c.n()}),
                )
            })
            .collect();
        let analysis = json!({
            "parsed_file_id": parsed.artifact_id,
            "file_id": parsed.semantic_descriptor["file_id"],
            "record_count": rows,
            "numeric": numeric_out,
            "text": text_out,
            "correlations": correlations,
            "method": {
                "moments": "Welford (one pass); std is the sample standard deviation",
                "quantiles": format!("exact up to {} values per column (linear interpolation), else DDSketch with 1% relative error", super::stats::EXACT_LIMIT),
                "top_values": format!("exact counts of up to {} distinct values per column", super::stats::DISTINCT_LIMIT),
            },
        });
        let mut artifacts = Map::new();
        artifacts.insert("analysis".into(), artifact("analysis", analysis));
        Ok(StepOutput {
            output: json!({"parsed_file_id": parsed.artifact_id, "records": rows}),
            artifacts,
        })
    }
}
