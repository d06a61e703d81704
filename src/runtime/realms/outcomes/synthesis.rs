//! `synthesize_outcome`: what the session did in each pillar, counted from its artifacts.
//! - `content_summary`: files (saved, pending, by upload category), parses and their records,
//!   mashes;
//! - `insights_summary`: quality assessments (each parsed file's latest: the average score,
//!   the files under the quality target, their issues), analyses, discoveries, relationships
//!   found;
//! - `journey_summary`: SOPs, workflows, coexistence analyses and blueprints, with the latest
//!   analysis's counts and automation share;
//! - `overall_synthesis`: one paragraph from those figures; `realm_visuals` in the shapes the
//!   web frontend draws.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::plan::{quality_gaps, QUALITY_TARGET};
use super::session_work::{num, SessionWork};

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn content(work: &SessionWork) -> (Value, String) {
    let files = work.of("file");
    let saved = files
        .iter()
        .filter(|f| f.lifecycle_state == "active")
        .count();
    let mut by_type: BTreeMap<String, usize> = BTreeMap::new();
    for f in files {
        let t = f.semantic_descriptor["file_type"]
            .as_str()
            .unwrap_or("unstructured");
        *by_type.entry(t.to_string()).or_default() += 1;
    }
    let parsed = work.of("parsed_file");
    let records: u64 = parsed
        .iter()
        .filter_map(|p| p.semantic_descriptor["record_count"].as_u64())
        .sum();
    let mashes = work.of("mash").len();
    let text = format!(
        "{} ({} saved), {} with {}, {}",
        plural(files.len(), "file", "files"),
        saved,
        plural(parsed.len(), "parse", "parses"),
        plural(records as usize, "record", "records"),
        plural(mashes, "mash", "mashes"),
    );
    let summary = json!({
        "files": files.len(), "saved": saved, "pending": files.len() - saved,
        "files_by_type": by_type, "parsed_files": parsed.len(), "records": records,
        "mashes": mashes, "summary": text,
    });
    (summary, text)
}

fn insights(work: &SessionWork) -> (Value, String) {
    let mut latest: BTreeMap<&str, &Value> = BTreeMap::new();
    for q in work.of("quality_assessment") {
        if let Some(p) = q.semantic_descriptor["parsed_file_ids"][0].as_str() {
            latest.insert(p, &q.semantic_descriptor);
        }
    }
    let scores: Vec<f64> = latest
        .values()
        .filter_map(|d| num(d, "quality_score"))
        .collect();
    let average =
        (!scores.is_empty()).then(|| round(scores.iter().sum::<f64>() / scores.len() as f64));
    let issues: usize = latest.values().map(|d| super::plan::issue_count(d)).sum();
    let gaps = quality_gaps(work);
    let analyses = work.of("structured_analysis").len() + work.of("unstructured_analysis").len();
    let discoveries = work.of("discovery").len();
    let relationships: usize = work
        .of("relationships")
        .iter()
        .map(|r| {
            r.semantic_descriptor["relationships"]
                .as_array()
                .map_or(0, Vec::len)
        })
        .sum();
    let mut text = plural(
        latest.len(),
        "file assessed for quality",
        "files assessed for quality",
    );
    if let Some(a) = average {
        text.push_str(&format!(
            " (average score {a:.2}, {} under {QUALITY_TARGET:.2}, {})",
            gaps.len(),
            plural(issues, "issue", "issues")
        ));
    }
    text.push_str(&format!(
        ", {}, {}, {} found",
        plural(analyses, "analysis", "analyses"),
        plural(discoveries, "discovery", "discoveries"),
        plural(relationships, "relationship", "relationships")
    ));
    let summary = json!({
        "quality_assessments": latest.len(), "average_quality_score": average,
        "files_below_target": gaps.iter().map(|g| json!({"file": g.file, "quality_score": g.score,
            "issues": g.issues})).collect::<Vec<_>>(),
        "issues": issues, "analyses": analyses, "discoveries": discoveries,
        "relationships": relationships, "summary": text,
    });
    (summary, text)
}

fn journey(work: &SessionWork) -> (Value, String) {
    let (sops, workflows) = (work.of("sop").len(), work.of("workflow").len());
    let analyses = work.of("coexistence_analysis");
    let blueprints = work.of("blueprint").len();
    let latest = work.latest("coexistence_analysis").map(|a| {
        let d = &a.semantic_descriptor;
        json!({"analysis_id": a.artifact_id, "title": d["procedure"]["title"],
            "counts": d["counts"], "automation_share": d["metrics"]["automation_share"],
            "recommendations": d["recommendations"].as_array().map_or(0, Vec::len),
            "friction_points": d["friction_points"].as_array().map_or(0, Vec::len)})
    });
    let mut text = format!(
        "{}, {}, {}",
        plural(sops, "SOP", "SOPs"),
        plural(workflows, "workflow", "workflows"),
        plural(
            analyses.len(),
            "coexistence analysis",
            "coexistence analyses"
        )
    );
    if let Some(l) = &latest {
        let c = &l["counts"];
        text.push_str(&format!(
            "; the latest, of {}: {} steps, {} suited to Symphainy, {} hybrid, {} for people",
            l["title"].as_str().unwrap_or("a procedure"),
            c["total"],
            c["ai_suitable"],
            c["hybrid"],
            c["human_focused"]
        ));
    }
    let summary = json!({
        "sops": sops, "workflows": workflows, "coexistence_analyses": analyses.len(),
        "blueprints": blueprints, "latest_analysis": latest, "summary": text,
    });
    (summary, text)
}

/// The synthesis payload (`synthesis_summary`).
pub fn synthesize(work: &SessionWork, id: &str) -> Value {
    let (content, content_text) = content(work);
    let (insights, insights_text) = insights(work);
    let (journey, journey_text) = journey(work);
    let overall =
        format!("Content: {content_text}. Insights: {insights_text}. Operations: {journey_text}.");
    let stage = |id: &str, name: &str, count: &Value| {
        json!({"id": id, "name": name, "count": count,
            "status": if count.as_u64().unwrap_or(0) > 0 { "done" } else { "not_started" }})
    };
    let capability = |name: &str, count: usize| {
        json!({"name": name, "count": count,
            "status": if count > 0 { "done" } else { "not_started" }})
    };
    let latest = &journey["latest_analysis"];
    json!({
        "synthesis_id": id,
        "overall_synthesis": overall,
        "content_summary": content,
        "insights_summary": insights,
        "journey_summary": journey,
        "realm_visuals": {
            "content_visual": {"visual_type": "data_mash_tutorial", "primary_visual": {
                "stages": [
                    stage("upload", "Upload", &content["files"]),
                    stage("parse", "Parse", &content["parsed_files"]),
                    stage("assess", "Assess", &insights["quality_assessments"]),
                    stage("mash", "Mash", &content["mashes"]),
                ],
                "flow_connections": [
                    {"from": "upload", "to": "parse"},
                    {"from": "parse", "to": "assess"},
                    {"from": "parse", "to": "mash"},
                ],
            }},
            "insights_visual": {"visual_type": "insights_ecosystem", "capabilities": [
                capability("Data quality", insights["quality_assessments"].as_u64().unwrap_or(0) as usize),
                capability("Analysis", insights["analyses"].as_u64().unwrap_or(0) as usize),
                capability("Discovery", insights["discoveries"].as_u64().unwrap_or(0) as usize),
                capability("Relationships", insights["relationships"].as_u64().unwrap_or(0) as usize),
            ]},
            "journey_visual": {"visual_type": "friction_removal", "coexistence_analysis": {
                "counts": latest["counts"], "automation_share": latest["automation_share"],
                "recommendations": latest["recommendations"],
                "friction_points": latest["friction_points"],
            }},
        },
    })
}
