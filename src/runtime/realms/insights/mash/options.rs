//! A data mash's `options`: how to join (`join`: `outer` by default, `inner` or `left`), the
//! key column of each source when not found automatically (`join_keys`, one per content ref),
//! a quality floor (`min_quality_score`, 0–100), a display `name` and the most records the join
//! may write (`max_records`, at most `HARD_MAX_RECORDS`; see `cap`). Other keys are ignored.

use serde::Serialize;
use serde_json::Value;

use crate::runtime::engine::handler::FieldErrors;

/// No cap on a mash's records, default or option, is above this.
pub const HARD_MAX_RECORDS: u64 = 5_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JoinKind {
    /// Keys found in every source.
    Inner,
    /// Every record of the first source.
    Left,
    /// Every record of every source.
    Outer,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MashOptions {
    pub join: JoinKind,
    pub join_keys: Option<Vec<String>>,
    pub min_quality_score: Option<f64>,
    pub name: Option<String>,
    pub max_records: Option<u64>,
}

const MAX_NAME: usize = 200;

impl MashOptions {
    /// Checks `options` at submit time (`sources`: how many content refs were given).
    pub fn validate(options: Option<&Value>, sources: usize, errors: &mut FieldErrors) {
        let o = match options {
            None | Some(Value::Null) => return,
            Some(Value::Object(o)) => o,
            Some(_) => {
                errors.insert("parameters.options".into(), "must be an object".into());
                return;
            }
        };
        if let Some(j) = o.get("join") {
            if j.as_str().and_then(join_kind).is_none() {
                errors.insert(
                    "parameters.options.join".into(),
                    "must be one of outer, inner, left".into(),
                );
            }
        }
        if let Some(k) = o.get("join_keys") {
            let ok = k.as_array().is_some_and(|a| {
                (sources == 0 || a.len() == sources)
                    && a.iter().all(|v| v.as_str().is_some_and(|s| !s.is_empty()))
            });
            if !ok {
                errors.insert(
                    "parameters.options.join_keys".into(),
                    "must list one column name per content ref".into(),
                );
            }
        }
        if let Some(m) = o.get("min_quality_score") {
            if !m.as_f64().is_some_and(|m| (0.0..=100.0).contains(&m)) {
                errors.insert(
                    "parameters.options.min_quality_score".into(),
                    "must be a number from 0 to 100".into(),
                );
            }
        }
        if let Some(m) = o.get("max_records") {
            if !m
                .as_u64()
                .is_some_and(|m| (1..=HARD_MAX_RECORDS).contains(&m))
            {
                errors.insert(
                    "parameters.options.max_records".into(),
                    format!("must be a whole number from 1 to {HARD_MAX_RECORDS}"),
                );
            }
        }
        if let Some(n) = o.get("name") {
            if !n
                .as_str()
                .is_some_and(|n| !n.trim().is_empty() && n.chars().count() <= MAX_NAME)
            {
                errors.insert(
                    "parameters.options.name".into(),
                    format!("must be text of 1 to {MAX_NAME} characters"),
                );
            }
        }
    }

    /// The options of validated parameters.
    pub fn of(parameters: &Value) -> Self {
        let o = &parameters["options"];
        MashOptions {
            join: o["join"]
                .as_str()
                .and_then(join_kind)
                .unwrap_or(JoinKind::Outer),
            join_keys: o["join_keys"].as_array().map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            }),
            min_quality_score: o["min_quality_score"].as_f64(),
            name: o["name"].as_str().map(|n| n.trim().to_string()),
            max_records: o["max_records"].as_u64(),
        }
    }
}

fn join_kind(s: &str) -> Option<JoinKind> {
    match s {
        "outer" => Some(JoinKind::Outer),
        "inner" => Some(JoinKind::Inner),
        "left" => Some(JoinKind::Left),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn options_are_checked_and_read() {
        let mut errors = FieldErrors::new();
        MashOptions::validate(
            Some(
                &json!({"join": "sideways", "join_keys": ["a"], "min_quality_score": 101,
                "name": "", "max_records": 0}),
            ),
            2,
            &mut errors,
        );
        assert_eq!(
            errors.keys().cloned().collect::<Vec<_>>(),
            [
                "parameters.options.join",
                "parameters.options.join_keys",
                "parameters.options.max_records",
                "parameters.options.min_quality_score",
                "parameters.options.name"
            ]
        );
        let mut errors = FieldErrors::new();
        let p = json!({"options": {"join": "inner", "join_keys": ["id", "customer_id"],
            "min_quality_score": 60, "name": " Sales ", "max_records": 12, "colour": "blue"}});
        MashOptions::validate(p.get("options"), 2, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        let o = MashOptions::of(&p);
        assert_eq!(o.join, JoinKind::Inner);
        assert_eq!(o.join_keys.unwrap(), ["id", "customer_id"]);
        assert_eq!(o.min_quality_score, Some(60.0));
        assert_eq!(o.name.as_deref(), Some("Sales"));
        assert_eq!(o.max_records, Some(12));
        assert_eq!(MashOptions::of(&json!({})).join, JoinKind::Outer);
    }
}
