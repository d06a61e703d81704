//! The `parsed_file` artifact's descriptor: one type, written by the parse (content realm) and
//! by a mash (insights realm, for its combined dataset), and read back by the insights realm's
//! steps and the liaisons. Until the parse completes the descriptor says only
//! `parsing_status: "parsing"`; the counts and columns come with `"parsed"`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::parsing::{ColumnStats, ColumnType};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParsedFileDescriptor {
    pub parsed_file_id: String,
    /// The file it was parsed from (`null` for a mash's dataset).
    pub file_id: Option<String>,
    /// `parsing` while the parse runs, `parsed` once its records are stored.
    pub parsing_status: String,
    /// How the file was read (`csv`, `xlsx`, `pdf`, …; `mash` for a combined dataset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parsing_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<ColumnStats>,
    /// The mash that produced this dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mash_id: Option<String>,
    /// The parsed files a mash combined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_parsed_file_ids: Option<Vec<String>>,
}

impl ParsedFileDescriptor {
    /// A parse that has started: its id and its file, nothing more yet.
    pub fn parsing(parsed_file_id: &str, file_id: &str) -> Self {
        ParsedFileDescriptor {
            parsed_file_id: parsed_file_id.to_string(),
            file_id: Some(file_id.to_string()),
            parsing_status: "parsing".into(),
            parsing_type: None,
            record_count: None,
            columns: Vec::new(),
            mash_id: None,
            source_parsed_file_ids: None,
        }
    }

    /// The same, for a dataset that comes from no file.
    pub fn with_no_file(mut self) -> Self {
        self.file_id = None;
        self
    }

    /// Reads a stored descriptor; `None` when it is not one.
    pub fn read(v: &Value) -> Option<Self> {
        serde_json::from_value(v.clone()).ok()
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// `(name, type)` of each column, in order.
    pub fn column_types(&self) -> impl Iterator<Item = (&str, ColumnType)> {
        self.columns
            .iter()
            .map(|c| (c.name.as_str(), c.column_type))
    }
}

#[cfg(test)]
mod tests {
    use super::ParsedFileDescriptor;
    use serde_json::json;

    #[test]
    fn a_parsed_descriptor_reads_back_and_a_pending_one_stays_small() {
        let stored = json!({"parsed_file_id": "p1", "file_id": "f1", "parsing_type": "csv",
            "parsing_status": "parsed", "record_count": 3,
            "columns": [{"name": "id", "type": "integer", "null_count": 0},
                        {"name": "city", "type": "string", "null_count": 1}]});
        let d = ParsedFileDescriptor::read(&stored).unwrap();
        assert_eq!(d.record_count, Some(3));
        assert_eq!(
            d.column_types().map(|(n, _)| n).collect::<Vec<_>>(),
            ["id", "city"]
        );
        assert_eq!(d.to_value(), stored);
        assert_eq!(
            ParsedFileDescriptor::parsing("p2", "f2").to_value(),
            json!({"parsed_file_id": "p2", "file_id": "f2", "parsing_status": "parsing"})
        );
    }
}
