//! Phase 2, `semantic_interpretation`: what each source's columns mean (semantic types,
//! candidate keys), registered as an `interpretation` per source.

use async_trait::async_trait;
use serde_json::{json, Value};

use super::{earlier, ids_in, register, remove_all, undo_on_error};
use crate::runtime::engine::handler::{SagaStep, StepContext, StepError, StepOutput};
use crate::runtime::realms::content::common::{derived_id, find};
use crate::runtime::realms::insights::interpret::interpretation;

pub struct SemanticInterpretation;

#[async_trait]
impl SagaStep for SemanticInterpretation {
    fn name(&self) -> &str {
        "semantic_interpretation"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let mut made = Vec::new();
        let result = interpret_all(ctx, &mut made).await;
        let output = undo_on_error(ctx, &made, result).await?;
        Ok(StepOutput {
            output,
            ..Default::default()
        })
    }

    async fn compensate(&self, ctx: &StepContext, output: &Value) -> Result<(), StepError> {
        remove_all(ctx, &ids_in(output, "interpretations", "interpretation_id")).await
    }
}

async fn interpret_all(ctx: &StepContext, made: &mut Vec<String>) -> Result<Value, StepError> {
    let sources = ids_in(&earlier(ctx, "data_quality"), "sources", "parsed_file_id");
    let mut out = Vec::new();
    for (i, parsed_id) in sources.iter().enumerate() {
        let parsed = find(ctx, parsed_id, "parsed_file").await?;
        let mut found = interpretation(ctx, &parsed).await?;
        let id = derived_id(&ctx.execution_id, &format!("mash:interpretation:{i}"));
        made.push(id.clone());
        found["interpretation_id"] = json!(id);
        register(
            ctx,
            &id,
            "interpretation",
            vec![parsed_id.clone()],
            found.clone(),
            "active",
        )
        .await?;
        out.push(json!({
            "parsed_file_id": parsed_id,
            "interpretation_id": id,
            "columns": found["columns"],
        }));
    }
    Ok(json!({ "interpretations": out }))
}
