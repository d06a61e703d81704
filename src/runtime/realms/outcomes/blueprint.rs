//! The outcomes form of `create_blueprint {workflow_id, description}`: the procedure of an
//! SOP or workflow (the Business Outcomes page sends the SOP's file id) as it is today and as
//! it would be with Symphainy, each drawn as a PNG on the server, the plan's phases for it,
//! and who does what at each step.
//! - `current_state`: the workflow as written, tasks in blue, decisions in yellow;
//! - `coexistence_state`: the optimized workflow, each task coloured by its classification
//!   (green: Symphainy, orange: prepared by Symphainy for a person, blue: people);
//! - `roadmap.phases`: the plan's phases (`plan.rs`) over this procedure's analysis;
//! - `responsibility_matrix.responsibilities`: per step, the people (its role, for
//!   human-focused and hybrid steps), Symphainy's part (AI-suitable and hybrid steps), and the
//!   external systems its text names (ledger, ERP, CRM, e-mail, portal, spreadsheet, database,
//!   SAP, …).

use std::collections::HashMap;

use base64::Engine;
use serde_json::{json, Value};

use super::plan::plan;
use super::session_work::SessionWork;
use crate::runtime::engine::handler::{StepContext, StepError};
use crate::runtime::realms::content::common::{derived_id, internal};
use crate::runtime::realms::graph_png::{draw, Node};
use crate::runtime::realms::operations::coexistence::{optimize, Judgement, Kind};
use crate::runtime::realms::operations::coexistence_intents::analysis_of;
use crate::runtime::realms::operations::intents::{procedure_of, register};
use crate::runtime::realms::operations::procedure::Procedure;
use crate::runtime::realms::operations::workflow;

/// Words that name a system outside the procedure, and how it is shown.
const SYSTEMS: &[(&str, &str)] = &[
    ("ledger", "Ledger"),
    ("erp", "ERP"),
    ("crm", "CRM"),
    ("email", "E-mail"),
    ("e-mail", "E-mail"),
    ("portal", "Portal"),
    ("spreadsheet", "Spreadsheet"),
    ("excel", "Spreadsheet"),
    ("database", "Database"),
    ("sap", "SAP"),
    ("sharepoint", "SharePoint"),
    ("website", "Website"),
];

/// The external systems a step's text names, in the order of `SYSTEMS`, once each.
pub fn systems_named(text: &str) -> Vec<&'static str> {
    let words: Vec<String> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .map(str::to_lowercase)
        .collect();
    let mut found: Vec<&'static str> = Vec::new();
    for (word, shown) in SYSTEMS {
        if words.iter().any(|w| w == word) && !found.contains(shown) {
            found.push(shown);
        }
    }
    found
}

/// A workflow graph drawn as PNG (base64); `kinds` colours tasks by step number.
fn chart(graph: &Value, kinds: Option<&HashMap<u64, Kind>>) -> Result<String, StepError> {
    let nodes: Vec<(String, String, String)> = graph["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| {
            let mut kind = n["type"].as_str().unwrap_or("task").to_string();
            if let (Some(k), Some(step)) = (kinds, n["metadata"]["step_number"].as_u64()) {
                if kind == "task" {
                    if let Some(c) = k.get(&step) {
                        kind = c.as_str().to_string();
                    }
                }
            }
            (
                n["id"].as_str().unwrap_or("").to_string(),
                n["label"].as_str().unwrap_or("").to_string(),
                kind,
            )
        })
        .collect();
    let edges: Vec<(String, String)> = graph["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["from"].as_str().unwrap_or("").to_string(),
                e["to"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let drawn: Vec<Node<'_>> = nodes
        .iter()
        .map(|(id, label, kind)| Node { id, label, kind })
        .collect();
    let edge_refs: Vec<(&str, &str)> = edges
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let png = draw(&drawn, &edge_refs).map_err(internal)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(png))
}

fn responsibilities(p: &Procedure, judgements: &[Judgement]) -> Vec<Value> {
    p.steps
        .iter()
        .zip(judgements)
        .map(|(s, j)| {
            let role = s.role.clone().unwrap_or_else(|| "a person".into());
            let human: Vec<String> = match j.kind {
                Kind::Ai => vec![],
                _ => vec![role],
            };
            let ai: Vec<String> = match j.kind {
                Kind::Ai => vec![format!("does: {}", s.title)],
                Kind::Hybrid => vec![format!("prepares: {}", s.title)],
                Kind::Human => vec![],
            };
            json!({"step": format!("{}. {}", s.number, s.title), "step_number": s.number,
                "classification": j.kind.as_str(), "human": human, "ai_symphainy": ai,
                "external_systems": systems_named(&s.description)})
        })
        .collect()
}

/// Builds, registers and returns the outcome blueprint of `workflow_id`.
pub async fn outcome_blueprint(
    ctx: &StepContext,
    workflow_id: &str,
    description: Option<String>,
) -> Result<Value, StepError> {
    let (source, p) = procedure_of(ctx, workflow_id).await?;
    let (analysis, judgements) = analysis_of(ctx, &p).await;
    let kinds: HashMap<u64, Kind> = p
        .steps
        .iter()
        .zip(&judgements)
        .map(|(s, j)| (s.number as u64, j.kind))
        .collect();
    let current = workflow::graph("current_state", &p);
    let optimized = optimize(&p, &judgements);
    let future = workflow::graph("coexistence_state", &optimized);
    let work = SessionWork::read(ctx).await?;
    let plan = plan(&work, Some(&analysis));
    let c = &analysis["counts"];
    let mut roles: Vec<&str> = p.steps.iter().filter_map(|s| s.role.as_deref()).collect();
    roles.sort();
    roles.dedup();
    let decisions = p.steps.iter().filter(|s| s.decision.is_some()).count();
    let share = analysis["metrics"]["automation_share"]
        .as_f64()
        .unwrap_or(0.0);
    let phases = plan.phases_json(super::plan::today());
    let id = derived_id(&ctx.execution_id, "outcome_blueprint");
    let payload = json!({
        "blueprint_id": id,
        "workflow_id": workflow_id,
        "source_file_id": source.artifact_id,
        "title": p.title,
        "description": description.unwrap_or_else(|| format!("Blueprint for {}", p.title)),
        "current_state": {
            "description": format!("{} today: {} steps by {}, {} hand-offs, {} decisions.",
                p.title, c["total"], if roles.is_empty() { "unnamed roles".to_string() } else { roles.join(", ") },
                c["handoffs"], decisions),
            "workflow_chart": {"image_base64": chart(&current, None)?, "format": "png"},
            "workflow": current,
        },
        "coexistence_state": {
            "description": format!("With Symphainy: {} steps done by Symphainy, {} prepared by it for a person to confirm, {} with people; {:.0} % of the work done or prepared by Symphainy.",
                c["ai_suitable"], c["hybrid"], c["human_focused"], share * 100.0),
            "workflow_chart": {"image_base64": chart(&future, Some(&kinds))?, "format": "png"},
            "workflow": future,
        },
        "roadmap": {"phases": phases, "total_weeks": plan.total_weeks},
        "responsibility_matrix": {"responsibilities": responsibilities(&p, &judgements)},
        "analysis": {"counts": analysis["counts"], "metrics": analysis["metrics"]},
    });
    register(ctx, &id, "blueprint", &source.artifact_id, payload.clone()).await?;
    Ok(payload)
}
