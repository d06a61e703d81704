//! Permits (the web frontend's Insights page, "Permit processing"):
//! - `process_permit {permit_file_id, target_systems?: [{system, target_file_id}],
//!   processing_options?: {validation_level?: strict|moderate|lenient}}` reads an uploaded
//!   permit (PDF, Word, text) by rules (`extract.rs`) into a permit-structured object (a `pso`
//!   artifact, a child of the file), validates it, and maps its obligations to each target
//!   system's parsed file (a `permit_mapping` artifact each) → `permit_processing` and `pso`;
//! - `get_pso {pso_id}` → `pso`.
//!
//! **Validation.** `lenient`: the permit must have obligations. `moderate` (the default) also
//! wants its id, issuing authority and effective date. `strict` also wants a deadline or a
//! frequency on every obligation. `valid` is true when no issue is found.
//!
//! **Mapping.** An obligation with a metric maps to the target's columns whose words (split
//! on anything not a letter or digit, lower case) include the metric's last word ("VOC
//! emissions" → a column `voc_emissions_tons`); the first such column is taken.

pub mod extract;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::runtime::realms::content::common::{
    derived_id, file_name, find, find_visible, internal, parsed_of, small_file_bytes,
};
use crate::runtime::realms::content::document_text::document_lines;
use crate::runtime::realms::derived::{register_derived, Derived};
use crate::runtime::realms::insights::over_parsed::column_names;
use extract::{extract, Permit};

/// A permit document read at most.
pub const MAX_PERMIT_BYTES: usize = 16 * 1024 * 1024;
/// Target systems one request may name.
const MAX_TARGETS: usize = 20;

pub struct ProcessPermit;
pub struct GetPso;

pub struct PermitParams {
    permit_file_id: String,
    targets: Vec<(String, String)>,
    level: String,
}

impl IntentParams for PermitParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let permit_file_id = f.required_str("permit_file_id");
        let mut targets = Vec::new();
        match f.get("target_systems") {
            None => {}
            Some(Value::Array(items)) if items.len() <= MAX_TARGETS => {
                for (i, t) in items.iter().enumerate() {
                    match (t["system"].as_str(), t["target_file_id"].as_str()) {
                        (Some(s), Some(id)) if !s.is_empty() && !id.is_empty() => {
                            targets.push((s.to_string(), id.to_string()))
                        }
                        _ => f.error(
                            &format!("target_systems[{i}]"),
                            "needs a system and a target_file_id",
                        ),
                    }
                }
            }
            Some(_) => f.error(
                "target_systems",
                format!("must be a list of at most {MAX_TARGETS} {{system, target_file_id}}"),
            ),
        }
        let level = match f
            .get("processing_options")
            .and_then(|o| o.get("validation_level"))
        {
            None => "moderate".to_string(),
            Some(Value::String(l)) if ["strict", "moderate", "lenient"].contains(&l.as_str()) => {
                l.clone()
            }
            Some(_) => {
                f.error(
                    "processing_options.validation_level",
                    "must be strict, moderate or lenient",
                );
                String::new()
            }
        };
        f.finish(|| {
            Some(PermitParams {
                permit_file_id: permit_file_id?,
                targets,
                level,
            })
        })
    }
}

impl TypedIntent for ProcessPermit {
    type Params = PermitParams;

    fn intent_type(&self) -> &str {
        "process_permit"
    }

    fn description(&self) -> &str {
        "Read a permit's obligations (actions, deadlines, limits, citations) and map them to your systems' data."
    }

    fn steps(&self, params: Arc<PermitParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Process(params))]
    }
}

/// The validation issues of a permit at a level.
pub fn validate(p: &Permit, level: &str) -> Vec<String> {
    let mut issues = Vec::new();
    if level != "lenient" {
        for (missing, what) in [
            (p.permit_id.is_none(), "no permit id found"),
            (p.issuing_authority.is_none(), "no issuing authority found"),
            (p.effective_start.is_none(), "no effective date found"),
        ] {
            if missing {
                issues.push(what.to_string());
            }
        }
    }
    if p.obligations.is_empty() {
        issues.push("no obligations found (no sentence with shall, must or required to)".into());
    }
    if level == "strict" {
        for o in &p.obligations {
            if o.deadline.is_none() && o.frequency.is_none() {
                issues.push(format!("{} has no deadline or frequency", o.obligation_id));
            }
        }
    }
    issues
}

/// The column a metric maps to: the first whose words include the metric's last word.
pub fn column_for<'a>(metric: &str, columns: &'a [String]) -> Option<&'a String> {
    let head = metric
        .split(|c: char| !c.is_alphanumeric())
        .rfind(|w| !w.is_empty())?
        .to_lowercase();
    columns.iter().find(|c| {
        c.split(|ch: char| !ch.is_alphanumeric())
            .any(|w| w.to_lowercase() == head)
    })
}

/// The PSO as the web frontend's viewer reads it (every list present).
fn pso(id: &str, file_id: &str, p: &Permit) -> Value {
    let mean = if p.obligations.is_empty() {
        0.0
    } else {
        let sum: f64 = p.obligations.iter().map(|o| o.confidence).sum();
        (sum / p.obligations.len() as f64 * 1000.0).round() / 1000.0
    };
    json!({
        "pso_id": id,
        "permit_id": p.permit_id,
        "permit_type": p.permit_type,
        "jurisdiction": p.jurisdiction,
        "issuing_authority": p.issuing_authority,
        "effective_period": {"start": p.effective_start, "end": p.effective_end},
        "covered_entities": p.covered_entities,
        "obligations": p.obligations,
        "legal_citations": p.legal_citations,
        "source_provenance": {"document_id": file_id, "page_numbers": p.pages,
            "extraction_method": "rules", "confidence": mean,
            "timestamp": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)},
    })
}

struct Process(Arc<PermitParams>);

#[async_trait]
impl SagaStep for Process {
    fn name(&self) -> &str {
        "process"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let params = &self.0;
        let file = find(ctx, &params.permit_file_id, "file").await?;
        let bytes = small_file_bytes(ctx, &file, MAX_PERMIT_BYTES, "permit").await?;
        let name = file_name(&file.semantic_descriptor)
            .unwrap_or(&file.artifact_id)
            .to_string();
        let permit =
            tokio::task::spawn_blocking(move || document_lines(&bytes).map(|l| extract(&l)))
                .await
                .map_err(internal)?
                .map_err(|e| StepError::new(format!("cannot read {name}: {e}")))?;
        let pso_id = derived_id(&ctx.execution_id, "pso");
        let pso = pso(&pso_id, &file.artifact_id, &permit);
        register_derived(
            ctx,
            Derived::new(&pso_id, "pso", vec![file.artifact_id.clone()], pso.clone()),
        )
        .await?;

        let mut mapping_results = Vec::new();
        for (i, (system, target)) in params.targets.iter().enumerate() {
            let parsed = match find_visible(ctx, target).await? {
                None => {
                    mapping_results.push(json!({"system": system, "success": false,
                        "output_file_id": null, "error": format!("file {target} not found")}));
                    continue;
                }
                found => match parsed_of(ctx, found, target).await {
                    Ok(p) => p,
                    Err(e) => {
                        mapping_results.push(json!({"system": system, "success": false,
                            "output_file_id": null, "error": e.to_string()}));
                        continue;
                    }
                },
            };
            let columns = column_names(&parsed);
            let mut mapped = Vec::new();
            let mut unmapped = Vec::new();
            for o in &permit.obligations {
                match o.metric.as_deref().and_then(|m| column_for(m, &columns)) {
                    Some(c) => {
                        mapped.push(json!({"obligation_id": o.obligation_id,
                        "metric": o.metric, "column": c, "threshold": o.threshold, "unit": o.unit}))
                    }
                    None => unmapped.push(json!(o.obligation_id)),
                }
            }
            let mapping_id = derived_id(&ctx.execution_id, &format!("permit_mapping:{i}"));
            let mapping = json!({"mapping_id": mapping_id, "system": system,
                "target_file_id": target, "parsed_file_id": parsed.artifact_id,
                "mappings": mapped, "unmapped_obligations": unmapped});
            register_derived(
                ctx,
                Derived::new(
                    &mapping_id,
                    "permit_mapping",
                    vec![pso_id.clone(), parsed.artifact_id.clone()],
                    mapping,
                ),
            )
            .await?;
            mapping_results.push(json!({"system": system, "success": true,
                "output_file_id": mapping_id, "mapped": mapped.len(), "error": null}));
        }

        let issues = validate(&permit, &params.level);
        let mut by_type: std::collections::BTreeMap<&str, usize> = Default::default();
        for o in &permit.obligations {
            *by_type.entry(o.obligation_type).or_default() += 1;
        }
        let processing = json!({
            "pso_id": pso_id,
            "permit_id": permit.permit_id,
            "permit_type": permit.permit_type,
            "obligations_count": permit.obligations.len(),
            "validation_result": {"valid": issues.is_empty(), "issues": issues,
                "level": params.level},
            "mapping_results": mapping_results,
            "report": {"generated_at": pso["source_provenance"]["timestamp"],
                "obligations_by_type": by_type,
                "average_confidence": pso["source_provenance"]["confidence"],
                "pages": permit.pages},
        });
        let mut artifacts = Map::new();
        artifacts.insert(
            "permit_processing".into(),
            artifact("permit_processing", processing),
        );
        artifacts.insert("pso".into(), artifact("pso", pso));
        Ok(StepOutput {
            output: json!({"pso_id": pso_id}),
            artifacts,
        })
    }
}

pub struct PsoParams(String);

impl IntentParams for PsoParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let id = f.required_str("pso_id");
        f.finish(|| id.map(PsoParams))
    }
}

impl TypedIntent for GetPso {
    type Params = PsoParams;

    fn intent_type(&self) -> &str {
        "get_pso"
    }

    fn description(&self) -> &str {
        "Show a processed permit's structured obligations."
    }

    fn steps(&self, params: Arc<PsoParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Read(params))]
    }
}

struct Read(Arc<PsoParams>);

#[async_trait]
impl SagaStep for Read {
    fn name(&self) -> &str {
        "read"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let found = find(ctx, &(self.0).0, "pso").await?;
        let mut artifacts = Map::new();
        artifacts.insert(
            "pso".into(),
            artifact("pso", found.semantic_descriptor.clone()),
        );
        Ok(StepOutput {
            output: json!({}),
            artifacts,
        })
    }
}
