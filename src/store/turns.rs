//! Conversation turns committed with their events (`Effect::ConversationTurn`): each stored
//! after its conversation's last turn, in one statement per 256 turns however many
//! conversations a batch touches (at most one turn of each per statement).

use super::event_model::{Effect, NewEvent};
use super::script::Script;

/// (session, conversation, role, content, data, at)
pub(super) type TurnRow<'a> = (&'a str, &'a str, &'a str, &'a str, String, i64);

/// The turn an event's effect stores, if it stores one.
pub(super) fn turn_row<'a>(event: &'a NewEvent, effect: &'a Effect) -> Option<TurnRow<'a>> {
    match effect {
        Effect::ConversationTurn {
            conversation_id,
            role,
            content,
            data,
        } => Some((
            &event.session_id,
            conversation_id,
            role,
            content,
            data.to_string(),
            event.created_at,
        )),
        _ => None,
    }
}

/// Adds the insert of `turns` (distinct conversations), each at the index after its
/// conversation's last.
pub(super) fn add_turns<'a>(script: &mut Script<'a>, turns: &'a [TurnRow<'a>]) {
    script.rows(
        turns,
        "(?, ?, ?, ?, ?, ?)",
        |values| {
            format!(
                "INSERT INTO conversation_turns (session_id, conversation_id, turn_idx, role, \
                 content, data, created_at) SELECT v.column1, v.column2, \
                 (SELECT COALESCE(MAX(t.turn_idx), -1) + 1 FROM conversation_turns t \
                 WHERE t.session_id = v.column1 AND t.conversation_id = v.column2), \
                 v.column3, v.column4, v.column5, v.column6 FROM (VALUES {values}) AS v"
            )
        },
        |q, (session, conversation, role, content, data, at)| {
            q.bind(*session)
                .bind(*conversation)
                .bind(*role)
                .bind(*content)
                .bind(data)
                .bind(*at);
        },
        true,
    );
}
