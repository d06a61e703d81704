//! `assess_data_quality {parsed_file_id}` → artifact `quality_report`: per column the null
//! ratio, distinct count, values that break the inferred type, and numeric outliers by the IQR
//! rule (outside [Q1 − 1.5·IQR, Q3 + 1.5·IQR]); duplicate rows; and an overall score with the
//! rule that produced it. Two passes over the stored records (quartiles, then outliers), each a
//! page at a time; distinct values and row fingerprints are counted up to fixed limits.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::budget::{per_column, MAX_TRACKED_VALUES};
use super::clip::clip;
use super::over_parsed::{
    analyzed_columns, columns_note, each_record, ready_parsed, OverParsedFile, ParsedFileParams,
};
use super::quality_report::{ColumnQuality, Outliers, QualityLimits, QualityReport};
use super::stats::{round, Numeric, DISTINCT_LIMIT, EXACT_LIMIT};
use crate::runtime::engine::handler::{artifact, SagaStep, StepContext, StepError, StepOutput};
use crate::runtime::realms::content::parsing::{fits, ColumnType};
use crate::store::artifacts::ArtifactRow;

const EXAMPLES: usize = 5;
/// Rows whose fingerprints are kept for duplicate detection.
const ROW_LIMIT: usize = 2_000_000;

pub const SCORE_RULE: &str =
    "score = 100 − 40·(null cells / cells) − 30·(type-breaking cells / cells) \
    − 20·(duplicate rows / rows) − 10·(outlier cells / numeric cells), floored at 0, one decimal";

pub fn handler() -> OverParsedFile {
    OverParsedFile {
        intent: "assess_data_quality",
        description: "Assess a parsed file's quality: empty cells, type breaks, outliers, duplicates, a score.",
        step: |params| Arc::new(Assess(params)),
    }
}

struct Assess(Arc<ParsedFileParams>);

#[derive(Default)]
struct ColumnCheck {
    kind: Option<ColumnType>,
    nulls: u64,
    distinct: HashSet<String>,
    distinct_limit: usize,
    distinct_capped: bool,
    breaks: u64,
    break_examples: Vec<Value>,
    numeric: Option<Numeric>,
    bounds: Option<(f64, f64)>,
    outliers: u64,
    outlier_examples: Vec<Value>,
}

impl ColumnCheck {
    /// Pass 1 for one cell: null, distinct value, type break, or a number for the quartiles.
    fn observe(&mut self, v: &Value) {
        if v.is_null() {
            self.nulls += 1;
            return;
        }
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        if self.distinct.len() < self.distinct_limit {
            self.distinct.insert(text);
        } else if !self.distinct.contains(&text) {
            self.distinct_capped = true;
        }
        if let Some(kind) = self.kind {
            if !fits(kind, v) {
                self.breaks += 1;
                if self.break_examples.len() < EXAMPLES {
                    self.break_examples.push(clip(v));
                }
                return;
            }
        }
        if let (Some(acc), Some(x)) = (self.numeric.as_mut(), v.as_f64()) {
            acc.add(x);
        }
    }
}

fn parse_type(t: &str) -> Option<ColumnType> {
    Some(match t {
        "integer" => ColumnType::Integer,
        "float" => ColumnType::Float,
        "boolean" => ColumnType::Boolean,
        "date" => ColumnType::Date,
        "datetime" => ColumnType::Datetime,
        "string" => ColumnType::String,
        "json" => ColumnType::Json,
        _ => return None,
    })
}

fn is_numeric(t: Option<ColumnType>) -> bool {
    matches!(t, Some(ColumnType::Integer | ColumnType::Float))
}

#[async_trait]
impl SagaStep for Assess {
    fn name(&self) -> &str {
        "assess"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let parsed = ready_parsed(ctx, &self.0).await?;
        let report = quality_report(ctx, &parsed).await?;
        let output = json!({"parsed_file_id": parsed.artifact_id, "score": report.score});
        let mut artifacts = Map::new();
        artifacts.insert(
            "quality_report".into(),
            artifact("quality_report", report.to_value()),
        );
        let view = super::views::quality_assessment(&report);
        super::findings::record(
            ctx,
            "quality_assessment",
            std::slice::from_ref(&parsed.artifact_id),
            &view,
            json!({"score": report.score, "record_count": report.record_count}),
        )
        .await?;
        artifacts.insert(
            "quality_assessment".into(),
            artifact("quality_assessment", view),
        );
        Ok(StepOutput { output, artifacts })
    }
}

/// The quality report of a parsed file (two passes over its records).
pub async fn quality_report(
    ctx: &StepContext,
    parsed: &ArtifactRow,
) -> Result<QualityReport, StepError> {
    let mut columns: BTreeMap<String, ColumnCheck> = BTreeMap::new();
    let mut order = Vec::new();
    let (described, columns_total) = analyzed_columns(parsed);
    // One budget of kept values: each column may keep distinct texts and exact numbers.
    let distinct_limit = per_column(DISTINCT_LIMIT, MAX_TRACKED_VALUES, 2 * described.len());
    let exact_limit = per_column(EXACT_LIMIT, MAX_TRACKED_VALUES, 2 * described.len());
    for (name, t) in described {
        let kind = parse_type(&t);
        order.push(name.clone());
        columns.insert(
            name,
            ColumnCheck {
                kind,
                numeric: is_numeric(kind).then(|| Numeric::with_limit(exact_limit)),
                distinct_limit,
                ..Default::default()
            },
        );
    }

    // Pass 1: nulls, distinct values, type breaks, quartiles, duplicate rows.
    let mut fingerprints: HashSet<u64> = HashSet::new();
    let mut duplicates = 0u64;
    let mut fingerprints_capped = false;
    let rows = each_record(ctx, &parsed.artifact_id, |record| {
        let mut h = DefaultHasher::new();
        record.to_string().hash(&mut h);
        let fp = h.finish();
        if fingerprints.contains(&fp) {
            duplicates += 1;
        } else if fingerprints.len() < ROW_LIMIT {
            fingerprints.insert(fp);
        } else {
            fingerprints_capped = true;
        }
        for (name, check) in columns.iter_mut() {
            check.observe(record.get(name).unwrap_or(&Value::Null));
        }
    })
    .await?;
    let mut summaries = BTreeMap::new();
    for (name, check) in columns.iter_mut() {
        if let Some(acc) = check.numeric.take() {
            if let Some(s) = acc.finish() {
                let (q1, q3) = (s.quantiles["p25"], s.quantiles["p75"]);
                let iqr = q3 - q1;
                check.bounds = Some((round(q1 - 1.5 * iqr), round(q3 + 1.5 * iqr)));
                summaries.insert(name.clone(), (q1, q3));
            }
        }
    }

    // Pass 2: outliers of the numeric columns.
    if columns.values().any(|c| c.bounds.is_some()) {
        each_record(ctx, &parsed.artifact_id, |record| {
            for (name, check) in columns.iter_mut() {
                let Some((lo, hi)) = check.bounds else {
                    continue;
                };
                if let Some(x) = record.get(name).and_then(Value::as_f64) {
                    if x < lo || x > hi {
                        check.outliers += 1;
                        if check.outlier_examples.len() < EXAMPLES {
                            check.outlier_examples.push(clip(&record[name]));
                        }
                    }
                }
            }
        })
        .await?;
    }

    let cells = rows * order.len() as u64;
    let nulls: u64 = columns.values().map(|c| c.nulls).sum();
    let breaks: u64 = columns.values().map(|c| c.breaks).sum();
    let outliers: u64 = columns.values().map(|c| c.outliers).sum();
    let numeric_cells: u64 = columns
        .values()
        .filter(|c| is_numeric(c.kind))
        .map(|c| rows - c.nulls - c.breaks)
        .sum();
    let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let score = (100.0
        - 40.0 * ratio(nulls, cells)
        - 30.0 * ratio(breaks, cells)
        - 20.0 * ratio(duplicates, rows)
        - 10.0 * ratio(outliers, numeric_cells))
    .max(0.0);
    let score = (score * 10.0).round() / 10.0;

    let mut per_column = BTreeMap::new();
    for name in &order {
        let c = &columns[name];
        let outliers = c.bounds.map(|(lower_bound, upper_bound)| {
            let (q1, q3) = summaries[name];
            Outliers {
                rule: "IQR".into(),
                q1,
                q3,
                lower_bound,
                upper_bound,
                count: c.outliers,
                examples: c.outlier_examples.clone(),
            }
        });
        per_column.insert(
            name.clone(),
            ColumnQuality {
                column_type: c.kind.and_then(|k| json!(k).as_str().map(str::to_string)),
                null_count: c.nulls,
                null_ratio: round(ratio(c.nulls, rows)),
                distinct_count: c.distinct.len() as u64,
                distinct_approximate: c.distinct_capped,
                type_breaks: c.breaks,
                type_break_examples: c.break_examples.clone(),
                outliers,
            },
        );
    }
    let report = QualityReport {
        parsed_file_id: parsed.artifact_id.clone(),
        file_id: parsed.semantic_descriptor["file_id"]
            .as_str()
            .map(str::to_string),
        record_count: rows,
        columns: per_column,
        duplicate_rows: duplicates,
        duplicates_approximate: fingerprints_capped,
        score,
        score_rule: SCORE_RULE.into(),
        analyzed_columns: columns_note(order.len(), columns_total),
        limits: QualityLimits {
            max_tracked_values: MAX_TRACKED_VALUES as u64,
            distinct_values_per_column: distinct_limit as u64,
            exact_values_per_column: exact_limit as u64,
            fingerprinted_rows: ROW_LIMIT as u64,
        },
    };
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_values_are_kept_up_to_the_column_share() {
        let mut c = ColumnCheck {
            kind: Some(ColumnType::Integer),
            numeric: Some(Numeric::with_limit(2)),
            distinct_limit: 2,
            ..Default::default()
        };
        for v in [1, 2, 3, 2] {
            c.observe(&json!(v));
        }
        assert_eq!((c.distinct.len(), c.distinct_capped), (2, true));
        // The three numbers past the exact share went to the sketch: all four still counted.
        assert_eq!(c.numeric.take().unwrap().count(), 4);
    }
}
