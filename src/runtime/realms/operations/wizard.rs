//! The workflow-builder wizard: `process_wizard_conversation {message, session_id: <the
//! wizard's id>}` grows a draft SOP turn by turn, and `process_operations_query
//! {query: "publish_workflow_and_sop", session_id: <the wizard's id>}` publishes it as an SOP
//! and its workflow. The draft is an artifact of the session (`wizard_draft`, one per wizard
//! id), so it survives a restart; each turn is recorded with its execution id, so a turn re-run
//! after a crash is not added twice.
//!
//! How a message grows the draft, deterministically:
//! - numbered lines, and sentences that start with First / Then / Next / After that /
//!   Finally, are steps (an "If …, …" sentence is a decision step; "Role: X" names who does
//!   the steps after it);
//! - the first message that holds no step names the procedure (its first sentence);
//! - any other sentence of a message, once the draft has a title, is a step.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::extract;
use super::intents::register;
use super::procedure::{Procedure, MAX_STEPS};
use super::{sop_text, workflow};
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};
use crate::runtime::realms::content::common::{derived_id, internal};
use crate::store::artifacts::ArtifactRow;
use crate::store::time::now_micros;

/// A message's text at most (characters).
pub const MAX_MESSAGE_CHARS: usize = 8_000;

const LEADS: &[&str] = &[
    "first",
    "then",
    "next",
    "after that",
    "afterwards",
    "finally",
    "lastly",
];

pub struct WizardTurn;
pub struct OperationsQuery;

pub struct TurnParams {
    pub wizard_id: String,
    pub message: String,
}

impl IntentParams for TurnParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let wizard_id = f.required_str("session_id");
        let message = f.required_str("message");
        if message
            .as_ref()
            .is_some_and(|m| m.chars().count() > MAX_MESSAGE_CHARS)
        {
            f.error(
                "message",
                format!("must be at most {MAX_MESSAGE_CHARS} characters"),
            );
        }
        f.finish(|| {
            Some(TurnParams {
                wizard_id: wizard_id?,
                message: message?,
            })
        })
    }
}

pub struct QueryParams {
    pub wizard_id: String,
}

impl IntentParams for QueryParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let query = f.required_str("query");
        if query
            .as_deref()
            .is_some_and(|q| q != "publish_workflow_and_sop")
        {
            f.error("query", "must be publish_workflow_and_sop");
        }
        let wizard_id = f.required_str("session_id");
        f.finish(|| {
            query?;
            Some(QueryParams {
                wizard_id: wizard_id?,
            })
        })
    }
}

impl TypedIntent for WizardTurn {
    type Params = TurnParams;

    fn intent_type(&self) -> &str {
        "process_wizard_conversation"
    }

    fn description(&self) -> &str {
        "Build an SOP by conversation: tell the wizard the steps, it keeps the draft."
    }

    fn steps(&self, params: Arc<TurnParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Turn(params))]
    }
}

impl TypedIntent for OperationsQuery {
    type Params = QueryParams;

    fn intent_type(&self) -> &str {
        "process_operations_query"
    }

    fn description(&self) -> &str {
        "Publish the wizard's draft as an SOP and its workflow."
    }

    fn steps(&self, params: Arc<QueryParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Publish(params))]
    }
}

/// The draft's artifact id: one per session and wizard id.
fn draft_id(session_id: &str, wizard_id: &str) -> String {
    let h = Sha256::digest(format!("{session_id}\0{wizard_id}").as_bytes());
    format!("wizard-{}", &hex::encode(h)[..32])
}

fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut cur = String::new();
        for c in line.chars() {
            cur.push(c);
            if matches!(c, '.' | '!' | '?' | ';') {
                let s = cur.trim().to_string();
                if !s.is_empty() {
                    out.push(s);
                }
                cur.clear();
            }
        }
        let s = cur.trim().to_string();
        if !s.is_empty() {
            out.push(s);
        }
    }
    out
}

/// A sentence's step text, when it is a step by its lead word (the lead word taken off).
fn led(sentence: &str) -> Option<String> {
    let lower = sentence.to_ascii_lowercase();
    LEADS.iter().find_map(|l| {
        let rest = lower.strip_prefix(l)?;
        rest.starts_with([' ', ',']).then(|| {
            let text = sentence[l.len()..].trim_start_matches([',', ' ']);
            let mut c = text.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        })
    })
}

/// The draft after one more message: its lines, as `extract` reads them. Numbered lines and
/// sentences led by First / Then / … are steps; `Role:` sentences name who does the next
/// ones; a message with no step at all names the procedure while it has no title; any other
/// sentence is a step.
pub fn grow(lines: &mut Vec<String>, title_set: bool, message: &str) -> (bool, usize) {
    let mut title_set = title_set;
    let mut step_count = lines
        .iter()
        .filter(|l| l.starts_with(char::is_numeric))
        .count();
    let start = step_count;
    let numbered = |l: &str| {
        let t = l.trim_start();
        let digits = t.chars().take_while(char::is_ascii_digit).count();
        (digits > 0 && t[digits..].starts_with(['.', ')', ':']))
            .then(|| t[digits + 1..].trim().to_string())
    };
    let has_step = message
        .lines()
        .any(|l| numbered(l).is_some() || sentences(l).iter().any(|s| led(s).is_some()));
    for line in message.lines() {
        if let Some(text) = numbered(line) {
            step_count += 1;
            lines.push(format!("{step_count}. {text}"));
            continue;
        }
        for s in sentences(line) {
            if let Some(role) = s
                .split_once(':')
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case("role"))
            {
                lines.push(format!("Role: {}", role.1.trim().trim_end_matches('.')));
                continue;
            }
            match led(&s) {
                Some(text) => {
                    step_count += 1;
                    lines.push(format!("{step_count}. {}", text.trim()));
                }
                None if !title_set && !has_step => {
                    let title = s.trim_end_matches(['.', '!', '?']).to_string();
                    lines.insert(0, format!("# {title}"));
                    title_set = true;
                }
                None => {
                    step_count += 1;
                    lines.push(format!("{step_count}. {}", s.trim()));
                }
            }
        }
    }
    (title_set, step_count - start)
}

struct Turn(Arc<TurnParams>);

#[async_trait]
impl SagaStep for Turn {
    fn name(&self) -> &str {
        "turn"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let p = &self.0;
        let id = draft_id(&ctx.session_id, &p.wizard_id);
        let store = &ctx.services.store;
        let existing = store.artifact(&id).await.map_err(internal)?;
        let mut d = existing
            .as_ref()
            .map(|a| a.semantic_descriptor.clone())
            .unwrap_or_else(
                || json!({"wizard_id": p.wizard_id, "lines": [], "turns": [], "title_set": false}),
            );
        let already = d["turns"].as_array().is_some_and(|t| {
            t.iter()
                .any(|x| x["execution_id"] == ctx.execution_id.as_str())
        });
        let mut added = 0;
        if !already {
            let mut lines: Vec<String> =
                serde_json::from_value(d["lines"].clone()).unwrap_or_default();
            let (title_set, n) = grow(
                &mut lines,
                d["title_set"].as_bool().unwrap_or(false),
                &p.message,
            );
            if lines
                .iter()
                .filter(|l| l.starts_with(char::is_numeric))
                .count()
                > MAX_STEPS
                || lines.len() > 2 * MAX_STEPS
            {
                return Err(StepError::new(format!(
                    "a draft holds at most {MAX_STEPS} steps"
                )));
            }
            added = n;
            d["lines"] = json!(lines);
            d["title_set"] = json!(title_set);
            // Only the turn's id is kept (the draft holds what it said): the record stays small.
            if let Some(turns) = d["turns"].as_array_mut() {
                turns.push(json!({"execution_id": ctx.execution_id}));
            }
        }
        let lines: Vec<String> = serde_json::from_value(d["lines"].clone()).unwrap_or_default();
        let draft = extract::procedure(&lines).ok();
        let markdown = draft
            .as_ref()
            .map(sop_text::markdown)
            .unwrap_or_else(|| lines.first().cloned().unwrap_or_default());
        d["draft_sop"] = json!(markdown);
        let now = now_micros();
        match existing {
            Some(_) => store
                .update_artifact(&id, &d, "active", now)
                .await
                .map_err(internal)?,
            None => store
                .insert_artifact(&ArtifactRow {
                    artifact_id: id.clone(),
                    artifact_type: "wizard_draft".into(),
                    tenant_id: ctx.tenant_id.clone(),
                    session_id: ctx.session_id.clone(),
                    lifecycle_state: "active".into(),
                    semantic_descriptor: d.clone(),
                    parent_artifacts: Vec::new(),
                    produced_by_intent: ctx.intent_type.clone(),
                    produced_by_execution: ctx.execution_id.clone(),
                    blob_sha256: None,
                    created_at: now,
                    updated_at: now,
                })
                .await
                .map_err(internal)?,
        }
        let steps = draft.as_ref().map_or(0, |p| p.steps.len());
        let reply = match (added, steps) {
            (0, 0) => format!(
                "Noted: \"{}\". Now tell me the steps, one by one (\"First …\", \"Then …\") or as a numbered list.",
                lines.first().map(|t| t.trim_start_matches("# ")).unwrap_or("")
            ),
            (0, n) => format!("The draft has {n} steps. Tell me what happens next, or publish it."),
            (a, n) => format!(
                "Added {a} step{}. The draft has {n} step{}: the last is \"{}\". What happens next?",
                if a == 1 { "" } else { "s" },
                if n == 1 { "" } else { "s" },
                draft.as_ref().and_then(|p| p.steps.last()).map_or("", |s| s.title.as_str())
            ),
        };
        let mut artifacts = Map::new();
        artifacts.insert(
            "wizard_response".into(),
            artifact(
                "wizard_response",
                json!({"agent_response": reply, "draft_sop": markdown, "wizard_id": p.wizard_id,
                    "draft_id": id, "steps": steps}),
            ),
        );
        Ok(StepOutput {
            output: json!({"draft_id": id}),
            artifacts,
        })
    }
}

struct Publish(Arc<QueryParams>);

#[async_trait]
impl SagaStep for Publish {
    fn name(&self) -> &str {
        "publish"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let id = draft_id(&ctx.session_id, &self.0.wizard_id);
        let draft = ctx
            .services
            .store
            .artifact(&id)
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                StepError::new("this wizard has no draft yet: tell it the steps first")
            })?;
        let lines: Vec<String> =
            serde_json::from_value(draft.semantic_descriptor["lines"].clone()).unwrap_or_default();
        let procedure: Procedure = extract::procedure(&lines)
            .map_err(|e| StepError::new(format!("the draft cannot be published yet: {e}")))?;
        let sop_id = derived_id(&ctx.execution_id, "sop");
        let workflow_id = derived_id(&ctx.execution_id, "workflow");
        let sop = json!({"sop_id": sop_id, "title": procedure.title,
            "content": sop_text::markdown(&procedure), "sections": sop_text::json(&procedure),
            "procedure": procedure});
        let mut graph = workflow::graph(&workflow_id, &procedure);
        graph["procedure"] = json!(procedure);
        register(ctx, &sop_id, "sop", &id, sop.clone()).await?;
        register(ctx, &workflow_id, "workflow", &id, graph.clone()).await?;
        let mut artifacts = Map::new();
        artifacts.insert(
            "query_response".into(),
            artifact("query_response", json!({"sop": sop, "workflow": graph})),
        );
        Ok(StepOutput {
            output: json!({"sop_id": sop_id, "workflow_id": workflow_id}),
            artifacts,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_with_steps_names_no_title_and_keeps_its_role_lines() {
        let mut lines = Vec::new();
        // Steps from the first message: no title is taken from it.
        let (t, n) = grow(&mut lines, false, "First, receive it. Check the PO.");
        assert_eq!((t, n), (false, 2));
        // A role beside numbered lines is kept.
        let (_, n) = grow(&mut lines, t, "Role: Clerk\n3. Pay");
        assert_eq!(n, 1);
        assert_eq!(
            lines,
            [
                "1. Receive it.",
                "2. Check the PO.",
                "Role: Clerk",
                "3. Pay"
            ]
        );
    }

    #[test]
    fn a_draft_grows_by_title_lead_words_and_lists() {
        let mut lines = Vec::new();
        let (t, n) = grow(
            &mut lines,
            false,
            "We approve vendor invoices in three steps.",
        );
        assert_eq!((t, n), (true, 0));
        let (_, n) = grow(
            &mut lines,
            t,
            "Role: Accounts payable clerk. First, the clerk receives the invoice.",
        );
        assert_eq!(n, 1);
        let (_, n) = grow(
            &mut lines,
            t,
            "Then if the amount exceeds 500 EUR, the manager approves it.",
        );
        assert_eq!(n, 1);
        let (_, n) = grow(&mut lines, t, "3. Pay the invoice\n4. File the receipt");
        assert_eq!(n, 2);
        let p = extract::procedure(&lines).unwrap();
        assert_eq!(p.title, "We approve vendor invoices in three steps");
        let got: Vec<(usize, Option<&str>, bool)> = p
            .steps
            .iter()
            .map(|s| (s.number, s.role.as_deref(), s.decision.is_some()))
            .collect();
        assert_eq!(
            got,
            [
                (1, Some("clerk"), false),
                (2, Some("manager"), true),
                (3, Some("Accounts payable clerk"), false),
                (4, Some("Accounts payable clerk"), false)
            ]
        );
    }
}
