//! `extract_embeddings {parsed_file_id}` and `create_deterministic_embeddings
//! {parsed_artifact_id}` → artifact `embeddings` (registered, a child of the parsed file):
//! deterministic embeddings of a parsed file, computed from its data with no model to
//! download:
//! - a **schema fingerprint**: SHA-256 of its columns' `name:type` lines, in order;
//! - per column, a **value-pattern signature**: the shares of its values' shapes (letters as
//!   `A`/`a`, digits as `9`, runs shortened to `a+`, `9+`; `2026-01-05` is `9+-9+-9+`), the
//!   most common first;
//! - **hashed feature vectors**: the file's (64 dimensions) and each column's (32), from its
//!   name's words, its type and its patterns, each feature hashed (SHA-256) to a dimension
//!   and a sign, weighted, and the vector scaled to length 1.
//!   Files of the same shape get the same fingerprint and close vectors. The first
//!   [`MAX_ROWS`] records are read.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::over_parsed::parsed_of;
use super::over_parsed::{analyzed_columns, first_records};
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::runtime::realms::content::common::{derived_id, internal};
use crate::store::artifacts::ArtifactRow;
use crate::store::time::now_micros;

/// Records read at most.
pub const MAX_ROWS: u64 = 100_000;
/// Distinct shapes tracked per column; rarer ones are counted as `other`.
const MAX_SHAPES: usize = 200;
/// Shapes listed per column.
const TOP_SHAPES: usize = 5;
const FILE_DIMS: usize = 64;
const COLUMN_DIMS: usize = 32;

pub struct Embeddings {
    intent: &'static str,
    /// The parameter naming the parsed file.
    field: &'static str,
}

impl Embeddings {
    pub fn extract() -> Self {
        Embeddings {
            intent: "extract_embeddings",
            field: "parsed_file_id",
        }
    }

    pub fn deterministic() -> Self {
        Embeddings {
            intent: "create_deterministic_embeddings",
            field: "parsed_artifact_id",
        }
    }
}

pub struct EmbeddingParams {
    pub parsed: String,
}

impl IntentParams for EmbeddingParams {
    /// `parsed_file_id` or `parsed_artifact_id` (the web frontend uses both), or `file_id`.
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let name = ["parsed_file_id", "parsed_artifact_id", "file_id"]
            .into_iter()
            .find(|k| p.get(*k).is_some())
            .unwrap_or("parsed_file_id");
        let parsed = f.required_str(name);
        f.finish(|| Some(EmbeddingParams { parsed: parsed? }))
    }
}

impl TypedIntent for Embeddings {
    type Params = EmbeddingParams;

    fn intent_type(&self) -> &str {
        self.intent
    }

    fn description(&self) -> &str {
        match self.field {
            "parsed_file_id" => {
                "Describe a parsed file as vectors and fingerprints, to find files like it."
            }
            _ => "The same deterministic embeddings, asked for by the parsed artifact's id.",
        }
    }

    fn steps(&self, params: Arc<EmbeddingParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Embed(params))]
    }
}

/// A value's shape: letters `A`/`a`, digits `9`, spaces ` `, anything else itself; a run of
/// two or more of one class is written once with `+`.
pub fn shape(value: &str) -> String {
    let class = |c: char| {
        if c.is_uppercase() {
            'A'
        } else if c.is_alphabetic() {
            'a'
        } else if c.is_ascii_digit() {
            '9'
        } else if c.is_whitespace() {
            ' '
        } else {
            c
        }
    };
    let mut out = String::new();
    let mut last: Option<char> = None;
    let mut run = 0;
    for c in value.chars().take(64).map(class) {
        if Some(c) == last {
            run += 1;
            if run == 2 && matches!(c, 'A' | 'a' | '9') {
                out.push('+');
            }
            continue;
        }
        out.push(c);
        last = Some(c);
        run = 1;
    }
    out
}

/// Adds `weight` at the feature's hashed dimension, with its hashed sign.
fn hashed(vector: &mut [f64], feature: &str, weight: f64) {
    let h = Sha256::digest(feature.as_bytes());
    let i = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize % vector.len();
    let sign = if h[4] & 1 == 0 { 1.0 } else { -1.0 };
    vector[i] += sign * weight;
}

fn unit(mut v: Vec<f64>) -> Vec<f64> {
    let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if norm > 0.0 {
        for x in &mut v {
            *x = (*x / norm * 10_000.0).round() / 10_000.0;
        }
    }
    v
}

fn name_words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

struct Embed(Arc<EmbeddingParams>);

#[async_trait]
impl SagaStep for Embed {
    fn name(&self) -> &str {
        "embed"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let parsed = parsed_of(ctx, &self.0.parsed).await?;
        let (columns, _) = analyzed_columns(&parsed);
        let mut shapes: Vec<HashMap<String, u64>> = vec![HashMap::new(); columns.len()];
        let mut seen = vec![0u64; columns.len()];
        let read = first_records(ctx, &parsed.artifact_id, MAX_ROWS, |record| {
            for (i, (name, _)) in columns.iter().enumerate() {
                let text = match record.get(name) {
                    None | Some(Value::Null) => continue,
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                };
                seen[i] += 1;
                let s = shape(&text);
                let counts = &mut shapes[i];
                if counts.contains_key(&s) || counts.len() < MAX_SHAPES {
                    *counts.entry(s).or_default() += 1;
                } else {
                    *counts.entry("other".into()).or_default() += 1;
                }
            }
        })
        .await?;
        let schema: String = columns.iter().map(|(n, t)| format!("{n}:{t}\n")).collect();
        let fingerprint = hex::encode(Sha256::digest(schema.as_bytes()));
        let mut file_vector = vec![0.0; FILE_DIMS];
        let mut out_columns = Vec::new();
        for (i, (name, column_type)) in columns.iter().enumerate() {
            let mut top: Vec<(&String, &u64)> = shapes[i].iter().collect();
            top.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            top.truncate(TOP_SHAPES);
            let total = seen[i].max(1) as f64;
            let signature: Vec<Value> = top
                .iter()
                .map(|(s, n)| json!({"pattern": s, "share": ((**n as f64 / total) * 1000.0).round() / 1000.0}))
                .collect();
            let mut v = vec![0.0; COLUMN_DIMS];
            for w in name_words(name) {
                hashed(&mut v, &format!("word:{w}"), 1.0);
                hashed(&mut file_vector, &format!("word:{w}"), 1.0);
            }
            hashed(&mut v, &format!("type:{column_type}"), 1.0);
            hashed(&mut file_vector, &format!("type:{column_type}"), 0.5);
            for (s, n) in &top {
                let share = **n as f64 / total;
                hashed(&mut v, &format!("shape:{s}"), share);
                hashed(&mut file_vector, &format!("shape:{s}"), share * 0.5);
            }
            out_columns.push(json!({"name": name, "type": column_type,
                "values_seen": seen[i], "pattern_signature": signature, "vector": unit(v)}));
        }
        let id = derived_id(&ctx.execution_id, "embeddings");
        let payload = json!({
            "embeddings_id": id,
            "embedding_reference": format!("embedding:{id}"),
            "parsed_file_id": parsed.artifact_id,
            "embedding_model": "symphainy-deterministic-1",
            "schema_fingerprint": fingerprint,
            "dimensions": {"file": FILE_DIMS, "column": COLUMN_DIMS},
            "vector": unit(file_vector),
            "columns": out_columns,
            "records_read": read,
            "max_records": MAX_ROWS,
            "method": "feature hashing (SHA-256) of column-name words, types and value shapes; no model",
        });
        let now = now_micros();
        let row = ArtifactRow {
            artifact_id: id.clone(),
            artifact_type: "embedding".into(),
            tenant_id: ctx.tenant_id.clone(),
            session_id: ctx.session_id.clone(),
            lifecycle_state: "active".into(),
            semantic_descriptor: payload.clone(),
            parent_artifacts: vec![parsed.artifact_id.clone()],
            produced_by_intent: ctx.intent_type.clone(),
            produced_by_execution: ctx.execution_id.clone(),
            blob_sha256: None,
            created_at: now,
            updated_at: now,
        };
        let store = &ctx.services.store;
        // A re-run after a crash finds its own artifact: replaced, not doubled.
        if store.artifact(&id).await.map_err(internal)?.is_some() {
            store.delete_artifact_tree(&id).await.map_err(internal)?;
        }
        store.insert_artifact(&row).await.map_err(internal)?;
        let mut artifacts = Map::new();
        artifacts.insert("embeddings".into(), artifact("embeddings", payload));
        Ok(StepOutput {
            output: json!({"embeddings_id": id}),
            artifacts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_hashed_vectors_are_stable() {
        assert_eq!(shape("2026-01-05"), "9+-9+-9+");
        assert_eq!(shape("Ada Lovelace"), "Aa+ Aa+");
        assert_eq!(shape("north"), "a+");
        assert_eq!(shape("A1"), "A9");
        let mut v = vec![0.0; 8];
        hashed(&mut v, "word:amount", 1.0);
        hashed(&mut v, "word:amount", 1.0);
        // One feature twice: one dimension holds ±2, the rest 0; as a unit vector, ±1.
        let u = unit(v);
        assert_eq!(u.iter().filter(|x| **x != 0.0).count(), 1);
        assert_eq!(u.iter().map(|x| x.abs()).sum::<f64>(), 1.0);
    }
}
