//! `map_relationships {parsed_file_ids: [...]}` → artifact `relationship_map`: candidate join
//! keys between every pair of the files, from column-name similarity and value overlap.
//! Distinct values are collected per column up to a fixed limit (one pass per file).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::over_parsed::{column_names, each_record};
use super::stats::{round, DISTINCT_LIMIT};
use crate::runtime::handler::{
    artifact, FieldErrors, IntentHandler, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::realms::content::common::{done, find};

pub struct MapRelationships;

const MAX_FILES: usize = 10;
/// A pair is a candidate when this share of the smaller side's distinct values appear on the
/// other side, or when the names match and they share any value.
const MIN_OVERLAP: f64 = 0.5;

impl IntentHandler for MapRelationships {
    fn intent_type(&self) -> &str {
        "map_relationships"
    }

    fn description(&self) -> &str {
        "Find the columns that join parsed files (matching names, shared values)."
    }

    fn validate(&self, p: &Value) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        match p.get("parsed_file_ids").and_then(Value::as_array) {
            Some(ids)
                if (2..=MAX_FILES).contains(&ids.len())
                    && ids
                        .iter()
                        .all(|v| v.as_str().is_some_and(|s| !s.is_empty())) => {}
            _ => {
                errors.insert(
                    "parameters.parsed_file_ids".into(),
                    format!("must be a list of 2 to {MAX_FILES} parsed file ids"),
                );
            }
        }
        done(errors)
    }

    fn steps(&self, _p: &Value) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(FindJoins)]
    }
}

struct FindJoins;

/// Lower case, separators dropped: `Customer_ID`, `customer id` and `customerId` agree.
pub fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// 1 for the same normalised name, 0.5 when one contains the other (`id` in `customer_id`), else 0.
fn name_similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (normalise(a), normalise(b));
    if a == b {
        1.0
    } else if !a.is_empty() && !b.is_empty() && (a.ends_with(&b) || b.ends_with(&a)) {
        0.5
    } else {
        0.0
    }
}

/// A value as join-key text (numbers and strings alike; null is no key).
pub(crate) fn key_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.trim().to_string()),
        other => Some(other.to_string()),
    }
}

#[async_trait]
impl SagaStep for FindJoins {
    fn name(&self) -> &str {
        "map"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let ids: Vec<String> = ctx.parameters["parsed_file_ids"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let candidates = join_candidates(ctx, &ids).await?;
        let map = json!({
            "parsed_file_ids": ids,
            "candidates": candidates,
            "rule": format!("a column pair is a candidate when at least {MIN_OVERLAP} of the smaller side's distinct values appear on the other side, or its names match and they share a value"),
        });
        let mut artifacts = Map::new();
        artifacts.insert("relationship_map".into(), artifact("relationship_map", map));
        Ok(StepOutput {
            output: json!({"candidates": artifacts["relationship_map"]["semantic_payload"]["candidates"].as_array().map_or(0, Vec::len)}),
            artifacts,
        })
    }
}

/// A file's distinct values per column.
type ColumnValues = BTreeMap<String, HashSet<String>>;

/// Candidate join columns between every pair of the parsed files, best first (value overlap,
/// then name similarity).
pub async fn join_candidates(ctx: &StepContext, ids: &[String]) -> Result<Vec<Value>, StepError> {
    // Per file: its column names, and each column's distinct values.
    let mut files: Vec<(String, Vec<String>, ColumnValues)> = Vec::new();
    for id in ids {
        let parsed = find(ctx, id, "parsed_file").await?;
        let names = column_names(&parsed);
        let mut values: BTreeMap<String, HashSet<String>> =
            names.iter().map(|n| (n.clone(), HashSet::new())).collect();
        each_record(ctx, &parsed.artifact_id, |record| {
            for (name, set) in values.iter_mut() {
                if set.len() < DISTINCT_LIMIT {
                    if let Some(t) = record.get(name).and_then(key_text) {
                        set.insert(t);
                    }
                }
            }
        })
        .await?;
        files.push((parsed.artifact_id.clone(), names, values));
    }
    let mut candidates = Vec::new();
    for i in 0..files.len() {
        for j in i + 1..files.len() {
            let (left_id, left_names, left_values) = &files[i];
            let (right_id, right_names, right_values) = &files[j];
            for a in left_names {
                for b in right_names {
                    let (va, vb) = (&left_values[a], &right_values[b]);
                    if va.is_empty() || vb.is_empty() {
                        continue;
                    }
                    let shared = va.intersection(vb).count();
                    let overlap = shared as f64 / va.len().min(vb.len()) as f64;
                    let similarity = name_similarity(a, b);
                    if overlap >= MIN_OVERLAP || (similarity > 0.0 && shared > 0) {
                        candidates.push(json!({
                            "left": {"parsed_file_id": left_id, "column": a},
                            "right": {"parsed_file_id": right_id, "column": b},
                            "name_similarity": similarity,
                            "shared_values": shared,
                            "overlap_ratio": round(overlap),
                            "left_coverage": round(shared as f64 / va.len() as f64),
                            "right_coverage": round(shared as f64 / vb.len() as f64),
                        }));
                    }
                }
            }
        }
    }
    // Best first: value overlap, then name similarity.
    candidates.sort_by(|x, y| {
        let key = |v: &Value| {
            (
                v["overlap_ratio"].as_f64().unwrap_or(0.0),
                v["name_similarity"].as_f64().unwrap_or(0.0),
            )
        };
        let (kx, ky) = (key(x), key(y));
        ky.0.total_cmp(&kx.0).then(ky.1.total_cmp(&kx.1))
    });
    Ok(candidates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_compared_without_case_or_separators() {
        assert_eq!(name_similarity("Customer_ID", "customerId"), 1.0);
        assert_eq!(name_similarity("customer_id", "id"), 0.5);
        assert_eq!(name_similarity("city", "amount"), 0.0);
    }
}
