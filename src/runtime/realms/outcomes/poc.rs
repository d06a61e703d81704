//! `create_poc`: a proof of concept of the plan's first automation phase (Quick wins, else
//! the first phase that changes a step), with the data readiness it needs. Its objectives
//! are that phase's items; its scope the steps they change (in) and the steps left to
//! people (out); its resources the roles of the steps in scope and Symphainy; its success
//! criteria are measurable: each step in scope done or prepared by Symphainy, each file under
//! the quality target raised to it, and the hand-offs those steps remove.

use serde_json::{json, Value};

use super::plan::{weeks_text, Plan, QUALITY_TARGET};

pub fn poc(plan: &Plan, id: &str, description: &str, start: chrono::NaiveDate) -> Value {
    let automation = plan
        .phases
        .iter()
        .find(|p| p.items.iter().any(|i| i.step_number.is_some()));
    let readiness = plan.phases.iter().find(|p| p.name == "Data readiness");
    let mut items = Vec::new();
    if let Some(r) = readiness {
        items.extend(r.items.iter());
    }
    if let Some(a) = automation {
        items.extend(a.items.iter());
    }
    let weeks: u32 = readiness.map_or(0, |p| p.weeks) + automation.map_or(0, |p| p.weeks);
    let end = start + chrono::Duration::days(7 * weeks as i64);
    let steps: Vec<u64> = items.iter().filter_map(|i| i.step_number).collect();
    let analysis = plan.analysis.as_ref();
    let tasks: Vec<&Value> = analysis
        .and_then(|a| a["tasks"].as_array())
        .map(|t| t.iter().collect())
        .unwrap_or_default();
    let in_scope = |t: &&Value| {
        t["step_number"]
            .as_u64()
            .is_some_and(|n| steps.contains(&n))
    };
    let scoped: Vec<String> = tasks
        .iter()
        .filter(|t| in_scope(t))
        .map(|t| {
            format!(
                "Step {}: {}",
                t["step_number"],
                t["title"].as_str().unwrap_or("")
            )
        })
        .collect();
    let out_of_scope: Vec<String> = tasks
        .iter()
        .filter(|t| t["classification"] == "human_focused")
        .map(|t| {
            format!(
                "Step {}: {} (stays with people)",
                t["step_number"],
                t["title"].as_str().unwrap_or("")
            )
        })
        .collect();
    let mut resources: Vec<String> = tasks
        .iter()
        .filter(|t| in_scope(t))
        .filter_map(|t| t["role"].as_str().map(String::from))
        .collect();
    resources.sort();
    resources.dedup();
    resources.push("Symphainy".into());
    let mut criteria: Vec<String> = tasks
        .iter()
        .filter(|t| in_scope(t))
        .map(|t| {
            let how = if t["classification"] == "ai_suitable" {
                "done by Symphainy"
            } else {
                "prepared by Symphainy and confirmed by a person"
            };
            format!(
                "Step {} ({}) {how} in every run of the pilot",
                t["step_number"],
                t["title"].as_str().unwrap_or("")
            )
        })
        .collect();
    // A hand-off into a step Symphainy then does no longer waits for a person.
    let removed: Vec<String> = analysis
        .and_then(|a| a["friction_points"].as_array())
        .into_iter()
        .flatten()
        .filter(|f| f["type"] == "handoff")
        .filter_map(|f| f["step_number"].as_u64())
        .filter(|n| {
            steps.contains(n)
                && tasks.iter().any(|t| {
                    t["step_number"].as_u64() == Some(*n) && t["classification"] == "ai_suitable"
                })
        })
        .map(|n| n.to_string())
        .collect();
    if !removed.is_empty() {
        criteria.push(format!(
            "{} hand-off{} to a person removed (before step {})",
            removed.len(),
            if removed.len() == 1 { "" } else { "s" },
            removed.join(", ")
        ));
    }
    for g in &plan.gaps {
        criteria.push(format!(
            "{} scores at least {:.2} on data quality (now {:.2})",
            g.file, QUALITY_TARGET, g.score
        ));
    }
    let objectives: Vec<Value> = items
        .iter()
        .map(|i| json!({"description": i.text, "effort": i.effort, "weeks": i.weeks}))
        .collect();
    let phases: Vec<&str> = [readiness.map(|p| p.name), automation.map(|p| p.name)]
        .into_iter()
        .flatten()
        .collect();
    json!({
        "poc_id": id,
        "description": description,
        "status": "proposed",
        "objectives": objectives,
        "scope": {"in_scope": scoped, "out_of_scope": out_of_scope,
            "phases": phases},
        "timeline": {"start_date": start.to_string(), "end_date": end.to_string(),
            "duration": weeks_text(weeks)},
        "estimated_duration_weeks": weeks,
        "resources": resources,
        "success_criteria": criteria,
        "deliverables": ["The optimized SOP and its workflow", "A pilot run log per step in scope",
            "A before-and-after report of the success criteria"],
        "financials": {"estimated": false,
            "note": "no cost figures are in this session's data, so none are given"},
    })
}
