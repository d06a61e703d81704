//! What the insights intents share: an intent over one parsed file (`parsed_file_id`), the
//! check that the parse is finished, and a walk over its stored records a page at a time —
//! at most `PAGE` records and about `MAX_PAGE_CELLS` cells, so a wide file reads fewer records
//! per page instead of more memory.

use std::sync::Arc;

use serde_json::Value;

use crate::runtime::engine::handler::{FieldErrors, SagaStep, StepContext, StepError};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::runtime::realms::content::common::{find, internal};
use crate::runtime::realms::content::parsed_file::ParsedFileDescriptor;
use crate::store::artifacts::ArtifactRow;

/// Records read per page, at most.
pub const PAGE: usize = 1000;
/// Cells (records × columns) read per page, at most (a record wider than this alone is read
/// alone).
pub const MAX_PAGE_CELLS: usize = 250_000;

/// Records per page for records of `columns` columns.
pub fn page_size(columns: usize) -> usize {
    (MAX_PAGE_CELLS / columns.max(1)).clamp(1, PAGE)
}

/// The parameters of an intent over one parsed file.
pub struct ParsedFileParams {
    pub parsed_file_id: String,
}

impl IntentParams for ParsedFileParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let parsed_file_id = f.required_str("parsed_file_id");
        f.finish(|| {
            Some(ParsedFileParams {
                parsed_file_id: parsed_file_id?,
            })
        })
    }
}

/// A one-step intent whose only parameter is `parsed_file_id`.
pub struct OverParsedFile {
    pub intent: &'static str,
    pub description: &'static str,
    /// Its one step, for the given parameters.
    pub step: fn(Arc<ParsedFileParams>) -> Arc<dyn SagaStep>,
}

impl TypedIntent for OverParsedFile {
    type Params = ParsedFileParams;

    fn intent_type(&self) -> &str {
        self.intent
    }

    fn description(&self) -> &str {
        self.description
    }

    fn steps(&self, params: Arc<ParsedFileParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![(self.step)(params)]
    }
}

/// The step's parsed file: visible to the execution and finished parsing.
pub async fn ready_parsed(
    ctx: &StepContext,
    params: &ParsedFileParams,
) -> Result<ArtifactRow, StepError> {
    ready(find(ctx, &params.parsed_file_id, "parsed_file").await?)
}

/// A parsed file by its id, or a file's latest completed parse by the file's id; ready.
pub async fn parsed_of(ctx: &StepContext, id: &str) -> Result<ArtifactRow, StepError> {
    ready(crate::runtime::realms::content::common::parsed_or_latest(ctx, id).await?)
}

/// The parsed file, once its parse has finished.
fn ready(parsed: ArtifactRow) -> Result<ArtifactRow, StepError> {
    if parsed.lifecycle_state != "active" {
        return Err(StepError::new(format!(
            "parsed file {} is not ready ({})",
            parsed.artifact_id, parsed.lifecycle_state
        )));
    }
    Ok(parsed)
}

/// Columns one analysis of one file looks at, at most: the first ones, in order.
pub const MAX_ANALYZED_COLUMNS: usize = 1_000;

/// The columns an analysis looks at: `(name, type)` of the first `MAX_ANALYZED_COLUMNS`, and
/// how many the file has.
pub fn analyzed_columns(parsed: &ArtifactRow) -> (Vec<(String, String)>, usize) {
    let described = descriptor(parsed).columns;
    let columns = described
        .iter()
        .take(MAX_ANALYZED_COLUMNS)
        .map(|c| (c.name.clone(), c.column_type.as_str().to_string()))
        .collect();
    (columns, described.len())
}

/// A parsed file's descriptor (an empty one if it cannot be read).
pub fn descriptor(parsed: &ArtifactRow) -> ParsedFileDescriptor {
    ParsedFileDescriptor::read(&parsed.semantic_descriptor)
        .unwrap_or_else(|| ParsedFileDescriptor::parsing(&parsed.artifact_id, "").with_no_file())
}

/// What an artifact says of the columns an analysis looked at.
pub fn columns_note(analyzed: usize, total: usize) -> serde_json::Value {
    serde_json::json!({"columns_total": total, "columns_analyzed": analyzed,
        "truncated": analyzed < total, "max_columns": MAX_ANALYZED_COLUMNS})
}

/// A parsed file's column names, in order.
pub fn column_names(parsed: &ArtifactRow) -> Vec<String> {
    descriptor(parsed)
        .columns
        .into_iter()
        .map(|c| c.name)
        .collect()
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

/// Calls `f` on the first `max` stored records, in order; returns how many it saw.
pub async fn first_records(
    ctx: &StepContext,
    parsed_id: &str,
    max: u64,
    mut f: impl FnMut(&Value),
) -> Result<u64, StepError> {
    let columns = match find(ctx, parsed_id, "parsed_file").await {
        Ok(parsed) => column_names(&parsed).len(),
        Err(_) => 0,
    };
    let limit = page_size(columns) as u64;
    let mut seen = 0u64;
    while seen < max {
        let want = (max - seen).min(limit);
        let page = ctx
            .services
            .store
            .parsed_records(parsed_id, seen as i64, want as i64)
            .await
            .map_err(internal)?;
        let n = page.len() as u64;
        page.iter().for_each(&mut f);
        seen += n;
        if n < want {
            break;
        }
    }
    Ok(seen)
}

/// Gives `f` every stored record, in order, until `f` fails; returns how many there were.
pub async fn try_each_record(
    ctx: &StepContext,
    parsed_id: &str,
    mut f: impl FnMut(Value) -> Result<(), StepError>,
) -> Result<u64, StepError> {
    let (columns, total) = match find(ctx, parsed_id, "parsed_file").await {
        Ok(parsed) => (
            column_names(&parsed).len(),
            parsed.semantic_descriptor["record_count"].as_u64(),
        ),
        Err(_) => (0, None),
    };
    let limit = page_size(columns);
    let mut seen = 0u64;
    loop {
        let page = ctx
            .services
            .store
            .parsed_records(parsed_id, seen as i64, limit as i64)
            .await
            .map_err(internal)?;
        let n = page.len();
        for record in page {
            f(record)?;
        }
        seen += n as u64;
        if n > 0 {
            ctx.progress
                .report(
                    seen,
                    total,
                    "records",
                    serde_json::json!({"parsed_file_id": parsed_id}),
                )
                .await;
        }
        if n < limit {
            return Ok(seen);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_records_come_in_smaller_pages() {
        assert_eq!(page_size(0), 1000);
        assert_eq!(page_size(250), 1000);
        assert_eq!(page_size(1000), 250);
        assert_eq!(page_size(300_000), 1);
    }
}
