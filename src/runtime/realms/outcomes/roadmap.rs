//! `generate_roadmap`: the plan's phases in time. Each phase starts when the one before it
//! ends; the first starts the day the roadmap is made. Its milestones are the phase's items;
//! its metrics are the analysis's (the automation share its recommendations reach) and the
//! files under the quality target.

use serde_json::{json, Value};

use super::plan::{weeks_text, Plan};

/// The roadmap payload: the web frontend's `{strategic_plan, roadmap{phases, timeline}}`,
/// with the flat `phases`, `plan`, `goals` and `metrics` its other reader takes.
pub fn roadmap(
    plan: &Plan,
    id: &str,
    description: &str,
    goals: &[String],
    start: chrono::NaiveDate,
) -> Value {
    let phases = plan.phases_json(start);
    let end = start + chrono::Duration::days(7 * plan.total_weeks as i64);
    let items: usize = plan.phases.iter().map(|p| p.items.len()).sum();
    let overview = format!(
        "{} over {}, {} in all: {}.",
        if plan.phases.len() == 1 {
            "1 phase".to_string()
        } else {
            format!("{} phases", plan.phases.len())
        },
        weeks_text(plan.total_weeks),
        if items == 1 {
            "1 item".to_string()
        } else {
            format!("{items} items")
        },
        plan.phases
            .iter()
            .map(|p| format!("{} ({})", p.name, weeks_text(p.weeks)))
            .collect::<Vec<_>>()
            .join(", then ")
    );
    let goals: Vec<String> = if goals.is_empty() {
        plan.phases.iter().map(|p| p.name.to_string()).collect()
    } else {
        goals.to_vec()
    };
    let plan_rows: Vec<Value> = plan
        .phases
        .iter()
        .map(|p| {
            json!({"phase": p.number, "description": format!("{}: {}", p.name,
            p.items.iter().map(|i| i.text.as_str()).collect::<Vec<_>>().join("; "))})
        })
        .collect();
    json!({
        "roadmap_id": id,
        "description": description,
        "status": "draft",
        "goals": goals,
        "strategic_plan": {"overview": overview},
        "roadmap": {
            "phases": phases,
            "timeline": {"start_date": start.to_string(), "end_date": end.to_string(),
                "total_duration": weeks_text(plan.total_weeks), "total_weeks": plan.total_weeks},
        },
        "phases": phases,
        "plan": plan_rows,
        "metrics": {
            "automation_share_target": plan.automation_share(),
            "files_below_quality_target": plan.gaps.len(),
            "total_weeks": plan.total_weeks,
        },
        "rules": "phases: Data readiness (files under the quality target, 1 week each), Quick wins (priority 1-2), Core automation (3), Assisted steps (4); an item takes 1/2/4 weeks at low/medium/high effort; a phase lasts the sum of its items",
    })
}
