//! `data_mash.create {content_refs, options?}` → artifact `mash`: combines several files into
//! one canonical dataset, as a saga of four phases, each a step:
//!
//! 1. `data_quality` — each source resolved to a parsed file (parsed now when it has none) and
//!    assessed; a `quality_report` artifact per source.
//! 2. `semantic_interpretation` — an `interpretation` artifact per source.
//! 3. `semantic_mapping` — the join key and the unified columns (which source column feeds each,
//!    and the conflicts found): a `canonical_model` artifact.
//! 4. `registered` — the joined records stored as a new `parsed_file` whose parents are all the
//!    sources, and the `mash` artifact (its id is the `mash_id`).
//!
//! A phase that fails removes what it made itself; the saga then compensates the phases before
//! it, so a failed mash leaves no artifact behind.

mod cap;
mod combine;
mod interpretation_phase;
mod key_pairs;
mod mapping_phase;
mod model;
mod options;
mod quality_phase;
mod register_phase;
pub mod report;
mod writer;

use std::sync::Arc;

use serde_json::Value;

pub use options::{JoinKind, MashOptions};

use crate::runtime::engine::handler::{FieldErrors, SagaStep, StepContext, StepError};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::runtime::realms::content::common::{derived_id, internal};
use crate::store::artifacts::ArtifactRow;
use crate::store::time::now_micros;

/// Sources one mash may combine.
pub const MAX_SOURCES: usize = 10;
/// Columns of all the sources together, at most (the unified columns are no more).
pub const MAX_COLUMNS: usize = 1_000;

/// The phases, in order (also the saga's step names).
pub const PHASES: [&str; 4] = [
    "data_quality",
    "semantic_interpretation",
    "semantic_mapping",
    "registered",
];

/// The id of the `mash` artifact an execution of `data_mash.create` registers.
pub fn mash_id(execution_id: &str) -> String {
    derived_id(execution_id, "mash")
}

pub struct DataMash;

/// `data_mash.create`'s parameters.
pub struct MashParams {
    /// The sources, as given: 2 to [`MAX_SOURCES`] distinct file or parsed file ids.
    pub content_refs: Vec<String>,
    pub options: MashOptions,
}

impl IntentParams for MashParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let refs: Option<Vec<String>> = f
            .get("content_refs")
            .and_then(Value::as_array)
            .filter(|refs| (2..=MAX_SOURCES).contains(&refs.len()))
            .and_then(|refs| {
                refs.iter()
                    .map(|v| v.as_str().filter(|s| !s.is_empty()).map(str::to_string))
                    .collect()
            });
        match &refs {
            Some(refs) => {
                let mut seen: Vec<&String> = refs.iter().collect();
                seen.sort_unstable();
                seen.dedup();
                if seen.len() != refs.len() {
                    f.error("content_refs", "names the same content twice");
                }
            }
            None => f.error(
                "content_refs",
                format!("must be a list of 2 to {MAX_SOURCES} file or parsed file ids"),
            ),
        }
        let options = MashOptions::decode(&mut f, refs.as_ref().map_or(0, Vec::len));
        f.finish(|| {
            Some(MashParams {
                content_refs: refs?,
                options,
            })
        })
    }
}

impl TypedIntent for DataMash {
    type Params = MashParams;

    fn intent_type(&self) -> &str {
        "data_mash.create"
    }

    fn description(&self) -> &str {
        "Combine several files into one dataset: check quality, read meaning, map columns, join on a shared key."
    }

    fn produces(&self, execution_id: &str) -> Vec<(&'static str, String)> {
        vec![("mash_id", mash_id(execution_id))]
    }

    fn steps(&self, params: Arc<MashParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![
            Arc::new(quality_phase::DataQuality(params.clone())),
            Arc::new(interpretation_phase::SemanticInterpretation),
            Arc::new(mapping_phase::SemanticMapping(params.clone())),
            Arc::new(register_phase::Registered(params)),
        ]
    }
}

/// Registers an artifact made by a phase (idempotent on its derived id, so a re-run phase
/// finds it already there).
async fn register(
    ctx: &StepContext,
    id: &str,
    artifact_type: &str,
    parents: Vec<String>,
    descriptor: Value,
    state: &str,
) -> Result<(), StepError> {
    let now = now_micros();
    ctx.services
        .store
        .insert_artifact(&ArtifactRow {
            artifact_id: id.to_string(),
            artifact_type: artifact_type.to_string(),
            tenant_id: ctx.tenant_id.clone(),
            session_id: ctx.session_id.clone(),
            lifecycle_state: state.to_string(),
            semantic_descriptor: descriptor,
            parent_artifacts: parents,
            produced_by_intent: ctx.intent_type.clone(),
            produced_by_execution: ctx.execution_id.clone(),
            blob_sha256: None,
            created_at: now,
            updated_at: now,
        })
        .await
        .map_err(internal)
}

/// Removes artifacts a phase made (and what was derived from them).
async fn remove_all(ctx: &StepContext, ids: &[String]) -> Result<(), StepError> {
    for id in ids {
        ctx.services
            .store
            .delete_artifact_tree(id)
            .await
            .map_err(internal)?;
    }
    Ok(())
}

/// A phase's result: when it failed, what it had made before failing is removed first.
async fn undo_on_error<T>(
    ctx: &StepContext,
    made: &[String],
    result: Result<T, StepError>,
) -> Result<T, StepError> {
    if result.is_err() {
        if let Err(e) = remove_all(ctx, made).await {
            tracing::warn!(error = %e, "a failed mash phase could not remove its artifacts");
        }
    }
    result
}

/// The output of an earlier phase (restored from the store after a restart).
fn earlier(ctx: &StepContext, phase: &str) -> Value {
    ctx.outputs.get(phase).cloned().unwrap_or(Value::Null)
}

/// The strings in `output[list][*][field]`.
fn ids_in(output: &Value, list: &str, field: &str) -> Vec<String> {
    output[list]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s[field].as_str().map(str::to_string))
        .collect()
}
