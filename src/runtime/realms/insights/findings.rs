//! Each insights finding is kept as an artifact too, not only in its execution's result: a
//! child of the parsed files it is about (so the lineage view shows it), typed by the key the
//! web frontend reads (`quality_assessment`, `structured_analysis`, `discovery`,
//! `relationships`, `unstructured_analysis`), its descriptor the view plus the parsed file
//! ids. The outcomes pillar synthesises a session's work from these.

use serde_json::{json, Value};

use crate::runtime::engine::handler::{StepContext, StepError};
use crate::runtime::realms::content::common::derived_id;
use crate::runtime::realms::derived::{register_derived, Derived};

/// Registers the finding `kind` about `parsed` (parsed file ids), from the view the step
/// answers with; `extra` fields (such as the report's score) are added to its descriptor.
pub async fn record(
    ctx: &StepContext,
    kind: &str,
    parsed: &[String],
    view: &Value,
    extra: Value,
) -> Result<(), StepError> {
    let id = derived_id(&ctx.execution_id, kind);
    let mut descriptor = view.clone();
    if let (Some(d), Some(e)) = (descriptor.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            d.insert(k.clone(), v.clone());
        }
    }
    descriptor["parsed_file_ids"] = json!(parsed);
    descriptor["finding_id"] = json!(id);
    register_derived(ctx, Derived::new(&id, kind, parsed.to_vec(), descriptor)).await
}
