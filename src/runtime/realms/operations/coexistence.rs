//! Where people and AI can work together in a procedure, deterministically. Each step is
//! classified by the words of its text:
//! - **AI-suitable** when it moves or checks information: enter, record, copy, check, match,
//!   compare, calculate, validate, verify, look up, extract, sort, classify, reconcile, fill,
//!   update, notify, remind, route, schedule, generate, send, collect, log, scan;
//! - **human-focused** when it needs judgement, authority or presence: approve, decide,
//!   negotiate, interview, sign, authorize, escalate, counsel, meet, call, inspect, hand over,
//!   resolve, agree;
//! - **hybrid** when it has words of both kinds, or is a decision on a stated condition (AI
//!   can check the condition, a person decides), or reviews (AI prepares, a person confirms).
//!
//! The words that decided are its reason. Friction points: a hand-off (the role changes from
//! one step to the next), a wait ("wait", "until"), a decision with no one named to take it,
//! and repeated manual data handling (two or more AI-suitable steps by one role).
//! Recommendations, one per AI-suitable or hybrid step:
//! - **impact:** high when the step sits before a decision or a hand-off (it holds up the
//!   flow), medium otherwise;
//! - **effort:** low for moving data (enter, record, copy, notify, send, log, remind, fill,
//!   update), medium for checking it, high for the rest;
//! - **priority:** 1 for high impact at low effort, 2 for high at medium or medium at low,
//!   3 for medium at medium, 4 otherwise.
//!
//! The metrics follow from the counts: `automation_share` = (AI-suitable + ½ hybrid) ÷ steps,
//! and `handoffs_removed` = the hand-offs into AI-suitable steps, which no longer wait for a
//! person.

use serde_json::{json, Value};

use super::procedure::{Procedure, Step};

const AI_WORDS: &[&str] = &[
    "enter",
    "enters",
    "record",
    "records",
    "copy",
    "copies",
    "check",
    "checks",
    "match",
    "matches",
    "compare",
    "compares",
    "calculate",
    "calculates",
    "validate",
    "validates",
    "verify",
    "verifies",
    "look",
    "extract",
    "extracts",
    "sort",
    "sorts",
    "classify",
    "classifies",
    "reconcile",
    "reconciles",
    "fill",
    "fills",
    "update",
    "updates",
    "notify",
    "notifies",
    "remind",
    "reminds",
    "route",
    "routes",
    "schedule",
    "schedules",
    "generate",
    "generates",
    "send",
    "sends",
    "collect",
    "collects",
    "log",
    "logs",
    "scan",
    "scans",
    "receive",
    "receives",
    "pay",
    "pays",
    "file",
    "files",
];
const HUMAN_WORDS: &[&str] = &[
    "approve",
    "approves",
    "decide",
    "decides",
    "negotiate",
    "negotiates",
    "interview",
    "interviews",
    "sign",
    "signs",
    "authorize",
    "authorizes",
    "authorise",
    "authorises",
    "escalate",
    "escalates",
    "counsel",
    "counsels",
    "meet",
    "meets",
    "call",
    "calls",
    "inspect",
    "inspects",
    "hand",
    "hands",
    "resolve",
    "resolves",
    "agree",
    "agrees",
    "judge",
    "judges",
    "welcome",
    "welcomes",
];
const REVIEW_WORDS: &[&str] = &[
    "review",
    "reviews",
    "assess",
    "assesses",
    "evaluate",
    "evaluates",
];
const LOW_EFFORT: &[&str] = &[
    "enter", "enters", "record", "records", "copy", "copies", "notify", "notifies", "send",
    "sends", "log", "logs", "remind", "reminds", "fill", "fills", "update", "updates", "receive",
    "receives", "file", "files",
];
const CHECKING: &[&str] = &[
    "check",
    "checks",
    "match",
    "matches",
    "compare",
    "compares",
    "validate",
    "validates",
    "verify",
    "verifies",
    "reconcile",
    "reconciles",
    "calculate",
    "calculates",
    "pay",
    "pays",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Ai,
    Human,
    Hybrid,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Ai => "ai_suitable",
            Kind::Human => "human_focused",
            Kind::Hybrid => "hybrid",
        }
    }
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// A step's kind and the words (or the pattern) that decided it.
pub fn classify(step: &Step) -> (Kind, Vec<String>) {
    let ws = words(&step.description);
    let found = |list: &[&str]| -> Vec<String> {
        let mut f: Vec<String> = ws
            .iter()
            .filter(|w| list.contains(&w.as_str()))
            .cloned()
            .collect();
        f.dedup();
        f
    };
    let (ai, human, review) = (found(AI_WORDS), found(HUMAN_WORDS), found(REVIEW_WORDS));
    if let Some(d) = &step.decision {
        let mut reason = vec![format!("a decision on \"{}\"", d.condition)];
        reason.extend(human);
        return (Kind::Hybrid, reason);
    }
    if !review.is_empty() || (!ai.is_empty() && !human.is_empty()) {
        let mut reason = ai;
        reason.extend(human);
        reason.extend(review);
        return (Kind::Hybrid, reason);
    }
    if !human.is_empty() {
        return (Kind::Human, human);
    }
    if !ai.is_empty() {
        return (Kind::Ai, ai);
    }
    // No telling words: a person does it until someone says otherwise.
    (Kind::Human, vec![UNDECIDED.into()])
}

/// The reason of a step no word rule decides (a person does it by default).
pub const UNDECIDED: &str = "no data-handling word";

/// A step's classification, its reason, and what decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub kind: Kind,
    pub reason: Vec<String>,
    /// `"rules"`, or `"language_model"` when the optional model judged a step the rules left
    /// undecided.
    pub decided_by: &'static str,
}

impl Judgement {
    /// True when no word rule decided the step.
    pub fn undecided(&self) -> bool {
        self.decided_by == "rules" && self.reason.len() == 1 && self.reason[0] == UNDECIDED
    }
}

/// Every step's judgement by the word rules.
pub fn judge(p: &Procedure) -> Vec<Judgement> {
    p.steps
        .iter()
        .map(|s| {
            let (kind, reason) = classify(s);
            Judgement {
                kind,
                reason,
                decided_by: "rules",
            }
        })
        .collect()
}

fn effort(reason: &[String]) -> &'static str {
    if reason.iter().any(|w| LOW_EFFORT.contains(&w.as_str())) {
        "low"
    } else if reason.iter().any(|w| CHECKING.contains(&w.as_str())) {
        "medium"
    } else {
        "high"
    }
}

fn priority(impact: &str, effort: &str) -> u8 {
    match (impact, effort) {
        ("high", "low") => 1,
        ("high", "medium") | ("medium", "low") => 2,
        ("medium", "medium") => 3,
        _ => 4,
    }
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The analysis of a procedure: tasks, friction points, counts, recommendations, metrics,
/// and the optimized SOP and workflow texts (by `optimize`).
pub fn analyze(p: &Procedure, judgements: &[Judgement]) -> Value {
    let kinds: Vec<(Kind, Vec<String>)> = p
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| match judgements.get(i) {
            Some(j) => (j.kind, j.reason.clone()),
            None => classify(s),
        })
        .collect();
    let mut tasks = Vec::new();
    let mut friction = Vec::new();
    let mut recommendations = Vec::new();
    let mut handoffs = 0;
    let mut handoffs_into_ai = 0;
    for (i, s) in p.steps.iter().enumerate() {
        let (kind, reason) = &kinds[i];
        let decided_by = judgements.get(i).map_or("rules", |j| j.decided_by);
        tasks.push(
            json!({"step_number": s.number, "title": s.title, "role": s.role,
            "classification": kind.as_str(), "reason": reason, "decided_by": decided_by}),
        );
        let next = p.steps.get(i + 1);
        let handoff =
            next.is_some_and(|n| n.role.is_some() && s.role.is_some() && n.role != s.role);
        if handoff {
            handoffs += 1;
            let n = next.unwrap_or(s);
            if kinds[i + 1].0 == Kind::Ai {
                handoffs_into_ai += 1;
            }
            friction.push(json!({"type": "handoff", "step_number": n.number,
                "description": format!("hand-off from {} to {} before step {}",
                    s.role.as_deref().unwrap_or("?"), n.role.as_deref().unwrap_or("?"), n.number)}));
        }
        let lower = s.description.to_lowercase();
        if lower.contains("wait") || lower.contains(" until ") {
            friction.push(json!({"type": "wait", "step_number": s.number,
                "description": format!("step {} waits: \"{}\"", s.number, s.title)}));
        }
        if s.decision.is_some() && s.role.is_none() {
            friction.push(json!({"type": "unowned_decision", "step_number": s.number,
                "description": format!("no one is named to decide at step {}", s.number)}));
        }
        if *kind != Kind::Human {
            let before_gate = next.is_some_and(|n| n.decision.is_some()) || handoff;
            let impact = if before_gate { "high" } else { "medium" };
            let effort = effort(reason);
            let action = match kind {
                Kind::Ai => format!("Let Symphainy do step {}: {}", s.number, s.title),
                _ => format!(
                    "Let Symphainy prepare step {} ({}) for {} to confirm",
                    s.number,
                    s.title,
                    s.role.as_deref().unwrap_or("a person")
                ),
            };
            recommendations.push(json!({"step_number": s.number, "recommendation": action,
                "impact": impact, "effort": effort, "priority": priority(impact, effort)}));
        }
    }
    // Repeated manual data handling: two or more AI-suitable steps by one role.
    let mut by_role: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, s) in p.steps.iter().enumerate() {
        if kinds[i].0 == Kind::Ai {
            by_role
                .entry(s.role.as_deref().unwrap_or("?"))
                .or_default()
                .push(s.number);
        }
    }
    for (role, steps) in by_role.iter().filter(|(_, v)| v.len() >= 2) {
        friction.push(json!({"type": "manual_data_handling", "steps": steps,
            "description": format!("{role} handles data by hand in {} steps", steps.len())}));
    }
    recommendations.sort_by_key(|r| (r["priority"].as_u64(), r["step_number"].as_u64()));
    let count = |k: Kind| kinds.iter().filter(|(x, _)| *x == k).count();
    let (ai, human, hybrid) = (count(Kind::Ai), count(Kind::Human), count(Kind::Hybrid));
    let total = p.steps.len();
    let share = round((ai as f64 + hybrid as f64 / 2.0) / total.max(1) as f64);
    json!({
        "tasks": tasks,
        "friction_points": friction,
        "counts": {"total": total, "ai_suitable": ai, "human_focused": human, "hybrid": hybrid,
            "handoffs": handoffs,
            "judged_by_model": judgements.iter().filter(|j| j.decided_by == "language_model").count()},
        "recommendations": recommendations,
        "metrics": {"automation_share": share, "handoffs_removed": handoffs_into_ai},
    })
}

/// The procedure with the analysis applied: AI-suitable steps done by Symphainy, hybrid ones
/// prepared by it for their role to confirm.
pub fn optimize(p: &Procedure, judgements: &[Judgement]) -> Procedure {
    let mut out = p.clone();
    for (i, s) in out.steps.iter_mut().enumerate() {
        let kind = judgements.get(i).map_or_else(|| classify(s).0, |j| j.kind);
        match kind {
            Kind::Ai => {
                s.description = format!("{} (done by Symphainy)", s.description);
                s.role = Some("Symphainy (AI)".into());
            }
            Kind::Hybrid => {
                s.description = format!(
                    "{} (Symphainy prepares it; {} confirms)",
                    s.description,
                    s.role.as_deref().unwrap_or("a person")
                );
            }
            Kind::Human => {}
        }
    }
    out.title = format!("{} (with Symphainy)", p.title);
    out
}

/// The coexistence blueprint the web frontend renders, from an analysis: every number in it
/// is one of the analysis's counts or metrics.
pub fn blueprint(p: &Procedure, analysis: &Value) -> Value {
    let c = &analysis["counts"];
    let m = &analysis["metrics"];
    let share = m["automation_share"].as_f64().unwrap_or(0.0);
    let recommendations: Vec<String> = analysis["recommendations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            format!(
                "{} (priority {}, impact {}, effort {})",
                r["recommendation"].as_str().unwrap_or(""),
                r["priority"],
                r["impact"].as_str().unwrap_or(""),
                r["effort"].as_str().unwrap_or("")
            )
        })
        .collect();
    let steps: Vec<String> = analysis["recommendations"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, r)| format!("{}. {}", i + 1, r["recommendation"].as_str().unwrap_or("")))
        .collect();
    let mut risks: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for f in analysis["friction_points"].as_array().into_iter().flatten() {
        let level = match f["type"].as_str() {
            Some("unowned_decision") => "high",
            Some("handoff") | Some("wait") => "medium",
            _ => "low",
        };
        risks
            .entry(level)
            .or_default()
            .push(f["description"].as_str().unwrap_or("").to_string());
    }
    json!({
        "summary": format!(
            "{}: {} steps, {} suited to Symphainy, {} hybrid, {} for people; {} hand-offs.",
            p.title, c["total"], c["ai_suitable"], c["hybrid"], c["human_focused"], c["handoffs"]
        ),
        "recommendations": recommendations,
        "implementationSteps": steps,
        "riskAssessment": risks,
        "successMetrics": [
            format!("{:.0} % of the work done or prepared by Symphainy", share * 100.0),
            format!("{} hand-offs to a person removed", m["handoffs_removed"]),
            format!("{} steps still needing a person's judgement", c["human_focused"]),
        ],
        "metrics": {
            "efficiency_gain": share,
            "time_savings": m["handoffs_removed"],
            "cost_reduction": share,
            "rule": "efficiency_gain and cost_reduction are the automation share ((AI-suitable + ½ hybrid) ÷ steps); time_savings counts the hand-offs removed",
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::realms::operations::extract;

    #[test]
    fn steps_are_classified_by_their_words_with_reasons() {
        let sop = "# Invoice approval\n\
            1. The clerk receives the invoice.\n\
            2. The clerk enters the invoice in the ledger.\n\
            3. If the amount exceeds 500 EUR, the manager approves it.\n\
            4. The treasurer signs the payment order.\n\
            5. The manager reviews the monthly totals.\n";
        let p = extract::procedure(&sop.lines().map(String::from).collect::<Vec<_>>()).unwrap();
        let a = analyze(&p, &judge(&p));
        let kinds: Vec<&str> = a["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["classification"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "ai_suitable",
                "ai_suitable",
                "hybrid",
                "human_focused",
                "hybrid"
            ]
        );
        assert_eq!(a["tasks"][1]["reason"], json!(["enters"]));
        assert_eq!(
            a["tasks"][2]["reason"],
            json!(["a decision on \"the amount exceeds 500 EUR\"", "approves"])
        );
        // clerk → manager before 3, manager → treasurer before 4, treasurer → manager before 5.
        assert_eq!(a["counts"]["handoffs"], 3);
        // (2 + ½ × 2) ÷ 5.
        assert_eq!(a["metrics"]["automation_share"], 0.6);
        // Step 2 sits before the decision (high impact) and enters data (low effort): first.
        assert_eq!(a["recommendations"][0]["step_number"], 2);
        assert_eq!(a["recommendations"][0]["priority"], 1);
        assert!(a["friction_points"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["type"] == "manual_data_handling"));
        let b = blueprint(&p, &a);
        assert_eq!(b["metrics"]["efficiency_gain"], 0.6);
        assert_eq!(
            b["successMetrics"][0],
            "60 % of the work done or prepared by Symphainy"
        );
        let o = optimize(&p, &judge(&p));
        assert_eq!(o.steps[1].role.as_deref(), Some("Symphainy (AI)"));
    }
}
