//! The `analysis` artifact's payload, as one type: `analyze_structured_data` writes it, the
//! insights liaison reads it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::stats::{NumericSummary, TextSummary};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisReport {
    pub parsed_file_id: String,
    /// The file it was parsed from (`null` for a mash's own parsed file).
    pub file_id: Option<String>,
    pub record_count: u64,
    /// Numeric columns, by name.
    pub numeric: BTreeMap<String, NumericSummary>,
    /// Text, boolean and date columns, by name.
    pub text: BTreeMap<String, TextSummary>,
    /// Pearson correlations of pairs of numeric columns.
    pub correlations: Vec<Correlated>,
    /// Which columns were analyzed (`columns_total`, `columns_analyzed`, `truncated`, ...).
    pub analyzed_columns: Value,
    pub method: AnalysisMethod,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correlated {
    pub a: String,
    pub b: String,
    pub pearson: f64,
    /// Records where both had a number.
    pub n: u64,
}

/// How the figures were computed, in words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisMethod {
    pub moments: String,
    pub quantiles: String,
    pub top_values: String,
    pub budget: String,
}

impl AnalysisReport {
    /// The payload as stored in an artifact.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("an analysis is plain data")
    }
}
