//! The platform's journey, as `get_journey_guidance` measures a session against it: nine
//! steps, each done when the session holds an artifact it makes.
//!
//! | step | done when the session has | intent |
//! |---|---|---|
//! | Upload a file | a file | `ingest_file` |
//! | Save it | a saved (active) file | `save_materialization` |
//! | Parse it | a parse | `parse_content` |
//! | Assess its quality | a quality assessment | `assess_data_quality` |
//! | Analyse it | an analysis, discovery or relationship map | `analyze_structured_data` |
//! | Turn an SOP into a workflow | an SOP or a workflow | `create_workflow` |
//! | Find where AI can help | a coexistence analysis | `analyze_coexistence` |
//! | Synthesise the outcomes | a synthesis | `synthesize_outcome` |
//! | Plan the change | a roadmap, POC or blueprint | `generate_roadmap` |
//!
//! `progress.share` is the steps done ÷ 9. The next steps are the first three not done —
//! those of the pillar the user's goal is about first, when the goal names one.

use serde_json::{json, Value};

use crate::runtime::realms::outcomes::session_work::SessionWork;

struct Step {
    text: &'static str,
    types: &'static [&'static str],
    intent: &'static str,
    pillar: &'static str,
}

const STEPS: [Step; 9] = [
    Step {
        text: "Upload a file",
        types: &["file"],
        intent: "ingest_file",
        pillar: "content",
    },
    Step {
        text: "Save it",
        types: &["file"],
        intent: "save_materialization",
        pillar: "content",
    },
    Step {
        text: "Parse it",
        types: &["parsed_file"],
        intent: "parse_content",
        pillar: "content",
    },
    Step {
        text: "Assess its quality",
        types: &["quality_assessment"],
        intent: "assess_data_quality",
        pillar: "insights",
    },
    Step {
        text: "Analyse it",
        types: &[
            "structured_analysis",
            "unstructured_analysis",
            "discovery",
            "relationships",
        ],
        intent: "analyze_structured_data",
        pillar: "insights",
    },
    Step {
        text: "Turn an SOP into a workflow",
        types: &["sop", "workflow"],
        intent: "create_workflow",
        pillar: "operations",
    },
    Step {
        text: "Find where AI can help",
        types: &["coexistence_analysis"],
        intent: "analyze_coexistence",
        pillar: "operations",
    },
    Step {
        text: "Synthesise the outcomes",
        types: &["synthesis"],
        intent: "synthesize_outcome",
        pillar: "business_outcomes",
    },
    Step {
        text: "Plan the change",
        types: &["roadmap", "poc", "blueprint"],
        intent: "generate_roadmap",
        pillar: "business_outcomes",
    },
];

fn count(work: &SessionWork, i: usize) -> usize {
    let s = &STEPS[i];
    if s.intent == "save_materialization" {
        return work
            .of("file")
            .iter()
            .filter(|f| f.lifecycle_state == "active")
            .count();
    }
    s.types.iter().map(|t| work.of(t).len()).sum()
}

/// The guidance payload for a goal (and the pillar it is about, if known).
pub fn guidance(work: &SessionWork, goal: &str, pillar: Option<&str>) -> Value {
    let counts: Vec<usize> = (0..STEPS.len()).map(|i| count(work, i)).collect();
    let done = counts.iter().filter(|c| **c > 0).count();
    let steps: Vec<Value> = STEPS
        .iter()
        .zip(&counts)
        .map(|(s, c)| {
            json!({"step": s.text, "intent": s.intent, "pillar": s.pillar,
            "done": *c > 0, "count": c})
        })
        .collect();
    let mut open: Vec<usize> = (0..STEPS.len()).filter(|i| counts[*i] == 0).collect();
    if let Some(p) = pillar {
        open.sort_by_key(|i| (STEPS[*i].pillar != p, *i));
    }
    let next: Vec<Value> = open
        .iter()
        .take(3)
        .map(|i| {
            json!({"step": STEPS[*i].text, "intent": STEPS[*i].intent,
            "pillar": STEPS[*i].pillar})
        })
        .collect();
    let share = (done as f64 / STEPS.len() as f64 * 1000.0).round() / 1000.0;
    let guidance = match next.first() {
        None => format!("All {} steps of the journey are done.", STEPS.len()),
        Some(n) => format!(
            "{done} of {} steps done{}. Next: {} ({}).",
            STEPS.len(),
            if goal.trim().is_empty() {
                String::new()
            } else {
                format!(" toward \"{}\"", goal.trim())
            },
            n["step"].as_str().unwrap_or(""),
            n["intent"].as_str().unwrap_or("")
        ),
    };
    json!({"guidance": guidance, "next_steps": next, "user_goal": goal,
        "suggested_pillar": pillar,
        "progress": {"done": done, "total": STEPS.len(), "share": share, "steps": steps}})
}
