//! The `quality_report` artifact's payload, as one type: the quality assessment writes it, the
//! data mash and the insights liaison read it. A renamed field is a compile error on both
//! sides, never a report silently read as "no issues".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    pub parsed_file_id: String,
    /// The file it was parsed from (`null` for a mash's own parsed file).
    pub file_id: Option<String>,
    pub record_count: u64,
    /// By column name.
    pub columns: BTreeMap<String, ColumnQuality>,
    pub duplicate_rows: u64,
    /// Duplicates were looked for among the first rows only (see `limits`).
    pub duplicates_approximate: bool,
    /// 0 to 100, one decimal, by `score_rule`.
    pub score: f64,
    pub score_rule: String,
    /// Which columns were analyzed (`columns_total`, `columns_analyzed`, `truncated`, ...).
    pub analyzed_columns: Value,
    pub limits: QualityLimits,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnQuality {
    /// The inferred column type (`null` when none was inferred).
    #[serde(rename = "type")]
    pub column_type: Option<String>,
    pub null_count: u64,
    pub null_ratio: f64,
    pub distinct_count: u64,
    pub distinct_approximate: bool,
    /// Values that do not fit the inferred type.
    pub type_breaks: u64,
    pub type_break_examples: Vec<Value>,
    /// Numeric columns only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outliers: Option<Outliers>,
}

/// Values outside `[lower_bound, upper_bound]` (the IQR rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outliers {
    pub rule: String,
    pub q1: f64,
    pub q3: f64,
    pub lower_bound: f64,
    pub upper_bound: f64,
    pub count: u64,
    pub examples: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityLimits {
    pub max_tracked_values: u64,
    pub distinct_values_per_column: u64,
    pub exact_values_per_column: u64,
    pub fingerprinted_rows: u64,
}

impl QualityReport {
    /// The payload as stored in an artifact.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a quality report is plain data")
    }
}
