//! `process_operations_conversation {message, conversation_id?}` → `conversation_response
//! {message, sources}`: questions about the session's own SOPs and workflows, answered from
//! them. It names a procedure by its title (its steps, roles and decisions), asks who does
//! what (the roles and their steps), asks where AI can help (the latest coexistence
//! analysis), or else lists what the session has.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::intents::session_artifacts;
use super::procedure::Procedure;
use crate::runtime::engine::handler::{
    artifact, FieldErrors, SagaStep, StepContext, StepError, StepOutput,
};
use crate::runtime::engine::params::{Fields, IntentParams, TypedIntent};

pub struct OperationsConversation;

pub struct ConversationParams {
    pub message: String,
}

impl IntentParams for ConversationParams {
    fn decode(p: &Value) -> Result<Self, FieldErrors> {
        let mut f = Fields::new(p);
        let message = f.required_str("message");
        if message.as_ref().is_some_and(|m| m.chars().count() > 8_000) {
            f.error("message", "must be at most 8000 characters");
        }
        f.finish(|| Some(ConversationParams { message: message? }))
    }
}

impl TypedIntent for OperationsConversation {
    type Params = ConversationParams;

    fn intent_type(&self) -> &str {
        "process_operations_conversation"
    }

    fn description(&self) -> &str {
        "Answer questions about this session's SOPs and workflows from the documents themselves."
    }

    fn steps(&self, params: Arc<ConversationParams>) -> Vec<Arc<dyn SagaStep>> {
        vec![Arc::new(Answer(params))]
    }
}

struct Answer(Arc<ConversationParams>);

fn describe(p: &Procedure) -> String {
    let steps: Vec<String> = p
        .steps
        .iter()
        .map(|s| {
            let who = s
                .role
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            match &s.decision {
                Some(d) => format!("{}. if {}: {}{who}", s.number, d.condition, d.then),
                None => format!("{}. {}{who}", s.number, s.title),
            }
        })
        .collect();
    format!(
        "{} has {} steps: {}.",
        p.title,
        p.steps.len(),
        steps.join("; ")
    )
}

#[async_trait]
impl SagaStep for Answer {
    fn name(&self) -> &str {
        "answer"
    }

    async fn run(&self, ctx: &StepContext) -> Result<StepOutput, StepError> {
        let question = self.0.message.to_lowercase();
        let mut procedures: Vec<(String, &'static str, Procedure)> = Vec::new();
        for kind in ["sop", "workflow"] {
            for a in session_artifacts(ctx, kind).await? {
                if let Ok(p) =
                    serde_json::from_value::<Procedure>(a.semantic_descriptor["procedure"].clone())
                {
                    // A published SOP and its workflow hold one procedure: counted once.
                    if !procedures.iter().any(|(_, _, q)| *q == p) {
                        procedures.push((a.artifact_id, kind, p));
                    }
                }
            }
        }
        let analyses = session_artifacts(ctx, "coexistence_analysis").await?;
        let words: Vec<&str> = question
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let has = |ws: &[&str]| words.iter().any(|w| ws.contains(w));
        // A title names a procedure only when it says something ("Procedure", the default
        // title of a chart, would match any question about procedures).
        let named = procedures.iter().find(|(_, _, p)| {
            let title = p.title.to_lowercase();
            title.len() >= 4 && title != "procedure" && question.contains(&title)
        });
        let (message, sources): (String, Vec<String>) = if procedures.is_empty() {
            (
                "This session has no SOP or workflow yet: upload one and create its workflow, or build one with the wizard.".into(),
                Vec::new(),
            )
        } else if let Some((id, _, p)) = named {
            (describe(p), vec![id.clone()])
        } else if has(&["ai", "automate", "automation", "coexistence"]) && !analyses.is_empty() {
            let a = analyses
                .iter()
                .max_by_key(|a| a.created_at)
                .expect("not empty");
            let d = &a.semantic_descriptor;
            (
                format!(
                    "The latest analysis ({}) found {} of {} steps suited to Symphainy and {} hybrid; first: {}.",
                    d["procedure"]["title"].as_str().unwrap_or("a procedure"),
                    d["counts"]["ai_suitable"],
                    d["counts"]["total"],
                    d["counts"]["hybrid"],
                    d["recommendations"][0]["recommendation"].as_str().unwrap_or("nothing to automate")
                ),
                vec![a.artifact_id.clone()],
            )
        } else if has(&["who", "role", "roles", "responsible"]) {
            let mut by_role: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (_, _, p) in &procedures {
                for s in &p.steps {
                    by_role
                        .entry(s.role.clone().unwrap_or_else(|| "unassigned".into()))
                        .or_default()
                        .push(format!("{} {}", p.title, s.number));
                }
            }
            let list: Vec<String> = by_role
                .iter()
                .map(|(r, steps)| format!("{r}: {}", steps.join(", ")))
                .collect();
            (
                format!("Who does what: {}.", list.join("; ")),
                procedures.iter().map(|(id, _, _)| id.clone()).collect(),
            )
        } else {
            let list: Vec<String> = procedures
                .iter()
                .map(|(_, kind, p)| format!("{} ({kind}, {} steps)", p.title, p.steps.len()))
                .collect();
            (
                format!(
                    "This session has {}: {}. Ask about one by its title, about who does what, or where AI can help.",
                    if list.len() == 1 { "one procedure".to_string() } else { format!("{} procedures", list.len()) },
                    list.join("; ")
                ),
                procedures.iter().map(|(id, _, _)| id.clone()).collect(),
            )
        };
        let mut artifacts = Map::new();
        artifacts.insert(
            "conversation_response".into(),
            artifact(
                "conversation_response",
                json!({"message": message, "sources": sources}),
            ),
        );
        Ok(StepOutput {
            output: json!({}),
            artifacts,
        })
    }
}
