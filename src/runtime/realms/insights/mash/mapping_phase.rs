//! Phase 3, `semantic_mapping`: the canonical model — the join key of each source and the
//! unified columns with the source columns that feed them — registered as a `canonical_model`.
//! Fails when the sources share no key (name them with `options.join_keys`).

use async_trait::async_trait;
use serde_json::{json, Value};

use super::key_pairs::key_pairs;
use super::model::{choose_keys, unify, SourceShape, KEY_RULE};
use std::sync::Arc;

use super::{earlier, ids_in, register, remove_all, undo_on_error, MashOptions, MashParams};
use crate::runtime::engine::handler::{SagaStep, StepContext, StepError, StepOutput};
use crate::runtime::realms::content::common::{derived_id, find};
use crate::runtime::realms::insights::over_parsed::descriptor;

pub struct SemanticMapping(pub Arc<MashParams>);

#[async_trait]
impl SagaStep for SemanticMapping {
    fn name(&self) -> &str {
        "semantic_mapping"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let mut made = Vec::new();
        let result = map(ctx, &self.0.options, &mut made).await;
        let output = undo_on_error(ctx, &made, result).await?;
        Ok(StepOutput {
            output,
            ..Default::default()
        })
    }

    async fn compensate(&self, ctx: &StepContext, output: &Value) -> Result<(), StepError> {
        match output["canonical_model_id"].as_str() {
            Some(id) => remove_all(ctx, &[id.to_string()]).await,
            None => Ok(()),
        }
    }
}

async fn map(
    ctx: &StepContext,
    options: &MashOptions,
    made: &mut Vec<String>,
) -> Result<Value, StepError> {
    let quality = earlier(ctx, "data_quality");
    let interpretations = earlier(ctx, "semantic_interpretation");
    let sources_out = quality["sources"].as_array().cloned().unwrap_or_default();
    let parsed_ids = ids_in(&quality, "sources", "parsed_file_id");
    let mut shapes = Vec::new();
    for (i, s) in sources_out.iter().enumerate() {
        let parsed = find(ctx, &parsed_ids[i], "parsed_file").await?;
        let meaning = &interpretations["interpretations"][i]["columns"];
        let mut shape = SourceShape {
            label: s["label"].as_str().unwrap_or("source").to_string(),
            ..Default::default()
        };
        for c in descriptor(&parsed).columns {
            let name = c.name;
            if let Some(t) = meaning[&name]["semantic_type"].as_str() {
                shape.semantic.insert(name.clone(), t.to_string());
            }
            if meaning[&name]["unique"] == json!(true) {
                shape.unique.insert(name.clone());
            }
            shape
                .columns
                .push((name, c.column_type.as_str().to_string()));
        }
        shapes.push(shape);
    }
    let (pairs, compared) =
        key_pairs(ctx, &parsed_ids, &shapes, options.join_keys.as_deref()).await?;
    let (keys, evidence) =
        choose_keys(&shapes, &pairs, options.join_keys.as_deref()).map_err(StepError::new)?;
    let (columns, conflicts) = unify(&shapes, &keys);
    let model = json!({
        "join": {
            "kind": options.join,
            "key": columns[0].name,
            "keys": keys.iter().enumerate().map(|(i, k)| json!({"source": shapes[i].label,
                "source_index": i, "column": k})).collect::<Vec<_>>(),
            "chosen_by": if options.join_keys.is_some() { "options.join_keys" } else { "value overlap and names" },
            "evidence": evidence,
            "pairs_compared": compared,
            "rule": KEY_RULE,
        },
        "sources": sources_out.iter().enumerate().map(|(i, s)| json!({"source_index": i,
            "label": s["label"], "parsed_file_id": s["parsed_file_id"], "file_id": s["file_id"],
            "filename": s["filename"]})).collect::<Vec<_>>(),
        "columns": columns.iter().map(|c| c.to_json(&shapes)).collect::<Vec<_>>(),
        "conflicts": conflicts,
    });
    let id = derived_id(&ctx.execution_id, "mash:canonical_model");
    made.push(id.clone());
    let mut descriptor = model.clone();
    descriptor["canonical_model_id"] = json!(id);
    register(
        ctx,
        &id,
        "canonical_model",
        parsed_ids,
        descriptor,
        "active",
    )
    .await?;
    Ok(json!({ "canonical_model_id": id, "model": model }))
}
