//! An SOP's structure from its text, deterministically:
//! - **the title:** the first heading (`# …`, or a Word heading), else the first line that is
//!   not a step;
//! - **steps:** numbered lines (`1.`, `2)`, `Step 3:`); bulleted lines (`-`, `*`, `•`) are
//!   steps only when nothing is numbered, otherwise they add to the step above; other text
//!   under a step adds to it;
//! - **roles:** a `Role:` (or `Actor:`, `Owner:`, `Responsible:`) line names who does the
//!   steps after it; a step whose sentence starts with an article and a noun before its verb
//!   ("The clerk receives …", "the manager approves …") names its own actor, which wins;
//! - **decisions:** "If <condition>, <action>" or "If <condition> then <action>": the condition,
//!   and the action taken when it holds (whose actor is the step's role);
//! - **outputs:** an `Output:` line, or the object of produces / creates / generates / issues /
//!   prepares / drafts / records.

use super::procedure::{title_of, Decision, Procedure, Step, MAX_STEPS, MAX_STEP_CHARS};

const ROLE_LABELS: &[&str] = &["role", "roles", "actor", "owner", "responsible"];
const OUTPUT_VERBS: &[&str] = &[
    "produces",
    "creates",
    "generates",
    "issues",
    "prepares",
    "drafts",
    "records",
];
const ARTICLES: &[&str] = &["the", "a", "an"];

/// A numbered step's text: `1. text`, `2) text`, `Step 3: text`.
fn numbered(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let rest = t
        .strip_prefix("Step ")
        .or_else(|| t.strip_prefix("step "))
        .unwrap_or(t);
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || digits > 4 {
        return None;
    }
    let after = &rest[digits..];
    let text = after
        .strip_prefix(". ")
        .or_else(|| after.strip_prefix(") "))
        .or_else(|| after.strip_prefix(": "))
        .or_else(|| after.strip_prefix(" - "))?;
    Some(text.trim())
}

fn bulleted(line: &str) -> Option<&str> {
    let t = line.trim_start();
    ["- ", "* ", "• "]
        .iter()
        .find_map(|b| t.strip_prefix(b))
        .map(str::trim)
}

fn heading(line: &str) -> Option<&str> {
    let t = line.trim_start();
    let hashes = t.chars().take_while(|c| *c == '#').count();
    (hashes > 0 && hashes <= 6)
        .then(|| t[hashes..].trim())
        .filter(|h| !h.is_empty())
}

/// `Role: X` → X.
fn role_line(line: &str) -> Option<String> {
    let (label, value) = line.split_once(':')?;
    let label = label
        .trim()
        .trim_start_matches(['*', '_'])
        .trim()
        .to_lowercase();
    let value = value.trim().trim_matches(['*', '_']).trim();
    (ROLE_LABELS.contains(&label.as_str()) && !value.is_empty()).then(|| value.to_string())
}

fn output_line(line: &str) -> Option<String> {
    let (label, value) = line.split_once(':')?;
    let label = label.trim().to_lowercase();
    let value = value.trim().trim_end_matches('.');
    (matches!(label.as_str(), "output" | "outputs" | "deliverable") && !value.is_empty())
        .then(|| value.to_string())
}

/// The actor of a clause that starts "the clerk receives …": the words between the article
/// and the first verb-looking word (lower case, ending in `s`), at most four.
pub fn actor(clause: &str) -> Option<String> {
    let words: Vec<&str> = clause
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '-'))
        .collect();
    let first = words.first()?.to_lowercase();
    if !ARTICLES.contains(&first.as_str()) {
        return None;
    }
    let mut noun = Vec::new();
    for w in words.iter().skip(1).take(5) {
        let verbish = w.len() > 2
            && w.ends_with('s')
            && !w.ends_with("ss")
            && w.chars().all(|c| c.is_lowercase())
            && !noun.is_empty();
        if verbish {
            return (noun.len() <= 4).then(|| noun.join(" "));
        }
        noun.push(*w);
    }
    None
}

/// "If <condition>, <action>" / "If <condition> then <action>".
fn decision(text: &str) -> Option<Decision> {
    // ASCII lower case keeps every byte where it was, so positions found in it are valid in
    // the text itself (a Unicode lower case may change lengths: `İ` is 2 bytes, `i̇` 3).
    let lower = text.to_ascii_lowercase();
    let at = if lower.starts_with("if ") {
        0
    } else {
        lower.find(" if ")? + 1
    };
    let rest = &text[at + 3..];
    let lower_rest = rest.to_ascii_lowercase();
    let (condition, then) = match lower_rest.find(" then ") {
        Some(i) => (&rest[..i], &rest[i + 6..]),
        None => rest.split_once(',')?,
    };
    let condition = condition.trim().trim_end_matches(',').to_string();
    let then = then.trim().trim_end_matches('.').to_string();
    (!condition.is_empty() && !then.is_empty()).then_some(Decision { condition, then })
}

fn output_of(text: &str) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let i = words
        .iter()
        .position(|w| OUTPUT_VERBS.contains(&w.to_lowercase().as_str()))?;
    let mut object = Vec::new();
    for w in &words[i + 1..] {
        let end = w.ends_with(['.', ',', ';']);
        object.push(w.trim_end_matches(['.', ',', ';']));
        if end || object.len() == 6 {
            break;
        }
    }
    let object = object.join(" ");
    (!object.is_empty()).then_some(object)
}

fn limited(s: &str) -> String {
    s.chars().take(MAX_STEP_CHARS).collect()
}

/// Reads an SOP's lines into a procedure. `Err` when it names no step.
pub fn procedure(lines: &[String]) -> Result<Procedure, String> {
    let any_numbered = lines.iter().any(|l| numbered(l).is_some());
    let mut title: Option<String> = None;
    let mut role: Option<String> = None;
    let mut steps: Vec<Step> = Vec::new();
    for line in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(h) = heading(line) {
            if title.is_none() && steps.is_empty() {
                title = Some(h.to_string());
            }
            continue;
        }
        if let Some(r) = role_line(line) {
            role = Some(r);
            continue;
        }
        if let Some(o) = output_line(line) {
            if let Some(last) = steps.last_mut() {
                last.output = Some(o);
            }
            continue;
        }
        let step_text = match (numbered(line), bulleted(line)) {
            (Some(t), _) => Some(t),
            (None, Some(t)) if !any_numbered => Some(t),
            _ => None,
        };
        match step_text {
            Some(text) => {
                if steps.len() == MAX_STEPS {
                    return Err(format!("more than {MAX_STEPS} steps"));
                }
                let decision = decision(text);
                let own = match &decision {
                    Some(d) => actor(&d.then),
                    None => actor(text),
                };
                steps.push(Step {
                    number: steps.len() + 1,
                    title: title_of(decision.as_ref().map_or(text, |d| d.then.as_str())),
                    description: limited(text),
                    role: own.or_else(|| role.clone()),
                    output: output_of(text),
                    decision,
                });
            }
            None => match steps.last_mut() {
                // Detail under a step (a bullet, a wrapped line) belongs to it.
                Some(last) => {
                    let more = bulleted(line).unwrap_or(line);
                    last.description = limited(&format!("{} {more}", last.description));
                    if last.output.is_none() {
                        last.output = output_of(more);
                    }
                }
                None => {
                    if title.is_none() {
                        title = Some(line.to_string());
                    }
                }
            },
        }
    }
    if steps.is_empty() {
        return Err("no steps found (numbered lines like \"1. …\", or bullets)".into());
    }
    Ok(Procedure {
        title: title.unwrap_or_else(|| "Procedure".into()),
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(String::from).collect()
    }

    #[test]
    fn an_sop_s_steps_roles_decisions_and_outputs() {
        let sop = "# Invoice approval\n\
            Role: Accounts payable clerk\n\
            1. The clerk receives the invoice.\n\
            2. The clerk checks the purchase order and records the match in the ledger.\n\
            3. If the amount exceeds 500 EUR, the manager approves it.\n\
            4. Pay the invoice.\n\
            Output: payment confirmation\n";
        let p = procedure(&lines(sop)).unwrap();
        assert_eq!(p.title, "Invoice approval");
        let got: Vec<(usize, &str, Option<&str>, Option<&str>)> = p
            .steps
            .iter()
            .map(|s| {
                (
                    s.number,
                    s.title.as_str(),
                    s.role.as_deref(),
                    s.output.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (1, "The clerk receives the invoice", Some("clerk"), None),
                // Over 60 characters: cut at a word, under 57 and an ellipsis.
                (
                    2,
                    "The clerk checks the purchase order and records the match…",
                    Some("clerk"),
                    Some("the match in the ledger")
                ),
                (3, "the manager approves it", Some("manager"), None),
                // No actor in the sentence: the Role line's.
                (
                    4,
                    "Pay the invoice",
                    Some("Accounts payable clerk"),
                    Some("payment confirmation")
                ),
            ]
        );
        assert_eq!(
            p.steps[2].decision,
            Some(Decision {
                condition: "the amount exceeds 500 EUR".into(),
                then: "the manager approves it".into()
            })
        );
    }

    #[test]
    fn unicode_around_a_decision_is_cut_where_it_stands() {
        let p = procedure(&lines("1. İstanbul if é, pay it")).unwrap();
        assert_eq!(
            p.steps[0].decision,
            Some(Decision {
                condition: "é".into(),
                then: "pay it".into()
            })
        );
    }

    #[test]
    fn bullets_are_steps_only_when_nothing_is_numbered() {
        let p = procedure(&lines(
            "Onboarding\n- Create the account\n- Send the welcome mail",
        ))
        .unwrap();
        assert_eq!((p.title.as_str(), p.steps.len()), ("Onboarding", 2));
        let p = procedure(&lines(
            "1. Create the account\n- with the HR id\n2. Send mail",
        ))
        .unwrap();
        assert_eq!(p.steps.len(), 2);
        assert_eq!(p.steps[0].description, "Create the account with the HR id");
        assert!(procedure(&lines("Just a paragraph.")).is_err());
    }
}
