//! `interpret_data_guided {parsed_file_id, guide_id, matching_options?}` → artifact
//! `interpretation` (`interpretation_type: "guided"`): a parsed file matched against a data
//! model the user uploaded (the guide). The guide's fields are read from its file: a JSON
//! Schema (`properties`, `required`), a JSON list of `{name, type}` (or `{"fields": [...]}`,
//! or an object of name → type), or text: a table with `name`/`field` and `type` columns, or
//! one field per line (`name type`). Each field is matched to the column whose name agrees
//! best (the same name ignoring case and separators: 1; one name containing the other: 0.8;
//! shared words: their Jaccard share × 0.8), a type that cannot hold the column's values
//! costing a third; matches below `matching_threshold` (0.7) are not made.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::names::normalise;
use super::over_parsed::analyzed_columns;
use super::over_parsed::parsed_of;
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::runtime::realms::content::common::{find, small_file_bytes};
use crate::runtime::realms::content::parsing::data_model;

/// A guide's text at most, and its fields.
pub const MAX_GUIDE_BYTES: usize = 1024 * 1024;

pub struct InterpretGuided;

pub struct GuidedParams {
    /// A parsed file's id, or a file's (its latest parse).
    pub data: String,
    pub guide_id: String,
    pub threshold: f64,
}

impl IntentParams for GuidedParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let data = if p.get("parsed_file_id").is_none() && p.get("file_id").is_some() {
            f.required_str("file_id")
        } else {
            f.required_str("parsed_file_id")
        };
        let guide_id = f.required_str("guide_id");
        let threshold = match p
            .get("matching_options")
            .and_then(|o| o.get("matching_threshold"))
        {
            None | Some(Value::Null) => 0.7,
            Some(v) => match v.as_f64().filter(|t| (0.0..=1.0).contains(t)) {
                Some(t) => t,
                None => {
                    f.error(
                        "matching_options.matching_threshold",
                        "must be a number from 0 to 1",
                    );
                    0.7
                }
            },
        };
        f.finish(|| {
            Some(GuidedParams {
                data: data?,
                guide_id: guide_id?,
                threshold,
            })
        })
    }
}

impl TypedIntent for InterpretGuided {
    type Params = GuidedParams;

    fn intent_type(&self) -> &str {
        "interpret_data_guided"
    }

    fn description(&self) -> &str {
        "Match a parsed file's columns to the fields of a data model you uploaded."
    }

    fn steps(&self, params: Arc<GuidedParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Match(params))]
    }
}

/// A name's words: `customerId`, `customer_id` and `Customer ID` are `{customer, id}`.
fn words(name: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if (!c.is_alphanumeric() || (c.is_uppercase() && prev_lower)) && !cur.is_empty() {
            out.insert(std::mem::take(&mut cur));
        }
        if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
        }
        prev_lower = c.is_lowercase();
    }
    if !cur.is_empty() {
        out.insert(cur);
    }
    out
}

/// How well a field's name fits a column's name, 0..1, and why.
pub fn name_score(field: &str, column: &str) -> (f64, &'static str) {
    let (a, b) = (normalise(field), normalise(column));
    if a.is_empty() || b.is_empty() {
        return (0.0, "no name");
    }
    if a == b {
        return (1.0, "same name");
    }
    if a.contains(&b) || b.contains(&a) {
        return (0.8, "one name contains the other");
    }
    let (wa, wb) = (words(field), words(column));
    let shared = wa.intersection(&wb).count();
    if shared == 0 {
        return (0.0, "no shared word");
    }
    let share = shared as f64 / wa.union(&wb).count() as f64;
    (0.8 * share, "shared words")
}

/// Whether a column of this inferred type can hold the field's declared type.
fn types_agree(declared: &str, column: &str) -> bool {
    let numeric = [
        "integer", "int", "long", "number", "float", "double", "decimal", "numeric", "money",
        "amount",
    ];
    let texty = ["string", "text", "varchar", "char"];
    let dates = ["date", "datetime", "timestamp", "time"];
    let family = |t: &str| {
        if numeric.iter().any(|n| t.contains(n)) {
            "number"
        } else if dates.iter().any(|d| t.contains(d)) {
            "date"
        } else if t.contains("bool") {
            "boolean"
        } else if texty.iter().any(|s| t.contains(s)) {
            "string"
        } else {
            "other"
        }
    };
    let (d, c) = (family(declared), family(column));
    // A text column holds anything; an identifier of either kind matches.
    d == c || c == "string" || d == "other" || c == "other" || c == "null"
}

struct Match(Arc<GuidedParams>);

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[async_trait]
impl SagaStep for Match {
    fn name(&self) -> &str {
        "match"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let p = &self.0;
        let parsed = parsed_of(ctx, &p.data).await?;
        let guide = find(ctx, &p.guide_id, "file").await.map_err(|_| {
            StepError::new(format!(
                "data model {} not found: upload it first",
                p.guide_id
            ))
        })?;
        let bytes = small_file_bytes(ctx, &guide, MAX_GUIDE_BYTES, "data model").await?;
        let fields =
            data_model::fields(&String::from_utf8_lossy(&bytes)).map_err(StepError::new)?;
        let (columns, _) = analyzed_columns(&parsed);
        let mut used = BTreeSet::new();
        let mut matched = Vec::new();
        let mut missing = Vec::new();
        let mut entities = Vec::new();
        let mut relationships = Vec::new();
        for f in &fields {
            let best = columns
                .iter()
                .filter(|(c, _)| !used.contains(c))
                .map(|(c, t)| {
                    let (mut score, mut why) = name_score(&f.name, c);
                    if let Some(declared) = &f.field_type {
                        if score > 0.0 && !types_agree(declared, t) {
                            score *= 2.0 / 3.0;
                            why = "names agree but the types do not";
                        }
                    }
                    (c, t, round(score), why)
                })
                .filter(|(_, _, s, _)| *s > 0.0 && *s >= p.threshold)
                .max_by(|a, b| a.2.total_cmp(&b.2).then_with(|| b.0.cmp(a.0)));
            let field_type = f.field_type.clone().unwrap_or_else(|| "unspecified".into());
            match best {
                Some((c, t, score, why)) => {
                    used.insert(c.clone());
                    matched.push(json!({"field": f.name, "column": c, "confidence": score,
                        "reason": why, "field_type": field_type, "column_type": t}));
                    entities.push(json!({"name": f.name, "type": field_type,
                        "attributes": {"column": c, "confidence": score}}));
                    relationships.push(json!({"source": c, "target": f.name, "type": "maps_to",
                        "confidence": score}));
                }
                None => {
                    missing.push(json!({"field": f.name, "field_type": field_type,
                        "required": f.required}));
                    entities.push(json!({"name": f.name, "type": field_type,
                        "attributes": {"column": null}}));
                }
            }
        }
        let unmatched: Vec<&String> = columns
            .iter()
            .map(|(c, _)| c)
            .filter(|c| !used.contains(*c))
            .collect();
        let confidence = if matched.is_empty() {
            0.0
        } else {
            round(
                matched
                    .iter()
                    .filter_map(|m| m["confidence"].as_f64())
                    .sum::<f64>()
                    / matched.len() as f64,
            )
        };
        let coverage = round(matched.len() as f64 / fields.len() as f64);
        let payload = json!({
            "interpretation_type": "guided",
            "parsed_file_id": parsed.artifact_id,
            "guide_id": p.guide_id,
            "entities": entities,
            "relationships": relationships,
            "matched_entities": matched,
            "unmatched_data": unmatched,
            "missing_fields": missing,
            "confidence_score": confidence,
            "coverage_score": coverage,
            "matching_threshold": p.threshold,
            "rule": "same name 1; one name containing the other 0.8; shared words 0.8 × their Jaccard share; a type that cannot hold the column's values costs a third",
        });
        let mut artifacts = Map::new();
        artifacts.insert("interpretation".into(), artifact("interpretation", payload));
        Ok(StepOutput {
            output: json!({"parsed_file_id": parsed.artifact_id, "matched": matched.len()}),
            artifacts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_score_by_the_stated_rule() {
        assert_eq!(name_score("Customer ID", "customer_id"), (1.0, "same name"));
        assert_eq!(
            name_score("amount", "total_amount"),
            (0.8, "one name contains the other")
        );
        // {signup, date} against {date, joined}: 1 shared of 3.
        let (s, _) = name_score("signupDate", "date_joined");
        assert!((s - 0.8 / 3.0).abs() < 1e-9);
        assert_eq!(name_score("region", "amount").0, 0.0);
        assert!(types_agree("integer", "float"));
        assert!(!types_agree("date", "integer"));
        assert!(types_agree("date", "string"));
    }
}
