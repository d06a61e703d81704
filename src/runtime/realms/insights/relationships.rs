//! `map_relationships {parsed_file_ids: [...]}` → artifact `relationship_map`: candidate join
//! keys between every pair of the files, from column-name similarity and value overlap.
//!
//! Bounded whatever the files (see docs/insights.md for the worst case at the caps): at most
//! `MAX_FILES` files (checked at submit), the first `MAX_COLUMNS` columns of each (so at most
//! `MAX_PAIRS` column pairs), values sampled as `key_values` says, the `PER_COLUMN` best
//! candidates of each column kept (a bounded heap), and at most `MAX_CANDIDATES` listed in at
//! most `MAX_LIST_BYTES` of JSON. What is left out is counted and the map says `truncated`.

use std::sync::Arc;

use async_trait::async_trait;

use super::interpret::{dataset_name, interpretation};
use super::names::normalise;
use super::over_parsed::parsed_of;
use serde_json::{json, Map, Value};

use super::key_values::{sample, shared, Sampled, MAX_KEY_BYTES, MAX_SAMPLED_VALUES};
use super::over_parsed::column_names;
use super::stats::{round, DISTINCT_LIMIT};
use super::topk::TopK;
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::runtime::realms::content::common::find;

pub struct MapRelationships;

/// Files one map compares (checked at submit).
pub const MAX_FILES: usize = 10;
/// Columns compared per file: the first ones, in the file's order.
pub const MAX_COLUMNS: usize = 100;
/// Column pairs compared at most (every pair of files, every pair of their compared columns).
pub const MAX_PAIRS: usize = MAX_FILES * (MAX_FILES - 1) / 2 * MAX_COLUMNS * MAX_COLUMNS;
/// Candidates kept per column (of either side of a pair).
pub const PER_COLUMN: usize = 5;
/// Candidates listed in the map, at most, best first.
pub const MAX_CANDIDATES: usize = 200;
/// The listed candidates' JSON, at most (the rest is left out, and counted).
pub const MAX_LIST_BYTES: usize = 192 * 1024;
/// A pair is a candidate when this share of the smaller side's distinct values appear on the
/// other side, or when the names match and they share any value.
const MIN_OVERLAP: f64 = 0.5;

/// `map_relationships`'s parameters.
pub struct RelationshipParams {
    /// 2 to [`MAX_FILES`] parsed file ids (the joins between them); empty when `within` is
    /// given.
    pub parsed_file_ids: Vec<String>,
    /// One file (`file_id`, as the web frontend sends it: a file's id, read through its latest
    /// parse, or a parsed file's) or one parsed file (`parsed_file_id`): the relationships
    /// among its own columns.
    pub within: Option<String>,
}

impl IntentParams for RelationshipParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        if p.get("parsed_file_ids").is_none() {
            for field in ["file_id", "parsed_file_id"] {
                if p.get(field).is_some() {
                    let id = f.required_str(field);
                    return f.finish(|| {
                        Some(RelationshipParams {
                            parsed_file_ids: Vec::new(),
                            within: Some(id?),
                        })
                    });
                }
            }
        }
        let ids: Option<Vec<String>> = f
            .get("parsed_file_ids")
            .and_then(Value::as_array)
            .filter(|ids| (2..=MAX_FILES).contains(&ids.len()))
            .and_then(|ids| {
                ids.iter()
                    .map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_string))
                    .collect()
            });
        if ids.is_none() {
            f.error(
                "parsed_file_ids",
                format!("must be a list of 2 to {MAX_FILES} parsed file ids"),
            );
        }
        f.finish(|| {
            Some(RelationshipParams {
                parsed_file_ids: ids?,
                within: None,
            })
        })
    }
}

impl TypedIntent for MapRelationships {
    type Params = RelationshipParams;

    fn intent_type(&self) -> &str {
        "map_relationships"
    }

    fn description(&self) -> &str {
        "Find the columns that join parsed files (matching names, shared values)."
    }

    fn steps(&self, params: Arc<RelationshipParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(FindJoins(params))]
    }
}

struct FindJoins(Arc<RelationshipParams>);

/// 1 for the same normalised name, 0.5 when one contains the other (`id` in `customer_id`), else 0.
/// The relationships among one file's own columns: what each column is, which identifies a
/// record, which names another entity (see `views::discovery`).
async fn within_one(ctx: &StepContext, id: &str) -> Result<StepOutput, StepError> {
    let parsed = parsed_of(ctx, id).await?;
    let interpretation = interpretation(ctx, &parsed).await?;
    let name = dataset_name(ctx, &parsed).await?;
    let graph = super::views::discovery(&interpretation, &name);
    let view = json!({"parsed_file_id": parsed.artifact_id, "entities": graph["entities"],
        "relationships": graph["relationships"]});
    super::findings::record(
        ctx,
        "relationships",
        std::slice::from_ref(&parsed.artifact_id),
        &view,
        json!({}),
    )
    .await?;
    let mut artifacts = Map::new();
    artifacts.insert("relationships".into(), artifact("relationships", view));
    Ok(StepOutput {
        output: json!({"parsed_file_id": parsed.artifact_id}),
        artifacts,
    })
}

#[cfg(test)]
fn name_similarity(a: &str, b: &str) -> f64 {
    normalised_similarity(&normalise(a), &normalise(b))
}

/// `name_similarity` of names already normalised.
fn normalised_similarity(a: &str, b: &str) -> f64 {
    if a == b {
        1.0
    } else if !a.is_empty() && !b.is_empty() && (a.ends_with(b) || b.ends_with(a)) {
        0.5
    } else {
        0.0
    }
}

#[async_trait]
impl SagaStep for FindJoins {
    fn name(&self) -> &str {
        "map"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        if let Some(id) = &self.0.within {
            return within_one(ctx, id).await;
        }
        let map = relationship_map(ctx, &self.0.parsed_file_ids).await?;
        let listed = map["candidates"].as_array().map_or(0, Vec::len);
        let mut names = std::collections::HashMap::new();
        for id in &self.0.parsed_file_ids {
            let parsed = find(ctx, id, "parsed_file").await?;
            names.insert(id.clone(), dataset_name(ctx, &parsed).await?);
        }
        let name = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
        let view = super::views::relationships(&map, &name);
        super::findings::record(
            ctx,
            "relationships",
            &self.0.parsed_file_ids,
            &view,
            json!({}),
        )
        .await?;
        let mut artifacts = Map::new();
        artifacts.insert("relationships".into(), artifact("relationships", view));
        artifacts.insert("relationship_map".into(), artifact("relationship_map", map));
        Ok(StepOutput {
            output: json!({ "candidates": listed }),
            artifacts,
        })
    }
}

/// A column pair that may join two files: `left` and `right` are `(file, column)` indexes
/// into the samples, `seq` the order in which it was found.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub left: (usize, usize),
    pub right: (usize, usize),
    pub similarity: f64,
    pub shared: usize,
    /// `shared` ÷ the smaller side's distinct count, rounded as reported.
    pub overlap: f64,
    pub left_distinct: usize,
    pub right_distinct: usize,
    pub seq: u64,
}

impl Candidate {
    fn to_json(&self, files: &[Sampled]) -> Value {
        let (f, a) = self.left;
        let (g, b) = self.right;
        json!({
            "left": {"parsed_file_id": files[f].parsed_file_id, "column": files[f].columns[a]},
            "right": {"parsed_file_id": files[g].parsed_file_id, "column": files[g].columns[b]},
            "name_similarity": self.similarity,
            "shared_values": self.shared,
            "overlap_ratio": self.overlap,
            "left_coverage": round(self.shared as f64 / self.left_distinct as f64),
            "right_coverage": round(self.shared as f64 / self.right_distinct as f64),
        })
    }
}

/// A candidate ranked as the relationship map lists them: overlap, then name similarity, then
/// the order found (earlier first).
struct ByRelevance(Candidate);

impl ByRelevance {
    fn key(&self) -> (f64, f64, std::cmp::Reverse<u64>) {
        (
            self.0.overlap,
            self.0.similarity,
            std::cmp::Reverse(self.0.seq),
        )
    }
}

impl PartialEq for ByRelevance {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for ByRelevance {}
impl PartialOrd for ByRelevance {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ByRelevance {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let (a, b) = (self.key(), other.key());
        a.0.total_cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then(a.2.cmp(&b.2))
    }
}

/// Compares every column of `left` with every column of `right` for each pair of files given,
/// in order, handing `found` each candidate (a pair whose overlap is at least `MIN_OVERLAP`,
/// or whose names match and which shares a value). Returns how many pairs were compared.
pub fn each_candidate(
    files: &[Sampled],
    file_pairs: &[(usize, usize)],
    mut found: impl FnMut(Candidate),
) -> u64 {
    let names: Vec<Vec<String>> = files
        .iter()
        .map(|f| f.columns.iter().map(|c| normalise(c)).collect())
        .collect();
    let (mut compared, mut seq) = (0u64, 0u64);
    for &(f, g) in file_pairs {
        for (a, va) in files[f].values.iter().enumerate() {
            for (b, vb) in files[g].values.iter().enumerate() {
                compared += 1;
                if va.is_empty() || vb.is_empty() {
                    continue;
                }
                let shared = shared(va, vb);
                let overlap = shared as f64 / va.len().min(vb.len()) as f64;
                let similarity = normalised_similarity(&names[f][a], &names[g][b]);
                if overlap >= MIN_OVERLAP || (similarity > 0.0 && shared > 0) {
                    found(Candidate {
                        left: (f, a),
                        right: (g, b),
                        similarity,
                        shared,
                        overlap: round(overlap),
                        left_distinct: va.len(),
                        right_distinct: vb.len(),
                        seq,
                    });
                    seq += 1;
                }
            }
        }
    }
    compared
}

/// The relationship map of the parsed files, within the caps (see the module's caps).
pub async fn relationship_map(ctx: &StepContext, ids: &[String]) -> Result<Value, StepError> {
    let mut asked = Vec::new();
    let mut columns_total = Vec::new();
    for id in ids {
        let parsed = find(ctx, id, "parsed_file").await?;
        let names = column_names(&parsed);
        columns_total.push(names.len());
        asked.push((
            parsed.artifact_id.clone(),
            names.into_iter().take(MAX_COLUMNS).collect::<Vec<_>>(),
        ));
    }
    let (files, per_column) = sample(ctx, &asked).await?;
    // A heap of the best few per column (of any file); a candidate stays when it is among the
    // best of either of its columns.
    let offsets: Vec<usize> = files
        .iter()
        .scan(0, |at, f| {
            let start = *at;
            *at += f.columns.len();
            Some(start)
        })
        .collect();
    let total_columns = files.iter().map(|f| f.columns.len()).sum();
    let mut best: Vec<TopK<ByRelevance>> =
        (0..total_columns).map(|_| TopK::new(PER_COLUMN)).collect();
    let mut found = 0u64;
    let pairs: Vec<(usize, usize)> = (0..files.len())
        .flat_map(|i| (i + 1..files.len()).map(move |j| (i, j)))
        .collect();
    let compared = each_candidate(&files, &pairs, |c| {
        found += 1;
        let (l, r) = (offsets[c.left.0] + c.left.1, offsets[c.right.0] + c.right.1);
        let c = ByRelevance(c);
        if best[r].would_keep(&c) {
            best[r].offer(ByRelevance(c.0.clone()));
        }
        best[l].offer(c);
    });
    let mut kept: Vec<ByRelevance> = best.into_iter().flat_map(TopK::into_sorted).collect();
    kept.sort_by(|a, b| b.cmp(a));
    kept.dedup_by_key(|c| c.0.seq);
    let mut candidates = Vec::new();
    let mut bytes = 0;
    for c in kept.iter().take(MAX_CANDIDATES) {
        let v = c.0.to_json(&files);
        bytes += v.to_string().len();
        if bytes > MAX_LIST_BYTES {
            break;
        }
        candidates.push(v);
    }
    let columns_compared: Vec<usize> = files.iter().map(|f| f.columns.len()).collect();
    let truncated = (candidates.len() as u64) < found || columns_compared != columns_total;
    Ok(json!({
        "parsed_file_ids": ids,
        "candidates": candidates,
        "candidates_found": found,
        "pairs_compared": compared,
        "truncated": truncated,
        "columns_total": columns_total,
        "columns_compared": columns_compared,
        "values_per_column": per_column,
        "limits": {
            "max_files": MAX_FILES,
            "max_columns_per_file": MAX_COLUMNS,
            "max_pairs": MAX_PAIRS,
            "max_sampled_values": MAX_SAMPLED_VALUES,
            "max_values_per_column": DISTINCT_LIMIT,
            "max_key_bytes": MAX_KEY_BYTES,
            "per_column": PER_COLUMN,
            "max_candidates": MAX_CANDIDATES,
            "max_list_bytes": MAX_LIST_BYTES,
        },
        "rule": format!("a column pair is a candidate when at least {MIN_OVERLAP} of the smaller side's distinct values appear on the other side, or its names match and they share a value; each column keeps its {PER_COLUMN} best, and at most {MAX_CANDIDATES} are listed, best first (overlap, then name)"),
    }))
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
