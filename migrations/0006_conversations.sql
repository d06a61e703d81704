-- Agent conversations: which agent owns a conversation (sticky routing), and its turns, so an
-- agent restarted after a crash continues where it was.
CREATE TABLE conversations (
    session_id      TEXT NOT NULL REFERENCES sessions (session_id),
    conversation_id TEXT NOT NULL,
    agent_kind      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (session_id, conversation_id)
);

CREATE TABLE conversation_turns (
    session_id      TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    turn_idx        BIGINT NOT NULL,
    role            TEXT NOT NULL,
    content         TEXT NOT NULL,
    data            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (session_id, conversation_id, turn_idx)
);
