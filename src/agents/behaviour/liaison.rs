//! What a pillar can do, from the registry: a liaison's answer to a message it cannot act on.

use serde_json::json;

use crate::agents::reasoning::{Draft, Understanding};
use crate::runtime::contract::agents::Pillar;
use crate::runtime::engine::intent_info::IntentInfo;

use super::{pillar_intents, Reply};

pub(super) fn pillar_liaison(p: Pillar, u: Understanding, intents: &[IntentInfo]) -> Reply {
    let theirs = pillar_intents(p, intents);
    let message = if theirs.is_empty() {
        format!(
            "The {} pillar has no intents registered on this server yet, so I cannot run anything for it. The Guide can show you what is available now.",
            p.title()
        )
    } else {
        format!(
            "For {} I can run: {}. Tell me which, and on what.",
            p.title(),
            theirs
                .iter()
                .map(|i| format!(
                    "{} ({})",
                    i.intent_type,
                    i.description.trim_end_matches('.')
                ))
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    Reply {
        draft: Draft {
            message,
            facts: json!({"intents": theirs.iter().map(|i| &i.intent_type).collect::<Vec<_>>()}),
        },
        suggested_actions: theirs.into_iter().map(|i| i.intent_type).collect(),
        understanding: u,
    }
}
