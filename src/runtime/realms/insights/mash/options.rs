//! A data mash's `options`: how to join (`join`: `outer` by default, `inner` or `left`), the
//! key column of each source when not found automatically (`join_keys`, one per content ref),
//! a quality floor (`min_quality_score`, 0–100), a display `name` and the most records the join
//! may write (`max_records`, at most `HARD_MAX_RECORDS`; see `cap`). Other keys are ignored.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::runtime::engine::params::Fields;

/// No cap on a mash's records, default or option, is above this.
pub const HARD_MAX_RECORDS: u64 = 5_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JoinKind {
    /// Keys found in every source.
    Inner,
    /// Every record of the first source.
    Left,
    /// Every record of every source.
    Outer,
}

impl JoinKind {
    /// The name on the wire and in the option (`inner`, `left`, `outer`).
    pub fn as_str(self) -> &'static str {
        match self {
            JoinKind::Inner => "inner",
            JoinKind::Left => "left",
            JoinKind::Outer => "outer",
        }
    }
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
    /// Reads `options` (`sources`: how many content refs were given), every error into `f`.
    pub fn decode(f: &mut Fields<'_>, sources: usize) -> MashOptions {
        let mut options = MashOptions {
            join: JoinKind::Outer,
            join_keys: None,
            min_quality_score: None,
            name: None,
            max_records: None,
        };
        let o = match f.get("options") {
            None => return options,
            Some(Value::Object(o)) => o,
            Some(_) => {
                f.error("options", "must be an object");
                return options;
            }
        };
        if let Some(j) = o.get("join") {
            match j.as_str().and_then(join_kind) {
                Some(kind) => options.join = kind,
                None => f.error("options.join", "must be one of outer, inner, left"),
            }
        }
        if let Some(k) = o.get("join_keys") {
            let keys: Option<Vec<String>> = k.as_array().and_then(|a| {
                a.iter()
                    .map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_string))
                    .collect()
            });
            match keys {
                Some(keys) if sources == 0 || keys.len() == sources => {
                    options.join_keys = Some(keys)
                }
                _ => f.error(
                    "options.join_keys",
                    "must list one column name per content ref",
                ),
            }
        }
        if let Some(m) = o.get("min_quality_score") {
            match m.as_f64().filter(|m| (0.0..=100.0).contains(m)) {
                Some(m) => options.min_quality_score = Some(m),
                None => f.error(
                    "options.min_quality_score",
                    "must be a number from 0 to 100",
                ),
            }
        }
        if let Some(m) = o.get("max_records") {
            match m.as_u64().filter(|m| (1..=HARD_MAX_RECORDS).contains(m)) {
                Some(m) => options.max_records = Some(m),
                None => f.error(
                    "options.max_records",
                    format!("must be a whole number from 1 to {HARD_MAX_RECORDS}"),
                ),
            }
        }
        if let Some(n) = o.get("name") {
            match n
                .as_str()
                .map(str::trim)
                .filter(|n| !n.is_empty() && n.chars().count() <= MAX_NAME)
            {
                Some(n) => options.name = Some(n.to_string()),
                None => f.error(
                    "options.name",
                    format!("must be text of 1 to {MAX_NAME} characters"),
                ),
            }
        }
        options
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

    fn decode(p: &Value, sources: usize) -> (MashOptions, Vec<String>) {
        let mut f = Fields::new(p);
        let o = MashOptions::decode(&mut f, sources);
        let errors = f.finish(|| Some(())).err().unwrap_or_default();
        (o, errors.into_keys().collect())
    }

    #[test]
    fn options_are_checked_and_read() {
        let (_, errors) = decode(
            &json!({"options": {"join": "sideways", "join_keys": ["a"], "min_quality_score": 101,
                "name": "", "max_records": 0}}),
            2,
        );
        assert_eq!(
            errors,
            [
                "parameters.options.join",
                "parameters.options.join_keys",
                "parameters.options.max_records",
                "parameters.options.min_quality_score",
                "parameters.options.name"
            ]
        );
        let p = json!({"options": {"join": "inner", "join_keys": ["id", "customer_id"],
            "min_quality_score": 60, "name": " Sales ", "max_records": 12, "colour": "blue"}});
        let (o, errors) = decode(&p, 2);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(o.join, JoinKind::Inner);
        assert_eq!(o.join_keys.unwrap(), ["id", "customer_id"]);
        assert_eq!(o.min_quality_score, Some(60.0));
        assert_eq!(o.name.as_deref(), Some("Sales"));
        assert_eq!(o.max_records, Some(12));
        assert_eq!(decode(&json!({}), 2).0.join, JoinKind::Outer);
    }
}
