//! A data model as a user uploads one (the "data model" upload category): its fields, read
//! from a JSON Schema (`properties`, `required`), a JSON list of `{name, type}` (or
//! `{"fields": [...]}`, or an object of name → type), or text: a table with `name`/`field`
//! and `type` columns, or one field per line (`name type`). Parsed (`parsing_type:
//! "data_model"`), its records are its fields; `interpret_data_guided` matches data to it.

use std::collections::BTreeSet;
use std::io::Read;

use serde_json::{Map, Value};

use super::{ColumnsInfer, ParseError, ParseSummary, Sink};

/// A data model's text at most, and its fields.
pub const MAX_MODEL_BYTES: usize = 1024 * 1024;
pub const MAX_FIELDS: usize = 1_000;

/// A field of a data model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelField {
    pub name: String,
    pub field_type: Option<String>,
    pub required: bool,
}

fn field(name: &str, t: Option<&str>, required: bool) -> ModelField {
    ModelField {
        name: name.trim().to_string(),
        field_type: t
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty()),
        required,
    }
}

/// The guide's fields, from its text.
pub fn fields(text: &str) -> Result<Vec<ModelField>, String> {
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        let list = v.get("fields").unwrap_or(&v);
        if let Some(props) = v.get("properties").and_then(Value::as_object) {
            let required: BTreeSet<&str> = v["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            for (name, spec) in props {
                out.push(field(
                    name,
                    spec["type"].as_str(),
                    required.contains(name.as_str()),
                ));
            }
        } else if let Some(items) = list.as_array() {
            for it in items {
                match (it.as_str(), it["name"].as_str().or(it["field"].as_str())) {
                    (Some(name), _) | (None, Some(name)) => out.push(field(
                        name,
                        it["type"].as_str(),
                        it["required"].as_bool().unwrap_or(false),
                    )),
                    _ => {}
                }
            }
        } else if let Some(obj) = list.as_object() {
            for (name, t) in obj {
                out.push(field(name, t.as_str(), false));
            }
        }
    } else {
        let mut lines = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'));
        let split = |l: &str| -> Vec<String> {
            l.split([',', '\t', ';', '|'])
                .map(|c| c.trim().to_string())
                .collect()
        };
        let first = lines.next().unwrap_or_default();
        let head: Vec<String> = split(first)
            .iter()
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let name_at = head
            .iter()
            .position(|c| c == "name" || c == "field" || c == "column");
        match name_at {
            Some(n) => {
                let type_at = head.iter().position(|c| c == "type" || c == "data_type");
                for l in lines {
                    let cells = split(l);
                    if let Some(name) = cells.get(n).filter(|c| !c.is_empty()) {
                        out.push(field(
                            name,
                            type_at.and_then(|t| cells.get(t)).map(String::as_str),
                            false,
                        ));
                    }
                }
            }
            None => {
                for l in std::iter::once(first).chain(lines) {
                    let mut words = l.split(|c: char| c.is_whitespace() || c == ':');
                    let name = words.next().unwrap_or_default();
                    let t = words.find(|w| !w.is_empty());
                    if !name.is_empty() {
                        out.push(field(name, t, false));
                    }
                }
            }
        }
    }
    out.retain(|f| !f.name.is_empty());
    if out.is_empty() {
        return Err("the data model names no fields (a JSON Schema, a list of {name, type}, or one field per line)".into());
    }
    if out.len() > MAX_FIELDS {
        return Err(format!("the data model has more than {MAX_FIELDS} fields"));
    }
    Ok(out)
}

/// Parses a data model into one record per field: `{field, type, required}`.
pub fn parse(reader: impl Read, sink: &mut Sink<'_>) -> Result<ParseSummary, ParseError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_MODEL_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ParseError::new(format!("cannot read the file: {e}")))?;
    if bytes.len() > MAX_MODEL_BYTES {
        return Err(ParseError::new("a data model is at most 1 MiB"));
    }
    let fields = fields(&String::from_utf8_lossy(&bytes)).map_err(ParseError::new)?;
    let names = ["field", "type", "required"].map(String::from);
    let mut stats = ColumnsInfer::with_names(&names);
    for f in &fields {
        let mut record = Map::new();
        record.insert("field".into(), Value::String(f.name.clone()));
        record.insert(
            "type".into(),
            f.field_type.clone().map_or(Value::Null, Value::String),
        );
        record.insert("required".into(), Value::Bool(f.required));
        stats.observe_record(&record);
        sink(record)?;
    }
    Ok(ParseSummary {
        parsing_type: "data_model",
        record_count: fields.len() as u64,
        columns: stats.finish(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_s_fields_are_read_from_each_form() {
        let schema = r#"{"properties": {"customer_id": {"type": "integer"}, "email": {"type": "string"}}, "required": ["email"]}"#;
        let f = fields(schema).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!((f[1].name.as_str(), f[1].required), ("email", true));
        let list = r#"[{"name": "id", "type": "int"}, "city"]"#;
        assert_eq!(fields(list).unwrap()[1].name, "city");
        let table = "field,type\nCustomer ID,integer\nSignup Date,date\n";
        let f = fields(table).unwrap();
        assert_eq!(
            (f[1].name.as_str(), f[1].field_type.as_deref()),
            ("Signup Date", Some("date"))
        );
        let lines = "amount: decimal\nregion\n";
        let f = fields(lines).unwrap();
        assert_eq!(
            (f[0].name.as_str(), f[0].field_type.as_deref()),
            ("amount", Some("decimal"))
        );
        assert!(fields("").is_err());
    }
}
