//! The plan every outcome is built from, by stated rules over the session's findings:
//! - **Data readiness** (first, when needed): one item per parsed file whose latest quality
//!   assessment scores under [`QUALITY_TARGET`], one week each;
//! - then the coexistence analysis's recommendations (the session's latest analysis, or the
//!   one given), in its order (priority, then step), grouped by priority: **Quick wins**
//!   (priority 1–2), **Core automation** (3), **Assisted steps** (4). An item takes 1 week at
//!   low effort, 2 at medium and 4 at high; a phase lasts the sum of its items (one team, one
//!   item after another).
//!
//! Empty phases are left out; phases are numbered from 1 in this order.

use serde_json::{json, Value};

use super::session_work::{num, SessionWork};

/// The quality score (0..1) a file should reach before its data is relied on.
pub const QUALITY_TARGET: f64 = 0.9;

/// One thing to do.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub text: String,
    pub weeks: u32,
    /// The procedure step it changes, for a recommendation.
    pub step_number: Option<u64>,
    pub priority: Option<u64>,
    pub effort: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    pub number: usize,
    pub name: &'static str,
    pub items: Vec<Item>,
    pub weeks: u32,
}

/// A file below the quality target.
#[derive(Debug, Clone, PartialEq)]
pub struct QualityGap {
    pub file: String,
    pub score: f64,
    pub issues: usize,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub phases: Vec<Phase>,
    pub total_weeks: u32,
    pub gaps: Vec<QualityGap>,
    /// The analysis the recommendations came from.
    pub analysis: Option<Value>,
}

fn effort_weeks(effort: &str) -> u32 {
    match effort {
        "low" => 1,
        "medium" => 2,
        _ => 4,
    }
}

/// "1 week", "3 weeks".
pub fn weeks_text(weeks: u32) -> String {
    if weeks == 1 {
        "1 week".into()
    } else {
        format!("{weeks} weeks")
    }
}

/// A quality assessment's issues: all it found (`issues_found`), not only those it lists.
pub fn issue_count(d: &Value) -> usize {
    d["issues_found"]
        .as_u64()
        .map(|n| n as usize)
        .unwrap_or_else(|| d["issues"].as_array().map_or(0, Vec::len))
}

/// The files under the quality target: each parsed file's latest assessment.
pub fn quality_gaps(work: &SessionWork) -> Vec<QualityGap> {
    let mut latest: std::collections::BTreeMap<String, &Value> = Default::default();
    for q in work.of("quality_assessment") {
        let d = &q.semantic_descriptor;
        if let Some(parsed) = d["parsed_file_ids"][0].as_str() {
            latest.insert(parsed.to_string(), d);
        }
    }
    latest
        .into_iter()
        .filter_map(|(parsed, d)| {
            let score = num(d, "quality_score")?;
            (score < QUALITY_TARGET).then(|| QualityGap {
                file: work.name_of(&parsed),
                score,
                issues: issue_count(d),
            })
        })
        .collect()
}

/// The plan from the session's findings and `analysis` (a coexistence analysis descriptor;
/// `None` takes the session's latest).
pub fn plan(work: &SessionWork, analysis: Option<&Value>) -> Plan {
    let analysis = analysis.cloned().or_else(|| {
        work.latest("coexistence_analysis")
            .map(|a| a.semantic_descriptor.clone())
    });
    let gaps = quality_gaps(work);
    let mut phases = Vec::new();
    let readiness: Vec<Item> = gaps
        .iter()
        .map(|g| Item {
            text: format!(
                "Raise the quality of {} from {:.2} to at least {:.2} ({} issues to resolve)",
                g.file, g.score, QUALITY_TARGET, g.issues
            ),
            weeks: 1,
            step_number: None,
            priority: None,
            effort: "low".into(),
        })
        .collect();
    let recommendations: Vec<Item> = analysis
        .as_ref()
        .and_then(|a| a["recommendations"].as_array())
        .into_iter()
        .flatten()
        .map(|r| {
            let effort = r["effort"].as_str().unwrap_or("high").to_string();
            Item {
                text: r["recommendation"].as_str().unwrap_or("").to_string(),
                weeks: effort_weeks(&effort),
                step_number: r["step_number"].as_u64(),
                priority: r["priority"].as_u64(),
                effort,
            }
        })
        .collect();
    let groups: [(&'static str, Vec<Item>); 4] = [
        ("Data readiness", readiness),
        (
            "Quick wins",
            recommendations
                .iter()
                .filter(|i| i.priority.unwrap_or(4) <= 2)
                .cloned()
                .collect(),
        ),
        (
            "Core automation",
            recommendations
                .iter()
                .filter(|i| i.priority == Some(3))
                .cloned()
                .collect(),
        ),
        (
            "Assisted steps",
            recommendations
                .iter()
                .filter(|i| i.priority.unwrap_or(4) >= 4)
                .cloned()
                .collect(),
        ),
    ];
    for (name, items) in groups {
        if items.is_empty() {
            continue;
        }
        let weeks = items.iter().map(|i| i.weeks).sum();
        phases.push(Phase {
            number: phases.len() + 1,
            name,
            items,
            weeks,
        });
    }
    let total_weeks = phases.iter().map(|p| p.weeks).sum();
    Plan {
        phases,
        total_weeks,
        gaps,
        analysis,
    }
}

impl Plan {
    /// Why there is nothing to plan, if so.
    pub fn require_some(&self) -> Result<(), String> {
        if self.phases.is_empty() {
            Err(
                "nothing to plan from yet: this session has no coexistence recommendations \
                 (run analyze_coexistence on an SOP) and no file under the quality target \
                 (run assess_data_quality on a parsed file)"
                    .into(),
            )
        } else {
            Ok(())
        }
    }

    /// The phases as the web frontend's roadmap renders them, with `milestones` and
    /// `objectives` both listing the phase's items.
    pub fn phases_json(&self, start: chrono::NaiveDate) -> Vec<Value> {
        let mut at = start;
        self.phases
            .iter()
            .map(|p| {
                let end = at + chrono::Duration::days(7 * p.weeks as i64);
                let items: Vec<&str> = p.items.iter().map(|i| i.text.as_str()).collect();
                let v = json!({"phase": p.number, "name": p.name, "duration": weeks_text(p.weeks),
                    "duration_weeks": p.weeks, "start_date": at.to_string(), "end_date": end.to_string(),
                    "milestones": items, "objectives": items});
                at = end;
                v
            })
            .collect()
    }

    /// The analysis's automation share (what the recommendations reach), if there is one.
    pub fn automation_share(&self) -> Option<f64> {
        self.analysis
            .as_ref()
            .and_then(|a| a["metrics"]["automation_share"].as_f64())
    }
}

/// The day a plan starts: the day it is made (UTC).
pub fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}
