//! Which agent events a socket hears live. The web frontend opens several sockets on one
//! session (a Guide panel, a Liaison panel, an idle one) and shows every `AGENT_RESPONSE` that
//! reaches a socket in that socket's panel; so an agent's live events (`AGENT_*` with a
//! `conversation_id`) go only to the sockets that sent a turn in that conversation. When no
//! open socket of the session (in this process) took part in it — the one that asked has
//! closed, as the frontend's panels often do — every socket hears it, so a reply is never
//! lost to a reconnect. A socket opened with `conversations=all` hears every conversation, and
//! a replay (`resume`, `after_seq`) always sends the whole log: the session's record stays
//! complete.

use std::collections::VecDeque;
use std::sync::{Arc, Weak};

use dashmap::DashMap;
use parking_lot::Mutex;

use crate::runtime::contract::model::RuntimeEvent;

/// Conversations one socket remembers taking part in; the oldest is forgotten past this.
pub const MAX_CONVERSATIONS: usize = 256;

/// The open sockets of one session in this process.
#[derive(Default)]
pub struct SessionSockets {
    members: Mutex<Vec<Weak<ConversationFilter>>>,
}

/// Sessions with open agent sockets, by id (an entry goes when its last socket does).
#[derive(Default)]
pub struct SocketSessions {
    by_session: DashMap<String, Weak<SessionSockets>>,
}

impl SocketSessions {
    /// A new socket's filter, known to the session's other sockets.
    pub fn join(&self, session_id: &str, all: bool) -> Arc<ConversationFilter> {
        let session = {
            let mut entry = self.by_session.entry(session_id.to_string()).or_default();
            match entry.upgrade() {
                Some(s) => s,
                None => {
                    let s = Arc::new(SessionSockets::default());
                    *entry = Arc::downgrade(&s);
                    s
                }
            }
        };
        let filter = Arc::new(ConversationFilter {
            all,
            mine: Mutex::new(VecDeque::new()),
            session: session.clone(),
        });
        let mut members = session.members.lock();
        members.retain(|m| m.strong_count() > 0);
        members.push(Arc::downgrade(&filter));
        drop(members);
        // Sessions whose sockets are all gone.
        if self.by_session.len() > 1024 {
            self.by_session.retain(|_, s| s.strong_count() > 0);
        }
        filter
    }
}

pub struct ConversationFilter {
    all: bool,
    mine: Mutex<VecDeque<String>>,
    session: Arc<SessionSockets>,
}

impl ConversationFilter {
    fn took_part(&self, conversation_id: &str) -> bool {
        self.mine.lock().iter().any(|c| c == conversation_id)
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
        let Some(id) = event.data.get("conversation_id").and_then(|c| c.as_str()) else {
            return true;
        };
        if self.took_part(id) {
            return true;
        }
        // Another open socket's conversation: its panel shows it. Nobody's: everyone hears.
        let members = self.session.members.lock();
        !members
            .iter()
            .filter_map(Weak::upgrade)
            .any(|m| !std::ptr::eq(&*m, self) && m.took_part(id))
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
        let sessions = SocketSessions::default();
        let guide_panel = sessions.join("s", false);
        let liaison_panel = sessions.join("s", false);
        liaison_panel.joined("liaison_content_1");
        guide_panel.joined("guide_1");
        let reply = |c: &str| event("AGENT_RESPONSE", json!({"conversation_id": c}));
        assert!(guide_panel.hears(&reply("guide_1")));
        assert!(!guide_panel.hears(&reply("liaison_content_1")));
        // Not an agent's conversation event: everyone hears it.
        assert!(guide_panel.hears(&event("EXECUTION_COMPLETED", json!({}))));
        assert!(guide_panel.hears(&event("AGENT_RESPONSE", json!({}))));
        assert!(sessions.join("s", true).hears(&reply("liaison_content_1")));
        // The socket that asked has closed (a panel reconnecting): every socket hears it.
        drop(liaison_panel);
        assert!(guide_panel.hears(&reply("liaison_content_1")));
        // Another session's sockets do not count.
        let elsewhere = sessions.join("t", false);
        elsewhere.joined("guide_2");
        assert!(guide_panel.hears(&reply("guide_2")));
        // Bounded: the oldest conversation is forgotten.
        let busy = sessions.join("u", false);
        let other = sessions.join("u", false);
        other.joined("c0");
        for i in 0..=MAX_CONVERSATIONS {
            busy.joined(&format!("c{i}"));
        }
        assert!(!busy.hears(&reply("c0")));
        assert!(busy.hears(&reply("c1")));
        assert!(busy.hears(&reply(&format!("c{MAX_CONVERSATIONS}"))));
    }
}
