//! The operations liaison: turns an SOP into a workflow and finds where AI can help, with the
//! real intents, on the file the user names (or the latest SOP-like upload of the session).

use serde_json::{json, Value};

use crate::agents::reasoning::{Draft, Understanding};
use crate::runtime::contract::agents::Pillar;
use crate::runtime::engine::brain::Workbench;
use crate::runtime::engine::registry::IntentInfo;

use super::content::{file_names, session_files};
use super::liaison::pillar_liaison;
use super::{named_file, payload, pillar_intents, Reply};

/// Upload categories and extensions an SOP or a workflow comes as.
const SOP_TYPES: &[&str] = &["sop_workflow", "sop", "workflow", "document", "pdf"];
const SOP_EXTENSIONS: &[&str] = &["md", "txt", "docx", "pdf", "bpmn", "mmd", "json"];

/// The named file, or the session's latest SOP-like one: (id, name).
async fn sop_file(bench: &dyn Workbench, u: &Understanding) -> Result<(String, String), String> {
    let (_, items, _) = session_files(bench, 1000).await?;
    let wanted = named_file(u);
    let name_of = |a: &Value| file_names(a).next().unwrap_or("?").to_string();
    let found = match &wanted {
        Some(w) => items
            .iter()
            .find(|a| file_names(a).any(|n| n.eq_ignore_ascii_case(w))),
        None => items.iter().rev().find(|a| {
            let d = &a["semantic_descriptor"];
            d["file_type"]
                .as_str()
                .is_some_and(|t| SOP_TYPES.contains(&t))
                || file_names(a).any(|n| {
                    n.rsplit_once('.')
                        .is_some_and(|(_, e)| SOP_EXTENSIONS.contains(&e.to_lowercase().as_str()))
                })
        }),
    };
    match found {
        Some(a) => Ok((
            a["artifact_id"].as_str().unwrap_or_default().to_string(),
            name_of(a),
        )),
        None => Err(match wanted {
            Some(w) => format!("I cannot find {w} among your files"),
            None => {
                "upload an SOP or a workflow first (Markdown, Word, PDF, BPMN or Mermaid)".into()
            }
        }),
    }
}

pub(super) fn workflow_summary(name: &str, w: &Value) -> String {
    let tasks: Vec<String> = w["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["type"] == "task")
        .map(|n| match n["metadata"]["responsible_role"].as_str() {
            Some(r) => format!("{} ({r})", n["label"].as_str().unwrap_or("?")),
            None => n["label"].as_str().unwrap_or("?").to_string(),
        })
        .collect();
    let decisions = w["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["type"] == "gateway")
        .count();
    format!(
        "I turned {name} into a workflow of {} steps and {decisions} decision{}: {}. The BPMN XML and a Mermaid chart are in the workflow.",
        tasks.len(),
        if decisions == 1 { "" } else { "s" },
        tasks.join("; ")
    )
}

pub(super) fn coexistence_summary(name: &str, a: &Value) -> String {
    let c = &a["counts"];
    let first = a["recommendations"][0]["recommendation"]
        .as_str()
        .map(|r| format!(" Start with: {r}."))
        .unwrap_or_default();
    format!(
        "In {name}, Symphainy can do {} of {} steps, {} are hybrid (Symphainy prepares, a person confirms) and {} need people; {:.0} % of the work could be done or prepared by Symphainy.{first}",
        c["ai_suitable"],
        c["total"],
        c["hybrid"],
        c["human_focused"],
        a["metrics"]["automation_share"].as_f64().unwrap_or(0.0) * 100.0
    )
}

pub(super) async fn operations_liaison(
    bench: &dyn Workbench,
    u: Understanding,
    intents: &[IntentInfo],
) -> Reply {
    let has = |ws: &[&str]| u.words.iter().any(|w| ws.contains(&w.as_str()));
    let wants_ai = has(&["ai", "automate", "automation", "coexistence", "symphainy"]);
    let wants_workflow = has(&["workflow", "bpmn", "flowchart", "diagram"]);
    if !wants_ai && !wants_workflow {
        return pillar_liaison(Pillar::Operations, u, intents);
    }
    let result = async {
        let (id, name) = sop_file(bench, &u).await?;
        if wants_ai {
            let done = bench
                .run("analyze_coexistence", json!({"sop_id": id}))
                .await?;
            let a = payload(&done, "coexistence_analysis")?;
            Ok((
                coexistence_summary(&name, a),
                json!({"coexistence_analysis": {"analysis_id": a["analysis_id"],
                    "counts": a["counts"]}, "execution_ids": [done.execution_id]}),
            ))
        } else {
            let done = bench.run("create_workflow", json!({"sop_id": id})).await?;
            let w = payload(&done, "workflow")?;
            Ok((
                workflow_summary(&name, w),
                json!({"workflow_id": w["workflow_id"], "execution_ids": [done.execution_id]}),
            ))
        }
    }
    .await;
    let (message, facts) =
        result.unwrap_or_else(|e: String| (format!("That did not work: {e}"), json!({"error": e})));
    Reply {
        draft: Draft { message, facts },
        suggested_actions: pillar_intents(Pillar::Operations, intents)
            .into_iter()
            .map(|i| i.intent_type)
            .collect(),
        understanding: u,
    }
}
