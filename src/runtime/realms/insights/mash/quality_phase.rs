//! Phase 1, `data_quality`: each content ref becomes a parsed file — its own latest parse, or
//! one made now — and is assessed; each source gets a registered `quality_report`. Below the
//! `min_quality_score` option the mash stops here, and so it does when the sources have more
//! than `MAX_COLUMNS` columns in all.

use async_trait::async_trait;
use serde_json::{json, Value};

use std::sync::Arc;

use super::{ids_in, register, remove_all, undo_on_error, MashParams, MAX_COLUMNS};
use crate::runtime::engine::handler::{SagaStep, StepContext, StepError, StepOutput};
use crate::runtime::realms::content::common::{derived_id, find_visible, internal, visible};
use crate::runtime::realms::content::parse_intent::{by_extension, parse_file};
use crate::runtime::realms::content::parsing::ParseOptions;
use crate::runtime::realms::insights::over_parsed::column_names;
use crate::runtime::realms::insights::quality::quality_report;
use crate::store::artifacts::ArtifactRow;

pub struct DataQuality(pub Arc<MashParams>);

/// A content ref resolved: the file it came from (when there is one) and its parsed file.
struct Source {
    file: Option<ArtifactRow>,
    parsed: ArtifactRow,
    parsed_now: bool,
}

#[async_trait]
impl SagaStep for DataQuality {
    fn name(&self) -> &str {
        "data_quality"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let mut made = Vec::new();
        let result = assess(ctx, &self.0, &mut made).await;
        let output = undo_on_error(ctx, &made, result).await?;
        Ok(StepOutput {
            output,
            ..Default::default()
        })
    }

    async fn compensate(&self, ctx: &StepContext, output: &Value) -> Result<(), StepError> {
        let mut ids = ids_in(output, "sources", "quality_report_id");
        if let Some(sources) = output["sources"].as_array() {
            for s in sources.iter().filter(|s| s["parsed_now"] == json!(true)) {
                if let Some(id) = s["parsed_file_id"].as_str() {
                    ids.push(id.to_string());
                }
            }
        }
        remove_all(ctx, &ids).await
    }
}

async fn assess(
    ctx: &StepContext,
    params: &MashParams,
    made: &mut Vec<String>,
) -> Result<Value, StepError> {
    let options = &params.options;
    let mut sources = Vec::new();
    let mut labels: Vec<String> = Vec::new();
    let refs = &params.content_refs;
    let mut resolved: Vec<Source> = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let source = resolve(ctx, i, r, made).await?;
        if resolved
            .iter()
            .any(|s| s.parsed.artifact_id == source.parsed.artifact_id)
        {
            return Err(StepError::new(format!(
                "content ref {r} is the same parsed file as an earlier one"
            )));
        }
        resolved.push(source);
    }
    check_width(refs, &resolved)?;
    for (i, (r, source)) in refs.iter().zip(resolved).enumerate() {
        let report = quality_report(ctx, &source.parsed).await?;
        let score = report.score;
        let filename = filename(&source).map(str::to_string);
        let label = unique_label(&labels, filename.as_deref().unwrap_or("source"), i);
        labels.push(label.clone());
        if let Some(min) = options.min_quality_score {
            if score < min {
                return Err(StepError::new(format!(
                    "{} scores {score} for quality, below the minimum of {min}",
                    filename.as_deref().unwrap_or(r)
                )));
            }
        }
        let report_id = derived_id(&ctx.execution_id, &format!("mash:quality:{i}"));
        made.push(report_id.clone());
        let mut descriptor = report.to_value();
        descriptor["quality_report_id"] = json!(report_id);
        register(
            ctx,
            &report_id,
            "quality_report",
            vec![source.parsed.artifact_id.clone()],
            descriptor,
            "active",
        )
        .await?;
        sources.push(json!({
            "content_ref": r,
            "label": label,
            "file_id": source.file.as_ref().map(|f| f.artifact_id.clone()),
            "filename": filename,
            "parsed_file_id": source.parsed.artifact_id,
            "parsed_now": source.parsed_now,
            "record_count": report.record_count,
            "quality_report_id": report_id,
            "quality_score": score,
        }));
    }
    Ok(json!({ "sources": sources }))
}

/// Fails when the sources have more than `MAX_COLUMNS` columns in all.
fn check_width(refs: &[String], sources: &[Source]) -> Result<(), StepError> {
    let widths: Vec<(String, usize)> = refs
        .iter()
        .zip(sources)
        .map(|(r, s)| {
            (
                filename(s).unwrap_or(r).to_string(),
                column_names(&s.parsed).len(),
            )
        })
        .collect();
    let total: usize = widths.iter().map(|(_, n)| n).sum();
    if total <= MAX_COLUMNS {
        return Ok(());
    }
    let each: Vec<String> = widths.iter().map(|(s, n)| format!("{s} {n}")).collect();
    Err(StepError::new(format!(
        "a mash combines at most {MAX_COLUMNS} columns in all (got {total}: {})",
        each.join(", ")
    )))
}

/// The source's file name, when it came from a file.
fn filename(source: &Source) -> Option<&str> {
    source
        .file
        .as_ref()
        .and_then(|f| f.semantic_descriptor["filename"].as_str())
}

/// A short name for a source: its file name without the extension, made unique.
fn unique_label(taken: &[String], filename: &str, i: usize) -> String {
    let stem = filename
        .rsplit_once('.')
        .map_or(filename, |(stem, _)| stem)
        .trim();
    let stem = if stem.is_empty() { "source" } else { stem };
    if taken.iter().any(|t| t == stem) {
        format!("{stem}_{}", i + 1)
    } else {
        stem.to_string()
    }
}

/// A file (its latest parse, else parsed now) or an active parsed file.
async fn resolve(
    ctx: &StepContext,
    i: usize,
    r: &str,
    made: &mut Vec<String>,
) -> Result<Source, StepError> {
    let store = &ctx.services.store;
    let not_found = || StepError::new(format!("content ref {r} not found"));
    let Some(a) = find_visible(ctx, r).await? else {
        return Err(not_found());
    };
    match a.artifact_type.as_str() {
        "parsed_file" => {
            if a.lifecycle_state != "active" {
                return Err(StepError::new(format!(
                    "parsed file {r} is not ready ({})",
                    a.lifecycle_state
                )));
            }
            let file = match a.semantic_descriptor["file_id"].as_str() {
                Some(id) => store
                    .artifact(id)
                    .await
                    .map_err(internal)?
                    .filter(|f| visible(ctx, f)),
                None => None,
            };
            Ok(Source {
                file,
                parsed: a,
                parsed_now: false,
            })
        }
        "file" => {
            // Its latest finished parse — not one this mash made on an earlier attempt.
            let latest = store
                .children_of(r, Some("parsed_file"))
                .await
                .map_err(internal)?
                .into_iter()
                .rev()
                .find(|p| {
                    p.lifecycle_state == "active" && p.produced_by_execution != ctx.execution_id
                });
            if let Some(parsed) = latest {
                return Ok(Source {
                    file: Some(a),
                    parsed,
                    parsed_now: false,
                });
            }
            let parsed_id = derived_id(&ctx.execution_id, &format!("mash:parsed:{i}"));
            made.push(parsed_id.clone());
            let filename = a.semantic_descriptor["filename"].as_str().unwrap_or("");
            parse_file(
                ctx,
                &a,
                &parsed_id,
                by_extension(filename),
                ParseOptions::default(),
            )
            .await?;
            let parsed = store
                .artifact(&parsed_id)
                .await
                .map_err(internal)?
                .ok_or_else(not_found)?;
            Ok(Source {
                file: Some(a),
                parsed,
                parsed_now: true,
            })
        }
        other => Err(StepError::new(format!(
            "content ref {r} is a {}; a data mash takes files and parsed files",
            other.replace('_', " ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_file_stems_made_unique() {
        let taken = vec!["sales".to_string()];
        assert_eq!(unique_label(&[], "sales.csv", 0), "sales");
        assert_eq!(unique_label(&taken, "sales.tsv", 1), "sales_2");
        assert_eq!(unique_label(&[], ".csv", 0), "source");
        assert_eq!(unique_label(&[], "notes", 0), "notes");
    }
}
