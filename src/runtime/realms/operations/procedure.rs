//! A procedure as the operations pillar understands one: a title and numbered steps, each with
//! who does it, what it produces, and, for a decision, the condition and where each branch
//! goes. SOP text, a workflow graph, BPMN XML and Mermaid all read into it and are written
//! from it, so a round trip keeps every step, role and decision.

use serde::{Deserialize, Serialize};

/// Steps in one procedure at most.
pub const MAX_STEPS: usize = 500;
/// The text of one step at most (characters).
pub const MAX_STEP_CHARS: usize = 2_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Procedure {
    pub title: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// 1, 2, 3 … in order.
    pub number: usize,
    /// A short name: the step's text up to its first clause, at most 60 characters.
    pub title: String,
    /// The step's whole text.
    pub description: String,
    /// Who does it ("clerk", "Accounts payable clerk"), when the text says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// What it produces, when the text says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// A decision: the condition, and the step taken when it holds (when the text names one);
    /// otherwise the next step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// "the amount exceeds 500 EUR".
    pub condition: String,
    /// What happens when it holds: "the manager approves it".
    pub then: String,
}

/// A step's title: its text up to the first comma, semicolon or full stop, at most 60
/// characters (cut at a word).
pub fn title_of(text: &str) -> String {
    let first = text
        .split([',', ';'])
        .next()
        .unwrap_or(text)
        .trim()
        .trim_end_matches('.');
    if first.chars().count() <= 60 {
        return first.to_string();
    }
    let mut out = String::new();
    for word in first.split_whitespace() {
        if out.chars().count() + word.chars().count() + 1 > 57 {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.push('…');
    out
}
