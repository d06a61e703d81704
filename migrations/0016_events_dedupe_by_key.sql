-- An event's key leads its dedupe index: keys start with their execution's (time-ordered) id or
-- their agent turn's, so a commit's new entries land together instead of one index page per
-- session it touches. The session stays in the key: a key is unique within its session.
CREATE UNIQUE INDEX events_key_session ON events (event_key, session_id);
DROP INDEX events_dedupe;
