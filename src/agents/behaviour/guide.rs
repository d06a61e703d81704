//! The Guide: welcomes, explains what the platform can do from the registered intents,
//! recommends a pillar and hands off to its liaison.

use serde_json::json;

use crate::agents::reasoning::{Draft, Understanding};
use crate::runtime::contract::agents::{AgentKind, Pillar};
use crate::runtime::engine::brain::Workbench;
use crate::runtime::engine::intent_info::IntentInfo;
use crate::store::conversations::Turn;

use super::{pillar_intents, Reply};

pub(super) fn is_affirmative(text: &str) -> bool {
    let t = text.trim().trim_end_matches(['.', '!']).to_lowercase();
    matches!(
        t.as_str(),
        "yes"
            | "y"
            | "ok"
            | "okay"
            | "sure"
            | "yes please"
            | "go ahead"
            | "let's do it"
            | "please do"
    )
}

pub(super) fn guide(
    text: &str,
    history: &[Turn],
    bench: &dyn Workbench,
    mut u: Understanding,
    intents: &[IntentInfo],
) -> Reply {
    // Context: "yes" after a recommendation takes it.
    let recommended = history
        .iter()
        .rev()
        .find(|t| t.role == "agent")
        .and_then(|t| t.data["recommended_pillar"].as_str())
        .and_then(Pillar::parse);
    if u.target_domain.is_none() && is_affirmative(text) {
        if let Some(p) = recommended {
            u.target_domain = Some(p);
            u.confidence = 1.0;
            u.reasoning = format!(
                "you agreed to my earlier recommendation of the {} pillar",
                p.title()
            );
        }
    }
    match u.target_domain {
        Some(p) => {
            let theirs = pillar_intents(p, intents);
            let can = if theirs.is_empty() {
                "it has no intents on this server yet, but can explain what is planned".to_string()
            } else {
                theirs
                    .iter()
                    .map(|i| {
                        format!(
                            "{} ({})",
                            i.intent_type,
                            i.description.trim_end_matches('.')
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let liaison = AgentKind::Liaison(p);
            let message = format!(
                "This is {} work ({}). I'm handing you to the {} liaison, who can: {}.",
                p.title(),
                u.reasoning,
                p.title(),
                can
            );
            Reply {
                draft: Draft {
                    message,
                    facts: json!({
                        "recommended_pillar": p.as_str(),
                        "routing": {
                            "pillar": p.as_str(),
                            "agent_type": liaison.agent_type(),
                            "agent_id": liaison.id(),
                            "conversation_id": format!("{}_{}", liaison.id(), bench.session_id()),
                        },
                    }),
                },
                suggested_actions: theirs.iter().map(|i| i.intent_type.clone()).collect(),
                understanding: u,
            }
        }
        None => {
            let greeting = if history.iter().any(|t| t.role == "agent") {
                "Welcome back."
            } else {
                "Welcome to Symphainy."
            };
            let mut lines = Vec::new();
            for p in Pillar::ALL {
                let theirs = pillar_intents(p, intents);
                let what = if theirs.is_empty() {
                    "nothing yet on this server".to_string()
                } else {
                    theirs
                        .iter()
                        .map(|i| i.intent_type.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                lines.push(format!("{}: {what}", p.title()));
            }
            let message = format!(
                "{greeting} Here is what the platform can do, by pillar — {}. Tell me what you want to achieve and I'll point you to the right place.",
                lines.join("; ")
            );
            Reply {
                draft: Draft {
                    message,
                    facts: json!({"capabilities": intents.iter().map(|i| json!({"intent_type": i.intent_type, "description": i.description})).collect::<Vec<_>>()}),
                },
                suggested_actions: vec!["upload a file".into(), "list my files".into()],
                understanding: u,
            }
        }
    }
}
