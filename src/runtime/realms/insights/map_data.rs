//! `map_data {source_file_id, target_file_id, min_confidence?, include_citations?}` →
//! artifact `mapping`: how a source file's columns map onto a target file's, each target
//! column taking the source column whose name agrees best (the rule of `guided`), when its
//! confidence reaches `min_confidence` (0.5). With the rules: the first source records
//! renamed to the target's columns (`mapped_data`), and how many source values the target
//! column's type could not hold (`quality_validation`).

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::guided::name_score;
use super::over_parsed::parsed_of;
use super::over_parsed::{analyzed_columns, first_records};
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::runtime::realms::content::common::derived_id;
use crate::runtime::realms::content::parsing::{fits, ColumnType};

/// Source records mapped as a sample, and checked for the target's types.
const SAMPLE: usize = 5;
const CHECKED: u64 = 10_000;

pub struct MapData;

pub struct MapParams {
    pub source: String,
    pub target: String,
    pub min_confidence: f64,
    pub citations: bool,
}

impl IntentParams for MapParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let source = f.required_str("source_file_id");
        let target = f.required_str("target_file_id");
        let min_confidence = match p.get("min_confidence") {
            None | Some(Value::Null) => 0.5,
            Some(v) => match v.as_f64().filter(|c| (0.0..=1.0).contains(c)) {
                Some(c) => c,
                None => {
                    f.error("min_confidence", "must be a number from 0 to 1");
                    0.5
                }
            },
        };
        let citations = p
            .get("include_citations")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        f.finish(|| {
            Some(MapParams {
                source: source?,
                target: target?,
                min_confidence,
                citations,
            })
        })
    }
}

impl TypedIntent for MapData {
    type Params = MapParams;

    fn intent_type(&self) -> &str {
        "map_data"
    }

    fn description(&self) -> &str {
        "Map one file's columns onto another's, with sample records in the target's shape."
    }

    fn steps(&self, params: Arc<MapParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(MapColumns(params))]
    }
}

struct MapColumns(Arc<MapParams>);

fn column_type(name: &str) -> Option<ColumnType> {
    serde_json::from_value(Value::String(name.to_string())).ok()
}

#[async_trait]
impl SagaStep for MapColumns {
    fn name(&self) -> &str {
        "map"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let p = &self.0;
        let source = parsed_of(ctx, &p.source).await?;
        let target = parsed_of(ctx, &p.target).await?;
        let (from, _) = analyzed_columns(&source);
        let (to, _) = analyzed_columns(&target);
        let mut used = BTreeSet::new();
        let mut rules = Vec::new();
        for (t, t_type) in &to {
            let best = from
                .iter()
                .filter(|(c, _)| !used.contains(c))
                .map(|(c, c_type)| {
                    let (score, why) = name_score(c, t);
                    (c, c_type, (score * 1000.0).round() / 1000.0, why)
                })
                .filter(|(_, _, s, _)| *s >= p.min_confidence && *s > 0.0)
                .max_by(|a, b| a.2.total_cmp(&b.2).then_with(|| b.0.cmp(a.0)));
            if let Some((c, c_type, score, why)) = best {
                used.insert(c.clone());
                let mut rule = json!({"source_field": c, "target_field": t, "confidence": score,
                    "source_type": c_type, "target_type": t_type});
                if p.citations {
                    rule["reason"] = json!(why);
                }
                rules.push(rule);
            }
        }
        // The sample, and the values the target's types could not hold.
        let mut sample = Vec::new();
        let mut broken = vec![0u64; rules.len()];
        let checked = first_records(ctx, &source.artifact_id, CHECKED, |record| {
            let mut out = Map::new();
            for (i, r) in rules.iter().enumerate() {
                let v = record
                    .get(r["source_field"].as_str().unwrap_or_default())
                    .cloned()
                    .unwrap_or(Value::Null);
                if let Some(t) = r["target_type"].as_str().and_then(column_type) {
                    if !v.is_null() && !fits(t, &v) {
                        broken[i] += 1;
                    }
                }
                out.insert(
                    r["target_field"].as_str().unwrap_or_default().to_string(),
                    v,
                );
            }
            if sample.len() < SAMPLE {
                sample.push(Value::Object(out));
            }
        })
        .await?;
        let validation: Vec<Value> = rules
            .iter()
            .zip(&broken)
            .map(|(r, n)| json!({"target_field": r["target_field"], "values_not_fitting": n}))
            .collect();
        let unmapped: Vec<&String> = to
            .iter()
            .map(|(t, _)| t)
            .filter(|t| !rules.iter().any(|r| r["target_field"] == t.as_str()))
            .collect();
        let id = derived_id(&ctx.execution_id, "mapping");
        let payload = json!({
            "mapping_id": id,
            "source_parsed_file_id": source.artifact_id,
            "target_parsed_file_id": target.artifact_id,
            "mapping_rules": rules,
            "unmapped_target_fields": unmapped,
            "mapped_data": sample,
            "quality_validation": {"records_checked": checked, "fields": validation},
            "min_confidence": p.min_confidence,
        });
        let mut artifacts = Map::new();
        artifacts.insert("mapping".into(), artifact("mapping", payload));
        Ok(StepOutput {
            output: json!({"mapping_id": id}),
            artifacts,
        })
    }
}
