//! The `mash` artifact's payload: one type, written by the register phase and read back by
//! the insights liaison (and any client, as JSON). A renamed field is a compile error on both
//! sides, not a summary that silently says "?".

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::runtime::realms::content::parsing::ColumnStats;

use super::options::JoinKind;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MashReport {
    pub mash_id: String,
    pub name: String,
    pub status: String,
    /// The phases a mash runs through, in order.
    pub phases: Vec<String>,
    /// The combined dataset, a parsed file of its own.
    pub parsed_file_id: String,
    pub record_count: u64,
    pub columns: Vec<ColumnStats>,
    /// The canonical model as the mapping phase stored it (join evidence, unified columns).
    pub canonical_model: Value,
    pub canonical_model_id: String,
    pub join: MashJoin,
    pub sources: Vec<MashSource>,
    pub conflicts: Vec<MashConflict>,
    pub sample_records: Vec<Value>,
    pub sample_truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MashJoin {
    pub kind: JoinKind,
    /// The key's name in the combined dataset.
    pub key: String,
    /// The key column of each source, in source order.
    pub keys: Vec<JoinKeyColumn>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinKeyColumn {
    pub source: String,
    pub source_index: usize,
    pub column: String,
}

/// One combined source, with what the quality phase found and how many of its records the
/// join matched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MashSource {
    pub label: String,
    pub content_ref: String,
    pub file_id: Option<String>,
    pub filename: Option<String>,
    pub parsed_file_id: String,
    pub record_count: u64,
    pub matched_records: u64,
    pub quality_report_id: String,
    pub quality_score: f64,
    pub interpretation_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConflictKind {
    /// A column's types differ between sources (kept apart, or keys matched by text).
    Type,
    /// Sources give different values for one key (the first source's value is kept).
    Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MashConflict {
    pub kind: ConflictKind,
    pub column: String,
    pub detail: String,
    /// How many keys differ (value conflicts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// A few of the differing values (value conflicts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub examples: Option<Vec<Value>>,
}
