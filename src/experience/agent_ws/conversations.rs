//! Which agent events a socket hears live. The web frontend opens several sockets on one
//! session (a Guide panel, a Liaison panel, an idle one) and shows every `AGENT_RESPONSE` that
//! reaches a socket in that socket's panel; so an agent's live events (`AGENT_*` with a
//! `conversation_id`) go only to the sockets that sent a turn in that conversation. A socket
//! opened with `conversations=all` hears every conversation, and a replay (`resume`,
//! `after_seq`) always sends the whole log: the session's record stays complete.

use std::collections::VecDeque;

use parking_lot::Mutex;

use crate::runtime::contract::model::RuntimeEvent;

/// Conversations one socket remembers taking part in; the oldest is forgotten past this.
pub const MAX_CONVERSATIONS: usize = 256;

pub struct ConversationFilter {
    all: bool,
    mine: Mutex<VecDeque<String>>,
}

impl ConversationFilter {
    pub fn new(all: bool) -> Self {
        ConversationFilter {
            all,
            mine: Mutex::new(VecDeque::new()),
        }
    }

    /// This socket sent a turn in `conversation_id`.
    pub fn joined(&self, conversation_id: &str) {
        let mut mine = self.mine.lock();
        if mine.iter().any(|c| c == conversation_id) {
            return;
        }
        if mine.len() == MAX_CONVERSATIONS {
            mine.pop_front();
        }
        mine.push_back(conversation_id.to_string());
    }

    /// Whether a live event goes to this socket.
    pub fn hears(&self, event: &RuntimeEvent) -> bool {
        if self.all || !event.event_type.starts_with("AGENT_") {
            return true;
        }
        match event.data.get("conversation_id").and_then(|c| c.as_str()) {
            Some(id) => self.mine.lock().iter().any(|c| c == id),
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(event_type: &str, data: serde_json::Value) -> RuntimeEvent {
        RuntimeEvent {
            event_id: "e".into(),
            event_type: event_type.into(),
            session_id: "s".into(),
            execution_id: None,
            seq: 1,
            timestamp: "t".into(),
            data,
        }
    }

    #[test]
    fn agent_events_reach_only_the_sockets_of_their_conversation() {
        let guide_panel = ConversationFilter::new(false);
        guide_panel.joined("guide_1");
        let reply = |c: &str| event("AGENT_RESPONSE", json!({"conversation_id": c}));
        assert!(guide_panel.hears(&reply("guide_1")));
        assert!(!guide_panel.hears(&reply("liaison_content_1")));
        // Not an agent's conversation event: everyone hears it.
        assert!(guide_panel.hears(&event("EXECUTION_COMPLETED", json!({}))));
        assert!(guide_panel.hears(&event("AGENT_RESPONSE", json!({}))));
        assert!(ConversationFilter::new(true).hears(&reply("liaison_content_1")));
        // Bounded: the oldest conversation is forgotten.
        let busy = ConversationFilter::new(false);
        for i in 0..=MAX_CONVERSATIONS {
            busy.joined(&format!("c{i}"));
        }
        assert!(!busy.hears(&reply("c0")));
        assert!(busy.hears(&reply("c1")));
        assert!(busy.hears(&reply(&format!("c{MAX_CONVERSATIONS}"))));
    }
}
