//! What the optional language model adds to a coexistence analysis, when one is configured:
//! - it judges the steps no word rule decides (their rule-based reason is "no data-handling
//!   word", and they count as human-focused until judged): one question for all of them, whose
//!   answer must be a JSON array of `{step_number, classification, reason}`; each judged step
//!   keeps the model's reason and is marked `decided_by: "language_model"`, and every count,
//!   recommendation and metric is computed from the judged classification;
//! - it words a blueprint's summary for a business reader, kept only if every number of the
//!   rule-based summary appears in it unchanged.
//!
//! Anything else (no model, a failure, a timeout, an answer that does not parse, a step number
//! not asked about, an unknown classification) keeps the rule-based result.

use std::collections::BTreeSet;

use serde_json::Value;

use super::coexistence::{Judgement, Kind};
use super::procedure::Procedure;
use crate::runtime::engine::language::Language;

/// The most steps one question lists; later undecided steps stay with the rules.
const MAX_ASKED: usize = 60;
/// The most of a step's text the question quotes, in characters.
const MAX_STEP_CHARS: usize = 400;
/// The longest answer read, in bytes.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// The longest reason kept from the model, in characters.
const MAX_REASON_CHARS: usize = 300;

const JUDGE_INSTRUCTIONS: &str = "You classify the steps of a business procedure by who should do them. \
ai_suitable: software can do it unaided (moving, checking or producing information). \
human_focused: it needs a person's judgement, authority, presence or care. \
hybrid: software prepares it and a person confirms. \
Answer with a JSON array only, one object per step: \
[{\"step_number\": <number>, \"classification\": \"ai_suitable\"|\"human_focused\"|\"hybrid\", \"reason\": \"<one short sentence>\"}].";

const SUMMARY_INSTRUCTIONS: &str =
    "Rewrite the summary of a process analysis below in one or two plain \
sentences for a business reader. Keep every number exactly as written; add no facts.";

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Asks the model about the steps the rules left undecided, and applies its answers.
/// Returns how many steps it judged.
pub async fn judge_undecided(
    language: &Language,
    p: &Procedure,
    judgements: &mut [Judgement],
) -> usize {
    if !language.is_configured() {
        return 0;
    }
    let asked: Vec<usize> = judgements
        .iter()
        .enumerate()
        .filter(|(_, j)| j.undecided())
        .map(|(i, _)| i)
        .take(MAX_ASKED)
        .collect();
    if asked.is_empty() {
        return 0;
    }
    let mut prompt = format!("Procedure: {}\n\nSteps:\n", clip(&p.title, MAX_STEP_CHARS));
    for &i in &asked {
        let s = &p.steps[i];
        prompt.push_str(&format!(
            "- step_number {}{}: {}\n",
            s.number,
            s.role
                .as_deref()
                .map(|r| format!(" (role: {})", clip(r, 80)))
                .unwrap_or_default(),
            clip(&s.description, MAX_STEP_CHARS)
        ));
    }
    let Ok(answer) = language
        .answer(JUDGE_INSTRUCTIONS, &prompt, MAX_ANSWER_BYTES)
        .await
    else {
        return 0;
    };
    apply(&answer, p, &asked, judgements)
}

/// Applies a model's answer to the asked steps (indexes into `p.steps`).
fn apply(answer: &str, p: &Procedure, asked: &[usize], judgements: &mut [Judgement]) -> usize {
    let items = match (answer.find('['), answer.rfind(']')) {
        (Some(a), Some(b)) if a < b => serde_json::from_str::<Vec<Value>>(&answer[a..=b]),
        _ => {
            tracing::warn!("the language model's judgement is not a JSON array; keeping the rules");
            return 0;
        }
    };
    let Ok(items) = items else {
        tracing::warn!("the language model's judgement does not parse; keeping the rules");
        return 0;
    };
    let mut done = BTreeSet::new();
    for item in items {
        let Some(number) = item["step_number"].as_u64() else {
            continue;
        };
        let kind = match item["classification"].as_str() {
            Some("ai_suitable") => Kind::Ai,
            Some("human_focused") => Kind::Human,
            Some("hybrid") => Kind::Hybrid,
            _ => continue,
        };
        let Some(&i) = asked.iter().find(|&&i| p.steps[i].number as u64 == number) else {
            continue;
        };
        if !done.insert(i) {
            continue;
        }
        let reason = item["reason"]
            .as_str()
            .map(|r| clip(r.trim(), MAX_REASON_CHARS))
            .filter(|r| !r.is_empty())
            .unwrap_or_else(|| "no reason given".into());
        judgements[i] = Judgement {
            kind,
            reason: vec![format!("language model: {reason}")],
            decided_by: "language_model",
        };
    }
    done.len()
}

/// The numbers written in a text, as they are written ("0.6", "3", "83").
fn numbers(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map(|w| w.trim_matches('.'))
        .filter(|w| w.chars().any(|c| c.is_ascii_digit()))
        .collect()
}

/// The model's wording of a summary, if it keeps every number of the plain one.
pub async fn word_summary(language: &Language, plain: &str) -> Option<String> {
    if !language.is_configured() {
        return None;
    }
    let worded = language
        .answer(SUMMARY_INSTRUCTIONS, plain, 4 * 1024)
        .await
        .ok()?;
    let worded = worded.trim().to_string();
    let have = numbers(&worded);
    if worded.is_empty() || numbers(plain).iter().any(|n| !have.contains(n)) {
        tracing::warn!(
            "the language model's summary changed or dropped a number; keeping the plain one"
        );
        return None;
    }
    Some(worded)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::realms::operations::{coexistence::judge, extract};

    fn procedure() -> Procedure {
        let sop = "# Visit\n1. The nurse greets the patient.\n2. The nurse enters the readings.\n3. The nurse tidies the room.\n";
        extract::procedure(&sop.lines().map(String::from).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn only_asked_steps_with_a_known_classification_are_changed() {
        let p = procedure();
        let mut js = judge(&p);
        // Steps 1 and 3 have no telling word; step 2 "enters".
        let asked: Vec<usize> = js
            .iter()
            .enumerate()
            .filter(|(_, j)| j.undecided())
            .map(|(i, _)| i)
            .collect();
        assert_eq!(asked, [0, 2]);
        let answer = r#"Here you are: [
            {"step_number": 1, "classification": "hybrid", "reason": "a kiosk can check in"},
            {"step_number": 2, "classification": "human_focused", "reason": "not asked"},
            {"step_number": 3, "classification": "robotic", "reason": "unknown kind"},
            {"step_number": 1, "classification": "ai_suitable", "reason": "a repeat"}
        ] done"#;
        assert_eq!(apply(answer, &p, &asked, &mut js), 1);
        assert_eq!(js[0].kind, Kind::Hybrid);
        assert_eq!(js[0].reason, ["language model: a kiosk can check in"]);
        assert_eq!(js[0].decided_by, "language_model");
        // Step 2 was decided by its word, step 3's answer was not a classification.
        assert_eq!((js[1].kind, js[1].decided_by), (Kind::Ai, "rules"));
        assert!(js[2].undecided());
        // Not JSON: nothing changes.
        let mut again = judge(&p);
        assert_eq!(apply("[not json]", &p, &asked, &mut again), 0);
        assert_eq!(again, judge(&p));
    }

    #[test]
    fn numbers_are_read_as_written() {
        assert_eq!(
            numbers("Visit: 3 steps, 0.5 share; 83 %."),
            ["3", "0.5", "83"]
        );
    }
}
