//! A chat turn as the frontend sends it on the agent socket, in either of its forms
//! (`{"type":"intent",...}` or `{"type":"agent.message",...}`), made uniform.

use serde_json::Value;

use crate::runtime::contract::agents::{AgentKind, Pillar};

/// A chat turn as the frontend sends it, in either form, made uniform.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatTurn {
    pub agent: AgentKind,
    pub conversation_id: String,
    pub text: String,
    pub metadata: Value,
}

/// Reads `{"type":"intent",...}` or `{"type":"agent.message",...}` for session `session_id`.
/// `Err` names what is missing.
pub fn chat_turn(msg: &Value, session_id: &str) -> Result<ChatTurn, String> {
    let str_at = |v: &Value, path: &[&str]| -> Option<String> {
        let mut cur = v;
        for p in path {
            cur = cur.get(*p)?;
        }
        cur.as_str().filter(|s| !s.is_empty()).map(str::to_string)
    };
    let (agent, text, conversation, metadata) = match msg["type"].as_str() {
        Some("agent.message") => {
            let text = str_at(msg, &["payload", "text"]).ok_or("\"payload.text\" is required")?;
            let surface = str_at(msg, &["payload", "context", "surface"]);
            let agent = match surface.as_deref().and_then(Pillar::parse) {
                Some(p) => AgentKind::Liaison(p),
                None => AgentKind::Guide,
            };
            let conversation = str_at(msg, &["payload", "context", "conversation_id"]);
            (agent, text, conversation, msg["payload"]["context"].clone())
        }
        _ => {
            let text =
                str_at(msg, &["intent"]).ok_or("\"intent\" (the user's text) is required")?;
            let pillar = str_at(msg, &["pillar"])
                .or_else(|| str_at(msg, &["metadata", "pillar"]))
                .and_then(|p| Pillar::parse(&p));
            let agent = match (msg["agent_type"].as_str(), pillar) {
                (Some("liaison" | "specialist"), Some(p)) => AgentKind::Liaison(p),
                (None, Some(p)) => AgentKind::Liaison(p),
                _ => AgentKind::Guide,
            };
            let conversation = str_at(msg, &["metadata", "conversation_id"])
                .or_else(|| str_at(msg, &["session_id"]));
            (agent, text, conversation, msg["metadata"].clone())
        }
    };
    if text.chars().count() > 8000 {
        return Err("the message is longer than 8,000 characters".into());
    }
    let conversation_id = conversation.unwrap_or_else(|| format!("{}_{}", agent.id(), session_id));
    Ok(ChatTurn {
        agent,
        conversation_id,
        text,
        metadata: if metadata.is_object() {
            metadata
        } else {
            Value::Object(Default::default())
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_message_forms_and_their_tolerant_fields() {
        let t = chat_turn(
            &json!({"type":"intent","intent":"hi","session_id":"conv-1","agent_type":"guide"}),
            "s",
        )
        .unwrap();
        assert_eq!(
            (t.agent, t.conversation_id.as_str(), t.text.as_str()),
            (AgentKind::Guide, "conv-1", "hi")
        );
        let t = chat_turn(
            &json!({"type":"intent","intent":"parse it","agent_type":"liaison","pillar":"content"}),
            "s",
        )
        .unwrap();
        assert_eq!(t.agent, AgentKind::Liaison(Pillar::Content));
        assert_eq!(t.conversation_id, "liaison.content_s");
        let t = chat_turn(
            &json!({"type":"intent","intent":"x","agent_type":"liaison",
            "metadata":{"pillar":"journey","conversation_id":"c9"}}),
            "s",
        )
        .unwrap();
        assert_eq!(
            (t.agent, t.conversation_id.as_str()),
            (AgentKind::Liaison(Pillar::Operations), "c9")
        );
        let t = chat_turn(
            &json!({"type":"agent.message","payload":{"text":"hello",
            "context":{"surface":"outcomes_pillar","conversation_id":"c2"}}}),
            "s",
        )
        .unwrap();
        assert_eq!(
            (t.agent, t.conversation_id.as_str()),
            (AgentKind::Liaison(Pillar::BusinessOutcomes), "c2")
        );
        // The web frontend's pillar values, from its pages.
        for (pillar, expected) in [
            ("ContentLiaisonAgent", Pillar::Content),
            ("InsightsLiaisonAgent", Pillar::Insights),
            ("journey", Pillar::Operations),
            ("BusinessOutcomesLiaisonAgent", Pillar::BusinessOutcomes),
            ("WorkflowBuilderWizardAgent", Pillar::Operations),
        ] {
            let t = chat_turn(
                &json!({"type":"intent","intent":"x","session_id":"liaison_1","agent_type":"liaison",
                "metadata":{"pillar":pillar,"conversation_id":"liaison_1"}}),
                "s",
            )
            .unwrap();
            assert_eq!(t.agent, AgentKind::Liaison(expected), "{pillar}");
            assert_eq!(t.conversation_id, "liaison_1");
        }
        assert_eq!(Pillar::parse("GuideAgent"), None);
        let t = chat_turn(&json!({"type":"agent.message","payload":{"text":"hello","context":{"surface":"home"}}}), "s").unwrap();
        assert_eq!(t.agent, AgentKind::Guide);
        assert!(chat_turn(&json!({"type":"intent"}), "s").is_err());
        assert!(chat_turn(&json!({"type":"agent.message","payload":{}}), "s").is_err());
        for id in [
            "guide",
            "liaison.content",
            "liaison.insights",
            "liaison.operations",
            "liaison.outcomes",
        ] {
            assert_eq!(AgentKind::parse_id(id).unwrap().id(), id);
        }
    }
}
