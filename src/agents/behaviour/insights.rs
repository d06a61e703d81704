//! The insights liaison: data quality, analysis and combining files, with real intents.

use serde_json::{json, Value};

use crate::agents::reasoning::{Draft, Understanding};
use crate::runtime::contract::agents::Pillar;
use crate::runtime::engine::brain::Workbench;
use crate::runtime::engine::intent_info::IntentInfo;
use crate::runtime::realms::insights::analysis_report::AnalysisReport;
use crate::runtime::realms::insights::mash::report::{ConflictKind, MashReport};
use crate::runtime::realms::insights::quality_report::QualityReport;

use super::content::{file_names, files_message, list_files, parsed_for, session_files};
use super::{named_file, payload, pillar_intents, Reply};

/// The insights liaison: data quality or analysis of a named file, with real intents.
pub(super) async fn insights_liaison(
    bench: &dyn Workbench,
    u: Understanding,
    intents: &[IntentInfo],
) -> Reply {
    let has = |ws: &[&str]| u.words.iter().any(|w| ws.contains(&w.as_str()));
    let wants_quality = has(&[
        "clean",
        "cleanliness",
        "quality",
        "outlier",
        "outliers",
        "duplicate",
        "duplicates",
        "missing",
        "empty",
        "issues",
        "errors",
    ]);
    let wants_combine = has(&["combine", "merge", "mash", "join", "blend", "unify"]);
    let wants_lineage = has(&["lineage", "derived", "provenance", "history"]);
    let wants_text = has(&[
        "tone",
        "sentiment",
        "topics",
        "themes",
        "terms",
        "entities",
        "summarize",
        "summarise",
        "mood",
    ]);
    let result = match named_file(&u) {
        _ if wants_combine => combine_files(bench, &u.words).await,
        None => list_files(bench)
            .await
            .map(|(msg, facts)| (format!("Which file should I look at? {msg}"), facts)),
        Some(name) => {
            async {
                let (parsed, mut executions) = parsed_for(bench, &name, false).await?;
                let parsed_id = parsed["parsed_file_id"].clone();
                // A document's records are its text: read it as text unless asked otherwise.
                let document = matches!(
                    parsed["parsing_type"].as_str(),
                    Some("text" | "pdf" | "docx")
                );
                if wants_lineage && parsed["file_id"].is_null() {
                    Err(format!(
                        "{name} is a combined dataset: lineage starts at an uploaded file"
                    ))
                } else if wants_lineage {
                    let done = bench
                        .run("visualize_lineage", json!({"file_id": parsed["file_id"]}))
                        .await?;
                    executions.push(done.execution_id.clone());
                    let l = payload(&done, "lineage_visualization")?;
                    Ok((
                        lineage_summary(&name, l),
                        json!({"lineage_graph": l["lineage_graph"], "execution_ids": executions}),
                    ))
                } else if !wants_quality && (wants_text || document) {
                    let done = bench
                        .run(
                            "analyze_unstructured_data",
                            json!({"parsed_file_id": parsed_id}),
                        )
                        .await?;
                    executions.push(done.execution_id.clone());
                    let a = payload(&done, "unstructured_analysis")?.clone();
                    Ok((
                        text_summary(&name, &a),
                        json!({"unstructured_analysis": a, "execution_ids": executions}),
                    ))
                } else if wants_quality {
                    let done = bench
                        .run("assess_data_quality", json!({"parsed_file_id": parsed_id}))
                        .await?;
                    executions.push(done.execution_id.clone());
                    let q = payload(&done, "quality_report")?.clone();
                    let report: QualityReport = serde_json::from_value(q.clone())
                        .map_err(|e| format!("the quality report could not be read: {e}"))?;
                    Ok((
                        quality_summary(&name, &report),
                        json!({"quality_report": q, "execution_ids": executions}),
                    ))
                } else {
                    let done = bench
                        .run(
                            "analyze_structured_data",
                            json!({"parsed_file_id": parsed_id}),
                        )
                        .await?;
                    executions.push(done.execution_id.clone());
                    let a = payload(&done, "analysis")?.clone();
                    let report: AnalysisReport = serde_json::from_value(a.clone())
                        .map_err(|e| format!("the analysis could not be read: {e}"))?;
                    Ok((
                        analysis_summary(&name, &report),
                        json!({"analysis": a, "execution_ids": executions}),
                    ))
                }
            }
            .await
        }
    };
    let (message, facts) =
        result.unwrap_or_else(|e: String| (format!("That did not work: {e}"), json!({"error": e})));
    Reply {
        draft: Draft { message, facts },
        suggested_actions: pillar_intents(Pillar::Insights, intents)
            .into_iter()
            .map(|i| i.intent_type)
            .collect(),
        understanding: u,
    }
}

/// The files the words name (by file name or by name without its extension), in the order
/// they are named; then a data mash over them.
pub(super) async fn combine_files(
    bench: &dyn Workbench,
    words: &[String],
) -> Result<(String, Value), String> {
    let (listed_by, items, total) = session_files(bench, 1000).await?;
    let mut named: Vec<(String, String)> = Vec::new();
    for w in words {
        let found = items.iter().find(|a| {
            file_names(a).any(|n| {
                let n = n.to_lowercase();
                let stem = n.rsplit_once('.').map_or(n.as_str(), |(s, _)| s);
                n == *w || stem == w
            })
        });
        if let Some(a) = found {
            let id = a["artifact_id"].as_str().unwrap_or_default().to_string();
            if !named.iter().any(|(i, _)| *i == id) {
                let name = a["semantic_descriptor"]["filename"]
                    .as_str()
                    .unwrap_or("?")
                    .to_string();
                named.push((id, name));
            }
        }
    }
    if named.len() < 2 {
        let files = files_message(&items, total);
        return Err(format!(
            "name at least two of your files to combine (\"combine sales and customers\"). {files}"
        ));
    }
    let refs: Vec<&String> = named.iter().map(|(id, _)| id).collect();
    let done = bench
        .run("data_mash.create", json!({"content_refs": refs}))
        .await?;
    let mash = payload(&done, "mash")?.clone();
    let report: MashReport = serde_json::from_value(mash.clone())
        .map_err(|e| format!("the mash's report cannot be read: {e}"))?;
    Ok((
        mash_summary(&report),
        json!({"mash": mash, "execution_ids": [listed_by, done.execution_id]}),
    ))
}

pub(super) fn mash_summary(m: &MashReport) -> String {
    let names: Vec<&str> = m
        .sources
        .iter()
        .map(|s| s.filename.as_deref().unwrap_or(&s.label))
        .collect();
    let keys: Vec<String> = m
        .join
        .keys
        .iter()
        .map(|k| format!("{}.{}", k.source, k.column))
        .collect();
    let columns: Vec<&str> = m.columns.iter().map(|c| c.name.as_str()).collect();
    let matched: Vec<String> = m
        .sources
        .iter()
        .map(|s| {
            format!(
                "{} of {} {} records matched",
                s.matched_records, s.record_count, s.label
            )
        })
        .collect();
    let quality: Vec<String> = m
        .sources
        .iter()
        .map(|s| format!("{} {}", s.label, s.quality_score))
        .collect();
    let conflicts: Vec<String> = m
        .conflicts
        .iter()
        .map(|c| match (c.kind, c.count) {
            (ConflictKind::Value, Some(n)) => format!(
                "{} differs for {n} record{} (the first file's value is kept)",
                c.column,
                if n == 1 { "" } else { "s" }
            ),
            _ => c.detail.clone(),
        })
        .collect();
    format!(
        "I combined {} on {} ({} join): {} records with columns {}. {}. Quality scores: {}. {} The combined data is parsed file {}.",
        names.join(" and "),
        keys.join(" = "),
        m.join.kind.as_str(),
        m.record_count,
        columns.join(", "),
        matched.join("; "),
        quality.join(", "),
        if conflicts.is_empty() {
            "No conflicts.".to_string()
        } else {
            format!("Conflicts: {}.", conflicts.join("; "))
        },
        m.parsed_file_id,
    )
}

/// What a document's text analysis found, in a sentence or three.
pub(super) fn text_summary(name: &str, a: &Value) -> String {
    let list = |key: &str, field: &str, n: usize| -> Vec<String> {
        a[key]
            .as_array()
            .map(|xs| {
                xs.iter()
                    .take(n)
                    .filter_map(|x| x[field].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let terms = list("key_terms", "term", 5);
    let topics = list("topics", "phrase", 3);
    let entities = list("entities", "name", 5);
    let mut out = format!(
        "{name} reads {} (score {}): {}",
        a["sentiment"]["label"].as_str().unwrap_or("neutral"),
        a["sentiment"]["score"],
        a["summary"].as_str().unwrap_or_default()
    );
    if !terms.is_empty() {
        out.push_str(&format!(" Key terms: {}.", terms.join(", ")));
    }
    if !topics.is_empty() {
        out.push_str(&format!(" Recurring phrases: {}.", topics.join(", ")));
    }
    if !entities.is_empty() {
        out.push_str(&format!(" Mentions: {}.", entities.join(", ")));
    }
    out
}

/// Where a file went, from its lineage graph.
pub(super) fn lineage_summary(name: &str, l: &Value) -> String {
    let nodes = l["lineage_graph"]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let made: Vec<String> = nodes
        .iter()
        .skip(1)
        .map(|n| {
            format!(
                "{} ({})",
                n["label"].as_str().unwrap_or("?"),
                n["type"].as_str().unwrap_or("?")
            )
        })
        .collect();
    if made.is_empty() {
        format!("Nothing has been made from {name} yet.")
    } else {
        format!(
            "From {name}: {}. The graph and its picture are in the lineage artifact.",
            made.join(", ")
        )
    }
}

pub(super) fn quality_summary(name: &str, q: &QualityReport) -> String {
    let mut findings = Vec::new();
    for (col, c) in &q.columns {
        let (nulls, breaks) = (c.null_count, c.type_breaks);
        let outliers = c.outliers.as_ref().map_or(0, |o| o.count);
        if nulls > 0 {
            findings.push(format!("{col} has {nulls} empty"));
        }
        if breaks > 0 {
            findings.push(if breaks == 1 {
                format!("{col} has 1 value that breaks its type")
            } else {
                format!("{col} has {breaks} values that break its type")
            });
        }
        if outliers > 0 {
            findings.push(format!(
                "{col} has {outliers} outlier{}",
                if outliers == 1 { "" } else { "s" }
            ));
        }
    }
    let dups = q.duplicate_rows;
    if dups > 0 {
        findings.push(format!(
            "{dups} duplicate row{}",
            if dups == 1 { "" } else { "s" }
        ));
    }
    let findings = if findings.is_empty() {
        "no issues found".to_string()
    } else {
        findings.join("; ")
    };
    format!(
        "{name} scores {} out of 100 for quality: {findings}.",
        json!(q.score)
    )
}

pub(super) fn analysis_summary(name: &str, a: &AnalysisReport) -> String {
    let mut parts = Vec::new();
    for (col, s) in &a.numeric {
        parts.push(format!(
            "{col}: mean {}, from {} to {}",
            json!(s.mean),
            json!(s.min),
            json!(s.max)
        ));
    }
    for (col, s) in &a.text {
        if let Some(top) = s.top_values.first() {
            parts.push(format!("{col}: most often {} ({}×)", top.value, top.count));
        }
    }
    if let Some(c) = a
        .correlations
        .iter()
        .max_by(|x, y| x.pearson.abs().total_cmp(&y.pearson.abs()))
    {
        parts.push(format!(
            "strongest correlation {} ~ {} (r = {})",
            c.a,
            c.b,
            json!(c.pearson)
        ));
    }
    format!("{name} ({} records): {}.", a.record_count, parts.join("; "))
}
