//! What the insights intents share: an intent over one parsed file (`parsed_file_id`), the
//! check that the parse is finished, and a walk over its stored records a page at a time.

use std::sync::Arc;

use serde_json::Value;

use crate::runtime::handler::{FieldErrors, IntentHandler, SagaStep, StepContext, StepError};
use crate::runtime::realms::content::common::{done, find, internal, required_str};
use crate::store::artifacts::ArtifactRow;

const PAGE: i64 = 1000;

/// A one-step intent whose only parameter is `parsed_file_id`.
pub struct OverParsedFile {
    pub intent: &'static str,
    pub description: &'static str,
    pub step: Arc<dyn SagaStep>,
}

impl IntentHandler for OverParsedFile {
    fn intent_type(&self) -> &str {
        self.intent
    }

    fn description(&self) -> &str {
        self.description
    }

    fn validate(&self, p: &Value) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        required_str(p, "parsed_file_id", &mut errors);
        done(errors)
    }

    fn steps(&self, _p: &Value) -> Vec<Arc<dyn SagaStep>> {
        vec![self.step.clone()]
    }
}

/// The step's parsed file: visible to the execution and finished parsing.
pub async fn ready_parsed(ctx: &StepContext) -> Result<ArtifactRow, StepError> {
    let id = ctx.parameters["parsed_file_id"]
        .as_str()
        .unwrap_or_default();
    let parsed = find(ctx, id, "parsed_file").await?;
    if parsed.lifecycle_state != "active" {
        return Err(StepError::new(format!(
            "parsed file {id} is not ready ({})",
            parsed.lifecycle_state
        )));
    }
    Ok(parsed)
}

/// A parsed file's column names, in order.
pub fn column_names(parsed: &ArtifactRow) -> Vec<String> {
    parsed.semantic_descriptor["columns"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Calls `f` on every stored record, in order; returns how many there were.
pub async fn each_record(
    ctx: &StepContext,
    parsed_id: &str,
    mut f: impl FnMut(&Value),
) -> Result<u64, StepError> {
    try_each_record(ctx, parsed_id, |record| {
        f(&record);
        Ok(())
    })
    .await
}

/// Gives `f` every stored record, in order, until `f` fails; returns how many there were.
pub async fn try_each_record(
    ctx: &StepContext,
    parsed_id: &str,
    mut f: impl FnMut(Value) -> Result<(), StepError>,
) -> Result<u64, StepError> {
    let mut seen = 0u64;
    loop {
        let page = ctx
            .services
            .store
            .parsed_records(parsed_id, seen as i64, PAGE)
            .await
            .map_err(internal)?;
        let n = page.len();
        for record in page {
            f(record)?;
        }
        seen += n as u64;
        if (n as i64) < PAGE {
            return Ok(seen);
        }
    }
}
