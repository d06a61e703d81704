//! The operations liaison: the pillar's intents from chat, on the file the user names (or the
//! latest SOP-like upload of the session): a workflow from an SOP, an SOP from a workflow,
//! where AI can help, optimizations, the blueprint; and the chat's own wizard draft, grown by
//! messages that tell steps ("First …", "Then …", "1. …", "Role: …") and published on
//! "publish".

use serde_json::{json, Value};

use crate::agents::reasoning::{Draft, Understanding};
use crate::runtime::contract::agents::Pillar;
use crate::runtime::engine::brain::Workbench;
use crate::runtime::engine::intent_info::IntentInfo;

use super::content::{file_names, session_files};
use super::liaison::pillar_liaison;
use super::{named_file, payload, pillar_intents, Reply};

/// Upload categories and extensions an SOP or a workflow comes as.
const SOP_TYPES: &[&str] = &["sop_workflow", "sop", "workflow", "document", "pdf"];
const SOP_EXTENSIONS: &[&str] = &["md", "txt", "docx", "pdf", "bpmn", "mmd", "json"];

/// The named file, or the session's latest SOP-like one: (id, name).
pub(super) async fn sop_file(
    bench: &dyn Workbench,
    u: &Understanding,
) -> Result<(String, String), String> {
    let (_, items, _) = session_files(bench, 1000).await?;
    let wanted = named_file(u);
    let name_of = |a: &Value| file_names(a).next().unwrap_or("?").to_string();
    let found = match &wanted {
        Some(w) => items
            .iter()
            .find(|a| file_names(a).any(|n| n.eq_ignore_ascii_case(w))),
        // The list comes newest first: the latest SOP-like upload.
        None => items.iter().find(|a| {
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
    text: &str,
    u: Understanding,
    intents: &[IntentInfo],
) -> Reply {
    let has = |ws: &[&str]| u.words.iter().any(|w| ws.contains(&w.as_str()));
    let wants_ai = has(&["ai", "automate", "automation", "coexistence", "symphainy"]);
    // What the user wants made: an SOP or a workflow (`target`), when they say.
    let target = target(text);
    let wants_workflow = target == Some("workflow");
    let wants_sop = target == Some("sop");
    let wants_optimize = has(&["optimize", "optimise", "improve", "streamline"]);
    let wants_blueprint = has(&["blueprint"]);
    let wants_publish = has(&["publish"]);
    // Steps told in words ("First …", "Then …", "1. …"): the wizard's draft grows.
    let first_word = text
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .unwrap_or("")
        .to_lowercase();
    let telling_steps = ["first", "then", "next", "finally", "role"].contains(&first_word.as_str())
        || (!first_word.is_empty() && first_word.chars().all(|c| c.is_ascii_digit()));
    if !(wants_ai
        || wants_workflow
        || wants_sop
        || wants_optimize
        || wants_blueprint
        || wants_publish
        || telling_steps)
    {
        return pillar_liaison(Pillar::Operations, u, intents);
    }
    let result = async {
        if telling_steps || wants_publish {
            return wizard(bench, text, wants_publish).await;
        }
        if wants_blueprint {
            let done = bench
                .run("create_blueprint", json!({"blueprint_data": {}}))
                .await?;
            let b = payload(&done, "blueprint")?;
            return Ok((
                format!(
                    "Blueprint ready: {} {}",
                    b["summary"].as_str().unwrap_or(""),
                    b["successMetrics"][0].as_str().unwrap_or("")
                ),
                json!({"blueprint_id": b["blueprint_id"], "execution_ids": [done.execution_id]}),
            ));
        }
        let (id, name) = sop_file(bench, &u).await?;
        if wants_sop && !wants_workflow {
            let done = bench
                .run("generate_sop", json!({"workflow_id": id}))
                .await?;
            let s = payload(&done, "sop")?;
            Ok((
                format!(
                    "Here is the SOP written from {name}:\n{}",
                    s["content"].as_str().unwrap_or("")
                ),
                json!({"sop_id": s["sop_id"], "execution_ids": [done.execution_id]}),
            ))
        } else if wants_optimize && !wants_ai {
            let done = bench
                .run("optimize_process", json!({"workflow_id": id}))
                .await?;
            let o = payload(&done, "optimized_process")?;
            let list: Vec<String> = o["optimizations"]
                .as_array()
                .into_iter()
                .flatten()
                .take(3)
                .map(|x| {
                    format!(
                        "{} (impact {}, effort {})",
                        x["recommendation"].as_str().unwrap_or(""),
                        x["impact"].as_str().unwrap_or(""),
                        x["effort"].as_str().unwrap_or("")
                    )
                })
                .collect();
            Ok((
                format!("For {name}, the first optimizations: {}.", list.join("; ")),
                json!({"process_id": o["process_id"], "execution_ids": [done.execution_id]}),
            ))
        } else if wants_ai {
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

/// The chat's own wizard draft (one per session): a turn, or its publication.
async fn wizard(
    bench: &dyn Workbench,
    text: &str,
    publish: bool,
) -> Result<(String, Value), String> {
    const CHAT_WIZARD: &str = "chat-wizard";
    if publish {
        let done = bench
            .run(
                "process_operations_query",
                json!({"query": "publish_workflow_and_sop", "session_id": CHAT_WIZARD}),
            )
            .await?;
        let q = payload(&done, "query_response")?;
        return Ok((
            format!(
                "Published \"{}\" as an SOP and a workflow of {} steps.",
                q["sop"]["title"].as_str().unwrap_or("the draft"),
                q["sop"]["procedure"]["steps"]
                    .as_array()
                    .map_or(0, Vec::len)
            ),
            json!({"sop_id": q["sop"]["sop_id"], "workflow_id": q["workflow"]["workflow_id"],
                "execution_ids": [done.execution_id]}),
        ));
    }
    let done = bench
        .run(
            "process_wizard_conversation",
            json!({"message": text, "session_id": CHAT_WIZARD}),
        )
        .await?;
    let w = payload(&done, "wizard_response")?;
    Ok((
        w["agent_response"].as_str().unwrap_or("").to_string(),
        json!({"draft_sop": w["draft_sop"], "execution_ids": [done.execution_id]}),
    ))
}

/// Which of an SOP or a workflow the message asks for: the word after "into" / "to" / "as"
/// ("turn my SOP into a workflow"), else the first one named outside file names ("write an
/// SOP from leave.bpmn").
fn target(text: &str) -> Option<&'static str> {
    let kind = |w: &str| match w {
        "sop" | "sops" | "procedure" => Some("sop"),
        "workflow" | "workflows" | "bpmn" | "flowchart" | "diagram" => Some("workflow"),
        _ => None,
    };
    let words: Vec<String> = text
        .split_whitespace()
        .filter(|w| !w.trim_end_matches(['.', '?', '!', ',']).contains('.'))
        .map(|w| {
            w.trim_matches(|c: char| !c.is_alphanumeric())
                .to_lowercase()
        })
        .collect();
    for (i, w) in words.iter().enumerate() {
        if matches!(w.as_str(), "into" | "to" | "as") {
            if let Some(k) = words[i + 1..].iter().take(3).find_map(|x| kind(x)) {
                return Some(k);
            }
        }
    }
    words.iter().find_map(|w| kind(w))
}

#[cfg(test)]
mod tests {
    use super::target;

    #[test]
    fn the_thing_asked_for_is_told_by_into_or_by_the_first_word_outside_file_names() {
        assert_eq!(target("Turn my SOP into a workflow"), Some("workflow"));
        assert_eq!(target("Please write an SOP from leave.bpmn"), Some("sop"));
        assert_eq!(
            target("Turn invoice_sop.md into a workflow please"),
            Some("workflow")
        );
        assert_eq!(target("Make this BPMN a procedure as an SOP"), Some("sop"));
        assert_eq!(target("Where can AI help?"), None);
    }
}
