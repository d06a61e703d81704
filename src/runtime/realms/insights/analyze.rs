//! `analyze_structured_data {parsed_file_id}` → artifact `analysis`: per numeric column count,
//! min, max, mean, standard deviation and quantiles (p5, p25, p50, p75, p95); per text column
//! the top values with counts; Pearson correlation of every pair of numeric columns. One pass
//! over the stored records, a page at a time.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::analysis_report::{AnalysisMethod, AnalysisReport, Correlated};
use super::budget::{per_column, MAX_TRACKED_VALUES};
use super::over_parsed::{
    analyzed_columns, columns_note, each_record, ready_parsed, OverParsedFile, ParsedFileParams,
};
use super::stats::{Correlation, Numeric, Text, DISTINCT_LIMIT, EXACT_LIMIT};
use crate::runtime::engine::handler::{artifact, SagaStep, StepContext, StepError, StepOutput};

const TOP_VALUES: usize = 5;
/// Correlations are computed between at most this many numeric columns.
const MAX_CORRELATED: usize = 20;

pub fn handler() -> OverParsedFile {
    OverParsedFile {
        intent: "analyze_structured_data",
        description:
            "Describe a parsed file's columns: statistics, quantiles, top values and correlations.",
        step: |params| Arc::new(Analyze(params)),
    }
}

struct Analyze(Arc<ParsedFileParams>);

#[async_trait]
impl SagaStep for Analyze {
    fn name(&self) -> &str {
        "analyze"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let parsed = ready_parsed(ctx, &self.0).await?;
        let (columns, columns_total) = analyzed_columns(&parsed);
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

        // One budget of kept values for all the columns.
        let tracked = numeric_names.len() + text_names.len();
        let exact_limit = per_column(EXACT_LIMIT, MAX_TRACKED_VALUES, tracked);
        let distinct_limit = per_column(DISTINCT_LIMIT, MAX_TRACKED_VALUES, tracked);
        let mut numeric: BTreeMap<String, Numeric> = numeric_names
            .iter()
            .map(|n| (n.clone(), Numeric::with_limit(exact_limit)))
            .collect();
        let mut text: BTreeMap<String, Text> = text_names
            .iter()
            .map(|n| (n.clone(), Text::with_limit(distinct_limit)))
            .collect();
        let mut pairs: Vec<((usize, usize), Correlation)> = Vec::new();
        for i in 0..correlated.len() {
            for j in i + 1..correlated.len() {
                pairs.push(((i, j), Correlation::default()));
            }
        }
        let rows = each_record(ctx, &parsed.artifact_id, |record| {
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
        })
        .await?;

        let analysis = AnalysisReport {
            parsed_file_id: parsed.artifact_id.clone(),
            file_id: parsed.semantic_descriptor["file_id"]
                .as_str()
                .map(str::to_string),
            record_count: rows,
            numeric: numeric
                .into_iter()
                .filter_map(|(n, acc)| acc.finish().map(|s| (n, s)))
                .collect(),
            text: text
                .into_iter()
                .filter_map(|(n, acc)| acc.finish(TOP_VALUES).map(|s| (n, s)))
                .collect(),
            correlations: pairs
                .iter()
                .filter_map(|((i, j), c)| {
                    c.r().map(|pearson| Correlated {
                        a: correlated[*i].clone(),
                        b: correlated[*j].clone(),
                        pearson,
                        n: c.n(),
                    })
                })
                .collect(),
            analyzed_columns: columns_note(columns.len(), columns_total),
            method: AnalysisMethod {
                moments: "Welford (one pass); std is the sample standard deviation".into(),
                quantiles: format!("exact up to {exact_limit} values per column (linear interpolation), else DDSketch with 1% relative error"),
                top_values: format!("exact counts of up to {distinct_limit} distinct values per column"),
                budget: format!("at most {MAX_TRACKED_VALUES} values kept over all columns, shared equally"),
            },
        };
        let mut artifacts = Map::new();
        artifacts.insert("analysis".into(), artifact("analysis", analysis.to_value()));
        let view = super::views::structured_analysis(&analysis);
        super::findings::record(
            ctx,
            "structured_analysis",
            std::slice::from_ref(&parsed.artifact_id),
            &view,
            json!({"record_count": rows}),
        )
        .await?;
        artifacts.insert(
            "structured_analysis".into(),
            artifact("structured_analysis", view),
        );
        Ok(StepOutput {
            output: json!({"parsed_file_id": parsed.artifact_id, "records": rows}),
            artifacts,
        })
    }
}
