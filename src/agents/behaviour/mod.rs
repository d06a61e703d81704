//! What each agent does with a message. The Guide welcomes, explains what the platform can do
//! (from the registered intents), recommends a pillar and hands off to its liaison. Liaisons
//! do the work: they turn requests into real intents through the `Workbench` and report.

use serde_json::Value;

use super::offline::understand;
use super::reasoning::{Draft, Understanding};
use crate::runtime::contract::agents::{AgentKind, Pillar};
use crate::runtime::contract::model::ExecutionStatus;
use crate::runtime::engine::brain::Workbench;
use crate::runtime::engine::intent_info::IntentInfo;
use crate::store::conversations::Turn;
use crate::store::ExecutionState;

mod content;
mod guide;
mod insights;
mod liaison;
mod operations;
mod outcomes;

use content::content_liaison;
use guide::guide;
use insights::insights_liaison;
use operations::operations_liaison;
use outcomes::outcomes_liaison;

pub struct Reply {
    pub draft: Draft,
    pub understanding: Understanding,
    pub suggested_actions: Vec<String>,
}

pub async fn respond(
    kind: AgentKind,
    text: &str,
    history: &[Turn],
    bench: &dyn Workbench,
) -> Reply {
    let intents = bench.intents();
    let understanding = understand(text, &intents);
    match kind {
        AgentKind::Guide => guide(text, history, bench, understanding, &intents),
        AgentKind::Liaison(Pillar::Content) => {
            content_liaison(bench, understanding, &intents).await
        }
        AgentKind::Liaison(Pillar::Insights) => {
            insights_liaison(bench, understanding, &intents).await
        }
        AgentKind::Liaison(Pillar::Operations) => {
            operations_liaison(bench, text, understanding, &intents).await
        }
        AgentKind::Liaison(Pillar::BusinessOutcomes) => {
            outcomes_liaison(bench, understanding, &intents).await
        }
    }
}

pub(super) fn pillar_intents(p: Pillar, intents: &[IntentInfo]) -> Vec<IntentInfo> {
    intents
        .iter()
        .filter(|i| i.pillar == Some(p))
        .cloned()
        .collect()
}

/// A word that names a file (`sales.csv`).
pub(super) fn named_file(u: &Understanding) -> Option<String> {
    u.words
        .iter()
        .find(|w| w.contains('.') && !w.starts_with('.') && !w.ends_with('.'))
        .cloned()
}

pub(super) fn payload<'a>(done: &'a ExecutionStatus, key: &str) -> Result<&'a Value, String> {
    if done.status != ExecutionState::Completed {
        return Err(done
            .error
            .clone()
            .unwrap_or_else(|| format!("{} ended {}", done.intent_type, done.status)));
    }
    done.artifacts
        .as_ref()
        .and_then(|a| a.get(key))
        .map(|a| &a["semantic_payload"])
        .ok_or_else(|| format!("{} returned no {key}", done.intent_type))
}
