//! Intent handlers: an open registry of realm handlers keyed by `intent_type`. Each handler
//! describes its work as a saga — named steps, each with an optional compensation.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use crate::store::blobs::BlobStore;
use crate::store::ArtifactStore;

/// What realm steps may use: the artifact store, blob storage and the content limits.
#[derive(Clone)]
pub struct Services {
    pub store: ArtifactStore,
    pub blobs: Arc<dyn BlobStore>,
    pub max_upload_bytes: u64,
    /// What a session and a tenant may keep stored.
    pub quotas: crate::store::usage::StorageQuotas,
    /// The optional language model (absent unless `SYMPHAINY_LLM_*` is set).
    pub language: super::language::Language,
    /// The engine's answers about the step's own session (its record, executions,
    /// conversations, agents).
    pub desk: super::desk::Desk,
}

/// What a step sees: who it runs for, the intent's parameters and the outputs of the steps
/// completed before it (by step name), restored from the store after a restart.
#[derive(Clone)]
pub struct StepContext {
    pub execution_id: String,
    pub session_id: String,
    pub tenant_id: Option<String>,
    pub intent_type: String,
    pub parameters: Value,
    pub metadata: Value,
    pub outputs: BTreeMap<String, Value>,
    /// 1 on the first run of this step, more when it is re-run after a crash.
    pub attempt: i64,
    /// Where a long step reports how far it is (throttled `EXECUTION_PROGRESS` events).
    pub progress: super::progress::Progress,
    pub services: Services,
}

/// A completed step's result: its output (stored, handed to later steps and to compensation)
/// and the artifacts it adds to the execution, by key.
#[derive(Debug, Clone, Default)]
pub struct StepOutput {
    pub output: Value,
    pub artifacts: Map<String, Value>,
}

/// A step failed; the text is shown to the client as the execution's error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct StepError(pub String);

impl StepError {
    pub fn new(msg: impl Into<String>) -> Self {
        StepError(msg.into())
    }
}

#[async_trait]
pub trait SagaStep: Send + Sync {
    fn name(&self) -> &str;
    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError>;
    /// Whether a cancel may stop this step while it runs (its future is dropped; what it wrote
    /// so far is swept up by compensation and the janitor). A step whose effect cannot be
    /// undone, such as a deletion, answers `false`: a cancel that arrives while it runs is
    /// refused (409 `not_cancellable`) and the execution completes, so its status always
    /// says what happened.
    fn interruptible(&self) -> bool {
        true
    }
    /// Undoes this step after a later step failed. `output` is what `run` returned.
    async fn compensate(&self, _ctx: &StepContext, _output: &Value) -> Result<(), StepError> {
        Ok(())
    }
}

pub type FieldErrors = BTreeMap<String, String>;

pub trait IntentHandler: Send + Sync {
    fn intent_type(&self) -> &str;
    /// One sentence for people (the Guide agent lists the registered intents with it).
    fn description(&self) -> &str;
    /// Checks parameters at submit time, before anything is stored (422 with `fields`).
    fn validate(&self, parameters: &Value) -> Result<(), FieldErrors>;
    /// The saga's steps, in order. Must be the same list for the same parameters every time:
    /// a resumed execution skips the steps recorded as completed by index.
    fn steps(&self, parameters: &Value) -> Vec<Arc<dyn SagaStep>>;
    /// Ids of what an execution of this intent will produce, known at acceptance (derived from
    /// its execution id, so a repeat or a resumed run names the same ones): `(name, id)`.
    /// They reach the client in the acceptance's `produces`.
    fn produces(&self, _execution_id: &str) -> Vec<(&'static str, String)> {
        Vec::new()
    }
    /// Whether the intent consumes an uploaded blob (an `upload_id` parameter): only such an
    /// intent may be submitted with an upload.
    fn takes_upload(&self) -> bool {
        false
    }
    /// `Some(reason)` when the intent must wait for a human approval before it runs. Like
    /// [`IntentHandler::steps`], the same answer for the same parameters every time: an intent
    /// that needs none is stored already started (see `saga::opening`).
    fn approval_reason(&self, _parameters: &Value) -> Option<String> {
        None
    }
    /// The steps and the approval reason together, as an execution's run asks for them (a
    /// handler that decodes its parameters does it once for both).
    fn plan(&self, parameters: &Value) -> (Vec<Arc<dyn SagaStep>>, Option<String>) {
        (self.steps(parameters), self.approval_reason(parameters))
    }
}

/// The artifact shape of the contract: `{result_type, semantic_payload, renderings}`.
pub fn artifact(result_type: &str, semantic_payload: Value) -> Value {
    json!({ "result_type": result_type, "semantic_payload": semantic_payload, "renderings": {} })
}
